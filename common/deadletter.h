/* deadletter.h -- the dead letters of a backend: stream entries its writer gave up on.
 *
 * Owns the stream "P dead:<backend>" and the script that moves entries there atomically with
 * their XACK in "P changes". Deciding what is dead (attempts, permanent failures) is
 * consumer.c's; listing, replaying and discarding them is the operator tool's. */
#ifndef DADNS_DEADLETTER_H
#define DADNS_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rconn.h"

/* One stream entry given up on. Strings are borrowed for the call. */
struct deadletter {
    const char *id;     /* the "P changes" entry id */
    const char *zone;   /* its zone ("" for none) */
    const char *op;     /* its op */
    uint64_t version;   /* its version */
    const char *reason; /* why the last attempt failed */
    uint64_t attempts;  /* deliveries, the last one included */
    int permanent;      /* 1 = the backend said retrying cannot help */
};

/* deadletter_bury - in one script, for each of the @n letters of @dl: XACK its entry in stream
 * @stream for group @group and, when that acknowledged it (it was still pending: no one else
 * buried or applied it meanwhile), XADD @dead_key MAXLEN ~ @maxlen with the fields zone, op,
 * version, reason, attempts, failed_at (@now_s, unix seconds), id, consumer (@consumer) and
 * permanent ("1"/"0"). *@buried (may be NULL) gets how many were added.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM (then nothing of it happened, or all). */
int deadletter_bury(struct rconn *rc, const char *dead_key, const char *stream, const char *group,
                    long maxlen, const char *consumer, long long now_s, const struct deadletter *dl,
                    size_t n, size_t *buried, struct err *e);

#endif
