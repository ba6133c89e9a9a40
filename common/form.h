/* form.h -- application/x-www-form-urlencoded parameters (query strings and form bodies).
 *
 * Pure parsing: bytes in, decoded key/value pairs out. Keys and values are decoded ('+' is a
 * space, %XX an octet) and stored NUL terminated with their length, so a value holding a NUL is
 * visible to the validators that must refuse it. */
#ifndef DADNS_FORM_H
#define DADNS_FORM_H

#include <stddef.h>

#include "err.h"

#define FORM_MAX_PARAMS 4096 /* more pairs than this is DADNS_ETOOBIG */

struct form_param {
    char *key;      /* decoded, NUL terminated, owned by the form */
    char *val;      /* decoded, NUL terminated, owned by the form */
    size_t key_len; /* decoded length (may differ from strlen if a %00 was present) */
    size_t val_len;
};

struct form {
    struct form_param *v; /* pairs in input order */
    size_t n;
    size_t cap;
};

/* form_init - an empty form. */
void form_init(struct form *f);

/* form_parse - decode "k=v&k2=v2" from @s (@len octets) and append the pairs to @f. A pair
 * without '=' has an empty value; empty pairs ("&&") are skipped. A malformed escape ("%4",
 * "%zz") is DADNS_EPARAM naming the key; over FORM_MAX_PARAMS pairs is DADNS_ETOOBIG. On error
 * @f keeps the pairs added before the failure. */
int form_parse(struct form *f, const char *s, size_t len, struct err *e);

/* form_add - append a copy of @key / @val (@val_len octets). Returns 0, DADNS_ENOMEM or
 * DADNS_ETOOBIG. */
int form_add(struct form *f, const char *key, const char *val, size_t val_len);

/* form_get - the first pair whose key is @key, borrowed, or NULL. */
const struct form_param *form_get(const struct form *f, const char *key);

/* form_value - the value of form_get(@f, @key), or NULL when absent. Borrowed. */
const char *form_value(const struct form *f, const char *key);

/* form_clear - free every pair; @f is then empty and reusable. NULL is fine. */
void form_clear(struct form *f);

#endif
