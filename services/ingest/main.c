/* main.c -- dadns-ingest: arguments, configuration, signals; the server is http.c, the spool
 * spooler.c. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "ingestmetrics.h"
#include "log.h"
#include "spooler.h"
#include "statuscache.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: dadns-ingest [-c CONFIG.yaml] [-h] [-V]\n"
               "Accepts DirectAdmin Multi-Server DNS pushes and stores them in Redis.\n"
               "Every config key can be set with a DADNS_* environment variable,\n"
               "e.g. DADNS_APP_AUTH_PASSWORD, DADNS_APP_LISTEN_PORT, DADNS_REDIS_HOST.\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    struct config *cfg = NULL;
    struct http_server *srv = NULL;
    struct spooler *sl = NULL;
    struct ingestmetrics *im = NULL;
    struct statuscache *sc = NULL;
    struct err e;
    sigset_t sigs;
    char port[16], mport[16];
    int opt, sig = 0, rc = 1;

    while ((opt = getopt(argc, argv, "c:hV")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("dadns-ingest %s\n", DADNS_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    err_clear(&e);
    if (config_load(path, &cfg, &e) != 0) {
        fprintf(stderr, "dadns-ingest: %s\n", e.text);
        return 1;
    }
    log_init("ingest", cfg->log_level, cfg->log_format);
    if (cfg->auth_password[0] == '\0') {
        log_msg(LOG_ERROR,
                "app.auth_password is required (in the config file or "
                "DADNS_APP_AUTH_PASSWORD)",
                "config", cfg->path, "reason", "no password configured", NULL);
        goto out;
    }
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The spool (and its replay thread) before the listener: a spool directory that cannot
     * be used, or that another ingest holds, stops the start. */
    if (spooler_open(cfg, &sl, &e) != 0) {
        log_msg(LOG_ERROR, "cannot start", "reason", e.text, NULL);
        goto out;
    }
    /* The admin listener (/metrics, /healthz, /readyz on metrics.port) and the status page's
     * cache, then the DirectAdmin listener that uses both. */
    if (ingestmetrics_start(cfg, sl, &im, &e) != 0) {
        log_msg(LOG_ERROR, "cannot start the admin listener", "reason", e.text, NULL);
        goto out;
    }
    if (statuscache_new(cfg, sl, &sc) != 0) {
        log_msg(LOG_ERROR, "cannot start", "reason", "out of memory", NULL);
        goto out;
    }
    if (http_start(cfg, sl, im, sc, &srv, &e) != 0) {
        log_msg(LOG_ERROR, "cannot start", "reason", e.text, NULL);
        goto out;
    }
    snprintf(port, sizeof(port), "%d", cfg->listen_port);
    snprintf(mport, sizeof(mport), "%d", ingestmetrics_port(im));
    log_msg(LOG_INFO, "listening", "addr", cfg->listen_addr, "port", port, "metrics_port", mport,
            "config", cfg->path, NULL);
    sigwait(&sigs, &sig);
    log_msg(LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    http_stop(srv);
    rc = 0;
out:
    statuscache_free(sc);
    ingestmetrics_stop(im);
    spooler_free(sl);
    config_free(cfg);
    return rc;
}
