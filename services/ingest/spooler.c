/* spooler.c -- routing writes to Redis or the spool, and the replay thread (see spooler.h). */
#include "spooler.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "spool.h"
#include "spoolrec.h"

#define REPLAY_BATCH_RECORDS 256
#define REPLAY_BATCH_BYTES   (8u << 20)
#define BACKOFF_FIRST_MS     1000
#define BACKOFF_MAX_MS       5000

struct spooler {
    const struct config *cfg;
    struct spool *sp;    /* NULL with the spool off */
    struct store *store; /* the replay thread's own */
    pthread_mutex_t mu;  /* guards sp and every field below */
    pthread_cond_t cv;   /* new records, or stop (monotonic clock) */
    pthread_t thread;
    int thread_started;
    atomic_int stop;  /* set (under mu, with a broadcast) by spooler_free */
    int stuck_logged; /* the stuck reason was logged */
};

static uint64_t now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* Redis cannot take the write right now (as opposed to refusing it). */
static int redis_unavailable(int rc, const struct err *e)
{
    static const char *const transient[] = {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
                                            "CLUSTERDOWN"};
    const char *p = "Redis error: ";
    size_t i;

    if (rc == DADNS_EREDIS)
        return 1;
    if (rc != DADNS_EREPLY || strncmp(e->text, p, strlen(p)) != 0)
        return 0;
    for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        if (strncmp(e->text + strlen(p), transient[i], strlen(transient[i])) == 0)
            return 1;
    }
    return 0;
}

static void log_stuck(struct spooler *sl)
{
    const char *why = spool_stuck(sl->sp);

    if (why != NULL && !sl->stuck_logged) {
        sl->stuck_logged = 1;
        log_msg(LOG_ERROR, "spool replay stopped", "reason", why, NULL);
    }
}

/* Append @r with the lock held. @reason: why it is spooled (a Redis error), or NULL when it
 * follows records already waiting. */
static int append_locked(struct spooler *sl, const struct spoolrec *r, const char *reason,
                         struct err *e)
{
    struct err ae;
    int rc;

    err_clear(&ae);
    rc = spool_append(sl->sp, r, &ae);
    if (rc != 0) {
        if (reason != NULL)
            err_set(e, rc, "%s; the spool refused the change too: %s", reason, ae.text);
        else
            err_set(e, rc, "the spool refused the change: %s", ae.text);
        log_msg(LOG_ERROR, "change not spooled", "zone", r->zones[0], "reason", e->text, NULL);
        return rc;
    }
    if (spool_pending(sl->sp) == 1) {
        log_msg(LOG_WARN, "spooling started", "reason", reason ? reason : "records waiting",
                "spool", spool_path(sl->sp), NULL);
    }
    pthread_cond_signal(&sl->cv);
    return 0;
}

/* The routing both writes share. @direct runs the store call; @r is the same write as a
 * record. */
typedef int (*direct_fn)(void *ctx, struct err *e);

static int route(struct spooler *sl, const struct spoolrec *r, direct_fn direct, void *ctx,
                 int *spooled, struct err *e)
{
    struct err de;
    int rc;

    *spooled = 0;
    if (sl->sp != NULL) {
        pthread_mutex_lock(&sl->mu);
        if (spool_stuck(sl->sp) != NULL) {
            rc = err_set(e, DADNS_EIO, "spool stuck: %s", spool_stuck(sl->sp));
            pthread_mutex_unlock(&sl->mu);
            return rc;
        }
        if (spool_pending(sl->sp) > 0) {
            /* Older changes wait in the spool: this one must not overtake them. */
            rc = append_locked(sl, r, NULL, e);
            pthread_mutex_unlock(&sl->mu);
            *spooled = rc == 0;
            return rc;
        }
        pthread_mutex_unlock(&sl->mu);
    }
    err_clear(&de);
    rc = direct(ctx, &de);
    if (rc == 0)
        return 0;
    if (sl->sp == NULL || !redis_unavailable(rc, &de)) {
        *e = de;
        return rc;
    }
    pthread_mutex_lock(&sl->mu);
    rc = append_locked(sl, r, de.text, e);
    pthread_mutex_unlock(&sl->mu);
    *spooled = rc == 0;
    return rc;
}

struct save_ctx {
    struct store *st;
    const struct spoolrec *r;
    struct store_save_result *res;
};

static int direct_save(void *ctx, struct err *e)
{
    struct save_ctx *c = ctx;

    return store_save(c->st, c->r->zones[0], c->r->text, c->r->text_len, c->r->serial, c->r->host,
                      c->r->user, c->res, e);
}

int spooler_save(struct spooler *sl, struct store *st, const char *zone, const char *text,
                 size_t len, uint32_t serial, const char *host, const char *user,
                 struct store_save_result *res, int *spooled, struct err *e)
{
    const char *zones[1] = {zone};
    struct spoolrec r;
    struct save_ctx c;

    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_SAVE;
    r.serial = serial;
    r.accepted_ms = now_ms();
    r.host = host;
    r.user = user;
    r.zones = zones;
    r.nzones = 1;
    r.text = text;
    r.text_len = len;
    c.st = st;
    c.r = &r;
    c.res = res;
    return route(sl, &r, direct_save, &c, spooled, e);
}

struct delete_ctx {
    struct store *st;
    const struct spoolrec *r;
    struct store_del_result *res;
};

static int direct_delete(void *ctx, struct err *e)
{
    struct delete_ctx *c = ctx;

    return store_delete(c->st, c->r->zones, c->r->nzones, c->r->host, c->r->user, c->res, e);
}

int spooler_delete(struct spooler *sl, struct store *st, const char *const *zones, size_t n,
                   const char *host, const char *user, struct store_del_result *res, int *spooled,
                   struct err *e)
{
    struct spoolrec r;
    struct delete_ctx c;

    memset(&r, 0, sizeof(r));
    r.op = SPOOLREC_DELETE;
    r.accepted_ms = now_ms();
    r.host = host;
    r.user = user;
    r.zones = zones;
    r.nzones = n;
    c.st = st;
    c.r = &r;
    c.res = res;
    return route(sl, &r, direct_delete, &c, spooled, e);
}

int spooler_busy(struct spooler *sl, char *why, size_t size)
{
    int busy = 0;

    if (sl->sp == NULL)
        return 0;
    pthread_mutex_lock(&sl->mu);
    if (spool_stuck(sl->sp) != NULL) {
        snprintf(why, size, "the spool is stuck and holds changes not yet in Redis");
        busy = 1;
    } else if (spool_pending(sl->sp) > 0) {
        snprintf(why, size, "%zu accepted changes are still in the spool, waiting for Redis",
                 spool_pending(sl->sp));
        busy = 1;
    }
    pthread_mutex_unlock(&sl->mu);
    return busy;
}

size_t spooler_pending(struct spooler *sl)
{
    size_t n;

    if (sl == NULL || sl->sp == NULL)
        return 0;
    pthread_mutex_lock(&sl->mu);
    n = spool_pending(sl->sp);
    pthread_mutex_unlock(&sl->mu);
    return n;
}

void spooler_ready(struct spooler *sl, struct store *st, struct buf *out, int *status)
{
    struct err e;

    *status = 200;
    if (sl->sp != NULL) {
        const char *broken;
        size_t pending;
        int full;
        uint64_t bytes;

        pthread_mutex_lock(&sl->mu);
        broken = spool_broken(sl->sp);
        if (broken != NULL) {
            *status = 503;
            buf_printf(out, "not ready: spool unusable: %s\n", broken);
        }
        pending = spool_pending(sl->sp);
        full = spool_full(sl->sp);
        bytes = spool_bytes(sl->sp);
        pthread_mutex_unlock(&sl->mu);
        if (*status != 200)
            return;
        if (full) {
            *status = 503;
            buf_printf(out, "not ready: spool full (%" PRIu64 " of %zu bytes, %zu records)\n",
                       bytes, sl->cfg->spool_max_bytes, pending);
            return;
        }
        if (pending > 0) {
            buf_printf(out, "ready: spooling: %zu records\n", pending);
            return;
        }
    }
    err_clear(&e);
    if (store_ping(st, &e) == 0) {
        buf_appends(out, "ready: redis ok\n");
    } else if (sl->sp != NULL) {
        buf_printf(out, "ready: spooling: 0 records (Redis: %s)\n", e.text);
    } else {
        *status = 503;
        buf_printf(out, "not ready: %s\n", e.text);
    }
}

/* ---- replay ---------------------------------------------------------------------------- */

/* Apply one record with the replay thread's store. Returns 0 or the store's error. */
static int replay_one(struct spooler *sl, const struct spoolrec *r, struct err *e)
{
    struct store_save_result sres;
    struct store_del_result *dres = NULL;
    char vbuf[24];
    size_t i;
    int rc;

    if (r->op == SPOOLREC_SAVE) {
        rc = store_save(sl->store, r->zones[0], r->text, r->text_len, r->serial, r->host, r->user,
                        &sres, e);
        if (rc != 0)
            return rc;
        snprintf(vbuf, sizeof(vbuf), "%" PRIu64, sres.version);
        if (sres.prev_host[0] != '\0' && strcmp(sres.prev_host, r->host) != 0)
            log_msg(LOG_INFO, "zone ownership moved", "zone", r->zones[0], "from", sres.prev_host,
                    "to", r->host, "replayed", "1", NULL);
        log_msg(LOG_DEBUG, sres.changed ? "zone saved" : "zone unchanged", "zone", r->zones[0],
                "version", vbuf, "host", r->host, "replayed", "1", NULL);
        return 0;
    }
    dres = calloc(r->nzones, sizeof(*dres));
    if (dres == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    rc = store_delete(sl->store, r->zones, r->nzones, r->host, r->user, dres, e);
    for (i = 0; rc == 0 && i < r->nzones; i++) {
        snprintf(vbuf, sizeof(vbuf), "%" PRIu64, dres[i].version);
        if (dres[i].outcome == STORE_DEL_REFUSED)
            log_msg(LOG_WARN, "delete refused at replay: zone owned by another server", "zone",
                    r->zones[i], "owner", dres[i].owner, "host", r->host, "reason",
                    "owned by another server", NULL);
        else
            log_msg(LOG_DEBUG,
                    dres[i].outcome == STORE_DEL_DELETED ? "zone deleted"
                                                         : "delete of unknown zone",
                    "zone", r->zones[i], "version", vbuf, "host", r->host, "replayed", "1", NULL);
    }
    free(dres);
    return rc;
}

/* Wait on the condition until @deadline_ms (CLOCK_MONOTONIC ms), a signal, or stop. */
static void wait_until_ms(struct spooler *sl, uint64_t deadline_ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(deadline_ms / 1000u);
    ts.tv_nsec = (long)(deadline_ms % 1000u) * 1000000L;
    pthread_cond_timedwait(&sl->cv, &sl->mu, &ts);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Replay one batch (lock not held); *@got is the number of records read (0: nothing could be
 * read, e.g. the spool is stuck at its replay position). Returns 0 when the batch went through,
 * otherwise the error of the record that failed (@e), having committed the records before it. */
static int replay_batch(struct spooler *sl, size_t *got, struct err *e)
{
    struct spool_batch *b = NULL;
    struct err ce;
    char n[24], left[24], age[24];
    size_t done = 0;
    int rc, drc, removed = 0;

    *got = 0;
    pthread_mutex_lock(&sl->mu);
    rc = spool_read(sl->sp, REPLAY_BATCH_RECORDS, REPLAY_BATCH_BYTES, &b, e);
    log_stuck(sl);
    pthread_mutex_unlock(&sl->mu);
    if (rc != 0) {
        log_msg(LOG_ERROR, "spool replay: cannot read the spool, will retry", "reason", e->text,
                NULL);
        return rc;
    }
    *got = b->n;
    while (done < b->n && !sl->stop) {
        rc = replay_one(sl, &b->recs[done], e);
        if (rc != 0) {
            if (redis_unavailable(rc, e))
                log_msg(LOG_WARN, "spool replay paused: Redis unavailable", "zone",
                        b->recs[done].zones[0], "reason", e->text, NULL);
            else
                log_msg(LOG_ERROR, "spool replay: Redis refused a record, will retry", "zone",
                        b->recs[done].zones[0], "reason", e->text, NULL);
            break;
        }
        done++;
    }
    pthread_mutex_lock(&sl->mu);
    err_clear(&ce);
    if (spool_commit(sl->sp, b, done, &ce) != 0)
        log_msg(LOG_WARN, "spool progress not saved (a crash would re-apply records)", "reason",
                ce.text, NULL);
    snprintf(n, sizeof(n), "%zu", done);
    snprintf(left, sizeof(left), "%zu", spool_pending(sl->sp));
    snprintf(age, sizeof(age), "%" PRIu64,
             done > 0 ? (now_ms() - b->recs[done - 1].accepted_ms) / 1000u : 0);
    if (done > 0)
        log_msg(LOG_INFO, "spool replayed", "records", n, "remaining", left, "age_s", age, NULL);
    if (spool_pending(sl->sp) == 0 && spool_stuck(sl->sp) == NULL) {
        drc = spool_drain(sl->sp, &removed, &ce);
        if (removed)
            log_msg(LOG_INFO, "spool drained: writing to Redis directly again", "spool",
                    spool_path(sl->sp), NULL);
        if (drc != 0)
            log_msg(removed ? LOG_WARN : LOG_ERROR,
                    removed ? "spool removed, but its removal may not be durable"
                            : "spool not removed",
                    "reason", ce.text, NULL);
    }
    pthread_mutex_unlock(&sl->mu);
    spool_batch_free(b);
    return rc;
}

static void *replay_main(void *arg)
{
    struct spooler *sl = arg;
    uint64_t next = 0, backoff = 0;
    int waiting = 0, stalled = 0;
    size_t got = 0;
    struct err e;
    char n[24];

    pthread_mutex_lock(&sl->mu);
    while (!sl->stop) {
        /* Stalled: the spool is stuck at its replay position (logged once by log_stuck). Only
         * a restart clears that, so wait for the stop instead of PING + read in a loop. */
        if (spool_pending(sl->sp) == 0 || stalled) {
            pthread_cond_wait(&sl->cv, &sl->mu);
            continue;
        }
        if (mono_ms() < next) {
            wait_until_ms(sl, next);
            continue;
        }
        pthread_mutex_unlock(&sl->mu);
        err_clear(&e);
        if (store_ping(sl->store, &e) == 0) {
            if (waiting)
                log_msg(LOG_INFO, "spool replay: Redis answers again", NULL);
            waiting = 0;
            if (replay_batch(sl, &got, &e) == 0 && got > 0) {
                backoff = 0;
                next = 0;
                pthread_mutex_lock(&sl->mu);
                continue;
            }
            if (got == 0) {
                pthread_mutex_lock(&sl->mu);
                stalled = spool_stuck(sl->sp) != NULL;
                pthread_mutex_unlock(&sl->mu);
            }
        } else if (!waiting) {
            snprintf(n, sizeof(n), "%zu", spooler_pending(sl));
            log_msg(LOG_WARN, "spool replay waiting for Redis", "pending", n, "reason", e.text,
                    NULL);
            waiting = 1;
        }
        backoff = backoff == 0 ? BACKOFF_FIRST_MS : backoff * 2;
        if (backoff > BACKOFF_MAX_MS)
            backoff = BACKOFF_MAX_MS;
        next = mono_ms() + backoff;
        pthread_mutex_lock(&sl->mu);
    }
    pthread_mutex_unlock(&sl->mu);
    return NULL;
}

int spooler_open(const struct config *cfg, struct spooler **out, struct err *e)
{
    struct spooler *sl = calloc(1, sizeof(*sl));
    struct spool_report rep;
    pthread_condattr_t ca;
    char a[24], b[24], c[24];
    int rc, removed = 0;

    if (sl == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    sl->cfg = cfg;
    pthread_mutex_init(&sl->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sl->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (cfg->spool_dir[0] == '\0') {
        log_msg(LOG_INFO, "spool off (app.spool_dir is empty): pushes fail while Redis is down",
                NULL);
        *out = sl;
        return 0;
    }
    rc = spool_open(cfg->spool_dir, cfg->spool_max_bytes, &sl->sp, &rep, e);
    if (rc != 0)
        goto fail;
    if (rep.removed_incomplete)
        log_msg(LOG_WARN, "spool: removed a spool file whose creation a crash interrupted", "spool",
                spool_path(sl->sp), NULL);
    if (rep.torn_bytes > 0) {
        snprintf(a, sizeof(a), "%" PRIu64, rep.torn_offset);
        snprintf(b, sizeof(b), "%" PRIu64, rep.torn_bytes);
        log_msg(LOG_WARN,
                "spool: cut off a torn record at the end (an append a crash "
                "interrupted, never acknowledged)",
                "spool", spool_path(sl->sp), "offset", a, "bytes", b, NULL);
    }
    if (rep.progress_lost)
        log_msg(LOG_WARN,
                "spool: replay progress unreadable, replaying from the first record "
                "(records already applied are applied again)",
                "spool", spool_path(sl->sp), NULL);
    log_stuck(sl);
    if (spool_pending(sl->sp) == 0 && spool_stuck(sl->sp) == NULL &&
        spool_drain(sl->sp, &removed, e) != 0) {
        rc = DADNS_EIO;
        goto fail;
    }
    snprintf(a, sizeof(a), "%zu", spool_pending(sl->sp));
    snprintf(b, sizeof(b), "%" PRIu64, spool_bytes(sl->sp));
    snprintf(c, sizeof(c), "%zu", cfg->spool_max_bytes);
    log_msg(spool_pending(sl->sp) > 0 ? LOG_WARN : LOG_INFO,
            spool_pending(sl->sp) > 0 ? "spool opened: records left from before will be replayed"
                                      : "spool opened",
            "dir", cfg->spool_dir, "pending", a, "bytes", b, "max_bytes", c, NULL);
    rc = store_new(cfg, "dadns-ingest-replay", &sl->store);
    if (rc != 0) {
        err_set(e, rc, "cannot create the spool replay's Redis store: %s", err_str(rc));
        goto fail;
    }
    if (pthread_create(&sl->thread, NULL, replay_main, sl) != 0) {
        rc = err_set(e, DADNS_ENOMEM, "cannot start the spool replay thread");
        goto fail;
    }
    sl->thread_started = 1;
    *out = sl;
    return 0;
fail:
    spooler_free(sl);
    return rc;
}

void spooler_free(struct spooler *sl)
{
    if (sl == NULL)
        return;
    if (sl->thread_started) {
        pthread_mutex_lock(&sl->mu);
        sl->stop = 1;
        pthread_cond_broadcast(&sl->cv);
        pthread_mutex_unlock(&sl->mu);
        pthread_join(sl->thread, NULL);
    }
    store_free(sl->store);
    spool_close(sl->sp);
    pthread_cond_destroy(&sl->cv);
    pthread_mutex_destroy(&sl->mu);
    free(sl);
}
