/* test_control.c -- the operator's Redis operations (common/control.c) against a real
 * redis-server started for the test: status numbers, zone show, push, resync, dead-letter
 * replay and discard, reconcile requests. */
#include <check.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "redis_fixture.h"
#include "store.h"

static struct config *cfg;
static struct control *ctl;
static redisContext *raw; /* a plain connection to prepare and look at keys */

static void setup(void)
{
    /* two configured backends; made from the environment, so sorted: "alpha", "bind" */
    setenv("DADNS_DNS_BACKENDS_BIND_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_ZONES_DIR", "/tmp/dadns-test-control-zones", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_NAMED_CONF", "/tmp/dadns-test-control.conf", 1);
    setenv("DADNS_DNS_BACKENDS_ALPHA_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_ALPHA_ZONES_DIR", "/tmp/dadns-test-control-zones2", 1);
    setenv("DADNS_DNS_BACKENDS_ALPHA_NAMED_CONF", "/tmp/dadns-test-control2.conf", 1);
    redis_fixture_config(&cfg);
    ck_assert_int_eq(control_new(cfg, "test-control", &ctl), 0);
    raw = redis_fixture_raw();
}

static void teardown(void)
{
    control_free(ctl);
    ctl = NULL;
    redis_fixture_teardown(&cfg, &raw);
}

/* The value of field @name in the flat field list @f, or NULL. */
static const char *field(const redisReply *f, const char *name)
{
    size_t i;

    for (i = 0; i + 1 < f->elements; i += 2) {
        if (strcmp(f->element[i]->str, name) == 0)
            return f->element[i + 1]->str;
    }
    return NULL;
}

/* Add a dead letter for @zone to P dead:@be; its id into @id (CONTROL_ID_MAX). */
static void add_dead(const char *be, const char *zone, const char *version, char *id)
{
    redisReply *r = redis_fixture_cmd(raw,
                                      "XADD dadns:dead:%s * zone %s op save version %s reason %s "
                                      "attempts 20 failed_at 1700000000 id 1-0 consumer c1 "
                                      "permanent 0",
                                      be, zone, version, "boom");

    snprintf(id, CONTROL_ID_MAX, "%s", r->str);
    freeReplyObject(r);
}

static const char ZONE1[] = "$TTL 300\n@ IN SOA ns1.x. h.x. 7 2 3 4 5\n@ IN NS ns1.x.\n";

/* Store @zone live through the store's own script (the real shape of the hash). */
static void save_zone(const char *zone)
{
    struct store *st;
    struct store_save_result res;
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_msg(store_save(st, zone, ZONE1, strlen(ZONE1), 7, "da1", "bob", &res, &e) == 0, "%s",
                  e.text);
    store_free(st);
}

static void delete_zone(const char *zone)
{
    struct store *st;
    struct store_del_result res;
    struct err e;

    ck_assert_int_eq(store_new(cfg, "test", &st), 0);
    ck_assert_int_eq(store_delete(st, &zone, 1, "da1", "bob", &res, &e), 0);
    ck_assert_int_eq(res.outcome, STORE_DEL_DELETED);
    store_free(st);
}

static const struct control_group *group_of(const struct control_status *st, const char *name)
{
    size_t i;

    for (i = 0; i < st->n_groups; i++) {
        if (strcmp(st->groups[i].be.name, name) == 0)
            return &st->groups[i];
    }
    return NULL;
}

/* ---- status ---- */

START_TEST(status_counts_everything)
{
    struct control_status *st = NULL;
    const struct control_group *g;
    redisReply *r;
    char first[CONTROL_ID_MAX], id[CONTROL_ID_MAX];
    struct err e;

    save_zone("a.com");
    save_zone("b.com");
    save_zone("c.com");
    delete_zone("c.com"); /* 4 stream entries, 2 live, 1 tombstone */
    /* bind: consumer c1 reads 2 entries and acks the second; c2 reads 1 and acks it; the
     * acked second entry is then deleted: bind has read past it, so its lag stays known (1),
     * while group "extra" (unconfigured, at the start) gets lag nil = unknown */
    redis_fixture_do(raw, "XGROUP CREATE dadns:changes bind 0");
    redis_fixture_do(raw, "XGROUP CREATE dadns:changes extra 0");
    r = redis_fixture_cmd(raw, "XREADGROUP GROUP bind c1 COUNT 2 STREAMS dadns:changes >");
    snprintf(first, sizeof(first), "%s", r->element[0]->element[1]->element[0]->element[0]->str);
    snprintf(id, sizeof(id), "%s", r->element[0]->element[1]->element[1]->element[0]->str);
    freeReplyObject(r);
    redis_fixture_do(raw, "XACK dadns:changes bind %s", id);
    redis_fixture_do(raw, "XDEL dadns:changes %s", id);
    r = redis_fixture_cmd(raw, "XREADGROUP GROUP bind c2 COUNT 1 STREAMS dadns:changes >");
    redis_fixture_do(raw, "XACK dadns:changes bind %s",
                     r->element[0]->element[1]->element[0]->element[0]->str);
    freeReplyObject(r);
    add_dead("bind", "a.com", "1", id);
    add_dead("bind", "b.com", "2", id);
    add_dead("gone", "b.com", "2", id); /* dead letters of a backend no longer configured */
    redis_fixture_do(raw, "SET dadns:reconciler:last {\"finished_at\":5}");
    redis_fixture_do(raw, "HSET dadns:reconciler:guard server da1 would_delete 9 listed 1 "
                          "stored 10 at 5");

    ck_assert_msg(control_status(ctl, &st, &e) == 0, "%s", e.text);
    ck_assert_int_gt(st->now_ms, 0);
    ck_assert_int_eq(st->stream_length, 3);
    ck_assert_int_eq(st->zones_live, 2);
    ck_assert_int_eq(st->zones_tombstones, 1);
    /* configured first, in file order, then the others sorted */
    ck_assert_uint_eq(st->n_groups, 4);
    ck_assert_str_eq(st->groups[0].be.name, "alpha");
    ck_assert_str_eq(st->groups[1].be.name, "bind");
    ck_assert_str_eq(st->groups[2].be.name, "extra");
    ck_assert_str_eq(st->groups[3].be.name, "gone");

    g = group_of(st, "bind");
    ck_assert(g->be.configured && g->be.has_group && g->be.has_dead);
    ck_assert_int_eq(g->pending, 1);
    ck_assert_int_eq(g->lag, 1); /* 4 added, 3 delivered */
    ck_assert_str_eq(g->oldest_pending, first);
    ck_assert_int_ge(g->oldest_pending_age_ms, 0);
    ck_assert_int_eq(g->dead, 2);
    ck_assert_uint_eq(g->n_consumers, 2);
    ck_assert_str_eq(g->consumers[0].name, "c1");
    ck_assert_int_eq(g->consumers[0].pending, 1);
    ck_assert_int_ge(g->consumers[0].idle_ms, 0);
    ck_assert_str_eq(g->consumers[1].name, "c2");
    ck_assert_int_eq(g->consumers[1].pending, 0);

    g = group_of(st, "alpha"); /* configured, no group yet */
    ck_assert(g->be.configured && !g->be.has_group);
    ck_assert_int_eq(g->pending, -1);
    ck_assert_int_eq(g->lag, -1);
    ck_assert_int_eq(g->oldest_pending_age_ms, -1);
    ck_assert_int_eq(g->dead, 0);

    g = group_of(st, "extra");
    ck_assert(!g->be.configured && g->be.has_group);
    ck_assert_int_eq(g->pending, 0);
    ck_assert_int_eq(g->lag, -1); /* nil: unknown, not 0 */
    ck_assert_str_eq(g->oldest_pending, "");

    g = group_of(st, "gone");
    ck_assert(!g->be.configured && !g->be.has_group && g->be.has_dead);
    ck_assert_int_eq(g->dead, 1);

    ck_assert_str_eq(st->reconciler_last, "{\"finished_at\":5}");
    ck_assert_uint_eq(st->n_guard, 10);
    ck_assert_str_eq(st->guard[0], "server");
    ck_assert_str_eq(st->guard[1], "da1");
    control_status_free(st);
}
END_TEST

START_TEST(status_of_an_empty_store)
{
    struct control_status *st = NULL;
    struct err e;

    ck_assert_msg(control_status(ctl, &st, &e) == 0, "%s", e.text);
    ck_assert_int_eq(st->stream_length, 0);
    ck_assert_int_eq(st->zones_live, 0);
    ck_assert_int_eq(st->zones_tombstones, 0);
    ck_assert_uint_eq(st->n_groups, 2);
    ck_assert_ptr_null(st->reconciler_last);
    ck_assert_uint_eq(st->n_guard, 0);
    control_status_free(st);
}
END_TEST

START_TEST(unreachable_redis_is_eredis)
{
    struct control_status *st = NULL;
    struct config *c2 = NULL;
    struct control *x = NULL;
    struct err e;

    setenv("DADNS_REDIS_PORT", "1", 1);
    ck_assert_msg(config_load(NULL, &c2, &e) == 0, "%s", e.text);
    ck_assert_int_eq(control_new(c2, "test-control", &x), 0);
    ck_assert_int_eq(control_status(x, &st, &e), DADNS_EREDIS);
    ck_assert_ptr_null(st);
    ck_assert_int_eq(control_ping(x, &e), DADNS_EREDIS);
    control_free(x);
    config_free(c2);
}
END_TEST

START_TEST(backends_merge_config_groups_and_dead_streams)
{
    struct control_backend *bes = NULL;
    size_t n = 0;
    char id[CONTROL_ID_MAX];
    struct err e;
    int known;

    redis_fixture_do(raw, "XGROUP CREATE dadns:changes zeta 0 MKSTREAM");
    redis_fixture_do(raw, "XGROUP CREATE dadns:changes bind 0");
    add_dead("beta", "a.com", "1", id);
    ck_assert_int_eq(control_backends(ctl, 0, &bes, &n, &e), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(bes[0].name, "alpha");
    ck_assert(bes[0].configured && !bes[0].has_group);
    ck_assert_str_eq(bes[1].name, "bind");
    ck_assert(bes[1].configured && bes[1].has_group);
    ck_assert_str_eq(bes[2].name, "zeta");
    free(bes);
    ck_assert_int_eq(control_backends(ctl, 1, &bes, &n, &e), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(bes[2].name, "beta");
    ck_assert(bes[2].has_dead && !bes[2].has_group);
    ck_assert_str_eq(bes[3].name, "zeta");
    free(bes);
    ck_assert_int_eq(control_backend_known(ctl, "zeta", &known, &e), 0);
    ck_assert_int_eq(known, 1);
    ck_assert_int_eq(control_backend_known(ctl, "alpha", &known, &e), 0);
    ck_assert_int_eq(known, 1);
    ck_assert_int_eq(control_backend_known(ctl, "beta", &known, &e), 0);
    ck_assert_int_eq(known, 0);
}
END_TEST

/* ---- zones ---- */

START_TEST(zone_show_live_tombstone_missing)
{
    struct control_zone *z = NULL;
    struct err e;

    save_zone("a.com");   /* version 1 */
    save_zone("t.com");   /* version 2 */
    delete_zone("t.com"); /* version 3 */
    redis_fixture_do(raw, "XGROUP CREATE dadns:changes extra 0");
    redis_fixture_do(raw, "HSET dadns:applied:bind a.com 1 t.com 2");
    redis_fixture_do(raw, "HSET dadns:applied:alpha a.com 0");

    ck_assert_msg(control_zone_show(ctl, "a.com", 1, &z, &e) == 0, "%s", e.text);
    ck_assert_str_eq(z->name, "a.com");
    ck_assert_int_eq(z->deleted, 0);
    ck_assert_int_eq(z->live, 1);
    ck_assert_uint_eq(z->version, 1);
    ck_assert_uint_eq(z->serial, 7);
    ck_assert_str_eq(z->host, "da1");
    ck_assert_str_eq(z->user, "bob");
    ck_assert_int_gt(z->updated_ms, 1600000000000LL);
    ck_assert_uint_eq(strlen(z->digest), 40);
    ck_assert_uint_eq(z->text_len, strlen(ZONE1));
    ck_assert_str_eq(z->text, ZONE1);
    ck_assert_uint_eq(z->n_applied, 3); /* alpha, bind (configured), extra (group) */
    ck_assert_str_eq(z->applied[0].be.name, "alpha");
    ck_assert(z->applied[0].has_applied && !z->applied[0].current);
    ck_assert_str_eq(z->applied[1].be.name, "bind");
    ck_assert(z->applied[1].has_applied && z->applied[1].current);
    ck_assert_uint_eq(z->applied[1].applied, 1);
    ck_assert_str_eq(z->applied[2].be.name, "extra");
    ck_assert(!z->applied[2].has_applied && !z->applied[2].current);
    control_zone_free(z);

    ck_assert_msg(control_zone_show(ctl, "t.com", 0, &z, &e) == 0, "%s", e.text);
    ck_assert_int_eq(z->deleted, 1);
    ck_assert_int_eq(z->live, 0);
    ck_assert_uint_eq(z->version, 3);
    ck_assert_ptr_null(z->text);
    ck_assert_uint_eq(z->applied[1].applied, 2);
    ck_assert_int_eq(z->applied[1].current, 0); /* the delete is not applied yet */
    control_zone_free(z);

    z = NULL;
    ck_assert_int_eq(control_zone_show(ctl, "missing.com", 0, &z, &e), DADNS_ENOTFOUND);
    ck_assert_ptr_null(z);
    ck_assert_ptr_nonnull(strstr(e.text, "missing.com"));
}
END_TEST

START_TEST(push_appends_a_push_entry)
{
    char id[CONTROL_ID_MAX];
    uint64_t v = 0;
    redisReply *r;
    struct err e;

    save_zone("a.com");
    save_zone("a.com"); /* identical: still version 1 */
    ck_assert_int_eq(control_push(ctl, "a.com", NULL, &v, id, sizeof(id), &e), 0);
    ck_assert_uint_eq(v, 1);
    r = redis_fixture_cmd(raw, "XRANGE dadns:changes %s %s", id, id);
    ck_assert_uint_eq(r->elements, 1);
    ck_assert_uint_eq(r->element[0]->element[1]->elements, 6); /* op, zone, version only */
    ck_assert_str_eq(field(r->element[0]->element[1], "op"), "push");
    ck_assert_str_eq(field(r->element[0]->element[1], "zone"), "a.com");
    ck_assert_str_eq(field(r->element[0]->element[1], "version"), "1");
    freeReplyObject(r);

    ck_assert_int_eq(control_push(ctl, "a.com", "bind", &v, id, sizeof(id), &e), 0);
    r = redis_fixture_cmd(raw, "XRANGE dadns:changes %s %s", id, id);
    ck_assert_str_eq(field(r->element[0]->element[1], "op"), "push");
    ck_assert_str_eq(field(r->element[0]->element[1], "backend"), "bind");
    freeReplyObject(r);

    ck_assert_int_eq(control_push(ctl, "nothere.com", NULL, &v, id, sizeof(id), &e),
                     DADNS_ENOTFOUND);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 4);
}
END_TEST

static size_t progress_calls, progress_done, progress_total;

static void on_progress(void *arg, size_t done, size_t total)
{
    (void)arg;
    progress_calls++;
    ck_assert_uint_ge(done, progress_done);
    progress_done = done;
    progress_total = total;
}

START_TEST(resync_pushes_every_live_zone_once)
{
    char z[32], seen[16];
    size_t pushed = 0, i, j;
    redisReply *r;
    long long before;
    struct err e;

    for (i = 0; i < 11; i++) {
        snprintf(z, sizeof(z), "z%zu.com", i);
        save_zone(z);
    }
    delete_zone("z3.com");
    delete_zone("z7.com");
    before = redis_fixture_int(raw, "XLEN dadns:changes");
    progress_calls = progress_done = progress_total = 0;
    /* batches of 2: 5 scripts, more than one pipelined round */
    ck_assert_msg(control_resync(ctl, "bind", 2, on_progress, NULL, &pushed, &e) == 0, "%s",
                  e.text);
    ck_assert_uint_eq(pushed, 9);
    ck_assert_uint_ge(progress_calls, 2);
    ck_assert_uint_eq(progress_done, 9);
    ck_assert_uint_eq(progress_total, 9);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), before + 9);
    r = redis_fixture_cmd(raw, "XREVRANGE dadns:changes + - COUNT 9");
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < r->elements; i++) {
        const redisReply *f = r->element[i]->element[1];
        const char *zone = field(f, "zone");

        ck_assert_str_eq(field(f, "op"), "push");
        ck_assert_str_eq(field(f, "backend"), "bind");
        ck_assert_ptr_nonnull(field(f, "version"));
        ck_assert(sscanf(zone, "z%zu.com", &j) == 1 && j < 11);
        ck_assert_msg(j != 3 && j != 7, "tombstone %s pushed", zone);
        ck_assert_int_eq(seen[j], 0);
        seen[j] = 1;
    }
    freeReplyObject(r);
    /* nothing else touched: the tombstones stay, the live set is the same */
    ck_assert_int_eq(redis_fixture_int(raw, "SCARD dadns:zones"), 9);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:zone:z3.com deleted"), 1);

    redis_fixture_do(raw, "DEL dadns:zones");
    ck_assert_int_eq(control_resync(ctl, "bind", 0, NULL, NULL, &pushed, &e), 0);
    ck_assert_uint_eq(pushed, 0);
}
END_TEST

/* ---- dead letters ---- */

START_TEST(dead_list_reads_every_field)
{
    struct control_dead *d = NULL;
    char id1[CONTROL_ID_MAX], id2[CONTROL_ID_MAX], id3[CONTROL_ID_MAX];
    long long total = 0;
    size_t n = 0;
    struct err e;

    add_dead("bind", "a.com", "5", id1);
    add_dead("bind", "b.com", "6", id2);
    add_dead("bind", "c.com", "7", id3);
    ck_assert_int_eq(control_dead_list(ctl, "bind", NULL, 2, &d, &n, &total, &e), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(total, 3);
    ck_assert_str_eq(d[0].id, id1);
    ck_assert_str_eq(d[0].zone, "a.com");
    ck_assert_str_eq(d[0].op, "save");
    ck_assert_uint_eq(d[0].version, 5);
    ck_assert_int_eq(d[0].attempts, 20);
    ck_assert_str_eq(d[0].reason, "boom");
    ck_assert_int_eq(d[0].failed_at, 1700000000);
    ck_assert_str_eq(d[0].orig_id, "1-0");
    ck_assert_str_eq(d[0].consumer, "c1");
    ck_assert_int_eq(d[0].permanent, 0);
    free(d);
    ck_assert_int_eq(control_dead_list(ctl, "bind", id2, 0, &d, &n, NULL, &e), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(d[0].id, id3);
    free(d);
    ck_assert_int_eq(control_dead_list(ctl, "nobody", NULL, 0, &d, &n, &total, &e), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(total, 0);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(replay_moves_an_entry)
{
    char id1[CONTROL_ID_MAX], id2[CONTROL_ID_MAX];
    redisReply *r;
    const redisReply *f;
    struct err e;

    add_dead("bind", "a.com", "5", id1);
    add_dead("bind", "b.com", "6", id2);
    ck_assert_msg(control_dead_replay(ctl, "bind", id1, &e) == 0, "%s", e.text);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:bind"), 1);
    r = redis_fixture_cmd(raw, "XRANGE dadns:dead:bind - +");
    ck_assert_str_eq(r->element[0]->element[0]->str, id2); /* the other one stays */
    freeReplyObject(r);
    r = redis_fixture_cmd(raw, "XRANGE dadns:changes - +");
    ck_assert_uint_eq(r->elements, 1);
    f = r->element[0]->element[1];
    ck_assert_uint_eq(f->elements, 8);
    ck_assert_str_eq(field(f, "op"), "push");
    ck_assert_str_eq(field(f, "zone"), "a.com");
    ck_assert_str_eq(field(f, "version"), "5");
    ck_assert_str_eq(field(f, "backend"), "bind");
    freeReplyObject(r);
    /* a second time: gone */
    ck_assert_int_eq(control_dead_replay(ctl, "bind", id1, &e), DADNS_ENOTFOUND);
    ck_assert_int_eq(control_dead_replay(ctl, "other", id2, &e), DADNS_ENOTFOUND);
    ck_assert_int_eq(control_dead_replay(ctl, "bind", "nonsense", &e), DADNS_EINVAL);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 1);
}
END_TEST

START_TEST(replay_all_moves_every_entry)
{
    char id[CONTROL_ID_MAX], noz[CONTROL_ID_MAX];
    size_t replayed = 0, skipped = 0, i;
    redisReply *r;
    struct err e;

    for (i = 0; i < 450; i++) { /* more than one page */
        char z[32];

        snprintf(z, sizeof(z), "z%zu.com", i);
        add_dead("bind", z, "3", id);
    }
    r = redis_fixture_cmd(raw, "XADD dadns:dead:bind * op inventory zone %s version 0 reason x",
                          "");
    snprintf(noz, sizeof(noz), "%s", r->str);
    freeReplyObject(r);
    add_dead("alpha", "keep.com", "1", id);
    ck_assert_msg(control_dead_replay_all(ctl, "bind", &replayed, &skipped, &e) == 0, "%s", e.text);
    ck_assert_uint_eq(replayed, 450);
    ck_assert_uint_eq(skipped, 1);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:changes"), 450);
    /* the one without a zone */
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:bind"), 1);
    ck_assert_int_eq(control_dead_replay(ctl, "bind", noz, &e), DADNS_EINVAL);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:alpha"), 1);
    r = redis_fixture_cmd(raw, "XREVRANGE dadns:changes + - COUNT 1");
    ck_assert_str_eq(field(r->element[0]->element[1], "zone"), "z449.com");
    ck_assert_str_eq(field(r->element[0]->element[1], "backend"), "bind");
    freeReplyObject(r);
}
END_TEST

START_TEST(discard_drops_entries)
{
    char id1[CONTROL_ID_MAX], id2[CONTROL_ID_MAX], id3[CONTROL_ID_MAX];
    size_t n = 0;
    struct err e;

    add_dead("bind", "a.com", "5", id1);
    add_dead("bind", "b.com", "6", id2);
    add_dead("bind", "c.com", "7", id3);
    ck_assert_int_eq(control_dead_discard(ctl, "bind", id2, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "XLEN dadns:dead:bind"), 2);
    ck_assert_int_eq(control_dead_discard(ctl, "bind", id2, &e), DADNS_ENOTFOUND);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:changes"), 0); /* nothing republished */
    ck_assert_int_eq(control_dead_discard_all(ctl, "bind", &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(redis_fixture_int(raw, "EXISTS dadns:dead:bind"), 0);
    ck_assert_int_eq(control_dead_discard_all(ctl, "bind", &n, &e), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(id_syntax)
{
    ck_assert(control_id_valid("1700000000000-0"));
    ck_assert(control_id_valid("5"));
    ck_assert(!control_id_valid(""));
    ck_assert(!control_id_valid("-"));
    ck_assert(!control_id_valid("1-"));
    ck_assert(!control_id_valid("a-1"));
    ck_assert(!control_id_valid("1-1-1"));
    ck_assert(!control_id_valid("+"));
    ck_assert(!control_id_valid("123456789012345678901-0"));
}
END_TEST

/* ---- reconciler ---- */

START_TEST(reconcile_request_and_done)
{
    long long at = 0;
    char *json = NULL, last[128];
    redisReply *r;
    struct err e;
    int done = 1;

    ck_assert_int_eq(control_reconcile_request(ctl, 1, 0, &at, &e), 0);
    ck_assert_int_gt(at, 1600000000);
    r = redis_fixture_cmd(raw, "HGETALL dadns:reconciler:request");
    ck_assert_uint_eq(r->elements, 6);
    ck_assert_str_eq(field(r, "dry_run"), "1");
    ck_assert_str_eq(field(r, "force"), "0");
    ck_assert_int_eq(strtoll(field(r, "requested_at"), NULL, 10), at);
    freeReplyObject(r);
    ck_assert_int_eq(control_reconcile_request(ctl, 0, 1, &at, &e), 0);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:reconciler:request force"), 1);
    ck_assert_int_eq(redis_fixture_int(raw, "HGET dadns:reconciler:request dry_run"), 0);

    /* not picked up: not done, even with a summary that looks recent */
    snprintf(last, sizeof(last), "{\"started_at\":%lld,\"finished_at\":%lld}", at, at + 1);
    redis_fixture_do(raw, "SET dadns:reconciler:last %s", last);
    ck_assert_int_eq(control_reconcile_done(ctl, at, &done, &json, &e), 0);
    ck_assert_int_eq(done, 0);
    ck_assert_ptr_null(json);
    /* picked up, but the summary is an older pass */
    redis_fixture_do(raw, "DEL dadns:reconciler:request");
    redis_fixture_do(raw, "SET dadns:reconciler:last {\"finished_at\":%lld}", at - 10);
    ck_assert_int_eq(control_reconcile_done(ctl, at, &done, &json, &e), 0);
    ck_assert_int_eq(done, 0);
    /* the pass ran */
    redis_fixture_do(raw, "SET dadns:reconciler:last %s", last);
    ck_assert_int_eq(control_reconcile_done(ctl, at, &done, &json, &e), 0);
    ck_assert_int_eq(done, 1);
    ck_assert_str_eq(json, last);
    free(json);
    /* finished_at as a string is fine too */
    redis_fixture_do(raw, "SET dadns:reconciler:last {\"finished_at\":\"%lld\"}", at);
    ck_assert_int_eq(control_reconcile_done(ctl, at, &done, &json, &e), 0);
    ck_assert_int_eq(done, 1);
    free(json);
    ck_assert_int_eq(control_reconciler_last(ctl, &json, &e), 0);
    ck_assert_ptr_nonnull(json);
    free(json);
}
END_TEST

static Suite *control_suite(void)
{
    Suite *s = suite_create("control");
    TCase *ts = tcase_create("status");
    TCase *tz = tcase_create("zones");
    TCase *td = tcase_create("dead");
    TCase *tr = tcase_create("reconciler");

    tcase_add_checked_fixture(ts, setup, teardown);
    tcase_add_test(ts, status_counts_everything);
    tcase_add_test(ts, status_of_an_empty_store);
    tcase_add_test(ts, unreachable_redis_is_eredis);
    tcase_add_test(ts, backends_merge_config_groups_and_dead_streams);
    tcase_add_checked_fixture(tz, setup, teardown);
    tcase_add_test(tz, zone_show_live_tombstone_missing);
    tcase_add_test(tz, push_appends_a_push_entry);
    tcase_add_test(tz, resync_pushes_every_live_zone_once);
    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_test(td, dead_list_reads_every_field);
    tcase_add_test(td, replay_moves_an_entry);
    tcase_add_test(td, replay_all_moves_every_entry);
    tcase_add_test(td, discard_drops_entries);
    tcase_add_test(td, id_syntax);
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_add_test(tr, reconcile_request_and_done);
    suite_add_tcase(s, ts);
    suite_add_tcase(s, tz);
    suite_add_tcase(s, td);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (redis_fixture_start() < 0)
        return 1;
    sr = srunner_create(control_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    redis_fixture_stop();
    return failed ? 1 : 0;
}
