/* test_summary.c -- Check suite for services/reconciler/summary.c: the JSON of a pass summary
 * (keys and their order, per-backend objects, skipped backends, text escaping). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

static json_t *render(const struct summary *s, char **text)
{
    struct err e;
    json_error_t je;
    json_t *o;

    ck_assert_int_eq(summary_json(s, text, &e), 0);
    o = json_loads(*text, 0, &je);
    ck_assert_msg(o != NULL, "not JSON: %s", je.text);
    return o;
}

START_TEST(full)
{
    static const char *const keys[] = {"started_at",
                                       "finished_at",
                                       "duration_s",
                                       "dry_run",
                                       "forced",
                                       "servers",
                                       "zones_seen",
                                       "orphans_deleted",
                                       "orphans_held",
                                       "guard_tripped",
                                       "guard_reason",
                                       "owners_updated",
                                       "republished",
                                       "deleted_on_backend",
                                       "unmanaged",
                                       "backends_skipped",
                                       "tombstones_purged",
                                       "error"};
    struct summary_server srv[2] = {{"da1", true, 120, ""}, {"da2", false, 99, "refused"}};
    struct summary_backend be[2] = {{"bind", true, 3, 1, 0, "ignored"},
                                    {"mysql", false, 0, 0, 0, "inventory timed out"}};
    struct summary s;
    json_t *o, *x;
    const char *k;
    char *text = NULL;
    size_t i = 0;

    memset(&s, 0, sizeof(s));
    s.started_at = 1700000000;
    s.finished_at = 1700000003;
    s.duration_s = 2.71828;
    s.forced = true;
    s.servers = srv;
    s.n_servers = 2;
    s.zones_seen = 120;
    s.orphans_deleted = 4;
    s.orphans_held = 0;
    s.guard_tripped = true;
    s.guard_reason = "da1 would delete 4 of its 10 zones";
    s.owners_updated = 2;
    s.backends = be;
    s.n_backends = 2;
    s.tombstones_purged = 5;
    s.error = "";
    o = render(&s, &text);
    json_object_foreach(o, k, x)
    {
        ck_assert_msg(i < sizeof(keys) / sizeof(keys[0]), "extra key %s", k);
        ck_assert_str_eq(k, keys[i]);
        i++;
    }
    ck_assert_uint_eq(i, sizeof(keys) / sizeof(keys[0]));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "started_at")), 1700000000);
    ck_assert(json_real_value(json_object_get(o, "duration_s")) == 2.718);
    ck_assert(json_is_false(json_object_get(o, "dry_run")));
    ck_assert(json_is_true(json_object_get(o, "forced")));
    x = json_object_get(o, "servers");
    ck_assert_uint_eq(json_array_size(x), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(x, 0), "name")), "da1");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(x, 0), "zones")), 120);
    ck_assert(json_is_false(json_object_get(json_array_get(x, 1), "answered")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(x, 1), "zones")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(x, 1), "error")), "refused");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "republished"), "bind")),
                     3);
    ck_assert_ptr_null(json_object_get(json_object_get(o, "republished"), "mysql"));
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(o, "deleted_on_backend"), "bind")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "unmanaged"), "bind")),
                     0);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(o, "backends_skipped"), "mysql")),
        "inventory timed out");
    ck_assert_uint_eq(json_object_size(json_object_get(o, "backends_skipped")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(o, "guard_reason")),
                     "da1 would delete 4 of its 10 zones");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "tombstones_purged")), 5);
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), "");
    ck_assert_ptr_null(strchr(text, '\n'));
    json_decref(o);
    free(text);
}
END_TEST

START_TEST(empty_and_odd_text)
{
    struct summary_server srv[1] = {{"da1", false, 0, "bad \xff\xfe octets \"quoted\""}};
    struct summary s;
    json_t *o;
    char *text = NULL;

    memset(&s, 0, sizeof(s));
    s.dry_run = true;
    s.servers = srv;
    s.n_servers = 1;
    s.duration_s = -1;
    o = render(&s, &text);
    ck_assert(json_is_true(json_object_get(o, "dry_run")));
    ck_assert(json_real_value(json_object_get(o, "duration_s")) == 0);
    ck_assert_str_eq(json_string_value(json_object_get(o, "guard_reason")), "");
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), "");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(o, "servers"), 0), "error")),
                     "bad ?? octets \"quoted\"");
    ck_assert_uint_eq(json_object_size(json_object_get(o, "republished")), 0);
    ck_assert(json_is_object(json_object_get(o, "backends_skipped")));
    json_decref(o);
    free(text);
}
END_TEST

static Suite *summary_suite(void)
{
    Suite *s = suite_create("summary");
    TCase *tc = tcase_create("json");

    tcase_add_test(tc, full);
    tcase_add_test(tc, empty_and_odd_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(summary_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
