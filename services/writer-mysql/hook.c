/* hook.c -- one operator command: split the template, substitute {zone}, run it (see hook.h).
 *
 * Running it (spawn, capture, timeout with SIGKILL of its process group, reap) is
 * common/proc.c's; this file builds the argument vector and words the failure. */
#include "hook.h"

#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define WORD_MAX   1024 /* octets of one argument after the {zone} replacement */
#define MANY_SLICE 256  /* commands of hook_run_many set up at a time (bounds its memory) */

/* split - the words of @tmpl with {zone} replaced into @words (HOOK_MAX_ARGS + 1 slots,
 * NULL-terminated), each allocated. */
static int split(const char *tmpl, const char *zone, char **words, struct err *e)
{
    static const char key[] = "{zone}";
    size_t nw = 0, zlen = strlen(zone);
    const char *p = tmpl;

    while (*p != '\0') {
        char word[WORD_MAX + 1];
        size_t len = 0;

        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (nw == HOOK_MAX_ARGS)
            return err_set(e, DADNS_EINVAL, "command has more than %d words", HOOK_MAX_ARGS);
        while (*p != '\0' && *p != ' ') {
            if (strncmp(p, key, sizeof(key) - 1) == 0) {
                if (len + zlen > WORD_MAX)
                    return err_set(e, DADNS_EINVAL, "command word longer than %d octets", WORD_MAX);
                memcpy(word + len, zone, zlen);
                len += zlen;
                p += sizeof(key) - 1;
                continue;
            }
            if (len + 1 > WORD_MAX)
                return err_set(e, DADNS_EINVAL, "command word longer than %d octets", WORD_MAX);
            word[len++] = *p++;
        }
        word[len] = '\0';
        words[nw] = strdup(word);
        if (words[nw] == NULL)
            return err_set(e, DADNS_ENOMEM, "out of memory");
        nw++;
    }
    words[nw] = NULL;
    if (nw == 0)
        return err_set(e, DADNS_EINVAL, "empty command");
    return 0;
}

/* job_failed - the failure @res of program @prog, worded as hook_run says it, into @e. */
static void job_failed(const char *prog, const struct proc_result *res, struct err *e)
{
    if (res->started)
        err_set(e, res->rc, "%s: %s", prog, res->msg);
    else
        err_set(e, res->rc, "%s", res->msg);
}

int hook_run(const char *tmpl, const char *zone, int timeout_ms, struct err *e)
{
    char *argv[HOOK_MAX_ARGS + 1];
    struct proc_result res;
    size_t i;
    int rc;

    memset(argv, 0, sizeof(argv));
    rc = split(tmpl != NULL ? tmpl : "", zone != NULL ? zone : "", argv, e);
    if (rc != 0)
        goto out;
    rc = proc_run((const char *const *)argv, timeout_ms, &res);
    if (rc != 0)
        job_failed(argv[0], &res, e);
out:
    for (i = 0; i < HOOK_MAX_ARGS + 1; i++)
        free(argv[i]);
    return rc;
}

/* run_slice - hook_run_many for at most MANY_SLICE zones. */
static size_t run_slice(const char *tmpl, const char *const *zones, size_t n, int parallel,
                        int timeout_ms, hook_fail_fn on_fail, void *arg)
{
    char **words = calloc(n * (HOOK_MAX_ARGS + 1), sizeof(*words));
    struct proc_job *jobs = calloc(n, sizeof(*jobs));
    struct err *bad = calloc(n, sizeof(*bad)); /* split errors, code 0 when split */
    struct err e;
    size_t i, failed = 0;

    if (words == NULL || jobs == NULL || bad == NULL) {
        err_set(&e, DADNS_ENOMEM, "out of memory");
        for (i = 0; i < n; i++)
            on_fail(arg, zones[i], &e);
        failed = n;
        goto out;
    }
    for (i = 0; i < n; i++) {
        char **argv = &words[i * (HOOK_MAX_ARGS + 1)];

        err_clear(&bad[i]);
        if (split(tmpl != NULL ? tmpl : "", zones[i] != NULL ? zones[i] : "", argv, &bad[i]) == 0)
            jobs[i].argv = (const char *const *)argv;
    }
    proc_run_many(jobs, n, parallel, timeout_ms);
    for (i = 0; i < n; i++) {
        if (bad[i].code != 0) {
            on_fail(arg, zones[i], &bad[i]);
        } else if (jobs[i].res.rc != 0) {
            err_clear(&e);
            job_failed(jobs[i].argv[0], &jobs[i].res, &e);
            on_fail(arg, zones[i], &e);
        } else {
            continue;
        }
        failed++;
    }
out:
    for (i = 0; words != NULL && i < n * (HOOK_MAX_ARGS + 1); i++)
        free(words[i]);
    free(words);
    free(jobs);
    free(bad);
    return failed;
}

size_t hook_run_many(const char *tmpl, const char *const *zones, size_t n, int parallel,
                     int timeout_ms, hook_fail_fn on_fail, void *arg)
{
    size_t done = 0, failed = 0, m;

    while (done < n) {
        m = n - done < MANY_SLICE ? n - done : MANY_SLICE;
        failed += run_slice(tmpl, zones + done, m, parallel, timeout_ms, on_fail, arg);
        done += m;
    }
    return failed;
}
