/* strset.c -- string set with linear probing and backward-shift deletion (see strset.h).
 *
 * No tombstones: deleting shifts the following run back, so lookups stay short after many
 * deletions. The table doubles when it is 70 % full and never shrinks (strset_clear keeps it). */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define STRSET_MIN_CAP 16

struct slot {
    char *str;     /* owned copy, NULL = empty slot */
    uint64_t hash; /* FNV-1a of str, kept to skip strcmp and to rehash without rehashing */
};

struct strset {
    struct slot *slots; /* cap entries */
    size_t cap;         /* power of two */
    size_t count;       /* members */
};

/* FNV-1a, 64 bit. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int strset_new(struct strset **out)
{
    struct strset *s;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return DADNS_ENOMEM;
    s->slots = calloc(STRSET_MIN_CAP, sizeof(*s->slots));
    if (s->slots == NULL) {
        free(s);
        return DADNS_ENOMEM;
    }
    s->cap = STRSET_MIN_CAP;
    *out = s;
    return 0;
}

void strset_free(struct strset *s)
{
    if (s == NULL)
        return;
    strset_clear(s);
    free(s->slots);
    free(s);
}

void strset_clear(struct strset *s)
{
    size_t i;

    for (i = 0; i < s->cap; i++) {
        free(s->slots[i].str);
        s->slots[i].str = NULL;
    }
    s->count = 0;
}

/* find - index of @str's slot, or of the empty slot where it would go. */
static size_t find(const struct strset *s, const char *str, uint64_t h)
{
    size_t mask = s->cap - 1;
    size_t i = (size_t)h & mask;

    while (s->slots[i].str != NULL) {
        if (s->slots[i].hash == h && strcmp(s->slots[i].str, str) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

/* grow - double the table, moving every member. */
static int grow(struct strset *s)
{
    struct slot *old = s->slots, *slots;
    size_t oldcap = s->cap, ncap, i, j, mask;

    if (oldcap > SIZE_MAX / 2 / sizeof(*slots))
        return DADNS_ENOMEM;
    ncap = oldcap * 2;
    slots = calloc(ncap, sizeof(*slots));
    if (slots == NULL)
        return DADNS_ENOMEM;
    mask = ncap - 1;
    for (i = 0; i < oldcap; i++) {
        if (old[i].str == NULL)
            continue;
        j = (size_t)old[i].hash & mask;
        while (slots[j].str != NULL)
            j = (j + 1) & mask;
        slots[j] = old[i];
    }
    free(old);
    s->slots = slots;
    s->cap = ncap;
    return 0;
}

int strset_add(struct strset *s, const char *str)
{
    uint64_t h = hash_str(str);
    size_t i, len;
    char *copy;
    int rc;

    i = find(s, str, h);
    if (s->slots[i].str != NULL)
        return 0;
    if ((s->count + 1) * 10 > s->cap * 7) {
        rc = grow(s);
        if (rc != 0)
            return rc;
        i = find(s, str, h);
    }
    len = strlen(str);
    copy = malloc(len + 1);
    if (copy == NULL)
        return DADNS_ENOMEM;
    memcpy(copy, str, len + 1);
    s->slots[i].str = copy;
    s->slots[i].hash = h;
    s->count++;
    return 1;
}

int strset_del(struct strset *s, const char *str)
{
    size_t mask = s->cap - 1, i, j, home;

    i = find(s, str, hash_str(str));
    if (s->slots[i].str == NULL)
        return 0;
    free(s->slots[i].str);
    s->slots[i].str = NULL;
    s->count--;
    /* Backward shift: move later members of the run into the hole when their home slot is not
     * (cyclically) after the hole, so every member stays reachable from its home. */
    j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (s->slots[j].str == NULL)
            break;
        home = (size_t)s->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            s->slots[j].str = NULL;
            i = j;
        }
    }
    return 1;
}

bool strset_has(const struct strset *s, const char *str)
{
    return s->slots[find(s, str, hash_str(str))].str != NULL;
}

size_t strset_count(const struct strset *s)
{
    return s->count;
}

int strset_iterate(const struct strset *s, int (*fn)(const char *member, void *arg), void *arg)
{
    size_t i;
    int rc;

    for (i = 0; i < s->cap; i++) {
        if (s->slots[i].str == NULL)
            continue;
        rc = fn(s->slots[i].str, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int strset_sorted(const struct strset *s, const char ***out, size_t *n)
{
    const char **arr;
    size_t i, k = 0;

    *out = NULL;
    *n = 0;
    if (s->count == 0)
        return 0;
    arr = malloc(s->count * sizeof(*arr));
    if (arr == NULL)
        return DADNS_ENOMEM;
    for (i = 0; i < s->cap; i++) {
        if (s->slots[i].str != NULL)
            arr[k++] = s->slots[i].str;
    }
    qsort(arr, k, sizeof(*arr), cmp_str);
    *out = arr;
    *n = k;
    return 0;
}
