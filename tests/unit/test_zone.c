/* test_zone.c -- unit tests of common/zone.c: every data case under $DADNS_TEST_DATA/zones
 * (NN_topic.zone + NN_topic.expect), then API behaviour the data cases cannot show (reuse,
 * unterminated input, error fields, size). The data cases also run against named-checkzone
 * in tests/e2e/zone_vs_named.sh. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "datacase.h"
#include "zone.h"

#define MAX_ZONE ((size_t)1024 * 1024)

static struct datacase_set g_set; /* $DADNS_TEST_DATA/zones and its case stems */
static struct zone_checker *g_zc; /* shared by the data cases, as ingest shares one */

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                      */

static const char SAMPLE[] = "$TTL 3600\n"
                             "@\tIN\tSOA\tns1.example.net. hostmaster.example.com. (\n"
                             "\t\t2024010101 3600 600 1209600 300 )\n"
                             "@\tIN\tNS\tns1.example.net.\n"
                             "@\tIN\tNS\tns2.example.net.\n"
                             "@\tIN\tA\t192.0.2.10\n"
                             "www\tIN\tA\t192.0.2.10\n"
                             "mail\tIN\tA\t192.0.2.11\n"
                             "@\tIN\tMX\t10 mail\n";

/* ------------------------------------------------------------------------------------------ */
/* Data cases                                                                                   */

START_TEST(test_data_case)
{
    const char *stem = g_set.stems[_i];
    char path[4096], origin[300], want_text[512];
    char *zone = NULL, *expect = NULL, *nl;
    size_t zlen = 0, elen = 0;
    struct zone_info info = {0, 0};
    struct err e;
    int rc;

    snprintf(path, sizeof(path), "%s/%s.zone", g_set.dir, stem);
    zone = datacase_read(path, MAX_ZONE, &zlen);
    ck_assert_msg(zone != NULL, "%s: cannot read %s", stem, path);
    snprintf(path, sizeof(path), "%s/%s.expect", g_set.dir, stem);
    expect = datacase_read(path, MAX_ZONE, &elen);
    ck_assert_msg(expect != NULL, "%s: missing %s", stem, path);
    nl = strchr(expect, '\n');
    if (nl != NULL)
        *nl = '\0';
    ck_assert_msg(datacase_origin(zone, origin, sizeof(origin)) == 0,
                  "%s: first line must be \"; origin: NAME\"", stem);

    err_clear(&e);
    rc = zone_check(g_zc, origin, zone, zlen, &info, &e);
    if (strncmp(expect, "ok", 2) == 0) {
        unsigned long serial = 0, records = 0;
        char *end = NULL;
        bool parsed = false;

        if (strncmp(expect, "ok serial=", 10) == 0) {
            serial = strtoul(expect + 10, &end, 10);
            if (end != expect + 10 && strncmp(end, " records=", 9) == 0) {
                const char *p = end + 9;

                records = strtoul(p, &end, 10);
                parsed = end != p && *end == '\0';
            }
        }
        ck_assert_msg(parsed, "%s: bad expect line \"%s\"", stem, expect);
        ck_assert_msg(rc == 0, "%s: expected ok, got %d: %s", stem, rc, e.text);
        ck_assert_msg(info.serial == serial, "%s: serial %lu, expected %lu", stem,
                      (unsigned long)info.serial, serial);
        ck_assert_msg(info.records == records, "%s: %zu records, expected %lu", stem, info.records,
                      records);
    } else {
        ck_assert_msg(strncmp(expect, "error ", 6) == 0, "%s: bad expect line \"%s\"", stem,
                      expect);
        snprintf(want_text, sizeof(want_text), "%s", expect + 6);
        ck_assert_msg(rc == DADNS_EZONE, "%s: expected an error containing \"%s\", got %d", stem,
                      want_text, rc);
        ck_assert_int_eq(e.code, DADNS_EZONE);
        ck_assert_msg(strstr(e.text, want_text) != NULL, "%s: error \"%s\" lacks \"%s\"", stem,
                      e.text, want_text);
        /* "line N: ..." messages carry N in e.line too */
        if (strncmp(e.text, "line ", 5) == 0)
            ck_assert_uint_eq(e.line, strtoul(e.text + 5, NULL, 10));
    }
    free(zone);
    free(expect);
}
END_TEST

START_TEST(test_enough_cases)
{
    ck_assert_msg(g_set.n >= 40, "only %d data cases found in %s", g_set.n, g_set.dir);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* API                                                                                          */

START_TEST(test_reuse_after_error)
{
    static const char bad[] = "$TTL 60\n@ SOA ns.example.net. hm.example.net. 1 2 3 4 5\n@ NS "
                              "ns.example.net.\nx CNAME y\nx A 1.2.3.4\n";
    struct zone_checker *zc = NULL;
    struct zone_info info;
    struct err e;
    int i;

    ck_assert_int_eq(zone_checker_new(&zc), 0);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(zone_check(zc, "example.com", SAMPLE, strlen(SAMPLE), &info, &e), 0);
        ck_assert_uint_eq(info.serial, 2024010101u);
        ck_assert_uint_eq(info.records, 7);
        ck_assert_int_eq(zone_check(zc, "example.com", bad, strlen(bad), &info, &e), DADNS_EZONE);
        ck_assert_str_eq(e.text, "line 5: CNAME and other data at x.example.com");
        ck_assert_uint_eq(e.line, 5);
    }
    zone_checker_free(zc);
    zone_checker_free(NULL);
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    static const char junk[] = "x BAD RECORD((((";
    char *copy = malloc(sizeof(SAMPLE) + sizeof(junk));
    struct zone_info info;
    struct err e;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, SAMPLE, sizeof(SAMPLE) - 1);
    /* garbage right after the text must not be read */
    memcpy(copy + sizeof(SAMPLE) - 1, junk, sizeof(junk));
    ck_assert_int_eq(zone_check(g_zc, "example.com", copy, sizeof(SAMPLE) - 1, &info, &e), 0);
    ck_assert_uint_eq(info.records, 7);
    free(copy);
}
END_TEST

START_TEST(test_origin_forms)
{
    struct zone_info info;
    struct err e;

    ck_assert_int_eq(zone_check(g_zc, "example.com.", SAMPLE, strlen(SAMPLE), &info, &e), 0);
    ck_assert_int_eq(zone_check(g_zc, "EXAMPLE.com", SAMPLE, strlen(SAMPLE), &info, &e), 0);
    ck_assert_int_eq(zone_check(g_zc, "example.com", SAMPLE, strlen(SAMPLE), NULL, NULL), 0);
    ck_assert_int_eq(zone_check(g_zc, "bad name", SAMPLE, strlen(SAMPLE), &info, &e), DADNS_EINVAL);
    /* relative names follow the origin: the same text is a valid zone for another name */
    ck_assert_int_eq(zone_check(g_zc, "example.org", SAMPLE, strlen(SAMPLE), &info, &e), 0);
    ck_assert_int_eq(zone_check(g_zc, "example.com", "", 0, &info, &e), DADNS_EZONE);
    ck_assert_ptr_nonnull(strstr(e.text, "empty"));
}
END_TEST

START_TEST(test_include_never_opens)
{
    static const char inc[] =
        "$TTL 60\n@ SOA ns.example.net. hm.example.net. 1 2 3 4 5\n@ NS ns.example.net.\n"
        "$INCLUDE /dev/zero\n";
    struct zone_info info;
    struct err e;

    /* /dev/zero would never end if it were read */
    ck_assert_int_eq(zone_check(g_zc, "example.com", inc, strlen(inc), &info, &e), DADNS_EZONE);
    ck_assert_str_eq(e.text, "line 4: $INCLUDE is not allowed");
}
END_TEST

START_TEST(test_error_text_printable)
{
    static const char bad[] = "$TTL 60\n@ SOA ns.example.net. hm.example.net. 1 2 3 4 5\n@ NS "
                              "ns.example.net.\nx\tA\t1.2.3.\xff\n";
    struct zone_info info;
    struct err e;
    size_t i;

    ck_assert_int_eq(zone_check(g_zc, "example.com", bad, strlen(bad), &info, &e), DADNS_EZONE);
    ck_assert_uint_eq(e.line, 4);
    ck_assert_msg(strncmp(e.text, "line 4: ", 8) == 0, "text: %s", e.text);
    for (i = 0; e.text[i] != '\0'; i++)
        ck_assert_msg((unsigned char)e.text[i] >= 0x20 && (unsigned char)e.text[i] < 0x7f,
                      "unprintable byte in \"%s\"", e.text);
}
END_TEST

START_TEST(test_large_zone)
{
    struct zone_checker *zc = NULL;
    struct zone_info info;
    struct buf b;
    struct err e;
    int i;

    buf_init(&b, (size_t)8 * 1024 * 1024);
    ck_assert_int_eq(buf_appends(&b, SAMPLE), 0);
    for (i = 0; i < 20000; i++)
        ck_assert_int_eq(buf_printf(&b, "h%d\t300\tIN\tA\t10.%d.%d.%d\nh%d\tTXT\t\"n=%d\"\n", i,
                                    i >> 16, (i >> 8) & 255, i & 255, i, i),
                         0);
    ck_assert_int_eq(zone_checker_new(&zc), 0);
    ck_assert_int_eq(zone_check(zc, "example.com", b.data, b.len, &info, &e), 0);
    ck_assert_uint_eq(info.records, 7 + 40000);
    /* one CNAME clash at the very end is still found */
    ck_assert_int_eq(buf_appends(&b, "h7 CNAME www\n"), 0);
    ck_assert_int_eq(zone_check(zc, "example.com", b.data, b.len, &info, &e), DADNS_EZONE);
    ck_assert_ptr_nonnull(strstr(e.text, "CNAME and other data at h7.example.com"));
    zone_checker_free(zc);
    buf_free(&b);
}
END_TEST

static Suite *zone_suite(void)
{
    Suite *s = suite_create("zone");
    TCase *tc;

    tc = tcase_create("data_cases");
    tcase_add_test(tc, test_enough_cases);
    tcase_add_loop_test(tc, test_data_case, 0, g_set.n);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_test(tc, test_reuse_after_error);
    tcase_add_test(tc, test_not_nul_terminated);
    tcase_add_test(tc, test_origin_forms);
    tcase_add_test(tc, test_include_never_opens);
    tcase_add_test(tc, test_error_text_printable);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);

    tc = tcase_create("size");
    tcase_add_test(tc, test_large_zone);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failures;

    datacase_collect(&g_set, "zones");
    if (zone_checker_new(&g_zc) != 0)
        return 1;
    sr = srunner_create(zone_suite());
    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    zone_checker_free(g_zc);
    datacase_release(&g_set);
    return failures ? 1 : 0;
}
