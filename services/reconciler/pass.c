/* pass.c -- one reconciler pass, start to end (see pass.h).
 *
 * The steps run on the calling thread except the DirectAdmin listings (one thread per server);
 * the lock is extended between steps and while waiting. Every decision is plan's or drift's;
 * this file carries them out, logs them and sums them up. */
#include "pass.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backendinv.h"
#include "daclient.h"
#include "drift.h"
#include "log.h"
#include "plan.h"
#include "summary.h"
#include "zonetab.h"

#define POLL_MS       200                /* inventory meta polling */
#define WAIT_SLICE_MS 500                /* DirectAdmin listings: how often the waiter wakes */
#define DEL_USER      "dadns-reconciler" /* the user recorded by store_delete's notification */

enum phase { PH_STORE, PH_DA, PH_PLAN, PH_APPLY, PH_INVENTORY, PH_COMPARE, PH_PURGE, PHASES };

static const char *const PHASE_KEYS[PHASES] = {
    "store_s", "directadmin_s", "plan_s", "apply_s", "inventory_wait_s", "compare_s", "purge_s"};

static const char *const RESULT_NAMES[PASS_RESULTS] = {"ok", "failed", "skipped_locked"};

/* The listings in flight: a counter the threads raise when done. */
struct fetchers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done;
};

/* One DirectAdmin server's listing, run on its own thread. */
struct fetch {
    const struct da_server_conf *srv;    /* borrowed from the config */
    const volatile sig_atomic_t *cancel; /* the pass's cancel flag */
    struct fetchers *all;
    struct dalist *list; /* on success, owned */
    struct daclient_stats st;
    struct err e;
    int rc;
    pthread_t thread;
    bool started;
};

/* One enabled backend's inventory and comparison. */
struct beinv {
    const struct backend_conf *bc; /* borrowed from the config */
    bool requested;                /* the inventory request was added to the stream */
    bool finished;                 /* its meta hash appeared, or it was given up */
    bool ok;                       /* the inventory answered and was compared */
    struct backendinv_meta meta;
    char skipped[384]; /* why it was skipped ("" when ok) */
    struct drift *d;   /* the comparison, owned */
    size_t entries;    /* HSCAN fields read */
    size_t republished, deleted, held_back;
};

struct pass {
    const struct pass_env *env;
    const struct config *cfg;
    struct recstore *rs;
    struct pass_opts o;
    struct err *e;
    struct timespec t0;     /* monotonic start */
    struct timespec t_lock; /* last lock extension */
    struct timespec t_inv;  /* inventory requests sent */
    long long started_at;   /* unix seconds */
    double phase[PHASES];   /* seconds per phase */
    long ttl_ms;
    volatile sig_atomic_t cancel; /* listings abort when set */
    struct zonetab *tab;
    struct recstore_load_stats load;
    struct fetch *fetches;
    size_t n_fetches;
    struct plan *plan;
    struct beinv *be;
    size_t n_be;
    char reqid[BACKENDINV_REQID_SIZE];
    size_t orphans_deleted;     /* deleted (to delete, under dry run) */
    size_t orphans_changed;     /* kept: owner or version changed since the snapshot */
    size_t orphans_relisted;    /* kept: the owner's second listing has them */
    size_t orphans_unconfirmed; /* kept: the owner's second listing failed */
    struct fetch *relists;      /* second listings, one per configured server (srv NULL = none) */
    size_t owners_updated;      /* (to update, under dry run) */
    size_t purged;              /* tombstones purged (to purge, under dry run) */
    bool guard_tripped;
    bool guard_held; /* deletions were held back (not forced) */
    char guard_reason[2048];
    char error[512];
};

/* Rotating number buffers for log fields. */
struct nums {
    char s[24][32];
    int i;
};

static const char *num(struct nums *b, size_t v)
{
    char *s = b->s[b->i++ % 24];

    snprintf(s, sizeof(b->s[0]), "%zu", v);
    return s;
}

static const char *secs(struct nums *b, double v)
{
    char *s = b->s[b->i++ % 24];

    snprintf(s, sizeof(b->s[0]), "%.3f", v);
    return s;
}

static double elapsed(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

void pass_holder_id(char *out, size_t size)
{
    char host[64] = "";
    unsigned char rnd[8] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    struct timespec ts;

    if (fd >= 0) {
        if (read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
            memset(rnd, 0, sizeof(rnd));
        close(fd);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    rnd[0] ^= (unsigned char)ts.tv_nsec;
    rnd[1] ^= (unsigned char)(ts.tv_nsec >> 8);
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "dadns");
    host[sizeof(host) - 1] = '\0';
    snprintf(out, size, "%s:%ld:%02x%02x%02x%02x%02x%02x%02x%02x", host, (long)getpid(), rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

int pass_metrics_register(struct metrics *reg, const struct config *cfg, struct pass_metrics *pm,
                          struct err *e)
{
    struct metrics_label result = {"result", RESULT_NAMES, PASS_RESULTS};
    const char **names = NULL;
    struct metrics_label be;
    size_t i;
    int rc;

    memset(pm, 0, sizeof(*pm));
    if ((rc = metrics_counter_new(reg, METRICS_RECONCILER_RUNS,
                                  "Reconciler passes by result (ok, failed, skipped_locked: "
                                  "another replica held the lock).",
                                  &result, 1, &pm->runs, e)) != 0 ||
        (rc = metrics_gauge_new(reg, METRICS_RECONCILER_LAST_SUCCESS,
                                "Unix time at which the last successful pass finished.", NULL, 0,
                                &pm->last_success, e)) != 0 ||
        (rc = metrics_gauge_new(reg, METRICS_RECONCILER_GUARD_TRIPPED,
                                "1 while the mass-deletion guard holds deletions back (until a "
                                "forced pass or a pass that does not trip it).",
                                NULL, 0, &pm->guard, e)) != 0 ||
        (rc = metrics_counter_new(reg, METRICS_RECONCILER_ORPHANS_DELETED,
                                  "Orphan zones (no configured DirectAdmin server lists them) "
                                  "deleted by the reconciler.",
                                  NULL, 0, &pm->orphans, e)) != 0)
        return rc;
    metrics_gauge_clear(pm->last_success, 0);
    if (cfg->n_backends == 0)
        return 0;
    names = calloc(cfg->n_backends, sizeof(*names));
    if (names == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    for (i = 0; i < cfg->n_backends; i++)
        names[i] = cfg->backends[i].name;
    be.name = "backend";
    be.values = names;
    be.n = cfg->n_backends;
    rc = metrics_counter_new(reg, METRICS_RECONCILER_REPUBLISHED,
                             "Zones the reconciler republished to one backend (missing there, "
                             "another serial or another content).",
                             &be, 1, &pm->republished, e);
    free(names);
    return rc;
}

/* ---- steps ---- */

/* fail - record the pass error (the first one wins) and return @rc. */
static int fail(struct pass *p, int rc, const char *what)
{
    if (p->error[0] == '\0')
        snprintf(p->error, sizeof(p->error), "%.64s: %.400s", what,
                 p->e->text[0] != '\0' ? p->e->text : err_str(rc));
    return rc;
}

/* step - between steps: stop when asked, keep the lock alive. */
static int step(struct pass *p)
{
    bool held = false;
    int rc;

    if (p->env->stop != NULL && *p->env->stop) {
        p->cancel = 1;
        err_set(p->e, DADNS_EIO, "stopped by a signal");
        return fail(p, DADNS_EIO, "pass interrupted");
    }
    if (elapsed(&p->t_lock) * 1000.0 < (double)p->ttl_ms / 3.0)
        return 0;
    rc = recstore_lock_extend(p->rs, p->env->holder, p->ttl_ms, &held, p->e);
    if (rc != 0)
        return fail(p, rc, "cannot extend the pass lock");
    if (!held) {
        p->cancel = 1;
        err_set(p->e, DADNS_EIO, "the lock expired or was taken over (raise lock_ttl_s?)");
        return fail(p, DADNS_EIO, "lost the pass lock");
    }
    clock_gettime(CLOCK_MONOTONIC, &p->t_lock);
    return 0;
}

static int load_store(struct pass *p)
{
    struct timespec t;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t);
    if (zonetab_new(&p->tab) != 0) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        return fail(p, DADNS_ENOMEM, "cannot read the store");
    }
    rc = recstore_load(p->rs, p->tab, &p->load, p->e);
    p->phase[PH_STORE] = elapsed(&t);
    if (rc != 0)
        return fail(p, rc, "cannot read the store");
    return 0;
}

static int request_inventories(struct pass *p)
{
    size_t i;
    int rc;

    p->be = calloc(p->cfg->n_backends ? p->cfg->n_backends : 1, sizeof(*p->be));
    if (p->be == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        return fail(p, DADNS_ENOMEM, "inventories");
    }
    backendinv_reqid(p->reqid, sizeof(p->reqid));
    clock_gettime(CLOCK_MONOTONIC, &p->t_inv);
    for (i = 0; i < p->cfg->n_backends; i++) {
        const struct backend_conf *bc = &p->cfg->backends[i];
        struct beinv *b;

        if (!bc->enabled)
            continue;
        b = &p->be[p->n_be++];
        b->bc = bc;
        rc = backendinv_request(p->rs, p->cfg->stream_maxlen, bc->name, p->reqid, p->e);
        if (rc != 0)
            return fail(p, rc, "cannot request an inventory");
        b->requested = true;
    }
    if (p->n_be > 0)
        log_msg(LOG_DEBUG, "inventories requested", "request", p->reqid, NULL);
    return 0;
}

static void *fetch_main(void *arg)
{
    struct fetch *f = arg;

    err_clear(&f->e);
    f->rc = daclient_fetch(f->srv, f->cancel, &f->list, &f->st, &f->e);
    pthread_mutex_lock(&f->all->mu);
    f->all->done++;
    pthread_cond_signal(&f->all->cv);
    pthread_mutex_unlock(&f->all->mu);
    return NULL;
}

/* run_fetches - list the @n servers of @fs whose srv is set, at once, and wait, keeping the
 * lock. Returns 0 (each fetch has its own rc) or step's error. */
static int run_fetches(struct pass *p, struct fetch *fs, size_t n)
{
    struct fetchers all;
    size_t i, started = 0;
    int rc = 0;

    pthread_mutex_init(&all.mu, NULL);
    pthread_cond_init(&all.cv, NULL);
    all.done = 0;
    for (i = 0; i < n; i++) {
        struct fetch *f = &fs[i];

        if (f->srv == NULL)
            continue;
        f->cancel = &p->cancel;
        f->all = &all;
        f->rc = DADNS_EIO;
        if (pthread_create(&f->thread, NULL, fetch_main, f) != 0) {
            err_set(&f->e, DADNS_EIO, "cannot start a thread for the listing");
            continue;
        }
        f->started = true;
        started++;
    }
    pthread_mutex_lock(&all.mu);
    while (all.done < started) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WAIT_SLICE_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&all.cv, &all.mu, &until);
        if (all.done >= started)
            break;
        pthread_mutex_unlock(&all.mu);
        if (rc == 0 && (rc = step(p)) != 0)
            p->cancel = 1; /* the transfers abort; wait for the threads all the same */
        pthread_mutex_lock(&all.mu);
    }
    pthread_mutex_unlock(&all.mu);
    for (i = 0; i < n; i++)
        if (fs[i].started)
            pthread_join(fs[i].thread, NULL);
    pthread_cond_destroy(&all.cv);
    pthread_mutex_destroy(&all.mu);
    return rc;
}

/* fetch_all - list every configured server at once. */
static int fetch_all(struct pass *p)
{
    struct timespec t;
    size_t i;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t);
    p->n_fetches = p->cfg->n_da_servers;
    p->fetches = calloc(p->n_fetches ? p->n_fetches : 1, sizeof(*p->fetches));
    if (p->fetches == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        return fail(p, DADNS_ENOMEM, "DirectAdmin listings");
    }
    for (i = 0; i < p->n_fetches; i++)
        p->fetches[i].srv = &p->cfg->da_servers[i];
    rc = run_fetches(p, p->fetches, p->n_fetches);
    p->phase[PH_DA] = elapsed(&t);
    if (rc != 0)
        return rc;
    for (i = 0; i < p->n_fetches; i++) {
        struct fetch *f = &p->fetches[i];
        struct nums nb = {.i = 0};

        if (f->rc == 0)
            log_msg(LOG_INFO, "directadmin server listed", "server", f->srv->name, "url", f->st.url,
                    "zones", num(&nb, strset_count(f->list->zones)), "pages",
                    num(&nb, (size_t)f->st.pages), "invalid", num(&nb, f->list->invalid), "login",
                    f->st.logged_in ? "session" : "basic", "format",
                    f->st.legacy ? "legacy" : "json", "seconds", secs(&nb, f->st.seconds), NULL);
        else
            log_msg(LOG_WARN, "directadmin server did not answer: its zones are kept this pass",
                    "server", f->srv->name, "error", f->e.text, "seconds", secs(&nb, f->st.seconds),
                    NULL);
        if (f->rc == 0 && f->list->n_warnings > 0)
            log_msg(LOG_WARN, "directadmin server listed invalid names (ignored)", "server",
                    f->srv->name, "invalid", num(&nb, f->list->invalid), "first",
                    f->list->warnings[0], NULL);
    }
    return 0;
}

/* decide - the plan of the DirectAdmin side. */
static int decide(struct pass *p)
{
    struct plan_server *srv = NULL;
    struct plan_zone *zones = NULL;
    struct plan_guard g;
    struct timespec t;
    struct nums nb = {.i = 0};
    size_t i;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t);
    srv = calloc(p->n_fetches ? p->n_fetches : 1, sizeof(*srv));
    zones = calloc(p->tab->n ? p->tab->n : 1, sizeof(*zones));
    if (srv == NULL || zones == NULL) {
        free(srv);
        free(zones);
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        return fail(p, DADNS_ENOMEM, "plan");
    }
    for (i = 0; i < p->n_fetches; i++) {
        srv[i].name = p->fetches[i].srv->name;
        srv[i].hostname = p->fetches[i].srv->hostname;
        srv[i].answered = p->fetches[i].rc == 0;
        srv[i].zones = p->fetches[i].rc == 0 ? p->fetches[i].list->zones : NULL;
    }
    for (i = 0; i < p->tab->n; i++) {
        zones[i].name = p->tab->zones[i].name;
        zones[i].host = p->tab->zones[i].host;
        zones[i].deleted = p->tab->zones[i].deleted;
    }
    g.max_delete_percent = p->cfg->rec_max_delete_percent;
    g.force = p->o.force;
    g.dry_run = p->o.dry_run;
    rc = plan_build(srv, p->n_fetches, zones, p->tab->n, &g, &p->plan, p->e);
    free(srv);
    free(zones);
    p->phase[PH_PLAN] = elapsed(&t);
    if (rc != 0)
        return fail(p, rc, "cannot plan the pass");
    for (i = 0; i < p->plan->n_conflicts && i < PASS_EXAMPLES; i++) {
        const struct plan_conflict *c = &p->plan->conflicts[i];

        log_msg(LOG_WARN, "zone listed by several directadmin servers", "zone", c->zone, "owner",
                p->fetches[c->owner].srv->name, "also", p->fetches[c->other].srv->name, "servers",
                num(&nb, c->listing), NULL);
    }
    for (i = 0; i < p->plan->n_missing && i < PASS_EXAMPLES; i++)
        log_msg(LOG_INFO, "zone listed by directadmin but not in the store (its next save adds it)",
                "zone", p->plan->missing[i], NULL);
    if (p->plan->n_missing > PASS_EXAMPLES)
        log_msg(LOG_INFO, "more zones listed by directadmin but not in the store", "count",
                num(&nb, p->plan->n_missing - PASS_EXAMPLES), NULL);
    if (p->plan->guard_tripped) {
        p->guard_tripped = true;
        p->guard_held = !p->o.force && p->plan->n_held > 0;
        snprintf(p->guard_reason, sizeof(p->guard_reason), "%s", p->plan->guard_reason);
    }
    return 0;
}

/* An orphan to delete, with the owner store_delete must be given (the recorded one, exactly). */
struct del_item {
    const char *zone; /* borrowed from the plan */
    const char *host; /* the recorded owner, borrowed from the snapshot */
    uint64_t version; /* the version in the snapshot: a newer one is not deleted */
    size_t server;    /* the configured server of that owner */
};

/* cmp_del - by owner, then by zone: one store_delete per owner and batch. */

static int cmp_del(const void *a, const void *b)
{
    const struct del_item *x = a, *y = b;
    int c = strcmp(x->host, y->host);

    return c != 0 ? c : strcmp(x->zone, y->zone);
}

/* relist - list a second time every server that has orphans to delete: a listing walk can miss
 * a zone when DirectAdmin's list changes under it (a delete and an add between two pages shift
 * the pages while the row count stays the same), and only a zone missing from both listings is
 * deleted. Runs the listings at once, like the first ones. */
static int relist(struct pass *p)
{
    const struct plan *pl = p->plan;
    struct nums nb = {.i = 0};
    size_t i;
    int rc;

    p->relists = calloc(p->n_fetches ? p->n_fetches : 1, sizeof(*p->relists));
    if (p->relists == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        return fail(p, DADNS_ENOMEM, "DirectAdmin listings");
    }
    for (i = 0; i < pl->n_deletes; i++)
        p->relists[pl->deletes[i].server].srv = p->fetches[pl->deletes[i].server].srv;
    if ((rc = run_fetches(p, p->relists, p->n_fetches)) != 0)
        return rc;
    for (i = 0; i < p->n_fetches; i++) {
        const struct fetch *f = &p->relists[i];

        if (f->srv == NULL)
            continue;
        if (f->rc == 0)
            log_msg(LOG_DEBUG, "directadmin server listed again (it has orphans)", "server",
                    f->srv->name, "zones", num(&nb, strset_count(f->list->zones)), "seconds",
                    secs(&nb, f->st.seconds), NULL);
        else
            log_msg(LOG_WARN,
                    "directadmin server did not answer its second listing: its orphans are "
                    "kept this pass",
                    "server", f->srv->name, "error", f->e.text, NULL);
    }
    return 0;
}

/* confirmed - the orphan @zone of server @server is missing from its second listing too (and
 * that listing answered); counts and logs the ones kept. */
static bool confirmed(struct pass *p, const char *zone, size_t server)
{
    const struct fetch *f = &p->relists[server];

    if (f->rc != 0) {
        p->orphans_unconfirmed++;
        return false;
    }
    if (!strset_has(f->list->zones, zone))
        return true;
    p->orphans_relisted++;
    log_msg(LOG_WARN,
            "orphan kept: the server's second listing has it (its list changed "
            "during the first)",
            "zone", zone, "server", f->srv->name, NULL);
    return false;
}

/* delete_orphans - store_delete_versioned per recorded owner, RECSTORE_BATCH zones at a time:
 * only the orphans missing from both listings of their server, only at the snapshot's
 * version and owner. */
static int delete_orphans(struct pass *p)
{
    const struct plan *pl = p->plan;
    struct del_item *items = NULL;
    struct store_del_result *res = NULL;
    const char **names = NULL;
    uint64_t *versions = NULL;
    size_t i, j, k, n = 0, logged = 0;
    int rc = 0;

    if (pl->n_deletes == 0)
        return 0;
    if ((rc = relist(p)) != 0)
        return rc;
    items = calloc(pl->n_deletes, sizeof(*items));
    res = calloc(RECSTORE_BATCH, sizeof(*res));
    names = calloc(RECSTORE_BATCH, sizeof(*names));
    versions = calloc(RECSTORE_BATCH, sizeof(*versions));
    if (items == NULL || res == NULL || names == NULL || versions == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        rc = fail(p, DADNS_ENOMEM, "orphans");
        goto out;
    }
    for (i = 0; i < pl->n_deletes; i++) {
        const struct zonetab_zone *z = zonetab_find(p->tab, pl->deletes[i].zone);

        if (!confirmed(p, pl->deletes[i].zone, pl->deletes[i].server))
            continue;
        items[n].zone = pl->deletes[i].zone;
        items[n].host = z != NULL ? z->host : "";
        items[n].version = z != NULL ? z->version : 0;
        items[n].server = pl->deletes[i].server;
        n++;
    }
    qsort(items, n, sizeof(*items), cmp_del);
    for (i = 0; i < n; i += k) {
        for (k = 0;
             i + k < n && k < RECSTORE_BATCH && strcmp(items[i + k].host, items[i].host) == 0;
             k++) {
            names[k] = items[i + k].zone;
            versions[k] = items[i + k].version;
        }
        if ((rc = step(p)) != 0)
            goto out;
        rc = store_delete_versioned(recstore_store(p->rs), names, versions, k, items[i].host,
                                    DEL_USER, res, p->e);
        if (rc != 0) {
            rc = fail(p, rc, "cannot delete orphans");
            goto out;
        }
        for (j = 0; j < k; j++) {
            const struct del_item *it = &items[i + j];
            char sv[24];

            if (res[j].outcome == STORE_DEL_DELETED) {
                struct zonetab_zone *z = zonetab_find(p->tab, it->zone);

                /* a tombstone from now on: the inventories must not have it republished */
                if (z != NULL && !z->deleted) {
                    z->deleted = true;
                    z->version = res[j].version;
                    z->serial = 0;
                    z->digest[0] = '\0';
                    z->updated_ms = (long long)time(NULL) * 1000;
                    p->tab->live--;
                    p->tab->tombstones++;
                }
                p->orphans_deleted++;
                if (logged++ < PASS_EXAMPLES) {
                    snprintf(sv, sizeof(sv), "%" PRIu64, res[j].version);
                    log_msg(LOG_INFO, "orphan deleted (no directadmin server lists it)", "zone",
                            it->zone, "owner", it->host, "server", p->fetches[it->server].srv->name,
                            "version", sv, NULL);
                }
            } else if (res[j].outcome == STORE_DEL_REFUSED) {
                p->orphans_changed++;
                log_msg(LOG_INFO, "orphan kept: its owner changed during the pass", "zone",
                        it->zone, "was", it->host, "owner", res[j].owner, NULL);
            } else if (res[j].outcome == STORE_DEL_CHANGED) {
                char was[24];

                p->orphans_changed++;
                snprintf(was, sizeof(was), "%" PRIu64, it->version);
                snprintf(sv, sizeof(sv), "%" PRIu64, res[j].version);
                log_msg(LOG_INFO, "orphan kept: it changed during the pass (re-created?)", "zone",
                        it->zone, "owner", res[j].owner, "was", was, "version", sv, NULL);
            }
        }
    }
    if (p->env->metrics != NULL)
        metrics_counter_add(p->env->metrics->orphans, 0, p->orphans_deleted);
out:
    free(items);
    free(res);
    free(names);
    free(versions);
    return rc;
}

/* apply_da - carry out the plan (or describe it under dry run). */
static int apply_da(struct pass *p)
{
    const struct plan *pl = p->plan;
    struct timespec t;
    struct nums nb = {.i = 0};
    const char **zones = NULL, **expect = NULL, **hosts = NULL;
    size_t i;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &t);
    for (i = 0; i < pl->n_servers; i++) {
        const struct plan_server_result *r = &pl->servers[i];

        if (r->guard == PLAN_GUARD_NONE)
            continue;
        log_msg(p->o.dry_run ? LOG_WARN : LOG_ERROR,
                p->o.force ? "mass-deletion guard tripped, forced: deleting anyway"
                           : "mass-deletion guard tripped: this server's orphans are held, "
                             "nothing deleted (dadnsctl reconcile --force to delete)",
                "server", p->fetches[i].srv->name, "reason", r->guard_reason, "orphans",
                num(&nb, r->orphans), "listed", num(&nb, r->listed), "stored", num(&nb, r->stored),
                "dry_run", p->o.dry_run ? "1" : "0", NULL);
    }
    if (p->o.dry_run) {
        for (i = 0; i < pl->n_deletes && i < PASS_EXAMPLES; i++)
            log_msg(LOG_INFO, "dry run: would delete orphan", "zone", pl->deletes[i].zone, "server",
                    p->fetches[pl->deletes[i].server].srv->name, NULL);
        for (i = 0; i < pl->n_owners && i < PASS_EXAMPLES; i++)
            log_msg(LOG_INFO, "dry run: would update owner", "zone", pl->owners[i].zone, "from",
                    pl->owners[i].from, "to", p->fetches[pl->owners[i].server].srv->hostname, NULL);
        p->orphans_deleted = pl->n_deletes;
        p->owners_updated = pl->n_owners;
        goto out;
    }
    if ((rc = delete_orphans(p)) != 0)
        goto out;
    if (pl->n_owners > 0) {
        zones = calloc(pl->n_owners, sizeof(*zones));
        expect = calloc(pl->n_owners, sizeof(*expect));
        hosts = calloc(pl->n_owners, sizeof(*hosts));
        if (zones == NULL || expect == NULL || hosts == NULL) {
            err_set(p->e, DADNS_ENOMEM, "out of memory");
            rc = fail(p, DADNS_ENOMEM, "owners");
            goto out;
        }
        for (i = 0; i < pl->n_owners; i++) {
            zones[i] = pl->owners[i].zone;
            expect[i] = pl->owners[i].from;
            hosts[i] = p->fetches[pl->owners[i].server].srv->hostname;
        }
        if ((rc = step(p)) != 0)
            goto out;
        rc = recstore_set_owners(p->rs, zones, expect, hosts, pl->n_owners, &p->owners_updated,
                                 p->e);
        if (rc != 0) {
            rc = fail(p, rc, "cannot update owners");
            goto out;
        }
        for (i = 0; i < pl->n_owners && i < PASS_EXAMPLES; i++)
            log_msg(LOG_INFO,
                    pl->owners[i].from[0] != '\0' ? "owner updated (zone migrated)"
                                                  : "owner recorded",
                    "zone", zones[i], "from", expect[i], "to", hosts[i], NULL);
    }
out:
    p->phase[PH_APPLY] = elapsed(&t);
    free(zones);
    free(expect);
    free(hosts);
    return rc;
}

/* await_inventories - poll every request's meta until all answered or the timeout. */
static int await_inventories(struct pass *p)
{
    const char **names = NULL;
    bool *skip = NULL;
    struct backendinv_meta *meta = NULL;
    struct timespec t;
    double timeout = (double)p->cfg->rec_inventory_timeout_s;
    size_t i, left;
    int rc = 0;

    if (p->n_be == 0)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &t);
    names = calloc(p->n_be, sizeof(*names));
    skip = calloc(p->n_be, sizeof(*skip));
    meta = calloc(p->n_be, sizeof(*meta));
    if (names == NULL || skip == NULL || meta == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        rc = fail(p, DADNS_ENOMEM, "inventories");
        goto out;
    }
    for (i = 0; i < p->n_be; i++)
        names[i] = p->be[i].bc->name;
    for (;;) {
        left = 0;
        for (i = 0; i < p->n_be; i++)
            skip[i] = p->be[i].finished;
        rc = backendinv_poll(p->rs, names, skip, p->n_be, p->reqid, meta, p->e);
        if (rc != 0) {
            rc = fail(p, rc, "cannot read the inventories");
            goto out;
        }
        for (i = 0; i < p->n_be; i++) {
            if (p->be[i].finished)
                continue;
            if (meta[i].state != BACKENDINV_PENDING) {
                p->be[i].meta = meta[i];
                p->be[i].finished = true;
            } else {
                left++;
            }
        }
        if (left == 0)
            break;
        if (elapsed(&p->t_inv) >= timeout) {
            for (i = 0; i < p->n_be; i++) {
                if (p->be[i].finished)
                    continue;
                p->be[i].finished = true;
                snprintf(p->be[i].skipped, sizeof(p->be[i].skipped),
                         "inventory timed out after %ds (is a writer of %s running?)",
                         p->cfg->rec_inventory_timeout_s, p->be[i].bc->name);
            }
            break;
        }
        if ((rc = step(p)) != 0)
            goto out;
        sleep_ms(POLL_MS);
    }
out:
    p->phase[PH_INVENTORY] = elapsed(&t);
    free(names);
    free(skip);
    free(meta);
    return rc;
}

static int drift_cb(void *arg, const char *zone, size_t zlen, const char *value, size_t vlen)
{
    return drift_add(arg, zone, zlen, value, vlen);
}

/* push_items - the targeted pushes of @items (those with why != @except when @except != 0),
 * or count them under dry run. */
static int push_items(struct pass *p, const struct beinv *b, const struct drift_item *items,
                      size_t n, enum drift_why except, size_t *pushed)
{
    const char **zones = NULL;
    uint64_t *versions = NULL;
    size_t i, k = 0;
    int rc = 0;

    *pushed = 0;
    if (n == 0)
        return 0;
    zones = calloc(n, sizeof(*zones));
    versions = calloc(n, sizeof(*versions));
    if (zones == NULL || versions == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        rc = fail(p, DADNS_ENOMEM, "targeted pushes");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (except != 0 && items[i].why == except)
            continue;
        zones[k] = items[i].zone;
        versions[k] = items[i].version;
        k++;
    }
    if (p->o.dry_run) {
        *pushed = k;
        goto out;
    }
    if ((rc = step(p)) != 0)
        goto out;
    rc = recstore_push(p->rs, b->bc->name, zones, versions, k, pushed, p->e);
    if (rc != 0)
        rc = fail(p, rc, "cannot add targeted pushes");
out:
    free(zones);
    free(versions);
    return rc;
}

/* log_items - name the first PASS_EXAMPLES decisions of @items. */
static void log_items(const struct pass *p, const struct beinv *b, const struct drift_item *items,
                      size_t n, const char *msg)
{
    size_t i;

    for (i = 0; i < n && i < PASS_EXAMPLES; i++) {
        const struct zonetab_zone *z = zonetab_find(p->tab, items[i].zone);
        char held[16] = "-", stored[16] = "-";

        if (items[i].has_serial)
            snprintf(held, sizeof(held), "%" PRIu32, items[i].held_serial);
        if (z != NULL && !z->deleted)
            snprintf(stored, sizeof(stored), "%" PRIu32, z->serial);
        log_msg(LOG_INFO, msg, "backend", b->bc->name, "zone", items[i].zone, "reason",
                drift_why_str(items[i].why), "served_serial", held, "stored_serial", stored,
                "dry_run", p->o.dry_run ? "1" : "0", NULL);
    }
}

/* compare_one - read backend @b's inventory, compare it, push what differs. */
static int compare_one(struct pass *p, struct beinv *b)
{
    struct nums nb = {.i = 0};
    struct drift *d;
    struct err de;
    int rc, pct = p->cfg->rec_max_delete_percent;
    size_t i, distinct;

    if ((rc = drift_new(p->tab, &b->d)) != 0) {
        err_set(p->e, rc, "out of memory");
        return fail(p, rc, "inventory comparison");
    }
    d = b->d;
    rc = backendinv_read(p->rs, b->bc->name, p->reqid, drift_cb, d, &b->entries, p->e);
    if (rc == 0)
        rc = drift_finish(d);
    if (rc != 0)
        return fail(p, rc, "cannot read an inventory");
    err_clear(&de);
    if (backendinv_drop(p->rs, b->bc->name, p->reqid, &de) != 0)
        log_msg(LOG_WARN, "cannot delete the inventory keys (they expire)", "backend", b->bc->name,
                "error", de.text, NULL);
    distinct = d->held + d->invalid;
    if (distinct < b->meta.zones) {
        snprintf(b->skipped, sizeof(b->skipped),
                 "inventory incomplete: read %zu of the %zu zones published", distinct,
                 b->meta.zones);
        return 0;
    }
    b->ok = true;
    /* the guard on deleting zones the store has no state for at all (a lost or flushed store
     * must not empty the backends) */
    if (d->n_absent > 0 && d->n_absent * 100 > (size_t)pct * d->managed) {
        size_t o = strlen(p->guard_reason);

        p->guard_tripped = true;
        snprintf(p->guard_reason + o, sizeof(p->guard_reason) - o,
                 "%sbackend %s would delete %zu of its %zu zones that the store has no state "
                 "for, more than max_delete_percent %d%%",
                 o ? "; " : "", b->bc->name, d->n_absent, d->managed, pct);
        if (!p->o.force) {
            b->held_back = d->n_absent;
            p->guard_held = true;
        }
        log_msg(p->o.dry_run ? LOG_WARN : LOG_ERROR,
                p->o.force ? "mass-deletion guard tripped on a backend, forced: deleting anyway"
                           : "mass-deletion guard tripped on a backend: zones absent from the "
                             "store are kept there (dadnsctl reconcile --force to delete)",
                "backend", b->bc->name, "would_delete", num(&nb, d->n_absent), "managed",
                num(&nb, d->managed), "stored", num(&nb, p->tab->live), NULL);
    }
    log_items(p, b, d->push, d->n_push,
              p->o.dry_run ? "dry run: would republish to backend" : "republishing to backend");
    log_items(p, b, d->del, d->n_del,
              p->o.dry_run ? "dry run: would delete on backend" : "deleting on backend");
    for (i = 0; i < d->n_examples; i++)
        log_msg(LOG_INFO, "zone held by the backend but not managed by dadns: left alone",
                "backend", b->bc->name, "zone", d->examples[i], NULL);
    if ((rc = push_items(p, b, d->push, d->n_push, 0, &b->republished)) != 0)
        return rc;
    if ((rc = push_items(p, b, d->del, d->n_del, b->held_back > 0 ? DRIFT_ABSENT : 0,
                         &b->deleted)) != 0)
        return rc;
    if (!p->o.dry_run && p->env->metrics != NULL) {
        size_t series;
        const char *v[] = {b->bc->name};

        if (metrics_series(p->env->metrics->republished, v, &series) == 0)
            metrics_counter_add(p->env->metrics->republished, series, b->republished);
    }
    log_msg(LOG_INFO, "inventory compared", "backend", b->bc->name, "held", num(&nb, d->held),
            "managed", num(&nb, d->managed), "unmanaged", num(&nb, d->unmanaged), "in_sync",
            num(&nb, d->in_sync), "unknown", num(&nb, d->unknown), "republished",
            num(&nb, b->republished), "deleted", num(&nb, b->deleted), "held_back",
            num(&nb, b->held_back), "invalid", num(&nb, d->invalid), "dry_run",
            p->o.dry_run ? "1" : "0", NULL);
    return 0;
}

static int compare_all(struct pass *p)
{
    struct timespec t;
    size_t i;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &t);
    for (i = 0; i < p->n_be; i++) {
        struct beinv *b = &p->be[i];

        if (b->meta.state == BACKENDINV_ERROR) {
            struct err de;

            snprintf(b->skipped, sizeof(b->skipped), "inventory failed: %s", b->meta.error);
            err_clear(&de);
            (void)backendinv_drop(p->rs, b->bc->name, p->reqid, &de);
        } else if (b->meta.state == BACKENDINV_OK) {
            if ((rc = step(p)) != 0 || (rc = compare_one(p, b)) != 0)
                break;
        }
        if (!b->ok)
            log_msg(LOG_WARN, "backend skipped this pass", "backend", b->bc->name, "reason",
                    b->skipped, NULL);
    }
    p->phase[PH_COMPARE] = elapsed(&t);
    return rc;
}

/* guard_update - P reconciler:guard and the gauge after a (non dry-run) pass. */
static int guard_update(struct pass *p)
{
    const struct plan *pl = p->plan;
    bool was = false;
    int rc;

    if (p->o.dry_run)
        return 0;
    if (p->guard_held) {
        const char *server = NULL;
        char name[160];
        size_t would = 0, listed = 0, stored = p->tab->live, i;

        if (pl->guard_tripped && pl->n_held > 0) {
            const struct plan_server_result *r = &pl->servers[pl->guard_server];

            server = p->fetches[pl->guard_server].srv->name;
            would = r->orphans;
            listed = r->listed;
            stored = r->stored;
        } else {
            for (i = 0; i < p->n_be && server == NULL; i++) {
                if (p->be[i].held_back == 0)
                    continue;
                snprintf(name, sizeof(name), "backend %s", p->be[i].bc->name);
                server = name;
                would = p->be[i].held_back;
                listed = p->be[i].d->managed;
            }
        }
        if (server == NULL)
            server = "?";
        rc = recstore_guard_set(p->rs, server, would, listed, stored, (long long)time(NULL), p->e);
        if (rc != 0)
            return fail(p, rc, "cannot record the guard state");
        if (p->env->metrics != NULL)
            metrics_gauge_set(p->env->metrics->guard, 0, 1);
        return 0;
    }
    rc = recstore_guard_clear(p->rs, &was, p->e);
    if (rc != 0)
        return fail(p, rc, "cannot clear the guard state");
    if (was)
        log_msg(LOG_INFO, "mass-deletion guard cleared", "forced", p->o.force ? "1" : "0", NULL);
    if (p->env->metrics != NULL)
        metrics_gauge_set(p->env->metrics->guard, 0, 0);
    return 0;
}

/* purge - remove old tombstones every backend has applied and none holds. */
static int purge(struct pass *p)
{
    const struct config *c = p->cfg;
    const char **zones = NULL, **check = NULL, **all = NULL;
    uint64_t *versions = NULL;
    struct recstore_purge_opts po;
    struct timespec t, now;
    struct nums nb = {.i = 0};
    size_t i, n = 0, nc = 0;
    long long cutoff;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &t);
    if (p->tab->tombstones == 0)
        goto out;
    clock_gettime(CLOCK_REALTIME, &now);
    cutoff = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
             (long long)c->rec_tombstone_retention_s * 1000;
    zones = calloc(p->tab->tombstones, sizeof(*zones));
    versions = calloc(p->tab->tombstones, sizeof(*versions));
    check = calloc(c->n_backends ? c->n_backends : 1, sizeof(*check));
    all = calloc(c->n_backends ? c->n_backends : 1, sizeof(*all));
    if (zones == NULL || versions == NULL || check == NULL || all == NULL) {
        err_set(p->e, DADNS_ENOMEM, "out of memory");
        rc = fail(p, DADNS_ENOMEM, "tombstones");
        goto out;
    }
    for (i = 0; i < p->tab->n; i++) {
        const struct zonetab_zone *z = &p->tab->zones[i];

        if (!z->deleted || (z->flags & ZONETAB_HELD) || z->updated_ms > cutoff)
            continue;
        zones[n] = z->name;
        versions[n] = z->version;
        n++;
    }
    for (i = 0; i < c->n_backends; i++) {
        all[i] = c->backends[i].name;
        if (c->backends[i].enabled)
            check[nc++] = c->backends[i].name;
    }
    if (n == 0)
        goto out;
    if ((rc = step(p)) != 0)
        goto out;
    memset(&po, 0, sizeof(po));
    po.cutoff_ms = cutoff;
    po.check_backends = check;
    po.n_check = nc;
    po.all_backends = all;
    po.n_all = c->n_backends;
    po.dry_run = p->o.dry_run;
    rc = recstore_purge(p->rs, zones, versions, n, &po, &p->purged, p->e);
    if (rc != 0) {
        rc = fail(p, rc, "cannot purge tombstones");
        goto out;
    }
    if (p->purged > 0 || n > 0)
        log_msg(LOG_INFO,
                p->o.dry_run ? "dry run: tombstones that would be purged" : "tombstones purged",
                "purged", num(&nb, p->purged), "old_enough", num(&nb, n), "tombstones",
                num(&nb, p->tab->tombstones), NULL);
out:
    p->phase[PH_PURGE] = elapsed(&t);
    free(zones);
    free(versions);
    free(check);
    free(all);
    return rc;
}

static int run_steps(struct pass *p)
{
    int rc;

    if ((rc = load_store(p)) != 0 || (rc = step(p)) != 0)
        return rc;
    if ((rc = request_inventories(p)) != 0 || (rc = step(p)) != 0)
        return rc;
    if ((rc = fetch_all(p)) != 0 || (rc = step(p)) != 0)
        return rc;
    if ((rc = decide(p)) != 0 || (rc = apply_da(p)) != 0 || (rc = step(p)) != 0)
        return rc;
    if ((rc = await_inventories(p)) != 0 || (rc = compare_all(p)) != 0)
        return rc;
    if ((rc = guard_update(p)) != 0 || (rc = step(p)) != 0)
        return rc;
    return purge(p);
}

/* ---- summary ---- */

/* per_backend - "be:n,be:n" of the backends into @out (@which: 0 republished, 1 deleted on
 * the backend, 2 unmanaged); a skipped backend shows as "be:skipped". */
static const char *per_backend(const struct pass *p, int which, char *out, size_t size)
{
    size_t i, o = 0;

    out[0] = '\0';
    for (i = 0; i < p->n_be; i++) {
        const struct beinv *b = &p->be[i];
        size_t v = which == 0 ? b->republished : which == 1 ? b->deleted : 0;
        int n;

        if (which == 2 && b->ok)
            v = b->d->unmanaged;
        if (b->ok)
            n = snprintf(out + o, size - o, "%s%s:%zu", o ? "," : "", b->bc->name, v);
        else
            n = snprintf(out + o, size - o, "%s%s:skipped", o ? "," : "", b->bc->name);
        if (n < 0 || (size_t)n >= size - o)
            break;
        o += (size_t)n;
    }
    return out;
}

static void finish(struct pass *p, int failed)
{
    struct summary s;
    struct summary_server *srv = NULL;
    struct summary_backend *be = NULL;
    struct nums nb = {.i = 0};
    struct err se;
    char *json = NULL, rep[512], del[512], unm[512];
    size_t i, answered = 0;

    memset(&s, 0, sizeof(s));
    s.started_at = p->started_at;
    s.finished_at = (long long)time(NULL);
    s.duration_s = elapsed(&p->t0);
    s.dry_run = p->o.dry_run;
    s.forced = p->o.force;
    srv = calloc(p->n_fetches ? p->n_fetches : 1, sizeof(*srv));
    be = calloc(p->n_be ? p->n_be : 1, sizeof(*be));
    if (srv != NULL && be != NULL) {
        for (i = 0; i < p->n_fetches; i++) {
            const struct fetch *f = &p->fetches[i];

            srv[i].name = f->srv->name;
            srv[i].answered = f->rc == 0 && f->list != NULL;
            srv[i].zones = srv[i].answered ? strset_count(f->list->zones) : 0;
            srv[i].error = f->e.text;
            answered += srv[i].answered;
        }
        for (i = 0; i < p->n_be; i++) {
            const struct beinv *b = &p->be[i];

            be[i].name = b->bc->name;
            be[i].inventoried = b->ok;
            be[i].republished = b->republished;
            be[i].deleted = b->deleted;
            be[i].unmanaged = b->ok ? b->d->unmanaged : 0;
            be[i].skipped = b->skipped[0] != '\0' ? b->skipped
                            : failed              ? "the pass stopped before its inventory"
                                                  : "";
        }
        s.servers = srv;
        s.n_servers = p->n_fetches;
        s.backends = be;
        s.n_backends = p->n_be;
    }
    s.zones_seen = p->plan != NULL ? p->plan->zones_seen : 0;
    s.orphans_deleted = p->orphans_deleted;
    s.orphans_held = p->plan != NULL ? p->plan->n_held : 0;
    s.guard_tripped = p->guard_tripped;
    s.guard_reason = p->guard_reason;
    s.owners_updated = p->owners_updated;
    s.tombstones_purged = p->purged;
    s.error = p->error;
    err_clear(&se);
    if (summary_json(&s, &json, &se) != 0 || recstore_last_set(p->rs, json, &se) != 0)
        log_msg(LOG_WARN, "cannot record the pass summary in Redis", "error", se.text, NULL);
    free(json);
    log_msg(
        failed ? LOG_ERROR : LOG_INFO, failed ? "pass failed" : "pass finished", "error", p->error,
        "dry_run", p->o.dry_run ? "1" : "0", "forced", p->o.force ? "1" : "0", "servers",
        num(&nb, p->n_fetches), "answered", num(&nb, answered), "zones_seen",
        num(&nb, s.zones_seen), "live", num(&nb, p->tab != NULL ? p->tab->live : 0), "tombstones",
        num(&nb, p->tab != NULL ? p->tab->tombstones : 0), "orphans_deleted",
        num(&nb, s.orphans_deleted), "orphans_held", num(&nb, s.orphans_held), "orphans_changed",
        num(&nb, p->orphans_changed), "orphans_relisted", num(&nb, p->orphans_relisted),
        "orphans_unconfirmed", num(&nb, p->orphans_unconfirmed), "owners_updated",
        num(&nb, s.owners_updated), "protected",
        num(&nb, p->plan != NULL ? p->plan->protected_zones : 0), "missing",
        num(&nb, p->plan != NULL ? p->plan->n_missing : 0), "conflicts",
        num(&nb, p->plan != NULL ? p->plan->n_conflicts : 0), "guard_tripped",
        s.guard_tripped ? "1" : "0", "republished", per_backend(p, 0, rep, sizeof(rep)),
        "deleted_on_backend", per_backend(p, 1, del, sizeof(del)), "unmanaged",
        per_backend(p, 2, unm, sizeof(unm)), "tombstones_purged", num(&nb, s.tombstones_purged),
        "duration_s", secs(&nb, s.duration_s), PHASE_KEYS[PH_STORE], secs(&nb, p->phase[PH_STORE]),
        PHASE_KEYS[PH_DA], secs(&nb, p->phase[PH_DA]), PHASE_KEYS[PH_PLAN],
        secs(&nb, p->phase[PH_PLAN]), PHASE_KEYS[PH_APPLY], secs(&nb, p->phase[PH_APPLY]),
        PHASE_KEYS[PH_INVENTORY], secs(&nb, p->phase[PH_INVENTORY]), PHASE_KEYS[PH_COMPARE],
        secs(&nb, p->phase[PH_COMPARE]), PHASE_KEYS[PH_PURGE], secs(&nb, p->phase[PH_PURGE]), NULL);
    if (p->env->metrics != NULL) {
        metrics_counter_add(p->env->metrics->runs, failed ? PASS_RESULT_FAILED : PASS_RESULT_OK, 1);
        if (!failed)
            metrics_gauge_set(p->env->metrics->last_success, 0, (double)s.finished_at);
    }
    free(srv);
    free(be);
}

static void pass_clear(struct pass *p)
{
    size_t i;

    for (i = 0; i < p->n_fetches; i++) {
        dalist_free(p->fetches[i].list);
        if (p->relists != NULL)
            dalist_free(p->relists[i].list);
    }
    free(p->fetches);
    free(p->relists);
    for (i = 0; i < p->n_be; i++)
        drift_free(p->be[i].d);
    free(p->be);
    plan_free(p->plan);
    zonetab_free(p->tab);
}

enum pass_result pass_run(const struct pass_env *env, const struct pass_opts *o, struct err *e)
{
    struct pass P;
    struct err le;
    bool taken = false;
    int rc;

    memset(&P, 0, sizeof(P));
    P.env = env;
    P.cfg = env->cfg;
    P.rs = env->rs;
    P.o = *o;
    P.e = e;
    P.ttl_ms = (long)env->cfg->rec_lock_ttl_s * 1000L;
    err_clear(e);
    rc = recstore_ping(P.rs, e);
    if (rc == 0)
        rc = recstore_lock_take(P.rs, env->holder, P.ttl_ms, &taken, e);
    if (rc != 0) {
        log_msg(LOG_ERROR, "pass not started: Redis unavailable", "error", e->text, NULL);
        if (env->metrics != NULL)
            metrics_counter_add(env->metrics->runs, PASS_RESULT_FAILED, 1);
        return PASS_RESULT_FAILED;
    }
    if (!taken) {
        log_msg(LOG_INFO, "pass skipped: another reconciler holds the lock", NULL);
        if (env->metrics != NULL)
            metrics_counter_add(env->metrics->runs, PASS_RESULT_SKIPPED_LOCKED, 1);
        return PASS_RESULT_SKIPPED_LOCKED;
    }
    clock_gettime(CLOCK_MONOTONIC, &P.t0);
    P.t_lock = P.t0;
    P.started_at = (long long)time(NULL);
    log_msg(LOG_INFO, "pass started", "dry_run", o->dry_run ? "1" : "0", "force",
            o->force ? "1" : "0", NULL);
    rc = run_steps(&P);
    finish(&P, rc != 0);
    err_clear(&le);
    if (recstore_lock_release(P.rs, env->holder, &le) != 0)
        log_msg(LOG_WARN, "cannot release the pass lock (it expires)", "error", le.text, NULL);
    pass_clear(&P);
    return rc != 0 ? PASS_RESULT_FAILED : PASS_RESULT_OK;
}
