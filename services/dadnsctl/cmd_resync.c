/* cmd_resync.c -- dadnsctl resync (see cmd_resync.h). */
#include "cmd_resync.h"

#include <stdio.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: dadnsctl resync BACKEND [--batch N] [--quiet] [--json]\n"
    "\n"
    "Republish every live zone to BACKEND only (op=push with backend=BACKEND on the change\n"
    "stream): its writer rewrites each zone from the stored state. Nothing is deleted and the\n"
    "other backends are not touched. Zones go out in scripts of N (default 500), pipelined;\n"
    "progress on stderr unless --quiet. Exit 1 when BACKEND is neither configured nor a\n"
    "consumer group.\n";

struct progress {
    const char *prog;
    const char *backend;
    int tty; /* stderr is a terminal: rewrite one line */
};

static void show_progress(void *arg, size_t done, size_t total)
{
    const struct progress *p = arg;

    if (p->tty)
        fprintf(stderr, "\r%s resync %s: %zu/%zu zones%s", p->prog, p->backend, done, total,
                done == total ? "\n" : "");
    else
        fprintf(stderr, "%s resync %s: %zu/%zu zones\n", p->prog, p->backend, done, total);
}

int cmd_resync_run(struct cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"batch", required_argument, NULL, 'b'},
        {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct progress p = {c->prog, NULL, 0};
    const char *backend;
    size_t pushed = 0;
    long batch = 500;
    struct err e;
    int opt, started = 0, quiet = 0, known, rc;

    while ((opt = cli_getopt(c, "resync", &started, argc, argv, "b:qjh", longopts)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return CLI_OK;
        }
        if (opt == 'q') {
            quiet = 1;
            continue;
        }
        if (opt != 'b')
            return CLI_USAGE;
        if ((rc = cli_count_arg(c, "resync", "--batch", optarg, &batch)) != 0)
            return rc;
        if (batch < 1 || batch > 10000)
            return cli_usage(c, "resync", "--batch: expected 1-10000, got %ld", batch);
    }
    if (optind >= argc)
        return cli_usage(c, "resync", "missing backend");
    if (optind + 1 < argc)
        return cli_usage(c, "resync", "unexpected argument \"%.64s\"", argv[optind + 1]);
    backend = argv[optind];
    if ((rc = cli_backend_arg(c, "resync", backend)) != 0)
        return rc;
    if ((rc = cli_open(c, "resync")) != 0)
        return rc;
    err_clear(&e);
    rc = control_backend_known(c->ctl, backend, &known, &e);
    if (rc != 0)
        return cli_fail(c, "resync", rc, &e);
    if (!known) {
        fprintf(stderr, "%s resync: unknown backend \"%s\" (not configured, no consumer group)\n",
                c->prog, backend);
        return CLI_FAILED;
    }
    p.backend = backend;
    p.tty = isatty(2);
    rc = control_resync(c->ctl, backend, (size_t)batch, quiet ? NULL : show_progress, &p, &pushed,
                        &e);
    if (rc != 0) {
        fprintf(stderr, "%s resync: %zu zones pushed before the failure\n", c->prog, pushed);
        return cli_fail(c, "resync", rc, &e);
    }
    if (c->json) {
        json_t *o = json_object();

        json_object_set_new(o, "backend", json_string(backend));
        json_object_set_new(o, "pushed", json_integer((json_int_t)pushed));
        return cli_print_json(o);
    }
    printf("resync %s: pushed %zu live zone%s\n", backend, pushed, pushed == 1 ? "" : "s");
    return CLI_OK;
}
