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

/* zone_prepare_text - the form of zone @text (@len octets) that libzscanner reads, the same as
 * zone_check uses, so another parser of an accepted zone reads what was validated: the CR of
 * every CRLF removed (named reads CRLF files, the scanner refuses them) and every octet >= 0x80
 * written as \DDD, also after a backslash (named takes raw UTF-8 in names and strings, the
 * scanner only the escaped form); escape pairs of ASCII octets stay as they are. Both rewrites
 * keep the meaning and the line numbers. When nothing needs rewriting, *@in = @text and
 * *@in_len = @len and nothing is allocated; otherwise the rewrite goes to *@buf, a buffer of
 * *@cap octets reused across calls (start with NULL and 0; grown with realloc, caller frees with
 * free()), and *@in / *@in_len point into it (valid until the next call with that buffer).
 * Returns 0, or DADNS_ENOMEM with *@buf and *@cap unchanged. */
int zone_prepare_text(const char *text, size_t len, char **buf, size_t *cap, const char **in,
                      size_t *in_len);

#endif
