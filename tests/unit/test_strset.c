/* test_strset.c -- Check suite for common/strset.c: membership, growth, deletion (backward
 * shift) against a reference array, sorted output and iteration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strset.h"

static struct strset *s;

static void setup(void)
{
    ck_assert_int_eq(strset_new(&s), 0);
}

static void teardown(void)
{
    strset_free(s);
    s = NULL;
}

START_TEST(add_has_del)
{
    char buf[16];

    ck_assert_uint_eq(strset_count(s), 0);
    ck_assert(!strset_has(s, "example.com"));
    ck_assert_int_eq(strset_add(s, "example.com"), 1);
    ck_assert_int_eq(strset_add(s, "example.com"), 0);
    ck_assert_uint_eq(strset_count(s), 1);
    ck_assert(strset_has(s, "example.com"));
    ck_assert(!strset_has(s, "example.net"));
    ck_assert(!strset_has(s, ""));
    ck_assert_int_eq(strset_del(s, "example.net"), 0);
    ck_assert_int_eq(strset_del(s, "example.com"), 1);
    ck_assert_int_eq(strset_del(s, "example.com"), 0);
    ck_assert_uint_eq(strset_count(s), 0);
    ck_assert(!strset_has(s, "example.com"));
    ck_assert_int_eq(strset_add(s, ""), 1);
    ck_assert(strset_has(s, ""));
    /* the set keeps its own copy */
    snprintf(buf, sizeof(buf), "a.test");
    ck_assert_int_eq(strset_add(s, buf), 1);
    buf[0] = 'b';
    ck_assert(strset_has(s, "a.test"));
    ck_assert(!strset_has(s, "b.test"));
}
END_TEST

START_TEST(grows_to_100k)
{
    char name[64];
    size_t i;

    for (i = 0; i < 100000; i++) {
        snprintf(name, sizeof(name), "zone%zu.example", i);
        ck_assert_int_eq(strset_add(s, name), 1);
    }
    ck_assert_uint_eq(strset_count(s), 100000);
    for (i = 0; i < 100000; i++) {
        snprintf(name, sizeof(name), "zone%zu.example", i);
        ck_assert_msg(strset_has(s, name), "%s lost after growing", name);
    }
    ck_assert(!strset_has(s, "zone100000.example"));
}
END_TEST

/* Random adds and deletes checked against a plain array of flags: exercises the backward-shift
 * deletion on long probe runs (small key space, many collisions). */
START_TEST(random_against_reference)
{
    enum { KEYS = 3000, OPS = 200000 };
    static char present[KEYS];
    char name[32];
    size_t i, count = 0;
    unsigned seed = 12345;

    memset(present, 0, sizeof(present));
    for (i = 0; i < OPS; i++) {
        unsigned k;

        seed = seed * 1103515245u + 12345u;
        k = (seed >> 8) % KEYS;
        snprintf(name, sizeof(name), "k%u.test", k);
        if ((seed >> 4) & 1) {
            ck_assert_int_eq(strset_add(s, name), present[k] ? 0 : 1);
            count += present[k] ? 0 : 1;
            present[k] = 1;
        } else {
            ck_assert_int_eq(strset_del(s, name), present[k] ? 1 : 0);
            count -= present[k] ? 1 : 0;
            present[k] = 0;
        }
    }
    ck_assert_uint_eq(strset_count(s), count);
    for (i = 0; i < KEYS; i++) {
        snprintf(name, sizeof(name), "k%zu.test", i);
        ck_assert_msg(strset_has(s, name) == (present[i] != 0), "%s membership wrong", name);
    }
}
END_TEST

START_TEST(delete_all_then_reuse)
{
    char name[32];
    size_t i;

    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "d%zu.test", i);
        ck_assert_int_eq(strset_add(s, name), 1);
    }
    for (i = 0; i < 5000; i += 2) {
        snprintf(name, sizeof(name), "d%zu.test", i);
        ck_assert_int_eq(strset_del(s, name), 1);
    }
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "d%zu.test", i);
        ck_assert(strset_has(s, name) == (i % 2 == 1));
    }
    strset_clear(s);
    ck_assert_uint_eq(strset_count(s), 0);
    ck_assert(!strset_has(s, "d1.test"));
    ck_assert_int_eq(strset_add(s, "d1.test"), 1);
    ck_assert_uint_eq(strset_count(s), 1);
}
END_TEST

START_TEST(sorted)
{
    const char *in[] = {"b.test", "a.test", "c.example", "a.example", "aa.test", "a-b.test"};
    const char *want[] = {"a-b.test", "a.example", "a.test", "aa.test", "b.test", "c.example"};
    const char **out = NULL;
    size_t n = 99, i;

    ck_assert_int_eq(strset_sorted(s, &out, &n), 0);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(n, 0);
    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        ck_assert_int_eq(strset_add(s, in[i]), 1);
    ck_assert_int_eq(strset_sorted(s, &out, &n), 0);
    ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
    for (i = 0; i < n; i++)
        ck_assert_str_eq(out[i], want[i]);
    free(out);
}
END_TEST

struct visit {
    size_t seen;
    size_t stop_at;
};

static int count_cb(const char *member, void *arg)
{
    struct visit *v = arg;

    ck_assert_ptr_nonnull(member);
    v->seen++;
    return v->seen == v->stop_at ? 42 : 0;
}

START_TEST(iterate)
{
    struct visit v = {0, 0};
    char name[32];
    size_t i;

    ck_assert_int_eq(strset_iterate(s, count_cb, &v), 0);
    ck_assert_uint_eq(v.seen, 0);
    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "i%zu.test", i);
        strset_add(s, name);
    }
    ck_assert_int_eq(strset_iterate(s, count_cb, &v), 0);
    ck_assert_uint_eq(v.seen, 100);
    v.seen = 0;
    v.stop_at = 10;
    ck_assert_int_eq(strset_iterate(s, count_cb, &v), 42);
    ck_assert_uint_eq(v.seen, 10);
}
END_TEST

START_TEST(free_null)
{
    strset_free(NULL);
}
END_TEST

static Suite *strset_suite(void)
{
    Suite *su = suite_create("strset");
    TCase *tc;

    tc = tcase_create("membership");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, add_has_del);
    tcase_add_test(tc, delete_all_then_reuse);
    tcase_add_test(tc, free_null);
    suite_add_tcase(su, tc);

    tc = tcase_create("scale");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, grows_to_100k);
    tcase_add_test(tc, random_against_reference);
    suite_add_tcase(su, tc);

    tc = tcase_create("listing");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sorted);
    tcase_add_test(tc, iterate);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(strset_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
