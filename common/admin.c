/* admin.c -- the admin HTTP listener (see admin.h). Owns the socket, the libmicrohttpd daemon
 * and the routing; the metrics text is metrics.c's, readiness and extra pages the service's. */
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY_MAX     ((size_t)16 << 20) /* /metrics and handler pages */
#define CONN_LIMIT   32u                /* concurrent connections */
#define CONN_TIMEOUT 15u                /* idle seconds before a connection is closed */
#define TEXT_PLAIN   "text/plain; charset=utf-8"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct admin {
    struct MHD_Daemon *daemon;
    struct admin_opts opts; /* copy; its pointers borrowed */
    pthread_mutex_t lock;   /* serializes collect, ready and handler */
    int port;               /* bound port */
};

struct admin_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
};

/* Marks a connection whose headers were seen (the first handler call). */
static int seen_marker;

const char *admin_request_method(const struct admin_request *req)
{
    return req->method;
}

const char *admin_request_path(const struct admin_request *req)
{
    return req->path;
}

const char *admin_request_arg(const struct admin_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *admin_request_header(const struct admin_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* respond - queue a response of @len octets at @data. @owned: @data is malloc'd and handed over
 * (freed by MHD); otherwise it is static. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status, const char *ctype,
                               char *data, size_t len, bool owned)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, data,
                                           owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        if (owned)
            free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_static(struct MHD_Connection *conn, unsigned int status,
                                   const char *text)
{
    return respond(conn, status, TEXT_PLAIN, (char *)text, strlen(text), false);
}

/* send_buf - hand the content of @b over to a response (@b is left empty). */
static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned int status, const char *ctype,
                                struct buf *b)
{
    char *data = b->data;
    size_t len = b->len;

    buf_init(b, b->max);
    if (data == NULL)
        return respond(conn, status, ctype, (char *)"", 0, false);
    return respond(conn, status, ctype, data, len, true);
}

static enum MHD_Result serve_metrics(struct admin *a, struct MHD_Connection *conn)
{
    struct buf b;
    int rc;

    buf_init(&b, BODY_MAX);
    pthread_mutex_lock(&a->lock);
    if (a->opts.collect != NULL)
        a->opts.collect(a->opts.ctx);
    rc = metrics_render(a->opts.metrics, &b);
    pthread_mutex_unlock(&a->lock);
    if (rc != 0) {
        buf_free(&b);
        return send_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics rendering failed\n");
    }
    return send_buf(conn, MHD_HTTP_OK, METRICS_TYPE, &b);
}

static enum MHD_Result serve_ready(struct admin *a, struct MHD_Connection *conn)
{
    char reason[512];
    struct buf b;
    int not_ready = 0;

    if (a->opts.ready == NULL)
        return send_static(conn, MHD_HTTP_OK, "ready\n");
    reason[0] = '\0';
    pthread_mutex_lock(&a->lock);
    not_ready = a->opts.ready(a->opts.ctx, reason, sizeof(reason));
    pthread_mutex_unlock(&a->lock);
    if (!not_ready)
        return send_static(conn, MHD_HTTP_OK, "ready\n");
    reason[sizeof(reason) - 1] = '\0';
    buf_init(&b, sizeof(reason) + 2);
    if (buf_printf(&b, "%s\n", reason[0] != '\0' ? reason : "not ready") != 0) {
        buf_free(&b);
        return send_static(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    }
    return send_buf(conn, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_PLAIN, &b);
}

static enum MHD_Result serve_other(struct admin *a, struct MHD_Connection *conn, const char *method,
                                   const char *path)
{
    struct admin_request req = {conn, method, path};
    const char *ctype = TEXT_PLAIN;
    int status = MHD_HTTP_OK, taken;
    struct buf b;

    if (a->opts.handler == NULL)
        return send_static(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    buf_init(&b, BODY_MAX);
    pthread_mutex_lock(&a->lock);
    taken = a->opts.handler(a->opts.ctx, &req, &status, &ctype, &b);
    pthread_mutex_unlock(&a->lock);
    if (!taken) {
        buf_free(&b);
        return send_static(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    if (status < 100 || status > 599)
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    return send_buf(conn, (unsigned int)status, ctype != NULL ? ctype : TEXT_PLAIN, &b);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct admin *a = cls;

    (void)version;
    (void)upload;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (*con_cls == NULL) {
        *con_cls = &seen_marker; /* headers only: answer once the (ignored) body is read */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(a, conn);
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0)
        return send_static(conn, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return serve_ready(a, conn);
    return serve_other(a, conn, method, url);
}

/* open_listener - socket, bind and listen on @addr:@port (-1 = any); the fd or an error. */
static int open_listener(const char *addr, int port, int *fd_out, int *bound, struct err *e)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool v6 = strchr(addr, ':') != NULL;
    uint16_t nport = (uint16_t)(port < 0 ? 0 : port);
    char ebuf[128];
    const char *why;
    int fd, one = 1;

    memset(&ss, 0, sizeof(ss));
    if (v6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(nport);
        if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
            goto badaddr;
        sslen = sizeof(*in6);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        in->sin_port = htons(nport);
        if (inet_pton(AF_INET, addr, &in->sin_addr) != 1)
            goto badaddr;
        sslen = sizeof(*in);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto syserr;
    /* SO_REUSEADDR lets a restart bind while old connections sit in TIME_WAIT; it does not
     * let two listeners share the port (that would be SO_REUSEPORT). */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 64) != 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        goto syserr;
    }
    sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        goto syserr;
    }
    *bound =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
syserr:
    why = strerror_r(errno, ebuf, sizeof(ebuf));
    if (v6)
        return err_set(e, DADNS_EIO, "cannot listen on [%s]:%d: %s", addr, port, why);
    return err_set(e, DADNS_EIO, "cannot listen on %s:%d: %s", addr, port, why);
badaddr:
    return err_set(e, DADNS_ECONFIG, "metrics.listen_addr: \"%s\" is not an IP address", addr);
}

int admin_start(const struct admin_opts *o, struct admin **out, struct err *e)
{
    struct admin *a = NULL;
    int fd = -1, bound = 0, rc;

    *out = NULL;
    if (o->port == 0)
        return 0;
    if (o->port < -1 || o->port > 65535)
        return err_set(e, DADNS_ECONFIG, "metrics.port: %d is not a port (0-65535)", o->port);
    if (o->addr == NULL)
        return err_set(e, DADNS_ECONFIG, "metrics.listen_addr: not set");
    rc = open_listener(o->addr, o->port, &fd, &bound, e);
    if (rc != 0)
        return rc;
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        close(fd);
        return err_set(e, DADNS_ENOMEM, "out of memory");
    }
    a->opts = *o;
    a->port = bound;
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        close(fd);
        free(a);
        return err_set(e, DADNS_ENOMEM, "cannot create a mutex");
    }
    /* A thread per connection: /livez never waits behind a slow /metrics. poll(), not select(),
     * so descriptors above FD_SETSIZE work. MHD closes @fd in MHD_stop_daemon. */
    a->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
        NULL, handle, a, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
        CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT, MHD_OPTION_END);
    if (a->daemon == NULL) {
        /* Whether MHD closed @fd on this path is not documented: leave it (the process is
         * about to exit on this error anyway) rather than risk closing someone else's fd. */
        pthread_mutex_destroy(&a->lock);
        free(a);
        return err_set(e, DADNS_EIO, "cannot start the HTTP server on %s:%d", o->addr, bound);
    }
    *out = a;
    return 0;
}

int admin_port(const struct admin *a)
{
    return a != NULL ? a->port : 0;
}

void admin_stop(struct admin *a)
{
    if (a == NULL)
        return;
    MHD_stop_daemon(a->daemon);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
