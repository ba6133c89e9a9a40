/* drift.c -- one backend's inventory against the store snapshot (see drift.h).
 *
 * Linear: one binary search per inventory entry, one sweep for the missing zones. */
#include "drift.h"

#include <stdlib.h>
#include <string.h>

#include "name.h"

/* field - the next space-separated field of [*p, end) into [*f, *f + *fl); advances *p past
 * one space. Returns 0, or -1 when the field is empty. */
static int field(const char **p, const char *end, const char **f, size_t *fl)
{
    const char *s = *p;

    while (s < end && *s != ' ')
        s++;
    if (s == *p)
        return -1;
    *f = *p;
    *fl = (size_t)(s - *p);
    *p = s < end ? s + 1 : s;
    return 0;
}

/* decimal - the digits [f, f + fl) as a number at most @max into *@out. Returns 0 or -1. */
static int decimal(const char *f, size_t fl, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (fl == 0 || fl > 20)
        return -1;
    for (i = 0; i < fl; i++) {
        unsigned d;

        if (f[i] < '0' || f[i] > '9')
            return -1;
        d = (unsigned)(f[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int drift_parse(const char *value, size_t len, struct drift_held *out)
{
    const char *p = value, *end = value + len, *f;
    size_t fl, i;
    uint64_t v;

    memset(out, 0, sizeof(*out));
    if (value == NULL)
        return DADNS_EPARAM;
    /* serial */
    if (field(&p, end, &f, &fl) != 0)
        return DADNS_EPARAM;
    if (!(fl == 1 && f[0] == '-')) {
        if (decimal(f, fl, UINT32_MAX, &v) != 0)
            return DADNS_EPARAM;
        out->has_serial = true;
        out->serial = (uint32_t)v;
    }
    /* digest */
    if (field(&p, end, &f, &fl) != 0 || fl >= sizeof(out->digest))
        return DADNS_EPARAM;
    if (!(fl == 1 && f[0] == '-')) {
        for (i = 0; i < fl; i++)
            if (!((f[i] >= '0' && f[i] <= '9') || (f[i] >= 'a' && f[i] <= 'z')))
                return DADNS_EPARAM;
        memcpy(out->digest, f, fl);
        out->digest[fl] = '\0';
    }
    /* version */
    if (field(&p, end, &f, &fl) != 0 || decimal(f, fl, UINT64_MAX, &out->version) != 0)
        return DADNS_EPARAM;
    /* managed, and nothing after it */
    if (field(&p, end, &f, &fl) != 0 || fl != 1 || (f[0] != '0' && f[0] != '1') || f + fl != end)
        return DADNS_EPARAM;
    out->managed = f[0] == '1';
    return 0;
}

int drift_new(struct zonetab *tab, struct drift **out)
{
    struct drift *d;

    *out = NULL;
    if (tab == NULL || !tab->sorted)
        return DADNS_EINVAL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return DADNS_ENOMEM;
    d->tab = tab;
    d->seen = calloc(tab->n ? tab->n : 1, 1);
    if (d->seen == NULL || strset_new(&d->absent) != 0) {
        drift_free(d);
        return DADNS_ENOMEM;
    }
    *out = d;
    return 0;
}

void drift_free(struct drift *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n_del; i++)
        if (d->del[i].why == DRIFT_ABSENT)
            free((char *)d->del[i].zone);
    for (i = 0; i < d->n_examples; i++)
        free(d->examples[i]);
    free(d->push);
    free(d->del);
    free(d->seen);
    strset_free(d->absent);
    free(d);
}

/* append - add @item to the array *@arr of *@n entries and *@cap room. 0 or DADNS_ENOMEM. */
static int append(struct drift_item **arr, size_t *n, size_t *cap, const struct drift_item *item)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct drift_item *na;

        if (ncap > SIZE_MAX / sizeof(*na))
            return DADNS_ENOMEM;
        na = realloc(*arr, ncap * sizeof(*na));
        if (na == NULL)
            return DADNS_ENOMEM;
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = *item;
    return 0;
}

/* held_absent - a held zone the store does not have. */
static int held_absent(struct drift *d, const char *name, const struct drift_held *h)
{
    struct drift_item it;
    int rc = strset_add(d->absent, name);

    if (rc < 0)
        return rc;
    if (rc == 0) {
        d->duplicates++;
        return 0;
    }
    d->held++;
    if (!h->managed) {
        d->unmanaged++;
        if (d->n_examples < DRIFT_EXAMPLES) {
            d->examples[d->n_examples] = strdup(name);
            if (d->examples[d->n_examples] == NULL)
                return DADNS_ENOMEM;
            d->n_examples++;
        }
        return 0;
    }
    d->managed++;
    memset(&it, 0, sizeof(it));
    it.zone = strdup(name);
    if (it.zone == NULL)
        return DADNS_ENOMEM;
    it.why = DRIFT_ABSENT;
    it.has_serial = h->has_serial;
    it.held_serial = h->serial;
    rc = append(&d->del, &d->n_del, &d->cap_del, &it);
    if (rc != 0) {
        free((char *)it.zone);
        return rc;
    }
    d->n_absent++;
    return 0;
}

int drift_add(struct drift *d, const char *zone, size_t zlen, const char *value, size_t vlen)
{
    char name[NAME_BUF_SIZE];
    struct drift_held h;
    struct drift_item it;
    struct zonetab_zone *z;
    size_t i;

    if (d->finished)
        return DADNS_EINVAL;
    if (name_normalize(zone, zlen, name, NULL) != 0 || drift_parse(value, vlen, &h) != 0) {
        d->invalid++;
        return 0;
    }
    z = zonetab_find(d->tab, name);
    if (z == NULL)
        return held_absent(d, name, &h);
    i = zonetab_index(d->tab, z);
    if (d->seen[i]) {
        d->duplicates++;
        return 0;
    }
    d->seen[i] = 1;
    z->flags |= ZONETAB_HELD;
    d->held++;
    if (!h.managed) {
        d->unmanaged++;
        if (d->n_examples < DRIFT_EXAMPLES) {
            d->examples[d->n_examples] = strdup(name);
            if (d->examples[d->n_examples] == NULL)
                return DADNS_ENOMEM;
            d->n_examples++;
        }
        return 0;
    }
    d->managed++;
    memset(&it, 0, sizeof(it));
    it.zone = z->name;
    it.version = z->version;
    it.has_serial = h.has_serial;
    it.held_serial = h.serial;
    if (z->deleted) {
        it.why = DRIFT_TOMBSTONE;
        return append(&d->del, &d->n_del, &d->cap_del, &it);
    }
    if (h.has_serial && h.serial != z->serial)
        it.why = DRIFT_SERIAL;
    else if (h.digest[0] != '\0' && z->digest[0] != '\0' && strcmp(h.digest, z->digest) != 0)
        it.why = DRIFT_DIGEST;
    if (it.why != 0)
        return append(&d->push, &d->n_push, &d->cap_push, &it);
    if (!h.has_serial && (h.digest[0] == '\0' || z->digest[0] == '\0'))
        d->unknown++; /* nothing could be compared */
    else
        d->in_sync++;
    return 0;
}

int drift_finish(struct drift *d)
{
    size_t i;
    int rc;

    if (d->finished)
        return DADNS_EINVAL;
    d->finished = true;
    for (i = 0; i < d->tab->n; i++) {
        const struct zonetab_zone *z = &d->tab->zones[i];
        struct drift_item it;

        if (z->deleted || d->seen[i])
            continue;
        memset(&it, 0, sizeof(it));
        it.zone = z->name;
        it.version = z->version;
        it.why = DRIFT_MISSING;
        rc = append(&d->push, &d->n_push, &d->cap_push, &it);
        if (rc != 0)
            return rc;
    }
    return 0;
}

const char *drift_why_str(enum drift_why why)
{
    switch (why) {
    case DRIFT_MISSING:
        return "missing";
    case DRIFT_SERIAL:
        return "serial";
    case DRIFT_DIGEST:
        return "digest";
    case DRIFT_TOMBSTONE:
        return "tombstone";
    case DRIFT_ABSENT:
        return "absent";
    }
    return "?";
}
