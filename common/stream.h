/* stream.h -- the change stream seen by a consumer: group bootstrap, reads, pending entries,
 * claims and trimming.
 *
 * Thin wrappers over XGROUP/XREADGROUP/XPENDING/XCLAIM/XINFO/XTRIM on an rconn that turn replies
 * into plain structs, plus pure stream-id arithmetic. Owns reply parsing for the stream; the
 * loop around it (what to read, claim or trim, and when) is consumer.c's. */
#ifndef DADNS_STREAM_H
#define DADNS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "name.h"
#include "rconn.h"

#define STREAM_ID_SIZE       48  /* room for "<ms>-<seq>" and its NUL */
#define STREAM_NAME_SIZE     64  /* room for a backend (group) name, [a-z0-9][a-z0-9_-]{0,62} */
#define STREAM_REQUEST_SIZE  64  /* room for a request id, [A-Za-z0-9_.:-]{1,63} */
#define STREAM_CONSUMER_SIZE 256 /* room for a consumer name (longer ones are cut) */

/* One notification read from the stream. */
struct stream_entry {
    char id[STREAM_ID_SIZE];           /* stream entry id, e.g. "1700000000000-0" */
    int valid;                         /* 0 = trimmed while pending or malformed: ack, skip */
    char op[16];                       /* save, delete, refresh, push or inventory */
    char zone[NAME_BUF_SIZE];          /* normalized zone name ("" for inventory) */
    uint64_t version;                  /* version the notification announced */
    char backend[STREAM_NAME_SIZE];    /* target group, "" = every group */
    char request[STREAM_REQUEST_SIZE]; /* request id (op=inventory), else "" */
    uint64_t deliveries;               /* times delivered, this one included (0 = unknown) */
};

/* One entry of a group's pending list (XPENDING extended form). */
struct stream_pending {
    char id[STREAM_ID_SIZE];
    char consumer[STREAM_CONSUMER_SIZE]; /* who holds it */
    int64_t idle_ms;                     /* since its last delivery */
    uint64_t deliveries;                 /* times delivered so far */
};

/* What a group still needs from the stream (see stream_group_floors). */
struct stream_group_floor {
    char name[STREAM_CONSUMER_SIZE];
    uint64_t pending;                    /* entries delivered and not acknowledged */
    char last_delivered[STREAM_ID_SIZE]; /* last-delivered-id ("0-0" for a fresh group) */
    char needed[STREAM_ID_SIZE];         /* oldest id it may still read: its oldest pending
                                            entry, else the id right after last_delivered */
    long long lag;                       /* entries added and not yet delivered to it, trimmed
                                            ones included (XINFO GROUPS lag); -1 = unknown */
};

/* stream_group_create - XGROUP CREATE @stream @group 0 MKSTREAM; an existing group is fine.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int stream_group_create(struct rconn *rc, const char *stream, const char *group, struct err *e);

/* stream_consumer_create - XGROUP CREATECONSUMER @stream @group @consumer (an existing one is
 * fine), so the consumer is listed (XINFO CONSUMERS) before it has read anything: a blocking
 * XREADGROUP that gets nothing does not create it in Redis 7.0. Missing group:
 * DADNS_ENOTFOUND. Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOTFOUND. */
int stream_consumer_create(struct rconn *rc, const char *stream, const char *group,
                           const char *consumer, struct err *e);

/* stream_read - XREADGROUP GROUP @group @consumer COUNT @count [BLOCK @block_ms] STREAMS
 * @stream @start ("0" or an id = own pending entries after it; ">" = new entries). @block_ms
 * < 0 means do not block. Entries are written to @out (capacity @cap), their number stored in
 * *@n; deliveries is set to 1 for ">" reads, else 0 (unknown). The command is sent once, never
 * repeated on a broken connection (a reply lost with the connection leaves its entries pending
 * for the caller's next drain), so closing the socket under it (consumer_wake) ends a BLOCK at
 * once. A group that does not exist (Redis lost it) is DADNS_ENOTFOUND.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOTFOUND. */
int stream_read(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                const char *start, size_t count, int block_ms, struct stream_entry *out, size_t cap,
                size_t *n, struct err *e);

/* stream_pending - XPENDING @stream @group IDLE @min_idle_ms @start + @count [@consumer]: up to
 * min(@count, @cap) pending entries idle for at least @min_idle_ms, from id @start on ("-" = the
 * first; "(<id>" = after <id>), held by @consumer (NULL = by anyone), oldest first, into @out;
 * their number in *@n. Missing group: DADNS_ENOTFOUND.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOTFOUND. */
int stream_pending(struct rconn *rc, const char *stream, const char *group, int64_t min_idle_ms,
                   const char *start, size_t count, const char *consumer,
                   struct stream_pending *out, size_t cap, size_t *n, struct err *e);

/* stream_claim - take the @np pending entries @p over for @consumer: one XCLAIM per entry,
 * pipelined, each with min-idle-time = the idle time stream_pending saw, so an entry someone
 * else delivered or claimed since then is left alone (two consumers never both take one).
 * Claimed entries are written to @out (capacity @cap >= @np) with deliveries = p's + 1, their
 * number in *@n. An entry deleted from the stream (trimmed) is dropped from the pending list by
 * Redis and not returned; *@gone (may be NULL) counts those not returned for either reason.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOTFOUND/DADNS_ENOMEM. */
int stream_claim(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                 const struct stream_pending *p, size_t np, struct stream_entry *out, size_t cap,
                 size_t *n, size_t *gone, struct err *e);

/* stream_park - keep the @n entries @ids (just delivered to @consumer) pending untouched: XCLAIM
 * them to @consumer with RETRYCOUNT 0 JUSTID, so their delivery counters say they were never
 * attempted (reading them while the circuit breaker is open must not use an attempt up).
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOTFOUND/DADNS_ENOMEM. */
int stream_park(struct rconn *rc, const char *stream, const char *group, const char *consumer,
                const char *const *ids, size_t n, struct err *e);

/* stream_group_floors - every consumer group of @stream (XINFO GROUPS) with what it still
 * needs (XPENDING summary per group), into a new array *@out (caller frees with free(); NULL
 * when there are none) of *@n entries. A missing stream is 0 groups.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM. */
int stream_group_floors(struct rconn *rc, const char *stream, struct stream_group_floor **out,
                        size_t *n, struct err *e);

/* What XINFO STREAM says of the stream (Redis 7). */
struct stream_info {
    long long length;                 /* entries in it now */
    char first_id[STREAM_ID_SIZE];    /* recorded-first-entry-id: its oldest entry ("0-0" empty) */
    char max_deleted[STREAM_ID_SIZE]; /* max-deleted-entry-id: newest id XDEL removed, "0-0" */
};

/* stream_info - XINFO STREAM @stream into @out. Returns 0, DADNS_ENOTFOUND when the stream does
 * not exist, or DADNS_EREDIS/DADNS_EREPLY. */
int stream_info(struct rconn *rc, const char *stream, struct stream_info *out, struct err *e);

/* stream_trim_minid - XTRIM @stream MINID ~ @minid: drop whole internal nodes of entries older
 * than @minid (never one at or after it). *@removed (may be NULL) gets how many went.
 * Returns 0 or DADNS_EREDIS/DADNS_EREPLY. */
int stream_trim_minid(struct rconn *rc, const char *stream, const char *minid, long long *removed,
                      struct err *e);

/* stream_parse_fields - fill @entry from the flat field/value list @fields (@nfields strings
 * with lengths @lens) of one stream entry: pure, used by the readers and tests. Sets
 * entry->valid to 0 when op, zone or version is missing or malformed, when op is unknown, when
 * backend or request is malformed, or when an inventory has no request; an inventory may have
 * an empty zone. Does not touch id or deliveries. */
void stream_parse_fields(struct stream_entry *entry, const char *const *fields, const size_t *lens,
                         size_t nfields);

/* stream_id_cmp - compare stream ids @a and @b ("<ms>-<seq>", or "<ms>" = "<ms>-0"): < 0, 0 or
 * > 0. A malformed id sorts first. Pure. */
int stream_id_cmp(const char *a, const char *b);

/* stream_id_next - the smallest id after @id into @out (@size octets): "<ms>-<seq+1>" (or
 * "<ms+1>-0" at the largest seq). Returns 0, or DADNS_EINVAL for a malformed @id or
 * DADNS_ETOOBIG when @out is too small. Pure. */
int stream_id_next(const char *id, char *out, size_t size);

#endif
