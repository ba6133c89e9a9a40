/* schema.c -- CREATE TABLE text for the CoreDNS and PowerDNS formats and the state table, and
 * the start-up check of the tables (see schema.h).
 *
 * Table names come from the configuration, checked there as [A-Za-z0-9_]{1,64}, and are
 * checked again here before they go between backquotes. The probe of a table is
 * "SELECT * FROM `t` LIMIT 0": the server resolves the name exactly as it will for the
 * writer's statements, and the result's field list gives the columns. */
#include "schema.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------------------------ */
/* Columns the writer uses, per table                                                         */

static const char *const coredns_zone_cols[] = {"id", "zone_name", "managed_by", NULL};
static const char *const coredns_record_cols[] = {"zone_id", "hostname", "type", "data",
                                                  "ttl",     "online",   NULL};
static const char *const pdns_domain_cols[] = {"id", "name", "type", "account", NULL};
static const char *const pdns_record_cols[] = {
    "domain_id", "name", "type", "content", "ttl", "prio", "disabled", "ordername", "auth", NULL};
static const char *const pdns_domain_id_cols[] = {"domain_id", NULL};
static const char *const no_cols[] = {NULL};
static const char *const state_cols[] = {"zone",    "version", "serial",      "digest",
                                         "deleted", "updated", "rows_digest", NULL};

/* ------------------------------------------------------------------------------------------ */
/* CREATE TABLE text                                                                          */

static const char coredns_zones_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                        "  `id` INT NOT NULL AUTO_INCREMENT,\n"
                                        "  `zone_name` VARCHAR(255) NOT NULL,\n"
                                        "  `managed_by` VARCHAR(64) DEFAULT NULL,\n"
                                        "  PRIMARY KEY (`id`),\n"
                                        "  UNIQUE KEY `zone_name` (`zone_name`)\n"
                                        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* %s twice: the records table, then the zones table its foreign key refers to */
static const char coredns_records_sql[] =
    "CREATE TABLE IF NOT EXISTS `%s` (\n"
    "  `id` INT NOT NULL AUTO_INCREMENT,\n"
    "  `zone_id` INT NOT NULL,\n"
    "  `hostname` VARCHAR(512) NOT NULL,\n"
    "  `type` VARCHAR(10) NOT NULL,\n"
    "  `data` VARCHAR(1024) NOT NULL,\n"
    "  `ttl` INT NOT NULL DEFAULT 120,\n"
    "  `online` INT NOT NULL DEFAULT 0,\n"
    "  PRIMARY KEY (`id`),\n"
    "  INDEX `idx_lookup` (`zone_id`, `hostname`, `type`, `online`),\n"
    "  FOREIGN KEY (`zone_id`) REFERENCES `%s` (`id`)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

static const char coredns_add_managed_by_sql[] =
    "ALTER TABLE `%s` ADD COLUMN `managed_by` VARCHAR(64) DEFAULT NULL";

/* a state table made before inventories (rows written before it get '': "cannot tell") */
static const char state_add_rows_digest_sql[] =
    "ALTER TABLE `%s` ADD COLUMN IF NOT EXISTS `rows_digest` CHAR(40) CHARACTER SET ascii NOT "
    "NULL DEFAULT '' COMMENT 'rowhash of the records written'";

/* PowerDNS 4.7 schema.mysql.sql, indexes moved inside the CREATE TABLE */
static const char pdns_domains_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                       "  id INT AUTO_INCREMENT,\n"
                                       "  name VARCHAR(255) NOT NULL,\n"
                                       "  master VARCHAR(128) DEFAULT NULL,\n"
                                       "  last_check INT DEFAULT NULL,\n"
                                       "  type VARCHAR(8) NOT NULL,\n"
                                       "  notified_serial INT UNSIGNED DEFAULT NULL,\n"
                                       "  account VARCHAR(40) CHARACTER SET 'utf8' DEFAULT NULL,\n"
                                       "  options VARCHAR(64000) DEFAULT NULL,\n"
                                       "  catalog VARCHAR(255) DEFAULT NULL,\n"
                                       "  PRIMARY KEY (id),\n"
                                       "  UNIQUE KEY name_index (name),\n"
                                       "  KEY catalog_idx (catalog)\n"
                                       ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char pdns_records_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                       "  id BIGINT AUTO_INCREMENT,\n"
                                       "  domain_id INT DEFAULT NULL,\n"
                                       "  name VARCHAR(255) DEFAULT NULL,\n"
                                       "  type VARCHAR(10) DEFAULT NULL,\n"
                                       "  content VARCHAR(64000) DEFAULT NULL,\n"
                                       "  ttl INT DEFAULT NULL,\n"
                                       "  prio INT DEFAULT NULL,\n"
                                       "  disabled TINYINT(1) DEFAULT 0,\n"
                                       "  ordername VARCHAR(255) BINARY DEFAULT NULL,\n"
                                       "  auth TINYINT(1) DEFAULT 1,\n"
                                       "  PRIMARY KEY (id),\n"
                                       "  KEY nametype_index (name, type),\n"
                                       "  KEY domain_id (domain_id),\n"
                                       "  KEY ordername (ordername)\n"
                                       ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char pdns_supermasters_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                            "  ip VARCHAR(64) NOT NULL,\n"
                                            "  nameserver VARCHAR(255) NOT NULL,\n"
                                            "  account VARCHAR(40) CHARACTER SET 'utf8' NOT NULL,\n"
                                            "  PRIMARY KEY (ip, nameserver)\n"
                                            ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char pdns_comments_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                        "  id INT AUTO_INCREMENT,\n"
                                        "  domain_id INT NOT NULL,\n"
                                        "  name VARCHAR(255) NOT NULL,\n"
                                        "  type VARCHAR(10) NOT NULL,\n"
                                        "  modified_at INT NOT NULL,\n"
                                        "  account VARCHAR(40) CHARACTER SET 'utf8' DEFAULT NULL,\n"
                                        "  comment TEXT CHARACTER SET 'utf8' NOT NULL,\n"
                                        "  PRIMARY KEY (id),\n"
                                        "  KEY comments_name_type_idx (name, type),\n"
                                        "  KEY comments_order_idx (domain_id, modified_at)\n"
                                        ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char pdns_domainmetadata_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                              "  id INT AUTO_INCREMENT,\n"
                                              "  domain_id INT NOT NULL,\n"
                                              "  kind VARCHAR(32),\n"
                                              "  content TEXT,\n"
                                              "  PRIMARY KEY (id),\n"
                                              "  KEY domainmetadata_idx (domain_id, kind)\n"
                                              ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char pdns_cryptokeys_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                          "  id INT AUTO_INCREMENT,\n"
                                          "  domain_id INT NOT NULL,\n"
                                          "  flags INT NOT NULL,\n"
                                          "  active BOOL,\n"
                                          "  published BOOL DEFAULT 1,\n"
                                          "  content TEXT,\n"
                                          "  PRIMARY KEY(id),\n"
                                          "  KEY domainidindex (domain_id)\n"
                                          ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char pdns_tsigkeys_sql[] = "CREATE TABLE IF NOT EXISTS `%s` (\n"
                                        "  id INT AUTO_INCREMENT,\n"
                                        "  name VARCHAR(255),\n"
                                        "  algorithm VARCHAR(50),\n"
                                        "  secret VARCHAR(255),\n"
                                        "  PRIMARY KEY (id),\n"
                                        "  UNIQUE KEY namealgoindex (name, algorithm)\n"
                                        ") Engine=InnoDB CHARACTER SET 'latin1'";

static const char state_sql[] =
    "CREATE TABLE IF NOT EXISTS `%s` (\n"
    "  `zone` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,\n"
    "  `version` BIGINT UNSIGNED NOT NULL,\n"
    "  `serial` INT UNSIGNED NOT NULL DEFAULT 0,\n"
    "  `digest` CHAR(40) CHARACTER SET ascii NOT NULL DEFAULT '',\n"
    "  `deleted` TINYINT(1) NOT NULL DEFAULT 0,\n"
    "  `updated` DATETIME NOT NULL COMMENT 'UTC',\n"
    "  `rows_digest` CHAR(40) CHARACTER SET ascii NOT NULL DEFAULT '' COMMENT 'rowhash of the "
    "records written',\n"
    "  PRIMARY KEY (`zone`)\n"
    ") ENGINE=InnoDB COMMENT='dadns-writer-mysql: zones it manages, version applied'";

/* ------------------------------------------------------------------------------------------ */
/* Pure part                                                                                  */

static bool plain_ident(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return i > 0 && i <= 64;
}

/* add - append table @name with @cols and its CREATE text (@fmt with @name, and @ref for a
 * second %s when @ref is not NULL). */
static int add(struct schema_table *out, size_t *n, const char *name, const char *ref,
               const char *const *cols, bool required, const char *fmt, struct err *e)
{
    struct schema_table *t;
    int len;

    if (*n >= SCHEMA_MAX_TABLES)
        return err_set(e, DADNS_ECONFIG, "internal error: too many tables");
    if (!plain_ident(name) || (ref != NULL && !plain_ident(ref)))
        return err_set(e, DADNS_ECONFIG, "table name \"%s\" is not [A-Za-z0-9_]{1,64}",
                       plain_ident(name) ? ref : name);
    t = &out[(*n)++];
    t->name = name;
    t->columns = cols;
    t->required = required;
    if (ref != NULL)
        len = snprintf(t->create, sizeof(t->create), fmt, name, ref);
    else
        len = snprintf(t->create, sizeof(t->create), fmt, name);
    if (len < 0 || (size_t)len >= sizeof(t->create))
        return err_set(e, DADNS_ECONFIG, "internal error: CREATE TABLE %s too long", name);
    return 0;
}

int schema_tables(const struct backend_conf *bc, struct schema_table *out, size_t *n, struct err *e)
{
    int rc = 0;

    *n = 0;
    if (bc->zones_table == NULL || bc->records_table == NULL || bc->state_table == NULL)
        return err_set(e, DADNS_ECONFIG, "backend %s: table names are not set", bc->name);
    if (bc->type == BACKEND_COREDNS_MYSQL) {
        rc = add(out, n, bc->zones_table, NULL, coredns_zone_cols, true, coredns_zones_sql, e);
        if (rc == 0)
            rc = add(out, n, bc->records_table, bc->zones_table, coredns_record_cols, true,
                     coredns_records_sql, e);
    } else if (bc->type == BACKEND_POWERDNS_MYSQL) {
        rc = add(out, n, bc->zones_table, NULL, pdns_domain_cols, true, pdns_domains_sql, e);
        if (rc == 0)
            rc = add(out, n, bc->records_table, NULL, pdns_record_cols, true, pdns_records_sql, e);
        if (rc == 0)
            rc = add(out, n, "supermasters", NULL, no_cols, false, pdns_supermasters_sql, e);
        if (rc == 0)
            rc = add(out, n, "comments", NULL, pdns_domain_id_cols, true, pdns_comments_sql, e);
        if (rc == 0)
            rc = add(out, n, "domainmetadata", NULL, pdns_domain_id_cols, true,
                     pdns_domainmetadata_sql, e);
        if (rc == 0)
            rc = add(out, n, "cryptokeys", NULL, pdns_domain_id_cols, true, pdns_cryptokeys_sql, e);
        if (rc == 0)
            rc = add(out, n, "tsigkeys", NULL, no_cols, false, pdns_tsigkeys_sql, e);
    } else {
        return err_set(e, DADNS_ECONFIG, "backend %s is not of a mysql type", bc->name);
    }
    if (rc == 0)
        rc = add(out, n, bc->state_table, NULL, state_cols, true, state_sql, e);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Against the server                                                                         */

/* db_fail - turn the last error of @db into DADNS_EBACKEND (connection trouble: client errors
 * CR_*) or DADNS_ECONFIG (the server refused: privileges, syntax), with @what as context. */
static int db_fail(MYSQL *db, struct err *e, const char *what, const char *table)
{
    unsigned int no = mysql_errno(db);
    int code = (no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) ? DADNS_EBACKEND : DADNS_ECONFIG;

    return err_set(e, code, "%s `%s`: %s (%u)", what, table, mysql_error(db), no);
}

/* probe - does table @name exist; if so, does it have every column of @cols? *@exists and
 * *@missing_col (the first missing one, or NULL) say. */
static int probe(MYSQL *db, const char *name, const char *const *cols, bool *exists,
                 const char **missing_col, struct err *e)
{
    char sql[128];
    MYSQL_RES *res;
    MYSQL_FIELD *f;
    unsigned int nf, i;
    size_t c;

    *exists = false;
    *missing_col = NULL;
    snprintf(sql, sizeof(sql), "SELECT * FROM `%s` LIMIT 0", name);
    if (mysql_query(db, sql) != 0) {
        if (mysql_errno(db) == ER_NO_SUCH_TABLE)
            return 0;
        return db_fail(db, e, "cannot read table", name);
    }
    res = mysql_store_result(db);
    if (res == NULL)
        return db_fail(db, e, "cannot read table", name);
    *exists = true;
    f = mysql_fetch_fields(res);
    nf = mysql_num_fields(res);
    for (c = 0; cols[c] != NULL && *missing_col == NULL; c++) {
        for (i = 0; i < nf; i++)
            if (strcasecmp(f[i].name, cols[c]) == 0)
                break;
        if (i == nf)
            *missing_col = cols[c];
    }
    mysql_free_result(res);
    return 0;
}

static void note_created(char *created, size_t size, const char *name)
{
    size_t len;

    if (created == NULL || size == 0)
        return;
    len = strlen(created);
    snprintf(created + len, size - len, "%s%s", len > 0 ? ", " : "", name);
}

int schema_ensure(MYSQL *db, const struct backend_conf *bc, bool create, char *created, size_t size,
                  struct err *e)
{
    struct schema_table t[SCHEMA_MAX_TABLES];
    const char *miss = NULL;
    char sql[256];
    bool exists = false;
    size_t n = 0, i;
    int rc;

    if (created != NULL && size > 0)
        created[0] = '\0';
    rc = schema_tables(bc, t, &n, e);
    if (rc != 0)
        return rc;
    for (i = 0; i < n; i++) {
        rc = probe(db, t[i].name, t[i].columns, &exists, &miss, e);
        if (rc != 0)
            goto out;
        if (!exists && create) {
            if (mysql_query(db, t[i].create) != 0) {
                rc = db_fail(db, e, "cannot create table", t[i].name);
                goto out;
            }
            note_created(created, size, t[i].name);
            rc = probe(db, t[i].name, t[i].columns, &exists, &miss, e);
            if (rc != 0)
                goto out;
        }
        if (exists && miss != NULL && create && bc->type == BACKEND_COREDNS_MYSQL && i == 0 &&
            strcmp(miss, "managed_by") == 0) {
            /* a zones table the plugin (or DirectDNSOnly without ownership) made */
            snprintf(sql, sizeof(sql), coredns_add_managed_by_sql, t[i].name);
            if (mysql_query(db, sql) != 0) {
                rc = db_fail(db, e, "cannot add column managed_by to table", t[i].name);
                goto out;
            }
            rc = probe(db, t[i].name, t[i].columns, &exists, &miss, e);
            if (rc != 0)
                goto out;
        }
        if (exists && miss != NULL && i == n - 1 && strcmp(miss, "rows_digest") == 0) {
            /* the writer's own state table from before inventories: migrated at every start,
             * with or without --init-schema */
            snprintf(sql, sizeof(sql), state_add_rows_digest_sql, t[i].name);
            if (mysql_query(db, sql) != 0) {
                rc = db_fail(db, e, "cannot add column rows_digest (needs the ALTER privilege) to",
                             t[i].name);
                goto out;
            }
            rc = probe(db, t[i].name, t[i].columns, &exists, &miss, e);
            if (rc != 0)
                goto out;
        }
        if (!t[i].required)
            continue;
        if (!exists) {
            rc = err_set(e, DADNS_ECONFIG,
                         "table `%s` does not exist in database `%s` (create the tables with "
                         "--init-schema or init_schema: true)",
                         t[i].name, bc->database);
            goto out;
        }
        if (miss != NULL) {
            rc = err_set(e, DADNS_ECONFIG,
                         "table `%s` in database `%s` has no column `%s`: not a table of the "
                         "%s format%s",
                         t[i].name, bc->database, miss,
                         bc->type == BACKEND_COREDNS_MYSQL ? "CoreDNS mysql_extend"
                                                           : "PowerDNS gmysql",
                         strcmp(miss, "managed_by") == 0 ? " (--init-schema adds managed_by)" : "");
            goto out;
        }
    }
out:
    /* the probes may have opened a read transaction (autocommit off): end it */
    if (mysql_rollback(db) != 0 && rc == 0)
        rc = db_fail(db, e, "cannot end the transaction after checking", bc->zones_table);
    return rc;
}
