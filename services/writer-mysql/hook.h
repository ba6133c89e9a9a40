/* hook.h -- the commands an operator hangs on writer-mysql's commits (post_commit, post_create),
 * e.g. "pdns_control purge {zone}$" and "pdns_control rediscover".
 *
 * Owns the template: split on spaces (no shell, no quoting), "{zone}" replaced. The child
 * (spawned with posix_spawnp, stdout+stderr captured bounded for the message, killed when it
 * overruns its time, several at once) is common/proc.c's; when to run them is mysqlbackend.c's
 * business. */
#ifndef DADNS_HOOK_H
#define DADNS_HOOK_H

#include "err.h"

#define HOOK_MAX_ARGS 32 /* most words in a command template */

/* A failed command of hook_run_many: @zone (borrowed from the caller's list, may be NULL) and
 * why, as hook_run says it in @e (borrowed for the call). */
typedef void (*hook_fail_fn)(void *arg, const char *zone, const struct err *e);

/* hook_run - run the command template @tmpl (borrowed): words separated by runs of spaces,
 * the first one the program (looked up in PATH when it has no '/'), every "{zone}" inside a
 * word replaced by @zone (NULL = by ""). The child gets /dev/null as stdin, its own process
 * group, default signal handling; it is killed (SIGKILL, whole group) after @timeout_ms.
 * Returns 0 when it exited with status 0; DADNS_EBACKEND with @e saying why (could not start,
 * exit status, signal, timeout) and what it printed, on one line; DADNS_EINVAL for a template
 * without words or with more than HOOK_MAX_ARGS, or a word longer than 1024 octets after the
 * replacement; DADNS_ENOMEM. Blocks until the child is gone. */
int hook_run(const char *tmpl, const char *zone, int timeout_ms, struct err *e);

/* hook_run_many - hook_run of template @tmpl for each of the @n zones of @zones (borrowed; a
 * NULL entry counts as ""), up to @parallel commands at once (1-64), each limited to
 * @timeout_ms from its own start. For each one that fails, @on_fail(@arg, zone, e) is called
 * (after the commands, in the order of @zones), with the reason hook_run would give; when
 * there is no memory for the batch every zone fails with DADNS_ENOMEM. Returns the number of
 * failures. Blocks until every child is gone. */
size_t hook_run_many(const char *tmpl, const char *const *zones, size_t n, int parallel,
                     int timeout_ms, hook_fail_fn on_fail, void *arg);

#endif
