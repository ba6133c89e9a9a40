/* test_writeradmin.c -- a writer's admin listener (common/writeradmin.c): the histogram replay
 * (pure), then a listener on loopback against a real redis-server: the writer families set from
 * a struct consumer_stats at scrape time (counters that only grow, the histogram's buckets, sum
 * and count, breaker, last apply, reconnects), and /readyz (backend not open yet, ready, breaker
 * open, Redis unreachable). */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpget.h"
#include "redis_fixture.h"
#include "writeradmin.h"

/* ---- writeradmin_spread (pure) ---- */

static const double B[] = {0.01, 0.1, 1.0};
#define NB 3

/* check_spread - every value inside its bucket; the total equals @want when reachable. */
static void check_spread(const uint64_t *delta, double sum, double want)
{
    double v[NB + 1], total = 0;
    size_t i;

    writeradmin_spread(B, NB, delta, sum, v);
    for (i = 0; i <= NB; i++) {
        if (delta[i] == 0) {
            ck_assert(v[i] == 0);
            continue;
        }
        if (i > 0)
            ck_assert_msg(v[i] > B[i - 1], "bucket %zu: %g not above %g", i, v[i], B[i - 1]);
        if (i < NB)
            ck_assert_msg(v[i] <= B[i], "bucket %zu: %g above %g", i, v[i], B[i]);
        ck_assert_msg(v[i] >= 0, "bucket %zu: %g", i, v[i]);
        total += v[i] * (double)delta[i];
    }
    ck_assert_msg(fabs(total - want) < 1e-9, "total %.12g, want %.12g", total, want);
}

START_TEST(spread_exact_sums)
{
    const uint64_t one_each[NB + 1] = {1, 1, 1, 0};
    const uint64_t with_inf[NB + 1] = {2, 0, 0, 3};
    const uint64_t only_first[NB + 1] = {4, 0, 0, 0};

    check_spread(one_each, 0.005 + 0.05 + 0.5, 0.555);
    check_spread(one_each, 0.01 + 0.1 + 1.0, 1.11);  /* all at their bounds */
    check_spread(with_inf, 0.004 + 3 * 7.0, 21.004); /* +Inf takes the large values */
    check_spread(only_first, 0.02, 0.02);
    check_spread(only_first, 0, 0);
}
END_TEST

START_TEST(spread_unreachable_clamps)
{
    const uint64_t mid[NB + 1] = {0, 2, 0, 0};
    const uint64_t inf_only[NB + 1] = {0, 0, 0, 1};
    double v[NB + 1];

    /* two values in (0.01, 0.1]: a sum of 5 cannot be reached, the nearest total is 0.2 */
    check_spread(mid, 5, 0.2);
    /* a sum below what the bucket allows: the lowest value of the bucket */
    writeradmin_spread(B, NB, mid, 0, v);
    ck_assert(v[1] > 0.01 && v[1] < 0.0101);
    /* +Inf alone, sum below its bound: just above the last bound */
    writeradmin_spread(B, NB, inf_only, 0.5, v);
    ck_assert(v[3] > 1.0 && v[3] < 1.0001);
    writeradmin_spread(B, NB, inf_only, NAN, v);
    ck_assert(v[3] > 1.0);
}
END_TEST

/* ---- the listener ---- */

static struct config *cfg;
static const struct backend_conf *bc;
static struct consumer_stats stats;
static struct writeradmin *wa;

/* start - the listener, against the fixture's Redis (@redis_up) or a port nobody listens on. */
static void start(bool redis_up)
{
    struct err e;
    size_t i;

    setenv("DADNS_REDIS_TIMEOUT_MS", "300", 1);
    setenv("DADNS_WRITER_BLOCK_MS", "100", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_ZONES_DIR", "/tmp/dadns-test-writeradmin-zones", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_NAMED_CONF", "/tmp/dadns-test-writeradmin.conf", 1);
    redis_fixture_config(&cfg);
    if (!redis_up)
        cfg->redis_port = 1; /* nothing listens there */
    cfg->metrics_port = -1;  /* any free port */
    for (i = 0; i < cfg->n_backends; i++)
        if (strcmp(cfg->backends[i].name, "bind") == 0)
            bc = &cfg->backends[i];
    ck_assert_ptr_nonnull(bc);
    consumer_stats_init(&stats);
    ck_assert_msg(writeradmin_start(cfg, bc, "writer-bind", &stats, &wa, &e) == 0, "%s", e.text);
    ck_assert_int_gt(writeradmin_port(wa), 0);
}

static void setup(void)
{
    start(true);
}

static void teardown(void)
{
    writeradmin_stop(wa);
    wa = NULL;
    redis_fixture_teardown(&cfg, NULL);
}

#define ck_line(text, line)                                                                        \
    ck_assert_msg(httpget_has_line(text, line), "no line \"%s\" in:\n%s", line, text)

/* sum_of - the value of the series line starting with @prefix (e.g. "x_sum{...} "), or -1. */
static double value_of(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);

    return p != NULL ? strtod(p + strlen(prefix), NULL) : -1;
}

/* play - the consumer observing one apply of @us microseconds (as consumer.c does). */
static void play(long long us)
{
    size_t i;

    for (i = 0; i < CONSUMER_LATENCY_NBUCKETS; i++)
        if ((double)us <= consumer_latency_bounds_s[i] * 1e6)
            atomic_fetch_add(&stats.apply_buckets[i], 1);
    atomic_fetch_add(&stats.apply_count, 1);
    atomic_fetch_add(&stats.apply_sum_us, (unsigned long long)us);
}

START_TEST(scrape_from_stats)
{
    static struct httpget_reply r;
    int port = writeradmin_port(wa);

    ck_assert_int_eq(httpget(port, "/metrics", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"applied\"} 0");
    ck_line(r.body, "dadns_writer_breaker_open{backend=\"bind\"} 0");
    ck_assert_ptr_null(strstr(r.body, "dadns_writer_last_apply_timestamp_seconds{"));
    ck_line(r.body, "dadns_redis_up 1");
    ck_assert_ptr_nonnull(strstr(r.body, "service=\"writer-bind\"} 1\n"));

    atomic_store(&stats.applied, 10);
    atomic_store(&stats.stale, 2);
    atomic_store(&stats.failed, 3);
    atomic_store(&stats.dead, 1);
    atomic_store(&stats.skipped, 4);
    atomic_store(&stats.verified, 6);
    atomic_store(&stats.repaired, 2);
    atomic_store(&stats.breaker_open, 1);
    atomic_store(&stats.last_apply_unix, 1700000000);
    atomic_store(&stats.reconnects, 3);
    play(3000);    /* 0.003 s: bucket le=0.005 */
    play(70000);   /* 0.07 s: le=0.1 */
    play(4000000); /* 4 s: le=5 */
    ck_assert_int_eq(httpget(port, "/metrics", &r), 0);
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"applied\"} 10");
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"stale\"} 2");
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"retry\"} 3");
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"dead\"} 1");
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"skipped\"} 4");
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"verified\"} 4");
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"repaired\"} 2");
    ck_line(r.body, "dadns_writer_breaker_open{backend=\"bind\"} 1");
    ck_line(r.body, "dadns_writer_last_apply_timestamp_seconds{backend=\"bind\"} 1700000000");
    ck_line(r.body, "dadns_redis_reconnects_total 3");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"0.005\"} 1");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"0.1\"} 2");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"2.5\"} 2");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"5\"} 3");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"+Inf\"} 3");
    ck_line(r.body, "dadns_writer_apply_seconds_count{backend=\"bind\"} 3");
    ck_assert_double_eq_tol(value_of(r.body, "dadns_writer_apply_seconds_sum{backend=\"bind\"} "),
                            4.073, 1e-9);

    /* a second scrape adds only what is new; +Inf observations keep their exact sum */
    play(45000000); /* 45 s: beyond the last bound */
    atomic_store(&stats.applied, 11);
    atomic_store(&stats.reconnects, 4);
    ck_assert_int_eq(httpget(port, "/metrics", &r), 0);
    ck_line(r.body, "dadns_writer_changes_total{backend=\"bind\",result=\"applied\"} 11");
    ck_line(r.body, "dadns_redis_reconnects_total 4");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"30\"} 3");
    ck_line(r.body, "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"+Inf\"} 4");
    ck_assert_double_eq_tol(value_of(r.body, "dadns_writer_apply_seconds_sum{backend=\"bind\"} "),
                            49.073, 1e-9);
    /* the stream gauges of redisstats come along */
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE dadns_stream_length gauge"));
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE dadns_dead_letters gauge"));
}
END_TEST

START_TEST(ready_states)
{
    static struct httpget_reply r;
    int port = writeradmin_port(wa);

    ck_assert_int_eq(httpget(port, "/healthz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(httpget(port, "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "not ready: backend bind not open yet\n");
    writeradmin_serving(wa);
    ck_assert_int_eq(httpget(port, "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    atomic_store(&stats.breaker_open, 1);
    ck_assert_int_eq(httpget(port, "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "not ready: backend bind: circuit breaker open\n");
    atomic_store(&stats.breaker_open, 0);
    ck_assert_int_eq(httpget(port, "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

START_TEST(ready_redis_down)
{
    static struct httpget_reply r;
    int port;

    teardown();
    start(false);
    port = writeradmin_port(wa);
    writeradmin_serving(wa);
    ck_assert_int_eq(httpget(port, "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_msg(strncmp(r.body, "not ready: redis: ", 18) == 0, "%s", r.body);
    ck_assert_int_eq(httpget(port, "/healthz", &r), 0);
    ck_assert_int_eq(r.status, 200); /* liveness never depends on Redis */
    ck_assert_int_eq(httpget(port, "/metrics", &r), 0);
    ck_line(r.body, "dadns_redis_up 0");
}
END_TEST

START_TEST(port_off)
{
    struct writeradmin *off = NULL;
    struct err e;

    cfg->metrics_port = 0;
    ck_assert_msg(writeradmin_start(cfg, bc, "writer-bind", &stats, &off, &e) == 0, "%s", e.text);
    ck_assert_ptr_nonnull(off);
    ck_assert_int_eq(writeradmin_port(off), 0);
    writeradmin_serving(off);
    writeradmin_stop(off);
    writeradmin_stop(NULL);
    writeradmin_serving(NULL);
    ck_assert_int_eq(writeradmin_port(NULL), 0);
}
END_TEST

static Suite *writeradmin_suite(void)
{
    Suite *s = suite_create("writeradmin");
    TCase *pure = tcase_create("spread");
    TCase *live = tcase_create("listener");

    tcase_add_test(pure, spread_exact_sums);
    tcase_add_test(pure, spread_unreachable_clamps);
    suite_add_tcase(s, pure);
    tcase_add_checked_fixture(live, setup, teardown);
    tcase_set_timeout(live, 30);
    tcase_add_test(live, scrape_from_stats);
    tcase_add_test(live, ready_states);
    tcase_add_test(live, ready_redis_down);
    tcase_add_test(live, port_off);
    suite_add_tcase(s, live);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(writeradmin_suite());
    srunner_set_fork_status(sr, CK_NOFORK); /* a forked child's exit would stop the fixture */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
