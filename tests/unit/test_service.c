/* test_service.c -- Check suite for common/service.c: which backend a writer serves (by name,
 * or the only enabled one of its kind) with the reasons it refuses, and the stop signals. */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "service.h"

static struct backend_conf backends[4];
static struct config cfg;

static bool is_bind(const struct backend_conf *bc)
{
    return bc->type == BACKEND_BIND;
}

static const struct service_kind bind_kind = {is_bind, "bind", "bind"};

/* setup - "t.yaml" with backends a (bind), b (bind, disabled), m (powerdns_mysql), c (bind). */
static void setup(void)
{
    static const struct {
        const char *name;
        enum backend_type type;
        bool enabled;
    } defs[4] = {
        {"a", BACKEND_BIND, true},
        {"b", BACKEND_BIND, false},
        {"m", BACKEND_POWERDNS_MYSQL, true},
        {"c", BACKEND_BIND, true},
    };
    size_t i;

    memset(backends, 0, sizeof(backends));
    memset(&cfg, 0, sizeof(cfg));
    for (i = 0; i < 4; i++) {
        backends[i].name = (char *)defs[i].name;
        backends[i].type = defs[i].type;
        backends[i].enabled = defs[i].enabled;
    }
    cfg.path = (char *)"t.yaml";
    cfg.backends = backends;
    cfg.n_backends = 4;
}

/* ---- pick --------------------------------------------------------------------------------- */

START_TEST(pick_by_name)
{
    const struct backend_conf *bc = NULL;
    struct err e;

    ck_assert_int_eq(service_pick_backend(&cfg, "c", &bind_kind, &bc, &e), 0);
    ck_assert_ptr_eq(bc, &backends[3]);
    ck_assert_int_eq(service_pick_backend(&cfg, "x", &bind_kind, &bc, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(bc);
    ck_assert_str_eq(e.text, "t.yaml: no backend \"x\" under dns.backends");
    ck_assert_int_eq(service_pick_backend(&cfg, "m", &bind_kind, &bc, &e), DADNS_ECONFIG);
    ck_assert_str_eq(e.text, "t.yaml: backend \"m\" is not of type bind");
    ck_assert_int_eq(service_pick_backend(&cfg, "b", &bind_kind, &bc, &e), DADNS_ECONFIG);
    ck_assert_str_eq(e.text, "t.yaml: backend \"b\" is disabled");
}
END_TEST

START_TEST(pick_the_only_one)
{
    const struct backend_conf *bc = NULL;
    struct err e;

    ck_assert_int_eq(service_pick_backend(&cfg, NULL, &bind_kind, &bc, &e), DADNS_ECONFIG);
    ck_assert_str_eq(e.text, "t.yaml: several enabled bind backends (\"a\", \"c\"...): choose one "
                             "with -b");
    backends[3].enabled = false;
    ck_assert_int_eq(service_pick_backend(&cfg, NULL, &bind_kind, &bc, &e), 0);
    ck_assert_ptr_eq(bc, &backends[0]);
    backends[0].enabled = false;
    ck_assert_int_eq(service_pick_backend(&cfg, NULL, &bind_kind, &bc, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(bc);
    ck_assert_str_eq(e.text, "t.yaml: no enabled backend of type bind under dns.backends");
}
END_TEST

/* ---- signals ------------------------------------------------------------------------------ */

static volatile sig_atomic_t stop;

START_TEST(signals_set_the_flag)
{
    stop = 0;
    service_signals_install(&stop);
    ck_assert_int_eq(raise(SIGPIPE), 0); /* ignored: the test lives on */
    ck_assert_int_eq(stop, 0);
    ck_assert_int_eq(raise(SIGTERM), 0);
    ck_assert_int_eq(stop, 1);
    stop = 0;
    ck_assert_int_eq(raise(SIGINT), 0);
    ck_assert_int_eq(stop, 1);
}
END_TEST

static Suite *service_suite(void)
{
    Suite *su = suite_create("service");
    TCase *tc;

    tc = tcase_create("pick");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, pick_by_name);
    tcase_add_test(tc, pick_the_only_one);
    suite_add_tcase(su, tc);

    tc = tcase_create("signals");
    tcase_add_test(tc, signals_set_the_flag);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(service_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
