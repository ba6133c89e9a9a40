/* config.h -- the dadns configuration: one YAML file (libyaml) with a section per service,
 * every key overridable by a DADNS_* environment variable, embedded defaults for the rest.
 *
 * Owns parsing, defaults, environment overrides and validation of the values; services only
 * read the resulting struct. Errors name the file, the line and the key (or the variable). */
#ifndef DADNS_CONFIG_H
#define DADNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Backend kinds (dns.backends.<name>.type). */
enum backend_type {
    BACKEND_BIND = 1, /* "bind": zone files + named.conf include + rndc */
};

/* One entry of dns.backends. Strings are owned by the config and never NULL unless noted. */
struct backend_conf {
    char *name;             /* the key under dns.backends; also the consumer group name */
    enum backend_type type; /* required key "type" */
    bool enabled;           /* "enabled", default true */
    /* type bind */
    char *zones_dir;  /* "zones_dir": directory of zone files (required for bind) */
    char *named_conf; /* "named_conf": include file dadns regenerates (required for bind) */
    char *rndc;       /* "rndc": rndc binary, default "rndc" (looked up in PATH) */
    char *rndc_conf;  /* "rndc_conf": -c file for rndc, "" = rndc's default */
    char *rndc_server; /* "rndc_server": -s, "" = rndc's default */
    int rndc_port;     /* "rndc_port": -p, 0 = rndc's default */
    int rndc_parallel; /* "rndc_parallel": rndc processes run at once, default 4 */
};

struct config {
    char *path; /* file that was read, or "(defaults)" when none */

    /* app: the ingest service (DirectDNSOnly key names) */
    char *auth_username;   /* app.auth_username, default "directdnsonly" */
    char *auth_password;   /* app.auth_password, no default ("" = unset; ingest refuses) */
    char *auth_realm;      /* app.auth_realm, default "dadns" */
    char *listen_addr;     /* app.listen_addr, default "0.0.0.0" */
    int listen_port;       /* app.listen_port, default 2222 */
    size_t max_body_bytes; /* app.max_body_bytes, default 4194304 */
    int workers;           /* app.workers: HTTP worker threads, default 16 */
    int parent_exists_code; /* app.parent_exists_code: 2 or 3 (default 3) for exists on parent */

    /* log */
    char *log_level;  /* log.level: debug|info|warn|error, default info */
    char *log_format; /* log.format: kv|json, default kv */

    /* redis */
    char *redis_host;     /* redis.host, default 127.0.0.1 */
    int redis_port;       /* redis.port, default 6379 */
    char *redis_password; /* redis.password, default "" (no AUTH) */
    int redis_db;         /* redis.db, default 0 */
    char *redis_prefix;   /* redis.prefix: key prefix, default "dadns:" */
    int redis_timeout_ms; /* redis.timeout_ms: connect and command timeout, default 5000 */
    long stream_maxlen;   /* redis.stream_maxlen: approximate XADD MAXLEN, default 1000000 */

    /* writer: shared by every writer service */
    char *consumer_name;  /* writer.consumer_name, default "<hostname>" */
    int batch_size;       /* writer.batch_size: entries per XREADGROUP, default 1000 */
    int block_ms;         /* writer.block_ms: XREADGROUP BLOCK, default 2000 (< timeout_ms) */
    int retry_interval_s; /* writer.retry_interval_s: re-read own pending, default 30 */

    struct backend_conf *backends; /* dns.backends in file order */
    size_t n_backends;
};

/* config_load - read @path (NULL or "" = no file: defaults only), then apply DADNS_* variables
 * from the environment, then validate. The variable for key a.b.c is DADNS_A_B_C in upper case,
 * e.g. DADNS_APP_AUTH_PASSWORD, DADNS_REDIS_PORT, DADNS_DNS_BACKENDS_BIND_ZONES_DIR (a backend
 * named in a variable but absent from the file is created by it).
 * Unknown keys, wrong types, out-of-range values and missing required keys are DADNS_ECONFIG
 * with @e naming the file, line and key, e.g. "dadns.yaml:12: app.listen_port: expected an
 * integer 1-65535, got \"abc\"". On success *@out is a new config (free with config_free). */
int config_load(const char *path, struct config **out, struct err *e);

/* config_free - release @c; NULL is fine. */
void config_free(struct config *c);

/* config_backend - the backend named @name, borrowed from @c, or NULL. */
const struct backend_conf *config_backend(const struct config *c, const char *name);

#endif
