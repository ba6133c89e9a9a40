/* hook.h -- the commands an operator hangs on writer-mysql's commits (post_commit, post_create),
 * e.g. "pdns_control purge {zone}$" and "pdns_control rediscover".
 *
 * Owns the template: split on spaces (no shell, no quoting), "{zone}" replaced. The child
 * (spawned with posix_spawnp, stdout+stderr captured bounded for the message, killed when it
 * overruns its time) is common/proc.c's; when to run them is mysqlbackend.c's business. */
#ifndef DADNS_HOOK_H
#define DADNS_HOOK_H

#include "err.h"

#define HOOK_MAX_ARGS 32 /* most words in a command template */

/* hook_run - run the command template @tmpl (borrowed): words separated by runs of spaces,
 * the first one the program (looked up in PATH when it has no '/'), every "{zone}" inside a
 * word replaced by @zone (NULL = by ""). The child gets /dev/null as stdin, its own process
 * group, default signal handling; it is killed (SIGKILL, whole group) after @timeout_ms.
 * Returns 0 when it exited with status 0; DADNS_EBACKEND with @e saying why (could not start,
 * exit status, signal, timeout) and what it printed, on one line; DADNS_EINVAL for a template
 * without words or with more than HOOK_MAX_ARGS, or a word longer than 1024 octets after the
 * replacement; DADNS_ENOMEM. Blocks until the child is gone. */
int hook_run(const char *tmpl, const char *zone, int timeout_ms, struct err *e);

#endif
