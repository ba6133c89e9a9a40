/* test_zonetab.c -- Check suite for services/reconciler/zonetab.c: adding, sorting with
 * duplicates (live wins over a tombstone, else the first added), lookups, counts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "zonetab.h"

START_TEST(add_and_find)
{
    struct zonetab *t = NULL;
    struct zonetab_zone *z;

    ck_assert_int_eq(zonetab_new(&t), 0);
    ck_assert_int_eq(zonetab_add(t, "b.test", "da1", 3, 7, "aa", false, 10), 0);
    ck_assert_int_eq(zonetab_add(t, "a.test", NULL, 1, 5, NULL, false, 0), 0);
    ck_assert_int_eq(zonetab_add(t, "c.test", "", 9, 0, "", true, 99), 0);
    ck_assert_int_eq(zonetab_add(t, "", "x", 1, 1, NULL, false, 0), DADNS_EINVAL);
    ck_assert(!t->sorted);
    zonetab_sort(t);
    ck_assert(t->sorted);
    ck_assert_uint_eq(t->n, 3);
    ck_assert_uint_eq(t->live, 2);
    ck_assert_uint_eq(t->tombstones, 1);
    ck_assert_str_eq(t->zones[0].name, "a.test");
    ck_assert_str_eq(t->zones[0].host, "");
    ck_assert_str_eq(t->zones[0].digest, "");
    z = zonetab_find(t, "b.test");
    ck_assert_ptr_nonnull(z);
    ck_assert_str_eq(z->host, "da1");
    ck_assert_uint_eq(z->version, 3);
    ck_assert_uint_eq(z->serial, 7);
    ck_assert_str_eq(z->digest, "aa");
    ck_assert_int_eq(z->updated_ms, 10);
    ck_assert_uint_eq(z->flags, 0);
    ck_assert_uint_eq(zonetab_index(t, z), 1);
    z = zonetab_find(t, "c.test");
    ck_assert(z != NULL && z->deleted);
    ck_assert_ptr_null(zonetab_find(t, "d.test"));
    ck_assert_ptr_null(zonetab_find(t, "a.tes"));
    zonetab_free(t);
    zonetab_free(NULL);
}
END_TEST

START_TEST(duplicates)
{
    struct zonetab *t = NULL;
    struct zonetab_zone *z;

    ck_assert_int_eq(zonetab_new(&t), 0);
    ck_assert_int_eq(zonetab_add(t, "x.test", "", 5, 0, "", true, 0), 0);
    ck_assert_int_eq(zonetab_add(t, "x.test", "live", 6, 1, "d", false, 0), 0);
    ck_assert_int_eq(zonetab_add(t, "y.test", "first", 1, 1, "", false, 0), 0);
    ck_assert_int_eq(zonetab_add(t, "y.test", "second", 2, 1, "", false, 0), 0);
    zonetab_sort(t);
    ck_assert_uint_eq(t->n, 2);
    ck_assert_uint_eq(t->live, 2);
    ck_assert_uint_eq(t->tombstones, 0);
    z = zonetab_find(t, "x.test");
    ck_assert(z != NULL && !z->deleted);
    ck_assert_str_eq(z->host, "live");
    ck_assert_str_eq(zonetab_find(t, "y.test")->host, "first");
    zonetab_free(t);
}
END_TEST

START_TEST(long_digest_cut)
{
    struct zonetab *t = NULL;
    char d[100];

    memset(d, 'f', sizeof(d) - 1);
    d[sizeof(d) - 1] = '\0';
    ck_assert_int_eq(zonetab_new(&t), 0);
    ck_assert_int_eq(zonetab_add(t, "a.test", "h", 1, 1, d, false, 0), 0);
    ck_assert_uint_eq(strlen(t->zones[0].digest), 47);
    zonetab_free(t);
}
END_TEST

START_TEST(many)
{
    struct zonetab *t = NULL;
    char name[64];
    int i;

    ck_assert_int_eq(zonetab_new(&t), 0);
    for (i = 99999; i >= 0; i--) {
        snprintf(name, sizeof(name), "z%06d.test", i);
        ck_assert_int_eq(zonetab_add(t, name, "da1", (uint64_t)i, 1, "", false, 0), 0);
    }
    zonetab_sort(t);
    ck_assert_uint_eq(t->n, 100000);
    for (i = 0; i < 100000; i += 997) {
        snprintf(name, sizeof(name), "z%06d.test", i);
        ck_assert_uint_eq(zonetab_find(t, name)->version, (uint64_t)i);
    }
    zonetab_free(t);
}
END_TEST

static Suite *zonetab_suite(void)
{
    Suite *s = suite_create("zonetab");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, add_and_find);
    tcase_add_test(tc, duplicates);
    tcase_add_test(tc, long_digest_cut);
    tcase_add_test(tc, many);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(zonetab_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
