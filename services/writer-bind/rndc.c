/* rndc.c -- rndc command lines: reconfig, status, reload of one zone, reloads of many (see
 * rndc.h).
 *
 * Builds the argument vectors; spawning, capture, timeouts and the parallel batches are
 * common/proc.c's. */
#include "rndc.h"

#include <stdio.h>
#include <stdlib.h>

#include "proc.h"

#define ARGV_MAX 10 /* rndc [-c conf] [-s server] [-p port] <cmd> [zone] NULL */

void rndc_init(struct rndc *r, const struct backend_conf *bc)
{
    r->bin = (bc->rndc != NULL && bc->rndc[0] != '\0') ? bc->rndc : "rndc";
    r->conf = bc->rndc_conf;
    r->server = bc->rndc_server;
    r->port = bc->rndc_port;
    r->parallel = bc->rndc_parallel < 1 ? 1 : bc->rndc_parallel;
    r->reconfig_timeout_ms = RNDC_RECONFIG_TIMEOUT_MS;
    r->reload_timeout_ms = RNDC_RELOAD_TIMEOUT_MS;
}

/* make_argv - "rndc [-c conf] [-s server] [-p port] <cmd> [zone]" into @argv (ARGV_MAX slots,
 * NULL-terminated); @port (@portsz octets) holds the port's digits. Every string is borrowed. */
static void make_argv(const struct rndc *r, const char *cmd, const char *zone, char *port,
                      size_t portsz, const char **argv)
{
    int argc = 0;

    argv[argc++] = r->bin;
    if (r->conf != NULL && r->conf[0] != '\0') {
        argv[argc++] = "-c";
        argv[argc++] = r->conf;
    }
    if (r->server != NULL && r->server[0] != '\0') {
        argv[argc++] = "-s";
        argv[argc++] = r->server;
    }
    if (r->port > 0) {
        snprintf(port, portsz, "%d", r->port);
        argv[argc++] = "-p";
        argv[argc++] = port;
    }
    argv[argc++] = cmd;
    if (zone != NULL)
        argv[argc++] = zone;
    argv[argc] = NULL;
}

/* run_one - run one command to completion; returns its result with @e set on failure. */
static int run_one(const struct rndc *r, const char *cmd, const char *zone, int timeout_ms,
                   struct err *e)
{
    const char *argv[ARGV_MAX];
    struct proc_result res;
    char port[16];
    int rc;

    make_argv(r, cmd, zone, port, sizeof(port), argv);
    rc = proc_run(argv, timeout_ms, &res);
    if (rc != 0)
        err_set(e, rc, "rndc %s%s%s: %s", cmd, zone ? " " : "", zone ? zone : "", res.msg);
    return rc;
}

int rndc_reconfig(const struct rndc *r, struct err *e)
{
    return run_one(r, "reconfig", NULL, r->reconfig_timeout_ms, e);
}

int rndc_status(const struct rndc *r, struct err *e)
{
    return run_one(r, "status", NULL, RNDC_STATUS_TIMEOUT_MS, e);
}

int rndc_reload_zone(const struct rndc *r, const char *zone, struct err *e)
{
    return run_one(r, "reload", zone, r->reload_timeout_ms, e);
}

size_t rndc_reload_zones(const struct rndc *r, struct rndc_job *jobs, size_t n)
{
    struct proc_job *pj = NULL;
    const char **argvs = NULL;
    char port[16];
    size_t i, failed = 0;

    if (n == 0)
        return 0;
    pj = calloc(n, sizeof(*pj));
    argvs = calloc(n, ARGV_MAX * sizeof(*argvs));
    if (pj == NULL || argvs == NULL) {
        for (i = 0; i < n; i++) {
            jobs[i].result = DADNS_ENOMEM;
            snprintf(jobs[i].msg, sizeof(jobs[i].msg), "out of memory");
        }
        failed = n;
        goto out;
    }
    for (i = 0; i < n; i++) {
        make_argv(r, "reload", jobs[i].zone, port, sizeof(port), argvs + i * ARGV_MAX);
        pj[i].argv = argvs + i * ARGV_MAX;
    }
    proc_run_many(pj, n, r->parallel, r->reload_timeout_ms);
    for (i = 0; i < n; i++) {
        jobs[i].result = pj[i].res.rc;
        snprintf(jobs[i].msg, sizeof(jobs[i].msg), "%s", pj[i].res.msg);
        if (jobs[i].result != 0)
            failed++;
    }
out:
    free(argvs);
    free(pj);
    return failed;
}
