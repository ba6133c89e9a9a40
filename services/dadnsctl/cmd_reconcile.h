/* cmd_reconcile.h -- dadnsctl reconcile: ask the reconciler for a pass (dry run or forced) and
 * optionally wait for its summary. Argument parsing and presentation only; the Redis work is
 * common/control.c. */
#ifndef DADNSCTL_CMD_RECONCILE_H
#define DADNSCTL_CMD_RECONCILE_H

#include "cli.h"

/* cmd_reconcile_run - run "dadnsctl reconcile ..." with @argv[0] = "reconcile" (@argc words) in
 * context @c. Prints to stdout (results) and stderr (errors, progress). Returns a CLI_* exit code.
 */
int cmd_reconcile_run(struct cli *c, int argc, char **argv);

#endif
