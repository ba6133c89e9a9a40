/* answer.c -- DirectAdmin answer encoding (see answer.h). Pure. */
#include "answer.h"

#include <string.h>

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int answer_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;
    int rc = 0;

    for (p = (const unsigned char *)s; *p != '\0' && rc == 0; p++) {
        if (unreserved(*p)) {
            rc = buf_append(b, p, 1);
        } else if (*p == ' ') {
            rc = buf_append(b, "+", 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            rc = buf_append(b, esc, 3);
        }
    }
    return rc;
}

int answer_add(struct buf *b, const char *key, const char *value)
{
    int rc = 0;

    if (b->len > 0)
        rc = buf_append(b, "&", 1);
    if (rc == 0)
        rc = answer_encode(b, key);
    if (rc == 0)
        rc = buf_append(b, "=", 1);
    if (rc == 0)
        rc = answer_encode(b, value);
    return rc;
}
