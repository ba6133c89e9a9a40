/* http.h -- the ingest HTTP server (libmicrohttpd): sockets, worker threads, request bodies,
 * Basic authentication, size limits, the routing of the status page and the counting of every
 * answer. Everything DirectAdmin-specific is in request.c and api.c; the status page's data in
 * statuscache.c. */
#ifndef DADNS_HTTP_H
#define DADNS_HTTP_H

#include "config.h"
#include "err.h"
#include "ingestmetrics.h"
#include "spooler.h"
#include "statuscache.h"

struct http_server;

/* http_start - listen on app.listen_addr:app.listen_port of @cfg (borrowed; must outlive the
 * server) with app.workers threads, each with its own Redis connection and zone parser; writes
 * go through @sl; every answer is counted in @im (NULL = not counted); GET /status and
 * /status.html (Basic auth like the DirectAdmin routes) serve @sc's page (NULL = 404). @sl, @im
 * and @sc are borrowed and must outlive the server. Returns 0 with *@out running, or
 * DADNS_ECONFIG/DADNS_EIO/DADNS_ENOMEM with @e naming the problem (e.g. the port is in use). */
int http_start(const struct config *cfg, struct spooler *sl, struct ingestmetrics *im,
               struct statuscache *sc, struct http_server **out, struct err *e);

/* http_stop - stop accepting, finish running requests, free everything. NULL is fine. */
void http_stop(struct http_server *s);

/* http_auth_equal - constant-time comparison of a presented credential @given with the
 * expected @want (both NUL terminated): the time depends only on the length of @given. */
int http_auth_equal(const char *given, const char *want);

#endif
