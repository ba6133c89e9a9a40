/* test_metrics.c -- the metrics registry: exact text format 0.0.4 for counters, gauges,
 * histograms, labels and escaping; registration errors; concurrent updates adding up. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

static struct metrics *reg;
static struct buf out;

static void setup(void)
{
    ck_assert_int_eq(metrics_new(&reg), 0);
    buf_init(&out, 1 << 20);
}

static void teardown(void)
{
    metrics_free(reg);
    reg = NULL;
    buf_free(&out);
}

static const char *render(void)
{
    buf_reset(&out);
    ck_assert_int_eq(metrics_render(reg, &out), 0);
    return out.data != NULL ? out.data : "";
}

/* ---- counters ---- */

START_TEST(counter_without_labels)
{
    struct metrics_family *f = NULL;
    struct err e;

    ck_assert_int_eq(
        metrics_counter_new(reg, "dadns_things_total", "Things done.", NULL, 0, &f, &e), 0);
    ck_assert_str_eq(render(), "# HELP dadns_things_total Things done.\n"
                               "# TYPE dadns_things_total counter\n"
                               "dadns_things_total 0\n");
    metrics_counter_add(f, 0, 3);
    metrics_counter_add(f, 0, 18446744073709551000ULL);
    ck_assert_str_eq(render(), "# HELP dadns_things_total Things done.\n"
                               "# TYPE dadns_things_total counter\n"
                               "dadns_things_total 18446744073709551003\n");
}
END_TEST

START_TEST(counter_two_labels_in_mixed_radix_order)
{
    static const char *const endpoints[] = {"CMD_API_LOGIN_TEST", "CMD_API_DNS_ADMIN"};
    static const char *const codes[] = {"200", "400", "503"};
    const struct metrics_label labels[] = {{"endpoint", endpoints, 2}, {"code", codes, 3}};
    const char *const want_values[] = {"CMD_API_DNS_ADMIN", "503"};
    const char *const bad_values[] = {"CMD_API_DNS_ADMIN", "418"};
    struct metrics_family *f = NULL;
    size_t idx = 99;
    struct err e;

    ck_assert_int_eq(
        metrics_counter_new(reg, "dadns_http_requests_total", "HTTP requests.", labels, 2, &f, &e),
        0);
    ck_assert_int_eq(metrics_series(f, want_values, &idx), 0);
    ck_assert_uint_eq(idx, 1 * 3 + 2);
    ck_assert_int_eq(metrics_series(f, bad_values, &idx), DADNS_ENOTFOUND);
    ck_assert_int_eq(metrics_series(NULL, want_values, &idx), DADNS_ENOTFOUND);
    metrics_counter_add(f, 5, 2);
    metrics_counter_add(f, 0, 1);
    metrics_counter_add(f, 6, 1);    /* out of range: ignored */
    metrics_counter_add(NULL, 0, 1); /* no family: ignored */
    ck_assert_uint_eq(metrics_counter_get(f, 5), 2);
    ck_assert_ptr_eq(metrics_find(reg, "dadns_http_requests_total"), f);
    ck_assert_ptr_null(metrics_find(reg, "dadns_nope"));
    ck_assert_str_eq(render(),
                     "# HELP dadns_http_requests_total HTTP requests.\n"
                     "# TYPE dadns_http_requests_total counter\n"
                     "dadns_http_requests_total{endpoint=\"CMD_API_LOGIN_TEST\",code=\"200\"} 1\n"
                     "dadns_http_requests_total{endpoint=\"CMD_API_LOGIN_TEST\",code=\"400\"} 0\n"
                     "dadns_http_requests_total{endpoint=\"CMD_API_LOGIN_TEST\",code=\"503\"} 0\n"
                     "dadns_http_requests_total{endpoint=\"CMD_API_DNS_ADMIN\",code=\"200\"} 0\n"
                     "dadns_http_requests_total{endpoint=\"CMD_API_DNS_ADMIN\",code=\"400\"} 0\n"
                     "dadns_http_requests_total{endpoint=\"CMD_API_DNS_ADMIN\",code=\"503\"} 2\n");
}
END_TEST

START_TEST(shared_vocabulary)
{
    const struct metrics_label labels[] = {
        {"result", metrics_writer_results, METRICS_WRITER_RESULTS}};
    const char *const dead[] = {"dead"};
    struct metrics_family *f = NULL;
    size_t idx = 0;
    struct err e;

    ck_assert_int_eq(
        metrics_counter_new(reg, METRICS_WRITER_CHANGES, "Changes.", labels, 1, &f, &e), 0);
    ck_assert_int_eq(metrics_series(f, dead, &idx), 0);
    ck_assert_uint_eq(idx, METRICS_WRITER_DEAD);
    ck_assert_str_eq(metrics_writer_results[METRICS_WRITER_REPAIRED], "repaired");
    ck_assert_str_eq(metrics_push_results[METRICS_PUSH_SPOOLED], "spooled");
}
END_TEST

/* ---- gauges ---- */

START_TEST(gauge_set_add_clear)
{
    static const char *const groups[] = {"bind", "mysql"};
    const struct metrics_label label = {"group", groups, 2};
    struct metrics_family *f = NULL;
    struct err e;
    double v = 0;

    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_stream_lag", "Lag.", &label, 1, &f, &e), 0);
    ck_assert_str_eq(render(), "# HELP dadns_stream_lag Lag.\n"
                               "# TYPE dadns_stream_lag gauge\n"
                               "dadns_stream_lag{group=\"bind\"} 0\n"
                               "dadns_stream_lag{group=\"mysql\"} 0\n");
    metrics_gauge_set(f, 0, 12);
    metrics_gauge_clear(f, 1);
    ck_assert_int_eq(metrics_gauge_get(f, 1, &v), 0);
    ck_assert_str_eq(render(), "# HELP dadns_stream_lag Lag.\n"
                               "# TYPE dadns_stream_lag gauge\n"
                               "dadns_stream_lag{group=\"bind\"} 12\n");
    metrics_gauge_add(f, 1, -2.5); /* absent counts as 0 */
    metrics_gauge_add(f, 0, 0.25);
    ck_assert_int_eq(metrics_gauge_get(f, 0, &v), 1);
    ck_assert(v == 12.25);
    ck_assert_str_eq(render(), "# HELP dadns_stream_lag Lag.\n"
                               "# TYPE dadns_stream_lag gauge\n"
                               "dadns_stream_lag{group=\"bind\"} 12.25\n"
                               "dadns_stream_lag{group=\"mysql\"} -2.5\n");
    metrics_gauge_clear_all(f);
    ck_assert_str_eq(render(), "# HELP dadns_stream_lag Lag.\n"
                               "# TYPE dadns_stream_lag gauge\n");
}
END_TEST

START_TEST(gauge_number_formats)
{
    static const char *const k[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    const struct metrics_label label = {"k", k, 9};
    struct metrics_family *f = NULL;
    struct err e;

    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_g", "", &label, 1, &f, &e), 0);
    metrics_gauge_set(f, 0, 0.1);
    metrics_gauge_set(f, 1, 1.0 / 3.0);
    metrics_gauge_set(f, 2, 1700000000.123);
    metrics_gauge_set(f, 3, 1e21);
    metrics_gauge_set(f, 4, NAN);
    metrics_gauge_set(f, 5, INFINITY);
    metrics_gauge_set(f, 6, -INFINITY);
    metrics_gauge_set(f, 7, 9007199254740993.0); /* rounds to 2^53 */
    metrics_gauge_set(f, 8, -0.000123);
    ck_assert_str_eq(render(), "# HELP dadns_g \n"
                               "# TYPE dadns_g gauge\n"
                               "dadns_g{k=\"a\"} 0.1\n"
                               "dadns_g{k=\"b\"} 0.33333333333333331\n"
                               "dadns_g{k=\"c\"} 1700000000.123\n"
                               "dadns_g{k=\"d\"} 1e+21\n"
                               "dadns_g{k=\"e\"} NaN\n"
                               "dadns_g{k=\"f\"} +Inf\n"
                               "dadns_g{k=\"g\"} -Inf\n"
                               "dadns_g{k=\"h\"} 9007199254740992\n"
                               "dadns_g{k=\"i\"} -0.000123\n");
}
END_TEST

static int fn_calls;

static int computed(void *ctx, size_t series, double *v)
{
    const double *base = ctx;

    fn_calls++;
    if (series == 1)
        return 0; /* absent */
    *v = *base + (double)series;
    return 1;
}

START_TEST(gauge_computed_at_render)
{
    static const char *const w[] = {"x", "y", "z"};
    const struct metrics_label label = {"w", w, 3};
    static double base = 40;
    struct metrics_family *f = NULL;
    struct err e;
    double v;

    ck_assert_int_eq(metrics_gauge_fn_new(reg, "dadns_spool_records", "Spooled.", &label, 1,
                                          computed, &base, &f, &e),
                     0);
    metrics_gauge_set(f, 0, 1); /* ignored on a computed gauge */
    ck_assert_int_eq(metrics_gauge_get(f, 0, &v), 0);
    fn_calls = 0;
    ck_assert_str_eq(render(), "# HELP dadns_spool_records Spooled.\n"
                               "# TYPE dadns_spool_records gauge\n"
                               "dadns_spool_records{w=\"x\"} 40\n"
                               "dadns_spool_records{w=\"z\"} 42\n");
    ck_assert_int_eq(fn_calls, 3);
    ck_assert_int_eq(metrics_gauge_fn_new(reg, "dadns_other", "", NULL, 0, NULL, NULL, &f, &e),
                     DADNS_EINVAL);
}
END_TEST

/* ---- histograms ---- */

START_TEST(histogram_cumulative_buckets)
{
    static const char *const be[] = {"bind"};
    const struct metrics_label label = {"backend", be, 1};
    const double bounds[] = {0.005, 0.1, 1};
    struct metrics_family *f = NULL;
    struct err e;

    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_writer_apply_seconds", "Apply time.", &label,
                                           1, bounds, 3, &f, &e),
                     0);
    metrics_histogram_observe(f, 0, 0.001);
    metrics_histogram_observe(f, 0, 0.1); /* le is inclusive */
    metrics_histogram_observe(f, 0, 0.5);
    metrics_histogram_observe(f, 0, 2.5);
    metrics_histogram_observe(f, 0, NAN); /* ignored */
    metrics_histogram_observe(f, 1, 1);   /* out of range: ignored */
    ck_assert_str_eq(render(),
                     "# HELP dadns_writer_apply_seconds Apply time.\n"
                     "# TYPE dadns_writer_apply_seconds histogram\n"
                     "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"0.005\"} 1\n"
                     "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"0.1\"} 2\n"
                     "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"1\"} 3\n"
                     "dadns_writer_apply_seconds_bucket{backend=\"bind\",le=\"+Inf\"} 4\n"
                     "dadns_writer_apply_seconds_sum{backend=\"bind\"} 3.101\n"
                     "dadns_writer_apply_seconds_count{backend=\"bind\"} 4\n");
}
END_TEST

START_TEST(histogram_without_labels)
{
    const double bounds[] = {1, 2};
    struct metrics_family *f = NULL;
    struct err e;

    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_ingest_publish_seconds", "Publish.", NULL, 0,
                                           bounds, 2, &f, &e),
                     0);
    ck_assert_str_eq(render(), "# HELP dadns_ingest_publish_seconds Publish.\n"
                               "# TYPE dadns_ingest_publish_seconds histogram\n"
                               "dadns_ingest_publish_seconds_bucket{le=\"1\"} 0\n"
                               "dadns_ingest_publish_seconds_bucket{le=\"2\"} 0\n"
                               "dadns_ingest_publish_seconds_bucket{le=\"+Inf\"} 0\n"
                               "dadns_ingest_publish_seconds_sum 0\n"
                               "dadns_ingest_publish_seconds_count 0\n");
    ck_assert_uint_eq(metrics_latency_buckets_n, 14);
    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_lat_seconds", "", NULL, 0,
                                           metrics_latency_buckets, metrics_latency_buckets_n, &f,
                                           &e),
                     0);
}
END_TEST

/* ---- escaping, order, process info ---- */

START_TEST(escaping)
{
    static const char *const v[] = {"a\"b\\c\nd", "plain"};
    const struct metrics_label label = {"backend", v, 2};
    struct err e;

    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_esc", "Back\\slash \"quoted\"\nsecond line",
                                       &label, 1, NULL, &e),
                     0);
    ck_assert_str_eq(render(), "# HELP dadns_esc Back\\\\slash \"quoted\"\\nsecond line\n"
                               "# TYPE dadns_esc gauge\n"
                               "dadns_esc{backend=\"a\\\"b\\\\c\\nd\"} 0\n"
                               "dadns_esc{backend=\"plain\"} 0\n");
}
END_TEST

START_TEST(registration_order_is_render_order)
{
    struct err e;

    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_z", "z", NULL, 0, NULL, &e), 0);
    ck_assert_int_eq(metrics_counter_new(reg, "dadns_a_total", "a", NULL, 0, NULL, &e), 0);
    ck_assert_str_eq(render(), "# HELP dadns_z z\n# TYPE dadns_z gauge\ndadns_z 0\n"
                               "# HELP dadns_a_total a\n# TYPE dadns_a_total counter\n"
                               "dadns_a_total 0\n");
}
END_TEST

START_TEST(process_info)
{
    const char *text, *p;
    struct err e;
    double start;
    char *end;

    ck_assert_int_eq(metrics_add_process(reg, "writer-bind", "1.2.3", &e), 0);
    text = render();
    ck_assert_ptr_nonnull(strstr(text, "# TYPE dadns_build_info gauge\n"
                                       "dadns_build_info{version=\"1.2.3\",service=\"writer-bind\"}"
                                       " 1\n"));
    p = strstr(text, "\ndadns_process_start_time_seconds ");
    ck_assert_ptr_nonnull(p);
    start = strtod(p + strlen("\ndadns_process_start_time_seconds "), &end);
    ck_assert(*end == '\n');
    ck_assert(fabs(start - (double)time(NULL)) < 5);
    /* a second registration of the same names is refused */
    ck_assert_int_eq(metrics_add_process(reg, "x", NULL, &e), DADNS_EINVAL);
}
END_TEST

START_TEST(render_over_the_limit)
{
    struct buf small;
    struct err e;

    ck_assert_int_eq(
        metrics_counter_new(reg, "dadns_x_total", "A long enough help text.", NULL, 0, NULL, &e),
        0);
    buf_init(&small, 16);
    ck_assert_int_eq(metrics_render(reg, &small), DADNS_ETOOBIG);
    buf_free(&small);
}
END_TEST

/* ---- registration errors ---- */

START_TEST(registration_errors)
{
    static const char *const two[] = {"a", "b"};
    static const char *const dup[] = {"a", "a"};
    static char names[65][8];
    const char *many[65];
    const struct metrics_label ok = {"backend", two, 2};
    const struct metrics_label le = {"le", two, 2};
    const struct metrics_label dunder = {"__x", two, 2};
    const struct metrics_label badname = {"1x", two, 2};
    const struct metrics_label dupv = {"x", dup, 2};
    const struct metrics_label none = {"x", two, 0};
    const struct metrics_label twice[] = {{"x", two, 2}, {"x", two, 2}};
    const struct metrics_label big[] = {{"a", many, 65}, {"b", many, 65}};
    const double bounds[] = {1, 2};
    const double unsorted[] = {2, 1};
    const double inf[] = {1, INFINITY};
    struct err e;
    int i;

    for (i = 0; i < 65; i++) {
        snprintf(names[i], sizeof(names[i]), "v%d", i);
        many[i] = names[i];
    }
    ck_assert_int_eq(metrics_counter_new(reg, "dadns_x", "", NULL, 0, NULL, &e), DADNS_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.text, "_total"));
    ck_assert_int_eq(metrics_gauge_new(reg, "other_x", "", NULL, 0, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_x-y", "", NULL, 0, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, NULL, "", NULL, 0, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_x", "", &ok, 1, NULL, &e), 0);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_x", "", NULL, 0, NULL, &e), DADNS_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.text, "twice"));
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", &dunder, 1, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", &badname, 1, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", &dupv, 1, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", &none, 1, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", twice, 2, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", big, 2, NULL, &e), DADNS_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.text, "series"));
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_y", "", &ok, 5, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_h", "", &le, 1, bounds, 2, NULL, &e),
                     DADNS_EINVAL);
    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_h", "", NULL, 0, unsorted, 2, NULL, &e),
                     DADNS_EINVAL);
    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_h", "", NULL, 0, inf, 2, NULL, &e),
                     DADNS_EINVAL);
    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_h", "", NULL, 0, bounds, 0, NULL, &e),
                     DADNS_EINVAL);
    ck_assert_int_eq(metrics_histogram_new(reg, "dadns_h", "", NULL, 0, bounds, 2, NULL, &e), 0);
    /* only the two good families were registered */
    ck_assert_int_eq(metrics_render(reg, &out), 0);
    ck_assert_ptr_null(strstr(out.data, "dadns_y"));
}
END_TEST

/* ---- concurrency ---- */

#define THREADS 4
#define ROUNDS  200000

struct shared {
    struct metrics_family *c, *g, *h;
};

static void *hammer(void *p)
{
    struct shared *s = p;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        metrics_counter_add(s->c, (size_t)(i & 1), 1);
        metrics_gauge_add(s->g, 0, 1);
        metrics_histogram_observe(s->h, 0, (i & 1) ? 0.5 : 5);
    }
    return NULL;
}

START_TEST(concurrent_updates_add_up)
{
    static const char *const r[] = {"applied", "stale"};
    const struct metrics_label label = {"result", r, 2};
    const double bounds[] = {1};
    pthread_t t[THREADS];
    struct shared s;
    struct err e;
    double v = 0;
    char want[256];
    int i;

    ck_assert_int_eq(metrics_counter_new(reg, "dadns_c_total", "", &label, 1, &s.c, &e), 0);
    ck_assert_int_eq(metrics_gauge_new(reg, "dadns_g", "", NULL, 0, &s.g, &e), 0);
    ck_assert_int_eq(
        metrics_histogram_new(reg, "dadns_h_seconds", "", NULL, 0, bounds, 1, &s.h, &e), 0);
    for (i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &s), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_eq(metrics_counter_get(s.c, 0), THREADS * ROUNDS / 2);
    ck_assert_uint_eq(metrics_counter_get(s.c, 1), THREADS * ROUNDS / 2);
    ck_assert_int_eq(metrics_gauge_get(s.g, 0, &v), 1);
    ck_assert(v == (double)(THREADS * ROUNDS));
    snprintf(want, sizeof(want),
             "dadns_h_seconds_bucket{le=\"1\"} %d\n"
             "dadns_h_seconds_bucket{le=\"+Inf\"} %d\n"
             "dadns_h_seconds_sum %d\n"
             "dadns_h_seconds_count %d\n",
             THREADS * ROUNDS / 2, THREADS * ROUNDS, THREADS * ROUNDS / 2 * 11 / 2,
             THREADS * ROUNDS);
    ck_assert_ptr_nonnull(strstr(render(), want));
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc;

    tc = tcase_create("counter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, counter_without_labels);
    tcase_add_test(tc, counter_two_labels_in_mixed_radix_order);
    tcase_add_test(tc, shared_vocabulary);
    suite_add_tcase(s, tc);

    tc = tcase_create("gauge");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, gauge_set_add_clear);
    tcase_add_test(tc, gauge_number_formats);
    tcase_add_test(tc, gauge_computed_at_render);
    suite_add_tcase(s, tc);

    tc = tcase_create("histogram");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, histogram_cumulative_buckets);
    tcase_add_test(tc, histogram_without_labels);
    suite_add_tcase(s, tc);

    tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, escaping);
    tcase_add_test(tc, registration_order_is_render_order);
    tcase_add_test(tc, process_info);
    tcase_add_test(tc, render_over_the_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("registration");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, registration_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, concurrent_updates_add_up);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
