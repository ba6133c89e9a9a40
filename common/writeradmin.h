/* writeradmin.h -- the admin listener of a writer process (dadns-writer-bind, -mysql): admin.h's
 * /metrics, /healthz, /livez and /readyz with what a writer exposes.
 *
 * Owns the writer's metrics registry, its families and their refresh at scrape time from the
 * consumer loop's struct consumer_stats (atomics the loop updates; nothing here touches the
 * loop's Redis connection or the backend), the Redis-side gauges (redisstats.h, a connection
 * of their own) and what "ready" means for a writer. Families (backend = the served backend):
 *   dadns_build_info{version,service}, dadns_process_start_time_seconds
 *   dadns_writer_changes_total{backend,result}   result: applied stale retry dead skipped
 *                                                verified repaired (metrics_writer_results)
 *   dadns_writer_apply_seconds{backend}          histogram of backend apply calls
 *   dadns_writer_breaker_open{backend}           1 while the circuit breaker is open
 *   dadns_writer_last_apply_timestamp_seconds{backend}  absent until something was applied
 *   dadns_redis_*, dadns_stream_*, dadns_dead_letters  (redisstats.h; reconnects include the
 *                                                consumer connection's)
 * /readyz: 200 once writeradmin_serving was called, Redis answers PING on the listener's own
 * connection and the circuit breaker is closed; else 503 with the reason. The backend itself is
 * never probed from the listener's threads (backends are not thread-safe). */
#ifndef DADNS_WRITERADMIN_H
#define DADNS_WRITERADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "consumer.h"
#include "err.h"

struct writeradmin;

/* writeradmin_start - register the families above for backend @bc of @cfg and service @service
 * (build info label, e.g. "writer-bind"), then listen on metrics.listen_addr:metrics.port.
 * @stats is read at every scrape (borrowed: it and @cfg must outlive the listener). With
 * metrics.port 0 nothing listens but *@out is still a valid handle. *@out is released with
 * writeradmin_stop. Returns 0, or DADNS_ECONFIG/DADNS_EIO (cannot listen)/DADNS_EINVAL/
 * DADNS_ENOMEM with @e set. */
int writeradmin_start(const struct config *cfg, const struct backend_conf *bc, const char *service,
                      const struct consumer_stats *stats, struct writeradmin **out, struct err *e);

/* writeradmin_serving - the backend is open and the consumer loop is about to run: /readyz may
 * now answer 200. Any thread. NULL is fine. */
void writeradmin_serving(struct writeradmin *wa);

/* writeradmin_port - the port listened on, 0 when off (or @wa NULL). */
int writeradmin_port(const struct writeradmin *wa);

/* writeradmin_stop - stop listening (waits for requests in progress) and release @wa; NULL is
 * fine. */
void writeradmin_stop(struct writeradmin *wa);

/* writeradmin_spread - what to observe into a histogram with the @n finite upper bounds
 * @bounds (+Inf implied) so that it gains @delta[i] observations in bucket i (i = 0..@n, @n
 * being +Inf; bucket i holds values in (@bounds[i-1], @bounds[i]], bucket 0 values <=
 * @bounds[0]) and its sum grows by @sum: observe @values[i] @delta[i] times (@values has @n + 1
 * entries; entries without observations are 0). When @sum cannot be reached inside the
 * buckets' ranges the nearest reachable total is used. Pure. Used to replay the consumer's
 * cumulative latency buckets (counts plus a sum) into the registry's histogram. */
void writeradmin_spread(const double *bounds, size_t n, const uint64_t *delta, double sum,
                        double *values);

#endif
