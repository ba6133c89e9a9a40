/* mysqlbackend.c -- one transaction per zone against a CoreDNS or PowerDNS MySQL database (see
 * mysqlbackend.h for the algorithm).
 *
 * Owns the MYSQL connection and its prepared statements. No SQL is ever built from data: the
 * statement texts hold only the configured table names (identifiers checked by config.c) and
 * placeholders; zone names, rows and versions travel as bound parameters. The rows of a zone
 * go in with multi-row INSERTs prepared once per connection for 128, 64, ..., 2 and 1 rows (a
 * zone of n < 256 rows takes popcount(n) of them: 4 for a typical DA zone of 23 rows), and no
 * statement grows beyond CHUNK_BYTES.
 *
 * Round trips of a SAVE of an existing zone: state row, zone row, delete records, the INSERTs,
 * state update, COMMIT, count: 6 + popcount(n). The count's read-only transaction is left open
 * for the next zone's statements and ended by one ROLLBACK at the end of the batch, so no
 * metadata lock outlives a batch. */
#include "mysqlbackend.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "hook.h"
#include "rows.h"
#include "schema.h"

#define MAX_COLS    7                   /* parameters per inserted row (PowerDNS) */
#define CHUNK_BYTES ((size_t)1 << 20)   /* most octets of row data in one INSERT */
#define FETCH_NAME  2048                /* buffers for reading rows back (VERIFY) */
#define FETCH_TYPE  64                  /* ditto */
#define FETCH_DATA  65536               /* ditto: PowerDNS content is VARCHAR(64000) */
#define ARENA_MAX   ((size_t)256 << 20) /* most octets of one zone's rows read back */
#define SQL_MAX     ((size_t)64 << 10)  /* most octets of one statement's text */
#define OWNER_MAX   128                 /* managed_by / account read back */
#define RETRY_MS    20                  /* pause before retrying a transaction, x attempt */
#define N_CHUNKS    8                   /* multi-row INSERT sizes, largest first */
static const unsigned chunk_rows[N_CHUNKS] = {128, 64, 32, 16, 8, 4, 2, 1};
#define MAX_CHUNK 128

/* The fixed statements of one connection. */
enum stmt_id {
    S_STATE_GET,   /* the state row, locked: the per-zone lock every writer takes first */
    S_STATE_ADD,   /* a placeholder state row when there is none (locked the same way) */
    S_STATE_SET,   /* after a save */
    S_STATE_DEL,   /* after a delete */
    S_ZONE_GET,    /* id and owner marker of the zone row, locked */
    S_ZONE_ADD,    /* new zone row */
    S_ZONE_DEL,    /* drop the zone row */
    S_REC_DEL,     /* drop the zone's records */
    S_REC_COUNT,   /* count them */
    S_REC_ALL,     /* read them back (VERIFY) */
    S_META_DEL,    /* PowerDNS: domainmetadata of the zone */
    S_COMMENT_DEL, /* PowerDNS: comments */
    S_KEY_DEL,     /* PowerDNS: cryptokeys */
    N_STMT,
};

/* What one statement or transaction came to. */
enum tx {
    TX_OK = 0,
    TX_RETRY, /* deadlock or lock wait timeout: run the transaction again */
    TX_LOST,  /* the connection is gone: the outcome of an open transaction is unknown */
    TX_FAIL,  /* the server refused a statement: this zone fails, the others go on */
};

/* What a transaction did, when it returned TX_OK. */
enum action {
    A_SKIPPED = 1, /* the database already has this version or a newer one */
    A_VERIFIED,    /* VERIFY: the rows are there as they should be */
    A_WRITTEN,     /* SAVE (or a repairing VERIFY) committed */
    A_DELETED,     /* DELETE committed */
    A_NOT_OURS,    /* DELETE of a zone dadns does not manage: left alone */
    A_REFUSED,     /* SAVE/VERIFY of a zone dadns does not manage */
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

struct mysqlbackend {
    const struct backend_conf *bc;   /* borrowed settings */
    enum rows_format fmt;            /* ROWS_COREDNS or ROWS_POWERDNS */
    MYSQL *db;                       /* the connection, NULL when there is none */
    bool ever_connected;             /* for the reconnects counter */
    MYSQL_STMT *st[N_STMT];          /* fixed statements (PowerDNS-only ones NULL for CoreDNS) */
    MYSQL_STMT *ins[N_CHUNKS];       /* multi-row INSERTs, prepared on first use */
    unsigned ncols;                  /* parameters per inserted row: 5 (CoreDNS) or 7 */
    struct rows_builder *rb;         /* zone text -> rows */
    struct rowset rs;                /* rows of the zone in progress */
    MYSQL_BIND *bind;                /* MAX_CHUNK * MAX_COLS parameters of one INSERT */
    unsigned long *lens;             /* their lengths */
    uint32_t *ttls;                  /* per row of a chunk */
    int32_t *prios;                  /* ditto */
    signed char *auths;              /* ditto */
    char *fetch;                     /* FETCH_NAME + FETCH_TYPE + FETCH_DATA octets */
    struct buf arena;                /* strings of rows read back */
    struct dbrow *dbrows;            /* rows read back */
    size_t n_dbrows;                 /* how many */
    size_t cap_dbrows;               /* allocated */
    struct view *views;              /* both sides of a comparison */
    size_t cap_views;                /* allocated */
    unsigned int db_errno;           /* last database error */
    char db_error[384];              /* its text, with what was being done */
    struct mysqlbackend_stats stats; /* counters since open */
    mysqlbackend_warn_fn warn;       /* warnings go here (NULL: dropped) */
    void *warn_arg;                  /* its first argument */
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

/* fetch_one - after run: read the first row of @s's result into the @n columns of @cols
 * (*@found says whether there was one) and discard the rest. */
static enum tx fetch_one(struct mysqlbackend *mb, MYSQL_STMT *s, struct out_col *cols, size_t n,
                         bool *found, const char *what)
{
    MYSQL_BIND b[4];
    size_t i;
    int rc;

    *found = false;
    for (i = 0; i < n && i < 4; i++)
        b[i] = cols[i].b;
    if (mysql_stmt_bind_result(s, b) != 0)
        return stmt_failed(mb, s, what);
    rc = mysql_stmt_fetch(s);
    if (rc == 0 || rc == MYSQL_DATA_TRUNCATED)
        *found = true;
    else if (rc != MYSQL_NO_DATA)
        return stmt_failed(mb, s, what);
    while (rc == 0 || rc == MYSQL_DATA_TRUNCATED)
        rc = mysql_stmt_fetch(s);
    if (rc != MYSQL_NO_DATA)
        return stmt_failed(mb, s, what);
    mysql_stmt_free_result(s);
    return TX_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection                                                                                 */

static void disconnect(struct mysqlbackend *mb)
{
    size_t i;

    for (i = 0; i < N_STMT; i++) {
        if (mb->st[i] != NULL)
            mysql_stmt_close(mb->st[i]);
        mb->st[i] = NULL;
    }
    for (i = 0; i < N_CHUNKS; i++) {
        if (mb->ins[i] != NULL)
            mysql_stmt_close(mb->ins[i]);
        mb->ins[i] = NULL;
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

/* prepare_all - the fixed statements of the backend's format. */
static int prepare_all(struct mysqlbackend *mb, struct err *e)
{
    const struct backend_conf *bc = mb->bc;
    const char *z = bc->zones_table, *r = bc->records_table, *st = bc->state_table;
    bool cd = mb->fmt == ROWS_COREDNS;
    const char *zid = cd ? "zone_id" : "domain_id";
    char sql[N_STMT][512];
    size_t i;
    int rc;

    memset(sql, 0, sizeof(sql));
    snprintf(sql[S_STATE_ADD], sizeof(sql[0]),
             "INSERT INTO `%s` (`zone`, `version`, `serial`, `digest`, `deleted`, `updated`) "
             "VALUES (?, 0, 0, '', 1, UTC_TIMESTAMP())",
             st);
    snprintf(sql[S_STATE_GET], sizeof(sql[0]),
             "SELECT `version`, `deleted` FROM `%s` WHERE `zone` = ? FOR UPDATE", st);
    snprintf(sql[S_STATE_SET], sizeof(sql[0]),
             "UPDATE `%s` SET `version` = ?, `serial` = ?, `digest` = SHA1(?), `deleted` = 0, "
             "`updated` = UTC_TIMESTAMP() WHERE `zone` = ?",
             st);
    snprintf(sql[S_STATE_DEL], sizeof(sql[0]),
             "UPDATE `%s` SET `version` = ?, `serial` = 0, `digest` = '', `deleted` = 1, "
             "`updated` = UTC_TIMESTAMP() WHERE `zone` = ?",
             st);
    if (cd) {
        snprintf(sql[S_ZONE_GET], sizeof(sql[0]),
                 "SELECT `id`, `managed_by` FROM `%s` WHERE `zone_name` = ? FOR UPDATE", z);
        snprintf(sql[S_ZONE_ADD], sizeof(sql[0]),
                 "INSERT INTO `%s` (`zone_name`, `managed_by`) VALUES (?, ?)", z);
        snprintf(sql[S_REC_ALL], sizeof(sql[0]),
                 "SELECT `hostname`, `type`, `data`, `ttl`, 0, 0, `online` <> 0 FROM `%s` "
                 "WHERE `zone_id` = ?",
                 r);
    } else {
        snprintf(sql[S_ZONE_GET], sizeof(sql[0]),
                 "SELECT `id`, `account` FROM `%s` WHERE `name` = ? FOR UPDATE", z);
        snprintf(sql[S_ZONE_ADD], sizeof(sql[0]),
                 "INSERT INTO `%s` (`name`, `type`, `account`) VALUES (?, 'NATIVE', ?)", z);
        snprintf(sql[S_REC_ALL], sizeof(sql[0]),
                 "SELECT `name`, `type`, `content`, `ttl`, COALESCE(`prio`, 0), "
                 "COALESCE(`auth`, 1), COALESCE(`disabled`, 0) = 0 FROM `%s` WHERE "
                 "`domain_id` = ?",
                 r);
        snprintf(sql[S_META_DEL], sizeof(sql[0]),
                 "DELETE FROM `domainmetadata` WHERE `domain_id` = ?");
        snprintf(sql[S_COMMENT_DEL], sizeof(sql[0]),
                 "DELETE FROM `comments` WHERE `domain_id` = ?");
        snprintf(sql[S_KEY_DEL], sizeof(sql[0]), "DELETE FROM `cryptokeys` WHERE `domain_id` = ?");
    }
    snprintf(sql[S_ZONE_DEL], sizeof(sql[0]), "DELETE FROM `%s` WHERE `id` = ?", z);
    snprintf(sql[S_REC_DEL], sizeof(sql[0]), "DELETE FROM `%s` WHERE `%s` = ?", r, zid);
    snprintf(sql[S_REC_COUNT], sizeof(sql[0]), "SELECT COUNT(*) FROM `%s` WHERE `%s` = ?", r, zid);
    for (i = 0; i < N_STMT; i++) {
        if (sql[i][0] == '\0')
            continue;
        rc = prepare(mb, &mb->st[i], sql[i], e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* insert_stmt - the INSERT of chunk_rows[@k] rows, prepared on first use. */
static enum tx insert_stmt(struct mysqlbackend *mb, size_t k, MYSQL_STMT **out)
{
    const char *row =
        mb->fmt == ROWS_COREDNS ? "(?, ?, ?, ?, ?, 1)" : "(?, ?, ?, ?, ?, ?, 0, NULL, ?)";
    struct buf sql;
    struct err e;
    unsigned i;
    int rc;

    if (mb->ins[k] != NULL) {
        *out = mb->ins[k];
        return TX_OK;
    }
    buf_init(&sql, SQL_MAX);
    if (mb->fmt == ROWS_COREDNS)
        rc = buf_printf(&sql,
                        "INSERT INTO `%s` (`zone_id`, `hostname`, `type`, `data`, `ttl`, "
                        "`online`) VALUES ",
                        mb->bc->records_table);
    else
        rc = buf_printf(&sql,
                        "INSERT INTO `%s` (`domain_id`, `name`, `type`, `content`, `ttl`, "
                        "`prio`, `disabled`, `ordername`, `auth`) VALUES ",
                        mb->bc->records_table);
    for (i = 0; rc == 0 && i < chunk_rows[k]; i++)
        rc = buf_printf(&sql, "%s%s", i > 0 ? ", " : "", row);
    if (rc != 0) {
        buf_free(&sql);
        snprintf(mb->db_error, sizeof(mb->db_error), "cannot build an INSERT: %s", err_str(rc));
        return TX_FAIL;
    }
    rc = prepare(mb, &mb->ins[k], sql.data, &e);
    buf_free(&sql);
    if (rc != 0) {
        snprintf(mb->db_error, sizeof(mb->db_error), "%.300s", e.text);
        return rc == DADNS_EBACKEND ? TX_LOST : TX_FAIL;
    }
    *out = mb->ins[k];
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
/* Rows                                                                                       */

/* insert_rows - insert the rows of mb->rs for zone row @zid, in chunks. */
static enum tx insert_rows(struct mysqlbackend *mb, int32_t zid)
{
    const struct rowset *rs = &mb->rs;
    size_t r0 = 0, k, j, bytes;
    MYSQL_STMT *s;
    enum tx tx;

    while (r0 < rs->n) {
        size_t m = rs->n - r0, size = 1;

        /* the largest chunk that fits in what is left and in CHUNK_BYTES */
        for (k = 0; k < N_CHUNKS; k++) {
            size = chunk_rows[k];
            if (size > m)
                continue;
            for (j = 0, bytes = 0; j < size; j++) {
                const struct row *w = &rs->v[r0 + j];

                bytes += strlen(w->name) + 32;
                bytes += w->type != NULL ? strlen(w->type) : 0;
                bytes += w->content != NULL ? strlen(w->content) : 0;
            }
            if (bytes <= CHUNK_BYTES || size == 1)
                break;
        }
        tx = insert_stmt(mb, k, &s);
        if (tx != TX_OK)
            return tx;
        for (j = 0; j < size; j++) {
            const struct row *w = &rs->v[r0 + j];
            MYSQL_BIND *b = &mb->bind[j * mb->ncols];
            unsigned long *l = &mb->lens[j * mb->ncols];

            mb->ttls[j] = w->ttl;
            mb->prios[j] = w->prio;
            mb->auths[j] = (signed char)(w->auth ? 1 : 0);
            bind_i32(&b[0], &zid);
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
        r0 += size;
    }
    return TX_OK;
}

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
        return stmt_failed(mb, s, "reading records");
    for (;;) {
        struct dbrow *d;

        rc = mysql_stmt_fetch(s);
        if (rc == MYSQL_NO_DATA)
            break;
        if (rc == 1)
            return stmt_failed(mb, s, "reading records");
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

/* rows_match - do the rows read back equal mb->rs (as sets, with their TTLs)? */
static bool rows_match(struct mysqlbackend *mb)
{
    const struct rowset *rs = &mb->rs;
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
/* The transaction                                                                            */

struct outcome {
    enum action action;
    bool created;          /* a zone row was inserted */
    bool repaired;         /* VERIFY found the zone lost or altered */
    int32_t zid;           /* the zone row's id (WRITTEN) */
    char owner[OWNER_MAX]; /* REFUSED: who owns it, as far as we can tell */
};

/* zone_txn - one attempt at the transaction of change @c (rows in mb->rs for SAVE/VERIFY).
 * On TX_OK the transaction is committed or rolled back and @o says what happened; on any
 * other result it may still be open (the caller rolls back). */
static enum tx zone_txn(struct mysqlbackend *mb, struct change *c, struct outcome *o)
{
    const struct backend_conf *bc = mb->bc;
    char zname[NAME_BUF_SIZE + 2];
    unsigned long zlen = 0, znlen = 0, mlen = 0, tlen = (unsigned long)c->text_len;
    MYSQL_BIND p[4];
    struct out_col out[2];
    long long sv = 0, sdel = 0, zid_ll = 0;
    uint64_t version = c->version;
    uint32_t serial = c->serial;
    int32_t zid = 0;
    bool found = false, zexists, owned, odd = false;
    char owner[OWNER_MAX];
    enum tx tx;

    memset(o, 0, sizeof(*o));
    snprintf(zname, sizeof(zname), "%s%s", c->zone, mb->fmt == ROWS_COREDNS ? "." : "");

    /* 1. the per-zone lock (the state row, a placeholder when missing) and the version the
     * database has. READ COMMITTED takes no gap lock on a missing row: two writers may both
     * insert the placeholder; the second waits for the first and gets a duplicate key, and
     * its retry finds the row. */
    bind_str(&p[0], c->zone, &zlen);
    tx = run(mb, mb->st[S_STATE_GET], p, "locking the state row");
    if (tx != TX_OK)
        return tx;
    out_i64(&out[0], &sv);
    out_i64(&out[1], &sdel);
    tx = fetch_one(mb, mb->st[S_STATE_GET], out, 2, &found, "locking the state row");
    if (tx != TX_OK)
        return tx;
    if (!found) {
        tx = run(mb, mb->st[S_STATE_ADD], p, "locking the state row");
        if (tx == TX_FAIL && mb->db_errno == ER_DUP_ENTRY)
            tx = TX_RETRY;
        if (tx != TX_OK)
            return tx;
        sv = 0;
        sdel = 1;
    }

    /* 2. nothing to do for a version the database already has */
    if ((c->op == CHANGE_SAVE && (uint64_t)sv >= version) ||
        (c->op == CHANGE_DELETE && ((uint64_t)sv > version || ((uint64_t)sv == version && sdel))) ||
        (c->op == CHANGE_VERIFY && (uint64_t)sv > version)) {
        o->action = A_SKIPPED;
        goto rollback;
    }

    /* 3. the zone row, and whose it is */
    bind_str(&p[0], zname, &znlen);
    tx = run(mb, mb->st[S_ZONE_GET], p, "reading the zone row");
    if (tx != TX_OK)
        return tx;
    owner[0] = '\0';
    out_i64(&out[0], &zid_ll);
    out_str(&out[1], owner, sizeof(owner));
    tx = fetch_one(mb, mb->st[S_ZONE_GET], out, 2, &found, "reading the zone row");
    if (tx != TX_OK)
        return tx;
    zexists = found;
    zid = (int32_t)zid_ll;
    if (!zexists)
        owned = true;
    else if (mb->fmt == ROWS_COREDNS)
        owned = !out[1].is_null && out[1].len == strlen(bc->managed_by) &&
                strncmp(owner, bc->managed_by, out[1].len) == 0;
    else
        owned = sv > 0 && !sdel;
    if (!owned) {
        o->action = c->op == CHANGE_DELETE ? A_NOT_OURS : A_REFUSED;
        if (out[1].is_null)
            snprintf(o->owner, sizeof(o->owner), "%s", "NULL");
        else
            snprintf(o->owner, sizeof(o->owner), "\"%.*s\"",
                     (int)(out[1].len < sizeof(owner) ? out[1].len : sizeof(owner) - 1), owner);
        goto rollback;
    }

    /* VERIFY of the version the database has: compare */
    if (c->op == CHANGE_VERIFY) {
        if ((uint64_t)sv == version && !sdel && zexists) {
            tx = read_rows(mb, zid, &odd);
            if (tx != TX_OK)
                return tx;
            if (!odd && rows_match(mb)) {
                o->action = A_VERIFIED;
                goto rollback;
            }
        }
        o->repaired = true;
    }

    /* 4. the change */
    bind_i32(&p[0], &zid);
    if (c->op == CHANGE_DELETE) {
        if (zexists) {
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
        bind_str(&p[1], c->zone, &zlen);
        tx = run(mb, mb->st[S_STATE_DEL], p, "updating the state row");
        if (tx != TX_OK)
            return tx;
        o->action = A_DELETED;
    } else {
        if (!zexists) {
            bind_str(&p[0], zname, &znlen);
            bind_str(&p[1], bc->managed_by, &mlen);
            tx = run(mb, mb->st[S_ZONE_ADD], p, "inserting the zone row");
            if (tx != TX_OK)
                return tx;
            zid = (int32_t)mysql_stmt_insert_id(mb->st[S_ZONE_ADD]);
            o->created = true;
        } else {
            tx = run(mb, mb->st[S_REC_DEL], p, "deleting records");
            if (tx != TX_OK)
                return tx;
        }
        tx = insert_rows(mb, zid);
        if (tx != TX_OK)
            return tx;
        bind_u64(&p[0], &version);
        bind_u32(&p[1], &serial);
        bind_blob(&p[2], c->text != NULL ? c->text : "", &tlen);
        bind_str(&p[3], c->zone, &zlen);
        tx = run(mb, mb->st[S_STATE_SET], p, "updating the state row");
        if (tx != TX_OK)
            return tx;
        o->action = A_WRITTEN;
    }
    o->zid = zid;

    /* 5. commit */
    if (mysql_commit(mb->db) != 0)
        return db_failed(mb, "committing");
    return TX_OK;

rollback:
    if (mysql_rollback(mb->db) != 0)
        return db_failed(mb, "rolling back");
    return TX_OK;
}

/* count_check - after a committed write: does the zone have as many records as its rowset? */
static enum tx count_check(struct mysqlbackend *mb, const char *zone, int32_t zid)
{
    MYSQL_BIND p[1];
    struct out_col out[1];
    long long count = 0;
    bool found = false;
    char what[160];
    enum tx tx;

    bind_i32(&p[0], &zid);
    tx = run(mb, mb->st[S_REC_COUNT], p, "counting records");
    if (tx == TX_OK) {
        out_i64(&out[0], &count);
        tx = fetch_one(mb, mb->st[S_REC_COUNT], out, 1, &found, "counting records");
    }
    if (tx != TX_OK)
        return tx; /* the read-only transaction is ended by the next zone, or the batch */
    if (!found || count < 0 || (size_t)count != mb->rs.n) {
        mb->stats.count_mismatch++;
        snprintf(what, sizeof(what),
                 "record count after commit is %lld, expected %zu (another writer, or a trigger, "
                 "changed the zone)",
                 count, mb->rs.n);
        say_warn(mb, zone, what);
    }
    return TX_OK;
}

/* run_hook - an operator command; a failure is a warning. */
static void run_hook(struct mysqlbackend *mb, const char *tmpl, const char *zone)
{
    struct err e;
    char what[600];

    err_clear(&e);
    if (hook_run(tmpl, zone, MYSQLBACKEND_HOOK_TIMEOUT_MS, &e) == 0)
        return;
    mb->stats.hook_failures++;
    snprintf(what, sizeof(what), "%s failed: %s", zone != NULL ? "post_commit" : "post_create",
             e.text);
    say_warn(mb, zone, what);
}

/* fail_change - set @c's result to @code and its reason to @prefix @text (cut to fit). */
static void fail_change(struct change *c, int code, const char *prefix, const char *text)
{
    c->result = code;
    snprintf(c->reason, sizeof(c->reason), "%.60s%.190s", prefix, text);
}

/* apply_one - the transaction of @c with its retries; *@lost set when the connection died. */
static void apply_one(struct mysqlbackend *mb, struct change *c, bool *created, bool *lost)
{
    struct outcome o;
    struct err e;
    enum tx tx = TX_OK;
    int attempt, rc;

    if (c->op == CHANGE_SAVE || c->op == CHANGE_VERIFY) {
        err_clear(&e);
        rc = rows_build(mb->rb, mb->fmt, c->zone, c->text != NULL ? c->text : "", c->text_len,
                        &mb->rs, &e);
        if (rc != 0) {
            fail_change(c, rc, "", e.text);
            return;
        }
    }
    for (attempt = 0;; attempt++) {
        tx = zone_txn(mb, c, &o);
        if (tx == TX_OK)
            break;
        if (tx != TX_LOST && mysql_rollback(mb->db) != 0 &&
            classify(mysql_errno(mb->db)) == TX_LOST)
            tx = TX_LOST;
        if (tx != TX_RETRY || attempt >= mb->bc->txn_retries)
            break;
        mb->stats.retries++;
        usleep((useconds_t)(RETRY_MS * 1000 * (attempt + 1)));
    }
    switch (tx) {
    case TX_OK:
        break;
    case TX_RETRY:
        c->result = DADNS_EBACKEND;
        snprintf(c->reason, sizeof(c->reason), "gave up after %d attempts: %.200s", attempt + 1,
                 mb->db_error);
        return;
    case TX_LOST:
        *lost = true;
        fail_change(c, DADNS_EBACKEND, "database connection lost: ", mb->db_error);
        return;
    case TX_FAIL:
        fail_change(c, DADNS_EBACKEND, "", mb->db_error);
        return;
    }
    c->repaired = o.repaired ? 1 : 0;
    switch (o.action) {
    case A_REFUSED:
        mb->stats.refused++;
        c->result = DADNS_EDENIED;
        snprintf(c->reason, sizeof(c->reason),
                 "zone exists and is not managed by dadns (%s %s, managed_by %s)",
                 mb->fmt == ROWS_COREDNS ? "zones.managed_by" : "domains.account", o.owner,
                 mb->bc->managed_by);
        return;
    case A_SKIPPED:
    case A_NOT_OURS:
        mb->stats.skipped++;
        return;
    case A_VERIFIED:
        return;
    case A_WRITTEN:
    case A_DELETED:
        break;
    }
    mb->stats.committed++;
    if (o.created)
        *created = true;
    if (o.action == A_WRITTEN && count_check(mb, c->zone, o.zid) == TX_LOST)
        *lost = true; /* the change itself is committed */
    if (mb->bc->post_commit[0] != '\0')
        run_hook(mb, mb->bc->post_commit, c->zone);
}

/* ------------------------------------------------------------------------------------------ */
/* Public                                                                                     */

int mysqlbackend_open(const struct backend_conf *bc, bool init_schema, char *created, size_t size,
                      struct mysqlbackend **out, struct err *e)
{
    struct mysqlbackend *mb;
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
    buf_init(&mb->arena, ARENA_MAX);
    mb->bind = calloc((size_t)MAX_CHUNK * MAX_COLS, sizeof(*mb->bind));
    mb->lens = calloc((size_t)MAX_CHUNK * MAX_COLS, sizeof(*mb->lens));
    mb->ttls = calloc(MAX_CHUNK, sizeof(*mb->ttls));
    mb->prios = calloc(MAX_CHUNK, sizeof(*mb->prios));
    mb->auths = calloc(MAX_CHUNK, sizeof(*mb->auths));
    mb->fetch = malloc(FETCH_NAME + FETCH_TYPE + FETCH_DATA);
    if (mb->bind == NULL || mb->lens == NULL || mb->ttls == NULL || mb->prios == NULL ||
        mb->auths == NULL || mb->fetch == NULL) {
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
    size_t i;
    int rc;

    if (n == 0)
        return 0;
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
    for (i = 0; i < n; i++) {
        struct change *c = &changes[i];

        if (c->result != 0)
            continue;
        if (lost) {
            fail_change(c, DADNS_EBACKEND, "",
                        "not attempted: the database connection was lost earlier in the batch");
            continue;
        }
        apply_one(mb, c, &created, &lost);
        if (lost)
            disconnect(mb);
    }
    /* end the read-only transaction of the last count (no lock may outlive the batch) */
    if (mb->db != NULL && mysql_rollback(mb->db) != 0)
        disconnect(mb);
    if (created && mb->bc->post_create[0] != '\0')
        run_hook(mb, mb->bc->post_create, NULL);
    return 0;
}

const struct mysqlbackend_stats *mysqlbackend_stats(const struct mysqlbackend *mb)
{
    return &mb->stats;
}

void mysqlbackend_free(struct mysqlbackend *mb)
{
    if (mb == NULL)
        return;
    disconnect(mb);
    rows_builder_free(mb->rb);
    rowset_free(&mb->rs);
    buf_free(&mb->arena);
    free(mb->bind);
    free(mb->lens);
    free(mb->ttls);
    free(mb->prios);
    free(mb->auths);
    free(mb->fetch);
    free(mb->dbrows);
    free(mb->views);
    free(mb);
}
