/* http.h -- the ingest HTTP server (libmicrohttpd): sockets, worker threads, request bodies,
 * Basic authentication and size limits. Everything DirectAdmin-specific is in request.c and
 * api.c. */
#ifndef DADNS_HTTP_H
#define DADNS_HTTP_H

#include "config.h"
#include "err.h"
#include "spooler.h"

struct http_server;

/* http_start - listen on app.listen_addr:app.listen_port of @cfg (borrowed; must outlive the
 * server) with app.workers threads, each with its own Redis connection and zone parser; writes
 * go through @sl (borrowed; must outlive the server). Returns 0 with *@out running, or
 * DADNS_ECONFIG/DADNS_EIO/DADNS_ENOMEM with @e naming the problem (e.g. the port is in use). */
int http_start(const struct config *cfg, struct spooler *sl, struct http_server **out,
               struct err *e);

/* http_stop - stop accepting, finish running requests, free everything. NULL is fine. */
void http_stop(struct http_server *s);

/* http_auth_equal - constant-time comparison of a presented credential @given with the
 * expected @want (both NUL terminated): the time depends only on the length of @given. */
int http_auth_equal(const char *given, const char *want);

#endif
