/* main.c -- dadns-writer-bind: arguments, configuration, signals, then the consumer loop with the
 * BIND backend. Everything else is in common/ (consumer.c) and bindbackend.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bindbackend.h"
#include "config.h"
#include "consumer.h"
#include "err.h"
#include "log.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dadns-writer-bind [-c FILE] [-b BACKEND] [-h] [-V]\n"
               "  -c FILE     configuration file (default: embedded defaults + DADNS_* env)\n"
               "  -b BACKEND  dns.backends entry to serve (default: the only enabled bind one)\n"
               "  -h          this help\n"
               "  -V          print the version\n");
}

/* pick - the backend to run: @name, or the only enabled one of type bind. */
static const struct backend_conf *pick(const struct config *cfg, const char *name)
{
    const struct backend_conf *bc = NULL;
    size_t i, found = 0;

    if (name != NULL) {
        bc = config_backend(cfg, name);
        if (bc == NULL) {
            fprintf(stderr, "dadns-writer-bind: %s: no backend \"%s\" under dns.backends\n",
                    cfg->path, name);
            return NULL;
        }
        if (bc->type != BACKEND_BIND) {
            fprintf(stderr, "dadns-writer-bind: %s: backend \"%s\" is not of type bind\n",
                    cfg->path, name);
            return NULL;
        }
        if (!bc->enabled) {
            fprintf(stderr, "dadns-writer-bind: %s: backend \"%s\" is disabled\n", cfg->path, name);
            return NULL;
        }
        return bc;
    }
    for (i = 0; i < cfg->n_backends; i++) {
        if (cfg->backends[i].type != BACKEND_BIND || !cfg->backends[i].enabled)
            continue;
        if (found++ > 0) {
            fprintf(stderr,
                    "dadns-writer-bind: %s: several enabled bind backends (\"%s\", \"%s\"...): "
                    "choose one with -b\n",
                    cfg->path, bc->name, cfg->backends[i].name);
            return NULL;
        }
        bc = &cfg->backends[i];
    }
    if (bc == NULL)
        fprintf(stderr,
                "dadns-writer-bind: %s: no enabled backend of type bind under "
                "dns.backends\n",
                cfg->path);
    return bc;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    const struct backend_conf *bc;
    struct config *cfg = NULL;
    struct bindbackend *bb = NULL;
    struct change_backend backend;
    struct consumer_stats stats;
    struct sigaction sa;
    struct err e;
    char zones[32], a[32], v[32], r[32], f[32];
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

    err_clear(&e);
    rc = config_load(path, &cfg, &e);
    if (rc != 0) {
        fprintf(stderr, "dadns-writer-bind: %s\n", e.text);
        goto out;
    }
    bc = pick(cfg, name);
    if (bc == NULL)
        goto out;
    log_init("writer-bind", cfg->log_level, cfg->log_format);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    rc = bindbackend_open(bc, &bb, &e);
    if (rc != 0) {
        log_msg(LOG_ERROR, "cannot open the bind backend", "backend", bc->name, "error", e.text,
                NULL);
        goto out;
    }
    snprintf(zones, sizeof(zones), "%zu", bindbackend_zone_count(bb));
    log_msg(LOG_INFO, "starting", "backend", bc->name, "zones_dir", bc->zones_dir, "named_conf",
            bc->named_conf, "zones", zones, "config", cfg->path, NULL);

    backend.ctx = bb;
    backend.apply = bindbackend_apply;
    memset(&stats, 0, sizeof(stats));
    rc = consumer_run(cfg, bc, &backend, &stop, &stats, &e);
    snprintf(a, sizeof(a), "%llu", stats.applied);
    snprintf(v, sizeof(v), "%llu", stats.verified);
    snprintf(r, sizeof(r), "%llu", stats.repaired);
    snprintf(f, sizeof(f), "%llu", stats.failed);
    if (rc != 0) {
        log_msg(LOG_ERROR, "consumer loop failed", "backend", bc->name, "error", e.text, NULL);
        goto out;
    }
    log_msg(LOG_INFO, "stopped", "backend", bc->name, "applied", a, "verified", v, "repaired", r,
            "failed", f, NULL);
    status = 0;
out:
    bindbackend_free(bb);
    config_free(cfg);
    return status;
}
