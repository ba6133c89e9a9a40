/* test_name.c -- unit tests of common/name.c: zone-name normalization, parent, containment.
 *
 * Every refusal is checked for its code and for a message that quotes the input safely. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

/* Normalize NUL-terminated @in; returns the code and leaves the result in @out. */
static int norm(const char *in, char out[NAME_BUF_SIZE], struct err *e)
{
    err_clear(e);
    return name_normalize(in, strlen(in), out, e);
}

static void accept_as(const char *in, const char *want)
{
    char out[NAME_BUF_SIZE];
    struct err e;
    int rc = norm(in, out, &e);

    ck_assert_msg(rc == 0, "\"%s\" refused: %s", in, e.text);
    ck_assert_str_eq(out, want);
}

static void refuse(const char *in)
{
    char out[NAME_BUF_SIZE];
    struct err e;
    int rc = norm(in, out, &e);

    ck_assert_msg(rc == DADNS_ENAME, "\"%s\" accepted (rc %d)", in, rc);
    ck_assert_int_eq(e.code, DADNS_ENAME);
    ck_assert_msg(strstr(e.text, "invalid zone name") != NULL, "message: %s", e.text);
}

START_TEST(test_accepts_plain)
{
    accept_as("example.com", "example.com");
    accept_as("a.b.example.com", "a.b.example.com");
    accept_as("ex-ample.co.uk", "ex-ample.co.uk");
    accept_as("0.2.0.192.in-addr.arpa", "0.2.0.192.in-addr.arpa");
    accept_as("1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    accept_as("123.com", "123.com");
    accept_as("a.io", "a.io");
}
END_TEST

START_TEST(test_lowercases_and_drops_dot)
{
    accept_as("ExAmPle.COM", "example.com");
    accept_as("example.com.", "example.com");
    accept_as("WWW.Example.Com.", "www.example.com");
}
END_TEST

START_TEST(test_punycode)
{
    accept_as("xn--bcher-kva.example", "xn--bcher-kva.example");
    accept_as("XN--BCHER-KVA.example", "xn--bcher-kva.example");
    accept_as("www.xn--80ak6aa92e.com", "www.xn--80ak6aa92e.com");
    refuse("ab--cd.example");
    refuse("a---.example");
    accept_as("a-b-c.example", "a-b-c.example");
    accept_as("ab-cd--e.example", "ab-cd--e.example");
}
END_TEST

START_TEST(test_refuses_shapes)
{
    refuse("");
    refuse(".");
    refuse("..");
    refuse("com");
    refuse("com.");
    refuse("example..com");
    refuse(".example.com");
    refuse("example.com..");
    refuse("-example.com");
    refuse("example-.com");
    refuse("example.-com");
    refuse("example.123");
    refuse("192.0.2.1");
}
END_TEST

START_TEST(test_refuses_characters)
{
    static const char *const bad[] = {
        "ex ample.com", "exa/mple.com",       "../etc/passwd", "ex\"ample.com",
        "ex'ample.com", "_dmarc.example.com", "*.example.com", "ex\\ample.com",
        "exa;mple.com", "exämple.com",        "ex\tample.com", "ex\nample.com",
        "example.com/", "example.com;rm",     "ex}ample.com",  "ex$ample.com",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refuse(bad[i]);
}
END_TEST

START_TEST(test_refuses_nul_and_quotes_it)
{
    static const char in[] = "exa\0mple.com";
    char out[NAME_BUF_SIZE];
    struct err e;
    int rc;

    err_clear(&e);
    rc = name_normalize(in, sizeof(in) - 1, out, &e);
    ck_assert_int_eq(rc, DADNS_ENAME);
    ck_assert_msg(strstr(e.text, "exa\\000mple.com") != NULL, "message: %s", e.text);
    ck_assert_msg(strchr(e.text, '\n') == NULL, "message: %s", e.text);
}
END_TEST

START_TEST(test_quotes_control_bytes)
{
    char out[NAME_BUF_SIZE];
    struct err e;
    size_t i;

    ck_assert_int_eq(norm("bad\r\nname.com", out, &e), DADNS_ENAME);
    ck_assert_msg(strstr(e.text, "\\013\\010") != NULL, "message: %s", e.text);
    ck_assert_int_eq(norm("a\"b.com", out, &e), DADNS_ENAME);
    ck_assert_msg(strstr(e.text, "a\\034b") != NULL, "message: %s", e.text);
    for (i = 0; e.text[i] != '\0'; i++)
        ck_assert_msg((unsigned char)e.text[i] >= 0x20 && (unsigned char)e.text[i] < 0x7f,
                      "unprintable byte in message");
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    char out[NAME_BUF_SIZE];
    struct err e;

    /* only the first 11 octets count */
    ck_assert_int_eq(name_normalize("example.comXYZ", 11, out, &e), 0);
    ck_assert_str_eq(out, "example.com");
}
END_TEST

START_TEST(test_lengths)
{
    char in[400], out[NAME_BUF_SIZE];
    struct err e;
    size_t i;

    /* 63-octet label fine, 64 refused */
    memset(in, 'a', 63);
    memcpy(in + 63, ".com", 5);
    ck_assert_int_eq(norm(in, out, &e), 0);
    memset(in, 'a', 64);
    memcpy(in + 64, ".com", 5);
    ck_assert_int_eq(norm(in, out, &e), DADNS_ENAME);
    ck_assert_msg(strstr(e.text, "63") != NULL, "message: %s", e.text);
    ck_assert_msg(strlen(e.text) < 300, "the quote is bounded");

    /* 253 octets fine (with or without the dot), 254 refused */
    for (i = 0; i < 253; i++)
        in[i] = (i % 2) ? '.' : 'a';
    in[252] = 'b';
    in[253] = '\0';
    ck_assert_int_eq(norm(in, out, &e), 0);
    ck_assert_uint_eq(strlen(out), 253);
    in[253] = '.';
    in[254] = '\0';
    ck_assert_int_eq(norm(in, out, &e), 0);
    in[253] = 'c';
    ck_assert_int_eq(norm(in, out, &e), DADNS_ENAME);
}
END_TEST

START_TEST(test_null_err_ok)
{
    char out[NAME_BUF_SIZE];

    ck_assert_int_eq(name_normalize("bad name", 8, out, NULL), DADNS_ENAME);
    ck_assert_int_eq(name_normalize("good.name", 9, out, NULL), 0);
}
END_TEST

START_TEST(test_parent)
{
    ck_assert_str_eq(name_parent("a.b.example.com"), "b.example.com");
    ck_assert_str_eq(name_parent("example.com"), "com");
    ck_assert_ptr_null(name_parent("com"));
}
END_TEST

START_TEST(test_is_within)
{
    ck_assert(name_is_within("example.com", "example.com"));
    ck_assert(name_is_within("www.example.com", "example.com"));
    ck_assert(name_is_within("a.b.example.com", "example.com"));
    ck_assert(!name_is_within("badexample.com", "example.com"));
    ck_assert(!name_is_within("example.com", "www.example.com"));
    ck_assert(!name_is_within("example.org", "example.com"));
    ck_assert(!name_is_within("com", "example.com"));
    ck_assert(name_is_within("example.com", ""));
}
END_TEST

static Suite *name_suite(void)
{
    Suite *s = suite_create("name");
    TCase *tc;

    tc = tcase_create("normalize_accepts");
    tcase_add_test(tc, test_accepts_plain);
    tcase_add_test(tc, test_lowercases_and_drops_dot);
    tcase_add_test(tc, test_punycode);
    tcase_add_test(tc, test_not_nul_terminated);
    tcase_add_test(tc, test_lengths);
    suite_add_tcase(s, tc);

    tc = tcase_create("normalize_refuses");
    tcase_add_test(tc, test_refuses_shapes);
    tcase_add_test(tc, test_refuses_characters);
    tcase_add_test(tc, test_refuses_nul_and_quotes_it);
    tcase_add_test(tc, test_quotes_control_bytes);
    tcase_add_test(tc, test_null_err_ok);
    suite_add_tcase(s, tc);

    tc = tcase_create("relations");
    tcase_add_test(tc, test_parent);
    tcase_add_test(tc, test_is_within);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(name_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
