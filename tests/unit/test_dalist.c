/* test_dalist.c -- Check suite for services/reconciler/dalist.c: DirectAdmin's JSON pages, the
 * legacy list[]= answer, HTML pages and DA's error answers, names normalized or refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dalist.h"

static struct dalist *l;

static void setup(void)
{
    ck_assert_int_eq(dalist_new(&l), 0);
}

static void teardown(void)
{
    dalist_free(l);
    l = NULL;
}

/* parse - dalist_parse of the C string @body into l; returns its code. */
static int parse(const char *body, struct dalist_page *pg, struct err *e)
{
    err_clear(e);
    return dalist_parse(l, body, strlen(body), pg, e);
}

static void parse_ok(const char *body, struct dalist_page *pg)
{
    struct err e;
    int rc = parse(body, pg, &e);

    ck_assert_msg(rc == 0, "parse failed: %s", e.text);
}

static void has(const char *zone)
{
    ck_assert_msg(strset_has(l->zones, zone), "%s not listed", zone);
}

/* ---- JSON -------------------------------------------------------------------------------- */

START_TEST(json_page)
{
    struct dalist_page pg;

    parse_ok("{\"0\":{\"domain\":\"example.com\",\"owner\":\"admin\",\"ip\":\"192.0.2.1\"},"
             "\"1\":{\"domain\":\"example.net\"},"
             "\"info\":{\"current_page\":1,\"ipp\":2,\"total_pages\":3,\"rows\":5},"
             "\"sort\":\"domain\",\"reasons\":{}}",
             &pg);
    ck_assert_int_eq(pg.format, DALIST_JSON);
    ck_assert_int_eq(pg.total_pages, 3);
    ck_assert_int_eq(pg.rows, 5);
    ck_assert_uint_eq(pg.entries, 2);
    ck_assert_uint_eq(pg.added, 2);
    ck_assert_uint_eq(strset_count(l->zones), 2);
    has("example.com");
    has("example.net");
    /* the next page accumulates; a repeated name counts once */
    parse_ok("  \n{\"0\":{\"domain\":\"example.org\"},\"1\":{\"domain\":\"example.com\"},"
             "\"info\":{\"total_pages\":\"3\",\"rows\":\"5\"}}",
             &pg);
    ck_assert_int_eq(pg.total_pages, 3);
    ck_assert_int_eq(pg.rows, 5);
    ck_assert_uint_eq(pg.entries, 2);
    ck_assert_uint_eq(pg.added, 1);
    ck_assert_uint_eq(strset_count(l->zones), 3);
    ck_assert_uint_eq(l->entries, 4);
    ck_assert_uint_eq(l->invalid, 0);
    has("example.org");
}
END_TEST

START_TEST(json_names_normalized)
{
    struct dalist_page pg;

    parse_ok("{\"0\":{\"domain\":\"Example.COM\"},\"1\":{\"domain\":\"sub.example.net.\"},"
             "\"2\":{\"domain\":\"XN--BCHER-KVA.example\"},\"info\":{\"total_pages\":1}}",
             &pg);
    ck_assert_uint_eq(strset_count(l->zones), 3);
    has("example.com");
    has("sub.example.net");
    has("xn--bcher-kva.example");
    ck_assert(!strset_has(l->zones, "Example.COM"));
}
END_TEST

START_TEST(json_invalid_names_warn)
{
    struct dalist_page pg;

    parse_ok("{\"0\":{\"domain\":\"good.example\"},\"1\":{\"domain\":\"bad..example\"},"
             "\"2\":{\"domain\":\"\"},\"3\":{\"domain\":\"a b.example\"},\"4\":{\"domain\":7},"
             "\"5\":{\"name\":\"x.example\"},\"6\":\"y.example\",\"7\":{\"domain\":\"com\"},"
             "\"8\":{\"domain\":\"a\\u0000b.example\"},\"info\":{\"total_pages\":1}}",
             &pg);
    ck_assert_uint_eq(strset_count(l->zones), 1);
    has("good.example");
    ck_assert_uint_eq(pg.entries, 9);
    ck_assert_uint_eq(pg.added, 1);
    ck_assert_uint_eq(l->invalid, 8);
    ck_assert_uint_eq(l->n_warnings, 8);
    ck_assert_ptr_nonnull(strstr(l->warnings[0], "bad..example"));
    ck_assert_str_eq(l->warnings[1], "invalid zone name: empty");
    ck_assert_str_eq(l->warnings[3], "entry \"4\": no \"domain\" string");
    ck_assert_str_eq(l->warnings[4], "entry \"5\": no \"domain\" string");
    ck_assert_str_eq(l->warnings[5], "entry \"6\": not an object");
}
END_TEST

START_TEST(json_warnings_bounded)
{
    size_t size = 200 * 40, o = 0, i;
    char *body = malloc(size);

    ck_assert_ptr_nonnull(body);
    o += (size_t)snprintf(body + o, size - o, "{");
    for (i = 0; i < 200; i++)
        o +=
            (size_t)snprintf(body + o, size - o, "\"%zu\":{\"domain\":\"-bad%zu.example\"},", i, i);
    snprintf(body + o, size - o, "\"info\":{\"total_pages\":1}}");
    parse_ok(body, NULL);
    ck_assert_uint_eq(l->invalid, 200);
    ck_assert_uint_eq(l->n_warnings, DALIST_MAX_WARNINGS);
    ck_assert_uint_eq(strset_count(l->zones), 0);
    free(body);
}
END_TEST

START_TEST(json_info_variants)
{
    struct dalist_page pg;
    struct err e;

    /* no info: total unknown */
    parse_ok("{\"0\":{\"domain\":\"a.example\"}}", &pg);
    ck_assert_int_eq(pg.total_pages, -1);
    ck_assert_int_eq(pg.rows, -1);
    ck_assert_uint_eq(pg.entries, 1);
    /* info without total_pages; rows not a number is ignored */
    parse_ok("{\"0\":{\"domain\":\"b.example\"},\"info\":{\"rows\":\"many\"}}", &pg);
    ck_assert_int_eq(pg.total_pages, -1);
    ck_assert_int_eq(pg.rows, -1);
    /* info that is not an object is ignored */
    parse_ok("{\"info\":[1,2]}", &pg);
    ck_assert_int_eq(pg.total_pages, -1);
    /* total_pages 0: nothing listed at all */
    parse_ok("{\"info\":{\"total_pages\":0,\"rows\":0}}", &pg);
    ck_assert_int_eq(pg.total_pages, 0);
    ck_assert_int_eq(pg.rows, 0);
    ck_assert_uint_eq(pg.entries, 0);
    /* an empty object: an empty page */
    parse_ok("{}", &pg);
    ck_assert_uint_eq(pg.entries, 0);
    ck_assert_uint_eq(strset_count(l->zones), 2);
    /* a bad total_pages is an error: paging cannot be trusted */
    ck_assert_int_eq(parse("{\"info\":{\"total_pages\":\"x\"}}", &pg, &e), DADNS_EPARAM);
    ck_assert_str_eq(e.text, "the zone list's info.total_pages is not a non-negative number");
    ck_assert_int_eq(parse("{\"info\":{\"total_pages\":-1}}", &pg, &e), DADNS_EPARAM);
    ck_assert_int_eq(parse("{\"info\":{\"total_pages\":1.5}}", &pg, &e), DADNS_EPARAM);
    ck_assert_int_eq(parse("{\"info\":{\"total_pages\":\"2 \"}}", &pg, &e), DADNS_EPARAM);
}
END_TEST

START_TEST(json_malformed)
{
    struct err e;

    ck_assert_int_eq(parse("{\"0\":{\"domain\":\"a.example\"}", NULL, &e), DADNS_EPARAM);
    ck_assert_ptr_nonnull(strstr(e.text, "malformed JSON in the zone list at line 1"));
    ck_assert_uint_eq(e.line, 1);
    ck_assert_int_eq(parse("{\"0\":{\"domain\":\"a.example\"}} trailing", NULL, &e), DADNS_EPARAM);
    ck_assert_int_eq(parse("{'0': 1}", NULL, &e), DADNS_EPARAM);
    ck_assert_int_eq(parse("{\n\n  \"0\": }", NULL, &e), DADNS_EPARAM);
    ck_assert_uint_eq(e.line, 3);
    ck_assert_int_eq(parse("{\"0\":{\"domain\":\"\xff.example\"}}", NULL, &e), DADNS_EPARAM);
}
END_TEST

START_TEST(json_error_answer)
{
    struct err e;

    ck_assert_int_eq(parse("{\"error\":\"Could not execute your request\",\"result\":\"You cannot "
                           "access that\"}",
                           NULL, &e),
                     DADNS_EDENIED);
    ck_assert_str_eq(e.text, "DirectAdmin refused the listing: Could not execute your request: "
                             "You cannot access that");
    ck_assert_int_eq(parse("{\"error\":1}", NULL, &e), DADNS_EDENIED);
    ck_assert_str_eq(e.text, "DirectAdmin refused the listing: error");
    ck_assert_int_eq(parse("{\"error\":true,\"text\":\"no\\nway\"}", NULL, &e), DADNS_EDENIED);
    ck_assert_str_eq(e.text, "DirectAdmin refused the listing: error: no way");
    /* an error member that says "no error" is ignored */
    ck_assert_int_eq(parse("{\"error\":\"0\",\"info\":{\"total_pages\":1}}", NULL, &e), 0);
    ck_assert_int_eq(parse("{\"error\":0,\"0\":{\"domain\":\"a.example\"}}", NULL, &e), 0);
    ck_assert_int_eq(parse("{\"error\":null}", NULL, &e), 0);
    ck_assert_int_eq(parse("{\"error\":false}", NULL, &e), 0);
    has("a.example");
}
END_TEST

START_TEST(json_not_object)
{
    struct err e;

    ck_assert_int_eq(parse("[\"a.example\"]", NULL, &e), DADNS_EPARAM);
    ck_assert_int_eq(parse("[]", NULL, &e), DADNS_EPARAM);
    ck_assert_int_eq(parse("\"a.example\"", NULL, &e), DADNS_EPARAM);
    ck_assert_uint_eq(strset_count(l->zones), 0);
}
END_TEST

START_TEST(json_bom)
{
    parse_ok("\xEF\xBB\xBF{\"0\":{\"domain\":\"bom.example\"}}", NULL);
    has("bom.example");
}
END_TEST

/* ---- legacy ------------------------------------------------------------------------------ */

START_TEST(legacy_list)
{
    struct dalist_page pg;

    parse_ok("list[]=a.example&list[]=B.Example&list%5B%5D=c.example.&list[]=&list=d.example\n",
             &pg);
    ck_assert_int_eq(pg.format, DALIST_LEGACY);
    ck_assert_int_eq(pg.total_pages, 1);
    ck_assert_int_eq(pg.rows, -1);
    ck_assert_uint_eq(pg.entries, 4);
    ck_assert_uint_eq(strset_count(l->zones), 4);
    has("a.example");
    has("b.example");
    has("c.example");
    has("d.example");
}
END_TEST

START_TEST(legacy_invalid_and_extra)
{
    struct dalist_page pg;

    parse_ok("&&list[]=ok.example&list[]=bad%20name.example&list[]=x%00y.example&other=1&"
             "list[]=-x.example&&",
             &pg);
    ck_assert_uint_eq(strset_count(l->zones), 1);
    ck_assert_uint_eq(pg.entries, 4);
    ck_assert_uint_eq(l->invalid, 3);
    ck_assert_uint_eq(l->n_warnings, 3);
}
END_TEST

START_TEST(legacy_big)
{
    /* far more pairs than one form holds */
    size_t n = 20000, size = n * 32, i, o = 0;
    char *body = malloc(size);

    ck_assert_ptr_nonnull(body);
    for (i = 0; i < n; i++)
        o += (size_t)snprintf(body + o, size - o, "%slist[]=zone%zu.example", i ? "&" : "", i);
    ck_assert_int_eq(dalist_parse(l, body, o, NULL, NULL), 0);
    ck_assert_uint_eq(strset_count(l->zones), n);
    has("zone19999.example");
    free(body);
}
END_TEST

START_TEST(legacy_errors)
{
    struct dalist_page pg;
    struct err e;

    ck_assert_int_eq(parse("error=1&text=Login+failed&details=bad+password", &pg, &e),
                     DADNS_EDENIED);
    ck_assert_str_eq(e.text, "DirectAdmin refused the listing: error: Login failed");
    ck_assert_int_eq(parse("error=Permission+denied", &pg, &e), DADNS_EDENIED);
    ck_assert_str_eq(e.text, "DirectAdmin refused the listing: Permission denied");
    ck_assert_int_eq(parse("error=0&text=OK", &pg, &e), DADNS_EPARAM);
    ck_assert_str_eq(e.text, "the answer is not a zone list: OK");
    ck_assert_int_eq(parse("Hello world", &pg, &e), DADNS_EPARAM);
    ck_assert_str_eq(e.text, "the answer is not a zone list (no list[] entry)");
    ck_assert_int_eq(parse("list[]=a%zz.example", &pg, &e), DADNS_EPARAM);
    ck_assert_ptr_nonnull(strstr(e.text, "malformed zone list"));
    ck_assert_uint_eq(strset_count(l->zones), 0);
}
END_TEST

START_TEST(legacy_empty)
{
    struct dalist_page pg;

    parse_ok("", &pg);
    ck_assert_int_eq(pg.format, DALIST_LEGACY);
    ck_assert_uint_eq(pg.entries, 0);
    parse_ok(" \r\n", &pg);
    ck_assert_uint_eq(pg.entries, 0);
    ck_assert_int_eq(dalist_parse(l, NULL, 0, &pg, NULL), 0);
    ck_assert_uint_eq(strset_count(l->zones), 0);
}
END_TEST

/* ---- HTML -------------------------------------------------------------------------------- */

START_TEST(html_page)
{
    struct err e;

    ck_assert_int_eq(parse("<!DOCTYPE html><html><body>Login</body></html>", NULL, &e),
                     DADNS_EDENIED);
    ck_assert_str_eq(e.text, "DirectAdmin answered with an HTML page (a login page?): check the "
                             "user, the password and that the account is admin-level");
    ck_assert_int_eq(parse("\n\n  <html>", NULL, &e), DADNS_EDENIED);
    ck_assert_int_eq(parse("<?xml version=\"1.0\"?>", NULL, &e), DADNS_EDENIED);
}
END_TEST

START_TEST(free_null)
{
    struct dalist *x = NULL;

    dalist_free(NULL);
    ck_assert_int_eq(dalist_new(&x), 0);
    ck_assert_ptr_nonnull(x->zones);
    ck_assert_uint_eq(x->entries, 0);
    dalist_free(x);
}
END_TEST

static Suite *dalist_suite(void)
{
    Suite *s = suite_create("dalist");
    TCase *tc;

    tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, json_page);
    tcase_add_test(tc, json_names_normalized);
    tcase_add_test(tc, json_invalid_names_warn);
    tcase_add_test(tc, json_warnings_bounded);
    tcase_add_test(tc, json_info_variants);
    tcase_add_test(tc, json_malformed);
    tcase_add_test(tc, json_error_answer);
    tcase_add_test(tc, json_not_object);
    tcase_add_test(tc, json_bom);
    suite_add_tcase(s, tc);

    tc = tcase_create("legacy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, legacy_list);
    tcase_add_test(tc, legacy_invalid_and_extra);
    tcase_add_test(tc, legacy_big);
    tcase_add_test(tc, legacy_errors);
    tcase_add_test(tc, legacy_empty);
    suite_add_tcase(s, tc);

    tc = tcase_create("html");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, html_page);
    tcase_add_test(tc, free_null);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dalist_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
