/* api.h -- carries out a validated DirectAdmin request against the zone store.
 *
 * Owns the DirectAdmin answers (exact texts, HTTP statuses) and the logging of every action.
 * The HTTP plumbing (http.c) owns sockets, authentication and bodies; request.c owns parsing. */
#ifndef DADNS_API_H
#define DADNS_API_H

#include "buf.h"
#include "config.h"
#include "ingestmetrics.h"
#include "request.h"
#include "spooler.h"
#include "store.h"
#include "zone.h"

/* Per-thread resources an API call may use (not thread-safe; one per HTTP worker thread). */
struct api_worker {
    struct store *store;      /* owned: this thread's Redis connection */
    struct zone_checker *zc;  /* owned: this thread's zone parser */
    struct spooler *sl;       /* borrowed: the process's spooler (shared, thread-safe) */
    struct ingestmetrics *im; /* borrowed: push counters (thread-safe); NULL = not counted */
};

/* api_worker_new - resources for one worker thread; rawsave and delete go through @sl
 * (borrowed, must outlive the worker). Free with api_worker_free. */
int api_worker_new(const struct config *cfg, struct spooler *sl, struct api_worker **out);

/* api_worker_free - release @w; NULL is fine. */
void api_worker_free(struct api_worker *w);

/* api_handle - carry out @req and write DirectAdmin's answer into @out (URL-encoded pairs, or
 * a short plain text for health checks) and the HTTP status into *@status. Never fails: every
 * problem becomes an answer ("error=1&text=..." with 400/503). @peer names the client for logs. */
void api_handle(const struct config *cfg, struct api_worker *w, const struct da_request *req,
                const char *peer, struct buf *out, int *status);

/* api_error - write "error=1&text=<@text>" into @out (for errors found before api_handle). */
void api_error(struct buf *out, const char *text);

#endif
