/* admin.h -- the admin HTTP listener every service runs: /metrics, /healthz, /livez, /readyz.
 *
 * Owns the listening socket and a libmicrohttpd daemon (a thread per connection, so a slow
 * scrape never holds up /livez), the routing and the answers. What readiness means, which
 * gauges to refresh before a scrape and any service-specific page are the service's, through
 * callbacks. Never logs: start errors come back in a struct err.
 *
 * Paths (GET or HEAD; any other method is 405 with "Allow: GET, HEAD"):
 *   /metrics          200, Prometheus text 0.0.4: calls @collect, then renders @metrics
 *   /healthz, /livez  200 "ok\n": the process answers (no callback, never Redis)
 *   /readyz           200 "ready\n", or 503 "<reason>\n" when @ready says not ready
 *   anything else     @handler if it takes the path, else 404 "not found\n"
 * The query string is ignored for the built-in paths. @collect, @ready and @handler are never
 * called concurrently with one another (one mutex), so they may share one Redis connection;
 * they run on the listener's threads, never on the service's own. */
#ifndef DADNS_ADMIN_H
#define DADNS_ADMIN_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "metrics.h"

struct admin;
struct admin_request; /* one request, valid during the handler call only */

/* Refresh computed values before /metrics renders (e.g. redisstats_collect). */
typedef void (*admin_collect_fn)(void *ctx);

/* Readiness: return 0 when ready; otherwise write a short reason into @reason (@size bytes,
 * NUL-terminated; "not ready" if left empty) and return non-zero. */
typedef int (*admin_ready_fn)(void *ctx, char *reason, size_t size);

/* Service-specific paths (GET/HEAD only). Return 0 when @req is not for it (404 follows), 1
 * when it answered: *@status (default 200), *@content_type (default "text/plain;
 * charset=utf-8"; must be a static string) and @body (empty on entry, limited to 16 MiB;
 * admin frees it). */
typedef int (*admin_handler_fn)(void *ctx, const struct admin_request *req, int *status,
                                const char **content_type, struct buf *body);

struct admin_opts {
    const char *addr;         /* IPv4 or IPv6 literal to bind, e.g. "127.0.0.1" or "::1" */
    int port;                 /* 1-65535; 0 = off (admin_start does nothing); -1 = any free
                                 port (tests: see admin_port) */
    struct metrics *metrics;  /* registry /metrics renders (borrowed; NULL = empty page) */
    admin_collect_fn collect; /* NULL = none */
    admin_ready_fn ready;     /* NULL = always ready */
    admin_handler_fn handler; /* NULL = none */
    void *ctx;                /* passed to the callbacks, borrowed */
};

/* admin_start - bind @o->addr:@o->port and serve on background threads. @o's pointers are
 * borrowed and must outlive admin_stop. With port 0, *@out is NULL and 0 is returned (the
 * listener is off). On success *@out is the running listener (stop it with admin_stop).
 * Returns 0, DADNS_ECONFIG (@o->addr is not an IP address, or the port is out of range),
 * DADNS_EIO (cannot bind/listen, e.g. "cannot listen on 127.0.0.1:9400: Address already in
 * use") or DADNS_ENOMEM, with @e set. */
int admin_start(const struct admin_opts *o, struct admin **out, struct err *e);

/* admin_port - the port @a listens on (useful after port -1); 0 for NULL. */
int admin_port(const struct admin *a);

/* admin_stop - stop accepting, wait for the requests in progress to finish, close the socket
 * and release @a. NULL is fine. */
void admin_stop(struct admin *a);

/* admin_request_method - "GET" or "HEAD". */
const char *admin_request_method(const struct admin_request *req);

/* admin_request_path - the path without the query string, e.g. "/status". */
const char *admin_request_path(const struct admin_request *req);

/* admin_request_arg - the value of query argument @name (borrowed until the handler returns),
 * "" for a key without value, NULL when absent. */
const char *admin_request_arg(const struct admin_request *req, const char *name);

/* admin_request_header - the value of request header @name (case-insensitive, borrowed until
 * the handler returns), or NULL. */
const char *admin_request_header(const struct admin_request *req, const char *name);

#endif
