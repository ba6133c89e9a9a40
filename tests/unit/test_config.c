/* test_config.c -- Check suite for common/config.c: defaults, the YAML file (data files under
 * tests/data/config/ and inline texts written to a temporary directory), environment
 * overrides and the exact error messages. */
#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

static char tmpdir[PATH_MAX];
static char tmpfile_path[PATH_MAX + 32];

/* clear_env - unset every DADNS_* variable except DADNS_TEST_DATA. */
static void clear_env(void)
{
    char names[64][128];
    size_t n = 0, i;
    char **ep;

    do {
        n = 0;
        for (ep = environ; *ep != NULL && n < 64; ep++) {
            const char *eq = strchr(*ep, '=');
            size_t len = eq ? (size_t)(eq - *ep) : strlen(*ep);

            if (strncmp(*ep, "DADNS_", 6) != 0 || strncmp(*ep, "DADNS_TEST_DATA=", 16) == 0 ||
                len >= sizeof(names[0]))
                continue;
            memcpy(names[n], *ep, len);
            names[n][len] = '\0';
            n++;
        }
        for (i = 0; i < n; i++)
            unsetenv(names[i]);
    } while (n == 64);
}

static void setup(void)
{
    clear_env();
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dadns-test-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/dadns.yaml", tmpdir);
}

static void teardown(void)
{
    unlink(tmpfile_path);
    rmdir(tmpdir);
    clear_env();
}

/* data - path of tests/data/config/@name. Returns a static buffer. */
static const char *data(const char *name)
{
    static char path[PATH_MAX];
    const char *dir = getenv("DADNS_TEST_DATA");

    snprintf(path, sizeof(path), "%s/config/%s", dir ? dir : "tests/data", name);
    return path;
}

/* load_text - write @text to the temporary dadns.yaml and load it. */
static int load_text(const char *text, struct config **c, struct err *e)
{
    FILE *f = fopen(tmpfile_path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    err_clear(e);
    return config_load(tmpfile_path, c, e);
}

/* expect_fail - loading @text fails with DADNS_ECONFIG and the message "<file>:<suffix>". */
static void expect_fail(const char *text, const char *suffix)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 1024];

    ck_assert_int_eq(load_text(text, &c, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(e.code, DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:%s", tmpfile_path, suffix);
    ck_assert_str_eq(e.text, want);
}

/* expect_env_fail - loading @text (may be NULL: no file) fails with exactly @msg. */
static void expect_env_fail(const char *text, const char *msg)
{
    struct config *c = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    rc = text ? load_text(text, &c, &e) : config_load(NULL, &c, &e);
    ck_assert_int_eq(rc, DADNS_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(e.text, msg);
}

static struct config *load_ok(const char *text)
{
    struct config *c = NULL;
    struct err e;
    int rc = load_text(text, &c, &e);

    ck_assert_msg(rc == 0, "load failed: %s", e.text);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* ---- defaults ---------------------------------------------------------------------------- */

static void check_defaults(const struct config *c)
{
    char host[256];

    ck_assert_str_eq(c->auth_username, "directdnsonly");
    ck_assert_str_eq(c->auth_password, "");
    ck_assert_str_eq(c->auth_realm, "dadns");
    ck_assert_str_eq(c->listen_addr, "0.0.0.0");
    ck_assert_int_eq(c->listen_port, 2222);
    ck_assert_uint_eq(c->max_body_bytes, 4194304);
    ck_assert_int_eq(c->workers, 64);
    ck_assert_int_eq(c->parent_exists_code, 3);
    ck_assert_str_eq(c->log_level, "info");
    ck_assert_str_eq(c->log_format, "kv");
    ck_assert_str_eq(c->redis_host, "127.0.0.1");
    ck_assert_int_eq(c->redis_port, 6379);
    ck_assert_str_eq(c->redis_password, "");
    ck_assert_int_eq(c->redis_db, 0);
    ck_assert_str_eq(c->redis_prefix, "dadns:");
    ck_assert_int_eq(c->redis_timeout_ms, 5000);
    ck_assert_int_eq(c->stream_maxlen, 1000000);
    ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
    host[sizeof(host) - 1] = '\0';
    ck_assert_str_eq(c->consumer_name, host[0] ? host : "dadns");
    ck_assert_int_eq(c->batch_size, 1000);
    ck_assert_int_eq(c->block_ms, 2000);
    ck_assert_int_eq(c->retry_interval_s, 5);
    ck_assert_uint_eq(c->n_backends, 0);
    ck_assert_uint_eq(c->n_da_servers, 0);
    ck_assert_ptr_null(c->da_servers);
}

START_TEST(defaults_no_file)
{
    struct config *c = NULL;
    struct err e;

    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_str_eq(c->path, "(defaults)");
    check_defaults(c);
    config_free(c);
    ck_assert_int_eq(config_load("", &c, &e), 0);
    ck_assert_str_eq(c->path, "(defaults)");
    check_defaults(c);
    config_free(c);
}
END_TEST

START_TEST(defaults_empty_file)
{
    struct config *c = NULL;
    struct err e;

    ck_assert_int_eq(config_load(data("empty.yaml"), &c, &e), 0);
    ck_assert_str_eq(c->path, data("empty.yaml"));
    check_defaults(c);
    config_free(c);
    c = load_ok("");
    check_defaults(c);
    config_free(c);
    c = load_ok("---\n");
    check_defaults(c);
    config_free(c);
    c = load_ok("~\n");
    check_defaults(c);
    config_free(c);
}
END_TEST

START_TEST(defaults_null_sections)
{
    struct config *c = load_ok("app:\nlog: ~\nredis: null\nwriter:\ndns:\n  backends:\n"
                               "directadmin:\n");

    check_defaults(c);
    config_free(c);
}
END_TEST

START_TEST(defaults_free_and_lookup)
{
    struct config *c = NULL;
    struct err e;

    config_free(NULL);
    ck_assert_ptr_null(config_backend(NULL, "bind"));
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_ptr_null(config_backend(c, "bind"));
    ck_assert_ptr_null(config_backend(c, NULL));
    ck_assert_ptr_null(config_da_server(NULL, "da1"));
    ck_assert_ptr_null(config_da_server(c, "da1"));
    ck_assert_ptr_null(config_da_server(c, NULL));
    config_free(c);
    c = load_ok("directadmin:\n  servers:\n");
    check_defaults(c);
    config_free(c);
}
END_TEST

/* ---- the file ---------------------------------------------------------------------------- */

START_TEST(file_good)
{
    const struct backend_conf *b;
    struct config *c = NULL;
    struct err e;

    ck_assert_int_eq(config_load(data("good.yaml"), &c, &e), 0);
    ck_assert_str_eq(c->auth_username, "admin");
    ck_assert_str_eq(c->auth_password, "s3cret: with colon");
    ck_assert_str_eq(c->auth_realm, "DNS push");
    ck_assert_str_eq(c->listen_addr, "127.0.0.1");
    ck_assert_int_eq(c->listen_port, 8053);
    ck_assert_uint_eq(c->max_body_bytes, 1048576);
    ck_assert_int_eq(c->workers, 4);
    ck_assert_int_eq(c->parent_exists_code, 2);
    ck_assert_str_eq(c->log_level, "debug");
    ck_assert_str_eq(c->log_format, "json");
    ck_assert_str_eq(c->redis_host, "redis.internal");
    ck_assert_int_eq(c->redis_port, 6380);
    ck_assert_str_eq(c->redis_password, "hunter2");
    ck_assert_int_eq(c->redis_db, 3);
    ck_assert_str_eq(c->redis_prefix, "test:");
    ck_assert_int_eq(c->redis_timeout_ms, 10000);
    ck_assert_int_eq(c->stream_maxlen, 50000);
    ck_assert_str_eq(c->consumer_name, "writer-1");
    ck_assert_int_eq(c->batch_size, 500);
    ck_assert_int_eq(c->block_ms, 5000);
    ck_assert_int_eq(c->retry_interval_s, 60);

    ck_assert_uint_eq(c->n_backends, 2);
    b = &c->backends[0];
    ck_assert_str_eq(b->name, "primary");
    ck_assert_int_eq(b->type, BACKEND_BIND);
    ck_assert(b->enabled);
    ck_assert_str_eq(b->zones_dir, "/var/lib/dadns/zones");
    ck_assert_str_eq(b->named_conf, "/etc/bind/dadns-zones.conf");
    ck_assert_str_eq(b->rndc, "/usr/sbin/rndc");
    ck_assert_str_eq(b->rndc_conf, "/etc/bind/rndc.conf");
    ck_assert_str_eq(b->rndc_server, "127.0.0.1");
    ck_assert_int_eq(b->rndc_port, 953);
    ck_assert_int_eq(b->rndc_parallel, 8);

    b = config_backend(c, "second-site");
    ck_assert_ptr_eq(b, &c->backends[1]);
    ck_assert(!b->enabled);
    ck_assert_str_eq(b->zones_dir, "/srv/zones");
    ck_assert_str_eq(b->named_conf, "/srv/named.dadns.conf");
    ck_assert_str_eq(b->rndc, "rndc");
    ck_assert_str_eq(b->rndc_conf, "");
    ck_assert_str_eq(b->rndc_server, "");
    ck_assert_int_eq(b->rndc_port, 0);
    ck_assert_int_eq(b->rndc_parallel, 4);
    ck_assert_ptr_eq(config_backend(c, "primary"), &c->backends[0]);
    ck_assert_ptr_null(config_backend(c, "second"));
    config_free(c);
}
END_TEST

START_TEST(file_aliases)
{
    struct config *c = load_ok("redis: {host: h, port: &p 7000}\n"
                               "app: {listen_port: *p}\n"
                               "dns:\n"
                               "  backends:\n"
                               "    a: &b {type: bind, zones_dir: /z, named_conf: /n.conf}\n"
                               "    b: *b\n");

    ck_assert_str_eq(c->redis_host, "h");
    ck_assert_int_eq(c->redis_port, 7000);
    ck_assert_int_eq(c->listen_port, 7000);
    ck_assert_uint_eq(c->n_backends, 2);
    ck_assert_str_eq(c->backends[1].name, "b");
    ck_assert_str_eq(c->backends[1].zones_dir, "/z");
    config_free(c);
}
END_TEST

START_TEST(file_quoted_numbers_and_booleans)
{
    static const struct {
        const char *text;
        bool want;
    } bools[] = {
        {"true", true}, {"True", true},   {"yes", true},    {"on", true},   {"ON", true},
        {"1", true},    {"false", false}, {"no", false},    {"off", false}, {"0", false},
        {"NO", false},  {"'yes'", true},  {"\"0\"", false},
    };
    char text[512];
    struct config *c;
    size_t i;

    c = load_ok("app:\n  listen_port: \"8080\"\n  workers: '+7'\n");
    ck_assert_int_eq(c->listen_port, 8080);
    ck_assert_int_eq(c->workers, 7);
    config_free(c);
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        snprintf(text, sizeof(text),
                 "dns:\n  backends:\n    b:\n      type: bind\n      enabled: %s\n"
                 "      zones_dir: /z\n      named_conf: /n\n",
                 bools[i].text);
        c = load_ok(text);
        ck_assert_msg(c->backends[0].enabled == bools[i].want, "enabled: %s", bools[i].text);
        config_free(c);
    }
}
END_TEST

START_TEST(file_strings)
{
    struct config *c = load_ok("app:\n"
                               "  auth_password: ''\n"
                               "  auth_username: 12345\n"
                               "redis:\n"
                               "  prefix: \"\"\n"
                               "  password: \"p\\u00e4ss w#rd\"\n");

    ck_assert_str_eq(c->auth_password, "");
    ck_assert_str_eq(c->auth_username, "12345");
    ck_assert_str_eq(c->redis_prefix, "");
    ck_assert_str_eq(c->redis_password, "p\xc3\xa4ss w#rd");
    config_free(c);
}
END_TEST

START_TEST(file_unreadable)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 64];

    ck_assert_int_eq(config_load("/nonexistent/dadns.yaml", &c, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(e.text, "cannot read /nonexistent/dadns.yaml: No such file or directory");
    ck_assert_int_eq(config_load(tmpdir, &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "cannot read %s: Is a directory", tmpdir);
    ck_assert_str_eq(e.text, want);
}
END_TEST

START_TEST(file_too_large)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 64], line[1024];
    FILE *f = fopen(tmpfile_path, "w");
    size_t i;

    ck_assert_ptr_nonnull(f);
    memset(line, '#', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    for (i = 0; i < 1024; i++)
        ck_assert_uint_eq(fwrite(line, 1, sizeof(line), f), sizeof(line));
    ck_assert_int_eq(fputc('\n', f), '\n'); /* 1 MiB + 1 */
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(config_load(tmpfile_path, &c, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(c);
    snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", tmpfile_path);
    ck_assert_str_eq(e.text, want);
    /* exactly 1 MiB of comments is fine */
    ck_assert_int_eq(truncate(tmpfile_path, 1024 * 1024), 0);
    ck_assert_int_eq(config_load(tmpfile_path, &c, &e), 0);
    config_free(c);
}
END_TEST

START_TEST(file_syntax_error)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("syntax_error.yaml"), &c, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(c);
    snprintf(want, sizeof(want), "%s:3: YAML syntax error: ", data("syntax_error.yaml"));
    ck_assert_msg(strncmp(e.text, want, strlen(want)) == 0, "got: %s", e.text);
    ck_assert_uint_eq(e.line, 3);

    expect_fail("app:\n  listen_port: \"2222\n",
                "3: YAML syntax error: found unexpected end of stream "
                "(while scanning a quoted scalar at line 2)");
    expect_fail("redis:\n  port: *nowhere\n", "2: YAML syntax error: found undefined alias");
}
END_TEST

START_TEST(file_bad_utf8)
{
    struct config *c = NULL;
    struct err e;

    ck_assert_int_eq(load_text("app:\n  auth_realm: \xff\xfe\n", &c, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(e.text, "invalid") != NULL || strstr(e.text, "UTF-8") != NULL, "got: %s",
                  e.text);
}
END_TEST

START_TEST(file_multi_doc)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 64];

    ck_assert_int_eq(config_load(data("multi_doc.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:3: more than one YAML document", data("multi_doc.yaml"));
    ck_assert_str_eq(e.text, want);
}
END_TEST

START_TEST(file_top_not_mapping)
{
    expect_fail("- app\n- log\n", "1: expected a mapping at the top level, got a sequence");
    expect_fail("hello\n", "1: expected a mapping at the top level, got a scalar");
    expect_fail("app: 3\n", "1: app: expected a mapping, got a scalar");
    expect_fail("log:\n  - level\n", "1: log: expected a mapping, got a sequence");
    expect_fail("dns: []\n", "1: dns: expected a mapping, got a sequence");
    expect_fail("dns:\n  backends: x\n", "2: dns.backends: expected a mapping, got a scalar");
    expect_fail("dns:\n  backends:\n    b: [1]\n",
                "3: dns.backends.b: expected a mapping, got a sequence");
}
END_TEST

/* ---- keys -------------------------------------------------------------------------------- */

START_TEST(keys_unknown)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 64];

    ck_assert_int_eq(config_load(data("unknown_key.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:4: unknown key app.listn_port", data("unknown_key.yaml"));
    ck_assert_str_eq(e.text, want);
    ck_assert_uint_eq(e.line, 4);

    expect_fail("apps:\n  workers: 2\n", "1: unknown key apps");
    expect_fail("\n\nredis:\n  db: 1\n  database: 2\n", "5: unknown key redis.database");
    expect_fail("dns:\n  zones: {}\n", "2: unknown key dns.zones");
    expect_fail("dns:\n  backends:\n    b:\n      type: bind\n      zone_dir: /z\n",
                "5: unknown key dns.backends.b.zone_dir");
    expect_fail("log:\n  \"le vel\": debug\n", "2: unknown key log.\"le vel\"");
    /* keys are case-sensitive */
    expect_fail("App:\n  workers: 2\n", "1: unknown key App");
}
END_TEST

START_TEST(keys_duplicate)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 64];

    ck_assert_int_eq(config_load(data("duplicate_key.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:4: duplicate key redis.host (first at line 2)",
             data("duplicate_key.yaml"));
    ck_assert_str_eq(e.text, want);

    expect_fail("app:\n  workers: 1\napp:\n  workers: 2\n",
                "3: duplicate key app (first at line 1)");
    expect_fail("dns:\n  backends:\n    b: {type: bind}\n    b: {type: bind}\n",
                "4: duplicate key dns.backends.b (first at line 3)");
    expect_fail("app: {workers: 1, workers: 1}\n",
                "1: duplicate key app.workers (first at line 1)");
}
END_TEST

START_TEST(keys_not_scalar)
{
    expect_fail("? [a, b]\n: 1\n", "1: top level: keys must be scalars");
    expect_fail("app:\n  ? {a: 1}\n  : 2\n", "2: app: keys must be scalars");
}
END_TEST

/* ---- values ------------------------------------------------------------------------------ */

START_TEST(values_bad_type_file)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("bad_type.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:3: app.listen_port: expected an integer 1-65535, got \"abc\"",
             data("bad_type.yaml"));
    ck_assert_str_eq(e.text, want);
    ck_assert_uint_eq(e.line, 3);
    ck_assert_int_eq(e.code, DADNS_ECONFIG);
}
END_TEST

/* One numeric key: values just outside and just inside its range. */
static const struct range_case {
    const char *section, *key;
    const char *lo_bad, *lo_ok, *hi_ok, *hi_bad;
    const char *expect; /* "expected ..." text */
    const char *extra;  /* YAML appended (other keys the values depend on) */
    size_t off;
    char kind; /* 'i' int, 'l' long, 'z' size_t */
} ranges[] = {
    {"app", "listen_port", "0", "1", "65535", "65536", "an integer 1-65535", "",
     offsetof(struct config, listen_port), 'i'},
    {"app", "max_body_bytes", "1023", "1024", "1073741824", "1073741825",
     "an integer 1024-1073741824", "", offsetof(struct config, max_body_bytes), 'z'},
    {"app", "workers", "0", "1", "256", "257", "an integer 1-256", "",
     offsetof(struct config, workers), 'i'},
    {"app", "parent_exists_code", "1", "2", "3", "4", "an integer 2-3", "",
     offsetof(struct config, parent_exists_code), 'i'},
    {"redis", "port", "-1", "1", "65535", "70000", "an integer 1-65535", "",
     offsetof(struct config, redis_port), 'i'},
    {"redis", "db", "-1", "0", "15", "16", "an integer 0-15", "", offsetof(struct config, redis_db),
     'i'},
    {"redis", "timeout_ms", "99", "100", "600000", "600001", "an integer 100-600000",
     "writer:\n  block_ms: 1\n", offsetof(struct config, redis_timeout_ms), 'i'},
    {"redis", "stream_maxlen", "999", "1000", "9223372036854775807", "9223372036854775808",
     "an integer >= 1000", "", offsetof(struct config, stream_maxlen), 'l'},
    {"writer", "batch_size", "0", "1", "100000", "100001", "an integer 1-100000", "",
     offsetof(struct config, batch_size), 'i'},
    {"writer", "block_ms", "0", "1", "60000", "60001", "an integer 1-60000",
     "redis:\n  timeout_ms: 600000\n", offsetof(struct config, block_ms), 'i'},
    {"writer", "retry_interval_s", "0", "1", "86400", "86401", "an integer 1-86400", "",
     offsetof(struct config, retry_interval_s), 'i'},
};

static long long field_value(const struct config *c, const struct range_case *r)
{
    const char *p = (const char *)c + r->off;

    if (r->kind == 'i')
        return *(const int *)(const void *)p;
    if (r->kind == 'l')
        return *(const long *)(const void *)p;
    return (long long)*(const size_t *)(const void *)p;
}

START_TEST(values_ranges)
{
    const struct range_case *r = &ranges[_i];
    const char *bad[] = {r->lo_bad, r->hi_bad, "",    "12x",   " 12",
                         "12 ",     "0x10",    "1e3", "1_000", "99999999999999999999999",
                         "abc"};
    char text[512], suffix[512];
    struct config *c;
    size_t i;

    snprintf(text, sizeof(text), "%s:\n  %s: %s\n%s", r->section, r->key, r->lo_ok, r->extra);
    c = load_ok(text);
    ck_assert_int_eq(field_value(c, r), strtoll(r->lo_ok, NULL, 10));
    config_free(c);
    snprintf(text, sizeof(text), "%s:\n  %s: %s\n%s", r->section, r->key, r->hi_ok, r->extra);
    c = load_ok(text);
    ck_assert_int_eq(field_value(c, r), strtoll(r->hi_ok, NULL, 10));
    config_free(c);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "%s:\n  %s: \"%s\"\n%s", r->section, r->key, bad[i], r->extra);
        snprintf(suffix, sizeof(suffix), "2: %s.%s: expected %s, got \"%s\"", r->section, r->key,
                 r->expect, bad[i]);
        expect_fail(text, suffix);
    }
}
END_TEST

START_TEST(values_wrong_node_kind)
{
    expect_fail("app:\n  listen_port:\n",
                "2: app.listen_port: expected an integer 1-65535, got null");
    expect_fail("app:\n  listen_port: ~\n",
                "2: app.listen_port: expected an integer 1-65535, got null");
    expect_fail("app:\n  auth_password:\n", "2: app.auth_password: expected a string, got null");
    expect_fail("redis:\n  host: null\n", "2: redis.host: expected a string, got null");
    expect_fail("redis:\n  host: !!null x\n", "2: redis.host: expected a string, got null");
    expect_fail("redis:\n  host: {a: b}\n", "2: redis.host: expected a string, got a mapping");
    expect_fail("redis:\n  host:\n    - a\n", "2: redis.host: expected a string, got a sequence");
    expect_fail("writer:\n  batch_size: [1]\n",
                "2: writer.batch_size: expected an integer 1-100000, got a sequence");
    expect_fail("dns:\n  backends:\n    b:\n      enabled: maybe\n",
                "4: dns.backends.b.enabled: expected a boolean (true/false/yes/no/on/off/1/0), "
                "got \"maybe\"");
}
END_TEST

START_TEST(values_strings_checked)
{
    struct config *c;

    expect_fail("log:\n  level: verbose\n",
                "2: log.level: expected one of debug|info|warn|error, got \"verbose\"");
    expect_fail("log:\n  level: INFO\n",
                "2: log.level: expected one of debug|info|warn|error, got \"INFO\"");
    expect_fail("log:\n  format: text\n", "2: log.format: expected one of kv|json, got \"text\"");
    expect_fail("redis:\n  host: \"\"\n", "2: redis.host: must not be empty");
    expect_fail("writer:\n  consumer_name: ''\n", "2: writer.consumer_name: must not be empty");
    expect_fail("app:\n  auth_username: \"\"\n", "2: app.auth_username: must not be empty");
    expect_fail("app:\n  auth_realm: 'a\"b'\n",
                "2: app.auth_realm: '\"' and '\\' are not allowed, got \"a\\\"b\"");
    expect_fail("app:\n  auth_password: \"a\\nb\"\n",
                "2: app.auth_password: control characters are not allowed, got \"a\\x0ab\"");
    expect_fail("app:\n  auth_password: |\n    line1\n    line2\n",
                "2: app.auth_password: control characters are not allowed, "
                "got \"line1\\x0aline2\\x0a\"");
    expect_fail("app:\n  auth_password: \"a\\0b\"\n",
                "2: app.auth_password: expected a string, got a value containing a NUL "
                "character");
    /* long values are cut in messages */
    expect_fail(
        "log:\n  level: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        "2: log.level: expected one of debug|info|warn|error, got "
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");

    c = load_ok("log: {level: warn, format: kv}\n");
    ck_assert_str_eq(c->log_level, "warn");
    config_free(c);
}
END_TEST

START_TEST(values_block_vs_timeout)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("block_timeout.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:4: writer.block_ms (2000) must be less than redis.timeout_ms (2000)",
             data("block_timeout.yaml"));
    ck_assert_str_eq(e.text, want);
    expect_fail("redis:\n  timeout_ms: 1500\n",
                "2: writer.block_ms (2000) must be less than redis.timeout_ms (1500)");
    c = load_ok("redis:\n  timeout_ms: 2001\n");
    config_free(c);
}
END_TEST

/* ---- backends ---------------------------------------------------------------------------- */

START_TEST(backends_missing_required)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("missing_zones_dir.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:3: dns.backends.bind: missing required key zones_dir",
             data("missing_zones_dir.yaml"));
    ck_assert_str_eq(e.text, want);
    ck_assert_uint_eq(e.line, 3);

    expect_fail("dns:\n  backends:\n    b:\n      zones_dir: /z\n",
                "3: dns.backends.b: missing required key type");
    expect_fail("dns:\n  backends:\n    b:\n", "3: dns.backends.b: missing required key type");
    expect_fail("dns:\n  backends:\n    b: {type: bind, zones_dir: /z}\n",
                "3: dns.backends.b: missing required key named_conf");
    expect_fail("dns:\n  backends:\n    b: {type: bind, zones_dir: /z, named_conf: ''}\n",
                "3: dns.backends.b.named_conf: expected an absolute path, got \"\"");
    expect_fail("dns:\n  backends:\n    b: {type: bind, zones_dir: zones, named_conf: /n}\n",
                "3: dns.backends.b.zones_dir: expected an absolute path, got \"zones\"");
    expect_fail("dns:\n  backends:\n    b: {type: bind, zones_dir: '/a\"b', named_conf: /n}\n",
                "3: dns.backends.b.zones_dir: '\"' and '\\' are not allowed, got \"/a\\\"b\"");
}
END_TEST

START_TEST(backends_unknown_type)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("unknown_type.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:4: dns.backends.pdns1.type: unknown backend type \"powerdns\" "
             "(known types: bind, coredns_mysql, powerdns_mysql)",
             data("unknown_type.yaml"));
    ck_assert_str_eq(e.text, want);
    expect_fail("dns:\n  backends:\n    b:\n      type: BIND\n",
                "4: dns.backends.b.type: unknown backend type \"BIND\" (known types: bind, "
                "coredns_mysql, powerdns_mysql)");
}
END_TEST

START_TEST(backends_names)
{
    char text[512], name[80];
    struct config *c;

    memset(name, 'a', 63);
    name[63] = '\0';
    snprintf(text, sizeof(text),
             "dns:\n  backends:\n    %s: {type: bind, zones_dir: /z, named_conf: /n}\n"
             "    0-b_c: {type: bind, zones_dir: /z, named_conf: /n}\n",
             name);
    c = load_ok(text);
    ck_assert_uint_eq(c->n_backends, 2);
    ck_assert_str_eq(c->backends[0].name, name);
    ck_assert_str_eq(c->backends[1].name, "0-b_c");
    config_free(c);

    expect_fail("dns:\n  backends:\n    Bind: {type: bind}\n",
                "3: dns.backends: invalid backend name \"Bind\" (expected "
                "[a-z0-9][a-z0-9_-]{0,62})");
    expect_fail("dns:\n  backends:\n    -b: {type: bind}\n",
                "3: dns.backends: invalid backend name \"-b\" (expected "
                "[a-z0-9][a-z0-9_-]{0,62})");
    expect_fail("dns:\n  backends:\n    _b: {type: bind}\n",
                "3: dns.backends: invalid backend name \"_b\" (expected "
                "[a-z0-9][a-z0-9_-]{0,62})");
    expect_fail("dns:\n  backends:\n    a.b: {type: bind}\n",
                "3: dns.backends: invalid backend name \"a.b\" (expected "
                "[a-z0-9][a-z0-9_-]{0,62})");
    expect_fail("dns:\n  backends:\n    \"\": {type: bind}\n",
                "3: dns.backends: invalid backend name \"\" (expected "
                "[a-z0-9][a-z0-9_-]{0,62})");
    name[63] = 'a';
    name[64] = '\0';
    snprintf(text, sizeof(text), "dns:\n  backends:\n    %s: {type: bind}\n", name);
    expect_fail(text, "3: dns.backends: invalid backend name "
                      "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" (expected "
                      "[a-z0-9][a-z0-9_-]{0,62})");
}
END_TEST

START_TEST(backends_numeric_keys)
{
    struct config *c;

    c = load_ok("dns:\n  backends:\n    b: {type: bind, zones_dir: /z, named_conf: /n, "
                "rndc_port: 0, rndc_parallel: 64}\n");
    ck_assert_int_eq(c->backends[0].rndc_port, 0);
    ck_assert_int_eq(c->backends[0].rndc_parallel, 64);
    config_free(c);
    expect_fail("dns:\n  backends:\n    b:\n      rndc_port: 65536\n",
                "4: dns.backends.b.rndc_port: expected an integer 0-65535, got \"65536\"");
    expect_fail("dns:\n  backends:\n    b:\n      rndc_parallel: 0\n",
                "4: dns.backends.b.rndc_parallel: expected an integer 1-64, got \"0\"");
    expect_fail("dns:\n  backends:\n    b:\n      rndc_parallel: 65\n",
                "4: dns.backends.b.rndc_parallel: expected an integer 1-64, got \"65\"");
    expect_fail("dns:\n  backends:\n    b:\n      rndc: ''\n",
                "4: dns.backends.b.rndc: must not be empty");
}
END_TEST

/* ---- mysql backends ---------------------------------------------------------------------- */

START_TEST(mysql_good)
{
    const struct backend_conf *b;
    struct config *c = NULL;
    struct err e;

    ck_assert_int_eq(config_load(data("mysql.yaml"), &c, &e), 0);
    ck_assert_uint_eq(c->n_backends, 2);
    b = config_backend(c, "coredns");
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->type, BACKEND_COREDNS_MYSQL);
    ck_assert(b->enabled);
    ck_assert_str_eq(b->host, "db.internal");
    ck_assert_int_eq(b->port, 3307);
    ck_assert_str_eq(b->socket, "/run/mysqld/mysqld.sock");
    ck_assert_str_eq(b->user, "dadns");
    ck_assert_str_eq(b->password, "p@ss: word");
    ck_assert_str_eq(b->database, "coredns");
    ck_assert_str_eq(b->zones_table, "cd_zones");
    ck_assert_str_eq(b->records_table, "cd_records");
    ck_assert_str_eq(b->state_table, "cd_state");
    ck_assert(b->init_schema);
    ck_assert(b->tls);
    ck_assert(!b->tls_verify);
    ck_assert_str_eq(b->tls_ca, "/etc/ssl/db-ca.pem");
    ck_assert_int_eq(b->connect_timeout_s, 3);
    ck_assert_int_eq(b->txn_retries, 0);
    ck_assert_int_eq(b->group_size, 1);
    ck_assert_str_eq(b->post_commit, "/usr/local/bin/notify {zone}");
    ck_assert_str_eq(b->post_create, "/usr/local/bin/reload");
    ck_assert_str_eq(b->managed_by, "directadmin");

    /* only the required keys: every default */
    b = config_backend(c, "pdns");
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(b->type, BACKEND_POWERDNS_MYSQL);
    ck_assert_str_eq(b->host, "127.0.0.1");
    ck_assert_int_eq(b->port, 3306);
    ck_assert_str_eq(b->socket, "");
    ck_assert_str_eq(b->user, "pdns");
    ck_assert_str_eq(b->password, "");
    ck_assert_str_eq(b->database, "pdns");
    ck_assert_str_eq(b->zones_table, "domains");
    ck_assert_str_eq(b->records_table, "records");
    ck_assert_str_eq(b->state_table, "dadns_state");
    ck_assert(!b->init_schema);
    ck_assert(!b->tls);
    ck_assert(b->tls_verify);
    ck_assert_str_eq(b->tls_ca, "");
    ck_assert_int_eq(b->connect_timeout_s, 10);
    ck_assert_int_eq(b->txn_retries, 5);
    ck_assert_int_eq(b->group_size, 32);
    ck_assert_str_eq(b->post_commit, "");
    ck_assert_str_eq(b->post_create, "");
    ck_assert_str_eq(b->managed_by, "dadns");
    config_free(c);
}
END_TEST

START_TEST(mysql_type_defaults)
{
    struct config *c = load_ok("dns:\n  backends:\n"
                               "    a: {type: coredns_mysql, user: u, database: d}\n"
                               "    b: {type: powerdns_mysql, user: u, database: d}\n"
                               "    c: {type: bind, zones_dir: /z, named_conf: /n}\n"
                               "    d: {type: powerdns_mysql, user: u, database: d, "
                               "zones_table: Dom_2}\n");

    ck_assert_str_eq(c->backends[0].zones_table, "zones");
    ck_assert_str_eq(c->backends[1].zones_table, "domains");
    ck_assert_ptr_null(c->backends[2].zones_table); /* not a mysql backend */
    ck_assert_ptr_null(c->backends[2].user);
    ck_assert_str_eq(c->backends[3].zones_table, "Dom_2");
    config_free(c);
}
END_TEST

START_TEST(mysql_missing_required)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("mysql_missing_user.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:3: dns.backends.pdns: missing required key user",
             data("mysql_missing_user.yaml"));
    ck_assert_str_eq(e.text, want);
    ck_assert_uint_eq(e.line, 3);

    expect_fail("dns:\n  backends:\n    b: {type: coredns_mysql, user: u}\n",
                "3: dns.backends.b: missing required key database");
    expect_fail("dns:\n  backends:\n    b: {type: coredns_mysql, user: '', database: d}\n",
                "3: dns.backends.b.user: must not be empty");
    expect_fail("dns:\n  backends:\n    b: {type: coredns_mysql, user: u, database: ''}\n",
                "3: dns.backends.b.database: must not be empty");
    expect_fail("dns:\n  backends:\n    b: {type: powerdns_mysql, user: u, database: d, "
                "host: ''}\n",
                "3: dns.backends.b: host is empty and socket is not set");
    /* an empty host is fine with a socket */
    c = load_ok("dns:\n  backends:\n    b: {type: powerdns_mysql, user: u, database: d, "
                "host: '', socket: /run/mysqld/mysqld.sock}\n");
    ck_assert_str_eq(c->backends[0].host, "");
    ck_assert_str_eq(c->backends[0].socket, "/run/mysqld/mysqld.sock");
    config_free(c);
}
END_TEST

START_TEST(mysql_table_names)
{
    static const char *const bad[] = {"''", "a-b", "a.b", "\"a b\"", "\"`x`\"", "\"t\\u00e4\""};
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 256], text[512], name[80];
    size_t i;

    ck_assert_int_eq(config_load(data("mysql_bad_table.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:7: dns.backends.coredns.records_table: expected a table name "
             "([A-Za-z0-9_]{1,64}), got \"records; DROP TABLE zones\"",
             data("mysql_bad_table.yaml"));
    ck_assert_str_eq(e.text, want);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "dns:\n  backends:\n    b:\n      type: coredns_mysql\n      state_table: %s\n",
                 bad[i]);
        ck_assert_int_eq(load_text(text, &c, &e), DADNS_ECONFIG);
        ck_assert_msg(strstr(e.text, ":5: dns.backends.b.state_table: expected a table name "
                                     "([A-Za-z0-9_]{1,64}), got ") != NULL,
                      "%s: got %s", bad[i], e.text);
    }
    memset(name, 'T', 64);
    name[64] = '\0';
    snprintf(text, sizeof(text),
             "dns:\n  backends:\n    b: {type: coredns_mysql, user: u, database: d, "
             "zones_table: %s, records_table: r_2, state_table: _s}\n",
             name);
    c = load_ok(text);
    ck_assert_str_eq(c->backends[0].zones_table, name);
    ck_assert_str_eq(c->backends[0].records_table, "r_2");
    ck_assert_str_eq(c->backends[0].state_table, "_s");
    config_free(c);
    name[64] = 'T';
    name[65] = '\0';
    snprintf(text, sizeof(text), "dns:\n  backends:\n    b:\n      zones_table: %s\n", name);
    expect_fail(text, "4: dns.backends.b.zones_table: expected a table name ([A-Za-z0-9_]{1,64}), "
                      "got \"TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT...\"");
}
END_TEST

START_TEST(mysql_values)
{
    struct config *c;

    c = load_ok("dns:\n  backends:\n    b: {type: coredns_mysql, user: u, database: d, "
                "port: 1, connect_timeout_s: 3600, txn_retries: 100, group_size: 256, "
                "managed_by: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n");
    ck_assert_int_eq(c->backends[0].port, 1);
    ck_assert_int_eq(c->backends[0].connect_timeout_s, 3600);
    ck_assert_int_eq(c->backends[0].txn_retries, 100);
    ck_assert_int_eq(c->backends[0].group_size, 256);
    ck_assert_uint_eq(strlen(c->backends[0].managed_by), 40);
    config_free(c);
    expect_fail("dns:\n  backends:\n    b:\n      port: 0\n",
                "4: dns.backends.b.port: expected an integer 1-65535, got \"0\"");
    expect_fail("dns:\n  backends:\n    b:\n      connect_timeout_s: 0\n",
                "4: dns.backends.b.connect_timeout_s: expected an integer 1-3600, got \"0\"");
    expect_fail("dns:\n  backends:\n    b:\n      txn_retries: 101\n",
                "4: dns.backends.b.txn_retries: expected an integer 0-100, got \"101\"");
    expect_fail("dns:\n  backends:\n    b:\n      group_size: 0\n",
                "4: dns.backends.b.group_size: expected an integer 1-256, got \"0\"");
    expect_fail("dns:\n  backends:\n    b:\n      group_size: 257\n",
                "4: dns.backends.b.group_size: expected an integer 1-256, got \"257\"");
    expect_fail("dns:\n  backends:\n    b:\n      tls: maybe\n",
                "4: dns.backends.b.tls: expected a boolean (true/false/yes/no/on/off/1/0), got "
                "\"maybe\"");
    expect_fail("dns:\n  backends:\n    b:\n      managed_by: ''\n",
                "4: dns.backends.b.managed_by: must not be empty");
    expect_fail("dns:\n  backends:\n    b:\n      managed_by: "
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                "4: dns.backends.b.managed_by: longer than 40 characters, got "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
    expect_fail("dns:\n  backends:\n    b:\n      post_commit: \"a\\tb\"\n",
                "4: dns.backends.b.post_commit: control characters are not allowed, got "
                "\"a\\x09b\"");
}
END_TEST

START_TEST(mysql_env)
{
    struct config *c = NULL;
    struct err e;

    /* overrides of the file's backends, including keys that end in another key's name */
    setenv("DADNS_DNS_BACKENDS_PDNS_PASSWORD", "from env", 1);
    setenv("DADNS_DNS_BACKENDS_PDNS_TLS", "on", 1);
    setenv("DADNS_DNS_BACKENDS_PDNS_TLS_CA", "/ca.pem", 1);
    setenv("DADNS_DNS_BACKENDS_PDNS_TLS_VERIFY", "0", 1);
    setenv("DADNS_DNS_BACKENDS_PDNS_PORT", "3310", 1);
    setenv("DADNS_DNS_BACKENDS_PDNS_ZONES_TABLE", "pdns_domains", 1);
    setenv("DADNS_DNS_BACKENDS_COREDNS_POST_COMMIT", "", 1);
    ck_assert_int_eq(config_load(data("mysql.yaml"), &c, &e), 0);
    ck_assert_str_eq(config_backend(c, "pdns")->password, "from env");
    ck_assert(config_backend(c, "pdns")->tls);
    ck_assert_str_eq(config_backend(c, "pdns")->tls_ca, "/ca.pem");
    ck_assert(!config_backend(c, "pdns")->tls_verify);
    ck_assert_int_eq(config_backend(c, "pdns")->port, 3310);
    ck_assert_str_eq(config_backend(c, "pdns")->zones_table, "pdns_domains");
    ck_assert_str_eq(config_backend(c, "coredns")->post_commit, "");
    config_free(c);
    clear_env();

    /* a backend made of variables only */
    setenv("DADNS_DNS_BACKENDS_DC_2_TYPE", "coredns_mysql", 1);
    setenv("DADNS_DNS_BACKENDS_DC_2_USER", "u", 1);
    expect_env_fail(NULL, "environment: dns.backends.dc_2: missing required key database "
                          "(set DADNS_DNS_BACKENDS_DC_2_DATABASE)");
    setenv("DADNS_DNS_BACKENDS_DC_2_DATABASE", "dns", 1);
    setenv("DADNS_DNS_BACKENDS_DC_2_HOST", "", 1);
    expect_env_fail(NULL, "environment: dns.backends.dc_2: host is empty and socket is not set");
    setenv("DADNS_DNS_BACKENDS_DC_2_SOCKET", "/s.sock", 1);
    setenv("DADNS_DNS_BACKENDS_DC_2_STATE_TABLE", "st", 1);
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_uint_eq(c->n_backends, 1);
    ck_assert_str_eq(c->backends[0].name, "dc_2");
    ck_assert_int_eq(c->backends[0].type, BACKEND_COREDNS_MYSQL);
    ck_assert_str_eq(c->backends[0].zones_table, "zones");
    ck_assert_str_eq(c->backends[0].state_table, "st");
    ck_assert_str_eq(c->backends[0].socket, "/s.sock");
    config_free(c);
    setenv("DADNS_DNS_BACKENDS_DC_2_RECORDS_TABLE", "r-1", 1);
    expect_env_fail(NULL, "environment DADNS_DNS_BACKENDS_DC_2_RECORDS_TABLE: expected a table "
                          "name ([A-Za-z0-9_]{1,64}), got \"r-1\"");
}
END_TEST

/* ---- directadmin servers ----------------------------------------------------------------- */

START_TEST(da_good)
{
    const struct da_server_conf *s;
    struct config *c = NULL;
    struct err e;

    ck_assert_int_eq(config_load(data("directadmin.yaml"), &c, &e), 0);
    ck_assert_int_eq(c->rec_max_delete_percent, 20);
    ck_assert_uint_eq(c->n_da_servers, 2);
    ck_assert_uint_eq(c->n_backends, 0);
    s = &c->da_servers[0];
    ck_assert_ptr_eq(config_da_server(c, "da1"), s);
    ck_assert_str_eq(s->name, "da1");
    ck_assert_str_eq(s->host, "da1.example.net");
    ck_assert_int_eq(s->port, 2223);
    ck_assert_str_eq(s->user, "admin");
    ck_assert_str_eq(s->password, "s3cret: with colon");
    ck_assert(!s->tls);
    ck_assert(!s->tls_verify);
    ck_assert_int_eq(s->timeout_s, 5);
    ck_assert_str_eq(s->hostname, "server1.example.net");
    ck_assert_int_eq(s->page_size, 250);
    /* the defaults */
    s = &c->da_servers[1];
    ck_assert_ptr_eq(config_da_server(c, "da-2"), s);
    ck_assert_str_eq(s->name, "da-2");
    ck_assert_str_eq(s->host, "192.0.2.10");
    ck_assert_int_eq(s->port, 2222);
    ck_assert_str_eq(s->user, "reseller");
    ck_assert_str_eq(s->password, "");
    ck_assert(s->tls);
    ck_assert(s->tls_verify);
    ck_assert_int_eq(s->timeout_s, 30);
    ck_assert_str_eq(s->hostname, "192.0.2.10");
    ck_assert_int_eq(s->page_size, 1000);
    ck_assert_ptr_null(config_da_server(c, "da2"));
    config_free(c);

    /* hosts: names, IPv4, IPv6 with and without brackets */
    c = load_ok("directadmin:\n  servers:\n"
                "    a: {host: '::1', user: u}\n"
                "    b: {host: '[2001:db8::1]', user: u}\n"
                "    c: {host: my_host-1.example, user: u}\n"
                "    d: {host: localhost, user: u, hostname: '[x]:1'}\n");
    ck_assert_str_eq(c->da_servers[0].host, "::1");
    ck_assert_str_eq(c->da_servers[0].hostname, "::1");
    ck_assert_str_eq(c->da_servers[1].host, "[2001:db8::1]");
    ck_assert_str_eq(c->da_servers[2].host, "my_host-1.example");
    ck_assert_str_eq(c->da_servers[3].hostname, "[x]:1");
    config_free(c);
}
END_TEST

START_TEST(da_missing_required)
{
    struct config *c = NULL;
    struct err e;
    char want[PATH_MAX + 128];

    ck_assert_int_eq(config_load(data("directadmin_missing_user.yaml"), &c, &e), DADNS_ECONFIG);
    snprintf(want, sizeof(want), "%s:4: directadmin.servers.da1: missing required key user",
             data("directadmin_missing_user.yaml"));
    ck_assert_str_eq(e.text, want);
    ck_assert_uint_eq(e.line, 4);

    expect_fail("directadmin:\n  servers:\n    da1:\n", "3: directadmin.servers.da1: missing "
                                                        "required key host");
    expect_fail("directadmin:\n  servers:\n    da1: {user: admin}\n",
                "3: directadmin.servers.da1: missing required key host");
    expect_fail("directadmin:\n  servers:\n    da1: {host: h, user: ''}\n",
                "3: directadmin.servers.da1.user: must not be empty");
}
END_TEST

START_TEST(da_keys_and_names)
{
    expect_fail("directadmin:\n  server: {}\n", "2: unknown key directadmin.server");
    expect_fail("directadmin:\n  servers:\n    da1:\n      host: h\n      passwd: x\n",
                "5: unknown key directadmin.servers.da1.passwd");
    expect_fail("directadmin:\n  servers:\n    da1: {host: h, user: u}\n    da1: {host: h}\n",
                "4: duplicate key directadmin.servers.da1 (first at line 3)");
    expect_fail("directadmin:\n  servers:\n    DA1: {host: h, user: u}\n",
                "3: directadmin.servers: invalid server name \"DA1\" (expected "
                "[a-z0-9][a-z0-9_-]{0,62})");
    expect_fail("directadmin: [a]\n", "1: directadmin: expected a mapping, got a sequence");
    expect_fail("directadmin:\n  servers: x\n",
                "2: directadmin.servers: expected a mapping, got a scalar");
    expect_fail("directadmin:\n  servers:\n    da1: 1\n",
                "3: directadmin.servers.da1: expected a mapping, got a scalar");
    expect_fail("directadmin:\n  servers:\n    a-b: {host: h, user: u}\n"
                "    a_b: {host: i, user: u}\n",
                "4: directadmin.servers.a-b and directadmin.servers.a_b would share the "
                "environment variables DADNS_DIRECTADMIN_SERVERS_A_B_*");
}
END_TEST

START_TEST(da_values)
{
    static const struct {
        const char *kv;   /* "key: value" inside the server */
        const char *want; /* message after "4: directadmin.servers.da1." */
    } bad[] = {
        {"port: 0", "port: expected an integer 1-65535, got \"0\""},
        {"port: 65536", "port: expected an integer 1-65535, got \"65536\""},
        {"timeout_s: 0", "timeout_s: expected an integer 1-3600, got \"0\""},
        {"timeout_s: 3601", "timeout_s: expected an integer 1-3600, got \"3601\""},
        {"page_size: 0", "page_size: expected an integer 1-100000, got \"0\""},
        {"page_size: 100001", "page_size: expected an integer 1-100000, got \"100001\""},
        {"tls: maybe", "tls: expected a boolean (true/false/yes/no/on/off/1/0), got \"maybe\""},
        {"tls_verify: 2", "tls_verify: expected a boolean (true/false/yes/no/on/off/1/0), got "
                          "\"2\""},
        {"host: ''", "host: expected a host name or IP address, got \"\""},
        {"host: http://da", "host: expected a host name or IP address, got \"http://da\""},
        {"host: 'da.example:2222'",
         "host: expected a host name or IP address, got \"da.example:2222\""},
        {"host: 'a b'", "host: expected a host name or IP address, got \"a b\""},
        {"host: 'a/b'", "host: expected a host name or IP address, got \"a/b\""},
        {"host: 'u@h'", "host: expected a host name or IP address, got \"u@h\""},
        {"host: '-h'", "host: expected a host name or IP address, got \"-h\""},
        {"host: '[]'", "host: expected a host name or IP address, got \"[]\""},
        {"host: '[h]'", "host: expected a host name or IP address, got \"[h]\""},
        {"host: ~", "host: expected a host name or IP address, got null"},
        {"hostname: ''", "hostname: must not be empty"},
        {"hostname: 'a b'",
         "hostname: blanks, quotes, '\\' and non-ASCII are not allowed, got \"a b\""},
        {"hostname: 'a\"b'",
         "hostname: blanks, quotes, '\\' and non-ASCII are not allowed, got \"a\\\"b\""},
        {"hostname: \"a'b\"",
         "hostname: blanks, quotes, '\\' and non-ASCII are not allowed, got \"a'b\""},
        {"hostname: 'h\\'", "hostname: blanks, quotes, '\\' and non-ASCII are not allowed, got "
                            "\"h\\\\\""},
        {"hostname: \"a\\tb\"", "hostname: control characters are not allowed, got \"a\\x09b\""},
        {"password: {a: 1}", "password: expected a string, got a mapping"},
    };
    char text[256], want[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "directadmin:\n  servers:\n    da1:\n      %s\n", bad[i].kv);
        snprintf(want, sizeof(want), "4: directadmin.servers.da1.%s", bad[i].want);
        expect_fail(text, want);
    }
}
END_TEST

START_TEST(da_hostname_unique)
{
    struct config *c;

    expect_fail("directadmin:\n  servers:\n    a: {host: h1, user: u, hostname: da.example}\n"
                "    b: {host: h2, user: u, hostname: DA.Example}\n",
                "4: directadmin.servers.b: hostname \"DA.Example\" is also the hostname of "
                "directadmin.servers.a (each server needs its own: it tells which server owns "
                "a zone)");
    /* the default hostname (= host) counts */
    expect_fail("directadmin:\n  servers:\n    a: {host: h1, user: u}\n"
                "    b: {host: h2, user: u, hostname: h1}\n",
                "4: directadmin.servers.b: hostname \"h1\" is also the hostname of "
                "directadmin.servers.a (each server needs its own: it tells which server owns "
                "a zone)");
    /* the same host twice with distinct hostnames is fine (two ports, a proxy...) */
    c = load_ok("directadmin:\n  servers:\n    a: {host: h1, user: u}\n"
                "    b: {host: h1, port: 2223, user: u, hostname: h1b}\n");
    ck_assert_uint_eq(c->n_da_servers, 2);
    config_free(c);
}
END_TEST

START_TEST(da_env)
{
    struct config *c = NULL;
    struct err e;

    /* overrides of the file's servers, including keys that end in another key's name */
    setenv("DADNS_DIRECTADMIN_SERVERS_DA1_PASSWORD", "from env", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_DA1_TLS", "yes", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_DA1_TLS_VERIFY", "off", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_DA_2_HOSTNAME", "da2.example.net", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_DA_2_HOST", "da2.internal", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_DA_2_PAGE_SIZE", "100000", 1);
    ck_assert_int_eq(config_load(data("directadmin.yaml"), &c, &e), 0);
    ck_assert_str_eq(config_da_server(c, "da1")->password, "from env");
    ck_assert(config_da_server(c, "da1")->tls);
    ck_assert(!config_da_server(c, "da1")->tls_verify);
    ck_assert_str_eq(config_da_server(c, "da-2")->hostname, "da2.example.net");
    ck_assert_str_eq(config_da_server(c, "da-2")->host, "da2.internal");
    ck_assert_int_eq(config_da_server(c, "da-2")->page_size, 100000);
    ck_assert_uint_eq(c->n_backends, 0);
    config_free(c);
    clear_env();

    /* servers made of variables only: after the file's, sorted by name */
    setenv("DADNS_DIRECTADMIN_SERVERS_ZZ_HOST", "zz.example", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_ZZ_USER", "admin", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_MY_TLS_HOST", "my.example", 1);
    expect_env_fail(NULL, "environment: directadmin.servers.my_tls: missing required key user "
                          "(set DADNS_DIRECTADMIN_SERVERS_MY_TLS_USER)");
    setenv("DADNS_DIRECTADMIN_SERVERS_MY_TLS_USER", "admin", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_MY_TLS_TLS", "0", 1);
    ck_assert_int_eq(config_load(data("directadmin.yaml"), &c, &e), 0);
    ck_assert_uint_eq(c->n_da_servers, 4);
    ck_assert_str_eq(c->da_servers[0].name, "da1");
    ck_assert_str_eq(c->da_servers[1].name, "da-2");
    ck_assert_str_eq(c->da_servers[2].name, "my_tls");
    ck_assert_str_eq(c->da_servers[3].name, "zz");
    ck_assert(!c->da_servers[2].tls);
    ck_assert_str_eq(c->da_servers[2].hostname, "my.example");
    ck_assert_str_eq(c->da_servers[3].host, "zz.example");
    ck_assert(c->da_servers[3].tls);
    config_free(c);
    clear_env();

    setenv("DADNS_DIRECTADMIN_SERVERS_DA1_TIMEOUT_S", "0", 1);
    expect_env_fail(NULL, "environment DADNS_DIRECTADMIN_SERVERS_DA1_TIMEOUT_S: expected an "
                          "integer 1-3600, got \"0\"");
    clear_env();
    setenv("DADNS_DIRECTADMIN_SERVERS__X_HOST", "h", 1);
    expect_env_fail(NULL, "environment DADNS_DIRECTADMIN_SERVERS__X_HOST: invalid server name "
                          "\"_x\" (expected [a-z0-9][a-z0-9_-]{0,62})");
    clear_env();
    setenv("DADNS_DIRECTADMIN_SERVERS_A_HOST", "h", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_A_USER", "u", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_B_HOST", "H", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_B_USER", "u", 1);
    expect_env_fail(NULL, "environment: directadmin.servers.b: hostname \"H\" is also the "
                          "hostname of directadmin.servers.a (each server needs its own: it "
                          "tells which server owns a zone)");
    clear_env();
    /* not ours: ignored */
    setenv("DADNS_DIRECTADMIN_SERVERS_HOST", "h", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_A_PASSWD", "h", 1);
    setenv("DADNS_DIRECTADMIN_SERVERS_a_HOST", "h", 1);
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_uint_eq(c->n_da_servers, 0);
    config_free(c);
}
END_TEST

/* ---- environment ------------------------------------------------------------------------- */

START_TEST(env_overrides_file)
{
    struct config *c = NULL;
    struct err e;

    setenv("DADNS_REDIS_PORT", "7001", 1);
    setenv("DADNS_APP_AUTH_PASSWORD", "from env", 1);
    setenv("DADNS_REDIS_PASSWORD", "", 1);
    setenv("DADNS_LOG_FORMAT", "json", 1);
    setenv("DADNS_APP_MAX_BODY_BYTES", "2048", 1);
    setenv("DADNS_REDIS_STREAM_MAXLEN", "123456", 1);
    setenv("DADNS_WRITER_CONSUMER_NAME", "pod-7", 1);
    ck_assert_int_eq(config_load(data("good.yaml"), &c, &e), 0);
    ck_assert_int_eq(c->redis_port, 7001);
    ck_assert_str_eq(c->auth_password, "from env");
    ck_assert_str_eq(c->redis_password, "");
    ck_assert_str_eq(c->log_format, "json");
    ck_assert_uint_eq(c->max_body_bytes, 2048);
    ck_assert_int_eq(c->stream_maxlen, 123456);
    ck_assert_str_eq(c->consumer_name, "pod-7");
    ck_assert_str_eq(c->redis_host, "redis.internal"); /* untouched */
    config_free(c);

    /* without a file */
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_int_eq(c->redis_port, 7001);
    ck_assert_int_eq(c->listen_port, 2222);
    config_free(c);
}
END_TEST

START_TEST(env_bad_values)
{
    setenv("DADNS_REDIS_PORT", "x", 1);
    expect_env_fail(NULL, "environment DADNS_REDIS_PORT: expected an integer 1-65535, got \"x\"");
    setenv("DADNS_REDIS_PORT", "", 1);
    expect_env_fail(NULL, "environment DADNS_REDIS_PORT: expected an integer 1-65535, got \"\"");
    unsetenv("DADNS_REDIS_PORT");
    setenv("DADNS_LOG_LEVEL", "trace", 1);
    expect_env_fail("log:\n  level: info\n", "environment DADNS_LOG_LEVEL: expected one of "
                                             "debug|info|warn|error, got \"trace\"");
    unsetenv("DADNS_LOG_LEVEL");
    setenv("DADNS_REDIS_HOST", "", 1);
    expect_env_fail(NULL, "environment DADNS_REDIS_HOST: must not be empty");
    unsetenv("DADNS_REDIS_HOST");
    setenv("DADNS_APP_AUTH_REALM", "a\tb", 1);
    expect_env_fail(NULL, "environment DADNS_APP_AUTH_REALM: control characters are not "
                          "allowed, got \"a\\x09b\"");
    unsetenv("DADNS_APP_AUTH_REALM");
    setenv("DADNS_WRITER_BLOCK_MS", "5000", 1);
    expect_env_fail(NULL, "environment DADNS_WRITER_BLOCK_MS: writer.block_ms (5000) must be "
                          "less than redis.timeout_ms (5000)");
    unsetenv("DADNS_WRITER_BLOCK_MS");
    setenv("DADNS_REDIS_TIMEOUT_MS", "1000", 1);
    expect_env_fail(NULL, "environment DADNS_REDIS_TIMEOUT_MS: writer.block_ms (2000) must be "
                          "less than redis.timeout_ms (1000)");
}
END_TEST

START_TEST(env_unknown_ignored)
{
    struct config *c = NULL;
    struct err e;

    setenv("DADNS_APP_LISTN_PORT", "x", 1);
    setenv("DADNS_SOMETHING_ELSE", "1", 1);
    setenv("DADNS_DNS_BACKENDS_BIND_ZONESDIR", "relative", 1);
    setenv("DADNS_DNS_BACKENDS_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_bind_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_B.C_TYPE", "bind", 1);
    setenv("DADNS_redis_port", "x", 1);
    ck_assert_int_eq(config_load(NULL, &c, &e), 0);
    ck_assert_uint_eq(c->n_backends, 0);
    config_free(c);
}
END_TEST

START_TEST(env_backend_override)
{
    static const char text[] = "dns:\n"
                               "  backends:\n"
                               "    bind:\n"
                               "      type: bind\n"
                               "      named_conf: /etc/bind/dadns.conf\n"
                               "    site-2:\n"
                               "      type: bind\n"
                               "      zones_dir: /z2\n"
                               "      named_conf: /n2\n";
    struct config *c;

    /* the file lacks zones_dir for "bind": the environment supplies it */
    setenv("DADNS_DNS_BACKENDS_BIND_ZONES_DIR", "/var/lib/dadns", 1);
    setenv("DADNS_DNS_BACKENDS_SITE_2_RNDC_PORT", "9953", 1);
    setenv("DADNS_DNS_BACKENDS_SITE_2_ENABLED", "off", 1);
    c = load_ok(text);
    ck_assert_uint_eq(c->n_backends, 2);
    ck_assert_str_eq(c->backends[0].zones_dir, "/var/lib/dadns");
    ck_assert_str_eq(c->backends[1].name, "site-2");
    ck_assert_int_eq(c->backends[1].rndc_port, 9953);
    ck_assert(!c->backends[1].enabled);
    config_free(c);

    setenv("DADNS_DNS_BACKENDS_SITE_2_RNDC_PARALLEL", "100", 1);
    expect_env_fail(text, "environment DADNS_DNS_BACKENDS_SITE_2_RNDC_PARALLEL: expected an "
                          "integer 1-64, got \"100\"");
    unsetenv("DADNS_DNS_BACKENDS_SITE_2_RNDC_PARALLEL");
    setenv("DADNS_DNS_BACKENDS_BIND_TYPE", "knot", 1);
    expect_env_fail(text, "environment DADNS_DNS_BACKENDS_BIND_TYPE: unknown backend type "
                          "\"knot\" (known types: bind, coredns_mysql, powerdns_mysql)");
}
END_TEST

START_TEST(env_backend_created)
{
    struct config *c = NULL;
    struct err e;

    setenv("DADNS_DNS_BACKENDS_ZETA_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_ZETA_ZONES_DIR", "/zeta/zones", 1);
    setenv("DADNS_DNS_BACKENDS_ZETA_NAMED_CONF", "/zeta/named.conf", 1);
    /* a name with '_' and a key with '_': the longest key suffix wins */
    setenv("DADNS_DNS_BACKENDS_MY_RNDC_TYPE", "bind", 1);
    setenv("DADNS_DNS_BACKENDS_MY_RNDC_ZONES_DIR", "/my/zones", 1);
    setenv("DADNS_DNS_BACKENDS_MY_RNDC_NAMED_CONF", "/my/named.conf", 1);
    setenv("DADNS_DNS_BACKENDS_MY_RNDC_RNDC_PORT", "1953", 1);
    setenv("DADNS_DNS_BACKENDS_MY_RNDC_RNDC", "/opt/rndc", 1);
    setenv("DADNS_DNS_BACKENDS_MY_RNDC_RNDC_CONF", "/my/rndc.conf", 1);
    ck_assert_int_eq(config_load(data("good.yaml"), &c, &e), 0);
    ck_assert_uint_eq(c->n_backends, 4);
    /* the file's backends first, then those of the environment sorted by name */
    ck_assert_str_eq(c->backends[0].name, "primary");
    ck_assert_str_eq(c->backends[1].name, "second-site");
    ck_assert_str_eq(c->backends[2].name, "my_rndc");
    ck_assert_str_eq(c->backends[3].name, "zeta");
    ck_assert_int_eq(c->backends[2].type, BACKEND_BIND);
    ck_assert_str_eq(c->backends[2].zones_dir, "/my/zones");
    ck_assert_str_eq(c->backends[2].named_conf, "/my/named.conf");
    ck_assert_int_eq(c->backends[2].rndc_port, 1953);
    ck_assert_str_eq(c->backends[2].rndc, "/opt/rndc");
    ck_assert_str_eq(c->backends[2].rndc_conf, "/my/rndc.conf");
    ck_assert(c->backends[2].enabled);
    ck_assert_str_eq(config_backend(c, "zeta")->zones_dir, "/zeta/zones");
    config_free(c);
}
END_TEST

START_TEST(env_backend_created_incomplete)
{
    setenv("DADNS_DNS_BACKENDS_EDGE_ZONES_DIR", "/z", 1);
    expect_env_fail(NULL, "environment: dns.backends.edge: missing required key type "
                          "(set DADNS_DNS_BACKENDS_EDGE_TYPE)");
    setenv("DADNS_DNS_BACKENDS_EDGE_TYPE", "bind", 1);
    expect_env_fail(NULL, "environment: dns.backends.edge: missing required key named_conf "
                          "(set DADNS_DNS_BACKENDS_EDGE_NAMED_CONF)");
    clear_env();
    setenv("DADNS_DNS_BACKENDS__X_TYPE", "bind", 1);
    expect_env_fail(NULL, "environment DADNS_DNS_BACKENDS__X_TYPE: invalid backend name "
                          "\"_x\" (expected [a-z0-9][a-z0-9_-]{0,62})");
}
END_TEST

START_TEST(env_backend_collision)
{
    expect_fail("dns:\n  backends:\n    a-b: {type: bind, zones_dir: /z, named_conf: /n}\n"
                "    a_b: {type: bind, zones_dir: /z, named_conf: /n}\n",
                "4: dns.backends.a-b and dns.backends.a_b would share the environment "
                "variables DADNS_DNS_BACKENDS_A_B_*");
}
END_TEST

/* ---- runner ------------------------------------------------------------------------------ */

static TCase *tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    return tc;
}

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase("defaults");
    tcase_add_test(tc, defaults_no_file);
    tcase_add_test(tc, defaults_empty_file);
    tcase_add_test(tc, defaults_null_sections);
    tcase_add_test(tc, defaults_free_and_lookup);
    suite_add_tcase(s, tc);

    tc = tcase("file");
    tcase_add_test(tc, file_good);
    tcase_add_test(tc, file_aliases);
    tcase_add_test(tc, file_quoted_numbers_and_booleans);
    tcase_add_test(tc, file_strings);
    tcase_add_test(tc, file_unreadable);
    tcase_add_test(tc, file_too_large);
    tcase_add_test(tc, file_syntax_error);
    tcase_add_test(tc, file_bad_utf8);
    tcase_add_test(tc, file_multi_doc);
    tcase_add_test(tc, file_top_not_mapping);
    suite_add_tcase(s, tc);

    tc = tcase("keys");
    tcase_add_test(tc, keys_unknown);
    tcase_add_test(tc, keys_duplicate);
    tcase_add_test(tc, keys_not_scalar);
    suite_add_tcase(s, tc);

    tc = tcase("values");
    tcase_add_test(tc, values_bad_type_file);
    tcase_add_loop_test(tc, values_ranges, 0, (int)(sizeof(ranges) / sizeof(ranges[0])));
    tcase_add_test(tc, values_wrong_node_kind);
    tcase_add_test(tc, values_strings_checked);
    tcase_add_test(tc, values_block_vs_timeout);
    suite_add_tcase(s, tc);

    tc = tcase("backends");
    tcase_add_test(tc, backends_missing_required);
    tcase_add_test(tc, backends_unknown_type);
    tcase_add_test(tc, backends_names);
    tcase_add_test(tc, backends_numeric_keys);
    suite_add_tcase(s, tc);

    tc = tcase("mysql");
    tcase_add_test(tc, mysql_good);
    tcase_add_test(tc, mysql_type_defaults);
    tcase_add_test(tc, mysql_missing_required);
    tcase_add_test(tc, mysql_table_names);
    tcase_add_test(tc, mysql_values);
    tcase_add_test(tc, mysql_env);
    suite_add_tcase(s, tc);

    tc = tcase("directadmin");
    tcase_add_test(tc, da_good);
    tcase_add_test(tc, da_missing_required);
    tcase_add_test(tc, da_keys_and_names);
    tcase_add_test(tc, da_values);
    tcase_add_test(tc, da_hostname_unique);
    tcase_add_test(tc, da_env);
    suite_add_tcase(s, tc);

    tc = tcase("environment");
    tcase_add_test(tc, env_overrides_file);
    tcase_add_test(tc, env_bad_values);
    tcase_add_test(tc, env_unknown_ignored);
    tcase_add_test(tc, env_backend_override);
    tcase_add_test(tc, env_backend_created);
    tcase_add_test(tc, env_backend_created_incomplete);
    tcase_add_test(tc, env_backend_collision);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
