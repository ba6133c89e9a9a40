/* http.c -- libmicrohttpd glue for ingest (see http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "api.h"
#include "buf.h"
#include "form.h"
#include "ingestmetrics.h"
#include "log.h"
#include "request.h"
#include "statuscache.h"
#include "statuspage.h"

struct http_server {
    struct MHD_Daemon *daemon;
    const struct config *cfg;
    struct spooler *sl;       /* borrowed */
    struct ingestmetrics *im; /* borrowed, may be NULL */
    struct statuscache *sc;   /* borrowed, may be NULL (no status page) */
};

/* Per-request state kept between the access handler's calls. */
struct req_ctx {
    struct buf body; /* request body, bounded by app.max_body_bytes */
    int too_big;     /* the body went over the limit: answer 413 at the end */
};

/* Each MHD worker thread lazily creates its own store connection and zone parser. */
static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;

static void worker_destroy(void *p)
{
    api_worker_free(p);
}

static void worker_key_init(void)
{
    pthread_key_create(&worker_key, worker_destroy);
}

static struct api_worker *thread_worker(const struct http_server *s)
{
    struct api_worker *w;

    pthread_once(&worker_once, worker_key_init);
    w = pthread_getspecific(worker_key);
    if (w == NULL && api_worker_new(s->cfg, s->sl, &w) == 0)
        pthread_setspecific(worker_key, w);
    if (w != NULL)
        w->im = s->im;
    return w;
}

int http_auth_equal(const char *given, const char *want)
{
    size_t glen = strlen(given), wlen = strlen(want), i;
    unsigned char diff = (unsigned char)(glen != wlen);

    for (i = 0; i < glen; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)(wlen ? want[i % wlen] : 0);
    return diff == 0;
}

static enum MHD_Result send_typed(struct MHD_Connection *conn, int status, const char *ctype,
                                  const char *text, size_t len)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(conn, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *text,
                                 size_t len)
{
    return send_typed(conn, status, "text/plain; charset=utf-8", text, len);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *text)
{
    struct buf b;
    enum MHD_Result ret;

    buf_init(&b, 4096);
    api_error(&b, text);
    ret = send_text(conn, status, b.data ? b.data : "error=1", b.data ? b.len : 7);
    buf_free(&b);
    return ret;
}

static void peer_name(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    snprintf(out, size, "?");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ci->client_addr;

        inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)size);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ci->client_addr;

        inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)size);
    }
}

/* Authenticate; on failure queue the 401 (with realm) and return 0. */
static int authorized(const struct config *cfg, struct MHD_Connection *conn, const char *peer,
                      enum MHD_Result *ret)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    int ok = user != NULL && pass != NULL, had_user = user != NULL;
    struct MHD_Response *resp;
    static const char body[] = "error=1&text=Authentication+required";

    if (ok) {
        int u = http_auth_equal(user, cfg->auth_username);
        int p = http_auth_equal(pass, cfg->auth_password);

        ok = u & p;
    }
    if (user != NULL)
        MHD_free(user);
    if (pass != NULL)
        MHD_free(pass);
    if (ok)
        return 1;
    log_msg(LOG_WARN, "authentication failed", "peer", peer, "reason",
            had_user ? "wrong username or password" : "no Basic credentials", NULL);
    resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        *ret = MHD_NO;
        return 0;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    *ret = MHD_queue_basic_auth_fail_response(conn, cfg->auth_realm, resp);
    MHD_destroy_response(resp);
    return 0;
}

/* status_route - 0 when @url is not the status page, else 1 for JSON, 2 for HTML (/status.html,
 * or /status asked for with an Accept header preferring text/html, as browsers do). */
static int status_route(const char *url, const char *accept)
{
    if (strcmp(url, "/status.html") == 0)
        return 2;
    if (strcmp(url, "/status") != 0)
        return 0;
    return accept != NULL && strstr(accept, "text/html") != NULL ? 2 : 1;
}

/* serve_status - the status page (authenticated already); counts the request. */
static enum MHD_Result serve_status(struct http_server *s, struct MHD_Connection *conn,
                                    const char *method, int html)
{
    struct buf b;
    enum MHD_Result ret;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        ingestmetrics_request(s->im, INGESTMETRICS_STATUS, 405);
        return send_text(conn, 405, "method not allowed\n", 19);
    }
    if (s->sc == NULL) {
        ingestmetrics_request(s->im, INGESTMETRICS_STATUS, 404);
        return send_text(conn, 404, "not found\n", 10);
    }
    buf_init(&b, STATUSPAGE_MAX_BYTES);
    if (statuscache_page(s->sc, html, &b) != 0) {
        buf_free(&b);
        ingestmetrics_request(s->im, INGESTMETRICS_STATUS, 503);
        return send_text(conn, 503, "status page unavailable\n", 24);
    }
    ingestmetrics_request(s->im, INGESTMETRICS_STATUS, 200);
    ret =
        send_typed(conn, 200, html ? "text/html; charset=utf-8" : "application/json; charset=utf-8",
                   b.data != NULL ? b.data : "", b.len);
    buf_free(&b);
    return ret;
}

struct arg_collect {
    struct form *f;
    int rc;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    struct arg_collect *ac = cls;

    (void)kind;
    (void)key_size;
    if (ac->rc == 0)
        ac->rc = form_add(ac->f, key, value ? value : "", value ? value_size : 0);
    return ac->rc == 0 ? MHD_YES : MHD_NO;
}

/* endpoint_at_start - the endpoint of a request answered before its body was read. */
static enum ingestmetrics_endpoint endpoint_at_start(struct MHD_Connection *conn, const char *url)
{
    return ingestmetrics_endpoint(
        url, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "action"), NULL, 0);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    const struct config *cfg = s->cfg;
    struct req_ctx *rq = *con_cls;
    struct da_request req;
    struct api_worker *w;
    struct form query;
    struct arg_collect ac;
    struct buf out;
    struct err e;
    char peer[64];
    int status = 200;
    enum MHD_Result ret = MHD_NO;

    (void)version;
    if (rq == NULL) {
        /* First call: headers only. Authenticate and check the announced size before
         * reading any body. */
        const char *cl;

        peer_name(conn, peer, sizeof(peer));
        if (request_needs_auth(url) && !authorized(cfg, conn, peer, &ret)) {
            ingestmetrics_request(s->im, endpoint_at_start(conn, url), 401);
            return ret;
        }
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            char *end;
            unsigned long long n;

            errno = 0;
            n = strtoull(cl, &end, 10);
            if (errno == 0 && *end == '\0' && n > cfg->max_body_bytes) {
                char text[128];

                snprintf(text, sizeof(text), "Request body over the %zu byte limit",
                         cfg->max_body_bytes);
                log_msg(LOG_WARN, "request too large", "peer", peer, "length", cl, "reason", text,
                        NULL);
                ingestmetrics_request(s->im, endpoint_at_start(conn, url), 413);
                return send_error(conn, 413, text);
            }
        }
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        buf_init(&rq->body, cfg->max_body_bytes);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!rq->too_big && buf_append(&rq->body, upload, *upload_size) != 0) {
            rq->too_big = 1;
            buf_free(&rq->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }

    peer_name(conn, peer, sizeof(peer));
    if (rq->too_big) {
        char text[128];

        snprintf(text, sizeof(text), "Request body over the %zu byte limit", cfg->max_body_bytes);
        log_msg(LOG_WARN, "request too large", "peer", peer, "reason", text, NULL);
        ingestmetrics_request(s->im, endpoint_at_start(conn, url), 413);
        return send_error(conn, 413, text);
    }
    {
        int route = status_route(
            url, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));

        if (route != 0)
            return serve_status(s, conn, method, route == 2);
    }

    form_init(&query);
    buf_init(&out, 1 << 20);
    err_clear(&e);
    ac.f = &query;
    ac.rc = 0;
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &ac);
    if (ac.rc != 0) {
        ingestmetrics_request(s->im, endpoint_at_start(conn, url), 400);
        ret = send_error(conn, 400, "Too many parameters");
        goto out;
    }
    if (request_parse(method, url, &query, rq->body.data, rq->body.len, &req, &status, &e) != 0) {
        enum ingestmetrics_endpoint ep = ingestmetrics_endpoint(
            url, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "action"), rq->body.data,
            rq->body.len);

        if (status != 404)
            log_msg(LOG_WARN, "request rejected", "peer", peer, "method", method, "path", url,
                    "reason", e.text, NULL);
        ingestmetrics_request(s->im, ep, status);
        if (status == 400 && (ep == INGESTMETRICS_RAWSAVE || ep == INGESTMETRICS_DELETE))
            ingestmetrics_push(s->im, METRICS_PUSH_REJECTED);
        ret = send_error(conn, status, e.text);
        goto out;
    }
    w = thread_worker(s);
    if (w == NULL) {
        ingestmetrics_request(s->im, ingestmetrics_endpoint_of(req.action), 503);
        request_clear(&req);
        ret = send_error(conn, 503, "Server out of memory");
        goto out;
    }
    api_handle(cfg, w, &req, peer, &out, &status);
    ingestmetrics_request(s->im, ingestmetrics_endpoint_of(req.action), status);
    request_clear(&req);
    ret = send_text(conn, status, out.data ? out.data : "", out.len);
out:
    form_clear(&query);
    buf_free(&out);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req_ctx *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rq == NULL)
        return;
    buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    size_t n;

    (void)cls;
    vsnprintf(text, sizeof(text), fmt, ap);
    n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    log_msg(LOG_WARN, "http server", "reason", text, NULL);
}

int http_start(const struct config *cfg, struct spooler *sl, struct ingestmetrics *im,
               struct statuscache *sc, struct http_server **out, struct err *e)
{
    struct http_server *s = calloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

    if (s == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    s->cfg = cfg;
    s->sl = sl;
    s->im = im;
    s->sc = sc;
    memset(&ss, 0, sizeof(ss));
    if (strchr(cfg->listen_addr, ':') != NULL) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->listen_port);
        if (inet_pton(AF_INET6, cfg->listen_addr, &in6->sin6_addr) != 1)
            goto badaddr;
        sslen = sizeof(*in6);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)cfg->listen_port);
        if (inet_pton(AF_INET, cfg->listen_addr, &in->sin_addr) != 1)
            goto badaddr;
        sslen = sizeof(*in);
    }
    (void)sslen;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->listen_port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)cfg->workers, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_NOTIFY_COMPLETED, completed,
        NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned int)1, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_END);
    if (s->daemon == NULL) {
        err_set(e, DADNS_EIO, "cannot listen on %s:%d (port in use or not permitted)",
                cfg->listen_addr, cfg->listen_port);
        free(s);
        return DADNS_EIO;
    }
    *out = s;
    return 0;
badaddr:
    free(s);
    return err_set(e, DADNS_ECONFIG, "app.listen_addr: \"%s\" is not an IP address",
                   cfg->listen_addr);
}

void http_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
