/* buf.h -- a growable byte buffer with a hard size limit (after curl's dynbuf).
 *
 * Used for untrusted input (HTTP bodies) and generated text (answers, config files). Appending
 * past the limit fails with DADNS_ETOOBIG and leaves the content as it was. */
#ifndef DADNS_BUF_H
#define DADNS_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* content, always NUL terminated when non-NULL; owned */
    size_t len; /* octets used, without the terminating NUL */
    size_t cap; /* octets allocated */
    size_t max; /* hard limit on len */
};

/* buf_init - empty buffer that may hold at most @max octets. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* buf_append - append @n octets from @p. Returns 0, DADNS_ETOOBIG or DADNS_ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);

/* buf_appends - append the NUL-terminated string @s. */
int buf_appends(struct buf *b, const char *s);

/* buf_printf - append formatted text. Returns 0, DADNS_ETOOBIG or DADNS_ENOMEM. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* buf_reset - make the buffer empty, keeping its memory. */
void buf_reset(struct buf *b);

/* buf_free - release the memory; the buffer is then empty and reusable. NULL is fine. */
void buf_free(struct buf *b);

#endif
