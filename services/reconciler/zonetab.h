/* zonetab.h -- the reconciler's snapshot of the store: every zone's name, recorded owner,
 * version, serial, digest, tombstone flag and update time, sorted by name for lookups.
 *
 * Pure container: reading the store into it is recstore's, using it (the plan's input, the
 * inventory comparison, the tombstone purge) is the pass's and drift's. Not thread-safe. */
#ifndef DADNS_ZONETAB_H
#define DADNS_ZONETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Scratch flags a pass sets on a zone (zonetab_zone.flags). */
#define ZONETAB_HELD 0x01u /* some backend whose inventory answered holds the zone */

/* One zone of the store: live, or a tombstone. */
struct zonetab_zone {
    const char *name;     /* normalized name; owned by the table */
    const char *host;     /* recorded owner hostname, "" when none; owned by the table */
    uint64_t version;     /* the stored version */
    uint32_t serial;      /* the stored SOA serial (0 for tombstones) */
    char digest[48];      /* the stored digest (sha1 hex of the text), "" when none */
    bool deleted;         /* a tombstone (deleted=1, not in P zones) */
    long long updated_ms; /* unix milliseconds of the last change, 0 when unknown */
    unsigned flags;       /* ZONETAB_* scratch flags, 0 when added */
};

/* The snapshot. Read the members; change it only through the functions below. */
struct zonetab {
    struct zonetab_zone *zones; /* n entries; sorted by name (strcmp) after zonetab_sort */
    size_t n;
    size_t cap;
    size_t live;       /* entries that are not tombstones */
    size_t tombstones; /* entries that are */
    bool sorted;       /* zonetab_sort ran after the last add */
};

/* zonetab_new - an empty table in *@out (free with zonetab_free).
 * Returns 0 or DADNS_ENOMEM (then *@out is NULL). */
int zonetab_new(struct zonetab **out);

/* zonetab_free - release @t, its names and hosts; NULL is fine. */
void zonetab_free(struct zonetab *t);

/* zonetab_add - append a zone: @name (normalized, not empty), @host (NULL or "" = no owner),
 * @digest (NULL = ""; longer ones are cut at 47 octets) are copied. The table is unsorted
 * until zonetab_sort. Returns 0, DADNS_EINVAL (empty @name) or DADNS_ENOMEM (table unchanged). */
int zonetab_add(struct zonetab *t, const char *name, const char *host, uint64_t version,
                uint32_t serial, const char *digest, bool deleted, long long updated_ms);

/* zonetab_sort - sort by name and drop duplicate names, keeping one entry per name: a live
 * one over a tombstone, else the one added first. Recounts live and tombstones. */
void zonetab_sort(struct zonetab *t);

/* zonetab_find - the entry named @name (binary search; the table must be sorted), borrowed
 * (valid until the next add or the free), or NULL. */
struct zonetab_zone *zonetab_find(const struct zonetab *t, const char *name);

/* zonetab_index - the position of @z in t->zones (it must be an entry of @t). */
size_t zonetab_index(const struct zonetab *t, const struct zonetab_zone *z);

#endif
