/* config.c -- the dadns configuration: embedded defaults, then one YAML file (libyaml document
 * API), then DADNS_* environment overrides, then cross-checks. Reading the file and the
 * environment is its only I/O; what the values mean is left to the services. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"

#define CONFIG_MAX_FILE ((size_t)1024 * 1024) /* a config file larger than this is refused */
#define ENTRY_NAME_MAX  63                    /* [a-z0-9][a-z0-9_-]{0,62} */
#define ENV_PREFIX      "DADNS_"
#define SHOW_MAX        48 /* octets of an offending value quoted in a message */

/* ------------------------------------------------------------------------------------------ */
/* The key tables: one row per key, the single source of names, types, ranges and defaults.   */

enum kind {
    KIND_STR,  /* char *, owned */
    KIND_INT,  /* int */
    KIND_LONG, /* long */
    KIND_SIZE, /* size_t */
    KIND_BOOL, /* bool */
    KIND_TYPE, /* enum backend_type */
};

#define F_NONEMPTY 0x1u  /* string must not be empty */
#define F_ABSPATH  0x2u  /* absolute path, written into named.conf between quotes */
#define F_NOQUOTE  0x4u  /* string must not contain '"' or '\\' (written between quotes) */
#define F_IDENT    0x8u  /* SQL identifier put into SQL text: [A-Za-z0-9_]{1,64} */
#define F_HOST     0x10u /* host name or IP literal put into a URL: [A-Za-z0-9._:-], or [v6] */
#define F_OWNER    0x20u /* DA owner name: printable ASCII without blanks, quotes or '\\' */
#define IDENT_MAX  64    /* longest table name (MySQL's limit) */

struct key {
    const char *section;        /* a top-level section; NULL for a key of a group entry */
    const char *name;           /* key inside its section or entry */
    enum kind kind;             /* C type of the field */
    unsigned flags;             /* F_* */
    size_t off;                 /* offset in struct config or in the group's entry struct */
    long long min, max;         /* range of the numeric kinds; KIND_STR: max length (0 = any) */
    const char *const *choices; /* KIND_STR: allowed values, NULL-terminated; or NULL */
    const char *sdef;           /* default of a KIND_STR (NULL = computed or required) */
    long long idef;             /* default of the other kinds */
};

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const formats[] = {"kv", "json", NULL};

#define CF(f) offsetof(struct config, f)
#define BF(f) offsetof(struct backend_conf, f)
#define SF(f) offsetof(struct da_server_conf, f)

static const struct key top_keys[] = {
    {"app", "auth_username", KIND_STR, F_NONEMPTY, CF(auth_username), 0, 0, NULL, "directdnsonly",
     0},
    {"app", "auth_password", KIND_STR, 0, CF(auth_password), 0, 0, NULL, "", 0},
    {"app", "auth_realm", KIND_STR, F_NONEMPTY | F_NOQUOTE, CF(auth_realm), 0, 0, NULL, "dadns", 0},
    {"app", "listen_addr", KIND_STR, F_NONEMPTY, CF(listen_addr), 0, 0, NULL, "0.0.0.0", 0},
    {"app", "listen_port", KIND_INT, 0, CF(listen_port), 1, 65535, NULL, NULL, 2222},
    {"app", "max_body_bytes", KIND_SIZE, 0, CF(max_body_bytes), 1024, 1073741824LL, NULL, NULL,
     4194304},
    {"app", "workers", KIND_INT, 0, CF(workers), 1, 256, NULL, NULL, 64},
    {"app", "parent_exists_code", KIND_INT, 0, CF(parent_exists_code), 2, 3, NULL, NULL, 3},
    {"app", "spool_dir", KIND_STR, F_NOQUOTE, CF(spool_dir), 0, 0, NULL, "/var/lib/dadns/spool", 0},
    {"app", "spool_max_bytes", KIND_SIZE, 0, CF(spool_max_bytes), 65536, 68719476736LL, NULL, NULL,
     268435456},
    {"log", "level", KIND_STR, 0, CF(log_level), 0, 0, levels, "info", 0},
    {"log", "format", KIND_STR, 0, CF(log_format), 0, 0, formats, "kv", 0},
    {"redis", "host", KIND_STR, F_NONEMPTY, CF(redis_host), 0, 0, NULL, "127.0.0.1", 0},
    {"redis", "port", KIND_INT, 0, CF(redis_port), 1, 65535, NULL, NULL, 6379},
    {"redis", "password", KIND_STR, 0, CF(redis_password), 0, 0, NULL, "", 0},
    {"redis", "db", KIND_INT, 0, CF(redis_db), 0, 15, NULL, NULL, 0},
    {"redis", "prefix", KIND_STR, 0, CF(redis_prefix), 0, 0, NULL, "dadns:", 0},
    {"redis", "timeout_ms", KIND_INT, 0, CF(redis_timeout_ms), 100, 600000, NULL, NULL, 5000},
    {"redis", "stream_maxlen", KIND_LONG, 0, CF(stream_maxlen), 1000, LONG_MAX, NULL, NULL,
     1000000},
    {"writer", "consumer_name", KIND_STR, F_NONEMPTY, CF(consumer_name), 0, 0, NULL, NULL, 0},
    {"writer", "batch_size", KIND_INT, 0, CF(batch_size), 1, 100000, NULL, NULL, 1000},
    {"writer", "block_ms", KIND_INT, 0, CF(block_ms), 1, 60000, NULL, NULL, 2000},
    {"writer", "retry_interval_s", KIND_INT, 0, CF(retry_interval_s), 1, 86400, NULL, NULL, 5},
    {"writer", "retry_base_s", KIND_INT, 0, CF(retry_base_s), 1, 86400, NULL, NULL, 5},
    {"writer", "retry_cap_s", KIND_INT, 0, CF(retry_cap_s), 1, 86400, NULL, NULL, 600},
    {"writer", "max_attempts", KIND_INT, 0, CF(max_attempts), 1, 100000, NULL, NULL, 20},
    {"writer", "claim_idle_s", KIND_INT, 0, CF(claim_idle_s), 1, 86400, NULL, NULL, 60},
    {"writer", "breaker_failures", KIND_INT, 0, CF(breaker_failures), 1, 100000, NULL, NULL, 3},
    {"writer", "breaker_probe_s", KIND_INT, 0, CF(breaker_probe_s), 1, 3600, NULL, NULL, 10},
    {"writer", "stop_timeout_s", KIND_INT, 0, CF(stop_timeout_s), 1, 3600, NULL, NULL, 20},
    {"writer", "dead_maxlen", KIND_LONG, 0, CF(dead_maxlen), 100, LONG_MAX, NULL, NULL, 100000},
    {"metrics", "listen_addr", KIND_STR, F_NONEMPTY, CF(metrics_addr), 0, 0, NULL, "127.0.0.1", 0},
    {"metrics", "port", KIND_INT, 0, CF(metrics_port), 0, 65535, NULL, NULL, 9400},
    {"reconciler", "interval_s", KIND_INT, 0, CF(rec_interval_s), 10, 604800, NULL, NULL, 900},
    {"reconciler", "initial_delay_s", KIND_INT, 0, CF(rec_initial_delay_s), 0, 86400, NULL, NULL,
     30},
    {"reconciler", "max_delete_percent", KIND_INT, 0, CF(rec_max_delete_percent), 0, 100, NULL,
     NULL, 10},
    {"reconciler", "dry_run", KIND_BOOL, 0, CF(rec_dry_run), 0, 0, NULL, NULL, 0},
    {"reconciler", "force", KIND_BOOL, 0, CF(rec_force), 0, 0, NULL, NULL, 0},
    {"reconciler", "lock_ttl_s", KIND_INT, 0, CF(rec_lock_ttl_s), 10, 86400, NULL, NULL, 600},
    {"reconciler", "tombstone_retention_s", KIND_INT, 0, CF(rec_tombstone_retention_s), 0, 31536000,
     NULL, NULL, 604800},
    {"reconciler", "inventory_timeout_s", KIND_INT, 0, CF(rec_inventory_timeout_s), 1, 3600, NULL,
     NULL, 120},
};

#define N_TOP (sizeof(top_keys) / sizeof(top_keys[0]))

static const struct key backend_keys[] = {
    {NULL, "type", KIND_TYPE, 0, BF(type), 0, 0, NULL, NULL, 0},
    {NULL, "enabled", KIND_BOOL, 0, BF(enabled), 0, 0, NULL, NULL, 1},
    {NULL, "zones_dir", KIND_STR, F_ABSPATH, BF(zones_dir), 0, 0, NULL, NULL, 0},
    {NULL, "named_conf", KIND_STR, F_ABSPATH, BF(named_conf), 0, 0, NULL, NULL, 0},
    {NULL, "rndc", KIND_STR, F_NONEMPTY, BF(rndc), 0, 0, NULL, "rndc", 0},
    {NULL, "rndc_conf", KIND_STR, 0, BF(rndc_conf), 0, 0, NULL, "", 0},
    {NULL, "rndc_server", KIND_STR, 0, BF(rndc_server), 0, 0, NULL, "", 0},
    {NULL, "rndc_port", KIND_INT, 0, BF(rndc_port), 0, 65535, NULL, NULL, 0},
    {NULL, "rndc_parallel", KIND_INT, 0, BF(rndc_parallel), 1, 64, NULL, NULL, 4},
    {NULL, "query_addr", KIND_STR, F_NONEMPTY, BF(query_addr), 0, 0, NULL, "127.0.0.1", 0},
    {NULL, "query_port", KIND_INT, 0, BF(query_port), 1, 65535, NULL, NULL, 53},
    {NULL, "host", KIND_STR, 0, BF(host), 0, 0, NULL, "127.0.0.1", 0},
    {NULL, "port", KIND_INT, 0, BF(port), 1, 65535, NULL, NULL, 3306},
    {NULL, "socket", KIND_STR, 0, BF(socket), 0, 0, NULL, "", 0},
    {NULL, "user", KIND_STR, F_NONEMPTY, BF(user), 0, 0, NULL, NULL, 0},
    {NULL, "password", KIND_STR, 0, BF(password), 0, 0, NULL, "", 0},
    {NULL, "database", KIND_STR, F_NONEMPTY, BF(database), 0, 0, NULL, NULL, 0},
    {NULL, "zones_table", KIND_STR, F_IDENT, BF(zones_table), 0, IDENT_MAX, NULL, NULL, 0},
    {NULL, "records_table", KIND_STR, F_IDENT, BF(records_table), 0, IDENT_MAX, NULL, "records", 0},
    {NULL, "state_table", KIND_STR, F_IDENT, BF(state_table), 0, IDENT_MAX, NULL, "dadns_state", 0},
    {NULL, "init_schema", KIND_BOOL, 0, BF(init_schema), 0, 0, NULL, NULL, 0},
    {NULL, "tls", KIND_BOOL, 0, BF(tls), 0, 0, NULL, NULL, 0},
    {NULL, "tls_verify", KIND_BOOL, 0, BF(tls_verify), 0, 0, NULL, NULL, 1},
    {NULL, "tls_ca", KIND_STR, 0, BF(tls_ca), 0, 0, NULL, "", 0},
    {NULL, "connect_timeout_s", KIND_INT, 0, BF(connect_timeout_s), 1, 3600, NULL, NULL, 10},
    {NULL, "txn_retries", KIND_INT, 0, BF(txn_retries), 0, 100, NULL, NULL, 5},
    {NULL, "group_size", KIND_INT, 0, BF(group_size), 1, 256, NULL, NULL, 32},
    {NULL, "post_commit", KIND_STR, 0, BF(post_commit), 0, 0, NULL, "", 0},
    {NULL, "post_create", KIND_STR, 0, BF(post_create), 0, 0, NULL, "", 0},
    {NULL, "managed_by", KIND_STR, F_NONEMPTY, BF(managed_by), 0, 40, NULL, "dadns", 0},
};

#define N_BACKEND_KEYS (sizeof(backend_keys) / sizeof(backend_keys[0]))

static const struct key server_keys[] = {
    {NULL, "host", KIND_STR, F_HOST, SF(host), 0, 253, NULL, NULL, 0},
    {NULL, "port", KIND_INT, 0, SF(port), 1, 65535, NULL, NULL, 2222},
    {NULL, "user", KIND_STR, F_NONEMPTY, SF(user), 0, 0, NULL, NULL, 0},
    {NULL, "password", KIND_STR, 0, SF(password), 0, 0, NULL, "", 0},
    {NULL, "tls", KIND_BOOL, 0, SF(tls), 0, 0, NULL, NULL, 1},
    {NULL, "tls_verify", KIND_BOOL, 0, SF(tls_verify), 0, 0, NULL, NULL, 1},
    {NULL, "timeout_s", KIND_INT, 0, SF(timeout_s), 1, 3600, NULL, NULL, 30},
    {NULL, "hostname", KIND_STR, F_OWNER, SF(hostname), 0, 255, NULL, NULL, 0},
    {NULL, "page_size", KIND_INT, 0, SF(page_size), 1, 100000, NULL, NULL, 1000},
};

/* A group: a mapping of named entries under a section of its own (dns.backends,
 * directadmin.servers), each entry a struct whose first member is its char *name. The
 * parsing, the environment variables and the messages are the same for every group. */
struct group {
    const char *section;    /* the top-level key, "dns" */
    const char *child;      /* its one key, "backends" */
    const char *path;       /* "dns.backends" */
    const char *env;        /* variable prefix, "DADNS_DNS_BACKENDS_" */
    const char *noun;       /* "backend", in "invalid backend name" */
    const struct key *keys; /* the keys of an entry */
    size_t n_keys;
    size_t size;  /* sizeof one entry */
    size_t items; /* offset in struct config of the entry array pointer */
    size_t count; /* offset in struct config of the size_t entry count */
};

enum { G_BACKENDS, G_SERVERS, N_GROUPS };

static const struct group groups[N_GROUPS] = {
    {"dns", "backends", "dns.backends", "DADNS_DNS_BACKENDS_", "backend", backend_keys,
     N_BACKEND_KEYS, sizeof(struct backend_conf), CF(backends), CF(n_backends)},
    {"directadmin", "servers", "directadmin.servers", "DADNS_DIRECTADMIN_SERVERS_", "server",
     server_keys, sizeof(server_keys) / sizeof(server_keys[0]), sizeof(struct da_server_conf),
     CF(da_servers), CF(n_da_servers)},
};

_Static_assert(offsetof(struct backend_conf, name) == 0, "an entry starts with its name");
_Static_assert(offsetof(struct da_server_conf, name) == 0, "an entry starts with its name");

/* Backend types by name, in enum order; the message for an unknown type lists them. */
static const struct {
    const char *name;
    enum backend_type type;
} backend_types[] = {
    {"bind", BACKEND_BIND},
    {"coredns_mysql", BACKEND_COREDNS_MYSQL},
    {"powerdns_mysql", BACKEND_POWERDNS_MYSQL},
};

#define KNOWN_TYPES "bind, coredns_mysql, powerdns_mysql"

/* ------------------------------------------------------------------------------------------ */
/* Load context and error helpers                                                             */

/* Where a value came from, for messages: a file line, or an environment variable. */
struct where {
    unsigned long line; /* 1-based line in the file; 0 when from the environment */
    const char *env;    /* the variable's name, or NULL when from the file */
    const char *path;   /* the key, e.g. "app.listen_port" */
};

struct ctx {
    struct config *c;
    struct err *e;
    const char *file;               /* file name used in messages */
    yaml_document_t *doc;           /* document being walked, or NULL */
    unsigned long top_line[N_TOP];  /* file line each top key was set at, 0 if not in the file */
    bool top_env[N_TOP];            /* set from the environment */
    unsigned long *lines[N_GROUPS]; /* per group entry: file line of its name, 0 if created by
                                       the environment */
};

/* entries - the entry array of group @g in @c. */
static char *entries(const struct config *c, const struct group *g)
{
    return *(char *const *)(const void *)((const char *)c + g->items);
}

/* count - the number of entries of group @g in @c. */
static size_t *count(struct config *c, const struct group *g)
{
    return (size_t *)(void *)((char *)c + g->count);
}

/* entry - entry @i of group @g in @c. */
static void *entry(const struct config *c, const struct group *g, size_t i)
{
    return entries(c, g) + i * g->size;
}

/* entry_name - the name of entry @i of group @g in @c. */
static const char *entry_name(const struct config *c, const struct group *g, size_t i)
{
    return *(char *const *)entry(c, g, i);
}

/* show - render @len octets of @v for a message: quoted, escaped, shortened. Returns @out. */
static const char *show(const char *v, size_t len, char *out, size_t n)
{
    size_t i, o = 0;

    if (n < 8)
        return "";
    out[o++] = '"';
    for (i = 0; i < len && i < SHOW_MAX && o + 6 < n; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    if (i < len && o + 5 < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* keytext - a mapping key for a message: as is when it is plain, else quoted. Returns @out. */
static const char *keytext(const char *v, size_t len, char *out, size_t n)
{
    size_t i;

    if (len == 0 || len >= n || len > SHOW_MAX)
        return show(v, len, out, n);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            ch != '_' && ch != '-' && ch != '.')
            return show(v, len, out, n);
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return out;
}

/* fail_at - DADNS_ECONFIG "file:line: text" (or "file: text" when @line is 0). */
static int fail_at(struct ctx *x, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct ctx *x, unsigned long line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line == 0)
        return err_setl(x->e, DADNS_ECONFIG, 0, 0, "%s: %s", x->file, msg);
    return err_setl(x->e, DADNS_ECONFIG, line, 0, "%s:%lu: %s", x->file, line, msg);
}

/* fail - DADNS_ECONFIG about the value at @w: "file:line: key: text" or "environment VAR: text". */
static int fail(struct ctx *x, const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *x, const struct where *w, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w->env != NULL)
        return err_setl(x->e, DADNS_ECONFIG, 0, 0, "environment %s: %s", w->env, msg);
    return err_setl(x->e, DADNS_ECONFIG, w->line, 0, "%s:%lu: %s: %s", x->file, w->line, w->path,
                    msg);
}

static int nomem(struct ctx *x)
{
    return err_set(x->e, DADNS_ENOMEM, "out of memory loading the configuration");
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                     */

/* describe - what @k expects, for "expected ..." messages. */
static void describe(const struct key *k, char *out, size_t n)
{
    size_t o = 0;
    int i;

    switch (k->kind) {
    case KIND_STR:
        if (k->flags & F_IDENT) {
            snprintf(out, n, "a table name ([A-Za-z0-9_]{1,%lld})", k->max);
            return;
        }
        if (k->flags & F_HOST) {
            snprintf(out, n, "a host name or IP address");
            return;
        }
        if (k->choices == NULL) {
            snprintf(out, n, "%s", (k->flags & F_ABSPATH) ? "an absolute path" : "a string");
            return;
        }
        o = (size_t)snprintf(out, n, "one of ");
        for (i = 0; k->choices[i] != NULL && o < n; i++)
            o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "|" : "", k->choices[i]);
        return;
    case KIND_INT:
    case KIND_LONG:
    case KIND_SIZE:
        if (k->max == LONG_MAX)
            snprintf(out, n, "an integer >= %lld", k->min);
        else
            snprintf(out, n, "an integer %lld-%lld", k->min, k->max);
        return;
    case KIND_BOOL:
        snprintf(out, n, "a boolean (true/false/yes/no/on/off/1/0)");
        return;
    case KIND_TYPE:
        snprintf(out, n, "a backend type (" KNOWN_TYPES ")");
        return;
    }
}

/* parse_ll - a whole decimal integer: no blanks, no trailing text, no overflow. */
static bool parse_ll(const char *s, long long *out)
{
    char *end = NULL;
    long long v;

    if (!((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* valid_host - @v (@len octets) is a host name, an IPv4 literal, or an IPv6 literal with or
 * without brackets: [A-Za-z0-9._-] or [0-9A-Fa-f:.], nothing a URL would read differently. */
static bool valid_host(const char *v, size_t len)
{
    bool v6 = false;
    size_t i;

    if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
        v++;
        len -= 2;
        v6 = true;
    }
    if (len == 0)
        return false;
    if (memchr(v, ':', len) != NULL)
        v6 = true;
    for (i = 0; i < len; i++) {
        char ch = v[i];
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');

        if (v6 ? !(hex || ch == ':' || ch == '.')
               : !(hex || (ch >= 'g' && ch <= 'z') || (ch >= 'G' && ch <= 'Z') || ch == '.' ||
                   ch == '-' || ch == '_'))
            return false;
    }
    return v[0] != '-' && v[0] != '.';
}

/* check_string - the checks every string value gets, plus those of @k's flags and choices. */
static int check_string(struct ctx *x, const struct key *k, const char *v, size_t len,
                        const struct where *w)
{
    char what[96], got[SHOW_MAX * 4 + 8];
    size_t i;

    describe(k, what, sizeof(what));
    if (k->choices != NULL) {
        for (i = 0; k->choices[i] != NULL; i++)
            if (strlen(k->choices[i]) == len && memcmp(k->choices[i], v, len) == 0)
                return 0;
        return fail(x, w, "expected %s, got %s", what, show(v, len, got, sizeof(got)));
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (ch < 0x20 || ch == 0x7f)
            return fail(x, w, "control characters are not allowed, got %s",
                        show(v, len, got, sizeof(got)));
        if ((k->flags & (F_NOQUOTE | F_ABSPATH)) && (ch == '"' || ch == '\\'))
            return fail(x, w, "'\"' and '\\' are not allowed, got %s",
                        show(v, len, got, sizeof(got)));
    }
    if ((k->flags & F_NONEMPTY) && len == 0)
        return fail(x, w, "must not be empty");
    if (k->flags & F_IDENT) {
        bool ok = len > 0 && len <= (size_t)k->max;

        for (i = 0; ok && i < len; i++)
            ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
                 (v[i] >= '0' && v[i] <= '9') || v[i] == '_';
        if (!ok)
            return fail(x, w, "expected %s, got %s", what, show(v, len, got, sizeof(got)));
    } else if (k->max > 0 && len > (size_t)k->max) {
        return fail(x, w, "longer than %lld characters, got %s", k->max,
                    show(v, len, got, sizeof(got)));
    }
    if ((k->flags & F_ABSPATH) && (len == 0 || v[0] != '/'))
        return fail(x, w, "expected %s, got %s", what, show(v, len, got, sizeof(got)));
    if ((k->flags & F_HOST) && !valid_host(v, len))
        return fail(x, w, "expected %s, got %s", what, show(v, len, got, sizeof(got)));
    if (k->flags & F_OWNER) {
        if (len == 0)
            return fail(x, w, "must not be empty");
        for (i = 0; i < len; i++)
            if (v[i] <= ' ' || v[i] == 0x7f || v[i] == '"' || v[i] == '\'' || v[i] == '\\' ||
                (unsigned char)v[i] >= 0x80)
                return fail(x, w, "blanks, quotes, '\\' and non-ASCII are not allowed, got %s",
                            show(v, len, got, sizeof(got)));
    }
    return 0;
}

/* set_value - parse the text @v (@len octets) for @k and store it in the struct at @base. */
static int set_value(struct ctx *x, const struct key *k, void *base, const char *v, size_t len,
                     const struct where *w)
{
    char what[96], got[SHOW_MAX * 4 + 8];
    char *field = (char *)base + k->off;
    long long n = 0;
    bool b = false;
    size_t i;
    int rc;

    describe(k, what, sizeof(what));
    if (memchr(v, '\0', len) != NULL)
        return fail(x, w, "expected %s, got a value containing a NUL character", what);
    switch (k->kind) {
    case KIND_STR: {
        char **slot = (char **)(void *)field;
        char *copy;

        rc = check_string(x, k, v, len, w);
        if (rc != 0)
            return rc;
        copy = strndup(v, len);
        if (copy == NULL)
            return nomem(x);
        free(*slot);
        *slot = copy;
        return 0;
    }
    case KIND_INT:
    case KIND_LONG:
    case KIND_SIZE:
        if (!parse_ll(v, &n) || n < k->min || n > k->max)
            return fail(x, w, "expected %s, got %s", what, show(v, len, got, sizeof(got)));
        if (k->kind == KIND_INT)
            *(int *)(void *)field = (int)n;
        else if (k->kind == KIND_LONG)
            *(long *)(void *)field = (long)n;
        else
            *(size_t *)(void *)field = (size_t)n;
        return 0;
    case KIND_BOOL:
        if (!parse_bool(v, &b))
            return fail(x, w, "expected %s, got %s", what, show(v, len, got, sizeof(got)));
        *(bool *)(void *)field = b;
        return 0;
    case KIND_TYPE:
        for (i = 0; i < sizeof(backend_types) / sizeof(backend_types[0]); i++) {
            if (strcmp(backend_types[i].name, v) == 0) {
                *(enum backend_type *)(void *)field = backend_types[i].type;
                return 0;
            }
        }
        return fail(x, w, "unknown backend type %s (known types: " KNOWN_TYPES ")",
                    show(v, len, got, sizeof(got)));
    }
    return fail(x, w, "internal error: unknown key kind");
}

/* set_default - store @k's default in the struct at @base (strings are copied). */
static int set_default(struct ctx *x, const struct key *k, void *base)
{
    char *field = (char *)base + k->off;

    switch (k->kind) {
    case KIND_STR:
        if (k->sdef != NULL) {
            *(char **)(void *)field = strdup(k->sdef);
            if (*(char **)(void *)field == NULL)
                return nomem(x);
        }
        return 0;
    case KIND_INT:
        *(int *)(void *)field = (int)k->idef;
        return 0;
    case KIND_LONG:
        *(long *)(void *)field = (long)k->idef;
        return 0;
    case KIND_SIZE:
        *(size_t *)(void *)field = (size_t)k->idef;
        return 0;
    case KIND_BOOL:
        *(bool *)(void *)field = k->idef != 0;
        return 0;
    case KIND_TYPE:
        *(enum backend_type *)(void *)field = (enum backend_type)k->idef;
        return 0;
    }
    return 0;
}

static const struct key *find_top_key(const char *section, const char *name, size_t len,
                                      size_t *index)
{
    size_t i;

    for (i = 0; i < N_TOP; i++) {
        if (strcmp(top_keys[i].section, section) == 0 && strlen(top_keys[i].name) == len &&
            memcmp(top_keys[i].name, name, len) == 0) {
            *index = i;
            return &top_keys[i];
        }
    }
    return NULL;
}

static const struct key *find_entry_key(const struct group *g, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < g->n_keys; i++)
        if (strlen(g->keys[i].name) == len && memcmp(g->keys[i].name, name, len) == 0)
            return &g->keys[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Defaults and group entries                                                                 */

static int set_defaults(struct ctx *x)
{
    char host[256];
    size_t i;
    int rc;

    for (i = 0; i < N_TOP; i++) {
        rc = set_default(x, &top_keys[i], x->c);
        if (rc != 0)
            return rc;
    }
    if (gethostname(host, sizeof(host)) != 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    x->c->consumer_name = strdup(host[0] != '\0' ? host : "dadns");
    if (x->c->consumer_name == NULL)
        return nomem(x);
    return 0;
}

/* valid_entry_name - [a-z0-9][a-z0-9_-]{0,62} */
static bool valid_entry_name(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > ENTRY_NAME_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char ch = s[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            continue;
        if (i > 0 && (ch == '_' || ch == '-'))
            continue;
        return false;
    }
    return true;
}

/* env_name - @name as it appears in a variable: upper case, '-' and '.' become '_'. */
static void env_name(const char *name, char *out, size_t n)
{
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < n; i++) {
        char ch = name[i];

        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (ch == '-' || ch == '.')
            ch = '_';
        out[i] = ch;
    }
    out[i] = '\0';
}

/* add_entry - append to group @g an entry named @name (@len octets) with its defaults; @line is
 * the file line of its name (0 = created by the environment). Stores its index in *@index. */
static int add_entry(struct ctx *x, const struct group *g, const char *name, size_t len,
                     unsigned long line, size_t *index)
{
    char **items = (char **)(void *)((char *)x->c + g->items);
    size_t *n = count(x->c, g), i;
    unsigned long **lines = &x->lines[g - groups], *nl;
    char *ni, *e;
    int rc;

    ni = realloc(*items, (*n + 1) * g->size);
    if (ni == NULL)
        return nomem(x);
    *items = ni;
    nl = realloc(*lines, (*n + 1) * sizeof(*nl));
    if (nl == NULL)
        return nomem(x);
    *lines = nl;
    e = ni + *n * g->size;
    memset(e, 0, g->size);
    nl[*n] = line;
    (*n)++;
    *(char **)(void *)e = strndup(name, len);
    if (*(char **)(void *)e == NULL)
        return nomem(x);
    for (i = 0; i < g->n_keys; i++) {
        rc = set_default(x, &g->keys[i], e);
        if (rc != 0)
            return rc;
    }
    *index = *n - 1;
    return 0;
}

/* entries_release - free every entry of group @g in @c, and the array. */
static void entries_release(struct config *c, const struct group *g)
{
    size_t i, k;

    for (i = 0; i < *count(c, g); i++) {
        char *e = entry(c, g, i);

        for (k = 0; k < g->n_keys; k++)
            if (g->keys[k].kind == KIND_STR)
                free(*(char **)(void *)(e + g->keys[k].off));
        free(*(char **)(void *)e);
    }
    free(entries(c, g));
}

/* ------------------------------------------------------------------------------------------ */
/* The YAML document                                                                          */

static unsigned long node_line(const yaml_node_t *n)
{
    return n != NULL ? (unsigned long)n->start_mark.line + 1 : 0;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    default:
        return "a scalar";
    }
}

/* node_is_null - a YAML null: !!null, or a plain "", "~", "null", "Null", "NULL". */
static bool node_is_null(const yaml_node_t *n)
{
    const char *v;
    size_t len;

    if (n->type != YAML_SCALAR_NODE)
        return false;
    if (n->tag != NULL && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    v = (const char *)n->data.scalar.value;
    len = n->data.scalar.length;
    return len == 0 || (len == 1 && v[0] == '~') ||
           (len == 4 &&
            (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 || memcmp(v, "NULL", 4) == 0));
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
    return n->data.scalar.length;
}

/* check_keys - every key of the mapping @map is a scalar, and none appears twice.
 * @path names the mapping in messages ("" for the top level). */
static int check_keys(struct ctx *x, const yaml_node_t *map, const char *path)
{
    yaml_node_pair_t *p, *q;
    char kt[SHOW_MAX * 4 + 8];

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, p->key);

        if (k == NULL || k->type != YAML_SCALAR_NODE)
            return fail_at(x, node_line(k), "%s: keys must be scalars",
                           path[0] ? path : "top level");
        for (q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *kq = yaml_document_get_node(x->doc, q->key);

            if (slen(kq) == slen(k) && memcmp(sval(kq), sval(k), slen(k)) == 0)
                return fail_at(x, node_line(k), "duplicate key %s%s%s (first at line %lu)", path,
                               path[0] ? "." : "", keytext(sval(k), slen(k), kt, sizeof(kt)),
                               node_line(kq));
        }
    }
    return 0;
}

/* expect_mapping - @n (the value of @path, whose key is on @line) is a mapping or null.
 * Returns 0 and sets *@empty when it is null. */
static int expect_mapping(struct ctx *x, const yaml_node_t *n, const char *path, unsigned long line,
                          bool *empty)
{
    *empty = false;
    if (n == NULL || node_is_null(n)) {
        *empty = true;
        return 0;
    }
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(x, line, "%s: expected a mapping, got %s", path, node_kind(n));
    return check_keys(x, n, path);
}

/* set_node - store the scalar @n as the value of @k in @base. */
static int set_node(struct ctx *x, const struct key *k, void *base, const yaml_node_t *n,
                    const struct where *w)
{
    char what[96];

    describe(k, what, sizeof(what));
    if (n == NULL || node_is_null(n))
        return fail(x, w, "expected %s, got null", what);
    if (n->type != YAML_SCALAR_NODE)
        return fail(x, w, "expected %s, got %s", what, node_kind(n));
    return set_value(x, k, base, sval(n), slen(n), w);
}

static int parse_section(struct ctx *x, const char *section, const yaml_node_t *map,
                         unsigned long line)
{
    yaml_node_pair_t *p;
    const struct key *k;
    char path[128], kt[SHOW_MAX * 4 + 8];
    bool empty;
    size_t idx = 0;
    int rc;

    rc = expect_mapping(x, map, section, line, &empty);
    if (rc != 0 || empty)
        return rc;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
        struct where w;

        k = find_top_key(section, sval(kn), slen(kn), &idx);
        if (k == NULL)
            return fail_at(x, node_line(kn), "unknown key %s.%s", section,
                           keytext(sval(kn), slen(kn), kt, sizeof(kt)));
        snprintf(path, sizeof(path), "%s.%s", section, k->name);
        w.line = node_line(kn);
        w.env = NULL;
        w.path = path;
        rc = set_node(x, k, x->c, vn, &w);
        if (rc != 0)
            return rc;
        x->top_line[idx] = w.line;
    }
    return 0;
}

/* parse_entry - the entry of group @g named by the scalar @kn, with the keys in mapping @vn. */
static int parse_entry(struct ctx *x, const struct group *g, const yaml_node_t *kn,
                       const yaml_node_t *vn)
{
    yaml_node_pair_t *p;
    char path[160], kt[SHOW_MAX * 4 + 8];
    bool empty;
    size_t bi = 0;
    int rc;

    if (!valid_entry_name(sval(kn), slen(kn)))
        return fail_at(x, node_line(kn),
                       "%s: invalid %s name %s (expected [a-z0-9][a-z0-9_-]{0,62})", g->path,
                       g->noun, show(sval(kn), slen(kn), kt, sizeof(kt)));
    rc = add_entry(x, g, sval(kn), slen(kn), node_line(kn), &bi);
    if (rc != 0)
        return rc;
    snprintf(path, sizeof(path), "%s.%s", g->path, entry_name(x->c, g, bi));
    rc = expect_mapping(x, vn, path, node_line(kn), &empty);
    if (rc != 0 || empty)
        return rc;
    for (p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top; p++) {
        yaml_node_t *bk = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *bv = yaml_document_get_node(x->doc, p->value);
        const struct key *k = find_entry_key(g, sval(bk), slen(bk));
        char kpath[192];
        struct where w;

        if (k == NULL)
            return fail_at(x, node_line(bk), "unknown key %s.%s", path,
                           keytext(sval(bk), slen(bk), kt, sizeof(kt)));
        snprintf(kpath, sizeof(kpath), "%s.%s", path, k->name);
        w.line = node_line(bk);
        w.env = NULL;
        w.path = kpath;
        rc = set_node(x, k, entry(x->c, g, bi), bv, &w);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* parse_group - the section of group @g (e.g. dns, whose key is on @line): a mapping with the
 * one key g->child, itself a mapping of entries. */
static int parse_group(struct ctx *x, const struct group *g, const yaml_node_t *map,
                       unsigned long line)
{
    yaml_node_pair_t *p, *q;
    char kt[SHOW_MAX * 4 + 8];
    size_t clen = strlen(g->child);
    bool empty;
    int rc;

    rc = expect_mapping(x, map, g->section, line, &empty);
    if (rc != 0 || empty)
        return rc;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);

        if (!(slen(kn) == clen && memcmp(sval(kn), g->child, clen) == 0))
            return fail_at(x, node_line(kn), "unknown key %s.%s", g->section,
                           keytext(sval(kn), slen(kn), kt, sizeof(kt)));
        rc = expect_mapping(x, vn, g->path, node_line(kn), &empty);
        if (rc != 0)
            return rc;
        if (empty)
            continue;
        for (q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
            rc = parse_entry(x, g, yaml_document_get_node(x->doc, q->key),
                             yaml_document_get_node(x->doc, q->value));
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int parse_root(struct ctx *x)
{
    static const char *const sections[] = {"app",    "log",     "redis",
                                           "writer", "metrics", "reconciler"};
    yaml_node_t *root = yaml_document_get_root_node(x->doc);
    yaml_node_pair_t *p;
    char kt[SHOW_MAX * 4 + 8];
    size_t i;
    int rc;

    if (root == NULL || node_is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(x, node_line(root), "expected a mapping at the top level, got %s",
                       node_kind(root));
    rc = check_keys(x, root, "");
    if (rc != 0)
        return rc;
    for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
        const char *section = NULL;
        const struct group *g = NULL;

        for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
            if (strlen(sections[i]) == slen(kn) && memcmp(sections[i], sval(kn), slen(kn)) == 0)
                section = sections[i];
        for (i = 0; i < N_GROUPS; i++)
            if (strlen(groups[i].section) == slen(kn) &&
                memcmp(groups[i].section, sval(kn), slen(kn)) == 0)
                g = &groups[i];
        if (section != NULL)
            rc = parse_section(x, section, vn, node_line(kn));
        else if (g != NULL)
            rc = parse_group(x, g, vn, node_line(kn));
        else
            rc = fail_at(x, node_line(kn), "unknown key %s",
                         keytext(sval(kn), slen(kn), kt, sizeof(kt)));
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* yaml_fail - turn the parser's error into DADNS_ECONFIG (or DADNS_ENOMEM). */
static int yaml_fail(struct ctx *x, const yaml_parser_t *parser)
{
    const char *problem = parser->problem != NULL ? parser->problem : "unknown error";

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return nomem(x);
    case YAML_READER_ERROR:
        return fail_at(x, 0, "cannot read YAML: %s at byte %zu", problem, parser->problem_offset);
    default:
        if (parser->context != NULL)
            return fail_at(x, (unsigned long)parser->problem_mark.line + 1,
                           "YAML syntax error: %s (%s at line %lu)", problem, parser->context,
                           (unsigned long)parser->context_mark.line + 1);
        return fail_at(x, (unsigned long)parser->problem_mark.line + 1, "YAML syntax error: %s",
                       problem);
    }
}

/* parse_text - apply the YAML document in @text (@len octets) to x->c. Pure: no I/O. */
static int parse_text(struct ctx *x, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false, have_extra = false;
    int rc = 0;

    if (!yaml_parser_initialize(&parser))
        return nomem(x);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = yaml_fail(x, &parser);
        goto out;
    }
    have_doc = true;
    x->doc = &doc;
    rc = parse_root(x);
    if (rc != 0)
        goto out;
    if (yaml_document_get_root_node(&doc) != NULL) {
        if (!yaml_parser_load(&parser, &extra)) {
            rc = yaml_fail(x, &parser);
            goto out;
        }
        have_extra = true;
        if (yaml_document_get_root_node(&extra) != NULL)
            rc =
                fail_at(x, (unsigned long)extra.start_mark.line + 1, "more than one YAML document");
    }
out:
    x->doc = NULL;
    if (have_extra)
        yaml_document_delete(&extra);
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

/* read_file - the whole of @path into @b (at most CONFIG_MAX_FILE octets). */
static int read_file(struct ctx *x, const char *path, struct buf *b)
{
    char chunk[8192];
    ssize_t n;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(x->e, DADNS_ECONFIG, "cannot read %s: %s", path, strerror(errno));
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(x->e, DADNS_ECONFIG, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        rc = buf_append(b, chunk, (size_t)n);
        if (rc == DADNS_ETOOBIG) {
            rc = err_set(x->e, DADNS_ECONFIG, "%s: larger than %zu bytes", path, CONFIG_MAX_FILE);
            break;
        }
        if (rc != 0) {
            rc = nomem(x);
            break;
        }
    }
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The environment                                                                            */

/* env_top - DADNS_<SECTION>_<KEY> for every top-level key. */
static int env_top(struct ctx *x)
{
    char var[96], path[96];
    const char *v;
    size_t i;
    int rc;

    for (i = 0; i < N_TOP; i++) {
        struct where w;

        snprintf(path, sizeof(path), "%s.%s", top_keys[i].section, top_keys[i].name);
        memcpy(var, ENV_PREFIX, sizeof(ENV_PREFIX) - 1);
        env_name(path, var + sizeof(ENV_PREFIX) - 1, sizeof(var) - (sizeof(ENV_PREFIX) - 1));
        v = getenv(var);
        if (v == NULL)
            continue;
        w.line = 0;
        w.env = var;
        w.path = path;
        rc = set_value(x, &top_keys[i], x->c, v, strlen(v), &w);
        if (rc != 0)
            return rc;
        x->top_env[i] = true;
    }
    return 0;
}

/* env_collisions - two entries of group @g whose names differ only by '-' versus '_' would
 * share their variables: refuse that. */
static int env_collisions(struct ctx *x, const struct group *g)
{
    char a[ENTRY_NAME_MAX + 1], b[ENTRY_NAME_MAX + 1];
    size_t i, j, n = *count(x->c, g);

    for (i = 0; i < n; i++) {
        env_name(entry_name(x->c, g, i), a, sizeof(a));
        for (j = 0; j < i; j++) {
            env_name(entry_name(x->c, g, j), b, sizeof(b));
            if (strcmp(a, b) == 0)
                return fail_at(x, x->lines[g - groups][i],
                               "%s.%s and %s.%s would share the environment variables %s%s_*",
                               g->path, entry_name(x->c, g, j), g->path, entry_name(x->c, g, i),
                               g->env, a);
        }
    }
    return 0;
}

/* env_entry_var - apply one <g->env><NAME>_<KEY>=value (@entry from environ) to group @g.
 * Variables that match no key of the group are ignored. */
static int env_entry_var(struct ctx *x, const struct group *g, const char *entry_text)
{
    char var[160], ename[ENTRY_NAME_MAX + 1], kname[32], path[192];
    const char *eq = strchr(entry_text, '='), *rest, *v;
    const struct key *best = NULL;
    size_t rlen, nlen = 0, i, bi, n;
    struct where w;
    int rc;

    if (eq == NULL || (size_t)(eq - entry_text) >= sizeof(var))
        return 0;
    memcpy(var, entry_text, (size_t)(eq - entry_text));
    var[eq - entry_text] = '\0';
    v = eq + 1;
    rest = var + strlen(g->env);
    rlen = strlen(rest);
    /* the longest key that is a suffix "_<KEY>" after a non-empty name */
    for (i = 0; i < g->n_keys; i++) {
        size_t klen = strlen(g->keys[i].name);

        env_name(g->keys[i].name, kname, sizeof(kname));
        if (rlen < klen + 2 || rest[rlen - klen - 1] != '_' ||
            strcmp(rest + rlen - klen, kname) != 0)
            continue;
        if (best == NULL || klen > strlen(best->name)) {
            best = &g->keys[i];
            nlen = rlen - klen - 1;
        }
    }
    if (best == NULL)
        return 0;
    for (i = 0; i < nlen; i++)
        if (!((rest[i] >= 'A' && rest[i] <= 'Z') || (rest[i] >= '0' && rest[i] <= '9') ||
              rest[i] == '_'))
            return 0; /* not our spelling: ignore, like any unknown DADNS_* variable */
    w.line = 0;
    w.env = var;
    w.path = path;
    if (nlen > ENTRY_NAME_MAX) {
        snprintf(path, sizeof(path), "%s", g->path);
        return fail(x, &w, "%s name longer than %d characters", g->noun, ENTRY_NAME_MAX);
    }
    n = *count(x->c, g);
    for (bi = 0; bi < n; bi++) {
        env_name(entry_name(x->c, g, bi), ename, sizeof(ename));
        if (strlen(ename) == nlen && memcmp(ename, rest, nlen) == 0)
            break;
    }
    if (bi == n) {
        for (i = 0; i < nlen; i++)
            ename[i] = (char)((rest[i] >= 'A' && rest[i] <= 'Z') ? rest[i] - 'A' + 'a' : rest[i]);
        ename[nlen] = '\0';
        if (!valid_entry_name(ename, nlen)) {
            snprintf(path, sizeof(path), "%s", g->path);
            return fail(x, &w, "invalid %s name \"%s\" (expected [a-z0-9][a-z0-9_-]{0,62})",
                        g->noun, ename);
        }
        rc = add_entry(x, g, ename, nlen, 0, &bi);
        if (rc != 0)
            return rc;
    }
    snprintf(path, sizeof(path), "%s.%s.%s", g->path, entry_name(x->c, g, bi), best->name);
    return set_value(x, best, entry(x->c, g, bi), v, strlen(v), &w);
}

/* cmp_entry - order of entries by name (every entry starts with its char *name). */
static int cmp_entry(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int apply_env(struct ctx *x)
{
    size_t gi, n_file;
    char **ep;
    int rc;

    rc = env_top(x);
    if (rc != 0)
        return rc;
    for (gi = 0; gi < N_GROUPS; gi++) {
        const struct group *g = &groups[gi];

        rc = env_collisions(x, g);
        if (rc != 0)
            return rc;
        n_file = *count(x->c, g);
        for (ep = environ; ep != NULL && *ep != NULL; ep++) {
            if (strncmp(*ep, g->env, strlen(g->env)) != 0)
                continue;
            rc = env_entry_var(x, g, *ep);
            if (rc != 0)
                return rc;
        }
        /* entries created by the environment follow those of the file, sorted by name; their
         * lines are all 0, so they need no reordering */
        if (*count(x->c, g) > n_file + 1)
            qsort(entry(x->c, g, n_file), *count(x->c, g) - n_file, g->size, cmp_entry);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Cross-checks                                                                               */

/* entry_fail - DADNS_ECONFIG "<g->path>.<name>: text" about entry @i of group @g, at the file
 * line of its name, or from the environment (then @hint, when not NULL, follows the text). */
static int entry_fail(struct ctx *x, const struct group *g, size_t i, const char *hint,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int entry_fail(struct ctx *x, const struct group *g, size_t i, const char *hint,
                      const char *fmt, ...)
{
    unsigned long line = x->lines[g - groups][i];
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line != 0)
        return fail_at(x, line, "%s.%s: %s", g->path, entry_name(x->c, g, i), msg);
    return err_set(x->e, DADNS_ECONFIG, "environment: %s.%s: %s%s", g->path, entry_name(x->c, g, i),
                   msg, hint != NULL ? hint : "");
}

static int missing(struct ctx *x, const struct group *g, size_t i, const char *key)
{
    char ename[ENTRY_NAME_MAX + 1], ekey[32], hint[160];

    env_name(entry_name(x->c, g, i), ename, sizeof(ename));
    env_name(key, ekey, sizeof(ekey));
    snprintf(hint, sizeof(hint), " (set %s%s_%s)", g->env, ename, ekey);
    return entry_fail(x, g, i, hint, "missing required key %s", key);
}

/* validate_mysql - the cross-checks of a coredns_mysql / powerdns_mysql backend, and its
 * type-dependent default zones_table. */
static int validate_mysql(struct ctx *x, size_t bi)
{
    struct backend_conf *b = &x->c->backends[bi];
    const struct group *g = &groups[G_BACKENDS];

    if (b->user == NULL)
        return missing(x, g, bi, "user");
    if (b->database == NULL)
        return missing(x, g, bi, "database");
    if (b->host[0] == '\0' && b->socket[0] == '\0')
        return entry_fail(x, g, bi, NULL, "host is empty and socket is not set");
    if (b->zones_table == NULL) {
        b->zones_table = strdup(b->type == BACKEND_COREDNS_MYSQL ? "zones" : "domains");
        if (b->zones_table == NULL)
            return nomem(x);
    }
    return 0;
}

/* validate_servers - every DirectAdmin server has host and user; hostname defaults to host and
 * is unique (case-insensitively). */
static int validate_servers(struct ctx *x)
{
    const struct group *g = &groups[G_SERVERS];
    size_t i, j;

    for (i = 0; i < x->c->n_da_servers; i++) {
        struct da_server_conf *s = &x->c->da_servers[i];

        if (s->host == NULL)
            return missing(x, g, i, "host");
        if (s->user == NULL)
            return missing(x, g, i, "user");
        if (s->hostname == NULL) {
            s->hostname = strdup(s->host);
            if (s->hostname == NULL)
                return nomem(x);
        }
        for (j = 0; j < i; j++)
            if (strcasecmp(x->c->da_servers[j].hostname, s->hostname) == 0)
                return entry_fail(x, g, i, NULL,
                                  "hostname \"%s\" is also the hostname of %s.%s (each server "
                                  "needs its own: it tells which server owns a zone)",
                                  s->hostname, g->path, x->c->da_servers[j].name);
    }
    return 0;
}

static int validate(struct ctx *x)
{
    const struct config *c = x->c;
    const struct group *g = &groups[G_BACKENDS];
    size_t i, bi = 0, ti = 0;
    int rc;

    for (i = 0; i < c->n_backends; i++) {
        const struct backend_conf *b = &c->backends[i];

        if (b->type == 0)
            return missing(x, g, i, "type");
        if (b->type == BACKEND_BIND) {
            if (b->zones_dir == NULL)
                return missing(x, g, i, "zones_dir");
            if (b->named_conf == NULL)
                return missing(x, g, i, "named_conf");
        }
        if (b->type == BACKEND_COREDNS_MYSQL || b->type == BACKEND_POWERDNS_MYSQL) {
            rc = validate_mysql(x, i);
            if (rc != 0)
                return rc;
        }
    }
    rc = validate_servers(x);
    if (rc != 0)
        return rc;
    if (c->block_ms >= c->redis_timeout_ms) {
        find_top_key("writer", "block_ms", 8, &bi);
        find_top_key("redis", "timeout_ms", 10, &ti);
        /* blame the value that was set last: environment, then file */
        if (x->top_env[bi] || x->top_env[ti]) {
            char var[64];
            const char *which = x->top_env[bi] ? "writer.block_ms" : "redis.timeout_ms";

            memcpy(var, ENV_PREFIX, sizeof(ENV_PREFIX) - 1);
            env_name(which, var + sizeof(ENV_PREFIX) - 1, sizeof(var) - sizeof(ENV_PREFIX));
            rc = err_set(x->e, DADNS_ECONFIG,
                         "environment %s: writer.block_ms (%d) must be less than "
                         "redis.timeout_ms (%d)",
                         var, c->block_ms, c->redis_timeout_ms);
        } else {
            rc = fail_at(x, x->top_line[bi] ? x->top_line[bi] : x->top_line[ti],
                         "writer.block_ms (%d) must be less than redis.timeout_ms (%d)",
                         c->block_ms, c->redis_timeout_ms);
        }
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public                                                                                     */

int config_load(const char *path, struct config **out, struct err *e)
{
    struct ctx x;
    struct buf text;
    size_t gi;
    int rc;

    *out = NULL;
    memset(&x, 0, sizeof(x));
    buf_init(&text, CONFIG_MAX_FILE);
    x.e = e;
    x.c = calloc(1, sizeof(*x.c));
    if (x.c == NULL) {
        rc = nomem(&x);
        goto out;
    }
    x.c->path = strdup(path != NULL && path[0] != '\0' ? path : "(defaults)");
    if (x.c->path == NULL) {
        rc = nomem(&x);
        goto out;
    }
    x.file = x.c->path;
    rc = set_defaults(&x);
    if (rc != 0)
        goto out;
    if (path != NULL && path[0] != '\0') {
        rc = read_file(&x, path, &text);
        if (rc != 0)
            goto out;
        rc = parse_text(&x, text.data != NULL ? text.data : "", text.len);
        if (rc != 0)
            goto out;
    }
    rc = apply_env(&x);
    if (rc != 0)
        goto out;
    rc = validate(&x);
    if (rc != 0)
        goto out;
    *out = x.c;
    x.c = NULL;
out:
    config_free(x.c);
    for (gi = 0; gi < N_GROUPS; gi++)
        free(x.lines[gi]);
    buf_free(&text);
    return rc;
}

void config_free(struct config *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < N_TOP; i++)
        if (top_keys[i].kind == KIND_STR)
            free(*(char **)(void *)((char *)c + top_keys[i].off));
    for (i = 0; i < N_GROUPS; i++)
        entries_release(c, &groups[i]);
    free(c->path);
    free(c);
}

const struct backend_conf *config_backend(const struct config *c, const char *name)
{
    size_t i;

    if (c == NULL || name == NULL)
        return NULL;
    for (i = 0; i < c->n_backends; i++)
        if (strcmp(c->backends[i].name, name) == 0)
            return &c->backends[i];
    return NULL;
}

const struct da_server_conf *config_da_server(const struct config *c, const char *name)
{
    size_t i;

    if (c == NULL || name == NULL)
        return NULL;
    for (i = 0; i < c->n_da_servers; i++)
        if (strcmp(c->da_servers[i].name, name) == 0)
            return &c->da_servers[i];
    return NULL;
}
