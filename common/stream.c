/* stream.c -- consumer-group commands, stream reply parsing and stream ids (see stream.h). */
#include "stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX 32 /* field/value strings looked at per entry (16 pairs) */

int stream_group_create(struct rconn *rc, const char *stream, const char *group, struct err *e)
{
    const char *argv[] = {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"};
    redisReply *r = NULL;
    int code = rconn_command(rc, 6, argv, NULL, -1, &r, e);

    if (r != NULL)
        freeReplyObject(r);
    if (code == DADNS_EREPLY && e != NULL && strstr(e->text, "BUSYGROUP") != NULL) {
        err_clear(e);
        return 0;
    }
    return code;
}

static int field_is(const char *f, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(f, name, len) == 0;
}

/* is_group_name - @v (@len octets) matches [a-z0-9][a-z0-9_-]{0,62}. */
static int is_group_name(const char *v, size_t len)
{
    size_t i;

    if (len == 0 || len >= STREAM_NAME_SIZE)
        return 0;
    for (i = 0; i < len; i++) {
        char c = v[i];
        int ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));

        if (!ok)
            return 0;
    }
    return 1;
}

/* is_request_id - @v (@len octets) matches [A-Za-z0-9_.:-]{1,63}. */
static int is_request_id(const char *v, size_t len)
{
    size_t i;

    if (len == 0 || len >= STREAM_REQUEST_SIZE)
        return 0;
    for (i = 0; i < len; i++) {
        char c = v[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

void stream_parse_fields(struct stream_entry *entry, const char *const *fields, const size_t *lens,
                         size_t nfields)
{
    int have_op = 0, have_zone = 0, have_version = 0, inventory;
    size_t i;

    entry->valid = 0;
    entry->op[0] = '\0';
    entry->zone[0] = '\0';
    entry->version = 0;
    entry->backend[0] = '\0';
    entry->request[0] = '\0';
    for (i = 0; i + 1 < nfields; i += 2) {
        const char *v = fields[i + 1];
        size_t vl = lens[i + 1];

        if (field_is(fields[i], lens[i], "op")) {
            if (vl == 0 || vl >= sizeof(entry->op))
                return;
            memcpy(entry->op, v, vl);
            entry->op[vl] = '\0';
            have_op = strcmp(entry->op, "save") == 0 || strcmp(entry->op, "delete") == 0 ||
                      strcmp(entry->op, "refresh") == 0 || strcmp(entry->op, "push") == 0 ||
                      strcmp(entry->op, "inventory") == 0;
        } else if (field_is(fields[i], lens[i], "zone")) {
            char norm[NAME_BUF_SIZE];

            if (vl == 0)
                continue; /* only an inventory may have no zone: checked below */
            if (name_normalize(v, vl, norm, NULL) != 0 || strlen(norm) != vl ||
                memcmp(norm, v, vl) != 0)
                return;
            memcpy(entry->zone, norm, vl + 1);
            have_zone = 1;
        } else if (field_is(fields[i], lens[i], "version")) {
            char tmp[24];
            char *end;

            if (vl == 0 || vl >= sizeof(tmp))
                return;
            memcpy(tmp, v, vl);
            tmp[vl] = '\0';
            errno = 0;
            entry->version = strtoull(tmp, &end, 10);
            have_version = errno == 0 && *end == '\0' && tmp[0] >= '0' && tmp[0] <= '9';
        } else if (field_is(fields[i], lens[i], "backend")) {
            if (vl == 0)
                continue; /* "" = every group */
            if (!is_group_name(v, vl))
                return;
            memcpy(entry->backend, v, vl);
            entry->backend[vl] = '\0';
        } else if (field_is(fields[i], lens[i], "request")) {
            if (!is_request_id(v, vl))
                return;
            memcpy(entry->request, v, vl);
            entry->request[vl] = '\0';
        }
    }
    inventory = have_op && strcmp(entry->op, "inventory") == 0;
    if (inventory)
        entry->valid = entry->request[0] != '\0';
    else
        entry->valid = have_op && have_zone && have_version;
}

/* parse_entry - one [id, [field, value, ...]] element of an XREADGROUP/XCLAIM reply into @se
 * (fields nil = trimmed while pending: valid 0). Returns 0 or DADNS_EREPLY. */
static int parse_entry(const redisReply *en, struct stream_entry *se, struct err *e)
{
    if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
        en->element[0]->type != REDIS_REPLY_STRING || en->element[0]->len >= sizeof(se->id))
        return err_set(e, DADNS_EREPLY, "stream reply: malformed entry");
    memcpy(se->id, en->element[0]->str, en->element[0]->len);
    se->id[en->element[0]->len] = '\0';
    se->valid = 0;
    se->deliveries = 0;
    if (en->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *fl = en->element[1];
        const char *fields[FIELDS_MAX];
        size_t lens[FIELDS_MAX], nf = 0, k;

        for (k = 0; k < fl->elements && nf < FIELDS_MAX; k++) {
            if (fl->element[k]->type != REDIS_REPLY_STRING)
                break;
            fields[nf] = fl->element[k]->str;
            lens[nf] = fl->element[k]->len;
            nf++;
        }
        stream_parse_fields(se, fields, lens, nf);
    } else {
        se->op[0] = se->zone[0] = se->backend[0] = se->request[0] = '\0';
        se->version = 0;
    }
    return 0;
}

/* nogroup - turn a NOGROUP error reply into DADNS_ENOTFOUND. */
static int nogroup(int code, const struct err *e)
{
    if (code == DADNS_EREPLY && e != NULL && strstr(e->text, "NOGROUP") != NULL)
        return DADNS_ENOTFOUND;
    return code;
}

int stream_consumer_create(struct rconn *rc, const char *stream, const char *group,
                           const char *consumer, struct err *e)
{
    const char *argv[] = {"XGROUP", "CREATECONSUMER", stream, group, consumer};
    redisReply *r = NULL;
    int code = nogroup(rconn_command(rc, 5, argv, NULL, -1, &r, e), e);

    if (r != NULL)
        freeReplyObject(r);
    return code;
}

int stream_read(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                const char *start, size_t count, int block_ms, struct stream_entry *out, size_t cap,
                size_t *n, struct err *e)
{
    const char *argv[12];
    char scount[24], sblock[24];
    redisReply *r = NULL, *entries;
    int argc = 0, code, fresh = strcmp(start, ">") == 0;
    size_t i;

    *n = 0;
    snprintf(scount, sizeof(scount), "%zu", count < cap ? count : cap);
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = group;
    argv[argc++] = consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = scount;
    if (block_ms >= 0) {
        snprintf(sblock, sizeof(sblock), "%d", block_ms);
        argv[argc++] = "BLOCK";
        argv[argc++] = sblock;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = stream;
    argv[argc++] = start;
    /* append + get_reply: sent once, never silently repeated after a broken connection */
    code = rconn_append(rc, argc, argv, NULL, e);
    if (code == 0)
        code = rconn_get_reply(rc, -1, &r, e);
    code = nogroup(code, e);
    if (code != 0)
        return code;
    if (r->type == REDIS_REPLY_NIL)
        goto out; /* BLOCK timed out */
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
        r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
        code = err_set(e, DADNS_EREPLY, "XREADGROUP: unexpected reply");
        goto out;
    }
    entries = r->element[0]->element[1];
    for (i = 0; i < entries->elements && *n < cap; i++) {
        code = parse_entry(entries->element[i], &out[*n], e);
        if (code != 0)
            goto out;
        out[*n].deliveries = fresh ? 1 : 0;
        (*n)++;
    }
out:
    freeReplyObject(r);
    return code;
}

/* copy_reply_str - a string/status element into @out (@size octets), cut to fit. */
static void copy_reply_str(const redisReply *r, char *out, size_t size)
{
    if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(out, size, "%.*s", (int)r->len, r->str);
    else
        out[0] = '\0';
}

/* reply_ll - an integer element, or a decimal string element; -1 when neither. */
static long long reply_ll(const redisReply *r)
{
    char tmp[32];
    char *end;
    long long v;

    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(tmp))
        return -1;
    memcpy(tmp, r->str, r->len);
    tmp[r->len] = '\0';
    errno = 0;
    v = strtoll(tmp, &end, 10);
    return (errno != 0 || *end != '\0') ? -1 : v;
}

int stream_pending(struct rconn *rc, const char *stream, const char *group, int64_t min_idle_ms,
                   const char *start, size_t count, const char *consumer,
                   struct stream_pending *out, size_t cap, size_t *n, struct err *e)
{
    const char *argv[10];
    char sidle[24], scount[24];
    redisReply *r = NULL;
    int argc = 0, code;
    size_t i;

    *n = 0;
    snprintf(sidle, sizeof(sidle), "%" PRId64, min_idle_ms > 0 ? min_idle_ms : 0);
    snprintf(scount, sizeof(scount), "%zu", count < cap ? count : cap);
    argv[argc++] = "XPENDING";
    argv[argc++] = stream;
    argv[argc++] = group;
    argv[argc++] = "IDLE";
    argv[argc++] = sidle;
    argv[argc++] = start;
    argv[argc++] = "+";
    argv[argc++] = scount;
    if (consumer != NULL)
        argv[argc++] = consumer;
    code = nogroup(rconn_command(rc, argc, argv, NULL, REDIS_REPLY_ARRAY, &r, e), e);
    if (code != 0)
        return code;
    for (i = 0; i < r->elements && *n < cap; i++) {
        const redisReply *p = r->element[i];
        struct stream_pending *o = &out[*n];

        if (p->type != REDIS_REPLY_ARRAY || p->elements != 4 ||
            p->element[0]->type != REDIS_REPLY_STRING || p->element[0]->len >= sizeof(o->id) ||
            p->element[2]->type != REDIS_REPLY_INTEGER ||
            p->element[3]->type != REDIS_REPLY_INTEGER) {
            code = err_set(e, DADNS_EREPLY, "XPENDING: unexpected reply");
            break;
        }
        copy_reply_str(p->element[0], o->id, sizeof(o->id));
        copy_reply_str(p->element[1], o->consumer, sizeof(o->consumer));
        o->idle_ms = p->element[2]->integer;
        o->deliveries = p->element[3]->integer < 0 ? 0 : (uint64_t)p->element[3]->integer;
        (*n)++;
    }
    freeReplyObject(r);
    return code;
}

int stream_claim(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                 const struct stream_pending *p, size_t np, struct stream_entry *out, size_t cap,
                 size_t *n, size_t *gone, struct err *e)
{
    size_t i, sent = 0;
    int code = 0, first = 0;

    *n = 0;
    if (gone != NULL)
        *gone = 0;
    for (i = 0; i < np; i++) {
        char sidle[24];
        const char *argv[] = {"XCLAIM", stream, group, consumer, sidle, p[i].id};

        snprintf(sidle, sizeof(sidle), "%" PRId64, p[i].idle_ms > 0 ? p[i].idle_ms : 0);
        code = rconn_append(rc, 6, argv, NULL, e);
        if (code != 0)
            return code; /* the connection is gone: nothing more to read */
        sent++;
    }
    /* one reply per command, even after an error reply, to keep the pipeline in step */
    for (i = 0; i < sent; i++) {
        redisReply *r = NULL;
        int c = nogroup(rconn_get_reply(rc, REDIS_REPLY_ARRAY, &r, e), e);

        if (c == DADNS_EREDIS)
            return c;
        if (c != 0) {
            if (first == 0)
                first = c;
            continue;
        }
        if (r->elements == 0 || r->element[0]->type == REDIS_REPLY_NIL || *n >= cap) {
            if (gone != NULL && *n < cap)
                (*gone)++;
        } else {
            c = parse_entry(r->element[0], &out[*n], e);
            if (c == 0) {
                out[*n].deliveries = p[i].deliveries + 1;
                (*n)++;
            } else if (first == 0) {
                first = c;
            }
        }
        freeReplyObject(r);
    }
    return first;
}

int stream_park(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                const char *const *ids, size_t n, struct err *e)
{
    const char **argv;
    redisReply *r = NULL;
    size_t argc = 0, i;
    int code;

    if (n == 0)
        return 0;
    argv = calloc(n + 8, sizeof(*argv));
    if (argv == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    argv[argc++] = "XCLAIM";
    argv[argc++] = stream;
    argv[argc++] = group;
    argv[argc++] = consumer;
    argv[argc++] = "0";
    for (i = 0; i < n; i++)
        argv[argc++] = ids[i];
    argv[argc++] = "RETRYCOUNT";
    argv[argc++] = "0";
    argv[argc++] = "JUSTID";
    code = nogroup(rconn_command(rc, (int)argc, argv, NULL, REDIS_REPLY_ARRAY, &r, e), e);
    if (r != NULL)
        freeReplyObject(r);
    free(argv);
    return code;
}

/* parse_group - one flat key/value array of XINFO GROUPS into @g (needed left empty). */
static int parse_group(const redisReply *kv, struct stream_group_floor *g)
{
    size_t k;
    int have_name = 0;

    memset(g, 0, sizeof(*g));
    g->lag = -1;
    snprintf(g->last_delivered, sizeof(g->last_delivered), "0-0");
    if (kv->type != REDIS_REPLY_ARRAY)
        return -1;
    for (k = 0; k + 1 < kv->elements; k += 2) {
        const redisReply *key = kv->element[k], *val = kv->element[k + 1];

        if (key->type != REDIS_REPLY_STRING && key->type != REDIS_REPLY_STATUS)
            continue;
        if (field_is(key->str, key->len, "name")) {
            copy_reply_str(val, g->name, sizeof(g->name));
            have_name = g->name[0] != '\0';
        } else if (field_is(key->str, key->len, "pending")) {
            long long v = reply_ll(val);

            g->pending = v > 0 ? (uint64_t)v : 0;
        } else if (field_is(key->str, key->len, "last-delivered-id")) {
            copy_reply_str(val, g->last_delivered, sizeof(g->last_delivered));
        } else if (field_is(key->str, key->len, "lag")) {
            g->lag = reply_ll(val); /* nil (unknown) is -1 */
        }
    }
    return have_name ? 0 : -1;
}

int stream_group_floors(struct rconn *rc, const char *stream, struct stream_group_floor **out,
                        size_t *n, struct err *e)
{
    const char *argv[] = {"XINFO", "GROUPS", stream};
    struct stream_group_floor *g = NULL;
    redisReply *r = NULL;
    size_t i, ng = 0;
    int code;

    *out = NULL;
    *n = 0;
    code = rconn_command(rc, 3, argv, NULL, REDIS_REPLY_ARRAY, &r, e);
    if (code == DADNS_EREPLY && e != NULL && strstr(e->text, "no such key") != NULL) {
        err_clear(e);
        return 0;
    }
    if (code != 0)
        return code;
    if (r->elements == 0)
        goto out;
    g = calloc(r->elements, sizeof(*g));
    if (g == NULL) {
        code = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < r->elements; i++) {
        if (parse_group(r->element[i], &g[ng]) != 0) {
            code = err_set(e, DADNS_EREPLY, "XINFO GROUPS: unexpected reply");
            goto out;
        }
        ng++;
    }
    for (i = 0; i < ng; i++) {
        const char *pv[] = {"XPENDING", stream, g[i].name};
        redisReply *p = NULL;

        code = nogroup(rconn_command(rc, 3, pv, NULL, REDIS_REPLY_ARRAY, &p, e), e);
        if (code == DADNS_ENOTFOUND) {
            /* deleted meanwhile: it needs nothing */
            err_clear(e);
            code = 0;
            g[i].needed[0] = '\0';
            continue;
        }
        if (code != 0)
            goto out;
        if (p->elements >= 2 && p->element[1]->type == REDIS_REPLY_STRING &&
            reply_ll(p->element[0]) > 0) {
            copy_reply_str(p->element[1], g[i].needed, sizeof(g[i].needed));
        } else if (stream_id_next(g[i].last_delivered, g[i].needed, sizeof(g[i].needed)) != 0) {
            code = err_set(e, DADNS_EREPLY, "XINFO GROUPS: bad last-delivered-id \"%s\"",
                           g[i].last_delivered);
            freeReplyObject(p);
            goto out;
        }
        freeReplyObject(p);
    }
    *out = g;
    *n = ng;
    g = NULL;
out:
    free(g);
    freeReplyObject(r);
    return code;
}

int stream_info(struct rconn *rc, const char *stream, struct stream_info *out, struct err *e)
{
    const char *argv[] = {"XINFO", "STREAM", stream};
    redisReply *r = NULL;
    size_t k;
    int code;

    memset(out, 0, sizeof(*out));
    snprintf(out->first_id, sizeof(out->first_id), "0-0");
    snprintf(out->max_deleted, sizeof(out->max_deleted), "0-0");
    code = rconn_command(rc, 3, argv, NULL, REDIS_REPLY_ARRAY, &r, e);
    if (code == DADNS_EREPLY && e != NULL && strstr(e->text, "no such key") != NULL)
        return DADNS_ENOTFOUND;
    if (code != 0)
        return code;
    for (k = 0; k + 1 < r->elements; k += 2) {
        const redisReply *key = r->element[k], *val = r->element[k + 1];

        if (key->type != REDIS_REPLY_STRING && key->type != REDIS_REPLY_STATUS)
            continue;
        if (field_is(key->str, key->len, "length"))
            out->length = reply_ll(val);
        else if (field_is(key->str, key->len, "recorded-first-entry-id"))
            copy_reply_str(val, out->first_id, sizeof(out->first_id));
        else if (field_is(key->str, key->len, "max-deleted-entry-id"))
            copy_reply_str(val, out->max_deleted, sizeof(out->max_deleted));
    }
    if (out->first_id[0] == '\0')
        snprintf(out->first_id, sizeof(out->first_id), "0-0");
    if (out->max_deleted[0] == '\0')
        snprintf(out->max_deleted, sizeof(out->max_deleted), "0-0");
    freeReplyObject(r);
    return 0;
}

int stream_trim_minid(struct rconn *rc, const char *stream, const char *minid, long long *removed,
                      struct err *e)
{
    const char *argv[] = {"XTRIM", stream, "MINID", "~", minid};
    redisReply *r = NULL;
    int code = rconn_command(rc, 5, argv, NULL, REDIS_REPLY_INTEGER, &r, e);

    if (code != 0)
        return code;
    if (removed != NULL)
        *removed = r->integer;
    freeReplyObject(r);
    return 0;
}

/* parse_id - "<ms>-<seq>" or "<ms>" into @ms/@seq. Returns 0 or -1. */
static int parse_id(const char *s, uint64_t *ms, uint64_t *seq)
{
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    *ms = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    *seq = 0;
    if (*end == '\0')
        return 0;
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return -1;
    *seq = strtoull(end + 1, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    return 0;
}

int stream_id_cmp(const char *a, const char *b)
{
    uint64_t am, as, bm, bs;
    int ba = parse_id(a, &am, &as) != 0, bb = parse_id(b, &bm, &bs) != 0;

    if (ba || bb)
        return bb - ba; /* malformed first */
    if (am != bm)
        return am < bm ? -1 : 1;
    if (as != bs)
        return as < bs ? -1 : 1;
    return 0;
}

int stream_id_next(const char *id, char *out, size_t size)
{
    uint64_t ms, seq;
    int n;

    if (parse_id(id, &ms, &seq) != 0)
        return DADNS_EINVAL;
    if (seq == UINT64_MAX) {
        if (ms == UINT64_MAX)
            return DADNS_EINVAL;
        n = snprintf(out, size, "%" PRIu64 "-0", ms + 1);
    } else {
        n = snprintf(out, size, "%" PRIu64 "-%" PRIu64, ms, seq + 1);
    }
    return (n < 0 || (size_t)n >= size) ? DADNS_ETOOBIG : 0;
}
