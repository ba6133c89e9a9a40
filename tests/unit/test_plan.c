/* test_plan.c -- Check suite for services/reconciler/plan.c: orphans, protection by servers that
 * did not answer, owner migration and fill-in, conflicts, missing zones, the mass-deletion
 * guard with force and dry run, and a 100k-zone pass. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"

#define MAXS 4

/* A little world: up to MAXS servers with their sets, and the store's zones. */
static struct plan_server srv[MAXS];
static struct strset *sets[MAXS];
static size_t nsrv;
static struct plan_zone zones[64];
static size_t nz;
static struct plan *p;

static void setup(void)
{
    static const char *const names[MAXS] = {"da1", "da2", "da3", "da4"};
    static const char *const hosts[MAXS] = {"da1.example", "da2.example", "da3.example",
                                            "da4.example"};
    size_t i;

    for (i = 0; i < MAXS; i++) {
        ck_assert_int_eq(strset_new(&sets[i]), 0);
        srv[i].name = names[i];
        srv[i].hostname = hosts[i];
        srv[i].answered = true;
        srv[i].zones = sets[i];
    }
    nsrv = 2;
    nz = 0;
    p = NULL;
}

static void teardown(void)
{
    size_t i;

    for (i = 0; i < MAXS; i++)
        strset_free(sets[i]);
    plan_free(p);
    p = NULL;
}

/* list - server @s lists @zone. */
static void list(size_t s, const char *zone)
{
    ck_assert_int_ge(strset_add(sets[s], zone), 0);
}

/* store - the store holds @zone owned by @host (NULL = none), tombstone when @deleted. */
static void store(const char *zone, const char *host, bool deleted)
{
    ck_assert_uint_lt(nz, sizeof(zones) / sizeof(zones[0]));
    zones[nz].name = zone;
    zones[nz].host = host;
    zones[nz].deleted = deleted;
    nz++;
}

static void build(int pct, bool force, bool dry_run)
{
    struct plan_guard g = {pct, force, dry_run};
    struct err e;
    int rc;

    plan_free(p);
    p = NULL;
    rc = plan_build(srv, nsrv, zones, nz, &g, &p, &e);
    ck_assert_msg(rc == 0, "plan_build: %s", e.text);
    ck_assert_ptr_nonnull(p);
}

/* ---- orphans ----------------------------------------------------------------------------- */

START_TEST(orphan_basic)
{
    list(0, "a.example");
    list(0, "b.example");
    store("a.example", "da1.example", false);
    store("b.example", "da1.example", false);
    store("gone.example", "da1.example", false);
    build(100, false, false);
    ck_assert_uint_eq(p->n_deletes, 1);
    ck_assert_str_eq(p->deletes[0].zone, "gone.example");
    ck_assert_uint_eq(p->deletes[0].server, 0);
    ck_assert_uint_eq(p->n_held, 0);
    ck_assert_uint_eq(p->n_owners, 0);
    ck_assert_uint_eq(p->n_conflicts, 0);
    ck_assert_uint_eq(p->n_missing, 0);
    ck_assert(!p->guard_tripped);
    ck_assert_str_eq(p->guard_reason, "");
    ck_assert_uint_eq(p->live_zones, 3);
    ck_assert_uint_eq(p->zones_seen, 2);
    ck_assert_uint_eq(p->answered, 2);
    ck_assert_uint_eq(p->servers[0].listed, 2);
    ck_assert_uint_eq(p->servers[0].stored, 3);
    ck_assert_uint_eq(p->servers[0].orphans, 1);
    ck_assert_uint_eq(p->servers[1].stored, 0);
    ck_assert(!p->dry_run);
    ck_assert(!p->forced);
}
END_TEST

START_TEST(orphan_listed_elsewhere_is_not)
{
    /* recorded under da1, da1 no longer lists it, da2 does: migrated, not an orphan */
    list(0, "keep.example");
    list(1, "moved.example");
    store("keep.example", "da1.example", false);
    store("moved.example", "da1.example", false);
    build(100, false, false);
    ck_assert_uint_eq(p->n_deletes, 0);
    ck_assert_uint_eq(p->n_held, 0);
    ck_assert_uint_eq(p->n_owners, 1);
    ck_assert_str_eq(p->owners[0].zone, "moved.example");
    ck_assert_str_eq(p->owners[0].from, "da1.example");
    ck_assert_uint_eq(p->owners[0].server, 1);
    ck_assert_uint_eq(p->servers[1].gained, 1);
    ck_assert_uint_eq(p->servers[0].orphans, 0);
}
END_TEST

START_TEST(orphan_only_of_configured_owner)
{
    /* no owner, or an owner that is no configured server: never deleted */
    list(0, "a.example");
    store("a.example", "da1.example", false);
    store("noowner.example", NULL, false);
    store("empty.example", "", false);
    store("foreign.example", "old-da.example", false);
    build(100, false, false);
    ck_assert_uint_eq(p->n_deletes, 0);
    ck_assert_uint_eq(p->unowned_unlisted, 3);
    ck_assert_uint_eq(p->n_owners, 0);
}
END_TEST

START_TEST(orphan_owner_case_insensitive)
{
    list(0, "a.example");
    store("a.example", "DA1.Example", false);
    store("b.example", "Da1.EXAMPLE", false);
    build(100, false, false);
    ck_assert_uint_eq(p->n_owners, 0);
    ck_assert_uint_eq(p->servers[0].stored, 2);
    ck_assert_uint_eq(p->n_deletes, 1);
    ck_assert_str_eq(p->deletes[0].zone, "b.example");
}
END_TEST

START_TEST(tombstones_ignored)
{
    list(0, "a.example");
    list(0, "back.example");
    store("a.example", "da1.example", false);
    store("old.example", "da1.example", true);  /* tombstone, unlisted: nothing */
    store("back.example", "da2.example", true); /* tombstone DA lists again: missing */
    build(100, false, false);
    ck_assert_uint_eq(p->n_deletes, 0);
    ck_assert_uint_eq(p->n_owners, 0);
    ck_assert_uint_eq(p->live_zones, 1);
    ck_assert_uint_eq(p->servers[0].stored, 1);
    ck_assert_uint_eq(p->n_missing, 1);
    ck_assert_str_eq(p->missing[0], "back.example");
}
END_TEST

/* ---- servers that did not answer --------------------------------------------------------- */

START_TEST(dead_server_protects)
{
    nsrv = 3;
    srv[1].answered = false;
    srv[1].zones = NULL;
    list(0, "a.example");
    list(2, "c.example");
    list(2, "claimed.example");
    store("a.example", "da1.example", false);
    store("b1.example", "da2.example", false);
    store("b2.example", "da2.example", false);
    store("claimed.example", "da2.example", false); /* da3 lists it, its owner da2 is down */
    store("c.example", "da3.example", false);
    build(0, false, false);
    ck_assert_uint_eq(p->n_deletes, 0);
    ck_assert_uint_eq(p->n_held, 0);
    ck_assert_uint_eq(p->n_owners, 0);
    ck_assert_uint_eq(p->protected_zones, 2);
    ck_assert_uint_eq(p->servers[1].protected_zones, 2);
    ck_assert_uint_eq(p->servers[1].stored, 3);
    ck_assert_uint_eq(p->servers[1].listed, 0);
    ck_assert_uint_eq(p->servers[1].guard, PLAN_GUARD_NONE);
    ck_assert_uint_eq(p->deferred_owners, 1);
    ck_assert_uint_eq(p->answered, 2);
    ck_assert(!p->guard_tripped);
}
END_TEST

START_TEST(all_dead)
{
    srv[0].answered = false;
    srv[1].answered = false;
    store("a.example", "da1.example", false);
    store("b.example", "da2.example", false);
    store("c.example", NULL, false);
    build(10, false, false);
    ck_assert_uint_eq(p->n_deletes + p->n_held + p->n_owners + p->n_missing, 0);
    ck_assert_uint_eq(p->protected_zones, 2);
    ck_assert_uint_eq(p->unowned_unlisted, 1);
    ck_assert_uint_eq(p->zones_seen, 0);
    ck_assert_uint_eq(p->answered, 0);
}
END_TEST

/* ---- owners ------------------------------------------------------------------------------ */

START_TEST(owner_fill_in)
{
    list(1, "a.example");
    list(1, "b.example");
    store("a.example", NULL, false);
    store("b.example", "", false);
    build(10, false, false);
    ck_assert_uint_eq(p->n_owners, 2);
    ck_assert_str_eq(p->owners[0].zone, "a.example");
    ck_assert_str_eq(p->owners[0].from, "");
    ck_assert_uint_eq(p->owners[0].server, 1);
    ck_assert_str_eq(p->owners[1].zone, "b.example");
    ck_assert_str_eq(p->owners[1].from, "");
    ck_assert_uint_eq(p->servers[1].gained, 2);
    ck_assert_uint_eq(p->n_deletes, 0);
}
END_TEST

START_TEST(owner_foreign_migrates)
{
    /* recorded under a DA server that is not configured, listed by a configured one */
    list(0, "a.example");
    store("a.example", "old-da.example", false);
    build(10, false, false);
    ck_assert_uint_eq(p->n_owners, 1);
    ck_assert_str_eq(p->owners[0].from, "old-da.example");
    ck_assert_uint_eq(p->owners[0].server, 0);
}
END_TEST

START_TEST(owner_conflicts)
{
    nsrv = 3;
    list(0, "both.example");
    list(1, "both.example");
    list(0, "three.example");
    list(1, "three.example");
    list(2, "three.example");
    list(0, "new.example");
    list(2, "new.example");
    store("both.example", "da2.example", false);  /* recorded owner lists it: kept */
    store("three.example", "da3.example", false); /* ditto */
    store("new.example", NULL, false);            /* no owner: the first lister */
    build(10, false, false);
    ck_assert_uint_eq(p->n_conflicts, 3);
    ck_assert_str_eq(p->conflicts[0].zone, "both.example");
    ck_assert_uint_eq(p->conflicts[0].owner, 1);
    ck_assert_uint_eq(p->conflicts[0].other, 0);
    ck_assert_uint_eq(p->conflicts[0].listing, 2);
    ck_assert_str_eq(p->conflicts[1].zone, "three.example");
    ck_assert_uint_eq(p->conflicts[1].owner, 2);
    ck_assert_uint_eq(p->conflicts[1].other, 0);
    ck_assert_uint_eq(p->conflicts[1].listing, 3);
    ck_assert_str_eq(p->conflicts[2].zone, "new.example");
    ck_assert_uint_eq(p->conflicts[2].owner, 0);
    ck_assert_uint_eq(p->conflicts[2].other, 2);
    ck_assert_uint_eq(p->n_owners, 1);
    ck_assert_str_eq(p->owners[0].zone, "new.example");
    ck_assert_uint_eq(p->owners[0].server, 0);
    ck_assert_uint_eq(p->zones_seen, 3);
}
END_TEST

START_TEST(owner_migration_to_first_lister)
{
    /* recorded da1 (answered, no longer lists it), listed by da3 and da2: moves to da2 */
    nsrv = 3;
    list(2, "m.example");
    list(1, "m.example");
    store("m.example", "da1.example", false);
    build(10, false, false);
    ck_assert_uint_eq(p->n_owners, 1);
    ck_assert_uint_eq(p->owners[0].server, 1);
    ck_assert_uint_eq(p->n_conflicts, 1);
    ck_assert_uint_eq(p->conflicts[0].owner, 1);
    ck_assert_uint_eq(p->conflicts[0].other, 2);
    ck_assert_uint_eq(p->n_deletes, 0);
}
END_TEST

/* ---- missing ----------------------------------------------------------------------------- */

START_TEST(missing_zones)
{
    nsrv = 3;
    srv[2].answered = false; /* what a dead server "lists" does not count */
    list(2, "ignored.example");
    list(0, "z.example");
    list(0, "a.example");
    list(1, "a.example");
    list(1, "m.example");
    list(1, "live.example");
    store("live.example", "da2.example", false);
    build(10, false, false);
    ck_assert_uint_eq(p->n_missing, 3);
    ck_assert_str_eq(p->missing[0], "a.example");
    ck_assert_str_eq(p->missing[1], "m.example");
    ck_assert_str_eq(p->missing[2], "z.example");
    ck_assert_uint_eq(p->servers[0].missing, 2);
    ck_assert_uint_eq(p->servers[1].missing, 2);
    ck_assert_uint_eq(p->servers[2].missing, 0);
    ck_assert_uint_eq(p->zones_seen, 4);
}
END_TEST

/* ---- the guard --------------------------------------------------------------------------- */

static char names[200][32];

/* own - the store holds @n zones "<prefix><i>.example" of server @s, of which server @s lists
 * the first @listed. */
static void own(size_t s, const char *prefix, size_t n, size_t listed, size_t base)
{
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(names[base + i], sizeof(names[0]), "%s%zu.example", prefix, i);
        if (i < listed)
            list(s, names[base + i]);
    }
}

/* store_many - the store holds every zone made by own() at @base..@base+@n as @host's. */
static void store_many(size_t base, size_t n, const char *host)
{
    size_t i;

    for (i = 0; i < n; i++)
        store(names[base + i], host, false);
}

START_TEST(guard_percent)
{
    /* da1 owns 20 and lists 18: 2 orphans = 10 %, not more than 10 %: deleted */
    own(0, "a", 20, 18, 0);
    store_many(0, 20, "da1.example");
    /* da2 owns 20 and lists 17: 3 orphans = 15 % > 10 %: held */
    own(1, "b", 20, 17, 20);
    store_many(20, 20, "da2.example");
    build(10, false, false);
    ck_assert_uint_eq(p->n_deletes, 2);
    ck_assert_str_eq(p->deletes[0].zone, "a18.example");
    ck_assert_str_eq(p->deletes[1].zone, "a19.example");
    ck_assert_uint_eq(p->n_held, 3);
    ck_assert_str_eq(p->held[0].zone, "b17.example");
    ck_assert_uint_eq(p->held[0].server, 1);
    ck_assert(p->guard_tripped);
    ck_assert_uint_eq(p->guard_server, 1);
    ck_assert_uint_eq(p->servers[0].guard, PLAN_GUARD_NONE);
    ck_assert_uint_eq(p->servers[1].guard, PLAN_GUARD_PERCENT);
    ck_assert_str_eq(p->servers[1].guard_reason, "da2 would delete 3 of its 20 zones (15.0%), "
                                                 "more than max_delete_percent 10%");
    ck_assert_str_eq(p->guard_reason, p->servers[1].guard_reason);
    ck_assert_uint_eq(p->servers[1].orphans, 3);
    ck_assert_uint_eq(p->servers[1].stored, 20);
    ck_assert_uint_eq(p->servers[1].listed, 17);

    /* at 15 % both pass */
    build(15, false, false);
    ck_assert_uint_eq(p->n_deletes, 5);
    ck_assert_uint_eq(p->n_held, 0);
    ck_assert(!p->guard_tripped);

    /* at 0 % any deletion trips */
    build(0, false, false);
    ck_assert_uint_eq(p->n_deletes, 0);
    ck_assert_uint_eq(p->n_held, 5);
    ck_assert_uint_eq(p->guard_server, 0);
    ck_assert_str_eq(p->guard_reason, "da1 would delete 2 of its 20 zones (10.0%), more than "
                                      "max_delete_percent 0%; da2 would delete 3 of its 20 "
                                      "zones (15.0%), more than max_delete_percent 0%");
}
END_TEST

START_TEST(guard_empty_listing)
{
    own(0, "a", 5, 0, 0);
    store_many(0, 5, "da1.example");
    own(1, "b", 2, 2, 5);
    store_many(5, 2, "da2.example");
    /* even at 100 % a server that suddenly lists nothing trips */
    build(100, false, false);
    ck_assert_uint_eq(p->n_deletes, 0);
    ck_assert_uint_eq(p->n_held, 5);
    ck_assert(p->guard_tripped);
    ck_assert_uint_eq(p->servers[0].guard, PLAN_GUARD_EMPTY);
    ck_assert_str_eq(p->guard_reason, "da1 lists no zones but owns 5 in the store");
    /* a server that owns nothing may list nothing */
    nz = 0;
    store_many(5, 2, "da2.example");
    build(10, false, false);
    ck_assert(!p->guard_tripped);
}
END_TEST

START_TEST(guard_force)
{
    own(0, "a", 5, 0, 0);
    store_many(0, 5, "da1.example");
    build(10, true, false);
    ck_assert(p->forced);
    ck_assert(p->guard_tripped); /* reported, but not holding */
    ck_assert_uint_eq(p->servers[0].guard, PLAN_GUARD_EMPTY);
    ck_assert_uint_eq(p->n_held, 0);
    ck_assert_uint_eq(p->n_deletes, 5);
}
END_TEST

START_TEST(guard_dry_run)
{
    own(0, "a", 20, 19, 0);
    store_many(0, 20, "da1.example");
    own(1, "b", 4, 0, 20);
    store_many(20, 4, "da2.example");
    list(1, "new.example");
    store("x.example", NULL, false);
    list(0, "x.example");
    build(10, false, true);
    /* the same decisions, flagged as a report */
    ck_assert(p->dry_run);
    ck_assert_uint_eq(p->n_deletes, 1);
    ck_assert_str_eq(p->deletes[0].zone, "a19.example");
    ck_assert_uint_eq(p->n_held, 4); /* da2 lists only new.example: 4 of 4 = 100 % */
    ck_assert_uint_eq(p->servers[1].guard, PLAN_GUARD_PERCENT);
    build(100, false, true);
    ck_assert_uint_eq(p->n_deletes, 5);
    ck_assert_uint_eq(p->n_owners, 1);
    ck_assert_uint_eq(p->n_missing, 1);
    ck_assert(p->dry_run);
}
END_TEST

/* ---- inputs ------------------------------------------------------------------------------ */

START_TEST(inputs)
{
    struct plan_guard g = {101, false, false};
    struct plan *q = (struct plan *)&g;
    struct err e;

    ck_assert_int_eq(plan_build(srv, nsrv, zones, 0, &g, &q, &e), DADNS_EINVAL);
    ck_assert_ptr_null(q);
    g.max_delete_percent = -1;
    ck_assert_int_eq(plan_build(srv, nsrv, zones, 0, &g, &q, &e), DADNS_EINVAL);
    g.max_delete_percent = 10;
    ck_assert_int_eq(plan_build(srv, nsrv, zones, 0, NULL, &q, &e), DADNS_EINVAL);
    srv[0].zones = NULL;
    ck_assert_int_eq(plan_build(srv, nsrv, zones, 0, &g, &q, &e), DADNS_EINVAL);
    ck_assert_str_eq(e.text, "plan: server 0 is incomplete");
    srv[0].answered = false; /* then its set is not needed */
    ck_assert_int_eq(plan_build(srv, nsrv, zones, 0, &g, &q, &e), 0);
    plan_free(q);
    zones[0].name = NULL;
    ck_assert_int_eq(plan_build(srv, nsrv, zones, 1, &g, &q, &e), DADNS_EINVAL);
    /* nothing at all */
    ck_assert_int_eq(plan_build(NULL, 0, NULL, 0, &g, &q, &e), 0);
    ck_assert_uint_eq(q->n_servers, 0);
    ck_assert_uint_eq(q->live_zones, 0);
    plan_free(q);
    plan_free(NULL);
}
END_TEST

/* ---- scale ------------------------------------------------------------------------------- */

START_TEST(big_pass)
{
    /* 100,000 zones over 3 servers; each server lists its own but 50, plus 1,000 zones the
     * store lacks; 300 zones move from da1 to da2; 1,000 zones have no owner */
    enum { N = 100000 };
    char(*nm)[32] = malloc((size_t)N * 32);
    char(*extra)[32] = malloc(1000 * 32);
    struct plan_zone *z = malloc(N * sizeof(*z));
    struct plan_guard g = {10, false, false};
    struct timespec t0, t1;
    struct plan *q = NULL;
    struct err e;
    double ms;
    size_t i;

    ck_assert(nm != NULL && z != NULL && extra != NULL);
    nsrv = 3;
    for (i = 0; i < N; i++) {
        size_t s = i % 3;

        snprintf(nm[i], 32, "zone%zu.example.com", i);
        z[i].name = nm[i];
        z[i].deleted = false;
        z[i].host = i >= N - 1000 ? NULL : srv[s].hostname;
        if (i < 300 * 3 && s == 0) {
            list(1, nm[i]); /* moved to da2 */
            continue;
        }
        if (i >= 1000 && i < 1000 + 150) /* 50 orphans per server */
            continue;
        list(s, nm[i]);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(extra[i], 32, "new%zu.example.net", i);
        list(i % 3, extra[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(plan_build(srv, nsrv, z, N, &g, &q, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("plan_build: 100000 zones x 3 servers in %.1f ms\n", ms);
    ck_assert_msg(ms < 2000, "plan_build took %.1f ms", ms);
    ck_assert_uint_eq(q->live_zones, N);
    ck_assert_uint_eq(q->n_deletes, 150);
    ck_assert_uint_eq(q->n_held, 0);
    ck_assert_uint_eq(q->n_owners, 300 + 1000);
    ck_assert_uint_eq(q->n_missing, 1000);
    ck_assert_uint_eq(q->zones_seen, N - 150 + 1000);
    ck_assert(!q->guard_tripped);
    plan_free(q);
    free(z);
    free(nm);
    free(extra);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc;

    tc = tcase_create("orphans");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, orphan_basic);
    tcase_add_test(tc, orphan_listed_elsewhere_is_not);
    tcase_add_test(tc, orphan_only_of_configured_owner);
    tcase_add_test(tc, orphan_owner_case_insensitive);
    tcase_add_test(tc, tombstones_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_create("unanswered");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dead_server_protects);
    tcase_add_test(tc, all_dead);
    suite_add_tcase(s, tc);

    tc = tcase_create("owners");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, owner_fill_in);
    tcase_add_test(tc, owner_foreign_migrates);
    tcase_add_test(tc, owner_conflicts);
    tcase_add_test(tc, owner_migration_to_first_lister);
    tcase_add_test(tc, missing_zones);
    suite_add_tcase(s, tc);

    tc = tcase_create("guard");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, guard_percent);
    tcase_add_test(tc, guard_empty_listing);
    tcase_add_test(tc, guard_force);
    tcase_add_test(tc, guard_dry_run);
    tcase_add_test(tc, inputs);
    suite_add_tcase(s, tc);

    tc = tcase_create("scale");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, big_pass);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plan_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
