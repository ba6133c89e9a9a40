/* writeradmin.c -- a writer's admin listener and metrics (see writeradmin.h). Owns the writer
 * families and their refresh from struct consumer_stats at scrape time; serving is admin.c's,
 * the Redis gauges redisstats.c's, the counting itself consumer.c's. */
#include "writeradmin.h"

#include <float.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "metrics.h"
#include "redisstats.h"

#define NB CONSUMER_LATENCY_NBUCKETS

struct writeradmin {
    const struct consumer_stats *stats; /* borrowed */
    char backend[128];
    struct metrics *reg;
    struct redisstats *rs;
    struct admin *admin;
    struct metrics_family *changes, *apply, *breaker, *last_apply, *reconnects;
    atomic_int serving; /* writeradmin_serving was called */
    /* what the registry already holds of the consumer's histogram (collect is serialized) */
    uint64_t seen[NB + 1];    /* observations per bucket (not cumulative), +Inf last */
    double seen_sum;          /* sum of the values observed so far, seconds */
    uint64_t seen_reconnects; /* consumer reconnects already added */
};

/* above - the smallest value the bucket after bound @x (> 0) holds, near enough. */
static double above(double x)
{
    return x * (1 + 2 * DBL_EPSILON);
}

void writeradmin_spread(const double *bounds, size_t n, const uint64_t *delta, double sum,
                        double *values)
{
    double smin = 0, smax = 0, inf_lo, rest = sum, t;
    size_t i;

    /* the finite buckets' reachable range: each value in (lower bound, upper bound] */
    for (i = 0; i <= n; i++)
        values[i] = 0;
    for (i = 0; i < n; i++) {
        double lo = i == 0 ? 0 : above(bounds[i - 1]);

        smin += (double)delta[i] * lo;
        smax += (double)delta[i] * bounds[i];
    }
    if (delta[n] > 0) {
        /* +Inf takes what the finite buckets cannot, at least just above the last bound */
        inf_lo = n > 0 ? above(bounds[n - 1]) : 0;
        values[n] = (sum - smax) / (double)delta[n];
        if (!(values[n] >= inf_lo))
            values[n] = inf_lo;
        rest = sum - values[n] * (double)delta[n];
    }
    t = smax > smin ? (rest - smin) / (smax - smin) : 1;
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    for (i = 0; i < n; i++) {
        double lo = i == 0 ? 0 : above(bounds[i - 1]);
        double v = lo + t * (bounds[i] - lo);

        if (delta[i] == 0)
            continue;
        values[i] = v < lo ? lo : v > bounds[i] ? bounds[i] : v;
    }
}

static unsigned long long get(const atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* counter_to - raise counter series @series of @f to @v (counters never go down). */
static void counter_to(struct metrics_family *f, size_t series, unsigned long long v)
{
    uint64_t have = metrics_counter_get(f, series);

    if (v > have)
        metrics_counter_add(f, series, v - have);
}

/* sync_histogram - replay what the consumer's latency histogram gained since the last scrape. */
static void sync_histogram(struct writeradmin *wa)
{
    const struct consumer_stats *s = wa->stats;
    uint64_t nc[NB + 1], delta[NB + 1], cum_prev = 0, total = 0;
    double values[NB + 1], sum_s;
    size_t i;
    uint64_t k;

    /* the sum first: an observation counted in a bucket is then always in the sum too */
    sum_s = (double)get(&s->apply_sum_us) / 1e6;
    for (i = 0; i < NB; i++) {
        uint64_t cum = get(&s->apply_buckets[i]);

        nc[i] = cum > cum_prev ? cum - cum_prev : 0;
        cum_prev = cum > cum_prev ? cum : cum_prev;
    }
    k = get(&s->apply_count);
    nc[NB] = k > cum_prev ? k - cum_prev : 0;
    for (i = 0; i <= NB; i++) {
        delta[i] = nc[i] > wa->seen[i] ? nc[i] - wa->seen[i] : 0;
        total += delta[i];
    }
    if (total == 0)
        return;
    writeradmin_spread(consumer_latency_bounds_s, NB, delta, sum_s - wa->seen_sum, values);
    for (i = 0; i <= NB; i++) {
        for (k = 0; k < delta[i]; k++)
            metrics_histogram_observe(wa->apply, 0, values[i]);
        wa->seen[i] += delta[i];
        wa->seen_sum += values[i] * (double)delta[i];
    }
}

static void collect(void *ctx)
{
    struct writeradmin *wa = ctx;
    const struct consumer_stats *s = wa->stats;
    unsigned long long repaired, verified, rec;
    long long last;
    struct err e;

    redisstats_collect(wa->rs, &e); /* failures show as dadns_redis_up 0 */
    repaired = get(&s->repaired);   /* before verified: verified counts it first */
    verified = get(&s->verified);
    counter_to(wa->changes, METRICS_WRITER_APPLIED, get(&s->applied));
    counter_to(wa->changes, METRICS_WRITER_STALE, get(&s->stale));
    counter_to(wa->changes, METRICS_WRITER_RETRY, get(&s->failed));
    counter_to(wa->changes, METRICS_WRITER_DEAD, get(&s->dead));
    counter_to(wa->changes, METRICS_WRITER_SKIPPED, get(&s->skipped));
    counter_to(wa->changes, METRICS_WRITER_VERIFIED, verified > repaired ? verified - repaired : 0);
    counter_to(wa->changes, METRICS_WRITER_REPAIRED, repaired);
    sync_histogram(wa);
    metrics_gauge_set(wa->breaker, 0,
                      atomic_load_explicit(&s->breaker_open, memory_order_relaxed) ? 1 : 0);
    last = atomic_load_explicit(&s->last_apply_unix, memory_order_relaxed);
    if (last > 0)
        metrics_gauge_set(wa->last_apply, 0, (double)last);
    rec = get(&s->reconnects);
    if (rec > wa->seen_reconnects) {
        metrics_counter_add(wa->reconnects, 0, rec - wa->seen_reconnects);
        wa->seen_reconnects = rec;
    }
}

static int ready(void *ctx, char *reason, size_t size)
{
    struct writeradmin *wa = ctx;
    struct err e;

    if (!atomic_load(&wa->serving)) {
        snprintf(reason, size, "not ready: backend %s not open yet", wa->backend);
        return 1;
    }
    err_clear(&e);
    if (redisstats_ping(wa->rs, &e) != 0) {
        snprintf(reason, size, "not ready: redis: %s", e.text);
        return 1;
    }
    if (atomic_load_explicit(&wa->stats->breaker_open, memory_order_relaxed)) {
        snprintf(reason, size, "not ready: backend %s: circuit breaker open", wa->backend);
        return 1;
    }
    return 0;
}

/* families - register the writer's families in wa->reg. */
static int families(struct writeradmin *wa, const char *service, struct err *e)
{
    const char *be = wa->backend;
    const struct metrics_label by_result[] = {
        {"backend", &be, 1}, {"result", metrics_writer_results, METRICS_WRITER_RESULTS}};
    const struct metrics_label by_backend[] = {{"backend", &be, 1}};
    int rc;

    if ((rc = metrics_add_process(wa->reg, service, NULL, e)) != 0)
        return rc;
    if ((rc = metrics_counter_new(wa->reg, METRICS_WRITER_CHANGES,
                                  "Changes the writer handled, by result.", by_result, 2,
                                  &wa->changes, e)) != 0)
        return rc;
    if ((rc = metrics_histogram_new(wa->reg, METRICS_WRITER_APPLY_SECONDS,
                                    "Duration of the backend apply calls (one per batch), "
                                    "in seconds.",
                                    by_backend, 1, consumer_latency_bounds_s, NB, &wa->apply, e)) !=
        0)
        return rc;
    if ((rc = metrics_gauge_new(wa->reg, METRICS_WRITER_BREAKER_OPEN,
                                "1 while the backend's circuit breaker is open.", by_backend, 1,
                                &wa->breaker, e)) != 0)
        return rc;
    if ((rc = metrics_gauge_new(wa->reg, METRICS_WRITER_LAST_APPLY,
                                "Time of the last batch that applied a change, unix seconds.",
                                by_backend, 1, &wa->last_apply, e)) != 0)
        return rc;
    metrics_gauge_clear(wa->last_apply, 0);
    return 0;
}

int writeradmin_start(const struct config *cfg, const struct backend_conf *bc, const char *service,
                      const struct consumer_stats *stats, struct writeradmin **out, struct err *e)
{
    struct writeradmin *wa;
    struct admin_opts ao;
    char client[192];
    int rc;

    *out = NULL;
    wa = calloc(1, sizeof(*wa));
    if (wa == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    wa->stats = stats;
    atomic_init(&wa->serving, 0);
    snprintf(wa->backend, sizeof(wa->backend), "%s", bc->name);
    if (metrics_new(&wa->reg) != 0) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = families(wa, service, e)) != 0)
        goto fail;
    snprintf(client, sizeof(client), "dadns-%s-%s-stats", service, bc->name);
    if ((rc = redisstats_new(cfg, wa->reg, client, NULL, 0, &wa->rs, e)) != 0)
        goto fail;
    wa->reconnects = metrics_find(wa->reg, METRICS_REDIS_RECONNECTS);
    memset(&ao, 0, sizeof(ao));
    ao.addr = cfg->metrics_addr;
    ao.port = cfg->metrics_port;
    ao.metrics = wa->reg;
    ao.collect = collect;
    ao.ready = ready;
    ao.ctx = wa;
    if ((rc = admin_start(&ao, &wa->admin, e)) != 0)
        goto fail;
    *out = wa;
    return 0;
fail:
    writeradmin_stop(wa);
    return rc;
}

void writeradmin_serving(struct writeradmin *wa)
{
    if (wa != NULL)
        atomic_store(&wa->serving, 1);
}

int writeradmin_port(const struct writeradmin *wa)
{
    return wa != NULL ? admin_port(wa->admin) : 0;
}

void writeradmin_stop(struct writeradmin *wa)
{
    if (wa == NULL)
        return;
    admin_stop(wa->admin);
    redisstats_free(wa->rs);
    metrics_free(wa->reg);
    free(wa);
}
