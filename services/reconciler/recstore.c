/* recstore.c -- the reconciler's Redis keys and Lua scripts (see recstore.h).
 *
 * Reads are pipelined in windows (SSCAN/SCAN pages and their HMGETs), writes are one script
 * per batch so each zone's check and change cannot be split by a concurrent push. */
#include "recstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyname.h"

#define KEY_MAX   (NAME_BUF_SIZE + 192)
#define SCAN_SIZE "1000" /* COUNT of SSCAN/SCAN */

/* KEYS: lock. ARGV: holder, ttl_ms. 1 = extended, 0 = not ours. */
static const char EXTEND_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                                 "  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
                                 "end\n"
                                 "return 0\n";

/* KEYS: lock. ARGV: holder. 1 = released, 0 = not ours. */
static const char RELEASE_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                                  "  return redis.call('DEL', KEYS[1])\n"
                                  "end\n"
                                  "return 0\n";

/* KEYS: request. ARGV: requested_at, dry_run, force as read ('' = missing). */
static const char REQUEST_DONE_LUA[] =
    "local cur = redis.call('HMGET', KEYS[1], 'requested_at', 'dry_run', 'force')\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 and (cur[1] or '') == ARGV[1] and\n"
    "   (cur[2] or '') == ARGV[2] and (cur[3] or '') == ARGV[3] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";

/* KEYS: zone hashes. ARGV: per zone the expected host ('' = none), the new host.
 * Returns how many changed. */
static const char OWNERS_LUA[] = "local n = 0\n"
                                 "for i = 1, #KEYS do\n"
                                 "  local cur = redis.call('HMGET', KEYS[i], 'deleted', 'host')\n"
                                 "  if cur[1] == '0' and (cur[2] or '') == ARGV[2 * i - 1] then\n"
                                 "    redis.call('HSET', KEYS[i], 'host', ARGV[2 * i])\n"
                                 "    n = n + 1\n"
                                 "  end\n"
                                 "end\n"
                                 "return n\n";

/* KEYS: live set, n zone hashes, m applied hashes (the first ncheck are checked).
 * ARGV: n, ncheck, cutoff_ms, dry (0/1), then per zone name, version.
 * Returns the names purged (or that would be). */
static const char PURGE_LUA[] =
    "local n, ncheck = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local cutoff, dry = tonumber(ARGV[3]), ARGV[4] == '1'\n"
    "local m = #KEYS - 1 - n\n"
    "local out = {}\n"
    "for i = 1, n do\n"
    "  local name, v = ARGV[3 + 2 * i], ARGV[4 + 2 * i]\n"
    "  local zk = KEYS[1 + i]\n"
    "  local cur = redis.call('HMGET', zk, 'deleted', 'version', 'updated')\n"
    "  local ok = cur[1] == '1' and cur[2] == v and\n"
    "             (tonumber(cur[3] or '0') or 0) <= cutoff and\n"
    "             redis.call('SISMEMBER', KEYS[1], name) == 0\n"
    "  if ok then\n"
    "    local want = tonumber(v)\n"
    "    for j = 1, ncheck do\n"
    "      local a = tonumber(redis.call('HGET', KEYS[1 + n + j], name) or '0') or 0\n"
    "      if a < want then ok = false break end\n"
    "    end\n"
    "  end\n"
    "  if ok then\n"
    "    if not dry then\n"
    "      redis.call('DEL', zk)\n"
    "      for j = 1, m do redis.call('HDEL', KEYS[1 + n + j], name) end\n"
    "    end\n"
    "    out[#out + 1] = name\n"
    "  end\n"
    "end\n"
    "return out\n";

enum { SCRIPT_EXTEND, SCRIPT_RELEASE, SCRIPT_REQUEST_DONE, SCRIPT_OWNERS, SCRIPT_PURGE, SCRIPTS };

static const char *const SCRIPT_TEXT[SCRIPTS] = {EXTEND_LUA, RELEASE_LUA, REQUEST_DONE_LUA,
                                                 OWNERS_LUA, PURGE_LUA};

struct recstore {
    const struct config *cfg;
    struct store *st;
    struct rconn *rc;
    char prefix[128];
    char sha[SCRIPTS][41]; /* SCRIPT LOAD results, "" until loaded */
};

int recstore_new(const struct config *cfg, const char *client_name, struct recstore **out)
{
    struct recstore *rs;
    int rc;

    *out = NULL;
    if (strlen(cfg->redis_prefix) >= sizeof(rs->prefix))
        return DADNS_ETOOBIG;
    rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return DADNS_ENOMEM;
    rs->cfg = cfg;
    snprintf(rs->prefix, sizeof(rs->prefix), "%s", cfg->redis_prefix);
    rc = store_new(cfg, client_name, &rs->st);
    if (rc != 0) {
        free(rs);
        return rc;
    }
    rs->rc = store_conn(rs->st);
    *out = rs;
    return 0;
}

void recstore_free(struct recstore *rs)
{
    if (rs == NULL)
        return;
    store_free(rs->st);
    free(rs);
}

struct store *recstore_store(struct recstore *rs)
{
    return rs->st;
}

struct rconn *recstore_conn(struct recstore *rs)
{
    return rs->rc;
}

int recstore_key(const struct recstore *rs, const char *a, const char *b, char *out, size_t size,
                 struct err *e)
{
    return keyname_make(rs->prefix, a, b, out, size, e);
}

/* ---- reply helpers ---- */

/* copy_str - a string/status element into @out (@size octets, cut), "" otherwise. */
static void copy_str(const redisReply *r, char *out, size_t size)
{
    if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(out, size, "%.*s", (int)r->len, r->str);
    else
        out[0] = '\0';
}

/* reply_u64 - an integer or decimal string element as a number; @def when neither. */
static uint64_t reply_u64(const redisReply *r, uint64_t def)
{
    char tmp[32], *end;
    unsigned long long v;

    if (r == NULL)
        return def;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer < 0 ? def : (uint64_t)r->integer;
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(tmp))
        return def;
    memcpy(tmp, r->str, r->len);
    tmp[r->len] = '\0';
    if (tmp[0] < '0' || tmp[0] > '9')
        return def;
    errno = 0;
    v = strtoull(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return def;
    return (uint64_t)v;
}

static bool is_nil(const redisReply *r)
{
    return r == NULL || r->type == REDIS_REPLY_NIL;
}

/* command - one command, reply checked against @want; the reply is freed unless @reply. */
static int command(struct recstore *rs, int argc, const char **argv, int want, redisReply **reply,
                   struct err *e)
{
    redisReply *r = NULL;
    int rc = rconn_command(rs->rc, argc, argv, NULL, want, &r, e);

    if (rc != 0)
        return rc;
    if (reply != NULL)
        *reply = r;
    else
        freeReplyObject(r);
    return 0;
}

/* eval - EVALSHA script @which: @argv[0..1] are filled here, @argv[2] is numkeys. Loads the
 * script when Redis does not know it (first use, or a restart emptied its cache). */
static int eval(struct recstore *rs, int which, int argc, const char **argv, int want,
                redisReply **reply, struct err *e)
{
    int attempt, rc = 0;

    for (attempt = 0; attempt < 2; attempt++) {
        if (rs->sha[which][0] == '\0') {
            const char *lv[] = {"SCRIPT", "LOAD", SCRIPT_TEXT[which]};
            redisReply *r = NULL;

            rc = command(rs, 3, lv, REDIS_REPLY_STRING, &r, e);
            if (rc != 0)
                return rc;
            snprintf(rs->sha[which], sizeof(rs->sha[which]), "%.*s", (int)r->len, r->str);
            freeReplyObject(r);
        }
        argv[0] = "EVALSHA";
        argv[1] = rs->sha[which];
        rc = rconn_command(rs->rc, argc, argv, NULL, want, reply, e);
        if (rc == DADNS_EREPLY && e != NULL && strstr(e->text, "NOSCRIPT") != NULL) {
            rs->sha[which][0] = '\0';
            continue;
        }
        return rc;
    }
    return rc;
}

int recstore_ping(struct recstore *rs, struct err *e)
{
    const char *argv[] = {"PING"};

    return command(rs, 1, argv, -1, NULL, e);
}

int recstore_now_ms(struct recstore *rs, long long *ms, struct err *e)
{
    const char *argv[] = {"TIME"};
    redisReply *r = NULL;
    int rc = command(rs, 1, argv, REDIS_REPLY_ARRAY, &r, e);

    if (rc != 0)
        return rc;
    if (r->elements != 2) {
        freeReplyObject(r);
        return err_set(e, DADNS_EREPLY, "TIME: unexpected reply");
    }
    *ms = (long long)reply_u64(r->element[0], 0) * 1000 +
          (long long)reply_u64(r->element[1], 0) / 1000;
    freeReplyObject(r);
    return 0;
}

/* ---- lock ---- */

int recstore_lock_take(struct recstore *rs, const char *holder, long ttl_ms, bool *taken,
                       struct err *e)
{
    char lkey[KEY_MAX], sttl[24];
    const char *argv[] = {"SET", lkey, holder, "NX", "PX", sttl};
    redisReply *r = NULL;
    int rc;

    *taken = false;
    if ((rc = recstore_key(rs, "reconciler:lock", NULL, lkey, sizeof(lkey), e)) != 0)
        return rc;
    snprintf(sttl, sizeof(sttl), "%ld", ttl_ms);
    if ((rc = command(rs, 6, argv, -1, &r, e)) != 0)
        return rc;
    *taken = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return 0;
}

int recstore_lock_extend(struct recstore *rs, const char *holder, long ttl_ms, bool *held,
                         struct err *e)
{
    char lkey[KEY_MAX], sttl[24];
    const char *argv[] = {NULL, NULL, "1", lkey, holder, sttl};
    redisReply *r = NULL;
    int rc;

    *held = false;
    if ((rc = recstore_key(rs, "reconciler:lock", NULL, lkey, sizeof(lkey), e)) != 0)
        return rc;
    snprintf(sttl, sizeof(sttl), "%ld", ttl_ms);
    if ((rc = eval(rs, SCRIPT_EXTEND, 6, argv, REDIS_REPLY_INTEGER, &r, e)) != 0)
        return rc;
    *held = r->integer == 1;
    freeReplyObject(r);
    return 0;
}

int recstore_lock_release(struct recstore *rs, const char *holder, struct err *e)
{
    char lkey[KEY_MAX];
    const char *argv[] = {NULL, NULL, "1", lkey, holder};
    redisReply *r = NULL;
    int rc;

    if ((rc = recstore_key(rs, "reconciler:lock", NULL, lkey, sizeof(lkey), e)) != 0)
        return rc;
    if ((rc = eval(rs, SCRIPT_RELEASE, 5, argv, REDIS_REPLY_INTEGER, &r, e)) != 0)
        return rc;
    freeReplyObject(r);
    return 0;
}

/* ---- request ---- */

int recstore_request_get(struct recstore *rs, struct recstore_request *out, struct err *e)
{
    char rkey[KEY_MAX];
    const char *argv[] = {"HMGET", rkey, "requested_at", "dry_run", "force"};
    redisReply *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = recstore_key(rs, "reconciler:request", NULL, rkey, sizeof(rkey), e)) != 0)
        return rc;
    if ((rc = command(rs, 5, argv, REDIS_REPLY_ARRAY, &r, e)) != 0)
        return rc;
    if (r->elements == 3) {
        out->present = !is_nil(r->element[0]) || !is_nil(r->element[1]) || !is_nil(r->element[2]);
        copy_str(r->element[0], out->raw_at, sizeof(out->raw_at));
        copy_str(r->element[1], out->raw_dry, sizeof(out->raw_dry));
        copy_str(r->element[2], out->raw_force, sizeof(out->raw_force));
        out->requested_at = (long long)reply_u64(r->element[0], 0);
        out->dry_run = strcmp(out->raw_dry, "1") == 0;
        out->force = strcmp(out->raw_force, "1") == 0;
    }
    freeReplyObject(r);
    if (!out->present) {
        /* a hash with other fields only still counts as a request */
        const char *ev[] = {"EXISTS", rkey};

        if ((rc = command(rs, 2, ev, REDIS_REPLY_INTEGER, &r, e)) != 0)
            return rc;
        out->present = r->integer == 1;
        freeReplyObject(r);
    }
    return 0;
}

int recstore_request_done(struct recstore *rs, const struct recstore_request *req, bool *deleted,
                          struct err *e)
{
    char rkey[KEY_MAX];
    const char *argv[] = {NULL, NULL, "1", rkey, req->raw_at, req->raw_dry, req->raw_force};
    redisReply *r = NULL;
    int rc;

    if (deleted != NULL)
        *deleted = false;
    if ((rc = recstore_key(rs, "reconciler:request", NULL, rkey, sizeof(rkey), e)) != 0)
        return rc;
    if ((rc = eval(rs, SCRIPT_REQUEST_DONE, 7, argv, REDIS_REPLY_INTEGER, &r, e)) != 0)
        return rc;
    if (deleted != NULL)
        *deleted = r->integer == 1;
    freeReplyObject(r);
    return 0;
}

/* ---- snapshot ---- */

/* A window of pipelined HMGETs for zone names. */
struct window {
    char **keys;        /* "<prefix>zone:<name>", owned */
    const char **names; /* borrowed from the scan reply */
    size_t n;
};

#define WINDOW_MAX 4096 /* names per window; a full window is read before the next name */

static const char *const ZONE_FIELDS[] = {"host",   "version", "serial",
                                          "digest", "deleted", "updated"};
#define NFIELDS (sizeof(ZONE_FIELDS) / sizeof(ZONE_FIELDS[0]))

static void window_clear(struct window *w)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        free(w->keys[i]);
    w->n = 0;
}

/* hmget_window - HMGET the zone fields of the @w->n names, pipelined, and add to @t the
 * entries that are live members (@live) or tombstones (!@live: only deleted=1 is kept). */
static int hmget_window(struct recstore *rs, struct window *w, struct zonetab *t, bool live,
                        struct recstore_load_stats *st, struct err *e)
{
    const char *argv[2 + NFIELDS];
    size_t i, j;
    int rc = 0, first = 0;

    if (w->n == 0)
        return 0;
    argv[0] = "HMGET";
    for (j = 0; j < NFIELDS; j++)
        argv[2 + j] = ZONE_FIELDS[j];
    for (i = 0; i < w->n; i++) {
        argv[1] = w->keys[i];
        rc = rconn_append(rs->rc, (int)(2 + NFIELDS), argv, NULL, e);
        if (rc != 0)
            return rc;
    }
    st->round_trips++;
    for (i = 0; i < w->n; i++) {
        redisReply *r = NULL;
        char host[STORE_OWNER_MAX], digest[48], deleted[4];
        bool all_nil = true;

        rc = rconn_get_reply(rs->rc, REDIS_REPLY_ARRAY, &r, e);
        if (rc == DADNS_EREDIS)
            return rc;
        if (rc != 0) {
            st->inconsistent++; /* e.g. WRONGTYPE: not a zone hash, skipped */
            continue;
        }
        if (r->elements != NFIELDS) {
            freeReplyObject(r);
            continue;
        }
        for (j = 0; j < NFIELDS; j++)
            if (!is_nil(r->element[j]))
                all_nil = false;
        copy_str(r->element[0], host, sizeof(host));
        copy_str(r->element[3], digest, sizeof(digest));
        copy_str(r->element[4], deleted, sizeof(deleted));
        if (all_nil) {
            if (live)
                st->inconsistent++;
        } else if (live || strcmp(deleted, "1") == 0) {
            bool tomb = strcmp(deleted, "1") == 0;
            uint64_t serial = reply_u64(r->element[2], 0);

            rc = zonetab_add(t, w->names[i], host, reply_u64(r->element[1], 0),
                             serial > UINT32_MAX ? 0 : (uint32_t)serial, digest, tomb,
                             (long long)reply_u64(r->element[5], 0));
            if (rc == DADNS_ENOMEM && first == 0)
                first = err_set(e, rc, "out of memory reading the store");
            if (tomb)
                st->tombstones++;
            else
                st->live++;
        }
        freeReplyObject(r);
    }
    return first;
}

/* window_add - queue @name (borrowed) with its key. */
static int window_add(struct recstore *rs, struct window *w, const char *name, struct err *e)
{
    size_t klen = strlen(rs->prefix) + 5 + strlen(name) + 1;

    w->keys[w->n] = malloc(klen);
    if (w->keys[w->n] == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    snprintf(w->keys[w->n], klen, "%szone:%s", rs->prefix, name);
    w->names[w->n] = name;
    w->n++;
    return 0;
}

/* scan_page - one SSCAN (@set given) or SCAN MATCH @pattern page at @cursor (updated):
 * *@r is the reply (caller frees), *@items/@n its members. */
static int scan_page(struct recstore *rs, const char *set, const char *pattern, char *cursor,
                     size_t csize, redisReply **r, redisReply ***items, size_t *n, struct err *e)
{
    const char *sv[] = {"SSCAN", set, cursor, "COUNT", SCAN_SIZE};
    const char *kv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_SIZE};
    int rc;

    if (set != NULL)
        rc = command(rs, 5, sv, REDIS_REPLY_ARRAY, r, e);
    else
        rc = command(rs, 6, kv, REDIS_REPLY_ARRAY, r, e);
    if (rc != 0)
        return rc;
    if ((*r)->elements != 2 || (*r)->element[0]->type != REDIS_REPLY_STRING ||
        (*r)->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(*r);
        *r = NULL;
        return err_set(e, DADNS_EREPLY, "%s: unexpected reply", set != NULL ? "SSCAN" : "SCAN");
    }
    copy_str((*r)->element[0], cursor, csize);
    *items = (*r)->element[1]->element;
    *n = (*r)->element[1]->elements;
    return 0;
}

/* scan_zones - page through SSCAN @set (or, @set NULL, SCAN MATCH @pattern), take from each
 * member the zone name after its first @skip octets (members that are not strings, hold a NUL
 * or have nothing after @skip are passed over), leave out the names @known has (NULL = none;
 * sorted), and HMGET the others through the window @w into @t (@live as hmget_window). */
static int scan_zones(struct recstore *rs, const char *set, const char *pattern, size_t skip,
                      const struct zonetab *known, struct window *w, struct zonetab *t, bool live,
                      struct recstore_load_stats *st, struct err *e)
{
    char cursor[32] = "0";
    redisReply *r = NULL, **items = NULL;
    size_t i, n = 0;
    int rc;

    do {
        if ((rc = scan_page(rs, set, pattern, cursor, sizeof(cursor), &r, &items, &n, e)) != 0)
            goto out;
        st->round_trips++;
        for (i = 0; i < n; i++) {
            const redisReply *m = items[i];

            if (m->type != REDIS_REPLY_STRING || m->len <= skip || strlen(m->str) != m->len ||
                (known != NULL && zonetab_find(known, m->str + skip) != NULL))
                continue;
            if ((rc = window_add(rs, w, m->str + skip, e)) != 0)
                goto out;
            if (w->n == WINDOW_MAX) {
                rc = hmget_window(rs, w, t, live, st, e);
                window_clear(w);
                if (rc != 0)
                    goto out;
            }
        }
        rc = hmget_window(rs, w, t, live, st, e);
        window_clear(w);
        freeReplyObject(r);
        r = NULL;
        if (rc != 0)
            goto out;
    } while (strcmp(cursor, "0") != 0);
out:
    window_clear(w); /* its names point into @r */
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

int recstore_load(struct recstore *rs, struct zonetab *t, struct recstore_load_stats *st,
                  struct err *e)
{
    struct recstore_load_stats dummy;
    struct window w = {NULL, NULL, 0};
    struct zonetab *tomb = NULL;
    char zset[KEY_MAX], pattern[KEY_MAX * 2];
    size_t i;
    int rc;

    if (st == NULL)
        st = &dummy;
    memset(st, 0, sizeof(*st));
    if ((rc = recstore_key(rs, "zones", NULL, zset, sizeof(zset), e)) != 0 ||
        (rc = keyname_pattern(rs->prefix, "zone:", pattern, sizeof(pattern), e)) != 0)
        return rc;
    /* SCAN COUNT is a hint: a page may hold more; room for the largest page seen */
    w.keys = calloc(WINDOW_MAX, sizeof(*w.keys));
    w.names = calloc(WINDOW_MAX, sizeof(*w.names));
    if (w.keys == NULL || w.names == NULL || zonetab_new(&tomb) != 0) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    /* live zones */
    if ((rc = scan_zones(rs, zset, NULL, 0, NULL, &w, t, true, st, e)) != 0)
        goto out;
    zonetab_sort(t);
    /* tombstones: zone hashes that are not live members */
    if ((rc = scan_zones(rs, NULL, pattern, strlen(rs->prefix) + strlen("zone:"), t, &w, tomb,
                         false, st, e)) != 0)
        goto out;
    for (i = 0; i < tomb->n; i++) {
        const struct zonetab_zone *z = &tomb->zones[i];

        rc =
            zonetab_add(t, z->name, z->host, z->version, z->serial, z->digest, true, z->updated_ms);
        if (rc != 0) {
            rc = err_set(e, rc, "out of memory reading the store");
            goto out;
        }
    }
    zonetab_sort(t);
out:
    window_clear(&w);
    free(w.keys);
    free(w.names);
    zonetab_free(tomb);
    return rc;
}

/* ---- actions ---- */

/* zone_keys - "<prefix>zone:<name>" for @n names into new strings in @keys. */
static int zone_keys(struct recstore *rs, const char *const *names, size_t n, char **keys,
                     struct err *e)
{
    size_t i;

    for (i = 0; i < n; i++) {
        size_t klen = strlen(rs->prefix) + 5 + strlen(names[i]) + 1;

        keys[i] = malloc(klen);
        if (keys[i] == NULL)
            return err_set(e, DADNS_ENOMEM, "out of memory");
        snprintf(keys[i], klen, "%szone:%s", rs->prefix, names[i]);
    }
    return 0;
}

static void free_keys(char **keys, size_t n)
{
    size_t i;

    if (keys == NULL)
        return;
    for (i = 0; i < n; i++)
        free(keys[i]);
}

int recstore_set_owners(struct recstore *rs, const char *const *zones, const char *const *expect,
                        const char *const *hosts, size_t n, size_t *updated, struct err *e)
{
    const char *argv[3 + 3 * RECSTORE_BATCH];
    char *keys[RECSTORE_BATCH], numkeys[24];
    size_t off, i, k;
    int rc = 0;

    *updated = 0;
    memset(keys, 0, sizeof(keys));
    for (off = 0; off < n; off += k) {
        redisReply *r = NULL;
        size_t argc = 3;

        k = n - off < RECSTORE_BATCH ? n - off : RECSTORE_BATCH;
        if ((rc = zone_keys(rs, zones + off, k, keys, e)) != 0)
            goto out;
        snprintf(numkeys, sizeof(numkeys), "%zu", k);
        argv[2] = numkeys;
        for (i = 0; i < k; i++)
            argv[argc++] = keys[i];
        for (i = 0; i < k; i++) {
            argv[argc++] = expect[off + i] != NULL ? expect[off + i] : "";
            argv[argc++] = hosts[off + i];
        }
        rc = eval(rs, SCRIPT_OWNERS, (int)argc, argv, REDIS_REPLY_INTEGER, &r, e);
        free_keys(keys, k);
        memset(keys, 0, sizeof(keys));
        if (rc != 0)
            goto out;
        *updated += r->integer > 0 ? (size_t)r->integer : 0;
        freeReplyObject(r);
    }
out:
    free_keys(keys, RECSTORE_BATCH);
    return rc;
}

int recstore_push(struct recstore *rs, const char *backend, const char *const *zones,
                  const uint64_t *versions, size_t n, size_t *pushed, struct err *e)
{
    char skey[KEY_MAX], smax[24], (*sv)[24] = NULL;
    const char *argv[] = {"XADD", skey,   "MAXLEN", "~",       smax, "*",       "op",
                          "push", "zone", NULL,     "version", NULL, "backend", backend};
    size_t off, i, k;
    int rc;

    *pushed = 0;
    if ((rc = recstore_key(rs, "changes", NULL, skey, sizeof(skey), e)) != 0)
        return rc;
    snprintf(smax, sizeof(smax), "%ld", rs->cfg->stream_maxlen);
    sv = calloc(RECSTORE_BATCH, sizeof(*sv));
    if (sv == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    for (off = 0; off < n; off += k) {
        int first = 0;

        k = n - off < RECSTORE_BATCH ? n - off : RECSTORE_BATCH;
        for (i = 0; i < k; i++) {
            snprintf(sv[i], sizeof(sv[i]), "%" PRIu64, versions[off + i]);
            argv[9] = zones[off + i];
            argv[11] = sv[i];
            if ((rc = rconn_append(rs->rc, 14, argv, NULL, e)) != 0)
                goto out;
        }
        for (i = 0; i < k; i++) {
            redisReply *r = NULL;

            rc = rconn_get_reply(rs->rc, REDIS_REPLY_STRING, &r, e);
            if (rc == DADNS_EREDIS)
                goto out;
            if (rc != 0) {
                if (first == 0)
                    first = rc;
                continue;
            }
            (*pushed)++;
            freeReplyObject(r);
        }
        if ((rc = first) != 0)
            goto out;
    }
out:
    free(sv);
    return rc;
}

int recstore_purge(struct recstore *rs, const char *const *zones, const uint64_t *versions,
                   size_t n, const struct recstore_purge_opts *o, size_t *purged, struct err *e)
{
    char zset[KEY_MAX], sn[24], snc[24], scut[24], numkeys[24];
    char *keys[RECSTORE_BATCH], **akeys = NULL, (*sv)[24] = NULL;
    const char **argv = NULL;
    size_t off, i, k, nak = 0;
    int rc;

    *purged = 0;
    memset(keys, 0, sizeof(keys));
    if (n == 0)
        return 0;
    if ((rc = recstore_key(rs, "zones", NULL, zset, sizeof(zset), e)) != 0)
        return rc;
    /* the checked backends first, then the others (every applied hash gets the HDEL) */
    akeys = calloc(o->n_check + o->n_all + 1, sizeof(*akeys));
    argv = calloc(8 + 3 * RECSTORE_BATCH + o->n_check + o->n_all, sizeof(*argv));
    sv = calloc(RECSTORE_BATCH, sizeof(*sv));
    if (akeys == NULL || argv == NULL || sv == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < o->n_check + o->n_all; i++) {
        const char *be = i < o->n_check ? o->check_backends[i] : o->all_backends[i - o->n_check];
        char buf[KEY_MAX];
        size_t j;
        bool dup = false;

        for (j = 0; j < i && !dup; j++) {
            const char *other =
                j < o->n_check ? o->check_backends[j] : o->all_backends[j - o->n_check];

            dup = strcmp(other, be) == 0;
        }
        if (dup && i >= o->n_check)
            continue;
        if ((rc = recstore_key(rs, "applied:", be, buf, sizeof(buf), e)) != 0)
            goto out;
        akeys[nak] = strdup(buf);
        if (akeys[nak] == NULL) {
            rc = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        nak++;
    }
    snprintf(snc, sizeof(snc), "%zu", o->n_check);
    snprintf(scut, sizeof(scut), "%lld", o->cutoff_ms);
    for (off = 0; off < n; off += k) {
        redisReply *r = NULL;
        size_t argc = 3;

        k = n - off < RECSTORE_BATCH ? n - off : RECSTORE_BATCH;
        if ((rc = zone_keys(rs, zones + off, k, keys, e)) != 0)
            goto out;
        snprintf(numkeys, sizeof(numkeys), "%zu", 1 + k + nak);
        snprintf(sn, sizeof(sn), "%zu", k);
        argv[2] = numkeys;
        argv[argc++] = zset;
        for (i = 0; i < k; i++)
            argv[argc++] = keys[i];
        for (i = 0; i < nak; i++)
            argv[argc++] = akeys[i];
        argv[argc++] = sn;
        argv[argc++] = snc;
        argv[argc++] = scut;
        argv[argc++] = o->dry_run ? "1" : "0";
        for (i = 0; i < k; i++) {
            snprintf(sv[i], sizeof(sv[i]), "%" PRIu64, versions[off + i]);
            argv[argc++] = zones[off + i];
            argv[argc++] = sv[i];
        }
        rc = eval(rs, SCRIPT_PURGE, (int)argc, argv, REDIS_REPLY_ARRAY, &r, e);
        free_keys(keys, k);
        memset(keys, 0, sizeof(keys));
        if (rc != 0)
            goto out;
        *purged += r->elements;
        freeReplyObject(r);
    }
out:
    free_keys(keys, RECSTORE_BATCH);
    if (akeys != NULL)
        free_keys(akeys, nak);
    free(akeys);
    free(argv);
    free(sv);
    return rc;
}

int recstore_guard_set(struct recstore *rs, const char *server, size_t would_delete, size_t listed,
                       size_t stored, long long at, struct err *e)
{
    char gkey[KEY_MAX], sw[24], sl[24], ss[24], sa[24];
    const char *argv[] = {"HSET",   gkey, "server", server, "would_delete", sw,
                          "listed", sl,   "stored", ss,     "at",           sa};

    if (recstore_key(rs, "reconciler:guard", NULL, gkey, sizeof(gkey), e) != 0)
        return DADNS_ETOOBIG;
    snprintf(sw, sizeof(sw), "%zu", would_delete);
    snprintf(sl, sizeof(sl), "%zu", listed);
    snprintf(ss, sizeof(ss), "%zu", stored);
    snprintf(sa, sizeof(sa), "%lld", at);
    return command(rs, 12, argv, REDIS_REPLY_INTEGER, NULL, e);
}

int recstore_guard_clear(struct recstore *rs, bool *was, struct err *e)
{
    char gkey[KEY_MAX];
    const char *argv[] = {"DEL", gkey};
    redisReply *r = NULL;
    int rc;

    if (was != NULL)
        *was = false;
    if ((rc = recstore_key(rs, "reconciler:guard", NULL, gkey, sizeof(gkey), e)) != 0)
        return rc;
    if ((rc = command(rs, 2, argv, REDIS_REPLY_INTEGER, &r, e)) != 0)
        return rc;
    if (was != NULL)
        *was = r->integer > 0;
    freeReplyObject(r);
    return 0;
}

int recstore_last_set(struct recstore *rs, const char *json, struct err *e)
{
    char lkey[KEY_MAX];
    const char *argv[] = {"SET", lkey, json};
    int rc;

    if ((rc = recstore_key(rs, "reconciler:last", NULL, lkey, sizeof(lkey), e)) != 0)
        return rc;
    return command(rs, 3, argv, REDIS_REPLY_STATUS, NULL, e);
}
