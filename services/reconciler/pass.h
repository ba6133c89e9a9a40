/* pass.h -- one reconciler pass, start to end: the lock, the store snapshot, DirectAdmin's
 * lists (one thread per server), the plan and its orphan deletes / owner updates / guard, the
 * backends' inventories compared with the store and the targeted pushes, the tombstone purge,
 * the summary (log line, P reconciler:last) and the pass metrics.
 *
 * Orchestration only: listing is daclient's, deciding plan's and drift's, Redis recstore's and
 * backendinv's, the JSON summary's. When to run a pass (interval, operator requests) is
 * main.c's. Logs one line per event (service code). */
#ifndef DADNS_PASS_H
#define DADNS_PASS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "metrics.h"
#include "recstore.h"

#define PASS_HOLDER_SIZE 160 /* room for a lock holder id */
#define PASS_EXAMPLES    10  /* zones named one by one in the log per kind of action */

/* Values of the result label of dadns_reconciler_runs_total, in this order. */
enum pass_result {
    PASS_RESULT_OK = 0,         /* the pass ran to its end */
    PASS_RESULT_FAILED,         /* it stopped on an error (Redis, lost lock, signal) */
    PASS_RESULT_SKIPPED_LOCKED, /* another replica held the lock */
    PASS_RESULTS
};

/* The reconciler's metric families (registered by pass_metrics_register, owned by the
 * registry). Any may be NULL: updates are then skipped. */
struct pass_metrics {
    struct metrics_family *runs;         /* dadns_reconciler_runs_total{result} */
    struct metrics_family *last_success; /* dadns_reconciler_last_success_timestamp_seconds */
    struct metrics_family *guard;        /* dadns_reconciler_guard_tripped (0/1) */
    struct metrics_family *orphans;      /* dadns_reconciler_orphans_deleted_total */
    struct metrics_family *republished;  /* dadns_reconciler_republished_total{backend}: one
                                            series per configured backend, config order */
};

/* pass_metrics_register - register the families above in @reg (the backend label takes the
 * names of every backend of @cfg; a config without backends gets the family without series
 * values, i.e. none) and fill @pm. Returns 0 or an error from metrics_*_new. */
int pass_metrics_register(struct metrics *reg, const struct config *cfg, struct pass_metrics *pm,
                          struct err *e);

/* What a pass runs with. Everything borrowed for the call. */
struct pass_env {
    const struct config *cfg;          /* directadmin.servers, dns.backends, reconciler.* */
    struct recstore *rs;               /* this thread's Redis side */
    const volatile sig_atomic_t *stop; /* non-zero = stop at the next step (may be NULL) */
    struct pass_metrics *metrics;      /* may be NULL */
    const char *holder;                /* the lock holder id (pass_holder_id) */
};

/* How this pass runs (CLI flags, the operator's request, reconciler.dry_run/force). */
struct pass_opts {
    bool dry_run; /* report what would happen; change nothing in Redis but the inventory
                     requests, P reconciler:last and the lock */
    bool force;   /* let deletions through even when the guard trips (clears the guard) */
};

/* pass_holder_id - "<hostname>:<pid>:<16 hex digits>" into @out (@size bytes). */
void pass_holder_id(char *out, size_t size);

/* pass_run - run one pass. Takes P reconciler:lock first: when another holder has it, logs
 * that, counts skipped_locked and returns PASS_RESULT_SKIPPED_LOCKED. Otherwise the steps, in
 * this order, the lock extended between them and stopping (as a failure) when *env->stop
 * becomes non-zero or the lock is lost:
 *  1. the store snapshot (recstore_load);
 *  2. an inventory request to every enabled backend (answered while the next steps run);
 *  3. every configured DirectAdmin server listed at once, one thread each (daclient_fetch);
 *     a server that fails protects its zones;
 *  4. plan_build with reconciler.max_delete_percent; unless dry run: every server with orphans
 *     listed a second time (a walk can miss a zone when DA's list changes under it): only
 *     orphans missing from both listings, and none of a server whose second listing failed,
 *     are deleted, through store_delete_versioned with host = the zone's recorded owner and
 *     the snapshot's version (so the ownership rule applies, a zone re-created meanwhile is
 *     kept, and every backend deletes); owners updated (recstore_set_owners), P reconciler:guard
 * set when the guard held deletions back (logged at ERROR), cleared otherwise;
 *  5. the inventories awaited up to reconciler.inventory_timeout_s, each compared with the
 *     snapshot (drift): targeted op=push entries republish or delete zones on that backend
 *     only; deletions of zones the store has no state for at all are held by the same
 *     percentage guard unless forced; a backend whose inventory failed, timed out or was
 *     incomplete is skipped (reported); the inventory keys are deleted after reading;
 *  6. tombstones purged (recstore_purge): updated more than reconciler.tombstone_retention_s
 *     ago, applied by every enabled backend, held by no backend whose inventory answered;
 *  7. the summary: one INFO log line with the counts and phase times, the JSON
 *     (summary_json) in P reconciler:last (also after a failure, when Redis allows), metrics.
 * Then the lock is released (compare and delete).
 * Returns PASS_RESULT_OK or PASS_RESULT_FAILED (@e says why; Redis failures keep their
 * DADNS_EREDIS/DADNS_EREPLY code in e->code), or PASS_RESULT_SKIPPED_LOCKED. */
enum pass_result pass_run(const struct pass_env *env, const struct pass_opts *o, struct err *e);

#endif
