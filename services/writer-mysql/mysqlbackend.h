/* mysqlbackend.h -- the MySQL/MariaDB backend of dadns-writer-mysql: applies a batch of changes
 * to a CoreDNS mysql_extend or PowerDNS gmysql database, one transaction per group of zones
 * (group_size; a zone that cannot share one gets its own).
 *
 * Owns the connection (TLS, timeouts, reconnect), the prepared statements and the transaction
 * algorithm; the rows come from rows.c (pure), the tables from schema.c, the operator commands
 * from hook.c, the batches from the consumer loop (consumer.h). It never logs: what is worth
 * a warning but fails nothing goes to the warn callback. */
#ifndef DADNS_MYSQLBACKEND_H
#define DADNS_MYSQLBACKEND_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "change.h"
#include "config.h"
#include "err.h"

#define MYSQLBACKEND_HOOK_TIMEOUT_MS 10000 /* limit for one post_commit / post_create command */
/* post_commit commands run at once: 16 pdns_control at once (2 replicas x 8) overflowed the
 * control socket of pdns_server ("Resource temporarily unavailable") */
#define MYSQLBACKEND_HOOK_PARALLEL 4

struct mysqlbackend;

/* Counters since open. */
struct mysqlbackend_stats {
    unsigned long long committed;      /* zone changes committed (saves, deletes, repairs) */
    unsigned long long transactions;   /* transactions that committed them (groups) */
    unsigned long long splits;         /* groups redone one zone per transaction */
    unsigned long long skipped;        /* changes the database already had (same or newer) */
    unsigned long long refused;        /* changes for zones dadns does not manage */
    unsigned long long retries;        /* transactions retried after 1213 / 1205 / a duplicate
                                          placeholder */
    unsigned long long count_mismatch; /* post-commit record counts that disagreed */
    unsigned long long hook_failures;  /* post_commit / post_create commands that failed */
    unsigned long long reconnects;     /* connections made after the first */
    unsigned long long rows_written;   /* records rows sent in INSERTs (retried ones too) */
};

/* A warning: something that fails no change but an operator should see (a post-commit record
 * count that disagrees, a failed post_commit / post_create command). @zone may be NULL (a
 * post_create command); @what is one line. Both are borrowed for the call. */
typedef void (*mysqlbackend_warn_fn)(void *arg, const char *zone, const char *what);

/* mysqlbackend_open - connect to the database of backend @bc (type coredns_mysql or
 * powerdns_mysql; borrowed, must outlive the backend) and check its tables (schema.h),
 * creating the missing ones when @init_schema or bc->init_schema is set. The session runs with
 * READ COMMITTED, autocommit off, strict SQL mode, utf8mb4, read/write timeouts of
 * 6 x connect_timeout_s and innodb_lock_wait_timeout of 2 x connect_timeout_s; TLS is
 * required when bc->tls (the certificate verified when bc->tls_verify, against bc->tls_ca
 * when set). With binary logging on, binlog_format must be ROW or MIXED.
 * @created (may be NULL, @size octets) receives the names of the tables it created.
 * On success *@out is a new backend (free with mysqlbackend_free). Returns 0;
 * DADNS_EBACKEND when the server could not be reached (worth retrying later);
 * DADNS_ECONFIG when it refused us (access denied, unknown database, missing table or column,
 * STATEMENT binlog): @e says which; DADNS_ENOMEM. */
int mysqlbackend_open(const struct backend_conf *bc, bool init_schema, char *created, size_t size,
                      struct mysqlbackend **out, struct err *e);

/* mysqlbackend_set_warn - call @fn(@arg, ...) for warnings from now on (NULL = none). */
void mysqlbackend_set_warn(struct mysqlbackend *mb, mysqlbackend_warn_fn fn, void *arg);

/* mysqlbackend_apply - struct change_backend.apply for @ctx = a struct mysqlbackend: apply the
 * @n changes of @changes (distinct zones) and set each one's result, repaired and reason.
 * Changes that come with a result already set (e.g. a state without text) are left alone.
 * The changes go in groups of up to bc->group_size zones (fewer once a group holds 8192
 * records rows), each zone's rows built first: a zone whose text cannot be converted fails
 * alone, with rows_build's reason, writing nothing. A group is sorted by zone name and runs in
 * ONE transaction, retried as a whole up to txn_retries times on deadlock (1213), lock wait
 * timeout (1205, only when the group is one zone) or a placeholder another writer inserted
 * first:
 *   1. lock the group's state rows (one statement, in zone order; a placeholder row is
 *      inserted for each zone that has none: the per-zone locks every writer takes first, in
 *      the same order, so replicas in one group serialize on shared zones without
 *      deadlocking) and read their versions;
 *   2. per zone, SAVE: nothing to do when the state's version >= the change's (an older
 *      version never overwrites a newer one). DELETE: nothing when it is newer, or equal and
 *      deleted. VERIFY: nothing when newer; when equal, the zone row exists and its records
 *      equal the rows built from the text, nothing either (verified); otherwise rewrite
 *      (repaired = 1). A forced change (change.force, op=push) is skipped only when the
 *      state's version is newer: a forced SAVE of the version the database has rewrites the
 *      zone row and records (rows lost or edited by hand come back), a forced DELETE of the
 *      version it already deleted removes a zone row left behind (a no-op when there is
 *      none);
 *   3. lock the zone rows (SELECT ... FOR UPDATE); a zone dadns does not manage (CoreDNS:
 *      managed_by differs; PowerDNS: no live state row) fails a SAVE/VERIFY with "zone exists
 *      and is not managed by dadns (...)" and makes a DELETE a no-op success, both writing
 *      nothing for that zone;
 *   4. DELETE: delete records (PowerDNS also domainmetadata, comments, cryptokeys) and the
 *      zone row, mark the state row deleted with the change's version. SAVE/VERIFY: delete the
 *      records of the existing zones, insert the missing zone rows (CoreDNS managed_by,
 *      PowerDNS type NATIVE and account = managed_by), insert the rows of every zone with
 *      cached multi-row prepared INSERTs of 128/64/.../2/1 rows, update the state rows
 *      (version, serial, digest = SHA1(text) -- the store's digest --, rows_digest = the
 *      rowhash.h digest of the rows written, deleted=0, updated);
 *   5. COMMIT (a group that wrote nothing is rolled back), then count the records of the
 *      zones written (a mismatch with the rowset is a warning and counted).
 * When a group of several zones cannot commit -- a zone not managed by dadns, a statement the
 * server refused, its retries used up or a lock wait timeout -- it is rolled back and each of
 * its zones runs alone as above, so one bad zone never fails the others. After the batch,
 * post_commit runs for every zone committed ({zone} replaced), MYSQLBACKEND_HOOK_PARALLEL at
 * a time, then post_create once when zones were created. A failed command is a warning,
 * never a failed change. When the connection is lost, the group (or zone) in progress and
 * every later change of the batch fail and the next call reconnects (a ping at the start of
 * each call finds a dead idle connection). A zone dadns does not manage and a text that cannot
 * be converted (rows_build: DADNS_EZONE/DADNS_EINVAL) also set permanent = 1: retrying cannot
 * help, the consumer moves them to the dead letters. Returns 0 when the batch was processed
 * (failures are in the results), or DADNS_EBACKEND when the database could not be reached at
 * all (every change has that result and reason then), or DADNS_ENOMEM. */
int mysqlbackend_apply(void *ctx, struct change *changes, size_t n);

/* mysqlbackend_probe - struct change_backend.probe for @ctx = a struct mysqlbackend (the
 * consumer's circuit breaker): ping the connection (mysql_ping), making it again when it was
 * lost. Returns 0 when the database answers, else DADNS_EBACKEND / DADNS_ECONFIG /
 * DADNS_ENOMEM with @reason (@size octets) set. */
int mysqlbackend_probe(void *ctx, char *reason, size_t size);

/* mysqlbackend_stats - the counters of @mb, borrowed (valid until mysqlbackend_free). */
const struct mysqlbackend_stats *mysqlbackend_stats(const struct mysqlbackend *mb);

/* mysqlbackend_conf - the settings @mb was opened with (borrowed from the caller of
 * mysqlbackend_open). */
const struct backend_conf *mysqlbackend_conf(const struct mysqlbackend *mb);

/* mysqlbackend_connection - the connection of @mb for reading outside a batch (the
 * inventory, mysqlinventory.c), pinged first and made again when it was lost, into *@db
 * (borrowed: valid until the next call on @mb; leave no transaction or result pending on it).
 * Returns 0, or DADNS_EBACKEND / DADNS_ECONFIG / DADNS_ENOMEM as mysqlbackend_open, @e set. */
int mysqlbackend_connection(struct mysqlbackend *mb, MYSQL **db, struct err *e);

/* mysqlbackend_free - close the connection and release @mb; NULL is fine. */
void mysqlbackend_free(struct mysqlbackend *mb);

#endif
