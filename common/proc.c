/* proc.c -- child processes: spawn, capture, time out, reap (see proc.h).
 *
 * One small event loop (poll on the children's output pipes and on a pidfd per child, so an exit
 * wakes it at once; waitpid without blocking; SIGKILL at the deadline) serves both the single
 * command and the batches. Without pidfds (kernels before 5.3) it checks for exits every
 * POLL_MS, every POLL_EOF_MS once a child's pipe is at end of file. Children get their own
 * process group, so a Ctrl-C meant for a service does not kill a child in the middle of a batch;
 * the service finishes the batch and stops. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define POLL_MS     10   /* without a pidfd: how often the exit of a running child is checked */
#define POLL_EOF_MS 1    /* ditto once its pipe is at end of file (it is about to exit) */
#define WAIT_MAX_MS 1000 /* with pidfds: longest single wait (exits and output wake it sooner) */
#define N_POLL      ((size_t)2 * PROC_MAX_PARALLEL) /* a pipe and a pidfd per child */

/* One running child. */
struct slot {
    pid_t pid;               /* the child; 0 = the slot is free */
    int fd;                  /* read end of its stdout+stderr pipe, -1 once at EOF */
    int pidfd;               /* readable once it exited; -1 when the kernel has no pidfds */
    char out[PROC_OUT_MAX];  /* captured output */
    size_t len;              /* octets in out */
    int64_t deadline;        /* CLOCK_MONOTONIC ms after which it is killed */
    int timeout_ms;          /* for the message */
    int timed_out;           /* killed by us */
    struct proc_result *res; /* where its end goes, borrowed from the caller */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* open_pidfd - a pidfd for child @pid (close-on-exec), or -1 when the kernel has none. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, (long)pid, 0L);

    return fd >= 0 ? (int)fd : -1;
#else
    (void)pid;
    return -1;
#endif
}

/* spawn - start @argv with stdin from /dev/null and stdout+stderr into a pipe, in its own
 * process group with default signal handling; *@pid and *@fd (non-blocking read end). Returns 0
 * or an errno value (then *@pid is 0 and *@fd -1). */
static int spawn(const char *const *argv, pid_t *pid, int *fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    int pipefd[2] = {-1, -1}, rc, fa_ok = 0, at_ok = 0;

    *pid = 0;
    *fd = -1;
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return errno;
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
    rc = posix_spawnp(pid, argv[0], &fa, &at, (char *const *)argv, environ);
    if (rc != 0) {
        *pid = 0;
        goto out;
    }
    if (fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK) != 0) {
        rc = errno;
        kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
            ;
        *pid = 0;
        goto out;
    }
    *fd = pipefd[0];
    pipefd[0] = -1;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (at_ok)
        posix_spawnattr_destroy(&at);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    return rc;
}

/* start - spawn @argv into the free slot @s, its end to go to @res. Returns 1 when it runs; 0
 * when it could not start, with @res filled and @s left free. */
static int start(struct slot *s, const char *const *argv, int timeout_ms, struct proc_result *res)
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->pidfd = -1;
    memset(res, 0, sizeof(*res));
    if (argv == NULL || argv[0] == NULL) {
        res->rc = DADNS_EINVAL;
        snprintf(res->msg, sizeof(res->msg), "empty command");
        return 0;
    }
    rc = spawn(argv, &s->pid, &s->fd);
    if (rc != 0) {
        res->rc = DADNS_EBACKEND;
        snprintf(res->msg, sizeof(res->msg), "cannot run %s: %s", argv[0], strerror(rc));
        return 0;
    }
    res->started = 1;
    s->pidfd = open_pidfd(s->pid);
    s->res = res;
    s->timeout_ms = timeout_ms;
    s->deadline = now_ms() + timeout_ms;
    return 1;
}

/* drain - read what @s's pipe holds (up to PROC_OUT_MAX octets kept, the rest dropped); at EOF
 * or on a read error close it. */
static void drain(struct slot *s)
{
    char tmp[1024];
    ssize_t n;
    size_t k;

    while (s->fd >= 0) {
        n = read(s->fd, tmp, sizeof(tmp));
        if (n > 0) {
            k = (size_t)n;
            if (k > sizeof(s->out) - s->len)
                k = sizeof(s->out) - s->len;
            memcpy(s->out + s->len, tmp, k);
            s->len += k;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close(s->fd); /* EOF or a read error: nothing more to get */
        s->fd = -1;
    }
}

/* tidy - @len octets of @in as one line into @out (@outsz octets): control characters and runs
 * of blanks become one space, line breaks "; ", ends trimmed. */
static void tidy(const char *in, size_t len, char *out, size_t outsz)
{
    size_t i, k = 0;
    int pending = 0; /* 1 = a space is owed, 2 = a line break is owed */

    for (i = 0; i < len && k + 3 < outsz; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '\n' || c == '\r') {
            pending = 2;
            continue;
        }
        if (c <= ' ' || c == 0x7f) {
            if (pending == 0)
                pending = 1;
            continue;
        }
        if (pending != 0 && k > 0) {
            if (pending == 2)
                out[k++] = ';';
            out[k++] = ' ';
        }
        pending = 0;
        out[k++] = (char)c;
    }
    out[k] = '\0';
}

/* finish - write the end of @s (waitpid @status, or @wait_errno when waitpid failed) to its
 * result and free the slot. */
static void finish(struct slot *s, int status, int wait_errno)
{
    struct proc_result *res = s->res;
    char text[PROC_MSG_SIZE - 40]; /* leaves room for what is put before it */

    if (s->fd >= 0)
        drain(s); /* what it wrote just before exiting */
    if (s->fd >= 0)
        close(s->fd);
    if (s->pidfd >= 0)
        close(s->pidfd);
    tidy(s->out, s->len, text, sizeof(text));
    res->rc = DADNS_EBACKEND;
    if (wait_errno != 0) {
        snprintf(res->msg, sizeof(res->msg), "exit status lost (waitpid: %s)%s%s",
                 strerror(wait_errno), text[0] ? ": " : "", text);
    } else if (s->timed_out) {
        snprintf(res->msg, sizeof(res->msg), "timed out after %d ms%s%s", s->timeout_ms,
                 text[0] ? ": " : "", text);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        res->rc = 0;
        snprintf(res->msg, sizeof(res->msg), "%s", text);
    } else if (WIFEXITED(status)) {
        snprintf(res->msg, sizeof(res->msg), "exit %d: %s", WEXITSTATUS(status),
                 text[0] ? text : "(no output)");
    } else {
        snprintf(res->msg, sizeof(res->msg), "killed by signal %d%s%s",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0, text[0] ? ": " : "", text);
    }
    s->pid = 0;
    s->fd = -1;
    s->pidfd = -1;
    s->res = NULL;
}

/* reap - collect @s's child if it exited (@block: wait for it) and finish it. Returns 1 when
 * it is finished. */
static int reap(struct slot *s, int block)
{
    int status = 0;
    pid_t w;

    do {
        w = waitpid(s->pid, &status, block ? 0 : WNOHANG);
    } while (w < 0 && errno == EINTR);
    if (w == 0)
        return 0;
    finish(s, status, w < 0 ? errno : 0); /* w < 0: SIGCHLD ignored, or reaped elsewhere */
    return 1;
}

/* step - wait until one of the running children among the @n slots of @slots has output or
 * exits (at most until the nearest deadline; see POLL_MS for kernels without pidfds), then
 * finish those that exited and kill and finish those past their deadline. Returns how many
 * were finished. */
static size_t step(struct slot *slots, size_t n)
{
    struct pollfd pfd[N_POLL];
    struct slot *owner[N_POLL];
    size_t i, k = 0, finished = 0;
    int64_t now = now_ms(), wait = WAIT_MAX_MS;

    for (i = 0; i < n; i++) {
        struct slot *s = &slots[i];

        if (s->pid == 0)
            continue;
        if (s->deadline - now < wait)
            wait = s->deadline - now;
        if (s->pidfd < 0 && wait > (s->fd >= 0 ? POLL_MS : POLL_EOF_MS))
            wait = s->fd >= 0 ? POLL_MS : POLL_EOF_MS;
        if (s->fd >= 0 && k < N_POLL) {
            pfd[k].fd = s->fd;
            pfd[k].events = POLLIN;
            pfd[k].revents = 0;
            owner[k++] = s;
        }
        if (s->pidfd >= 0 && k < N_POLL) {
            pfd[k].fd = s->pidfd;
            pfd[k].events = POLLIN;
            pfd[k].revents = 0;
            owner[k++] = NULL; /* an exit: found by the waitpid below */
        }
    }
    if (wait < 0)
        wait = 0;
    if (poll(pfd, (nfds_t)k, (int)wait) > 0) {
        for (i = 0; i < k; i++) {
            if (pfd[i].revents != 0 && owner[i] != NULL)
                drain(owner[i]);
        }
    }
    now = now_ms();
    for (i = 0; i < n; i++) {
        struct slot *s = &slots[i];

        if (s->pid == 0)
            continue;
        if (reap(s, 0)) {
            finished++;
            continue;
        }
        if (now >= s->deadline) {
            s->timed_out = 1;
            kill(-s->pid, SIGKILL); /* its process group, then itself should that fail */
            kill(s->pid, SIGKILL);
            reap(s, 1);
            finished++;
        }
    }
    return finished;
}

int proc_run(const char *const *argv, int timeout_ms, struct proc_result *res)
{
    struct slot s;

    if (start(&s, argv, timeout_ms, res)) {
        while (s.pid != 0)
            step(&s, 1);
    }
    return res->rc;
}

size_t proc_run_many(struct proc_job *jobs, size_t n, int parallel, int timeout_ms)
{
    struct slot *slots = NULL;
    size_t par = parallel < 1 ? 1 : (size_t)parallel, next = 0, running = 0, failed = 0, i;

    if (n == 0)
        return 0;
    if (par > PROC_MAX_PARALLEL)
        par = PROC_MAX_PARALLEL;
    if (par > n)
        par = n;
    slots = calloc(par, sizeof(*slots));
    if (slots == NULL) {
        for (i = 0; i < n; i++) {
            memset(&jobs[i].res, 0, sizeof(jobs[i].res));
            jobs[i].res.rc = DADNS_ENOMEM;
            snprintf(jobs[i].res.msg, sizeof(jobs[i].res.msg), "out of memory");
        }
        return n;
    }
    while (next < n || running > 0) {
        for (i = 0; i < par && next < n; i++) {
            if (slots[i].pid != 0)
                continue;
            if (start(&slots[i], jobs[next].argv, timeout_ms, &jobs[next].res))
                running++;
            next++;
        }
        if (running > 0)
            running -= step(slots, par);
    }
    free(slots);
    for (i = 0; i < n; i++)
        failed += jobs[i].res.rc != 0;
    return failed;
}
