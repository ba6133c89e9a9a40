/* test_backendinv.c -- the reconciler's side of the inventories (services/reconciler/
 * backendinv.c) against a real redis-server: the request entry, polling the meta hash
 * (pending, ok, error), reading the zones with HSCAN, dropping the keys. */
#include <check.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backendinv.h"
#include "redis_fixture.h"

static struct config *cfg;
static struct recstore *rs;
static redisContext *raw;

static void setup(void)
{
    redis_fixture_config(&cfg);
    ck_assert_int_eq(recstore_new(cfg, "test-backendinv", &rs), 0);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    recstore_free(rs);
    rs = NULL;
    redis_fixture_teardown(&cfg, &raw);
}

START_TEST(reqid)
{
    char a[BACKENDINV_REQID_SIZE], b[BACKENDINV_REQID_SIZE];
    size_t i;

    backendinv_reqid(a, sizeof(a));
    backendinv_reqid(b, sizeof(b));
    ck_assert_str_ne(a, b);
    ck_assert_uint_gt(strlen(a), 10);
    for (i = 0; a[i] != '\0'; i++)
        ck_assert(strchr("0123456789abcdef-", a[i]) != NULL);
}
END_TEST

START_TEST(request_entry)
{
    struct err e;
    redisReply *r;

    ck_assert_int_eq(backendinv_request(rs, 1000, "bind", "r1", &e), 0);
    r = redis_fixture_cmd(raw, "XRANGE dadns:changes - +");
    ck_assert_uint_eq(r->elements, 1);
    ck_assert_uint_eq(r->element[0]->element[1]->elements, 10);
    ck_assert_str_eq(r->element[0]->element[1]->element[1]->str, "inventory");
    ck_assert_str_eq(r->element[0]->element[1]->element[3]->str, "");
    ck_assert_str_eq(r->element[0]->element[1]->element[5]->str, "0");
    ck_assert_str_eq(r->element[0]->element[1]->element[7]->str, "bind");
    ck_assert_str_eq(r->element[0]->element[1]->element[9]->str, "r1");
    freeReplyObject(r);
}
END_TEST

START_TEST(poll_states)
{
    const char *names[] = {"bind", "mysql", "pdns"};
    bool skip[] = {false, false, true};
    struct backendinv_meta m[3];
    struct err e;

    memset(m, 0, sizeof(m));
    m[2].state = BACKENDINV_OK; /* skipped: left as it is */
    ck_assert_int_eq(backendinv_poll(rs, names, skip, 3, "r1", m, &e), 0);
    ck_assert_int_eq(m[0].state, BACKENDINV_PENDING);
    ck_assert_int_eq(m[1].state, BACKENDINV_PENDING);
    ck_assert_int_eq(m[2].state, BACKENDINV_OK);
    redis_fixture_do(raw, "HSET dadns:inventory:bind:r1:meta status ok zones 3 "
                          "finished_at 1700000000 consumer c1");
    redis_fixture_do(raw, "HSET dadns:inventory:mysql:r1:meta status error zones 0 error %s",
                     "connection refused");
    ck_assert_int_eq(backendinv_poll(rs, names, skip, 3, "r1", m, &e), 0);
    ck_assert_int_eq(m[0].state, BACKENDINV_OK);
    ck_assert_uint_eq(m[0].zones, 3);
    ck_assert_int_eq(m[0].finished_at, 1700000000);
    ck_assert_str_eq(m[0].consumer, "c1");
    ck_assert_str_eq(m[0].error, "");
    ck_assert_int_eq(m[1].state, BACKENDINV_ERROR);
    ck_assert_str_eq(m[1].error, "connection refused");
    redis_fixture_do(raw, "HSET dadns:inventory:pdns:r1:meta status weird");
    skip[2] = false;
    ck_assert_int_eq(backendinv_poll(rs, names, skip, 3, "r1", m, &e), 0);
    ck_assert_int_eq(m[2].state, BACKENDINV_ERROR);
    ck_assert_ptr_nonnull(strstr(m[2].error, "unknown inventory status"));
}
END_TEST

struct seen {
    size_t n;
    int found_a;
    int stop_after;
};

static int cb(void *arg, const char *zone, size_t zlen, const char *value, size_t vlen)
{
    struct seen *s = arg;

    s->n++;
    if (zlen == 6 && memcmp(zone, "a.test", 6) == 0 && vlen == 7 &&
        memcmp(value, "1 - 2 1", 7) == 0)
        s->found_a = 1;
    if (s->stop_after > 0 && (int)s->n == s->stop_after)
        return 42;
    return 0;
}

START_TEST(read_and_drop)
{
    struct seen s = {0, 0, 0};
    struct err e;
    size_t n = 0;
    int i;
    redisReply *r;

    redis_fixture_do(raw, "HSET dadns:inventory:bind:r2 a.test %s", "1 - 2 1");
    for (i = 0; i < 2999; i++)
        redis_fixture_do(raw, "HSET dadns:inventory:bind:r2 z%d.test %s", i, "- - 0 1");
    redis_fixture_do(raw, "HSET dadns:inventory:bind:r2:meta status ok zones 3000");
    ck_assert_int_eq(backendinv_read(rs, "bind", "r2", cb, &s, &n, &e), 0);
    ck_assert_uint_ge(n, 3000);
    ck_assert_uint_eq(s.n, n);
    ck_assert(s.found_a);
    s.n = 0;
    s.stop_after = 5;
    ck_assert_int_eq(backendinv_read(rs, "bind", "r2", cb, &s, &n, &e), 42);
    ck_assert_uint_eq(n, 5);
    /* a hash that is gone reads as empty */
    ck_assert_int_eq(backendinv_read(rs, "bind", "nope", cb, &s, &n, &e), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(backendinv_drop(rs, "bind", "r2", &e), 0);
    r = redis_fixture_cmd(raw, "EXISTS dadns:inventory:bind:r2 dadns:inventory:bind:r2:meta");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
}
END_TEST

static Suite *backendinv_suite(void)
{
    Suite *s = suite_create("backendinv");
    TCase *tc = tcase_create("redis");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reqid);
    tcase_add_test(tc, request_entry);
    tcase_add_test(tc, poll_states);
    tcase_add_test(tc, read_and_drop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(backendinv_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
