/* test_request.c -- DirectAdmin request classification and validation
 * (services/ingest/request.c). */
#include <check.h>
#include <string.h>

#include "request.h"

/* Parse @method @path with query string @qs and body @body. */
static int parse(const char *method, const char *path, const char *qs, const char *body,
                 struct da_request *r, int *status, struct err *e)
{
    struct form q;
    int rc;

    form_init(&q);
    ck_assert_int_eq(form_parse(&q, qs, strlen(qs), NULL), 0);
    rc = request_parse(method, path, &q, body, body ? strlen(body) : 0, r, status, e);
    form_clear(&q);
    return rc;
}

START_TEST(login_test_get_and_post)
{
    struct da_request r;
    struct err e;
    int st;

    ck_assert_int_eq(parse("GET", "/CMD_API_LOGIN_TEST", "", NULL, &r, &st, &e), 0);
    ck_assert_int_eq(r.action, DA_LOGIN_TEST);
    ck_assert_int_eq(parse("POST", "/CMD_API_LOGIN_TEST", "", "x=1", &r, &st, &e), 0);
    ck_assert_int_eq(r.action, DA_LOGIN_TEST);
    ck_assert_int_eq(parse("PUT", "/CMD_API_LOGIN_TEST", "", NULL, &r, &st, &e), DADNS_EPARAM);
    ck_assert_int_eq(st, 405);
}
END_TEST

START_TEST(unknown_paths_and_methods)
{
    struct da_request r;
    struct err e;
    int st;

    ck_assert_int_eq(parse("GET", "/", "", NULL, &r, &st, &e), DADNS_EPARAM);
    ck_assert_int_eq(st, 404);
    ck_assert_int_eq(parse("GET", "/CMD_API_DNS_ADMIN/../etc", "", NULL, &r, &st, &e),
                     DADNS_EPARAM);
    ck_assert_int_eq(st, 404);
    ck_assert_int_eq(parse("DELETE", "/CMD_API_DNS_ADMIN", "", NULL, &r, &st, &e), DADNS_EPARAM);
    ck_assert_int_eq(st, 405);
    ck_assert_int_eq(parse("POST", "/healthz", "", NULL, &r, &st, &e), DADNS_EPARAM);
    ck_assert_int_eq(st, 405);
    ck_assert_int_eq(parse("GET", "/healthz", "", NULL, &r, &st, &e), 0);
    ck_assert_int_eq(r.action, DA_HEALTHZ);
    ck_assert_int_eq(parse("GET", "/readyz", "", NULL, &r, &st, &e), 0);
    ck_assert_int_eq(r.action, DA_READYZ);
    ck_assert(!request_needs_auth("/healthz"));
    ck_assert(!request_needs_auth("/readyz"));
    ck_assert(request_needs_auth("/CMD_API_DNS_ADMIN"));
    ck_assert(request_needs_auth("/anything"));
}
END_TEST

START_TEST(rawsave_takes_raw_body)
{
    struct da_request r;
    struct err e;
    const char *zone = "$TTL 300\n@ IN SOA a. b. 1 2 3 4 5\n";
    int st;

    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN",
                           "action=rawsave&domain=Example.COM&hostname=da1.host&username=bob", zone,
                           &r, &st, &e),
                     0);
    ck_assert_int_eq(r.action, DA_RAWSAVE);
    ck_assert_str_eq(r.zone, "example.com");
    ck_assert_str_eq(r.host, "da1.host");
    ck_assert_str_eq(r.user, "bob");
    ck_assert_ptr_eq(r.body, zone);
    ck_assert_uint_eq(r.body_len, strlen(zone));
    request_clear(&r);
}
END_TEST

START_TEST(rawsave_errors)
{
    struct da_request r;
    struct err e;
    int st;

    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN", "action=rawsave", "zone", &r, &st, &e),
                     DADNS_EPARAM);
    ck_assert_int_eq(st, 400);
    ck_assert_str_eq(e.text, "Missing 'domain' parameter");
    ck_assert_int_eq(
        parse("POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.com", NULL, &r, &st, &e),
        DADNS_EPARAM);
    ck_assert_str_eq(e.text, "Missing zone file content");
    ck_assert_int_eq(
        parse("POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=..%2Fetc.com", "x", &r, &st, &e),
        DADNS_ENAME);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(e.text, "Invalid domain"));
    ck_assert_int_eq(
        parse("POST", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a%22b.com", "x", &r, &st, &e),
        DADNS_ENAME);
    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN",
                           "action=rawsave&domain=a.com&hostname=bad%20host", "x", &r, &st, &e),
                     DADNS_EPARAM);
    ck_assert_ptr_nonnull(strstr(e.text, "hostname"));
    ck_assert_int_eq(
        parse("GET", "/CMD_API_DNS_ADMIN", "action=rawsave&domain=a.com", NULL, &r, &st, &e),
        DADNS_EPARAM);
    ck_assert_int_eq(st, 405);
    ck_assert_int_eq(parse("GET", "/CMD_API_DNS_ADMIN", "action=frobnicate", NULL, &r, &st, &e),
                     DADNS_EPARAM);
    ck_assert_ptr_nonnull(strstr(e.text, "Unknown action"));
}
END_TEST

START_TEST(exists_by_get_and_post)
{
    struct da_request r;
    struct err e;
    int st;

    ck_assert_int_eq(parse("GET", "/CMD_API_DNS_ADMIN",
                           "action=exists&domain=sub.example.com&check_for_parent_domain=true",
                           NULL, &r, &st, &e),
                     0);
    ck_assert_int_eq(r.action, DA_EXISTS);
    ck_assert_str_eq(r.zone, "sub.example.com");
    ck_assert_int_eq(r.check_parent, 1);
    ck_assert_int_eq(
        parse("POST", "/CMD_API_DNS_ADMIN", "", "action=exists&domain=example.com", &r, &st, &e),
        0);
    ck_assert_int_eq(r.action, DA_EXISTS);
    ck_assert_int_eq(r.check_parent, 0);
    ck_assert_int_eq(parse("GET", "/CMD_API_DNS_ADMIN",
                           "action=exists&domain=a.com&check_for_parent_domain=", NULL, &r, &st,
                           &e),
                     0);
    ck_assert_int_eq(r.check_parent, 0);
}
END_TEST

START_TEST(delete_selects_and_domain)
{
    struct da_request r;
    struct err e;
    int st;

    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN", "",
                           "action=delete&select0=A.com&select1=b.com&select2=a.com&domain=c."
                           "com&hostname=da1&username=u",
                           &r, &st, &e),
                     0);
    ck_assert_int_eq(r.action, DA_DELETE);
    ck_assert_uint_eq(r.nzones, 3);
    ck_assert_str_eq(r.zones[0], "a.com");
    ck_assert_str_eq(r.zones[1], "b.com");
    ck_assert_str_eq(r.zones[2], "c.com");
    ck_assert_str_eq(r.host, "da1");
    request_clear(&r);
    ck_assert_int_eq(
        parse("POST", "/CMD_API_DNS_ADMIN", "action=delete&domain=x.com", NULL, &r, &st, &e), 0);
    ck_assert_uint_eq(r.nzones, 1);
    request_clear(&r);
    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN", "", "action=delete", &r, &st, &e),
                     DADNS_EPARAM);
    ck_assert_ptr_nonnull(strstr(e.text, "select0"));
    /* one bad name refuses the whole request */
    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN", "",
                           "action=delete&select0=ok.com&select1=bad%0A.com", &r, &st, &e),
                     DADNS_ENAME);
    ck_assert_int_eq(st, 400);
}
END_TEST

START_TEST(no_action_probe)
{
    struct da_request r;
    struct err e;
    int st;

    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN", "", NULL, &r, &st, &e), 0);
    ck_assert_int_eq(r.action, DA_NOACTION);
    ck_assert_int_eq(parse("POST", "/CMD_API_DNS_ADMIN", "", "foo=bar", &r, &st, &e), 0);
    ck_assert_int_eq(r.action, DA_NOACTION);
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *routes = tcase_create("routes");
    TCase *actions = tcase_create("actions");

    tcase_add_test(routes, login_test_get_and_post);
    tcase_add_test(routes, unknown_paths_and_methods);
    tcase_add_test(routes, no_action_probe);
    tcase_add_test(actions, rawsave_takes_raw_body);
    tcase_add_test(actions, rawsave_errors);
    tcase_add_test(actions, exists_by_get_and_post);
    tcase_add_test(actions, delete_selects_and_domain);
    suite_add_tcase(s, routes);
    suite_add_tcase(s, actions);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(request_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
