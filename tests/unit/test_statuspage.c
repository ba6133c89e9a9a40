/* test_statuspage.c -- the status page renderers (services/ingest/statuspage.c): JSON shape and
 * values, HTML escaping of every untrusted value (<>&"' in a zone name and a reason), an empty
 * status and Redis down, many backends, the page being self-contained. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statuspage.h"

#define NOW   1700000000LL
#define NASTY "<script>alert('x')</script>&\"q\""

/* A status with @nb backends ("be0", "be1", ...), each with one consumer and one writer, two
 * failures and a reconciler summary. Free with control_status_free. */
static struct control_status *sample(size_t nb)
{
    struct control_status *st = calloc(1, sizeof(*st));
    size_t i;

    ck_assert_ptr_nonnull(st);
    st->now_ms = NOW * 1000;
    st->stream_length = 1234;
    st->zones_live = 42;
    st->zones_tombstones = -1;
    st->groups = calloc(nb > 0 ? nb : 1, sizeof(*st->groups));
    st->n_groups = nb;
    for (i = 0; i < nb; i++) {
        struct control_group *g = &st->groups[i];

        snprintf(g->be.name, sizeof(g->be.name), "be%zu", i);
        g->be.configured = 1;
        g->be.has_group = 1;
        g->pending = (long long)i;
        g->lag = i == 1 ? -1 : 0;
        g->oldest_pending_age_ms = i == 0 ? -1 : 65000;
        g->dead = i == 0 ? 3 : 0;
        g->consumers = calloc(1, sizeof(*g->consumers));
        g->n_consumers = 1;
        snprintf(g->consumers[0].name, sizeof(g->consumers[0].name), "host-%zu", i);
        g->consumers[0].idle_ms = 1500;
        g->writers = calloc(1, sizeof(*g->writers));
        g->n_writers = 1;
        snprintf(g->writers[0].consumer, sizeof(g->writers[0].consumer), "host-%zu", i);
        g->writers[0].last_apply_at = NOW - 30;
        g->writers[0].last_batch_at = NOW - 5;
        g->writers[0].applied = 100 + i;
        g->writers[0].breaker_open = i == 0;
        g->writers[0].updated_at = i == 2 ? NOW - 3600 : NOW - 2; /* be2: stale heartbeat */
    }
    st->failures = calloc(2, sizeof(*st->failures));
    st->n_failures = 2;
    st->failures_total = 7;
    snprintf(st->failures[0].zone, sizeof(st->failures[0].zone), "bad.example");
    snprintf(st->failures[0].backend, sizeof(st->failures[0].backend), "be0");
    snprintf(st->failures[0].op, sizeof(st->failures[0].op), "save");
    snprintf(st->failures[0].reason, sizeof(st->failures[0].reason), "disk full");
    st->failures[0].at = NOW - 10;
    st->failures[0].version = 9;
    st->failures[0].attempts = 3;
    st->failures[0].dead = 1;
    snprintf(st->failures[1].zone, sizeof(st->failures[1].zone), "%s", NASTY);
    snprintf(st->failures[1].reason, sizeof(st->failures[1].reason), "reason %s", NASTY);
    st->failures[1].at = NOW - 20;
    st->reconciler_last = strdup("{\"started_at\":1699999900,\"finished_at\":1699999990,"
                                 "\"duration_s\":90,\"dry_run\":false,\"forced\":false,"
                                 "\"servers\":[{\"name\":\"da1\",\"answered\":true,\"zones\":40,"
                                 "\"error\":\"\"}],\"zones_seen\":40,\"orphans_deleted\":1,"
                                 "\"orphans_held\":0,\"guard_tripped\":false,"
                                 "\"republished\":{\"be0\":2},\"tombstones_purged\":5}");
    return st;
}

static void data_for(struct statuspage_data *d, const struct control_status *st)
{
    memset(d, 0, sizeof(*d));
    d->st = st;
    d->now = NOW;
    d->collected_at = NOW - 1;
    d->tombstones = 6;
    d->tombstones_at = NOW - 20;
    d->spool_enabled = 1;
    d->spool_records = 2;
    d->version = "9.9.9";
    d->prefix = "dadns:";
}

static char *html_of(const struct statuspage_data *d)
{
    struct buf b;
    char *s;

    buf_init(&b, STATUSPAGE_MAX_BYTES);
    ck_assert_int_eq(statuspage_html(d, &b), 0);
    ck_assert_ptr_nonnull(b.data);
    s = strdup(b.data);
    buf_free(&b);
    return s;
}

static json_t *json_of(const struct statuspage_data *d)
{
    char *text = NULL;
    json_error_t je;
    json_t *o;

    ck_assert_int_eq(statuspage_json(d, &text), 0);
    o = json_loads(text, 0, &je);
    ck_assert_msg(o != NULL, "not JSON: %s", je.text);
    free(text);
    return o;
}

/* ---- escaping ---- */

START_TEST(escape_specials)
{
    struct buf b;

    buf_init(&b, 4096);
    ck_assert_int_eq(statuspage_escape(&b, "a<b>&\"c\"'d'\x01"), 0);
    ck_assert_str_eq(b.data, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;&#65533;");
    buf_reset(&b);
    ck_assert_int_eq(statuspage_escape(&b, NULL), 0);
    ck_assert_int_eq((int)b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(html_escapes_zone_and_reason)
{
    struct control_status *st = sample(1);
    struct statuspage_data d;
    char *h;

    data_for(&d, st);
    h = html_of(&d);
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "alert('x')"));
    ck_assert_ptr_nonnull(
        strstr(h, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;q&quot;"));
    ck_assert_ptr_nonnull(strstr(h, "reason &lt;script&gt;"));
    free(h);
    control_status_free(st);
}
END_TEST

START_TEST(html_escapes_backend_names_and_errors)
{
    struct control_status *st = sample(1);
    struct statuspage_data d;
    char *h;

    snprintf(st->groups[0].be.name, sizeof(st->groups[0].be.name), "b\"><i>x");
    data_for(&d, st);
    h = html_of(&d);
    ck_assert_ptr_null(strstr(h, "<i>x"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"backend-b&quot;&gt;&lt;i&gt;x\""));
    free(h);
    data_for(&d, NULL);
    d.error = "cannot connect to <redis> & \"friends\"";
    h = html_of(&d);
    ck_assert_ptr_nonnull(strstr(h, "cannot connect to &lt;redis&gt; &amp; &quot;friends&quot;"));
    free(h);
    control_status_free(st);
}
END_TEST

/* ---- the page ---- */

START_TEST(html_values)
{
    struct control_status *st = sample(3);
    struct statuspage_data d;
    char *h;

    data_for(&d, st);
    h = html_of(&d);
    ck_assert_ptr_nonnull(strstr(h, "<!DOCTYPE html>"));
    ck_assert_ptr_nonnull(strstr(h, "<meta http-equiv=\"refresh\" content=\"10\">"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"zones-live\">42<"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"zones-tombstones\">6<"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"dead-total\">3<"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"spool-records\">2<"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"backend-be0\""));
    ck_assert_ptr_nonnull(strstr(h, "<td class=\"n dead bad\">3</td>"));
    ck_assert_ptr_nonnull(strstr(h, "1m 05s")); /* oldest pending of be1 */
    ck_assert_ptr_nonnull(strstr(h, "<span class=\"pill bad\">open</span>")); /* be0 */
    ck_assert_ptr_nonnull(strstr(h, "1h 00m ago"));                           /* be2 stale */
    ck_assert_ptr_nonnull(strstr(h, "disk full"));
    ck_assert_ptr_nonnull(strstr(h, "dead letter"));
    ck_assert_ptr_nonnull(strstr(h, "2 shown of 7 kept"));
    ck_assert_ptr_nonnull(strstr(h, "be0: 2")); /* reconciler republished */
    ck_assert_ptr_nonnull(strstr(h, "da1: answered, 40 zones"));
    ck_assert_ptr_nonnull(strstr(h, "not tripped"));
    free(h);
    control_status_free(st);
}
END_TEST

START_TEST(html_self_contained)
{
    struct control_status *st = sample(2);
    struct statuspage_data d;
    char *h;

    data_for(&d, st);
    h = html_of(&d);
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "src="));
    ck_assert_ptr_null(strstr(h, "<link"));
    ck_assert_ptr_null(strstr(h, "http://"));
    ck_assert_ptr_null(strstr(h, "https://"));
    ck_assert_ptr_null(strstr(h, "url("));
    ck_assert_ptr_nonnull(strstr(h, "<style>"));
    ck_assert_ptr_nonnull(strstr(h, "</html>\n"));
    free(h);
    control_status_free(st);
}
END_TEST

START_TEST(html_guard_tripped)
{
    struct control_status *st = sample(1);
    struct statuspage_data d;
    char *h;

    st->guard = calloc(4, sizeof(*st->guard));
    st->guard[0] = strdup("server");
    st->guard[1] = strdup("da<1>");
    st->guard[2] = strdup("would_delete");
    st->guard[3] = strdup("30");
    st->n_guard = 4;
    data_for(&d, st);
    h = html_of(&d);
    ck_assert_ptr_nonnull(strstr(h, "Deletion guard tripped"));
    ck_assert_ptr_nonnull(strstr(h, "server=da&lt;1&gt;"));
    ck_assert_ptr_nonnull(strstr(h, "would_delete=30"));
    free(h);
    control_status_free(st);
}
END_TEST

START_TEST(html_empty_and_down)
{
    struct control_status *st = sample(0);
    struct statuspage_data d;
    char *h;

    free(st->failures);
    st->failures = NULL;
    st->n_failures = 0;
    free(st->reconciler_last);
    st->reconciler_last = NULL;
    data_for(&d, st);
    d.tombstones = -1;
    d.spool_enabled = 0;
    h = html_of(&d);
    ck_assert_ptr_nonnull(strstr(h, "No backend configured"));
    ck_assert_ptr_nonnull(strstr(h, "No writer heartbeat"));
    ck_assert_ptr_nonnull(strstr(h, "None recorded."));
    ck_assert_ptr_nonnull(strstr(h, "No pass recorded yet."));
    ck_assert_ptr_nonnull(strstr(h, "not counted yet"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"spool-records\">off<"));
    free(h);
    data_for(&d, NULL);
    d.error = "Redis connection lost";
    h = html_of(&d);
    ck_assert_ptr_nonnull(strstr(h, "Redis cannot be read"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"redis-up\">DOWN<"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"zones-live\">-<"));
    free(h);
    control_status_free(st);
}
END_TEST

START_TEST(html_many_backends)
{
    struct control_status *st = sample(200);
    struct statuspage_data d;
    char *h, *p;
    int rows = 0;

    data_for(&d, st);
    h = html_of(&d);
    for (p = h; (p = strstr(p, "<tr class=\"backend\"")) != NULL; p++)
        rows++;
    ck_assert_int_eq(rows, 200);
    ck_assert_ptr_nonnull(strstr(h, "id=\"backend-be199\""));
    free(h);
    control_status_free(st);
}
END_TEST

START_TEST(html_too_big)
{
    struct control_status *st = sample(50);
    struct statuspage_data d;
    struct buf b;

    data_for(&d, st);
    buf_init(&b, 1000);
    ck_assert_int_eq(statuspage_html(&d, &b), DADNS_ETOOBIG);
    buf_free(&b);
    control_status_free(st);
}
END_TEST

/* ---- JSON ---- */

START_TEST(json_values)
{
    struct control_status *st = sample(3);
    struct statuspage_data d;
    json_t *o, *b0, *b1, *f;

    data_for(&d, st);
    o = json_of(&d);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "generated_at")), NOW);
    ck_assert_str_eq(json_string_value(json_object_get(o, "version")), "9.9.9");
    ck_assert(json_is_true(json_object_get(json_object_get(o, "redis"), "up")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "zones"), "live")), 42);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "zones"), "tombstones")),
                     6);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "stream"), "key")),
                     "dadns:changes");
    ck_assert_int_eq(json_array_size(json_object_get(o, "backends")), 3);
    b0 = json_array_get(json_object_get(o, "backends"), 0);
    b1 = json_array_get(json_object_get(o, "backends"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(b0, "name")), "be0");
    ck_assert_int_eq(json_integer_value(json_object_get(b0, "dead_letters")), 3);
    ck_assert(json_is_null(json_object_get(b0, "oldest_pending_age_s")));
    ck_assert(json_is_true(json_object_get(b0, "breaker_open")));
    ck_assert_int_eq(json_integer_value(json_object_get(b0, "last_apply_at")), NOW - 30);
    ck_assert(json_is_null(json_object_get(b1, "lag"))); /* unknown */
    ck_assert_int_eq(json_integer_value(json_object_get(b1, "oldest_pending_age_s")), 65);
    ck_assert(json_is_false(json_object_get(b1, "breaker_open")));
    ck_assert(json_is_true(json_object_get(
        json_array_get(
            json_object_get(json_array_get(json_object_get(o, "backends"), 2), "writers"), 0),
        "stale")));
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_object_get(o, "ingest"), "spool"), "records")),
                     2);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_object_get(o, "reconciler"), "last"), "zones_seen")),
                     40);
    ck_assert(json_is_null(json_object_get(json_object_get(o, "reconciler"), "guard")));
    ck_assert_int_eq(json_array_size(json_object_get(o, "failures")), 2);
    f = json_array_get(json_object_get(o, "failures"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(f, "zone")), NASTY);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "failures_total")), 7);
    json_decref(o);
    control_status_free(st);
}
END_TEST

START_TEST(json_down)
{
    struct statuspage_data d;
    json_t *o;

    data_for(&d, NULL);
    d.error = "Redis connection lost: \"x\"";
    d.tombstones = -1;
    o = json_of(&d);
    ck_assert(json_is_false(json_object_get(json_object_get(o, "redis"), "up")));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "redis"), "error")),
                     "Redis connection lost: \"x\"");
    ck_assert(json_is_null(json_object_get(json_object_get(o, "zones"), "live")));
    ck_assert(json_is_null(json_object_get(json_object_get(o, "zones"), "tombstones")));
    ck_assert_int_eq(json_array_size(json_object_get(o, "backends")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(o, "failures")), 0);
    json_decref(o);
}
END_TEST

START_TEST(json_invalid_utf8_and_not_json_summary)
{
    struct control_status *st = sample(1);
    struct statuspage_data d;
    json_t *o;

    snprintf(st->failures[0].reason, sizeof(st->failures[0].reason), "bad \xff byte");
    free(st->reconciler_last);
    st->reconciler_last = strdup("not json");
    data_for(&d, st);
    o = json_of(&d);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(o, "failures"), 0), "reason")),
                     "(not UTF-8)");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "reconciler"), "last")),
                     "not json");
    json_decref(o);
    control_status_free(st);
}
END_TEST

static Suite *statuspage_suite(void)
{
    Suite *s = suite_create("statuspage");
    TCase *esc = tcase_create("escaping");
    TCase *html = tcase_create("html");
    TCase *json = tcase_create("json");

    tcase_add_test(esc, escape_specials);
    tcase_add_test(esc, html_escapes_zone_and_reason);
    tcase_add_test(esc, html_escapes_backend_names_and_errors);
    suite_add_tcase(s, esc);
    tcase_add_test(html, html_values);
    tcase_add_test(html, html_self_contained);
    tcase_add_test(html, html_guard_tripped);
    tcase_add_test(html, html_empty_and_down);
    tcase_add_test(html, html_many_backends);
    tcase_add_test(html, html_too_big);
    suite_add_tcase(s, html);
    tcase_add_test(json, json_values);
    tcase_add_test(json, json_down);
    tcase_add_test(json, json_invalid_utf8_and_not_json_summary);
    suite_add_tcase(s, json);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(statuspage_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
