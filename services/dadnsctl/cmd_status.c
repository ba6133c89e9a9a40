/* cmd_status.c -- dadnsctl status (see cmd_status.h): one table per concern for humans, one
 * JSON object for scripts. */
#include "cmd_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: dadnsctl status [--json]\n"
    "\n"
    "The change stream's length; per backend (consumer group): entries pending (delivered, not\n"
    "acknowledged), lag (not yet delivered; ? = unknown), age of the oldest pending entry\n"
    "(since it was written), dead letters and the consumers with their idle time; the writers'\n"
    "heartbeats (last apply, counters, circuit breaker); live zones and tombstones (counted\n"
    "with SCAN); the last reconciler pass and whether its deletion guard is tripped; the most\n"
    "recent failed or dead-lettered changes.\n";

/* writer_json - one writer heartbeat (P writer:<backend>) as JSON. */
static json_t *writer_json(const struct heartbeat_record *w)
{
    json_t *x = json_object();

    json_object_set_new(x, "consumer", json_string(w->consumer));
    json_object_set_new(x, "last_apply_at",
                        cli_json_ll(w->last_apply_at > 0 ? w->last_apply_at : -1));
    json_object_set_new(x, "last_batch_at",
                        cli_json_ll(w->last_batch_at > 0 ? w->last_batch_at : -1));
    json_object_set_new(x, "applied", json_integer((json_int_t)w->applied));
    json_object_set_new(x, "failed", json_integer((json_int_t)w->failed));
    json_object_set_new(x, "dead", json_integer((json_int_t)w->dead));
    json_object_set_new(x, "breaker_open", json_boolean(w->breaker_open));
    json_object_set_new(x, "updated_at", json_integer(w->updated_at));
    return x;
}

/* failure_json - one element of P failures as JSON. */
static json_t *failure_json(const struct heartbeat_failure *f)
{
    json_t *x = json_object();

    json_object_set_new(x, "at", json_integer(f->at));
    json_object_set_new(x, "backend", json_string(f->backend));
    json_object_set_new(x, "consumer", json_string(f->consumer));
    json_object_set_new(x, "zone", json_string(f->zone));
    json_object_set_new(x, "op", json_string(f->op));
    json_object_set_new(x, "version", json_integer((json_int_t)f->version));
    json_object_set_new(x, "reason", json_string(f->reason));
    json_object_set_new(x, "attempts", json_integer((json_int_t)f->attempts));
    json_object_set_new(x, "dead", json_boolean(f->dead));
    return x;
}

static json_t *status_json(const struct cli *c, const struct control_status *st)
{
    json_t *o = json_object(), *bes = json_array(), *zones = json_object(), *rec = json_object();
    json_t *stream = json_object(), *last = NULL, *guard = json_null();
    char skey[256];
    size_t i, j;

    snprintf(skey, sizeof(skey), "%schanges", c->cfg->redis_prefix);
    json_object_set_new(stream, "key", json_string(skey));
    json_object_set_new(stream, "length", json_integer(st->stream_length));
    for (i = 0; i < st->n_groups; i++) {
        const struct control_group *g = &st->groups[i];
        json_t *b = json_object(), *cons = json_array();

        json_object_set_new(b, "name", json_string(g->be.name));
        json_object_set_new(b, "configured", json_boolean(g->be.configured));
        json_object_set_new(b, "group", json_boolean(g->be.has_group));
        json_object_set_new(b, "pending", cli_json_ll(g->pending));
        json_object_set_new(b, "lag", cli_json_ll(g->lag));
        json_object_set_new(b, "last_delivered_id",
                            g->last_delivered[0] ? json_string(g->last_delivered) : json_null());
        json_object_set_new(b, "oldest_pending_id",
                            g->oldest_pending[0] ? json_string(g->oldest_pending) : json_null());
        json_object_set_new(b, "oldest_pending_age_ms", cli_json_ll(g->oldest_pending_age_ms));
        json_object_set_new(b, "dead_letters", json_integer(g->dead));
        for (j = 0; j < g->n_consumers; j++) {
            json_t *x = json_object();

            json_object_set_new(x, "name", json_string(g->consumers[j].name));
            json_object_set_new(x, "pending", json_integer(g->consumers[j].pending));
            json_object_set_new(x, "idle_ms", cli_json_ll(g->consumers[j].idle_ms));
            json_array_append_new(cons, x);
        }
        json_object_set_new(b, "consumers", cons);
        cons = json_array();
        for (j = 0; j < g->n_writers; j++)
            json_array_append_new(cons, writer_json(&g->writers[j]));
        json_object_set_new(b, "writers", cons);
        json_array_append_new(bes, b);
    }
    json_object_set_new(zones, "live", json_integer(st->zones_live));
    json_object_set_new(zones, "tombstones", json_integer(st->zones_tombstones));
    if (st->reconciler_last != NULL) {
        last = json_loads(st->reconciler_last, 0, NULL);
        if (last == NULL)
            last = json_string(st->reconciler_last); /* kept as text when not JSON */
    }
    if (st->n_guard > 0) {
        guard = json_object();
        for (i = 0; i + 1 < st->n_guard; i += 2)
            json_object_set_new(guard, st->guard[i], json_string(st->guard[i + 1]));
    }
    json_object_set_new(rec, "last", last != NULL ? last : json_null());
    json_object_set_new(rec, "guard", guard);
    json_object_set_new(o, "redis_time_ms", json_integer(st->now_ms));
    json_object_set_new(o, "stream", stream);
    json_object_set_new(o, "backends", bes);
    json_object_set_new(o, "zones", zones);
    json_object_set_new(o, "reconciler", rec);
    {
        json_t *fl = json_array();

        for (i = 0; i < st->n_failures; i++)
            json_array_append_new(fl, failure_json(&st->failures[i]));
        json_object_set_new(o, "failures", fl);
        json_object_set_new(o, "failures_total", json_integer(st->failures_total));
    }
    return o;
}

/* writers_text - the writers' heartbeats, one row per consumer. */
static void writers_text(const struct control_status *st)
{
    const char *h[] = {"BACKEND", "CONSUMER", "LAST-APPLY", "APPLIED",
                       "FAILED",  "DEAD",     "BREAKER",    "HEARTBEAT"};
    struct cli_table t;
    char la[32], ap[24], fa[24], de[24], hb[32];
    size_t i, j;
    int any = 0;

    cli_table_init(&t, 8);
    cli_table_row(&t, h);
    for (i = 0; i < st->n_groups; i++) {
        for (j = 0; j < st->groups[i].n_writers; j++) {
            const struct heartbeat_record *w = &st->groups[i].writers[j];
            const char *row[8] = {st->groups[i].be.name,
                                  w->consumer,
                                  la,
                                  ap,
                                  fa,
                                  de,
                                  w->breaker_open ? "OPEN" : "closed",
                                  hb};

            cli_iso_time(w->last_apply_at, la, sizeof(la));
            snprintf(ap, sizeof(ap), "%llu", w->applied);
            snprintf(fa, sizeof(fa), "%llu", w->failed);
            snprintf(de, sizeof(de), "%llu", w->dead);
            cli_duration(st->now_ms >= w->updated_at * 1000 ? st->now_ms - w->updated_at * 1000 : 0,
                         hb, sizeof(hb));
            snprintf(hb + strlen(hb), sizeof(hb) - strlen(hb), " ago");
            cli_table_row(&t, row);
            any = 1;
        }
    }
    if (any) {
        printf("\n");
        cli_table_print(&t, "");
    }
    cli_table_free(&t);
}

/* failures_text - the newest failed or dead-lettered changes. */
static void failures_text(const struct control_status *st)
{
    const char *h[] = {"AT", "BACKEND", "ZONE", "OP", "VERSION", "ATTEMPTS", "STATE", "REASON"};
    struct cli_table t;
    char at[32], ver[24], att[24];
    size_t i;

    if (st->n_failures == 0) {
        printf("recent failures: none\n");
        return;
    }
    printf("\nrecent failures (newest first, %zu of %lld kept):\n", st->n_failures,
           st->failures_total);
    cli_table_init(&t, 8);
    cli_table_row(&t, h);
    for (i = 0; i < st->n_failures; i++) {
        const struct heartbeat_failure *f = &st->failures[i];
        const char *row[8] = {
            at, f->backend, f->zone, f->op, ver, att, f->dead ? "dead" : "retrying", f->reason};

        cli_iso_time(f->at, at, sizeof(at));
        snprintf(ver, sizeof(ver), "%" PRIu64, f->version);
        snprintf(att, sizeof(att), "%llu", f->attempts);
        cli_table_row(&t, row);
    }
    cli_table_print(&t, "  ");
    cli_table_free(&t);
}

static void status_text(const struct cli *c, const struct control_status *st)
{
    struct cli_table t;
    char pend[24], lag[24], age[24], dead[24], idle[24];
    size_t i, j;
    int any_consumer = 0;

    printf("stream %schanges: %lld entries\n", c->cfg->redis_prefix, st->stream_length);
    printf("zones: %lld live, %lld tombstones\n\n", st->zones_live, st->zones_tombstones);
    cli_table_init(&t, 7);
    {
        const char *h[] = {"BACKEND", "CONFIGURED",     "GROUP", "PENDING",
                           "LAG",     "OLDEST-PENDING", "DEAD"};

        cli_table_row(&t, h);
    }
    for (i = 0; i < st->n_groups; i++) {
        const struct control_group *g = &st->groups[i];
        const char *row[7];

        snprintf(pend, sizeof(pend), "%lld", g->pending);
        snprintf(lag, sizeof(lag), "%lld", g->lag);
        cli_duration(g->oldest_pending_age_ms, age, sizeof(age));
        snprintf(dead, sizeof(dead), "%lld", g->dead);
        row[0] = g->be.name;
        row[1] = g->be.configured ? "yes" : "no";
        row[2] = g->be.has_group ? "yes" : "no";
        row[3] = g->be.has_group ? pend : "-";
        row[4] = !g->be.has_group ? "-" : g->lag < 0 ? "?" : lag;
        row[5] = age;
        row[6] = dead;
        cli_table_row(&t, row);
        any_consumer |= g->n_consumers > 0;
    }
    if (st->n_groups == 0)
        printf("no backends configured and no consumer groups\n");
    else
        cli_table_print(&t, "");
    cli_table_free(&t);
    if (any_consumer) {
        const char *h[] = {"BACKEND", "CONSUMER", "PENDING", "IDLE"};

        printf("\n");
        cli_table_init(&t, 4);
        cli_table_row(&t, h);
        for (i = 0; i < st->n_groups; i++) {
            for (j = 0; j < st->groups[i].n_consumers; j++) {
                const struct control_consumer *x = &st->groups[i].consumers[j];
                const char *row[4] = {st->groups[i].be.name, x->name, pend, idle};

                snprintf(pend, sizeof(pend), "%lld", x->pending);
                cli_duration(x->idle_ms, idle, sizeof(idle));
                cli_table_row(&t, row);
            }
        }
        cli_table_print(&t, "");
    }
    writers_text(st);
    printf("\nreconciler, last pass:\n");
    cli_reconciler_text(st->reconciler_last, "  ");
    if (st->n_guard == 0) {
        printf("reconciler guard: not tripped\n");
    } else {
        printf("reconciler guard: TRIPPED (a forced pass clears it: dadnsctl reconcile --force)\n"
               " ");
        for (i = 0; i + 1 < st->n_guard; i += 2) {
            if (strcmp(st->guard[i], "at") == 0) {
                char at[32];

                cli_iso_time(strtoll(st->guard[i + 1], NULL, 10), at, sizeof(at));
                printf(" at=%s", at);
            } else {
                printf(" %s=%s", st->guard[i], st->guard[i + 1]);
            }
        }
        printf("\n");
    }
    failures_text(st);
}

int cmd_status_run(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct control_status *st = NULL;
    struct err e;
    int opt, started = 0, rc;

    while ((opt = cli_getopt(c, "status", &started, argc, argv, "jh", longopts)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return CLI_OK;
        }
        return CLI_USAGE;
    }
    if (optind < argc)
        return cli_usage(c, "status", "unexpected argument \"%.64s\"", argv[optind]);
    if ((rc = cli_open(c, "status")) != 0)
        return rc;
    err_clear(&e);
    rc = control_status(c->ctl, &st, &e);
    if (rc != 0)
        return cli_fail(c, "status", rc, &e);
    if (c->json)
        rc = cli_print_json(status_json(c, st));
    else
        status_text(c, st);
    control_status_free(st);
    return rc;
}
