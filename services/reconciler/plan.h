/* plan.h -- the DirectAdmin-side decisions of one reconciler pass: which stored zones are
 * orphans to delete, which are held back by the mass-deletion guard, whose recorded owner
 * changes, which listed zones the store lacks.
 *
 * Pure: DA's lists and the store's zones in, decisions out; carrying them out (stream
 * entries, owner writes, logs, the summary) is left to the reconciler service. */
#ifndef DADNS_PLAN_H
#define DADNS_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "strset.h"

/* Input: one configured DirectAdmin server, in configuration order. */
struct plan_server {
    const char *name;           /* its name in the configuration, for messages; borrowed */
    const char *hostname;       /* the owner name its zones are recorded under (compared with
                                   the store's host case-insensitively); borrowed */
    bool answered;              /* its complete list was fetched this pass */
    const struct strset *zones; /* the normalized names it listed; borrowed; ignored (may be
                                   NULL) when !answered */
};

/* Input: one zone of the store (live or tombstone). */
struct plan_zone {
    const char *name; /* normalized name; borrowed */
    const char *host; /* recorded owner hostname, NULL or "" when none; borrowed */
    bool deleted;     /* a tombstone: not live, never an orphan, never an owner update */
};

/* Input: the guard settings (reconciler.max_delete_percent, force, dry_run). */
struct plan_guard {
    int max_delete_percent; /* 0-100: a server may lose at most this share of its zones */
    bool force;             /* delete even when the guard trips (operator's decision) */
    bool dry_run;           /* report only: the caller must change nothing */
};

/* An orphan: a live zone whose recorded owner answered and that no answering server lists. */
struct plan_delete {
    const char *zone; /* borrowed from the input zones */
    size_t server;    /* index of its owner in the input servers */
};

/* An owner update: the zone's recorded owner becomes servers[server].hostname. */
struct plan_owner {
    const char *zone; /* borrowed from the input zones */
    const char *from; /* recorded owner before, "" when none; borrowed from the input */
    size_t server;    /* index of the new owner in the input servers */
};

/* A zone listed by more than one answering server. */
struct plan_conflict {
    const char *zone; /* borrowed from the input zones */
    size_t owner;     /* the server that owns it after the pass (the recorded one when it lists
                         the zone, else the new owner of the plan_owner entry) */
    size_t other;     /* the first other answering server that lists it */
    size_t listing;   /* how many answering servers list it (2 or more) */
};

/* Why a server's deletions are held. */
enum plan_guard_why {
    PLAN_GUARD_NONE = 0, /* not tripped */
    PLAN_GUARD_PERCENT,  /* orphans > max_delete_percent of its stored zones */
    PLAN_GUARD_EMPTY,    /* it listed no zone at all while it owns stored zones */
};

/* Per input server, same order. */
struct plan_server_result {
    size_t listed;             /* names it listed (0 when it did not answer) */
    size_t stored;             /* live zones recorded as its own (before the owner updates) */
    size_t orphans;            /* of those, listed by no answering server (it answered) */
    size_t protected_zones;    /* it did not answer: its live zones no answering server lists,
                                  kept (those another server lists count in deferred_owners) */
    size_t missing;            /* names it listed that are not live in the store */
    size_t gained;             /* owner updates to it */
    enum plan_guard_why guard; /* its guard tripped (its orphans held unless forced) */
    char guard_reason[256];    /* "" or e.g. "da1 would delete 50 of its 100 zones (50.0%), more
                                  than max_delete_percent 10%" or "da1 lists no zones but owns
                                  100 in the store" */
};

/* The decisions of a pass. Every zone pointer is borrowed from the inputs of plan_build (the
 * zones array, or a server's set for missing[]): valid while they are. */
struct plan {
    bool dry_run; /* copied from the guard: act on nothing, only report */
    bool forced;  /* copied from the guard */

    struct plan_delete *deletes; /* orphans to delete (to report only under dry_run): those of
                                    servers whose guard did not trip, or all when forced; in
                                    input order */
    size_t n_deletes;
    struct plan_delete *held; /* orphans held back by a tripped guard (empty when forced) */
    size_t n_held;
    struct plan_owner *owners; /* owner migrations and fill-ins, in input order */
    size_t n_owners;
    struct plan_conflict *conflicts; /* zones listed by several answering servers */
    size_t n_conflicts;
    const char **missing; /* names listed by an answering server but not live in the store
                             (absent or a tombstone), sorted, each once: DA pushes them on their
                             next save; the reconciler never invents zone data */
    size_t n_missing;

    size_t live_zones;       /* live zones in the input */
    size_t zones_seen;       /* distinct names listed by the answering servers */
    size_t protected_zones;  /* live zones owned by a server that did not answer and listed by
                                no answering server: kept, whatever the guard */
    size_t deferred_owners;  /* live zones listed by an answering server but recorded under a
                                configured server that did not answer: owner kept this pass */
    size_t unowned_unlisted; /* live zones with no owner, or an owner that is no configured
                                server, listed by no answering server: left alone */
    size_t answered;         /* servers that answered */

    bool guard_tripped;      /* at least one server's guard tripped (even when forced) */
    char guard_reason[1024]; /* the reasons of the tripped servers joined by "; ", "" if none */
    size_t guard_server;     /* index of the first tripped server (valid when guard_tripped) */

    struct plan_server_result *servers; /* n_servers entries, input order */
    size_t n_servers;
};

/* plan_build - decide a pass.
 *
 * For each live zone, L = the answering servers that list it and O = the configured server
 * whose hostname is the recorded owner (none when the zone has no owner or an unknown one):
 *  - L not empty, O in L: nothing to do (a conflict is reported when L has other servers);
 *  - L not empty, O configured but did not answer: owner kept (deferred_owners): that server
 *    may still list it;
 *  - L not empty otherwise (no owner, an unknown owner, or O answered without listing it):
 *    the owner becomes the first server of L in input order (migration or fill-in);
 *  - L empty, O answered: an orphan of O;
 *  - L empty, O did not answer: protected; L empty, no or unknown owner: left alone.
 * A zone listed by any answering server is never an orphan. Tombstones only count for
 * missing[]. The guard, per answering server O with stored(O) live zones and orphans(O):
 * it trips when stored(O) > 0 and O listed nothing, or when orphans(O) * 100 >
 * max_delete_percent * stored(O); then O's orphans go to held[] (to deletes[] when forced,
 * still reported as tripped). Dry run changes none of the lists, only sets plan->dry_run.
 *
 * Runs in time linear in zones x servers (hash sets); 100k zones x 3 servers take a few tens
 * of milliseconds. On success *@out is a new plan (caller frees with plan_free) and 0 is
 * returned; DADNS_EINVAL (a NULL name or hostname, a percentage outside 0-100, an answering
 * server without a set) or DADNS_ENOMEM otherwise, *@out NULL. */
int plan_build(const struct plan_server *servers, size_t n_servers, const struct plan_zone *zones,
               size_t n_zones, const struct plan_guard *guard, struct plan **out, struct err *e);

/* plan_free - release @p and its arrays (not the borrowed strings); NULL is fine. */
void plan_free(struct plan *p);

#endif
