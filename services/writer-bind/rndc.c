/* rndc.c -- rndc child processes: spawn, capture, time out, reap (see rndc.h).
 *
 * One small event loop (poll on the children's output pipes) serves both the single commands and
 * the parallel reloads. Children get their own process group, so a Ctrl-C meant for the writer
 * does not kill an rndc in the middle of a batch; the writer finishes the batch and stops. */
#include "rndc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define OUT_MAX      4096 /* octets of rndc output kept; the rest is read and dropped */
#define REAP_POLL_MS 10
#define MAX_PARALLEL 64 /* cap on rndc_parallel */

/* One running (or finished) rndc. */
struct proc {
    pid_t pid;         /* child, 0 when it could not be started */
    int fd;            /* read end of its stdout+stderr pipe, -1 once at EOF */
    char out[OUT_MAX]; /* captured output */
    size_t len;        /* octets in out */
    int64_t deadline;  /* CLOCK_MONOTONIC ms after which it is killed */
    int timeout_ms;    /* for the message */
    int done;          /* reaped (or never started) */
    int status;        /* waitpid status when reaped */
    int timed_out;     /* killed by us */
    int spawn_errno;   /* errno of a failed start, else 0 */
    int wait_errno;    /* errno of a failed waitpid, else 0 */
    int result;        /* 0 or DADNS_EBACKEND, when done */
    char msg[RNDC_MSG_SIZE];
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rndc_init(struct rndc *r, const struct backend_conf *bc)
{
    r->bin = (bc->rndc != NULL && bc->rndc[0] != '\0') ? bc->rndc : "rndc";
    r->conf = bc->rndc_conf;
    r->server = bc->rndc_server;
    r->port = bc->rndc_port;
    r->parallel = bc->rndc_parallel < 1 ? 1 : bc->rndc_parallel;
    r->reconfig_timeout_ms = RNDC_RECONFIG_TIMEOUT_MS;
    r->reload_timeout_ms = RNDC_RELOAD_TIMEOUT_MS;
}

/* start - spawn "rndc [-c conf] [-s server] [-p port] <cmd> [zone]" into @p. A failure to start
 * leaves @p done with the reason. */
static void start(const struct rndc *r, const char *cmd, const char *zone, int timeout_ms,
                  struct proc *p)
{
    const char *argv[12];
    char port[16];
    int pipefd[2] = {-1, -1}, rc, fa_ok = 0, at_ok = 0, argc = 0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;

    memset(p, 0, sizeof(*p));
    p->fd = -1;
    p->timeout_ms = timeout_ms;
    argv[argc++] = r->bin;
    if (r->conf != NULL && r->conf[0] != '\0') {
        argv[argc++] = "-c";
        argv[argc++] = r->conf;
    }
    if (r->server != NULL && r->server[0] != '\0') {
        argv[argc++] = "-s";
        argv[argc++] = r->server;
    }
    if (r->port > 0) {
        snprintf(port, sizeof(port), "%d", r->port);
        argv[argc++] = "-p";
        argv[argc++] = port;
    }
    argv[argc++] = cmd;
    if (zone != NULL)
        argv[argc++] = zone;
    argv[argc] = NULL;

    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        rc = errno;
        goto out;
    }
    rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0)
        goto out;
    fa_ok = 1;
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    if (rc != 0)
        goto out;
    rc = posix_spawnattr_init(&at);
    if (rc != 0)
        goto out;
    at_ok = 1;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGTERM);
    rc = posix_spawnattr_setsigmask(&at, &none);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&at, &dfl);
    if (rc == 0)
        rc = posix_spawnattr_setpgroup(&at, 0);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                               POSIX_SPAWN_SETPGROUP);
    if (rc != 0)
        goto out;
    rc = posix_spawnp(&p->pid, r->bin, &fa, &at, (char *const *)argv, environ);
    if (rc != 0) {
        p->pid = 0;
        goto out;
    }
    if (fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK) != 0) {
        rc = errno;
        kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        p->pid = 0;
        goto out;
    }
    p->fd = pipefd[0];
    pipefd[0] = -1;
    p->deadline = now_ms() + timeout_ms;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (at_ok)
        posix_spawnattr_destroy(&at);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (p->pid == 0) {
        p->done = 1;
        p->spawn_errno = rc != 0 ? rc : EINVAL;
        p->result = DADNS_EBACKEND;
        snprintf(p->msg, sizeof(p->msg), "cannot run %s: %s", r->bin, strerror(p->spawn_errno));
    }
}

/* drain - read what @p's pipe holds; at EOF close it. */
static void drain(struct proc *p)
{
    char tmp[1024];
    ssize_t n;
    size_t k;

    while (p->fd >= 0) {
        n = read(p->fd, tmp, sizeof(tmp));
        if (n > 0) {
            k = (size_t)n;
            if (k > sizeof(p->out) - p->len)
                k = sizeof(p->out) - p->len;
            memcpy(p->out + p->len, tmp, k);
            p->len += k;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close(p->fd); /* EOF or a read error: nothing more to get */
        p->fd = -1;
    }
}

/* tidy - @p's output as one line: control characters become spaces, runs of white space
 * collapse, line breaks become "; ", ends trimmed. Written to @out (@outsz bytes). */
static void tidy(const struct proc *p, char *out, size_t outsz)
{
    size_t i, k = 0;
    int pending = 0; /* 1 = a space is owed, 2 = a line break is owed */

    for (i = 0; i < p->len && k + 3 < outsz; i++) {
        unsigned char c = (unsigned char)p->out[i];

        if (c == '\n' || c == '\r') {
            pending = 2;
            continue;
        }
        if (c == ' ' || c == '\t' || c < 0x20 || c == 0x7f) {
            if (pending == 0)
                pending = 1;
            continue;
        }
        if (pending != 0 && k > 0) {
            if (pending == 2) {
                out[k++] = ';';
            }
            out[k++] = ' ';
        }
        pending = 0;
        out[k++] = (char)c;
    }
    out[k] = '\0';
}

/* finish - set @p's result and message once it was reaped. */
static void finish(struct proc *p)
{
    char text[RNDC_MSG_SIZE - 40]; /* leaves room for what finish puts before it */

    tidy(p, text, sizeof(text));
    p->done = 1;
    if (p->wait_errno != 0) {
        p->result = DADNS_EBACKEND;
        snprintf(p->msg, sizeof(p->msg), "exit status lost (waitpid: %s)%s%s",
                 strerror(p->wait_errno), text[0] ? ": " : "", text);
    } else if (p->timed_out) {
        p->result = DADNS_EBACKEND;
        snprintf(p->msg, sizeof(p->msg), "timed out after %d ms%s%s", p->timeout_ms,
                 text[0] ? ": " : "", text);
    } else if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0) {
        p->result = 0;
        snprintf(p->msg, sizeof(p->msg), "%s", text);
    } else if (WIFEXITED(p->status)) {
        p->result = DADNS_EBACKEND;
        snprintf(p->msg, sizeof(p->msg), "exit %d: %s", WEXITSTATUS(p->status),
                 text[0] ? text : "(no output)");
    } else {
        p->result = DADNS_EBACKEND;
        snprintf(p->msg, sizeof(p->msg), "killed by signal %d%s%s",
                 WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0, text[0] ? ": " : "", text);
    }
}

/* reap - collect @p if it exited (@block: wait for it). Returns 1 when reaped. */
static int reap(struct proc *p, int block)
{
    pid_t w;

    do {
        w = waitpid(p->pid, &p->status, block ? 0 : WNOHANG);
    } while (w < 0 && errno == EINTR);
    if (w == 0)
        return 0;
    if (w < 0) /* not our child any more: SIGCHLD ignored, or reaped elsewhere */
        p->wait_errno = errno;
    if (p->fd >= 0) {
        drain(p);
        if (p->fd >= 0) {
            close(p->fd);
            p->fd = -1;
        }
    }
    finish(p);
    return 1;
}

/* step - wait for output, exits or deadlines of the @n running procs of @procs (NULL entries
 * and done ones are skipped), at most until the nearest deadline. */
static void step(struct proc **procs, size_t n)
{
    struct pollfd pfd[MAX_PARALLEL];
    struct proc *owner[MAX_PARALLEL];
    size_t i, k = 0, active = 0;
    int64_t now = now_ms(), wait = INT32_MAX;
    int need_reap = 0;

    for (i = 0; i < n; i++) {
        struct proc *p = procs[i];

        if (p == NULL || p->done)
            continue;
        active++;
        if (p->deadline - now < wait)
            wait = p->deadline - now;
        if (p->fd >= 0 && k < MAX_PARALLEL) {
            pfd[k].fd = p->fd;
            pfd[k].events = POLLIN;
            pfd[k].revents = 0;
            owner[k++] = p;
        } else {
            need_reap = 1;
        }
    }
    if (active == 0)
        return;
    if (need_reap && wait > REAP_POLL_MS)
        wait = REAP_POLL_MS;
    if (wait < 0)
        wait = 0;
    if (poll(pfd, (nfds_t)k, (int)wait) > 0) {
        for (i = 0; i < k; i++) {
            if (pfd[i].revents != 0)
                drain(owner[i]);
        }
    }
    now = now_ms();
    for (i = 0; i < n; i++) {
        struct proc *p = procs[i];

        if (p == NULL || p->done)
            continue;
        if (p->fd < 0 && reap(p, 0))
            continue;
        if (now >= p->deadline) {
            kill(p->pid, SIGKILL);
            p->timed_out = 1;
            reap(p, 1);
        }
    }
}

/* run_one - run one command to completion; returns its result with @e set on failure. */
static int run_one(const struct rndc *r, const char *cmd, const char *zone, int timeout_ms,
                   struct err *e)
{
    struct proc *p;
    int rc;

    p = malloc(sizeof(*p));
    if (p == NULL)
        return err_set(e, DADNS_ENOMEM, "rndc %s: out of memory", cmd);
    start(r, cmd, zone, timeout_ms, p);
    while (!p->done)
        step(&p, 1);
    rc = p->result;
    if (rc != 0)
        err_set(e, rc, "rndc %s%s%s: %s", cmd, zone ? " " : "", zone ? zone : "", p->msg);
    free(p);
    return rc;
}

int rndc_reconfig(const struct rndc *r, struct err *e)
{
    return run_one(r, "reconfig", NULL, r->reconfig_timeout_ms, e);
}

int rndc_reload_zone(const struct rndc *r, const char *zone, struct err *e)
{
    return run_one(r, "reload", zone, r->reload_timeout_ms, e);
}

size_t rndc_reload_zones(const struct rndc *r, struct rndc_job *jobs, size_t n)
{
    struct proc *pool = NULL, *live[MAX_PARALLEL];
    size_t job_of[MAX_PARALLEL];
    int busy[MAX_PARALLEL] = {0};
    size_t par = (size_t)(r->parallel < 1 ? 1 : r->parallel), next = 0, running = 0, failed = 0;
    size_t i;

    if (par > MAX_PARALLEL)
        par = MAX_PARALLEL;
    if (par > n)
        par = n;
    if (n == 0)
        return 0;
    pool = calloc(par, sizeof(*pool));
    if (pool == NULL) {
        for (i = 0; i < n; i++) {
            jobs[i].result = DADNS_ENOMEM;
            snprintf(jobs[i].msg, sizeof(jobs[i].msg), "out of memory");
        }
        return n;
    }
    while (next < n || running > 0) {
        for (i = 0; i < par && next < n; i++) {
            if (busy[i])
                continue;
            start(r, "reload", jobs[next].zone, r->reload_timeout_ms, &pool[i]);
            job_of[i] = next++;
            busy[i] = 1;
            running++;
        }
        for (i = 0; i < par; i++)
            live[i] = busy[i] ? &pool[i] : NULL;
        step(live, par);
        for (i = 0; i < par; i++) {
            struct rndc_job *j;

            if (!busy[i] || !pool[i].done)
                continue;
            j = &jobs[job_of[i]];
            j->result = pool[i].result;
            snprintf(j->msg, sizeof(j->msg), "%s", pool[i].msg);
            if (j->result != 0)
                failed++;
            busy[i] = 0;
            running--;
        }
    }
    free(pool);
    return failed;
}
