/* main.c -- dadns-writer-mysql: arguments, configuration, signals, the database (waited for while
 * it is unreachable), then the consumer loop with the MySQL backend. Everything else is in
 * common/ (consumer.c) and mysqlbackend.c. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "consumer.h"
#include "err.h"
#include "log.h"
#include "mysqlbackend.h"
#include "mysqlinventory.h"
#include "service.h"
#include "writeradmin.h"

#define WAIT_MAX_S 30 /* longest pause between two connection attempts at start */

static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
    fprintf(f, "usage: dadns-writer-mysql [-c FILE] [-b BACKEND] [--init-schema] [-h] [-V]\n"
               "  -c FILE        configuration file (default: embedded defaults + DADNS_* env)\n"
               "  -b BACKEND     dns.backends entry to serve (default: the only enabled\n"
               "                 coredns_mysql or powerdns_mysql one)\n"
               "  --init-schema  create the missing tables at start (like init_schema: true)\n"
               "  -h             this help\n"
               "  -V             print the version\n");
}

static bool is_mysql(const struct backend_conf *bc)
{
    return bc->type == BACKEND_COREDNS_MYSQL || bc->type == BACKEND_POWERDNS_MYSQL;
}

static const struct service_kind kind = {is_mysql, "coredns_mysql or powerdns_mysql", "mysql"};

/* on_warn - the backend's warnings, logged. */
static void on_warn(void *arg, const char *zone, const char *what)
{
    const struct backend_conf *bc = arg;

    if (zone != NULL)
        log_msg(LOG_WARN, "database warning", "backend", bc->name, "zone", zone, "reason", what,
                NULL);
    else
        log_msg(LOG_WARN, "database warning", "backend", bc->name, "reason", what, NULL);
}

/* open_backend - mysqlbackend_open, retried with backoff while the server is unreachable
 * (DADNS_EBACKEND) and no stop was asked for; other errors end it. */
static int open_backend(const struct backend_conf *bc, bool init_schema, struct mysqlbackend **mb)
{
    char created[256];
    struct err e;
    unsigned wait_s = 1, left;
    int rc;

    for (;;) {
        err_clear(&e);
        rc = mysqlbackend_open(bc, init_schema, created, sizeof(created), mb, &e);
        if (rc == 0)
            break;
        if (rc != DADNS_EBACKEND) {
            log_msg(LOG_ERROR, "cannot use the database", "backend", bc->name, "reason", e.text,
                    NULL);
            return rc;
        }
        log_msg(LOG_WARN, "database unreachable, will retry", "backend", bc->name, "reason", e.text,
                NULL);
        for (left = wait_s; left > 0 && !stop; left--)
            sleep(1);
        if (stop)
            return rc;
        wait_s = wait_s * 2 > WAIT_MAX_S ? WAIT_MAX_S : wait_s * 2;
    }
    if (created[0] != '\0')
        log_msg(LOG_INFO, "created tables", "backend", bc->name, "database", bc->database, "tables",
                created, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"init-schema", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *name = NULL;
    const struct backend_conf *bc;
    const struct mysqlbackend_stats *ms;
    struct config *cfg = NULL;
    struct mysqlbackend *mb = NULL;
    struct writeradmin *wa = NULL;
    struct change_backend backend;
    struct consumer_stats stats;
    struct err e;
    bool init_schema = false;
    char a[24], s[24], f[24], r[24], m[24], mp[16];
    int opt, rc, status = 1;

    while ((opt = getopt_long(argc, argv, "c:b:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'b':
            name = optarg;
            break;
        case 'I':
            init_schema = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("dadns-writer-mysql %s\n", DADNS_VERSION);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dadns-writer-mysql: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 1;
    }

    /* the admin listener comes up before the backend opens: /healthz answers meanwhile */
    if (service_writer_start("dadns-writer-mysql", "writer-mysql", path, name, &kind, &stop, &stats,
                             &cfg, &bc, &wa) != 0)
        goto out;
    rc = open_backend(bc, init_schema, &mb);
    if (rc != 0) {
        status = stop ? 0 : 1;
        goto out;
    }
    mysqlbackend_set_warn(mb, on_warn, (void *)bc);
    snprintf(mp, sizeof(mp), "%d", writeradmin_port(wa));
    log_msg(LOG_INFO, "starting", "backend", bc->name, "type",
            bc->type == BACKEND_COREDNS_MYSQL ? "coredns_mysql" : "powerdns_mysql", "database",
            bc->database, "metrics_port", mp, "config", cfg->path, NULL);

    memset(&backend, 0, sizeof(backend));
    backend.ctx = mb;
    backend.apply = mysqlbackend_apply;
    backend.probe = mysqlbackend_probe;
    backend.inventory = mysqlinventory_backend;
    writeradmin_serving(wa);
    rc = consumer_run(cfg, bc, &backend, &stop, &stats, &e);
    if (rc != 0) {
        log_msg(LOG_ERROR, "consumer loop failed", "backend", bc->name, "reason", e.text, NULL);
        goto out;
    }
    ms = mysqlbackend_stats(mb);
    snprintf(a, sizeof(a), "%llu", stats.applied);
    snprintf(s, sizeof(s), "%llu", ms->skipped);
    snprintf(f, sizeof(f), "%llu", stats.failed);
    snprintf(r, sizeof(r), "%llu", stats.repaired);
    snprintf(m, sizeof(m), "%llu", ms->count_mismatch);
    log_msg(LOG_INFO, "stopped", "backend", bc->name, "applied", a, "already_there", s, "failed", f,
            "repaired", r, "count_mismatches", m, NULL);
    status = 0;
out:
    writeradmin_stop(wa);
    mysqlbackend_free(mb);
    config_free(cfg);
    return status;
}
