/* test_heartbeat.c -- writer heartbeats and recent failures (common/heartbeat.c): the JSON both
 * ways, then against a real redis-server: what one tick writes (HSET + EXPIRE, LPUSH + LTRIM),
 * when a tick writes, the bound per batch and on the list, and control.c reading it all back
 * for the status (writers sorted, failures newest first, tombstones skipped when asked). */
#include <check.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "heartbeat.h"
#include "redis_fixture.h"

/* ---- JSON (pure) ---- */

START_TEST(record_round_trip)
{
    struct heartbeat_record r, back;
    char *json = NULL;

    memset(&r, 0, sizeof(r));
    snprintf(r.consumer, sizeof(r.consumer), "ignored");
    r.last_apply_at = 1700000000;
    r.last_batch_at = 1700000005;
    r.applied = 12;
    r.failed = 3;
    r.dead = 1;
    r.breaker_open = 1;
    r.updated_at = 1700000006;
    ck_assert_int_eq(heartbeat_record_json(&r, &json), 0);
    ck_assert_str_eq(json, "{\"last_apply_at\":1700000000,\"last_batch_at\":1700000005,"
                           "\"applied\":12,\"failed\":3,\"dead\":1,\"breaker_open\":true,"
                           "\"updated_at\":1700000006}");
    ck_assert_int_eq(heartbeat_record_parse("w1", json, strlen(json), &back), 0);
    ck_assert_str_eq(back.consumer, "w1");
    ck_assert_int_eq(back.last_apply_at, r.last_apply_at);
    ck_assert_int_eq(back.last_batch_at, r.last_batch_at);
    ck_assert_uint_eq(back.applied, 12);
    ck_assert_uint_eq(back.failed, 3);
    ck_assert_uint_eq(back.dead, 1);
    ck_assert_int_eq(back.breaker_open, 1);
    ck_assert_int_eq(back.updated_at, r.updated_at);
    free(json);
}
END_TEST

START_TEST(failure_round_trip)
{
    struct heartbeat_failure f, back;
    char *json = NULL;

    memset(&f, 0, sizeof(f));
    f.at = 1700000000;
    snprintf(f.backend, sizeof(f.backend), "bind");
    snprintf(f.consumer, sizeof(f.consumer), "host-1");
    snprintf(f.zone, sizeof(f.zone), "example.com");
    snprintf(f.op, sizeof(f.op), "save");
    f.version = 42;
    snprintf(f.reason, sizeof(f.reason), "cannot write \"x\": <Is a directory>");
    f.attempts = 3;
    f.dead = 1;
    ck_assert_int_eq(heartbeat_failure_json(&f, &json), 0);
    ck_assert_str_eq(json, "{\"at\":1700000000,\"backend\":\"bind\",\"consumer\":\"host-1\","
                           "\"zone\":\"example.com\",\"op\":\"save\",\"version\":42,"
                           "\"reason\":\"cannot write \\\"x\\\": <Is a directory>\","
                           "\"attempts\":3,\"dead\":true}");
    ck_assert_int_eq(heartbeat_failure_parse(json, strlen(json), &back), 0);
    ck_assert_int_eq(back.at, f.at);
    ck_assert_str_eq(back.backend, "bind");
    ck_assert_str_eq(back.consumer, "host-1");
    ck_assert_str_eq(back.zone, "example.com");
    ck_assert_str_eq(back.op, "save");
    ck_assert_uint_eq(back.version, 42);
    ck_assert_str_eq(back.reason, f.reason);
    ck_assert_uint_eq(back.attempts, 3);
    ck_assert_int_eq(back.dead, 1);
    free(json);
}
END_TEST

START_TEST(parse_tolerates)
{
    struct heartbeat_record r;
    struct heartbeat_failure f;
    static const char odd[] = "{\"applied\":\"many\",\"failed\":-4,\"dead\":2.9,\"x\":1}";
    char longreason[2000];

    ck_assert_int_eq(heartbeat_record_parse("c", "not json", 8, &r), DADNS_EINVAL);
    ck_assert_str_eq(r.consumer, "c");
    ck_assert_int_eq(heartbeat_record_parse("c", "[1,2]", 5, &r), DADNS_EINVAL);
    ck_assert_int_eq(heartbeat_record_parse("c", NULL, 0, &r), DADNS_EINVAL);
    ck_assert_int_eq(heartbeat_record_parse("c", odd, strlen(odd), &r), 0);
    ck_assert_uint_eq(r.applied, 0); /* mistyped */
    ck_assert_uint_eq(r.failed, 0);  /* negative */
    ck_assert_uint_eq(r.dead, 2);
    ck_assert_int_eq(r.breaker_open, 0); /* missing */
    ck_assert_int_eq(heartbeat_failure_parse("{}", 2, &f), 0);
    ck_assert_str_eq(f.zone, "");
    memset(longreason, 'r', sizeof(longreason));
    memcpy(longreason, "{\"reason\":\"", 11);
    memcpy(longreason + sizeof(longreason) - 3, "\"}", 3);
    ck_assert_int_eq(heartbeat_failure_parse(longreason, strlen(longreason), &f), 0);
    ck_assert_uint_eq(strlen(f.reason), HEARTBEAT_REASON_MAX - 1); /* cut to fit */
}
END_TEST

START_TEST(new_limits)
{
    struct heartbeat *hb = NULL;
    char big[HEARTBEAT_NAME_MAX + 1];

    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(heartbeat_new("dadns:", big, "c", &hb), DADNS_ETOOBIG);
    ck_assert_ptr_null(hb);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", big, &hb), DADNS_ETOOBIG);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "c", &hb), 0);
    heartbeat_fail(NULL, "z", "save", 1, "r", 1, 0); /* NULL is fine */
    heartbeat_drop(NULL);
    heartbeat_free(hb);
    heartbeat_free(NULL);
}
END_TEST

/* ---- against Redis ---- */

static struct config *cfg;
static struct rconn *rc;
static redisContext *raw;

static void setup(void)
{
    setenv("DADNS_DNS_BACKENDS_BIND_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_ZONES_DIR", "/tmp/dadns-test-heartbeat-zones", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_NAMED_CONF", "/tmp/dadns-test-heartbeat.conf", 1);
    redis_fixture_config(&cfg);
    ck_assert_int_eq(rconn_new(cfg, "test-heartbeat", &rc), 0);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    rconn_free(rc);
    rc = NULL;
    redis_fixture_teardown(&cfg, &raw);
}

static void stats_with(struct consumer_stats *s, unsigned long long applied,
                       unsigned long long failed, unsigned long long dead, long long last)
{
    consumer_stats_init(s);
    atomic_store(&s->applied, applied);
    atomic_store(&s->failed, failed);
    atomic_store(&s->dead, dead);
    atomic_store(&s->last_apply_unix, last);
}

START_TEST(tick_writes_heartbeat)
{
    struct heartbeat *hb = NULL;
    struct heartbeat_record back;
    struct consumer_stats s;
    struct err e;
    redisReply *r;

    stats_with(&s, 5, 1, 0, 1700000000);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "host-a", &hb), 0);
    ck_assert_msg(heartbeat_tick(hb, rc, &s, 1, 1, &e) == 0, "%s", e.text);
    r = redis_fixture_cmd(raw, "HGET dadns:writer:bind host-a");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(heartbeat_record_parse("host-a", r->str, r->len, &back), 0);
    freeReplyObject(r);
    ck_assert_uint_eq(back.applied, 5);
    ck_assert_uint_eq(back.failed, 1);
    ck_assert_int_eq(back.last_apply_at, 1700000000);
    ck_assert_int_eq(back.breaker_open, 1);
    ck_assert_int_gt(back.last_batch_at, 0);
    ck_assert_int_gt(back.updated_at, 0);
    ck_assert_int_gt(redis_fixture_int(raw, "TTL dadns:writer:bind"), HEARTBEAT_TTL_S - 10);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:failures"), 0); /* no failure: no list */
    /* at once again, nothing new: not due (no write) */
    redis_fixture_do(raw, "DEL dadns:writer:bind");
    ck_assert_int_eq(heartbeat_tick(hb, rc, &s, 0, 0, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:writer:bind"), 0);
    /* a failure waiting: written at once */
    heartbeat_fail(hb, "a.test", "save", 3, "boom", 1, 0);
    ck_assert_int_eq(heartbeat_tick(hb, rc, &s, 0, 0, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:writer:bind"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "LLEN dadns:failures"), 1);
    heartbeat_free(hb);
}
END_TEST

START_TEST(tick_after_batch_throttled_then_flushed)
{
    struct heartbeat *hb = NULL;
    struct consumer_stats s;
    struct err e;

    stats_with(&s, 1, 0, 0, 0);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "host-a", &hb), 0);
    ck_assert_int_eq(heartbeat_tick(hb, rc, &s, 0, 1, &e), 0);
    redis_fixture_do(raw, "DEL dadns:writer:bind");
    ck_assert_int_eq(heartbeat_tick(hb, rc, &s, 0, 1, &e), 0); /* within the gap: skipped */
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:writer:bind"), 0);
    usleep((HEARTBEAT_BATCH_GAP_MS + 100) * 1000);
    ck_assert_int_eq(heartbeat_tick(hb, rc, &s, 0, 0, &e), 0); /* the skipped one, now */
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:writer:bind"), 1);
    heartbeat_free(hb);
}
END_TEST

START_TEST(failures_bounded_and_trimmed)
{
    struct heartbeat *hb = NULL;
    struct heartbeat_failure f;
    struct err e;
    redisReply *r;
    char zone[64];
    int i, round;

    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "host-a", &hb), 0);
    /* 15 failures in one batch: the first 10 are kept, oldest pushed first */
    for (i = 0; i < 15; i++) {
        snprintf(zone, sizeof(zone), "z%d.test", i);
        heartbeat_fail(hb, zone, "save", (uint64_t)i, "r", 2, i % 2);
    }
    ck_assert_int_eq(heartbeat_tick(hb, rc, NULL, 0, 1, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "LLEN dadns:failures"), HEARTBEAT_FAILURES_PER_BATCH);
    r = redis_fixture_cmd(raw, "LINDEX dadns:failures 0");
    ck_assert_int_eq(heartbeat_failure_parse(r->str, r->len, &f), 0);
    freeReplyObject(r);
    ck_assert_str_eq(f.zone, "z9.test"); /* newest at the head */
    ck_assert_int_eq(f.dead, 1);
    ck_assert_str_eq(f.backend, "bind");
    ck_assert_str_eq(f.consumer, "host-a");
    /* the list never holds more than HEARTBEAT_FAILURES_KEPT */
    for (round = 0; round < 25; round++) {
        for (i = 0; i < HEARTBEAT_FAILURES_PER_BATCH; i++)
            heartbeat_fail(hb, "x.test", "delete", 1, "r", 1, 0);
        ck_assert_int_eq(heartbeat_tick(hb, rc, NULL, 0, 1, &e), 0);
    }
    ck_assert_int_eq(redis_fixture_int(raw, "LLEN dadns:failures"), HEARTBEAT_FAILURES_KEPT);
    /* dropped failures are not written */
    heartbeat_fail(hb, "dropped.test", "save", 1, "r", 1, 0);
    heartbeat_drop(hb);
    redis_fixture_do(raw, "DEL dadns:failures");
    ck_assert_int_eq(heartbeat_tick(hb, rc, NULL, 0, 0, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:failures"), 0);
    heartbeat_free(hb);
}
END_TEST

START_TEST(tick_redis_down)
{
    struct heartbeat *hb = NULL;
    struct rconn *dead = NULL;
    struct err e;

    setenv("DADNS_REDIS_PORT", "1", 1);
    setenv("DADNS_REDIS_TIMEOUT_MS", "200", 1);
    setenv("DADNS_WRITER_BLOCK_MS", "100", 1);
    config_free(cfg);
    ck_assert_int_eq(config_load(NULL, &cfg, &e), 0);
    ck_assert_int_eq(rconn_new(cfg, "test-heartbeat-down", &dead), 0);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "host-a", &hb), 0);
    heartbeat_fail(hb, "a.test", "save", 1, "r", 1, 0);
    ck_assert_int_eq(heartbeat_tick(hb, dead, NULL, 0, 1, &e), DADNS_EREDIS);
    unsetenv("DADNS_REDIS_TIMEOUT_MS");
    unsetenv("DADNS_WRITER_BLOCK_MS");
    heartbeat_free(hb);
    rconn_free(dead);
}
END_TEST

START_TEST(control_reads_heartbeats_and_failures)
{
    struct heartbeat *a = NULL, *b = NULL;
    struct control_status_opts o = {0, 5};
    struct control_status *st = NULL;
    struct control *ctl = NULL;
    struct consumer_stats s;
    struct err e;
    size_t i;
    const struct control_group *g = NULL;

    stats_with(&s, 7, 2, 1, 1700000000);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "zz-host", &a), 0);
    ck_assert_int_eq(heartbeat_new("dadns:", "bind", "aa-host", &b), 0);
    heartbeat_fail(a, "one.test", "save", 1, "first", 1, 0);
    ck_assert_int_eq(heartbeat_tick(a, rc, &s, 0, 1, &e), 0);
    heartbeat_fail(b, "two.test", "delete", 2, "second", 3, 1);
    ck_assert_int_eq(heartbeat_tick(b, rc, &s, 1, 1, &e), 0);
    redis_fixture_do(raw, "HSET dadns:writer:bind broken notjson");
    redis_fixture_do(raw, "LPUSH dadns:failures notjson");
    for (i = 0; i < 8; i++)
        redis_fixture_do(raw, "HSET dadns:zone:t%d.test version 1 deleted 1", (int)i);
    ck_assert_int_eq(control_new(cfg, "test-heartbeat-control", &ctl), 0);
    ck_assert_msg(control_status_collect(ctl, &o, &st, &e) == 0, "%s", e.text);
    for (i = 0; i < st->n_groups; i++)
        if (strcmp(st->groups[i].be.name, "bind") == 0)
            g = &st->groups[i];
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->n_writers, 2); /* the broken one skipped */
    ck_assert_str_eq(g->writers[0].consumer, "aa-host");
    ck_assert_str_eq(g->writers[1].consumer, "zz-host");
    ck_assert_int_eq(g->writers[0].breaker_open, 1);
    ck_assert_uint_eq(g->writers[1].applied, 7);
    ck_assert_int_eq(st->zones_tombstones, -1); /* not counted when not asked */
    ck_assert_int_eq(st->failures_total, 3);
    ck_assert_uint_eq(st->n_failures, 2); /* "notjson" skipped */
    ck_assert_str_eq(st->failures[0].zone, "two.test");
    ck_assert_int_eq(st->failures[0].dead, 1);
    ck_assert_str_eq(st->failures[1].reason, "first");
    control_status_free(st);
    st = NULL;
    /* the default: tombstones counted, CONTROL_STATUS_FAILURES read */
    ck_assert_int_eq(control_status(ctl, &st, &e), 0);
    ck_assert_int_eq(st->zones_tombstones, 8);
    ck_assert_uint_eq(st->n_failures, 2);
    control_status_free(st);
    control_free(ctl);
    heartbeat_free(a);
    heartbeat_free(b);
}
END_TEST

static Suite *heartbeat_suite(void)
{
    Suite *s = suite_create("heartbeat");
    TCase *json = tcase_create("json");
    TCase *redis = tcase_create("redis");

    tcase_add_test(json, record_round_trip);
    tcase_add_test(json, failure_round_trip);
    tcase_add_test(json, parse_tolerates);
    tcase_add_test(json, new_limits);
    suite_add_tcase(s, json);
    tcase_add_checked_fixture(redis, setup, teardown);
    tcase_set_timeout(redis, 30);
    tcase_add_test(redis, tick_writes_heartbeat);
    tcase_add_test(redis, tick_after_batch_throttled_then_flushed);
    tcase_add_test(redis, failures_bounded_and_trimmed);
    tcase_add_test(redis, control_reads_heartbeats_and_failures);
    tcase_add_test(redis, tick_redis_down);
    suite_add_tcase(s, redis);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(heartbeat_suite());
    srunner_set_fork_status(sr, CK_NOFORK); /* a forked child's exit would stop the fixture */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
