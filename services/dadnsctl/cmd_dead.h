/* cmd_dead.h -- dadnsctl dead list / replay / discard: the per-backend dead-letter streams.
 * Argument parsing and presentation only; the Redis work is common/control.c. */
#ifndef DADNSCTL_CMD_DEAD_H
#define DADNSCTL_CMD_DEAD_H

#include "cli.h"

/* cmd_dead_run - run "dadnsctl dead ..." with @argv[0] = "dead" (@argc words) in context @c.
 * Prints to stdout (results) and stderr (errors, progress). Returns a CLI_* exit code. */
int cmd_dead_run(struct cli *c, int argc, char **argv);

#endif
