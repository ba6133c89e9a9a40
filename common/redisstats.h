/* redisstats.h -- the Redis-side gauges of /metrics, computed at scrape time on a connection of
 * their own (never a consumer's): Redis up, reconnects, stream length, and per consumer group
 * pending, lag, oldest pending age and consumers, and per backend the dead-letter length.
 *
 * Owns that connection (short timeouts, so a scrape never blocks for long), the commands and
 * the reading of their replies into metrics families. Which backends to watch and when to
 * scrape are the service's (admin's collect callback calls redisstats_collect). Not
 * thread-safe: call it from one thread at a time (admin serializes its callbacks).
 *
 * Families registered (P = redis.prefix; group and backend label values = the backend names):
 *   dadns_redis_up                            1 when PING answered on this scrape, else 0
 *   dadns_redis_reconnects_total              reconnections of this connection; services add
 *                                             their own connections' with metrics_counter_add
 *   dadns_stream_length                       XLEN P changes
 *   dadns_stream_pending{group}               XINFO GROUPS pending
 *   dadns_stream_lag{group}                   XINFO GROUPS lag (absent when Redis says nil)
 *   dadns_stream_oldest_pending_seconds{group} Redis time minus the time in the smallest
 *                                             pending entry id (XPENDING summary); 0 when
 *                                             nothing is pending
 *   dadns_stream_consumers{group}             XINFO GROUPS consumers
 *   dadns_dead_letters{backend}               XLEN P dead:<backend>
 * A group that does not exist (yet) has no group series; when Redis is down, redis_up is 0
 * and every other gauge is absent. */
#ifndef DADNS_REDISSTATS_H
#define DADNS_REDISSTATS_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "metrics.h"

/* Longest wait for one Redis step of a scrape (connect or reply); lower when redis.timeout_ms
 * is lower. */
#define REDISSTATS_TIMEOUT_MS 400

struct redisstats;

/* redisstats_new - register the families above in @reg and prepare a lazily connected Redis
 * connection for @cfg named @client_name (copied). The groups/backends watched are the @n
 * names @backends (copied), or every backend of @cfg when @backends is NULL; with none at all
 * the per-group and per-backend families are not registered. @cfg is only read during the
 * call; @reg is borrowed and must outlive the result. *@out is freed with redisstats_free.
 * Returns 0, or DADNS_EINVAL (a family already registered, e.g. a second redisstats on one
 * registry) or DADNS_ENOMEM with @e set. */
int redisstats_new(const struct config *cfg, struct metrics *reg, const char *client_name,
                   const char *const *backends, size_t n, struct redisstats **out, struct err *e);

/* redisstats_free - close the connection and release @rs (its families stay in the
 * registry); NULL is fine. */
void redisstats_free(struct redisstats *rs);

/* redisstats_collect - refresh every gauge from Redis: PING, then one pipelined round trip
 * (TIME, XLEN, XINFO GROUPS, XPENDING per group, XLEN per dead-letter stream). A command
 * Redis refuses (no such stream or group) only leaves its series absent. Returns 0, or
 * DADNS_EREDIS (unreachable, connection lost), DADNS_EREPLY (PING or AUTH refused) or
 * DADNS_ENOMEM, with @e set; redis_up is then 0 and the rest absent. */
int redisstats_collect(struct redisstats *rs, struct err *e);

/* redisstats_ping - PING on the stats connection, for a readiness check. Returns 0 or
 * DADNS_EREDIS/DADNS_EREPLY with @e set (e.g. "Redis connection lost: ..."). */
int redisstats_ping(struct redisstats *rs, struct err *e);

/* redisstats_entry_ms - the milliseconds part of stream entry id @id ("<ms>-<seq>"), into
 * *@ms. Pure; returns 0 or DADNS_EINVAL. */
int redisstats_entry_ms(const char *id, size_t len, unsigned long long *ms);

#endif
