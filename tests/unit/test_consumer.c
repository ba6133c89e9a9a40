/* test_consumer.c -- the writers' consumer loop (common/consumer.c) and its helpers (backoff.c,
 * stream.c, deadletter.c, inventory.c, service.c's bounded stop) against a real redis-server
 * started for the test, with a scriptable fake backend: retries with backoff, dead letters,
 * takeover of a dead consumer's entries, the circuit breaker, targeted entries, op=push,
 * op=inventory, trimmed pending entries, stream trimming and graceful stops. */
#include <check.h>
#include <fcntl.h>
#include <hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "consumer.h"
#include "log.h"
#include "redis_fixture.h"
#include "service.h"
#include "store.h"
#include "stream.h"

static redisContext *raw; /* a plain connection for looking at keys */

static const char ZONE1[] = "$TTL 300\n@ IN SOA ns1.x. h.x. 1 2 3 4 5\n@ IN NS ns1.x.\n";
static const char ZONE2[] = "$TTL 300\n@ IN SOA ns1.x. h.x. 2 2 3 4 5\n@ IN NS ns1.x.\n";

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- fixture ------------------------------------------------------------------------------ */

static void setup(void)
{
    redis_fixture_env();
    setenv("DADNS_WRITER_RETRY_INTERVAL_S", "1", 1);
    setenv("DADNS_WRITER_RETRY_BASE_S", "1", 1);
    setenv("DADNS_WRITER_RETRY_CAP_S", "2", 1);
    setenv("DADNS_WRITER_CLAIM_IDLE_S", "1", 1);
    setenv("DADNS_WRITER_MAX_ATTEMPTS", "20", 1);
    setenv("DADNS_WRITER_BREAKER_FAILURES", "3", 1);
    setenv("DADNS_WRITER_BREAKER_PROBE_S", "1", 1);
    setenv("DADNS_WRITER_BLOCK_MS", "200", 1);
    setenv("DADNS_WRITER_CONSUMER_NAME", "c1", 1);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    redis_fixture_teardown(NULL, &raw);
}

static struct config *load_cfg(const char *consumer)
{
    struct config *cfg = NULL;
    struct err e;

    setenv("DADNS_WRITER_CONSUMER_NAME", consumer, 1);
    ck_assert_msg(config_load(NULL, &cfg, &e) == 0, "%s", e.text);
    return cfg;
}

static int field_eq(const char *key, const char *field, const char *want)
{
    char *v = redis_fixture_str(raw, "HGET %s %s", key, field);
    int ok = v != NULL && strcmp(v, want) == 0;

    if (!ok)
        fprintf(stderr, "HGET %s %s: \"%s\", wanted \"%s\"\n", key, field, v ? v : "(nil)", want);
    free(v);
    return ok;
}

static long long pending_count(void)
{
    redisReply *r = redisCommand(raw, "XPENDING dadns:changes rec");
    long long n = -1;

    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1)
        n = r->element[0]->integer;
    freeReplyObject(r);
    return n;
}

/* deliveries - the delivery count of pending entry @id, -1 when not pending. */
static long long deliveries(const char *id)
{
    redisReply *r = redisCommand(raw, "XPENDING dadns:changes rec %s %s 1", id, id);
    long long n = -1;

    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
        n = r->element[0]->element[3]->integer;
    freeReplyObject(r);
    return n;
}

/* last_id - the id of the newest entry of the change stream into @out. */
static void last_id(char *out, size_t size)
{
    redisReply *r = redisCommand(raw, "XREVRANGE dadns:changes + - COUNT 1");

    ck_assert(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    snprintf(out, size, "%s", r->element[0]->element[0]->str);
    freeReplyObject(r);
}

static void save(const char *zone, const char *text)
{
    struct store *st;
    struct store_save_result res;
    struct config *cfg = load_cfg("saver");
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_msg(store_save(st, zone, text, strlen(text), 1, "da1", "u", &res, &e) == 0, "%s",
                  e.text);
    store_free(st);
    config_free(cfg);
}

static void delete_zone(const char *zone)
{
    struct store *st;
    struct store_del_result res;
    struct config *cfg = load_cfg("saver");
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_delete(st, &zone, 1, "da1", "u", &res, &e), 0);
    ck_assert_int_eq(res.outcome, STORE_DEL_DELETED);
    store_free(st);
    config_free(cfg);
}

/* ---- a scriptable backend ----------------------------------------------------------------- */

struct fake {
    pthread_mutex_t mu;
    int fail;      /* every change fails while set */
    int fail_n;    /* the next fail_n changes fail */
    int whole;     /* apply returns DADNS_EBACKEND (whole batch) while set */
    int permanent; /* failures are permanent */
    int probe_ok;  /* probe answers 0 */
    int probes;    /* probe calls */
    int sleep_ms;  /* apply takes this long */
    int calls;     /* apply calls */
    int ok;        /* changes that succeeded */
    int64_t t[64]; /* when each change was seen (monotonic ms) */
    char log[64][300];
    char digest[64][48];
    int force[64]; /* change.force of each change seen */
    int n;
};

static struct fake fa, fb;

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
}

static int fake_apply(void *ctx, struct change *c, size_t n)
{
    struct fake *f = ctx;
    size_t i;
    int rc = 0, ms;

    pthread_mutex_lock(&f->mu);
    f->calls++;
    ms = f->sleep_ms;
    for (i = 0; i < n; i++) {
        int failing = f->fail || f->whole || f->fail_n > 0;

        if (f->n < 64) {
            f->t[f->n] = mono_ms();
            snprintf(f->digest[f->n], sizeof(f->digest[0]), "%s", c[i].digest);
            f->force[f->n] = c[i].force;
            snprintf(f->log[f->n++], sizeof(f->log[0]), "%d %s %llu", (int)c[i].op, c[i].zone,
                     (unsigned long long)c[i].version);
        }
        if (f->fail_n > 0)
            f->fail_n--;
        if (failing && !f->whole) {
            c[i].result = DADNS_EBACKEND;
            c[i].permanent = f->permanent;
            snprintf(c[i].reason, sizeof(c[i].reason), "injected failure");
        } else if (!failing) {
            f->ok++;
        }
    }
    if (f->whole)
        rc = DADNS_EBACKEND;
    pthread_mutex_unlock(&f->mu);
    if (ms > 0)
        sleep_ms(ms);
    return rc;
}

static int fake_probe(void *ctx, char *reason, size_t size)
{
    struct fake *f = ctx;
    int ok;

    pthread_mutex_lock(&f->mu);
    f->probes++;
    ok = f->probe_ok;
    pthread_mutex_unlock(&f->mu);
    if (!ok)
        snprintf(reason, size, "injected probe failure");
    return ok ? 0 : DADNS_EBACKEND;
}

static int fake_inventory(void *ctx, held_zone_fn fn, void *arg, char *reason, size_t size)
{
    struct held_zone z;
    int rc;

    (void)ctx;
    (void)reason;
    (void)size;
    memset(&z, 0, sizeof(z));
    snprintf(z.zone, sizeof(z.zone), "a.test");
    z.has_serial = 1;
    z.serial = 7;
    snprintf(z.digest, sizeof(z.digest), "abc");
    z.version = 12;
    z.managed = 1;
    if ((rc = fn(arg, &z)) != 0)
        return rc;
    snprintf(z.zone, sizeof(z.zone), "b.test");
    z.has_serial = 0;
    z.digest[0] = '\0';
    z.version = 0;
    z.managed = 0;
    if ((rc = fn(arg, &z)) != 0)
        return rc;
    snprintf(z.zone, sizeof(z.zone), "c.test");
    snprintf(z.digest, sizeof(z.digest), "modified");
    z.version = 3;
    z.managed = 1;
    return fn(arg, &z);
}

static int fake_get(struct fake *f, int *field)
{
    int v;

    pthread_mutex_lock(&f->mu);
    v = *field;
    pthread_mutex_unlock(&f->mu);
    return v;
}

static void fake_set(struct fake *f, int *field, int v)
{
    pthread_mutex_lock(&f->mu);
    *field = v;
    pthread_mutex_unlock(&f->mu);
}

/* wait_n - wait up to @ms for the fake to have seen @want changes; returns how many it saw. */
static int wait_n(struct fake *f, int want, int ms)
{
    int64_t end = mono_ms() + ms;
    int n;

    for (;;) {
        n = fake_get(f, &f->n);
        if (n >= want || mono_ms() > end)
            return n;
        sleep_ms(20);
    }
}

/* wait_int - wait up to @ms for the integer reply of "@fmt @a" to be @want. */
static int wait_int(const char *fmt, const char *a, long long want, int ms)
{
    int64_t end = mono_ms() + ms;

    for (;;) {
        long long v = redis_fixture_int(raw, fmt, a);

        if (v == want)
            return 1;
        if (mono_ms() > end) {
            fprintf(stderr, "%s %s: %lld, wanted %lld\n", fmt, a, v, want);
            return 0;
        }
        sleep_ms(20);
    }
}

static int wait_pending(long long want, int ms)
{
    int64_t end = mono_ms() + ms;

    while (pending_count() != want) {
        if (mono_ms() > end)
            return 0;
        sleep_ms(20);
    }
    return 1;
}

/* ---- a consumer on its own thread --------------------------------------------------------- */

struct runner {
    pthread_t th;
    struct config *cfg;
    struct backend_conf bc;
    struct change_backend be;
    volatile sig_atomic_t stop;
    struct consumer_stats stats;
    int rc;
    int running;
};

static void *run_thread(void *arg)
{
    struct runner *r = arg;
    struct err e;

    r->rc = consumer_run(r->cfg, &r->bc, &r->be, &r->stop, &r->stats, &e);
    return NULL;
}

/* start - run a consumer named @consumer of group "rec" over fake @f (with an inventory
 * callback when @inventory). */
static void start(struct runner *r, const char *consumer, struct fake *f, int inventory)
{
    memset(r, 0, sizeof(*r));
    r->cfg = load_cfg(consumer);
    r->bc.name = "rec";
    r->be.ctx = f;
    r->be.apply = fake_apply;
    r->be.probe = fake_probe;
    r->be.inventory = inventory ? fake_inventory : NULL;
    consumer_stats_init(&r->stats);
    ck_assert_int_eq(pthread_create(&r->th, NULL, run_thread, r), 0);
    r->running = 1;
}

/* finish - stop it; returns how long the stop took (ms). */
static int64_t finish(struct runner *r)
{
    int64_t t0 = mono_ms();

    if (!r->running)
        return 0;
    r->stop = 1;
    consumer_wake();
    pthread_join(r->th, NULL);
    r->running = 0;
    config_free(r->cfg);
    r->cfg = NULL;
    ck_assert_int_eq(r->rc, 0);
    return mono_ms() - t0;
}

static unsigned long long stat_of(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void xadd(const char *const *kv, size_t n)
{
    const char *argv[16];
    redisReply *r;
    size_t i;

    argv[0] = "XADD";
    argv[1] = "dadns:changes";
    argv[2] = "*";
    for (i = 0; i < n; i++)
        argv[3 + i] = kv[i];
    r = redisCommandArgv(raw, (int)(3 + n), argv, NULL);
    ck_assert(r != NULL && r->type == REDIS_REPLY_STRING);
    freeReplyObject(r);
}

/* ---- pure --------------------------------------------------------------------------------- */

START_TEST(backoff_math)
{
    uint64_t st = 0;
    double a, b;
    int i, spread_low = 0, spread_high = 0;

    ck_assert_int_eq(backoff_ms(5000, 600000, 1, 0.5), 5000);
    ck_assert_int_eq(backoff_ms(5000, 600000, 0, 0.5), 5000); /* 0 counts as 1 */
    ck_assert_int_eq(backoff_ms(5000, 600000, 2, 0.5), 10000);
    ck_assert_int_eq(backoff_ms(5000, 600000, 7, 0.5), 320000);
    ck_assert_int_eq(backoff_ms(5000, 600000, 8, 0.5), 600000); /* capped */
    ck_assert_int_eq(backoff_ms(5000, 600000, UINT64_MAX, 0.5), 600000);
    ck_assert_int_eq(backoff_ms(5000, 600000, 1, 0.0), 4000);       /* jitter 0.8 */
    ck_assert_int_le(backoff_ms(5000, 600000, 1, 0.9999999), 6000); /* up to 1.2 */
    ck_assert_int_ge(backoff_ms(5000, 600000, 1, 0.9999999), 5999);
    ck_assert_int_eq(backoff_ms(5000, 600000, 1, 7.0), backoff_ms(5000, 600000, 1, 0.999999));
    ck_assert_int_eq(backoff_ms(5000, 600000, 1, -1.0), 4000);
    ck_assert_int_eq(backoff_ms(9000, 2000, 1, 0.5), 2000); /* cap below base */
    ck_assert_int_eq(backoff_ms(100, 10000, 40, 0.5), 10000);
    /* jitter fixed by id and count, spread over [0, 1) */
    a = backoff_jitter_id("1700000000000-0", 3);
    b = backoff_jitter_id("1700000000000-0", 3);
    ck_assert(a == b);
    ck_assert(a >= 0.0 && a < 1.0);
    ck_assert(backoff_jitter_id("1700000000000-0", 4) != a);
    for (i = 0; i < 1000; i++) {
        char id[32];
        double j;

        snprintf(id, sizeof(id), "17000000%05d-0", i);
        j = backoff_jitter_id(id, 1);
        ck_assert(j >= 0.0 && j < 1.0);
        spread_low += j < 0.25;
        spread_high += j >= 0.75;
        j = backoff_jitter_next(&st);
        ck_assert(j >= 0.0 && j < 1.0);
    }
    ck_assert_int_gt(spread_low, 150);
    ck_assert_int_gt(spread_high, 150);
}
END_TEST

START_TEST(stream_ids_and_fields)
{
    struct stream_entry en;
    char out[STREAM_ID_SIZE];
    const char *f1[] = {"op", "push", "zone", "a.test", "version", "3", "backend", "bind-2"};
    const char *f2[] = {"op", "inventory", "zone", "",        "version",
                        "0",  "backend",   "be",   "request", "r-1:x.y"};
    const char *f3[] = {"op", "inventory", "zone", "", "version", "0", "backend", "be"};
    const char *f4[] = {"op", "frobnicate", "zone", "a.test", "version", "1"};
    const char *f5[] = {"op", "save", "zone", "a.test", "version", "1", "backend", "Bad"};
    const char *f6[] = {"op", "save", "zone", "", "version", "1"};
    const char *f7[] = {"op", "inventory", "request", "a b"};
    size_t lens[10], i;

#define LENS(f)                                                                                    \
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)                                                 \
    lens[i] = strlen(f[i])
    LENS(f1);
    stream_parse_fields(&en, f1, lens, 8);
    ck_assert_int_eq(en.valid, 1);
    ck_assert_str_eq(en.op, "push");
    ck_assert_str_eq(en.backend, "bind-2");
    ck_assert_uint_eq(en.version, 3);
    LENS(f2);
    stream_parse_fields(&en, f2, lens, 10);
    ck_assert_int_eq(en.valid, 1);
    ck_assert_str_eq(en.zone, "");
    ck_assert_str_eq(en.request, "r-1:x.y");
    LENS(f3);
    stream_parse_fields(&en, f3, lens, 8);
    ck_assert_int_eq(en.valid, 0); /* inventory without a request */
    LENS(f4);
    stream_parse_fields(&en, f4, lens, 6);
    ck_assert_int_eq(en.valid, 0); /* unknown op */
    LENS(f5);
    stream_parse_fields(&en, f5, lens, 8);
    ck_assert_int_eq(en.valid, 0); /* bad backend name */
    LENS(f6);
    stream_parse_fields(&en, f6, lens, 6);
    ck_assert_int_eq(en.valid, 0); /* a save needs a zone */
    LENS(f7);
    stream_parse_fields(&en, f7, lens, 4);
    ck_assert_int_eq(en.valid, 0); /* bad request id */
#undef LENS

    ck_assert_int_lt(stream_id_cmp("1-5", "2-0"), 0);
    ck_assert_int_lt(stream_id_cmp("10-1", "10-2"), 0);
    ck_assert_int_gt(stream_id_cmp("100-0", "99-9"), 0);
    ck_assert_int_eq(stream_id_cmp("7", "7-0"), 0);
    ck_assert_int_lt(stream_id_cmp("junk", "0-0"), 0);
    ck_assert_int_eq(stream_id_next("5-9", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "5-10");
    ck_assert_int_eq(stream_id_next("0-0", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "0-1");
    ck_assert_int_eq(stream_id_next("5-18446744073709551615", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "6-0");
    ck_assert_int_eq(stream_id_next("x", out, sizeof(out)), DADNS_EINVAL);
}
END_TEST

/* ---- retries ------------------------------------------------------------------------------ */

START_TEST(retry_after_backoff)
{
    struct runner r;
    int64_t g1, g2;

    fake_init(&fa);
    fa.fail_n = 2; /* the first two attempts fail */
    save("a.test", ZONE1);
    start(&r, "c1", &fa, 0);
    ck_assert_int_eq(wait_n(&fa, 3, 8000), 3);
    ck_assert(wait_pending(0, 2000));
    ck_assert(wait_int("HGET dadns:applied:rec %s", "a.test", 1, 2000));
    finish(&r);
    ck_assert_str_eq(fa.log[0], "1 a.test 1");
    ck_assert_str_eq(fa.log[2], "1 a.test 1");
    g1 = fa.t[1] - fa.t[0];
    g2 = fa.t[2] - fa.t[1];
    /* backoff(1) = 1 s and backoff(2) = 2 s, each x0.8..1.2, found by a scan every 1 s */
    ck_assert_msg(g1 >= 750 && g1 <= 2600, "first retry after %lld ms", (long long)g1);
    ck_assert_msg(g2 >= 1550 && g2 <= 3800, "second retry after %lld ms", (long long)g2);
    ck_assert_uint_eq(stat_of(&r.stats.retried), 2);
    ck_assert_uint_eq(stat_of(&r.stats.failed), 2);
    ck_assert_uint_eq(stat_of(&r.stats.applied), 1);
    ck_assert_uint_eq(stat_of(&r.stats.dead), 0);
    ck_assert_uint_eq(stat_of(&r.stats.apply_count), 3);
    ck_assert_uint_eq(stat_of(&r.stats.apply_buckets[CONSUMER_LATENCY_NBUCKETS - 1]), 3);
    ck_assert_int_gt((long long)atomic_load(&r.stats.last_apply_unix), 0);
}
END_TEST

START_TEST(dead_after_max_attempts)
{
    struct runner r;
    redisReply *x;
    char id[64];
    char *v;
    long long now = (long long)time(NULL);

    setenv("DADNS_WRITER_MAX_ATTEMPTS", "2", 1);
    fake_init(&fa);
    fa.fail = 1;
    save("a.test", ZONE1);
    last_id(id, sizeof(id));
    start(&r, "c1", &fa, 0);
    ck_assert(wait_int("XLEN %s", "dadns:dead:rec", 1, 6000));
    ck_assert(wait_pending(0, 1000));
    finish(&r);
    ck_assert_int_eq(fa.n, 2);
    x = redisCommand(raw, "XRANGE dadns:dead:rec - +");
    ck_assert(x != NULL && x->type == REDIS_REPLY_ARRAY && x->elements == 1);
    {
        const redisReply *f = x->element[0]->element[1];
        const char *want[][2] = {
            {"zone", "a.test"}, {"op", "save"}, {"version", "1"},   {"reason", "injected failure"},
            {"attempts", "2"},  {"id", id},     {"consumer", "c1"}, {"permanent", "0"}};
        size_t k, w;

        ck_assert_uint_eq(f->elements, 18);
        for (w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
            int found = 0;

            for (k = 0; k + 1 < f->elements; k += 2) {
                if (strcmp(f->element[k]->str, want[w][0]) == 0) {
                    ck_assert_msg(strcmp(f->element[k + 1]->str, want[w][1]) == 0,
                                  "%s: %s, wanted %s", want[w][0], f->element[k + 1]->str,
                                  want[w][1]);
                    found = 1;
                }
                if (strcmp(f->element[k]->str, "failed_at") == 0) {
                    long long t = strtoll(f->element[k + 1]->str, NULL, 10);

                    ck_assert(t >= now && t <= now + 30);
                }
            }
            ck_assert_msg(found, "field %s missing", want[w][0]);
        }
    }
    freeReplyObject(x);
    /* the original entry is acknowledged, not applied */
    v = redis_fixture_str(raw, "HGET dadns:applied:rec a.test");
    ck_assert_ptr_null(v);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 1);
    ck_assert_uint_eq(stat_of(&r.stats.dead), 1);
}
END_TEST

START_TEST(permanent_is_dead_at_once)
{
    struct runner r;

    fake_init(&fa);
    fa.fail = 1;
    fa.permanent = 1;
    save("a.test", ZONE1);
    save("b.test", ZONE1);
    start(&r, "c1", &fa, 0);
    ck_assert(wait_int("XLEN %s", "dadns:dead:rec", 2, 3000));
    ck_assert(wait_pending(0, 1000));
    sleep_ms(1300); /* no retry comes */
    finish(&r);
    ck_assert_int_eq(fa.n, 2);
    {
        redisReply *x = redisCommand(raw, "XRANGE dadns:dead:rec - + COUNT 1");
        const redisReply *f = x->element[0]->element[1];
        size_t k;

        for (k = 0; k + 1 < f->elements; k += 2) {
            if (strcmp(f->element[k]->str, "attempts") == 0)
                ck_assert_str_eq(f->element[k + 1]->str, "1");
            if (strcmp(f->element[k]->str, "permanent") == 0)
                ck_assert_str_eq(f->element[k + 1]->str, "1");
        }
        freeReplyObject(x);
    }
    ck_assert_uint_eq(stat_of(&r.stats.dead), 2);
}
END_TEST

START_TEST(claims_a_dead_consumers_entries)
{
    struct runner a, b;
    int64_t failed_at, t_claim;

    setenv("DADNS_WRITER_CLAIM_IDLE_S", "2", 1);
    fake_init(&fa);
    fake_init(&fb);
    fa.fail = 1;
    start(&a, "dying", &fa, 0);
    save("a.test", ZONE1);
    ck_assert_int_eq(wait_n(&fa, 1, 3000), 1);
    failed_at = fa.t[0];
    finish(&a); /* "dies" with its entry pending */
    ck_assert_int_eq(pending_count(), 1);
    start(&b, "healthy", &fb, 0);
    ck_assert_int_eq(wait_n(&fb, 1, 6000), 1);
    t_claim = fb.t[0] - failed_at;
    ck_assert(wait_pending(0, 2000));
    ck_assert(wait_int("HGET dadns:applied:rec %s", "a.test", 1, 2000));
    finish(&b);
    ck_assert_str_eq(fb.log[0], "1 a.test 1");
    /* taken over only after claim_idle_s (2 s) > backoff(1) (~1 s) */
    ck_assert_msg(t_claim >= 1900, "claimed after %lld ms", (long long)t_claim);
    ck_assert_uint_eq(stat_of(&b.stats.claimed), 1);
    ck_assert_uint_eq(stat_of(&b.stats.retried), 0);
    ck_assert_int_eq(fa.n, 1); /* the dead one never saw it again */
}
END_TEST

START_TEST(two_live_consumers_never_share_an_entry)
{
    struct runner a, b;
    char z[32];
    int i, seen;

    fake_init(&fa);
    fake_init(&fb);
    fa.fail_n = 20; /* every zone fails once on whoever reads it first */
    fb.fail_n = 20;
    start(&a, "ra", &fa, 0);
    start(&b, "rb", &fb, 0);
    for (i = 0; i < 20; i++) {
        snprintf(z, sizeof(z), "z%02d.test", i);
        save(z, ZONE1);
    }
    ck_assert(wait_pending(0, 12000));
    finish(&a);
    finish(&b);
    /* each zone applied successfully exactly once: an entry is never held by both at once */
    seen = fa.n + fb.n;
    ck_assert_int_le(seen, 60);
    ck_assert_int_eq(fa.ok + fb.ok, 20);
    for (i = 0; i < 20; i++) {
        snprintf(z, sizeof(z), "z%02d.test", i);
        ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:rec %s", z), i + 1);
    }
}
END_TEST

/* ---- circuit breaker ---------------------------------------------------------------------- */

START_TEST(breaker_opens_probes_closes_and_drains)
{
    struct runner r;
    char id1[64], id2[64];
    int calls, probes;

    setenv("DADNS_WRITER_BREAKER_FAILURES", "2", 1);
    setenv("DADNS_WRITER_MAX_ATTEMPTS", "3", 1);
    fake_init(&fa);
    fa.whole = 1;
    save("a.test", ZONE1);
    last_id(id1, sizeof(id1));
    start(&r, "c1", &fa, 0);
    /* first delivery fails, the retry ~1 s later fails: two whole-batch failures open it */
    {
        int64_t end = mono_ms() + 5000;

        while (atomic_load(&r.stats.breaker_open) == 0 && mono_ms() < end)
            sleep_ms(20);
    }
    ck_assert_int_eq(atomic_load(&r.stats.breaker_open), 1);
    ck_assert_uint_eq(stat_of(&r.stats.breaker_opens), 1);
    ck_assert_int_eq(deliveries(id1), 2);
    calls = fake_get(&fa, &fa.calls);
    ck_assert_int_eq(calls, 2);

    /* while open: new entries are read but parked, nothing is applied, no attempt used */
    save("b.test", ZONE1);
    last_id(id2, sizeof(id2));
    sleep_ms(2600);
    ck_assert_int_eq(fake_get(&fa, &fa.calls), calls);
    probes = fake_get(&fa, &fa.probes);
    ck_assert_int_ge(probes, 2);
    ck_assert_int_eq(deliveries(id1), 2);
    ck_assert_int_eq(deliveries(id2), 0); /* read, parked, not attempted */
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:rec"), 0);

    /* the backend is back: the next probe closes it and the backlog drains */
    fake_set(&fa, &fa.whole, 0);
    fake_set(&fa, &fa.probe_ok, 1);
    ck_assert(wait_pending(0, 3000));
    ck_assert(wait_int("HGET dadns:applied:rec %s", "a.test", 1, 1000));
    ck_assert(wait_int("HGET dadns:applied:rec %s", "b.test", 2, 1000));
    ck_assert_int_eq(atomic_load(&r.stats.breaker_open), 0);
    finish(&r);
    ck_assert_uint_eq(stat_of(&r.stats.breaker_opens), 1);
    ck_assert_uint_eq(stat_of(&r.stats.dead), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:rec"), 0);
}
END_TEST

/* ---- targeted entries, push, inventory ---------------------------------------------------- */

START_TEST(targeted_entries_and_push)
{
    struct runner r;
    const char *other[] = {"op", "push", "zone", "a.test", "version", "1", "backend", "other"};
    const char *mine[] = {"op", "push", "zone", "a.test", "version", "1", "backend", "rec"};
    const char *all[] = {"op", "push", "zone", "a.test", "version", "1"};
    const char *gone[] = {"op", "push", "zone", "a.test", "version", "2", "backend", "rec"};
    const char *never[] = {"op", "push", "zone", "never.test", "version", "0"};
    const char *bad[] = {"op", "frobnicate", "zone", "a.test", "version", "1"};
    char *digest;

    fake_init(&fa);
    save("a.test", ZONE1);
    start(&r, "c1", &fa, 0);
    ck_assert_int_eq(wait_n(&fa, 1, 3000), 1);
    digest = redis_fixture_str(raw, "HGET dadns:zone:a.test digest");
    ck_assert_ptr_nonnull(digest);
    ck_assert_str_eq(fa.digest[0], digest); /* change.digest = the store's */
    free(digest);

    xadd(other, 8); /* another group's: acked, untouched */
    xadd(bad, 6);   /* unknown op: acked with a warning */
    ck_assert(wait_pending(0, 2000));
    sleep_ms(300);
    ck_assert_int_eq(fa.n, 1);
    ck_assert_uint_eq(stat_of(&r.stats.skipped), 1);
    ck_assert_uint_eq(stat_of(&r.stats.invalid), 1);

    xadd(mine, 8); /* forced although already applied */
    ck_assert_int_eq(wait_n(&fa, 2, 3000), 2);
    ck_assert_str_eq(fa.log[1], "1 a.test 1");
    xadd(all, 6); /* no backend: every group */
    ck_assert_int_eq(wait_n(&fa, 3, 3000), 3);
    ck_assert_str_eq(fa.log[2], "1 a.test 1");

    delete_zone("a.test");
    ck_assert_int_eq(wait_n(&fa, 4, 3000), 4);
    ck_assert_str_eq(fa.log[3], "2 a.test 2");
    xadd(gone, 8); /* a tombstone: forced delete */
    ck_assert_int_eq(wait_n(&fa, 5, 3000), 5);
    ck_assert_str_eq(fa.log[4], "2 a.test 2");
    xadd(never, 6); /* no state at all: forced delete */
    ck_assert_int_eq(wait_n(&fa, 6, 3000), 6);
    ck_assert_str_eq(fa.log[5], "2 never.test 0");
    /* change.force: set for what came from op=push only */
    ck_assert_int_eq(fa.force[0], 0);
    ck_assert_int_eq(fa.force[1], 1);
    ck_assert_int_eq(fa.force[2], 1);
    ck_assert_int_eq(fa.force[3], 0);
    ck_assert_int_eq(fa.force[4], 1);
    ck_assert_int_eq(fa.force[5], 1);
    ck_assert(wait_pending(0, 2000));
    finish(&r);
    ck_assert_uint_eq(stat_of(&r.stats.skipped), 1);
}
END_TEST

START_TEST(inventory_is_published)
{
    struct runner r, s;
    const char *req[] = {"op", "inventory", "zone", "",        "version",
                         "0",  "backend",   "rec",  "request", "r1"};
    const char *req2[] = {"op", "inventory", "zone", "",        "version",
                          "0",  "backend",   "rec",  "request", "r2"};
    const char *other[] = {"op", "inventory", "zone", "",        "version",
                           "0",  "backend",   "x",    "request", "r3"};
    long long ttl;
    char *fin;
    long long now = (long long)time(NULL);

    fake_init(&fa);
    start(&r, "c1", &fa, 1);
    xadd(req, 10);
    xadd(other, 10);
    ck_assert(wait_int("EXISTS %s", "dadns:inventory:rec:r1:meta", 1, 3000));
    ck_assert(wait_pending(0, 2000));
    finish(&r);
    ck_assert(field_eq("dadns:inventory:rec:r1:meta", "status", "ok"));
    ck_assert(field_eq("dadns:inventory:rec:r1:meta", "zones", "3"));
    ck_assert(field_eq("dadns:inventory:rec:r1:meta", "error", ""));
    ck_assert(field_eq("dadns:inventory:rec:r1:meta", "consumer", "c1"));
    fin = redis_fixture_str(raw, "HGET dadns:inventory:rec:r1:meta finished_at");
    ck_assert_ptr_nonnull(fin);
    ck_assert(strtoll(fin, NULL, 10) >= now);
    free(fin);
    ck_assert(field_eq("dadns:inventory:rec:r1", "a.test", "7 abc 12 1"));
    ck_assert(field_eq("dadns:inventory:rec:r1", "b.test", "- - 0 0"));
    ck_assert(field_eq("dadns:inventory:rec:r1", "c.test", "- modified 3 1"));
    ttl = redis_fixture_int(raw, "TTL dadns:inventory:rec:r1");
    ck_assert(ttl > 3500 && ttl <= 3600);
    ttl = redis_fixture_int(raw, "TTL dadns:inventory:rec:r1:meta");
    ck_assert(ttl > 3500 && ttl <= 3600);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:inventory:x:r3:meta"), 0);
    ck_assert_uint_eq(stat_of(&r.stats.inventories), 1);
    ck_assert_uint_eq(stat_of(&r.stats.skipped), 1);

    /* a backend without inventory answers with an error */
    start(&s, "c1", &fa, 0);
    xadd(req2, 10);
    ck_assert(wait_int("EXISTS %s", "dadns:inventory:rec:r2:meta", 1, 3000));
    ck_assert(wait_pending(0, 2000));
    finish(&s);
    ck_assert(field_eq("dadns:inventory:rec:r2:meta", "status", "error"));
    ck_assert(field_eq("dadns:inventory:rec:r2:meta", "error",
                       "inventory not supported by this backend"));
    ck_assert(field_eq("dadns:inventory:rec:r2:meta", "zones", "0"));
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:inventory:rec:r2"), 0);
}
END_TEST

/* ---- trimming ----------------------------------------------------------------------------- */

START_TEST(trimmed_pending_entry)
{
    struct runner r;
    char id[64];
    redisReply *x;

    fake_init(&fa);
    fa.fail = 1;
    save("a.test", ZONE1);
    last_id(id, sizeof(id));
    save("b.test", ZONE1);
    start(&r, "c1", &fa, 0);
    ck_assert_int_eq(wait_n(&fa, 2, 3000), 2);
    ck_assert_int_eq(pending_count(), 2);
    x = redisCommand(raw, "XDEL dadns:changes %s", id); /* trimmed while pending */
    freeReplyObject(x);
    fake_set(&fa, &fa.fail, 0);
    ck_assert(wait_pending(0, 4000));
    ck_assert(wait_int("HGET dadns:applied:rec %s", "b.test", 2, 1000));
    finish(&r);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:rec a.test"), -1);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:rec"), 0);
}
END_TEST

START_TEST(trim_keeps_what_groups_need)
{
    struct config *cfg = load_cfg("c1");
    struct rconn *rc;
    struct stream_group_floor *g = NULL;
    char ids[20][64], next12[64];
    struct stream_info si;
    long long removed = -1;
    size_t n = 0, i;
    redisReply *x;
    struct err e;
    struct runner r;

    x = redisCommand(raw, "CONFIG SET stream-node-max-entries 2");
    freeReplyObject(x);
    for (i = 0; i < 20; i++) {
        x = redisCommand(raw, "XADD dadns:changes * op save zone t%d.test version 1", (int)i);
        ck_assert(x != NULL && x->type == REDIS_REPLY_STRING);
        snprintf(ids[i], sizeof(ids[i]), "%s", x->str);
        freeReplyObject(x);
    }
    /* g1: all delivered, all but #8 acked; g2: 13 delivered and acked */
    freeReplyObject(redisCommand(raw, "XGROUP CREATE dadns:changes g1 0"));
    freeReplyObject(redisCommand(raw, "XGROUP CREATE dadns:changes g2 0"));
    freeReplyObject(redisCommand(raw, "XREADGROUP GROUP g1 a COUNT 20 STREAMS dadns:changes >"));
    freeReplyObject(redisCommand(raw, "XREADGROUP GROUP g2 a COUNT 13 STREAMS dadns:changes >"));
    for (i = 0; i < 20; i++) {
        if (i != 8)
            freeReplyObject(redisCommand(raw, "XACK dadns:changes g1 %s", ids[i]));
        if (i < 13)
            freeReplyObject(redisCommand(raw, "XACK dadns:changes g2 %s", ids[i]));
    }
    ck_assert_int_eq(rconn_new(cfg, "test", &rc), 0);
    ck_assert_int_eq(stream_group_floors(rc, "dadns:changes", &g, &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(g[0].name, "g1");
    ck_assert_str_eq(g[0].needed, ids[8]);
    ck_assert_uint_eq(g[0].pending, 1);
    ck_assert_int_eq(stream_id_next(ids[12], next12, sizeof(next12)), 0);
    ck_assert_str_eq(g[1].needed, next12);
    free(g);
    ck_assert_int_eq(stream_trim_minid(rc, "dadns:changes", ids[8], &removed, &e), 0);
    ck_assert_int_gt(removed, 0);
    ck_assert_int_le(removed, 8);
    x = redisCommand(raw, "XRANGE dadns:changes %s %s", ids[8], ids[8]);
    ck_assert_uint_eq(x->elements, 1); /* the pending one stays */
    freeReplyObject(x);
    ck_assert_int_eq(stream_info(rc, "dadns:changes", &si, &e), 0);
    ck_assert_int_eq(si.length, 20 - removed);
    ck_assert_int_le(stream_id_cmp(si.first_id, ids[8]), 0);
    ck_assert_int_gt(stream_id_cmp(si.first_id, ids[0]), 0);
    ck_assert_str_eq(si.max_deleted, "0-0"); /* trimming is not deleting */
    /* no stream at all: no groups, no error */
    ck_assert_int_eq(stream_group_floors(rc, "dadns:nothing", &g, &n, &e), 0);
    ck_assert_uint_eq(n, 0);
    rconn_free(rc);
    config_free(cfg);

    /* the loop trims at start: once g1 and g2 are gone and "rec" has applied everything */
    freeReplyObject(redisCommand(raw, "DEL dadns:changes"));
    fake_init(&fa);
    for (i = 0; i < 12; i++) {
        char z[32];

        snprintf(z, sizeof(z), "t%02zu.test", i);
        save(z, ZONE1);
    }
    start(&r, "c1", &fa, 0);
    ck_assert_int_eq(wait_n(&fa, 12, 3000), 12);
    ck_assert(wait_pending(0, 2000));
    finish(&r);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 12);
    start(&r, "c1", &fa, 0);
    ck_assert(wait_int("XLEN %s", "dadns:changes", 0, 3000) ||
              redis_fixture_int(raw, "XLEN dadns:changes") <= 2);
    finish(&r);
    x = redisCommand(raw, "CONFIG SET stream-node-max-entries 100");
    freeReplyObject(x);
}
END_TEST

/* capture - stderr (the log) into a temporary file from now on; returns its fd. */
static int capture(int *saved, char *path)
{
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    *saved = dup(2);
    ck_assert_int_ge(*saved, 0);
    ck_assert_int_eq(dup2(fd, 2), 2);
    log_init("test", "warn", "kv");
    return fd;
}

/* captured - stop capturing; the log lines that contain @needle, joined (caller frees). */
static char *captured(int fd, int saved, const char *path, const char *needle)
{
    char line[2048], *out = calloc(1, 65536);
    size_t len = 0;
    FILE *f;

    log_init("test", "error", "kv");
    dup2(saved, 2);
    close(saved);
    f = fdopen(fd, "r");
    ck_assert_ptr_nonnull(f);
    rewind(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, needle) != NULL && len + strlen(line) < 65535) {
            memcpy(out + len, line, strlen(line) + 1);
            len += strlen(line);
        }
    }
    fclose(f);
    unlink(path);
    return out;
}

START_TEST(maxlen_loss_is_logged)
{
    struct runner r;
    char path[] = "/tmp/dadns-test-consumer-log-XXXXXX";
    char *lines;
    int fd, saved;

    fake_init(&fa);
    fa.fail = 1;
    save("a.test", ZONE1);
    save("b.test", ZONE1);
    save("c.test", ZONE1);
    start(&r, "c1", &fa, 0);
    ck_assert_int_eq(wait_n(&fa, 3, 3000), 3);
    finish(&r);
    ck_assert_int_eq(pending_count(), 3);
    /* another group read and acked a.test only: b.test will be lost to it unread */
    freeReplyObject(redisCommand(raw, "XGROUP CREATE dadns:changes lagging 0"));
    {
        redisReply *x = redisCommand(raw, "XREADGROUP GROUP lagging x COUNT 1 STREAMS "
                                          "dadns:changes >");

        ck_assert(x != NULL && x->type == REDIS_REPLY_ARRAY);
        freeReplyObject(redisCommand(raw, "XACK dadns:changes lagging %s",
                                     x->element[0]->element[1]->element[0]->element[0]->str));
        freeReplyObject(x);
    }
    freeReplyObject(redisCommand(raw, "XTRIM dadns:changes MAXLEN 1")); /* the cap bites */
    fake_set(&fa, &fa.fail, 0);
    fd = capture(&saved, path);
    start(&r, "c1", &fa, 0);
    ck_assert(wait_pending(0, 3000)); /* the two trimmed ones dropped, c.test applied */
    ck_assert(wait_int("HGET dadns:applied:rec %s", "c.test", 3, 2000));
    finish(&r);
    lines = captured(fd, saved, path, "the stream lost entries");
    ck_assert_msg(strstr(lines, "group=rec") != NULL && strstr(lines, "pending_trimmed=yes"),
                  "log: %s", lines);
    ck_assert_msg(strstr(lines, "group=lagging") != NULL && strstr(lines, "unread_trimmed=1"),
                  "log: %s", lines);
    free(lines);
}
END_TEST

/* ---- stops -------------------------------------------------------------------------------- */

START_TEST(graceful_stop_mid_batch)
{
    struct runner r;
    int64_t took;

    fake_init(&fa);
    fa.sleep_ms = 700;
    start(&r, "c1", &fa, 0);
    sleep_ms(300);
    save("a.test", ZONE1);
    ck_assert_int_eq(wait_n(&fa, 1, 3000), 1); /* the batch is in the backend */
    took = finish(&r);
    ck_assert_msg(took < 2000, "stop took %lld ms", (long long)took);
    /* the batch was finished: recorded and acked */
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:rec a.test"), 1);
    ck_assert_int_eq(pending_count(), 0);
}
END_TEST

START_TEST(stop_wakes_a_blocking_read)
{
    struct runner r;
    int64_t took;

    setenv("DADNS_WRITER_BLOCK_MS", "4500", 1);
    setenv("DADNS_WRITER_RETRY_INTERVAL_S", "30", 1);
    fake_init(&fa);
    start(&r, "c1", &fa, 0);
    sleep_ms(600); /* bootstrap, drain, trim, then blocked in XREADGROUP */
    took = finish(&r);
    ck_assert_msg(took < 400, "stop took %lld ms", (long long)took);
    /* and a later consumer still works (the group and stream are fine) */
    start(&r, "c1", &fa, 0);
    save("a.test", ZONE2);
    ck_assert_int_eq(wait_n(&fa, 1, 3000), 1);
    finish(&r);
}
END_TEST

START_TEST(redis_unreachable_keeps_retrying)
{
    struct runner r;
    int64_t took;

    setenv("DADNS_REDIS_PORT", "1", 1); /* nothing listens there */
    setenv("DADNS_REDIS_TIMEOUT_MS", "300", 1);
    fake_init(&fa);
    start(&r, "c1", &fa, 0);
    sleep_ms(800);
    took = finish(&r);
    unsetenv("DADNS_REDIS_TIMEOUT_MS");
    ck_assert_msg(took < 700, "stop took %lld ms", (long long)took);
    ck_assert_int_eq(fa.calls, 0);
}
END_TEST

/* child_bounded_stop - a process stuck after SIGTERM exits 0 after @timeout_s; with @twice a
 * second signal ends it at once. Returns the exit status, and how long it took after the
 * first signal in *@ms. */
static int child_bounded_stop(int timeout_s, int twice, int64_t *ms)
{
    static volatile sig_atomic_t stop;
    int64_t t0;
    int status = -1;
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open("/dev/null", 1);

        if (fd >= 0)
            dup2(fd, 2);
        service_signals_install(&stop);
        service_stop_bound(timeout_s, consumer_wake);
        for (;;)
            pause(); /* never looks at stop: only the bound ends it */
    }
    ck_assert_int_gt(pid, 0);
    sleep_ms(200);
    t0 = mono_ms();
    kill(pid, SIGTERM);
    if (twice) {
        sleep_ms(100);
        kill(pid, SIGINT);
    }
    waitpid(pid, &status, 0);
    *ms = mono_ms() - t0;
    return status;
}

START_TEST(stop_is_bounded)
{
    int64_t ms;
    int status;

    status = child_bounded_stop(1, 0, &ms);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(ms >= 900 && ms < 2500, "exited after %lld ms", (long long)ms);
    status = child_bounded_stop(30, 1, &ms);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(ms < 1000, "exited after %lld ms", (long long)ms);
}
END_TEST

static Suite *consumer_suite(void)
{
    Suite *s = suite_create("consumer");
    TCase *tp = tcase_create("pure");
    TCase *tr = tcase_create("retries");
    TCase *tb = tcase_create("breaker");
    TCase *to = tcase_create("ops");
    TCase *tt = tcase_create("trim");
    TCase *ts = tcase_create("stop");

    tcase_add_test(tp, backoff_math);
    tcase_add_test(tp, stream_ids_and_fields);
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, retry_after_backoff);
    tcase_add_test(tr, dead_after_max_attempts);
    tcase_add_test(tr, permanent_is_dead_at_once);
    tcase_add_test(tr, claims_a_dead_consumers_entries);
    tcase_add_test(tr, two_live_consumers_never_share_an_entry);
    tcase_add_checked_fixture(tb, setup, teardown);
    tcase_set_timeout(tb, 30);
    tcase_add_test(tb, breaker_opens_probes_closes_and_drains);
    tcase_add_checked_fixture(to, setup, teardown);
    tcase_set_timeout(to, 30);
    tcase_add_test(to, targeted_entries_and_push);
    tcase_add_test(to, inventory_is_published);
    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_set_timeout(tt, 30);
    tcase_add_test(tt, trimmed_pending_entry);
    tcase_add_test(tt, trim_keeps_what_groups_need);
    tcase_add_test(tt, maxlen_loss_is_logged);
    tcase_add_checked_fixture(ts, setup, teardown);
    tcase_set_timeout(ts, 30);
    tcase_add_test(ts, graceful_stop_mid_batch);
    tcase_add_test(ts, stop_wakes_a_blocking_read);
    tcase_add_test(ts, redis_unreachable_keeps_retrying);
    tcase_add_test(ts, stop_is_bounded);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, tr);
    suite_add_tcase(s, tb);
    suite_add_tcase(s, to);
    suite_add_tcase(s, tt);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    log_init("test", getenv("DADNS_TEST_LOG") ? getenv("DADNS_TEST_LOG") : "error", "kv");
    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(consumer_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
