/* inventory.c -- publishing a backend's inventory in Redis (see inventory.h).
 *
 * The backend calls back once per zone; zones are buffered INVENTORY_CHUNK at a time, each full
 * chunk becomes one pipelined HSET, with at most MAX_INFLIGHT replies outstanding. */
#include "inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_INFLIGHT 16 /* HSETs sent before their replies are read */

struct pub {
    struct rconn *rc;
    const char *key;
    const char **argv;                    /* 2 + 2 * INVENTORY_CHUNK */
    char (*names)[NAME_BUF_SIZE];         /* INVENTORY_CHUNK */
    char (*values)[INVENTORY_VALUE_SIZE]; /* INVENTORY_CHUNK */
    size_t nbuf;                          /* zones buffered */
    size_t zones;                         /* zones taken */
    size_t inflight;                      /* replies owed */
    int code;                             /* first Redis failure, 0 = none */
    struct err *e;
};

int inventory_format(const struct held_zone *z, char *out, size_t size)
{
    char serial[16];
    int n;

    if (z->has_serial)
        snprintf(serial, sizeof(serial), "%" PRIu32, z->serial);
    else
        snprintf(serial, sizeof(serial), "-");
    n = snprintf(out, size, "%s %s %" PRIu64 " %d", serial, z->digest[0] ? z->digest : "-",
                 z->version, z->managed ? 1 : 0);
    return (n < 0 || (size_t)n >= size) ? DADNS_ETOOBIG : 0;
}

/* drain - read the replies owed until at most @keep remain. */
static int drain(struct pub *p, size_t keep)
{
    while (p->inflight > keep) {
        redisReply *r = NULL;
        int c = rconn_get_reply(p->rc, -1, &r, p->e);

        p->inflight--;
        if (r != NULL)
            freeReplyObject(r);
        if (c == DADNS_EREDIS) {
            p->inflight = 0; /* the connection is gone with the rest */
            return c;
        }
        if (c != 0 && p->code == 0)
            p->code = c;
    }
    return p->code;
}

/* flush - send the buffered zones as one HSET. */
static int flush(struct pub *p)
{
    size_t i, argc = 0;
    int c;

    if (p->nbuf == 0)
        return p->code;
    p->argv[argc++] = "HSET";
    p->argv[argc++] = p->key;
    for (i = 0; i < p->nbuf; i++) {
        p->argv[argc++] = p->names[i];
        p->argv[argc++] = p->values[i];
    }
    p->nbuf = 0;
    c = rconn_append(p->rc, (int)argc, p->argv, NULL, p->e);
    if (c != 0)
        return c;
    p->inflight++;
    return drain(p, MAX_INFLIGHT);
}

/* on_zone - held_zone_fn: buffer one zone, sending a full chunk. */
static int on_zone(void *arg, const struct held_zone *z)
{
    struct pub *p = arg;

    if (p->code != 0)
        return p->code;
    if (z->zone[0] == '\0')
        return 0;
    snprintf(p->names[p->nbuf], sizeof(p->names[0]), "%s", z->zone);
    if (inventory_format(z, p->values[p->nbuf], sizeof(p->values[0])) != 0)
        return 0; /* cannot happen with the sizes above */
    p->nbuf++;
    p->zones++;
    if (p->nbuf == INVENTORY_CHUNK)
        p->code = flush(p);
    return p->code;
}

/* simple - run one command, reply discarded. */
static int simple(struct rconn *rc, int argc, const char **argv, struct err *e)
{
    redisReply *r = NULL;
    int c = rconn_command(rc, argc, argv, NULL, -1, &r, e);

    if (r != NULL)
        freeReplyObject(r);
    return c;
}

int inventory_publish(struct rconn *rc, const char *key, const char *consumer,
                      const struct change_backend *backend, struct inventory_result *res,
                      struct err *e)
{
    struct inventory_result out;
    struct pub p;
    char meta[512], szones[24], snow[24];
    int code, inv = 0;

    memset(&out, 0, sizeof(out));
    memset(&p, 0, sizeof(p));
    if ((size_t)snprintf(meta, sizeof(meta), "%s:meta", key) >= sizeof(meta))
        return err_set(e, DADNS_ETOOBIG, "inventory key too long");
    {
        const char *argv[] = {"DEL", key, meta};

        code = simple(rc, 3, argv, e);
        if (code != 0)
            return code;
    }
    if (backend->inventory == NULL) {
        snprintf(out.error, sizeof(out.error), "inventory not supported by this backend");
    } else {
        p.rc = rc;
        p.key = key;
        p.e = e;
        p.argv = calloc(2 + 2 * INVENTORY_CHUNK, sizeof(*p.argv));
        p.names = calloc(INVENTORY_CHUNK, sizeof(*p.names));
        p.values = calloc(INVENTORY_CHUNK, sizeof(*p.values));
        if (p.argv == NULL || p.names == NULL || p.values == NULL) {
            code = err_set(e, DADNS_ENOMEM, "out of memory");
            goto out;
        }
        inv = backend->inventory(backend->ctx, on_zone, &p, out.error, sizeof(out.error));
        if (p.code == 0)
            p.code = flush(&p);
        if (p.code == 0)
            p.code = drain(&p, 0);
        if (p.code != 0) {
            code = p.code; /* Redis failed under us: the request stays pending */
            goto out;
        }
        if (inv == 0) {
            out.ok = 1;
            out.zones = p.zones;
            out.error[0] = '\0';
        } else {
            const char *argv[] = {"DEL", key};

            if (out.error[0] == '\0')
                snprintf(out.error, sizeof(out.error), "inventory failed: %s", err_str(inv));
            code = simple(rc, 2, argv, e); /* no partial listing */
            if (code != 0)
                goto out;
        }
    }
    snprintf(szones, sizeof(szones), "%zu", out.zones);
    snprintf(snow, sizeof(snow), "%lld", (long long)time(NULL));
    {
        const char *argv[] = {"HSET",        meta,   "status",   out.ok ? "ok" : "error",
                              "zones",       szones, "error",    out.error,
                              "finished_at", snow,   "consumer", consumer};
        char ttl[16];
        const char *ex1[] = {"EXPIRE", key, ttl};
        const char *ex2[] = {"EXPIRE", meta, ttl};

        /* the listing's expiry first, the meta hash (what the reconciler waits for) last */
        snprintf(ttl, sizeof(ttl), "%d", INVENTORY_TTL_S);
        code = simple(rc, 3, ex1, e);
        if (code == 0)
            code = simple(rc, 12, argv, e);
        if (code == 0)
            code = simple(rc, 3, ex2, e);
    }
out:
    free(p.argv);
    free(p.names);
    free(p.values);
    if (code == 0 && res != NULL)
        *res = out;
    return code;
}
