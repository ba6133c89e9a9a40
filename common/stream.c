/* stream.c -- consumer-group commands and stream reply parsing (see stream.h). */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void stream_parse_fields(struct stream_entry *entry, const char *const *fields, const size_t *lens,
                         size_t nfields)
{
    int have_op = 0, have_zone = 0, have_version = 0;
    size_t i;

    entry->valid = 0;
    entry->op[0] = '\0';
    entry->zone[0] = '\0';
    entry->version = 0;
    for (i = 0; i + 1 < nfields; i += 2) {
        const char *v = fields[i + 1];
        size_t vl = lens[i + 1];

        if (field_is(fields[i], lens[i], "op")) {
            if (vl == 0 || vl >= sizeof(entry->op))
                return;
            memcpy(entry->op, v, vl);
            entry->op[vl] = '\0';
            have_op = strcmp(entry->op, "save") == 0 || strcmp(entry->op, "delete") == 0 ||
                      strcmp(entry->op, "refresh") == 0;
        } else if (field_is(fields[i], lens[i], "zone")) {
            char norm[NAME_BUF_SIZE];

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
            have_version = errno == 0 && *end == '\0';
        }
    }
    entry->valid = have_op && have_zone && have_version;
}

int stream_read(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                const char *start, size_t count, int block_ms, struct stream_entry *out, size_t cap,
                size_t *n, struct err *e)
{
    const char *argv[12];
    char scount[24], sblock[24];
    redisReply *r = NULL, *entries;
    int argc = 0, code;
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
    code = rconn_command(rc, argc, argv, NULL, -1, &r, e);
    if (code == DADNS_EREPLY && e != NULL && strstr(e->text, "NOGROUP") != NULL)
        return DADNS_ENOTFOUND;
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
        const redisReply *en = entries->element[i];
        struct stream_entry *se = &out[*n];

        if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
            en->element[0]->type != REDIS_REPLY_STRING || en->element[0]->len >= sizeof(se->id)) {
            code = err_set(e, DADNS_EREPLY, "XREADGROUP: malformed entry");
            goto out;
        }
        memcpy(se->id, en->element[0]->str, en->element[0]->len);
        se->id[en->element[0]->len] = '\0';
        se->valid = 0;
        if (en->element[1]->type == REDIS_REPLY_ARRAY) {
            const redisReply *fl = en->element[1];
            const char *fields[16];
            size_t lens[16], nf = 0, k;

            for (k = 0; k < fl->elements && nf < 16; k++) {
                if (fl->element[k]->type != REDIS_REPLY_STRING)
                    break;
                fields[nf] = fl->element[k]->str;
                lens[nf] = fl->element[k]->len;
                nf++;
            }
            stream_parse_fields(se, fields, lens, nf);
        } /* else nil: the entry was trimmed while pending */
        (*n)++;
    }
out:
    freeReplyObject(r);
    return code;
}
