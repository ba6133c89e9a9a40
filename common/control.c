/* control.c -- operator reads and writes on the Redis store (see control.h for the contract).
 *
 * Scripts are sent with EVAL (small, rare, and safe in pipelines across a Redis restart). */
#include "control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "keyname.h"
#include "rconn.h"
#include "strset.h"

/* KEYS: zone hash, stream. ARGV: zone, maxlen, backend ("" = every group).
 * Returns nil when the zone has no state, else {version, entry id}. */
static const char PUSH_LUA[] =
    "local v = redis.call('HGET', KEYS[1], 'version')\n"
    "if not v then return false end\n"
    "local id\n"
    "if ARGV[3] ~= '' then\n"
    "  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'op', 'push',\n"
    "                  'zone', ARGV[1], 'version', v, 'backend', ARGV[3])\n"
    "else\n"
    "  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'op', 'push',\n"
    "                  'zone', ARGV[1], 'version', v)\n"
    "end\n"
    "return {v, id}\n";

/* KEYS: stream, then one zone hash per zone. ARGV: backend, maxlen, then the zone names.
 * Pushes the live ones; returns how many. */
static const char RESYNC_LUA[] =
    "local n = 0\n"
    "for i = 2, #KEYS do\n"
    "  local cur = redis.call('HMGET', KEYS[i], 'version', 'deleted')\n"
    "  if cur[1] and cur[2] == '0' then\n"
    "    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'op', 'push',\n"
    "               'zone', ARGV[i + 1], 'version', cur[1], 'backend', ARGV[1])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

/* KEYS: dead-letter stream, change stream. ARGV: dead entry id, backend, maxlen.
 * Returns 1 replayed, 0 no such entry, -1 entry without a zone (left in place). */
static const char REPLAY_LUA[] =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
    "if #e == 0 then return 0 end\n"
    "local f = e[1][2]\n"
    "local zone, version = '', '0'\n"
    "for i = 1, #f, 2 do\n"
    "  if f[i] == 'zone' then zone = f[i + 1] elseif f[i] == 'version' then version = f[i + 1] "
    "end\n"
    "end\n"
    "if zone == '' then return -1 end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'op', 'push', 'zone', zone,\n"
    "           'version', version, 'backend', ARGV[2])\n"
    "redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "return 1\n";

/* KEYS: dead-letter stream. Returns how many entries it held, then deletes it. */
static const char DISCARD_ALL_LUA[] = "local n = redis.call('XLEN', KEYS[1])\n"
                                      "redis.call('DEL', KEYS[1])\n"
                                      "return n\n";

#define KEY_MAX       (NAME_BUF_SIZE + 2 * CONTROL_NAME_MAX + 64)
#define PIPELINE_MAX  4   /* resync scripts in flight per round trip */
#define REPLAY_PAGE   200 /* dead entries read and replayed per round trip */
#define SCAN_COUNT    "1000"
#define ID_MS_MAX_LEN 20

struct control {
    const struct config *cfg; /* borrowed */
    struct rconn *rc;
    char prefix[128];
    long maxlen; /* redis.stream_maxlen for XADD on P changes */
};

int control_new(const struct config *cfg, const char *client_name, struct control **out)
{
    struct control *ctl;
    int rc;

    *out = NULL;
    if (strlen(cfg->redis_prefix) >= sizeof(ctl->prefix))
        return DADNS_ETOOBIG;
    ctl = calloc(1, sizeof(*ctl));
    if (ctl == NULL)
        return DADNS_ENOMEM;
    ctl->cfg = cfg;
    snprintf(ctl->prefix, sizeof(ctl->prefix), "%s", cfg->redis_prefix);
    ctl->maxlen = cfg->stream_maxlen;
    rc = rconn_new(cfg, client_name, &ctl->rc);
    if (rc != 0) {
        free(ctl);
        return rc;
    }
    *out = ctl;
    return 0;
}

void control_free(struct control *ctl)
{
    if (ctl == NULL)
        return;
    rconn_free(ctl->rc);
    free(ctl);
}

/* ---- small helpers ---- */

/* Key "<prefix><a><b>" into @out (KEY_MAX bytes). */
static int key(const struct control *ctl, const char *a, const char *b, char *out, struct err *e)
{
    return keyname_make(ctl->prefix, a, b, out, KEY_MAX, e);
}

/* Run one command; @want as rconn_command. */
static int cmd(struct control *ctl, int argc, const char **argv, int want, redisReply **r,
               struct err *e)
{
    return rconn_command(ctl->rc, argc, argv, NULL, want, r, e);
}

/* Run one command that answers an array into *@r (caller frees), and allocate *@slots with one
 * zeroed @size-octet slot per element (caller frees; NULL for an empty array). On failure
 * *@r and *@slots are NULL. */
static int cmd_array(struct control *ctl, int argc, const char **argv, size_t size, redisReply **r,
                     void **slots, struct err *e)
{
    int rc = cmd(ctl, argc, argv, REDIS_REPLY_ARRAY, r, e);

    *slots = NULL;
    if (rc != 0 || (*r)->elements == 0)
        return rc;
    *slots = calloc((*r)->elements, size);
    if (*slots == NULL) {
        freeReplyObject(*r);
        *r = NULL;
        return err_set(e, DADNS_ENOMEM, "out of memory");
    }
    return 0;
}

/* The integer reply of one command into *@v. */
static int cmd_ll(struct control *ctl, int argc, const char **argv, long long *v, struct err *e)
{
    redisReply *r = NULL;
    int rc = cmd(ctl, argc, argv, REDIS_REPLY_INTEGER, &r, e);

    if (rc != 0)
        return rc;
    *v = r->integer;
    freeReplyObject(r);
    return 0;
}

static void copy_str(const redisReply *r, char *out, size_t size)
{
    if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(out, size, "%.*s", (int)r->len, r->str);
    else
        out[0] = '\0';
}

/* Parse a decimal integer from @s (@len octets); 0 on success. */
static int parse_ll(const char *s, size_t len, long long *v)
{
    char tmp[32];
    char *end;
    long long x;

    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    x = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = x;
    return 0;
}

/* An integer or numeric-string reply element as long long; @def when nil or not a number. */
static long long reply_ll(const redisReply *r, long long def)
{
    long long v;

    if (r == NULL)
        return def;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING && parse_ll(r->str, r->len, &v) == 0)
        return v;
    return def;
}

/* The value after field @name in the flat field/value array @flat, or NULL. */
static const redisReply *kv_get(const redisReply *flat, const char *name)
{
    size_t i, nl = strlen(name);

    if (flat == NULL || flat->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (i = 0; i + 1 < flat->elements; i += 2) {
        const redisReply *k = flat->element[i];

        if (k->type == REDIS_REPLY_STRING && k->len == nl && memcmp(k->str, name, nl) == 0)
            return flat->element[i + 1];
    }
    return NULL;
}

/* The millisecond part of stream id @id, or -1. */
static long long id_ms(const char *id)
{
    const char *dash = strchr(id, '-');
    size_t len = dash != NULL ? (size_t)(dash - id) : strlen(id);
    long long v;

    return parse_ll(id, len, &v) == 0 ? v : -1;
}

int control_id_valid(const char *id)
{
    const char *p = id;
    size_t digits = 0;

    while (*p >= '0' && *p <= '9') {
        p++;
        digits++;
    }
    if (digits == 0 || digits > ID_MS_MAX_LEN)
        return 0;
    if (*p == '\0')
        return 1;
    if (*p++ != '-')
        return 0;
    digits = 0;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits++;
    }
    return digits > 0 && digits <= ID_MS_MAX_LEN && *p == '\0';
}

/* Called with each key a SCAN finds (@k of @len octets). */
typedef int (*scan_fn)(void *arg, const char *k, size_t len);

/* SCAN the whole keyspace for @pattern (of @type, NULL = any), calling @fn per key. */
static int scan_keys(struct control *ctl, const char *pattern, const char *type, scan_fn fn,
                     void *arg, struct err *e)
{
    char cursor[32] = "0";
    redisReply *r = NULL;
    int rc = 0;

    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT, "TYPE", type};
        size_t i;

        rc = cmd(ctl, type != NULL ? 8 : 6, argv, REDIS_REPLY_ARRAY, &r, e);
        if (rc != 0)
            return rc;
        if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            rc = err_set(e, DADNS_EREPLY, "SCAN: unexpected reply");
            goto out;
        }
        copy_str(r->element[0], cursor, sizeof(cursor));
        for (i = 0; i < r->element[1]->elements; i++) {
            const redisReply *k = r->element[1]->element[i];

            if (k->type == REDIS_REPLY_STRING && (rc = fn(arg, k->str, k->len)) != 0)
                goto out;
        }
        freeReplyObject(r);
        r = NULL;
    } while (strcmp(cursor, "0") != 0);
out:
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

int control_ping(struct control *ctl, struct err *e)
{
    const char *argv[] = {"PING"};
    redisReply *r = NULL;
    int rc = cmd(ctl, 1, argv, -1, &r, e);

    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

/* ---- backends ---- */

struct be_list {
    struct control_backend *v;
    size_t n, cap;
    size_t first_extra; /* entries from here on are sorted by name at the end */
};

/* The entry named @name (@len octets), added when missing; NULL when out of memory or the name
 * does not fit (ignored). *@added says whether it is new. */
static struct control_backend *be_get(struct be_list *l, const char *name, size_t len, int *nomem)
{
    size_t i;

    *nomem = 0;
    if (len == 0 || len >= CONTROL_NAME_MAX)
        return NULL;
    for (i = 0; i < l->n; i++) {
        if (strlen(l->v[i].name) == len && memcmp(l->v[i].name, name, len) == 0)
            return &l->v[i];
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 8;
        struct control_backend *p = realloc(l->v, ncap * sizeof(*p));

        if (p == NULL) {
            *nomem = 1;
            return NULL;
        }
        l->v = p;
        l->cap = ncap;
    }
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    memcpy(l->v[l->n].name, name, len);
    return &l->v[l->n++];
}

static int be_cmp(const void *a, const void *b)
{
    return strcmp(((const struct control_backend *)a)->name,
                  ((const struct control_backend *)b)->name);
}

/* XINFO GROUPS of P changes into *@r (NULL when the stream does not exist). */
static int groups_info(struct control *ctl, redisReply **r, struct err *e)
{
    char skey[KEY_MAX];
    const char *argv[] = {"XINFO", "GROUPS", skey};
    int rc;

    *r = NULL;
    if ((rc = key(ctl, "changes", NULL, skey, e)) != 0)
        return rc;
    rc = cmd(ctl, 3, argv, REDIS_REPLY_ARRAY, r, e);
    if (rc == DADNS_EREPLY && e != NULL && strstr(e->text, "no such key") != NULL) {
        err_clear(e);
        return 0;
    }
    return rc;
}

struct dead_scan {
    struct be_list *l;
    size_t skip; /* length of "<prefix>dead:" */
};

static int dead_found(void *arg, const char *k, size_t len)
{
    struct dead_scan *ds = arg;
    struct control_backend *b;
    int nomem;

    if (len <= ds->skip)
        return 0;
    b = be_get(ds->l, k + ds->skip, len - ds->skip, &nomem);
    if (nomem)
        return DADNS_ENOMEM;
    if (b != NULL)
        b->has_dead = 1;
    return 0;
}

int control_backends(struct control *ctl, int scan_dead, struct control_backend **out, size_t *n,
                     struct err *e)
{
    struct be_list l = {NULL, 0, 0, 0};
    redisReply *gi = NULL;
    size_t i;
    int rc, nomem;

    *out = NULL;
    *n = 0;
    for (i = 0; i < ctl->cfg->n_backends; i++) {
        const char *name = ctl->cfg->backends[i].name;
        struct control_backend *b = be_get(&l, name, strlen(name), &nomem);

        if (nomem) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        if (b != NULL)
            b->configured = 1;
    }
    l.first_extra = l.n;
    if ((rc = groups_info(ctl, &gi, e)) != 0)
        goto out;
    for (i = 0; gi != NULL && i < gi->elements; i++) {
        const redisReply *name = kv_get(gi->element[i], "name");
        struct control_backend *b;

        if (name == NULL || name->type != REDIS_REPLY_STRING)
            continue;
        b = be_get(&l, name->str, name->len, &nomem);
        if (nomem) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        if (b != NULL)
            b->has_group = 1;
    }
    if (scan_dead) {
        char pattern[KEY_MAX];
        struct dead_scan ds = {&l, strlen(ctl->prefix) + strlen("dead:")};

        if ((rc = keyname_pattern(ctl->prefix, "dead:", pattern, sizeof(pattern), e)) != 0)
            goto out;
        rc = scan_keys(ctl, pattern, "stream", dead_found, &ds, e);
        if (rc == DADNS_ENOMEM)
            err_set(e, rc, "out of memory");
        if (rc != 0)
            goto out;
    }
    if (l.n > l.first_extra)
        qsort(l.v + l.first_extra, l.n - l.first_extra, sizeof(*l.v), be_cmp);
    *out = l.v;
    *n = l.n;
    l.v = NULL;
out:
    if (gi != NULL)
        freeReplyObject(gi);
    free(l.v);
    return rc;
}

int control_backend_known(struct control *ctl, const char *backend, int *known, struct err *e)
{
    struct control_backend *bes = NULL;
    size_t n = 0, i;
    int rc;

    *known = 0;
    if (config_backend(ctl->cfg, backend) != NULL) {
        *known = 1;
        return 0;
    }
    rc = control_backends(ctl, 0, &bes, &n, e);
    if (rc != 0)
        return rc;
    for (i = 0; i < n; i++) {
        if (strcmp(bes[i].name, backend) == 0 && bes[i].has_group)
            *known = 1;
    }
    free(bes);
    return 0;
}

/* ---- status ---- */

static int redis_now_ms(struct control *ctl, long long *now, struct err *e)
{
    const char *argv[] = {"TIME"};
    redisReply *r = NULL;
    long long s, us;
    int rc = cmd(ctl, 1, argv, REDIS_REPLY_ARRAY, &r, e);

    if (rc != 0)
        return rc;
    s = r->elements == 2 ? reply_ll(r->element[0], -1) : -1;
    us = r->elements == 2 ? reply_ll(r->element[1], -1) : -1;
    freeReplyObject(r);
    if (s < 0 || us < 0)
        return err_set(e, DADNS_EREPLY, "TIME: unexpected reply");
    *now = s * 1000 + us / 1000;
    return 0;
}

/* Fill @g's group fields from its XINFO GROUPS entry @info, XPENDING and XINFO CONSUMERS. */
static int group_details(struct control *ctl, const char *skey, const redisReply *info,
                         long long now_ms, struct control_group *g, struct err *e)
{
    const char *pargv[] = {"XPENDING", skey, g->be.name};
    const char *cargv[] = {"XINFO", "CONSUMERS", skey, g->be.name};
    const redisReply *lag = kv_get(info, "lag");
    redisReply *r = NULL;
    void *slots;
    size_t i;
    int rc;

    g->pending = reply_ll(kv_get(info, "pending"), 0);
    g->lag = (lag != NULL && lag->type != REDIS_REPLY_NIL) ? reply_ll(lag, -1) : -1;
    copy_str(kv_get(info, "last-delivered-id"), g->last_delivered, sizeof(g->last_delivered));
    if ((rc = cmd(ctl, 3, pargv, REDIS_REPLY_ARRAY, &r, e)) != 0)
        return rc;
    if (r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING) {
        long long ms;

        copy_str(r->element[1], g->oldest_pending, sizeof(g->oldest_pending));
        ms = id_ms(g->oldest_pending);
        if (ms >= 0)
            g->oldest_pending_age_ms = now_ms > ms ? now_ms - ms : 0;
    }
    freeReplyObject(r);
    r = NULL;
    if ((rc = cmd_array(ctl, 4, cargv, sizeof(*g->consumers), &r, &slots, e)) != 0)
        return rc;
    g->consumers = slots;
    for (i = 0; i < r->elements; i++) {
        struct control_consumer *c = &g->consumers[g->n_consumers];

        copy_str(kv_get(r->element[i], "name"), c->name, sizeof(c->name));
        if (c->name[0] == '\0')
            continue;
        c->pending = reply_ll(kv_get(r->element[i], "pending"), 0);
        c->idle_ms = reply_ll(kv_get(r->element[i], "idle"), -1);
        g->n_consumers++;
    }
    freeReplyObject(r);
    return 0;
}

static int count_key(void *arg, const char *k, size_t len)
{
    (void)k;
    (void)len;
    (*(long long *)arg)++;
    return 0;
}

/* P reconciler:last and P reconciler:guard into @st. */
static int reconciler_state(struct control *ctl, struct control_status *st, struct err *e)
{
    char gkey[KEY_MAX];
    const char *argv[] = {"HGETALL", gkey};
    redisReply *r = NULL;
    void *slots;
    size_t i;
    int rc;

    if ((rc = control_reconciler_last(ctl, &st->reconciler_last, e)) != 0)
        return rc;
    if ((rc = key(ctl, "reconciler:guard", NULL, gkey, e)) != 0)
        return rc;
    if ((rc = cmd_array(ctl, 2, argv, sizeof(*st->guard), &r, &slots, e)) != 0)
        return rc;
    st->guard = slots;
    for (i = 0; i < r->elements; i++) {
        const redisReply *x = r->element[i];

        st->guard[i] = x->type == REDIS_REPLY_STRING ? strndup(x->str, x->len) : strdup("");
        if (st->guard[i] == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        st->n_guard = i + 1;
    }
out:
    freeReplyObject(r);
    return rc;
}

static int writer_cmp(const void *a, const void *b)
{
    return strcmp(((const struct heartbeat_record *)a)->consumer,
                  ((const struct heartbeat_record *)b)->consumer);
}

/* The heartbeats of @g's writers (HGETALL P writer:<name>) into @g. */
static int writer_beats(struct control *ctl, struct control_group *g, struct err *e)
{
    char wkey[KEY_MAX];
    const char *argv[] = {"HGETALL", wkey};
    redisReply *r = NULL;
    size_t i;
    int rc;

    if ((rc = key(ctl, "writer:", g->be.name, wkey, e)) != 0)
        return rc;
    if ((rc = cmd(ctl, 2, argv, REDIS_REPLY_ARRAY, &r, e)) != 0)
        return rc;
    if (r->elements >= 2) {
        g->writers = calloc(r->elements / 2, sizeof(*g->writers));
        if (g->writers == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        char consumer[CONTROL_NAME_MAX];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        copy_str(f, consumer, sizeof(consumer));
        if (heartbeat_record_parse(consumer, v->str, v->len, &g->writers[g->n_writers]) == 0)
            g->n_writers++;
    }
    if (g->n_writers > 1)
        qsort(g->writers, g->n_writers, sizeof(*g->writers), writer_cmp);
out:
    freeReplyObject(r);
    return rc;
}

/* The @n newest entries of P failures (and LLEN) into @st. */
static int recent_failures(struct control *ctl, size_t n, struct control_status *st, struct err *e)
{
    char fkey[KEY_MAX], last[24];
    const char *largv[] = {"LLEN", fkey};
    const char *argv[] = {"LRANGE", fkey, "0", last};
    redisReply *r = NULL;
    void *slots;
    size_t i;
    int rc;

    if ((rc = key(ctl, "failures", NULL, fkey, e)) != 0 ||
        (rc = cmd_ll(ctl, 2, largv, &st->failures_total, e)) != 0)
        return rc;
    if (n == 0)
        return 0;
    snprintf(last, sizeof(last), "%zu", n - 1);
    if ((rc = cmd_array(ctl, 4, argv, sizeof(*st->failures), &r, &slots, e)) != 0)
        return rc;
    st->failures = slots;
    for (i = 0; i < r->elements; i++) {
        const redisReply *x = r->element[i];

        if (x->type == REDIS_REPLY_STRING &&
            heartbeat_failure_parse(x->str, x->len, &st->failures[st->n_failures]) == 0)
            st->n_failures++;
    }
    freeReplyObject(r);
    return 0;
}

int control_status(struct control *ctl, struct control_status **out, struct err *e)
{
    const struct control_status_opts o = {1, CONTROL_STATUS_FAILURES};

    return control_status_collect(ctl, &o, out, e);
}

int control_status_collect(struct control *ctl, const struct control_status_opts *o,
                           struct control_status **out, struct err *e)
{
    struct control_status *st = NULL;
    struct control_backend *bes = NULL;
    char skey[KEY_MAX], zkey[KEY_MAX], dkey[KEY_MAX], pattern[KEY_MAX];
    redisReply *gi = NULL;
    long long hashes = 0;
    size_t nb = 0, i, j;
    int rc;

    *out = NULL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    if ((rc = key(ctl, "changes", NULL, skey, e)) != 0 ||
        (rc = key(ctl, "zones", NULL, zkey, e)) != 0 ||
        (rc = keyname_pattern(ctl->prefix, "zone:", pattern, sizeof(pattern), e)) != 0)
        goto out;
    if ((rc = redis_now_ms(ctl, &st->now_ms, e)) != 0)
        goto out;
    {
        const char *argv[] = {"XLEN", skey};

        if ((rc = cmd_ll(ctl, 2, argv, &st->stream_length, e)) != 0)
            goto out;
    }
    if ((rc = control_backends(ctl, 1, &bes, &nb, e)) != 0 || (rc = groups_info(ctl, &gi, e)) != 0)
        goto out;
    if (nb > 0) {
        st->groups = calloc(nb, sizeof(*st->groups));
        if (st->groups == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (i = 0; i < nb; i++) {
        struct control_group *g = &st->groups[i];
        const char *argv[] = {"XLEN", dkey};

        st->n_groups = i + 1;
        g->be = bes[i];
        g->pending = -1;
        g->lag = -1;
        g->oldest_pending_age_ms = -1;
        for (j = 0; g->be.has_group && gi != NULL && j < gi->elements; j++) {
            char name[CONTROL_NAME_MAX];

            copy_str(kv_get(gi->element[j], "name"), name, sizeof(name));
            if (strcmp(name, g->be.name) == 0) {
                rc = group_details(ctl, skey, gi->element[j], st->now_ms, g, e);
                if (rc != 0)
                    goto out;
                break;
            }
        }
        if ((rc = key(ctl, "dead:", g->be.name, dkey, e)) != 0 ||
            (rc = cmd_ll(ctl, 2, argv, &g->dead, e)) != 0 || (rc = writer_beats(ctl, g, e)) != 0)
            goto out;
    }
    {
        const char *argv[] = {"SCARD", zkey};

        if ((rc = cmd_ll(ctl, 2, argv, &st->zones_live, e)) != 0)
            goto out;
    }
    st->zones_tombstones = -1;
    if (o->count_tombstones) {
        if ((rc = scan_keys(ctl, pattern, "hash", count_key, &hashes, e)) != 0)
            goto out;
        st->zones_tombstones = hashes > st->zones_live ? hashes - st->zones_live : 0;
    }
    if ((rc = reconciler_state(ctl, st, e)) != 0 ||
        (rc = recent_failures(ctl, o->failures, st, e)) != 0)
        goto out;
    *out = st;
    st = NULL;
out:
    if (gi != NULL)
        freeReplyObject(gi);
    free(bes);
    control_status_free(st);
    return rc;
}

void control_status_free(struct control_status *st)
{
    size_t i;

    if (st == NULL)
        return;
    for (i = 0; i < st->n_groups; i++) {
        free(st->groups[i].consumers);
        free(st->groups[i].writers);
    }
    free(st->groups);
    free(st->failures);
    for (i = 0; i < st->n_guard; i++)
        free(st->guard[i]);
    free(st->guard);
    free(st->reconciler_last);
    free(st);
}

/* ---- zones ---- */

int control_zone_show(struct control *ctl, const char *zone, int with_text,
                      struct control_zone **out, struct err *e)
{
    char hkey[KEY_MAX], zkey[KEY_MAX], akey[KEY_MAX];
    const char *hm[] = {"HMGET", hkey,   "version", "deleted", "serial",
                        "host",  "user", "updated", "digest"};
    const char *hl[] = {"HSTRLEN", hkey, "text"};
    const char *ht[] = {"HGET", hkey, "text"};
    const char *sm[] = {"SISMEMBER", zkey, zone};
    struct control_backend *bes = NULL;
    struct control_zone *z = NULL;
    redisReply *r = NULL;
    long long v;
    size_t nb = 0, i;
    int rc;

    *out = NULL;
    if ((rc = key(ctl, "zone:", zone, hkey, e)) != 0 ||
        (rc = key(ctl, "zones", NULL, zkey, e)) != 0)
        return rc;
    z = calloc(1, sizeof(*z));
    if (z == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    snprintf(z->name, sizeof(z->name), "%s", zone);
    if ((rc = cmd(ctl, 9, hm, REDIS_REPLY_ARRAY, &r, e)) != 0)
        goto out;
    if (r->elements != 7) {
        rc = err_set(e, DADNS_EREPLY, "HMGET: unexpected reply");
        goto out;
    }
    if (r->element[0]->type != REDIS_REPLY_STRING) {
        rc = err_set(e, DADNS_ENOTFOUND, "zone %s: no state stored", zone);
        goto out;
    }
    z->version = (uint64_t)reply_ll(r->element[0], 0);
    z->deleted = r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == 1 &&
                 r->element[1]->str[0] == '1';
    z->serial = (uint32_t)reply_ll(r->element[2], 0);
    copy_str(r->element[3], z->host, sizeof(z->host));
    copy_str(r->element[4], z->user, sizeof(z->user));
    z->updated_ms = reply_ll(r->element[5], 0);
    copy_str(r->element[6], z->digest, sizeof(z->digest));
    freeReplyObject(r);
    r = NULL;
    if ((rc = cmd_ll(ctl, 3, hl, &v, e)) != 0)
        goto out;
    z->text_len = v > 0 ? (size_t)v : 0;
    if ((rc = cmd_ll(ctl, 3, sm, &v, e)) != 0)
        goto out;
    z->live = v == 1;
    if (with_text) {
        if ((rc = cmd(ctl, 3, ht, -1, &r, e)) != 0)
            goto out;
        if (r->type == REDIS_REPLY_STRING) {
            z->text = malloc(r->len + 1);
            if (z->text == NULL) {
                rc = err_set(e, DADNS_ENOMEM, "out of memory");
                goto out;
            }
            memcpy(z->text, r->str, r->len);
            z->text[r->len] = '\0';
            z->text_size = r->len;
        }
        freeReplyObject(r);
        r = NULL;
    }
    if ((rc = control_backends(ctl, 0, &bes, &nb, e)) != 0)
        goto out;
    if (nb > 0) {
        z->applied = calloc(nb, sizeof(*z->applied));
        if (z->applied == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (i = 0; i < nb; i++) {
        struct control_applied *a = &z->applied[i];
        const char *ag[] = {"HGET", akey, zone};

        z->n_applied = i + 1;
        a->be = bes[i];
        if ((rc = key(ctl, "applied:", a->be.name, akey, e)) != 0 ||
            (rc = cmd(ctl, 3, ag, -1, &r, e)) != 0)
            goto out;
        a->has_applied = r->type == REDIS_REPLY_STRING;
        a->applied = a->has_applied ? (uint64_t)reply_ll(r, 0) : 0;
        a->current = a->has_applied && a->applied >= z->version;
        freeReplyObject(r);
        r = NULL;
    }
    *out = z;
    z = NULL;
out:
    if (r != NULL)
        freeReplyObject(r);
    free(bes);
    control_zone_free(z);
    return rc;
}

void control_zone_free(struct control_zone *z)
{
    if (z == NULL)
        return;
    free(z->text);
    free(z->applied);
    free(z);
}

int control_push(struct control *ctl, const char *zone, const char *backend, uint64_t *version,
                 char *id, size_t id_size, struct err *e)
{
    char hkey[KEY_MAX], skey[KEY_MAX], smax[24];
    const char *argv[] = {"EVAL", PUSH_LUA, "2",  hkey,
                          skey,   zone,     smax, backend != NULL ? backend : ""};
    redisReply *r = NULL;
    int rc;

    if ((rc = key(ctl, "zone:", zone, hkey, e)) != 0 ||
        (rc = key(ctl, "changes", NULL, skey, e)) != 0)
        return rc;
    snprintf(smax, sizeof(smax), "%ld", ctl->maxlen);
    if ((rc = cmd(ctl, 8, argv, -1, &r, e)) != 0)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = err_set(e, DADNS_ENOTFOUND, "zone %s: no state stored", zone);
        goto out;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        rc = err_set(e, DADNS_EREPLY, "push script: unexpected reply");
        goto out;
    }
    *version = (uint64_t)reply_ll(r->element[0], 0);
    if (id != NULL)
        copy_str(r->element[1], id, id_size);
out:
    freeReplyObject(r);
    return rc;
}

/* ---- resync ---- */

/* SSCAN P zones into @set. */
static int live_zones(struct control *ctl, struct strset *set, struct err *e)
{
    char zkey[KEY_MAX], cursor[32] = "0";
    redisReply *r = NULL;
    int rc;

    if ((rc = key(ctl, "zones", NULL, zkey, e)) != 0)
        return rc;
    do {
        const char *argv[] = {"SSCAN", zkey, cursor, "COUNT", SCAN_COUNT};
        size_t i;

        if ((rc = cmd(ctl, 5, argv, REDIS_REPLY_ARRAY, &r, e)) != 0)
            return rc;
        if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY) {
            rc = err_set(e, DADNS_EREPLY, "SSCAN: unexpected reply");
            goto out;
        }
        copy_str(r->element[0], cursor, sizeof(cursor));
        for (i = 0; i < r->element[1]->elements; i++) {
            const redisReply *m = r->element[1]->element[i];
            char name[NAME_BUF_SIZE];

            if (m->type != REDIS_REPLY_STRING || m->len >= sizeof(name))
                continue;
            memcpy(name, m->str, m->len);
            name[m->len] = '\0';
            if (strset_add(set, name) < 0) {
                rc = err_set(e, DADNS_ENOMEM, "out of memory");
                goto out;
            }
        }
        freeReplyObject(r);
        r = NULL;
    } while (strcmp(cursor, "0") != 0);
out:
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

int control_resync(struct control *ctl, const char *backend, size_t batch,
                   control_progress_fn progress, void *arg, size_t *pushed, struct err *e)
{
    struct strset *set = NULL;
    const char **names = NULL, **argv = NULL;
    char(*keys)[KEY_MAX] = NULL;
    char skey[KEY_MAX], smax[24], snk[24];
    size_t total = 0, done = 0;
    int rc;

    *pushed = 0;
    if (batch == 0)
        batch = 500;
    if ((rc = key(ctl, "changes", NULL, skey, e)) != 0)
        return rc;
    snprintf(smax, sizeof(smax), "%ld", ctl->maxlen);
    if (strset_new(&set) != 0)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    if ((rc = live_zones(ctl, set, e)) != 0)
        goto out;
    if (strset_sorted(set, &names, &total) != 0) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    /* hiredis copies a command into its output buffer when it is appended, so one argv and
     * one key array serve every script of a round. */
    argv = calloc(2 * batch + 6, sizeof(*argv));
    keys = calloc(batch, sizeof(*keys));
    if (argv == NULL || keys == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    while (done < total) {
        size_t sent, got, round = 0;

        for (sent = 0; sent < PIPELINE_MAX && done + round < total; sent++) {
            size_t k, ac = 0, first = done + round;

            for (k = 0; k < batch && first + k < total; k++) {
                if ((rc = key(ctl, "zone:", names[first + k], keys[k], e)) != 0)
                    goto out;
            }
            snprintf(snk, sizeof(snk), "%zu", k + 1);
            argv[ac++] = "EVAL";
            argv[ac++] = RESYNC_LUA;
            argv[ac++] = snk;
            argv[ac++] = skey;
            for (size_t i = 0; i < k; i++)
                argv[ac++] = keys[i];
            argv[ac++] = backend;
            argv[ac++] = smax;
            for (size_t i = 0; i < k; i++)
                argv[ac++] = names[first + i];
            if ((rc = rconn_append(ctl->rc, (int)ac, argv, NULL, e)) != 0)
                goto out;
            round += k;
        }
        /* Read every reply, even after an error reply, to keep the pipeline in step. */
        for (got = 0; got < sent; got++) {
            redisReply *r = NULL;
            int r1 = rconn_get_reply(ctl->rc, REDIS_REPLY_INTEGER, &r, e);

            if (r1 == DADNS_EREDIS) {
                rc = r1;
                goto out;
            }
            if (r1 != 0 && rc == 0)
                rc = r1;
            if (r != NULL) {
                *pushed += r->integer > 0 ? (size_t)r->integer : 0;
                freeReplyObject(r);
            }
        }
        if (rc != 0)
            goto out;
        done += round;
        if (progress != NULL)
            progress(arg, done, total);
    }
out:
    free(keys);
    free(argv);
    free(names);
    strset_free(set);
    return rc;
}

/* ---- dead letters ---- */

/* Fill @d from one XRANGE entry @en ([id, [field, value...]]). */
static void dead_parse(const redisReply *en, struct control_dead *d)
{
    const redisReply *f;

    memset(d, 0, sizeof(*d));
    if (en->type != REDIS_REPLY_ARRAY || en->elements != 2)
        return;
    copy_str(en->element[0], d->id, sizeof(d->id));
    f = en->element[1];
    copy_str(kv_get(f, "zone"), d->zone, sizeof(d->zone));
    copy_str(kv_get(f, "op"), d->op, sizeof(d->op));
    d->version = (uint64_t)reply_ll(kv_get(f, "version"), 0);
    d->attempts = reply_ll(kv_get(f, "attempts"), 0);
    copy_str(kv_get(f, "reason"), d->reason, sizeof(d->reason));
    d->failed_at = reply_ll(kv_get(f, "failed_at"), 0);
    copy_str(kv_get(f, "id"), d->orig_id, sizeof(d->orig_id));
    copy_str(kv_get(f, "consumer"), d->consumer, sizeof(d->consumer));
    d->permanent = reply_ll(kv_get(f, "permanent"), 0) == 1;
}

/* XRANGE @dkey from after @after (NULL/"" = the start), COUNT @limit (0 = all). */
static int dead_range(struct control *ctl, const char *dkey, const char *after, size_t limit,
                      redisReply **r, struct err *e)
{
    char start[CONTROL_ID_MAX + 2], scount[24];
    const char *argv[] = {"XRANGE", dkey, start, "+", "COUNT", scount};

    if (after != NULL && after[0] != '\0') {
        if (!control_id_valid(after))
            return err_set(e, DADNS_EINVAL, "invalid stream id \"%s\"", after);
        snprintf(start, sizeof(start), "(%s", after);
    } else {
        snprintf(start, sizeof(start), "-");
    }
    snprintf(scount, sizeof(scount), "%zu", limit);
    return cmd(ctl, limit > 0 ? 6 : 4, argv, REDIS_REPLY_ARRAY, r, e);
}

int control_dead_list(struct control *ctl, const char *backend, const char *after, size_t limit,
                      struct control_dead **out, size_t *n, long long *total, struct err *e)
{
    char dkey[KEY_MAX];
    const char *argv[] = {"XLEN", dkey};
    redisReply *r = NULL;
    size_t i;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = key(ctl, "dead:", backend, dkey, e)) != 0)
        return rc;
    if (total != NULL && (rc = cmd_ll(ctl, 2, argv, total, e)) != 0)
        return rc;
    if ((rc = dead_range(ctl, dkey, after, limit, &r, e)) != 0)
        return rc;
    if (r->elements > 0) {
        *out = calloc(r->elements, sizeof(**out));
        if (*out == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        for (i = 0; i < r->elements; i++)
            dead_parse(r->element[i], &(*out)[i]);
        *n = r->elements;
    }
out:
    freeReplyObject(r);
    return rc;
}

/* Append the replay script for dead entry @id (argv copied by hiredis at once). */
static int replay_append(struct control *ctl, const char *dkey, const char *skey,
                         const char *backend, const char *id, struct err *e)
{
    char smax[24];
    const char *argv[] = {"EVAL", REPLAY_LUA, "2", dkey, skey, id, backend, smax};

    snprintf(smax, sizeof(smax), "%ld", ctl->maxlen);
    return rconn_append(ctl->rc, 8, argv, NULL, e);
}

int control_dead_replay(struct control *ctl, const char *backend, const char *id, struct err *e)
{
    char dkey[KEY_MAX], skey[KEY_MAX], smax[24];
    const char *argv[] = {"EVAL", REPLAY_LUA, "2", dkey, skey, id, backend, smax};
    redisReply *r = NULL;
    long long v;
    int rc;

    if (!control_id_valid(id))
        return err_set(e, DADNS_EINVAL, "invalid stream id \"%s\"", id);
    if ((rc = key(ctl, "dead:", backend, dkey, e)) != 0 ||
        (rc = key(ctl, "changes", NULL, skey, e)) != 0)
        return rc;
    snprintf(smax, sizeof(smax), "%ld", ctl->maxlen);
    if ((rc = cmd(ctl, 8, argv, REDIS_REPLY_INTEGER, &r, e)) != 0)
        return rc;
    v = r->integer;
    freeReplyObject(r);
    if (v == 0)
        return err_set(e, DADNS_ENOTFOUND, "no dead letter %s for backend %s", id, backend);
    if (v < 0)
        return err_set(e, DADNS_EINVAL, "dead letter %s of backend %s has no zone to replay", id,
                       backend);
    return 0;
}

int control_dead_replay_all(struct control *ctl, const char *backend, size_t *replayed,
                            size_t *skipped, struct err *e)
{
    char dkey[KEY_MAX], skey[KEY_MAX], last[CONTROL_ID_MAX] = "";
    redisReply *page = NULL;
    size_t i, nskip = 0;
    int rc;

    *replayed = 0;
    if ((rc = key(ctl, "dead:", backend, dkey, e)) != 0 ||
        (rc = key(ctl, "changes", NULL, skey, e)) != 0)
        return rc;
    for (;;) {
        if ((rc = dead_range(ctl, dkey, last, REPLAY_PAGE, &page, e)) != 0)
            goto out;
        if (page->elements == 0)
            break;
        for (i = 0; i < page->elements; i++) {
            const redisReply *en = page->element[i];

            if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
                en->element[0]->type != REDIS_REPLY_STRING) {
                rc = err_set(e, DADNS_EREPLY, "XRANGE: unexpected reply");
                goto drain;
            }
            if ((rc = replay_append(ctl, dkey, skey, backend, en->element[0]->str, e)) != 0)
                goto drain;
        }
        rc = 0;
    drain:
        /* One reply per appended script, even after an error reply. */
        for (size_t got = 0; got < i; got++) {
            redisReply *r = NULL;
            int r1 = rconn_get_reply(ctl->rc, REDIS_REPLY_INTEGER, &r, e);

            if (r1 == DADNS_EREDIS) {
                rc = r1;
                goto out;
            }
            if (r1 != 0 && rc == 0)
                rc = r1;
            if (r != NULL) {
                if (r->integer == 1)
                    (*replayed)++;
                else if (r->integer < 0)
                    nskip++;
                freeReplyObject(r);
            }
        }
        if (rc != 0)
            goto out;
        copy_str(page->element[page->elements - 1]->element[0], last, sizeof(last));
        freeReplyObject(page);
        page = NULL;
    }
out:
    if (page != NULL)
        freeReplyObject(page);
    if (skipped != NULL)
        *skipped = nskip;
    return rc;
}

int control_dead_discard(struct control *ctl, const char *backend, const char *id, struct err *e)
{
    char dkey[KEY_MAX];
    const char *argv[] = {"XDEL", dkey, id};
    long long v;
    int rc;

    if (!control_id_valid(id))
        return err_set(e, DADNS_EINVAL, "invalid stream id \"%s\"", id);
    if ((rc = key(ctl, "dead:", backend, dkey, e)) != 0 || (rc = cmd_ll(ctl, 3, argv, &v, e)) != 0)
        return rc;
    if (v == 0)
        return err_set(e, DADNS_ENOTFOUND, "no dead letter %s for backend %s", id, backend);
    return 0;
}

int control_dead_discard_all(struct control *ctl, const char *backend, size_t *discarded,
                             struct err *e)
{
    char dkey[KEY_MAX];
    const char *argv[] = {"EVAL", DISCARD_ALL_LUA, "1", dkey};
    long long v;
    int rc;

    *discarded = 0;
    if ((rc = key(ctl, "dead:", backend, dkey, e)) != 0 || (rc = cmd_ll(ctl, 4, argv, &v, e)) != 0)
        return rc;
    *discarded = v > 0 ? (size_t)v : 0;
    return 0;
}

/* ---- reconciler ---- */

int control_reconcile_request(struct control *ctl, int dry_run, int force, long long *requested_at,
                              struct err *e)
{
    char rkey[KEY_MAX], now[24];
    const char *argv[] = {
        "HSET",         rkey, "dry_run", dry_run ? "1" : "0", "force", force ? "1" : "0",
        "requested_at", now};
    redisReply *r = NULL;
    long long t = (long long)time(NULL);
    int rc;

    if ((rc = key(ctl, "reconciler:request", NULL, rkey, e)) != 0)
        return rc;
    snprintf(now, sizeof(now), "%lld", t);
    if ((rc = cmd(ctl, 8, argv, REDIS_REPLY_INTEGER, &r, e)) != 0)
        return rc;
    freeReplyObject(r);
    *requested_at = t;
    return 0;
}

int control_reconciler_last(struct control *ctl, char **json, struct err *e)
{
    char lkey[KEY_MAX];
    const char *argv[] = {"GET", lkey};
    redisReply *r = NULL;
    int rc;

    *json = NULL;
    if ((rc = key(ctl, "reconciler:last", NULL, lkey, e)) != 0)
        return rc;
    if ((rc = cmd(ctl, 2, argv, -1, &r, e)) != 0)
        return rc;
    if (r->type == REDIS_REPLY_STRING) {
        *json = strndup(r->str, r->len);
        if (*json == NULL)
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
    }
    freeReplyObject(r);
    return rc;
}

/* The number (integer, real or numeric string) at @name in JSON object @o, or -1. */
static double json_time(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);
    char *end;
    double d;

    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        errno = 0;
        d = strtod(json_string_value(v), &end);
        if (errno == 0 && end != json_string_value(v) && *end == '\0')
            return d;
    }
    return -1;
}

int control_reconcile_done(struct control *ctl, long long requested_at, int *done, char **json,
                           struct err *e)
{
    char rkey[KEY_MAX];
    const char *argv[] = {"HGET", rkey, "requested_at"};
    redisReply *r = NULL;
    json_t *o = NULL;
    char *last = NULL;
    int rc;

    *done = 0;
    *json = NULL;
    if ((rc = key(ctl, "reconciler:request", NULL, rkey, e)) != 0)
        return rc;
    if ((rc = cmd(ctl, 3, argv, -1, &r, e)) != 0)
        return rc;
    if (r->type == REDIS_REPLY_STRING && reply_ll(r, -1) == requested_at) {
        freeReplyObject(r);
        return 0; /* not picked up yet */
    }
    freeReplyObject(r);
    if ((rc = control_reconciler_last(ctl, &last, e)) != 0 || last == NULL)
        return rc;
    o = json_loads(last, 0, NULL);
    if (json_is_object(o) && json_time(o, "finished_at") >= (double)requested_at) {
        *done = 1;
        *json = last;
        last = NULL;
    }
    json_decref(o);
    free(last);
    return 0;
}
