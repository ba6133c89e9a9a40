/* api.c -- DirectAdmin actions against the store, and their answers (see api.h). */
#include "api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "log.h"

int api_worker_new(const struct config *cfg, struct spooler *sl, struct api_worker **out)
{
    struct api_worker *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL)
        return DADNS_ENOMEM;
    w->sl = sl;
    rc = store_new(cfg, "dadns-ingest", &w->store);
    if (rc == 0)
        rc = zone_checker_new(&w->zc);
    if (rc != 0) {
        api_worker_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void api_worker_free(struct api_worker *w)
{
    if (w == NULL)
        return;
    store_free(w->store);
    zone_checker_free(w->zc);
    free(w);
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void api_error(struct buf *out, const char *text)
{
    buf_reset(out);
    answer_add(out, "error", "1");
    answer_add(out, "text", text);
}

/* The answer for a store failure: 503, nothing was (known to be) stored. */
static void store_failed(struct buf *out, int *status, const char *what, const struct err *e)
{
    char text[700];

    snprintf(text, sizeof(text), "%s: storage unavailable, try again (%s)", what, e->text);
    api_error(out, text);
    *status = 503;
}

/* The answer for a write that was neither stored nor spooled: 503, with the reason. Spool
 * failures (full, write or fsync failed, stuck) say so; Redis failures as store_failed. */
static void write_failed(struct buf *out, int *status, const char *what, int rc,
                         const struct err *e)
{
    char text[700];

    if (rc == DADNS_EREDIS || rc == DADNS_EREPLY) {
        store_failed(out, status, what, e);
        return;
    }
    snprintf(text, sizeof(text), "%s: %s", what, e->text);
    api_error(out, text);
    *status = 503;
}

static void do_exists(const struct config *cfg, struct api_worker *w, const struct da_request *req,
                      const char *peer, struct buf *out, int *status)
{
    struct store_owner own;
    struct err e;
    char text[NAME_BUF_SIZE + STORE_OWNER_MAX + 64];
    int rc;

    err_clear(&e);
    if (spooler_busy(w->sl, e.text, sizeof(e.text))) {
        /* Redis does not hold every accepted change yet: any answer could be wrong. */
        snprintf(text, sizeof(text), "Domain check unavailable, try again: %s", e.text);
        log_msg(LOG_WARN, "exists not answered", "zone", req->zone, "peer", peer, "reason", e.text,
                NULL);
        api_error(out, text);
        *status = 503;
        return;
    }
    rc = store_exists(w->store, req->zone, req->check_parent, &own, &e);
    if (rc != 0) {
        log_msg(LOG_ERROR, "exists failed", "zone", req->zone, "peer", peer, "reason", e.text,
                NULL);
        if (rc == DADNS_EREDIS) {
            snprintf(text, sizeof(text),
                     "Domain check unavailable: Redis cannot be reached, so whether the domain "
                     "exists is unknown; try again (%.300s)",
                     e.text);
            api_error(out, text);
            *status = 503;
            return;
        }
        store_failed(out, status, "Domain check failed", &e);
        return;
    }
    answer_add(out, "error", "0");
    if (own.found == 1) {
        snprintf(text, sizeof(text), "Domain exists on %s", own.host);
        answer_add(out, "exists", "1");
        answer_add(out, "details", text);
    } else if (own.found == 2 && cfg->parent_exists_code == 3) {
        answer_add(out, "exists", "3");
        answer_add(out, "hostname", own.host);
        answer_add(out, "username", own.user);
    } else if (own.found == 2) {
        snprintf(text, sizeof(text), "Parent Domain exists on %s", own.host);
        answer_add(out, "exists", "2");
        answer_add(out, "details", text);
    } else {
        answer_add(out, "exists", "0");
    }
    log_msg(LOG_DEBUG, "exists", "zone", req->zone, "peer", peer, "found",
            own.found == 0 ? "no" : own.zone, NULL);
}

static void do_rawsave(struct api_worker *w, const struct da_request *req, const char *peer,
                       struct buf *out, int *status)
{
    struct zone_info info;
    struct store_save_result res;
    struct err e;
    char text[700], vbuf[24], sbuf[16];
    int rc, spooled = 0;
    double t0;

    err_clear(&e);
    rc = zone_check(w->zc, req->zone, req->body, req->body_len, &info, &e);
    if (rc != 0) {
        snprintf(text, sizeof(text), "Invalid zone data: %s", e.text);
        log_msg(LOG_WARN, "push rejected", "zone", req->zone, "peer", peer, "host", req->host,
                "reason", text, NULL);
        api_error(out, text);
        *status = 400;
        ingestmetrics_push(w->im, METRICS_PUSH_REJECTED);
        return;
    }
    t0 = mono_s();
    rc = spooler_save(w->sl, w->store, req->zone, req->body, req->body_len, info.serial, req->host,
                      req->user, &res, &spooled, &e);
    ingestmetrics_publish(w->im, mono_s() - t0);
    ingestmetrics_push(w->im, rc != 0   ? METRICS_PUSH_ERROR
                              : spooled ? METRICS_PUSH_SPOOLED
                                        : METRICS_PUSH_ACCEPTED);
    if (rc != 0) {
        log_msg(LOG_ERROR, "push not stored", "zone", req->zone, "peer", peer, "reason", e.text,
                NULL);
        write_failed(out, status, "Zone not stored", rc, &e);
        return;
    }
    snprintf(sbuf, sizeof(sbuf), "%" PRIu32, info.serial);
    if (spooled) {
        /* Durable in the spool (fsynced): replayed into Redis in order once it answers. */
        log_msg(LOG_INFO, "push spooled", "zone", req->zone, "serial", sbuf, "host", req->host,
                "user", req->user, "peer", peer, NULL);
        answer_add(out, "error", "0");
        return;
    }
    snprintf(vbuf, sizeof(vbuf), "%" PRIu64, res.version);
    if (res.prev_host[0] != '\0' && strcmp(res.prev_host, req->host) != 0)
        log_msg(LOG_INFO, "zone ownership moved", "zone", req->zone, "from", res.prev_host, "to",
                req->host, NULL);
    log_msg(res.changed ? LOG_INFO : LOG_DEBUG, res.changed ? "zone saved" : "zone unchanged",
            "zone", req->zone, "serial", sbuf, "version", vbuf, "host", req->host, "user",
            req->user, "peer", peer, NULL);
    answer_add(out, "error", "0");
}

static void do_delete(struct api_worker *w, const struct da_request *req, const char *peer,
                      struct buf *out, int *status)
{
    struct store_del_result *res = NULL;
    const char **zones = NULL;
    struct buf kept;
    struct err e;
    size_t i, ndel = 0, nkept = 0;
    char vbuf[24], nbuf[24];
    int rc, spooled = 0;
    double t0;

    err_clear(&e);
    buf_init(&kept, 4096);
    res = calloc(req->nzones, sizeof(*res));
    zones = calloc(req->nzones, sizeof(*zones));
    if (res == NULL || zones == NULL) {
        api_error(out, "out of memory");
        *status = 503;
        goto out;
    }
    for (i = 0; i < req->nzones; i++)
        zones[i] = req->zones[i];
    t0 = mono_s();
    rc = spooler_delete(w->sl, w->store, zones, req->nzones, req->host, req->user, res, &spooled,
                        &e);
    ingestmetrics_publish(w->im, mono_s() - t0);
    if (rc != 0 || spooled)
        ingestmetrics_push(w->im, rc != 0 ? METRICS_PUSH_ERROR : METRICS_PUSH_SPOOLED);
    if (rc != 0) {
        log_msg(LOG_ERROR, "delete not stored", "zone", zones[0], "peer", peer, "reason", e.text,
                NULL);
        write_failed(out, status, "Delete not stored", rc, &e);
        goto out;
    }
    if (spooled) {
        /* Ownership is checked when the spool is replayed (a refusal is logged then). */
        snprintf(nbuf, sizeof(nbuf), "%zu", req->nzones);
        log_msg(LOG_INFO, "delete spooled", "zone", zones[0], "zones", nbuf, "host", req->host,
                "user", req->user, "peer", peer, NULL);
        answer_add(out, "error", "0");
        goto out;
    }
    for (i = 0; i < req->nzones; i++) {
        snprintf(vbuf, sizeof(vbuf), "%" PRIu64, res[i].version);
        switch (res[i].outcome) {
        case STORE_DEL_DELETED:
            ndel++;
            log_msg(LOG_INFO, "zone deleted", "zone", zones[i], "version", vbuf, "host", req->host,
                    "user", req->user, "peer", peer, NULL);
            break;
        case STORE_DEL_ABSENT:
            log_msg(LOG_INFO, "delete of unknown zone", "zone", zones[i], "host", req->host, "peer",
                    peer, NULL);
            break;
        case STORE_DEL_REFUSED:
            nkept++;
            buf_printf(&kept, "%s%s (owned by %s)", nkept > 1 ? ", " : "", zones[i], res[i].owner);
            log_msg(LOG_WARN, "delete refused: zone owned by another server", "zone", zones[i],
                    "owner", res[i].owner, "host", req->host, "peer", peer, "reason",
                    "owned by another server", NULL);
            break;
        case STORE_DEL_CHANGED: /* store_delete_versioned only, not used here */
            break;
        }
    }
    /* every zone refused (owned by another server): a rejected delete */
    ingestmetrics_push(w->im, nkept == req->nzones ? METRICS_PUSH_REJECTED : METRICS_PUSH_ACCEPTED);
    answer_add(out, "error", "0");
    if (nkept > 0) {
        char text[4200];

        snprintf(text, sizeof(text), "Deleted %zu, kept %zu not owned by %s: %s", ndel, nkept,
                 req->host[0] ? req->host : "(no hostname)", kept.data ? kept.data : "");
        answer_add(out, "text", text);
    }
out:
    buf_free(&kept);
    free(res);
    free(zones);
}

void api_handle(const struct config *cfg, struct api_worker *w, const struct da_request *req,
                const char *peer, struct buf *out, int *status)
{
    buf_reset(out);
    *status = 200;
    switch (req->action) {
    case DA_HEALTHZ:
        buf_appends(out, "ok\n");
        break;
    case DA_READYZ:
        spooler_ready(w->sl, w->store, out, status);
        break;
    case DA_LOGIN_TEST:
        answer_add(out, "error", "0");
        answer_add(out, "text", "Login OK");
        log_msg(LOG_INFO, "login test", "peer", peer, NULL);
        break;
    case DA_NOACTION:
        answer_add(out, "error", "0");
        answer_add(out, "text", "OK");
        log_msg(LOG_INFO, "no-action probe", "peer", peer, NULL);
        break;
    case DA_EXISTS:
        do_exists(cfg, w, req, peer, out, status);
        break;
    case DA_RAWSAVE:
        do_rawsave(w, req, peer, out, status);
        break;
    case DA_DELETE:
        do_delete(w, req, peer, out, status);
        break;
    }
}
