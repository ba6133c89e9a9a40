/* cmd_dead.c -- dadnsctl dead list / replay / discard (see cmd_dead.h). */
#include "cmd_dead.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT_LIMIT 100

static const char USAGE[] =
    "usage: dadnsctl dead list [BACKEND] [--limit N] [--json]\n"
    "       dadnsctl dead replay BACKEND (ID... | --all) [--json]\n"
    "       dadnsctl dead discard BACKEND (ID... | --all) [--json]\n"
    "\n"
    "list: the entries of the dead-letter stream of BACKEND, or of every backend, oldest\n"
    "  first, at most N per backend (default 100, 0 = all): id, zone, op, version, attempts,\n"
    "  reason and when it failed.\n"
    "replay: republish each entry (op=push for its zone, to BACKEND only) and remove it, one\n"
    "  atomic step per entry. Use it once the cause is fixed.\n"
    "discard: remove the entries without republishing.\n"
    "Exit 1 when BACKEND is unknown, or when an ID is not a dead letter of BACKEND (the\n"
    "others are still processed).\n";

/* ---- list ---- */

static json_t *dead_entry_json(const struct control_dead *d)
{
    json_t *x = json_object();

    json_object_set_new(x, "id", json_string(d->id));
    json_object_set_new(x, "zone", json_string(d->zone));
    json_object_set_new(x, "op", json_string(d->op));
    json_object_set_new(x, "version", json_integer((json_int_t)d->version));
    json_object_set_new(x, "attempts", json_integer(d->attempts));
    json_object_set_new(x, "reason", json_string(d->reason));
    json_object_set_new(x, "failed_at", json_integer(d->failed_at));
    json_object_set_new(x, "original_id", json_string(d->orig_id));
    json_object_set_new(x, "consumer", json_string(d->consumer));
    json_object_set_new(x, "permanent", json_boolean(d->permanent));
    return x;
}

/* List one backend into @t (text) or @arr (JSON). Returns 0 or a DADNS_E* code. */
static int list_one(struct cli *c, const char *backend, size_t limit, struct cli_table *t,
                    json_t *arr, size_t *shown_total, struct err *e)
{
    struct control_dead *d = NULL;
    long long total = 0;
    size_t n = 0, i;
    int rc;

    rc = control_dead_list(c->ctl, backend, NULL, limit, &d, &n, &total, e);
    if (rc != 0)
        return rc;
    if (arr != NULL) {
        json_t *b = json_object(), *entries = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(entries, dead_entry_json(&d[i]));
        json_object_set_new(b, "name", json_string(backend));
        json_object_set_new(b, "total", json_integer(total));
        json_object_set_new(b, "entries", entries);
        json_array_append_new(arr, b);
    } else {
        for (i = 0; i < n; i++) {
            char ver[24], att[24], at[32];
            const char *row[8] = {backend,
                                  d[i].id,
                                  d[i].zone[0] ? d[i].zone : "-",
                                  d[i].op[0] ? d[i].op : "-",
                                  ver,
                                  att,
                                  at,
                                  d[i].reason[0] ? d[i].reason : "-"};

            snprintf(ver, sizeof(ver), "%" PRIu64, d[i].version);
            snprintf(att, sizeof(att), "%lld%s", d[i].attempts,
                     d[i].permanent ? " (permanent)" : "");
            cli_iso_time(d[i].failed_at, at, sizeof(at));
            cli_table_row(t, row);
        }
        if ((long long)n < total)
            fprintf(stderr, "%s dead list: %s: showing %zu of %lld (--limit 0 shows all)\n",
                    c->prog, backend, n, total);
    }
    *shown_total += n;
    free(d);
    return 0;
}

static int dead_list(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"limit", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct control_backend *bes = NULL;
    const char *only = NULL;
    json_t *arr = NULL;
    struct cli_table t;
    size_t nb = 0, i, shown = 0;
    long limit = LIST_DEFAULT_LIMIT;
    struct err e;
    int opt, started = 0, rc, found = 0;

    while ((opt = cli_getopt(c, "dead list", &started, argc, argv, "n:jh", longopts)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return CLI_OK;
        }
        if (opt != 'n')
            return CLI_USAGE;
        if ((rc = cli_count_arg(c, "dead list", "--limit", optarg, &limit)) != 0)
            return rc;
    }
    if (optind < argc) {
        only = argv[optind];
        if ((rc = cli_backend_arg(c, "dead list", only)) != 0)
            return rc;
    }
    if (optind + 1 < argc)
        return cli_usage(c, "dead list", "unexpected argument \"%.64s\"", argv[optind + 1]);
    if ((rc = cli_open(c, "dead list")) != 0)
        return rc;
    err_clear(&e);
    rc = control_backends(c->ctl, 1, &bes, &nb, &e);
    if (rc != 0)
        return cli_fail(c, "dead list", rc, &e);
    cli_table_init(&t, 8);
    {
        const char *h[] = {"BACKEND", "ID",       "ZONE",      "OP",
                           "VERSION", "ATTEMPTS", "FAILED-AT", "REASON"};

        cli_table_row(&t, h);
    }
    if (c->json)
        arr = json_array();
    for (i = 0; i < nb; i++) {
        if (only != NULL && strcmp(bes[i].name, only) != 0)
            continue;
        found = 1;
        rc = list_one(c, bes[i].name, (size_t)limit, &t, arr, &shown, &e);
        if (rc != 0) {
            rc = cli_fail(c, "dead list", rc, &e);
            goto out;
        }
    }
    if (only != NULL && !found) {
        fprintf(stderr,
                "%s dead list: unknown backend \"%s\" (not configured, no group, no "
                "dead letters)\n",
                c->prog, only);
        rc = CLI_FAILED;
        goto out;
    }
    if (c->json) {
        json_t *o = json_object();

        json_object_set_new(o, "backends", arr);
        arr = NULL;
        rc = cli_print_json(o);
    } else if (shown == 0) {
        printf("no dead letters\n");
        rc = CLI_OK;
    } else {
        cli_table_print(&t, "");
        rc = CLI_OK;
    }
out:
    json_decref(arr);
    cli_table_free(&t);
    free(bes);
    return rc;
}

/* ---- replay / discard ---- */

/* *@known = 1 when @backend is configured, has a group or has dead letters. */
static int backend_exists(struct cli *c, const char *backend, int *known, struct err *e)
{
    struct control_dead *d = NULL;
    long long total = 0;
    size_t n = 0;
    int rc = control_backend_known(c->ctl, backend, known, e);

    if (rc != 0 || *known)
        return rc;
    rc = control_dead_list(c->ctl, backend, NULL, 1, &d, &n, &total, e);
    free(d);
    *known = total > 0;
    return rc;
}

/* dead replay and dead discard: same arguments, different operation. */
static int dead_act(struct cli *c, int argc, char **argv, int replay)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = replay ? "dead replay" : "dead discard";
    const char *backend;
    json_t *missing = NULL;
    size_t done = 0, skipped = 0, nmissing = 0;
    struct err e;
    int opt, started = 0, all = 0, known = 0, rc = 0, i;

    while ((opt = cli_getopt(c, cmd, &started, argc, argv, "ajh", longopts)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return CLI_OK;
        }
        if (opt != 'a')
            return CLI_USAGE;
        all = 1;
    }
    if (optind >= argc)
        return cli_usage(c, cmd, "missing backend");
    backend = argv[optind++];
    if ((rc = cli_backend_arg(c, cmd, backend)) != 0)
        return rc;
    if (all && optind < argc)
        return cli_usage(c, cmd, "give entry ids or --all, not both");
    if (!all && optind >= argc)
        return cli_usage(c, cmd, "missing entry ids (or --all)");
    for (i = optind; i < argc; i++) {
        if (!control_id_valid(argv[i]))
            return cli_usage(c, cmd,
                             "invalid entry id \"%.64s\" (expected MS-SEQ, e.g. "
                             "1700000000000-0)",
                             argv[i]);
    }
    if ((rc = cli_open(c, cmd)) != 0)
        return rc;
    err_clear(&e);
    if ((rc = backend_exists(c, backend, &known, &e)) != 0)
        return cli_fail(c, cmd, rc, &e);
    if (!known) {
        fprintf(stderr,
                "%s %s: unknown backend \"%s\" (not configured, no group, no dead "
                "letters)\n",
                c->prog, cmd, backend);
        return CLI_FAILED;
    }
    if (all) {
        rc = replay ? control_dead_replay_all(c->ctl, backend, &done, &skipped, &e)
                    : control_dead_discard_all(c->ctl, backend, &done, &e);
        if (rc != 0)
            return cli_fail(c, cmd, rc, &e);
    }
    missing = json_array();
    for (i = optind; !all && i < argc; i++) {
        rc = replay ? control_dead_replay(c->ctl, backend, argv[i], &e)
                    : control_dead_discard(c->ctl, backend, argv[i], &e);
        if (rc == 0) {
            done++;
        } else if (rc == DADNS_ENOTFOUND || rc == DADNS_EINVAL) {
            fprintf(stderr, "%s %s: %s\n", c->prog, cmd, e.text);
            json_array_append_new(missing, json_string(argv[i]));
            if (rc == DADNS_EINVAL)
                skipped++;
            else
                nmissing++;
        } else {
            if (done > 0)
                fprintf(stderr, "%s %s: %zu done before the failure\n", c->prog, cmd, done);
            json_decref(missing);
            return cli_fail(c, cmd, rc, &e);
        }
    }
    if (c->json) {
        json_t *o = json_object();

        json_object_set_new(o, "backend", json_string(backend));
        json_object_set_new(o, replay ? "replayed" : "discarded", json_integer((json_int_t)done));
        json_object_set_new(o, "skipped", json_integer((json_int_t)skipped));
        json_object_set_new(o, "failed_ids", missing);
        missing = NULL;
        rc = cli_print_json(o);
    } else {
        printf("%s %zu dead letter%s of %s%s\n", replay ? "replayed" : "discarded", done,
               done == 1 ? "" : "s", backend,
               replay && done > 0 ? " (republished to that backend)" : "");
        if (skipped > 0)
            printf("skipped %zu without a zone (left in place)\n", skipped);
        rc = CLI_OK;
    }
    json_decref(missing);
    if (rc == CLI_OK && (nmissing > 0 || skipped > 0))
        rc = CLI_FAILED;
    return rc;
}

int cmd_dead_run(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(c, "dead", "missing subcommand (list, replay or discard)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "list") == 0)
        return dead_list(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "replay") == 0)
        return dead_act(c, argc - 1, argv + 1, 1);
    if (strcmp(argv[1], "discard") == 0)
        return dead_act(c, argc - 1, argv + 1, 0);
    return cli_usage(c, "dead", "unknown subcommand \"%.64s\" (list, replay or discard)", argv[1]);
}
