/* daclient.h -- fetch a DirectAdmin server's complete zone list over HTTP(S) (libcurl).
 *
 * Owns the HTTP side: URL, Basic auth, TLS switches, timeouts, paging, DA Evolution's
 * redirect -> CMD_LOGIN session fallback, a bounded body. Parsing is dalist's; what the list
 * means (orphans, owners) is plan's. Library code: no logging, no global state except libcurl's
 * own one-time global initialization. */
#ifndef DADNS_DACLIENT_H
#define DADNS_DACLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "dalist.h"
#include "err.h"

#define DACLIENT_MAX_BODY  ((size_t)64 * 1024 * 1024) /* one answer larger than this fails */
#define DACLIENT_MAX_PAGES 100000L                    /* more pages than this fails */
#define DACLIENT_ATTEMPTS  3 /* walks tried when the list changes under the walk */

/* What a fetch did, for logs and metrics (filled on success and on failure). */
struct daclient_stats {
    long pages;       /* pages (requests for the list) answered 200 and parsed */
    long requests;    /* HTTP requests made, CMD_LOGIN included */
    bool logged_in;   /* the CMD_LOGIN session fallback was used */
    bool legacy;      /* the server answered the legacy list[]= format */
    long http_status; /* status of the last answer, 0 when none */
    double seconds;   /* wall time of the whole fetch */
    char url[512];    /* base URL used, "http(s)://host:port", for messages */
};

/* daclient_fetch - list every zone of DirectAdmin server @srv.
 *
 * GET <base>/CMD_DNS_ADMIN?json=yes&page=N&ipp=<page_size> with HTTP Basic auth, for N = 1,
 * 2, ... up to info.total_pages. Without total_pages the walk goes on until a page is empty
 * or brings no new name (a short page proves nothing: DA may cap ipp below page_size; a server
 * that ignores page= repeats itself). A legacy list[]= answer is the whole list. When
 * DA gives info.rows and it changes during the walk (zones added or removed while paging, so
 * names may have shifted between pages), the walk starts over, DACLIENT_ATTEMPTS times at
 * most, then fails.
 * A redirect (3xx) is DA Evolution refusing Basic auth on that URL: the client POSTs
 * /CMD_LOGIN (username, password, referer=<the wanted path>) once, keeps the session cookie
 * (libcurl's cookie engine, in memory, per fetch), and asks again; a redirect even with the
 * session means the account is not admin-level. Redirects are never followed blindly.
 * srv->tls chooses https or http, srv->tls_verify checks the peer certificate and name;
 * srv->timeout_s limits each request (connect included). Only http and https are allowed.
 * When @cancel (may be NULL) becomes non-zero the transfer in progress is aborted.
 *
 * On success *@out is a new list (caller frees with dalist_free) and 0 is returned. On failure
 * *@out is NULL: the server counts as unreachable for this pass, and @e->text says why,
 * starting with the base URL, e.g.
 *   "https://da1:2222: connection refused (Couldn't connect to server)"
 *   "http://da1:2222: HTTP 401 on /CMD_DNS_ADMIN: wrong user or password"
 *   "http://da1:2222: redirected to /CMD_LOGIN even after logging in: the account is not
 *    admin-level"
 * Codes: DADNS_EIO (network, TLS, timeout, HTTP status, cancelled), DADNS_EDENIED (401/403,
 * HTML page, DA's error answer, not admin-level), DADNS_EPARAM (an answer that is no list),
 * DADNS_ETOOBIG (an answer over DACLIENT_MAX_BODY, or over DACLIENT_MAX_PAGES pages),
 * DADNS_ENOMEM. @stats (may be NULL) is filled either way. @srv is borrowed. Thread-safe
 * (one curl handle per call); the first call initializes libcurl (curl_global_init) once. */
int daclient_fetch(const struct da_server_conf *srv, const volatile sig_atomic_t *cancel,
                   struct dalist **out, struct daclient_stats *stats, struct err *e);

#endif
