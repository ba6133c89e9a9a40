/* test_store.c -- the Redis contract (common/store.c, stream.c, consumer.c) against a real
 * redis-server started for the test, and the consumer loop's failure log lines. */
#include <check.h>
#include <hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer.h"
#include "log.h"
#include "redis_fixture.h"
#include "store.h"

static struct config *cfg;
static redisContext *raw; /* a plain connection for looking at keys */

static void setup(void)
{
    setenv("DADNS_WRITER_RETRY_INTERVAL_S", "1", 1);
    setenv("DADNS_WRITER_RETRY_BASE_S", "1", 1); /* a failed entry is due again after ~1 s */
    setenv("DADNS_WRITER_BLOCK_MS", "200", 1);
    setenv("DADNS_WRITER_CONSUMER_NAME", "test-consumer", 1);
    redis_fixture_config(&cfg);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    redis_fixture_teardown(&cfg, &raw);
}

static const char ZONE1[] = "$TTL 300\n@ IN SOA ns1.x. h.x. 1 2 3 4 5\n@ IN NS ns1.x.\n";
static const char ZONE2[] = "$TTL 300\n@ IN SOA ns1.x. h.x. 2 2 3 4 5\n@ IN NS ns1.x.\n";

START_TEST(save_bumps_version_only_on_change)
{
    struct store *st;
    struct store_save_result res;
    struct err e;
    char *s;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 1, "da1", "bob", &res, &e),
                     0);
    ck_assert_uint_eq(res.version, 1);
    ck_assert_int_eq(res.changed, 1);
    ck_assert_str_eq(res.prev_host, "");
    ck_assert_int_eq(redis_fixture_int(raw, "SISMEMBER dadns:zones example.com"), 1);
    s = redis_fixture_str(raw, "HGET dadns:zone:example.com text");
    ck_assert_str_eq(s, ZONE1);
    free(s);
    /* identical push: no new version, a refresh notification, owner moves */
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 1, "da2", "bob", &res, &e),
                     0);
    ck_assert_uint_eq(res.version, 1);
    ck_assert_int_eq(res.changed, 0);
    ck_assert_str_eq(res.prev_host, "da1");
    s = redis_fixture_str(raw, "HGET dadns:zone:example.com host");
    ck_assert_str_eq(s, "da2");
    free(s);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 2);
    /* changed content: new version */
    ck_assert_int_eq(store_save(st, "example.com", ZONE2, strlen(ZONE2), 2, "da2", "bob", &res, &e),
                     0);
    ck_assert_uint_eq(res.version, 2);
    ck_assert_int_eq(res.changed, 1);
    s = redis_fixture_str(raw, "HGET dadns:zone:example.com serial");
    ck_assert_str_eq(s, "2");
    free(s);
    store_free(st);
}
END_TEST

START_TEST(exists_looks_at_every_ancestor)
{
    struct store *st;
    struct store_save_result res;
    struct store_owner own;
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 1, "da1", "bob", &res, &e),
                     0);
    ck_assert_int_eq(store_exists(st, "example.com", 0, &own, &e), 0);
    ck_assert_int_eq(own.found, 1);
    ck_assert_str_eq(own.host, "da1");
    ck_assert_int_eq(store_exists(st, "a.b.c.example.com", 0, &own, &e), 0);
    ck_assert_int_eq(own.found, 0);
    ck_assert_int_eq(store_exists(st, "a.b.c.example.com", 1, &own, &e), 0);
    ck_assert_int_eq(own.found, 2);
    ck_assert_str_eq(own.zone, "example.com");
    ck_assert_str_eq(own.user, "bob");
    ck_assert_int_eq(store_exists(st, "other.com", 1, &own, &e), 0);
    ck_assert_int_eq(own.found, 0);
    store_free(st);
}
END_TEST

START_TEST(delete_respects_ownership)
{
    struct store *st;
    struct store_save_result res;
    struct store_del_result del[2];
    struct store_owner own;
    const char *zones[] = {"example.com", "nothere.com"};
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 1, "da1", "bob", &res, &e),
                     0);
    ck_assert_int_eq(store_delete(st, zones, 2, "da2", "bob", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_REFUSED);
    ck_assert_str_eq(del[0].owner, "da1");
    ck_assert_int_eq(del[1].outcome, STORE_DEL_ABSENT);
    ck_assert_int_eq(redis_fixture_int(raw, "SISMEMBER dadns:zones example.com"), 1);
    ck_assert_int_eq(store_delete(st, zones, 1, "da1", "bob", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_DELETED);
    ck_assert_uint_eq(del[0].version, 2);
    ck_assert_int_eq(redis_fixture_int(raw, "SISMEMBER dadns:zones example.com"), 0);
    ck_assert_int_eq(store_exists(st, "example.com", 1, &own, &e), 0);
    ck_assert_int_eq(own.found, 0);
    ck_assert_int_eq(store_delete(st, zones, 1, "da1", "bob", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_ABSENT);
    store_free(st);
}
END_TEST

START_TEST(delete_versioned_keeps_a_recreated_zone)
{
    struct store *st;
    struct store_save_result res;
    struct store_del_result del[2];
    const char *zones[] = {"example.com", "other.com"};
    uint64_t seen[2], v_other;
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 1, "da1", "bob", &res, &e),
                     0);
    seen[0] = res.version; /* the snapshot */
    ck_assert_int_eq(store_save(st, "other.com", ZONE1, strlen(ZONE1), 1, "da1", "bob", &res, &e),
                     0);
    seen[1] = v_other = res.version;
    /* deleted in DirectAdmin, then added again: same owner, a newer version */
    ck_assert_int_eq(store_delete(st, zones, 1, "da1", "bob", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_DELETED);
    ck_assert_int_eq(store_save(st, "example.com", ZONE2, strlen(ZONE2), 2, "da1", "bob", &res, &e),
                     0);
    ck_assert_uint_gt(res.version, seen[0]);
    ck_assert_int_eq(store_delete_versioned(st, zones, seen, 2, "da1", "rec", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_CHANGED);
    ck_assert_uint_eq(del[0].version, res.version);
    ck_assert_str_eq(del[0].owner, "da1");
    ck_assert_int_eq(del[1].outcome, STORE_DEL_DELETED);
    ck_assert_uint_gt(del[1].version, v_other);
    ck_assert_int_eq(redis_fixture_int(raw, "SISMEMBER dadns:zones example.com"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "SISMEMBER dadns:zones other.com"), 0);
    /* the version read last: deleted; 0 = any version */
    seen[0] = res.version;
    ck_assert_int_eq(store_delete_versioned(st, zones, seen, 1, "da1", "rec", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_DELETED);
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 3, "da1", "bob", &res, &e),
                     0);
    seen[0] = 0;
    ck_assert_int_eq(store_delete_versioned(st, zones, seen, 1, "da1", "rec", del, &e), 0);
    ck_assert_int_eq(del[0].outcome, STORE_DEL_DELETED);
    store_free(st);
}
END_TEST

START_TEST(fetch_and_commit_never_lower_applied)
{
    struct store *st;
    struct store_save_result res;
    struct store_state states[2];
    struct store_batch *hold;
    const char *zones[] = {"example.com", "never.com"};
    uint64_t v5 = 5, v3 = 3;
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_save(st, "example.com", ZONE1, strlen(ZONE1), 1, "da1", "bob", &res, &e),
                     0);
    ck_assert_int_eq(store_fetch(st, "bind", zones, 2, states, &hold, &e), 0);
    ck_assert_int_eq(states[0].exists, 1);
    ck_assert_uint_eq(states[0].version, 1);
    ck_assert_uint_eq(states[0].serial, 1);
    ck_assert_uint_eq(states[0].text_len, strlen(ZONE1));
    ck_assert_int_eq(memcmp(states[0].text, ZONE1, strlen(ZONE1)), 0);
    ck_assert_uint_eq(states[0].applied, 0);
    ck_assert_int_eq(states[1].exists, 0);
    store_batch_free(hold);
    ck_assert_int_eq(store_commit(st, "bind", zones, &v5, 1, NULL, 0, &e), 0);
    ck_assert_int_eq(store_commit(st, "bind", zones, &v3, 1, NULL, 0, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:bind example.com"), 5);
    store_free(st);
}
END_TEST

/* A batch of writer.batch_size entries is acked by one script: more ids than Lua's unpack()
 * takes at once (about 8,000) must still commit. */
START_TEST(commit_acks_more_ids_than_unpack_takes)
{
    enum { N = 20000 };
    static char idbuf[N][24];
    static const char *ids[N];
    struct store *st;
    struct err e;
    size_t i;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    redis_fixture_do(raw, "XGROUP CREATE dadns:changes bind 0 MKSTREAM");
    for (i = 0; i < N; i++) {
        snprintf(idbuf[i], sizeof(idbuf[i]), "%zu-0", i + 1);
        ids[i] = idbuf[i];
    }
    ck_assert_msg(store_commit(st, "bind", NULL, NULL, 0, ids, N, &e) == 0, "%s", e.text);
    store_free(st);
}
END_TEST

/* ---- consumer loop, with a recording backend (the real BIND backend is tested e2e) ---- */

struct recorder {
    pthread_mutex_t mu;
    int fail;          /* fail every change while set */
    int calls;         /* apply calls */
    char log[64][300]; /* "op zone version" per change seen */
    int n;
};

static struct recorder rec;
static volatile sig_atomic_t stop_flag;

static int record_apply(void *ctx, struct change *c, size_t n)
{
    struct recorder *r = ctx;
    size_t i;

    pthread_mutex_lock(&r->mu);
    r->calls++;
    for (i = 0; i < n; i++) {
        if (r->n < 64)
            snprintf(r->log[r->n++], sizeof(r->log[0]), "%d %s %llu", (int)c[i].op, c[i].zone,
                     (unsigned long long)c[i].version);
        c[i].result = r->fail ? DADNS_EBACKEND : 0;
        if (r->fail)
            snprintf(c[i].reason, sizeof(c[i].reason), "injected failure");
    }
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void *run_consumer(void *arg)
{
    static struct backend_conf bc;
    struct change_backend be = {.ctx = &rec, .apply = record_apply};
    struct err e;

    (void)arg;
    memset(&bc, 0, sizeof(bc));
    bc.name = "rec";
    consumer_run(cfg, &bc, &be, &stop_flag, NULL, &e);
    return NULL;
}

static int wait_for(int want_n)
{
    int i, n;

    for (i = 0; i < 100; i++) {
        pthread_mutex_lock(&rec.mu);
        n = rec.n;
        pthread_mutex_unlock(&rec.mu);
        if (n >= want_n)
            return n;
        usleep(50000);
    }
    return n;
}

START_TEST(consumer_coalesces_skips_and_retries)
{
    struct store *st;
    struct store_save_result res;
    pthread_t th;
    struct err e;
    char z[64];
    int i;

    memset(&rec, 0, sizeof(rec));
    pthread_mutex_init(&rec.mu, NULL);
    stop_flag = 0;
    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    /* three versions of a.com and one of b.com before the consumer starts */
    for (i = 1; i <= 3; i++) {
        snprintf(z, sizeof(z), "$TTL 300\n@ IN SOA ns1.x. h.x. %d 2 3 4 5\n@ IN NS ns1.x.\n", i);
        ck_assert_int_eq(store_save(st, "a.com", z, strlen(z), (uint32_t)i, "da1", "u", &res, &e),
                         0);
    }
    ck_assert_int_eq(store_save(st, "b.com", ZONE1, strlen(ZONE1), 1, "da1", "u", &res, &e), 0);
    pthread_create(&th, NULL, run_consumer, NULL);
    ck_assert_int_eq(wait_for(2), 2);
    usleep(300000);
    pthread_mutex_lock(&rec.mu);
    ck_assert_int_eq(rec.n, 2); /* a.com once, at its latest version, and b.com */
    ck_assert_str_eq(rec.log[0], "1 a.com 3");
    ck_assert_str_eq(rec.log[1], "1 b.com 4");
    pthread_mutex_unlock(&rec.mu);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:rec a.com"), 3);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 4);

    /* identical re-push: a verify, no new version */
    ck_assert_int_eq(store_save(st, "b.com", ZONE1, strlen(ZONE1), 1, "da1", "u", &res, &e), 0);
    ck_assert_int_eq(wait_for(3), 3);
    ck_assert_str_eq(rec.log[2], "3 b.com 4");

    /* a failing backend leaves the entry pending; it is retried and then acked */
    pthread_mutex_lock(&rec.mu);
    rec.fail = 1;
    pthread_mutex_unlock(&rec.mu);
    ck_assert_int_eq(store_save(st, "b.com", ZONE2, strlen(ZONE2), 2, "da1", "u", &res, &e), 0);
    ck_assert_int_eq(wait_for(4), 4);
    ck_assert_str_eq(rec.log[3], "1 b.com 5");
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:rec b.com"), 4);
    pthread_mutex_lock(&rec.mu);
    rec.fail = 0;
    pthread_mutex_unlock(&rec.mu);
    ck_assert_int_eq(wait_for(5), 5); /* retried after writer.retry_interval_s */
    ck_assert_str_eq(rec.log[4], "1 b.com 5");
    usleep(300000);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:applied:rec b.com"), 5);
    {
        redisReply *r = redisCommand(raw, "XPENDING dadns:changes rec");

        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->element[0]->integer, 0);
        freeReplyObject(r);
    }
    stop_flag = 1;
    pthread_join(th, NULL);
    store_free(st);
}
END_TEST

START_TEST(consumer_sums_up_failures)
{
    char path[] = "/tmp/dadns-test-store-log-XXXXXX", line[1024];
    struct store *st;
    struct store_save_result res;
    pthread_t th;
    struct err e;
    int fd, saved, each = 0, sums = 0, i;
    char z[64];
    FILE *f;

    memset(&rec, 0, sizeof(rec));
    pthread_mutex_init(&rec.mu, NULL);
    rec.fail = 1;
    stop_flag = 0;
    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    for (i = 1; i <= 8; i++) {
        snprintf(z, sizeof(z), "z%d.com", i);
        ck_assert_int_eq(store_save(st, z, ZONE1, strlen(ZONE1), 1, "da1", "u", &res, &e), 0);
    }
    /* the log lines of one batch of 8 failures (stderr into a file meanwhile) */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fd, 2), 2);
    log_init("test", "warn", "kv");
    pthread_create(&th, NULL, run_consumer, NULL);
    i = wait_for(8);
    usleep(200000);
    stop_flag = 1;
    pthread_join(th, NULL);
    log_init("test", "error", "kv");
    dup2(saved, 2);
    close(saved);
    ck_assert_int_ge(i, 8);
    f = fdopen(fd, "r");
    ck_assert_ptr_nonnull(f);
    rewind(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, "change failed, will retry") != NULL)
            each++;
        if (strstr(line, "more changes failed, will retry") == NULL)
            continue;
        sums++;
        ck_assert_msg(strstr(line, "failed=8 not_logged=3 most_common_reason=\"injected "
                                   "failure\" with_that_reason=8") != NULL,
                      "%s", line);
    }
    fclose(f);
    unlink(path);
    /* every batch (a retry may have come): 5 lines one by one, then one for all */
    ck_assert_int_ge(sums, 1);
    ck_assert_int_eq(each, 5 * sums);
    store_free(st);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("redis");
    TCase *tl = tcase_create("consumer");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, save_bumps_version_only_on_change);
    tcase_add_test(tc, exists_looks_at_every_ancestor);
    tcase_add_test(tc, delete_respects_ownership);
    tcase_add_test(tc, delete_versioned_keeps_a_recreated_zone);
    tcase_add_test(tc, fetch_and_commit_never_lower_applied);
    tcase_add_test(tc, commit_acks_more_ids_than_unpack_takes);
    tcase_add_checked_fixture(tl, setup, teardown);
    tcase_set_timeout(tl, 30);
    tcase_add_test(tl, consumer_coalesces_skips_and_retries);
    tcase_add_test(tl, consumer_sums_up_failures);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tl);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    log_init("test", "error", "kv");
    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(store_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
