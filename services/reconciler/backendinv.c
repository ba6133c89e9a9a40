/* backendinv.c -- inventory requests and answers in Redis, reconciler side (see backendinv.h). */
#include "backendinv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define KEY_MAX 512

void backendinv_reqid(char *out, size_t size)
{
    unsigned char rnd[8];
    struct timeval tv;
    long long ms;
    bool have = false;
    int fd;

    gettimeofday(&tv, NULL);
    ms = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        have = read(fd, rnd, sizeof(rnd)) == (ssize_t)sizeof(rnd);
        close(fd);
    }
    if (have)
        snprintf(out, size, "%lld-%02x%02x%02x%02x%02x%02x%02x%02x", ms, rnd[0], rnd[1], rnd[2],
                 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    else
        snprintf(out, size, "%lld-%ld-%ld", ms, (long)getpid(), (long)tv.tv_usec);
}

/* result_key - P inventory:<be>:<reqid>[suffix]. */
static int result_key(struct recstore *rs, const char *backend, const char *reqid,
                      const char *suffix, char *out, struct err *e)
{
    char part[KEY_MAX];
    int n = snprintf(part, sizeof(part), "%s:%s%s", backend, reqid, suffix);

    if (n < 0 || (size_t)n >= sizeof(part))
        return err_set(e, DADNS_ETOOBIG, "inventory key too long");
    return recstore_key(rs, "inventory:", part, out, KEY_MAX, e);
}

int backendinv_request(struct recstore *rs, long maxlen, const char *backend, const char *reqid,
                       struct err *e)
{
    char skey[KEY_MAX], smax[24];
    const char *argv[] = {"XADD", skey, "MAXLEN",  "~", smax,      "*",     "op",      "inventory",
                          "zone", "",   "version", "0", "backend", backend, "request", reqid};
    redisReply *r = NULL;
    int rc;

    if ((rc = recstore_key(rs, "changes", NULL, skey, sizeof(skey), e)) != 0)
        return rc;
    snprintf(smax, sizeof(smax), "%ld", maxlen);
    rc = rconn_command(recstore_conn(rs), 16, argv, NULL, REDIS_REPLY_STRING, &r, e);
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

/* field_is - reply element @r is the string @s. */
static bool field_is(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* meta_parse - HGETALL reply @r (field, value, ...) into @m. */
static void meta_parse(const redisReply *r, struct backendinv_meta *m)
{
    size_t i;
    bool ok = false;

    memset(m, 0, sizeof(*m));
    if (r->elements == 0)
        return; /* pending */
    for (i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        char tmp[32], *end;

        if (v->type != REDIS_REPLY_STRING)
            continue;
        if (field_is(k, "status")) {
            ok = field_is(v, "ok");
            if (!ok && !field_is(v, "error") && m->error[0] == '\0')
                snprintf(m->error, sizeof(m->error), "unknown inventory status \"%.*s\"",
                         (int)(v->len > 32 ? 32 : v->len), v->str);
        } else if (field_is(k, "error") && v->len > 0) {
            snprintf(m->error, sizeof(m->error), "%.*s", (int)v->len, v->str);
        } else if (field_is(k, "consumer")) {
            snprintf(m->consumer, sizeof(m->consumer), "%.*s", (int)v->len, v->str);
        } else if ((field_is(k, "zones") || field_is(k, "finished_at")) && v->len > 0 &&
                   v->len < sizeof(tmp)) {
            long long x;

            memcpy(tmp, v->str, v->len);
            tmp[v->len] = '\0';
            errno = 0;
            x = strtoll(tmp, &end, 10);
            if (errno != 0 || *end != '\0' || x < 0)
                continue;
            if (field_is(k, "zones"))
                m->zones = (size_t)x;
            else
                m->finished_at = x;
        }
    }
    m->state = ok ? BACKENDINV_OK : BACKENDINV_ERROR;
    if (m->state == BACKENDINV_ERROR && m->error[0] == '\0')
        snprintf(m->error, sizeof(m->error), "the writer reported an error without a reason");
    if (m->state == BACKENDINV_OK)
        m->error[0] = '\0';
}

int backendinv_poll(struct recstore *rs, const char *const *backends, const bool *skip, size_t n,
                    const char *reqid, struct backendinv_meta *out, struct err *e)
{
    struct rconn *rc = recstore_conn(rs);
    char key[KEY_MAX];
    size_t i, sent = 0;
    int code, first = 0;

    for (i = 0; i < n; i++) {
        const char *argv[] = {"HGETALL", key};

        if (skip != NULL && skip[i])
            continue;
        if ((code = result_key(rs, backends[i], reqid, ":meta", key, e)) != 0)
            return code;
        if ((code = rconn_append(rc, 2, argv, NULL, e)) != 0)
            return code;
        sent++;
    }
    for (i = 0; i < n && sent > 0; i++) {
        redisReply *r = NULL;

        if (skip != NULL && skip[i])
            continue;
        sent--;
        code = rconn_get_reply(rc, REDIS_REPLY_ARRAY, &r, e);
        if (code == DADNS_EREDIS)
            return code;
        if (code != 0) {
            if (first == 0)
                first = code;
            continue;
        }
        meta_parse(r, &out[i]);
        freeReplyObject(r);
    }
    return first;
}

int backendinv_read(struct recstore *rs, const char *backend, const char *reqid, backendinv_fn fn,
                    void *arg, size_t *entries, struct err *e)
{
    char key[KEY_MAX], cursor[32] = "0";
    const char *argv[] = {"HSCAN", key, cursor, "COUNT", "1000"};
    size_t count = 0;
    int rc;

    if (entries != NULL)
        *entries = 0;
    if ((rc = result_key(rs, backend, reqid, "", key, e)) != 0)
        return rc;
    do {
        redisReply *r = NULL, *items;
        size_t i;

        rc = rconn_command(recstore_conn(rs), 5, argv, NULL, REDIS_REPLY_ARRAY, &r, e);
        if (rc != 0)
            return rc;
        if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements % 2 != 0) {
            freeReplyObject(r);
            return err_set(e, DADNS_EREPLY, "HSCAN %s: unexpected reply", key);
        }
        snprintf(cursor, sizeof(cursor), "%.*s", (int)r->element[0]->len, r->element[0]->str);
        items = r->element[1];
        for (i = 0; i + 1 < items->elements; i += 2) {
            const redisReply *k = items->element[i], *v = items->element[i + 1];

            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            count++;
            rc = fn(arg, k->str, k->len, v->str, v->len);
            if (rc != 0)
                break;
        }
        freeReplyObject(r);
        if (rc != 0)
            break;
    } while (strcmp(cursor, "0") != 0);
    if (entries != NULL)
        *entries = count;
    return rc;
}

int backendinv_drop(struct recstore *rs, const char *backend, const char *reqid, struct err *e)
{
    char k1[KEY_MAX], k2[KEY_MAX];
    const char *argv[] = {"DEL", k1, k2};
    redisReply *r = NULL;
    int rc;

    if ((rc = result_key(rs, backend, reqid, "", k1, e)) != 0 ||
        (rc = result_key(rs, backend, reqid, ":meta", k2, e)) != 0)
        return rc;
    rc = rconn_command(recstore_conn(rs), 3, argv, NULL, REDIS_REPLY_INTEGER, &r, e);
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}
