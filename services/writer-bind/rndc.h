/* rndc.h -- running rndc: reconfig, status, reload of one zone, and reloads of many in parallel.
 *
 * Owns rndc's command lines and the meaning of its results. The child processes themselves
 * (spawned without a shell, stdout+stderr captured bounded as the message, killed when they
 * overrun their timeout) are common/proc.c's; what to reload and when is bindbackend.c's. */
#ifndef DADNS_RNDC_H
#define DADNS_RNDC_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "proc.h"

#define RNDC_RECONFIG_TIMEOUT_MS 60000         /* default limit for "rndc reconfig" */
#define RNDC_RELOAD_TIMEOUT_MS   30000         /* default limit for one "rndc reload <zone>" */
#define RNDC_STATUS_TIMEOUT_MS   10000         /* limit for "rndc status" (the backend probe) */
#define RNDC_MSG_SIZE            PROC_MSG_SIZE /* room for rndc's (trimmed) message */

/* How to run rndc. Strings are borrowed and must outlive every call. */
struct rndc {
    const char *bin;         /* rndc binary; without '/' it is looked up in PATH */
    const char *conf;        /* -c file, "" or NULL = rndc's default */
    const char *server;      /* -s server, "" or NULL = rndc's default */
    int port;                /* -p port, 0 = rndc's default */
    int parallel;            /* most rndc processes run at once by rndc_reload_zones (>= 1) */
    int reconfig_timeout_ms; /* kill "rndc reconfig" after this long */
    int reload_timeout_ms;   /* kill one "rndc reload <zone>" after this long */
};

/* One zone of a parallel reload. */
struct rndc_job {
    const char *zone;        /* zone to reload, borrowed */
    int result;              /* out: 0 or DADNS_EBACKEND */
    char msg[RNDC_MSG_SIZE]; /* out: rndc's output on success ("zone reload queued"), or why it
                                failed ("exit 1: rndc: 'reload' failed: not found") */
};

/* rndc_init - fill @r from backend settings @bc (borrowed: @r points into it) with the default
 * timeouts; rndc_parallel below 1 counts as 1. */
void rndc_init(struct rndc *r, const struct backend_conf *bc);

/* rndc_reconfig - run "rndc reconfig" (named re-reads its configuration and loads new zones,
 * drops removed ones, leaves the others alone). Returns 0 when rndc exited 0, else
 * DADNS_EBACKEND with @e->text = what went wrong and rndc's message. */
int rndc_reconfig(const struct rndc *r, struct err *e);

/* rndc_status - run "rndc status" (is named up and answering its control channel?), killed
 * after RNDC_STATUS_TIMEOUT_MS. Returns 0 when rndc exited 0, else DADNS_EBACKEND with @e->text
 * as for rndc_reconfig. */
int rndc_status(const struct rndc *r, struct err *e);

/* rndc_reload_zone - run "rndc reload <zone>" (@zone borrowed, passed as one argument).
 * Returns 0 or DADNS_EBACKEND with @e->text as for rndc_reconfig. */
int rndc_reload_zone(const struct rndc *r, const char *zone, struct err *e);

/* rndc_reload_zones - reload the @n zones of @jobs, running up to @r->parallel rndc processes at
 * once, each with its own timeout, and fill every job's result and msg. Returns the number of
 * jobs that failed. */
size_t rndc_reload_zones(const struct rndc *r, struct rndc_job *jobs, size_t n);

#endif
