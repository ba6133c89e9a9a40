/* hook.c -- one operator command: split the template, substitute {zone}, run it (see hook.h).
 *
 * Running it (spawn, capture, timeout with SIGKILL of its process group, reap) is
 * common/proc.c's; this file builds the argument vector and words the failure. */
#include "hook.h"

#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define WORD_MAX 1024 /* octets of one argument after the {zone} replacement */

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
    if (rc != 0 && res.started)
        err_set(e, rc, "%s: %s", argv[0], res.msg);
    else if (rc != 0)
        err_set(e, rc, "%s", res.msg);
out:
    for (i = 0; i < HOOK_MAX_ARGS + 1; i++)
        free(argv[i]);
    return rc;
}
