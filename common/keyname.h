/* keyname.h -- Redis key names under the configured prefix (redis.prefix): "<prefix><parts>",
 * and SCAN MATCH patterns with the prefix's glob specials escaped. Pure string building; which
 * keys exist is each owner's business (store.h, control.h, recstore.h). */
#ifndef DADNS_KEYNAME_H
#define DADNS_KEYNAME_H

#include <stddef.h>

#include "err.h"

/* keyname_make - "<@prefix><@a><@b>" into @out (@size octets; @b may be NULL). All strings are
 * borrowed. Returns 0, or DADNS_ETOOBIG with @e set when it does not fit. */
int keyname_make(const char *prefix, const char *a, const char *b, char *out, size_t size,
                 struct err *e);

/* keyname_pattern - the SCAN MATCH pattern "<@prefix, glob specials *?[]\ escaped><@suffix>*"
 * into @out (@size octets): every key of @prefix that starts with @suffix. Returns 0, or
 * DADNS_ETOOBIG with @e set when it does not fit. */
int keyname_pattern(const char *prefix, const char *suffix, char *out, size_t size, struct err *e);

#endif
