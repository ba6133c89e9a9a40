/* stream.h -- the change stream seen by a consumer: group bootstrap, reads and acks.
 *
 * Thin wrappers over XGROUP/XREADGROUP/XACK on an rconn that turn replies into plain entries.
 * Owns reply parsing for the stream; the loop around it is consumer.c. */
#ifndef DADNS_STREAM_H
#define DADNS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "name.h"
#include "rconn.h"

/* One notification read from the stream. */
struct stream_entry {
    char id[48];              /* stream entry id, e.g. "1700000000000-0" */
    int valid;                /* 0 = trimmed while pending or malformed: ack and skip */
    char op[16];              /* "save", "delete" or "refresh" */
    char zone[NAME_BUF_SIZE]; /* normalized zone name (re-validated here) */
    uint64_t version;         /* version the notification announced */
};

/* stream_group_create - XGROUP CREATE @stream @group 0 MKSTREAM; an existing group is fine.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int stream_group_create(struct rconn *rc, const char *stream, const char *group, struct err *e);

/* stream_read - XREADGROUP GROUP @group @consumer COUNT @count [BLOCK @block_ms] STREAMS
 * @stream @start ("0" or an id = own pending entries after it; ">" = new entries). @block_ms
 * < 0 means do not block. Entries are appended to @out (capacity @cap), their number stored in
 * *@n. A group that does not exist (Redis lost it) is DADNS_ENOTFOUND. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOTFOUND. */
int stream_read(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                const char *start, size_t count, int block_ms, struct stream_entry *out, size_t cap,
                size_t *n, struct err *e);

/* stream_parse_fields - fill @entry from the flat field/value list @fields (@nfields strings
 * with lengths @lens) of one stream entry: pure, used by stream_read and tests. Sets
 * entry->valid to 0 when op, zone or version is missing or malformed. */
void stream_parse_fields(struct stream_entry *entry, const char *const *fields, const size_t *lens,
                         size_t nfields);

#endif
