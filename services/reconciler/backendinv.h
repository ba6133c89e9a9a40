/* backendinv.h -- the reconciler's side of the inventories: ask a writer what its backend
 * really holds (a targeted op=inventory stream entry), wait for the answer, read it, remove it.
 *
 * Keys (notes/contract2.md): the request XADD P changes op=inventory zone "" version 0
 * backend=<be> request=<reqid>; the answer P inventory:<be>:<reqid> (zone -> value) and
 * P inventory:<be>:<reqid>:meta (status zones error finished_at consumer), written by the
 * writers (common/inventory.c). What the values mean is drift's. Library code: no logging. */
#ifndef DADNS_BACKENDINV_H
#define DADNS_BACKENDINV_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "recstore.h"

#define BACKENDINV_REQID_SIZE 64 /* room for a request id, [A-Za-z0-9_.:-]{1,63} */

/* The state of one inventory request. */
enum backendinv_state {
    BACKENDINV_PENDING = 0, /* no :meta hash yet */
    BACKENDINV_OK,          /* status ok: the zones hash is complete */
    BACKENDINV_ERROR,       /* status error (or an unknown status): error says why */
};

/* P inventory:<be>:<reqid>:meta as read. */
struct backendinv_meta {
    enum backendinv_state state;
    size_t zones;          /* zones published */
    char error[256];       /* the writer's error text ("" when ok) */
    char consumer[128];    /* the consumer that answered */
    long long finished_at; /* unix seconds, 0 when missing */
};

/* Called for each field of the inventory hash; a non-zero return stops the read and is
 * returned by it. @zone and @value are borrowed for the call (not NUL-terminated in general:
 * use the lengths). */
typedef int (*backendinv_fn)(void *arg, const char *zone, size_t zlen, const char *value,
                             size_t vlen);

/* backendinv_reqid - a new request id "<unix ms>-<16 hex digits from /dev/urandom>" (time and
 * pid when urandom cannot be read) into @out (@size >= BACKENDINV_REQID_SIZE). */
void backendinv_reqid(char *out, size_t size);

/* backendinv_request - ask backend @backend (the consumer group of that name) for an
 * inventory: XADD P changes MAXLEN ~ redis.stream_maxlen op inventory zone "" version 0
 * backend @backend request @reqid. Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int backendinv_request(struct recstore *rs, long maxlen, const char *backend, const char *reqid,
                       struct err *e);

/* backendinv_poll - read the :meta hash of the @n requests (@backends[i], @reqid) in one
 * pipelined round trip into @out[i] (BACKENDINV_PENDING while it does not exist). Entries
 * with @skip[i] (@skip may be NULL) are not read and left as they are.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int backendinv_poll(struct recstore *rs, const char *const *backends, const bool *skip, size_t n,
                    const char *reqid, struct backendinv_meta *out, struct err *e);

/* backendinv_read - HSCAN P inventory:@backend:@reqid (pages of 1000) and call @fn for each
 * field (HSCAN may repeat one). *@entries (may be NULL) gets how many calls were made.
 * Returns 0, @fn's non-zero value, or DADNS_EREDIS/DADNS_EREPLY. */
int backendinv_read(struct recstore *rs, const char *backend, const char *reqid, backendinv_fn fn,
                    void *arg, size_t *entries, struct err *e);

/* backendinv_drop - DEL both keys of the request. Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int backendinv_drop(struct recstore *rs, const char *backend, const char *reqid, struct err *e);

#endif
