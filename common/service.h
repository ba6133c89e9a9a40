/* service.h -- what the writer services' main.c files do alike: choose the backend to serve from
 * the configuration, turn SIGINT/SIGTERM into a bounded stop of the consumer loop, and the
 * whole start up to the admin listener (service_writer_start).
 *
 * Arguments, the backend and the run loop stay in each main.c (ingest waits for its signals with
 * sigwait and does not use this). */
#ifndef DADNS_SERVICE_H
#define DADNS_SERVICE_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"
#include "consumer.h"
#include "err.h"
#include "writeradmin.h"

/* The backend types one writer serves. Borrowed; static data in practice. */
struct service_kind {
    bool (*accepts)(const struct backend_conf *bc); /* true for a backend of a served type */
    const char *types;  /* those types in messages: "bind", "coredns_mysql or powerdns_mysql" */
    const char *family; /* short name in messages ("several enabled <family> backends") */
};

/* service_pick_backend - the backend to serve: the one named @name (NULL = none given), which
 * must exist, be accepted by @kind and be enabled; or, without a name, the only enabled backend
 * @kind accepts. On success sets *@out (borrowed from @cfg, valid until config_free) and
 * returns 0; else returns DADNS_ECONFIG with @e->text naming the file and the reason, e.g.
 * "/etc/dadns.yaml: backend \"b\" is disabled" or "...: several enabled bind backends (\"a\",
 * \"b\"...): choose one with -b". */
int service_pick_backend(const struct config *cfg, const char *name,
                         const struct service_kind *kind, const struct backend_conf **out,
                         struct err *e);

/* service_signals_install - from now on SIGINT and SIGTERM set *@stop to 1 (nothing else, so
 * the loop that watches it ends cleanly) and SIGPIPE is ignored (a peer gone shows as an error
 * return). @stop is borrowed and must live as long as the process; the last call wins. */
void service_signals_install(volatile sig_atomic_t *stop);

/* service_stop_bound - bound the stop that service_signals_install starts: from then on the
 * first SIGINT/SIGTERM also calls @wake (may be NULL; must be async-signal-safe, e.g.
 * consumer_wake, so a blocking read returns at once) and arms a @timeout_s second alarm after
 * which the process exits 0 whatever it is doing (work not finished is safe: unacknowledged
 * stream entries stay pending in Redis and are read again at the next start); a second signal
 * exits 0 at once. Signals are installed without SA_RESTART. @timeout_s <= 0 = no alarm. */
void service_stop_bound(int timeout_s, void (*wake)(void));

/* service_writer_start - the start every writer shares, in order: config_load(@path), the
 * backend (service_pick_backend with @name and @kind), log_init(@service), the stop signals on
 * *@stop bounded by writer.stop_timeout_s (waking the consumer), *@stats initialized, and the
 * admin listener (writeradmin_start) so /healthz answers while the backend opens. On success
 * sets *@cfg (caller frees with config_free), *@bc (borrowed from it) and *@wa (caller stops it
 * with writeradmin_stop) and returns 0; otherwise reports on stderr ("@prog: reason") or in the
 * log, and returns non-zero with *@cfg and *@wa set to what must still be freed (or NULL). */
int service_writer_start(const char *prog, const char *service, const char *path, const char *name,
                         const struct service_kind *kind, volatile sig_atomic_t *stop,
                         struct consumer_stats *stats, struct config **cfg,
                         const struct backend_conf **bc, struct writeradmin **wa);

#endif
