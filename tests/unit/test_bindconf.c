/* test_bindconf.c -- Check suite for services/writer-bind/bindconf.c: zone paths and their
 * refusals, the include text (render, parse back, strict errors with line numbers) and zone
 * file contents. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindconf.h"
#include "buf.h"
#include "err.h"
#include "name.h"
#include "strset.h"

#define DIR "/var/lib/dadns/zones"

static struct strset *set;
static struct buf out;

static void setup(void)
{
    ck_assert_int_eq(strset_new(&set), 0);
    buf_init(&out, 1 << 24);
}

static void teardown(void)
{
    strset_free(set);
    set = NULL;
    buf_free(&out);
}

/* ---- paths ---- */

START_TEST(path_ok)
{
    char p[BINDCONF_PATH_SIZE], f[300];
    struct err e;

    ck_assert_int_eq(bindconf_zone_path(DIR, "example.com", p, sizeof(p), &e), 0);
    ck_assert_str_eq(p, DIR "/example.com.db");
    ck_assert_int_eq(bindconf_zone_path(DIR "//", "xn--bcher-kva.example", p, sizeof(p), &e), 0);
    ck_assert_str_eq(p, DIR "/xn--bcher-kva.example.db");
    ck_assert_int_eq(bindconf_zone_path("/", "a.example", p, sizeof(p), &e), 0);
    ck_assert_str_eq(p, "/a.example.db");
    ck_assert_int_eq(bindconf_zone_file("sub.example.org", f, sizeof(f), &e), 0);
    ck_assert_str_eq(f, "sub.example.org.db");
}
END_TEST

START_TEST(path_refuses_bad_names)
{
    static const char *bad[] = {
        "",     "example",  "../etc.example", "a/b.example", "Example.com", "example.com.",
        "a..b", "a b.test", "a\"b.test",      "a\\b.test",   "x_y.example", "*.example.com",
    };
    char p[BINDCONF_PATH_SIZE];
    struct err e;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        ck_assert_msg(bindconf_zone_path(DIR, bad[i], p, sizeof(p), &e) == DADNS_ENAME,
                      "accepted \"%s\"", bad[i]);
        ck_assert_msg(e.text[0] != '\0', "no reason for \"%s\"", bad[i]);
    }
    /* normalized-form check says what the form would be */
    bindconf_zone_path(DIR, "Example.com", p, sizeof(p), &e);
    ck_assert_ptr_nonnull(strstr(e.text, "example.com"));
}
END_TEST

START_TEST(path_too_long_for_a_file_name)
{
    char zone[NAME_BUF_SIZE], f[300];
    struct err e;
    size_t i;

    /* 4 labels of 62 + 1 of 1..: build a 253-octet valid name */
    memset(zone, 'a', sizeof(zone));
    for (i = 62; i < 253; i += 63)
        zone[i] = '.';
    zone[253] = '\0';
    zone[252] = 'z';
    ck_assert_int_eq(bindconf_zone_file(zone, f, sizeof(f), &e), DADNS_ENAME);
    ck_assert_ptr_nonnull(strstr(e.text, "too long"));
    ck_assert_int_eq(bindconf_zone_file("example.com", f, 5, &e), DADNS_ETOOBIG);
}
END_TEST

START_TEST(dir_checks)
{
    struct err e;

    ck_assert_int_eq(bindconf_check_dir(DIR, &e), 0);
    ck_assert_int_eq(bindconf_check_dir("/srv/dns zones", &e), 0);
    ck_assert_int_eq(bindconf_check_dir("", &e), DADNS_ECONFIG);
    ck_assert_int_eq(bindconf_check_dir(NULL, &e), DADNS_ECONFIG);
    ck_assert_int_eq(bindconf_check_dir("zones", &e), DADNS_ECONFIG);
    ck_assert_ptr_nonnull(strstr(e.text, "absolute"));
    ck_assert_int_eq(bindconf_check_dir("/a\"b", &e), DADNS_ECONFIG);
    ck_assert_int_eq(bindconf_check_dir("/a\\b", &e), DADNS_ECONFIG);
    ck_assert_int_eq(bindconf_check_dir("/a\nb", &e), DADNS_ECONFIG);
    ck_assert_int_eq(bindconf_check_dir("/\xc3\xa9t\xc3\xa9", &e), DADNS_ECONFIG);
}
END_TEST

/* ---- include ---- */

START_TEST(render_empty)
{
    struct err e;

    ck_assert_int_eq(bindconf_render_include(set, DIR, &out, &e), 0);
    ck_assert_str_eq(out.data, BINDCONF_HEADER);
}
END_TEST

START_TEST(render_sorted)
{
    struct err e;

    strset_add(set, "b.example");
    strset_add(set, "a.example");
    strset_add(set, "a.example.org");
    ck_assert_int_eq(bindconf_render_include(set, DIR "/", &out, &e), 0);
    ck_assert_str_eq(out.data, BINDCONF_HEADER
                     "zone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };\n"
                     "zone \"a.example.org\" { type primary; file \"" DIR
                     "/a.example.org.db\"; };\n"
                     "zone \"b.example\" { type primary; file \"" DIR "/b.example.db\"; };\n");
}
END_TEST

START_TEST(render_refuses_bad_member)
{
    struct err e;

    strset_add(set, "ok.example");
    strset_add(set, "../x.example");
    ck_assert_int_eq(bindconf_render_include(set, DIR, &out, &e), DADNS_ENAME);
    buf_reset(&out);
    strset_del(set, "../x.example");
    ck_assert_int_eq(bindconf_render_include(set, "relative", &out, &e), DADNS_ECONFIG);
}
END_TEST

START_TEST(render_limit)
{
    struct buf small;
    struct err e;

    buf_init(&small, 100);
    strset_add(set, "a.example");
    ck_assert_int_eq(bindconf_render_include(set, DIR, &small, &e), DADNS_ETOOBIG);
    buf_free(&small);
}
END_TEST

START_TEST(parse_roundtrip)
{
    struct strset *back = NULL;
    struct err e;
    char name[64];
    size_t i;

    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "zone%zu.example", i);
        strset_add(set, name);
    }
    ck_assert_int_eq(bindconf_render_include(set, DIR, &out, &e), 0);
    ck_assert_int_eq(strset_new(&back), 0);
    ck_assert_int_eq(bindconf_parse_include(out.data, out.len, DIR, back, &e), 0);
    ck_assert_uint_eq(strset_count(back), 1000);
    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "zone%zu.example", i);
        ck_assert(strset_has(back, name));
    }
    strset_free(back);
}
END_TEST

START_TEST(parse_lenient_bits)
{
    static const char last_no_nl[] =
        "// any comment\nzone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };";
    struct err e;

    ck_assert_int_eq(bindconf_parse_include("", 0, DIR, set, &e), 0);
    ck_assert_uint_eq(strset_count(set), 0);
    ck_assert_int_eq(bindconf_parse_include(BINDCONF_HEADER, strlen(BINDCONF_HEADER), DIR, set, &e),
                     0);
    ck_assert_uint_eq(strset_count(set), 0);
    ck_assert_int_eq(bindconf_parse_include(last_no_nl, strlen(last_no_nl), DIR "/", set, &e), 0);
    ck_assert(strset_has(set, "a.example"));
}
END_TEST

/* Each case: text, expected line of the error, a fragment of the message. */
static const struct {
    const char *text;
    unsigned long line;
    const char *what;
} bad_includes[] = {
    {"// h\n\nzone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };\n", 2,
     "not a dadns zone line"},
    {"zone \"a.example\" { type master; file \"" DIR "/a.example.db\"; };\n", 1,
     "not a dadns zone line"},
    {"zone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; }; \n", 1,
     "not a dadns zone line"},
    {"zone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };\r\n", 1,
     "not a dadns zone line"},
    {"include \"/etc/other.conf\";\n", 1, "not a dadns zone line"},
    {"# comment\n", 1, "not a dadns zone line"},
    {"zone \"a.example\" { type primary; file \"/elsewhere/a.example.db\"; };\n", 1, "zones_dir"},
    {"zone \"a.example\" { type primary; file \"" DIR "/b.example.db\"; };\n", 1, "zones_dir"},
    {"zone \"A.example\" { type primary; file \"" DIR "/A.example.db\"; };\n", 1, "normalized"},
    {"zone \"../x\" { type primary; file \"" DIR "/../x.db\"; };\n", 1, ""},
    {"zone \"\" { type primary; file \"" DIR "/.db\"; };\n", 1, "length"},
    {"zone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };\n"
     "// between\n"
     "zone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };\n",
     3, "twice"},
    {"zone \"a.example\" { type primary; file \"" DIR "/a.example.db\"; };\n"
     "zone \"b.example\" { type primary; file \"" DIR "/b.example.db\";\n",
     2, "not a dadns zone line"},
};

START_TEST(parse_errors)
{
    const char *text = bad_includes[_i].text;
    struct err e;
    int rc;

    err_clear(&e);
    rc = bindconf_parse_include(text, strlen(text), DIR, set, &e);
    ck_assert_msg(rc == DADNS_ECONFIG, "case %d: rc %d", _i, rc);
    ck_assert_msg(e.line == bad_includes[_i].line, "case %d: line %lu, want %lu (%s)", _i, e.line,
                  bad_includes[_i].line, e.text);
    ck_assert_msg(strstr(e.text, bad_includes[_i].what) != NULL, "case %d: message \"%s\"", _i,
                  e.text);
}
END_TEST

START_TEST(parse_nul_byte)
{
    static const char text[] =
        "zone \"a.exa\0mple\" { type primary; file \"" DIR "/a.example.db\"; };\n";
    struct err e;

    ck_assert_int_eq(bindconf_parse_include(text, sizeof(text) - 1, DIR, set, &e), DADNS_ECONFIG);
    ck_assert_uint_eq(e.line, 1);
}
END_TEST

/* ---- zone files ---- */

START_TEST(zone_content)
{
    static const char text[] = "$TTL 300\n@ IN SOA ns1 h 7 1 1 1 1\n";
    struct err e;

    ck_assert_int_eq(bindconf_render_zone("example.com", 42, 7, text, strlen(text), &out, &e), 0);
    ck_assert_str_eq(out.data, "; zone example.com version 42 serial 7 written by dadns\n"
                               "$TTL 300\n@ IN SOA ns1 h 7 1 1 1 1\n");
    buf_reset(&out);
    ck_assert_int_eq(bindconf_render_zone("example.com", 18446744073709551615ULL, 4294967295U,
                                          "@ IN NS ns1", 11, &out, &e),
                     0);
    ck_assert_str_eq(out.data, "; zone example.com version 18446744073709551615 serial "
                               "4294967295 nl=1 written by dadns\n@ IN NS ns1\n");
    buf_reset(&out);
    ck_assert_int_eq(bindconf_render_zone("example.com", 1, 0, "", 0, &out, &e), 0);
    ck_assert_str_eq(out.data, "; zone example.com version 1 serial 0 written by dadns\n");
}
END_TEST

START_TEST(zone_content_errors)
{
    struct buf small;
    struct err e;

    ck_assert_int_eq(bindconf_render_zone("bad\nname.example", 1, 1, "x\n", 2, &out, &e),
                     DADNS_ENAME);
    buf_init(&small, 60);
    ck_assert_int_eq(bindconf_render_zone("example.com", 1, 1, "0123456789", 10, &small, &e),
                     DADNS_ETOOBIG);
    buf_free(&small);
}
END_TEST

static Suite *bindconf_suite(void)
{
    Suite *su = suite_create("bindconf");
    TCase *tc;

    tc = tcase_create("paths");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, path_ok);
    tcase_add_test(tc, path_refuses_bad_names);
    tcase_add_test(tc, path_too_long_for_a_file_name);
    tcase_add_test(tc, dir_checks);
    suite_add_tcase(su, tc);

    tc = tcase_create("include");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, render_empty);
    tcase_add_test(tc, render_sorted);
    tcase_add_test(tc, render_refuses_bad_member);
    tcase_add_test(tc, render_limit);
    tcase_add_test(tc, parse_roundtrip);
    tcase_add_test(tc, parse_lenient_bits);
    tcase_add_loop_test(tc, parse_errors, 0, (int)(sizeof(bad_includes) / sizeof(bad_includes[0])));
    tcase_add_test(tc, parse_nul_byte);
    suite_add_tcase(su, tc);

    tc = tcase_create("zonefile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, zone_content);
    tcase_add_test(tc, zone_content_errors);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(bindconf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
