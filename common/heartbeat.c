/* heartbeat.c -- writer heartbeats and recent failures (see heartbeat.h). Owns the JSON of both
 * records and the one pipelined write; deciding what failed is consumer.c's, reading control.c's.
 */
#include "heartbeat.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define KEY_MAX 512

struct heartbeat {
    char writer_key[KEY_MAX];   /* P writer:<backend> */
    char failures_key[KEY_MAX]; /* P failures */
    char backend[HEARTBEAT_NAME_MAX];
    char consumer[HEARTBEAT_NAME_MAX];
    struct heartbeat_failure waiting[HEARTBEAT_FAILURES_PER_BATCH];
    size_t nwaiting;
    int64_t last_write_ms; /* monotonic; 0 = never written */
    long long last_batch_at;
    int dirty; /* a batch since the last write: write once the gap has passed */
};

/* ---- pure: JSON ---- */

static void copy(char *out, size_t size, const char *s)
{
    snprintf(out, size, "%s", s != NULL ? s : "");
}

/* dump - @o as a compact string into *@out (steals @o). */
static int dump(json_t *o, char **out)
{
    *out = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out != NULL ? 0 : DADNS_ENOMEM;
}

/* set - o[k] = v (steals v); a NULL @v (out of memory) makes the object NULL. */
static json_t *set(json_t *o, const char *k, json_t *v)
{
    if (o == NULL || v == NULL || json_object_set_new(o, k, v) != 0) {
        json_decref(o);
        json_decref(v);
        return NULL;
    }
    return o;
}

int heartbeat_record_json(const struct heartbeat_record *r, char **out)
{
    json_t *o = json_object();

    o = set(o, "last_apply_at", json_integer(r->last_apply_at));
    o = set(o, "last_batch_at", json_integer(r->last_batch_at));
    o = set(o, "applied", json_integer((json_int_t)r->applied));
    o = set(o, "failed", json_integer((json_int_t)r->failed));
    o = set(o, "dead", json_integer((json_int_t)r->dead));
    o = set(o, "breaker_open", json_boolean(r->breaker_open));
    o = set(o, "updated_at", json_integer(r->updated_at));
    return dump(o, out);
}

int heartbeat_failure_json(const struct heartbeat_failure *f, char **out)
{
    json_t *o = json_object();

    o = set(o, "at", json_integer(f->at));
    o = set(o, "backend", json_string(f->backend));
    o = set(o, "consumer", json_string(f->consumer));
    o = set(o, "zone", json_string(f->zone));
    o = set(o, "op", json_string(f->op));
    o = set(o, "version", json_integer((json_int_t)f->version));
    o = set(o, "reason", json_string(f->reason));
    o = set(o, "attempts", json_integer((json_int_t)f->attempts));
    o = set(o, "dead", json_boolean(f->dead));
    return dump(o, out);
}

/* num - o[k] as a non-negative integer (a boolean as 0/1), 0 when missing or another type. */
static long long num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (long long)json_integer_value(v) : 0;
    if (json_is_real(v))
        return json_real_value(v) > 0 ? (long long)json_real_value(v) : 0;
    return json_is_true(v) ? 1 : 0;
}

static void str(const json_t *o, const char *k, char *out, size_t size)
{
    const json_t *v = json_object_get(o, k);

    copy(out, size, json_is_string(v) ? json_string_value(v) : "");
}

/* load - the JSON object in @json, or NULL. */
static json_t *load(const char *json, size_t len)
{
    json_t *o = json != NULL ? json_loadb(json, len, 0, NULL) : NULL;

    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

int heartbeat_record_parse(const char *consumer, const char *json, size_t len,
                           struct heartbeat_record *out)
{
    json_t *o = load(json, len);

    memset(out, 0, sizeof(*out));
    copy(out->consumer, sizeof(out->consumer), consumer);
    if (o == NULL)
        return DADNS_EINVAL;
    out->last_apply_at = num(o, "last_apply_at");
    out->last_batch_at = num(o, "last_batch_at");
    out->applied = (unsigned long long)num(o, "applied");
    out->failed = (unsigned long long)num(o, "failed");
    out->dead = (unsigned long long)num(o, "dead");
    out->breaker_open = num(o, "breaker_open") != 0;
    out->updated_at = num(o, "updated_at");
    json_decref(o);
    return 0;
}

int heartbeat_failure_parse(const char *json, size_t len, struct heartbeat_failure *out)
{
    json_t *o = load(json, len);

    memset(out, 0, sizeof(*out));
    if (o == NULL)
        return DADNS_EINVAL;
    out->at = num(o, "at");
    str(o, "backend", out->backend, sizeof(out->backend));
    str(o, "consumer", out->consumer, sizeof(out->consumer));
    str(o, "zone", out->zone, sizeof(out->zone));
    str(o, "op", out->op, sizeof(out->op));
    out->version = (uint64_t)num(o, "version");
    str(o, "reason", out->reason, sizeof(out->reason));
    out->attempts = (unsigned long long)num(o, "attempts");
    out->dead = num(o, "dead") != 0;
    json_decref(o);
    return 0;
}

/* ---- the writer side ---- */

int heartbeat_new(const char *prefix, const char *backend, const char *consumer,
                  struct heartbeat **out)
{
    struct heartbeat *hb;
    int n1, n2;

    *out = NULL;
    if (strlen(backend) >= HEARTBEAT_NAME_MAX || strlen(consumer) >= HEARTBEAT_NAME_MAX)
        return DADNS_ETOOBIG;
    hb = calloc(1, sizeof(*hb));
    if (hb == NULL)
        return DADNS_ENOMEM;
    n1 = snprintf(hb->writer_key, sizeof(hb->writer_key), "%swriter:%s", prefix, backend);
    n2 = snprintf(hb->failures_key, sizeof(hb->failures_key), "%sfailures", prefix);
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(hb->writer_key) ||
        (size_t)n2 >= sizeof(hb->failures_key)) {
        free(hb);
        return DADNS_ETOOBIG;
    }
    copy(hb->backend, sizeof(hb->backend), backend);
    copy(hb->consumer, sizeof(hb->consumer), consumer);
    *out = hb;
    return 0;
}

void heartbeat_free(struct heartbeat *hb)
{
    free(hb);
}

void heartbeat_fail(struct heartbeat *hb, const char *zone, const char *op, uint64_t version,
                    const char *reason, uint64_t attempts, int dead)
{
    struct heartbeat_failure *f;

    if (hb == NULL || hb->nwaiting >= HEARTBEAT_FAILURES_PER_BATCH)
        return;
    f = &hb->waiting[hb->nwaiting++];
    memset(f, 0, sizeof(*f));
    f->at = (long long)time(NULL);
    copy(f->backend, sizeof(f->backend), hb->backend);
    copy(f->consumer, sizeof(f->consumer), hb->consumer);
    copy(f->zone, sizeof(f->zone), zone);
    copy(f->op, sizeof(f->op), op);
    f->version = version;
    copy(f->reason, sizeof(f->reason), reason);
    f->attempts = attempts;
    f->dead = dead ? 1 : 0;
}

void heartbeat_drop(struct heartbeat *hb)
{
    if (hb != NULL)
        hb->nwaiting = 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned long long load_ull(const atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* due - whether a write is due at @now. */
static int due(const struct heartbeat *hb, int64_t now, int after_batch)
{
    if (hb->last_write_ms == 0 || hb->nwaiting > 0)
        return 1;
    if (now - hb->last_write_ms >= HEARTBEAT_INTERVAL_MS)
        return 1;
    return (after_batch || hb->dirty) && now - hb->last_write_ms >= HEARTBEAT_BATCH_GAP_MS;
}

int heartbeat_tick(struct heartbeat *hb, struct rconn *rc, const struct consumer_stats *s,
                   int breaker_open, int after_batch, struct err *e)
{
    const char *argv[2 + HEARTBEAT_FAILURES_PER_BATCH];
    char *items[HEARTBEAT_FAILURES_PER_BATCH];
    struct heartbeat_record r;
    char *json = NULL, keep[24], ttl[24];
    int64_t now = mono_ms();
    size_t i, nitems = 0, nsent = 0;
    int code = 0;

    if (hb == NULL)
        return 0;
    if (after_batch) {
        hb->last_batch_at = (long long)time(NULL);
        hb->dirty = 1;
    }
    if (!due(hb, now, after_batch))
        return 0;
    memset(&r, 0, sizeof(r));
    r.last_batch_at = hb->last_batch_at;
    if (s != NULL) {
        r.last_apply_at = atomic_load_explicit(&s->last_apply_unix, memory_order_relaxed);
        r.applied = load_ull(&s->applied);
        r.failed = load_ull(&s->failed);
        r.dead = load_ull(&s->dead);
    }
    r.breaker_open = breaker_open ? 1 : 0;
    r.updated_at = (long long)time(NULL);
    /* oldest first, so that LPUSH leaves the newest at the head */
    for (i = 0; i < hb->nwaiting; i++) {
        if (heartbeat_failure_json(&hb->waiting[i], &items[nitems]) != 0) {
            code = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        nitems++;
    }
    if (heartbeat_record_json(&r, &json) != 0) {
        code = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(keep, sizeof(keep), "%d", HEARTBEAT_FAILURES_KEPT - 1);
    snprintf(ttl, sizeof(ttl), "%d", HEARTBEAT_TTL_S);
    if (nitems > 0) {
        const char *trim[] = {"LTRIM", hb->failures_key, "0", keep};

        argv[0] = "LPUSH";
        argv[1] = hb->failures_key;
        for (i = 0; i < nitems; i++)
            argv[2 + i] = items[i];
        if ((code = rconn_append(rc, (int)(2 + nitems), argv, NULL, e)) != 0)
            goto out;
        nsent++;
        if ((code = rconn_append(rc, 4, trim, NULL, e)) != 0)
            goto out;
        nsent++;
    }
    {
        const char *hset[] = {"HSET", hb->writer_key, hb->consumer, json};
        const char *expire[] = {"EXPIRE", hb->writer_key, ttl};

        if ((code = rconn_append(rc, 4, hset, NULL, e)) != 0)
            goto out;
        nsent++;
        if ((code = rconn_append(rc, 3, expire, NULL, e)) != 0)
            goto out;
        nsent++;
    }
out:
    /* one reply per command sent; after a lost connection the rest are gone with it */
    for (i = 0; i < nsent; i++) {
        redisReply *reply = NULL;
        struct err re;
        int rcode = rconn_get_reply(rc, -1, &reply, &re);

        if (reply != NULL)
            freeReplyObject(reply);
        if (rcode != 0 && code == 0) {
            code = rcode;
            if (e != NULL)
                *e = re;
        }
        if (rcode == DADNS_EREDIS)
            break;
    }
    for (i = 0; i < nitems; i++)
        free(items[i]);
    free(json);
    hb->nwaiting = 0;
    if (code == 0) {
        hb->last_write_ms = now;
        hb->dirty = 0;
    }
    return code;
}
