/* test_daclient.c -- Check suite for services/reconciler/daclient.c against tests/fakeda (path in
 * DADNS_FAKEDA), started per test on a free loopback port: JSON paging, the legacy list,
 * the CMD_LOGIN session fallback, not admin-level, HTML, wrong password, slow, dead, nothing
 * listening, TLS against a plain server, a list that changes during the walk, cancel. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daclient.h"

static char dir[64];
static char zones_path[128];
static char mode_path[128];
static pid_t fake = -1;
static int fake_port;
static struct da_server_conf srv;

/* write_file - @path gets @text. */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

/* write_zones - @n zones "z<i>.example" (then @more, may be NULL) into the zones file. */
static void write_zones(size_t n, const char *more)
{
    FILE *f = fopen(zones_path, "w");
    size_t i;

    ck_assert_ptr_nonnull(f);
    for (i = 0; i < n; i++)
        fprintf(f, "z%zu.example\n", i);
    if (more != NULL)
        fputs(more, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void fake_stop(void)
{
    if (fake > 0) {
        kill(fake, SIGTERM);
        waitpid(fake, NULL, 0);
        fake = -1;
    }
}

/* fake_start - start fakeda in @mode with the extra arguments @extra (NULL-terminated list, may
 * be NULL) and point srv at it. */
static void fake_start(const char *mode, const char *const *extra)
{
    const char *bin = getenv("DADNS_FAKEDA");
    const char *argv[24];
    char line[32] = "";
    struct pollfd pfd;
    size_t n = 0, got = 0;
    int fds[2];

    ck_assert_msg(bin != NULL, "DADNS_FAKEDA is not set");
    argv[n++] = bin;
    argv[n++] = "-z";
    argv[n++] = zones_path;
    argv[n++] = "-M";
    argv[n++] = mode_path;
    argv[n++] = "-m";
    argv[n++] = mode;
    while (extra != NULL && *extra != NULL && n < 22)
        argv[n++] = *extra++;
    argv[n] = NULL;
    ck_assert_int_eq(pipe(fds), 0);
    fake = fork();
    ck_assert_int_ge(fake, 0);
    if (fake == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a test that failed */
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    while (got + 1 < sizeof(line) && strchr(line, '\n') == NULL) {
        ssize_t r;

        ck_assert_msg(poll(&pfd, 1, 5000) == 1, "fakeda did not print its port");
        r = read(fds[0], line + got, sizeof(line) - 1 - got);
        ck_assert_int_gt(r, 0);
        got += (size_t)r;
        line[got] = '\0';
    }
    close(fds[0]);
    fake_port = (int)strtol(line, NULL, 10);
    ck_assert_int_gt(fake_port, 0);
    srv.port = fake_port;
}

static void setup(void)
{
    static int hooked;

    if (!hooked) {
        atexit(fake_stop);
        hooked = 1;
    }
    snprintf(dir, sizeof(dir), "/tmp/dadns-test-daclient-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(zones_path, sizeof(zones_path), "%s/zones", dir);
    snprintf(mode_path, sizeof(mode_path), "%s/mode", dir);
    write_zones(0, NULL);
    memset(&srv, 0, sizeof(srv));
    srv.name = "fake";
    srv.host = "127.0.0.1";
    srv.user = "admin";
    srv.password = "secret";
    srv.tls = false;
    srv.tls_verify = true;
    srv.timeout_s = 10;
    srv.hostname = "fake.example";
    srv.page_size = 1000;
}

static void teardown(void)
{
    fake_stop();
    unlink(zones_path);
    unlink(mode_path);
    rmdir(dir);
}

/* fetch_ok - a successful fetch; returns the list (caller frees). */
static struct dalist *fetch_ok(struct daclient_stats *st)
{
    struct dalist *l = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    rc = daclient_fetch(&srv, NULL, &l, st, &e);
    ck_assert_msg(rc == 0, "fetch failed (%d): %s", rc, e.text);
    ck_assert_ptr_nonnull(l);
    return l;
}

/* fetch_fail - a failed fetch with @code whose message contains @needle. */
static void fetch_fail(int code, const char *needle, struct daclient_stats *st)
{
    struct dalist *l = (struct dalist *)&srv;
    struct err e;
    int rc;

    err_clear(&e);
    rc = daclient_fetch(&srv, NULL, &l, st, &e);
    ck_assert_msg(rc == code, "expected %d, got %d: %s", code, rc, e.text);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(e.text, needle) != NULL, "\"%s\" not in \"%s\"", needle, e.text);
    ck_assert_msg(strncmp(e.text, "http://127.0.0.1:", 17) == 0 ||
                      strncmp(e.text, "https://127.0.0.1:", 18) == 0,
                  "message does not start with the URL: %s", e.text);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the list ---------------------------------------------------------------------------- */

START_TEST(json_pages)
{
    struct daclient_stats st;
    struct dalist *l;

    write_zones(2500, "Mixed.Case.Example\nbad..example\n");
    fake_start("json", NULL);
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 2501);
    ck_assert(strset_has(l->zones, "z0.example"));
    ck_assert(strset_has(l->zones, "z2499.example"));
    ck_assert(strset_has(l->zones, "mixed.case.example"));
    ck_assert_uint_eq(l->invalid, 1);
    ck_assert_int_eq(st.pages, 3);
    ck_assert_int_eq(st.requests, 3);
    ck_assert(!st.logged_in);
    ck_assert(!st.legacy);
    ck_assert_int_eq(st.http_status, 200);
    ck_assert_ptr_nonnull(strstr(st.url, "http://127.0.0.1:"));
    dalist_free(l);

    /* the list is re-read on every request */
    write_zones(3, NULL);
    srv.page_size = 2;
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 3);
    ck_assert_int_eq(st.pages, 2);
    dalist_free(l);
}
END_TEST

START_TEST(json_without_info)
{
    static const char *const extra[] = {"-I", NULL};
    struct daclient_stats st;
    struct dalist *l;

    fake_start("json", extra);
    /* 25 zones by 10: a short page is not trusted as the last, an empty one is */
    write_zones(25, NULL);
    srv.page_size = 10;
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 25);
    ck_assert_int_eq(st.pages, 4);
    dalist_free(l);
    /* 20 zones by 10: an empty third page ends it */
    write_zones(20, NULL);
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 20);
    ck_assert_int_eq(st.pages, 3);
    dalist_free(l);
}
END_TEST

START_TEST(capped_ipp)
{
    static const char *const capped[] = {"-c", "10", NULL};
    static const char *const capped_no_info[] = {"-c", "10", "-I", NULL};
    struct daclient_stats st;
    struct dalist *l;

    write_zones(35, NULL);
    srv.page_size = 25; /* DA serves 10 per page whatever is asked */
    fake_start("json", capped);
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 35);
    ck_assert_int_eq(st.pages, 4); /* total_pages says 4 */
    dalist_free(l);
    fake_stop();
    fake_start("json", capped_no_info);
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 35);
    ck_assert_int_eq(st.pages, 5); /* the short first page did not end the walk */
    dalist_free(l);
}
END_TEST

START_TEST(empty_list)
{
    struct daclient_stats st;
    struct dalist *l;

    write_zones(10, NULL);
    fake_start("empty", NULL);
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 0);
    ck_assert_int_eq(st.pages, 1);
    dalist_free(l);
    /* an empty file in json mode: one page, total_pages 1 */
    write_zones(0, NULL);
    write_file(mode_path, "json\n");
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 0);
    ck_assert_int_eq(st.pages, 1);
    dalist_free(l);
}
END_TEST

START_TEST(legacy_list)
{
    struct daclient_stats st;
    struct dalist *l;

    write_zones(5000, "UPPER.example\n");
    fake_start("legacy", NULL);
    srv.page_size = 100; /* no paging in the legacy answer */
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 5001);
    ck_assert(strset_has(l->zones, "upper.example"));
    ck_assert(st.legacy);
    ck_assert_int_eq(st.pages, 1);
    dalist_free(l);
}
END_TEST

START_TEST(list_changes_during_walk)
{
    struct daclient_stats st;

    write_zones(30, NULL);
    fake_start("churn", NULL);
    srv.page_size = 10;
    fetch_fail(DADNS_EIO, "the zone list changed during each of 3 walks", &st);
    ck_assert_int_eq(st.requests, 2 * DACLIENT_ATTEMPTS);
}
END_TEST

/* ---- login and permissions --------------------------------------------------------------- */

START_TEST(redirect_login)
{
    struct daclient_stats st;
    struct dalist *l;

    write_zones(1500, NULL);
    fake_start("redirect", NULL);
    l = fetch_ok(&st);
    ck_assert_uint_eq(strset_count(l->zones), 1500);
    ck_assert(st.logged_in);
    ck_assert_int_eq(st.pages, 2);
    /* GET (302), POST /CMD_LOGIN, GET page 1, GET page 2 with the cookie */
    ck_assert_int_eq(st.requests, 4);
    dalist_free(l);
}
END_TEST

START_TEST(redirect_login_refused)
{
    struct daclient_stats st;

    fake_start("redirect", NULL);
    srv.password = "wrong";
    fetch_fail(DADNS_EDENIED, "/CMD_LOGIN answered HTTP 200 without a session cookie", &st);
    ck_assert(st.logged_in);
}
END_TEST

START_TEST(not_admin)
{
    struct daclient_stats st;

    fake_start("nonadmin", NULL);
    fetch_fail(DADNS_EDENIED,
               "redirected to /CMD_LOGIN even after logging in: the account is not admin-level",
               &st);
    ck_assert_int_eq(st.requests, 3);
}
END_TEST

START_TEST(html_page)
{
    fake_start("html", NULL);
    fetch_fail(DADNS_EDENIED, "DirectAdmin answered with an HTML page", NULL);
}
END_TEST

START_TEST(wrong_password)
{
    struct daclient_stats st;

    fake_start("json", NULL);
    srv.password = "nope";
    fetch_fail(DADNS_EDENIED, "HTTP 401 on /CMD_DNS_ADMIN: wrong user or password", &st);
    ck_assert_int_eq(st.http_status, 401);
}
END_TEST

/* ---- unreachable ------------------------------------------------------------------------- */

START_TEST(slow_timeout)
{
    static const char *const extra[] = {"-d", "4", NULL};
    double t0;

    fake_start("slow", extra);
    srv.timeout_s = 1;
    t0 = now_s();
    fetch_fail(DADNS_EIO, "no answer within 1 s (timeout_s)", NULL);
    ck_assert_double_lt(now_s() - t0, 3.0);
}
END_TEST

START_TEST(slow_but_in_time)
{
    static const char *const extra[] = {"-d", "1", NULL};
    struct dalist *l;

    write_zones(3, NULL);
    fake_start("slow", extra);
    srv.timeout_s = 5;
    l = fetch_ok(NULL);
    ck_assert_uint_eq(strset_count(l->zones), 3);
    dalist_free(l);
}
END_TEST

START_TEST(cancelled)
{
    static const char *const extra[] = {"-d", "5", NULL};
    volatile sig_atomic_t stop = 1;
    struct dalist *l = NULL;
    struct err e;
    double t0;

    fake_start("slow", extra);
    t0 = now_s();
    ck_assert_int_eq(daclient_fetch(&srv, &stop, &l, NULL, &e), DADNS_EIO);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(strstr(e.text, ": cancelled"));
    ck_assert_double_lt(now_s() - t0, 3.0);
}
END_TEST

START_TEST(dead_server)
{
    fake_start("dead", NULL);
    fetch_fail(DADNS_EIO, "Empty reply from server", NULL);
}
END_TEST

START_TEST(nothing_listening)
{
    fake_start("json", NULL);
    fake_stop(); /* the port is free again */
    fetch_fail(DADNS_EIO, "Couldn't connect to server", NULL);
}
END_TEST

START_TEST(tls_against_plain_http)
{
    fake_start("json", NULL);
    srv.tls = true;
    srv.tls_verify = false;
    fetch_fail(DADNS_EIO, "https://127.0.0.1:", NULL);
}
END_TEST

START_TEST(mode_switch)
{
    struct dalist *l;

    write_zones(7, NULL);
    fake_start("json", NULL);
    l = fetch_ok(NULL);
    ck_assert_uint_eq(strset_count(l->zones), 7);
    dalist_free(l);
    write_file(mode_path, "dead\n");
    fetch_fail(DADNS_EIO, "Empty reply", NULL);
    write_file(mode_path, "legacy\n");
    l = fetch_ok(NULL);
    ck_assert_uint_eq(strset_count(l->zones), 7);
    dalist_free(l);
}
END_TEST

START_TEST(ipv6_host_bracketed)
{
    /* fakeda listens on IPv4 only: the point is the URL, seen in the message */
    struct dalist *l = NULL;
    struct err e;

    srv.host = "::1";
    srv.port = 1;
    ck_assert_int_eq(daclient_fetch(&srv, NULL, &l, NULL, &e), DADNS_EIO);
    ck_assert_ptr_nonnull(strstr(e.text, "http://[::1]:1: "));
}
END_TEST

static Suite *daclient_suite(void)
{
    Suite *s = suite_create("daclient");
    TCase *tc;

    tc = tcase_create("list");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, json_pages);
    tcase_add_test(tc, json_without_info);
    tcase_add_test(tc, capped_ipp);
    tcase_add_test(tc, empty_list);
    tcase_add_test(tc, legacy_list);
    tcase_add_test(tc, list_changes_during_walk);
    tcase_add_test(tc, mode_switch);
    suite_add_tcase(s, tc);

    tc = tcase_create("login");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, redirect_login);
    tcase_add_test(tc, redirect_login_refused);
    tcase_add_test(tc, not_admin);
    tcase_add_test(tc, html_page);
    tcase_add_test(tc, wrong_password);
    suite_add_tcase(s, tc);

    tc = tcase_create("unreachable");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, slow_timeout);
    tcase_add_test(tc, slow_but_in_time);
    tcase_add_test(tc, cancelled);
    tcase_add_test(tc, dead_server);
    tcase_add_test(tc, nothing_listening);
    tcase_add_test(tc, tls_against_plain_http);
    tcase_add_test(tc, ipv6_host_bracketed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(daclient_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
