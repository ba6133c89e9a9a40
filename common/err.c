/* err.c -- error codes and messages (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(struct err *e, int code, unsigned long line, unsigned long col, const char *fmt,
                 va_list ap)
{
    e->code = code;
    e->line = line;
    e->col = col;
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return code;
    va_start(ap, fmt);
    vset(e, code, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

int err_setl(struct err *e, int code, unsigned long line, unsigned long col, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return code;
    va_start(ap, fmt);
    vset(e, code, line, col, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct err *e)
{
    if (e == NULL)
        return;
    e->code = 0;
    e->line = 0;
    e->col = 0;
    e->text[0] = '\0';
}

const char *err_str(int code)
{
    switch (code) {
    case DADNS_OK:
        return "success";
    case DADNS_ENAME:
        return "invalid domain name";
    case DADNS_EZONE:
        return "invalid zone data";
    case DADNS_ECONFIG:
        return "invalid configuration";
    case DADNS_ETOOBIG:
        return "input too large";
    case DADNS_EREDIS:
        return "Redis unreachable";
    case DADNS_EREPLY:
        return "Redis error reply";
    case DADNS_EBACKEND:
        return "backend failure";
    case DADNS_EDENIED:
        return "refused by ownership rules";
    case DADNS_ENOTFOUND:
        return "not found";
    case DADNS_EPARAM:
        return "bad request parameter";
    default:
        break;
    }
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}
