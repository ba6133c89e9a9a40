/* control.h -- what an operator does to a running dadns through Redis: read the status of the
 * stream, groups, dead letters, zones and reconciler; show a zone; force a push; resync a
 * backend; list, replay and discard dead letters; ask the reconciler for a pass.
 *
 * Owns these reads and writes and their Lua scripts (key names and fields as in
 * notes/contract2.md). Presentation (tables, JSON, exit codes) is left to the callers:
 * dadnsctl and ingest's status page. No logging, no exit. One control per thread. */
#ifndef DADNS_CONTROL_H
#define DADNS_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "heartbeat.h"
#include "name.h"

#define CONTROL_NAME_MAX 128 /* longest backend/consumer name kept, including NUL */
#define CONTROL_ID_MAX   48  /* longest stream entry id, including NUL */

struct control;

/* control_new - a control over a new (lazily connected) Redis connection for @cfg (borrowed:
 * must outlive the control), named @client_name. Free with control_free.
 * Returns 0 or DADNS_ENOMEM/DADNS_ETOOBIG (prefix too long). */
int control_new(const struct config *cfg, const char *client_name, struct control **out);

/* control_free - release @ctl and its connection; NULL is fine. */
void control_free(struct control *ctl);

/* control_ping - connect if needed and PING. 0, DADNS_EREDIS (unreachable) or DADNS_EREPLY
 * (e.g. AUTH refused). */
int control_ping(struct control *ctl, struct err *e);

/* ---- backends ---- */

/* A backend as known from the configuration and from Redis. */
struct control_backend {
    char name[CONTROL_NAME_MAX];
    int configured; /* a dns.backends entry */
    int has_group;  /* a consumer group of that name exists on P changes */
    int has_dead;   /* a dead-letter stream P dead:<name> exists */
};

/* control_backends - every backend: the configured ones (file order), then groups of the
 * stream and, when @scan_dead, dead-letter streams (SCAN P dead:*) not configured, sorted by
 * name. *@out is a new array of *@n entries (caller frees with free(); NULL when none).
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_backends(struct control *ctl, int scan_dead, struct control_backend **out, size_t *n,
                     struct err *e);

/* control_backend_known - *@known = 1 when @backend is configured or has a consumer group.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int control_backend_known(struct control *ctl, const char *backend, int *known, struct err *e);

/* ---- status ---- */

struct control_consumer {
    char name[CONTROL_NAME_MAX];
    long long pending; /* entries delivered to it and not acknowledged */
    long long idle_ms; /* since its last read or claim */
};

/* One backend in the status: its group on P changes (when there is one) and dead letters. */
struct control_group {
    struct control_backend be;
    long long pending;                   /* -1 without a group */
    long long lag;                       /* entries not yet delivered; -1 = unknown (nil) */
    char last_delivered[CONTROL_ID_MAX]; /* "" without a group */
    char oldest_pending[CONTROL_ID_MAX]; /* id of the oldest pending entry, "" = none */
    long long oldest_pending_age_ms;     /* now - the time in that id; -1 = none pending */
    struct control_consumer *consumers;  /* owned */
    size_t n_consumers;
    long long dead;                   /* XLEN P dead:<name> (0 when absent) */
    struct heartbeat_record *writers; /* heartbeats of its writers (P writer:<name>), sorted
                                         by consumer (owned; NULL when none) */
    size_t n_writers;
};

struct control_status {
    long long now_ms;        /* Redis TIME, milliseconds */
    long long stream_length; /* XLEN P changes */
    struct control_group *groups;
    size_t n_groups;
    long long zones_live;       /* SCARD P zones */
    long long zones_tombstones; /* zone hashes not live (SCAN P zone:*) */
    char *reconciler_last;      /* P reconciler:last as stored (JSON text), NULL when absent */
    char **guard;   /* P reconciler:guard as field, value, field, value...; NULL when absent */
    size_t n_guard; /* number of strings in @guard (twice the fields) */
    struct heartbeat_failure *failures; /* the newest of P failures, newest first (owned) */
    size_t n_failures;
    long long failures_total; /* LLEN P failures (at most HEARTBEAT_FAILURES_KEPT) */
};

#define CONTROL_STATUS_FAILURES 20 /* recent failures control_status reads */

/* What control_status_collect reads besides the always-cheap parts. */
struct control_status_opts {
    int count_tombstones; /* 1 = count the tombstones (SCAN every P zone:* key: slow with many
                             zones); 0 = zones_tombstones is -1 */
    size_t failures;      /* how many of the newest P failures to read (0 = none) */
};

/* control_status - collect the status (several commands, not one snapshot; the tombstone
 * count scans every zone key with SCAN; the CONTROL_STATUS_FAILURES newest failures). *@out is
 * new (control_status_free). Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_status(struct control *ctl, struct control_status **out, struct err *e);

/* control_status_collect - control_status with the choices of @o. Heartbeat and failure
 * records that do not parse are skipped. Returns as control_status. */
int control_status_collect(struct control *ctl, const struct control_status_opts *o,
                           struct control_status **out, struct err *e);

/* control_status_free - release @st and everything in it; NULL is fine. */
void control_status_free(struct control_status *st);

/* ---- zones ---- */

/* What one backend has applied of a zone. */
struct control_applied {
    struct control_backend be;
    int has_applied;  /* P applied:<be> has the zone */
    uint64_t applied; /* that version (0 when none) */
    int current;      /* applied >= the stored version */
};

struct control_zone {
    char name[NAME_BUF_SIZE];
    int deleted; /* tombstone */
    int live;    /* member of P zones */
    uint64_t version;
    uint32_t serial;
    char host[256];
    char user[256];
    long long updated_ms; /* unix milliseconds of the last change, 0 when unknown */
    char digest[48];
    size_t text_len;
    char *text; /* the zone text when asked for (owned, NUL terminated), else NULL */
    size_t text_size;
    struct control_applied *applied; /* every configured backend and every group (owned) */
    size_t n_applied;
};

/* control_zone_show - the stored state of normalized @zone and what every backend has applied;
 * with @with_text the zone text too. *@out is new (control_zone_free). Returns 0,
 * DADNS_ENOTFOUND (no state stored under that name), DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_zone_show(struct control *ctl, const char *zone, int with_text,
                      struct control_zone **out, struct err *e);

/* control_zone_free - release @z; NULL is fine. */
void control_zone_free(struct control_zone *z);

/* control_push - append op=push zone=@zone version=<stored version> [backend=@backend] to
 * P changes, in one script that reads the version (normalized @zone; @backend NULL = every
 * group). *@version gets the version and @id (@id_size bytes, may be NULL) the entry id.
 * Returns 0, DADNS_ENOTFOUND (no state stored), DADNS_EREDIS/DADNS_EREPLY. */
int control_push(struct control *ctl, const char *zone, const char *backend, uint64_t *version,
                 char *id, size_t id_size, struct err *e);

/* Progress of a long operation: @done of @total so far. */
typedef void (*control_progress_fn)(void *arg, size_t done, size_t total);

/* control_resync - op=push backend=@backend for every live zone (SSCAN P zones), scripts of
 * @batch zones (0 = 500) pipelined a few at a time; nothing is deleted or changed besides the
 * stream. @progress (may be NULL) is called after every round with @arg. *@pushed gets the
 * number of entries added. Does not check that @backend exists (control_backend_known).
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM (then some zones may have been pushed). */
int control_resync(struct control *ctl, const char *backend, size_t batch,
                   control_progress_fn progress, void *arg, size_t *pushed, struct err *e);

/* ---- dead letters ---- */

/* One entry of P dead:<backend>. */
struct control_dead {
    char id[CONTROL_ID_MAX]; /* the dead-letter entry id (what replay/discard take) */
    char zone[NAME_BUF_SIZE];
    char op[16];
    uint64_t version;
    long long attempts;
    char reason[512];
    long long failed_at;          /* unix seconds, 0 when missing */
    char orig_id[CONTROL_ID_MAX]; /* the P changes entry that failed */
    char consumer[CONTROL_NAME_MAX];
    int permanent;
};

/* control_id_valid - true when @id has the form of a stream id ("ms" or "ms-seq", digits). */
int control_id_valid(const char *id);

/* control_dead_list - up to @limit entries of P dead:@backend, oldest first, starting after
 * @after (exclusive; NULL or "" = from the first). *@out is a new array of *@n entries (free()
 * it; NULL when none); *@total (may be NULL) gets XLEN. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_dead_list(struct control *ctl, const char *backend, const char *after, size_t limit,
                      struct control_dead **out, size_t *n, long long *total, struct err *e);

/* control_dead_replay - in one script: XADD P changes op=push zone version backend=@backend
 * (zone and version of the dead entry @id), then XDEL the dead entry. Returns 0, DADNS_ENOTFOUND
 * (no such entry), DADNS_EINVAL (the entry has no zone: nothing to replay; left in place),
 * DADNS_EREDIS/DADNS_EREPLY. */
int control_dead_replay(struct control *ctl, const char *backend, const char *id, struct err *e);

/* control_dead_replay_all - control_dead_replay for every entry of P dead:@backend, pipelined
 * by pages. *@replayed gets how many moved, *@skipped (may be NULL) how many had no zone.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_dead_replay_all(struct control *ctl, const char *backend, size_t *replayed,
                            size_t *skipped, struct err *e);

/* control_dead_discard - XDEL entry @id of P dead:@backend. Returns 0, DADNS_ENOTFOUND,
 * DADNS_EREDIS/DADNS_EREPLY. */
int control_dead_discard(struct control *ctl, const char *backend, const char *id, struct err *e);

/* control_dead_discard_all - DEL P dead:@backend; *@discarded gets how many entries it held.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int control_dead_discard_all(struct control *ctl, const char *backend, size_t *discarded,
                             struct err *e);

/* ---- reconciler ---- */

/* control_reconcile_request - HSET P reconciler:request dry_run @dry_run force @force
 * requested_at <now, unix seconds>; *@requested_at gets that time. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY. */
int control_reconcile_request(struct control *ctl, int dry_run, int force, long long *requested_at,
                              struct err *e);

/* control_reconciler_last - *@json = P reconciler:last (new string, caller frees with free();
 * NULL when absent). Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_reconciler_last(struct control *ctl, char **json, struct err *e);

/* control_reconcile_done - one poll for the pass asked for at @requested_at: *@done = 1 when
 * P reconciler:request no longer holds that request and P reconciler:last has finished_at >=
 * @requested_at; then *@json is that summary (new string, free()), else NULL. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int control_reconcile_done(struct control *ctl, long long requested_at, int *done, char **json,
                           struct err *e);

#endif
