/* test_recstore.c -- the reconciler's Redis side (services/reconciler/recstore.c) against a
 * real redis-server started for the test: the pass lock, the operator's request, the store
 * snapshot, owner updates, targeted pushes, the tombstone purge, the guard and the summary. */
#include <check.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recstore.h"
#include "redis_fixture.h"

static struct config *cfg;
static struct recstore *rs;
static redisContext *raw;

static void setup(void)
{
    redis_fixture_config(&cfg);
    ck_assert_int_eq(recstore_new(cfg, "test-recstore", &rs), 0);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    recstore_free(rs);
    rs = NULL;
    redis_fixture_teardown(&cfg, &raw);
}

/* A live zone / a tombstone, shaped like the store's scripts write them. */
static void live(const char *zone, const char *host, int version)
{
    redis_fixture_do(raw,
                     "HSET dadns:zone:%s text x host %s user u serial 7 digest d%d version %d "
                     "updated 1 deleted 0",
                     zone, host, version, version);
    redis_fixture_do(raw, "SADD dadns:zones %s", zone);
}

static void tomb(const char *zone, int version, long long updated)
{
    redis_fixture_do(raw,
                     "HSET dadns:zone:%s host h user u serial 0 version %d updated %lld deleted 1",
                     zone, version, updated);
}

START_TEST(lock)
{
    struct err e;
    bool ok = false;
    char *v;

    ck_assert_int_eq(recstore_lock_take(rs, "me", 10000, &ok, &e), 0);
    ck_assert(ok);
    ck_assert_int_eq(recstore_lock_take(rs, "other", 10000, &ok, &e), 0);
    ck_assert(!ok);
    ck_assert_int_eq(recstore_lock_extend(rs, "me", 50000, &ok, &e), 0);
    ck_assert(ok);
    ck_assert_int_gt(redis_fixture_int(raw, "PTTL dadns:reconciler:lock"), 40000);
    ck_assert_int_eq(recstore_lock_extend(rs, "other", 50000, &ok, &e), 0);
    ck_assert(!ok);
    ck_assert_int_eq(recstore_lock_release(rs, "other", &e), 0); /* not ours: kept */
    v = redis_fixture_str(raw, "GET dadns:reconciler:lock");
    ck_assert_str_eq(v, "me");
    free(v);
    ck_assert_int_eq(recstore_lock_release(rs, "me", &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:reconciler:lock"), 0);
    ck_assert_int_eq(recstore_lock_extend(rs, "me", 50000, &ok, &e), 0);
    ck_assert(!ok);
}
END_TEST

START_TEST(request)
{
    struct recstore_request req;
    struct err e;
    bool del = true;

    ck_assert_int_eq(recstore_request_get(rs, &req, &e), 0);
    ck_assert(!req.present);
    redis_fixture_do(raw,
                     "HSET dadns:reconciler:request dry_run 1 force 0 requested_at 1700000000");
    ck_assert_int_eq(recstore_request_get(rs, &req, &e), 0);
    ck_assert(req.present && req.dry_run && !req.force);
    ck_assert_int_eq(req.requested_at, 1700000000);
    /* a newer request arrived during the pass: kept */
    redis_fixture_do(raw,
                     "HSET dadns:reconciler:request force 1 dry_run 0 requested_at 1700000005");
    ck_assert_int_eq(recstore_request_done(rs, &req, &del, &e), 0);
    ck_assert(!del);
    ck_assert_int_eq(recstore_request_get(rs, &req, &e), 0);
    ck_assert(req.force && !req.dry_run);
    ck_assert_int_eq(recstore_request_done(rs, &req, &del, &e), 0);
    ck_assert(del);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:reconciler:request"), 0);
    /* a request with other fields only still counts */
    redis_fixture_do(raw, "HSET dadns:reconciler:request who me");
    ck_assert_int_eq(recstore_request_get(rs, &req, &e), 0);
    ck_assert(req.present && !req.dry_run && !req.force && req.requested_at == 0);
    ck_assert_int_eq(recstore_request_done(rs, &req, &del, &e), 0);
    ck_assert(del);
}
END_TEST

START_TEST(load)
{
    struct zonetab *t = NULL;
    struct recstore_load_stats st;
    struct zonetab_zone *z;
    struct err e;
    char name[64];
    int i;

    for (i = 0; i < 2500; i++) {
        snprintf(name, sizeof(name), "z%04d.test", i);
        live(name, i % 2 ? "da1" : "da2", i + 1);
    }
    tomb("old.test", 9000, 1000);
    redis_fixture_do(raw, "SADD dadns:zones ghost.test"); /* a member without a hash */
    /* not live, not a tombstone */
    redis_fixture_do(raw, "HSET dadns:zone:half.test deleted 0 version 3");
    redis_fixture_do(raw, "SET dadns:zone:odd*key x");
    ck_assert_int_eq(zonetab_new(&t), 0);
    ck_assert_msg(recstore_load(rs, t, &st, &e) == 0, "%s", e.text);
    ck_assert(t->sorted);
    ck_assert_uint_eq(st.live, 2500);
    ck_assert_uint_eq(st.tombstones, 1);
    ck_assert_uint_eq(st.inconsistent, 2); /* ghost.test and the string key */
    ck_assert_uint_eq(t->n, 2501);
    ck_assert_uint_eq(t->live, 2500);
    z = zonetab_find(t, "z0003.test");
    ck_assert(z != NULL && !z->deleted);
    ck_assert_str_eq(z->host, "da1");
    ck_assert_uint_eq(z->version, 4);
    ck_assert_uint_eq(z->serial, 7);
    ck_assert_str_eq(z->digest, "d4");
    z = zonetab_find(t, "old.test");
    ck_assert(z != NULL && z->deleted && z->version == 9000 && z->updated_ms == 1000);
    ck_assert_ptr_null(zonetab_find(t, "ghost.test"));
    ck_assert_ptr_null(zonetab_find(t, "half.test"));
    ck_assert_int_gt(st.round_trips, 2);
    zonetab_free(t);
}
END_TEST

START_TEST(owners)
{
    const char *zones[] = {"a.test", "b.test", "c.test", "d.test"};
    const char *expect[] = {"da1", "", "da1", "da1"};
    const char *hosts[] = {"da2", "da2", "da2", "da2"};
    struct err e;
    size_t n = 99;
    char *h;

    live("a.test", "da1", 1);
    live("b.test", "", 2);
    live("c.test", "da3", 3); /* changed since the plan: kept */
    tomb("d.test", 4, 1);
    redis_fixture_do(raw, "HSET dadns:zone:d.test host da1");
    ck_assert_int_eq(recstore_set_owners(rs, zones, expect, hosts, 4, &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    h = redis_fixture_str(raw, "HGET dadns:zone:a.test host");
    ck_assert_str_eq(h, "da2");
    free(h);
    h = redis_fixture_str(raw, "HGET dadns:zone:b.test host");
    ck_assert_str_eq(h, "da2");
    free(h);
    h = redis_fixture_str(raw, "HGET dadns:zone:c.test host");
    ck_assert_str_eq(h, "da3");
    free(h);
    h = redis_fixture_str(raw, "HGET dadns:zone:d.test host");
    ck_assert_str_eq(h, "da1");
    free(h);
    h = redis_fixture_str(raw, "HGET dadns:zone:a.test version");
    ck_assert_str_eq(h, "1"); /* no version bump */
    free(h);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:changes"), 0); /* no stream entry */
}
END_TEST

START_TEST(push)
{
    const char *zones[] = {"a.test", "b.test"};
    const uint64_t versions[] = {5, 0};
    struct err e;
    redisReply *r;
    size_t n = 0;

    ck_assert_int_eq(recstore_push(rs, "bind", zones, versions, 2, &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    r = redis_fixture_cmd(raw, "XRANGE dadns:changes - +");
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_uint_eq(r->element[0]->element[1]->elements, 8);
    ck_assert_str_eq(r->element[0]->element[1]->element[1]->str, "push");
    ck_assert_str_eq(r->element[0]->element[1]->element[3]->str, "a.test");
    ck_assert_str_eq(r->element[0]->element[1]->element[5]->str, "5");
    ck_assert_str_eq(r->element[0]->element[1]->element[7]->str, "bind");
    ck_assert_str_eq(r->element[1]->element[1]->element[3]->str, "b.test");
    freeReplyObject(r);
    ck_assert_int_eq(recstore_push(rs, "bind", zones, versions, 0, &n, &e), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(purge)
{
    const char *zones[] = {"ok.test",    "behind.test", "revived.test",
                           "young.test", "nohash.test", "other.test"};
    const uint64_t versions[] = {10, 11, 12, 13, 14, 15};
    const char *check[] = {"bind", "mysql"};
    const char *all[] = {"bind", "mysql", "old"};
    struct recstore_purge_opts o;
    struct err e;
    size_t n = 99;

    tomb("ok.test", 10, 1000);
    tomb("behind.test", 11, 1000);
    tomb("revived.test", 12, 1000);
    live("revived.test", "da1", 20); /* pushed again meanwhile */
    tomb("young.test", 13, 5000);
    tomb("other.test", 16, 1000); /* deleted again at another version */
    redis_fixture_do(raw, "HSET dadns:applied:bind ok.test 10 behind.test 11 young.test 13 "
                          "other.test 16");
    redis_fixture_do(raw, "HSET dadns:applied:mysql ok.test 12 behind.test 10 young.test 13 "
                          "other.test 16");
    redis_fixture_do(raw, "HSET dadns:applied:old ok.test 3");
    memset(&o, 0, sizeof(o));
    o.cutoff_ms = 2000;
    o.check_backends = check;
    o.n_check = 2;
    o.all_backends = all;
    o.n_all = 3;
    o.dry_run = true;
    ck_assert_int_eq(recstore_purge(rs, zones, versions, 6, &o, &n, &e), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:zone:ok.test"), 1);
    o.dry_run = false;
    ck_assert_int_eq(recstore_purge(rs, zones, versions, 6, &o, &n, &e), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:zone:ok.test"), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "HEXISTS dadns:applied:bind ok.test"), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "HEXISTS dadns:applied:mysql ok.test"), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "HEXISTS dadns:applied:old ok.test"), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:zone:behind.test"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:zone:revived.test"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:zone:young.test"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:zone:other.test"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "HEXISTS dadns:applied:bind behind.test"), 1);
}
END_TEST

START_TEST(guard_and_last)
{
    struct err e;
    bool was = true;
    char *v;

    ck_assert_int_eq(recstore_guard_clear(rs, &was, &e), 0);
    ck_assert(!was);
    ck_assert_int_eq(recstore_guard_set(rs, "da1", 50, 0, 50, 1700000000, &e), 0);
    v = redis_fixture_str(raw, "HGET dadns:reconciler:guard would_delete");
    ck_assert_str_eq(v, "50");
    free(v);
    v = redis_fixture_str(raw, "HGET dadns:reconciler:guard server");
    ck_assert_str_eq(v, "da1");
    free(v);
    ck_assert_int_eq(recstore_guard_clear(rs, &was, &e), 0);
    ck_assert(was);
    ck_assert_int_eq(recstore_last_set(rs, "{\"a\":1}", &e), 0);
    v = redis_fixture_str(raw, "GET dadns:reconciler:last");
    ck_assert_str_eq(v, "{\"a\":1}");
    free(v);
}
END_TEST

START_TEST(scripts_reloaded)
{
    struct err e;
    bool ok = false;

    ck_assert_int_eq(recstore_lock_take(rs, "me", 10000, &ok, &e), 0);
    ck_assert_int_eq(recstore_lock_extend(rs, "me", 10000, &ok, &e), 0);
    redis_fixture_do(raw, "SCRIPT FLUSH");
    ck_assert_int_eq(recstore_lock_extend(rs, "me", 10000, &ok, &e), 0);
    ck_assert(ok);
}
END_TEST

static Suite *recstore_suite(void)
{
    Suite *s = suite_create("recstore");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lock);
    tcase_add_test(tc, request);
    tcase_add_test(tc, guard_and_last);
    tcase_add_test(tc, scripts_reloaded);
    suite_add_tcase(s, tc);

    tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, load);
    tcase_add_test(tc, owners);
    tcase_add_test(tc, push);
    tcase_add_test(tc, purge);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(recstore_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
