/* test_buf.c -- Check suite for common/buf.c: the hard limit (DADNS_ETOOBIG leaves the content
 * as it was), growth, NUL termination, printf, reset and free. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"

/* ---- basics ------------------------------------------------------------------------------ */

START_TEST(basic_init_allocates_nothing)
{
    struct buf b;

    buf_init(&b, 100);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_uint_eq(b.max, 100);
    buf_free(&b);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(basic_append)
{
    struct buf b;

    buf_init(&b, 100);
    ck_assert_int_eq(buf_append(&b, "abc", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_str_eq(b.data, "abc");
    ck_assert_int_eq(buf_appends(&b, "def"), 0);
    ck_assert_str_eq(b.data, "abcdef");
    ck_assert_uint_eq(b.len, 6);
    ck_assert_uint_ge(b.cap, b.len + 1);
    buf_free(&b);
}
END_TEST

START_TEST(basic_binary_and_empty)
{
    struct buf b;

    buf_init(&b, 100);
    /* appending nothing still yields an empty, NUL-terminated string */
    ck_assert_int_eq(buf_append(&b, "", 0), 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(buf_appends(&b, ""), 0);
    ck_assert_uint_eq(b.len, 0);
    /* embedded NULs are kept and counted */
    ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
    buf_free(&b);
}
END_TEST

START_TEST(basic_reset_and_free)
{
    struct buf b;
    char *mem;
    size_t cap;

    buf_init(&b, 1000);
    ck_assert_int_eq(buf_appends(&b, "hello"), 0);
    mem = b.data;
    cap = b.cap;
    buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_eq(b.data, mem);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(buf_appends(&b, "again"), 0);
    ck_assert_str_eq(b.data, "again");

    buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_uint_eq(b.max, 1000);
    /* reusable after free; free twice and free(NULL) are fine */
    ck_assert_int_eq(buf_appends(&b, "x"), 0);
    ck_assert_str_eq(b.data, "x");
    buf_free(&b);
    buf_free(&b);
    buf_free(NULL);

    /* reset of a never-used buffer */
    buf_init(&b, 10);
    buf_reset(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

/* ---- limits ------------------------------------------------------------------------------ */

START_TEST(limit_exact)
{
    struct buf b;

    buf_init(&b, 5);
    ck_assert_int_eq(buf_append(&b, "12345", 5), 0);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_str_eq(b.data, "12345");
    ck_assert_int_eq(buf_append(&b, "", 0), 0);
    ck_assert_int_eq(buf_append(&b, "6", 1), DADNS_ETOOBIG);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_str_eq(b.data, "12345");
    buf_free(&b);
}
END_TEST

START_TEST(limit_unchanged_on_failure)
{
    struct buf b;

    buf_init(&b, 10);
    ck_assert_int_eq(buf_appends(&b, "abcdef"), 0);
    ck_assert_int_eq(buf_appends(&b, "ghijk"), DADNS_ETOOBIG);
    ck_assert_uint_eq(b.len, 6);
    ck_assert_str_eq(b.data, "abcdef");
    ck_assert_int_eq(buf_printf(&b, "%s", "ghijk"), DADNS_ETOOBIG);
    ck_assert_uint_eq(b.len, 6);
    ck_assert_str_eq(b.data, "abcdef");
    /* what still fits is accepted afterwards */
    ck_assert_int_eq(buf_appends(&b, "ghij"), 0);
    ck_assert_str_eq(b.data, "abcdefghij");
    buf_free(&b);
}
END_TEST

START_TEST(limit_zero)
{
    struct buf b;

    buf_init(&b, 0);
    ck_assert_int_eq(buf_append(&b, "x", 1), DADNS_ETOOBIG);
    ck_assert_ptr_null(b.data);
    ck_assert_int_eq(buf_append(&b, "", 0), 0);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(buf_printf(&b, "%d", 1), DADNS_ETOOBIG);
    ck_assert_int_eq(buf_printf(&b, "%s", ""), 0);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(limit_huge_request)
{
    struct buf b;

    /* a length near SIZE_MAX must be refused by the limit, not wrap around */
    buf_init(&b, 1024);
    ck_assert_int_eq(buf_appends(&b, "abc"), 0);
    ck_assert_int_eq(buf_append(&b, "x", SIZE_MAX), DADNS_ETOOBIG);
    ck_assert_int_eq(buf_append(&b, "x", SIZE_MAX - 2), DADNS_ETOOBIG);
    ck_assert_int_eq(buf_append(&b, "x", 1022), DADNS_ETOOBIG);
    ck_assert_str_eq(b.data, "abc");
    buf_free(&b);
}
END_TEST

/* ---- growth ------------------------------------------------------------------------------ */

START_TEST(growth_many_appends)
{
    struct buf b;
    char want[10001];
    size_t i, caps = 0, last_cap = 0;

    buf_init(&b, sizeof(want) - 1);
    for (i = 0; i < sizeof(want) - 1; i++) {
        char ch = (char)('a' + i % 26);

        want[i] = ch;
        ck_assert_int_eq(buf_append(&b, &ch, 1), 0);
        ck_assert_uint_eq(b.len, i + 1);
        ck_assert_uint_ge(b.cap, b.len + 1);
        ck_assert_int_eq(b.data[b.len], '\0');
        if (b.cap != last_cap) {
            caps++;
            last_cap = b.cap;
        }
    }
    want[sizeof(want) - 1] = '\0';
    ck_assert_str_eq(b.data, want);
    /* geometric growth: a handful of reallocations, not one per append */
    ck_assert_uint_le(caps, 10);
    ck_assert_int_eq(buf_append(&b, "z", 1), DADNS_ETOOBIG);
    buf_free(&b);
}
END_TEST

START_TEST(growth_one_big_append)
{
    static char big[100000];
    struct buf b;

    memset(big, 'q', sizeof(big));
    buf_init(&b, sizeof(big));
    ck_assert_int_eq(buf_appends(&b, "<"), 0);
    ck_assert_int_eq(buf_append(&b, big, sizeof(big) - 1), 0);
    ck_assert_uint_eq(b.len, sizeof(big));
    ck_assert_int_eq(b.data[0], '<');
    ck_assert_int_eq(b.data[sizeof(big) - 1], 'q');
    ck_assert_int_eq(b.data[sizeof(big)], '\0');
    buf_free(&b);
}
END_TEST

/* ---- printf ------------------------------------------------------------------------------ */

START_TEST(printf_formats)
{
    struct buf b;

    buf_init(&b, 200);
    ck_assert_int_eq(buf_printf(&b, "%s=%d", "n", 42), 0);
    ck_assert_int_eq(buf_printf(&b, " %05.1f|%-3s|%x", 3.14159, "a", 255), 0);
    ck_assert_str_eq(b.data, "n=42 003.1|a  |ff");
    ck_assert_uint_eq(b.len, strlen("n=42 003.1|a  |ff"));
    ck_assert_int_eq(buf_printf(&b, "%s", ""), 0);
    ck_assert_uint_eq(b.len, strlen("n=42 003.1|a  |ff"));
    buf_free(&b);
}
END_TEST

START_TEST(printf_exact_limit_and_growth)
{
    struct buf b;
    size_t i;

    buf_init(&b, 8);
    ck_assert_int_eq(buf_printf(&b, "%08d", 1234), 0);
    ck_assert_str_eq(b.data, "00001234");
    ck_assert_int_eq(buf_printf(&b, "%c", 'x'), DADNS_ETOOBIG);
    ck_assert_str_eq(b.data, "00001234");
    buf_free(&b);

    /* printf past the first allocation grows the buffer */
    buf_init(&b, 100000);
    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(buf_printf(&b, "%04zu,", i), 0);
    ck_assert_uint_eq(b.len, 5000);
    ck_assert_int_eq(strncmp(b.data, "0000,0001,", 10), 0);
    ck_assert_str_eq(b.data + 4995, "0999,");
    buf_free(&b);
}
END_TEST

START_TEST(printf_mixed_with_append)
{
    struct buf b;

    buf_init(&b, 64);
    ck_assert_int_eq(buf_appends(&b, "zone "), 0);
    ck_assert_int_eq(buf_printf(&b, "\"%s\" { file \"%s/%s.db\"; };", "ex.com", "/z", "ex.com"), 0);
    ck_assert_str_eq(b.data, "zone \"ex.com\" { file \"/z/ex.com.db\"; };");
    buf_free(&b);
}
END_TEST

/* ---- runner ------------------------------------------------------------------------------ */

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc;

    tc = tcase_create("basic");
    tcase_add_test(tc, basic_init_allocates_nothing);
    tcase_add_test(tc, basic_append);
    tcase_add_test(tc, basic_binary_and_empty);
    tcase_add_test(tc, basic_reset_and_free);
    suite_add_tcase(s, tc);

    tc = tcase_create("limit");
    tcase_add_test(tc, limit_exact);
    tcase_add_test(tc, limit_unchanged_on_failure);
    tcase_add_test(tc, limit_zero);
    tcase_add_test(tc, limit_huge_request);
    suite_add_tcase(s, tc);

    tc = tcase_create("growth");
    tcase_add_test(tc, growth_many_appends);
    tcase_add_test(tc, growth_one_big_append);
    suite_add_tcase(s, tc);

    tc = tcase_create("printf");
    tcase_add_test(tc, printf_formats);
    tcase_add_test(tc, printf_exact_limit_and_growth);
    tcase_add_test(tc, printf_mixed_with_append);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
