/* metrics.h -- a small metrics registry rendered as Prometheus text format 0.0.4.
 *
 * Owns counters, gauges and histograms with a fixed, bounded set of label values declared at
 * registration (never free-form labels), their lock-free updates from any thread and the pure
 * rendering into a buf. Serving the text over HTTP is admin.c; Redis-side gauges redisstats.c.
 *
 * Life cycle: metrics_new, then every metrics_*_new registration while single-threaded (at
 * start, before the admin listener and the worker threads run), then updates from any thread
 * (relaxed C11 atomics) and metrics_render from one thread at a time (admin serializes). The
 * families live until metrics_free. Every update function accepts a NULL family (a service
 * that registered nothing updates nothing) and ignores an out-of-range series.
 *
 * Series: a family with labels L1..Ln, label Li declaring values Vi[0..ni-1], has n1*...*nn
 * series, numbered in mixed radix with the last label varying fastest: the series of value
 * indices (i1, ..., in) is ((i1 * n2 + i2) * n3 + i3)... A family without labels has the one
 * series 0. Declare a label's values in the order of a service's enum and the enum is the
 * index; or look a series up by its values with metrics_series. Rendering follows
 * registration order, then series order: the output is stable. */
#ifndef DADNS_METRICS_H
#define DADNS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Limits checked at registration. */
#define METRICS_MAX_LABELS  4    /* label names per family */
#define METRICS_MAX_SERIES  4096 /* series per family (product of the value counts) */
#define METRICS_MAX_BUCKETS 64   /* histogram bucket bounds, +Inf not included */

/* Metric names used across the services (docs/operations.md and the alerts use them). */
#define METRICS_BUILD_INFO                 "dadns_build_info"
#define METRICS_PROCESS_START              "dadns_process_start_time_seconds"
#define METRICS_HTTP_REQUESTS              "dadns_http_requests_total"
#define METRICS_INGEST_PUSHES              "dadns_ingest_pushes_total"
#define METRICS_INGEST_PUBLISH_SECONDS     "dadns_ingest_publish_seconds"
#define METRICS_INGEST_SPOOL_RECORDS       "dadns_ingest_spool_records"
#define METRICS_WRITER_CHANGES             "dadns_writer_changes_total"
#define METRICS_WRITER_APPLY_SECONDS       "dadns_writer_apply_seconds"
#define METRICS_WRITER_BREAKER_OPEN        "dadns_writer_breaker_open"
#define METRICS_WRITER_LAST_APPLY          "dadns_writer_last_apply_timestamp_seconds"
#define METRICS_RECONCILER_RUNS            "dadns_reconciler_runs_total"
#define METRICS_RECONCILER_LAST_SUCCESS    "dadns_reconciler_last_success_timestamp_seconds"
#define METRICS_RECONCILER_GUARD_TRIPPED   "dadns_reconciler_guard_tripped"
#define METRICS_RECONCILER_ORPHANS_DELETED "dadns_reconciler_orphans_deleted_total"
#define METRICS_RECONCILER_REPUBLISHED     "dadns_reconciler_republished_total"
/* Registered by redisstats_new. */
#define METRICS_REDIS_UP              "dadns_redis_up"
#define METRICS_REDIS_RECONNECTS      "dadns_redis_reconnects_total"
#define METRICS_STREAM_LENGTH         "dadns_stream_length"
#define METRICS_STREAM_PENDING        "dadns_stream_pending"
#define METRICS_STREAM_LAG            "dadns_stream_lag"
#define METRICS_STREAM_OLDEST_PENDING "dadns_stream_oldest_pending_seconds"
#define METRICS_STREAM_CONSUMERS      "dadns_stream_consumers"
#define METRICS_DEAD_LETTERS          "dadns_dead_letters"

/* Label values shared by services: declare a label with these values (in this order) and the
 * enum is the series index. */
enum metrics_writer_result {
    METRICS_WRITER_APPLIED = 0, /* the backend now has the change */
    METRICS_WRITER_STALE,       /* older than what the backend has: acked, nothing done */
    METRICS_WRITER_RETRY,       /* failed, left pending for a retry */
    METRICS_WRITER_DEAD,        /* moved to the dead letters */
    METRICS_WRITER_SKIPPED,     /* targeted at another backend */
    METRICS_WRITER_VERIFIED,    /* refresh: the backend already serves it */
    METRICS_WRITER_REPAIRED,    /* refresh: the backend differed and was rewritten */
    METRICS_WRITER_RESULTS      /* count */
};
extern const char *const metrics_writer_results[METRICS_WRITER_RESULTS];

enum metrics_push_result {
    METRICS_PUSH_ACCEPTED = 0, /* stored in Redis */
    METRICS_PUSH_REJECTED,     /* refused (4xx: invalid zone, ownership, parameters) */
    METRICS_PUSH_SPOOLED,      /* Redis unreachable: kept in the spool */
    METRICS_PUSH_ERROR,        /* failed (5xx) */
    METRICS_PUSH_RESULTS       /* count */
};
extern const char *const metrics_push_results[METRICS_PUSH_RESULTS];

/* Histogram bounds in seconds for latencies from a millisecond to a minute (Redis publish,
 * backend apply): 14 bounds. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_n;

struct metrics;        /* the registry */
struct metrics_family; /* one metric name with its series; owned by the registry */

/* One label of a family: its name and every value it may take. */
struct metrics_label {
    const char *name;          /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
    const char *const *values; /* @n distinct values, any text (escaped when rendered) */
    size_t n;                  /* >= 1 */
};

/* A computed gauge: store the value of @series in *@value and return 1, or return 0 for
 * "absent" (the series is not rendered). Called by metrics_render on the rendering thread. */
typedef int (*metrics_gauge_fn)(void *ctx, size_t series, double *value);

/* metrics_new - an empty registry. *@out is freed with metrics_free.
 * Returns 0 or DADNS_ENOMEM. */
int metrics_new(struct metrics **out);

/* metrics_free - release the registry and all its families; NULL is fine. */
void metrics_free(struct metrics *reg);

/* metrics_add_process - register dadns_build_info{version,service} = 1 and
 * dadns_process_start_time_seconds (now, unix seconds with milliseconds). @service and
 * @version are copied; @version NULL = DADNS_VERSION. Returns 0 or an error as the
 * metrics_*_new functions. */
int metrics_add_process(struct metrics *reg, const char *service, const char *version,
                        struct err *e);

/* metrics_counter_new - register counter @name (must start with "dadns_" and end with
 * "_total") with help text @help and the @nlabels @labels (NULL when 0). Names, help and
 * values are copied. On success *@out (may be NULL) is the family, owned by @reg; all series
 * start at 0. Returns 0, DADNS_EINVAL (bad or duplicate name, bad label, duplicate value, too
 * many series; @e says which) or DADNS_ENOMEM. Not thread-safe: call at start. */
int metrics_counter_new(struct metrics *reg, const char *name, const char *help,
                        const struct metrics_label *labels, size_t nlabels,
                        struct metrics_family **out, struct err *e);

/* metrics_gauge_new - register a gauge as metrics_counter_new does (no "_total" suffix
 * required). Every series starts present with the value 0. */
int metrics_gauge_new(struct metrics *reg, const char *name, const char *help,
                      const struct metrics_label *labels, size_t nlabels,
                      struct metrics_family **out, struct err *e);

/* metrics_gauge_fn_new - register a gauge whose values @fn computes at render time (with
 * @ctx, borrowed: it must outlive @reg). The set/add/clear functions do nothing on it. */
int metrics_gauge_fn_new(struct metrics *reg, const char *name, const char *help,
                         const struct metrics_label *labels, size_t nlabels, metrics_gauge_fn fn,
                         void *ctx, struct metrics_family **out, struct err *e);

/* metrics_histogram_new - register a histogram with the @nbounds finite, strictly increasing
 * upper bounds @bounds (copied; +Inf is implied), rendered as cumulative _bucket{le=...},
 * _sum and _count. No label may be named "le". Otherwise as metrics_counter_new (no suffix
 * required). */
int metrics_histogram_new(struct metrics *reg, const char *name, const char *help,
                          const struct metrics_label *labels, size_t nlabels, const double *bounds,
                          size_t nbounds, struct metrics_family **out, struct err *e);

/* metrics_find - the family named @name in @reg (borrowed), or NULL. */
struct metrics_family *metrics_find(const struct metrics *reg, const char *name);

/* metrics_series - the index of the series whose label values are @values (one per label of
 * @f, in label order; exact match), into *@index. Returns 0, or DADNS_ENOTFOUND when a value
 * was not declared (or @f is NULL). For a family without labels, @values is ignored and the
 * index is 0. */
int metrics_series(const struct metrics_family *f, const char *const *values, size_t *index);

/* metrics_counter_add - add @n to counter series @series. Any thread. */
void metrics_counter_add(struct metrics_family *f, size_t series, uint64_t n);

/* metrics_counter_get - the current value of counter series @series (0 when out of range). */
uint64_t metrics_counter_get(const struct metrics_family *f, size_t series);

/* metrics_gauge_set - set gauge series @series to @v and make it present. Any thread. */
void metrics_gauge_set(struct metrics_family *f, size_t series, double v);

/* metrics_gauge_add - add @delta (may be negative) to gauge series @series; an absent series
 * counts as 0 and becomes present. Any thread. */
void metrics_gauge_add(struct metrics_family *f, size_t series, double delta);

/* metrics_gauge_clear - make gauge series @series absent: not rendered until the next set or
 * add (an unknown value, such as a lag Redis reports as nil). Any thread. */
void metrics_gauge_clear(struct metrics_family *f, size_t series);

/* metrics_gauge_clear_all - metrics_gauge_clear on every series of @f. */
void metrics_gauge_clear_all(struct metrics_family *f);

/* metrics_gauge_get - the value of gauge series @series into *@v; returns 1 when present, 0
 * when absent (or @f is a computed gauge, or out of range). */
int metrics_gauge_get(const struct metrics_family *f, size_t series, double *v);

/* metrics_histogram_observe - record @v in histogram series @series (NaN is ignored). Any
 * thread, lock-free. Under concurrent observations a render may count a value in _count and
 * the buckets before its _sum; _count always equals the +Inf bucket. */
void metrics_histogram_observe(struct metrics_family *f, size_t series, double v);

/* metrics_render - append the text format 0.0.4 exposition of every family of @reg to @out:
 * "# HELP" and "# TYPE" lines, then one line per present series; label values and help text
 * escaped; numbers as integers or shortest round-trip decimals, "NaN", "+Inf", "-Inf".
 * Pure apart from calling computed gauges. Returns 0, or DADNS_ETOOBIG/DADNS_ENOMEM from @out
 * (its content is then partial). */
int metrics_render(const struct metrics *reg, struct buf *out);

#endif
