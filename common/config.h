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
    BACKEND_BIND = 1,       /* "bind": zone files + named.conf include + rndc */
    BACKEND_COREDNS_MYSQL,  /* "coredns_mysql": rows for CoreDNS mysql_extend (cybercinch) */
    BACKEND_POWERDNS_MYSQL, /* "powerdns_mysql": rows for PowerDNS gmysql */
};

/* One entry of dns.backends. Strings are owned by the config and never NULL unless noted. */
struct backend_conf {
    char *name;             /* the key under dns.backends; also the consumer group name */
    enum backend_type type; /* required key "type" */
    bool enabled;           /* "enabled", default true */
    /* type bind */
    char *zones_dir;   /* "zones_dir": zone files directory (bind: required, absolute) */
    char *named_conf;  /* "named_conf": include file dadns regenerates (ditto) */
    char *rndc;        /* "rndc": rndc binary, default "rndc" (looked up in PATH) */
    char *rndc_conf;   /* "rndc_conf": -c file for rndc, "" = rndc's default */
    char *rndc_server; /* "rndc_server": -s, "" = rndc's default */
    int rndc_port;     /* "rndc_port": -p, 0-65535, 0 = rndc's default */
    int rndc_parallel; /* "rndc_parallel": rndc processes at once, 1-64, default 4 */
    char *query_addr;  /* "query_addr": where named answers DNS (inventory SOA queries),
                          IPv4/IPv6 literal, default "127.0.0.1" */
    int query_port;    /* "query_port": 1-65535, default 53 */
    /* types coredns_mysql and powerdns_mysql */
    char *host;            /* "host": server, default "127.0.0.1" ("" only with socket set) */
    int port;              /* "port": 1-65535, default 3306 */
    char *socket;          /* "socket": unix socket path, "" = none; overrides host/port */
    char *user;            /* "user": required for the mysql types (NULL when unset) */
    char *password;        /* "password": default "" */
    char *database;        /* "database": required for the mysql types (NULL when unset) */
    char *zones_table;     /* "zones_table": [A-Za-z0-9_]{1,64}; default "zones" (coredns)
                              or "domains" (powerdns); NULL for other types when unset */
    char *records_table;   /* "records_table": [A-Za-z0-9_]{1,64}, default "records" */
    char *state_table;     /* "state_table": [A-Za-z0-9_]{1,64}, default "dadns_state" */
    bool init_schema;      /* "init_schema": create missing tables at start, default false */
    bool tls;              /* "tls": require TLS to the server, default false */
    bool tls_verify;       /* "tls_verify": verify the server certificate, default true */
    char *tls_ca;          /* "tls_ca": CA file, "" = the system's */
    int connect_timeout_s; /* "connect_timeout_s": 1-3600, default 10; read/write timeouts are
                              6x, the InnoDB lock wait 2x */
    int txn_retries;       /* "txn_retries": 0-100, default 5 (on deadlock / lock wait) */
    int group_size;        /* "group_size": zones committed in one transaction, 1-256,
                              default 32 (1 = one transaction per zone) */
    char *post_commit;     /* "post_commit": command after a zone's commit, "" = none */
    char *post_create;     /* "post_create": command once per batch that created zones */
    char *managed_by;      /* "managed_by": ownership marker, 1-40 characters, default "dadns" */
};

/* One entry of directadmin.servers: a DirectAdmin server the reconciler lists zones from.
 * Strings are owned by the config and never NULL after a successful config_load. The first
 * member is the name, like struct backend_conf (config.c relies on it). */
struct da_server_conf {
    char *name;      /* the key under directadmin.servers, [a-z0-9][a-z0-9_-]{0,62} */
    char *host;      /* "host": DA's address: a host name, IPv4 or IPv6 literal (required) */
    int port;        /* "port": 1-65535, default 2222 */
    char *user;      /* "user": an admin-level DA account (required) */
    char *password;  /* "password": default "" */
    bool tls;        /* "tls": https (default true) or plain http */
    bool tls_verify; /* "tls_verify": verify DA's certificate and name, default true */
    int timeout_s;   /* "timeout_s": limit of each HTTP request, 1-3600, default 30 */
    char *hostname;  /* "hostname": the DA server's own host name as recorded as the zones'
                        owner (the hostname= DA sends with its pushes), 1-255 printable ASCII
                        without blanks, quotes or '\'; default = host. Unique among the
                        servers, case-insensitively */
    int page_size;   /* "page_size": zones per page of the JSON listing (ipp), 1-100000,
                        default 1000 */
};

struct config {
    char *path; /* file that was read, or "(defaults)" when none */

    /* app: the ingest service (DirectDNSOnly key names) */
    char *auth_username;    /* app.auth_username, default "directdnsonly" */
    char *auth_password;    /* app.auth_password, no default ("" = unset; ingest refuses) */
    char *auth_realm;       /* app.auth_realm, default "dadns" */
    char *listen_addr;      /* app.listen_addr, default "0.0.0.0" */
    int listen_port;        /* app.listen_port, 1-65535, default 2222 */
    size_t max_body_bytes;  /* app.max_body_bytes, 1024..1 GiB, default 4194304 */
    int workers;            /* app.workers: HTTP worker threads, 1-256, default 64 */
    int parent_exists_code; /* app.parent_exists_code: 2 or 3 (default 3) for exists on parent */
    char *spool_dir;        /* app.spool_dir: where pushes wait while Redis is unreachable,
                               default "/var/lib/dadns/spool", "" = no spool (answer 503) */
    size_t spool_max_bytes; /* app.spool_max_bytes: 64 KiB..64 GiB, default 256 MiB */

    /* log */
    char *log_level;  /* log.level: debug|info|warn|error, default info */
    char *log_format; /* log.format: kv|json, default kv */

    /* redis */
    char *redis_host;     /* redis.host, default 127.0.0.1 */
    int redis_port;       /* redis.port, 1-65535, default 6379 */
    char *redis_password; /* redis.password, default "" (no AUTH) */
    int redis_db;         /* redis.db, 0-15, default 0 */
    char *redis_prefix;   /* redis.prefix: key prefix, default "dadns:" */
    int redis_timeout_ms; /* redis.timeout_ms: connect/command timeout, 100-600000, default 5000 */
    long stream_maxlen;   /* redis.stream_maxlen: approx. XADD MAXLEN, >= 1000, default 1000000 */

    /* writer: shared by every writer service */
    char *consumer_name;  /* writer.consumer_name, default gethostname(), "dadns" if empty */
    int batch_size;       /* writer.batch_size: entries per XREADGROUP, 1-100000, default 1000 */
    int block_ms;         /* writer.block_ms: BLOCK, 1-60000, < timeout_ms, default 2000 */
    int retry_interval_s; /* writer.retry_interval_s: how often the pending list is scanned
                             for due retries and entries to claim, 1-86400, default 5 */
    int retry_base_s;     /* writer.retry_base_s: first retry delay, 1-86400, default 5 */
    int retry_cap_s;      /* writer.retry_cap_s: longest retry delay, 1-86400, default 600 */
    int max_attempts;     /* writer.max_attempts: deliveries before a dead letter, default 20 */
    int claim_idle_s;     /* writer.claim_idle_s: idle time after which another consumer's
                             pending entry is taken over, 1-86400, default 60 */
    int breaker_failures; /* writer.breaker_failures: consecutive failed batches that open the
                             circuit breaker, default 3 */
    int breaker_probe_s;  /* writer.breaker_probe_s: probe interval while open, default 10 */
    int stop_timeout_s;   /* writer.stop_timeout_s: longest graceful stop, default 20 */
    long dead_maxlen;     /* writer.dead_maxlen: approx. MAXLEN of a dead-letter stream,
                             >= 100, default 100000 */

    /* metrics: the admin listener every service runs (/metrics, /healthz, /readyz) */
    char *metrics_addr; /* metrics.listen_addr, default "127.0.0.1" */
    int metrics_port;   /* metrics.port, 0-65535 (0 = off), default 9400 */

    /* reconciler */
    int rec_interval_s;            /* reconciler.interval_s: between passes, default 900 */
    int rec_initial_delay_s;       /* reconciler.initial_delay_s: before the first, default 30 */
    int rec_max_delete_percent;    /* reconciler.max_delete_percent: guard, 0-100, default 10 */
    bool rec_dry_run;              /* reconciler.dry_run: report only, default false */
    bool rec_force;                /* reconciler.force: let the guard pass, default false */
    int rec_lock_ttl_s;            /* reconciler.lock_ttl_s: pass lock expiry, default 600 */
    int rec_tombstone_retention_s; /* reconciler.tombstone_retention_s: default 7 days */
    int rec_inventory_timeout_s;   /* reconciler.inventory_timeout_s: wait for writers, 120 */

    struct backend_conf *backends; /* dns.backends in file order, then env-created ones by name */
    size_t n_backends;

    struct da_server_conf *da_servers; /* directadmin.servers, ordered like backends */
    size_t n_da_servers;
};

/* config_load - start from the embedded defaults, read @path (NULL or "" = no file: defaults
 * only), then apply DADNS_* variables from the environment, then validate.
 *
 * The file: one YAML document whose top level is a mapping with the sections app, log, redis,
 * writer, metrics, reconciler, dns and directadmin (each may be empty or null); dns has the one
 * key "backends", a mapping of backend name -> mapping of backend keys; directadmin has the one
 * key "servers", a mapping of server name -> mapping of server keys. Backend and server names
 * match [a-z0-9][a-z0-9_-]{0,62} and keep their file order. Integers are decimal (quoted or not)
 * within the ranges above; booleans are true/false/yes/no/on/off/1/0 (any case); a YAML null,
 * mapping or sequence where a value is expected is an error; strings must not contain control
 * characters. Duplicate keys, unknown keys and a second document are errors.
 *
 * The environment: the variable for key a.b.c is DADNS_A_B_C in upper case with '.' and '-'
 * turned into '_', e.g. DADNS_APP_AUTH_PASSWORD, DADNS_REDIS_PORT,
 * DADNS_DNS_BACKENDS_BIND_ZONES_DIR. Values are checked like the file's (an empty value is the
 * empty string). For DADNS_DNS_BACKENDS_<NAME>_<KEY> the longest backend key that ends the
 * variable is the key, so names containing '_' work; <NAME> selects the backend whose name,
 * so spelled, is <NAME> (two backends that would share a spelling, such as a-b and a_b, are an
 * error); a backend named only in the environment is created with the lower-cased <NAME> as
 * its name, after those of the file, sorted by name. DirectAdmin servers work the same way
 * with DADNS_DIRECTADMIN_SERVERS_<NAME>_<KEY>, e.g. DADNS_DIRECTADMIN_SERVERS_DA1_PASSWORD. DADNS_*
 * variables that match no key are ignored on purpose: other tools (tests, scripts) use the prefix
 * too, so a misspelled variable is silently without effect.
 *
 * Validation: every backend needs "type"; type bind needs zones_dir and named_conf (absolute
 * paths without '"' or '\'); types coredns_mysql and powerdns_mysql need user and database,
 * and host unless socket is set; table names match [A-Za-z0-9_]{1,64} (they are put into SQL
 * text), managed_by has 1-40 characters; writer.block_ms must be less than redis.timeout_ms.
 * Keys of one type are accepted (and ignored) in a backend of another type. Every DirectAdmin
 * server needs host and user; its hostname defaults to its host and no two servers may share
 * a hostname (compared case-insensitively), since it says which server owns a stored zone.
 *
 * Errors are DADNS_ECONFIG (DADNS_ENOMEM when out of memory) with @e->text naming the file,
 * line and key, or the variable, and @e->line set for file errors, e.g.
 *   "dadns.yaml:12: app.listen_port: expected an integer 1-65535, got \"abc\""
 *   "dadns.yaml:7: unknown key app.listn_port"
 *   "dadns.yaml:3: dns.backends.bind: missing required key zones_dir"
 *   "dadns.yaml:9: directadmin.servers.da1: missing required key host"
 *   "environment DADNS_REDIS_PORT: expected an integer 1-65535, got \"x\""
 *   "cannot read dadns.yaml: No such file or directory"
 * The file name in messages is @path as given. Files over 1 MiB are refused.
 * On success *@out is a new config (caller frees with config_free); on failure *@out is NULL.
 * Reads the file and the environment; no other I/O, no logging. */
int config_load(const char *path, struct config **out, struct err *e);

/* config_free - release @c and every string and backend it owns; NULL is fine. */
void config_free(struct config *c);

/* config_backend - the backend named @name (exact match), borrowed from @c (valid until
 * config_free), or NULL when there is none or either argument is NULL. */
const struct backend_conf *config_backend(const struct config *c, const char *name);

/* config_da_server - the DirectAdmin server named @name (exact match), borrowed from @c (valid
 * until config_free), or NULL when there is none or either argument is NULL. */
const struct da_server_conf *config_da_server(const struct config *c, const char *name);

#endif
