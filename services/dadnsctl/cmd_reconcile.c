/* cmd_reconcile.c -- dadnsctl reconcile (see cmd_reconcile.h). */
#include "cmd_reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define POLL_MS 500

static const char USAGE[] =
    "usage: dadnsctl reconcile [--dry-run | --force] [--wait SECONDS] [--json]\n"
    "\n"
    "Ask the reconciler for a pass now (it picks the request up within a few seconds).\n"
    "  --dry-run       report only, change nothing\n"
    "  --force         let the pass delete even when the deletion guard would trip\n"
    "                  (clears a tripped guard)\n"
    "  --wait SECONDS  wait for the pass to finish and print its summary; exit 1 when none\n"
    "                  finished in time\n";

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0) {
    }
}

int cmd_reconcile_run(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dry-run", no_argument, NULL, 'd'},    {"force", no_argument, NULL, 'f'},
        {"wait", required_argument, NULL, 'w'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    long long requested_at = 0;
    char *last = NULL;
    char at[32];
    long wait_s = -1, waited_ms = 0;
    struct err e;
    int opt, started = 0, dry_run = 0, force = 0, done = 0, rc;

    while ((opt = cli_getopt(c, "reconcile", &started, argc, argv, "dfw:jh", longopts)) != -1) {
        switch (opt) {
        case 'h':
            fputs(USAGE, stdout);
            return CLI_OK;
        case 'd':
            dry_run = 1;
            break;
        case 'f':
            force = 1;
            break;
        case 'w':
            if ((rc = cli_count_arg(c, "reconcile", "--wait", optarg, &wait_s)) != 0)
                return rc;
            if (wait_s > 86400)
                return cli_usage(c, "reconcile", "--wait: at most 86400 seconds");
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage(c, "reconcile", "unexpected argument \"%.64s\"", argv[optind]);
    if (dry_run && force)
        return cli_usage(c, "reconcile", "--dry-run and --force exclude each other");
    if ((rc = cli_open(c, "reconcile")) != 0)
        return rc;
    err_clear(&e);
    rc = control_reconcile_request(c->ctl, dry_run, force, &requested_at, &e);
    if (rc != 0)
        return cli_fail(c, "reconcile", rc, &e);
    cli_iso_time(requested_at, at, sizeof(at));
    if (wait_s < 0) {
        if (c->json) {
            json_t *o = json_object();

            json_object_set_new(o, "requested_at", json_integer(requested_at));
            json_object_set_new(o, "dry_run", json_boolean(dry_run));
            json_object_set_new(o, "force", json_boolean(force));
            return cli_print_json(o);
        }
        printf("reconcile requested at %s (dry_run=%s force=%s); the reconciler picks it up "
               "within a few seconds\n",
               at, dry_run ? "yes" : "no", force ? "yes" : "no");
        return CLI_OK;
    }
    for (;;) {
        rc = control_reconcile_done(c->ctl, requested_at, &done, &last, &e);
        if (rc != 0)
            return cli_fail(c, "reconcile", rc, &e);
        if (done || waited_ms >= wait_s * 1000L)
            break;
        sleep_ms(POLL_MS);
        waited_ms += POLL_MS;
    }
    if (!done) {
        fprintf(stderr,
                "%s reconcile: no reconciler pass finished within %lds of the request made at "
                "%s (is dadns-reconciler running? the request stays queued)\n",
                c->prog, wait_s, at);
        return CLI_FAILED;
    }
    if (c->json) {
        json_t *o = json_loads(last, 0, NULL);

        if (o == NULL)
            o = json_string(last); /* not JSON: shown as stored */
        free(last);
        return cli_print_json(o);
    }
    printf("reconciler pass finished:\n");
    cli_reconciler_text(last, "  ");
    free(last);
    return CLI_OK;
}
