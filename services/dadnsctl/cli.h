/* cli.h -- what every dadnsctl command shares: the run context, exit codes, option parsing
 * with dadnsctl's own messages, error reporting, time formatting, aligned tables and JSON output.
 *
 * The Redis work itself is common/control.c; each command's module (cmd_*.c) parses its
 * arguments and presents the result. */
#ifndef DADNSCTL_CLI_H
#define DADNSCTL_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "control.h"
#include "err.h"
#include "name.h"

/* Exit codes. */
enum {
    CLI_OK = 0,          /* done */
    CLI_FAILED = 1,      /* the operation failed, or what it names does not exist */
    CLI_USAGE = 2,       /* bad command line or configuration */
    CLI_UNREACHABLE = 3, /* Redis could not be reached */
};

/* The run context handed to every command. */
struct cli {
    const char *prog;        /* "dadnsctl" */
    const char *config_path; /* -c FILE, NULL = embedded defaults + environment */
    int json;                /* --json: machine-readable output on stdout */
    struct config *cfg;      /* NULL until cli_open, then owned (cli_close) */
    struct control *ctl;     /* NULL until cli_open, then owned (cli_close) */
};

/* cli_open - load the configuration and set up the Redis control (connecting lazily), once
 * the command line is known to be good (so --help works without a configuration). Returns 0,
 * or CLI_USAGE after printing the configuration error, or CLI_FAILED when out of memory. */
int cli_open(struct cli *c, const char *cmd);

/* cli_close - release what cli_open set up; a context never opened is fine. */
void cli_close(struct cli *c);

/* A command: @argc/@argv start at the command's own name. Returns an exit code. */
typedef int (*cli_cmd_fn)(struct cli *c, int argc, char **argv);

/* cli_getopt - getopt_long over a command's arguments with dadnsctl's messages: restart
 * parsing when *@started is 0 (then set it), handle --json (-j in @longopts maps to 'j'), and
 * turn an unknown option or a missing argument into a message on stderr naming @cmd
 * ("dadnsctl zone show: unknown option --x") and the return value '?'. Returns the option
 * character, or -1 when the options are done (positional arguments start at optind). */
int cli_getopt(struct cli *c, const char *cmd, int *started, int argc, char **argv,
               const char *shortopts, const struct option *longopts);

/* cli_usage - print "dadnsctl @cmd: <message>" and "try 'dadnsctl @cmd --help'" on stderr.
 * Returns CLI_USAGE. */
int cli_usage(const struct cli *c, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cli_fail - print "dadnsctl @cmd: <e->text>" on stderr and return the exit code for
 * @code: DADNS_EREDIS -> CLI_UNREACHABLE, anything else -> CLI_FAILED. */
int cli_fail(const struct cli *c, const char *cmd, int code, const struct err *e);

/* cli_zone_arg - validate and normalize the zone name @arg from the command line into @out;
 * on error print why (naming @cmd) and return CLI_USAGE, else 0. */
int cli_zone_arg(const struct cli *c, const char *cmd, const char *arg, char out[NAME_BUF_SIZE]);

/* cli_backend_arg - check that @arg looks like a backend name ([a-z0-9][a-z0-9_-]{0,62});
 * on error print why and return CLI_USAGE, else 0. */
int cli_backend_arg(const struct cli *c, const char *cmd, const char *arg);

/* cli_count_arg - parse the non-negative decimal @arg for option @opt into *@out; on error
 * print why and return CLI_USAGE, else 0. */
int cli_count_arg(const struct cli *c, const char *cmd, const char *opt, const char *arg,
                  long *out);

/* cli_iso_time - unix seconds @t as "2006-01-02T15:04:05Z" into @out ("-" when @t <= 0). */
void cli_iso_time(long long t, char *out, size_t size);

/* cli_duration - @ms milliseconds as "350ms", "12.5s", "3m20s", "2h05m", "3d04h" ("-" when
 * < 0). */
void cli_duration(long long ms, char *out, size_t size);

/* cli_print_json - print @v (stolen: decref'd here) indented on stdout, with a newline.
 * Returns CLI_OK, or CLI_FAILED when out of memory. */
int cli_print_json(json_t *v);

/* cli_json_ll - a JSON integer, or null when @v < 0 (unknown). New reference. */
json_t *cli_json_ll(long long v);

/* cli_reconciler_text - print the reconciler summary @json (P reconciler:last, may be NULL or
 * not JSON) for humans, each line starting with @indent. */
void cli_reconciler_text(const char *json, const char *indent);

/* A table printed with aligned columns (the last column is not padded). */
struct cli_table {
    size_t ncol;
    char **cells; /* row-major, owned */
    size_t nrows, cap;
};

/* cli_table_init - an empty table of @ncol columns. */
void cli_table_init(struct cli_table *t, size_t ncol);

/* cli_table_row - add a row of @ncol strings (copied; NULL prints as "-"). Returns 0 or
 * DADNS_ENOMEM. */
int cli_table_row(struct cli_table *t, const char *const *cols);

/* cli_table_print - print @t on stdout, each line starting with @indent, then free it. */
void cli_table_print(struct cli_table *t, const char *indent);

/* cli_table_free - release the rows; the table is empty afterwards. */
void cli_table_free(struct cli_table *t);

#endif
