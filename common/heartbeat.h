/* heartbeat.h -- the writers' heartbeats and recent failures in Redis, and their JSON format.
 *
 * Owns two keys (P = redis.prefix) and the format of their values, both ways:
 *   P writer:<backend>  hash: consumer -> {"last_apply_at","last_batch_at","applied","failed",
 *                       "dead","breaker_open","updated_at"}; the key EXPIREs after a day
 *                       without a write (a writer gone for good disappears from the status)
 *   P failures          list, newest first, at most HEARTBEAT_FAILURES_KEPT entries:
 *                       {"at","backend","consumer","zone","op","version","reason","attempts",
 *                       "dead"}
 * Times are unix seconds, counters count since the writer process started. The consumer loop
 * (consumer.c) decides what failed and calls heartbeat_fail / heartbeat_tick; control.c reads
 * the keys for dadnsctl status and the status page. Rendering and parsing are pure; the only
 * I/O is heartbeat_tick's one pipelined round trip. Not thread-safe: one heartbeat per loop. */
#ifndef DADNS_HEARTBEAT_H
#define DADNS_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "err.h"
#include "name.h"
#include "rconn.h"

#define HEARTBEAT_INTERVAL_MS 5000 /* a heartbeat at least this often */
#define HEARTBEAT_BATCH_GAP_MS                                                                     \
    1000                                   /* after a batch: at most one per second, unless a      \
                                              failure is waiting */
#define HEARTBEAT_TTL_S              86400 /* EXPIRE of P writer:<backend> */
#define HEARTBEAT_FAILURES_PER_BATCH 10    /* failures kept between two writes; more are dropped */
#define HEARTBEAT_FAILURES_KEPT      200   /* LTRIM P failures 0 (KEPT - 1) */
#define HEARTBEAT_NAME_MAX           128   /* longest backend/consumer name kept, with NUL */
#define HEARTBEAT_REASON_MAX         512   /* longest reason kept, with NUL */

/* One writer consumer's heartbeat (the value of its field in P writer:<backend>). */
struct heartbeat_record {
    char consumer[HEARTBEAT_NAME_MAX]; /* the hash field (not part of the JSON) */
    long long last_apply_at;           /* last batch that applied something; 0 = none yet */
    long long last_batch_at;           /* last batch processed; 0 = none yet */
    unsigned long long applied;        /* changes applied (save/delete) */
    unsigned long long failed;         /* changes failed and left for a retry */
    unsigned long long dead;           /* entries moved to the dead letters */
    int breaker_open;                  /* 1 while the circuit breaker is open */
    long long updated_at;              /* when this record was written */
};

/* One failed or dead-lettered change (an element of P failures). */
struct heartbeat_failure {
    long long at; /* when it failed */
    char backend[HEARTBEAT_NAME_MAX];
    char consumer[HEARTBEAT_NAME_MAX];
    char zone[NAME_BUF_SIZE];
    char op[16]; /* save, delete, verify, push, ... */
    uint64_t version;
    char reason[HEARTBEAT_REASON_MAX];
    unsigned long long attempts; /* deliveries so far */
    int dead;                    /* 1 = moved to the dead letters, 0 = will be retried */
};

/* heartbeat_record_json - @r as a compact JSON object (without the consumer). *@out is a new
 * string (free() it). Returns 0 or DADNS_ENOMEM. Pure. */
int heartbeat_record_json(const struct heartbeat_record *r, char **out);

/* heartbeat_record_parse - parse the @len octets of @json into @out, its consumer set to
 * @consumer (copied, cut to fit). Missing or mistyped fields are 0. Returns 0, or DADNS_EINVAL
 * when @json is not a JSON object (@out is then zeroed apart from the consumer). Pure. */
int heartbeat_record_parse(const char *consumer, const char *json, size_t len,
                           struct heartbeat_record *out);

/* heartbeat_failure_json - @f as a compact JSON object; as heartbeat_record_json. */
int heartbeat_failure_json(const struct heartbeat_failure *f, char **out);

/* heartbeat_failure_parse - parse one element of P failures; as heartbeat_record_parse
 * (strings are cut to fit their fields). */
int heartbeat_failure_parse(const char *json, size_t len, struct heartbeat_failure *out);

/* ---- the writer side ---- */

struct heartbeat;

/* heartbeat_new - the heartbeat of consumer @consumer of backend @backend, with the keys
 * "<@prefix>writer:<@backend>" and "<@prefix>failures" (all copied). Nothing is written
 * before the first heartbeat_tick. *@out is freed with heartbeat_free.
 * Returns 0, DADNS_ETOOBIG (a name too long) or DADNS_ENOMEM. */
int heartbeat_new(const char *prefix, const char *backend, const char *consumer,
                  struct heartbeat **out);

/* heartbeat_free - release @hb; NULL is fine. */
void heartbeat_free(struct heartbeat *hb);

/* heartbeat_fail - remember a failed (@dead 0: left pending for a retry) or dead-lettered
 * (@dead 1) change for the next write: @zone, @op, @version, @reason (copied, cut to fit; NULL
 * = ""), @attempts deliveries. At most HEARTBEAT_FAILURES_PER_BATCH wait at once; more are
 * dropped (the logs and the dead-letter stream have them all). */
void heartbeat_fail(struct heartbeat *hb, const char *zone, const char *op, uint64_t version,
                    const char *reason, uint64_t attempts, int dead);

/* heartbeat_tick - write the heartbeat when one is due: HEARTBEAT_INTERVAL_MS after the last
 * write; after a batch (@after_batch: a batch was just processed, its time is recorded) at most
 * every HEARTBEAT_BATCH_GAP_MS (a later tick writes what a throttled one skipped); at once when
 * failures wait. One pipelined round trip on @rc:
 * [LPUSH P failures <each waiting failure>, LTRIM P failures 0 199,] HSET P writer:<backend>
 * <consumer> <record>, EXPIRE P writer:<backend> 86400. The record's counters come from @s
 * (NULL = zeros) and @breaker_open. The waiting failures are gone afterwards, written or not.
 * Returns 0 (also when nothing was due) or DADNS_EREDIS/DADNS_EREPLY/DADNS_ENOMEM with @e set. */
int heartbeat_tick(struct heartbeat *hb, struct rconn *rc, const struct consumer_stats *s,
                   int breaker_open, int after_batch, struct err *e);

/* heartbeat_drop - forget the waiting failures (their batch failed in Redis and will be read
 * again). */
void heartbeat_drop(struct heartbeat *hb);

#endif
