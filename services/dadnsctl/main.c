/* main.c -- dadnsctl: global options, then dispatch to a command (cmd_*.c). The commands do
 * their Redis work through common/control.c and share cli.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_dead.h"
#include "cmd_reconcile.h"
#include "cmd_resync.h"
#include "cmd_status.h"
#include "cmd_zone.h"

static const struct {
    const char *name;
    cli_cmd_fn run;
} commands[] = {
    {"status", cmd_status_run}, {"zone", cmd_zone_run},           {"dead", cmd_dead_run},
    {"resync", cmd_resync_run}, {"reconcile", cmd_reconcile_run},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dadnsctl [-c FILE] [--json] COMMAND [ARGS...]\n"
            "\n"
            "commands:\n"
            "  status                              stream, backends (pending, lag, dead letters),\n"
            "                                      zones, last reconciler pass and guard\n"
            "  zone show NAME [--text]             stored state and what each backend applied\n"
            "  zone push NAME [--backend B]        republish a zone (every backend, or B)\n"
            "  dead list [BACKEND] [--limit N]     dead letters (every backend when omitted)\n"
            "  dead replay BACKEND (ID...|--all)   republish dead letters to their backend\n"
            "  dead discard BACKEND (ID...|--all)  drop dead letters\n"
            "  resync BACKEND                      republish every live zone to one backend\n"
            "  reconcile [--dry-run|--force] [--wait SECONDS]\n"
            "                                      ask the reconciler for a pass\n"
            "\n"
            "options:\n"
            "  -c, --config FILE  configuration (default: embedded defaults + DADNS_* env)\n"
            "  -j, --json         machine-readable output on stdout\n"
            "  -h, --help         this help; 'dadnsctl COMMAND --help' for one command\n"
            "  -V, --version      print the version\n"
            "\n"
            "exit codes: 0 ok, 1 operation failed or not found, 2 usage or configuration error,\n"
            "3 Redis unreachable.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli c;
    size_t i;
    int opt, status;

    memset(&c, 0, sizeof(c));
    c.prog = "dadnsctl";
    opterr = 0;
    /* '+': stop at the command, whose own options are parsed by the command */
    while ((opt = getopt_long(argc, argv, "+:c:jhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            c.config_path = optarg;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        case 'V':
            printf("dadnsctl %s\n", DADNS_VERSION);
            return CLI_OK;
        case ':':
            fprintf(stderr, "dadnsctl: option %s needs a value\n", argv[optind - 1]);
            usage(stderr);
            return CLI_USAGE;
        default:
            fprintf(stderr, "dadnsctl: unknown option %s\n", argv[optind - 1]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "dadnsctl: no command given\n");
        usage(stderr);
        return CLI_USAGE;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[optind], commands[i].name) == 0) {
            status = commands[i].run(&c, argc - optind, argv + optind);
            cli_close(&c);
            return status;
        }
    }
    fprintf(stderr, "dadnsctl: unknown command \"%.64s\"\n", argv[optind]);
    usage(stderr);
    return CLI_USAGE;
}
