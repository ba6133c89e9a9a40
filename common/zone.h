/* zone.h -- validation of a zone pushed by DirectAdmin, with Knot's libzscanner.
 *
 * Parses the whole zone text with the origin given by the request and checks that named would
 * load it as a primary zone: one SOA at the apex, NS at the apex, every owner inside the zone,
 * no $INCLUDE, class IN only, CNAME exclusivity, BIND's check-names rules, and in-zone NS
 * targets with address records. Pure: text in, summary out; no files are read. */
#ifndef DADNS_ZONE_H
#define DADNS_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Summary of a valid zone. */
struct zone_info {
    uint32_t serial; /* SOA serial */
    size_t records;  /* number of resource records parsed */
};

/* Reusable checker. It owns a libzscanner context (about 200 KiB), so keep one per thread
 * and reuse it; it is not thread-safe. */
struct zone_checker;

/* zone_checker_new - allocate a checker into *@out (caller frees with zone_checker_free).
 * Returns 0 or DADNS_ENOMEM. */
int zone_checker_new(struct zone_checker **out);

/* zone_checker_free - release @zc; NULL is fine. */
void zone_checker_free(struct zone_checker *zc);

/* zone_check - validate zone @text (@len octets, need not be NUL terminated) for the
 * normalized zone name @origin (see name_normalize). On success fills @info and returns 0. On
 * failure returns DADNS_EZONE (or DADNS_ENOMEM) and fills @e with the line and a reason such
 * as "line 7: CNAME and other data at www.example.com". */
int zone_check(struct zone_checker *zc, const char *origin, const char *text, size_t len,
               struct zone_info *info, struct err *e);

#endif
