/* recstore.h -- the reconciler's side of Redis: its lock, the operator's request, a snapshot
 * of the store, owner updates, targeted pushes, the tombstone purge, the guard state and the
 * last summary, each write one command or one Lua script.
 *
 * Keys (P = redis.prefix): P reconciler:lock (string, holder id, PX), P reconciler:request
 * (hash dry_run force requested_at), P reconciler:guard (hash server would_delete listed
 * stored at), P reconciler:last (string, JSON), and the store's P zone:<name>, P zones,
 * P changes, P applied:<be> (store.h). Orphan deletes go through store_delete on
 * recstore_store (the normal ingest path); inventories are backendinv's. Library code: no
 * logging. One recstore per thread. */
#ifndef DADNS_RECSTORE_H
#define DADNS_RECSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "rconn.h"
#include "store.h"
#include "zonetab.h"

#define RECSTORE_BATCH 500 /* zones per owner / purge script and per pipelined window */

struct recstore;

/* recstore_new - a recstore over a new store (store_new: its own lazily connected rconn) for
 * @cfg (borrowed; must outlive the recstore), named @client_name. Free with recstore_free.
 * Returns 0, DADNS_ETOOBIG (prefix too long) or DADNS_ENOMEM. */
int recstore_new(const struct config *cfg, const char *client_name, struct recstore **out);

/* recstore_free - release @rs and its connection; NULL is fine. */
void recstore_free(struct recstore *rs);

/* recstore_store - the underlying store, borrowed (store_delete for orphans). */
struct store *recstore_store(struct recstore *rs);

/* recstore_conn - the connection, borrowed (backendinv uses it on the same thread). */
struct rconn *recstore_conn(struct recstore *rs);

/* recstore_key - "<prefix><a><b>" into @out (@size octets; @b may be NULL). Returns 0 or
 * DADNS_ETOOBIG with @e set. */
int recstore_key(const struct recstore *rs, const char *a, const char *b, char *out, size_t size,
                 struct err *e);

/* recstore_ping - PING (reconnecting once when a kept connection broke). 0 or
 * DADNS_EREDIS/DADNS_EREPLY. */
int recstore_ping(struct recstore *rs, struct err *e);

/* recstore_now_ms - Redis's clock (TIME) in unix milliseconds into *@ms. 0 or
 * DADNS_EREDIS/DADNS_EREPLY. */
int recstore_now_ms(struct recstore *rs, long long *ms, struct err *e);

/* ---- the pass lock ---- */

/* recstore_lock_take - SET P reconciler:lock @holder NX PX @ttl_ms: *@taken = true when this
 * call took it (false: another holder has it). Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_lock_take(struct recstore *rs, const char *holder, long ttl_ms, bool *taken,
                       struct err *e);

/* recstore_lock_extend - in one script: PEXPIRE the lock to @ttl_ms when it still holds
 * @holder. *@held = false when it does not (expired, or taken by another holder).
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_lock_extend(struct recstore *rs, const char *holder, long ttl_ms, bool *held,
                         struct err *e);

/* recstore_lock_release - in one script: DEL the lock when it holds @holder (compare and
 * delete). Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_lock_release(struct recstore *rs, const char *holder, struct err *e);

/* ---- the operator's request ---- */

/* P reconciler:request as read. The raw_* strings are what Redis holds ("" when missing), for
 * the compare-and-delete. */
struct recstore_request {
    bool present;           /* the hash exists */
    bool dry_run;           /* dry_run is "1" */
    bool force;             /* force is "1" */
    long long requested_at; /* unix seconds, 0 when missing or not a number */
    char raw_at[32];
    char raw_dry[8];
    char raw_force[8];
};

/* recstore_request_get - HMGET P reconciler:request into @out. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY. */
int recstore_request_get(struct recstore *rs, struct recstore_request *out, struct err *e);

/* recstore_request_done - in one script: DEL P reconciler:request when it still holds exactly
 * @req (a newer request made during the pass stays). *@deleted (may be NULL) says whether it
 * did. Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_request_done(struct recstore *rs, const struct recstore_request *req, bool *deleted,
                          struct err *e);

/* ---- the store snapshot ---- */

struct recstore_load_stats {
    size_t live;         /* live zones read */
    size_t tombstones;   /* tombstones read */
    size_t inconsistent; /* members of P zones without a state hash, and P zone:* keys that
                            are no hash (skipped) */
    size_t round_trips;  /* Redis round trips used */
};

/* recstore_load - read the store into @t (empty on entry): SSCAN P zones, each batch's
 * HMGET host version serial digest deleted updated pipelined (a member whose hash has
 * deleted=1 is taken as a tombstone), then SCAN P zone:* for the hashes that are not live
 * members, HMGET pipelined, keeping those with deleted=1. Sorts @t. @st (may be NULL) gets
 * counters. Not one snapshot: zones changing meanwhile are read in either state.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int recstore_load(struct recstore *rs, struct zonetab *t, struct recstore_load_stats *st,
                  struct err *e);

/* ---- actions ---- */

/* recstore_set_owners - for i < @n, in scripts of RECSTORE_BATCH zones: set the host of zone
 * @zones[i] to @hosts[i] when the zone is live and its host is still @expect[i] ("" = none).
 * No version bump, no stream entry. *@updated gets how many changed.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM (then some batches may have run). */
int recstore_set_owners(struct recstore *rs, const char *const *zones, const char *const *expect,
                        const char *const *hosts, size_t n, size_t *updated, struct err *e);

/* recstore_push - XADD P changes MAXLEN ~ redis.stream_maxlen op=push zone=@zones[i]
 * version=@versions[i] backend=@backend for i < @n, pipelined in windows of RECSTORE_BATCH.
 * *@pushed gets how many were added. Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int recstore_push(struct recstore *rs, const char *backend, const char *const *zones,
                  const uint64_t *versions, size_t n, size_t *pushed, struct err *e);

/* The tombstone purge's parameters. */
struct recstore_purge_opts {
    long long cutoff_ms;               /* only tombstones updated at or before this */
    const char *const *check_backends; /* applied:<be> must be >= the tombstone version */
    size_t n_check;
    const char *const *all_backends; /* the zone is removed from every applied:<be> of these */
    size_t n_all;
    bool dry_run; /* count only, remove nothing */
};

/* recstore_purge - for the @n tombstones @zones[i] at version @versions[i], in scripts of
 * RECSTORE_BATCH zones: each script re-checks that the zone is still a tombstone (deleted=1,
 * same version, not in P zones, updated <= cutoff_ms) and that every check backend applied a
 * version >= it, then DELs P zone:<name> and HDELs it from every applied hash (unless
 * @o->dry_run). *@purged gets how many qualified. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int recstore_purge(struct recstore *rs, const char *const *zones, const uint64_t *versions,
                   size_t n, const struct recstore_purge_opts *o, size_t *purged, struct err *e);

/* recstore_guard_set - HSET P reconciler:guard server @server would_delete @would_delete
 * listed @listed stored @stored at @at. Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_guard_set(struct recstore *rs, const char *server, size_t would_delete, size_t listed,
                       size_t stored, long long at, struct err *e);

/* recstore_guard_clear - DEL P reconciler:guard; *@was (may be NULL) = it existed.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_guard_clear(struct recstore *rs, bool *was, struct err *e);

/* recstore_last_set - SET P reconciler:last @json. Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int recstore_last_set(struct recstore *rs, const char *json, struct err *e);

#endif
