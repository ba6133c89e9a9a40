/* drift.h -- how one backend's inventory differs from the store: which zones to republish to
 * that backend, which to delete there, which it holds that dadns does not manage.
 *
 * Pure: the store snapshot (zonetab) and the inventory's entries in, decisions out. Reading
 * the inventory from Redis is backendinv's; writing the targeted entries and the guard on
 * deletions are the pass's. */
#ifndef DADNS_DRIFT_H
#define DADNS_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strset.h"
#include "zonetab.h"

#define DRIFT_EXAMPLES 5 /* unmanaged zone names kept for the log */

/* Why a zone needs a targeted push (op=push backend=<be>). */
enum drift_why {
    DRIFT_MISSING = 1, /* live in the store, the backend does not hold it: republish */
    DRIFT_SERIAL,      /* held with a served serial other than the stored one: republish */
    DRIFT_DIGEST,      /* held with another content digest ("modified" or another sha1) */
    DRIFT_TOMBSTONE,   /* held (managed), the store has a tombstone: delete it there */
    DRIFT_ABSENT,      /* held (managed), the store has no state at all: delete it there */
};

/* One inventory value "<serial or -> <digest or -> <version> <managed 0|1>", parsed. */
struct drift_held {
    bool has_serial;  /* the backend reported the serial it serves */
    uint32_t serial;  /* that serial (0 without) */
    char digest[48];  /* "" = the backend cannot tell ("-"), "modified", or a sha1 hex */
    uint64_t version; /* the version dadns recorded in the backend (0 = unknown) */
    bool managed;     /* dadns manages the zone there */
};

/* One decision. */
struct drift_item {
    const char *zone;     /* borrowed from the zonetab, or owned by the drift (DRIFT_ABSENT) */
    uint64_t version;     /* the stored version (0 for DRIFT_ABSENT) */
    enum drift_why why;   /* why */
    bool has_serial;      /* what the backend served, for messages */
    uint32_t held_serial; /* ditto */
};

/* The comparison of one backend's inventory. Read the members; change it through the functions
 * below. */
struct drift {
    struct zonetab *tab;            /* borrowed: must be sorted and outlive the drift */
    unsigned char *seen;            /* one octet per tab zone: held by the backend */
    struct strset *absent;          /* held zones the store does not have (duplicates skipped) */
    struct drift_item *push;        /* republish: DRIFT_MISSING, DRIFT_SERIAL, DRIFT_DIGEST */
    size_t n_push, cap_push;        /* entries and room */
    struct drift_item *del;         /* delete on the backend: DRIFT_TOMBSTONE, DRIFT_ABSENT */
    size_t n_del, cap_del;          /* entries and room */
    size_t n_absent;                /* of del, DRIFT_ABSENT ones */
    size_t held;                    /* distinct valid zones the backend reported */
    size_t managed;                 /* of them managed by dadns */
    size_t unmanaged;               /* of them not managed: reported, never touched */
    char *examples[DRIFT_EXAMPLES]; /* the first unmanaged names, owned */
    size_t n_examples;
    size_t in_sync;    /* live zones held with nothing to repair */
    size_t unknown;    /* live zones held without serial and with digest "": cannot tell */
    size_t invalid;    /* entries skipped: a bad zone name or an unreadable value */
    size_t duplicates; /* entries for a zone already reported (HSCAN may repeat) */
    bool finished;     /* drift_finish ran */
};

/* drift_parse - parse inventory value @value (@len octets, need not be NUL-terminated): four
 * fields separated by single spaces: a decimal serial (0-4294967295) or "-", a digest (1-47
 * octets of [0-9a-z]) or "-", a decimal version, and "0" or "1". Fills @out.
 * Returns 0 or DADNS_EPARAM (then @out is undefined). */
int drift_parse(const char *value, size_t len, struct drift_held *out);

/* drift_new - an empty comparison against sorted @tab (borrowed; zonetab_sort first) in *@out
 * (free with drift_free). Returns 0, DADNS_EINVAL (@tab not sorted) or DADNS_ENOMEM. */
int drift_new(struct zonetab *tab, struct drift **out);

/* drift_free - release @d and what it owns (not the table); NULL is fine. */
void drift_free(struct drift *d);

/* drift_add - take one inventory entry: zone @zone (@zlen octets, normalized again here) with
 * value @value (@vlen octets). Every held zone found in the table gets ZONETAB_HELD. Then:
 *  - not managed: counted (first DRIFT_EXAMPLES names kept), never acted on;
 *  - live in the store: republish when the backend reports a serial and it differs from the
 *    stored serial (DRIFT_SERIAL), else when its digest is not "" and differs from the stored
 *    digest (DRIFT_DIGEST, "modified" included); no serial and digest "" = cannot tell
 *    (unknown), else in sync;
 *  - a tombstone: DRIFT_TOMBSTONE; absent from the store: DRIFT_ABSENT.
 * A name that is no valid zone name or a value drift_parse refuses is counted in invalid and
 * skipped; a zone reported again is counted in duplicates and skipped.
 * Returns 0, DADNS_EINVAL (after drift_finish) or DADNS_ENOMEM. */
int drift_add(struct drift *d, const char *zone, size_t zlen, const char *value, size_t vlen);

/* drift_finish - after the last entry: every live zone of the table the backend did not hold
 * becomes DRIFT_MISSING, in name order. Call once. Returns 0, DADNS_EINVAL (called twice) or
 * DADNS_ENOMEM. */
int drift_finish(struct drift *d);

/* drift_why_str - "missing", "serial", "digest", "tombstone", "absent" ("?" otherwise). */
const char *drift_why_str(enum drift_why why);

#endif
