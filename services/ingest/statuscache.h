/* statuscache.h -- the data behind ingest's status page, collected from Redis at most every
 * STATUSCACHE_TTL_MS and shared by every HTTP thread.
 *
 * Owns a Redis connection of its own (control.h), the cached struct control_status, the
 * tombstone count (a SCAN over every zone key: done at most every STATUSCACHE_TOMBSTONES_MS,
 * the last count shown with its age in between) and the mutex that makes one collection serve
 * concurrent requests. Rendering is statuspage.c's; routing and authentication http.c's. */
#ifndef DADNS_STATUSCACHE_H
#define DADNS_STATUSCACHE_H

#include "buf.h"
#include "config.h"
#include "err.h"
#include "spooler.h"

#define STATUSCACHE_TTL_MS        5000  /* a status younger than this is served as it is */
#define STATUSCACHE_TOMBSTONES_MS 60000 /* the tombstone count is refreshed this often */
#define STATUSCACHE_REDIS_TIMEOUT_MS                                                               \
    2000 /* connect/reply timeout (lower redis.timeout_ms wins)                                    \
          */

struct statuscache;

/* statuscache_new - a cache for @cfg (Redis, prefix) and @sl (spool figures), both borrowed and
 * outliving the cache. Connects lazily. Release with statuscache_free.
 * Returns 0 or DADNS_ENOMEM/DADNS_ETOOBIG. */
int statuscache_new(const struct config *cfg, struct spooler *sl, struct statuscache **out);

/* statuscache_free - release @sc; NULL is fine. */
void statuscache_free(struct statuscache *sc);

/* statuscache_page - append the status page to @out: JSON (@html 0) or HTML (@html 1),
 * collecting a new status first when the cached one is older than STATUSCACHE_TTL_MS. Redis
 * being unreachable is part of the page (redis.up false, the reason), not an error; the failed
 * attempt is cached like a success, so a Redis outage costs one timeout per TTL. Thread-safe.
 * Returns 0, or DADNS_ENOMEM/DADNS_ETOOBIG from rendering. */
int statuscache_page(struct statuscache *sc, int html, struct buf *out);

#endif
