/* ingestmetrics.c -- ingest's metrics and admin listener (see ingestmetrics.h). Owns the families
 * and the request classification; serving is admin.c's, counting the HTTP threads' (http.c,
 * api.c), readiness spooler.c's. */
#include "ingestmetrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "redisstats.h"
#include "store.h"

static const char *const endpoints[INGESTMETRICS_ENDPOINTS] = {
    "login_test", "exists", "rawsave", "delete", "probe", "healthz", "readyz", "status", "other"};

static const char *const codes[] = {"200", "400", "401", "404", "405", "413", "503", "other"};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct ingestmetrics {
    struct spooler *sl; /* borrowed */
    struct metrics *reg;
    struct redisstats *rs;
    struct store *st; /* /readyz's Redis connection (admin serializes its callbacks) */
    struct admin *admin;
    struct metrics_family *requests, *pushes, *publish, *spool;
};

/* ---- pure ---- */

/* action_of - the endpoint of DA action @a (@n octets). */
static enum ingestmetrics_endpoint action_of(const char *a, size_t n)
{
    if (n == 6 && memcmp(a, "exists", 6) == 0)
        return INGESTMETRICS_EXISTS;
    if (n == 7 && memcmp(a, "rawsave", 7) == 0)
        return INGESTMETRICS_RAWSAVE;
    if (n == 6 && memcmp(a, "delete", 6) == 0)
        return INGESTMETRICS_DELETE;
    return n == 0 ? INGESTMETRICS_PROBE : INGESTMETRICS_OTHER;
}

/* body_action - the value of "action=" in form body @b (@n octets), raw; NULL when absent. */
static const char *body_action(const char *b, size_t n, size_t *len)
{
    size_t i = 0;

    while (b != NULL && i < n) {
        size_t end = i;

        while (end < n && b[end] != '&')
            end++;
        if (end - i >= 7 && memcmp(b + i, "action=", 7) == 0) {
            *len = end - i - 7;
            return b + i + 7;
        }
        i = end + 1;
    }
    return NULL;
}

enum ingestmetrics_endpoint ingestmetrics_endpoint(const char *path, const char *action,
                                                   const char *body, size_t body_len)
{
    if (strcmp(path, "/CMD_API_LOGIN_TEST") == 0)
        return INGESTMETRICS_LOGIN_TEST;
    if (strcmp(path, "/CMD_API_DNS_ADMIN") == 0) {
        size_t n = 0;
        const char *a = action;

        if (a != NULL)
            n = strlen(a);
        else
            a = body_action(body, body_len, &n);
        return a == NULL ? INGESTMETRICS_PROBE : action_of(a, n);
    }
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0)
        return INGESTMETRICS_HEALTHZ;
    if (strcmp(path, "/readyz") == 0)
        return INGESTMETRICS_READYZ;
    if (strcmp(path, "/status") == 0 || strcmp(path, "/status.html") == 0)
        return INGESTMETRICS_STATUS;
    return INGESTMETRICS_OTHER;
}

enum ingestmetrics_endpoint ingestmetrics_endpoint_of(enum da_action action)
{
    switch (action) {
    case DA_LOGIN_TEST:
        return INGESTMETRICS_LOGIN_TEST;
    case DA_EXISTS:
        return INGESTMETRICS_EXISTS;
    case DA_RAWSAVE:
        return INGESTMETRICS_RAWSAVE;
    case DA_DELETE:
        return INGESTMETRICS_DELETE;
    case DA_NOACTION:
        return INGESTMETRICS_PROBE;
    case DA_HEALTHZ:
        return INGESTMETRICS_HEALTHZ;
    case DA_READYZ:
        return INGESTMETRICS_READYZ;
    }
    return INGESTMETRICS_OTHER;
}

size_t ingestmetrics_code(int status)
{
    char s[16];
    size_t i;

    snprintf(s, sizeof(s), "%d", status);
    for (i = 0; i + 1 < NCODES; i++)
        if (strcmp(codes[i], s) == 0)
            return i;
    return NCODES - 1;
}

/* ---- updates ---- */

void ingestmetrics_request(struct ingestmetrics *im, enum ingestmetrics_endpoint ep, int status)
{
    if (im == NULL || (int)ep < 0 || ep >= INGESTMETRICS_ENDPOINTS)
        return;
    metrics_counter_add(im->requests, (size_t)ep * NCODES + ingestmetrics_code(status), 1);
}

void ingestmetrics_push(struct ingestmetrics *im, enum metrics_push_result result)
{
    if (im != NULL)
        metrics_counter_add(im->pushes, (size_t)result, 1);
}

void ingestmetrics_publish(struct ingestmetrics *im, double seconds)
{
    if (im != NULL)
        metrics_histogram_observe(im->publish, 0, seconds);
}

struct metrics *ingestmetrics_registry(struct ingestmetrics *im)
{
    return im != NULL ? im->reg : NULL;
}

/* ---- the listener ---- */

static void collect(void *ctx)
{
    struct ingestmetrics *im = ctx;
    struct err e;

    redisstats_collect(im->rs, &e); /* a failure shows as dadns_redis_up 0 */
    metrics_gauge_set(im->spool, 0, (double)spooler_pending(im->sl));
}

/* ready - the main port's /readyz verdict (spooler_ready) on the listener's own store. */
static int ready(void *ctx, char *reason, size_t size)
{
    struct ingestmetrics *im = ctx;
    struct buf b;
    int status = 200;

    buf_init(&b, 4096);
    spooler_ready(im->sl, im->st, &b, &status);
    if (status != 200) {
        size_t n = b.len;

        while (n > 0 && b.data[n - 1] == '\n')
            n--;
        snprintf(reason, size, "%.*s", (int)n, b.data != NULL ? b.data : "not ready");
    }
    buf_free(&b);
    return status != 200;
}

static int families(struct ingestmetrics *im, struct err *e)
{
    const struct metrics_label by_request[] = {{"endpoint", endpoints, INGESTMETRICS_ENDPOINTS},
                                               {"code", codes, NCODES}};
    const struct metrics_label by_result[] = {
        {"result", metrics_push_results, METRICS_PUSH_RESULTS}};
    int rc;

    if ((rc = metrics_add_process(im->reg, "ingest", NULL, e)) != 0 ||
        (rc = metrics_counter_new(im->reg, METRICS_HTTP_REQUESTS,
                                  "HTTP requests answered, by endpoint and status code.",
                                  by_request, 2, &im->requests, e)) != 0 ||
        (rc = metrics_counter_new(im->reg, METRICS_INGEST_PUSHES,
                                  "Zone pushes (rawsave) and deletes, by outcome.", by_result, 1,
                                  &im->pushes, e)) != 0 ||
        (rc = metrics_histogram_new(im->reg, METRICS_INGEST_PUBLISH_SECONDS,
                                    "Duration of storing a push in Redis (or the spool), in "
                                    "seconds.",
                                    NULL, 0, metrics_latency_buckets, metrics_latency_buckets_n,
                                    &im->publish, e)) != 0 ||
        (rc = metrics_gauge_new(im->reg, METRICS_INGEST_SPOOL_RECORDS,
                                "Pushes waiting in the spool for Redis.", NULL, 0, &im->spool,
                                e)) != 0)
        return rc;
    return 0;
}

int ingestmetrics_start(const struct config *cfg, struct spooler *sl, struct ingestmetrics **out,
                        struct err *e)
{
    struct ingestmetrics *im = calloc(1, sizeof(*im));
    struct config quick = *cfg; /* read during store_new only */
    struct admin_opts ao;
    int rc;

    *out = NULL;
    if (im == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    im->sl = sl;
    /* a probe must answer within the orchestrator's timeout, whatever redis.timeout_ms says */
    if (quick.redis_timeout_ms > REDISSTATS_TIMEOUT_MS)
        quick.redis_timeout_ms = REDISSTATS_TIMEOUT_MS;
    if (metrics_new(&im->reg) != 0 || store_new(&quick, "dadns-ingest-admin", &im->st) != 0) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = families(im, e)) != 0 ||
        (rc = redisstats_new(cfg, im->reg, "dadns-ingest-stats", NULL, 0, &im->rs, e)) != 0)
        goto fail;
    memset(&ao, 0, sizeof(ao));
    ao.addr = cfg->metrics_addr;
    ao.port = cfg->metrics_port;
    ao.metrics = im->reg;
    ao.collect = collect;
    ao.ready = ready;
    ao.ctx = im;
    if ((rc = admin_start(&ao, &im->admin, e)) != 0)
        goto fail;
    *out = im;
    return 0;
fail:
    ingestmetrics_stop(im);
    return rc;
}

int ingestmetrics_port(const struct ingestmetrics *im)
{
    return im != NULL ? admin_port(im->admin) : 0;
}

void ingestmetrics_stop(struct ingestmetrics *im)
{
    if (im == NULL)
        return;
    admin_stop(im->admin);
    redisstats_free(im->rs);
    store_free(im->st);
    metrics_free(im->reg);
    free(im);
}
