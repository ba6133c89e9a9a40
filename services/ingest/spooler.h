/* spooler.h -- where ingest's writes go: straight to Redis, or into the spool while Redis
 * cannot be reached, and the thread that replays the spool into Redis in order.
 *
 * Owns the routing decision (race-free with the HTTP worker threads: one mutex), the replay
 * thread with its own Redis connection and store, /readyz's view of both, and the spool's log
 * lines (spooling started, replay batches, drained, errors). The files are spool.c's; the Lua
 * scripts store.c's; the DirectAdmin answers api.c's.
 *
 * Rules: a write whose store call fails with DADNS_EREDIS (Redis unreachable, or the outcome
 * unknown) or a "not available right now" reply (LOADING, BUSY, MASTERDOWN, TRYAGAIN,
 * CLUSTERDOWN) is appended to the spool and fsynced before the caller may answer error=0. A
 * refusal (any other error reply: OOM, MISCONF, READONLY, ...) is returned, not spooled: Redis
 * is up but unhealthy, and a refused record at the head of the spool would block every record
 * behind it. While the spool holds records every new write goes to the spool too (nothing
 * overtakes an older spooled change), until the replay thread has applied them all and removed
 * the file. */
#ifndef DADNS_SPOOLER_H
#define DADNS_SPOOLER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "store.h"

struct spooler;

/* spooler_open - with app.spool_dir set, open the spool (spool_open: creates the directory,
 * takes its lock, scans what an earlier run left), log what was found or repaired, and start
 * the replay thread (it replays leftovers as soon as Redis answers). With app.spool_dir "" the
 * spooler only passes writes through to Redis. @cfg is borrowed and must outlive the spooler.
 * Call with the stop signals already blocked (the thread inherits the mask). Returns 0 with
 * *@out (free with spooler_free), or DADNS_EIO/DADNS_ENOMEM with @e naming the path and the
 * system error (ingest must not start then). */
int spooler_open(const struct config *cfg, struct spooler **out, struct err *e);

/* spooler_free - stop the replay thread (it finishes the record it is applying and saves its
 * progress), close the spool; NULL is fine. Call after the HTTP server has stopped. */
void spooler_free(struct spooler *sl);

/* spooler_save - store_save on @st (the calling thread's store), or spool the save (see the
 * rules above). Parameters as store_save. On success returns 0 with *@spooled 0 (stored in
 * Redis, @res filled) or 1 (durable in the spool, @res untouched). Failures: DADNS_EREDIS /
 * DADNS_EREPLY as store_save when nothing was spooled (spool off, or Redis refused);
 * DADNS_ETOOBIG (spool full), DADNS_EIO (spool write or fsync failed, spool stuck),
 * DADNS_ENOMEM; @e says why. Thread-safe. */
int spooler_save(struct spooler *sl, struct store *st, const char *zone, const char *text,
                 size_t len, uint32_t serial, const char *host, const char *user,
                 struct store_save_result *res, int *spooled, struct err *e);

/* spooler_delete - store_delete of the @n @zones, or spool the delete; as spooler_save
 * (@res, @n entries, is filled only when stored directly). Thread-safe. */
int spooler_delete(struct spooler *sl, struct store *st, const char *const *zones, size_t n,
                   const char *host, const char *user, struct store_del_result *res, int *spooled,
                   struct err *e);

/* spooler_busy - 1 when changes accepted earlier are still in the spool and not in Redis (so
 * Redis cannot tell the truth about a zone), with a reason for DirectAdmin in @why (@size
 * octets); 0 otherwise. Thread-safe. */
int spooler_busy(struct spooler *sl, char *why, size_t size);

/* spooler_pending - records waiting in the spool (0 with the spool off). Thread-safe. */
size_t spooler_pending(struct spooler *sl);

/* spooler_ready - the /readyz answer: 200 "ready: redis ok" (PING on @st answered),
 * 200 "ready: spooling: N records" (pushes go to the spool), or 503 "not ready: <why>"
 * (Redis unreachable with the spool off, or the spool full, stuck or broken). Writes the
 * text into @out and the status into *@status. Thread-safe. */
void spooler_ready(struct spooler *sl, struct store *st, struct buf *out, int *status);

#endif
