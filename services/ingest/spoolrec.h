/* spoolrec.h -- the on-disk formats of the ingest spool, encoded and decoded (pure: no I/O).
 *
 * Owns three little-endian binary layouts, each protected by a CRC-32 (IEEE 802.3, the zlib
 * polynomial, own table): the spool file header, one record per accepted DirectAdmin write,
 * and the replay progress slot. Reading and writing files, fsync and locking are spool.c's.
 *
 * Spool file  = file header, then records back to back.
 * File header = "DADNSSPL" | u32 format (1) | u32 0 | u64 log id | u32 0 | u32 crc(bytes 0-27)
 * Record      = "DSPR" | u8 version (1) | u8 op | u16 0 | u32 payload length | u32 crc
 *               (crc over the 12 header bytes before it, then the payload), then the payload:
 *               u32 serial | u64 accepted (unix ms) | u16 host length | u16 user length |
 *               u16 zone count | u16 0 | u32 text length | host | user |
 *               zone count x (u16 length | name) | text
 * Progress    = "DSPP" | u32 format (1) | u64 sequence | u64 log id | u64 offset | u32 crc
 *               (bytes 0-31) | u32 0
 * A save has one zone and a non-empty text; a delete one or more zones and no text. */
#ifndef DADNS_SPOOLREC_H
#define DADNS_SPOOLREC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define SPOOLREC_FILE_HDR_SIZE 32                  /* octets of the file header */
#define SPOOLREC_HDR_SIZE      16                  /* octets of a record header */
#define SPOOLREC_POS_SIZE      40                  /* octets of a progress slot */
#define SPOOLREC_MAX_PAYLOAD   ((uint32_t)1 << 31) /* payload limit (app.max_body_bytes <= 1 GiB) */
#define SPOOLREC_NAME_MAX      253                 /* longest zone name */
#define SPOOLREC_OWNER_MAX     255                 /* longest hostname/username */
#define SPOOLREC_MAX_ZONES     65535

enum spoolrec_op {
    SPOOLREC_SAVE = 1,   /* rawsave: store_save */
    SPOOLREC_DELETE = 2, /* delete: store_delete */
};

/* One spooled write. For encoding every pointer is borrowed from the caller. After
 * spoolrec_decode the strings are NUL terminated copies owned by the record (free with
 * spoolrec_clear) and @text points into the decoded buffer (borrowed: valid while it is). */
struct spoolrec {
    enum spoolrec_op op;
    uint32_t serial;          /* save: the zone's SOA serial; delete: 0 */
    uint64_t accepted_ms;     /* when ingest accepted the write (unix ms), for logs */
    const char *host;         /* DA "hostname", "" when absent */
    const char *user;         /* DA "username", "" when absent */
    const char *const *zones; /* normalized zone names: one for a save, >= 1 for a delete */
    size_t nzones;
    const char *text; /* save: the zone file as pushed (not NUL terminated); delete: NULL */
    size_t text_len;
    void *mem; /* decode only: what spoolrec_clear frees */
};

/* spoolrec_crc32 - CRC-32 (IEEE, reflected 0xEDB88320, as zlib's crc32) of @n octets at @p,
 * continuing from @crc (0 to start). crc32("123456789") = 0xCBF43926. */
uint32_t spoolrec_crc32(uint32_t crc, const void *p, size_t n);

/* spoolrec_size - the encoded size of @r (header included), or 0 when @r cannot be encoded
 * (see spoolrec_encode). */
size_t spoolrec_size(const struct spoolrec *r);

/* spoolrec_encode - append the encoding of @r to @out. Returns 0; DADNS_EINVAL when @r is not
 * a valid record (unknown op, zone count, empty or over-long name, owner over 255 octets, a
 * save without text, a delete with text, payload over SPOOLREC_MAX_PAYLOAD); DADNS_ETOOBIG or
 * DADNS_ENOMEM from @out (then @out is unchanged). @e says why. */
int spoolrec_encode(const struct spoolrec *r, struct buf *out, struct err *e);

/* spoolrec_header - check the record header at @p (@n >= SPOOLREC_HDR_SIZE octets): magic,
 * version, op and payload length. On success sets *@total to the whole record's size (header
 * plus payload) and returns 0; otherwise DADNS_EINVAL with @e saying what is wrong. The CRC is
 * checked by spoolrec_decode. */
int spoolrec_header(const void *p, size_t n, size_t *total, struct err *e);

/* spoolrec_decode - decode the one record of exactly @n octets at @p (header included):
 * header, CRC, field lengths, names without NUL and the shape of the op. Fills @out (release
 * with spoolrec_clear; its @text borrows from @p). Returns 0, DADNS_EINVAL (@e: what is wrong,
 * "CRC mismatch" for a checksum failure) or DADNS_ENOMEM. On failure @out needs no clear. */
int spoolrec_decode(const void *p, size_t n, struct spoolrec *out, struct err *e);

/* spoolrec_clear - free what spoolrec_decode allocated; NULL is fine. */
void spoolrec_clear(struct spoolrec *r);

/* spoolrec_file_header - write the file header for log @id into @out. */
void spoolrec_file_header(uint64_t id, unsigned char out[SPOOLREC_FILE_HDR_SIZE]);

/* spoolrec_file_header_parse - check the file header at @p (SPOOLREC_FILE_HDR_SIZE octets) and
 * set *@id. Returns 0 or DADNS_EINVAL with @e saying what is wrong. */
int spoolrec_file_header_parse(const void *p, uint64_t *id, struct err *e);

/* Replay progress: records of log @id before @offset have been applied. */
struct spoolrec_pos {
    uint64_t seq;    /* increases with every write; the higher valid slot wins */
    uint64_t id;     /* log id of the spool file it belongs to */
    uint64_t offset; /* file offset of the first record not yet applied */
};

/* spoolrec_pos_encode - write @pos as a progress slot into @out. */
void spoolrec_pos_encode(const struct spoolrec_pos *pos, unsigned char out[SPOOLREC_POS_SIZE]);

/* spoolrec_pos_decode - check and decode the progress slot at @p (SPOOLREC_POS_SIZE octets).
 * Returns 0 or DADNS_EINVAL (torn or never written). */
int spoolrec_pos_decode(const void *p, struct spoolrec_pos *out);

#endif
