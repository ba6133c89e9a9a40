/* rconn.c -- Redis connection handling and reply checking (see rconn.h). */
#include "rconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct rconn {
    redisContext *c; /* NULL while disconnected */
    char *host;      /* owned copies of the settings */
    char *password;
    char *client_name;
    int port;
    int db;
    int connect_timeout_ms;
    int read_timeout_ms;
    unsigned long connects; /* successful connects so far */
};

int rconn_new(const struct config *cfg, const char *client_name, struct rconn **out)
{
    struct rconn *rc = calloc(1, sizeof(*rc));

    if (rc == NULL)
        return DADNS_ENOMEM;
    rc->host = strdup(cfg->redis_host);
    rc->password = strdup(cfg->redis_password);
    rc->client_name = strdup(client_name);
    if (rc->host == NULL || rc->password == NULL || rc->client_name == NULL) {
        rconn_free(rc);
        return DADNS_ENOMEM;
    }
    rc->port = cfg->redis_port;
    rc->db = cfg->redis_db;
    rc->connect_timeout_ms = cfg->redis_timeout_ms;
    rc->read_timeout_ms = cfg->redis_timeout_ms;
    *out = rc;
    return 0;
}

void rconn_free(struct rconn *rc)
{
    if (rc == NULL)
        return;
    rconn_drop(rc);
    free(rc->host);
    free(rc->password);
    free(rc->client_name);
    free(rc);
}

void rconn_drop(struct rconn *rc)
{
    if (rc->c != NULL) {
        redisFree(rc->c);
        rc->c = NULL;
    }
}

static struct timeval tv_ms(int ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

void rconn_set_read_timeout(struct rconn *rc, int ms)
{
    rc->read_timeout_ms = ms;
    if (rc->c != NULL)
        redisSetTimeout(rc->c, tv_ms(ms));
}

int rconn_fd(const struct rconn *rc)
{
    return rc->c != NULL ? rc->c->fd : -1;
}

unsigned long rconn_reconnects(const struct rconn *rc)
{
    return rc->connects > 0 ? rc->connects - 1 : 0;
}

int rconn_check(const redisContext *c, const redisReply *r, int want, struct err *e)
{
    if (r == NULL) {
        return err_set(e, DADNS_EREDIS, "Redis connection lost: %s",
                       (c != NULL && c->err) ? c->errstr : "no reply");
    }
    if (r->type == REDIS_REPLY_ERROR)
        return err_set(e, DADNS_EREPLY, "Redis error: %.*s", (int)r->len, r->str);
    if (want >= 0 && r->type != want)
        return err_set(e, DADNS_EREPLY, "unexpected Redis reply type %d (wanted %d)", r->type,
                       want);
    return 0;
}

/* Run a setup command on a fresh context; returns 0 or an error code. */
static int setup_cmd(redisContext *c, int argc, const char **argv, struct err *e)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    int rc = rconn_check(c, r, -1, e);

    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

int rconn_connect(struct rconn *rc, struct err *e)
{
    redisContext *c;
    char dbs[16];
    int r;

    if (rc->c != NULL)
        return 0;
    c = redisConnectWithTimeout(rc->host, rc->port, tv_ms(rc->connect_timeout_ms));
    if (c == NULL)
        return err_set(e, DADNS_EREDIS, "cannot connect to Redis %s:%d: out of memory", rc->host,
                       rc->port);
    if (c->err) {
        err_set(e, DADNS_EREDIS, "cannot connect to Redis %s:%d: %s", rc->host, rc->port,
                c->errstr);
        redisFree(c);
        return DADNS_EREDIS;
    }
    if (redisSetTimeout(c, tv_ms(rc->read_timeout_ms)) != REDIS_OK ||
        redisEnableKeepAlive(c) != REDIS_OK) {
        err_set(e, DADNS_EREDIS, "cannot set Redis socket options: %s", c->errstr);
        redisFree(c);
        return DADNS_EREDIS;
    }
    if (rc->password[0] != '\0') {
        const char *argv[] = {"AUTH", rc->password};

        r = setup_cmd(c, 2, argv, e);
        if (r != 0)
            goto fail;
    }
    if (rc->db != 0) {
        const char *argv[] = {"SELECT", dbs};

        snprintf(dbs, sizeof(dbs), "%d", rc->db);
        r = setup_cmd(c, 2, argv, e);
        if (r != 0)
            goto fail;
    }
    {
        const char *argv[] = {"CLIENT", "SETNAME", rc->client_name};

        r = setup_cmd(c, 3, argv, e);
        if (r != 0)
            goto fail;
    }
    rc->c = c;
    rc->connects++;
    return 0;
fail:
    redisFree(c);
    return r;
}

/* settle - judge reply @r (may be NULL): hand it out on success, free it otherwise, drop the
 * connection when it is broken. */
static int settle(struct rconn *rc, redisReply *r, int want, redisReply **reply, struct err *e)
{
    int code = rconn_check(rc->c, r, want, e);

    if (code == DADNS_EREDIS) {
        rconn_drop(rc);
        return code;
    }
    if (code != 0) {
        freeReplyObject(r);
        return code;
    }
    *reply = r;
    return 0;
}

int rconn_command(struct rconn *rc, int argc, const char **argv, const size_t *lens, int want,
                  redisReply **reply, struct err *e)
{
    redisReply *r;
    int code, reused;

    *reply = NULL;
    reused = rc->c != NULL;
    code = rconn_connect(rc, e);
    if (code != 0)
        return code;
    r = redisCommandArgv(rc->c, argc, argv, lens);
    if (r == NULL && reused) {
        /* A connection kept from before may have been closed by a Redis restart: reconnect
         * and try once more (the callers' commands are idempotent, see rconn.h). */
        rconn_drop(rc);
        code = rconn_connect(rc, e);
        if (code != 0)
            return code;
        r = redisCommandArgv(rc->c, argc, argv, lens);
    }
    return settle(rc, r, want, reply, e);
}

int rconn_append(struct rconn *rc, int argc, const char **argv, const size_t *lens, struct err *e)
{
    int code = rconn_connect(rc, e);

    if (code != 0)
        return code;
    if (redisAppendCommandArgv(rc->c, argc, argv, lens) != REDIS_OK) {
        err_set(e, DADNS_EREDIS, "Redis pipeline: %s", rc->c->errstr);
        rconn_drop(rc);
        return DADNS_EREDIS;
    }
    return 0;
}

int rconn_get_reply(struct rconn *rc, int want, redisReply **reply, struct err *e)
{
    void *r = NULL;

    *reply = NULL;
    if (rc->c == NULL)
        return err_set(e, DADNS_EREDIS, "Redis connection lost");
    if (redisGetReply(rc->c, &r) != REDIS_OK) {
        if (r != NULL)
            freeReplyObject(r);
        r = NULL;
    }
    return settle(rc, r, want, reply, e);
}
