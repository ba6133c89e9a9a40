/* test_mysqlbackend.c -- Check suite for services/writer-mysql (mysqlbackend.c, schema.c,
 * hook.c) against a real mariadbd started for the test (mariadb_fixture.c): schema creation
 * and checks, the per-zone transaction (versions, deletes, ownership, verify), group commit
 * (a bad zone fails alone, lock order, replicas), failure isolation, outages and restarts,
 * lock-wait retries and the operator commands. */
#include <check.h>
#include <limits.h>
#include <mysql.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha1.h>

#include "buf.h"
#include "config.h"
#include "hook.h"
#include "mariadb_fixture.h"
#include "mysqlbackend.h"
#include "mysqlinventory.h"
#include "rowhash.h"
#include "rows.h"
#include "schema.h"

static int port;
static MYSQL *root;             /* root over the socket: setup and inspection */
static char tmpdir[PATH_MAX];   /* per test: YAML, hook output */
static struct config *cfg;      /* per test */
static struct mysqlbackend *mb; /* per test */
static char warned[4096];       /* warnings the backend reported */
static unsigned n_warned;       /* how many */
static char dbname[64];         /* database of the running test */
static unsigned db_seq;         /* for unique database names */
static int kill_on_warn;        /* on_warn kills the writer's connections */

/* ---- helpers ---------------------------------------------------------------------------- */

static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sql(const char *fmt, ...)
{
    char q[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    ck_assert_msg(mysql_query(root, q) == 0, "%s: %s", q, mysql_error(root));
}

/* sql_rows - every row of @q as "a|b|c" lines, sorted (NULL written as NULL). */
static void sql_rows(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sort_lines - sort the lines of @b in place (strcmp order). */
static void sort_lines(struct buf *b)
{
    char **lines = NULL, *copy;
    size_t n = 0, i, off = 0;
    char *p;

    if (b->len == 0)
        return;
    copy = strdup(b->data);
    ck_assert_ptr_nonnull(copy);
    for (p = strtok(copy, "\n"); p != NULL; p = strtok(NULL, "\n")) {
        char **nl = realloc(lines, (n + 1) * sizeof(*lines));

        ck_assert_ptr_nonnull(nl);
        lines = nl;
        lines[n++] = p;
    }
    if (n > 1)
        qsort(lines, n, sizeof(*lines), cmp_line);
    for (i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);

        memcpy(b->data + off, lines[i], l);
        b->data[off + l] = '\n';
        off += l + 1;
    }
    free(lines);
    free(copy);
}

static void sql_rows(struct buf *out, const char *fmt, ...)
{
    char q[4096];
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned i, nf;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    buf_reset(out);
    ck_assert_msg(mysql_query(root, q) == 0, "%s: %s", q, mysql_error(root));
    res = mysql_store_result(root);
    ck_assert_ptr_nonnull(res);
    nf = mysql_num_fields(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        for (i = 0; i < nf; i++)
            ck_assert_int_eq(buf_printf(out, "%s%s", i ? "|" : "", row[i] ? row[i] : "NULL"), 0);
        ck_assert_int_eq(buf_appends(out, "\n"), 0);
    }
    mysql_free_result(res);
    sort_lines(out);
}

/* sql_int - the first column of the first row of @q as a number; -1 when there is no row,
 * -2 for NULL. */
static long long sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static long long sql_int(const char *fmt, ...)
{
    char q[4096];
    MYSQL_RES *res;
    MYSQL_ROW row;
    long long v = -1;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    ck_assert_msg(mysql_query(root, q) == 0, "%s: %s", q, mysql_error(root));
    res = mysql_store_result(root);
    ck_assert_ptr_nonnull(res);
    row = mysql_fetch_row(res);
    if (row != NULL)
        v = row[0] != NULL ? strtoll(row[0], NULL, 10) : -2;
    mysql_free_result(res);
    return v;
}

/* expected_rows - what the records table should hold for @text, rendered like the SELECTs of
 * records_of(). */
static void expected_rows(struct buf *out, enum rows_format fmt, const char *zone, const char *text)
{
    struct rows_builder *rb = NULL;
    struct rowset rs;
    struct err e;
    size_t i;

    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(rows_builder_new(&rb), 0);
    ck_assert_msg(rows_build(rb, fmt, zone, text, strlen(text), &rs, &e) == 0, "%s", e.text);
    buf_reset(out);
    for (i = 0; i < rs.n; i++) {
        const struct row *r = &rs.v[i];

        if (fmt == ROWS_COREDNS)
            buf_printf(out, "%s|%s|%s|%u|1\n", r->name, r->type, r->content, r->ttl);
        else
            buf_printf(out, "%s|%s|%s|%u|%u|0|NULL|%u\n", r->name, r->type ? r->type : "NULL",
                       r->content ? r->content : "NULL", r->ttl, r->prio, r->auth);
    }
    sort_lines(out);
    rowset_free(&rs);
    rows_builder_free(rb);
}

/* records_of - the records of @zone as stored, rendered like expected_rows(). */
static void records_of(struct buf *out, enum rows_format fmt, const char *zone)
{
    if (fmt == ROWS_COREDNS)
        sql_rows(out,
                 "SELECT r.hostname, r.type, r.data, r.ttl, r.online FROM `%s`.records r JOIN "
                 "`%s`.zones z ON z.id = r.zone_id WHERE z.zone_name = '%s.'",
                 dbname, dbname, zone);
    else
        sql_rows(out,
                 "SELECT r.name, r.type, r.content, r.ttl, r.prio, r.disabled, r.ordername, "
                 "r.auth FROM `%s`.records r JOIN `%s`.domains d ON d.id = r.domain_id WHERE "
                 "d.name = '%s'",
                 dbname, dbname, zone);
}

/* zone_text - a DirectAdmin-like zone for @zone with @serial and @ip. Returns a static
 * buffer. */
static const char *zone_text(const char *zone, unsigned serial, const char *ip)
{
    static char t[4096];

    snprintf(t, sizeof(t),
             "$TTL 3600\n"
             "@\tIN\tSOA\tns1.hostingco.example.\thostmaster.%s. ( %u 3600 3600 1209600 86400 )\n"
             "%s.\t3600\tIN\tNS\tns1.hostingco.example.\n"
             "%s.\t3600\tIN\tNS\tns2.hostingco.example.\n"
             "%s.\t3600\tIN\tA\t%s\n"
             "www\t3600\tIN\tA\t%s\n"
             "mail\t3600\tIN\tA\t%s\n"
             "ftp\t3600\tIN\tCNAME\t%s.\n"
             "webmail\t3600\tIN\tCNAME\tmail\n"
             "%s.\t3600\tIN\tMX\t10 mail\n"
             "%s.\t3600\tIN\tTXT\t\"v=spf1 a mx ip4:%s ~all\"\n"
             "x._domainkey\t3600\tIN\tTXT\t( \"v=DKIM1; k=rsa; \" \"p=MIIBIjANBgkqhkiG9w0\" )\n"
             "_sip._tcp\t3600\tIN\tSRV\t10 60 5060 sip\n"
             "sip\t3600\tIN\tA\t%s\n"
             "%s.\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"\n",
             zone, serial, zone, zone, zone, ip, ip, ip, zone, zone, zone, ip, ip, zone);
    return t;
}

/* kill_writers - KILL every connection of the user the backends use. */
static void kill_writers(void)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    char q[64];

    sql("SELECT id FROM information_schema.PROCESSLIST WHERE user = 'dadns'");
    res = mysql_store_result(root);
    ck_assert_ptr_nonnull(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        snprintf(q, sizeof(q), "KILL %s", row[0]);
        mysql_query(root, q); /* it may be gone already */
    }
    mysql_free_result(res);
}

static void on_warn(void *arg, const char *zone, const char *what)
{
    size_t len = strlen(warned);

    (void)arg;
    n_warned++;
    snprintf(warned + len, sizeof(warned) - len, "%s: %s\n", zone ? zone : "-", what);
    if (kill_on_warn)
        kill_writers();
}

/* new_db - a fresh, empty database for the test. */
static void new_db(void)
{
    snprintf(dbname, sizeof(dbname), "t%u_%d", ++db_seq, (int)getpid());
    sql("DROP DATABASE IF EXISTS `%s`", dbname);
    sql("CREATE DATABASE `%s`", dbname);
}

/* load - a config with one backend "b" of @type on the test database, plus @extra YAML lines
 * (each indented by 6 spaces). */
static const struct backend_conf *load(const char *type, const char *extra)
{
    static const char *const keys[] = {"host",     "port",     "user",
                                       "password", "database", "connect_timeout_s"};
    char text[4096], path[PATH_MAX + 16], key[40];
    const char *vals[6];
    char portbuf[16];
    struct err e;
    size_t off, i;
    FILE *f;

    mysqlbackend_free(mb); /* it borrows the old config */
    mb = NULL;
    config_free(cfg);
    cfg = NULL;
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    vals[0] = "127.0.0.1";
    vals[1] = portbuf;
    vals[2] = "dadns";
    vals[3] = "s3cret";
    vals[4] = dbname;
    vals[5] = "2";
    off = (size_t)snprintf(text, sizeof(text), "dns:\n  backends:\n    b:\n      type: %s\n", type);
    /* the defaults, except the keys @extra sets itself */
    for (i = 0; i < 6; i++) {
        snprintf(key, sizeof(key), "      %s:", keys[i]);
        if (extra == NULL || strstr(extra, key) == NULL)
            off += (size_t)snprintf(text + off, sizeof(text) - off, "%s %s\n", key, vals[i]);
    }
    snprintf(text + off, sizeof(text) - off, "%s", extra ? extra : "");
    snprintf(path, sizeof(path), "%s/dadns.yaml", tmpdir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_msg(config_load(path, &cfg, &e) == 0, "%s", e.text);
    return &cfg->backends[0];
}

/* open_ok - open the backend of @bc (creating tables when @init). */
static void open_ok(const struct backend_conf *bc, bool init)
{
    struct err e;
    int rc;

    mysqlbackend_free(mb);
    mb = NULL;
    err_clear(&e);
    rc = mysqlbackend_open(bc, init, NULL, 0, &mb, &e);
    ck_assert_msg(rc == 0, "open: %s", e.text);
    mysqlbackend_set_warn(mb, on_warn, NULL);
}

static void change_init(struct change *c, enum change_op op, const char *zone, uint64_t version,
                        const char *text)
{
    memset(c, 0, sizeof(*c));
    c->op = op;
    snprintf(c->zone, sizeof(c->zone), "%s", zone);
    c->version = version;
    c->serial = op == CHANGE_DELETE ? 0 : 2024010100 + (uint32_t)version;
    c->text = text;
    c->text_len = text ? strlen(text) : 0;
}

/* apply1 - apply one change; returns its result (asserting apply itself returned 0). */
static int apply1(enum change_op op, const char *zone, uint64_t version, const char *text,
                  struct change *out)
{
    struct change c;

    change_init(&c, op, zone, version, text);
    ck_assert_int_eq(mysqlbackend_apply(mb, &c, 1), 0);
    if (out != NULL)
        *out = c;
    return c.result;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dadns-test-mysqlbackend-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    warned[0] = '\0';
    n_warned = 0;
    kill_on_warn = 0;
    new_db();
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];

    mysqlbackend_free(mb);
    mb = NULL;
    config_free(cfg);
    cfg = NULL;
    sql("DROP DATABASE IF EXISTS `%s`", dbname);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- schema ----------------------------------------------------------------------------- */

START_TEST(schema_statements)
{
    struct schema_table t[SCHEMA_MAX_TABLES];
    const struct backend_conf *bc;
    struct err e;
    size_t n = 0;

    bc = load("coredns_mysql", "      zones_table: cz\n      records_table: cr\n"
                               "      state_table: cs\n");
    ck_assert_int_eq(schema_tables(bc, t, &n, &e), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(t[0].name, "cz");
    ck_assert_ptr_nonnull(strstr(t[0].create, "CREATE TABLE IF NOT EXISTS `cz`"));
    ck_assert_ptr_nonnull(strstr(t[0].create, "`managed_by` VARCHAR(64)"));
    ck_assert_ptr_nonnull(strstr(t[1].create, "CREATE TABLE IF NOT EXISTS `cr`"));
    ck_assert_ptr_nonnull(strstr(t[1].create, "INDEX `idx_lookup` (`zone_id`, `hostname`, "
                                              "`type`, `online`)"));
    ck_assert_ptr_nonnull(strstr(t[1].create, "REFERENCES `cz` (`id`)"));
    ck_assert_str_eq(t[2].name, "cs");
    ck_assert(t[0].required && t[1].required && t[2].required);

    bc = load("powerdns_mysql", NULL);
    ck_assert_int_eq(schema_tables(bc, t, &n, &e), 0);
    ck_assert_uint_eq(n, 8);
    ck_assert_str_eq(t[0].name, "domains");
    ck_assert_str_eq(t[1].name, "records");
    ck_assert_str_eq(t[2].name, "supermasters");
    ck_assert(!t[2].required);
    ck_assert_str_eq(t[7].name, "dadns_state");
    ck_assert_ptr_nonnull(strstr(t[1].create, "content VARCHAR(64000)"));
}
END_TEST

START_TEST(schema_init_creates_both_formats)
{
    char created[256];
    const struct backend_conf *bc;
    struct err e;

    bc = load("coredns_mysql", NULL);
    ck_assert_int_eq(mysqlbackend_open(bc, true, created, sizeof(created), &mb, &e), 0);
    ck_assert_str_eq(created, "zones, records, dadns_state");
    mysqlbackend_free(mb);
    mb = NULL;
    /* again: nothing to create; without init: the check passes */
    ck_assert_int_eq(mysqlbackend_open(bc, true, created, sizeof(created), &mb, &e), 0);
    ck_assert_str_eq(created, "");
    mysqlbackend_free(mb);
    mb = NULL;
    open_ok(bc, false);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
                             "TABLE_SCHEMA = '%s' AND TABLE_NAME = 'records' AND INDEX_NAME = "
                             "'idx_lookup'",
                             dbname),
                     4);

    new_db();
    bc = load("powerdns_mysql", "      init_schema: true\n");
    ck_assert_int_eq(mysqlbackend_open(bc, false, created, sizeof(created), &mb, &e), 0);
    ck_assert_str_eq(created, "domains, records, supermasters, comments, domainmetadata, "
                              "cryptokeys, tsigkeys, dadns_state");
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                             "TABLE_SCHEMA = '%s'",
                             dbname),
                     8);
}
END_TEST

START_TEST(schema_missing_table_fails_clearly)
{
    const struct backend_conf *bc;
    struct err e;
    char want[256];

    bc = load("coredns_mysql", NULL);
    ck_assert_int_eq(mysqlbackend_open(bc, false, NULL, 0, &mb, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(mb);
    snprintf(want, sizeof(want),
             "table `zones` does not exist in database `%s` (create the tables with "
             "--init-schema or init_schema: true)",
             dbname);
    ck_assert_str_eq(e.text, want);

    /* PowerDNS: one table of the delete path missing */
    bc = load("powerdns_mysql", NULL);
    open_ok(bc, true);
    mysqlbackend_free(mb);
    mb = NULL;
    sql("DROP TABLE `%s`.cryptokeys", dbname);
    ck_assert_int_eq(mysqlbackend_open(bc, false, NULL, 0, &mb, &e), DADNS_ECONFIG);
    ck_assert_ptr_nonnull(strstr(e.text, "table `cryptokeys` does not exist"));
    /* tables PowerDNS has but the writer does not use may be missing */
    open_ok(bc, true);
    sql("DROP TABLE `%s`.tsigkeys", dbname);
    open_ok(bc, false);
}
END_TEST

START_TEST(schema_zones_without_managed_by)
{
    const struct backend_conf *bc;
    struct err e;

    /* a zones table as the plugin's README makes it */
    sql("CREATE TABLE `%s`.zones (id INT AUTO_INCREMENT PRIMARY KEY, zone_name VARCHAR(255) NOT "
        "NULL UNIQUE)",
        dbname);
    bc = load("coredns_mysql", NULL);
    open_ok(bc, true);
    mysqlbackend_free(mb);
    mb = NULL;
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
                             "TABLE_SCHEMA = '%s' AND TABLE_NAME = 'zones' AND COLUMN_NAME = "
                             "'managed_by'",
                             dbname),
                     1);
    sql("ALTER TABLE `%s`.zones DROP COLUMN managed_by", dbname);
    ck_assert_int_eq(mysqlbackend_open(bc, false, NULL, 0, &mb, &e), DADNS_ECONFIG);
    ck_assert_msg(strstr(e.text, "table `zones` in database") != NULL &&
                      strstr(e.text, "has no column `managed_by`") != NULL &&
                      strstr(e.text, "--init-schema adds managed_by") != NULL,
                  "%s", e.text);
}
END_TEST

START_TEST(connect_errors)
{
    const struct backend_conf *bc;
    char extra[512];
    struct err e;

    /* TLS required, the server has none */
    bc = load("coredns_mysql", "      tls: true\n");
    ck_assert_int_eq(mysqlbackend_open(bc, true, NULL, 0, &mb, &e), DADNS_ECONFIG);
    ck_assert_msg(strstr(e.text, "cannot connect to 127.0.0.1:") != NULL &&
                      (strstr(e.text, "SSL") != NULL || strstr(e.text, "TLS") != NULL),
                  "%s", e.text);
    /* wrong password, unknown database: configuration errors */
    bc = load("coredns_mysql", "      password: wrong\n");
    ck_assert_int_eq(mysqlbackend_open(bc, true, NULL, 0, &mb, &e), DADNS_ECONFIG);
    ck_assert_msg(strstr(e.text, "Access denied") != NULL, "%s", e.text);
    bc = load("coredns_mysql", "      database: no_such_db\n");
    ck_assert_int_eq(mysqlbackend_open(bc, true, NULL, 0, &mb, &e), DADNS_ECONFIG);
    ck_assert_msg(strstr(e.text, "Unknown database") != NULL, "%s", e.text);
    /* nobody listening: worth retrying */
    bc = load("coredns_mysql", "      port: 1\n");
    ck_assert_int_eq(mysqlbackend_open(bc, true, NULL, 0, &mb, &e), DADNS_EBACKEND);
    ck_assert_msg(strstr(e.text, "cannot connect to 127.0.0.1:1: ") != NULL, "%s", e.text);
    /* the unix socket instead of TCP (root has no password there) */
    snprintf(extra, sizeof(extra),
             "      host: ''\n      socket: %s\n      user: root\n"
             "      password: ''\n",
             mariadb_fixture_socket());
    open_ok(load("powerdns_mysql", extra), true);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "sock.example", 1, zone_text("sock.example", 1, "192.0.2.1"), NULL), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domains", dbname), 1);
}
END_TEST

/* ---- saves ------------------------------------------------------------------------------ */

static void save_writes_rows(const char *type, enum rows_format fmt)
{
    struct buf want, got;
    const char *text = zone_text("example.com", 2024010101, "192.0.2.10");
    const struct mysqlbackend_stats *st;
    struct change c;

    buf_init(&want, 1 << 20);
    buf_init(&got, 1 << 20);
    open_ok(load(type, NULL), true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "example.com", 7, text, &c), 0);
    ck_assert_int_eq(c.repaired, 0);
    expected_rows(&want, fmt, "example.com", text);
    records_of(&got, fmt, "example.com");
    ck_assert_uint_gt(want.len, 0);
    ck_assert_str_eq(got.data, want.data);
    /* the zone row */
    if (fmt == ROWS_COREDNS) {
        sql_rows(&got, "SELECT zone_name, managed_by FROM `%s`.zones", dbname);
        ck_assert_str_eq(got.data, "example.com.|dadns\n");
    } else {
        sql_rows(&got, "SELECT name, type, account FROM `%s`.domains", dbname);
        ck_assert_str_eq(got.data, "example.com|NATIVE|dadns\n");
    }
    /* the state row: version, serial, SHA-1 of the text */
    sql_rows(&got,
             "SELECT zone, version, serial, deleted, digest = SHA1('%s') FROM `%s`.dadns_state",
             text, dbname);
    ck_assert_str_eq(got.data, "example.com|7|2024010107|0|1\n");
    st = mysqlbackend_stats(mb);
    ck_assert_uint_eq(st->committed, 1);
    ck_assert_uint_eq(st->count_mismatch, 0);
    ck_assert_uint_eq(n_warned, 0);
    buf_free(&want);
    buf_free(&got);
}

START_TEST(save_writes_exact_rows_coredns)
{
    save_writes_rows("coredns_mysql", ROWS_COREDNS);
}
END_TEST

START_TEST(save_writes_exact_rows_powerdns)
{
    struct buf got;

    save_writes_rows("powerdns_mysql", ROWS_POWERDNS);
    /* MX priority in prio, the ENT rows above _sip._tcp and x._domainkey */
    buf_init(&got, 1 << 16);
    sql_rows(&got, "SELECT name, prio, content FROM `%s`.records WHERE type = 'MX'", dbname);
    ck_assert_str_eq(got.data, "example.com|10|mail.example.com\n");
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.records WHERE type IS NULL AND name IN "
                             "('_tcp.example.com', '_domainkey.example.com')",
                             dbname),
                     2);
    buf_free(&got);
}
END_TEST

static void newer_replaces_older_ignored(const char *type, enum rows_format fmt)
{
    struct buf want, got;
    char t1[4096], t2[4096];

    buf_init(&want, 1 << 20);
    buf_init(&got, 1 << 20);
    snprintf(t1, sizeof(t1), "%s", zone_text("example.net", 1, "192.0.2.1"));
    snprintf(t2, sizeof(t2), "%s", zone_text("example.net", 2, "198.51.100.2"));
    open_ok(load(type, NULL), true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "example.net", 1, t1, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "example.net", 2, t2, NULL), 0);
    expected_rows(&want, fmt, "example.net", t2);
    records_of(&got, fmt, "example.net");
    ck_assert_str_eq(got.data, want.data);
    ck_assert_int_eq(sql_int("SELECT version FROM `%s`.dadns_state", dbname), 2);
    ck_assert_int_eq(
        sql_int("SELECT COUNT(*) FROM `%s`.%s", dbname, fmt == ROWS_COREDNS ? "zones" : "domains"),
        1);

    /* an older version (a late replica, a re-delivered entry) and the same one: no-ops */
    ck_assert_int_eq(apply1(CHANGE_SAVE, "example.net", 1, t1, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "example.net", 2, t1, NULL), 0);
    records_of(&got, fmt, "example.net");
    ck_assert_str_eq(got.data, want.data);
    ck_assert_int_eq(sql_int("SELECT version FROM `%s`.dadns_state", dbname), 2);
    ck_assert_int_eq(sql_int("SELECT serial FROM `%s`.dadns_state", dbname), 2024010102);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->skipped, 2);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->committed, 2);
    buf_free(&want);
    buf_free(&got);
}

START_TEST(save_newer_replaces_older_ignored_coredns)
{
    newer_replaces_older_ignored("coredns_mysql", ROWS_COREDNS);
}
END_TEST

START_TEST(save_newer_replaces_older_ignored_powerdns)
{
    newer_replaces_older_ignored("powerdns_mysql", ROWS_POWERDNS);
}
END_TEST

START_TEST(count_mismatch_warns)
{
    const char *t = zone_text("count.example", 1, "192.0.2.1");

    open_ok(load("coredns_mysql", NULL), true);
    /* a trigger that slips one more record into every zone dadns writes */
    sql("CREATE TRIGGER `%s`.extra AFTER UPDATE ON `%s`.dadns_state FOR EACH ROW INSERT INTO "
        "`%s`.records (zone_id, hostname, type, data, ttl, online) SELECT id, 'extra', 'A', "
        "'192.0.2.99', 60, 1 FROM `%s`.zones WHERE zone_name = CONCAT(NEW.zone, '.')",
        dbname, dbname, dbname, dbname);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "count.example", 1, t, NULL), 0);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->count_mismatch, 1);
    ck_assert_uint_eq(n_warned, 1);
    ck_assert_msg(strstr(warned, "count.example: record count after commit is 15, expected 14") !=
                      NULL,
                  "%s", warned);
}
END_TEST

/* ---- deletes ---------------------------------------------------------------------------- */

static void delete_zone(const char *type, enum rows_format fmt)
{
    const char *ztab = fmt == ROWS_COREDNS ? "zones" : "domains";
    struct buf got;

    buf_init(&got, 1 << 16);
    open_ok(load(type, NULL), true);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "gone.example", 1, zone_text("gone.example", 1, "192.0.2.3"), NULL), 0);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "stays.example", 2, zone_text("stays.example", 1, "192.0.2.4"), NULL),
        0);
    if (fmt == ROWS_POWERDNS) {
        long long id = sql_int("SELECT id FROM `%s`.domains WHERE name = 'gone.example'", dbname);

        sql("INSERT INTO `%s`.domainmetadata (domain_id, kind, content) VALUES (%lld, 'X', 'y')",
            dbname, id);
        sql("INSERT INTO `%s`.comments (domain_id, name, type, modified_at, comment) VALUES "
            "(%lld, 'gone.example', 'A', 0, 'c')",
            dbname, id);
        sql("INSERT INTO `%s`.cryptokeys (domain_id, flags, active, content) VALUES (%lld, 257, "
            "1, 'k')",
            dbname, id);
    }
    ck_assert_int_eq(apply1(CHANGE_DELETE, "gone.example", 3, NULL, NULL), 0);
    records_of(&got, fmt, "gone.example");
    ck_assert_str_eq(got.data ? got.data : "", "");
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.%s", dbname, ztab), 1);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.records", dbname),
                     sql_int("SELECT COUNT(*) FROM `%s`.records WHERE %s = (SELECT id FROM "
                             "`%s`.%s)",
                             dbname, fmt == ROWS_COREDNS ? "zone_id" : "domain_id", dbname, ztab));
    if (fmt == ROWS_POWERDNS) {
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domainmetadata", dbname), 0);
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.comments", dbname), 0);
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.cryptokeys", dbname), 0);
    }
    sql_rows(&got, "SELECT zone, version, deleted, serial FROM `%s`.dadns_state", dbname);
    ck_assert_str_eq(got.data, "gone.example|3|1|0\nstays.example|2|0|2024010102\n");

    /* the delete again, and an older save: no-ops; a newer save brings it back */
    ck_assert_int_eq(apply1(CHANGE_DELETE, "gone.example", 3, NULL, NULL), 0);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "gone.example", 2, zone_text("gone.example", 1, "192.0.2.3"), NULL), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.%s", dbname, ztab), 1);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "gone.example", 4, zone_text("gone.example", 2, "192.0.2.5"), NULL), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.%s", dbname, ztab), 2);
    ck_assert_int_eq(
        sql_int("SELECT deleted FROM `%s`.dadns_state WHERE zone = 'gone.example'", dbname), 0);
    /* a delete of a zone never seen: a deleted state row, nothing else */
    ck_assert_int_eq(apply1(CHANGE_DELETE, "never.example", 9, NULL, NULL), 0);
    ck_assert_int_eq(
        sql_int("SELECT deleted FROM `%s`.dadns_state WHERE zone = 'never.example'", dbname), 1);
    buf_free(&got);
}

START_TEST(delete_removes_zone_coredns)
{
    delete_zone("coredns_mysql", ROWS_COREDNS);
}
END_TEST

START_TEST(delete_removes_zone_powerdns)
{
    delete_zone("powerdns_mysql", ROWS_POWERDNS);
}
END_TEST

/* ---- ownership -------------------------------------------------------------------------- */

START_TEST(unmanaged_zone_untouched_coredns)
{
    struct buf before, after;
    struct change c;

    buf_init(&before, 1 << 16);
    buf_init(&after, 1 << 16);
    open_ok(load("coredns_mysql", NULL), true);
    sql("INSERT INTO `%s`.zones (zone_name, managed_by) VALUES ('hand.example.', 'someone'), "
        "('null.example.', NULL)",
        dbname);
    sql("INSERT INTO `%s`.records (zone_id, hostname, type, data, ttl, online) SELECT id, '@', "
        "'A', '192.0.2.77', 60, 1 FROM `%s`.zones",
        dbname, dbname);
    sql_rows(&before, "SELECT * FROM `%s`.records", dbname);

    ck_assert_int_eq(apply1(CHANGE_DELETE, "hand.example", 5, NULL, &c), 0);
    ck_assert_int_eq(apply1(CHANGE_DELETE, "null.example", 5, NULL, &c), 0);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "hand.example", 6, zone_text("hand.example", 1, "192.0.2.1"), &c),
        DADNS_EDENIED);
    ck_assert_str_eq(c.reason, "zone exists and is not managed by dadns (zones.managed_by "
                               "\"someone\", managed_by dadns)");
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "null.example", 6, zone_text("null.example", 1, "192.0.2.1"), &c),
        DADNS_EDENIED);
    ck_assert_ptr_nonnull(strstr(c.reason, "zones.managed_by NULL"));
    sql_rows(&after, "SELECT * FROM `%s`.records", dbname);
    ck_assert_str_eq(after.data, before.data);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones", dbname), 2);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.dadns_state", dbname), 0);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->refused, 2);
    buf_free(&before);
    buf_free(&after);
}
END_TEST

START_TEST(unmanaged_zone_untouched_powerdns)
{
    struct buf before, after;
    struct change c;

    buf_init(&before, 1 << 16);
    buf_init(&after, 1 << 16);
    open_ok(load("powerdns_mysql", NULL), true);
    sql("INSERT INTO `%s`.domains (name, type) VALUES ('hand.example', 'NATIVE')", dbname);
    sql("INSERT INTO `%s`.records (domain_id, name, type, content, ttl, prio) SELECT id, "
        "'hand.example', 'A', '192.0.2.77', 60, 0 FROM `%s`.domains",
        dbname, dbname);
    sql_rows(&before, "SELECT * FROM `%s`.records", dbname);
    ck_assert_int_eq(apply1(CHANGE_DELETE, "hand.example", 5, NULL, &c), 0);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "hand.example", 6, zone_text("hand.example", 1, "192.0.2.1"), &c),
        DADNS_EDENIED);
    ck_assert_str_eq(c.reason, "zone exists and is not managed by dadns (it is in the PowerDNS "
                               "table domains but has no row in dadns_state)");
    sql_rows(&after, "SELECT * FROM `%s`.records", dbname);
    ck_assert_str_eq(after.data, before.data);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domains", dbname), 1);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.dadns_state", dbname), 0);
    buf_free(&before);
    buf_free(&after);
}
END_TEST

/* ---- failure isolation ------------------------------------------------------------------ */

START_TEST(conversion_failure_fails_alone)
{
    static const char bad[] = "$TTL 3600\n@ IN SOA ns1.x. h.x. 1 2 3 4 5\n@ IN NS ns1.x.\n"
                              "www IN A not-an-address\n";
    char long_txt[3000], t1[4096], t3[4096];
    struct change c[4];
    size_t i, off;

    snprintf(t1, sizeof(t1), "%s", zone_text("a.example", 1, "192.0.2.1"));
    snprintf(t3, sizeof(t3), "%s", zone_text("c.example", 1, "192.0.2.3"));
    /* a TXT whose data is over the CoreDNS column's 1024 characters */
    off = (size_t)snprintf(long_txt, sizeof(long_txt), "%s",
                           "$TTL 60\n@ IN SOA ns1.x. h.x. 1 2 3 4 5\n@ IN NS ns1.x.\n@ IN TXT");
    for (i = 0; i < 5; i++) {
        long_txt[off++] = ' ';
        long_txt[off++] = '"';
        memset(long_txt + off, 'a', 250);
        off += 250;
        long_txt[off++] = '"';
    }
    long_txt[off++] = '\n';
    long_txt[off] = '\0';
    open_ok(load("coredns_mysql", NULL), true);
    change_init(&c[0], CHANGE_SAVE, "a.example", 1, t1);
    change_init(&c[1], CHANGE_SAVE, "b.example", 1, bad);
    change_init(&c[2], CHANGE_SAVE, "c.example", 1, t3);
    change_init(&c[3], CHANGE_SAVE, "d.example", 1, long_txt);
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 4), 0);
    ck_assert_int_eq(c[0].result, 0);
    ck_assert_int_eq(c[1].result, DADNS_EZONE);
    ck_assert_msg(strstr(c[1].reason, "line 4") != NULL, "%s", c[1].reason);
    ck_assert_int_eq(c[2].result, 0);
    ck_assert_int_eq(c[3].result, DADNS_EZONE);
    ck_assert_msg(strstr(c[3].reason, "1024") != NULL, "%s", c[3].reason);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones", dbname), 2);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones WHERE zone_name IN ('b.example.', "
                             "'d.example.')",
                             dbname),
                     0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.dadns_state", dbname), 2);
    /* a change that arrives failed (no text) is left as it is */
    change_init(&c[0], CHANGE_SAVE, "e.example", 1, NULL);
    c[0].result = DADNS_EREPLY;
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 1), 0);
    ck_assert_int_eq(c[0].result, DADNS_EREPLY);
}
END_TEST

/* ---- outages ---------------------------------------------------------------------------- */

START_TEST(database_down_then_back)
{
    struct change c[3];
    char t[3][4096];
    size_t i;

    open_ok(load("powerdns_mysql", NULL), true);
    for (i = 0; i < 3; i++) {
        char z[32];

        snprintf(z, sizeof(z), "z%zu.example", i);
        snprintf(t[i], sizeof(t[i]), "%s", zone_text(z, 1, "192.0.2.9"));
    }
    ck_assert_int_eq(apply1(CHANGE_SAVE, "z0.example", 1, t[0], NULL), 0);

    mysql_close(root);
    root = NULL;
    mariadb_fixture_kill();
    for (i = 0; i < 3; i++) {
        char z[32];

        snprintf(z, sizeof(z), "z%zu.example", i);
        change_init(&c[i], CHANGE_SAVE, z, 2, t[i]);
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 3), DADNS_EBACKEND);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(c[i].result, DADNS_EBACKEND);
        ck_assert_msg(strstr(c[i].reason, "database unavailable: cannot connect to 127.0.0.1") !=
                          NULL,
                      "%s", c[i].reason);
    }
    /* still down: same again */
    for (i = 0; i < 3; i++)
        c[i].result = 0;
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 3), DADNS_EBACKEND);

    ck_assert_int_eq(mariadb_fixture_restart(), 0);
    root = mysql_init(NULL);
    ck_assert_ptr_nonnull(
        mysql_real_connect(root, NULL, "root", "", NULL, 0, mariadb_fixture_socket(), 0));
    for (i = 0; i < 3; i++) {
        c[i].result = 0;
        c[i].reason[0] = '\0';
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 3), 0);
    for (i = 0; i < 3; i++)
        ck_assert_msg(c[i].result == 0, "%zu: %s", i, c[i].reason);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.dadns_state WHERE version = 2", dbname), 3);
    ck_assert_uint_ge(mysqlbackend_stats(mb)->reconnects, 1);
}
END_TEST

/* lost_mid_batch - the connection dies right after the first group (of @gs zones) commits,
 * in the middle of a batch of @n zones m0, m1, ...: the zones of the group in progress fail as
 * lost, the later ones are not attempted, the next batch reconnects. */
static void lost_mid_batch(int gs, size_t n)
{
    char extra[64], t[6][4096];
    struct change c[6];
    size_t i;

    ck_assert_uint_le(n, 6);
    ck_assert_uint_gt(n, (size_t)2 * gs);
    snprintf(extra, sizeof(extra), "      group_size: %d\n", gs);
    open_ok(load("coredns_mysql", extra), true);
    /* an extra record for m0 makes its count check warn; the warning kills the connection */
    sql("CREATE TRIGGER `%s`.extra AFTER UPDATE ON `%s`.dadns_state FOR EACH ROW INSERT INTO "
        "`%s`.records (zone_id, hostname, type, data, ttl, online) SELECT id, 'extra', 'A', "
        "'192.0.2.99', 60, 1 FROM `%s`.zones WHERE zone_name = CONCAT(NEW.zone, '.') AND "
        "NEW.zone = 'm0.example'",
        dbname, dbname, dbname, dbname);
    kill_on_warn = 1;
    for (i = 0; i < n; i++) {
        char z[32];

        snprintf(z, sizeof(z), "m%zu.example", i);
        snprintf(t[i], sizeof(t[i]), "%s", zone_text(z, 1, "192.0.2.9"));
        change_init(&c[i], CHANGE_SAVE, z, 1, t[i]);
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, n), 0);
    kill_on_warn = 0;
    ck_assert_uint_eq(n_warned, 1);
    for (i = 0; i < (size_t)gs; i++)
        ck_assert_msg(c[i].result == 0, "%s: %s", c[i].zone, c[i].reason);
    for (; i < 2 * (size_t)gs; i++) {
        ck_assert_int_eq(c[i].result, DADNS_EBACKEND);
        ck_assert_msg(strstr(c[i].reason, "database connection lost") != NULL, "%s", c[i].reason);
    }
    for (; i < n; i++) {
        ck_assert_int_eq(c[i].result, DADNS_EBACKEND);
        ck_assert_str_eq(c[i].reason,
                         "not attempted: the database connection was lost earlier in the batch");
    }
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones", dbname), gs);
    /* the next batch reconnects; the first group is already there */
    for (i = 0; i < n; i++)
        c[i].result = 0;
    ck_assert_int_eq(mysqlbackend_apply(mb, c + gs, n - (size_t)gs), 0);
    for (i = (size_t)gs; i < n; i++)
        ck_assert_msg(c[i].result == 0, "%s: %s", c[i].zone, c[i].reason);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones", dbname), (long long)n);
    ck_assert_uint_ge(mysqlbackend_stats(mb)->reconnects, 1);
}

START_TEST(connection_lost_mid_batch)
{
    lost_mid_batch(1, 3);
}
END_TEST

START_TEST(connection_lost_mid_batch_groups)
{
    lost_mid_batch(2, 5);
}
END_TEST

/* Holds the state row of a zone for a while from another connection. */
struct holder {
    const char *zone;
    int hold_ms;
    int ready;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *hold_lock(void *arg)
{
    struct holder *h = arg;
    MYSQL *db = mysql_init(NULL);
    char q[256];
    MYSQL_RES *res;

    ck_assert_ptr_nonnull(
        mysql_real_connect(db, NULL, "root", "", dbname, 0, mariadb_fixture_socket(), 0));
    mysql_autocommit(db, 0);
    snprintf(q, sizeof(q), "SELECT * FROM dadns_state WHERE zone = '%s' FOR UPDATE", h->zone);
    ck_assert_int_eq(mysql_query(db, q), 0);
    res = mysql_store_result(db);
    mysql_free_result(res);
    pthread_mutex_lock(&h->mu);
    h->ready = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    usleep((useconds_t)h->hold_ms * 1000);
    mysql_rollback(db);
    mysql_close(db);
    return NULL;
}

static void run_locked(struct holder *h, pthread_t *th)
{
    h->ready = 0;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    ck_assert_int_eq(pthread_create(th, NULL, hold_lock, h), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->ready)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

START_TEST(lock_wait_is_retried)
{
    struct holder h;
    pthread_t th;
    struct change c;
    const char *t = zone_text("locked.example", 1, "192.0.2.8");

    /* connect_timeout_s 1: innodb_lock_wait_timeout 2 s */
    open_ok(load("coredns_mysql", "      connect_timeout_s: 1\n      txn_retries: 2\n"), true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "locked.example", 1, t, NULL), 0);
    /* held 3 s: the first attempt times out after 2 s, the retry gets the lock */
    h.zone = "locked.example";
    h.hold_ms = 3000;
    run_locked(&h, &th);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "locked.example", 2, t, &c), 0);
    pthread_join(th, NULL);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->retries, 1);
    ck_assert_int_eq(sql_int("SELECT version FROM `%s`.dadns_state", dbname), 2);

    /* no retries allowed: the change fails with the server's reason */
    open_ok(load("coredns_mysql", "      connect_timeout_s: 1\n      txn_retries: 0\n"), false);
    h.hold_ms = 2500;
    run_locked(&h, &th);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "locked.example", 3, t, &c), DADNS_EBACKEND);
    pthread_join(th, NULL);
    ck_assert_msg(strstr(c.reason, "gave up after 1 attempts: locking the state rows: Lock wait "
                                   "timeout exceeded") != NULL,
                  "%s", c.reason);
    ck_assert_int_eq(sql_int("SELECT version FROM `%s`.dadns_state", dbname), 2);
}
END_TEST

/* Two replicas of one consumer group writing the same new zones at once, in opposite orders,
 * with different versions. */
#define REPLICA_ZONES 40

struct replica {
    struct mysqlbackend *mb;
    uint64_t version;
    int reverse;
    int whole; /* the whole batch in one call (groups), else one zone per call */
    struct change c[REPLICA_ZONES];
    char text[REPLICA_ZONES][4096];
};

/* replica_prepare - the changes of @r (zone_text is not thread-safe: done before the threads). */
static void replica_prepare(struct replica *r)
{
    size_t i;

    for (i = 0; i < REPLICA_ZONES; i++) {
        size_t k = r->reverse ? REPLICA_ZONES - 1 - i : i;
        char z[32];

        snprintf(z, sizeof(z), "r%zu.example", k);
        const char *t =
            zone_text(z, (unsigned)r->version, r->version == 2 ? "192.0.2.2" : "192.0.2.3");
        size_t tl = strlen(t);

        ck_assert_uint_lt(tl, sizeof(r->text[i]));
        memcpy(r->text[i], t, tl + 1);
        change_init(&r->c[i], CHANGE_SAVE, z, r->version, r->text[i]);
    }
}

static void *replica_run(void *arg)
{
    struct replica *r = arg;
    size_t i;

    if (r->whole) {
        mysqlbackend_apply(r->mb, r->c, REPLICA_ZONES);
        return NULL;
    }
    /* one zone per call: the two interleave as much as they can */
    for (i = 0; i < REPLICA_ZONES; i++)
        mysqlbackend_apply(r->mb, &r->c[i], 1);
    return NULL;
}

/* replicas - two replicas write the same zones at once (@whole: in groups of @gs) */
static void replicas(int whole, int gs)
{
    static struct replica a, b;
    const struct backend_conf *bc;
    struct buf want, got;
    pthread_t ta, tb;
    struct err e;
    char extra[64];
    size_t i;

    buf_init(&want, 1 << 20);
    buf_init(&got, 1 << 20);
    snprintf(extra, sizeof(extra), "      group_size: %d\n", gs);
    bc = load("powerdns_mysql", extra);
    open_ok(bc, true);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    ck_assert_int_eq(mysqlbackend_open(bc, false, NULL, 0, &a.mb, &e), 0);
    ck_assert_int_eq(mysqlbackend_open(bc, false, NULL, 0, &b.mb, &e), 0);
    a.version = 2;
    b.version = 3;
    b.reverse = 1;
    a.whole = b.whole = whole;
    replica_prepare(&a);
    replica_prepare(&b);
    ck_assert_int_eq(pthread_create(&ta, NULL, replica_run, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, replica_run, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    for (i = 0; i < REPLICA_ZONES; i++) {
        ck_assert_msg(a.c[i].result == 0, "%s: %s", a.c[i].zone, a.c[i].reason);
        ck_assert_msg(b.c[i].result == 0, "%s: %s", b.c[i].zone, b.c[i].reason);
    }
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.dadns_state WHERE version = 3 AND "
                             "deleted = 0",
                             dbname),
                     REPLICA_ZONES);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domains", dbname), REPLICA_ZONES);
    for (i = 0; i < REPLICA_ZONES; i++) {
        /* b's texts are in reverse zone order */
        expected_rows(&want, ROWS_POWERDNS, b.c[i].zone, b.text[i]);
        records_of(&got, ROWS_POWERDNS, b.c[i].zone);
        ck_assert_str_eq(got.data, want.data);
    }
    mysqlbackend_free(a.mb);
    mysqlbackend_free(b.mb);
    buf_free(&want);
    buf_free(&got);
}

START_TEST(replicas_converge)
{
    replicas(0, 32);
}
END_TEST

START_TEST(replicas_converge_groups)
{
    size_t i;

    for (i = 0; i < 3; i++) {
        if (i > 0) {
            sql("DROP DATABASE IF EXISTS `%s`", dbname);
            new_db();
        }
        replicas(1, 8);
    }
}
END_TEST

/* ---- group commit ----------------------------------------------------------------------- */

/* state_of - "version deleted" of @zone's state row, or "none". Returns a static buffer. */
static const char *state_of(const char *zone)
{
    static struct buf b;

    if (b.max == 0)
        buf_init(&b, 1 << 12);
    sql_rows(&b, "SELECT version, deleted FROM `%s`.dadns_state WHERE zone = '%s'", dbname, zone);
    return b.len > 0 ? b.data : "none";
}

START_TEST(group_bad_zone_fails_alone)
{
    static const char bad[] = "$TTL 3600\n@ IN SOA ns1.x. h.x. 1 2 3 4 5\n@ IN NS ns1.x.\n"
                              "www IN A not-an-address\n";
    static const char *const names[] = {"a.example", "b.example", "c.example",    "hand.example",
                                        "d.example", "e.example", "hand2.example"};
    char t[7][4160]; /* zone_text and a record more */
    struct change c[7];
    const struct mysqlbackend_stats *st;
    struct buf got, want;
    size_t i;

    buf_init(&got, 1 << 20);
    buf_init(&want, 1 << 20);
    open_ok(load("powerdns_mysql", NULL), true);
    st = mysqlbackend_stats(mb);
    /* two domains somebody else made, and a record PowerDNS' server refuses to store */
    sql("INSERT INTO `%s`.domains (name, type) VALUES ('hand.example', 'NATIVE'), "
        "('hand2.example', 'NATIVE')",
        dbname);
    sql("CREATE TRIGGER `%s`.boom BEFORE INSERT ON `%s`.records FOR EACH ROW IF NEW.name = "
        "'boom.e.example' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no boom here'; END IF",
        dbname, dbname);
    for (i = 0; i < 7; i++) {
        snprintf(t[i], sizeof(t[i]), "%s%s", zone_text(names[i], 1, "192.0.2.1"),
                 i == 5 ? "boom\t3600\tIN\tA\t192.0.2.66\n" : "");
        change_init(&c[i], i == 6 ? CHANGE_DELETE : CHANGE_SAVE, names[i], 1,
                    i == 1   ? bad
                    : i == 6 ? NULL
                             : t[i]);
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 7), 0);
    ck_assert_msg(c[0].result == 0, "%s", c[0].reason);
    ck_assert_int_eq(c[1].result, DADNS_EZONE);
    ck_assert_msg(c[2].result == 0, "%s", c[2].reason);
    ck_assert_int_eq(c[3].result, DADNS_EDENIED);
    ck_assert_msg(c[4].result == 0, "%s", c[4].reason);
    ck_assert_int_eq(c[5].result, DADNS_EBACKEND);
    ck_assert_msg(strstr(c[5].reason, "inserting records: no boom here (1644)") != NULL, "%s",
                  c[5].reason);
    ck_assert_msg(c[6].result == 0, "%s", c[6].reason); /* not ours: left alone */
    ck_assert_uint_eq(st->splits, 1);
    ck_assert_uint_eq(st->committed, 3);
    ck_assert_uint_eq(st->transactions, 3);
    for (i = 0; i < 7; i++) {
        ck_assert_str_eq(state_of(names[i]), i == 0 || i == 2 || i == 4 ? "1|0\n" : "none");
        if (i == 0 || i == 2 || i == 4) {
            expected_rows(&want, ROWS_POWERDNS, names[i], t[i]);
            records_of(&got, ROWS_POWERDNS, names[i]);
            ck_assert_str_eq(got.data, want.data);
        }
    }
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.records", dbname), 3 * 16);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domains", dbname), 5);

    /* a statement the server refuses, alone: the group is redone zone by zone */
    for (i = 0; i < 3; i++) {
        static const char *const z2[] = {"e.example", "f.example", "g.example"};

        snprintf(t[i], sizeof(t[i]), "%s%s", zone_text(z2[i], 1, "192.0.2.2"),
                 i == 0 ? "boom\t3600\tIN\tA\t192.0.2.66\n" : "");
        change_init(&c[i], CHANGE_SAVE, z2[i], 2, t[i]);
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 3), 0);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    ck_assert_msg(c[1].result == 0 && c[2].result == 0, "%s / %s", c[1].reason, c[2].reason);
    ck_assert_uint_eq(st->splits, 2);
    ck_assert_str_eq(state_of("e.example"), "none");
    ck_assert_str_eq(state_of("f.example"), "2|0\n");

    /* nothing wrong: one transaction for the whole group, saves, a delete, a verify that finds
     * its zone intact and one that repairs it, mixed */
    sql("UPDATE `%s`.records SET content = '203.0.113.9' WHERE name = 'www.g.example'", dbname);
    for (i = 0; i < 6; i++) {
        static const char *const z3[] = {"h.example", "a.example", "c.example",
                                         "i.example", "f.example", "g.example"};
        static const enum change_op op[] = {CHANGE_SAVE, CHANGE_SAVE,   CHANGE_DELETE,
                                            CHANGE_SAVE, CHANGE_VERIFY, CHANGE_VERIFY};

        /* f and g as batch 2 wrote them (version 2), the others a version 3 */
        snprintf(t[i], sizeof(t[i]), "%s",
                 zone_text(z3[i], i >= 4 ? 1 : 3, i >= 4 ? "192.0.2.2" : "192.0.2.3"));
        change_init(&c[i], op[i], z3[i], i >= 4 ? 2 : 3, op[i] == CHANGE_DELETE ? NULL : t[i]);
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 6), 0);
    for (i = 0; i < 6; i++)
        ck_assert_msg(c[i].result == 0, "%s: %s", c[i].zone, c[i].reason);
    ck_assert_int_eq(c[4].repaired, 0);
    ck_assert_int_eq(c[5].repaired, 1);
    ck_assert_uint_eq(st->splits, 2);
    ck_assert_uint_eq(st->transactions, 6);
    ck_assert_str_eq(state_of("a.example"), "3|0\n");
    ck_assert_str_eq(state_of("c.example"), "3|1\n");
    ck_assert_str_eq(state_of("f.example"), "2|0\n");
    ck_assert_str_eq(state_of("g.example"), "2|0\n");
    ck_assert_str_eq(state_of("h.example"), "3|0\n");
    expected_rows(&want, ROWS_POWERDNS, "a.example", t[1]);
    records_of(&got, ROWS_POWERDNS, "a.example");
    ck_assert_str_eq(got.data, want.data);
    expected_rows(&want, ROWS_POWERDNS, "g.example", t[5]);
    records_of(&got, ROWS_POWERDNS, "g.example");
    ck_assert_str_eq(got.data, want.data);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domains WHERE name = 'c.example'", dbname),
                     0);
    ck_assert_uint_eq(st->count_mismatch, 0);
    buf_free(&got);
    buf_free(&want);
}
END_TEST

/* Applies a batch from another thread. */
struct applier {
    struct mysqlbackend *mb;
    struct change *c;
    size_t n;
    int rc;
};

static void *apply_run(void *arg)
{
    struct applier *a = arg;

    a->rc = mysqlbackend_apply(a->mb, a->c, a->n);
    return NULL;
}

/* row_locked - is @zone's state row locked by another transaction right now? (1 only for a
 * lock wait error; no assertion: it runs while other threads use the backend) */
static int row_locked(MYSQL *db, const char *zone)
{
    char q[256];
    MYSQL_RES *res;
    int locked;

    snprintf(q, sizeof(q), "SELECT zone FROM `%s`.dadns_state WHERE zone = '%s' FOR UPDATE NOWAIT",
             dbname, zone);
    locked = mysql_query(db, q) != 0 && mysql_errno(db) == 1205;
    res = mysql_store_result(db);
    mysql_free_result(res);
    mysql_rollback(db);
    return locked;
}

START_TEST(group_locks_in_zone_order)
{
    static const char *const names[] = {"z.example", "y.example", "m.example", "b.example",
                                        "a.example"};
    char t[5][4096];
    struct change c[5];
    struct applier ap;
    struct holder h;
    pthread_t th, ta;
    MYSQL *probe;
    size_t i;
    int waited = 100, locked_a = 0, locked_y = 1, locked_z = 1;

    open_ok(load("coredns_mysql", "      connect_timeout_s: 5\n"), true);
    for (i = 0; i < 5; i++) {
        snprintf(t[i], sizeof(t[i]), "%s", zone_text(names[i], 1, "192.0.2.7"));
        change_init(&c[i], CHANGE_SAVE, names[i], 1, t[i]);
    }
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 5), 0);
    for (i = 0; i < 5; i++)
        change_init(&c[i], CHANGE_SAVE, names[i], 2, t[i]);
    /* m.example held elsewhere: the group, handed over in reverse order, has locked the zones
     * before it in name order and waits there, the ones after it not yet taken */
    h.zone = "m.example";
    h.hold_ms = 3000;
    run_locked(&h, &th);
    ap.mb = mb;
    ap.c = c;
    ap.n = 5;
    ap.rc = -1;
    ck_assert_int_eq(pthread_create(&ta, NULL, apply_run, &ap), 0);
    /* no assertion may end the test while the threads run: the results are checked after */
    probe = mysql_init(NULL);
    if (mysql_real_connect(probe, NULL, "root", "", dbname, 0, mariadb_fixture_socket(), 0) !=
        NULL) {
        mysql_autocommit(probe, 0);
        for (waited = 0; waited < 100 && !row_locked(probe, "b.example"); waited++)
            usleep(20000);
        locked_a = row_locked(probe, "a.example");
        locked_y = row_locked(probe, "y.example");
        locked_z = row_locked(probe, "z.example");
    }
    mysql_close(probe);
    pthread_join(th, NULL);
    pthread_join(ta, NULL);
    ck_assert_msg(waited < 100, "the group never locked b.example");
    ck_assert(locked_a);
    ck_assert(!locked_y);
    ck_assert(!locked_z);
    ck_assert_int_eq(ap.rc, 0);
    for (i = 0; i < 5; i++)
        ck_assert_msg(c[i].result == 0, "%s: %s", c[i].zone, c[i].reason);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.dadns_state WHERE version = 2", dbname), 5);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->transactions, 2);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->retries, 0);
}
END_TEST

/* ---- verify ----------------------------------------------------------------------------- */

START_TEST(verify_and_repair)
{
    const char *t = zone_text("v.example", 1, "192.0.2.6");
    struct buf want, got;
    struct change c;

    buf_init(&want, 1 << 20);
    buf_init(&got, 1 << 20);
    open_ok(load("powerdns_mysql", NULL), true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "v.example", 4, t, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_VERIFY, "v.example", 4, t, &c), 0);
    ck_assert_int_eq(c.repaired, 0);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->committed, 1);

    /* somebody edits a row: verify rewrites the zone */
    sql("UPDATE `%s`.records SET content = '203.0.113.1' WHERE name = 'www.v.example'", dbname);
    ck_assert_int_eq(apply1(CHANGE_VERIFY, "v.example", 4, t, &c), 0);
    ck_assert_int_eq(c.repaired, 1);
    expected_rows(&want, ROWS_POWERDNS, "v.example", t);
    records_of(&got, ROWS_POWERDNS, "v.example");
    ck_assert_str_eq(got.data, want.data);
    /* the zone row gone altogether */
    sql("DELETE FROM `%s`.records", dbname);
    sql("DELETE FROM `%s`.domains", dbname);
    ck_assert_int_eq(apply1(CHANGE_VERIFY, "v.example", 4, t, &c), 0);
    ck_assert_int_eq(c.repaired, 1);
    records_of(&got, ROWS_POWERDNS, "v.example");
    ck_assert_str_eq(got.data, want.data);
    /* a verify of an older version than the database has: nothing */
    ck_assert_int_eq(
        apply1(CHANGE_VERIFY, "v.example", 3, zone_text("v.example", 9, "192.0.2.9"), &c), 0);
    ck_assert_int_eq(c.repaired, 0);
    records_of(&got, ROWS_POWERDNS, "v.example");
    ck_assert_str_eq(got.data, want.data);
    buf_free(&want);
    buf_free(&got);
}
END_TEST

/* ---- forced changes (op=push) ------------------------------------------------------------ */

/* apply_forced - apply one forced change; returns its result (asserting apply returned 0). */
static int apply_forced(enum change_op op, const char *zone, uint64_t version, const char *text,
                        struct change *out)
{
    struct change c;

    change_init(&c, op, zone, version, text);
    c.force = 1;
    ck_assert_int_eq(mysqlbackend_apply(mb, &c, 1), 0);
    if (out != NULL)
        *out = c;
    return c.result;
}

static void force_repairs(const char *type, enum rows_format fmt)
{
    const char *ztab = fmt == ROWS_COREDNS ? "zones" : "domains";
    char t1[4096], t2[4096];
    struct buf want, got, want2;
    struct change c;

    buf_init(&want, 1 << 20);
    buf_init(&want2, 1 << 20);
    buf_init(&got, 1 << 20);
    snprintf(t1, sizeof(t1), "%s", zone_text("f.example", 1, "192.0.2.1"));
    snprintf(t2, sizeof(t2), "%s", zone_text("f.example", 2, "192.0.2.2"));
    expected_rows(&want, fmt, "f.example", t1);
    expected_rows(&want2, fmt, "f.example", t2);
    open_ok(load(type, NULL), true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "f.example", 5, t1, NULL), 0);

    /* records lost behind dadns's back: a plain save of the version the database has is a
     * no-op, a forced one rewrites them */
    sql("DELETE FROM `%s`.records", dbname);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "f.example", 5, t1, NULL), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.records", dbname), 0);
    ck_assert_int_eq(apply_forced(CHANGE_SAVE, "f.example", 5, t1, &c), 0);
    records_of(&got, fmt, "f.example");
    ck_assert_str_eq(got.data, want.data);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->committed, 2);

    /* a record edited and the zone row gone: back as they were */
    if (fmt == ROWS_COREDNS)
        sql("UPDATE `%s`.records SET data = '203.0.113.9' WHERE hostname = 'www'", dbname);
    else
        sql("UPDATE `%s`.records SET content = '203.0.113.9' WHERE name = 'www.f.example'", dbname);
    records_of(&got, fmt, "f.example");
    ck_assert_str_ne(got.data, want.data);
    ck_assert_int_eq(apply_forced(CHANGE_SAVE, "f.example", 5, t1, NULL), 0);
    records_of(&got, fmt, "f.example");
    ck_assert_str_eq(got.data, want.data);
    sql("DELETE FROM `%s`.records", dbname);
    sql("DELETE FROM `%s`.%s", dbname, ztab);
    ck_assert_int_eq(apply_forced(CHANGE_SAVE, "f.example", 5, t1, NULL), 0);
    records_of(&got, fmt, "f.example");
    ck_assert_str_eq(got.data, want.data);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.%s", dbname, ztab), 1);
    ck_assert_int_eq(sql_int("SELECT version FROM `%s`.dadns_state", dbname), 5);

    /* forced, but older than what the database has: never overwrites the newer version */
    ck_assert_int_eq(apply1(CHANGE_SAVE, "f.example", 6, t2, NULL), 0);
    ck_assert_int_eq(apply_forced(CHANGE_SAVE, "f.example", 5, t1, NULL), 0);
    records_of(&got, fmt, "f.example");
    ck_assert_str_eq(got.data, want2.data);
    ck_assert_int_eq(sql_int("SELECT version FROM `%s`.dadns_state", dbname), 6);

    /* a forced delete of the version already deleted: nothing to do when nothing is left,
     * the leftover zone removed when it is still dadns's (CoreDNS: managed_by), left alone
     * when it is not (PowerDNS: a deleted state row means not ours) */
    ck_assert_int_eq(apply1(CHANGE_DELETE, "f.example", 7, NULL, NULL), 0);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.%s", dbname, ztab), 0);
    ck_assert_int_eq(apply_forced(CHANGE_DELETE, "f.example", 7, NULL, &c), 0);
    ck_assert_int_eq(
        sql_int("SELECT deleted FROM `%s`.dadns_state WHERE zone = 'f.example'", dbname), 1);
    if (fmt == ROWS_COREDNS) {
        sql("INSERT INTO `%s`.zones (zone_name, managed_by) VALUES ('f.example.', 'dadns')",
            dbname);
        sql("INSERT INTO `%s`.records (zone_id, hostname, type, data, ttl, online) SELECT id, "
            "'@', 'A', '192.0.2.77', 60, 1 FROM `%s`.zones",
            dbname, dbname);
        ck_assert_int_eq(apply1(CHANGE_DELETE, "f.example", 7, NULL, NULL), 0);
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones", dbname), 1);
        ck_assert_int_eq(apply_forced(CHANGE_DELETE, "f.example", 7, NULL, &c), 0);
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.zones", dbname), 0);
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.records", dbname), 0);
    } else {
        sql("INSERT INTO `%s`.domains (name, type) VALUES ('f.example', 'NATIVE')", dbname);
        ck_assert_int_eq(apply_forced(CHANGE_DELETE, "f.example", 7, NULL, &c), 0);
        ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.domains", dbname), 1);
        sql("DELETE FROM `%s`.domains", dbname);
    }

    /* a zone dadns does not manage: a forced save is refused like any other */
    if (fmt == ROWS_COREDNS)
        sql("INSERT INTO `%s`.zones (zone_name, managed_by) VALUES ('hand.example.', 'someone')",
            dbname);
    else
        sql("INSERT INTO `%s`.domains (name, type) VALUES ('hand.example', 'NATIVE')", dbname);
    ck_assert_int_eq(
        apply_forced(CHANGE_SAVE, "hand.example", 1, zone_text("hand.example", 1, "192.0.2.1"), &c),
        DADNS_EDENIED);
    ck_assert_int_eq(c.permanent, 1);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM `%s`.records", dbname), 0);
    buf_free(&want);
    buf_free(&want2);
    buf_free(&got);
}

START_TEST(force_repairs_coredns)
{
    force_repairs("coredns_mysql", ROWS_COREDNS);
}
END_TEST

START_TEST(force_repairs_powerdns)
{
    force_repairs("powerdns_mysql", ROWS_POWERDNS);
}
END_TEST

/* ---- operator commands ------------------------------------------------------------------ */

START_TEST(hooks_run_after_commit)
{
    char extra[2 * PATH_MAX + 128], path[PATH_MAX + 64];
    struct change c[2];
    char t[2][4096];

    snprintf(extra, sizeof(extra),
             "      post_commit: touch %s/{zone}.done\n"
             "      post_create: touch %s/created\n",
             tmpdir, tmpdir);
    open_ok(load("powerdns_mysql", extra), true);
    snprintf(t[0], sizeof(t[0]), "%s", zone_text("h1.example", 1, "192.0.2.1"));
    snprintf(t[1], sizeof(t[1]), "%s", zone_text("h2.example", 1, "192.0.2.1"));
    change_init(&c[0], CHANGE_SAVE, "h1.example", 1, t[0]);
    change_init(&c[1], CHANGE_SAVE, "h2.example", 1, t[1]);
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 2), 0);
    snprintf(path, sizeof(path), "%s/h1.example.done", tmpdir);
    ck_assert_int_eq(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/h2.example.done", tmpdir);
    ck_assert_int_eq(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/created", tmpdir);
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(unlink(path), 0);
    /* an update creates nothing: no post_create */
    ck_assert_int_eq(apply1(CHANGE_SAVE, "h1.example", 2, t[0], NULL), 0);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_uint_eq(n_warned, 0);

    /* a failing command is a warning, never a failed change */
    open_ok(load("powerdns_mysql", "      post_commit: false {zone}\n"
                                   "      post_create: /nonexistent/cmd\n"),
            false);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "h3.example", 1, zone_text("h3.example", 1, "192.0.2.1"), NULL), 0);
    ck_assert_uint_eq(n_warned, 2);
    ck_assert_msg(strstr(warned, "h3.example: post_commit failed: false: exit 1: (no output)") !=
                      NULL,
                  "%s", warned);
    ck_assert_msg(strstr(warned, "-: post_create failed: cannot run /nonexistent/cmd: No such "
                                 "file or directory") != NULL,
                  "%s", warned);
    ck_assert_uint_eq(mysqlbackend_stats(mb)->hook_failures, 2);
}
END_TEST

START_TEST(hooks_run_in_parallel)
{
    char extra[PATH_MAX + 128], path[PATH_MAX + 64];
    static char t[16][4096];
    struct change c[16];
    struct timespec t0, t1;
    double dt;
    size_t i;

    snprintf(extra, sizeof(extra),
             "      post_commit: sh -c sleep${IFS}0.3;touch${IFS}%s/$0 {zone}\n", tmpdir);
    open_ok(load("powerdns_mysql", extra), true);
    for (i = 0; i < 16; i++) {
        char z[32];

        snprintf(z, sizeof(z), "p%zu.example", i);
        snprintf(t[i], sizeof(t[i]), "%s", zone_text(z, 1, "192.0.2.1"));
        change_init(&c[i], CHANGE_SAVE, z, 1, t[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mysqlbackend_apply(mb, c, 16), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* 16 commands of 0.3 s, 8 at once: about 0.6 s (one after another: 4.8 s) */
    ck_assert_msg(dt < 2.5, "took %.2f s", dt);
    for (i = 0; i < 16; i++) {
        ck_assert_int_eq(c[i].result, 0);
        snprintf(path, sizeof(path), "%s/p%zu.example", tmpdir, i);
        ck_assert_msg(access(path, F_OK) == 0, "%s", path);
    }
    ck_assert_uint_eq(n_warned, 0);
}
END_TEST

static unsigned many_failed; /* hook_run_many failures seen by on_many */
static char many_text[1024]; /* the last one */

static void on_many(void *arg, const char *zone, const struct err *e)
{
    (void)arg;
    many_failed++;
    snprintf(many_text, sizeof(many_text), "%s: %s", zone != NULL ? zone : "-", e->text);
}

START_TEST(hook_split_and_timeout)
{
    const char *zones[3] = {"a.example", "b.example", NULL};

    struct err e;

    ck_assert_int_eq(hook_run("  true   {zone}  ", "a.example", 1000, &e), 0);
    ck_assert_int_eq(hook_run("   ", "a.example", 1000, &e), DADNS_EINVAL);
    ck_assert_str_eq(e.text, "empty command");
    ck_assert_int_eq(hook_run("sh -c exit${IFS}3", NULL, 1000, &e), DADNS_EBACKEND);
    ck_assert_str_eq(e.text, "sh: exit 3: (no output)");
    ck_assert_int_eq(hook_run("echo x{zone}y{zone}", "a.b", 1000, &e), DADNS_OK);
    ck_assert_int_eq(hook_run("sh -c echo${IFS}hello;exit${IFS}1", NULL, 1000, &e), DADNS_EBACKEND);
    ck_assert_str_eq(e.text, "sh: exit 1: hello");
    ck_assert_int_eq(hook_run("sleep 5", NULL, 300, &e), DADNS_EBACKEND);
    ck_assert_str_eq(e.text, "sleep: timed out after 300 ms");

    /* several zones at once: each one's failure reported with its zone (NULL counts as "") */
    many_failed = 0;
    ck_assert_uint_eq(hook_run_many("sh -c test${IFS}x$0${IFS}=${IFS}xb.example {zone}", zones, 3,
                                    2, 1000, on_many, NULL),
                      2);
    ck_assert_uint_eq(many_failed, 2);
    ck_assert_str_eq(many_text, "-: sh: exit 1: (no output)");
    many_failed = 0;
    ck_assert_uint_eq(hook_run_many("   ", zones, 3, 2, 1000, on_many, NULL), 3);
    ck_assert_uint_eq(many_failed, 3);
    ck_assert_str_eq(many_text, "-: empty command");
}
END_TEST

/* ---- inventory (mysqlinventory.c, rowhash.c) -------------------------------------------- */

/* A collected inventory. */
struct inv_list {
    struct held_zone *v;
    size_t n, cap;
};

static int collect(void *arg, const struct held_zone *z)
{
    struct inv_list *l = arg;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        ck_assert_ptr_nonnull(l->v);
    }
    l->v[l->n++] = *z;
    return 0;
}

static const struct held_zone *inv_find(const struct inv_list *l, const char *zone)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].zone, zone) == 0)
            return &l->v[i];
    }
    return NULL;
}

/* inventory - a fresh inventory of the open backend into @l (through the change_backend
 * callback); @st (may be NULL) gets mysqlinventory_run's counters from a second run. */
static void inventory(struct inv_list *l, struct mysqlinventory_stats *st)
{
    char reason[256] = "";
    struct err e;
    MYSQL *db;
    int rc;

    l->n = 0;
    rc = mysqlinventory_backend(mb, collect, l, reason, sizeof(reason));
    ck_assert_msg(rc == 0, "inventory: %d %s", rc, reason);
    if (st != NULL) {
        struct inv_list again = {0};

        ck_assert_int_eq(mysqlbackend_connection(mb, &db, &e), 0);
        ck_assert_int_eq(mysqlinventory_run(db, mysqlbackend_conf(mb), collect, &again, st, &e), 0);
        ck_assert_uint_eq(again.n, l->n);
        free(again.v);
    }
}

static void sha1_of(const char *text, char out[41])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    size_t i;

    sha1_init(&c);
    sha1_update(&c, strlen(text), (const uint8_t *)text);
    sha1_digest(&c, sizeof(d), d);
    for (i = 0; i < sizeof(d); i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[40] = '\0';
}

/* expect - zone @zone in @l as given (@digest NULL: not checked). */
static void expect(const struct inv_list *l, const char *zone, int managed, int has_serial,
                   uint32_t serial, uint64_t version, const char *digest)
{
    const struct held_zone *h = inv_find(l, zone);

    ck_assert_msg(h != NULL, "%s not in the inventory", zone);
    ck_assert_msg(h->managed == managed && h->has_serial == has_serial &&
                      (!has_serial || h->serial == serial) && h->version == version,
                  "%s: managed %d serial %d/%u version %llu", zone, h->managed, h->has_serial,
                  h->serial, (unsigned long long)h->version);
    if (digest != NULL)
        ck_assert_msg(strcmp(h->digest, digest) == 0, "%s: digest \"%s\", want \"%s\"", zone,
                      h->digest, digest);
}

static void inventory_follows_the_rows(const char *type, enum rows_format fmt)
{
    bool cd = fmt == ROWS_COREDNS;
    char ta[4096], tb[4096], tc[4096], tb2[4096], da[41], db_[41], dc[41];
    struct mysqlinventory_stats st;
    struct inv_list l = {0};

    snprintf(ta, sizeof(ta), "%s", zone_text("a.example", 2024010101, "192.0.2.1"));
    snprintf(tb, sizeof(tb), "%s", zone_text("b.example", 2024010102, "192.0.2.2"));
    snprintf(tc, sizeof(tc), "%s", zone_text("c.example", 2024010103, "192.0.2.3"));
    sha1_of(ta, da);
    sha1_of(tb, db_);
    sha1_of(tc, dc);
    open_ok(load(type, NULL), true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "a.example", 1, ta, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "b.example", 2, tb, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "c.example", 3, tc, NULL), 0);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "gone.example", 4, zone_text("gone.example", 4, "192.0.2.4"), NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_DELETE, "gone.example", 5, NULL, NULL), 0);
    /* a zone somebody else put there, with its own SOA */
    if (cd) {
        sql("INSERT INTO `%s`.zones (zone_name, managed_by) VALUES ('Other.Example.', 'someone')",
            dbname);
        sql("INSERT INTO `%s`.records (zone_id, hostname, type, data, ttl, online) SELECT id, "
            "'@', 'SOA', 'ns.other.example. h.other.example. 77 1 1 1 1', 60, 1 FROM `%s`.zones "
            "WHERE zone_name = 'Other.Example.'",
            dbname, dbname);
    } else {
        sql("INSERT INTO `%s`.domains (name, type) VALUES ('other.example', 'NATIVE')", dbname);
        sql("INSERT INTO `%s`.records (domain_id, name, type, content, ttl, prio) SELECT id, "
            "'other.example', 'SOA', 'ns.other.example h.other.example 77 1 1 1 1', 60, 0 FROM "
            "`%s`.domains WHERE name = 'other.example'",
            dbname, dbname);
    }

    inventory(&l, &st);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_str_eq(l.v[0].zone, "a.example"); /* in name order */
    ck_assert_str_eq(l.v[3].zone, "other.example");
    expect(&l, "a.example", 1, 1, 2024010101, 1, da);
    expect(&l, "b.example", 1, 1, 2024010102, 2, db_);
    expect(&l, "c.example", 1, 1, 2024010103, 3, dc);
    expect(&l, "other.example", 0, 1, 77, 0, "");
    ck_assert_ptr_null(inv_find(&l, "gone.example"));
    ck_assert_uint_eq(st.zones, 4);
    ck_assert_uint_eq(st.managed, 3);
    ck_assert_uint_eq(st.modified, 0);
    ck_assert_uint_gt(st.rows, 30);

    /* behind dadns's back: a row of b edited, a row added to c, zone a deleted by hand */
    if (cd) {
        sql("UPDATE `%s`.records r JOIN `%s`.zones z ON z.id = r.zone_id SET r.data = "
            "'203.0.113.9' WHERE z.zone_name = 'b.example.' AND r.hostname = 'www'",
            dbname, dbname);
        sql("INSERT INTO `%s`.records (zone_id, hostname, type, data, ttl, online) SELECT id, "
            "'extra', 'A', '192.0.2.99', 60, 1 FROM `%s`.zones WHERE zone_name = 'c.example.'",
            dbname, dbname);
        sql("DELETE FROM `%s`.records WHERE zone_id IN (SELECT id FROM `%s`.zones WHERE "
            "zone_name = 'a.example.')",
            dbname, dbname);
        sql("DELETE FROM `%s`.zones WHERE zone_name = 'a.example.'", dbname);
    } else {
        sql("UPDATE `%s`.records SET content = '203.0.113.9' WHERE name = 'www.b.example'", dbname);
        sql("INSERT INTO `%s`.records (domain_id, name, type, content, ttl, prio) SELECT id, "
            "'extra.c.example', 'A', '192.0.2.99', 60, 0 FROM `%s`.domains WHERE name = "
            "'c.example'",
            dbname, dbname);
        sql("DELETE FROM `%s`.records WHERE domain_id IN (SELECT id FROM `%s`.domains WHERE "
            "name = 'a.example')",
            dbname, dbname);
        sql("DELETE FROM `%s`.domains WHERE name = 'a.example'", dbname);
    }
    inventory(&l, &st);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_ptr_null(inv_find(&l, "a.example")); /* absent */
    expect(&l, "b.example", 1, 1, 2024010102, 2, MYSQLINVENTORY_MODIFIED);
    expect(&l, "c.example", 1, 1, 2024010103, 3, MYSQLINVENTORY_MODIFIED);
    expect(&l, "other.example", 0, 1, 77, 0, "");
    ck_assert_uint_eq(st.modified, 2);

    /* a SOA row switched off is not served: no serial */
    if (cd)
        sql("UPDATE `%s`.records SET online = 0 WHERE type = 'SOA' AND data LIKE '%%77 1 1 1 1'",
            dbname);
    else
        sql("UPDATE `%s`.records SET disabled = 1 WHERE name = 'other.example'", dbname);
    inventory(&l, NULL);
    expect(&l, "other.example", 0, 0, 0, 0, "");

    /* the repairs the reconciler would send */
    snprintf(tb2, sizeof(tb2), "%s", zone_text("b.example", 2024010109, "192.0.2.22"));
    ck_assert_int_eq(apply1(CHANGE_SAVE, "b.example", 9, tb2, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_VERIFY, "c.example", 3, tc, NULL), 0);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "a.example", 10, ta, NULL), 0);
    sha1_of(tb2, db_);
    inventory(&l, &st);
    expect(&l, "a.example", 1, 1, 2024010101, 10, da);
    expect(&l, "b.example", 1, 1, 2024010109, 9, db_);
    expect(&l, "c.example", 1, 1, 2024010103, 3, dc);
    ck_assert_uint_eq(st.modified, 0);
    free(l.v);
}

START_TEST(inventory_follows_the_rows_coredns)
{
    inventory_follows_the_rows("coredns_mysql", ROWS_COREDNS);
}
END_TEST

START_TEST(inventory_follows_the_rows_powerdns)
{
    inventory_follows_the_rows("powerdns_mysql", ROWS_POWERDNS);
}
END_TEST

START_TEST(inventory_rowhash_matches_rowset)
{
    struct rows_builder *rb = NULL;
    struct rowset rs;
    struct rowhash h1, h2;
    char a[ROWHASH_HEX], b[ROWHASH_HEX], c[ROWHASH_HEX];
    struct err e;
    size_t i;

    memset(&rs, 0, sizeof(rs));
    ck_assert_int_eq(rows_builder_new(&rb), 0);
    ck_assert_int_eq(rows_build(rb, ROWS_POWERDNS, "h.example",
                                zone_text("h.example", 1, "192.0.2.1"),
                                strlen(zone_text("h.example", 1, "192.0.2.1")), &rs, &e),
                     0);
    /* order does not matter; NULL is not ""; one field more or less changes it */
    rowhash_rowset(ROWS_POWERDNS, &rs, a);
    rowhash_init(&h1);
    for (i = rs.n; i-- > 0;) {
        const struct row *w = &rs.v[i];

        rowhash_add(&h1, w->name, strlen(w->name), w->type, w->type ? strlen(w->type) : 0,
                    w->content, w->content ? strlen(w->content) : 0, w->ttl, w->prio,
                    w->auth ? 1 : 0, 1);
    }
    rowhash_hex(&h1, b);
    ck_assert_str_eq(a, b);
    rowhash_init(&h1);
    rowhash_init(&h2);
    rowhash_add(&h1, "x", 1, NULL, 0, NULL, 0, 0, 0, 0, 1);
    rowhash_add(&h2, "x", 1, "", 0, "", 0, 0, 0, 0, 1);
    rowhash_hex(&h1, b);
    rowhash_hex(&h2, c);
    ck_assert_str_ne(b, c);
    rowhash_init(&h2);
    rowhash_add(&h2, "x", 1, NULL, 0, NULL, 0, 0, 0, 0, 1);
    rowhash_add(&h2, "x", 1, NULL, 0, NULL, 0, 0, 0, 0, 1); /* a duplicate row counts */
    rowhash_hex(&h2, c);
    ck_assert_str_ne(b, c);
    rowhash_rowset(ROWS_COREDNS, &rs, c); /* the same rows in the other format's columns */
    ck_assert_str_ne(a, c);
    rowset_free(&rs);
    rows_builder_free(rb);
}
END_TEST

START_TEST(inventory_old_state_table_migrated)
{
    const struct backend_conf *bc = load("powerdns_mysql", NULL);
    const char *t = zone_text("old.example", 2024010105, "192.0.2.5");
    struct mysqlinventory_stats st;
    struct inv_list l = {0};
    char d[41];

    open_ok(bc, true);
    ck_assert_int_eq(apply1(CHANGE_SAVE, "old.example", 5, t, NULL), 0);
    mysqlbackend_free(mb);
    mb = NULL;
    /* a state table of an earlier release */
    sql("ALTER TABLE `%s`.dadns_state DROP COLUMN rows_digest", dbname);
    open_ok(bc, false); /* migrated without --init-schema */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
                             "TABLE_SCHEMA = '%s' AND TABLE_NAME = 'dadns_state' AND "
                             "COLUMN_NAME = 'rows_digest'",
                             dbname),
                     1);
    inventory(&l, &st);
    expect(&l, "old.example", 1, 1, 2024010105, 5, ""); /* cannot tell */
    ck_assert_uint_eq(st.unknown, 1);
    /* a verify of the same version leaves it so; the next save records the rows */
    ck_assert_int_eq(apply1(CHANGE_SAVE, "old.example", 6, t, NULL), 0);
    sha1_of(t, d);
    inventory(&l, &st);
    expect(&l, "old.example", 1, 1, 2024010105, 6, d);
    ck_assert_uint_eq(st.unknown, 0);
    free(l.v);
}
END_TEST

START_TEST(inventory_reconnects)
{
    struct inv_list l = {0};
    char reason[256];
    int rc;

    open_ok(load("coredns_mysql", NULL), true);
    ck_assert_int_eq(
        apply1(CHANGE_SAVE, "r.example", 1, zone_text("r.example", 7, "192.0.2.7"), NULL), 0);
    kill_writers();
    inventory(&l, NULL);
    expect(&l, "r.example", 1, 1, 7, 1, NULL);
    ck_assert_uint_ge(mysqlbackend_stats(mb)->reconnects, 1);
    /* the database down: an error with a reason */
    mariadb_fixture_kill();
    rc = mysqlinventory_backend(mb, collect, &l, reason, sizeof(reason));
    ck_assert_int_eq(rc, DADNS_EBACKEND);
    ck_assert_msg(strstr(reason, "cannot connect") != NULL, "%s", reason);
    ck_assert_int_eq(mariadb_fixture_restart(), 0);
    mysql_close(root);
    root = mysql_init(NULL);
    ck_assert_ptr_nonnull(
        mysql_real_connect(root, NULL, "root", "", NULL, 0, mariadb_fixture_socket(), 0));
    inventory(&l, NULL);
    expect(&l, "r.example", 1, 1, 7, 1, NULL);
    free(l.v);
}
END_TEST

START_TEST(inventory_many_zones)
{
    enum { N = 2000 };
    const char *types[] = {"coredns_mysql", "powerdns_mysql"};
    struct mysqlinventory_stats st;
    struct inv_list l = {0};
    struct change *c = calloc(N, sizeof(*c));
    char *texts = malloc((size_t)N * 4096), zone[64];
    size_t i, k;

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(texts);
    for (k = 0; k < 2; k++) {
        if (k > 0)
            new_db();
        open_ok(load(types[k], "      group_size: 64\n"), true);
        for (i = 0; i < N; i++) {
            snprintf(zone, sizeof(zone), "z%zu.example", i);
            snprintf(texts + i * 4096, 4096, "%s",
                     zone_text(zone, (unsigned)(1000 + i), "192.0.2.1"));
            change_init(&c[i], CHANGE_SAVE, zone, 1, texts + i * 4096);
        }
        ck_assert_int_eq(mysqlbackend_apply(mb, c, N), 0);
        for (i = 0; i < N; i++)
            ck_assert_msg(c[i].result == 0, "%s: %s", c[i].zone, c[i].reason);
        inventory(&l, &st);
        fprintf(stderr, "mysqlinventory: %s: %zu zones, %zu rows in %.3f s\n", types[k], st.zones,
                st.rows, st.seconds);
        ck_assert_uint_eq(l.n, N);
        ck_assert_uint_eq(st.managed, N);
        ck_assert_uint_eq(st.modified, 0);
        for (i = 0; i < l.n; i++) {
            unsigned long z;

            ck_assert_int_eq(sscanf(l.v[i].zone, "z%lu.example", &z), 1);
            ck_assert_uint_eq(l.v[i].serial, 1000 + z);
            ck_assert_uint_eq(strlen(l.v[i].digest), 40);
        }
    }
    free(l.v);
    free(c);
    free(texts);
}
END_TEST

/* ---- runner ----------------------------------------------------------------------------- */

static TCase *tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    return tc;
}

static Suite *mysqlbackend_suite(void)
{
    Suite *s = suite_create("mysqlbackend");
    TCase *tc;

    tc = tcase("schema");
    tcase_add_test(tc, schema_statements);
    tcase_add_test(tc, schema_init_creates_both_formats);
    tcase_add_test(tc, schema_missing_table_fails_clearly);
    tcase_add_test(tc, schema_zones_without_managed_by);
    tcase_add_test(tc, connect_errors);
    suite_add_tcase(s, tc);

    tc = tcase("save");
    tcase_add_test(tc, save_writes_exact_rows_coredns);
    tcase_add_test(tc, save_writes_exact_rows_powerdns);
    tcase_add_test(tc, save_newer_replaces_older_ignored_coredns);
    tcase_add_test(tc, save_newer_replaces_older_ignored_powerdns);
    tcase_add_test(tc, count_mismatch_warns);
    suite_add_tcase(s, tc);

    tc = tcase("delete");
    tcase_add_test(tc, delete_removes_zone_coredns);
    tcase_add_test(tc, delete_removes_zone_powerdns);
    suite_add_tcase(s, tc);

    tc = tcase("ownership");
    tcase_add_test(tc, unmanaged_zone_untouched_coredns);
    tcase_add_test(tc, unmanaged_zone_untouched_powerdns);
    suite_add_tcase(s, tc);

    tc = tcase("failures");
    tcase_add_test(tc, conversion_failure_fails_alone);
    tcase_add_test(tc, database_down_then_back);
    tcase_add_test(tc, connection_lost_mid_batch);
    tcase_add_test(tc, connection_lost_mid_batch_groups);
    tcase_add_test(tc, lock_wait_is_retried);
    tcase_add_test(tc, replicas_converge);
    suite_add_tcase(s, tc);

    tc = tcase("groups");
    tcase_add_test(tc, group_bad_zone_fails_alone);
    tcase_add_test(tc, group_locks_in_zone_order);
    tcase_add_test(tc, replicas_converge_groups);
    suite_add_tcase(s, tc);

    tc = tcase("verify");
    tcase_add_test(tc, verify_and_repair);
    suite_add_tcase(s, tc);

    tc = tcase("force");
    tcase_add_test(tc, force_repairs_coredns);
    tcase_add_test(tc, force_repairs_powerdns);
    suite_add_tcase(s, tc);

    tc = tcase("hooks");
    tcase_add_test(tc, hooks_run_after_commit);
    tcase_add_test(tc, hooks_run_in_parallel);
    tcase_add_test(tc, hook_split_and_timeout);
    suite_add_tcase(s, tc);

    tc = tcase("inventory");
    tcase_add_test(tc, inventory_follows_the_rows_coredns);
    tcase_add_test(tc, inventory_follows_the_rows_powerdns);
    tcase_add_test(tc, inventory_rowhash_matches_rowset);
    tcase_add_test(tc, inventory_old_state_table_migrated);
    tcase_add_test(tc, inventory_reconnects);
    tcase_add_test(tc, inventory_many_zones);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    port = mariadb_fixture_start();
    if (port < 0)
        return 1;
    root = mysql_init(NULL);
    if (mysql_real_connect(root, NULL, "root", "", NULL, 0, mariadb_fixture_socket(), 0) == NULL ||
        mysql_query(root, "CREATE USER 'dadns'@'127.0.0.1' IDENTIFIED BY 's3cret'") != 0 ||
        mysql_query(root, "GRANT ALL ON *.* TO 'dadns'@'127.0.0.1'") != 0) {
        fprintf(stderr, "test_mysqlbackend: cannot set up the server: %s\n", mysql_error(root));
        mysql_close(root);
        mariadb_fixture_stop();
        return 1;
    }
    sr = srunner_create(mysqlbackend_suite());
    srunner_set_fork_status(sr, CK_NOFORK); /* one server for the whole run */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    mysql_close(root);
    mariadb_fixture_stop();
    mysql_library_end();
    return failed ? 1 : 0;
}
