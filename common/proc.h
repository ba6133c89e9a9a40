/* proc.h -- running a command without a shell: spawn, capture its output, time it out, reap it.
 *
 * Owns the child processes from spawn to reap and turns each one's end into a result with a
 * one-line message. Which command to run, and what its failure means, is the caller's business
 * (writer-bind's rndc.c, writer-mysql's hook.c). */
#ifndef DADNS_PROC_H
#define DADNS_PROC_H

#include <stddef.h>

#include "err.h"

#define PROC_OUT_MAX      4096 /* octets of a child's stdout+stderr kept; the rest is dropped */
#define PROC_MSG_SIZE     256  /* room for the one-line message of a result */
#define PROC_MAX_PARALLEL 64   /* most children proc_run_many runs at once */

/* How one command ended. */
struct proc_result {
    int rc;                  /* 0 = exited with status 0; DADNS_EBACKEND = could not start,
                                exited non-zero, killed by a signal, timed out or its status
                                was lost; DADNS_EINVAL = empty argv; DADNS_ENOMEM */
    int started;             /* 1 when the child ran (msg describes how it ended), 0 when it
                                never ran (msg says why: "cannot run X: <strerror>") */
    char msg[PROC_MSG_SIZE]; /* its output on success ("zone reload queued", may be ""), else
                                what went wrong and its output: "exit 1: <output>",
                                "exit 1: (no output)", "timed out after 300 ms[: <output>]",
                                "killed by signal 9[: <output>]",
                                "exit status lost (waitpid: <strerror>)[: <output>]". The
                                output is made one line: control characters and runs of blanks
                                become one space, line breaks "; ", ends trimmed. */
};

/* One command of a proc_run_many batch. */
struct proc_job {
    const char *const *argv; /* in: NULL-terminated arguments, borrowed until the call returns */
    struct proc_result res;  /* out: how it ended */
};

/* proc_run - run @argv (NULL-terminated, borrowed; argv[0] is the program, looked up in PATH
 * when it has no '/'; the arguments are passed as they are, no shell) and wait for it. The
 * child gets /dev/null as stdin, one pipe for stdout and stderr (the first PROC_OUT_MAX octets
 * kept, the rest read and dropped so it never blocks), its own process group (a Ctrl-C at the
 * terminal does not reach it) and default handling of SIGINT, SIGTERM and SIGPIPE. When it
 * has not exited after @timeout_ms it is killed with SIGKILL, with its process group. Fills
 * @res (see struct proc_result) and returns res->rc. Blocks until the child is gone. */
int proc_run(const char *const *argv, int timeout_ms, struct proc_result *res);

/* proc_run_many - run the @n commands of @jobs as proc_run does, up to @parallel at once (below
 * 1 counts as 1, above PROC_MAX_PARALLEL as PROC_MAX_PARALLEL), in order, each with its own
 * @timeout_ms starting when it starts; fills every job's res. Returns the number of jobs whose
 * res.rc is not 0 (all @n, each with DADNS_ENOMEM, when there is no memory for the batch). */
size_t proc_run_many(struct proc_job *jobs, size_t n, int parallel, int timeout_ms);

#endif
