/* consumer.h -- the at-least-once consumer loop every writer runs.
 *
 * Owns the Redis side of a writer: consumer group bootstrap (XGROUP CREATE ... MKSTREAM, again
 * after a reconnect or NOGROUP), the drain of its own pending entries at start, after a
 * reconnect and when the circuit breaker closes, batched XREADGROUP, turning notifications into
 * at most one change per zone carrying the zone's latest stored state, skipping versions the
 * backend already applied (op=push forces them), recording the applied version and XACK after
 * the backend succeeded, retries with exponential backoff and jitter per entry (failed entries
 * stay pending and are XCLAIMed again when due; a dead replica's entries are taken over), dead
 * letters, the circuit breaker, inventory requests (inventory.h) and trimming the stream below
 * what every group still needs. A backend only implements struct change_backend (change.h). */
#ifndef DADNS_CONSUMER_H
#define DADNS_CONSUMER_H

#include <signal.h>
#include <stdatomic.h>

#include "change.h"
#include "config.h"
#include "err.h"

/* Upper bounds (seconds, inclusive) of the apply latency histogram's buckets; +Inf is
 * apply_count. */
#define CONSUMER_LATENCY_NBUCKETS 12
#define CONSUMER_LATENCY_BOUNDS_S                                                                  \
    {                                                                                              \
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0                        \
    }

/* The same bounds as an array, for exporters. */
extern const double consumer_latency_bounds_s[CONSUMER_LATENCY_NBUCKETS];

/* Counters a service may log or export. Written by the consumer's thread, readable from any
 * other (an HTTP thread): read each field with atomic_load_explicit(..., memory_order_relaxed).
 * Counters only grow. Initialize with consumer_stats_init. */
struct consumer_stats {
    atomic_ullong entries;        /* stream entries read (retries and claims included) */
    atomic_ullong applied;        /* changes applied (save/delete) */
    atomic_ullong verified;       /* verify changes processed */
    atomic_ullong repaired;       /* verify changes that found the zone lost and rewrote it */
    atomic_ullong stale;          /* zones whose version the backend already had */
    atomic_ullong failed;         /* changes the backend failed (left pending for retry) */
    atomic_ullong batches;        /* backend apply calls */
    atomic_ullong invalid;        /* entries acked unread: malformed, or trimmed while pending */
    atomic_ullong retried;        /* own pending entries delivered again (retries, drains) */
    atomic_ullong dead;           /* entries moved to the dead letters */
    atomic_ullong claimed;        /* entries taken over from another consumer */
    atomic_ullong skipped;        /* entries targeted at another group, acked untouched */
    atomic_ullong inventories;    /* inventory requests answered (published) */
    atomic_int breaker_open;      /* 1 while the circuit breaker is open */
    atomic_ullong breaker_opens;  /* times it opened */
    atomic_llong last_apply_unix; /* unix time of the last apply that succeeded for at least
                                     one change, 0 = none yet */
    atomic_ullong reconnects;     /* reconnections of the loop's Redis connection */
    /* apply latency histogram, one observation per backend apply call */
    atomic_ullong apply_buckets[CONSUMER_LATENCY_NBUCKETS]; /* cumulative: calls that took <=
                                                               consumer_latency_bounds_s[i] */
    atomic_ullong apply_count;                              /* calls observed (the +Inf bucket) */
    atomic_ullong apply_sum_us;                             /* their total duration, microseconds */
};

/* consumer_stats_init - zero every field of @s. */
void consumer_stats_init(struct consumer_stats *s);

/* consumer_run - run the loop for backend @bc (its name is the group name) with the Redis,
 * writer and log settings of @cfg, calling @backend for every batch, until *@stop becomes
 * non-zero (set it from a signal handler, then call consumer_wake). A batch in progress is
 * finished (what succeeded recorded and acked; failed entries stay pending) before it returns.
 * Redis outages are retried with backoff (logged), never returned. Returns 0 after a stop, or
 * a negative DADNS_E* code with @e set when the loop cannot run at all (bad configuration,
 * out of memory). @stats (may be NULL; see consumer_stats_init) is updated as it goes. Several
 * loops may run at once in one process, each on its own thread. */
int consumer_run(const struct config *cfg, const struct backend_conf *bc,
                 const struct change_backend *backend, volatile sig_atomic_t *stop,
                 struct consumer_stats *stats, struct err *e);

/* consumer_wake - make every consumer_run of the process that is blocked waiting for new
 * entries return from that wait at once (its socket is shut down; it then sees its stop flag,
 * or reconnects). Async-signal-safe: meant for SIGTERM/SIGINT handlers (service.h). */
void consumer_wake(void);

#endif
