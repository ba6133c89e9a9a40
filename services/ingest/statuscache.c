/* statuscache.c -- the status page's data, collected at most every few seconds (see
 * statuscache.h). Owns the cache and its mutex; the reads are control.c's, the text statuspage.c's.
 */
#include "statuscache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "statuspage.h"

struct statuscache {
    const struct config *cfg; /* borrowed */
    struct config quick;      /* *cfg with a short Redis timeout (its pointers borrowed) */
    struct spooler *sl;       /* borrowed */
    struct control *ctl;
    pthread_mutex_t mu;        /* guards everything below, and @ctl */
    struct control_status *st; /* last collected; NULL after a failure */
    char error[512];           /* why @st is NULL */
    int64_t collected_ms;      /* monotonic; 0 = never */
    long long collected_at;    /* unix seconds of that attempt */
    long long tombstones;      /* -1 = never counted */
    int64_t tombstones_ms;     /* monotonic time of the count */
    long long tombstones_at;   /* unix seconds of the count */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int statuscache_new(const struct config *cfg, struct spooler *sl, struct statuscache **out)
{
    struct statuscache *sc = calloc(1, sizeof(*sc));
    int rc;

    *out = NULL;
    if (sc == NULL)
        return DADNS_ENOMEM;
    sc->cfg = cfg;
    sc->sl = sl;
    sc->tombstones = -1;
    /* a page must not hang for redis.timeout_ms when Redis is unreachable */
    sc->quick = *cfg;
    if (sc->quick.redis_timeout_ms > STATUSCACHE_REDIS_TIMEOUT_MS)
        sc->quick.redis_timeout_ms = STATUSCACHE_REDIS_TIMEOUT_MS;
    rc = control_new(&sc->quick, "dadns-ingest-status", &sc->ctl);
    if (rc != 0) {
        free(sc);
        return rc;
    }
    pthread_mutex_init(&sc->mu, NULL);
    *out = sc;
    return 0;
}

void statuscache_free(struct statuscache *sc)
{
    if (sc == NULL)
        return;
    control_status_free(sc->st);
    control_free(sc->ctl);
    pthread_mutex_destroy(&sc->mu);
    free(sc);
}

/* refresh - collect a new status when the cached one is too old. Called with @mu held. */
static void refresh(struct statuscache *sc)
{
    struct control_status_opts o = {0, STATUSPAGE_FAILURES};
    struct control_status *st = NULL;
    int64_t now = mono_ms();
    struct err e;

    if (sc->collected_ms != 0 && now - sc->collected_ms < STATUSCACHE_TTL_MS)
        return;
    o.count_tombstones = sc->tombstones < 0 || now - sc->tombstones_ms >= STATUSCACHE_TOMBSTONES_MS;
    err_clear(&e);
    control_status_free(sc->st);
    sc->st = NULL;
    sc->error[0] = '\0';
    if (control_status_collect(sc->ctl, &o, &st, &e) == 0) {
        sc->st = st;
        if (st->zones_tombstones >= 0) {
            sc->tombstones = st->zones_tombstones;
            sc->tombstones_ms = now;
            sc->tombstones_at = (long long)time(NULL);
        }
    } else {
        snprintf(sc->error, sizeof(sc->error), "%s", e.text[0] != '\0' ? e.text : err_str(e.code));
    }
    sc->collected_ms = mono_ms();
    sc->collected_at = (long long)time(NULL);
}

int statuscache_page(struct statuscache *sc, int html, struct buf *out)
{
    struct statuspage_data d;
    char *json = NULL;
    int rc;

    pthread_mutex_lock(&sc->mu);
    refresh(sc);
    memset(&d, 0, sizeof(d));
    d.st = sc->st;
    d.error = sc->error;
    d.now = (long long)time(NULL);
    d.collected_at = sc->collected_at;
    d.tombstones = sc->tombstones;
    d.tombstones_at = sc->tombstones_at;
    d.spool_enabled = sc->cfg->spool_dir[0] != '\0';
    d.spool_records = spooler_pending(sc->sl);
    d.version = DADNS_VERSION;
    d.prefix = sc->cfg->redis_prefix;
    if (html) {
        rc = statuspage_html(&d, out);
    } else {
        rc = statuspage_json(&d, &json);
        if (rc == 0)
            rc = buf_appends(out, json);
        if (rc == 0)
            rc = buf_appends(out, "\n");
        free(json);
    }
    pthread_mutex_unlock(&sc->mu);
    return rc;
}
