/* log.c -- one line per event on stderr, logfmt-style key=value or one JSON object per line.
 * Owns formatting and escaping (untrusted values cannot forge fields or lines) and the single
 * write(2) per line; what to log, and when, is left to the services. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES  4096 /* PIPE_BUF: a line this short is written atomically to a pipe */
#define VALUE_MAX_BYTES 1024 /* longer values are cut and end in "..." */
#define LINE_RESERVE    24   /* room kept for the line's end (" truncated=true\n", "}\n") */

/* Set by log_init before any thread starts; read-only afterwards. */
static const char *log_service = "dadns";
static enum log_level log_min = LOG_INFO;
static bool log_json = false;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, const char *level, const char *format)
{
    int i;

    log_service = service != NULL ? service : "dadns";
    log_min = LOG_INFO;
    for (i = LOG_DEBUG; level != NULL && i <= LOG_ERROR; i++)
        if (strcmp(level, level_names[i]) == 0)
            log_min = (enum log_level)i;
    log_json = format != NULL && strcmp(format, "json") == 0;
}

/* A line being built in a fixed buffer. */
struct line {
    char *p;    /* the buffer */
    size_t len; /* octets used */
    size_t cap; /* octets available for content (the reserve is kept apart) */
};

static bool line_put(struct line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        return false;
    memcpy(l->p + l->len, s, n);
    l->len += n;
    return true;
}

/* utf8_len - length of the valid UTF-8 sequence at @s (at most @n octets), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* escape - append @v to @out (@cap octets) as the inside of a quoted string: '"', '\\' and
 * control characters escaped, invalid UTF-8 replaced (kv: \xNN, JSON: \ufffd), C1 controls
 * escaped. Stops before VALUE_MAX_BYTES of output and then ends in "...".
 * Returns the octets written (never more than @cap - 1). */
static size_t escape(const char *v, bool json, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v), i = 0, o = 0, k;
    char tmp[16];

    while (i < n) {
        size_t tl = 0;

        k = utf8_len(s + i, n - i);
        if (s[i] == '"' || s[i] == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)s[i];
            tl = 2;
            k = 1;
        } else if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
            tmp[0] = '\\';
            tmp[1] = (char)(s[i] == '\n' ? 'n' : s[i] == '\r' ? 'r' : 't');
            tl = 2;
            k = 1;
        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            tl = (size_t)snprintf(tmp, sizeof(tmp), json ? "\\u%04x" : "\\x%02x", s[i]);
            k = 1;
        } else if (k == 0) {
            tl = (size_t)snprintf(tmp, sizeof(tmp), json ? "\\ufffd" : "\\x%02x", s[i]);
            k = 1;
        } else if (k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
            /* C1 control characters (U+0080..U+009F), NEL among them */
            tl = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", s[i + 1]);
        } else {
            memcpy(tmp, s + i, k);
            tl = k;
        }
        if (o + tl + 4 > cap || o + tl > VALUE_MAX_BYTES) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, tl);
        o += tl;
        i += k;
    }
    out[o] = '\0';
    return o;
}

/* kv_needs_quotes - a kv value is quoted when empty or when it holds anything but printable
 * ASCII other than '"', '=' and '\\'. */
static bool kv_needs_quotes(const char *v)
{
    const unsigned char *s = (const unsigned char *)v;

    if (*s == '\0')
        return true;
    for (; *s != '\0'; s++)
        if (*s <= 0x20 || *s >= 0x7f || *s == '"' || *s == '=' || *s == '\\')
            return true;
    return false;
}

/* key_clean - copy the key @k with anything outside [A-Za-z0-9_.-] replaced by '_'. */
static void key_clean(const char *k, char *out, size_t cap)
{
    size_t i;

    for (i = 0; k[i] != '\0' && i + 1 < cap; i++) {
        char ch = k[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';

        out[i] = ch;
        if (!ok)
            out[i] = '_';
    }
    if (i == 0)
        out[i++] = '_';
    out[i] = '\0';
}

/* add_field - append one key and value (NULL = empty/null) to @l; false if it does not fit. */
static bool add_field(struct line *l, const char *key, const char *v, bool first)
{
    char k[64], val[VALUE_MAX_BYTES + 8], field[sizeof(k) + sizeof(val) + 8];
    int n;

    key_clean(key, k, sizeof(k));
    if (log_json) {
        if (v == NULL)
            n = snprintf(field, sizeof(field), "%s\"%s\":null", first ? "{" : ",", k);
        else {
            escape(v, true, val, sizeof(val));
            n = snprintf(field, sizeof(field), "%s\"%s\":\"%s\"", first ? "{" : ",", k, val);
        }
    } else {
        if (v == NULL)
            v = "";
        escape(v, false, val, sizeof(val));
        if (kv_needs_quotes(v) || strcmp(val, v) != 0)
            n = snprintf(field, sizeof(field), "%s%s=\"%s\"", first ? "" : " ", k, val);
        else
            n = snprintf(field, sizeof(field), "%s%s=%s", first ? "" : " ", k, val);
    }
    if (n < 0 || (size_t)n >= sizeof(field))
        return false;
    return line_put(l, field, (size_t)n);
}

/* render - the whole line for @lvl, @msg and the key, value pairs of @ap into @buf (@cap
 * octets, at least LINE_RESERVE + 1). Returns its length, newline included. */
static size_t render(char *buf, size_t cap, enum log_level lvl, const char *msg, va_list ap)
{
    struct line l = {buf, 0, cap - LINE_RESERVE};
    struct timespec now;
    struct tm tm;
    const char *key, *val;
    char ts[40];
    size_t off;
    bool ok;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    off = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + off, sizeof(ts) - off, ".%03ldZ", now.tv_nsec / 1000000L);

    add_field(&l, "ts", ts, true);
    add_field(&l, "level", level_names[lvl], false);
    add_field(&l, "service", log_service, false);
    ok = add_field(&l, "msg", msg != NULL ? msg : "", false);
    /* clang-analyzer 14 wrongly reports a va_list parameter as uninitialized */
    while (ok && (key = va_arg(ap, const char *)) != NULL) { /* NOLINT(clang-analyzer-valist.*) */
        val = va_arg(ap, const char *);
        ok = add_field(&l, key, val, false);
    }

    /* the reserve always holds the end of the line */
    l.cap = cap;
    if (!ok)
        line_put(&l, log_json ? ",\"truncated\":true" : " truncated=true", log_json ? 17 : 15);
    if (log_json)
        line_put(&l, "}", 1);
    line_put(&l, "\n", 1);
    return l.len;
}

void log_msg(enum log_level lvl, const char *msg, ...)
{
    char buf[LINE_MAX_BYTES];
    size_t len, off;
    int saved_errno;
    va_list ap;

    if (lvl < log_min)
        return;
    saved_errno = errno;
    if ((int)lvl < LOG_DEBUG || lvl > LOG_ERROR)
        lvl = LOG_ERROR;
    va_start(ap, msg);
    len = render(buf, sizeof(buf), lvl, msg, ap);
    va_end(ap);
    for (off = 0; off < len;) {
        ssize_t w = write(STDERR_FILENO, buf + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    errno = saved_errno;
}
