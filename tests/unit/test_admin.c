/* test_admin.c -- the admin listener on a loopback port, spoken to over raw sockets (HTTP/1.0):
 * codes and bodies of every path, /readyz following its callback, the extra handler, a slow
 * scrape not holding up /livez, and clear errors for a taken port or a bad address. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"

/* ---- a tiny HTTP/1.0 client ---- */

struct reply {
    int status;
    char head[2048]; /* status line and headers */
    char body[65536];
    size_t body_len;
};

static int http(int family, int port, const char *method, const char *path, struct reply *r)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    struct timeval tv = {5, 0};
    char req[512], raw[sizeof(r->head) + sizeof(r->body)], *sep, *end;
    size_t got = 0;
    ssize_t n;
    int fd;

    memset(r, 0, sizeof(*r));
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_addr = in6addr_loopback;
        sslen = sizeof(*in6);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sslen = sizeof(*in);
    }
    fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&ss, sslen) != 0) {
        close(fd);
        return -1;
    }
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: test\r\nContent-Length: 0\r\n\r\n", method,
             path);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        close(fd);
        return -1;
    }
    while (got < sizeof(raw) - 1 && (n = read(fd, raw + got, sizeof(raw) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    raw[got] = '\0';
    sep = strstr(raw, "\r\n\r\n");
    if (sep == NULL || strncmp(raw, "HTTP/1.", 7) != 0 || raw[8] != ' ')
        return -1;
    r->status = (int)strtol(raw + 9, &end, 10);
    if (end != raw + 12 || *end != ' ')
        return -1;
    snprintf(r->head, sizeof(r->head), "%.*s", (int)(sep - raw), raw);
    r->body_len = got - (size_t)(sep + 4 - raw);
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
    return 0;
}

static int get(int port, const char *path, struct reply *r)
{
    return http(AF_INET, port, "GET", path, r);
}

/* ---- the service side ---- */

struct fake_service {
    struct metrics *reg;
    struct metrics_family *scrapes;
    atomic_int ready;      /* 1 = ready */
    atomic_int collect_ms; /* sleep in collect, to play a slow Redis */
    atomic_int collect_calls;
};

static struct fake_service svc;
static struct admin *adm;

static void collect(void *ctx)
{
    struct fake_service *s = ctx;
    int ms = atomic_load(&s->collect_ms);

    if (ms > 0)
        usleep((useconds_t)ms * 1000);
    atomic_fetch_add(&s->collect_calls, 1);
    metrics_counter_add(s->scrapes, 0, 1);
}

static int ready(void *ctx, char *reason, size_t size)
{
    struct fake_service *s = ctx;

    if (atomic_load(&s->ready))
        return 0;
    snprintf(reason, size, "redis: connection refused");
    return 1;
}

static int handler(void *ctx, const struct admin_request *req, int *status,
                   const char **content_type, struct buf *body)
{
    const char *who;

    (void)ctx;
    if (strcmp(admin_request_path(req), "/status") == 0) {
        who = admin_request_arg(req, "who");
        *content_type = "application/json";
        buf_printf(body, "{\"method\":\"%s\",\"who\":\"%s\",\"host\":\"%s\"}",
                   admin_request_method(req), who != NULL ? who : "-",
                   admin_request_header(req, "host") != NULL ? admin_request_header(req, "host")
                                                             : "-");
        return 1;
    }
    if (strcmp(admin_request_path(req), "/teapot") == 0) {
        *status = 418;
        return 1;
    }
    return 0;
}

static void start_full(void)
{
    struct admin_opts o = {"127.0.0.1", -1, NULL, collect, ready, handler, &svc};
    struct err e;

    memset(&svc, 0, sizeof(svc));
    ck_assert_int_eq(metrics_new(&svc.reg), 0);
    ck_assert_int_eq(
        metrics_counter_new(svc.reg, "dadns_scrapes_total", "Scrapes.", NULL, 0, &svc.scrapes, &e),
        0);
    atomic_store(&svc.ready, 1);
    o.metrics = svc.reg;
    ck_assert_msg(admin_start(&o, &adm, &e) == 0, "%s", e.text);
    ck_assert_ptr_nonnull(adm);
    ck_assert_int_gt(admin_port(adm), 0);
}

static void stop_full(void)
{
    admin_stop(adm);
    adm = NULL;
    metrics_free(svc.reg);
    svc.reg = NULL;
}

/* ---- paths ---- */

START_TEST(metrics_renders_after_collect)
{
    struct reply r;

    ck_assert_int_eq(get(admin_port(adm), "/metrics", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.head, "Content-Type: text/plain; version=0.0.4"));
    ck_assert_str_eq(r.body, "# HELP dadns_scrapes_total Scrapes.\n"
                             "# TYPE dadns_scrapes_total counter\n"
                             "dadns_scrapes_total 1\n");
    ck_assert_int_eq(get(admin_port(adm), "/metrics?x=1", &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "dadns_scrapes_total 2\n"));
}
END_TEST

START_TEST(health_and_liveness)
{
    struct reply r;

    ck_assert_int_eq(get(admin_port(adm), "/healthz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok\n");
    ck_assert_int_eq(get(admin_port(adm), "/livez", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok\n");
    ck_assert_int_eq(atomic_load(&svc.collect_calls), 0); /* process only */
}
END_TEST

START_TEST(readiness_follows_the_callback)
{
    struct reply r;

    ck_assert_int_eq(get(admin_port(adm), "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ready\n");
    atomic_store(&svc.ready, 0);
    ck_assert_int_eq(get(admin_port(adm), "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 503);
    ck_assert_str_eq(r.body, "redis: connection refused\n");
    atomic_store(&svc.ready, 1);
    ck_assert_int_eq(get(admin_port(adm), "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

START_TEST(unknown_paths_and_methods)
{
    struct reply r;

    ck_assert_int_eq(get(admin_port(adm), "/nope", &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "not found\n");
    ck_assert_int_eq(get(admin_port(adm), "/metrics/", &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(http(AF_INET, admin_port(adm), "POST", "/metrics", &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_ptr_nonnull(strstr(r.head, "Allow: GET, HEAD"));
    ck_assert_int_eq(http(AF_INET, admin_port(adm), "DELETE", "/nope", &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_int_eq(atomic_load(&svc.collect_calls), 0);
}
END_TEST

START_TEST(head_has_no_body)
{
    struct reply r;

    ck_assert_int_eq(http(AF_INET, admin_port(adm), "HEAD", "/metrics", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_int_eq(http(AF_INET, admin_port(adm), "HEAD", "/livez", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
}
END_TEST

START_TEST(extra_handler)
{
    struct reply r;

    ck_assert_int_eq(get(admin_port(adm), "/status?who=ops", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.head, "Content-Type: application/json"));
    ck_assert_str_eq(r.body, "{\"method\":\"GET\",\"who\":\"ops\",\"host\":\"test\"}");
    ck_assert_int_eq(get(admin_port(adm), "/teapot", &r), 0);
    ck_assert_int_eq(r.status, 418);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_int_eq(get(admin_port(adm), "/other", &r), 0);
    ck_assert_int_eq(r.status, 404);
}
END_TEST

struct slow_scrape {
    int port;
    struct reply r;
    int rc;
};

static void *scrape(void *p)
{
    struct slow_scrape *s = p;

    s->rc = get(s->port, "/metrics", &s->r);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(slow_scrape_does_not_block_livez)
{
    struct slow_scrape s = {admin_port(adm), {0}, -1};
    struct reply r;
    pthread_t t;
    double t0;

    atomic_store(&svc.collect_ms, 1500);
    ck_assert_int_eq(pthread_create(&t, NULL, scrape, &s), 0);
    usleep(200000); /* the scrape is now inside collect */
    t0 = now_s();
    ck_assert_int_eq(get(admin_port(adm), "/livez", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(now_s() - t0 < 0.8, "/livez took %.3f s", now_s() - t0);
    pthread_join(t, NULL);
    ck_assert_int_eq(s.rc, 0);
    ck_assert_int_eq(s.r.status, 200);
}
END_TEST

/* ---- start and stop ---- */

START_TEST(port_zero_is_off)
{
    struct admin_opts o = {"127.0.0.1", 0, NULL, NULL, NULL, NULL, NULL};
    struct admin *a = (struct admin *)&o; /* must be reset to NULL */
    struct err e;

    ck_assert_int_eq(admin_start(&o, &a, &e), 0);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(admin_port(a), 0);
    admin_stop(a);
}
END_TEST

START_TEST(no_callbacks)
{
    struct admin_opts o = {"127.0.0.1", -1, NULL, NULL, NULL, NULL, NULL};
    struct admin *a = NULL;
    struct reply r;
    struct err e;

    ck_assert_int_eq(admin_start(&o, &a, &e), 0);
    ck_assert_int_eq(get(admin_port(a), "/metrics", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_int_eq(get(admin_port(a), "/readyz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ready\n");
    ck_assert_int_eq(get(admin_port(a), "/status", &r), 0);
    ck_assert_int_eq(r.status, 404);
    admin_stop(a);
}
END_TEST

START_TEST(port_in_use_is_a_clear_error)
{
    struct admin_opts o = {"127.0.0.1", -1, NULL, NULL, NULL, NULL, NULL};
    struct admin *a = NULL;
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    char want[64];
    struct err e;
    int fd, port;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    port = ntohs(in.sin_port);

    o.port = port;
    ck_assert_int_eq(admin_start(&o, &a, &e), DADNS_EIO);
    ck_assert_ptr_null(a);
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: Address already in use", port);
    ck_assert_str_eq(e.text, want);
    close(fd);
}
END_TEST

START_TEST(stop_releases_the_port)
{
    struct admin_opts o = {"127.0.0.1", -1, NULL, NULL, NULL, NULL, NULL};
    struct admin *a = NULL;
    struct reply r;
    struct err e;
    int i;

    ck_assert_int_eq(admin_start(&o, &a, &e), 0);
    o.port = admin_port(a);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(get(o.port, "/livez", &r), 0);
        admin_stop(a);
        a = NULL;
        ck_assert_msg(admin_start(&o, &a, &e) == 0, "round %d: %s", i, e.text);
        ck_assert_int_eq(admin_port(a), o.port);
    }
    admin_stop(a);
}
END_TEST

START_TEST(bad_settings)
{
    struct admin_opts o = {"localhost", 9400, NULL, NULL, NULL, NULL, NULL};
    struct admin *a = NULL;
    struct err e;

    ck_assert_int_eq(admin_start(&o, &a, &e), DADNS_ECONFIG);
    ck_assert_str_eq(e.text, "metrics.listen_addr: \"localhost\" is not an IP address");
    o.addr = "127.0.0.1";
    o.port = 70000;
    ck_assert_int_eq(admin_start(&o, &a, &e), DADNS_ECONFIG);
    o.addr = NULL;
    o.port = 9400;
    ck_assert_int_eq(admin_start(&o, &a, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(a);
}
END_TEST

START_TEST(ipv6_loopback)
{
    struct admin_opts o = {"::1", -1, NULL, NULL, NULL, NULL, NULL};
    struct admin *a = NULL;
    struct reply r;
    struct err e;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);

    if (probe < 0)
        return; /* no IPv6 here */
    close(probe);
    if (admin_start(&o, &a, &e) != 0) {
        ck_assert_int_eq(e.code, DADNS_EIO); /* IPv6 disabled on loopback */
        return;
    }
    ck_assert_int_eq(http(AF_INET6, admin_port(a), "GET", "/healthz", &r), 0);
    ck_assert_int_eq(r.status, 200);
    admin_stop(a);
}
END_TEST

static Suite *admin_suite(void)
{
    Suite *s = suite_create("admin");
    TCase *tc;

    tc = tcase_create("paths");
    tcase_add_checked_fixture(tc, start_full, stop_full);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, metrics_renders_after_collect);
    tcase_add_test(tc, health_and_liveness);
    tcase_add_test(tc, readiness_follows_the_callback);
    tcase_add_test(tc, unknown_paths_and_methods);
    tcase_add_test(tc, head_has_no_body);
    tcase_add_test(tc, extra_handler);
    tcase_add_test(tc, slow_scrape_does_not_block_livez);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, port_zero_is_off);
    tcase_add_test(tc, no_callbacks);
    tcase_add_test(tc, port_in_use_is_a_clear_error);
    tcase_add_test(tc, stop_releases_the_port);
    tcase_add_test(tc, bad_settings);
    tcase_add_test(tc, ipv6_loopback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(admin_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
