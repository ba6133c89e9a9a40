/* cmd_status.h -- dadnsctl status: the state of the stream, its consumer groups (one per backend),
 * dead letters, zones and the reconciler, as a table or JSON. Argument parsing and presentation
 * only; the Redis work is common/control.c. */
#ifndef DADNSCTL_CMD_STATUS_H
#define DADNSCTL_CMD_STATUS_H

#include "cli.h"

/* cmd_status_run - run "dadnsctl status ..." with @argv[0] = "status" (@argc words) in context @c.
 * Prints to stdout (results) and stderr (errors, progress). Returns a CLI_* exit code. */
int cmd_status_run(struct cli *c, int argc, char **argv);

#endif
