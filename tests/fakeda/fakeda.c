/* fakeda.c -- a fake DirectAdmin for tests: serves CMD_DNS_ADMIN's zone list (JSON pages or the
 * legacy list[]= answer), DA Evolution's redirect -> CMD_LOGIN session, an HTML page, a slow
 * and a dead server. Loopback only; test helper, not part of dadns.
 *
 * usage: fakeda -z ZONES_FILE [-p PORT] [-m MODE] [-M MODE_FILE] [-u USER] [-P PASSWORD]
 *               [-d DELAY_S] [-c MAX_IPP] [-O ONCE_FILE] [-I] [-v]
 *   -z  zones, one per line (blank lines and '#' comments skipped), sent as written; re-read
 *       on every request, so a test changes the list by rewriting the file (SIGHUP is accepted
 *       and changes nothing more)
 *   -p  port on 127.0.0.1, 0 (default) = any free one; the port is printed on stdout, alone
 *       on its line, once the server listens
 *   -m  json (default): JSON pages per page/ipp with info.total_pages and info.rows;
 *       legacy: list[]=a&list[]=b; redirect: 302 to /CMD_LOGIN unless the session cookie of a
 *       successful POST /CMD_LOGIN is sent, then JSON; nonadmin: like redirect but redirects
 *       even with the cookie; html: a 200 login page; slow: JSON after -d seconds (default
 *       5); dead: every connection closed without an answer; empty: JSON listing nothing
 *       (total_pages 0); churn: JSON whose info.rows changes on every request
 *   -M  a file whose first word, when the file exists, overrides -m (read on every request)
 *   -u, -P  the account for Basic auth and CMD_LOGIN (default admin / secret)
 *   -c  serve at most MAX_IPP zones per page whatever ipp asks (DA caps ipp)
 *   -O  one walk only: when ONCE_FILE exists as a walk starts (a /CMD_DNS_ADMIN request for
 *       page 1), it is read and removed, and that walk (until the next page-1 request) lists
 *       its zones instead of -z's; lines "@mode MODE" and "@delay S" in it set the walk's mode
 *       (instead of -M/-m) and a sleep before each answer. So two walks in a row can differ.
 *   -I  JSON without the "info" member
 *   -v  one line per request on stderr
 * SIGINT/SIGTERM stop it (exit 0). */
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "form.h"

#define MAX_BODY (64 * 1024)
#define LOGIN_PAGE                                                                                 \
    "<!DOCTYPE html><html><head><title>DirectAdmin Login</title></head><body>"                     \
    "<form action=\"/CMD_LOGIN\" method=\"post\"></form></body></html>\n"

static const char *zones_path;
static const char *mode_path;
static const char *mode_arg = "json";
static const char *user = "admin";
static const char *password = "secret";
static int delay_s = 5;
static long max_ipp;
static bool no_info;
static bool verbose;
static char session[40]; /* the cookie value a successful login hands out */
static atomic_long requests;
static const char *once_path;

/* The walk that a ONCE_FILE started (-O), until the next page-1 request. */
static pthread_mutex_t walk_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool active;
    char mode[32]; /* "" = -M/-m */
    int delay_s;
    json_t *zones;
} walk;

/* Per request: the POST body collected so far. */
struct req {
    struct buf body;
    bool slept;
};

/* read_mode - the mode for this request: the first word of -M's file, else -m. */
static void read_mode(char *out, size_t n)
{
    FILE *f = mode_path != NULL ? fopen(mode_path, "r") : NULL;

    snprintf(out, n, "%s", mode_arg);
    if (f == NULL)
        return;
    if (fscanf(f, "%31s", out) != 1 || n < 32)
        snprintf(out, n, "%s", mode_arg);
    fclose(f);
}

/* read_zones - the lines of @path, as a JSON array of strings; with @once, "@mode" and "@delay"
 * lines set the walk's mode and delay (called with walk_mu held). */
static json_t *read_zones(const char *path, bool once)
{
    json_t *a = json_array();
    char line[1024];
    FILE *f = fopen(path, "r");

    if (a == NULL || f == NULL) {
        if (f != NULL)
            fclose(f);
        return a;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        char *s = line;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        if (once && strncmp(s, "@mode ", 6) == 0) {
            snprintf(walk.mode, sizeof(walk.mode), "%s", s + 6);
            continue;
        }
        if (once && strncmp(s, "@delay ", 7) == 0) {
            walk.delay_s = (int)strtol(s + 7, NULL, 10);
            continue;
        }
        json_array_append_new(a, json_stringn(s, strlen(s)));
    }
    fclose(f);
    return a;
}

/* walk_begin - a page-1 request: end the walk of the once file, start the next one when the
 * file exists (called with walk_mu held). */
static void walk_begin(void)
{
    json_decref(walk.zones);
    walk.zones = NULL;
    walk.active = false;
    walk.mode[0] = '\0';
    walk.delay_s = 0;
    if (once_path == NULL || access(once_path, R_OK) != 0)
        return;
    walk.zones = read_zones(once_path, true); /* sets mode and delay_s too */
    unlink(once_path);
    walk.active = walk.zones != NULL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
                             const char *body, size_t len, const char *location, const char *cookie)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (location != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    if (cookie != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned int status, const char *type,
                                 const char *text)
{
    return reply(conn, status, type, text, strlen(text), NULL, NULL);
}

/* basic_ok - the request carries the right Basic credentials. */
static bool basic_ok(struct MHD_Connection *conn)
{
    char *pass = NULL, *u = MHD_basic_auth_get_username_password(conn, &pass);
    bool ok = u != NULL && pass != NULL && strcmp(u, user) == 0 && strcmp(pass, password) == 0;

    if (u != NULL)
        MHD_free(u);
    if (pass != NULL)
        MHD_free(pass);
    return ok;
}

static enum MHD_Result deny(struct MHD_Connection *conn)
{
    static const char body[] = "error=1&text=Unauthorized";
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    ret = MHD_queue_basic_auth_fail_response(conn, "DirectAdmin", r);
    MHD_destroy_response(r);
    return ret;
}

/* long_arg - a GET argument as a number, @def when absent or bad. */
static long long_arg(struct MHD_Connection *conn, const char *key, long def)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
    char *end = NULL;
    long n;

    if (v == NULL)
        return def;
    n = strtol(v, &end, 10);
    return end != v && *end == '\0' && n > 0 ? n : def;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, json_t *zones, bool empty, bool churn)
{
    long page = long_arg(conn, "page", 1), ipp = long_arg(conn, "ipp", 50);
    long total = (long)json_array_size(zones), pages, i, first;
    json_t *o = json_object(), *info = json_object();
    enum MHD_Result ret;
    char key[32], *text;

    if (max_ipp > 0 && ipp > max_ipp)
        ipp = max_ipp;
    if (empty)
        total = 0;
    pages = (total + ipp - 1) / ipp;
    if (pages == 0 && !empty)
        pages = 1;
    first = (page - 1) * ipp;
    for (i = first; i < total && i < first + ipp; i++) {
        json_t *e = json_object();

        json_object_set_new(e, "domain", json_incref(json_array_get(zones, (size_t)i)));
        json_object_set_new(e, "owner", json_string(user));
        json_object_set_new(e, "ip", json_string("192.0.2.1"));
        snprintf(key, sizeof(key), "%ld", i - first);
        json_object_set_new(o, key, e);
    }
    json_object_set_new(info, "current_page", json_integer(page));
    json_object_set_new(info, "ipp", json_integer(ipp));
    json_object_set_new(info, "total_pages", json_integer(pages));
    json_object_set_new(info, "rows", json_integer(churn ? total + atomic_load(&requests) : total));
    if (no_info)
        json_decref(info);
    else
        json_object_set_new(o, "info", info);
    json_object_set_new(o, "sort", json_string("domain")); /* an extra member to ignore */
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return MHD_NO;
    ret = send_text(conn, MHD_HTTP_OK, "application/json", text);
    free(text);
    return ret;
}

static enum MHD_Result send_legacy(struct MHD_Connection *conn, json_t *zones)
{
    struct buf b;
    size_t i;
    enum MHD_Result ret;

    buf_init(&b, (size_t)256 * 1024 * 1024);
    for (i = 0; i < json_array_size(zones); i++) {
        const char *z = json_string_value(json_array_get(zones, i));

        buf_appends(&b, i ? "&list[]=" : "list[]=");
        for (; *z != '\0'; z++) {
            unsigned char ch = (unsigned char)*z;

            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '.' || ch == '-')
                buf_append(&b, z, 1);
            else
                buf_printf(&b, "%%%02X", ch);
        }
    }
    ret = reply(conn, MHD_HTTP_OK, "text/plain", b.data ? b.data : "", b.len, NULL, NULL);
    buf_free(&b);
    return ret;
}

static enum MHD_Result login(struct MHD_Connection *conn, const struct req *rq)
{
    const char *u, *p, *referer;
    char cookie[96];
    struct form f;
    struct err e;
    enum MHD_Result ret;

    form_init(&f);
    if (rq->body.len > 0 && form_parse(&f, rq->body.data, rq->body.len, &e) != 0) {
        form_clear(&f);
        return send_text(conn, MHD_HTTP_BAD_REQUEST, "text/plain", "bad form\n");
    }
    u = form_value(&f, "username");
    p = form_value(&f, "password");
    referer = form_value(&f, "referer");
    if (u == NULL || p == NULL || strcmp(u, user) != 0 || strcmp(p, password) != 0) {
        form_clear(&f);
        return send_text(conn, MHD_HTTP_OK, "text/html", LOGIN_PAGE);
    }
    snprintf(cookie, sizeof(cookie), "session=%s; path=/; HttpOnly", session);
    ret = reply(conn, MHD_HTTP_FOUND, "text/html", "", 0,
                referer != NULL && referer[0] == '/' ? referer : "/", cookie);
    form_clear(&f);
    return ret;
}

static enum MHD_Result answer(struct MHD_Connection *conn, const char *url, const char *method,
                              const struct req *rq, const char *mode, json_t *zones);

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct req *rq = *con_cls;
    enum MHD_Result ret;
    char mode[32];
    json_t *zones = NULL;
    int sleep_s = 0;
    long n;

    (void)cls;
    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        buf_init(&rq->body, MAX_BODY);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (buf_append(&rq->body, upload, *upload_size) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    read_mode(mode, sizeof(mode));
    pthread_mutex_lock(&walk_mu);
    if (strcmp(url, "/CMD_DNS_ADMIN") == 0 && long_arg(conn, "page", 1) == 1)
        walk_begin();
    if (walk.active) {
        if (walk.mode[0] != '\0')
            snprintf(mode, sizeof(mode), "%s", walk.mode);
        sleep_s = walk.delay_s;
        zones = json_deep_copy(walk.zones); /* this request's, whatever the next one starts */
    }
    pthread_mutex_unlock(&walk_mu);
    if (sleep_s > 0 && !rq->slept) {
        rq->slept = true;
        sleep((unsigned)sleep_s);
    }
    n = atomic_fetch_add(&requests, 1) + 1;
    if (verbose)
        fprintf(stderr, "fakeda: #%ld %s %s mode=%s\n", n, method, url, mode);
    if (strcmp(mode, "slow") == 0 && !rq->slept) {
        rq->slept = true;
        sleep((unsigned)delay_s);
    }
    if (strcmp(mode, "dead") != 0 && zones == NULL)
        zones = read_zones(zones_path, false);
    ret = answer(conn, url, method, rq, mode, zones);
    json_decref(zones);
    return ret;
}

/* answer - the answer of one request in @mode, listing @zones (NULL: out of memory). */
static enum MHD_Result answer(struct MHD_Connection *conn, const char *url, const char *method,
                              const struct req *rq, const char *mode, json_t *zones)
{
    const char *cookie;

    if (strcmp(mode, "dead") == 0)
        return MHD_NO; /* closes the connection without an answer */
    if (strcmp(url, "/CMD_LOGIN") == 0 && strcmp(method, "POST") == 0)
        return login(conn, rq);
    if (strcmp(url, "/CMD_DNS_ADMIN") != 0)
        return send_text(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    if (strcmp(mode, "redirect") == 0 || strcmp(mode, "nonadmin") == 0) {
        cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "session");
        if (strcmp(mode, "nonadmin") == 0 || cookie == NULL || strcmp(cookie, session) != 0)
            return reply(conn, MHD_HTTP_FOUND, "text/html", "", 0, "/CMD_LOGIN", NULL);
    } else if (!basic_ok(conn)) {
        return deny(conn);
    }
    if (strcmp(mode, "html") == 0)
        return send_text(conn, MHD_HTTP_OK, "text/html; charset=utf-8", LOGIN_PAGE);
    if (zones == NULL)
        return MHD_NO;
    if (strcmp(mode, "legacy") == 0)
        return send_legacy(conn, zones);
    return send_json(conn, zones, strcmp(mode, "empty") == 0, strcmp(mode, "churn") == 0);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rq == NULL)
        return;
    buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: fakeda -z ZONES_FILE [-p PORT] [-m MODE] [-M MODE_FILE] [-u USER] "
                    "[-P PASSWORD] [-d DELAY_S] [-c MAX_IPP] [-O ONCE_FILE] [-I] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *di;
    sigset_t set;
    long port = 0;
    char *end;
    int opt, sig = 0;

    while ((opt = getopt(argc, argv, "z:p:m:M:u:P:d:c:O:Iv")) != -1) {
        switch (opt) {
        case 'z':
            zones_path = optarg;
            break;
        case 'p':
            port = strtol(optarg, &end, 10);
            if (*end != '\0' || port < 0 || port > 65535)
                usage();
            break;
        case 'm':
            mode_arg = optarg;
            break;
        case 'M':
            mode_path = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'P':
            password = optarg;
            break;
        case 'd':
            delay_s = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || delay_s < 0)
                usage();
            break;
        case 'c':
            max_ipp = strtol(optarg, &end, 10);
            if (*end != '\0' || max_ipp < 1)
                usage();
            break;
        case 'O':
            once_path = optarg;
            break;
        case 'I':
            no_info = true;
            break;
        case 'v':
            verbose = true;
            break;
        default:
            usage();
        }
    }
    if (zones_path == NULL || optind != argc)
        usage();
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(session, sizeof(session), "%08x%08x", (unsigned)rand(), (unsigned)rand());
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                             MHD_USE_ERROR_LOG,
                         0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "fakeda: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("%u\n", di != NULL ? (unsigned)di->port : (unsigned)port);
    fflush(stdout);
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        ; /* the files are re-read on every request anyway */
    MHD_stop_daemon(d);
    return 0;
}
