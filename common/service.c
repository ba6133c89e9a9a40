/* service.c -- backend choice, stop signals and the common start of the writer services (see
 * service.h).
 *
 * Exiting is left to each main.c, except the bounded stop (service_stop_bound), whose handlers
 * _exit(0) when the stop takes too long; service_writer_start reports its errors itself. */
#include "service.h"

#include "log.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t *stop_flag; /* what the handler sets, from service_signals_install */
static volatile sig_atomic_t bounded;    /* service_stop_bound was called */
static volatile sig_atomic_t stop_timeout_s;
static volatile sig_atomic_t signalled;  /* a stop signal came already */
static void (*volatile stop_wake)(void); /* service_stop_bound's @wake */

int service_pick_backend(const struct config *cfg, const char *name,
                         const struct service_kind *kind, const struct backend_conf **out,
                         struct err *e)
{
    const struct backend_conf *bc = NULL;
    size_t i, found = 0;

    *out = NULL;
    if (name != NULL) {
        bc = config_backend(cfg, name);
        if (bc == NULL)
            return err_set(e, DADNS_ECONFIG, "%s: no backend \"%s\" under dns.backends", cfg->path,
                           name);
        if (!kind->accepts(bc))
            return err_set(e, DADNS_ECONFIG, "%s: backend \"%s\" is not of type %s", cfg->path,
                           name, kind->types);
        if (!bc->enabled)
            return err_set(e, DADNS_ECONFIG, "%s: backend \"%s\" is disabled", cfg->path, name);
        *out = bc;
        return 0;
    }
    for (i = 0; i < cfg->n_backends; i++) {
        if (!kind->accepts(&cfg->backends[i]) || !cfg->backends[i].enabled)
            continue;
        if (found++ > 0)
            return err_set(e, DADNS_ECONFIG,
                           "%s: several enabled %s backends (\"%s\", \"%s\"...): choose one "
                           "with -b",
                           cfg->path, kind->family, bc->name, cfg->backends[i].name);
        bc = &cfg->backends[i];
    }
    if (bc == NULL)
        return err_set(e, DADNS_ECONFIG, "%s: no enabled backend of type %s under dns.backends",
                       cfg->path, kind->types);
    *out = bc;
    return 0;
}

/* say - one fixed line on stderr from a signal handler (write(2) only). */
static void say(const char *line)
{
    ssize_t w = write(2, line, strlen(line));

    (void)w;
}

static void on_signal(int sig)
{
    (void)sig;
    if (bounded && signalled) {
        say("level=warn msg=\"second stop signal: exiting now; unacknowledged entries stay "
            "pending\"\n");
        _exit(0);
    }
    signalled = 1;
    if (stop_flag != NULL)
        *stop_flag = 1;
    if (bounded) {
        if (stop_timeout_s > 0)
            alarm((unsigned)stop_timeout_s);
        if (stop_wake != NULL)
            stop_wake();
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    say("level=warn msg=\"stop timeout reached: exiting now; unacknowledged entries stay "
        "pending\"\n");
    _exit(0);
}

void service_signals_install(volatile sig_atomic_t *stop)
{
    struct sigaction sa;

    stop_flag = stop;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

void service_stop_bound(int timeout_s, void (*wake)(void))
{
    struct sigaction sa;

    stop_timeout_s = timeout_s;
    stop_wake = wake;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    bounded = 1;
}

int service_writer_start(const char *prog, const char *service, const char *path, const char *name,
                         const struct service_kind *kind, volatile sig_atomic_t *stop,
                         struct consumer_stats *stats, struct config **cfg,
                         const struct backend_conf **bc, struct writeradmin **wa)
{
    struct err e;
    int rc;

    *cfg = NULL;
    *wa = NULL;
    err_clear(&e);
    rc = config_load(path, cfg, &e);
    if (rc == 0)
        rc = service_pick_backend(*cfg, name, kind, bc, &e);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", prog, e.text);
        return rc;
    }
    log_init(service, (*cfg)->log_level, (*cfg)->log_format);
    service_signals_install(stop);
    service_stop_bound((*cfg)->stop_timeout_s, consumer_wake);
    consumer_stats_init(stats);
    rc = writeradmin_start(*cfg, *bc, service, stats, wa, &e);
    if (rc != 0)
        log_msg(LOG_ERROR, "cannot start the admin listener", "backend", (*bc)->name, "reason",
                e.text, NULL);
    return rc;
}
