/* mysqlbackend.c -- zones committed in groups, one transaction per group, against a CoreDNS or
 * PowerDNS MySQL database (see mysqlbackend.h for the algorithm).
 *
 * Owns the MYSQL connection and its prepared statements. No SQL is ever built from data: the
 * statement texts hold only the configured table names (identifiers checked by config.c) and
 * placeholders; zone names, rows and versions travel as bound parameters. Statements that act
 * on every zone of a group take an IN list of group_size placeholders (the unused ones repeat
 * the last value); those that add rows are multi-row INSERTs prepared on first use for 128,
 * 64, ..., 2 and 1 rows (m rows take popcount(m) of them), no INSERT of records growing beyond
 * CHUNK_BYTES. The records of all the zones of a group go in together.
 *
 * Round trips of a group of new zones: state rows, placeholders, zone rows, new zone rows,
 * their ids, the INSERTs of records (8 for 32 zones of 27 rows), state rows, COMMIT, count:
 * about 16 for 32 zones (a zone alone: 10). The count's read-only transaction is left open for
 * the next group's statements and ended by one ROLLBACK at the end of the batch, so no
 * metadata lock outlives a batch. */
#include "mysqlbackend.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "hook.h"
#include "rowhash.h"
#include "rows.h"
#include "schema.h"

#define MAX_COLS    7                   /* parameters per inserted row (PowerDNS records) */
#define CHUNK_BYTES ((size_t)1 << 20)   /* most octets of row data in one INSERT */
#define FETCH_NAME  2048                /* buffers for reading rows back (VERIFY) */
#define FETCH_TYPE  64                  /* ditto */
#define FETCH_DATA  65536               /* ditto: PowerDNS content is VARCHAR(64000) */
#define FETCH_ZONE  512                 /* a zone name read back (the columns hold 255) */
#define ARENA_MAX   ((size_t)256 << 20) /* most octets of one zone's rows read back */
#define SQL_MAX     ((size_t)64 << 10)  /* most octets of one statement's text */
#define OWNER_MAX   128                 /* managed_by / account read back */
#define RETRY_MS    20                  /* pause before retrying a transaction, x attempt */
#define GROUP_ROWS  8192                /* a group takes no more zones once it has this many rows */
#define ROWSET_KEEP ((size_t)1 << 20)   /* rowset memory kept between batches, per group slot */
#define N_CHUNKS    8                   /* multi-row INSERT sizes, largest first */
static const unsigned chunk_rows[N_CHUNKS] = {128, 64, 32, 16, 8, 4, 2, 1};
#define MAX_CHUNK 128

/* The fixed statements of one connection. The *_IN ones take group_size parameters. */
enum stmt_id {
    S_STATE_LOCK,   /* the state rows of a group, locked: the per-zone lock every writer takes
                       first, in zone order */
    S_STATE_DEL,    /* after a delete */
    S_ZONE_LOCK,    /* id, name and owner marker of a group's zone rows, locked */
    S_ZONE_DEL,     /* drop a zone row */
    S_REC_DEL,      /* drop one zone's records (deletes) */
    S_REC_DEL_IN,   /* drop the records of a group's zones (saves) */
    S_REC_COUNT_IN, /* count the records of a group's zones */
    S_REC_ALL,      /* read one zone's records back (VERIFY) */
    S_META_DEL,     /* PowerDNS: domainmetadata of a zone */
    S_COMMENT_DEL,  /* PowerDNS: comments */
    S_KEY_DEL,      /* PowerDNS: cryptokeys */
    N_STMT,
};

/* The multi-row statements, one per chunk size, prepared on first use. */
enum fam {
    F_STATE_ADD, /* placeholder state rows (zone) */
    F_STATE_SET, /* state rows after saves (zone, version, serial, text): locked rows upserted */
    F_ZONE_ADD,  /* new zone rows (name, marker) */
    F_RECORDS,   /* records rows */
    N_FAM,
};

/* What one statement or transaction came to. */
enum tx {
    TX_OK = 0,
    TX_RETRY, /* deadlock or lock wait timeout: run the transaction again */
    TX_LOST,  /* the connection is gone: the outcome of an open transaction is unknown */
    TX_FAIL,  /* the server refused a statement: this zone fails, the others go on */
    TX_SPLIT, /* a zone of a group cannot share its transaction: redo them one by one */
};

/* What a transaction did to a zone, when it returned TX_OK. */
enum action {
    A_NONE = 0, /* still to be decided (during the transaction) */
    A_SKIPPED,  /* the database already has this version or a newer one */
    A_VERIFIED, /* VERIFY: the rows are there as they should be */
    A_WRITTEN,  /* SAVE (or a repairing VERIFY) committed */
    A_DELETED,  /* DELETE committed */
    A_NOT_OURS, /* DELETE of a zone dadns does not manage: left alone */
    A_REFUSED,  /* SAVE/VERIFY of a zone dadns does not manage */
};

/* One row as read back from the records table, strings as offsets into the arena. */
struct dbrow {
    size_t name, type, content;      /* offsets in mb->arena, or SIZE_MAX for NULL */
    long long ttl, prio, auth, live; /* live: online (CoreDNS) / not disabled (PowerDNS) */
};

/* A row of either side of a VERIFY comparison. */
struct view {
    const char *name, *type, *content; /* NULL for SQL NULL */
    long long ttl, prio, auth, live;   /* as in struct dbrow; 0 where a format has none */
};

/* One zone of a group. */
struct gzone {
    struct change *c;              /* borrowed from the batch */
    struct rowset *rs;             /* its rows (SAVE/VERIFY; NULL for DELETE), one of mb->rss */
    char zname[NAME_BUF_SIZE + 2]; /* its name in the zones table (CoreDNS: trailing dot) */
    /* found by the transaction */
    bool had_state;        /* its state row existed before the transaction */
    long long sv, sdel;    /* the state row's version and deleted (0 and 1 for a placeholder) */
    bool zexists;          /* its zone row exists */
    int32_t zid;           /* the zone row's id */
    bool owner_null;       /* the zone row's marker is NULL */
    unsigned long owner_n; /* its length (may exceed what owner holds) */
    char owner[OWNER_MAX]; /* the marker: zones.managed_by / domains.account */
    long long count;       /* records counted after the commit */
    enum action action;    /* what was done */
    bool created;          /* a zone row was inserted */
    bool repaired;         /* VERIFY found the zone lost or altered */
    char rows_digest[ROWHASH_HEX]; /* rowhash of rs, for the state row (inventories) */
};

struct mysqlbackend {
    const struct backend_conf *bc;    /* borrowed settings */
    enum rows_format fmt;             /* ROWS_COREDNS or ROWS_POWERDNS */
    size_t gsize;                     /* zones per group (bc->group_size) */
    MYSQL *db;                        /* the connection, NULL when there is none */
    bool ever_connected;              /* for the reconnects counter */
    MYSQL_STMT *st[N_STMT];           /* fixed statements (PowerDNS-only ones NULL for CoreDNS) */
    MYSQL_STMT *fam[N_FAM][N_CHUNKS]; /* multi-row statements, prepared on first use */
    unsigned ncols;                   /* parameters per records row: 5 (CoreDNS) or 7 */
    struct rows_builder *rb;          /* zone text -> rows */
    struct rowset *rss;               /* gsize rowsets: the rows of the group in progress */
    struct gzone *g;                  /* gsize zones: the group in progress */
    size_t *idx;                      /* gsize indexes into g, scratch */
    const char **in_names;            /* gsize values of an IN list of names */
    int32_t *in_ids;                  /* gsize values of an IN list of ids */
    MYSQL_BIND *in_bind;              /* gsize parameters of an IN list */
    unsigned long *in_lens;           /* their lengths */
    MYSQL_BIND *bind;                 /* MAX_CHUNK * MAX_COLS parameters of one INSERT */
    unsigned long *lens;              /* their lengths */
    int32_t *zids;                    /* per row of a chunk */
    uint32_t *ttls;                   /* ditto */
    int32_t *prios;                   /* ditto */
    signed char *auths;               /* ditto */
    uint64_t *versions;               /* ditto */
    uint32_t *serials;                /* ditto */
    char *fetch;                      /* FETCH_NAME + FETCH_TYPE + FETCH_DATA octets */
    struct buf arena;                 /* strings of rows read back */
    struct dbrow *dbrows;             /* rows read back */
    size_t n_dbrows;                  /* how many */
    size_t cap_dbrows;                /* allocated */
    struct view *views;               /* both sides of a comparison */
    size_t cap_views;                 /* allocated */
    const char **hook_zones;          /* zones committed in this batch, for post_commit */
    size_t n_hook_zones;              /* how many */
    size_t cap_hook_zones;            /* allocated */
    unsigned int db_errno;            /* last database error */
    char db_error[384];               /* its text, with what was being done */
    struct mysqlbackend_stats stats;  /* counters since open */
    mysqlbackend_warn_fn warn;        /* warnings go here (NULL: dropped) */
    void *warn_arg;                   /* its first argument */
};

static const my_bool true_value = 1;

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */

static enum tx classify(unsigned int no)
{
    if (no == ER_LOCK_DEADLOCK || no == ER_LOCK_WAIT_TIMEOUT)
        return TX_RETRY;
    if ((no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) || (no >= 5000 && no <= 5999) ||
        no == ER_CONNECTION_KILLED || no == ER_SERVER_SHUTDOWN)
        return TX_LOST;
    return TX_FAIL;
}

/* db_failed - remember the last error of the connection, with @what; returns its class. */
static enum tx db_failed(struct mysqlbackend *mb, const char *what)
{
    mb->db_errno = mysql_errno(mb->db);
    snprintf(mb->db_error, sizeof(mb->db_error), "%s: %s (%u)", what, mysql_error(mb->db),
             mb->db_errno);
    return classify(mb->db_errno);
}

/* stmt_failed - the same for a statement. */
static enum tx stmt_failed(struct mysqlbackend *mb, MYSQL_STMT *s, const char *what)
{
    mb->db_errno = mysql_stmt_errno(s);
    snprintf(mb->db_error, sizeof(mb->db_error), "%s: %s (%u)", what, mysql_stmt_error(s),
             mb->db_errno);
    return classify(mb->db_errno);
}

/* fetch_failed - stmt_failed for a statement whose rows were being read, then drop what is left
 * of its result, so the connection can go on (a rollback) when the error allows it. */
static enum tx fetch_failed(struct mysqlbackend *mb, MYSQL_STMT *s, const char *what)
{
    enum tx tx = stmt_failed(mb, s, what);

    mysql_stmt_free_result(s);
    return tx;
}

static void say_warn(struct mysqlbackend *mb, const char *zone, const char *what)
{
    if (mb->warn != NULL)
        mb->warn(mb->warn_arg, zone, what);
}

/* ------------------------------------------------------------------------------------------ */
/* Parameters and results                                                                     */

static void bind_str(MYSQL_BIND *b, const char *s, unsigned long *len)
{
    memset(b, 0, sizeof(*b));
    if (s == NULL) {
        b->buffer_type = MYSQL_TYPE_NULL;
        return;
    }
    *len = (unsigned long)strlen(s);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)s;
    b->buffer_length = *len;
    b->length = len;
}

static void bind_blob(MYSQL_BIND *b, const char *p, unsigned long *len)
{
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_BLOB;
    b->buffer = (void *)p;
    b->buffer_length = *len;
    b->length = len;
}

static void bind_u64(MYSQL_BIND *b, uint64_t *v)
{
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = v;
    b->is_unsigned = 1;
}

static void bind_u32(MYSQL_BIND *b, uint32_t *v)
{
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_LONG;
    b->buffer = v;
    b->is_unsigned = 1;
}

static void bind_i32(MYSQL_BIND *b, int32_t *v)
{
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_LONG;
    b->buffer = v;
}

static void bind_tiny(MYSQL_BIND *b, signed char *v)
{
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_TINY;
    b->buffer = v;
}

/* A result column read into a fixed buffer. */
struct out_col {
    MYSQL_BIND b;
    unsigned long len;
    my_bool is_null, error;
};

static void out_i64(struct out_col *o, long long *v)
{
    memset(o, 0, sizeof(*o));
    o->b.buffer_type = MYSQL_TYPE_LONGLONG;
    o->b.buffer = v;
    o->b.is_null = &o->is_null;
    o->b.error = &o->error;
    o->b.length = &o->len;
}

static void out_str(struct out_col *o, char *buf, size_t size)
{
    memset(o, 0, sizeof(*o));
    o->b.buffer_type = MYSQL_TYPE_STRING;
    o->b.buffer = buf;
    o->b.buffer_length = (unsigned long)size;
    o->b.is_null = &o->is_null;
    o->b.error = &o->error;
    o->b.length = &o->len;
}

/* run - bind @params (may be NULL) to @s and execute it. */
static enum tx run(struct mysqlbackend *mb, MYSQL_STMT *s, MYSQL_BIND *params, const char *what)
{
    if (params != NULL && mysql_stmt_bind_param(s, params) != 0)
        return stmt_failed(mb, s, what);
    if (mysql_stmt_execute(s) != 0)
        return stmt_failed(mb, s, what);
    return TX_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection                                                                                 */

static void disconnect(struct mysqlbackend *mb)
{
    size_t i, k;

    for (i = 0; i < N_STMT; i++) {
        if (mb->st[i] != NULL)
            mysql_stmt_close(mb->st[i]);
        mb->st[i] = NULL;
    }
    for (i = 0; i < N_FAM; i++) {
        for (k = 0; k < N_CHUNKS; k++) {
            if (mb->fam[i][k] != NULL)
                mysql_stmt_close(mb->fam[i][k]);
            mb->fam[i][k] = NULL;
        }
    }
    if (mb->db != NULL)
        mysql_close(mb->db);
    mb->db = NULL;
}

/* prepare - a new statement for @sql into *@out. */
static int prepare(struct mysqlbackend *mb, MYSQL_STMT **out, const char *sql, struct err *e)
{
    MYSQL_STMT *s = mysql_stmt_init(mb->db);

    if (s == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory preparing a statement");
    if (mysql_stmt_prepare(s, sql, (unsigned long)strlen(sql)) != 0) {
        unsigned int no = mysql_stmt_errno(s);

        err_set(e, classify(no) == TX_LOST ? DADNS_EBACKEND : DADNS_ECONFIG,
                "cannot prepare \"%.120s\": %s (%u)", sql, mysql_stmt_error(s), no);
        mysql_stmt_close(s);
        return e != NULL ? e->code : DADNS_EBACKEND;
    }
    *out = s;
    return 0;
}

/* in_list - append " IN (?, ?, ...)" with @n placeholders to @b. */
static int in_list(struct buf *b, size_t n)
{
    size_t i;
    int rc = buf_appends(b, " IN (");

    for (i = 0; rc == 0 && i < n; i++)
        rc = buf_appends(b, i > 0 ? ", ?" : "?");
    if (rc == 0)
        rc = buf_appends(b, ")");
    return rc;
}

/* statement_text - the text of fixed statement @id into @b. */
static int statement_text(struct mysqlbackend *mb, enum stmt_id id, struct buf *b)
{
    const struct backend_conf *bc = mb->bc;
    const char *z = bc->zones_table, *r = bc->records_table, *st = bc->state_table;
    bool cd = mb->fmt == ROWS_COREDNS;
    const char *zid = cd ? "zone_id" : "domain_id";
    int rc = 0;

    switch (id) {
    case S_STATE_LOCK:
        rc = buf_printf(b, "SELECT `zone`, `version`, `deleted` FROM `%s` WHERE `zone`", st);
        if (rc == 0)
            rc = in_list(b, mb->gsize);
        if (rc == 0)
            rc = buf_appends(b, " ORDER BY `zone` FOR UPDATE");
        break;
    case S_STATE_DEL:
        rc =
            buf_printf(b,
                       "UPDATE `%s` SET `version` = ?, `serial` = 0, `digest` = '', `deleted` = 1, "
                       "`updated` = UTC_TIMESTAMP(), `rows_digest` = '' WHERE `zone` = ?",
                       st);
        break;
    case S_ZONE_LOCK:
        rc =
            buf_printf(b, "SELECT `id`, `%s`, `%s` FROM `%s` WHERE `%s`", cd ? "zone_name" : "name",
                       cd ? "managed_by" : "account", z, cd ? "zone_name" : "name");
        if (rc == 0)
            rc = in_list(b, mb->gsize);
        if (rc == 0)
            rc = buf_appends(b, " FOR UPDATE");
        break;
    case S_ZONE_DEL:
        rc = buf_printf(b, "DELETE FROM `%s` WHERE `id` = ?", z);
        break;
    case S_REC_DEL:
        rc = buf_printf(b, "DELETE FROM `%s` WHERE `%s` = ?", r, zid);
        break;
    case S_REC_DEL_IN:
        rc = buf_printf(b, "DELETE FROM `%s` WHERE `%s`", r, zid);
        if (rc == 0)
            rc = in_list(b, mb->gsize);
        break;
    case S_REC_COUNT_IN:
        rc = buf_printf(b, "SELECT `%s`, COUNT(*) FROM `%s` WHERE `%s`", zid, r, zid);
        if (rc == 0)
            rc = in_list(b, mb->gsize);
        if (rc == 0)
            rc = buf_printf(b, " GROUP BY `%s`", zid);
        break;
    case S_REC_ALL:
        if (cd)
            rc = buf_printf(b,
                            "SELECT `hostname`, `type`, `data`, `ttl`, 0, 0, `online` <> 0 FROM "
                            "`%s` WHERE `zone_id` = ?",
                            r);
        else
            rc = buf_printf(b,
                            "SELECT `name`, `type`, `content`, `ttl`, COALESCE(`prio`, 0), "
                            "COALESCE(`auth`, 1), COALESCE(`disabled`, 0) = 0 FROM `%s` WHERE "
                            "`domain_id` = ?",
                            r);
        break;
    case S_META_DEL:
        if (!cd)
            rc = buf_appends(b, "DELETE FROM `domainmetadata` WHERE `domain_id` = ?");
        break;
    case S_COMMENT_DEL:
        if (!cd)
            rc = buf_appends(b, "DELETE FROM `comments` WHERE `domain_id` = ?");
        break;
    case S_KEY_DEL:
        if (!cd)
            rc = buf_appends(b, "DELETE FROM `cryptokeys` WHERE `domain_id` = ?");
        break;
    case N_STMT:
        break;
    }
    return rc;
}

/* prepare_all - the fixed statements of the backend's format. */
static int prepare_all(struct mysqlbackend *mb, struct err *e)
{
    struct buf sql;
    size_t i;
    int rc = 0;

    buf_init(&sql, SQL_MAX);
    for (i = 0; rc == 0 && i < N_STMT; i++) {
        buf_reset(&sql);
        rc = statement_text(mb, (enum stmt_id)i, &sql);
        if (rc != 0)
            rc = err_set(e, rc, "cannot build a statement: %s", err_str(rc));
        else if (sql.len > 0)
            rc = prepare(mb, &mb->st[i], sql.data, e);
    }
    buf_free(&sql);
    return rc;
}

/* fam_stmt - the statement of family @f for chunk_rows[@k] rows, prepared on first use. */
static enum tx fam_stmt(struct mysqlbackend *mb, enum fam f, size_t k, MYSQL_STMT **out)
{
    const struct backend_conf *bc = mb->bc;
    bool cd = mb->fmt == ROWS_COREDNS;
    const char *row = "", *tail = "";
    struct buf sql;
    struct err e;
    unsigned i;
    int rc = 0;

    if (mb->fam[f][k] != NULL) {
        *out = mb->fam[f][k];
        return TX_OK;
    }
    buf_init(&sql, SQL_MAX);
    switch (f) {
    case F_STATE_ADD:
    case F_STATE_SET:
        rc = buf_printf(&sql,
                        "INSERT INTO `%s` (`zone`, `version`, `serial`, `digest`, `deleted`, "
                        "`updated`, `rows_digest`) VALUES ",
                        bc->state_table);
        if (f == F_STATE_ADD) {
            row = "(?, 0, 0, '', 1, UTC_TIMESTAMP(), '')";
        } else {
            row = "(?, ?, ?, SHA1(?), 0, UTC_TIMESTAMP(), ?)";
            tail = " ON DUPLICATE KEY UPDATE `version` = VALUES(`version`), `serial` = "
                   "VALUES(`serial`), `digest` = VALUES(`digest`), `deleted` = 0, `updated` = "
                   "VALUES(`updated`), `rows_digest` = VALUES(`rows_digest`)";
        }
        break;
    case F_ZONE_ADD:
        if (cd)
            rc = buf_printf(&sql, "INSERT INTO `%s` (`zone_name`, `managed_by`) VALUES ",
                            bc->zones_table);
        else
            rc = buf_printf(&sql, "INSERT INTO `%s` (`name`, `type`, `account`) VALUES ",
                            bc->zones_table);
        row = cd ? "(?, ?)" : "(?, 'NATIVE', ?)";
        break;
    case F_RECORDS:
        if (cd)
            rc = buf_printf(&sql,
                            "INSERT INTO `%s` (`zone_id`, `hostname`, `type`, `data`, `ttl`, "
                            "`online`) VALUES ",
                            bc->records_table);
        else
            rc = buf_printf(&sql,
                            "INSERT INTO `%s` (`domain_id`, `name`, `type`, `content`, `ttl`, "
                            "`prio`, `disabled`, `ordername`, `auth`) VALUES ",
                            bc->records_table);
        row = cd ? "(?, ?, ?, ?, ?, 1)" : "(?, ?, ?, ?, ?, ?, 0, NULL, ?)";
        break;
    case N_FAM:
        break;
    }
    for (i = 0; rc == 0 && i < chunk_rows[k]; i++)
        rc = buf_printf(&sql, "%s%s", i > 0 ? ", " : "", row);
    if (rc == 0)
        rc = buf_appends(&sql, tail);
    if (rc != 0) {
        buf_free(&sql);
        snprintf(mb->db_error, sizeof(mb->db_error), "cannot build an INSERT: %s", err_str(rc));
        return TX_FAIL;
    }
    rc = prepare(mb, &mb->fam[f][k], sql.data, &e);
    buf_free(&sql);
    if (rc != 0) {
        snprintf(mb->db_error, sizeof(mb->db_error), "%.300s", e.text);
        return rc == DADNS_EBACKEND ? TX_LOST : TX_FAIL;
    }
    *out = mb->fam[f][k];
    return TX_OK;
}

/* setup - session settings and the binlog check, on a fresh connection. */
static int setup(struct mysqlbackend *mb, struct err *e)
{
    char sql[160];
    MYSQL_RES *res;
    MYSQL_ROW row;
    int lock_wait = mb->bc->connect_timeout_s * 2;
    int rc = 0;

    if (mysql_query(mb->db, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") != 0)
        goto fail;
    if (mysql_query(mb->db, "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'") !=
        0)
        goto fail;
    snprintf(sql, sizeof(sql), "SET SESSION innodb_lock_wait_timeout = %d", lock_wait);
    if (mysql_query(mb->db, sql) != 0)
        goto fail;
    if (mysql_autocommit(mb->db, 0) != 0)
        goto fail;
    if (mysql_query(mb->db, "SELECT @@log_bin, @@binlog_format") != 0)
        goto fail;
    res = mysql_store_result(mb->db);
    if (res == NULL)
        goto fail;
    row = mysql_fetch_row(res);
    if (row != NULL && row[0] != NULL && row[1] != NULL && strcmp(row[0], "1") == 0 &&
        strcmp(row[1], "STATEMENT") == 0)
        rc = err_set(e, DADNS_ECONFIG,
                     "the server logs binary statements (binlog_format=STATEMENT): READ COMMITTED "
                     "transactions need binlog_format ROW or MIXED");
    mysql_free_result(res);
    if (rc == 0 && mysql_rollback(mb->db) != 0)
        goto fail;
    return rc;
fail:
    return err_set(e, classify(mysql_errno(mb->db)) == TX_LOST ? DADNS_EBACKEND : DADNS_ECONFIG,
                   "setting up the session: %s (%u)", mysql_error(mb->db), mysql_errno(mb->db));
}

/* db_connect - connect and set the session up (the statements are prepare_all's). */
static int db_connect(struct mysqlbackend *mb, struct err *e)
{
    const struct backend_conf *bc = mb->bc;
    unsigned int ct = (unsigned int)bc->connect_timeout_s, rw = ct * 6, zero = 0;
    my_bool no = 0, verify = bc->tls_verify ? 1 : 0;
    const char *host = bc->socket[0] != '\0' ? NULL : bc->host;
    unsigned int err_no;
    int rc;

    mb->db = mysql_init(NULL);
    if (mb->db == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory (mysql_init)");
    mysql_options(mb->db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(mb->db, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(mb->db, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    mysql_options(mb->db, MYSQL_OPT_RECONNECT, &no);
    mysql_options(mb->db, MYSQL_OPT_LOCAL_INFILE, &zero);
    mysql_options(mb->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (bc->tls) {
        mysql_options(mb->db, MYSQL_OPT_SSL_ENFORCE, &true_value);
        mysql_options(mb->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
        if (bc->tls_ca[0] != '\0')
            mysql_options(mb->db, MYSQL_OPT_SSL_CA, bc->tls_ca);
    }
    if (mysql_real_connect(mb->db, host, bc->user, bc->password, bc->database,
                           (unsigned int)bc->port, bc->socket[0] != '\0' ? bc->socket : NULL,
                           0) == NULL) {
        err_no = mysql_errno(mb->db);
        rc =
            err_set(e,
                    (err_no == ER_ACCESS_DENIED_ERROR || err_no == ER_DBACCESS_DENIED_ERROR ||
                     err_no == ER_BAD_DB_ERROR || err_no == ER_ACCESS_DENIED_NO_PASSWORD_ERROR ||
                     err_no == CR_SSL_CONNECTION_ERROR)
                        ? DADNS_ECONFIG
                        : DADNS_EBACKEND,
                    "cannot connect to %s%s%.0d: %s (%u)",
                    bc->socket[0] != '\0' ? bc->socket : bc->host, bc->socket[0] != '\0' ? "" : ":",
                    bc->socket[0] != '\0' ? 0 : bc->port, mysql_error(mb->db), err_no);
        disconnect(mb);
        return rc;
    }
    if (mb->ever_connected)
        mb->stats.reconnects++;
    mb->ever_connected = true;
    rc = setup(mb, e);
    if (rc != 0)
        disconnect(mb);
    return rc;
}

/* db_open - db_connect, then prepare_all (the tables exist by then). */
static int db_open(struct mysqlbackend *mb, struct err *e)
{
    int rc = db_connect(mb, e);

    if (rc == 0)
        rc = prepare_all(mb, e);
    if (rc != 0)
        disconnect(mb);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Rows read back                                                                             */

/* arena_add - copy @len octets of @p into the arena; *@off gets their offset. */
static int arena_add(struct mysqlbackend *mb, const char *p, size_t len, size_t *off)
{
    int rc;

    *off = mb->arena.len;
    rc = buf_append(&mb->arena, p, len);
    if (rc == 0)
        rc = buf_append(&mb->arena, "", 1);
    return rc;
}

static int cmp_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_ll(long long a, long long b)
{
    return (a > b) - (a < b);
}

static int cmp_view(const void *pa, const void *pb)
{
    const struct view *a = pa, *b = pb;
    int c;

    if ((c = cmp_str(a->name, b->name)) != 0 || (c = cmp_str(a->type, b->type)) != 0 ||
        (c = cmp_str(a->content, b->content)) != 0)
        return c;
    if ((c = cmp_ll(a->ttl, b->ttl)) != 0 || (c = cmp_ll(a->prio, b->prio)) != 0 ||
        (c = cmp_ll(a->auth, b->auth)) != 0)
        return c;
    return cmp_ll(a->live, b->live);
}

/* read_rows - the records of zone row @zid into mb->dbrows / mb->arena. *@odd is set when a
 * value did not fit the fetch buffers (then the rows cannot match). */
static enum tx read_rows(struct mysqlbackend *mb, int32_t zid, bool *odd)
{
    MYSQL_STMT *s = mb->st[S_REC_ALL];
    struct out_col c[7];
    MYSQL_BIND p[1], b[7];
    long long ttl = 0, prio = 0, auth = 0, live = 0;
    char *nbuf = mb->fetch, *tbuf = nbuf + FETCH_NAME, *dbuf = tbuf + FETCH_TYPE;
    size_t i;
    enum tx tx;
    int rc;

    *odd = false;
    mb->n_dbrows = 0;
    buf_reset(&mb->arena);
    bind_i32(&p[0], &zid);
    tx = run(mb, s, p, "reading records");
    if (tx != TX_OK)
        return tx;
    out_str(&c[0], nbuf, FETCH_NAME);
    out_str(&c[1], tbuf, FETCH_TYPE);
    out_str(&c[2], dbuf, FETCH_DATA);
    out_i64(&c[3], &ttl);
    out_i64(&c[4], &prio);
    out_i64(&c[5], &auth);
    out_i64(&c[6], &live);
    for (i = 0; i < 7; i++)
        b[i] = c[i].b;
    if (mysql_stmt_bind_result(s, b) != 0)
        return fetch_failed(mb, s, "reading records");
    for (;;) {
        struct dbrow *d;

        rc = mysql_stmt_fetch(s);
        if (rc == MYSQL_NO_DATA)
            break;
        if (rc == 1)
            return fetch_failed(mb, s, "reading records");
        if (rc == MYSQL_DATA_TRUNCATED) {
            *odd = true;
            continue;
        }
        if (mb->n_dbrows == mb->cap_dbrows) {
            size_t cap = mb->cap_dbrows ? mb->cap_dbrows * 2 : 256;
            struct dbrow *nd = realloc(mb->dbrows, cap * sizeof(*nd));

            if (nd == NULL) {
                *odd = true;
                continue;
            }
            mb->dbrows = nd;
            mb->cap_dbrows = cap;
        }
        d = &mb->dbrows[mb->n_dbrows];
        d->name = d->type = d->content = SIZE_MAX;
        if ((!c[0].is_null && arena_add(mb, nbuf, c[0].len, &d->name) != 0) ||
            (!c[1].is_null && arena_add(mb, tbuf, c[1].len, &d->type) != 0) ||
            (!c[2].is_null && arena_add(mb, dbuf, c[2].len, &d->content) != 0)) {
            *odd = true;
            continue;
        }
        d->ttl = c[3].is_null ? -1 : ttl;
        d->prio = prio;
        d->auth = auth;
        d->live = live;
        mb->n_dbrows++;
    }
    mysql_stmt_free_result(s);
    return TX_OK;
}

/* rows_match - do the rows read back equal @rs (as sets, with their TTLs)? */
static bool rows_match(struct mysqlbackend *mb, const struct rowset *rs)
{
    bool pdns = mb->fmt == ROWS_POWERDNS;
    struct view *a, *b;
    size_t i, n = rs->n;

    if (mb->n_dbrows != n)
        return false;
    if (mb->cap_views < 2 * n) {
        struct view *nv = realloc(mb->views, 2 * n * sizeof(*nv));

        if (nv == NULL)
            return false; /* treated as a mismatch: the zone is rewritten */
        mb->views = nv;
        mb->cap_views = 2 * n;
    }
    a = mb->views;
    b = mb->views + n;
    for (i = 0; i < n; i++) {
        const struct dbrow *d = &mb->dbrows[i];
        const struct row *w = &rs->v[i];

        a[i].name = w->name;
        a[i].type = w->type;
        a[i].content = w->content;
        a[i].ttl = w->ttl;
        a[i].prio = pdns ? w->prio : 0;
        a[i].auth = pdns ? (w->auth ? 1 : 0) : 0;
        a[i].live = 1;
        b[i].name = d->name == SIZE_MAX ? NULL : mb->arena.data + d->name;
        b[i].type = d->type == SIZE_MAX ? NULL : mb->arena.data + d->type;
        b[i].content = d->content == SIZE_MAX ? NULL : mb->arena.data + d->content;
        b[i].ttl = d->ttl;
        b[i].prio = d->prio;
        b[i].auth = d->auth;
        b[i].live = d->live;
    }
    qsort(a, n, sizeof(*a), cmp_view);
    qsort(b, n, sizeof(*b), cmp_view);
    for (i = 0; i < n; i++)
        if (cmp_view(&a[i], &b[i]) != 0)
            return false;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Statements over a group                                                                    */

/* run_in - execute fixed statement @id with its IN list bound to the first @m (1..gsize) of
 * mb->in_names (@names) or mb->in_ids; the places after them repeat the last one. */
static enum tx run_in(struct mysqlbackend *mb, enum stmt_id id, size_t m, bool names,
                      const char *what)
{
    size_t i;

    for (i = 0; i < mb->gsize; i++) {
        size_t j = i < m ? i : m - 1;

        if (names) {
            bind_str(&mb->in_bind[i], mb->in_names[j], &mb->in_lens[i]);
        } else {
            mb->in_ids[i] = mb->in_ids[j];
            bind_i32(&mb->in_bind[i], &mb->in_ids[i]);
        }
    }
    return run(mb, mb->st[id], mb->in_bind, what);
}

/* The parameters per row of the families other than F_RECORDS. */
static const unsigned fam_cols[N_FAM] = {1, 5, 2, MAX_COLS};

/* bind_fam_row - the parameters @b of row @j of a chunk of family @f (not F_RECORDS) for zone
 * @z; @l has MAX_COLS lengths for the row. */
static void bind_fam_row(struct mysqlbackend *mb, enum fam f, MYSQL_BIND *b, unsigned long *l,
                         size_t j, struct gzone *z)
{
    struct change *c = z->c;

    switch (f) {
    case F_STATE_ADD:
        bind_str(&b[0], c->zone, &l[0]);
        break;
    case F_STATE_SET:
        mb->versions[j] = c->version;
        mb->serials[j] = c->serial;
        l[3] = (unsigned long)c->text_len;
        bind_str(&b[0], c->zone, &l[0]);
        bind_u64(&b[1], &mb->versions[j]);
        bind_u32(&b[2], &mb->serials[j]);
        bind_blob(&b[3], c->text != NULL ? c->text : "", &l[3]);
        rowhash_rowset(mb->fmt, z->rs, z->rows_digest);
        bind_str(&b[4], z->rows_digest, &l[4]);
        break;
    case F_ZONE_ADD:
        bind_str(&b[0], z->zname, &l[0]);
        bind_str(&b[1], mb->bc->managed_by, &l[1]);
        break;
    case F_RECORDS:
    case N_FAM:
        break;
    }
}

/* run_fam - family @f (not F_RECORDS) for the @m zones g[idx[0..m)], in chunks. */
static enum tx run_fam(struct mysqlbackend *mb, enum fam f, struct gzone *g, const size_t *idx,
                       size_t m, const char *what)
{
    size_t done = 0, k, j;
    MYSQL_STMT *s;
    enum tx tx;

    if (f >= F_RECORDS)
        return TX_FAIL; /* insert_rows' business */
    while (done < m) {
        for (k = 0; chunk_rows[k] > m - done; k++)
            ;
        tx = fam_stmt(mb, f, k, &s);
        if (tx != TX_OK)
            return tx;
        for (j = 0; j < chunk_rows[k]; j++)
            bind_fam_row(mb, f, &mb->bind[j * fam_cols[f]], &mb->lens[j * MAX_COLS], j,
                         &g[idx[done + j]]);
        tx = run(mb, s, mb->bind, what);
        if (tx != TX_OK)
            return tx;
        done += chunk_rows[k];
    }
    return TX_OK;
}

/* insert_rows - the records of the @m zones g[idx[0..m)], in chunks that may span zones. */
static enum tx insert_rows(struct mysqlbackend *mb, struct gzone *g, const size_t *idx, size_t m)
{
    size_t zi = 0, ri = 0, left = 0, i, k, j;
    MYSQL_STMT *s;
    enum tx tx;

    for (i = 0; i < m; i++)
        left += g[idx[i]].rs->n;
    while (left > 0) {
        size_t cz = zi, cr = ri, fit = 0, bytes = 0, size;

        /* how many of the next rows fit in CHUNK_BYTES (one always does) */
        while (fit < MAX_CHUNK && fit < left) {
            const struct row *w;

            while (cr >= g[idx[cz]].rs->n) {
                cz++;
                cr = 0;
            }
            w = &g[idx[cz]].rs->v[cr++];
            bytes += strlen(w->name) + 32;
            bytes += w->type != NULL ? strlen(w->type) : 0;
            bytes += w->content != NULL ? strlen(w->content) : 0;
            if (bytes > CHUNK_BYTES && fit > 0)
                break;
            fit++;
        }
        for (k = 0; chunk_rows[k] > fit; k++)
            ;
        size = chunk_rows[k];
        tx = fam_stmt(mb, F_RECORDS, k, &s);
        if (tx != TX_OK)
            return tx;
        for (j = 0; j < size; j++) {
            MYSQL_BIND *b = &mb->bind[j * mb->ncols];
            unsigned long *l = &mb->lens[j * mb->ncols];
            const struct row *w;

            while (ri >= g[idx[zi]].rs->n) {
                zi++;
                ri = 0;
            }
            w = &g[idx[zi]].rs->v[ri++];
            mb->zids[j] = g[idx[zi]].zid;
            mb->ttls[j] = w->ttl;
            mb->prios[j] = w->prio;
            mb->auths[j] = (signed char)(w->auth ? 1 : 0);
            bind_i32(&b[0], &mb->zids[j]);
            bind_str(&b[1], w->name, &l[1]);
            bind_str(&b[2], w->type, &l[2]);
            bind_str(&b[3], w->content, &l[3]);
            bind_u32(&b[4], &mb->ttls[j]);
            if (mb->ncols == MAX_COLS) {
                bind_i32(&b[5], &mb->prios[j]);
                bind_tiny(&b[6], &mb->auths[j]);
            }
        }
        tx = run(mb, s, mb->bind, "inserting records");
        if (tx != TX_OK)
            return tx;
        mb->stats.rows_written += size;
        left -= size;
    }
    return TX_OK;
}

/* find_zone - the zone among g[idx[0..m)] a row read back belongs to: @name (@len octets)
 * equal to its state name (@zrow false, exact) or its zone-table name (@zrow true, ASCII case
 * ignored, as the tables' collations do). With one zone, that one. NULL when none matches. */
static struct gzone *find_zone(struct gzone *g, const size_t *idx, size_t m, const char *name,
                               unsigned long len, bool zrow)
{
    size_t i;

    if (m == 1)
        return &g[idx[0]];
    if (len >= FETCH_ZONE)
        return NULL;
    for (i = 0; i < m; i++) {
        struct gzone *z = &g[idx[i]];
        const char *want = zrow ? z->zname : z->c->zone;

        if (strlen(want) == len &&
            (zrow ? strncasecmp(want, name, len) == 0 : memcmp(want, name, len) == 0))
            return z;
    }
    return NULL;
}

/* lock_states - lock the state rows of the @k zones of @g (one statement, in zone order) and
 * insert placeholders, locked the same way, for those that have none. READ COMMITTED takes
 * no gap lock on a missing row: two writers may both insert a placeholder; the second waits
 * for the first and gets a duplicate key, and its retry finds the row. */
static enum tx lock_states(struct mysqlbackend *mb, struct gzone *g, size_t k)
{
    MYSQL_STMT *s = mb->st[S_STATE_LOCK];
    struct out_col out[3];
    MYSQL_BIND b[3];
    char zone[FETCH_ZONE];
    long long v = 0, d = 0;
    size_t i, m = 0;
    bool odd = false;
    enum tx tx;
    int rc;

    for (i = 0; i < k; i++) {
        mb->in_names[i] = g[i].c->zone;
        mb->idx[i] = i;
    }
    tx = run_in(mb, S_STATE_LOCK, k, true, "locking the state rows");
    if (tx != TX_OK)
        return tx;
    out_str(&out[0], zone, sizeof(zone));
    out_i64(&out[1], &v);
    out_i64(&out[2], &d);
    for (i = 0; i < 3; i++)
        b[i] = out[i].b;
    if (mysql_stmt_bind_result(s, b) != 0)
        return fetch_failed(mb, s, "locking the state rows");
    while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        struct gzone *z = find_zone(g, mb->idx, k, zone, out[0].len, false);

        if (z == NULL || z->had_state) {
            odd = odd || k > 1;
            continue;
        }
        z->had_state = true;
        z->sv = v;
        z->sdel = d;
    }
    if (rc != MYSQL_NO_DATA)
        return fetch_failed(mb, s, "locking the state rows");
    mysql_stmt_free_result(s);
    if (odd) {
        snprintf(mb->db_error, sizeof(mb->db_error),
                 "locking the state rows: a row matched no zone of the group");
        return TX_SPLIT;
    }
    for (i = 0; i < k; i++) {
        if (!g[i].had_state)
            mb->idx[m++] = i;
    }
    if (m == 0)
        return TX_OK;
    tx = run_fam(mb, F_STATE_ADD, g, mb->idx, m, "locking the state rows");
    if (tx == TX_FAIL && mb->db_errno == ER_DUP_ENTRY)
        tx = TX_RETRY;
    return tx;
}

/* lock_zones - read and lock the zone rows of the @m zones g[idx[0..m)] (one statement):
 * zexists, zid and the owner marker of each. */
static enum tx lock_zones(struct mysqlbackend *mb, struct gzone *g, const size_t *idx, size_t m)
{
    MYSQL_STMT *s = mb->st[S_ZONE_LOCK];
    struct out_col out[3];
    MYSQL_BIND b[3];
    char name[FETCH_ZONE], owner[OWNER_MAX];
    long long id = 0;
    size_t i;
    bool odd = false;
    enum tx tx;
    int rc;

    for (i = 0; i < m; i++)
        mb->in_names[i] = g[idx[i]].zname;
    tx = run_in(mb, S_ZONE_LOCK, m, true, "reading the zone rows");
    if (tx != TX_OK)
        return tx;
    out_i64(&out[0], &id);
    out_str(&out[1], name, sizeof(name));
    out_str(&out[2], owner, sizeof(owner));
    for (i = 0; i < 3; i++)
        b[i] = out[i].b;
    if (mysql_stmt_bind_result(s, b) != 0)
        return fetch_failed(mb, s, "reading the zone rows");
    while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        struct gzone *z = find_zone(g, idx, m, name, out[1].is_null ? 0 : out[1].len, true);

        if (z == NULL || z->zexists) {
            odd = odd || m > 1;
            continue;
        }
        z->zexists = true;
        z->zid = (int32_t)id;
        z->owner_null = out[2].is_null;
        z->owner_n = out[2].is_null ? 0 : out[2].len;
        snprintf(z->owner, sizeof(z->owner), "%.*s",
                 (int)(z->owner_n < sizeof(owner) ? z->owner_n : sizeof(owner) - 1), owner);
    }
    if (rc != MYSQL_NO_DATA)
        return fetch_failed(mb, s, "reading the zone rows");
    mysql_stmt_free_result(s);
    if (odd) {
        snprintf(mb->db_error, sizeof(mb->db_error),
                 "reading the zone rows: a row matched no zone of the group");
        return TX_SPLIT;
    }
    return TX_OK;
}

/* owned - may dadns write zone @z? (its zone row absent, or marked ours: CoreDNS managed_by;
 * PowerDNS: a live state row) */
static bool owned(const struct mysqlbackend *mb, const struct gzone *z)
{
    const char *ours = mb->bc->managed_by;

    if (!z->zexists)
        return true;
    if (mb->fmt == ROWS_COREDNS)
        return !z->owner_null && z->owner_n == strlen(ours) &&
               strncmp(z->owner, ours, z->owner_n) == 0;
    return z->sv > 0 && !z->sdel;
}

/* delete_zone - the statements of a DELETE of @z (its zone row locked, if any). */
static enum tx delete_zone(struct mysqlbackend *mb, struct gzone *z)
{
    MYSQL_BIND p[2];
    unsigned long zlen = 0;
    uint64_t version = z->c->version;
    enum tx tx = TX_OK;

    bind_i32(&p[0], &z->zid);
    if (z->zexists) {
        tx = run(mb, mb->st[S_REC_DEL], p, "deleting records");
        if (tx == TX_OK && mb->st[S_META_DEL] != NULL)
            tx = run(mb, mb->st[S_META_DEL], p, "deleting domainmetadata");
        if (tx == TX_OK && mb->st[S_COMMENT_DEL] != NULL)
            tx = run(mb, mb->st[S_COMMENT_DEL], p, "deleting comments");
        if (tx == TX_OK && mb->st[S_KEY_DEL] != NULL)
            tx = run(mb, mb->st[S_KEY_DEL], p, "deleting cryptokeys");
        if (tx == TX_OK)
            tx = run(mb, mb->st[S_ZONE_DEL], p, "deleting the zone row");
        if (tx != TX_OK)
            return tx;
    }
    bind_u64(&p[0], &version);
    bind_str(&p[1], z->c->zone, &zlen);
    tx = run(mb, mb->st[S_STATE_DEL], p, "updating the state row");
    if (tx == TX_OK)
        z->action = A_DELETED;
    return tx;
}

/* write_saves - the SAVEs (and repairing VERIFYs) of the group, those with no action yet:
 * drop the records of the existing zones, add the missing zone rows, insert every zone's
 * rows, update the state rows. *@wrote is set when there was one. */
static enum tx write_saves(struct mysqlbackend *mb, struct gzone *g, size_t k, bool *wrote)
{
    size_t *idx = mb->idx, i, m = 0, ne = 0, nn;
    enum tx tx;

    for (i = 0; i < k; i++) {
        if (g[i].action != A_NONE || g[i].c->op == CHANGE_DELETE)
            continue;
        if (g[i].zexists)
            mb->in_ids[ne++] = g[i].zid;
    }
    if (ne > 0) {
        tx = run_in(mb, S_REC_DEL_IN, ne, false, "deleting records");
        if (tx != TX_OK)
            return tx;
    }
    /* the new zones first in idx, then the others */
    for (i = 0; i < k; i++) {
        if (g[i].action == A_NONE && g[i].c->op != CHANGE_DELETE && !g[i].zexists)
            idx[m++] = i;
    }
    nn = m;
    if (nn > 0) {
        tx = run_fam(mb, F_ZONE_ADD, g, idx, nn, "inserting the zone rows");
        if (tx != TX_OK)
            return tx;
        if (nn == 1) {
            g[idx[0]].zid = (int32_t)mysql_stmt_insert_id(mb->fam[F_ZONE_ADD][N_CHUNKS - 1]);
            g[idx[0]].zexists = true;
        } else {
            tx = lock_zones(mb, g, idx, nn);
            if (tx != TX_OK)
                return tx;
        }
        for (i = 0; i < nn; i++) {
            if (!g[idx[i]].zexists) {
                snprintf(mb->db_error, sizeof(mb->db_error),
                         "inserting the zone rows: the row of %s cannot be read back",
                         g[idx[i]].zname);
                return TX_FAIL;
            }
            g[idx[i]].created = true;
        }
    }
    for (i = 0; i < k; i++) {
        if (g[i].action == A_NONE && g[i].c->op != CHANGE_DELETE && !g[i].created)
            idx[m++] = i;
    }
    if (m == 0)
        return TX_OK;
    tx = insert_rows(mb, g, idx, m);
    if (tx == TX_OK)
        tx = run_fam(mb, F_STATE_SET, g, idx, m, "updating the state rows");
    if (tx != TX_OK)
        return tx;
    for (i = 0; i < m; i++)
        g[idx[i]].action = A_WRITTEN;
    *wrote = true;
    return TX_OK;
}

/* group_txn - one attempt at the transaction of the @k zones of @g (sorted by zone name,
 * rows built for SAVE/VERIFY). On TX_OK it is committed, or rolled back when it wrote nothing,
 * and each zone's action says what happened; on any other result it may still be open (the
 * caller rolls back). TX_SPLIT (only when @k > 1): a zone is not managed by dadns, or a row
 * read back matched no zone; its zones are to be redone one by one. */
static enum tx group_txn(struct mysqlbackend *mb, struct gzone *g, size_t k)
{
    size_t *work = mb->idx + mb->gsize, i, m = 0; /* the zones with something to do */
    bool wrote = false, odd = false;
    enum tx tx;

    for (i = 0; i < k; i++) {
        struct gzone *z = &g[i];

        snprintf(z->zname, sizeof(z->zname), "%s%s", z->c->zone,
                 mb->fmt == ROWS_COREDNS ? "." : "");
        z->had_state = z->zexists = z->owner_null = z->created = z->repaired = false;
        z->sv = 0;
        z->sdel = 1;
        z->zid = 0;
        z->owner_n = 0;
        z->owner[0] = '\0';
        z->count = 0;
        z->action = A_NONE;
    }

    /* 1. the per-zone locks (state rows, placeholders where missing), in zone order */
    tx = lock_states(mb, g, k);
    if (tx != TX_OK)
        return tx;

    /* 2. nothing to do for a version the database already has (a forced change redoes the
     *    version it has, never an older one) */
    for (i = 0; i < k; i++) {
        struct gzone *z = &g[i];
        const struct change *c = z->c;
        uint64_t sv = (uint64_t)z->sv;
        bool same = sv == c->version && !c->force;

        if ((c->op == CHANGE_SAVE && (sv > c->version || same)) ||
            (c->op == CHANGE_DELETE && (sv > c->version || (same && z->sdel))) ||
            (c->op == CHANGE_VERIFY && sv > c->version))
            z->action = A_SKIPPED;
        else
            work[m++] = i;
    }

    /* 3. the zone rows, and whose they are */
    if (m > 0) {
        tx = lock_zones(mb, g, work, m);
        if (tx != TX_OK)
            return tx;
    }
    for (i = 0; i < m; i++) {
        struct gzone *z = &g[work[i]];

        if (z->c->op == CHANGE_DELETE && z->sdel && (uint64_t)z->sv == z->c->version &&
            !z->zexists) {
            z->action = A_SKIPPED; /* forced, and already deleted with nothing left behind */
            continue;
        }
        if (owned(mb, z))
            continue;
        if (k == 1 || (z->c->op == CHANGE_DELETE && z->had_state)) {
            /* alone: rolled back below; in a group: nothing of it written */
            z->action = z->c->op == CHANGE_DELETE ? A_NOT_OURS : A_REFUSED;
            continue;
        }
        snprintf(mb->db_error, sizeof(mb->db_error), "zone %s is not managed by dadns", z->c->zone);
        return TX_SPLIT;
    }

    /* VERIFY of the version the database has: compare */
    for (i = 0; i < m; i++) {
        struct gzone *z = &g[work[i]];

        if (z->action != A_NONE || z->c->op != CHANGE_VERIFY)
            continue;
        if ((uint64_t)z->sv == z->c->version && !z->sdel && z->zexists) {
            tx = read_rows(mb, z->zid, &odd);
            if (tx != TX_OK)
                return tx;
            if (!odd && rows_match(mb, z->rs)) {
                z->action = A_VERIFIED;
                continue;
            }
        }
        z->repaired = true;
    }

    /* 4. the changes */
    for (i = 0; i < m; i++) {
        struct gzone *z = &g[work[i]];

        if (z->action != A_NONE || z->c->op != CHANGE_DELETE)
            continue;
        tx = delete_zone(mb, z);
        if (tx != TX_OK)
            return tx;
        wrote = true;
    }
    tx = write_saves(mb, g, k, &wrote);
    if (tx != TX_OK)
        return tx;

    /* 5. commit */
    if (!wrote) {
        if (mysql_rollback(mb->db) != 0)
            return db_failed(mb, "rolling back");
        return TX_OK;
    }
    if (mysql_commit(mb->db) != 0)
        return db_failed(mb, "committing");
    return TX_OK;
}

/* count_check - after a commit: does every zone written have as many records as its rowset? */
static enum tx count_check(struct mysqlbackend *mb, struct gzone *g, size_t k)
{
    MYSQL_STMT *s = mb->st[S_REC_COUNT_IN];
    struct out_col out[2];
    MYSQL_BIND b[2];
    long long id = 0, count = 0;
    size_t i, m = 0;
    char what[160];
    enum tx tx;
    int rc;

    for (i = 0; i < k; i++) {
        if (g[i].action == A_WRITTEN)
            mb->in_ids[m++] = g[i].zid;
    }
    if (m == 0)
        return TX_OK;
    tx = run_in(mb, S_REC_COUNT_IN, m, false, "counting records");
    if (tx != TX_OK)
        return tx; /* the read-only transaction is ended by the next group, or the batch */
    out_i64(&out[0], &id);
    out_i64(&out[1], &count);
    b[0] = out[0].b;
    b[1] = out[1].b;
    if (mysql_stmt_bind_result(s, b) != 0)
        return fetch_failed(mb, s, "counting records");
    while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        for (i = 0; i < k; i++) {
            if (g[i].action == A_WRITTEN && g[i].zid == (int32_t)id)
                g[i].count = count;
        }
    }
    if (rc != MYSQL_NO_DATA)
        return fetch_failed(mb, s, "counting records");
    mysql_stmt_free_result(s);
    for (i = 0; i < k; i++) {
        const struct gzone *z = &g[i];

        if (z->action != A_WRITTEN || (z->count >= 0 && (size_t)z->count == z->rs->n))
            continue;
        mb->stats.count_mismatch++;
        snprintf(what, sizeof(what),
                 "record count after commit is %lld, expected %zu (another writer, or a trigger, "
                 "changed the zone)",
                 z->count, z->rs->n);
        say_warn(mb, z->c->zone, what);
    }
    return TX_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Groups                                                                                     */

/* on_hook_failed - a post_commit / post_create command failed: a warning. */
static void on_hook_failed(void *arg, const char *zone, const struct err *e)
{
    struct mysqlbackend *mb = arg;
    char what[600];

    mb->stats.hook_failures++;
    snprintf(what, sizeof(what), "%s failed: %s", zone != NULL ? "post_commit" : "post_create",
             e->text);
    say_warn(mb, zone, what);
}

/* fail_change - set @c's result to @code and its reason to @prefix @text (cut to fit). */
static void fail_change(struct change *c, int code, const char *prefix, const char *text)
{
    c->result = code;
    snprintf(c->reason, sizeof(c->reason), "%.60s%.190s", prefix, text);
}

/* refuse - the result of a SAVE/VERIFY of zone @z, which dadns does not manage. */
static void refuse(struct mysqlbackend *mb, const struct gzone *z)
{
    const struct backend_conf *bc = mb->bc;
    struct change *c = z->c;
    char owner[64];

    mb->stats.refused++;
    c->result = DADNS_EDENIED;
    c->permanent = 1; /* retrying cannot help until an operator acts: a dead letter */
    if (mb->fmt == ROWS_COREDNS) {
        if (z->owner_null)
            snprintf(owner, sizeof(owner), "NULL");
        else
            snprintf(owner, sizeof(owner), "\"%.60s\"", z->owner);
        snprintf(c->reason, sizeof(c->reason),
                 "zone exists and is not managed by dadns (%.64s.managed_by %.62s, managed_by "
                 "%.40s)",
                 bc->zones_table, owner, bc->managed_by);
    } else {
        snprintf(c->reason, sizeof(c->reason),
                 "zone exists and is not managed by dadns (it is in the PowerDNS table %.64s "
                 "but %s in %.64s)",
                 bc->zones_table, z->had_state ? "marked deleted" : "has no row", bc->state_table);
    }
}

/* finish_group - the results of the committed (or rolled back) group @g of @k zones, the
 * record counts, the zones for post_commit. */
static void finish_group(struct mysqlbackend *mb, struct gzone *g, size_t k, bool *created,
                         bool *lost)
{
    bool wrote = false;
    size_t i;

    for (i = 0; i < k; i++) {
        struct gzone *z = &g[i];

        z->c->repaired = z->repaired ? 1 : 0;
        switch (z->action) {
        case A_REFUSED:
            refuse(mb, z);
            continue;
        case A_SKIPPED:
        case A_NOT_OURS:
            mb->stats.skipped++;
            continue;
        case A_NONE:
        case A_VERIFIED:
            continue;
        case A_WRITTEN:
        case A_DELETED:
            break;
        }
        wrote = true;
        mb->stats.committed++;
        if (z->created)
            *created = true;
        if (mb->n_hook_zones < mb->cap_hook_zones)
            mb->hook_zones[mb->n_hook_zones++] = z->c->zone;
    }
    if (!wrote)
        return;
    mb->stats.transactions++;
    if (count_check(mb, g, k) == TX_LOST)
        *lost = true; /* the changes themselves are committed */
}

/* try_group - group_txn with its retries; *@attempts gets how many were made. A group of more
 * than one zone is not retried after a lock wait timeout: its zones wait one by one. */
static enum tx try_group(struct mysqlbackend *mb, struct gzone *g, size_t k, int *attempts)
{
    enum tx tx;
    int attempt;

    for (attempt = 0;; attempt++) {
        tx = group_txn(mb, g, k);
        if (tx == TX_OK)
            break;
        if (tx != TX_LOST && mysql_rollback(mb->db) != 0 &&
            classify(mysql_errno(mb->db)) == TX_LOST)
            tx = TX_LOST;
        if (tx != TX_RETRY || attempt >= mb->bc->txn_retries)
            break;
        if (k > 1 && mb->db_errno == ER_LOCK_WAIT_TIMEOUT)
            break;
        mb->stats.retries++;
        usleep((useconds_t)(RETRY_MS * 1000 * (attempt + 1)));
    }
    *attempts = attempt + 1;
    return tx;
}

/* run_group - the @k zones of @g in one transaction with its retries; when a group of more
 * than one zone cannot be committed (a zone not managed by dadns, a statement the server
 * refused, retries used up), each of its zones alone. *@lost set when the connection died. */
static void run_group(struct mysqlbackend *mb, struct gzone *g, size_t k, bool *created, bool *lost)
{
    int attempts = 0;
    size_t i;
    enum tx tx = try_group(mb, g, k, &attempts);

    switch (tx) {
    case TX_OK:
        finish_group(mb, g, k, created, lost);
        return;
    case TX_LOST:
        *lost = true;
        for (i = 0; i < k; i++)
            fail_change(g[i].c, DADNS_EBACKEND, "database connection lost: ", mb->db_error);
        return;
    case TX_RETRY:
    case TX_FAIL:
    case TX_SPLIT:
        break;
    }
    if (k > 1) {
        mb->stats.splits++;
        for (i = 0; i < k; i++) {
            if (*lost)
                fail_change(g[i].c, DADNS_EBACKEND, "",
                            "not attempted: the database connection was lost earlier in the "
                            "batch");
            else
                run_group(mb, &g[i], 1, created, lost);
        }
        return;
    }
    if (tx == TX_RETRY) {
        g->c->result = DADNS_EBACKEND;
        snprintf(g->c->reason, sizeof(g->c->reason), "gave up after %d attempts: %.200s", attempts,
                 mb->db_error);
    } else {
        fail_change(g->c, DADNS_EBACKEND, "", mb->db_error);
    }
}

static int cmp_gzone(const void *pa, const void *pb)
{
    const struct gzone *a = pa, *b = pb;

    return strcmp(a->c->zone, b->c->zone);
}

/* next_group - the next group from @changes[*@i..@n): up to gsize changes still without a
 * result, their rows built (a zone whose text cannot be converted fails alone, here), fewer
 * once GROUP_ROWS rows are in, sorted by zone name; *@i moves past them. Returns its size. */
static size_t next_group(struct mysqlbackend *mb, struct change *changes, size_t n, size_t *i)
{
    size_t k = 0, rows = 0;
    struct err e;
    int rc;

    while (*i < n && k < mb->gsize && rows < GROUP_ROWS) {
        struct change *c = &changes[(*i)++];
        struct gzone *z = &mb->g[k];

        if (c->result != 0)
            continue;
        memset(z, 0, sizeof(*z));
        z->c = c;
        if (c->op == CHANGE_SAVE || c->op == CHANGE_VERIFY) {
            err_clear(&e);
            rc = rows_build(mb->rb, mb->fmt, c->zone, c->text != NULL ? c->text : "", c->text_len,
                            &mb->rss[k], &e);
            if (rc != 0) {
                fail_change(c, rc, "", e.text);
                /* the text itself cannot be stored (e.g. a value over a column's limit) */
                c->permanent = rc == DADNS_EZONE || rc == DADNS_EINVAL;
                continue;
            }
            z->rs = &mb->rss[k];
            rows += z->rs->n;
        } else {
            rows++;
        }
        k++;
    }
    if (k > 1)
        qsort(mb->g, k, sizeof(*mb->g), cmp_gzone);
    return k;
}

/* ------------------------------------------------------------------------------------------ */
/* Public                                                                                     */

int mysqlbackend_open(const struct backend_conf *bc, bool init_schema, char *created, size_t size,
                      struct mysqlbackend **out, struct err *e)
{
    struct mysqlbackend *mb;
    size_t gs;
    int rc;

    *out = NULL;
    if (created != NULL && size > 0)
        created[0] = '\0';
    if (bc->type != BACKEND_COREDNS_MYSQL && bc->type != BACKEND_POWERDNS_MYSQL)
        return err_set(e, DADNS_ECONFIG,
                       "backend %s is not of type coredns_mysql or "
                       "powerdns_mysql",
                       bc->name);
    mb = calloc(1, sizeof(*mb));
    if (mb == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    mb->bc = bc;
    mb->fmt = bc->type == BACKEND_COREDNS_MYSQL ? ROWS_COREDNS : ROWS_POWERDNS;
    mb->ncols = mb->fmt == ROWS_COREDNS ? 5 : MAX_COLS;
    mb->gsize = gs = bc->group_size > 0 ? (size_t)bc->group_size : 1;
    buf_init(&mb->arena, ARENA_MAX);
    mb->rss = calloc(gs, sizeof(*mb->rss));
    mb->g = calloc(gs, sizeof(*mb->g));
    mb->idx = calloc(2 * gs, sizeof(*mb->idx));
    mb->in_names = calloc(gs, sizeof(*mb->in_names));
    mb->in_ids = calloc(gs, sizeof(*mb->in_ids));
    mb->in_bind = calloc(gs, sizeof(*mb->in_bind));
    mb->in_lens = calloc(gs, sizeof(*mb->in_lens));
    mb->bind = calloc((size_t)MAX_CHUNK * MAX_COLS, sizeof(*mb->bind));
    mb->lens = calloc((size_t)MAX_CHUNK * MAX_COLS, sizeof(*mb->lens));
    mb->zids = calloc(MAX_CHUNK, sizeof(*mb->zids));
    mb->ttls = calloc(MAX_CHUNK, sizeof(*mb->ttls));
    mb->prios = calloc(MAX_CHUNK, sizeof(*mb->prios));
    mb->auths = calloc(MAX_CHUNK, sizeof(*mb->auths));
    mb->versions = calloc(MAX_CHUNK, sizeof(*mb->versions));
    mb->serials = calloc(MAX_CHUNK, sizeof(*mb->serials));
    mb->fetch = malloc(FETCH_NAME + FETCH_TYPE + FETCH_DATA);
    if (mb->rss == NULL || mb->g == NULL || mb->idx == NULL || mb->in_names == NULL ||
        mb->in_ids == NULL || mb->in_bind == NULL || mb->in_lens == NULL || mb->bind == NULL ||
        mb->lens == NULL || mb->zids == NULL || mb->ttls == NULL || mb->prios == NULL ||
        mb->auths == NULL || mb->versions == NULL || mb->serials == NULL || mb->fetch == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    rc = rows_builder_new(&mb->rb);
    if (rc != 0) {
        rc = err_set(e, rc, "out of memory (rows builder)");
        goto out;
    }
    rc = db_connect(mb, e);
    if (rc != 0)
        goto out;
    rc = schema_ensure(mb->db, bc, init_schema || bc->init_schema, created, size, e);
    if (rc == 0)
        rc = prepare_all(mb, e);
    if (rc != 0)
        goto out;
    *out = mb;
    mb = NULL;
out:
    mysqlbackend_free(mb);
    return rc;
}

void mysqlbackend_set_warn(struct mysqlbackend *mb, mysqlbackend_warn_fn fn, void *arg)
{
    mb->warn = fn;
    mb->warn_arg = arg;
}

int mysqlbackend_apply(void *ctx, struct change *changes, size_t n)
{
    struct mysqlbackend *mb = ctx;
    bool created = false, lost = false;
    struct err e;
    size_t i, k;
    int rc;

    if (n == 0)
        return 0;
    if (mb->bc->post_commit[0] != '\0' && mb->cap_hook_zones < n) {
        const char **nz = realloc(mb->hook_zones, n * sizeof(*nz));

        if (nz == NULL)
            return DADNS_ENOMEM;
        mb->hook_zones = nz;
        mb->cap_hook_zones = n;
    }
    mb->n_hook_zones = 0;
    if (mb->db != NULL && mysql_ping(mb->db) != 0)
        disconnect(mb); /* idle too long, or the server restarted */
    if (mb->db == NULL) {
        err_clear(&e);
        rc = db_open(mb, &e);
        if (rc != 0) {
            for (i = 0; i < n; i++) {
                if (changes[i].result != 0)
                    continue;
                fail_change(&changes[i], DADNS_EBACKEND, "database unavailable: ", e.text);
            }
            return DADNS_EBACKEND;
        }
    }
    i = 0;
    while (i < n && !lost) {
        k = next_group(mb, changes, n, &i);
        if (k > 0)
            run_group(mb, mb->g, k, &created, &lost);
    }
    if (lost) {
        disconnect(mb);
        for (; i < n; i++) {
            if (changes[i].result == 0)
                fail_change(&changes[i], DADNS_EBACKEND, "",
                            "not attempted: the database connection was lost earlier in the "
                            "batch");
        }
    }
    /* end the read-only transaction of the last count (no lock may outlive the batch) */
    if (mb->db != NULL && mysql_rollback(mb->db) != 0)
        disconnect(mb);
    if (mb->n_hook_zones > 0)
        hook_run_many(mb->bc->post_commit, mb->hook_zones, mb->n_hook_zones,
                      MYSQLBACKEND_HOOK_PARALLEL, MYSQLBACKEND_HOOK_TIMEOUT_MS, on_hook_failed, mb);
    if (created && mb->bc->post_create[0] != '\0') {
        err_clear(&e);
        if (hook_run(mb->bc->post_create, NULL, MYSQLBACKEND_HOOK_TIMEOUT_MS, &e) != 0)
            on_hook_failed(mb, NULL, &e);
    }
    for (i = 0; i < mb->gsize; i++) {
        if (mb->rss[i].cap > ROWSET_KEEP)
            rowset_free(&mb->rss[i]);
    }
    return 0;
}

int mysqlbackend_probe(void *ctx, char *reason, size_t size)
{
    struct mysqlbackend *mb = ctx;
    struct err e;
    int rc;

    if (mb->db != NULL && mysql_ping(mb->db) != 0)
        disconnect(mb); /* idle too long, or the server restarted */
    if (mb->db == NULL) {
        err_clear(&e);
        rc = db_open(mb, &e);
        if (rc != 0) {
            snprintf(reason, size, "%s", e.text);
            return rc;
        }
    }
    return 0;
}

const struct mysqlbackend_stats *mysqlbackend_stats(const struct mysqlbackend *mb)
{
    return &mb->stats;
}

const struct backend_conf *mysqlbackend_conf(const struct mysqlbackend *mb)
{
    return mb->bc;
}

int mysqlbackend_connection(struct mysqlbackend *mb, MYSQL **db, struct err *e)
{
    int rc;

    *db = NULL;
    if (mb->db != NULL && mysql_ping(mb->db) != 0)
        disconnect(mb); /* idle too long, or the server restarted */
    if (mb->db == NULL) {
        rc = db_open(mb, e);
        if (rc != 0)
            return rc;
    }
    *db = mb->db;
    return 0;
}

void mysqlbackend_free(struct mysqlbackend *mb)
{
    size_t i;

    if (mb == NULL)
        return;
    disconnect(mb);
    rows_builder_free(mb->rb);
    for (i = 0; mb->rss != NULL && i < mb->gsize; i++)
        rowset_free(&mb->rss[i]);
    free(mb->rss);
    free(mb->g);
    free(mb->idx);
    free(mb->in_names);
    free(mb->in_ids);
    free(mb->in_bind);
    free(mb->in_lens);
    buf_free(&mb->arena);
    free(mb->bind);
    free(mb->lens);
    free(mb->zids);
    free(mb->ttls);
    free(mb->prios);
    free(mb->auths);
    free(mb->versions);
    free(mb->serials);
    free(mb->fetch);
    free(mb->dbrows);
    free(mb->views);
    free(mb->hook_zones);
    free(mb);
}
