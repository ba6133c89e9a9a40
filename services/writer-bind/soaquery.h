/* soaquery.h -- the SOA serial a DNS server really serves for each of many zones: queries built
 * and answers checked with libknot (pure), then a few UDP sockets with many queries in flight.
 *
 * Owns the packets and the socket; which zones to ask about, and what an answer means for an
 * inventory, are the caller's (bindinventory.c). */
#ifndef DADNS_SOAQUERY_H
#define DADNS_SOAQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SOAQUERY_WIRE_MAX  512  /* room for one query (a 253-octet name and EDNS fit easily) */
#define SOAQUERY_EDNS_SIZE 1232 /* UDP payload size offered in the queries' OPT record */
#define SOAQUERY_QNAME_MAX 255  /* a name in wire form */

/* What the server said about one zone. */
enum soaquery_status {
    SOAQUERY_PENDING = 0, /* not answered (yet) */
    SOAQUERY_SERIAL,      /* authoritative NOERROR answer holding the zone's SOA: @serial */
    SOAQUERY_NOSERIAL,    /* answered, but not with the zone's SOA (SERVFAIL: failed to load;
                             REFUSED: not a zone of the server; NXDOMAIN, a referral, no AA) */
    SOAQUERY_TIMEOUT,     /* no answer after every try, or the deadline came first */
};

/* The outcome for one zone. */
struct soaquery_result {
    enum soaquery_status status;
    uint32_t serial; /* with SOAQUERY_SERIAL */
    int rcode;       /* the answer's RCODE (extended with EDNS), -1 when none came */
    unsigned tries;  /* queries sent for it */
};

/* How to ask. Zero fields take the defaults in brackets. */
struct soaquery_opts {
    unsigned window;      /* queries in flight at once [128], at most 4096 */
    unsigned timeout_ms;  /* wait for an answer before sending again [500] */
    unsigned tries;       /* queries per zone at most [4] */
    unsigned deadline_ms; /* the whole run at most [60000]: zones still unanswered time out */
    unsigned sockets;     /* UDP sockets (source ports) the queries are spread over [4], at
                             most 16: a server with SO_REUSEPORT listeners (named 9.16+) hashes
                             each source port to one of its threads */
};

/* Counters of one run. */
struct soaquery_stats {
    unsigned long sent;       /* datagrams sent, retries included */
    unsigned long answers;    /* answers matched to a query in flight */
    unsigned long stray;      /* datagrams that matched no query in flight (late, bad) */
    unsigned long timeouts;   /* zones that got no answer */
    unsigned long refused_io; /* sends or receives that failed with ECONNREFUSED (ICMP) */
    unsigned long resent;     /* queries sent again after a timeout */
    unsigned limit;           /* the adaptive window at the end (see soaquery_run) */
};

/* ---- pure ---------------------------------------------------------------------------------- */

/* soaquery_qname - the wire form of zone @zone (presentation text, e.g. "example.com", a
 * trailing dot optional) into @out (SOAQUERY_QNAME_MAX octets). Returns its length (> 0), or
 * DADNS_ENAME when libknot cannot convert it. */
int soaquery_qname(const char *zone, uint8_t out[SOAQUERY_QNAME_MAX]);

/* soaquery_build - a query "@qname IN SOA", id @id, RD clear, with an EDNS OPT record offering
 * SOAQUERY_EDNS_SIZE, into @wire (@size octets, SOAQUERY_WIRE_MAX is enough). @qname is a wire
 * name (soaquery_qname). *@len gets the length. Returns 0, DADNS_ETOOBIG (@size too small),
 * DADNS_EINVAL (a bad @qname) or DADNS_ENOMEM. */
int soaquery_build(const uint8_t *qname, uint16_t id, uint8_t *wire, size_t size, size_t *len);

/* soaquery_id - the message id of the @len octets at @wire, or -1 when it has no DNS header. */
int soaquery_id(const uint8_t *wire, size_t len);

/* soaquery_parse - is the datagram @wire (@len octets) the answer to "@qname IN SOA" (wire name,
 * compared without regard to ASCII case)? It must be a response (QR) to a standard query with
 * that single question, class IN, type SOA. The id is not checked (the caller matched it).
 * When it is, @out gets status SOAQUERY_SERIAL (RCODE NOERROR, AA set, an SOA record owned by
 * @qname in the answer section -- even when TC is set) or SOAQUERY_NOSERIAL, and the RCODE;
 * @out->tries is left alone. Returns 0, or DADNS_EINVAL when the datagram is not such an answer
 * (malformed, another question, a query) or DADNS_ENOMEM: then @out is untouched. */
int soaquery_parse(const uint8_t *wire, size_t len, const uint8_t *qname,
                   struct soaquery_result *out);

/* ---- against a server ---------------------------------------------------------------------- */

/* soaquery_run - ask the server at @addr (IPv4 or IPv6 literal) port @port for the SOA of each
 * of the @n zones of @zones (presentation names, borrowed) over opts->sockets connected UDP
 * sockets: up to opts->window queries in flight (fewer after losses: a resent query cuts the
 * limit by a quarter, at most once per timeout and not below 16; each limit answers in a row
 * raise it by one), each resent after opts->timeout_ms up to opts->tries times,
 * answers matched by message id and question name (anything else is ignored), the whole run
 * ending by opts->deadline_ms. @results (@n entries, caller's) gets each zone's outcome;
 * @opts may be NULL (defaults), @stats may be NULL. A zone whose name cannot be converted gets
 * SOAQUERY_NOSERIAL with rcode -1 and is not asked.
 * Returns 0 when the run took place (even if some or all zones timed out: see @results), or
 * DADNS_EINVAL (bad @addr or @port), DADNS_EIO (socket trouble) or DADNS_ENOMEM, with @e set. */
int soaquery_run(const char *addr, int port, const char *const *zones, size_t n,
                 const struct soaquery_opts *opts, struct soaquery_result *results,
                 struct soaquery_stats *stats, struct err *e);

#endif
