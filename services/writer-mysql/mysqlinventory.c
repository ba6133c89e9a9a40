/* mysqlinventory.c -- the inventory of a CoreDNS or PowerDNS MySQL database (see
 * mysqlinventory.h).
 *
 * Three SELECTs in one read-only snapshot, text protocol, results streamed; zones are held in
 * an array ordered by id (the records find their zone by binary search, the last one cached),
 * names in one arena. SQL text holds only the configured table names (checked by config.c).
 * The connection and every write are mysqlbackend.c's; the row digest is rowhash.c's. */
#include "mysqlinventory.h"

#include <errmsg.h>
#include <errno.h>
#include <mysqld_error.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "mysqlbackend.h"
#include "name.h"
#include "rowhash.h"

#define ARENA_MAX ((size_t)1 << 30) /* names of every zone row */

/* One zone row. */
struct izone {
    int64_t id;                    /* zones.id / domains.id */
    size_t raw;                    /* offset in the arena: the name as in the table */
    size_t raw_len;                /* its length */
    size_t name;                   /* offset in the arena: the normalized name */
    bool marker_ours;              /* CoreDNS: managed_by is ours */
    bool has_state;                /* a state row, live */
    bool has_serial;               /* a served apex SOA row was seen */
    uint32_t serial;               /* its serial */
    uint64_t version;              /* the live state row's */
    char digest[ROWHASH_HEX];      /* the state row's digest (SHA-1 of the text applied) */
    char rows_digest[ROWHASH_HEX]; /* the state row's rows digest, "" when none */
    struct rowhash h;              /* the rows read */
};

/* The state of one inventory. */
struct inv {
    MYSQL *db;
    const struct backend_conf *bc;
    bool cd;          /* CoreDNS format */
    struct izone *z;  /* zone rows, by id */
    size_t n, cap;    /* how many, allocated */
    struct buf arena; /* names */
    size_t *by_name;  /* indexes into z, by normalized name */
    size_t last;      /* the zone of the last records row */
    struct mysqlinventory_stats st;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* db_fail - the last error of the connection, with @what: DADNS_EBACKEND for connection
 * trouble (client errors, a killed connection), DADNS_ECONFIG for a refused statement. */
static int db_fail(struct inv *v, const char *what, struct err *e)
{
    unsigned int no = mysql_errno(v->db);
    int code = (no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) || no == ER_CONNECTION_KILLED ||
                       no == ER_SERVER_SHUTDOWN || no == 0
                   ? DADNS_EBACKEND
                   : DADNS_ECONFIG;

    return err_set(e, code, "inventory: %s: %s (%u)", what, mysql_error(v->db), no);
}

/* num - the decimal integer of @len octets at @s, @dflt for NULL or anything else. */
static int64_t num(const char *s, unsigned long len, int64_t dflt)
{
    char tmp[32], *end;
    long long v;

    if (s == NULL || len == 0 || len >= sizeof(tmp))
        return dflt;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return dflt;
    return (int64_t)v;
}

static const char *name_of(const struct inv *v, size_t i)
{
    return v->arena.data + v->z[i].name;
}

/* arena_put - copy @len octets of @p and a NUL into the arena; *@off gets their offset. */
static int arena_put(struct inv *v, const char *p, size_t len, size_t *off)
{
    int rc;

    *off = v->arena.len;
    rc = buf_append(&v->arena, p, len);
    if (rc == 0)
        rc = buf_append(&v->arena, "", 1);
    return rc;
}

/* report_name - the name a zone row is reported under: normalized when it can be, else the
 * lowercase name without one trailing dot. 0, or -1 when there is none that fits. */
static int report_name(const char *raw, size_t len, char out[NAME_BUF_SIZE])
{
    size_t i;

    if (name_normalize(raw, len, out, NULL) == 0)
        return 0;
    if (len > 0 && raw[len - 1] == '.')
        len--;
    if (len == 0 || len >= NAME_BUF_SIZE || memchr(raw, '\0', len) != NULL)
        return -1;
    for (i = 0; i < len; i++)
        out[i] = (raw[i] >= 'A' && raw[i] <= 'Z') ? (char)(raw[i] - 'A' + 'a') : raw[i];
    out[len] = '\0';
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The three SELECTs                                                                          */

static int read_zones(struct inv *v, struct err *e)
{
    const struct backend_conf *bc = v->bc;
    const char *ours = bc->managed_by != NULL ? bc->managed_by : "";
    char sql[256], name[NAME_BUF_SIZE];
    unsigned long *len;
    MYSQL_RES *res;
    MYSQL_ROW row;
    int rc = 0;

    snprintf(sql, sizeof(sql), "SELECT `id`, `%s`, `%s` FROM `%s` ORDER BY `id`",
             v->cd ? "zone_name" : "name", v->cd ? "managed_by" : "account", bc->zones_table);
    if (mysql_query(v->db, sql) != 0)
        return db_fail(v, "reading the zone rows", e);
    res = mysql_use_result(v->db);
    if (res == NULL)
        return db_fail(v, "reading the zone rows", e);
    while ((row = mysql_fetch_row(res)) != NULL) {
        struct izone *z;

        len = mysql_fetch_lengths(res);
        if (row[0] == NULL || row[1] == NULL || report_name(row[1], len[1], name) != 0) {
            v->st.bad_names++;
            continue;
        }
        if (v->n == v->cap) {
            size_t cap = v->cap ? v->cap * 2 : 1024;
            struct izone *nz = realloc(v->z, cap * sizeof(*nz));

            if (nz == NULL) {
                rc = err_set(e, DADNS_ENOMEM, "inventory: out of memory for %zu zones", cap);
                break;
            }
            v->z = nz;
            v->cap = cap;
        }
        z = &v->z[v->n];
        memset(z, 0, sizeof(*z));
        z->id = num(row[0], len[0], -1);
        z->raw_len = len[1];
        z->marker_ours =
            v->cd && row[2] != NULL && len[2] == strlen(ours) && memcmp(row[2], ours, len[2]) == 0;
        rowhash_init(&z->h);
        if (arena_put(v, row[1], len[1], &z->raw) != 0 ||
            arena_put(v, name, strlen(name), &z->name) != 0) {
            rc = err_set(e, DADNS_ENOMEM, "inventory: out of memory for zone names");
            break;
        }
        v->n++;
    }
    if (rc == 0 && mysql_errno(v->db) != 0)
        rc = db_fail(v, "reading the zone rows", e);
    mysql_free_result(res);
    return rc;
}

static int cmp_by_name(const void *a, const void *b, void *arg)
{
    const struct inv *v = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(name_of(v, i), name_of(v, j));

    if (c != 0)
        return c;
    return (i > j) - (i < j);
}

/* find_name - the zone whose normalized name is @name (@len octets), or SIZE_MAX. */
static size_t find_name(const struct inv *v, const char *name, size_t len)
{
    size_t lo = 0, hi = v->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = name_of(v, v->by_name[mid]);
        int c = strncmp(m, name, len);

        if (c == 0 && m[len] != '\0')
            c = 1;
        if (c == 0)
            return v->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static int read_states(struct inv *v, struct err *e)
{
    char sql[256];
    unsigned long *len;
    MYSQL_RES *res;
    MYSQL_ROW row;

    snprintf(sql, sizeof(sql),
             "SELECT `zone`, `version`, `digest`, `rows_digest`, `deleted` FROM `%s`",
             v->bc->state_table);
    if (mysql_query(v->db, sql) != 0)
        return db_fail(v, "reading the state rows", e);
    res = mysql_use_result(v->db);
    if (res == NULL)
        return db_fail(v, "reading the state rows", e);
    while ((row = mysql_fetch_row(res)) != NULL) {
        size_t k;
        struct izone *z;
        int64_t ver;

        len = mysql_fetch_lengths(res);
        if (row[0] == NULL)
            continue;
        k = find_name(v, row[0], len[0]);
        if (k == SIZE_MAX)
            continue; /* no zone row: not held */
        z = &v->z[k];
        ver = num(row[1], len[1], 0);
        if (num(row[4], len[4], 1) != 0 || ver <= 0)
            continue; /* deleted, or a placeholder */
        z->has_state = true;
        z->version = (uint64_t)ver;
        snprintf(z->digest, sizeof(z->digest), "%.*s",
                 (int)(row[2] != NULL && len[2] < ROWHASH_HEX ? len[2] : 0),
                 row[2] != NULL ? row[2] : "");
        snprintf(z->rows_digest, sizeof(z->rows_digest), "%.*s",
                 (int)(row[3] != NULL && len[3] < ROWHASH_HEX ? len[3] : 0),
                 row[3] != NULL ? row[3] : "");
    }
    if (mysql_errno(v->db) != 0) {
        mysql_free_result(res);
        return db_fail(v, "reading the state rows", e);
    }
    mysql_free_result(res);
    return 0;
}

/* find_id - the zone of id @id, or SIZE_MAX (the last one found is tried first). */
static size_t find_id(struct inv *v, int64_t id)
{
    size_t lo = 0, hi = v->n;

    if (v->last < v->n && v->z[v->last].id == id)
        return v->last;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v->z[mid].id == id)
            return v->last = mid;
        if (v->z[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* soa_serial - the serial (third field) of SOA content @s (@len octets). */
static bool soa_serial(const char *s, size_t len, uint32_t *out)
{
    const char *p = s, *end = s + len;
    int field;

    for (field = 0; field < 2; field++) {
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
    if (p == end)
        return false;
    {
        const char *q = p;
        uint64_t v = 0;

        while (q < end && *q >= '0' && *q <= '9' && v <= UINT32_MAX) {
            v = v * 10 + (uint64_t)(*q - '0');
            q++;
        }
        if (q == p || v > UINT32_MAX || (q < end && *q != ' ' && *q != '\t'))
            return false;
        *out = (uint32_t)v;
    }
    return true;
}

/* is_apex - is owner @name (@len octets) of a records row the apex of @z? */
static bool is_apex(const struct inv *v, const struct izone *z, const char *name, size_t len)
{
    const char *raw = v->arena.data + z->raw;
    size_t rl = z->raw_len;

    if (v->cd && len == 1 && name[0] == '@')
        return true;
    if (rl > 0 && raw[rl - 1] == '.')
        rl--;
    if (len > 0 && name[len - 1] == '.')
        len--;
    return len == rl && strncasecmp(name, raw, len) == 0;
}

static int read_records(struct inv *v, struct err *e)
{
    const struct backend_conf *bc = v->bc;
    char sql[384];
    unsigned long *len;
    MYSQL_RES *res;
    MYSQL_ROW row;

    if (v->cd)
        snprintf(sql, sizeof(sql),
                 "SELECT `zone_id`, `hostname`, `type`, `data`, `ttl`, 0, 0, `online` <> 0 FROM "
                 "`%s`",
                 bc->records_table);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT `domain_id`, `name`, `type`, `content`, `ttl`, COALESCE(`prio`, 0), "
                 "COALESCE(`auth`, 1), COALESCE(`disabled`, 0) = 0 FROM `%s`",
                 bc->records_table);
    if (mysql_query(v->db, sql) != 0)
        return db_fail(v, "reading the records", e);
    res = mysql_use_result(v->db);
    if (res == NULL)
        return db_fail(v, "reading the records", e);
    while ((row = mysql_fetch_row(res)) != NULL) {
        struct izone *z;
        size_t k;
        int64_t live;

        v->st.rows++;
        len = mysql_fetch_lengths(res);
        if (row[0] == NULL || row[1] == NULL)
            continue;
        k = find_id(v, num(row[0], len[0], -1));
        if (k == SIZE_MAX)
            continue; /* a row of no zone */
        z = &v->z[k];
        live = num(row[7], len[7], 0);
        rowhash_add(&z->h, row[1], len[1], row[2], row[2] ? len[2] : 0, row[3], row[3] ? len[3] : 0,
                    num(row[4], len[4], -1), num(row[5], len[5], 0), num(row[6], len[6], 0), live);
        if (!z->has_serial && live == 1 && row[2] != NULL && len[2] == 3 &&
            strncasecmp(row[2], "SOA", 3) == 0 && row[3] != NULL && is_apex(v, z, row[1], len[1]))
            z->has_serial = soa_serial(row[3], len[3], &z->serial);
    }
    if (mysql_errno(v->db) != 0) {
        mysql_free_result(res);
        return db_fail(v, "reading the records", e);
    }
    mysql_free_result(res);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The inventory                                                                              */

/* report - call @fn for every zone, in name order. */
static int report(struct inv *v, held_zone_fn fn, void *arg)
{
    struct held_zone h;
    char got[ROWHASH_HEX];
    size_t i;
    int rc;

    for (i = 0; i < v->n; i++) {
        const struct izone *z = &v->z[v->by_name[i]];

        memset(&h, 0, sizeof(h));
        snprintf(h.zone, sizeof(h.zone), "%s", name_of(v, v->by_name[i]));
        h.managed = v->cd ? z->marker_ours : z->has_state;
        h.has_serial = z->has_serial;
        h.serial = z->serial;
        h.version = z->has_state ? z->version : 0;
        if (h.managed && z->has_state && z->rows_digest[0] != '\0') {
            rowhash_hex(&z->h, got);
            if (strcmp(got, z->rows_digest) == 0) {
                snprintf(h.digest, sizeof(h.digest), "%s", z->digest);
            } else {
                snprintf(h.digest, sizeof(h.digest), "%s", MYSQLINVENTORY_MODIFIED);
                v->st.modified++;
            }
        } else if (h.managed) {
            v->st.unknown++;
        }
        v->st.zones++;
        v->st.managed += h.managed ? 1 : 0;
        rc = fn(arg, &h);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int mysqlinventory_run(MYSQL *db, const struct backend_conf *bc, held_zone_fn fn, void *arg,
                       struct mysqlinventory_stats *st, struct err *e)
{
    struct inv v;
    double t0 = now_s();
    size_t i;
    int rc;

    memset(&v, 0, sizeof(v));
    v.db = db;
    v.bc = bc;
    v.cd = bc->type == BACKEND_COREDNS_MYSQL;
    buf_init(&v.arena, ARENA_MAX);
    if (bc->type != BACKEND_COREDNS_MYSQL && bc->type != BACKEND_POWERDNS_MYSQL) {
        rc = err_set(e, DADNS_ECONFIG, "backend %s is not of a mysql type", bc->name);
        goto out;
    }
    /* one snapshot for the three reads: a zone written meanwhile is seen before or after
     * (the rollback ends whatever a caller left open: the isolation level cannot change
     * inside a transaction) */
    if (mysql_rollback(db) != 0 ||
        mysql_query(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ") != 0 ||
        mysql_query(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY") != 0) {
        rc = db_fail(&v, "starting a read-only snapshot", e);
        goto out;
    }
    rc = read_zones(&v, e);
    if (rc != 0)
        goto out;
    v.by_name = malloc((v.n ? v.n : 1) * sizeof(*v.by_name));
    if (v.by_name == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "inventory: out of memory for %zu zones", v.n);
        goto out;
    }
    for (i = 0; i < v.n; i++)
        v.by_name[i] = i;
    qsort_r(v.by_name, v.n, sizeof(*v.by_name), cmp_by_name, &v);
    rc = read_states(&v, e);
    if (rc == 0)
        rc = read_records(&v, e);
    if (rc != 0)
        goto out;
    if (mysql_rollback(db) != 0) {
        rc = db_fail(&v, "ending the snapshot", e);
        goto out;
    }
    rc = report(&v, fn, arg);
out:
    if (rc != 0 && rc != DADNS_EBACKEND)
        (void)mysql_rollback(db); /* no snapshot may outlive the inventory */
    v.st.seconds = now_s() - t0;
    if (st != NULL)
        *st = v.st;
    buf_free(&v.arena);
    free(v.by_name);
    free(v.z);
    return rc;
}

int mysqlinventory_backend(void *ctx, held_zone_fn fn, void *arg, char *reason, size_t size)
{
    struct mysqlbackend *mb = ctx;
    struct err e;
    MYSQL *db;
    int rc;

    err_clear(&e);
    rc = mysqlbackend_connection(mb, &db, &e);
    if (rc == 0)
        rc = mysqlinventory_run(db, mysqlbackend_conf(mb), fn, arg, NULL, &e);
    if (rc < 0 && reason != NULL && size > 0)
        snprintf(reason, size, "%s", e.text);
    return rc;
}
