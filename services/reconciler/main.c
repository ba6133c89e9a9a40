/* main.c -- dadns-reconciler: arguments, configuration, signals, the admin listener, then the
 * pass loop (initial delay, interval, operator requests) or a single pass (--once). What a
 * pass does is pass.c's. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "pass.h"
#include "recstore.h"
#include "redisstats.h"
#include "service.h"

#define EXIT_PASS_FAILED 1
#define EXIT_USAGE       2
#define EXIT_REDIS       3
#define REQUEST_POLL_S   2   /* how often P reconciler:request is looked at */
#define TICK_MS          200 /* loop granularity */
#define RETRY_CAP_S      60  /* a failed pass is tried again after at most this */

static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
    fprintf(f, "usage: dadns-reconciler [-c FILE] [--once [--dry-run] [--force]] [-h] [-V]\n"
               "  -c FILE      configuration file (default: embedded defaults + DADNS_* env)\n"
               "  --once       run one pass now and exit: 0 ok, 1 the pass failed or another\n"
               "               reconciler held the lock, 2 usage or configuration, 3 Redis\n"
               "  --dry-run    with --once: report what the pass would do, change nothing\n"
               "  --force      with --once: delete even when the mass-deletion guard trips\n"
               "  -h           this help\n"
               "  -V           print the version\n"
               "Without --once: a pass after reconciler.initial_delay_s, then every\n"
               "reconciler.interval_s, and one whenever dadnsctl reconcile asks.\n");
}

/* The admin listener's callbacks share the stats connection (admin serializes them). */
static void collect(void *ctx)
{
    struct err e;

    (void)redisstats_collect(ctx, &e);
}

static int ready(void *ctx, char *reason, size_t size)
{
    struct err e;

    err_clear(&e);
    if (redisstats_ping(ctx, &e) == 0)
        return 0;
    snprintf(reason, size, "redis: %s", e.text);
    return 1;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_tick(void)
{
    struct timespec ts = {0, TICK_MS * 1000000L};

    nanosleep(&ts, NULL);
}

/* serve - the loop until SIGINT/SIGTERM. */
static void serve(const struct config *cfg, const struct pass_env *env)
{
    double next_pass = now_s() + cfg->rec_initial_delay_s, next_poll = now_s();
    bool poll_failing = false;

    while (!stop) {
        double now = now_s();

        if (now >= next_poll) {
            struct recstore_request req;
            struct err e;

            next_poll = now + REQUEST_POLL_S;
            err_clear(&e);
            if (recstore_request_get(env->rs, &req, &e) != 0) {
                if (!poll_failing)
                    log_msg(LOG_WARN, "cannot read the operator's request", "error", e.text, NULL);
                poll_failing = true;
            } else {
                poll_failing = false;
            }
            if (!poll_failing && req.present) {
                struct pass_opts o = {req.dry_run || cfg->rec_dry_run, req.force || cfg->rec_force};
                enum pass_result r;

                log_msg(LOG_INFO, "operator requested a pass", "requested_at", req.raw_at,
                        "dry_run", req.dry_run ? "1" : "0", "force", req.force ? "1" : "0", NULL);
                r = pass_run(env, &o, &e);
                if (r != PASS_RESULT_SKIPPED_LOCKED) {
                    struct err de;

                    err_clear(&de);
                    if (recstore_request_done(env->rs, &req, NULL, &de) != 0)
                        log_msg(LOG_WARN, "cannot remove the operator's request", "error", de.text,
                                NULL);
                    if (r == PASS_RESULT_OK && !o.dry_run)
                        next_pass = now_s() + cfg->rec_interval_s;
                }
                continue;
            }
        }
        if (now >= next_pass) {
            struct pass_opts o = {cfg->rec_dry_run, cfg->rec_force};
            struct err e;
            enum pass_result r = pass_run(env, &o, &e);
            double wait = cfg->rec_interval_s;

            if (r == PASS_RESULT_FAILED && wait > RETRY_CAP_S)
                wait = RETRY_CAP_S;
            next_pass = now_s() + wait;
            continue;
        }
        sleep_tick();
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"once", no_argument, NULL, 'o'},    {"dry-run", no_argument, NULL, 'd'},
        {"force", no_argument, NULL, 'f'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    const char *path = NULL;
    bool once = false, dry_run = false, force = false;
    struct config *cfg = NULL;
    struct metrics *reg = NULL;
    struct redisstats *stats = NULL;
    struct admin *adm = NULL;
    struct recstore *rs = NULL;
    struct pass_metrics pm;
    struct pass_env env;
    char holder[PASS_HOLDER_SIZE], sn[16], sb[16], si[16], sd[16];
    struct err e;
    int opt, status = EXIT_PASS_FAILED;

    while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'o':
            once = true;
            break;
        case 'd':
            dry_run = true;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("dadns-reconciler %s\n", DADNS_VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc || ((dry_run || force) && !once) || (dry_run && force)) {
        fprintf(stderr, "dadns-reconciler: %s\n",
                optind < argc ? "unexpected argument"
                : dry_run && force
                    ? "--dry-run and --force exclude each other"
                    : "--dry-run and --force go with --once (a running reconciler takes them "
                      "from dadnsctl reconcile)");
        usage(stderr);
        return EXIT_USAGE;
    }
    err_clear(&e);
    if (config_load(path, &cfg, &e) != 0) {
        fprintf(stderr, "dadns-reconciler: %s\n", e.text);
        return EXIT_USAGE;
    }
    log_init("reconciler", cfg->log_level, cfg->log_format);
    service_signals_install(&stop);
    service_stop_bound(cfg->stop_timeout_s, NULL);
    memset(&pm, 0, sizeof(pm));
    if (recstore_new(cfg, "dadns-reconciler", &rs) != 0) {
        log_msg(LOG_ERROR, "cannot set up the Redis connection", NULL);
        goto out;
    }
    pass_holder_id(holder, sizeof(holder));
    env.cfg = cfg;
    env.rs = rs;
    env.stop = &stop;
    env.metrics = NULL;
    env.holder = holder;
    snprintf(sn, sizeof(sn), "%zu", cfg->n_da_servers);
    snprintf(sb, sizeof(sb), "%zu", cfg->n_backends);
    if (once) {
        struct pass_opts o = {dry_run || cfg->rec_dry_run, force || cfg->rec_force};
        enum pass_result r;

        log_msg(LOG_INFO, "one pass", "servers", sn, "backends", sb, "config", cfg->path, NULL);
        r = pass_run(&env, &o, &e);
        if (r == PASS_RESULT_OK)
            status = 0;
        else if (r == PASS_RESULT_FAILED && (e.code == DADNS_EREDIS || e.code == DADNS_EREPLY))
            status = EXIT_REDIS;
        else
            status = EXIT_PASS_FAILED;
        goto out;
    }

    if (metrics_new(&reg) != 0 || metrics_add_process(reg, "reconciler", NULL, &e) != 0 ||
        pass_metrics_register(reg, cfg, &pm, &e) != 0 ||
        redisstats_new(cfg, reg, "dadns-reconciler-stats", NULL, 0, &stats, &e) != 0) {
        log_msg(LOG_ERROR, "cannot set up the metrics", "error", e.text, NULL);
        goto out;
    }
    env.metrics = &pm;
    {
        struct admin_opts ao;

        memset(&ao, 0, sizeof(ao));
        ao.addr = cfg->metrics_addr;
        ao.port = cfg->metrics_port;
        ao.metrics = reg;
        ao.collect = collect;
        ao.ready = ready;
        ao.ctx = stats;
        if (admin_start(&ao, &adm, &e) != 0) {
            log_msg(LOG_ERROR, "cannot start the admin listener", "error", e.text, NULL);
            goto out;
        }
    }
    snprintf(si, sizeof(si), "%d", cfg->rec_interval_s);
    snprintf(sd, sizeof(sd), "%d", cfg->rec_initial_delay_s);
    {
        char sp[16];

        snprintf(sp, sizeof(sp), "%d", admin_port(adm));
        log_msg(LOG_INFO, "starting", "servers", sn, "backends", sb, "interval_s", si,
                "initial_delay_s", sd, "dry_run", cfg->rec_dry_run ? "1" : "0", "force",
                cfg->rec_force ? "1" : "0", "metrics_port", sp, "holder", holder, "config",
                cfg->path, NULL);
    }
    serve(cfg, &env);
    log_msg(LOG_INFO, "stopped", NULL);
    status = 0;
out:
    admin_stop(adm);
    redisstats_free(stats);
    metrics_free(reg);
    recstore_free(rs);
    config_free(cfg);
    return status;
}
