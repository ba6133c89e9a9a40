/* inventory.h -- inventories of what a backend really holds, published in Redis (writer side).
 *
 * Owns the result keys of an inventory request:
 *   P inventory:<be>:<reqid>       hash zone -> "<serial|-> <digest|-> <version> <managed 0|1>"
 *   P inventory:<be>:<reqid>:meta  hash status (ok|error), zones, error, finished_at, consumer
 * both expiring after INVENTORY_TTL_S. Reading the backend is the backend's inventory callback
 * (change.h); when to publish is consumer.c's; comparing is the reconciler's. */
#ifndef DADNS_INVENTORY_H
#define DADNS_INVENTORY_H

#include <stddef.h>

#include "change.h"
#include "err.h"
#include "rconn.h"

#define INVENTORY_TTL_S      3600 /* EXPIRE of both result keys */
#define INVENTORY_CHUNK      1000 /* zones per HSET */
#define INVENTORY_VALUE_SIZE 96   /* room for one formatted value */

/* What inventory_publish published. */
struct inventory_result {
    int ok;          /* 1 = status ok, 0 = status error */
    size_t zones;    /* zones published (0 on error) */
    char error[256]; /* the error text published ("" when ok) */
};

/* inventory_format - the value of held zone @z: "<serial or -> <digest or -> <version>
 * <managed 0|1>" into @out (@size octets). Pure. Returns 0 or DADNS_ETOOBIG. */
int inventory_format(const struct held_zone *z, char *out, size_t size);

/* inventory_publish - run @backend's inventory (when it has none: status error "inventory not
 * supported by this backend") and publish it under result key @key (the meta key is @key
 * ":meta"): DEL both, HSET the zones in chunks of INVENTORY_CHUNK (pipelined), then the meta
 * hash (consumer @consumer, finished_at now), then EXPIRE both. A backend failure is published
 * as status error with its reason and no zones. @res (may be NULL) says what was published.
 * Returns 0 once published, or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM when Redis could not
 * take it (nothing complete was published: the meta hash is written last). */
int inventory_publish(struct rconn *rc, const char *key, const char *consumer,
                      const struct change_backend *backend, struct inventory_result *res,
                      struct err *e);

#endif
