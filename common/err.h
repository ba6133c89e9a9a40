/* err.h -- the one error space of dadns.
 *
 * Every function that can fail returns int: 0 on success, a negative DADNS_E* code on failure.
 * Functions that can say more fill a struct err (code, optional line/column, text). Library
 * code never logs or exits; the service layer logs once and decides what to do. */
#ifndef DADNS_ERR_H
#define DADNS_ERR_H

#include <errno.h>
#include <stddef.h>

/* Error codes. System errors line up with errno; domain errors start at -1000. */
enum {
    DADNS_OK = 0,
    DADNS_ENOMEM = -ENOMEM,
    DADNS_EIO = -EIO,
    DADNS_EINVAL = -EINVAL,
    DADNS_ENAME = -1000,     /* invalid domain name */
    DADNS_EZONE = -1001,     /* invalid zone data */
    DADNS_ECONFIG = -1002,   /* invalid configuration */
    DADNS_ETOOBIG = -1003,   /* input over a configured size limit */
    DADNS_EREDIS = -1004,    /* Redis unreachable or connection broken (outcome unknown) */
    DADNS_EREPLY = -1005,    /* Redis answered with an error or an unexpected reply */
    DADNS_EBACKEND = -1006,  /* a DNS backend refused or failed an operation */
    DADNS_EDENIED = -1007,   /* refused by ownership rules */
    DADNS_ENOTFOUND = -1008, /* no such zone/key */
    DADNS_EPARAM = -1009,    /* missing or malformed request parameter */
};

/* Detail of a failure. line/col are 0 when they do not apply. */
struct err {
    int code;           /* one of the DADNS_E* codes above */
    unsigned long line; /* 1-based line in the input, 0 if none */
    unsigned long col;  /* 1-based column in the input, 0 if none */
    char text[512];     /* human-readable reason, NUL terminated, never NULL */
};

/* err_set - fill @e (may be NULL) with @code and a printf-style message.
 * Returns @code so callers can write `return err_set(e, DADNS_EINVAL, "...")`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* err_setl - like err_set, with a line and column (either may be 0). */
int err_setl(struct err *e, int code, unsigned long line, unsigned long col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* err_clear - reset @e (may be NULL) to "no error". */
void err_clear(struct err *e);

/* err_str - static, never-NULL description of @code (like strerror). */
const char *err_str(int code);

#endif
