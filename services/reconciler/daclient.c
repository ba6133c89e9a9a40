/* daclient.c -- a DirectAdmin server's zone list over HTTP(S) with libcurl (see daclient.h).
 *
 * One easy handle per fetch: Basic auth, in-memory cookie engine for DA Evolution's session,
 * no automatic redirects, a bounded body. Pages are handed to dalist for parsing. */
#include "daclient.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"

#define LIST_PATH  "/CMD_DNS_ADMIN"
#define LOGIN_PATH "/CMD_LOGIN"

/* State of one fetch. */
struct fetch {
    const struct da_server_conf *srv;    /* borrowed */
    const volatile sig_atomic_t *cancel; /* borrowed, may be NULL */
    CURL *h;                             /* owned */
    struct buf body;                     /* the answer being received */
    bool too_big;                        /* the answer went over DACLIENT_MAX_BODY */
    char errbuf[CURL_ERROR_SIZE];        /* libcurl's detail of the last failure */
    struct daclient_stats *st;           /* never NULL (a scratch one when the caller has none) */
    struct err *e;                       /* may be NULL */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* on_body - libcurl's write callback: append to the bounded body, or stop the transfer. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t n = size * nmemb;
    int rc = buf_append(&f->body, data, n);

    if (rc == DADNS_ETOOBIG)
        f->too_big = true;
    return rc == 0 ? n : 0;
}

/* on_progress - libcurl's progress callback: non-zero aborts the transfer when cancelled. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const struct fetch *f = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return f->cancel != NULL && *f->cancel != 0;
}

/* fail - @code with "<base url>: <text>" in f->e. */
static int fail(struct fetch *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct fetch *f, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(f->e, code, "%s: %s", f->st->url, msg);
}

/* base_url - "http(s)://host:port" of @srv into @out; IPv6 literals get their brackets. */
static int base_url(const struct da_server_conf *srv, char *out, size_t n)
{
    bool v6 = strchr(srv->host, ':') != NULL && srv->host[0] != '[';
    int len = snprintf(out, n, "%s://%s%s%s:%d", srv->tls ? "https" : "http", v6 ? "[" : "",
                       srv->host, v6 ? "]" : "", srv->port);

    return len < 0 || (size_t)len >= n ? DADNS_ETOOBIG : 0;
}

/* setup - the options every request of the fetch shares. */
static int setup(struct fetch *f)
{
    const struct da_server_conf *srv = f->srv;
    CURLcode c = CURLE_OK;
    CURL *h = f->h;

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (c == CURLE_OK)                                                                         \
            c = curl_easy_setopt(h, opt, val);                                                     \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT, (long)srv->timeout_s);
    SET(CURLOPT_CONNECTTIMEOUT, (long)srv->timeout_s);
    SET(CURLOPT_SSL_VERIFYPEER, srv->tls_verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, srv->tls_verify ? 2L : 0L);
    SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    SET(CURLOPT_USERNAME, srv->user);
    SET(CURLOPT_PASSWORD, srv->password);
    SET(CURLOPT_COOKIEFILE, ""); /* the cookie engine, in memory only */
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_USERAGENT, "dadns-reconciler/" DADNS_VERSION);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, f);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, f);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_ERRORBUFFER, f->errbuf);
#undef SET
    if (c != CURLE_OK)
        return fail(f, c == CURLE_OUT_OF_MEMORY ? DADNS_ENOMEM : DADNS_EIO,
                    "cannot set up libcurl: %s", curl_easy_strerror(c));
    return 0;
}

/* request - one GET (@post NULL) or form POST of @path; the answer lands in f->body and its
 * status in *@status. Returns 0 when an HTTP answer came, whatever its status. */
static int request(struct fetch *f, const char *path, const char *post, long *status)
{
    char url[sizeof(f->st->url) + 256];
    CURLcode c;

    *status = 0;
    buf_reset(&f->body);
    f->too_big = false;
    f->errbuf[0] = '\0';
    snprintf(url, sizeof(url), "%s%s", f->st->url, path);
    c = curl_easy_setopt(f->h, CURLOPT_URL, url);
    if (c == CURLE_OK && post != NULL) {
        c = curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
        if (c == CURLE_OK)
            c = curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, post);
    } else if (c == CURLE_OK) {
        c = curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L);
    }
    if (c == CURLE_OK) {
        f->st->requests++;
        c = curl_easy_perform(f->h);
    }
    if (c == CURLE_OK) {
        curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, status);
        f->st->http_status = *status;
        return 0;
    }
    if (f->too_big)
        return fail(f, DADNS_ETOOBIG, "the answer to %s is larger than %zu bytes", path,
                    (size_t)DACLIENT_MAX_BODY);
    if (c == CURLE_ABORTED_BY_CALLBACK)
        return fail(f, DADNS_EIO, "cancelled");
    if (c == CURLE_OPERATION_TIMEDOUT)
        return fail(f, DADNS_EIO, "no answer within %d s (timeout_s) for %s", f->srv->timeout_s,
                    path);
    if (c == CURLE_OUT_OF_MEMORY)
        return fail(f, DADNS_ENOMEM, "out of memory");
    return fail(f, DADNS_EIO, "%s (%s)", f->errbuf[0] ? f->errbuf : curl_easy_strerror(c),
                curl_easy_strerror(c));
}

/* is_redirect - 301, 302, 303, 307, 308. */
static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* redirect_target - the Location of the last answer, as DA sent it (libcurl's resolved URL would
 * carry the credentials), printable and shortened, into @out. */
static const char *redirect_target(struct fetch *f, char *out, size_t n)
{
    struct curl_header *hdr = NULL;
    size_t i, o = 0;

    if (curl_easy_header(f->h, "Location", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || hdr == NULL ||
        hdr->value == NULL)
        return "(no Location)";
    for (i = 0; hdr->value[i] != '\0' && o + 4 < n && i < 200; i++)
        out[o++] =
            ((unsigned char)hdr->value[i] <= ' ' || hdr->value[i] == 0x7f) ? '?' : hdr->value[i];
    if (hdr->value[i] != '\0' && o + 4 < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* has_cookie - the cookie engine holds at least one cookie. */
static bool has_cookie(struct fetch *f)
{
    struct curl_slist *list = NULL;
    bool any;

    if (curl_easy_getinfo(f->h, CURLINFO_COOKIELIST, &list) != CURLE_OK)
        return false;
    any = list != NULL;
    curl_slist_free_all(list);
    return any;
}

/* login - DA Evolution: POST /CMD_LOGIN with the account and the wanted @path as referer; its
 * session cookie stays in the handle for the following requests. */
static int login(struct fetch *f, const char *path)
{
    char *u = NULL, *p = NULL, *r = NULL;
    struct buf form;
    long status = 0;
    int rc;

    buf_init(&form, 64 * 1024);
    u = curl_easy_escape(f->h, f->srv->user, 0);
    p = curl_easy_escape(f->h, f->srv->password, 0);
    r = curl_easy_escape(f->h, path, 0);
    if (u == NULL || p == NULL || r == NULL) {
        rc = fail(f, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    rc = buf_printf(&form, "username=%s&password=%s&referer=%s", u, p, r);
    if (rc != 0) {
        rc = fail(f, rc, "cannot build the CMD_LOGIN form");
        goto out;
    }
    rc = request(f, LOGIN_PATH, form.data, &status);
    if (rc != 0)
        goto out;
    f->st->logged_in = true;
    if (status == 401 || status == 403) {
        rc = fail(f, DADNS_EDENIED, "HTTP %ld on " LOGIN_PATH ": wrong user or password", status);
        goto out;
    }
    if (!(status >= 200 && status < 400)) {
        rc = fail(f, DADNS_EIO, "HTTP %ld on " LOGIN_PATH, status);
        goto out;
    }
    if (!has_cookie(f)) {
        rc = fail(f, DADNS_EDENIED,
                  LOGIN_PATH " answered HTTP %ld without a session cookie: wrong user or "
                             "password?",
                  status);
        goto out;
    }
out:
    curl_free(u);
    curl_free(p);
    curl_free(r);
    buf_free(&form);
    return rc;
}

/* is_html - the last answer says it is an HTML page. */
static bool is_html(struct fetch *f)
{
    char *ct = NULL;

    return curl_easy_getinfo(f->h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL &&
           strncasecmp(ct, "text/html", 9) == 0;
}

/* fetch_page - GET page @page of the list and add its zones to @l (login when redirected). */
static int fetch_page(struct fetch *f, long page, struct dalist *l, struct dalist_page *pg)
{
    char path[128], where[256];
    long status = 0;
    struct err pe;
    int rc;

    snprintf(path, sizeof(path), LIST_PATH "?json=yes&page=%ld&ipp=%d", page, f->srv->page_size);
    rc = request(f, path, NULL, &status);
    if (rc != 0)
        return rc;
    if (is_redirect(status) && !f->st->logged_in) {
        rc = login(f, path);
        if (rc != 0)
            return rc;
        rc = request(f, path, NULL, &status);
        if (rc != 0)
            return rc;
    }
    if (is_redirect(status))
        return fail(f, DADNS_EDENIED,
                    "redirected to %s even after logging in: the account is not admin-level",
                    redirect_target(f, where, sizeof(where)));
    if (status == 401)
        return fail(f, DADNS_EDENIED, "HTTP 401 on " LIST_PATH ": wrong user or password");
    if (status == 403)
        return fail(f, DADNS_EDENIED,
                    "HTTP 403 on " LIST_PATH ": the account may not list zones (admin-level "
                    "needed)");
    if (status != 200)
        return fail(f, DADNS_EIO, "HTTP %ld on " LIST_PATH, status);
    if (is_html(f))
        return fail(f, DADNS_EDENIED,
                    "DirectAdmin answered with an HTML page (a login page?): check the user, "
                    "the password and that the account is admin-level");
    err_clear(&pe);
    rc = dalist_parse(l, f->body.data != NULL ? f->body.data : "", f->body.len, pg, &pe);
    if (rc != 0)
        return fail(f, rc, "page %ld: %s", page, pe.text);
    f->st->pages++;
    if (pg->format == DALIST_LEGACY)
        f->st->legacy = true;
    return 0;
}

/* walk - every page, once, into a new list *@out. Sets *@changed (and returns 0 with *@out
 * NULL) when DA's row count changed during the walk. */
static int walk(struct fetch *f, struct dalist **out, bool *changed)
{
    struct dalist *l = NULL;
    struct dalist_page pg;
    long page, rows = -1;
    int rc;

    *out = NULL;
    *changed = false;
    rc = dalist_new(&l);
    if (rc != 0)
        return fail(f, rc, "out of memory");
    for (page = 1;; page++) {
        rc = fetch_page(f, page, l, &pg);
        if (rc != 0)
            goto out;
        if (pg.format == DALIST_LEGACY)
            break;
        if (pg.rows >= 0) {
            if (rows >= 0 && pg.rows != rows) {
                *changed = true;
                goto out;
            }
            rows = pg.rows;
        }
        /* without total_pages a short page proves nothing (DA may cap ipp): go on until a
         * page is empty or brings no new name (a server that ignores page=) */
        if (pg.total_pages >= 0 ? page >= pg.total_pages : (pg.entries == 0 || pg.added == 0))
            break;
        if (page >= DACLIENT_MAX_PAGES) {
            rc = fail(f, DADNS_ETOOBIG, "more than %ld pages", DACLIENT_MAX_PAGES);
            goto out;
        }
    }
    *out = l;
    l = NULL;
out:
    dalist_free(l);
    return rc;
}

int daclient_fetch(const struct da_server_conf *srv, const volatile sig_atomic_t *cancel,
                   struct dalist **out, struct daclient_stats *stats, struct err *e)
{
    struct daclient_stats scratch;
    struct fetch f;
    bool changed = false;
    double t0 = now_s();
    int rc, attempt;

    *out = NULL;
    memset(&f, 0, sizeof(f));
    f.st = stats != NULL ? stats : &scratch;
    memset(f.st, 0, sizeof(*f.st));
    f.srv = srv;
    f.cancel = cancel;
    f.e = e;
    buf_init(&f.body, DACLIENT_MAX_BODY);
    if (base_url(srv, f.st->url, sizeof(f.st->url)) != 0) {
        rc = err_set(e, DADNS_EINVAL, "%s: host too long", srv->name);
        goto out;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        rc = fail(&f, DADNS_EIO, "libcurl: %s", curl_easy_strerror(curl_init_rc));
        goto out;
    }
    f.h = curl_easy_init();
    if (f.h == NULL) {
        rc = fail(&f, DADNS_ENOMEM, "cannot create a libcurl handle");
        goto out;
    }
    rc = setup(&f);
    if (rc != 0)
        goto out;
    for (attempt = 1; attempt <= DACLIENT_ATTEMPTS; attempt++) {
        rc = walk(&f, out, &changed);
        if (rc != 0 || !changed)
            goto out;
    }
    rc = fail(&f, DADNS_EIO,
              "the zone list changed during each of %d walks over its pages (info.rows moved); "
              "try again later",
              DACLIENT_ATTEMPTS);
out:
    f.st->seconds = now_s() - t0;
    if (f.h != NULL)
        curl_easy_cleanup(f.h);
    buf_free(&f.body);
    return rc;
}
