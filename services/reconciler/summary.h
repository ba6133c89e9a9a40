/* summary.h -- the JSON summary of a reconciler pass, kept in P reconciler:last for status
 * tools (dadnsctl status, dadnsctl reconcile --wait).
 *
 * Pure rendering (jansson): the pass's counts in, the JSON text out. Storing it is recstore's,
 * counting is the pass's. */
#ifndef DADNS_SUMMARY_H
#define DADNS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* One configured DirectAdmin server. */
struct summary_server {
    const char *name;  /* its name in the configuration; borrowed */
    bool answered;     /* its complete list was fetched */
    size_t zones;      /* zones it listed (0 when it did not answer) */
    const char *error; /* why it did not answer, "" or NULL when it did; borrowed */
};

/* One enabled backend. */
struct summary_backend {
    const char *name;    /* the backend (consumer group) name; borrowed */
    bool inventoried;    /* its inventory answered this pass: the counts below are valid */
    size_t republished;  /* targeted pushes to republish a zone (would be, under dry run) */
    size_t deleted;      /* targeted pushes to delete a zone there (would be, under dry run) */
    size_t unmanaged;    /* zones it holds that dadns does not manage */
    const char *skipped; /* when !inventoried: why (timeout, error), borrowed; else ignored */
};

/* A pass, as summarized. Strings are borrowed; NULL strings render as "". */
struct summary {
    long long started_at;  /* unix seconds */
    long long finished_at; /* unix seconds */
    double duration_s;     /* seconds, rendered with millisecond precision */
    bool dry_run;
    bool forced;
    const struct summary_server *servers; /* n_servers, configuration order */
    size_t n_servers;
    size_t zones_seen;      /* distinct names listed by the servers that answered */
    size_t orphans_deleted; /* orphans deleted (to delete, under dry run) */
    size_t orphans_held;    /* orphans held back by the guard */
    bool guard_tripped;
    const char *guard_reason;
    size_t owners_updated; /* owner migrations and fill-ins (to make, under dry run) */
    const struct summary_backend *backends; /* n_backends, configuration order */
    size_t n_backends;
    size_t tombstones_purged; /* (to purge, under dry run) */
    const char *error;        /* why the pass failed, "" when it did not */
};

/* summary_json - render @s as one JSON object (compact, keys in this order): started_at,
 * finished_at, duration_s, dry_run, forced, servers [{name, answered, zones, error}],
 * zones_seen, orphans_deleted, orphans_held, guard_tripped, guard_reason, owners_updated,
 * republished {be: n}, deleted_on_backend {be: n}, unmanaged {be: n} (these three over the
 * inventoried backends only), backends_skipped {be: reason} (the others), tombstones_purged,
 * error. Text is rendered as UTF-8 with invalid octets replaced by '?'.
 * On success *@out is a new NUL-terminated string (caller frees with free()) and 0 is
 * returned; DADNS_ENOMEM otherwise (*@out NULL, @e set). */
int summary_json(const struct summary *s, char **out, struct err *e);

#endif
