/* bindinventory.h -- what BIND really holds for dadns, read from BIND's side: the zones of the
 * include dadns generated (parsed with bindconf.c), the SOA serial named serves for each
 * (soaquery.c), and the version and digest of each zone file on disk.
 *
 * Owns the reading of the include and the zone files for an inventory; never writes anything.
 * Applying changes is bindbackend.c's; publishing the inventory is the consumer's. */
#ifndef DADNS_BINDINVENTORY_H
#define DADNS_BINDINVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "config.h"
#include "err.h"
#include "soaquery.h"

/* The digest reported for a zone whose file is missing from zones_dir. */
#define BINDINVENTORY_MODIFIED "modified"

/* Counters of one inventory. */
struct bindinventory_stats {
    size_t zones;            /* zones in the include */
    size_t served;           /* with a serial from named */
    size_t missing_files;    /* include zones without a zone file */
    size_t foreign_files;    /* zone files without dadns's header line for their zone */
    double query_s;          /* seconds spent on the SOA queries */
    double files_s;          /* seconds spent reading and hashing zone files */
    struct soaquery_stats q; /* the SOA query loop's counters */
};

/* bindinventory_header - the length of the header line bindconf_render_zone writes for @zone
 * ("; zone <zone> version <v> serial <s> written by dadns\n", with the token
 * BINDCONF_NL_TOKEN after <s> when dadns added the file's final newline) when the @len octets
 * at @data start with exactly that line, with *@version set to <v> and *@added_nl (may be
 * NULL) to 1 when the token is there; otherwise 0 with *@version = 0 and *@added_nl = 0.
 * Pure. */
size_t bindinventory_header(const char *zone, const char *data, size_t len, uint64_t *version,
                            int *added_nl);

/* bindinventory_run - the inventory of BIND backend @bc (borrowed): read the include at
 * bc->named_conf (a missing include holds no zone; one dadns did not write is an error), ask
 * named at bc->query_addr:bc->query_port for the SOA of every zone in it (@opts, may be NULL:
 * soaquery's defaults), then, in zone name order, call @fn(@arg, zone) with
 *  - has_serial/serial: the serial of an authoritative answer; 0 for SERVFAIL (failed to load),
 *    REFUSED (named does not have it), a timeout, anything else;
 *  - digest: SHA-1 hex of the zone file after dadns's header line, without the final
 *    newline dadns added when the header says so (BINDCONF_NL_TOKEN): the text as pushed,
 *    comparable with the store's digest; of the whole file when the header is not there;
 *    BINDINVENTORY_MODIFIED when the file is missing; "" when it cannot be read;
 *  - version: from the header line, 0 without one; managed = 1.
 * Zone files not listed in the include are not reported (named does not load them).
 * @st (may be NULL) gets counters. Returns 0; the non-zero value @fn returned (it stops the
 * inventory); DADNS_EBACKEND when named answered none of the queries (it is down: nothing
 * can be said about any zone) or the socket failed; DADNS_ECONFIG for an include dadns did not
 * write; DADNS_EIO, DADNS_ENOMEM; @e is set for negative returns. */
int bindinventory_run(const struct backend_conf *bc, const struct soaquery_opts *opts,
                      held_zone_fn fn, void *arg, struct bindinventory_stats *st, struct err *e);

/* bindinventory_backend - struct change_backend.inventory for @ctx = a struct bindbackend:
 * bindinventory_run with its configuration and default query options; a failure's text goes
 * to @reason (@size octets). */
int bindinventory_backend(void *ctx, held_zone_fn fn, void *arg, char *reason, size_t size);

#endif
