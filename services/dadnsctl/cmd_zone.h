/* cmd_zone.h -- dadnsctl zone show / zone push: one zone's stored state and per-backend applied
 * version; a forced republish. Argument parsing and presentation only; the Redis work is
 * common/control.c. */
#ifndef DADNSCTL_CMD_ZONE_H
#define DADNSCTL_CMD_ZONE_H

#include "cli.h"

/* cmd_zone_run - run "dadnsctl zone ..." with @argv[0] = "zone" (@argc words) in context @c.
 * Prints to stdout (results) and stderr (errors, progress). Returns a CLI_* exit code. */
int cmd_zone_run(struct cli *c, int argc, char **argv);

#endif
