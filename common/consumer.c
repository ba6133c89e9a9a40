/* consumer.c -- the at-least-once consumer loop shared by every writer (see consumer.h).
 *
 * Reads notifications, coalesces them per zone, fetches each zone's latest state, hands the
 * backend only what it has not applied yet, then records the applied versions and acks in one
 * script; failed entries stay pending and come back through XPENDING + XCLAIM when their backoff
 * is over, or go to the dead letters (deadletter.h). What the backend does with a change is the
 * backend's business.
 *
 * Modes, checked in this order on every turn of the loop:
 *   bootstrap  create the group (after a start, a reconnect or NOGROUP), then drain;
 *   trim       every TRIM_INTERVAL_MS: XTRIM MINID ~ below what every group still needs;
 *   open       circuit breaker open: probe the backend every breaker_probe_s; new entries are
 *              still read but parked (pending, delivery counter reset to 0), never applied;
 *   drain      own pending entries, oldest first, without waiting for their backoff;
 *   retry      every retry_interval_s: scan the group's pending list for due entries (own ones
 *              after backoff(deliveries), others' after max(claim_idle_s, backoff)), claim them;
 *   read       XREADGROUP > with BLOCK until the next retry scan. */
#include "consumer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "deadletter.h"
#include "heartbeat.h"
#include "inventory.h"
#include "log.h"
#include "store.h"
#include "stream.h"

/* Failed changes of a batch logged one by one; when more fail, one more line sums them up. */
#define FAILED_LOG_EACH   5
#define TRIM_INTERVAL_MS  60000 /* how often the stream is trimmed below every group's need */
#define SCAN_PAGES        4     /* XPENDING pages (of batch_size) looked at per retry scan */
#define RECONNECT_BASE_MS 100   /* first reconnect delay */
#define RECONNECT_CAP_MS  10000 /* longest reconnect delay */
#define WAKE_SLOTS        32    /* consumer loops of one process consumer_wake can reach */

const double consumer_latency_bounds_s[CONSUMER_LATENCY_NBUCKETS] = CONSUMER_LATENCY_BOUNDS_S;

/* consumer_wake's view of the loops: wake_fd[i] is the socket + 1 of loop i while it blocks in
 * XREADGROUP, 0 otherwise. Lock-free atomics, so the signal handler may read them. */
static atomic_int wake_used[WAKE_SLOTS];
static atomic_int wake_fd[WAKE_SLOTS];

/* One distinct zone of a batch and the entries that named it. */
struct zgroup {
    const char *zone; /* borrowed from the entries */
    size_t first;     /* index of its first entry in the sorted order */
    size_t count;     /* number of entries */
    int has_refresh;  /* some entry was an identical re-push */
    int has_push;     /* some entry forces the latest state (op=push) */
    int change;       /* index into the change array, -1 if none */
};

struct loop {
    const struct config *cfg;
    const struct backend_conf *bc;
    const struct change_backend *backend;
    struct consumer_stats *stats;
    volatile sig_atomic_t *stop;
    struct store *st;
    char stream[160];
    char dead_key[256];
    const char *me; /* consumer name */
    size_t cap;     /* batch capacity */
    struct stream_entry *entries;
    size_t *order;
    struct zgroup *groups;
    struct change *changes;
    const char **zones;
    struct store_state *states;
    const char **ack_ids;
    const char **ok_zones;
    uint64_t *ok_versions;
    size_t *failed; /* indexes into changes of the batch's failed changes */
    size_t *inv;    /* indexes into entries of the batch's inventory requests */
    struct deadletter *dl;
    struct heartbeat *hb; /* P writer:<backend> and P failures */
    struct stream_pending *pend;
    struct stream_pending *due;
    /* state */
    int wake_slot;                       /* index into wake_fd, -1 = none free */
    int draining;                        /* own pending list being drained */
    char drain_from[STREAM_ID_SIZE + 1]; /* its cursor: "-" or "(<id>" */
    char scan_from[STREAM_ID_SIZE + 1];  /* retry scan cursor */
    int64_t next_retry;                  /* monotonic ms of the next retry scan */
    int64_t next_trim;                   /* ... of the next trim */
    int open;                            /* circuit breaker open */
    int fails;                           /* consecutive whole-batch failures */
    int64_t next_probe;                  /* monotonic ms of the next probe while open */
    char warned_first[STREAM_ID_SIZE];   /* first entry id of the last warn_lost warning */
    unsigned reconnects;                 /* consecutive Redis failures (reconnect backoff) */
    uint64_t rng;                        /* reconnect jitter */
};

#define STAT_ADD(L, field, v)                                                                      \
    do {                                                                                           \
        if ((L)->stats != NULL)                                                                    \
            atomic_fetch_add_explicit(&(L)->stats->field, (v), memory_order_relaxed);              \
    } while (0)

void consumer_stats_init(struct consumer_stats *s)
{
    size_t i;

    atomic_init(&s->entries, 0);
    atomic_init(&s->applied, 0);
    atomic_init(&s->verified, 0);
    atomic_init(&s->repaired, 0);
    atomic_init(&s->stale, 0);
    atomic_init(&s->failed, 0);
    atomic_init(&s->batches, 0);
    atomic_init(&s->invalid, 0);
    atomic_init(&s->retried, 0);
    atomic_init(&s->dead, 0);
    atomic_init(&s->claimed, 0);
    atomic_init(&s->skipped, 0);
    atomic_init(&s->inventories, 0);
    atomic_init(&s->breaker_open, 0);
    atomic_init(&s->breaker_opens, 0);
    atomic_init(&s->last_apply_unix, 0);
    atomic_init(&s->reconnects, 0);
    for (i = 0; i < CONSUMER_LATENCY_NBUCKETS; i++)
        atomic_init(&s->apply_buckets[i], 0);
    atomic_init(&s->apply_count, 0);
    atomic_init(&s->apply_sum_us, 0);
}

void consumer_wake(void)
{
    int i;

    for (i = 0; i < WAKE_SLOTS; i++) {
        int v = atomic_load(&wake_fd[i]);

        if (v > 0)
            shutdown(v - 1, SHUT_RDWR);
    }
}

static int wake_register(void)
{
    int i;

    for (i = 0; i < WAKE_SLOTS; i++) {
        int expected = 0;

        if (atomic_compare_exchange_strong(&wake_used[i], &expected, 1)) {
            atomic_store(&wake_fd[i], 0);
            return i;
        }
    }
    return -1;
}

static void wake_release(int slot)
{
    if (slot < 0)
        return;
    atomic_store(&wake_fd[slot], 0);
    atomic_store(&wake_used[slot], 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep @ms in slices, returning early when *@stop is set. */
static void nap(int64_t ms, volatile sig_atomic_t *stop)
{
    while (ms > 0 && !*stop) {
        int64_t slice = ms > 100 ? 100 : ms;
        struct timespec ts = {0, (long)slice * 1000000L};

        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

/* what the qsort comparators compare: per thread, as several loops may run in one process */
static _Thread_local const struct stream_entry *sort_base;

static int cmp_entry(const void *a, const void *b)
{
    const struct stream_entry *x = &sort_base[*(const size_t *)a];
    const struct stream_entry *y = &sort_base[*(const size_t *)b];

    return strcmp(x->zone, y->zone);
}

static _Thread_local const struct change *reason_base;

static int cmp_reason(const void *a, const void *b)
{
    return strcmp(reason_base[*(const size_t *)a].reason, reason_base[*(const size_t *)b].reason);
}

/* log_failed_rest - one line for the @n failed changes of a batch (indexes @idx into
 * @changes; sorted here) when more than FAILED_LOG_EACH failed: how many, how many were not
 * logged one by one, and the most common reason with its count. */
static void log_failed_rest(const struct loop *L, size_t *idx, size_t n)
{
    size_t i, run = 1, best = 0, best_run = 0;
    char sn[24], sl[24], sc[24];

    reason_base = L->changes;
    qsort(idx, n, sizeof(*idx), cmp_reason);
    for (i = 1; i <= n; i++) {
        if (i < n && strcmp(L->changes[idx[i]].reason, L->changes[idx[i - 1]].reason) == 0) {
            run++;
            continue;
        }
        if (run > best_run) {
            best_run = run;
            best = idx[i - 1];
        }
        run = 1;
    }
    snprintf(sn, sizeof(sn), "%zu", n);
    snprintf(sl, sizeof(sl), "%zu", n - FAILED_LOG_EACH);
    snprintf(sc, sizeof(sc), "%zu", best_run);
    log_msg(LOG_WARN, "more changes failed, will retry", "backend", L->bc->name, "failed", sn,
            "not_logged", sl, "most_common_reason", L->changes[best].reason, "with_that_reason", sc,
            NULL);
}

static const char *op_name(enum change_op op)
{
    switch (op) {
    case CHANGE_SAVE:
        return "save";
    case CHANGE_DELETE:
        return "delete";
    case CHANGE_VERIFY:
        return "verify";
    }
    return "?";
}

/* observe - one apply call of @us microseconds in the latency histogram. */
static void observe(struct loop *L, int64_t us)
{
    size_t i;

    if (L->stats == NULL)
        return;
    if (us < 0)
        us = 0;
    for (i = 0; i < CONSUMER_LATENCY_NBUCKETS; i++) {
        if ((double)us <= consumer_latency_bounds_s[i] * 1e6)
            atomic_fetch_add_explicit(&L->stats->apply_buckets[i], 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&L->stats->apply_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&L->stats->apply_sum_us, (unsigned long long)us,
                              memory_order_relaxed);
}

/* open_breaker - open the circuit breaker after a whole-batch failure (@reason). */
static void open_breaker(struct loop *L, const char *reason)
{
    char sf[16], sp[16];

    L->open = 1;
    L->next_probe = now_ms() + (int64_t)L->cfg->breaker_probe_s * 1000;
    if (L->stats != NULL) {
        atomic_store_explicit(&L->stats->breaker_open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&L->stats->breaker_opens, 1, memory_order_relaxed);
    }
    snprintf(sf, sizeof(sf), "%d", L->fails);
    snprintf(sp, sizeof(sp), "%d", L->cfg->breaker_probe_s);
    log_msg(LOG_WARN, "circuit breaker open: backend unusable, pausing it", "backend", L->bc->name,
            "failed_batches", sf, "reason", reason, "probe_every_s", sp, NULL);
}

/* probe_breaker - while open: probe the backend; on success close the breaker and drain the
 * backlog (own pending entries first, ignoring their backoff). */
static void probe_breaker(struct loop *L)
{
    char reason[256] = "";
    int rc = 0;

    if (L->backend->probe != NULL)
        rc = L->backend->probe(L->backend->ctx, reason, sizeof(reason));
    if (rc != 0) {
        log_msg(LOG_DEBUG, "backend probe failed", "backend", L->bc->name, "reason", reason, NULL);
        L->next_probe = now_ms() + (int64_t)L->cfg->breaker_probe_s * 1000;
        return;
    }
    L->open = 0;
    L->fails = L->cfg->breaker_failures - 1; /* half-open: one more whole failure reopens it */
    L->draining = 1;
    snprintf(L->drain_from, sizeof(L->drain_from), "-");
    if (L->stats != NULL)
        atomic_store_explicit(&L->stats->breaker_open, 0, memory_order_relaxed);
    log_msg(LOG_INFO, "circuit breaker closed: backend usable again, draining the backlog",
            "backend", L->bc->name, NULL);
}

/* classify - sort the @n entries read: invalid and targeted-elsewhere ones into the ack list
 * (counted in *@ninvalid / *@nskip), inventory requests into L->inv (*@ninv), the rest into
 * L->order (returned count). */
static size_t classify(struct loop *L, size_t n, size_t *nack, size_t *ninvalid, size_t *nskip,
                       size_t *ninv)
{
    size_t i, nv = 0;

    for (i = 0; i < n; i++) {
        const struct stream_entry *en = &L->entries[i];

        if (!en->valid) {
            L->ack_ids[(*nack)++] = en->id;
            (*ninvalid)++;
            log_msg(LOG_WARN, "skipping malformed or trimmed stream entry", "backend", L->bc->name,
                    "id", en->id, "reason", "no zone/op/version fields (trimmed while pending?)",
                    NULL);
        } else if (en->backend[0] != '\0' && strcmp(en->backend, L->bc->name) != 0) {
            L->ack_ids[(*nack)++] = en->id;
            (*nskip)++;
        } else if (strcmp(en->op, "inventory") == 0) {
            L->inv[(*ninv)++] = i;
        } else {
            L->order[nv++] = i;
        }
    }
    return nv;
}

/* group_zones - group the @nv entries of L->order by zone into L->groups; returns how many. */
static size_t group_zones(struct loop *L, size_t nv)
{
    size_t i, ng = 0;

    sort_base = L->entries;
    qsort(L->order, nv, sizeof(*L->order), cmp_entry);
    for (i = 0; i < nv; i++) {
        const struct stream_entry *en = &L->entries[L->order[i]];

        if (ng == 0 || strcmp(L->groups[ng - 1].zone, en->zone) != 0) {
            L->groups[ng].zone = en->zone;
            L->groups[ng].first = i;
            L->groups[ng].count = 0;
            L->groups[ng].has_refresh = 0;
            L->groups[ng].has_push = 0;
            L->groups[ng].change = -1;
            L->zones[ng] = en->zone;
            ng++;
        }
        L->groups[ng - 1].count++;
        if (strcmp(en->op, "refresh") == 0)
            L->groups[ng - 1].has_refresh = 1;
        else if (strcmp(en->op, "push") == 0)
            L->groups[ng - 1].has_push = 1;
    }
    return ng;
}

/* decide - the change zone group @i needs given its state @s, or 0 when it needs none (stale):
 * fills *@op and *@version. */
static int decide(const struct zgroup *g, const struct store_state *s, enum change_op *op,
                  uint64_t *version)
{
    if (g->has_push) {
        /* forced: the latest state whatever the backend applied */
        if (s->exists && !s->deleted) {
            *op = CHANGE_SAVE;
            *version = s->version;
        } else {
            *op = CHANGE_DELETE;
            *version = s->exists ? s->version : s->applied;
        }
        return 1;
    }
    if (s->exists && s->version > s->applied) {
        *op = s->deleted ? CHANGE_DELETE : CHANGE_SAVE;
        *version = s->version;
        return 1;
    }
    if (s->exists && !s->deleted && g->has_refresh) {
        *op = CHANGE_VERIFY;
        *version = s->version;
        return 1;
    }
    if (!s->exists && s->applied > 0) {
        *op = CHANGE_DELETE; /* state purged: make sure the backend dropped it */
        *version = s->applied;
        return 1;
    }
    return 0;
}

/* bury - move the @ndl dead letters of the batch and log each. Returns 0 or a Redis error. */
static int bury(struct loop *L, size_t ndl, struct err *e)
{
    size_t i, buried = 0;
    int rc;

    if (ndl == 0)
        return 0;
    rc = deadletter_bury(store_conn(L->st), L->dead_key, L->stream, L->bc->name,
                         L->cfg->dead_maxlen, L->me, (long long)time(NULL), L->dl, ndl, &buried, e);
    if (rc != 0)
        return rc;
    for (i = 0; i < ndl; i++) {
        char sv[24], sa[24];

        snprintf(sv, sizeof(sv), "%" PRIu64, L->dl[i].version);
        snprintf(sa, sizeof(sa), "%" PRIu64, L->dl[i].attempts);
        log_msg(LOG_WARN, "entry moved to the dead letters", "backend", L->bc->name, "zone",
                L->dl[i].zone, "op", L->dl[i].op, "version", sv, "attempts", sa, "reason",
                L->dl[i].reason, "permanent", L->dl[i].permanent ? "1" : "0", "id", L->dl[i].id,
                "dead", L->dead_key, NULL);
        heartbeat_fail(L->hb, L->dl[i].zone, L->dl[i].op, L->dl[i].version, L->dl[i].reason,
                       L->dl[i].attempts, 1);
    }
    STAT_ADD(L, dead, buried);
    return 0;
}

/* inventories - answer the @ninv inventory requests of the batch, then ack them. */
static int inventories(struct loop *L, size_t ninv, struct err *e)
{
    size_t i;
    int rc;

    for (i = 0; i < ninv; i++) {
        const struct stream_entry *en = &L->entries[L->inv[i]];
        const char *id = en->id;
        struct inventory_result res;
        char suffix[STREAM_NAME_SIZE + STREAM_REQUEST_SIZE + 16], key[512], sz[24];

        snprintf(suffix, sizeof(suffix), "inventory:%s:%s", L->bc->name, en->request);
        rc = store_key(L->st, suffix, key, sizeof(key));
        if (rc != 0)
            return err_set(e, rc, "inventory key too long");
        rc = inventory_publish(store_conn(L->st), key, L->me, L->backend, &res, e);
        if (rc != 0)
            return rc;
        rc = store_commit(L->st, L->bc->name, NULL, NULL, 0, &id, 1, e);
        if (rc != 0)
            return rc;
        STAT_ADD(L, inventories, 1);
        snprintf(sz, sizeof(sz), "%zu", res.zones);
        if (res.ok)
            log_msg(LOG_INFO, "inventory published", "backend", L->bc->name, "request", en->request,
                    "zones", sz, "key", key, NULL);
        else
            log_msg(LOG_WARN, "inventory failed, error published", "backend", L->bc->name,
                    "request", en->request, "reason", res.error, "key", key, NULL);
    }
    return 0;
}

/* process - carry out @n entries: returns 0, or DADNS_EREDIS/DADNS_EREPLY when Redis failed
 * (what was not recorded stays pending and is read again after the reconnect). */
static int process(struct loop *L, size_t n, struct err *e)
{
    size_t i, ng, nv, nc = 0, nack = 0, nok = 0, ninvalid = 0, nstale = 0, nfailed = 0;
    size_t nskip = 0, ninv = 0, ndl = 0, napplied = 0;
    struct store_batch *hold = NULL;
    const char *whole_reason = NULL;
    uint64_t max_attempts = (uint64_t)L->cfg->max_attempts;
    char vbuf[24];
    int rc = 0, arc = 0;

    nv = classify(L, n, &nack, &ninvalid, &nskip, &ninv);
    ng = group_zones(L, nv);
    if (ng > 0) {
        rc = store_fetch(L->st, L->bc->name, L->zones, ng, L->states, &hold, e);
        if (rc != 0)
            return rc;
    }

    /* Decide what each zone needs. */
    for (i = 0; i < ng; i++) {
        const struct store_state *s = &L->states[i];
        struct change *c = &L->changes[nc];
        enum change_op op;
        uint64_t version;

        if (!decide(&L->groups[i], s, &op, &version)) {
            nstale++;
            continue;
        }
        memset(c, 0, sizeof(*c));
        c->op = op;
        snprintf(c->zone, sizeof(c->zone), "%s", L->groups[i].zone);
        c->version = version;
        c->force = L->groups[i].has_push; /* op=push: rewrite even an applied version */
        if (op != CHANGE_DELETE) {
            c->serial = s->serial;
            snprintf(c->digest, sizeof(c->digest), "%s", s->digest);
            if (s->text == NULL) {
                /* A live state without text cannot be applied: leave it for retry. */
                c->result = DADNS_EREPLY;
                snprintf(c->reason, sizeof(c->reason), "stored state has no zone text");
            }
            c->text = s->text;
            c->text_len = s->text_len;
        }
        L->groups[i].change = (int)nc;
        nc++;
    }

    if (nc > 0) {
        int64_t t0 = now_us();

        arc = L->backend->apply(L->backend->ctx, L->changes, nc);
        observe(L, now_us() - t0);
        if (arc != 0) {
            for (i = 0; i < nc; i++) {
                if (L->changes[i].result == 0) {
                    L->changes[i].result = arc;
                    snprintf(L->changes[i].reason, sizeof(L->changes[i].reason),
                             "backend unavailable: %s", err_str(arc));
                }
            }
            whole_reason = L->changes[0].reason;
        }
        STAT_ADD(L, batches, 1);
    }

    /* Collect what to record, ack and bury. */
    for (i = 0; i < ng; i++) {
        const struct zgroup *g = &L->groups[i];
        struct change *c = g->change >= 0 ? &L->changes[g->change] : NULL;
        size_t k, kept = 0;
        uint64_t att = 0; /* deliveries of the kept entries */

        if (c != NULL && c->result != 0) {
            snprintf(vbuf, sizeof(vbuf), "%" PRIu64, c->version);
            for (k = 0; k < g->count; k++) {
                const struct stream_entry *en = &L->entries[L->order[g->first + k]];
                uint64_t d = en->deliveries > 0 ? en->deliveries : 1;

                if (!c->permanent && d < max_attempts) {
                    kept++;
                    att = d > att ? d : att;
                    continue;
                }
                L->dl[ndl].id = en->id;
                L->dl[ndl].zone = en->zone;
                L->dl[ndl].op = en->op;
                L->dl[ndl].version = en->version;
                L->dl[ndl].reason = c->reason;
                L->dl[ndl].attempts = d;
                L->dl[ndl].permanent = c->permanent ? 1 : 0;
                ndl++;
            }
            if (kept == 0)
                continue;
            /* a database outage fails the whole batch: a few lines, then one summary */
            L->failed[nfailed++] = (size_t)g->change;
            if (nfailed <= FAILED_LOG_EACH)
                log_msg(LOG_WARN, "change failed, will retry", "backend", L->bc->name, "zone",
                        c->zone, "op", op_name(c->op), "version", vbuf, "reason", c->reason, NULL);
            heartbeat_fail(L->hb, c->zone, op_name(c->op), c->version, c->reason, att, 0);
            continue;
        }
        if (c != NULL) {
            snprintf(vbuf, sizeof(vbuf), "%" PRIu64, c->version);
            L->ok_zones[nok] = g->zone;
            L->ok_versions[nok] = c->version;
            nok++;
            if (c->op == CHANGE_VERIFY && c->repaired)
                log_msg(LOG_INFO, "zone repaired", "backend", L->bc->name, "zone", c->zone,
                        "version", vbuf, NULL);
            else
                log_msg(LOG_DEBUG, "change applied", "backend", L->bc->name, "zone", c->zone, "op",
                        op_name(c->op), "version", vbuf, NULL);
        }
        for (k = 0; k < g->count; k++)
            L->ack_ids[nack++] = L->entries[L->order[g->first + k]].id;
    }
    if (nfailed > FAILED_LOG_EACH)
        log_failed_rest(L, L->failed, nfailed);
    rc = store_commit(L->st, L->bc->name, L->ok_zones, L->ok_versions, nok, L->ack_ids, nack, e);
    if (rc == 0)
        rc = bury(L, ndl, e);
    if (rc == 0)
        rc = inventories(L, ninv, e);
    if (rc == 0) {
        STAT_ADD(L, entries, n);
        STAT_ADD(L, stale, nstale);
        STAT_ADD(L, failed, nfailed);
        STAT_ADD(L, invalid, ninvalid);
        STAT_ADD(L, skipped, nskip);
        for (i = 0; i < nc; i++) {
            if (L->changes[i].result != 0)
                continue;
            napplied++;
            if (L->changes[i].op == CHANGE_VERIFY) {
                STAT_ADD(L, verified, 1);
                STAT_ADD(L, repaired, L->changes[i].repaired ? 1 : 0);
            } else {
                STAT_ADD(L, applied, 1);
            }
        }
        if (napplied > 0 && L->stats != NULL)
            atomic_store_explicit(&L->stats->last_apply_unix, (long long)time(NULL),
                                  memory_order_relaxed);
    }
    if (rc == 0 && nc > 0) {
        char sn[24], sa[24], ss[24], sf[24], sd[24];

        snprintf(sn, sizeof(sn), "%zu", n);
        snprintf(sa, sizeof(sa), "%zu", nok);
        snprintf(ss, sizeof(ss), "%zu", nstale + ninvalid + nskip);
        snprintf(sf, sizeof(sf), "%zu", nfailed);
        snprintf(sd, sizeof(sd), "%zu", ndl);
        log_msg(LOG_INFO, "batch done", "backend", L->bc->name, "entries", sn, "applied", sa,
                "skipped", ss, "failed", sf, "dead", sd, NULL);
    }
    /* the circuit breaker counts whole-batch failures only (the backend was unusable) */
    if (nc > 0) {
        if (arc < 0) {
            L->fails++;
            if (!L->open && L->fails >= L->cfg->breaker_failures)
                open_breaker(L, whole_reason != NULL ? whole_reason : err_str(arc));
        } else {
            L->fails = 0;
        }
    }
    /* the heartbeat, with this batch's failures, once the batch is recorded */
    if (rc == 0)
        rc = heartbeat_tick(L->hb, store_conn(L->st), L->stats, L->open, 1, e);
    else
        heartbeat_drop(L->hb); /* the batch is read again, its failures with it */
    store_batch_free(hold);
    return rc;
}

/* park - while the breaker is open: ack what needs no backend (malformed, trimmed, targeted at
 * another group), keep the rest pending with its delivery counter at 0. */
static int park(struct loop *L, size_t n, struct err *e)
{
    size_t i, nack = 0, npark = 0, ninvalid = 0, nskip = 0;
    int rc;

    for (i = 0; i < n; i++) {
        const struct stream_entry *en = &L->entries[i];

        if (!en->valid) {
            L->ack_ids[nack++] = en->id;
            ninvalid++;
        } else if (en->backend[0] != '\0' && strcmp(en->backend, L->bc->name) != 0) {
            L->ack_ids[nack++] = en->id;
            nskip++;
        } else {
            L->ok_zones[npark++] = en->id; /* borrowed as a list of ids */
        }
    }
    rc = store_commit(L->st, L->bc->name, NULL, NULL, 0, L->ack_ids, nack, e);
    if (rc == 0)
        rc = stream_park(store_conn(L->st), L->stream, L->bc->name, L->me, L->ok_zones, npark, e);
    if (rc == 0) {
        STAT_ADD(L, entries, n);
        STAT_ADD(L, invalid, ninvalid);
        STAT_ADD(L, skipped, nskip);
    }
    return rc;
}

/* claim - claim the @np pending entries of L->due into L->entries (*@n), counting retries
 * (own entries) and takeovers (others'). */
static int claim(struct loop *L, size_t np, size_t *n, struct err *e)
{
    size_t i, j = 0, gone = 0, own = 0, others = 0;
    int rc;

    rc = stream_claim(store_conn(L->st), L->stream, L->bc->name, L->me, L->due, np, L->entries,
                      L->cap, n, &gone, e);
    if (rc != 0)
        return rc;
    /* the claimed entries come in the order asked, the gone ones left out */
    for (i = 0; i < np && j < *n; i++) {
        if (strcmp(L->entries[j].id, L->due[i].id) != 0)
            continue;
        j++;
        if (strcmp(L->due[i].consumer, L->me) == 0)
            own++;
        else
            others++;
    }
    if (gone > 0) {
        char sg[24];

        snprintf(sg, sizeof(sg), "%zu", gone);
        log_msg(LOG_DEBUG,
                "pending entries gone before the claim (trimmed, or taken by another "
                "consumer)",
                "backend", L->bc->name, "entries", sg, NULL);
    }
    if (others > 0) {
        char sc[24];

        snprintf(sc, sizeof(sc), "%zu", others);
        log_msg(LOG_INFO, "took over entries left pending by another consumer", "backend",
                L->bc->name, "entries", sc, NULL);
    }
    STAT_ADD(L, retried, own);
    STAT_ADD(L, claimed, others);
    return 0;
}

/* drain_page - the next page of own pending entries (oldest first, backoff ignored), claimed
 * into L->entries (*@n). *@done set when there are none left. */
static int drain_page(struct loop *L, size_t *n, int *done, struct err *e)
{
    size_t np = 0;
    int rc;

    *n = 0;
    *done = 0;
    rc = stream_pending(store_conn(L->st), L->stream, L->bc->name, 0, L->drain_from, L->cap, L->me,
                        L->due, L->cap, &np, e);
    if (rc != 0)
        return rc;
    if (np == 0) {
        *done = 1;
        return 0;
    }
    snprintf(L->drain_from, sizeof(L->drain_from), "(%s", L->due[np - 1].id);
    return claim(L, np, n, e);
}

/* due_after - the idle time after which pending entry @p may be delivered again. */
static int64_t due_after(const struct loop *L, const struct stream_pending *p)
{
    int64_t b =
        backoff_ms((int64_t)L->cfg->retry_base_s * 1000, (int64_t)L->cfg->retry_cap_s * 1000,
                   p->deliveries, backoff_jitter_id(p->id, p->deliveries));
    int64_t claim_ms = (int64_t)L->cfg->claim_idle_s * 1000;

    if (strcmp(p->consumer, L->me) == 0 || b >= claim_ms)
        return b;
    return claim_ms;
}

/* retry_scan - look at up to SCAN_PAGES pages of the group's pending list (from where the last
 * scan stopped) for entries due again, and claim up to a batch of them into L->entries (*@n).
 * *@full set when a whole batch was due (more may be). */
static int retry_scan(struct loop *L, size_t *n, int *full, struct err *e)
{
    int64_t min_idle = (int64_t)L->cfg->retry_base_s * 800; /* the least any entry waits */
    size_t ndue = 0, page, i;
    int rc;

    *n = 0;
    *full = 0;
    for (page = 0; page < SCAN_PAGES && ndue < L->cap; page++) {
        size_t np = 0;

        rc = stream_pending(store_conn(L->st), L->stream, L->bc->name, min_idle, L->scan_from,
                            L->cap, NULL, L->pend, L->cap, &np, e);
        if (rc != 0)
            return rc;
        for (i = 0; i < np && ndue < L->cap; i++) {
            if (L->pend[i].idle_ms >= due_after(L, &L->pend[i]))
                L->due[ndue++] = L->pend[i];
        }
        if (i < np) {
            /* the batch is full: resume right after the last entry taken */
            snprintf(L->scan_from, sizeof(L->scan_from), "(%s", L->due[ndue - 1].id);
            break;
        }
        if (np < L->cap) {
            snprintf(L->scan_from, sizeof(L->scan_from), "-"); /* end reached: wrap */
            break;
        }
        snprintf(L->scan_from, sizeof(L->scan_from), "(%s", L->pend[np - 1].id);
    }
    *full = ndue == L->cap;
    if (ndue == 0)
        return 0;
    return claim(L, ndue, n, e);
}

/* read_new - XREADGROUP > blocking up to @block_ms, wakeable by consumer_wake. */
static int read_new(struct loop *L, int block_ms, size_t *n, struct err *e)
{
    struct rconn *rc = store_conn(L->st);
    int code, fd;

    *n = 0;
    code = rconn_connect(rc, e);
    if (code != 0)
        return code;
    fd = rconn_fd(rc);
    if (L->wake_slot >= 0 && fd >= 0)
        atomic_store(&wake_fd[L->wake_slot], fd + 1);
    if (*L->stop) {
        code = 0; /* a stop came before the slot was set: do not block */
    } else {
        code = stream_read(rc, L->stream, L->bc->name, L->me, ">", L->cap,
                           block_ms > 0 ? block_ms : 1, L->entries, L->cap, n, e);
    }
    if (L->wake_slot >= 0)
        atomic_store(&wake_fd[L->wake_slot], 0);
    return code;
}

/* warn_lost - say so when the stream lost entries group @g had not acknowledged: its oldest
 * pending entry is older than the stream's first (trimmed while pending), or it has more
 * entries to read than the stream holds while its last delivered one is gone (trimmed before
 * it read them). Only XADD MAXLEN (or a manual XTRIM/XDEL) does that: trim() never goes past
 * what a group needs. Returns 1 when it warned. */
static int warn_lost(struct loop *L, const struct stream_group_floor *g,
                     const struct stream_info *si)
{
    int pending_lost = g->pending > 0 && stream_id_cmp(g->needed, si->first_id) < 0;
    int unread_lost = g->lag > si->length && stream_id_cmp(g->last_delivered, si->first_id) < 0;
    char sl[24];

    if (!pending_lost && !unread_lost)
        return 0;
    snprintf(sl, sizeof(sl), "%lld", unread_lost ? g->lag - si->length : 0LL);
    log_msg(LOG_WARN,
            "the stream lost entries a group had not acknowledged (redis.stream_maxlen "
            "reached?): the version check and the reconciler repair what they announced",
            "backend", L->bc->name, "reason", "trimmed before acknowledged", "group", g->name,
            "needed_from", g->needed, "first_id", si->first_id, "pending_trimmed",
            pending_lost ? "yes" : "no", "unread_trimmed", sl, NULL);
    return 1;
}

/* trim - XTRIM MINID ~ below the oldest entry any group still needs (its oldest pending entry,
 * or the one after its last delivered), after warning about entries already lost (warn_lost).
 * Returns 0 or a Redis error. */
static int trim(struct loop *L, struct err *e)
{
    struct stream_group_floor *g = NULL;
    struct stream_info si;
    const char *floor = NULL;
    long long removed = 0;
    size_t ng = 0, i;
    int rc;

    rc = stream_group_floors(store_conn(L->st), L->stream, &g, &ng, e);
    if (rc != 0 || ng == 0)
        goto out;
    for (i = 0; i < ng; i++) {
        if (g[i].needed[0] != '\0' && (floor == NULL || stream_id_cmp(g[i].needed, floor) < 0))
            floor = g[i].needed;
    }
    if (floor == NULL)
        goto out;
    rc = stream_info(store_conn(L->st), L->stream, &si, e);
    if (rc == DADNS_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc != 0)
        goto out;
    /* once per state of the stream's head, not every round */
    if (strcmp(L->warned_first, si.first_id) != 0) {
        int warned = 0;

        for (i = 0; i < ng; i++) {
            if (g[i].needed[0] != '\0')
                warned |= warn_lost(L, &g[i], &si);
        }
        if (warned)
            snprintf(L->warned_first, sizeof(L->warned_first), "%s", si.first_id);
    }
    rc = stream_trim_minid(store_conn(L->st), L->stream, floor, &removed, e);
    if (rc == 0 && removed > 0) {
        char sr[24];

        snprintf(sr, sizeof(sr), "%lld", removed);
        log_msg(LOG_INFO, "stream trimmed below what every group still needs", "backend",
                L->bc->name, "removed", sr, "min_id", floor, NULL);
    }
out:
    free(g);
    return rc;
}

static int alloc_loop(struct loop *L, size_t cap)
{
    L->cap = cap;
    L->entries = calloc(cap, sizeof(*L->entries));
    L->order = calloc(cap, sizeof(*L->order));
    L->groups = calloc(cap, sizeof(*L->groups));
    L->changes = calloc(cap, sizeof(*L->changes));
    L->zones = calloc(cap, sizeof(*L->zones));
    L->states = calloc(cap, sizeof(*L->states));
    L->ack_ids = calloc(cap, sizeof(*L->ack_ids));
    L->ok_zones = calloc(cap, sizeof(*L->ok_zones));
    L->ok_versions = calloc(cap, sizeof(*L->ok_versions));
    L->failed = calloc(cap, sizeof(*L->failed));
    L->inv = calloc(cap, sizeof(*L->inv));
    L->dl = calloc(cap, sizeof(*L->dl));
    L->pend = calloc(cap, sizeof(*L->pend));
    L->due = calloc(cap, sizeof(*L->due));
    if (!L->entries || !L->order || !L->groups || !L->changes || !L->zones || !L->states ||
        !L->ack_ids || !L->ok_zones || !L->ok_versions || !L->failed || !L->inv || !L->dl ||
        !L->pend || !L->due)
        return DADNS_ENOMEM;
    return 0;
}

static void free_loop(struct loop *L)
{
    free(L->entries);
    free(L->order);
    free(L->groups);
    free(L->changes);
    free(L->zones);
    free(L->states);
    free(L->ack_ids);
    free(L->ok_zones);
    free(L->ok_versions);
    free(L->failed);
    free(L->inv);
    free(L->dl);
    free(L->pend);
    free(L->due);
    store_free(L->st);
    heartbeat_free(L->hb);
    wake_release(L->wake_slot);
}

/* redis_failed - log a Redis failure, drop the connection and wait (exponential backoff with
 * jitter, capped at RECONNECT_CAP_MS); the next turn bootstraps again. */
static void redis_failed(struct loop *L, const char *msg, const char *reason)
{
    int64_t delay = backoff_ms(RECONNECT_BASE_MS, RECONNECT_CAP_MS, ++L->reconnects,
                               backoff_jitter_next(&L->rng));
    char sb[24];

    snprintf(sb, sizeof(sb), "%" PRId64, delay);
    log_msg(LOG_WARN, msg, "backend", L->bc->name, "reason", reason, "retry_ms", sb, NULL);
    rconn_drop(store_conn(L->st));
    nap(delay, L->stop);
}

int consumer_run(const struct config *cfg, const struct backend_conf *bc,
                 const struct change_backend *backend, volatile sig_atomic_t *stop,
                 struct consumer_stats *stats, struct err *e)
{
    struct loop L;
    char client[160];
    int need_bootstrap = 1, rc;
    struct err re;

    memset(&L, 0, sizeof(L));
    L.cfg = cfg;
    L.bc = bc;
    L.backend = backend;
    L.stats = stats;
    L.stop = stop;
    L.me = cfg->consumer_name;
    L.wake_slot = wake_register();
    L.rng = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&L;
    snprintf(L.scan_from, sizeof(L.scan_from), "-");
    snprintf(client, sizeof(client), "dadns-writer-%s", bc->name);
    rc = store_new(cfg, client, &L.st);
    if (rc == 0)
        rc = store_key(L.st, "changes", L.stream, sizeof(L.stream));
    if (rc == 0) {
        char suffix[STREAM_NAME_SIZE + 8];

        snprintf(suffix, sizeof(suffix), "dead:%s", bc->name);
        rc = store_key(L.st, suffix, L.dead_key, sizeof(L.dead_key));
    }
    if (rc == 0)
        rc = heartbeat_new(cfg->redis_prefix, bc->name, L.me, &L.hb);
    if (rc == 0)
        rc = alloc_loop(&L, (size_t)cfg->batch_size);
    if (rc != 0) {
        err_set(e, rc, "cannot start the consumer: %s", err_str(rc));
        goto out;
    }
    /* The read timeout must exceed BLOCK, or an entry could land unread in our pending list;
     * rconn re-applies it (and keepalive) after every connect. */
    rconn_set_read_timeout(store_conn(L.st), cfg->block_ms + cfg->redis_timeout_ms);

    while (!*stop) {
        size_t n = 0;
        int64_t now;
        const char *what = "Redis error, reconnecting";

        err_clear(&re);
        if (need_bootstrap) {
            rc = stream_group_create(store_conn(L.st), L.stream, bc->name, &re);
            if (rc == 0)
                rc = stream_consumer_create(store_conn(L.st), L.stream, bc->name, L.me, &re);
            if (rc != 0) {
                redis_failed(&L, "Redis unavailable, retrying", re.text);
                continue;
            }
            log_msg(LOG_INFO, "consumer ready", "backend", bc->name, "group", bc->name, "consumer",
                    cfg->consumer_name, "stream", L.stream, NULL);
            need_bootstrap = 0;
            L.reconnects = 0;
            L.draining = 1; /* own pending entries first: they were in flight */
            snprintf(L.drain_from, sizeof(L.drain_from), "-");
        }
        if (stats != NULL)
            atomic_store_explicit(&stats->reconnects, rconn_reconnects(store_conn(L.st)),
                                  memory_order_relaxed);
        rc = heartbeat_tick(L.hb, store_conn(L.st), stats, L.open, 0, &re);
        if (rc != 0)
            goto redis_error;
        now = now_ms();
        if (now >= L.next_trim) {
            L.next_trim = now + TRIM_INTERVAL_MS;
            rc = trim(&L, &re);
            if (rc == DADNS_EREPLY) {
                log_msg(LOG_WARN, "stream trim failed", "backend", bc->name, "reason", re.text,
                        NULL);
                rc = 0;
            }
            if (rc != 0)
                goto redis_error;
        }
        if (L.open) {
            if (now >= L.next_probe) {
                probe_breaker(&L);
                continue;
            }
            /* keep reading (so the group's lag shows the truth) but only park what comes */
            rc = read_new(
                &L, (int)(L.next_probe - now < cfg->block_ms ? L.next_probe - now : cfg->block_ms),
                &n, &re);
            if (rc == 0 && n > 0)
                rc = park(&L, n, &re);
        } else if (L.draining) {
            int done = 0;

            rc = drain_page(&L, &n, &done, &re);
            if (rc == 0 && done) {
                L.draining = 0;
                L.next_retry = now_ms() + (int64_t)cfg->retry_interval_s * 1000;
                continue;
            }
            if (rc == 0 && n > 0)
                rc = process(&L, n, &re);
        } else if (now >= L.next_retry) {
            int full = 0;

            rc = retry_scan(&L, &n, &full, &re);
            L.next_retry = now_ms() + (full ? 0 : (int64_t)cfg->retry_interval_s * 1000);
            if (rc == 0 && n > 0)
                rc = process(&L, n, &re);
        } else {
            int64_t wait = L.next_retry - now;

            if (L.next_trim - now < wait)
                wait = L.next_trim - now;
            if (wait > cfg->block_ms)
                wait = cfg->block_ms;
            rc = read_new(&L, (int)wait, &n, &re);
            if (rc == 0 && n > 0)
                rc = process(&L, n, &re);
        }
        if (rc == 0)
            continue;
    redis_error:
        if (rc == DADNS_ENOTFOUND) {
            log_msg(LOG_WARN, "consumer group missing, recreating it", "backend", bc->name,
                    "reason", re.text, NULL);
            need_bootstrap = 1;
            continue;
        }
        if (*stop)
            break; /* the stop signal shut the blocking read down: not an outage */
        if (rc == DADNS_ENOMEM) {
            what = "out of memory, retrying";
        }
        redis_failed(&L, what, re.text);
        need_bootstrap = 1;
    }
    rc = 0;
out:
    free_loop(&L);
    return rc;
}
