/* test_ingestmetrics.c -- ingest's metrics (services/ingest/ingestmetrics.c): the bounded
 * endpoint and code labels, the counters as scraped from a real admin listener on loopback,
 * /healthz, and /readyz following spooler_ready (Redis unreachable, no spool: 503). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpget.h"
#include "ingestmetrics.h"

/* ---- classification (pure) ---- */

START_TEST(endpoint_from_path)
{
    static const char form[] = "select0=a.test&action=delete&select1=b.test";

    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_LOGIN_TEST", NULL, NULL, 0),
                     INGESTMETRICS_LOGIN_TEST);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", "exists", NULL, 0),
                     INGESTMETRICS_EXISTS);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", "rawsave", NULL, 0),
                     INGESTMETRICS_RAWSAVE);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", "delete", NULL, 0),
                     INGESTMETRICS_DELETE);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", NULL, NULL, 0),
                     INGESTMETRICS_PROBE);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", "", NULL, 0),
                     INGESTMETRICS_PROBE);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", "bogus", NULL, 0),
                     INGESTMETRICS_OTHER);
    /* the action of a form body counts when the query has none */
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", NULL, form, strlen(form)),
                     INGESTMETRICS_DELETE);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", "exists", form, strlen(form)),
                     INGESTMETRICS_EXISTS);
    ck_assert_int_eq(ingestmetrics_endpoint("/CMD_API_DNS_ADMIN", NULL, "xaction=delete", 14),
                     INGESTMETRICS_PROBE);
    ck_assert_int_eq(ingestmetrics_endpoint("/healthz", NULL, NULL, 0), INGESTMETRICS_HEALTHZ);
    ck_assert_int_eq(ingestmetrics_endpoint("/livez", NULL, NULL, 0), INGESTMETRICS_HEALTHZ);
    ck_assert_int_eq(ingestmetrics_endpoint("/readyz", NULL, NULL, 0), INGESTMETRICS_READYZ);
    ck_assert_int_eq(ingestmetrics_endpoint("/status", NULL, NULL, 0), INGESTMETRICS_STATUS);
    ck_assert_int_eq(ingestmetrics_endpoint("/status.html", NULL, NULL, 0), INGESTMETRICS_STATUS);
    ck_assert_int_eq(ingestmetrics_endpoint("/wp-login.php", "rawsave", NULL, 0),
                     INGESTMETRICS_OTHER);
}
END_TEST

START_TEST(endpoint_of_action)
{
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_LOGIN_TEST), INGESTMETRICS_LOGIN_TEST);
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_EXISTS), INGESTMETRICS_EXISTS);
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_RAWSAVE), INGESTMETRICS_RAWSAVE);
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_DELETE), INGESTMETRICS_DELETE);
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_NOACTION), INGESTMETRICS_PROBE);
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_HEALTHZ), INGESTMETRICS_HEALTHZ);
    ck_assert_int_eq(ingestmetrics_endpoint_of(DA_READYZ), INGESTMETRICS_READYZ);
}
END_TEST

START_TEST(code_labels)
{
    ck_assert_uint_eq(ingestmetrics_code(200), 0);
    ck_assert_uint_eq(ingestmetrics_code(400), 1);
    ck_assert_uint_eq(ingestmetrics_code(401), 2);
    ck_assert_uint_eq(ingestmetrics_code(404), 3);
    ck_assert_uint_eq(ingestmetrics_code(405), 4);
    ck_assert_uint_eq(ingestmetrics_code(413), 5);
    ck_assert_uint_eq(ingestmetrics_code(503), 6);
    ck_assert_uint_eq(ingestmetrics_code(302), 7);
    ck_assert_uint_eq(ingestmetrics_code(500), 7);
    ck_assert_uint_eq(ingestmetrics_code(-1), 7);
}
END_TEST

START_TEST(null_is_fine)
{
    ingestmetrics_request(NULL, INGESTMETRICS_RAWSAVE, 200);
    ingestmetrics_push(NULL, METRICS_PUSH_ACCEPTED);
    ingestmetrics_publish(NULL, 0.1);
    ck_assert_int_eq(ingestmetrics_port(NULL), 0);
    ck_assert_ptr_null(ingestmetrics_registry(NULL));
    ingestmetrics_stop(NULL);
}
END_TEST

/* ---- the listener ---- */

static struct config *cfg;
static struct spooler *sl;
static struct ingestmetrics *im;

static void setup(void)
{
    struct err e;

    setenv("DADNS_REDIS_PORT", "1", 1); /* nothing listens: Redis unreachable */
    setenv("DADNS_REDIS_TIMEOUT_MS", "200", 1);
    setenv("DADNS_WRITER_BLOCK_MS", "100", 1);
    setenv("DADNS_APP_SPOOL_DIR", "", 1);
    ck_assert_msg(config_load(NULL, &cfg, &e) == 0, "%s", e.text);
    cfg->metrics_port = -1; /* any free port */
    ck_assert_msg(spooler_open(cfg, &sl, &e) == 0, "%s", e.text);
    ck_assert_msg(ingestmetrics_start(cfg, sl, &im, &e) == 0, "%s", e.text);
    ck_assert_int_gt(ingestmetrics_port(im), 0);
}

static void teardown(void)
{
    ingestmetrics_stop(im);
    im = NULL;
    spooler_free(sl);
    sl = NULL;
    config_free(cfg);
    cfg = NULL;
}

#define ck_line(text, line)                                                                        \
    ck_assert_msg(httpget_has_line(text, line), "no line \"%s\" in:\n%s", line, text)

START_TEST(scrape_counts)
{
    static struct httpget_reply r;
    int port = ingestmetrics_port(im);

    ingestmetrics_request(im, INGESTMETRICS_RAWSAVE, 200);
    ingestmetrics_request(im, INGESTMETRICS_RAWSAVE, 200);
    ingestmetrics_request(im, INGESTMETRICS_STATUS, 401);
    ingestmetrics_request(im, INGESTMETRICS_OTHER, 302);
    ingestmetrics_request(im, INGESTMETRICS_ENDPOINTS, 200); /* out of range: ignored */
    ingestmetrics_push(im, METRICS_PUSH_ACCEPTED);
    ingestmetrics_push(im, METRICS_PUSH_ACCEPTED);
    ingestmetrics_push(im, METRICS_PUSH_REJECTED);
    ingestmetrics_publish(im, 0.003);
    ck_assert_int_eq(httpget(port, "/metrics", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_line(r.body, "dadns_http_requests_total{endpoint=\"rawsave\",code=\"200\"} 2");
    ck_line(r.body, "dadns_http_requests_total{endpoint=\"status\",code=\"401\"} 1");
    ck_line(r.body, "dadns_http_requests_total{endpoint=\"other\",code=\"other\"} 1");
    ck_line(r.body, "dadns_http_requests_total{endpoint=\"login_test\",code=\"200\"} 0");
    ck_line(r.body, "dadns_ingest_pushes_total{result=\"accepted\"} 2");
    ck_line(r.body, "dadns_ingest_pushes_total{result=\"rejected\"} 1");
    ck_line(r.body, "dadns_ingest_pushes_total{result=\"spooled\"} 0");
    ck_line(r.body, "dadns_ingest_pushes_total{result=\"error\"} 0");
    ck_line(r.body, "dadns_ingest_publish_seconds_bucket{le=\"0.0025\"} 0");
    ck_line(r.body, "dadns_ingest_publish_seconds_bucket{le=\"0.005\"} 1");
    ck_line(r.body, "dadns_ingest_publish_seconds_count 1");
    ck_line(r.body, "dadns_ingest_spool_records 0");
    ck_line(r.body, "dadns_redis_up 0");
    ck_line(r.body, "# TYPE dadns_ingest_publish_seconds histogram");
    ck_assert_ptr_nonnull(strstr(r.body, "dadns_build_info{version=\""));
    ck_assert_ptr_nonnull(strstr(r.body, "service=\"ingest\"} 1\n"));
}
END_TEST

START_TEST(health_and_ready)
{
    static struct httpget_reply r;
    int port = ingestmetrics_port(im);

    ck_assert_int_eq(httpget(port, "/healthz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(httpget(port, "/livez", &r), 0);
    ck_assert_int_eq(r.status, 200);
    /* no spool and no Redis: not ready, as the main port's /readyz says */
    ck_assert_int_eq(httpget(port, "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_msg(strncmp(r.body, "not ready: ", 11) == 0, "%s", r.body);
    ck_assert_int_eq(httpget(port, "/status", &r), 0);
    ck_assert_int_eq(r.status, 404); /* the status page is on the main port, with auth */
}
END_TEST

START_TEST(port_off)
{
    struct ingestmetrics *off = NULL;
    struct err e;

    cfg->metrics_port = 0;
    ck_assert_msg(ingestmetrics_start(cfg, sl, &off, &e) == 0, "%s", e.text);
    ck_assert_ptr_nonnull(off);
    ck_assert_int_eq(ingestmetrics_port(off), 0);
    ingestmetrics_request(off, INGESTMETRICS_RAWSAVE, 200); /* still counts, nothing serves */
    ck_assert_ptr_nonnull(ingestmetrics_registry(off));
    ingestmetrics_stop(off);
}
END_TEST

START_TEST(port_taken)
{
    struct ingestmetrics *second = NULL;
    struct err e;

    cfg->metrics_port = ingestmetrics_port(im);
    ck_assert_int_eq(ingestmetrics_start(cfg, sl, &second, &e), DADNS_EIO);
    ck_assert_ptr_null(second);
    ck_assert_msg(strstr(e.text, "cannot listen on 127.0.0.1:") != NULL, "%s", e.text);
}
END_TEST

static Suite *ingestmetrics_suite(void)
{
    Suite *s = suite_create("ingestmetrics");
    TCase *pure = tcase_create("labels");
    TCase *live = tcase_create("listener");

    tcase_add_test(pure, endpoint_from_path);
    tcase_add_test(pure, endpoint_of_action);
    tcase_add_test(pure, code_labels);
    tcase_add_test(pure, null_is_fine);
    suite_add_tcase(s, pure);
    tcase_add_checked_fixture(live, setup, teardown);
    tcase_set_timeout(live, 30);
    tcase_add_test(live, scrape_counts);
    tcase_add_test(live, health_and_ready);
    tcase_add_test(live, port_off);
    tcase_add_test(live, port_taken);
    suite_add_tcase(s, live);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ingestmetrics_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
