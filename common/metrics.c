/* metrics.c -- the metrics registry and its Prometheus text rendering (see metrics.h).
 * Owns the families, their atomic cells and the exposition format; no I/O: serving the text is
 * admin.c, and what to count is left to the services. */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef DADNS_VERSION
#define DADNS_VERSION "unknown"
#endif

/* A gauge cell holding this bit pattern (a NaN payload no arithmetic produces, since every
 * NaN stored is first made the canonical one) is absent. */
#define ABSENT_BITS UINT64_C(0x7ff0dead0000beef)
#define NAN_BITS    UINT64_C(0x7ff8000000000000)

const double metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10,   60};
const size_t metrics_latency_buckets_n =
    sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

const char *const metrics_writer_results[METRICS_WRITER_RESULTS] = {
    "applied", "stale", "retry", "dead", "skipped", "verified", "repaired"};
const char *const metrics_push_results[METRICS_PUSH_RESULTS] = {"accepted", "rejected", "spooled",
                                                                "error"};

enum family_kind {
    KIND_COUNTER = 1,
    KIND_GAUGE,
    KIND_GAUGE_FN,
    KIND_HISTOGRAM,
};

struct label {
    char *name;    /* owned */
    char **values; /* @n owned strings */
    size_t n;
};

struct metrics_family {
    char *name; /* owned */
    char *help; /* owned */
    enum family_kind kind;
    struct label labels[METRICS_MAX_LABELS];
    size_t nlabels;
    size_t nseries;          /* product of the labels' value counts (1 without labels) */
    double *bounds;          /* histogram: @nbounds upper bounds, owned; NULL otherwise */
    size_t nbounds;          /* histogram bucket bounds, +Inf not included */
    size_t stride;           /* cells per series: 1, or nbounds + 2 for a histogram */
    _Atomic uint64_t *cells; /* nseries * stride cells, owned. Counter: the count. Gauge: the
                                double's bits or ABSENT_BITS. Histogram: nbounds + 1 bucket
                                counts (not cumulative, +Inf last), then the sum's bits. */
    metrics_gauge_fn fn;     /* computed gauge */
    void *fn_ctx;            /* borrowed */
};

struct metrics {
    struct metrics_family **fams; /* registration order, owned */
    size_t n;
    size_t cap;
};

/* ---- doubles in atomic cells ---- */

static uint64_t dbits(double v)
{
    uint64_t u;

    if (isnan(v))
        return NAN_BITS;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static double bitsd(uint64_t u)
{
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

/* cell_add_double - atomically add @d to the double in @cell (absent counts as 0). */
static void cell_add_double(_Atomic uint64_t *cell, double d)
{
    uint64_t old = atomic_load_explicit(cell, memory_order_relaxed), nv;

    do {
        double cur = old == ABSENT_BITS ? 0.0 : bitsd(old);

        nv = dbits(cur + d);
    } while (!atomic_compare_exchange_weak_explicit(cell, &old, nv, memory_order_relaxed,
                                                    memory_order_relaxed));
}

/* ---- registration ---- */

int metrics_new(struct metrics **out)
{
    struct metrics *reg = calloc(1, sizeof(*reg));

    if (reg == NULL)
        return DADNS_ENOMEM;
    *out = reg;
    return 0;
}

static void family_free(struct metrics_family *f)
{
    size_t i, j;

    if (f == NULL)
        return;
    for (i = 0; i < f->nlabels; i++) {
        for (j = 0; f->labels[i].values != NULL && j < f->labels[i].n; j++)
            free(f->labels[i].values[j]);
        free(f->labels[i].values);
        free(f->labels[i].name);
    }
    free(f->name);
    free(f->help);
    free(f->bounds);
    free((void *)f->cells);
    free(f);
}

void metrics_free(struct metrics *reg)
{
    size_t i;

    if (reg == NULL)
        return;
    for (i = 0; i < reg->n; i++)
        family_free(reg->fams[i]);
    free(reg->fams);
    free(reg);
}

static bool name_char(char c, bool first, bool colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        return true;
    if (colon && c == ':')
        return true;
    return !first && c >= '0' && c <= '9';
}

/* valid_name - @s matches [a-zA-Z_(:)][a-zA-Z0-9_(:)]* (colons only when @colon). */
static bool valid_name(const char *s, bool colon)
{
    size_t i;

    if (s == NULL || s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++)
        if (!name_char(s[i], i == 0, colon))
            return false;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* check_family - validate what a registration declares; 0 or DADNS_EINVAL with @e set. */
static int check_family(const struct metrics *reg, enum family_kind kind, const char *name,
                        const struct metrics_label *labels, size_t nlabels, const double *bounds,
                        size_t nbounds, size_t *nseries, struct err *e)
{
    size_t i, j, k, total = 1;

    if (reg == NULL)
        return err_set(e, DADNS_EINVAL, "metric %s: no registry", name != NULL ? name : "(null)");
    if (!valid_name(name, true) || strncmp(name, "dadns_", 6) != 0)
        return err_set(e, DADNS_EINVAL, "metric name \"%s\": want dadns_[a-zA-Z0-9_:]*",
                       name != NULL ? name : "(null)");
    if (kind == KIND_COUNTER && !ends_with(name, "_total"))
        return err_set(e, DADNS_EINVAL, "counter %s: the name must end in _total", name);
    if (metrics_find(reg, name) != NULL)
        return err_set(e, DADNS_EINVAL, "metric %s registered twice", name);
    if (nlabels > METRICS_MAX_LABELS || (nlabels > 0 && labels == NULL))
        return err_set(e, DADNS_EINVAL, "metric %s: at most %d labels", name, METRICS_MAX_LABELS);
    for (i = 0; i < nlabels; i++) {
        const struct metrics_label *l = &labels[i];

        if (!valid_name(l->name, false) || strncmp(l->name, "__", 2) == 0)
            return err_set(e, DADNS_EINVAL, "metric %s: bad label name \"%s\"", name,
                           l->name != NULL ? l->name : "(null)");
        if (kind == KIND_HISTOGRAM && strcmp(l->name, "le") == 0)
            return err_set(e, DADNS_EINVAL, "histogram %s: label \"le\" is reserved", name);
        for (k = 0; k < i; k++)
            if (strcmp(labels[k].name, l->name) == 0)
                return err_set(e, DADNS_EINVAL, "metric %s: label %s declared twice", name,
                               l->name);
        if (l->n == 0 || l->values == NULL)
            return err_set(e, DADNS_EINVAL, "metric %s: label %s has no values", name, l->name);
        for (j = 0; j < l->n; j++) {
            if (l->values[j] == NULL)
                return err_set(e, DADNS_EINVAL, "metric %s: label %s: NULL value", name, l->name);
            for (k = 0; k < j; k++)
                if (strcmp(l->values[k], l->values[j]) == 0)
                    return err_set(e, DADNS_EINVAL, "metric %s: label %s: value \"%s\" twice", name,
                                   l->name, l->values[j]);
        }
        if (l->n > METRICS_MAX_SERIES / total)
            return err_set(e, DADNS_EINVAL, "metric %s: more than %d series", name,
                           METRICS_MAX_SERIES);
        total *= l->n;
    }
    if (kind == KIND_HISTOGRAM) {
        if (nbounds == 0 || nbounds > METRICS_MAX_BUCKETS || bounds == NULL)
            return err_set(e, DADNS_EINVAL, "histogram %s: 1-%d bucket bounds", name,
                           METRICS_MAX_BUCKETS);
        for (i = 0; i < nbounds; i++)
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
                return err_set(e, DADNS_EINVAL,
                               "histogram %s: bounds must be finite and strictly increasing", name);
    }
    *nseries = total;
    return 0;
}

static int family_new(struct metrics *reg, enum family_kind kind, const char *name,
                      const char *help, const struct metrics_label *labels, size_t nlabels,
                      const double *bounds, size_t nbounds, metrics_gauge_fn fn, void *fn_ctx,
                      struct metrics_family **out, struct err *e)
{
    struct metrics_family *f = NULL;
    size_t nseries = 0, i, j, ncells;
    int rc;

    rc = check_family(reg, kind, name, labels, nlabels, bounds, nbounds, &nseries, e);
    if (rc != 0)
        return rc;
    if (reg->n == reg->cap) {
        size_t ncap = reg->cap ? reg->cap * 2 : 16;
        struct metrics_family **p = realloc(reg->fams, ncap * sizeof(struct metrics_family *));

        if (p == NULL)
            goto nomem;
        reg->fams = p;
        reg->cap = ncap;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        goto nomem;
    f->kind = kind;
    f->name = strdup(name);
    f->help = strdup(help != NULL ? help : "");
    if (f->name == NULL || f->help == NULL)
        goto nomem;
    for (i = 0; i < nlabels; i++) {
        struct label *l = &f->labels[i];

        f->nlabels = i + 1;
        l->name = strdup(labels[i].name);
        l->values = calloc(labels[i].n, sizeof(*l->values));
        if (l->name == NULL || l->values == NULL)
            goto nomem;
        l->n = labels[i].n;
        for (j = 0; j < l->n; j++) {
            l->values[j] = strdup(labels[i].values[j]);
            if (l->values[j] == NULL)
                goto nomem;
        }
    }
    f->nseries = nseries;
    f->stride = 1;
    if (kind == KIND_HISTOGRAM) {
        f->bounds = malloc(nbounds * sizeof(*f->bounds));
        if (f->bounds == NULL)
            goto nomem;
        memcpy(f->bounds, bounds, nbounds * sizeof(*f->bounds));
        f->nbounds = nbounds;
        f->stride = nbounds + 2;
    }
    f->fn = fn;
    f->fn_ctx = fn_ctx;
    if (kind != KIND_GAUGE_FN) {
        ncells = nseries * f->stride; /* >= 1: check_family saw at least one series */
        f->cells = calloc(ncells > 0 ? ncells : 1, sizeof(*f->cells));
        if (f->cells == NULL)
            goto nomem;
        for (i = 0; i < ncells; i++)
            atomic_init(&f->cells[i], 0); /* 0 = count 0 = the double +0.0 */
    }
    reg->fams[reg->n++] = f;
    if (out != NULL)
        *out = f;
    return 0;
nomem:
    family_free(f);
    return err_set(e, DADNS_ENOMEM, "metric %s: out of memory", name);
}

int metrics_counter_new(struct metrics *reg, const char *name, const char *help,
                        const struct metrics_label *labels, size_t nlabels,
                        struct metrics_family **out, struct err *e)
{
    return family_new(reg, KIND_COUNTER, name, help, labels, nlabels, NULL, 0, NULL, NULL, out, e);
}

int metrics_gauge_new(struct metrics *reg, const char *name, const char *help,
                      const struct metrics_label *labels, size_t nlabels,
                      struct metrics_family **out, struct err *e)
{
    return family_new(reg, KIND_GAUGE, name, help, labels, nlabels, NULL, 0, NULL, NULL, out, e);
}

int metrics_gauge_fn_new(struct metrics *reg, const char *name, const char *help,
                         const struct metrics_label *labels, size_t nlabels, metrics_gauge_fn fn,
                         void *ctx, struct metrics_family **out, struct err *e)
{
    if (fn == NULL)
        return err_set(e, DADNS_EINVAL, "gauge %s: no function", name != NULL ? name : "(null)");
    return family_new(reg, KIND_GAUGE_FN, name, help, labels, nlabels, NULL, 0, fn, ctx, out, e);
}

int metrics_histogram_new(struct metrics *reg, const char *name, const char *help,
                          const struct metrics_label *labels, size_t nlabels, const double *bounds,
                          size_t nbounds, struct metrics_family **out, struct err *e)
{
    return family_new(reg, KIND_HISTOGRAM, name, help, labels, nlabels, bounds, nbounds, NULL, NULL,
                      out, e);
}

int metrics_add_process(struct metrics *reg, const char *service, const char *version,
                        struct err *e)
{
    const char *ver = version != NULL ? version : DADNS_VERSION;
    const char *svc = service != NULL ? service : "dadns";
    const struct metrics_label labels[] = {{"version", &ver, 1}, {"service", &svc, 1}};
    struct metrics_family *info = NULL, *start = NULL;
    struct timespec now;
    int64_t ms;
    int rc;

    rc = metrics_gauge_new(reg, METRICS_BUILD_INFO, "Build information; the value is always 1.",
                           labels, 2, &info, e);
    if (rc != 0)
        return rc;
    rc = metrics_gauge_new(reg, METRICS_PROCESS_START,
                           "Start time of the process since the unix epoch, in seconds.", NULL, 0,
                           &start, e);
    if (rc != 0)
        return rc;
    clock_gettime(CLOCK_REALTIME, &now);
    ms = (int64_t)now.tv_sec * 1000 + (int64_t)(now.tv_nsec / 1000000); /* whole milliseconds */
    metrics_gauge_set(info, 0, 1);
    metrics_gauge_set(start, 0, (double)ms / 1000.0);
    return 0;
}

struct metrics_family *metrics_find(const struct metrics *reg, const char *name)
{
    size_t i;

    if (reg == NULL || name == NULL)
        return NULL;
    for (i = 0; i < reg->n; i++)
        if (strcmp(reg->fams[i]->name, name) == 0)
            return reg->fams[i];
    return NULL;
}

int metrics_series(const struct metrics_family *f, const char *const *values, size_t *index)
{
    size_t i, j, idx = 0;

    if (f == NULL)
        return DADNS_ENOTFOUND;
    for (i = 0; i < f->nlabels; i++) {
        const struct label *l = &f->labels[i];

        if (values == NULL || values[i] == NULL)
            return DADNS_ENOTFOUND;
        for (j = 0; j < l->n; j++)
            if (strcmp(l->values[j], values[i]) == 0)
                break;
        if (j == l->n)
            return DADNS_ENOTFOUND;
        idx = idx * l->n + j;
    }
    *index = idx;
    return 0;
}

/* ---- updates ---- */

void metrics_counter_add(struct metrics_family *f, size_t series, uint64_t n)
{
    if (f == NULL || f->kind != KIND_COUNTER || series >= f->nseries)
        return;
    atomic_fetch_add_explicit(&f->cells[series], n, memory_order_relaxed);
}

uint64_t metrics_counter_get(const struct metrics_family *f, size_t series)
{
    if (f == NULL || f->kind != KIND_COUNTER || series >= f->nseries)
        return 0;
    return atomic_load_explicit(&f->cells[series], memory_order_relaxed);
}

void metrics_gauge_set(struct metrics_family *f, size_t series, double v)
{
    if (f == NULL || f->kind != KIND_GAUGE || series >= f->nseries)
        return;
    atomic_store_explicit(&f->cells[series], dbits(v), memory_order_relaxed);
}

void metrics_gauge_add(struct metrics_family *f, size_t series, double delta)
{
    if (f == NULL || f->kind != KIND_GAUGE || series >= f->nseries)
        return;
    cell_add_double(&f->cells[series], delta);
}

void metrics_gauge_clear(struct metrics_family *f, size_t series)
{
    if (f == NULL || f->kind != KIND_GAUGE || series >= f->nseries)
        return;
    atomic_store_explicit(&f->cells[series], ABSENT_BITS, memory_order_relaxed);
}

void metrics_gauge_clear_all(struct metrics_family *f)
{
    size_t i;

    for (i = 0; f != NULL && i < f->nseries; i++)
        metrics_gauge_clear(f, i);
}

int metrics_gauge_get(const struct metrics_family *f, size_t series, double *v)
{
    uint64_t u;

    if (f == NULL || f->kind != KIND_GAUGE || series >= f->nseries)
        return 0;
    u = atomic_load_explicit(&f->cells[series], memory_order_relaxed);
    if (u == ABSENT_BITS)
        return 0;
    *v = bitsd(u);
    return 1;
}

void metrics_histogram_observe(struct metrics_family *f, size_t series, double v)
{
    _Atomic uint64_t *c;
    size_t lo, hi;

    if (f == NULL || f->kind != KIND_HISTOGRAM || series >= f->nseries || isnan(v))
        return;
    c = &f->cells[series * f->stride];
    /* first bound >= v (le is inclusive); nbounds = +Inf */
    lo = 0;
    hi = f->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v <= f->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&c[lo], 1, memory_order_relaxed);
    cell_add_double(&c[f->nbounds + 1], v);
}

/* ---- rendering ---- */

/* fmt_double - @v as the text format writes a float: "NaN", "+Inf", "-Inf", or the shortest
 * of %.15g / %.17g that reads back as @v (integers print without a fraction). */
static void fmt_double(double v, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
    } else if (isinf(v)) {
        snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(out, size, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, size, "%.17g", v);
    }
}

/* put_escaped - append @s with '\\' and newline escaped, and '"' too when @quote. */
static int put_escaped(struct buf *out, const char *s, bool quote)
{
    size_t run = 0;
    int rc = 0;

    for (; rc == 0 && *s != '\0'; s++) {
        const char *esc = NULL;

        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '\n')
            esc = "\\n";
        else if (quote && *s == '"')
            esc = "\\\"";
        if (esc == NULL) {
            run++;
            continue;
        }
        rc = buf_append(out, s - run, run);
        if (rc == 0)
            rc = buf_appends(out, esc);
        run = 0;
    }
    if (rc == 0)
        rc = buf_append(out, s - run, run);
    return rc;
}

/* put_labels - append "{a=\"x\",b=\"y\"}" for @series of @f, with le="@le" last when @le is
 * not NULL; nothing when there is no label at all. */
static int put_labels(struct buf *out, const struct metrics_family *f, size_t series,
                      const char *le)
{
    size_t idx[METRICS_MAX_LABELS], i;
    int rc = 0;

    if (f->nlabels == 0 && le == NULL)
        return 0;
    for (i = f->nlabels; i > 0; i--) {
        idx[i - 1] = series % f->labels[i - 1].n;
        series /= f->labels[i - 1].n;
    }
    rc = buf_append(out, "{", 1);
    for (i = 0; rc == 0 && i < f->nlabels; i++) {
        rc = buf_printf(out, "%s%s=\"", i > 0 ? "," : "", f->labels[i].name);
        if (rc == 0)
            rc = put_escaped(out, f->labels[i].values[idx[i]], true);
        if (rc == 0)
            rc = buf_append(out, "\"", 1);
    }
    if (rc == 0 && le != NULL)
        rc = buf_printf(out, "%sle=\"%s\"", f->nlabels > 0 ? "," : "", le);
    if (rc == 0)
        rc = buf_append(out, "}", 1);
    return rc;
}

/* put_sample - "<name><suffix><labels> <value>\n". */
static int put_sample(struct buf *out, const struct metrics_family *f, const char *suffix,
                      size_t series, const char *le, const char *value)
{
    int rc = buf_printf(out, "%s%s", f->name, suffix);

    if (rc == 0)
        rc = put_labels(out, f, series, le);
    if (rc == 0)
        rc = buf_printf(out, " %s\n", value);
    return rc;
}

static int render_histogram(struct buf *out, const struct metrics_family *f, size_t series)
{
    const _Atomic uint64_t *c = &f->cells[series * f->stride];
    uint64_t cum = 0;
    char le[40], val[40];
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i <= f->nbounds; i++) {
        cum += atomic_load_explicit(&c[i], memory_order_relaxed);
        if (i < f->nbounds)
            fmt_double(f->bounds[i], le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        snprintf(val, sizeof(val), "%" PRIu64, cum);
        rc = put_sample(out, f, "_bucket", series, le, val);
    }
    if (rc == 0) {
        fmt_double(bitsd(atomic_load_explicit(&c[f->nbounds + 1], memory_order_relaxed)), val,
                   sizeof(val));
        rc = put_sample(out, f, "_sum", series, NULL, val);
    }
    if (rc == 0) {
        snprintf(val, sizeof(val), "%" PRIu64, cum);
        rc = put_sample(out, f, "_count", series, NULL, val);
    }
    return rc;
}

static const char *type_name(enum family_kind k)
{
    switch (k) {
    case KIND_COUNTER:
        return "counter";
    case KIND_HISTOGRAM:
        return "histogram";
    default:
        return "gauge";
    }
}

static int render_family(struct buf *out, const struct metrics_family *f)
{
    char val[40];
    size_t s;
    int rc;

    rc = buf_printf(out, "# HELP %s ", f->name);
    if (rc == 0)
        rc = put_escaped(out, f->help, false);
    if (rc == 0)
        rc = buf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->kind));
    for (s = 0; rc == 0 && s < f->nseries; s++) {
        double v = 0;
        uint64_t u;

        switch (f->kind) {
        case KIND_COUNTER:
            snprintf(val, sizeof(val), "%" PRIu64,
                     atomic_load_explicit(&f->cells[s], memory_order_relaxed));
            rc = put_sample(out, f, "", s, NULL, val);
            break;
        case KIND_GAUGE:
            u = atomic_load_explicit(&f->cells[s], memory_order_relaxed);
            if (u == ABSENT_BITS)
                break;
            fmt_double(bitsd(u), val, sizeof(val));
            rc = put_sample(out, f, "", s, NULL, val);
            break;
        case KIND_GAUGE_FN:
            if (!f->fn(f->fn_ctx, s, &v))
                break;
            fmt_double(v, val, sizeof(val));
            rc = put_sample(out, f, "", s, NULL, val);
            break;
        case KIND_HISTOGRAM:
            rc = render_histogram(out, f, s);
            break;
        }
    }
    return rc;
}

int metrics_render(const struct metrics *reg, struct buf *out)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && reg != NULL && i < reg->n; i++)
        rc = render_family(out, reg->fams[i]);
    return rc;
}
