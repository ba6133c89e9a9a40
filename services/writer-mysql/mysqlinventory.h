/* mysqlinventory.h -- what a CoreDNS mysql_extend or PowerDNS gmysql database really holds,
 * read from its tables for an inventory: every zone row, whether dadns manages it, the SOA
 * serial of its records, the version dadns recorded, and whether its records are still the
 * ones dadns wrote (rowhash.h against the state table's rows_digest).
 *
 * Owns the inventory's SELECTs (three, in one read-only consistent snapshot; the records
 * streamed); never writes. The connection and the writes are mysqlbackend.c's. */
#ifndef DADNS_MYSQLINVENTORY_H
#define DADNS_MYSQLINVENTORY_H

#include <mysql.h>
#include <stddef.h>

#include "change.h"
#include "config.h"
#include "err.h"

/* The digest reported for a managed zone whose rows differ from what dadns wrote. */
#define MYSQLINVENTORY_MODIFIED "modified"

/* Counters of one inventory. */
struct mysqlinventory_stats {
    size_t zones;     /* zone rows reported */
    size_t managed;   /* of them managed by dadns */
    size_t modified;  /* reported as MYSQLINVENTORY_MODIFIED */
    size_t unknown;   /* managed, but no rows digest to compare with (written before it
                         existed): digest "" */
    size_t rows;      /* records rows read */
    size_t bad_names; /* zone rows skipped: a name that cannot be reported */
    double seconds;   /* the whole inventory */
};

/* mysqlinventory_run - the inventory of backend @bc (coredns_mysql or powerdns_mysql;
 * borrowed) over connection @db (borrowed, connected to bc->database, no transaction or result
 * pending; it is left without one). In one REPEATABLE READ, READ ONLY transaction with a
 * consistent snapshot: every row of the zones table (ordered by id), every state row, then
 * every records row in one streamed SELECT (mysql_use_result), each row's rowhash added to its
 * zone's. Then, in zone name order, @fn(@arg, zone) for every zone row, with
 *  - zone: the name normalized (lowercase, no trailing dot);
 *  - managed: CoreDNS: managed_by equals bc->managed_by; PowerDNS: a live state row;
 *  - has_serial/serial: from the zone's served apex SOA row (CoreDNS hostname "@", PowerDNS
 *    name = the zone; online / not disabled), has_serial 0 when there is none;
 *  - version: the state row's version when it is live, else 0;
 *  - digest: for a managed zone with a live state row and a rows digest: the state row's
 *    digest (SHA-1 of the text applied, the store's digest) when the rows hash to the recorded
 *    rows digest, MYSQLINVENTORY_MODIFIED when they do not; "" otherwise (unmanaged, or rows
 *    written before rows_digest existed).
 * State rows without a zone row (a zone deleted by hand) are not reported. @st may be NULL.
 * Returns 0, the non-zero value @fn returned (it stops the inventory), DADNS_EBACKEND (the
 * connection failed), DADNS_ECONFIG (the server refused a statement) or DADNS_ENOMEM, @e set
 * for negative returns. */
int mysqlinventory_run(MYSQL *db, const struct backend_conf *bc, held_zone_fn fn, void *arg,
                       struct mysqlinventory_stats *st, struct err *e);

/* mysqlinventory_backend - struct change_backend.inventory for @ctx = a struct mysqlbackend:
 * mysqlinventory_run on its connection (made again when it was lost); a failure's text goes to
 * @reason (@size octets). */
int mysqlinventory_backend(void *ctx, held_zone_fn fn, void *arg, char *reason, size_t size);

#endif
