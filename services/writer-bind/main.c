/* main.c -- dadns-writer-bind: arguments, configuration, signals, then the consumer loop with the
 * BIND backend. Everything else is in common/ (consumer.c) and bindbackend.c. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bindbackend.h"
#include "bindinventory.h"
#include "config.h"
#include "consumer.h"
#include "err.h"
#include "log.h"
#include "service.h"
#include "writeradmin.h"

static volatile sig_atomic_t stop;

static bool is_bind(const struct backend_conf *bc)
{
    return bc->type == BACKEND_BIND;
}

static const struct service_kind kind = {is_bind, "bind", "bind"};

static void usage(FILE *f)
{
    fprintf(f, "usage: dadns-writer-bind [-c FILE] [-b BACKEND] [-h] [-V]\n"
               "  -c FILE     configuration file (default: embedded defaults + DADNS_* env)\n"
               "  -b BACKEND  dns.backends entry to serve (default: the only enabled bind one)\n"
               "  -h          this help\n"
               "  -V          print the version\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    const struct backend_conf *bc;
    struct config *cfg = NULL;
    struct bindbackend *bb = NULL;
    struct writeradmin *wa = NULL;
    struct change_backend backend;
    struct consumer_stats stats;
    struct err e;
    char zones[32], a[32], v[32], r[32], f[32], mp[16];
    int opt, rc, status = 1;

    while ((opt = getopt(argc, argv, "c:b:hV")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'b':
            name = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("dadns-writer-bind %s\n", DADNS_VERSION);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dadns-writer-bind: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 1;
    }

    /* the admin listener comes up before the backend opens: /healthz answers meanwhile */
    if (service_writer_start("dadns-writer-bind", "writer-bind", path, name, &kind, &stop, &stats,
                             &cfg, &bc, &wa) != 0)
        goto out;
    rc = bindbackend_open(bc, &bb, &e);
    if (rc != 0) {
        log_msg(LOG_ERROR, "cannot open the bind backend", "backend", bc->name, "reason", e.text,
                NULL);
        goto out;
    }
    snprintf(zones, sizeof(zones), "%zu", bindbackend_zone_count(bb));
    snprintf(mp, sizeof(mp), "%d", writeradmin_port(wa));
    log_msg(LOG_INFO, "starting", "backend", bc->name, "zones_dir", bc->zones_dir, "named_conf",
            bc->named_conf, "zones", zones, "metrics_port", mp, "config", cfg->path, NULL);

    memset(&backend, 0, sizeof(backend));
    backend.ctx = bb;
    backend.apply = bindbackend_apply;
    backend.probe = bindbackend_probe;
    backend.inventory = bindinventory_backend;
    writeradmin_serving(wa);
    rc = consumer_run(cfg, bc, &backend, &stop, &stats, &e);
    snprintf(a, sizeof(a), "%llu", stats.applied);
    snprintf(v, sizeof(v), "%llu", stats.verified);
    snprintf(r, sizeof(r), "%llu", stats.repaired);
    snprintf(f, sizeof(f), "%llu", stats.failed);
    if (rc != 0) {
        log_msg(LOG_ERROR, "consumer loop failed", "backend", bc->name, "reason", e.text, NULL);
        goto out;
    }
    log_msg(LOG_INFO, "stopped", "backend", bc->name, "applied", a, "verified", v, "repaired", r,
            "failed", f, NULL);
    status = 0;
out:
    writeradmin_stop(wa);
    bindbackend_free(bb);
    config_free(cfg);
    return status;
}
