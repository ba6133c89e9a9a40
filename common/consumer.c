/* consumer.c -- the at-least-once consumer loop shared by every writer (see consumer.h).
 *
 * Reads notifications, coalesces them per zone, fetches each zone's latest state, hands the
 * backend only what it has not applied yet, then records the applied versions and acks in one
 * script. What the backend does with a change is the backend's business. */
#include "consumer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "stream.h"

/* Failed changes of a batch logged one by one; when more fail, one more line sums them up. */
#define FAILED_LOG_EACH 5

/* One distinct zone of a batch and the entries that named it. */
struct zgroup {
    const char *zone; /* borrowed from the entries */
    size_t first;     /* index of its first entry in the sorted order */
    size_t count;     /* number of entries */
    int has_refresh;  /* some entry was an identical re-push */
    int change;       /* index into the change array, -1 if none */
};

struct loop {
    const struct config *cfg;
    const struct backend_conf *bc;
    const struct change_backend *backend;
    struct consumer_stats *stats;
    struct store *st;
    char stream[160];
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
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep @ms in slices, returning early when *@stop is set. */
static void nap(int ms, volatile sig_atomic_t *stop)
{
    while (ms > 0 && !*stop) {
        int slice = ms > 100 ? 100 : ms;
        struct timespec ts = {0, (long)slice * 1000000L};

        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

static const struct stream_entry *sort_base;

static int cmp_entry(const void *a, const void *b)
{
    const struct stream_entry *x = &sort_base[*(const size_t *)a];
    const struct stream_entry *y = &sort_base[*(const size_t *)b];

    return strcmp(x->zone, y->zone);
}

static const struct change *reason_base;

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

/* Process @n entries: returns 0, or DADNS_EREDIS/DADNS_EREPLY when Redis failed (the entries
 * stay pending and are read again after the reconnect). */
static int process(struct loop *L, size_t n, struct err *e)
{
    size_t i, ng = 0, nc = 0, nack = 0, nok = 0, ninvalid = 0, nstale = 0, nfailed = 0;
    struct store_batch *hold = NULL;
    char vbuf[24];
    int rc;

    /* Group valid entries by zone. */
    {
        size_t nv = 0;

        for (i = 0; i < n; i++) {
            if (L->entries[i].valid) {
                L->order[nv++] = i;
            } else {
                L->ack_ids[nack++] = L->entries[i].id;
                ninvalid++;
                log_msg(LOG_WARN, "skipping malformed or trimmed stream entry", "backend",
                        L->bc->name, "id", L->entries[i].id, NULL);
            }
        }
        sort_base = L->entries;
        qsort(L->order, nv, sizeof(*L->order), cmp_entry);
        for (i = 0; i < nv; i++) {
            const struct stream_entry *en = &L->entries[L->order[i]];

            if (ng == 0 || strcmp(L->groups[ng - 1].zone, en->zone) != 0) {
                L->groups[ng].zone = en->zone;
                L->groups[ng].first = i;
                L->groups[ng].count = 0;
                L->groups[ng].has_refresh = 0;
                L->groups[ng].change = -1;
                L->zones[ng] = en->zone;
                ng++;
            }
            L->groups[ng - 1].count++;
            if (strcmp(en->op, "refresh") == 0)
                L->groups[ng - 1].has_refresh = 1;
        }
    }

    rc = store_fetch(L->st, L->bc->name, L->zones, ng, L->states, &hold, e);
    if (rc != 0)
        return rc;

    /* Decide what each zone needs. */
    for (i = 0; i < ng; i++) {
        const struct store_state *s = &L->states[i];
        struct change *c = &L->changes[nc];
        enum change_op op;
        uint64_t version;

        if (s->exists && s->version > s->applied) {
            op = s->deleted ? CHANGE_DELETE : CHANGE_SAVE;
            version = s->version;
        } else if (s->exists && !s->deleted && L->groups[i].has_refresh) {
            op = CHANGE_VERIFY;
            version = s->version;
        } else if (!s->exists && s->applied > 0) {
            op = CHANGE_DELETE; /* state purged: make sure the backend dropped it */
            version = s->applied;
        } else {
            nstale++;
            continue;
        }
        memset(c, 0, sizeof(*c));
        c->op = op;
        snprintf(c->zone, sizeof(c->zone), "%s", L->groups[i].zone);
        c->version = version;
        c->serial = s->serial;
        if (op != CHANGE_DELETE) {
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
        rc = L->backend->apply(L->backend->ctx, L->changes, nc);
        if (rc != 0) {
            for (i = 0; i < nc; i++) {
                if (L->changes[i].result == 0) {
                    L->changes[i].result = rc;
                    snprintf(L->changes[i].reason, sizeof(L->changes[i].reason),
                             "backend unavailable: %s", err_str(rc));
                }
            }
        }
        if (L->stats != NULL)
            L->stats->batches++;
    }

    /* Collect what to record and ack. */
    for (i = 0; i < ng; i++) {
        const struct zgroup *g = &L->groups[i];
        size_t k;

        if (g->change >= 0) {
            struct change *c = &L->changes[g->change];

            snprintf(vbuf, sizeof(vbuf), "%" PRIu64, c->version);
            if (c->result != 0) {
                /* a database outage fails the whole batch: a few lines, then one summary */
                L->failed[nfailed++] = (size_t)g->change;
                if (nfailed <= FAILED_LOG_EACH)
                    log_msg(LOG_WARN, "change failed, will retry", "backend", L->bc->name, "zone",
                            c->zone, "op", op_name(c->op), "version", vbuf, "reason", c->reason,
                            NULL);
                continue;
            }
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
    if (rc == 0 && L->stats != NULL) {
        L->stats->entries += n;
        L->stats->stale += nstale;
        L->stats->failed += nfailed;
        for (i = 0; i < nc; i++) {
            if (L->changes[i].result != 0)
                continue;
            if (L->changes[i].op == CHANGE_VERIFY) {
                L->stats->verified++;
                L->stats->repaired += L->changes[i].repaired ? 1 : 0;
            } else {
                L->stats->applied++;
            }
        }
    }
    if (rc == 0 && nc > 0) {
        char sn[24], sa[24], ss[24], sf[24];

        snprintf(sn, sizeof(sn), "%zu", n);
        snprintf(sa, sizeof(sa), "%zu", nok);
        snprintf(ss, sizeof(ss), "%zu", nstale + ninvalid);
        snprintf(sf, sizeof(sf), "%zu", nfailed);
        log_msg(LOG_INFO, "batch done", "backend", L->bc->name, "entries", sn, "applied", sa,
                "skipped", ss, "failed", sf, NULL);
    }
    store_batch_free(hold);
    return rc;
}

static int alloc_loop(struct loop *L, size_t cap)
{
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
    if (!L->entries || !L->order || !L->groups || !L->changes || !L->zones || !L->states ||
        !L->ack_ids || !L->ok_zones || !L->ok_versions || !L->failed)
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
    store_free(L->st);
}

int consumer_run(const struct config *cfg, const struct backend_conf *bc,
                 const struct change_backend *backend, volatile sig_atomic_t *stop,
                 struct consumer_stats *stats, struct err *e)
{
    struct loop L;
    char client[160], pending_from[48] = "0";
    size_t cap = (size_t)cfg->batch_size;
    int need_bootstrap = 1, pending_mode = 1, backoff = 100, rc;
    int64_t next_retry = 0;
    struct err re;

    memset(&L, 0, sizeof(L));
    L.cfg = cfg;
    L.bc = bc;
    L.backend = backend;
    L.stats = stats;
    snprintf(client, sizeof(client), "dadns-writer-%s", bc->name);
    rc = store_new(cfg, client, &L.st);
    if (rc == 0)
        rc = store_key(L.st, "changes", L.stream, sizeof(L.stream));
    if (rc == 0)
        rc = alloc_loop(&L, cap);
    if (rc != 0) {
        err_set(e, rc, "cannot start the consumer: %s", err_str(rc));
        goto out;
    }
    /* The read timeout must exceed BLOCK, or an entry could land unread in our pending list. */
    rconn_set_read_timeout(store_conn(L.st), cfg->block_ms + cfg->redis_timeout_ms);

    while (!*stop) {
        size_t n = 0;
        int64_t now;

        err_clear(&re);
        if (need_bootstrap) {
            rc = stream_group_create(store_conn(L.st), L.stream, bc->name, &re);
            if (rc != 0) {
                char sb[16];

                snprintf(sb, sizeof(sb), "%d", backoff);
                log_msg(LOG_WARN, "Redis unavailable, retrying", "backend", bc->name, "reason",
                        re.text, "retry_ms", sb, NULL);
                rconn_drop(store_conn(L.st));
                nap(backoff, stop);
                backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
                continue;
            }
            log_msg(LOG_INFO, "consumer ready", "backend", bc->name, "group", bc->name, "consumer",
                    cfg->consumer_name, "stream", L.stream, NULL);
            need_bootstrap = 0;
            pending_mode = 1;
            snprintf(pending_from, sizeof(pending_from), "0");
            backoff = 100;
        }
        now = now_ms();
        if (!pending_mode && now >= next_retry) {
            pending_mode = 1;
            snprintf(pending_from, sizeof(pending_from), "0");
        }
        if (pending_mode) {
            rc = stream_read(store_conn(L.st), L.stream, bc->name, cfg->consumer_name, pending_from,
                             cap, -1, L.entries, cap, &n, &re);
        } else {
            int64_t left = next_retry - now;
            int block = cfg->block_ms < left ? cfg->block_ms : (int)left;

            rc = stream_read(store_conn(L.st), L.stream, bc->name, cfg->consumer_name, ">", cap,
                             block > 0 ? block : 1, L.entries, cap, &n, &re);
        }
        if (rc == DADNS_ENOTFOUND) {
            log_msg(LOG_WARN, "consumer group missing, recreating it", "backend", bc->name, NULL);
            need_bootstrap = 1;
            continue;
        }
        if (rc == 0 && pending_mode) {
            if (n == 0) {
                pending_mode = 0;
                next_retry = now_ms() + (int64_t)cfg->retry_interval_s * 1000;
                continue;
            }
            snprintf(pending_from, sizeof(pending_from), "%s", L.entries[n - 1].id);
        }
        if (rc == 0 && n > 0)
            rc = process(&L, n, &re);
        if (rc != 0 && *stop)
            break; /* a stop signal interrupted the blocking read */
        if (rc != 0) {
            log_msg(LOG_WARN, "Redis error, reconnecting", "backend", bc->name, "reason", re.text,
                    NULL);
            rconn_drop(store_conn(L.st));
            nap(backoff, stop);
            backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
            need_bootstrap = 1;
        }
    }
    rc = 0;
out:
    free_loop(&L);
    return rc;
}
