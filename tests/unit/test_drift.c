/* test_drift.c -- Check suite for services/reconciler/drift.c: the inventory value format,
 * and one backend's inventory against the store snapshot (missing, serial, digest, modified,
 * "cannot tell", tombstones, zones the store lacks, unmanaged zones, repeats, bad entries). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct zonetab *tab;
static struct drift *d;

/* The store: five live zones (serial 10, digest SHA_A), one without a digest, a tombstone. */
static void setup(void)
{
    static const char *const live[] = {"a.test", "b.test", "c.test", "d.test", "e.test"};
    size_t i;

    ck_assert_int_eq(zonetab_new(&tab), 0);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(zonetab_add(tab, live[i], "da1", 100 + i, 10, SHA_A, false, 0), 0);
    ck_assert_int_eq(zonetab_add(tab, "nodigest.test", "da1", 7, 10, "", false, 0), 0);
    ck_assert_int_eq(zonetab_add(tab, "gone.test", "da1", 50, 0, "", true, 0), 0);
    zonetab_sort(tab);
    ck_assert_int_eq(drift_new(tab, &d), 0);
}

static void teardown(void)
{
    drift_free(d);
    zonetab_free(tab);
    d = NULL;
    tab = NULL;
}

static void add(const char *zone, const char *value)
{
    ck_assert_int_eq(drift_add(d, zone, strlen(zone), value, strlen(value)), 0);
}

/* find - the decision about @zone in @items, or NULL. */
static const struct drift_item *find(const struct drift_item *items, size_t n, const char *zone)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(items[i].zone, zone) == 0)
            return &items[i];
    return NULL;
}

START_TEST(parse_values)
{
    struct drift_held h;

    ck_assert_int_eq(drift_parse("10 " SHA_A " 5 1", strlen("10 " SHA_A " 5 1"), &h), 0);
    ck_assert(h.has_serial && h.serial == 10 && h.version == 5 && h.managed);
    ck_assert_str_eq(h.digest, SHA_A);
    ck_assert_int_eq(drift_parse("- - 0 0", 7, &h), 0);
    ck_assert(!h.has_serial && h.digest[0] == '\0' && h.version == 0 && !h.managed);
    ck_assert_int_eq(drift_parse("4294967295 modified 18446744073709551615 1", 42, &h), 0);
    ck_assert_uint_eq(h.serial, 4294967295u);
    ck_assert_str_eq(h.digest, "modified");
    ck_assert(h.version == UINT64_MAX);
    /* not NUL-terminated: only len octets count */
    ck_assert_int_eq(drift_parse("1 - 2 1xxxx", 7, &h), 0);
}
END_TEST

START_TEST(parse_refused)
{
    static const char *const bad[] = {"",
                                      "1 - 2",
                                      "1 - 2 1 x",
                                      "1  - 2 1",
                                      "1 - 2 1 ",
                                      " 1 - 2 1",
                                      "x - 2 1",
                                      "-1 - 2 1",
                                      "4294967296 - 2 1",
                                      "1 - x 1",
                                      "1 - 2 2",
                                      "1 - 2 10",
                                      "1 AB 2 1",
                                      "1 a/b 2 1",
                                      "1 - 18446744073709551616 1",
                                      "1 " SHA_A SHA_A " 2 1"};
    struct drift_held h;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(drift_parse(bad[i], strlen(bad[i]), &h) == DADNS_EPARAM, "accepted \"%s\"",
                      bad[i]);
    ck_assert_int_eq(drift_parse(NULL, 0, &h), DADNS_EPARAM);
}
END_TEST

START_TEST(in_sync_and_missing)
{
    add("a.test", "10 " SHA_A " 100 1");
    add("b.test", "10 - 101 1");              /* digest unknown: serial agrees */
    add("c.test", "- " SHA_A " 102 1");       /* serial unknown: digest agrees */
    add("nodigest.test", "10 " SHA_B " 7 1"); /* the store has no digest: serial only */
    ck_assert_int_eq(drift_finish(d), 0);
    ck_assert_uint_eq(d->in_sync, 4);
    ck_assert_uint_eq(d->n_push, 2); /* d.test and e.test missing, in name order */
    ck_assert_str_eq(d->push[0].zone, "d.test");
    ck_assert_int_eq(d->push[0].why, DRIFT_MISSING);
    ck_assert_uint_eq(d->push[0].version, 103);
    ck_assert_str_eq(d->push[1].zone, "e.test");
    ck_assert_uint_eq(d->n_del, 0);
    ck_assert_uint_eq(d->held, 4);
    ck_assert_uint_eq(d->managed, 4);
    ck_assert(zonetab_find(tab, "a.test")->flags & ZONETAB_HELD);
    ck_assert(!(zonetab_find(tab, "d.test")->flags & ZONETAB_HELD));
    ck_assert_int_eq(drift_finish(d), DADNS_EINVAL);
    ck_assert_int_eq(drift_add(d, "a.test", 6, "1 - 1 1", 7), DADNS_EINVAL);
}
END_TEST

START_TEST(serial_and_digest)
{
    const struct drift_item *it;

    add("a.test", "9 " SHA_A " 100 1");     /* older serial */
    add("b.test", "11 - 101 1");            /* newer serial: still not the stored state */
    add("c.test", "10 " SHA_B " 102 1");    /* same serial, other content */
    add("d.test", "10 modified 103 1");     /* edited behind dadns's back */
    add("e.test", "- - 104 1");             /* cannot tell */
    add("nodigest.test", "- modified 7 1"); /* no stored digest: cannot compare */
    ck_assert_int_eq(drift_finish(d), 0);
    ck_assert_uint_eq(d->n_push, 4);
    it = find(d->push, d->n_push, "a.test");
    ck_assert(it != NULL && it->why == DRIFT_SERIAL && it->has_serial && it->held_serial == 9);
    ck_assert_int_eq(find(d->push, d->n_push, "b.test")->why, DRIFT_SERIAL);
    ck_assert_int_eq(find(d->push, d->n_push, "c.test")->why, DRIFT_DIGEST);
    ck_assert_int_eq(find(d->push, d->n_push, "d.test")->why, DRIFT_DIGEST);
    ck_assert_ptr_null(find(d->push, d->n_push, "e.test"));
    ck_assert_uint_eq(d->unknown, 2);
    ck_assert_uint_eq(d->in_sync, 0);
}
END_TEST

START_TEST(deletions)
{
    const struct drift_item *it;

    add("gone.test", "10 " SHA_A " 49 1"); /* tombstone in the store */
    add("stray.test", "3 - 0 1");          /* no state at all */
    add("other.test", "1 - 0 0");          /* not dadns's: never touched */
    add("a.test", "10 " SHA_A " 100 0");   /* live in the store but unmanaged there */
    ck_assert_int_eq(drift_finish(d), 0);
    ck_assert_uint_eq(d->n_del, 2);
    it = find(d->del, d->n_del, "gone.test");
    ck_assert(it != NULL && it->why == DRIFT_TOMBSTONE && it->version == 50);
    it = find(d->del, d->n_del, "stray.test");
    ck_assert(it != NULL && it->why == DRIFT_ABSENT && it->version == 0);
    ck_assert_uint_eq(d->n_absent, 1);
    ck_assert_uint_eq(d->unmanaged, 2);
    ck_assert_uint_eq(d->n_examples, 2);
    ck_assert_str_eq(d->examples[0], "other.test");
    ck_assert_str_eq(d->examples[1], "a.test");
    ck_assert(zonetab_find(tab, "gone.test")->flags & ZONETAB_HELD);
    /* a.test is held (unmanaged), so not missing; the other four live zones are */
    ck_assert_uint_eq(d->n_push, 5);
    ck_assert_ptr_null(find(d->push, d->n_push, "a.test"));
    ck_assert_uint_eq(d->held, 4);
    ck_assert_uint_eq(d->managed, 2);
}
END_TEST

START_TEST(repeats_and_bad_entries)
{
    add("a.test", "10 " SHA_A " 100 1");
    add("a.test", "1 " SHA_A " 100 1"); /* HSCAN repeat: the first one counts */
    add("stray.test", "3 - 0 1");
    add("stray.test", "3 - 0 1");
    add("A.TEST.", "1 - 1 1"); /* normalized: a repeat of a.test */
    add("bad..name", "1 - 1 1");
    add("b.test", "garbage");
    ck_assert_int_eq(drift_finish(d), 0);
    ck_assert_uint_eq(d->duplicates, 3);
    ck_assert_uint_eq(d->invalid, 2);
    ck_assert_uint_eq(d->held, 2);
    ck_assert_uint_eq(d->in_sync, 1);
    ck_assert_uint_eq(d->n_del, 1);
    /* b.test's entry was unreadable: it counts as missing (republished) */
    ck_assert_ptr_nonnull(find(d->push, d->n_push, "b.test"));
}
END_TEST

START_TEST(unsorted_refused)
{
    struct zonetab *t = NULL;
    struct drift *x = NULL;

    ck_assert_int_eq(zonetab_new(&t), 0);
    ck_assert_int_eq(zonetab_add(t, "a.test", "", 1, 1, "", false, 0), 0);
    ck_assert_int_eq(drift_new(t, &x), DADNS_EINVAL);
    ck_assert_ptr_null(x);
    zonetab_free(t);
    ck_assert_str_eq(drift_why_str(DRIFT_ABSENT), "absent");
    ck_assert_str_eq(drift_why_str((enum drift_why)0), "?");
    drift_free(NULL);
}
END_TEST

START_TEST(empty_inventory)
{
    ck_assert_int_eq(drift_finish(d), 0);
    ck_assert_uint_eq(d->n_push, 6); /* every live zone */
    ck_assert_uint_eq(d->n_del, 0);
    ck_assert_uint_eq(d->held, 0);
}
END_TEST

static Suite *drift_suite(void)
{
    Suite *s = suite_create("drift");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, parse_values);
    tcase_add_test(tc, parse_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("compare");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, in_sync_and_missing);
    tcase_add_test(tc, serial_and_digest);
    tcase_add_test(tc, deletions);
    tcase_add_test(tc, repeats_and_bad_entries);
    tcase_add_test(tc, unsorted_refused);
    tcase_add_test(tc, empty_inventory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(drift_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
