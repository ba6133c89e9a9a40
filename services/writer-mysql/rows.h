/* rows.h -- a DirectAdmin zone turned into the SQL rows a DNS server reads (pure: no I/O).
 *
 * Two formats: CoreDNS mysql_extend (cybercinch fork: hostname relative to the zone, data in
 * presentation format with every name absolute, online=1) and PowerDNS gmysql (full owner names
 * without trailing dot, MX/SRV priority in prio, auth=0 below delegations, empty-non-terminal
 * rows, TXT escaped to ASCII). The rules are in /work/shared/reference/mysql-formats.md and in
 * the comments of rows.c. Parsing is libzscanner; RDATA text comes from libknot's dumper. */
#ifndef DADNS_ROWS_H
#define DADNS_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum rows_format {
    ROWS_COREDNS = 1, /* coredns_mysql backends */
    ROWS_POWERDNS,    /* powerdns_mysql backends */
};

/* One row of the records table. Strings are owned by the rowset. */
struct row {
    const char *name;    /* CoreDNS: hostname relative to the zone ("@", "www", "*",
                            "_sip._tcp"); PowerDNS: full owner, lowercase, no trailing dot */
    const char *type;    /* "A", "MX", ... ("TYPE65534" for unknown types); NULL for a
                            PowerDNS empty non-terminal */
    const char *content; /* CoreDNS data / PowerDNS content; NULL for an empty non-terminal */
    uint32_t ttl;        /* CoreDNS: positive (a pushed 0 becomes 1); PowerDNS: as pushed (0 is
                            served as 0); 0 for an empty non-terminal, where pdnsutil
                            rectify-zone writes SQL NULL (either works: never served) */
    uint16_t prio;       /* PowerDNS MX preference / SRV priority, else 0 (an empty
                            non-terminal: 0, rectify-zone writes NULL) */
    uint8_t auth;        /* PowerDNS: 1, or 0 for records at a delegation point (NS owner below
                            the apex) other than DS and for everything strictly below one,
                            empty non-terminals included; CoreDNS: always 1 (no such column) */
};

/* The rows of one zone, sorted (name, type, content, prio; NULL first, strcmp order) with
 * exact duplicates dropped. Zero it before the first rows_build; reuse it across calls. */
struct rowset {
    struct row *v;   /* n rows, inside mem */
    size_t n;        /* number of rows */
    uint32_t serial; /* SOA serial, as pushed */
    void *mem;       /* owned block: the row array, then the strings (implementation detail) */
    size_t cap;      /* octets allocated at mem */
};

/* A reusable converter (owns a libzscanner context of about 200 KiB); one per thread. */
struct rows_builder;

/* rows_builder_new - allocate a converter into *@out (free with rows_builder_free).
 * Returns 0 or DADNS_ENOMEM. */
int rows_builder_new(struct rows_builder **out);

/* rows_builder_free - release @rb; NULL is fine. */
void rows_builder_free(struct rows_builder *rb);

/* rows_build - convert zone @text (@len octets, as pushed by DA and already validated by
 * ingest) of normalized zone @zone into the rows of @fmt, replacing the content of @out (which
 * must be zeroed or previously used with rows_build). A record that cannot be converted
 * (e.g. a value longer than CoreDNS's 1024-character data column) fails the whole zone with
 * DADNS_EZONE and a reason naming the record, before anything is written anywhere. On any
 * failure @out holds no rows (n = 0; its memory is kept for reuse). @text, @zone and @rb's
 * state are not kept: the rows borrow nothing from them. @e may be NULL.
 * Returns 0, DADNS_EZONE, DADNS_ENOMEM, or DADNS_EINVAL for an invalid @zone name or @fmt. */
int rows_build(struct rows_builder *rb, enum rows_format fmt, const char *zone, const char *text,
               size_t len, struct rowset *out, struct err *e);

/* rowset_free - release what rows_build put in @rs; @rs is then empty. NULL is fine. */
void rowset_free(struct rowset *rs);

#endif
