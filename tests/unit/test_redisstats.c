/* test_redisstats.c -- the Redis-side gauges against a real redis-server: a stream with groups,
 * pending entries of a known age, a group whose lag Redis cannot tell, dead letters; Redis
 * down and Redis hung (bounded scrape time); reconnects counted. */
#include <arpa/inet.h>
#include <check.h>
#include <hiredis.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "redis_fixture.h"
#include "redisstats.h"

static struct config *cfg;
static struct metrics *reg;
static redisContext *raw;

static const char *const groups[] = {"bind", "mysql", "lagless", "ghost"};
enum { G_BIND, G_MYSQL, G_LAGLESS, G_GHOST };

static void setup(void)
{
    redis_fixture_config(&cfg);
    ck_assert_int_eq(metrics_new(&reg), 0);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    metrics_free(reg);
    reg = NULL;
    redis_fixture_teardown(&cfg, &raw);
}

static unsigned long long redis_now_ms(void)
{
    redisReply *r = redisCommand(raw, "TIME");
    unsigned long long ms;

    ck_assert(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    ms = strtoull(r->element[0]->str, NULL, 10) * 1000 +
         strtoull(r->element[1]->str, NULL, 10) / 1000;
    freeReplyObject(r);
    return ms;
}

/* gauge - the value of gauge @name for label value @label (NULL = no label); NAN if absent. */
static double gauge(const char *name, const char *label)
{
    struct metrics_family *f = metrics_find(reg, name);
    const char *values[] = {label};
    size_t idx = 0;
    double v;

    ck_assert_msg(f != NULL, "no family %s", name);
    if (label != NULL)
        ck_assert_int_eq(metrics_series(f, values, &idx), 0);
    return metrics_gauge_get(f, idx, &v) ? v : NAN;
}

static double monotonic_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(entry_ids)
{
    unsigned long long ms = 0;

    ck_assert_int_eq(redisstats_entry_ms("1700000000123-4", 15, &ms), 0);
    ck_assert(ms == 1700000000123ULL);
    ck_assert_int_eq(redisstats_entry_ms("5-0", 3, &ms), 0);
    ck_assert(ms == 5);
    ck_assert_int_eq(redisstats_entry_ms("-0", 2, &ms), DADNS_EINVAL);
    ck_assert_int_eq(redisstats_entry_ms("12", 2, &ms), DADNS_EINVAL);
    ck_assert_int_eq(redisstats_entry_ms("1x-0", 4, &ms), DADNS_EINVAL);
    ck_assert_int_eq(redisstats_entry_ms("99999999999999999999-0", 22, &ms), DADNS_EINVAL);
}
END_TEST

START_TEST(empty_redis)
{
    struct redisstats *rs = NULL;
    struct buf out;
    struct err e;
    int i;

    ck_assert_int_eq(redisstats_new(cfg, reg, "dadns-test-stats", groups, 4, &rs, &e), 0);
    ck_assert_msg(redisstats_collect(rs, &e) == 0, "%s", e.text);
    ck_assert(gauge(METRICS_REDIS_UP, NULL) == 1);
    ck_assert(gauge(METRICS_STREAM_LENGTH, NULL) == 0);
    for (i = 0; i < 4; i++) {
        ck_assert(isnan(gauge(METRICS_STREAM_PENDING, groups[i])));
        ck_assert(isnan(gauge(METRICS_STREAM_LAG, groups[i])));
        ck_assert(isnan(gauge(METRICS_STREAM_OLDEST_PENDING, groups[i])));
        ck_assert(isnan(gauge(METRICS_STREAM_CONSUMERS, groups[i])));
        ck_assert(gauge(METRICS_DEAD_LETTERS, groups[i]) == 0);
    }
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(metrics_render(reg, &out), 0);
    ck_assert_ptr_nonnull(strstr(out.data, "# TYPE dadns_redis_up gauge\ndadns_redis_up 1\n"));
    ck_assert_ptr_nonnull(strstr(out.data, "# TYPE dadns_redis_reconnects_total counter\n"
                                           "dadns_redis_reconnects_total 0\n"));
    ck_assert_ptr_nonnull(strstr(out.data, "# TYPE dadns_stream_pending gauge\n"
                                           "# HELP dadns_stream_lag"));
    ck_assert_ptr_nonnull(strstr(out.data, "dadns_dead_letters{backend=\"ghost\"} 0\n"));
    buf_free(&out);
    redisstats_free(rs);
}
END_TEST

START_TEST(stream_groups_pending_lag_dead)
{
    struct redisstats *rs = NULL;
    unsigned long long t, ids[6];
    const unsigned long long back[6] = {60000, 30000, 20000, 10000, 5000, 1000};
    const char *s = "dadns:changes";
    char id[6][32];
    redisReply *r;
    struct buf out;
    struct err e;
    double age;
    int i;

    t = redis_now_ms();
    for (i = 0; i < 6; i++) {
        ids[i] = t - back[i];
        snprintf(id[i], sizeof(id[i]), "%llu-0", ids[i]);
    }
    redis_fixture_do(raw, "XGROUP CREATE %s bind 0 MKSTREAM", s);
    for (i = 0; i < 6; i++)
        redis_fixture_do(raw, "XADD %s %s op save zone z%d.example version %d", s, id[i], i, i + 1);
    redis_fixture_do(raw, "XGROUP CREATE %s mysql $", s);
    /* bind: read 3, ack the first: e2 and e3 pending, the oldest 30 s old */
    redis_fixture_do(raw, "XREADGROUP GROUP bind c1 COUNT 3 STREAMS %s >", s);
    redis_fixture_do(raw, "XACK %s bind %s", s, id[0]);
    /* a deleted entry and a group created in the middle: Redis cannot tell that group's lag */
    redis_fixture_do(raw, "XDEL %s %s", s, id[0]);
    redis_fixture_do(raw, "XGROUP CREATE %s lagless %s", s, id[3]);
    r = redisCommand(raw, "XINFO GROUPS %s", s);
    ck_assert(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    freeReplyObject(r);
    redis_fixture_do(raw, "XADD dadns:dead:bind * zone a.example op save version 1 reason x");
    redis_fixture_do(raw, "XADD dadns:dead:bind * zone b.example op save version 2 reason y");

    ck_assert_int_eq(redisstats_new(cfg, reg, "dadns-test-stats", groups, 4, &rs, &e), 0);
    ck_assert_msg(redisstats_collect(rs, &e) == 0, "%s", e.text);
    ck_assert(gauge(METRICS_REDIS_UP, NULL) == 1);
    ck_assert(gauge(METRICS_STREAM_LENGTH, NULL) == 5);

    ck_assert(gauge(METRICS_STREAM_PENDING, "bind") == 2);
    ck_assert(gauge(METRICS_STREAM_LAG, "bind") == 3);
    ck_assert(gauge(METRICS_STREAM_CONSUMERS, "bind") == 1);
    age = gauge(METRICS_STREAM_OLDEST_PENDING, "bind");
    ck_assert_msg(age >= 30 && age < 35, "oldest pending age %f", age);

    ck_assert(gauge(METRICS_STREAM_PENDING, "mysql") == 0);
    ck_assert(gauge(METRICS_STREAM_LAG, "mysql") == 0);
    ck_assert(gauge(METRICS_STREAM_CONSUMERS, "mysql") == 0);
    ck_assert(gauge(METRICS_STREAM_OLDEST_PENDING, "mysql") == 0);

    ck_assert(gauge(METRICS_STREAM_PENDING, "lagless") == 0);
    ck_assert_msg(isnan(gauge(METRICS_STREAM_LAG, "lagless")), "lag %f",
                  gauge(METRICS_STREAM_LAG, "lagless"));

    ck_assert(isnan(gauge(METRICS_STREAM_PENDING, "ghost")));
    ck_assert(isnan(gauge(METRICS_STREAM_OLDEST_PENDING, "ghost")));

    ck_assert(gauge(METRICS_DEAD_LETTERS, "bind") == 2);
    ck_assert(gauge(METRICS_DEAD_LETTERS, "mysql") == 0);

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(metrics_render(reg, &out), 0);
    ck_assert_ptr_nonnull(strstr(out.data, "# TYPE dadns_stream_lag gauge\n"
                                           "dadns_stream_lag{group=\"bind\"} 3\n"
                                           "dadns_stream_lag{group=\"mysql\"} 0\n"
                                           "# HELP"));
    ck_assert_ptr_nonnull(strstr(out.data, "dadns_stream_pending{group=\"bind\"} 2\n"
                                           "dadns_stream_pending{group=\"mysql\"} 0\n"
                                           "dadns_stream_pending{group=\"lagless\"} 0\n"
                                           "# HELP"));
    buf_free(&out);

    /* the group catches up: ack everything, the age drops to 0 */
    redis_fixture_do(raw, "XACK %s bind %s %s", s, id[1], id[2]);
    ck_assert_int_eq(redisstats_collect(rs, &e), 0);
    ck_assert(gauge(METRICS_STREAM_PENDING, "bind") == 0);
    ck_assert(gauge(METRICS_STREAM_OLDEST_PENDING, "bind") == 0);
    redisstats_free(rs);
}
END_TEST

START_TEST(every_configured_backend_by_default)
{
    struct redisstats *rs = NULL;
    struct err e;

    /* no backends configured: only the stream-wide families */
    ck_assert_int_eq(redisstats_new(cfg, reg, "dadns-test-stats", NULL, 0, &rs, &e), 0);
    ck_assert_ptr_null(metrics_find(reg, METRICS_STREAM_PENDING));
    ck_assert_ptr_nonnull(metrics_find(reg, METRICS_STREAM_LENGTH));
    ck_assert_int_eq(redisstats_collect(rs, &e), 0);
    ck_assert(gauge(METRICS_REDIS_UP, NULL) == 1);
    redisstats_free(rs);
    rs = NULL;
    /* a second one on the same registry is refused */
    ck_assert_int_eq(redisstats_new(cfg, reg, "x", groups, 1, &rs, &e), DADNS_EINVAL);
    ck_assert_ptr_null(rs);
}
END_TEST

START_TEST(reconnects_are_counted)
{
    struct redisstats *rs = NULL;
    struct metrics_family *rec;
    redisReply *r;
    struct err e;
    char *p;

    ck_assert_int_eq(redisstats_new(cfg, reg, "dadns-test-stats", groups, 4, &rs, &e), 0);
    ck_assert_int_eq(redisstats_collect(rs, &e), 0);
    rec = metrics_find(reg, METRICS_REDIS_RECONNECTS);
    ck_assert_uint_eq(metrics_counter_get(rec, 0), 0);
    /* kill the stats connection behind its back */
    r = redisCommand(raw, "CLIENT LIST");
    ck_assert(r != NULL && r->type == REDIS_REPLY_STRING);
    p = strstr(r->str, "name=dadns-test-stats");
    ck_assert_ptr_nonnull(p);
    while (p > r->str && p[-1] != '\n')
        p--;
    ck_assert(strncmp(p, "id=", 3) == 0);
    redis_fixture_do(raw, "CLIENT KILL ID %lld", strtoll(p + 3, NULL, 10));
    freeReplyObject(r);
    ck_assert_msg(redisstats_collect(rs, &e) == 0, "%s", e.text);
    ck_assert(gauge(METRICS_REDIS_UP, NULL) == 1);
    ck_assert_uint_eq(metrics_counter_get(rec, 0), 1);
    ck_assert_int_eq(redisstats_ping(rs, &e), 0);
    redisstats_free(rs);
}
END_TEST

START_TEST(redis_down)
{
    struct config c = *cfg;
    struct redisstats *rs = NULL;
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    struct err e;
    double t0;
    int fd;

    /* a port nobody listens on: bind one, note it, close it */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    close(fd);
    c.redis_port = ntohs(in.sin_port);

    ck_assert_int_eq(redisstats_new(&c, reg, "dadns-test-stats", groups, 4, &rs, &e), 0);
    t0 = monotonic_s();
    ck_assert_int_eq(redisstats_collect(rs, &e), DADNS_EREDIS);
    ck_assert(monotonic_s() - t0 < 1.0);
    ck_assert_ptr_nonnull(strstr(e.text, "cannot connect to Redis"));
    ck_assert(gauge(METRICS_REDIS_UP, NULL) == 0);
    ck_assert(isnan(gauge(METRICS_STREAM_LENGTH, NULL)));
    ck_assert(isnan(gauge(METRICS_DEAD_LETTERS, "bind")));
    ck_assert(isnan(gauge(METRICS_STREAM_PENDING, "bind")));
    ck_assert_int_ne(redisstats_ping(rs, &e), 0);
    redisstats_free(rs);
}
END_TEST

START_TEST(redis_hung_scrape_is_bounded)
{
    struct config c = *cfg;
    struct redisstats *rs = NULL;
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    struct err e;
    double t0, took;
    int fd, i;

    /* a listener that accepts (in the kernel backlog) and never answers */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    c.redis_port = ntohs(in.sin_port);

    ck_assert_int_eq(redisstats_new(&c, reg, "dadns-test-stats", groups, 4, &rs, &e), 0);
    for (i = 0; i < 2; i++) {
        t0 = monotonic_s();
        ck_assert_int_eq(redisstats_collect(rs, &e), DADNS_EREDIS);
        took = monotonic_s() - t0;
        ck_assert_msg(took < 1.2, "scrape took %.3f s", took);
        ck_assert(gauge(METRICS_REDIS_UP, NULL) == 0);
    }
    redisstats_free(rs);
    close(fd);
}
END_TEST

static Suite *redisstats_suite(void)
{
    Suite *s = suite_create("redisstats");
    TCase *tc;

    tc = tcase_create("pure");
    tcase_add_test(tc, entry_ids);
    suite_add_tcase(s, tc);

    tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, empty_redis);
    tcase_add_test(tc, stream_groups_pending_lag_dead);
    tcase_add_test(tc, every_configured_backend_by_default);
    tcase_add_test(tc, reconnects_are_counted);
    suite_add_tcase(s, tc);

    tc = tcase_create("unreachable");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, redis_down);
    tcase_add_test(tc, redis_hung_scrape_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failures;

    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(redisstats_suite());
    srunner_set_fork_status(sr, CK_NOFORK); /* a forked child's exit would run the fixture's
                                               atexit hook and stop the server */
    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failures ? 1 : 0;
}
