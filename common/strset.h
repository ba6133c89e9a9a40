/* strset.h -- a set of strings: open addressing, FNV-1a hashing, grows as it fills.
 *
 * Holds things like the live zone set of a writer (100k+ names). The set owns copies of its
 * members; callers keep ownership of the strings they pass in. Not thread-safe: one owner. */
#ifndef DADNS_STRSET_H
#define DADNS_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset;

/* strset_new - a new empty set in *@out (free with strset_free).
 * Returns 0 or DADNS_ENOMEM (then *@out is NULL). */
int strset_new(struct strset **out);

/* strset_free - release @s and every copy it holds; NULL is fine. */
void strset_free(struct strset *s);

/* strset_add - add a copy of @str (borrowed, NUL terminated).
 * Returns 1 when it was added, 0 when it was already a member, or DADNS_ENOMEM (set unchanged). */
int strset_add(struct strset *s, const char *str);

/* strset_del - remove @str (borrowed). Returns 1 when it was a member, 0 when it was not. */
int strset_del(struct strset *s, const char *str);

/* strset_has - true when @str (borrowed) is a member of @s. */
bool strset_has(const struct strset *s, const char *str);

/* strset_count - the number of members. */
size_t strset_count(const struct strset *s);

/* strset_clear - remove every member, keeping the table for reuse. */
void strset_clear(struct strset *s);

/* strset_iterate - call @fn(member, @arg) for every member in no particular order, stopping at
 * the first non-zero return, which is then returned (0 when all were visited). @member is
 * borrowed from the set; @fn must not add or remove members. */
int strset_iterate(const struct strset *s, int (*fn)(const char *member, void *arg), void *arg);

/* strset_sorted - the members in strcmp order: *@out is a new array of *@n pointers borrowed from
 * the set (valid until the set changes); the caller frees the array (not the strings) with
 * free(). An empty set gives *@out = NULL, *@n = 0. Returns 0 or DADNS_ENOMEM. */
int strset_sorted(const struct strset *s, const char ***out, size_t *n);

#endif
