/* ingestmetrics.h -- what dadns-ingest exposes on its admin listener (admin.h): the metrics the
 * HTTP threads update, and readiness.
 *
 * Owns ingest's registry and families, their thread-safe updates, the bounded classification
 * of requests into endpoint and code labels (pure), the Redis-side gauges (redisstats.h, a
 * connection of their own) and the listener's /readyz, which answers as the main port's
 * /readyz does (spooler_ready, on a store of its own). Families:
 *   dadns_build_info{version,service}, dadns_process_start_time_seconds
 *   dadns_http_requests_total{endpoint,code}  endpoint: login_test exists rawsave delete probe
 *                                             healthz readyz status other; code: 200 400 401
 *                                             404 405 413 503 other
 *   dadns_ingest_pushes_total{result}         rawsave and delete requests: accepted rejected
 *                                             spooled error (metrics_push_results)
 *   dadns_ingest_publish_seconds              histogram of the store/spool write of a push
 *   dadns_ingest_spool_records                records waiting in the spool (at scrape time)
 *   dadns_redis_*, dadns_stream_*, dadns_dead_letters  (redisstats.h) */
#ifndef DADNS_INGESTMETRICS_H
#define DADNS_INGESTMETRICS_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "metrics.h"
#include "request.h"
#include "spooler.h"

enum ingestmetrics_endpoint {
    INGESTMETRICS_LOGIN_TEST = 0,
    INGESTMETRICS_EXISTS,
    INGESTMETRICS_RAWSAVE,
    INGESTMETRICS_DELETE,
    INGESTMETRICS_PROBE, /* /CMD_API_DNS_ADMIN without an action */
    INGESTMETRICS_HEALTHZ,
    INGESTMETRICS_READYZ,
    INGESTMETRICS_STATUS, /* the status page */
    INGESTMETRICS_OTHER,
    INGESTMETRICS_ENDPOINTS /* count */
};

struct ingestmetrics;

/* ingestmetrics_endpoint - the endpoint of a request from what is known before it is parsed:
 * @path (without the query), the query's "action" @action (NULL = none) and the request body
 * (@body, @body_len octets, may be NULL: a form body's action counts when @action is NULL).
 * Pure. */
enum ingestmetrics_endpoint ingestmetrics_endpoint(const char *path, const char *action,
                                                   const char *body, size_t body_len);

/* ingestmetrics_endpoint_of - the endpoint of a parsed request's @action. Pure. */
enum ingestmetrics_endpoint ingestmetrics_endpoint_of(enum da_action action);

/* ingestmetrics_code - the code label index of HTTP status @status (the last, "other", for a
 * status outside the set). Pure. */
size_t ingestmetrics_code(int status);

/* ingestmetrics_start - register the families above, prepare the Redis gauges and listen on
 * metrics.listen_addr:metrics.port of @cfg (0 = no listener, *@out still valid). @cfg and @sl
 * are borrowed and must outlive the result. Release with ingestmetrics_stop. Returns 0, or
 * DADNS_ECONFIG/DADNS_EIO (cannot listen)/DADNS_EINVAL/DADNS_ENOMEM with @e set. */
int ingestmetrics_start(const struct config *cfg, struct spooler *sl, struct ingestmetrics **out,
                        struct err *e);

/* ingestmetrics_port - the port listened on, 0 when off or @im is NULL. */
int ingestmetrics_port(const struct ingestmetrics *im);

/* ingestmetrics_stop - stop the listener (waits for requests in progress), release @im. NULL
 * is fine. Call after the HTTP server stopped (its threads update @im). */
void ingestmetrics_stop(struct ingestmetrics *im);

/* ingestmetrics_request - count one answered request. Any thread; @im NULL does nothing. */
void ingestmetrics_request(struct ingestmetrics *im, enum ingestmetrics_endpoint ep, int status);

/* ingestmetrics_push - count one rawsave/delete outcome. Any thread; NULL does nothing. */
void ingestmetrics_push(struct ingestmetrics *im, enum metrics_push_result result);

/* ingestmetrics_publish - observe one write's duration (@seconds). Any thread; NULL is fine. */
void ingestmetrics_publish(struct ingestmetrics *im, double seconds);

/* ingestmetrics_registry - the registry (borrowed), for tests. */
struct metrics *ingestmetrics_registry(struct ingestmetrics *im);

#endif
