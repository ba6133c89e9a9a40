/* store.c -- the zone store's Lua scripts and key names (see store.h for the contract). */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* KEYS: zone hash, live set, version counter, stream.
 * ARGV: zone, text, serial, host, user, now_ms, maxlen.
 * Returns {version, changed (0/1), previous host}. */
static const char SAVE_LUA[] =
    "local cur = redis.call('HMGET', KEYS[1], 'digest', 'deleted', 'version', 'host', 'user')\n"
    "local digest = redis.sha1hex(ARGV[2])\n"
    "local prev = cur[4] or ''\n"
    "if cur[1] == digest and cur[2] == '0' then\n"
    "  if cur[4] ~= ARGV[4] or cur[5] ~= ARGV[5] then\n"
    "    redis.call('HSET', KEYS[1], 'host', ARGV[4], 'user', ARGV[5])\n"
    "  end\n"
    "  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'op', 'refresh',\n"
    "             'zone', ARGV[1], 'version', cur[3])\n"
    "  return {cur[3], 0, prev}\n"
    "end\n"
    "local v = redis.call('INCR', KEYS[3])\n"
    "redis.call('HSET', KEYS[1], 'text', ARGV[2], 'host', ARGV[4], 'user', ARGV[5],\n"
    "           'serial', ARGV[3], 'digest', digest, 'version', v, 'updated', ARGV[6],\n"
    "           'deleted', '0')\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'op', 'save', 'zone', ARGV[1],\n"
    "           'version', v)\n"
    "return {tostring(v), 1, prev}\n";

/* KEYS: live set, version counter, stream, then one zone hash per zone (n).
 * ARGV: host, user, now_ms, maxlen, then the n zone names, then optionally n expected versions
 * ("0" = any). Returns per zone {outcome, version, owner}: outcome 1 deleted, 2 absent,
 * 3 refused (owner), 4 changed (version differs from the expected one; version = the stored). */
static const char DELETE_LUA[] =
    "local out = {}\n"
    "local n = #KEYS - 3\n"
    "local checked = #ARGV >= 4 + 2 * n\n"
    "for i = 4, #KEYS do\n"
    "  local zone = ARGV[i + 1]\n"
    "  local cur = redis.call('HMGET', KEYS[i], 'deleted', 'host', 'version')\n"
    "  local owner = cur[2] or ''\n"
    "  local want = checked and ARGV[i + 1 + n] or '0'\n"
    "  if cur[1] ~= '0' then\n"
    "    out[#out + 1] = {2, '0', owner}\n"
    "  elseif owner ~= '' and owner ~= ARGV[1] then\n"
    "    out[#out + 1] = {3, '0', owner}\n"
    "  elseif want ~= '0' and (cur[3] or '') ~= want then\n"
    "    out[#out + 1] = {4, cur[3] or '0', owner}\n"
    "  else\n"
    "    local v = redis.call('INCR', KEYS[2])\n"
    "    redis.call('HSET', KEYS[i], 'deleted', '1', 'version', v, 'updated', ARGV[3],\n"
    "               'text', '', 'digest', '', 'serial', '0')\n"
    "    redis.call('SREM', KEYS[1], zone)\n"
    "    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'op', 'delete',\n"
    "               'zone', zone, 'version', v)\n"
    "    out[#out + 1] = {1, tostring(v), owner}\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS: zone hashes, nearest first. Returns {index (0 = none), host, user}. */
static const char EXISTS_LUA[] = "for i = 1, #KEYS do\n"
                                 "  local cur = redis.call('HMGET', KEYS[i], 'deleted', 'host', "
                                 "'user')\n"
                                 "  if cur[1] == '0' then\n"
                                 "    return {i, cur[2] or '', cur[3] or ''}\n"
                                 "  end\n"
                                 "end\n"
                                 "return {0, '', ''}\n";

/* KEYS: applied hash, stream. ARGV: group, nzones, zone1, v1, ..., then stream ids. */
static const char COMMIT_LUA[] =
    "local nz = tonumber(ARGV[2])\n"
    "for i = 0, nz - 1 do\n"
    "  local zone, v = ARGV[3 + 2 * i], tonumber(ARGV[4 + 2 * i])\n"
    "  local cur = tonumber(redis.call('HGET', KEYS[1], zone) or '0')\n"
    "  if v > cur then redis.call('HSET', KEYS[1], zone, ARGV[4 + 2 * i]) end\n"
    "end\n"
    "local first, acked = 3 + 2 * nz, 0\n"
    "while first <= #ARGV do\n" /* Lua's unpack() stops near 8,000 values: ack in slices */
    "  local last = math.min(first + 999, #ARGV)\n"
    "  acked = acked + redis.call('XACK', KEYS[2], ARGV[1], unpack(ARGV, first, last))\n"
    "  first = last + 1\n"
    "end\n"
    "return acked\n";

enum { SCRIPT_SAVE, SCRIPT_DELETE, SCRIPT_EXISTS, SCRIPT_COMMIT, SCRIPT_COUNT };

static const char *const SCRIPTS[SCRIPT_COUNT] = {SAVE_LUA, DELETE_LUA, EXISTS_LUA, COMMIT_LUA};

struct store {
    struct rconn *rc;
    char prefix[128];
    long maxlen;
    char sha[SCRIPT_COUNT][41]; /* SCRIPT LOAD results, "" until loaded */
};

struct store_batch {
    redisReply **replies;
    size_t n;
};

int store_new(const struct config *cfg, const char *client_name, struct store **out)
{
    struct store *st = calloc(1, sizeof(*st));
    int rc;

    if (st == NULL)
        return DADNS_ENOMEM;
    if (strlen(cfg->redis_prefix) >= sizeof(st->prefix)) {
        free(st);
        return DADNS_ETOOBIG;
    }
    snprintf(st->prefix, sizeof(st->prefix), "%s", cfg->redis_prefix);
    st->maxlen = cfg->stream_maxlen;
    rc = rconn_new(cfg, client_name, &st->rc);
    if (rc != 0) {
        free(st);
        return rc;
    }
    *out = st;
    return 0;
}

void store_free(struct store *st)
{
    if (st == NULL)
        return;
    rconn_free(st->rc);
    free(st);
}

struct rconn *store_conn(struct store *st)
{
    return st->rc;
}

int store_key(const struct store *st, const char *suffix, char *out, size_t size)
{
    int n = snprintf(out, size, "%s%s", st->prefix, suffix);

    return (n < 0 || (size_t)n >= size) ? DADNS_ETOOBIG : 0;
}

/* Key "<prefix><part1><part2>" into @out. */
static int key2(const struct store *st, const char *a, const char *b, char *out, size_t size)
{
    int n = snprintf(out, size, "%s%s%s", st->prefix, a, b);

    return (n < 0 || (size_t)n >= size) ? DADNS_ETOOBIG : 0;
}

int store_ping(struct store *st, struct err *e)
{
    const char *argv[] = {"PING"};
    redisReply *r = NULL;
    int rc = rconn_command(st->rc, 1, argv, NULL, -1, &r, e);

    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

static int load_script(struct store *st, int which, struct err *e)
{
    const char *argv[] = {"SCRIPT", "LOAD", SCRIPTS[which]};
    redisReply *r = NULL;
    int rc = rconn_command(st->rc, 3, argv, NULL, REDIS_REPLY_STRING, &r, e);

    if (rc != 0)
        return rc;
    snprintf(st->sha[which], sizeof(st->sha[which]), "%.*s", (int)r->len, r->str);
    freeReplyObject(r);
    return 0;
}

/* EVALSHA script @which with @argc arguments after "EVALSHA sha" (numkeys first). Loads the
 * script when Redis does not know it (first use, or after a restart emptied its cache). */
static int eval(struct store *st, int which, int argc, const char **argv, size_t *lens, int want,
                redisReply **reply, struct err *e)
{
    int attempt, rc = 0;

    argv[0] = "EVALSHA";
    for (attempt = 0; attempt < 2; attempt++) {
        if (st->sha[which][0] == '\0') {
            rc = load_script(st, which, e);
            if (rc != 0)
                return rc;
        }
        argv[1] = st->sha[which];
        if (lens != NULL) {
            lens[0] = strlen(argv[0]);
            lens[1] = strlen(argv[1]);
        }
        rc = rconn_command(st->rc, argc, argv, lens, want, reply, e);
        if (rc == DADNS_EREPLY && e != NULL && strstr(e->text, "NOSCRIPT") != NULL) {
            st->sha[which][0] = '\0';
            continue;
        }
        return rc;
    }
    return rc;
}

/* Copy a bulk/status reply element into @out (@size bytes), truncating. */
static void copy_str(const redisReply *r, char *out, size_t size)
{
    if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(out, size, "%.*s", (int)r->len, r->str);
    else
        out[0] = '\0';
}

/* Parse an integer or numeric-string reply element. */
static uint64_t reply_u64(const redisReply *r)
{
    char tmp[32];
    char *end;
    unsigned long long v;

    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer < 0 ? 0 : (uint64_t)r->integer;
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(tmp))
        return 0;
    memcpy(tmp, r->str, r->len);
    tmp[r->len] = '\0';
    errno = 0;
    v = strtoull(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    return (uint64_t)v;
}

int store_save(struct store *st, const char *zone, const char *text, size_t len, uint32_t serial,
               const char *host, const char *user, struct store_save_result *res, struct err *e)
{
    char zkey[NAME_BUF_SIZE + 160], zset[160], vkey[160], skey[160];
    char sserial[16], snow[24], smax[24];
    const char *argv[13];
    size_t lens[13];
    struct timeval tv;
    redisReply *r = NULL;
    int rc, i;

    if ((rc = key2(st, "zone:", zone, zkey, sizeof(zkey))) != 0 ||
        (rc = store_key(st, "zones", zset, sizeof(zset))) != 0 ||
        (rc = store_key(st, "version", vkey, sizeof(vkey))) != 0 ||
        (rc = store_key(st, "changes", skey, sizeof(skey))) != 0)
        return err_set(e, rc, "Redis key too long");
    gettimeofday(&tv, NULL);
    snprintf(sserial, sizeof(sserial), "%" PRIu32, serial);
    snprintf(snow, sizeof(snow), "%lld", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
    snprintf(smax, sizeof(smax), "%ld", st->maxlen);
    argv[2] = "4";
    argv[3] = zkey;
    argv[4] = zset;
    argv[5] = vkey;
    argv[6] = skey;
    argv[7] = zone;
    argv[8] = text;
    argv[9] = sserial;
    argv[10] = host;
    argv[11] = user;
    argv[12] = snow;
    for (i = 2; i < 13; i++)
        lens[i] = i == 8 ? len : strlen(argv[i]); /* the text need not be NUL-terminated */
    {
        const char *av[14];
        size_t ln[14];

        memcpy(av, argv, sizeof(argv));
        memcpy(ln, lens, sizeof(lens));
        av[13] = smax;
        ln[13] = strlen(smax);
        rc = eval(st, SCRIPT_SAVE, 14, av, ln, REDIS_REPLY_ARRAY, &r, e);
    }
    if (rc != 0)
        return rc;
    if (r->elements != 3) {
        rc = err_set(e, DADNS_EREPLY, "save script: unexpected reply");
        goto out;
    }
    res->version = reply_u64(r->element[0]);
    res->changed = r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == 1;
    copy_str(r->element[2], res->prev_host, sizeof(res->prev_host));
out:
    freeReplyObject(r);
    return rc;
}

/* del_run - the delete script over @n @zones; @versions (NULL = no version check) adds the
 * expected versions as n more arguments. */
static int del_run(struct store *st, const char *const *zones, const uint64_t *versions, size_t n,
                   const char *host, const char *user, struct store_del_result *res, struct err *e)
{
    char zset[160], vkey[160], skey[160], snow[24], smax[24], numkeys[24];
    const char **argv = NULL;
    char **keys = NULL, (*vers)[24] = NULL;
    size_t argc = 0, i;
    struct timeval tv;
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key(st, "zones", zset, sizeof(zset))) != 0 ||
        (rc = store_key(st, "version", vkey, sizeof(vkey))) != 0 ||
        (rc = store_key(st, "changes", skey, sizeof(skey))) != 0)
        return err_set(e, rc, "Redis key too long");
    argv = calloc(3 * n + 10, sizeof(*argv));
    keys = calloc(n ? n : 1, sizeof(*keys));
    if (versions != NULL)
        vers = calloc(n ? n : 1, sizeof(*vers));
    if (argv == NULL || keys == NULL || (versions != NULL && vers == NULL)) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    gettimeofday(&tv, NULL);
    snprintf(snow, sizeof(snow), "%lld", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
    snprintf(smax, sizeof(smax), "%ld", st->maxlen);
    argc = 2;
    snprintf(numkeys, sizeof(numkeys), "%zu", n + 3);
    argv[argc++] = numkeys;
    argv[argc++] = zset;
    argv[argc++] = vkey;
    argv[argc++] = skey;
    for (i = 0; i < n; i++) {
        size_t klen = strlen(st->prefix) + 5 + strlen(zones[i]) + 1;

        keys[i] = malloc(klen);
        if (keys[i] == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        snprintf(keys[i], klen, "%szone:%s", st->prefix, zones[i]);
        argv[argc++] = keys[i];
    }
    argv[argc++] = host;
    argv[argc++] = user;
    argv[argc++] = snow;
    argv[argc++] = smax;
    for (i = 0; i < n; i++)
        argv[argc++] = zones[i];
    for (i = 0; versions != NULL && i < n; i++) {
        snprintf(vers[i], sizeof(vers[i]), "%" PRIu64, versions[i]);
        argv[argc++] = vers[i];
    }
    rc = eval(st, SCRIPT_DELETE, (int)argc, argv, NULL, REDIS_REPLY_ARRAY, &r, e);
    if (rc != 0)
        goto out;
    if (r->elements != n) {
        rc = err_set(e, DADNS_EREPLY, "delete script: unexpected reply");
        goto out;
    }
    for (i = 0; i < n; i++) {
        const redisReply *it = r->element[i];

        if (it->type != REDIS_REPLY_ARRAY || it->elements != 3) {
            rc = err_set(e, DADNS_EREPLY, "delete script: unexpected reply");
            goto out;
        }
        res[i].outcome = (enum store_del_outcome)reply_u64(it->element[0]);
        res[i].version = reply_u64(it->element[1]);
        copy_str(it->element[2], res[i].owner, sizeof(res[i].owner));
    }
out:
    if (r != NULL)
        freeReplyObject(r);
    if (keys != NULL) {
        for (i = 0; i < n; i++)
            free(keys[i]);
    }
    free(keys);
    free(vers);
    free(argv);
    return rc;
}

int store_delete(struct store *st, const char *const *zones, size_t n, const char *host,
                 const char *user, struct store_del_result *res, struct err *e)
{
    return del_run(st, zones, NULL, n, host, user, res, e);
}

int store_delete_versioned(struct store *st, const char *const *zones, const uint64_t *versions,
                           size_t n, const char *host, const char *user,
                           struct store_del_result *res, struct err *e)
{
    return del_run(st, zones, versions, n, host, user, res, e);
}

int store_exists(struct store *st, const char *zone, int check_parents, struct store_owner *out,
                 struct err *e)
{
    /* A name has at most 127 labels; ancestors exclude the last label. */
    char keys[128][NAME_BUF_SIZE + 160];
    const char *names[128];
    const char *argv[3 + 128];
    char numkeys[16];
    const char *p = zone;
    redisReply *r = NULL;
    size_t nk = 0, idx;
    int rc;

    memset(out, 0, sizeof(*out));
    while (p != NULL && nk < 128) {
        if (nk > 0 && name_parent(p) == NULL)
            break; /* never look at a bare TLD */
        if ((rc = key2(st, "zone:", p, keys[nk], sizeof(keys[nk]))) != 0)
            return err_set(e, rc, "Redis key too long");
        names[nk] = p;
        argv[3 + nk] = keys[nk];
        nk++;
        if (!check_parents)
            break;
        p = name_parent(p);
    }
    snprintf(numkeys, sizeof(numkeys), "%zu", nk);
    argv[2] = numkeys;
    rc = eval(st, SCRIPT_EXISTS, (int)(3 + nk), argv, NULL, REDIS_REPLY_ARRAY, &r, e);
    if (rc != 0)
        return rc;
    if (r->elements != 3) {
        rc = err_set(e, DADNS_EREPLY, "exists script: unexpected reply");
        goto out;
    }
    idx = (size_t)reply_u64(r->element[0]);
    if (idx >= 1 && idx <= nk) {
        out->found = idx == 1 ? 1 : 2;
        snprintf(out->zone, sizeof(out->zone), "%s", names[idx - 1]);
        copy_str(r->element[1], out->host, sizeof(out->host));
        copy_str(r->element[2], out->user, sizeof(out->user));
    }
out:
    freeReplyObject(r);
    return rc;
}

int store_fetch(struct store *st, const char *backend, const char *const *zones, size_t n,
                struct store_state *out, struct store_batch **hold, struct err *e)
{
    struct store_batch *b = NULL;
    char akey[256];
    size_t i, got = 0;
    int rc;

    *hold = NULL;
    if ((rc = key2(st, "applied:", backend, akey, sizeof(akey))) != 0)
        return err_set(e, rc, "Redis key too long");
    b = calloc(1, sizeof(*b));
    if (b == NULL || (b->replies = calloc(n ? 2 * n : 1, sizeof(*b->replies))) == NULL) {
        free(b);
        return err_set(e, DADNS_ENOMEM, "out of memory");
    }
    b->n = 2 * n;
    for (i = 0; i < n; i++) {
        char zkey[NAME_BUF_SIZE + 160];
        const char *hm[] = {"HMGET", zkey, "version", "deleted", "serial", "text", "digest"};
        const char *hg[] = {"HGET", akey, zones[i]};

        if ((rc = key2(st, "zone:", zones[i], zkey, sizeof(zkey))) != 0) {
            err_set(e, rc, "Redis key too long");
            goto fail;
        }
        if ((rc = rconn_append(st->rc, 7, hm, NULL, e)) != 0 ||
            (rc = rconn_append(st->rc, 3, hg, NULL, e)) != 0)
            goto fail;
    }
    /* Read every reply, even after an error reply, to keep the pipeline in step. */
    rc = 0;
    for (i = 0; i < 2 * n; i++) {
        int r = rconn_get_reply(st->rc, -1, &b->replies[i], e);

        if (r == DADNS_EREDIS) {
            rc = r;
            goto fail;
        }
        if (r != 0 && rc == 0)
            rc = r;
        got++;
    }
    if (rc != 0)
        goto fail;
    for (i = 0; i < n; i++) {
        const redisReply *hm = b->replies[2 * i];
        const redisReply *ap = b->replies[2 * i + 1];
        struct store_state *s = &out[i];

        memset(s, 0, sizeof(*s));
        if (hm->type != REDIS_REPLY_ARRAY || hm->elements != 5) {
            rc = err_set(e, DADNS_EREPLY, "HMGET: unexpected reply");
            goto fail;
        }
        s->applied = reply_u64(ap);
        if (hm->element[0]->type != REDIS_REPLY_STRING)
            continue; /* no state */
        s->exists = 1;
        s->version = reply_u64(hm->element[0]);
        s->deleted = hm->element[1]->type == REDIS_REPLY_STRING && hm->element[1]->len == 1 &&
                     hm->element[1]->str[0] == '1';
        s->serial = (uint32_t)reply_u64(hm->element[2]);
        if (!s->deleted && hm->element[3]->type == REDIS_REPLY_STRING) {
            s->text = hm->element[3]->str;
            s->text_len = hm->element[3]->len;
        }
        if (!s->deleted)
            copy_str(hm->element[4], s->digest, sizeof(s->digest));
    }
    *hold = b;
    return 0;
fail:
    (void)got;
    store_batch_free(b);
    return rc;
}

void store_batch_free(struct store_batch *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->n; i++) {
        if (b->replies[i] != NULL)
            freeReplyObject(b->replies[i]);
    }
    free(b->replies);
    free(b);
}

int store_commit(struct store *st, const char *backend, const char *const *zones,
                 const uint64_t *versions, size_t nz, const char *const *ids, size_t nids,
                 struct err *e)
{
    char akey[256], skey[160], snz[24];
    char(*vers)[24] = NULL;
    const char **argv = NULL;
    size_t argc = 0, i;
    redisReply *r = NULL;
    int rc;

    if (nz == 0 && nids == 0)
        return 0;
    if ((rc = key2(st, "applied:", backend, akey, sizeof(akey))) != 0 ||
        (rc = store_key(st, "changes", skey, sizeof(skey))) != 0)
        return err_set(e, rc, "Redis key too long");
    argv = calloc(8 + 2 * nz + nids, sizeof(*argv));
    vers = calloc(nz ? nz : 1, sizeof(*vers));
    if (argv == NULL || vers == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    argc = 2;
    argv[argc++] = "2";
    argv[argc++] = akey;
    argv[argc++] = skey;
    argv[argc++] = backend;
    snprintf(snz, sizeof(snz), "%zu", nz);
    argv[argc++] = snz;
    for (i = 0; i < nz; i++) {
        snprintf(vers[i], sizeof(vers[i]), "%" PRIu64, versions[i]);
        argv[argc++] = zones[i];
        argv[argc++] = vers[i];
    }
    for (i = 0; i < nids; i++)
        argv[argc++] = ids[i];
    rc = eval(st, SCRIPT_COMMIT, (int)argc, argv, NULL, REDIS_REPLY_INTEGER, &r, e);
    if (r != NULL)
        freeReplyObject(r);
out:
    free(vers);
    free(argv);
    return rc;
}
