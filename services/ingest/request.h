/* request.h -- a DirectAdmin API request, parsed and validated (pure: no I/O).
 *
 * Turns method + path + query parameters + body into one struct da_request whose names are
 * already normalized by name_normalize and whose owner fields are checked, or into an HTTP
 * status and a reason. Everything after this point may trust the request's names. */
#ifndef DADNS_REQUEST_H
#define DADNS_REQUEST_H

#include <stddef.h>

#include "err.h"
#include "form.h"
#include "name.h"
#include "store.h"

enum da_action {
    DA_LOGIN_TEST = 1, /* /CMD_API_LOGIN_TEST */
    DA_EXISTS,         /* action=exists */
    DA_RAWSAVE,        /* action=rawsave, zone in the body */
    DA_DELETE,         /* action=delete, select0..N and/or domain */
    DA_NOACTION,       /* /CMD_API_DNS_ADMIN without action: connectivity probe */
    DA_HEALTHZ,        /* /healthz or /livez: process only, no auth */
    DA_READYZ,         /* /readyz: Redis reachable, no auth */
};

#define REQUEST_MAX_ZONES 1000 /* zones in one delete */

/* Longest zone name accepted: DNS allows 253 octets, but "<zone>.db" must fit the 255-octet
 * file-name limit of the BIND writer, so 252. */
#define REQUEST_ZONE_MAX 252

struct da_request {
    enum da_action action;
    char zone[NAME_BUF_SIZE];     /* exists, rawsave */
    char (*zones)[NAME_BUF_SIZE]; /* delete: owned, distinct, in request order */
    size_t nzones;
    char host[STORE_OWNER_MAX]; /* DA "hostname" ("" when absent) */
    char user[STORE_OWNER_MAX]; /* DA "username" ("" when absent) */
    int check_parent;           /* exists: check_for_parent_domain given non-empty */
    const char *body;           /* rawsave: zone text, borrowed from the caller */
    size_t body_len;
};

/* request_needs_auth - whether @path is a DirectAdmin route (Basic auth required). Paths
 * that are not routes at all are answered 404 after authentication, so that unknown paths do
 * not reveal anything either. */
int request_needs_auth(const char *path);

/* request_parse - classify and validate a request. @query holds the decoded query string
 * parameters; @body (@body_len octets, may be NULL) the request body, which is parsed as a
 * form for POST exists/delete/no-action requests and taken raw for rawsave. On success fills
 * @out (release with request_clear) and returns 0. On failure returns DADNS_EPARAM/DADNS_ENAME
 * with @e set to the text DirectAdmin should show and *@status set to 400, 404 or 405. */
int request_parse(const char *method, const char *path, const struct form *query, const char *body,
                  size_t body_len, struct da_request *out, int *status, struct err *e);

/* request_clear - free what request_parse allocated; @r may then be reused. NULL is fine. */
void request_clear(struct da_request *r);

#endif
