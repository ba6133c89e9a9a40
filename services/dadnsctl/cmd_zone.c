/* cmd_zone.c -- dadnsctl zone show / zone push (see cmd_zone.h). */
#include "cmd_zone.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char USAGE[] =
    "usage: dadnsctl zone show NAME [--text] [--json]\n"
    "       dadnsctl zone push NAME [--backend BACKEND] [--json]\n"
    "\n"
    "show: the zone's stored state (version, SOA serial, owner, last update, digest, text\n"
    "  size; tombstone or live) and, for every configured backend and every consumer group,\n"
    "  the version it has applied and whether that is the current one (its serial is then the\n"
    "  stored serial). --text prints only the stored zone text. Exit 1 when nothing is stored.\n"
    "push: republish the zone's latest state (a forced rewrite, or a delete for a tombstone)\n"
    "  to every backend, or to BACKEND only. Exit 1 when nothing is stored under that name.\n";

static json_t *zone_json(const struct control_zone *z)
{
    json_t *o = json_object(), *bes = json_array();
    size_t i;

    json_object_set_new(o, "zone", json_string(z->name));
    json_object_set_new(o, "state", json_string(z->deleted ? "tombstone" : "live"));
    json_object_set_new(o, "in_live_set", json_boolean(z->live));
    json_object_set_new(o, "version", json_integer((json_int_t)z->version));
    json_object_set_new(o, "serial", z->deleted ? json_null() : json_integer(z->serial));
    json_object_set_new(o, "host", json_string(z->host));
    json_object_set_new(o, "user", json_string(z->user));
    json_object_set_new(o, "updated_ms", json_integer(z->updated_ms));
    json_object_set_new(o, "digest", json_string(z->digest));
    json_object_set_new(o, "text_length", json_integer((json_int_t)z->text_len));
    if (z->text != NULL)
        json_object_set_new(o, "text", json_stringn(z->text, z->text_size));
    for (i = 0; i < z->n_applied; i++) {
        const struct control_applied *a = &z->applied[i];
        json_t *b = json_object();

        json_object_set_new(b, "name", json_string(a->be.name));
        json_object_set_new(b, "configured", json_boolean(a->be.configured));
        json_object_set_new(b, "group", json_boolean(a->be.has_group));
        json_object_set_new(b, "applied",
                            a->has_applied ? json_integer((json_int_t)a->applied) : json_null());
        json_object_set_new(b, "current", json_boolean(a->current));
        json_object_set_new(b, "serial",
                            (a->current && !z->deleted) ? json_integer(z->serial) : json_null());
        json_array_append_new(bes, b);
    }
    json_object_set_new(o, "backends", bes);
    return o;
}

static void zone_text(const struct control_zone *z)
{
    struct cli_table t;
    char updated[32], applied[24], serial[16];
    size_t i;

    cli_iso_time(z->updated_ms / 1000, updated, sizeof(updated));
    printf("zone     %s\n", z->name);
    printf("state    %s%s\n", z->deleted ? "tombstone (deleted)" : "live",
           (!z->deleted && !z->live) ? " (missing from the live set!)" : "");
    printf("version  %" PRIu64 "\n", z->version);
    if (!z->deleted)
        printf("serial   %" PRIu32 "\n", z->serial);
    printf("owner    %s / %s\n", z->host[0] ? z->host : "-", z->user[0] ? z->user : "-");
    printf("updated  %s\n", updated);
    if (!z->deleted) {
        printf("digest   %s\n", z->digest[0] ? z->digest : "-");
        printf("text     %zu bytes\n", z->text_len);
    }
    printf("\n");
    if (z->n_applied == 0) {
        printf("no backends configured and no consumer groups\n");
        return;
    }
    cli_table_init(&t, 4);
    {
        const char *h[] = {"BACKEND", "APPLIED", "CURRENT", "SERIAL"};

        cli_table_row(&t, h);
    }
    for (i = 0; i < z->n_applied; i++) {
        const struct control_applied *a = &z->applied[i];
        const char *row[4];

        snprintf(applied, sizeof(applied), "%" PRIu64, a->applied);
        snprintf(serial, sizeof(serial), "%" PRIu32, z->serial);
        row[0] = a->be.name;
        row[1] = a->has_applied ? applied : "-";
        row[2] = a->current ? "yes" : "no";
        row[3] = (a->current && !z->deleted) ? serial : "-";
        cli_table_row(&t, row);
    }
    cli_table_print(&t, "");
}

static int zone_show(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"text", no_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct control_zone *z = NULL;
    char name[NAME_BUF_SIZE];
    struct err e;
    int opt, started = 0, with_text = 0, rc;

    while ((opt = cli_getopt(c, "zone show", &started, argc, argv, "tjh", longopts)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return CLI_OK;
        }
        if (opt != 't')
            return CLI_USAGE;
        with_text = 1;
    }
    if (optind >= argc)
        return cli_usage(c, "zone show", "missing zone name");
    if (optind + 1 < argc)
        return cli_usage(c, "zone show", "unexpected argument \"%.64s\"", argv[optind + 1]);
    if ((rc = cli_zone_arg(c, "zone show", argv[optind], name)) != 0)
        return rc;
    if ((rc = cli_open(c, "zone show")) != 0)
        return rc;
    err_clear(&e);
    rc = control_zone_show(c->ctl, name, with_text, &z, &e);
    if (rc != 0)
        return cli_fail(c, "zone show", rc, &e);
    if (c->json) {
        rc = cli_print_json(zone_json(z));
    } else if (with_text) {
        if (z->text != NULL)
            fwrite(z->text, 1, z->text_size, stdout);
        rc = CLI_OK;
    } else {
        zone_text(z);
        rc = CLI_OK;
    }
    control_zone_free(z);
    return rc;
}

static int zone_push(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *backend = NULL;
    char name[NAME_BUF_SIZE], id[CONTROL_ID_MAX];
    uint64_t version = 0;
    struct err e;
    int opt, started = 0, known, rc;

    while ((opt = cli_getopt(c, "zone push", &started, argc, argv, "b:jh", longopts)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return CLI_OK;
        }
        if (opt != 'b')
            return CLI_USAGE;
        if ((rc = cli_backend_arg(c, "zone push", optarg)) != 0)
            return rc;
        backend = optarg;
    }
    if (optind >= argc)
        return cli_usage(c, "zone push", "missing zone name");
    if (optind + 1 < argc)
        return cli_usage(c, "zone push", "unexpected argument \"%.64s\"", argv[optind + 1]);
    if ((rc = cli_zone_arg(c, "zone push", argv[optind], name)) != 0)
        return rc;
    if ((rc = cli_open(c, "zone push")) != 0)
        return rc;
    err_clear(&e);
    if (backend != NULL) {
        rc = control_backend_known(c->ctl, backend, &known, &e);
        if (rc != 0)
            return cli_fail(c, "zone push", rc, &e);
        if (!known) {
            fprintf(stderr, "%s zone push: unknown backend \"%s\" (not configured, no group)\n",
                    c->prog, backend);
            return CLI_FAILED;
        }
    }
    rc = control_push(c->ctl, name, backend, &version, id, sizeof(id), &e);
    if (rc != 0)
        return cli_fail(c, "zone push", rc, &e);
    if (c->json) {
        json_t *o = json_object();

        json_object_set_new(o, "zone", json_string(name));
        json_object_set_new(o, "version", json_integer((json_int_t)version));
        json_object_set_new(o, "backend", backend != NULL ? json_string(backend) : json_null());
        json_object_set_new(o, "id", json_string(id));
        return cli_print_json(o);
    }
    printf("pushed %s version %" PRIu64 " to %s%s (entry %s)\n", name, version,
           backend != NULL ? "backend " : "every backend", backend != NULL ? backend : "", id);
    return CLI_OK;
}

int cmd_zone_run(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(c, "zone", "missing subcommand (show or push)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "show") == 0)
        return zone_show(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "push") == 0)
        return zone_push(c, argc - 1, argv + 1);
    return cli_usage(c, "zone", "unknown subcommand \"%.64s\" (show or push)", argv[1]);
}
