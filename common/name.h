/* name.h -- strict validation of zone names taken from requests.
 *
 * A zone name from DirectAdmin becomes a file name, a named.conf line and SQL, so it is checked
 * once, here, at the edge: after name_normalize succeeds the result is safe to use in all three.
 * Pure functions: no I/O, no allocation. */
#ifndef DADNS_NAME_H
#define DADNS_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NAME_MAX_LEN  253                /* octets in presentation form, without trailing dot */
#define NAME_BUF_SIZE (NAME_MAX_LEN + 1) /* buffer size for a normalized name */

/* name_normalize - validate @in (@len octets, not necessarily NUL terminated) as a zone name
 * and write its lowercase form, without a trailing dot, into @out (NAME_BUF_SIZE bytes).
 *
 * Accepted: two or more labels of 1-63 octets of letters, digits and '-', not starting or
 * ending with '-', no '--' in positions 3-4 except the punycode prefix "xn--"; a single
 * trailing dot is dropped; total length <= NAME_MAX_LEN. The last label may not be numeric.
 * Everything else (empty, '/', '..', quotes, spaces, NUL, control bytes, '_', '*', non-ASCII)
 * is refused with DADNS_ENAME and a reason in @e that quotes the offending part safely.
 * Returns 0 or DADNS_ENAME. */
int name_normalize(const char *in, size_t len, char out[NAME_BUF_SIZE], struct err *e);

/* name_parent - the name one label up from normalized @name, borrowed from @name, or NULL when
 * @name has a single label. "a.b.example.com" -> "b.example.com". */
const char *name_parent(const char *name);

/* name_is_within - true when normalized @child equals @parent or is below it (label-wise, so
 * "badexample.com" is not within "example.com"). An empty @parent stands for the root and
 * contains every name. */
bool name_is_within(const char *child, const char *parent);

#endif
