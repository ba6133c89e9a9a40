/* answer.h -- DirectAdmin's answer format: URL-encoded key=value pairs joined by '&'.
 *
 * Pure encoding into a struct buf: "error=0&text=Login+OK". Spaces become '+', everything but
 * unreserved characters becomes %XX, so a reason can never inject another field. */
#ifndef DADNS_ANSWER_H
#define DADNS_ANSWER_H

#include "buf.h"

/* answer_add - append "key=value" (with a leading '&' unless @b is empty), both encoded.
 * Returns 0, DADNS_ETOOBIG or DADNS_ENOMEM. */
int answer_add(struct buf *b, const char *key, const char *value);

/* answer_encode - append @s URL-encoded (form style: ' ' -> '+'). */
int answer_encode(struct buf *b, const char *s);

#endif
