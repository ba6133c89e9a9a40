/* keyname.c -- Redis key names and SCAN patterns under the prefix (see keyname.h). */
#include "keyname.h"

#include <stdio.h>
#include <string.h>

int keyname_make(const char *prefix, const char *a, const char *b, char *out, size_t size,
                 struct err *e)
{
    int n = snprintf(out, size, "%s%s%s", prefix, a, b != NULL ? b : "");

    if (n < 0 || (size_t)n >= size)
        return err_set(e, DADNS_ETOOBIG, "Redis key too long: %s%s...", prefix, a);
    return 0;
}

int keyname_pattern(const char *prefix, const char *suffix, char *out, size_t size, struct err *e)
{
    size_t o = 0;
    int n;

    for (; *prefix != '\0'; prefix++) {
        if (o + 2 >= size) /* an escaped octet, and the NUL */
            return err_set(e, DADNS_ETOOBIG, "Redis prefix too long");
        if (strchr("*?[]\\", *prefix) != NULL)
            out[o++] = '\\';
        out[o++] = *prefix;
    }
    n = snprintf(out + o, size - o, "%s*", suffix);
    if (n < 0 || (size_t)n >= size - o)
        return err_set(e, DADNS_ETOOBIG, "Redis prefix too long");
    return 0;
}
