/* dalist.h -- a DirectAdmin server's zone list, read from the answers of CMD_DNS_ADMIN.
 *
 * Pure parsing: answer bodies in, normalized zone names out. Understands the JSON pages
 * (?json=yes&page=N&ipp=M), the legacy URL-encoded list[]= answer, and recognizes an HTML page
 * (a login or permission problem). Fetching the pages is left to daclient. */
#ifndef DADNS_DALIST_H
#define DADNS_DALIST_H

#include <stddef.h>

#include "err.h"
#include "strset.h"

#define DALIST_MAX_WARNINGS 50 /* warnings kept in full; the rest are only counted */

/* The zones a server listed so far, accumulated over its pages. */
struct dalist {
    struct strset *zones;                /* normalized names (lowercase, no trailing dot), owned;
                                            duplicates across pages count once */
    size_t entries;                      /* entries read over all pages, valid or not */
    size_t invalid;                      /* entries refused (bad name, entry without a domain) */
    char *warnings[DALIST_MAX_WARNINGS]; /* the first invalid entries, explained, owned:
                                            "invalid zone name \"a..b\": <why>" */
    size_t n_warnings;                   /* warnings[0..n_warnings) are set */
};

/* What one answer said besides its zones. */
enum dalist_format {
    DALIST_JSON = 1, /* a JSON page */
    DALIST_LEGACY,   /* list[]=a.com&list[]=b.com: the whole list, no paging */
};

struct dalist_page {
    enum dalist_format format;
    long total_pages; /* JSON: info.total_pages (0 or more; a number or a numeric string), or -1
                         when info or total_pages is missing; LEGACY: 1 */
    long rows;        /* JSON: info.rows (zones in the whole list) when present, else -1;
                         LEGACY: -1 */
    size_t entries;   /* entries on this page, valid or not */
    size_t added;     /* names on this page not listed before (new members of zones) */
};

/* dalist_new - an empty list in *@out (free with dalist_free).
 * Returns 0 or DADNS_ENOMEM (then *@out is NULL). */
int dalist_new(struct dalist **out);

/* dalist_free - release @l, its set and its warnings; NULL is fine. */
void dalist_free(struct dalist *l);

/* dalist_parse - read one answer @body (@len octets, need not be NUL terminated; NULL only with
 * @len 0) and add its
 * zones to @l; describe the answer in *@page (may be NULL).
 *
 * Formats, recognized by the first non-blank octet:
 *  - '{': a JSON object. Members whose key is a decimal number and whose value is an object
 *    with a string "domain" are the entries; "info" (an object) gives total_pages and rows;
 *    every other member is ignored. A numeric member that is not such an object counts as an
 *    invalid entry (a warning). An "error" member that is not 0/"0"/false/null (with no entry
 *    at all) is DA's refusal: DADNS_EDENIED with its "text"/"result"/"details".
 *  - '<': an HTML page (DA's login page, a proxy's error page): DADNS_EDENIED.
 *  - anything else: URL-encoded pairs. Every "list[]" (or "list") value is an entry; empty
 *    values are skipped; "error=1" (or any non-0 error) is DADNS_EDENIED with "text"/
 *    "details". Pairs with other keys are ignored. A non-empty answer without any list[] pair
 *    and without error is DADNS_EPARAM ("not a zone list"), so a stray text is never read as
 *    "no zones"; an empty (or all-blank) answer is an empty list.
 * Each name is normalized with name_normalize (lowercase, trailing dot dropped); a name it
 * refuses is counted in l->invalid and explained in l->warnings, never fatal.
 *
 * Returns 0; DADNS_EPARAM for malformed JSON (e->line/col set), a JSON value that is not an
 * object, a non-numeric total_pages, or an answer that is no list; DADNS_EDENIED as above;
 * DADNS_ENOMEM. On error @l may hold the zones of earlier pages and some of this page: the
 * caller treats the whole listing as failed. */
int dalist_parse(struct dalist *l, const char *body, size_t len, struct dalist_page *page,
                 struct err *e);

#endif
