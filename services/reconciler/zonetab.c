/* zonetab.c -- the reconciler's sorted snapshot of the store (see zonetab.h).
 *
 * One allocation per zone holds its name and host; lookups are binary searches. */
#include "zonetab.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

int zonetab_new(struct zonetab **out)
{
    *out = calloc(1, sizeof(**out));
    return *out == NULL ? DADNS_ENOMEM : 0;
}

void zonetab_free(struct zonetab *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->n; i++)
        free((char *)t->zones[i].name); /* the host lives in the same allocation */
    free(t->zones);
    free(t);
}

int zonetab_add(struct zonetab *t, const char *name, const char *host, uint64_t version,
                uint32_t serial, const char *digest, bool deleted, long long updated_ms)
{
    struct zonetab_zone *z;
    size_t nl, hl;
    char *mem;

    if (name == NULL || name[0] == '\0')
        return DADNS_EINVAL;
    if (host == NULL)
        host = "";
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 1024;
        struct zonetab_zone *nz;

        if (ncap > SIZE_MAX / sizeof(*nz))
            return DADNS_ENOMEM;
        nz = realloc(t->zones, ncap * sizeof(*nz));
        if (nz == NULL)
            return DADNS_ENOMEM;
        t->zones = nz;
        t->cap = ncap;
    }
    nl = strlen(name);
    hl = strlen(host);
    mem = malloc(nl + hl + 2);
    if (mem == NULL)
        return DADNS_ENOMEM;
    memcpy(mem, name, nl + 1);
    memcpy(mem + nl + 1, host, hl + 1);
    z = &t->zones[t->n++];
    memset(z, 0, sizeof(*z));
    z->name = mem;
    z->host = mem + nl + 1;
    z->version = version;
    z->serial = serial;
    if (digest != NULL) {
        size_t dl = strnlen(digest, sizeof(z->digest) - 1);

        memcpy(z->digest, digest, dl);
        z->digest[dl] = '\0';
    }
    z->deleted = deleted;
    z->updated_ms = updated_ms;
    if (deleted)
        t->tombstones++;
    else
        t->live++;
    t->sorted = false;
    return 0;
}

/* Sort by name, live before tombstone, then by position added (kept in flags meanwhile). */
static int cmp_zone(const void *a, const void *b)
{
    const struct zonetab_zone *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    if (x->deleted != y->deleted)
        return x->deleted ? 1 : -1;
    return x->flags < y->flags ? -1 : x->flags > y->flags;
}

void zonetab_sort(struct zonetab *t)
{
    size_t i, w = 0;

    /* flags carry the insertion order during the sort (qsort is not stable) */
    for (i = 0; i < t->n; i++)
        t->zones[i].flags = (unsigned)i;
    if (t->n > 1)
        qsort(t->zones, t->n, sizeof(*t->zones), cmp_zone);
    t->live = t->tombstones = 0;
    for (i = 0; i < t->n; i++) {
        if (w > 0 && strcmp(t->zones[w - 1].name, t->zones[i].name) == 0) {
            free((char *)t->zones[i].name);
            continue;
        }
        t->zones[w++] = t->zones[i];
    }
    t->n = w;
    for (i = 0; i < t->n; i++) {
        t->zones[i].flags = 0;
        if (t->zones[i].deleted)
            t->tombstones++;
        else
            t->live++;
    }
    t->sorted = true;
}

struct zonetab_zone *zonetab_find(const struct zonetab *t, const char *name)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->zones[mid].name, name);

        if (c == 0)
            return &t->zones[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t zonetab_index(const struct zonetab *t, const struct zonetab_zone *z)
{
    return (size_t)(z - t->zones);
}
