/* cmd_resync.h -- dadnsctl resync: republish every live zone to one backend, non-destructively.
 * Argument parsing and presentation only; the Redis work is common/control.c. */
#ifndef DADNSCTL_CMD_RESYNC_H
#define DADNSCTL_CMD_RESYNC_H

#include "cli.h"

/* cmd_resync_run - run "dadnsctl resync ..." with @argv[0] = "resync" (@argc words) in context @c.
 * Prints to stdout (results) and stderr (errors, progress). Returns a CLI_* exit code. */
int cmd_resync_run(struct cli *c, int argc, char **argv);

#endif
