/* consumer.h -- the at-least-once consumer loop every writer runs.
 *
 * Owns the Redis side of a writer: consumer group bootstrap (XGROUP CREATE ... MKSTREAM), the
 * drain of its own pending entries at start and after a reconnect, batched XREADGROUP, turning
 * notifications into at most one change per zone carrying the zone's latest stored state,
 * skipping versions the backend already applied, recording the applied version and XACK after
 * the backend succeeded, and re-reading its own pending entries every retry interval. A backend
 * only implements struct change_backend (change.h). */
#ifndef DADNS_CONSUMER_H
#define DADNS_CONSUMER_H

#include <signal.h>

#include "change.h"
#include "config.h"
#include "err.h"

/* Counters a service may log or export. */
struct consumer_stats {
    unsigned long long entries;  /* stream entries read */
    unsigned long long applied;  /* changes applied (save/delete) */
    unsigned long long verified; /* verify changes processed */
    unsigned long long repaired; /* verify changes that found the zone lost and rewrote it */
    unsigned long long stale;    /* entries whose version the backend already had */
    unsigned long long failed;   /* changes the backend failed (left pending for retry) */
    unsigned long long batches;  /* backend apply calls */
};

/* consumer_run - run the loop for backend @bc (its name is the group name) with the Redis,
 * writer and log settings of @cfg, calling @backend for every batch, until *@stop becomes
 * non-zero (set it from a signal handler). Redis outages are retried with backoff (logged),
 * never returned. Returns 0 after a stop, or a negative DADNS_E* code with @e set when the
 * loop cannot run at all (bad configuration). @stats (may be NULL) is updated as it goes. */
int consumer_run(const struct config *cfg, const struct backend_conf *bc,
                 const struct change_backend *backend, volatile sig_atomic_t *stop,
                 struct consumer_stats *stats, struct err *e);

#endif
