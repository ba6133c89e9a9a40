/* redisstats.c -- Redis-side gauges computed at scrape time (see redisstats.h). Owns its
 * connection, the scrape commands and their replies; rendering is metrics.c's. */
#include "redisstats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rconn.h"

struct redisstats {
    struct rconn *rc;
    char *stream_key; /* P changes */
    char **names;     /* @n watched groups/backends, owned */
    char **dead_keys; /* P dead:<name> for each, owned */
    size_t n;
    unsigned long reconnects_seen; /* rconn_reconnects already added to the counter */
    struct metrics_family *up, *reconnects, *length; /* borrowed from the registry */
    struct metrics_family *pending, *lag, *oldest, *consumers, *dead; /* NULL when n == 0 */
};

/* What one scrape found for a group; "has_*" = the value is known. */
struct group_stat {
    bool found; /* listed by XINFO GROUPS */
    double pending, lag, consumers, oldest;
    bool has_lag, has_oldest;
    bool has_dead;
    double dead;
};

/* key_of - a new string "<prefix><mid><name>" (caller frees), or NULL when out of memory. */
static char *key_of(const char *prefix, const char *mid, const char *name)
{
    size_t n = strlen(prefix) + strlen(mid) + strlen(name) + 1;
    char *k = malloc(n);

    if (k != NULL)
        snprintf(k, n, "%s%s%s", prefix, mid, name);
    return k;
}

void redisstats_free(struct redisstats *rs)
{
    size_t i;

    if (rs == NULL)
        return;
    rconn_free(rs->rc);
    for (i = 0; i < rs->n; i++) {
        if (rs->names != NULL)
            free(rs->names[i]);
        if (rs->dead_keys != NULL)
            free(rs->dead_keys[i]);
    }
    free(rs->names);
    free(rs->dead_keys);
    free(rs->stream_key);
    free(rs);
}

static int register_families(struct redisstats *rs, struct metrics *reg, struct err *e)
{
    const struct metrics_label group = {"group", (const char *const *)rs->names, rs->n};
    const struct metrics_label backend = {"backend", (const char *const *)rs->names, rs->n};
    int rc;

    rc = metrics_gauge_new(reg, METRICS_REDIS_UP,
                           "Whether Redis answered PING on this scrape (1) or not (0).", NULL, 0,
                           &rs->up, e);
    if (rc == 0)
        rc = metrics_counter_new(reg, METRICS_REDIS_RECONNECTS,
                                 "Reconnections to Redis made by this process.", NULL, 0,
                                 &rs->reconnects, e);
    if (rc == 0)
        rc = metrics_gauge_new(reg, METRICS_STREAM_LENGTH, "Entries in the change stream (XLEN).",
                               NULL, 0, &rs->length, e);
    if (rc != 0 || rs->n == 0)
        return rc;
    rc = metrics_gauge_new(reg, METRICS_STREAM_PENDING,
                           "Entries delivered to the consumer group and not acknowledged yet.",
                           &group, 1, &rs->pending, e);
    if (rc == 0)
        rc = metrics_gauge_new(reg, METRICS_STREAM_LAG,
                               "Entries of the change stream the consumer group has not read "
                               "yet (absent when Redis cannot tell).",
                               &group, 1, &rs->lag, e);
    if (rc == 0)
        rc = metrics_gauge_new(reg, METRICS_STREAM_OLDEST_PENDING,
                               "Age of the oldest entry pending in the consumer group, in "
                               "seconds (0 when none is pending).",
                               &group, 1, &rs->oldest, e);
    if (rc == 0)
        rc = metrics_gauge_new(reg, METRICS_STREAM_CONSUMERS,
                               "Consumers known to the consumer group.", &group, 1, &rs->consumers,
                               e);
    if (rc == 0)
        rc = metrics_gauge_new(reg, METRICS_DEAD_LETTERS,
                               "Entries in the dead-letter stream of the backend (XLEN).", &backend,
                               1, &rs->dead, e);
    return rc;
}

int redisstats_new(const struct config *cfg, struct metrics *reg, const char *client_name,
                   const char *const *backends, size_t n, struct redisstats **out, struct err *e)
{
    struct redisstats *rs = calloc(1, sizeof(*rs));
    struct config short_cfg = *cfg; /* shallow: only read by rconn_new, which copies */
    size_t i;
    int rc = DADNS_ENOMEM;

    *out = NULL;
    if (rs == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    if (backends == NULL)
        n = cfg->n_backends;
    if (short_cfg.redis_timeout_ms > REDISSTATS_TIMEOUT_MS)
        short_cfg.redis_timeout_ms = REDISSTATS_TIMEOUT_MS;
    if (rconn_new(&short_cfg, client_name, &rs->rc) != 0)
        goto fail;
    rs->stream_key = key_of(cfg->redis_prefix, "changes", "");
    if (rs->stream_key == NULL)
        goto fail;
    if (n > 0) {
        rs->names = calloc(n, sizeof(*rs->names));
        rs->dead_keys = calloc(n, sizeof(*rs->dead_keys));
        if (rs->names == NULL || rs->dead_keys == NULL)
            goto fail;
        rs->n = n;
        for (i = 0; i < n; i++) {
            const char *name = backends != NULL ? backends[i] : cfg->backends[i].name;

            rs->names[i] = strdup(name);
            rs->dead_keys[i] = key_of(cfg->redis_prefix, "dead:", name);
            if (rs->names[i] == NULL || rs->dead_keys[i] == NULL)
                goto fail;
        }
    }
    rc = register_families(rs, reg, e);
    if (rc != 0) {
        redisstats_free(rs);
        return rc;
    }
    *out = rs;
    return 0;
fail:
    redisstats_free(rs);
    return err_set(e, rc, "out of memory");
}

int redisstats_entry_ms(const char *id, size_t len, unsigned long long *ms)
{
    unsigned long long v = 0;
    size_t i;

    for (i = 0; i < len && id[i] != '-'; i++) {
        if (id[i] < '0' || id[i] > '9' || v > (~0ULL - 9) / 10)
            return DADNS_EINVAL;
        v = v * 10 + (unsigned long long)(id[i] - '0');
    }
    if (i == 0 || i == len)
        return DADNS_EINVAL;
    *ms = v;
    return 0;
}

int redisstats_ping(struct redisstats *rs, struct err *e)
{
    const char *argv[] = {"PING"};
    redisReply *r = NULL;
    int rc = rconn_command(rs->rc, 1, argv, NULL, REDIS_REPLY_STATUS, &r, e);

    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

static bool reply_is(const redisReply *r, const char *s)
{
    return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
           r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* reply_number - an integer reply, or a string reply holding a decimal, as a double. */
static bool reply_number(const redisReply *r, double *out)
{
    char tmp[32], *end;
    long long v;

    if (r == NULL)
        return false;
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = (double)r->integer;
        return true;
    }
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(tmp))
        return false;
    memcpy(tmp, r->str, r->len);
    tmp[r->len] = '\0';
    errno = 0;
    v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (double)v;
    return true;
}

static long find_group(const struct redisstats *rs, const redisReply *name)
{
    size_t i;

    for (i = 0; name != NULL && i < rs->n; i++)
        if (reply_is(name, rs->names[i]))
            return (long)i;
    return -1;
}

/* read_groups - the XINFO GROUPS reply @r (an array of flat field/value arrays) into @st. */
static void read_groups(const struct redisstats *rs, const redisReply *r, struct group_stat *st)
{
    size_t i, j;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return;
    for (i = 0; i < r->elements; i++) {
        const redisReply *g = r->element[i];
        const redisReply *name = NULL, *pending = NULL, *lag = NULL, *consumers = NULL;
        struct group_stat *s;
        long k;

        if (g == NULL || g->type != REDIS_REPLY_ARRAY)
            continue;
        for (j = 0; j + 1 < g->elements; j += 2) {
            const redisReply *f = g->element[j], *v = g->element[j + 1];

            if (reply_is(f, "name"))
                name = v;
            else if (reply_is(f, "pending"))
                pending = v;
            else if (reply_is(f, "lag"))
                lag = v;
            else if (reply_is(f, "consumers"))
                consumers = v;
        }
        k = find_group(rs, name);
        if (k < 0)
            continue;
        s = &st[k];
        s->found = reply_number(pending, &s->pending) && reply_number(consumers, &s->consumers);
        s->has_lag = s->found && reply_number(lag, &s->lag); /* nil or missing: unknown */
    }
}

/* read_pending - the XPENDING summary @r ([count, smallest id, greatest id, consumers]) into
 * @s, given the Redis time @now_ms. */
static void read_pending(const redisReply *r, unsigned long long now_ms, bool have_now,
                         struct group_stat *s)
{
    unsigned long long ms;
    double count;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        !reply_number(r->element[0], &count))
        return;
    if (count <= 0) {
        s->oldest = 0;
        s->has_oldest = true;
        return;
    }
    if (!have_now || r->element[1]->type != REDIS_REPLY_STRING ||
        redisstats_entry_ms(r->element[1]->str, r->element[1]->len, &ms) != 0)
        return;
    s->oldest = now_ms > ms ? (double)(now_ms - ms) / 1000.0 : 0.0;
    s->has_oldest = true;
}

static void clear_all(struct redisstats *rs)
{
    metrics_gauge_clear_all(rs->length);
    metrics_gauge_clear_all(rs->pending);
    metrics_gauge_clear_all(rs->lag);
    metrics_gauge_clear_all(rs->oldest);
    metrics_gauge_clear_all(rs->consumers);
    metrics_gauge_clear_all(rs->dead);
}

static void note_reconnects(struct redisstats *rs)
{
    unsigned long now = rconn_reconnects(rs->rc);

    if (now > rs->reconnects_seen) {
        metrics_counter_add(rs->reconnects, 0, now - rs->reconnects_seen);
        rs->reconnects_seen = now;
    }
}

/* publish - copy a complete scrape into the gauges. */
static void publish(struct redisstats *rs, bool have_len, double len, const struct group_stat *st)
{
    size_t i;

    metrics_gauge_set(rs->up, 0, 1);
    if (have_len)
        metrics_gauge_set(rs->length, 0, len);
    else
        metrics_gauge_clear(rs->length, 0);
    for (i = 0; i < rs->n; i++) {
        const struct group_stat *s = &st[i];

        if (s->found) {
            metrics_gauge_set(rs->pending, i, s->pending);
            metrics_gauge_set(rs->consumers, i, s->consumers);
        } else {
            metrics_gauge_clear(rs->pending, i);
            metrics_gauge_clear(rs->consumers, i);
        }
        if (s->found && s->has_lag)
            metrics_gauge_set(rs->lag, i, s->lag);
        else
            metrics_gauge_clear(rs->lag, i);
        if (s->found && s->has_oldest)
            metrics_gauge_set(rs->oldest, i, s->oldest);
        else
            metrics_gauge_clear(rs->oldest, i);
        if (s->has_dead)
            metrics_gauge_set(rs->dead, i, s->dead);
        else
            metrics_gauge_clear(rs->dead, i);
    }
}

/* append - queue one command of the scrape and count it in *@sent. */
static int append(struct redisstats *rs, int argc, const char **argv, size_t *sent, struct err *e)
{
    int rc = rconn_append(rs->rc, argc, argv, NULL, e);

    if (rc == 0)
        (*sent)++;
    return rc;
}

int redisstats_collect(struct redisstats *rs, struct err *e)
{
    struct group_stat *st = NULL;
    redisReply *r = NULL;
    unsigned long long now_ms = 0;
    bool have_now = false, have_len = false;
    double len = 0, sec, usec;
    size_t i, sent = 0, got = 0;
    int rc;

    rc = redisstats_ping(rs, e);
    if (rc != 0)
        goto down;
    st = calloc(rs->n + 1, sizeof(*st));
    if (st == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto down;
    }

    /* One round trip: TIME, XLEN, XINFO GROUPS, XPENDING x n, XLEN dead x n. */
    {
        const char *time_argv[] = {"TIME"};
        const char *xlen_argv[] = {"XLEN", rs->stream_key};
        const char *info_argv[] = {"XINFO", "GROUPS", rs->stream_key};

        rc = append(rs, 1, time_argv, &sent, e);
        if (rc == 0)
            rc = append(rs, 2, xlen_argv, &sent, e);
        if (rc == 0)
            rc = append(rs, 3, info_argv, &sent, e);
    }
    for (i = 0; rc == 0 && i < rs->n; i++) {
        const char *argv[] = {"XPENDING", rs->stream_key, rs->names[i]};

        rc = append(rs, 3, argv, &sent, e);
    }
    for (i = 0; rc == 0 && i < rs->n; i++) {
        const char *argv[] = {"XLEN", rs->dead_keys[i]};

        rc = append(rs, 2, argv, &sent, e);
    }
    if (rc != 0)
        goto down;

    /* Replies in the same order; an error reply only leaves that value unknown, a lost
     * connection ends the scrape. */
    for (got = 0; got < sent; got++) {
        rc = rconn_get_reply(rs->rc, -1, &r, e);
        if (rc == DADNS_EREDIS || rc == DADNS_ENOMEM)
            goto down;
        if (rc == 0) {
            if (got == 0) {
                have_now = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                           reply_number(r->element[0], &sec) &&
                           reply_number(r->element[1], &usec) && sec >= 0 && usec >= 0;
                if (have_now)
                    now_ms = (unsigned long long)sec * 1000ULL + (unsigned long long)usec / 1000;
            } else if (got == 1) {
                have_len = reply_number(r, &len);
            } else if (got == 2) {
                read_groups(rs, r, st);
            } else if (got < 3 + rs->n) {
                read_pending(r, now_ms, have_now, &st[got - 3]);
            } else {
                struct group_stat *s = &st[got - 3 - rs->n];

                s->has_dead = reply_number(r, &s->dead);
            }
            freeReplyObject(r);
            r = NULL;
        }
    }
    note_reconnects(rs);
    publish(rs, have_len, len, st);
    free(st);
    return 0;
down:
    /* the pipeline is out of step with its replies: start afresh next time */
    if (sent > got)
        rconn_drop(rs->rc);
    note_reconnects(rs);
    metrics_gauge_set(rs->up, 0, 0);
    clear_all(rs);
    free(st);
    return rc;
}
