/* statuspage.h -- the read-only status page: a status snapshot rendered as JSON (GET /status)
 * or as one self-contained HTML page (GET /status.html).
 *
 * Pure rendering: a struct statuspage_data in, text out; no Redis, no HTTP, no clock (the
 * caller passes "now"). Collecting the data is control.c's (through statuscache.c), serving it
 * http.c's. The HTML has inline CSS only (no script, no external resource), escapes every value
 * and refreshes itself every STATUSPAGE_REFRESH_S seconds. */
#ifndef DADNS_STATUSPAGE_H
#define DADNS_STATUSPAGE_H

#include <stddef.h>

#include "buf.h"
#include "control.h"

#define STATUSPAGE_REFRESH_S 10 /* <meta http-equiv="refresh"> */
#define STATUSPAGE_STALE_S   60 /* a writer heartbeat older than this is shown as stale */
#define STATUSPAGE_FAILURES  20 /* recent failures shown at most */
#define STATUSPAGE_MAX_BYTES (8u << 20)

/* Everything the page shows. Pointers are borrowed for the call. */
struct statuspage_data {
    const struct control_status *st; /* the store's status; NULL when it could not be read */
    const char *error;               /* why @st is NULL (NULL or "" otherwise) */
    long long now;                   /* unix seconds the page is rendered for */
    long long collected_at;          /* unix seconds @st was read */
    long long tombstones;            /* tombstone count, -1 = not known yet */
    long long tombstones_at;         /* unix seconds it was counted (0 = never) */
    int spool_enabled;               /* ingest's app.spool_dir is set */
    size_t spool_records;            /* records waiting in ingest's spool */
    const char *version;             /* dadns version */
    const char *prefix;              /* redis.prefix, for the key names shown */
};

/* statuspage_json - the status as a JSON document (indented, keys in a fixed order):
 * generated_at, version, redis {up, error}, zones {live, tombstones, tombstones_counted_at},
 * stream {key, length}, backends [{name, configured, group, pending, lag,
 * oldest_pending_age_s, dead_letters, consumers [...], writers [...], last_apply_at,
 * breaker_open}], ingest {spool {enabled, records}}, reconciler {last, guard}, failures [...],
 * failures_total. Unknown numbers are null. *@out is new (free()). Returns 0 or DADNS_ENOMEM. */
int statuspage_json(const struct statuspage_data *d, char **out);

/* statuspage_html - the same data as an HTML page appended to @out. Returns 0, or
 * DADNS_ETOOBIG/DADNS_ENOMEM from @out. */
int statuspage_html(const struct statuspage_data *d, struct buf *out);

/* statuspage_escape - append @s HTML-escaped (& < > " ' and control characters) to @out.
 * Returns 0 or an error from @out. */
int statuspage_escape(struct buf *out, const char *s);

#endif
