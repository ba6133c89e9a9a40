/* rowhash.h -- one digest for the records rows of a zone, whatever order they come in: the
 * sum (per 32-bit word, modulo 2^32) of the SHA-1 of each row's canonical encoding, then the
 * SHA-1 of that sum and the row count, in hex.
 *
 * Pure (no I/O). Both sides use it: mysqlbackend.c for the rows it writes (stored in the state
 * table's rows_digest), mysqlinventory.c for the rows it reads back, so a row changed, added
 * or removed behind dadns's back changes the digest. The canonical row is the one VERIFY
 * compares (mysqlbackend.c's rows_match): name, type, content (NULL distinct from ""), ttl
 * (-1 for NULL), prio, auth, live -- with prio, auth 0 for CoreDNS, live 1 for a served row. */
#ifndef DADNS_ROWHASH_H
#define DADNS_ROWHASH_H

#include <stddef.h>
#include <stdint.h>

#include "rows.h"

#define ROWHASH_HEX 41 /* 40 hex digits and a NUL */

/* A digest being summed up. Zero it with rowhash_init. */
struct rowhash {
    uint32_t sum[5]; /* sum of the rows' SHA-1 words */
    uint64_t n;      /* rows added */
};

/* rowhash_init - an empty digest (no rows). */
void rowhash_init(struct rowhash *h);

/* rowhash_add - add one row: @name (@name_len octets), @type, @content (NULL = SQL NULL; the
 * lengths are then ignored), @ttl, @prio, @auth, @live as described at the top. The strings are
 * borrowed for the call. */
void rowhash_add(struct rowhash *h, const char *name, size_t name_len, const char *type,
                 size_t type_len, const char *content, size_t content_len, int64_t ttl,
                 int64_t prio, int64_t auth, int64_t live);

/* rowhash_hex - the digest of the rows added so far into @out (lowercase hex, NUL ended). */
void rowhash_hex(const struct rowhash *h, char out[ROWHASH_HEX]);

/* rowhash_rowset - the digest of the rows @rs of format @fmt as written to the records table
 * (every row served: live 1; CoreDNS prio and auth 0; PowerDNS auth 0 or 1) into @out. */
void rowhash_rowset(enum rows_format fmt, const struct rowset *rs, char out[ROWHASH_HEX]);

#endif
