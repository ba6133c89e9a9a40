/* test_answer.c -- DirectAdmin answer encoding (common/answer.c). */
#include <check.h>
#include <string.h>

#include "answer.h"
#include "err.h"

START_TEST(login_ok)
{
    struct buf b;

    buf_init(&b, 1024);
    ck_assert_int_eq(answer_add(&b, "error", "0"), 0);
    ck_assert_int_eq(answer_add(&b, "text", "Login OK"), 0);
    ck_assert_str_eq(b.data, "error=0&text=Login+OK");
    buf_free(&b);
}
END_TEST

START_TEST(exists_answers)
{
    struct buf b;

    buf_init(&b, 1024);
    answer_add(&b, "error", "0");
    answer_add(&b, "exists", "1");
    answer_add(&b, "details", "Domain exists on da1.example.com");
    ck_assert_str_eq(b.data, "error=0&exists=1&details=Domain+exists+on+da1.example.com");
    buf_reset(&b);
    answer_add(&b, "error", "0");
    answer_add(&b, "exists", "3");
    answer_add(&b, "hostname", "da1.example.com");
    answer_add(&b, "username", "bob");
    ck_assert_str_eq(b.data, "error=0&exists=3&hostname=da1.example.com&username=bob");
    buf_free(&b);
}
END_TEST

START_TEST(reasons_cannot_inject_fields)
{
    struct buf b;

    buf_init(&b, 1024);
    answer_add(&b, "error", "1");
    answer_add(&b, "text", "Missing 'domain' parameter&error=0\n%");
    ck_assert_str_eq(b.data, "error=1&text=Missing+%27domain%27+parameter%26error%3D0%0A%25");
    buf_free(&b);
}
END_TEST

START_TEST(limit_is_enforced)
{
    struct buf b;

    buf_init(&b, 16);
    ck_assert_int_eq(answer_add(&b, "error", "0"), 0);
    ck_assert_int_eq(answer_add(&b, "text", "a very long text that does not fit"), DADNS_ETOOBIG);
    buf_free(&b);
}
END_TEST

static Suite *answer_suite(void)
{
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("encode");

    tcase_add_test(tc, login_ok);
    tcase_add_test(tc, exists_answers);
    tcase_add_test(tc, reasons_cannot_inject_fields);
    tcase_add_test(tc, limit_is_enforced);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(answer_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
