/* schema.h -- the tables dadns-writer-mysql writes: their CREATE TABLE statements (CoreDNS
 * mysql_extend, PowerDNS gmysql, and the writer's own state table) with the configured names,
 * and the start-up check that they exist with the columns the writer uses.
 *
 * SQL text is built here from table names only (config.c restricts them to [A-Za-z0-9_]{1,64});
 * no data ever goes into SQL text. Statements against the tables are mysqlbackend.c's. */
#ifndef DADNS_SCHEMA_H
#define DADNS_SCHEMA_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

#define SCHEMA_MAX_TABLES 8    /* most tables of one format, state table included */
#define SCHEMA_SQL_MAX    2048 /* room for one CREATE TABLE statement */

/* One table of a format. */
struct schema_table {
    const char *name;            /* table name: borrowed from the config, or a fixed name */
    const char *const *columns;  /* NULL-terminated columns the writer reads or writes */
    bool required;               /* the writer uses it: it must exist before the first batch */
    char create[SCHEMA_SQL_MAX]; /* CREATE TABLE IF NOT EXISTS ... for it */
};

/* schema_tables - the tables of backend @bc (type coredns_mysql or powerdns_mysql; borrowed,
 * must outlive @out) into @out (SCHEMA_MAX_TABLES entries), their number into *@n, in the order
 * they must be created.
 *  - coredns_mysql: zones_table (id, zone_name UNIQUE, managed_by), records_table (id, zone_id
 *    -> zones_table(id), hostname, type, data, ttl, online, INDEX idx_lookup), state_table.
 *  - powerdns_mysql: PowerDNS 4.7's schema.mysql.sql with zones_table for "domains" and
 *    records_table for "records" (indexes inline), then supermasters, comments,
 *    domainmetadata, cryptokeys, tsigkeys (fixed names: PowerDNS's queries use them; the
 *    writer needs comments, domainmetadata and cryptokeys to delete a zone), then state_table.
 *  - state_table: zone (PRIMARY KEY, normalized name without trailing dot), version, serial,
 *    digest (SHA-1 hex of the zone text), deleted, updated (UTC), rows_digest (rowhash.h
 *    digest of the records written, for inventories).
 * Pure. Returns 0, or DADNS_ECONFIG when @bc is of another type or a name is not a plain
 * identifier (config_load prevents both). */
int schema_tables(const struct backend_conf *bc, struct schema_table *out, size_t *n,
                  struct err *e);

/* schema_ensure - check on connection @db (borrowed, connected to bc->database) that every
 * required table of @bc exists with the columns the writer uses. With @create, run the CREATE
 * TABLE IF NOT EXISTS statements of every table first, and add a missing managed_by column to
 * a CoreDNS zones table (a table made by the plugin or by hand). With or without @create, a
 * state table without rows_digest (made before inventories) gets it (ALTER TABLE ... ADD
 * COLUMN IF NOT EXISTS, default ''); @created (may be NULL, @size
 * octets) receives the comma-separated names of the tables that did not exist before ("" when
 * none). Returns 0; DADNS_ECONFIG with @e naming the missing table or column (and suggesting
 * --init-schema) or reporting a server refusal; DADNS_EBACKEND when the connection failed
 * (the caller reconnects). Leaves no transaction open. */
int schema_ensure(MYSQL *db, const struct backend_conf *bc, bool create, char *created, size_t size,
                  struct err *e);

#endif
