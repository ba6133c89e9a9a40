/* test_form.c -- query/form parsing (common/form.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

START_TEST(decodes_pairs)
{
    struct form f;
    const char *s = "action=rawsave&domain=Example.COM&x=a+b%20c&empty=&flag";

    form_init(&f);
    ck_assert_int_eq(form_parse(&f, s, strlen(s), NULL), 0);
    ck_assert_uint_eq(f.n, 5);
    ck_assert_str_eq(form_value(&f, "action"), "rawsave");
    ck_assert_str_eq(form_value(&f, "domain"), "Example.COM");
    ck_assert_str_eq(form_value(&f, "x"), "a b c");
    ck_assert_str_eq(form_value(&f, "empty"), "");
    ck_assert_str_eq(form_value(&f, "flag"), "");
    ck_assert_ptr_null(form_value(&f, "missing"));
    form_clear(&f);
}
END_TEST

START_TEST(first_value_wins_and_order_kept)
{
    struct form f;
    const char *s = "select0=a.com&select1=b.com&select0=c.com";

    form_init(&f);
    ck_assert_int_eq(form_parse(&f, s, strlen(s), NULL), 0);
    ck_assert_uint_eq(f.n, 3);
    ck_assert_str_eq(form_value(&f, "select0"), "a.com");
    ck_assert_str_eq(f.v[1].key, "select1");
    ck_assert_str_eq(f.v[2].val, "c.com");
    form_clear(&f);
}
END_TEST

START_TEST(nul_and_newline_are_kept_visible)
{
    struct form f;
    const char *s = "domain=a%00b.com&d2=x%0Ay";
    const struct form_param *p;

    form_init(&f);
    ck_assert_int_eq(form_parse(&f, s, strlen(s), NULL), 0);
    p = form_get(&f, "domain");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->val_len, 7);
    ck_assert_int_eq(p->val[1], '\0');
    ck_assert_str_eq(form_value(&f, "d2"), "x\ny");
    form_clear(&f);
}
END_TEST

START_TEST(skips_empty_pairs)
{
    struct form f;
    const char *s = "&&a=1&&b=2&";

    form_init(&f);
    ck_assert_int_eq(form_parse(&f, s, strlen(s), NULL), 0);
    ck_assert_uint_eq(f.n, 2);
    form_clear(&f);
}
END_TEST

START_TEST(bad_escapes_are_errors)
{
    static const char *bad[] = {"a=%", "a=%4", "a=%zz", "a%g1=1", "domain=x%2"};
    struct form f;
    struct err e;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        form_init(&f);
        ck_assert_int_eq(form_parse(&f, bad[i], strlen(bad[i]), &e), DADNS_EPARAM);
        ck_assert_ptr_nonnull(strstr(e.text, "escape"));
        form_clear(&f);
    }
}
END_TEST

START_TEST(too_many_params)
{
    struct form f;
    char *s = malloc((FORM_MAX_PARAMS + 10) * 4 + 1);
    struct err e;
    size_t i, n = 0;

    for (i = 0; i < FORM_MAX_PARAMS + 10; i++)
        n += (size_t)snprintf(s + n, 5, "a=1&");
    form_init(&f);
    ck_assert_int_eq(form_parse(&f, s, n, &e), DADNS_ETOOBIG);
    ck_assert_uint_eq(f.n, FORM_MAX_PARAMS);
    form_clear(&f);
    free(s);
}
END_TEST

START_TEST(add_copies)
{
    struct form f;
    char k[] = "key", v[] = "value";

    form_init(&f);
    ck_assert_int_eq(form_add(&f, k, v, 3), 0);
    k[0] = 'X';
    v[0] = 'X';
    ck_assert_str_eq(form_value(&f, "key"), "val");
    form_clear(&f);
    form_clear(NULL);
}
END_TEST

static Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, decodes_pairs);
    tcase_add_test(tc, first_value_wins_and_order_kept);
    tcase_add_test(tc, nul_and_newline_are_kept_visible);
    tcase_add_test(tc, skips_empty_pairs);
    tcase_add_test(tc, bad_escapes_are_errors);
    tcase_add_test(tc, too_many_params);
    tcase_add_test(tc, add_copies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(form_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
