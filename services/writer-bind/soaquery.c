/* soaquery.c -- SOA queries to one DNS server for many zones (see soaquery.h).
 *
 * Packets are libknot's (build, parse, names); the loop is plain UDP: a few connected,
 * non-blocking sockets, sendmmsg/recvmmsg in batches, a table from message id to query in
 * flight, and a scan of the (small) window for queries due to be resent. Which zones to ask
 * and what the answers mean for an inventory is bindinventory.c's business. */
#include "soaquery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#define DEF_WINDOW   128
#define MAX_WINDOW   4096
#define DEF_TIMEOUT  500
#define DEF_TRIES    4
#define DEF_DEADLINE 60000
#define DEF_SOCKETS  4
#define MAX_SOCKETS  16
#define MIN_LIMIT    16         /* the adaptive window never goes below this */
#define BATCH        64         /* datagrams per sendmmsg / recvmmsg */
#define RECV_MAX     4096       /* octets of one answer kept (longer ones are cut: ignored) */
#define RCVBUF_WANT  (4 << 20)  /* socket receive buffer asked for */
#define NO_SLOT      UINT16_MAX /* by_id: no query in flight with that id */
#define ID_SPACE     (UINT16_MAX + 1)

/* ------------------------------------------------------------------------------------------ */
/* Pure part                                                                                  */

int soaquery_qname(const char *zone, uint8_t out[SOAQUERY_QNAME_MAX])
{
    if (zone == NULL || zone[0] == '\0' ||
        knot_dname_from_str(out, zone, SOAQUERY_QNAME_MAX) == NULL)
        return DADNS_ENAME;
    return (int)knot_dname_size(out);
}

int soaquery_build(const uint8_t *qname, uint16_t id, uint8_t *wire, size_t size, size_t *len)
{
    knot_pkt_t *pkt = NULL;
    knot_rrset_t opt;
    bool have_opt = false;
    int rc = 0;

    *len = 0;
    pkt = knot_pkt_new(NULL, SOAQUERY_WIRE_MAX, NULL);
    if (pkt == NULL)
        return DADNS_ENOMEM;
    knot_wire_set_id(pkt->wire, id);
    if (knot_pkt_put_question(pkt, qname, KNOT_CLASS_IN, KNOT_RRTYPE_SOA) != KNOT_EOK) {
        rc = DADNS_EINVAL;
        goto out;
    }
    if (knot_edns_init(&opt, SOAQUERY_EDNS_SIZE, 0, 0, NULL) != KNOT_EOK) {
        rc = DADNS_ENOMEM;
        goto out;
    }
    have_opt = true;
    if (knot_pkt_begin(pkt, KNOT_ADDITIONAL) != KNOT_EOK ||
        knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt, 0) != KNOT_EOK) {
        rc = DADNS_EINVAL;
        goto out;
    }
    if (pkt->size > size) {
        rc = DADNS_ETOOBIG;
        goto out;
    }
    memcpy(wire, pkt->wire, pkt->size);
    *len = pkt->size;
out:
    knot_pkt_free(pkt);
    if (have_opt)
        knot_rrset_clear(&opt, NULL);
    return rc;
}

int soaquery_id(const uint8_t *wire, size_t len)
{
    if (len < KNOT_WIRE_HEADER_SIZE)
        return -1;
    return (int)knot_wire_get_id(wire);
}

int soaquery_parse(const uint8_t *wire, size_t len, const uint8_t *qname,
                   struct soaquery_result *out)
{
    uint8_t copy[RECV_MAX];
    const knot_pktsection_t *an;
    const knot_dname_t *q;
    knot_pkt_t *pkt = NULL;
    struct soaquery_result r;
    uint16_t i;
    int rc = DADNS_EINVAL;

    /* header and question first: cheap, and enough to throw away what is not ours */
    if (len < KNOT_WIRE_HEADER_SIZE || len > sizeof(copy) || !knot_wire_get_qr(wire) ||
        knot_wire_get_opcode(wire) != KNOT_OPCODE_QUERY || knot_wire_get_qdcount(wire) != 1)
        return DADNS_EINVAL;
    memcpy(copy, wire, len); /* the parser may rewrite the wire (TSIG) */
    pkt = knot_pkt_new(copy, (uint16_t)len, NULL);
    if (pkt == NULL)
        return DADNS_ENOMEM;
    if (knot_pkt_parse(pkt, 0) != KNOT_EOK)
        goto out;
    q = knot_pkt_qname(pkt);
    if (q == NULL || !knot_dname_is_case_equal(q, qname) ||
        knot_pkt_qtype(pkt) != KNOT_RRTYPE_SOA || knot_pkt_qclass(pkt) != KNOT_CLASS_IN)
        goto out;
    memset(&r, 0, sizeof(r));
    r.status = SOAQUERY_NOSERIAL;
    r.rcode = (int)knot_pkt_ext_rcode(pkt);
    if (r.rcode == KNOT_RCODE_NOERROR && knot_wire_get_aa(pkt->wire)) {
        an = knot_pkt_section(pkt, KNOT_ANSWER);
        for (i = 0; i < an->count; i++) {
            const knot_rrset_t *rr = knot_pkt_rr(an, i);

            if (rr->type == KNOT_RRTYPE_SOA && rr->rclass == KNOT_CLASS_IN && rr->rrs.count >= 1 &&
                knot_dname_is_case_equal(rr->owner, qname)) {
                r.status = SOAQUERY_SERIAL;
                r.serial = knot_soa_serial(rr->rrs.rdata);
                break;
            }
        }
    }
    out->status = r.status;
    out->serial = r.serial;
    out->rcode = r.rcode;
    rc = 0;
out:
    knot_pkt_free(pkt);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The loop                                                                                   */

/* One query in flight. */
struct slot {
    size_t zone;                       /* index into the zones */
    uint64_t sent_ms;                  /* when it was last sent (0: queued) */
    uint16_t id;                       /* its message id */
    uint16_t len;                      /* octets of wire */
    uint8_t sock;                      /* the socket it goes out on */
    bool used;                         /* in flight */
    uint8_t qname[SOAQUERY_QNAME_MAX]; /* the question, for matching answers */
    uint8_t wire[SOAQUERY_WIRE_MAX];   /* the query, resent as is */
};

/* The state of one run. */
struct run {
    int fds[MAX_SOCKETS];            /* the connected sockets, -1 when not open */
    unsigned nsock;                  /* how many */
    const char *const *zones;        /* borrowed */
    size_t n;                        /* zones */
    struct soaquery_result *results; /* borrowed, n entries */
    struct soaquery_stats st;        /* counters */
    unsigned window, timeout_ms, tries;
    unsigned limit;      /* queries in flight allowed now (<= window), see adapt_* */
    unsigned good;       /* answers since the limit last grew */
    uint64_t last_cut;   /* when the limit was last cut */
    struct slot *slots;  /* window entries */
    uint16_t *free_list; /* indexes of unused slots */
    size_t n_free;       /* how many */
    uint16_t *by_id;     /* ID_SPACE entries: slot index, or NO_SLOT */
    uint16_t next_id;    /* next id to try */
    size_t next;         /* next zone to start */
    size_t done;         /* zones with a final result */
    uint16_t *queue;     /* slots to send in this round */
    size_t n_queue;      /* how many */
    uint8_t *rbuf;       /* BATCH * RECV_MAX octets for recvmmsg */
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The window adapts to what the server keeps up with. Measured against named 9.18 on
 * loopback: a burst of 256 queries overflowed the receive buffer of named's socket (the
 * kernel's default, 208 KiB, holds about 250 small datagrams) and each lost query cost a
 * timeout, while 64-128 in flight lost none at the same rate. So: a query that had to be
 * resent cuts the limit by a quarter (at most once per timeout, not below MIN_LIMIT), and
 * every "limit" answers without a loss let it grow by one again, up to the window. */
static void adapt_loss(struct run *r, uint64_t now)
{
    if (r->last_cut != 0 && now < r->last_cut + r->timeout_ms)
        return;
    r->last_cut = now;
    r->limit = r->limit * 3 / 4 < MIN_LIMIT ? MIN_LIMIT : r->limit * 3 / 4;
    if (r->limit > r->window)
        r->limit = r->window;
    r->good = 0;
}

static void adapt_answer(struct run *r)
{
    if (++r->good >= r->limit && r->limit < r->window) {
        r->limit++;
        r->good = 0;
    }
}

/* release - slot @k is no longer in flight. */
static void release(struct run *r, uint16_t k)
{
    struct slot *s = &r->slots[k];

    r->by_id[s->id] = NO_SLOT;
    s->used = false;
    r->free_list[r->n_free++] = k;
}

/* finish - zone of slot @k has its final result. */
static void finish(struct run *r, uint16_t k)
{
    release(r, k);
    r->done++;
}

/* take_id - an id no query in flight uses (there are at most MAX_WINDOW of them). */
static uint16_t take_id(struct run *r)
{
    while (r->by_id[r->next_id] != NO_SLOT)
        r->next_id++;
    return r->next_id++;
}

/* start_next - put the next zones into free slots, up to the limit, and queue them. */
static void start_next(struct run *r)
{
    while (r->n_free > 0 && r->window - r->n_free < r->limit && r->next < r->n) {
        size_t z = r->next++;
        struct soaquery_result *res = &r->results[z];
        uint16_t k = r->free_list[r->n_free - 1];
        struct slot *s = &r->slots[k];
        size_t len = 0;
        int qlen;

        memset(res, 0, sizeof(*res));
        res->rcode = -1;
        qlen = soaquery_qname(r->zones[z], s->qname);
        s->id = take_id(r);
        if (qlen < 0 || soaquery_build(s->qname, s->id, s->wire, sizeof(s->wire), &len) != 0) {
            res->status = SOAQUERY_NOSERIAL; /* never asked */
            r->done++;
            continue;
        }
        r->n_free--;
        s->zone = z;
        s->len = (uint16_t)len;
        s->sock = (uint8_t)(z % r->nsock);
        s->used = true;
        s->sent_ms = 0;
        r->by_id[s->id] = k;
        r->queue[r->n_queue++] = k;
    }
}

/* expire - give up on or queue again the queries whose time is up; *@wake gets the earliest
 * moment a query in flight will be due. */
static void expire(struct run *r, uint64_t now, uint64_t *wake)
{
    uint16_t k;

    for (k = 0; k < r->window; k++) {
        struct slot *s = &r->slots[k];
        uint64_t due;

        if (!s->used || s->sent_ms == 0)
            continue;
        due = s->sent_ms + r->timeout_ms;
        if (due > now) {
            if (due < *wake)
                *wake = due;
            continue;
        }
        adapt_loss(r, now);
        if (r->results[s->zone].tries >= r->tries) {
            r->results[s->zone].status = SOAQUERY_TIMEOUT;
            r->st.timeouts++;
            finish(r, k);
            continue;
        }
        s->sent_ms = 0; /* queued */
        r->st.resent++;
        r->queue[r->n_queue++] = k;
    }
}

/* flush_sock - send the queued queries of socket @sock, BATCH at a time. A datagram the kernel
 * would not take now counts as sent: it is resent after the timeout. */
static int flush_sock(struct run *r, unsigned sock, uint64_t now, struct err *e)
{
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint16_t pick[BATCH];
    size_t i = 0, m, j;
    int sent;

    while (i < r->n_queue) {
        for (m = 0; i < r->n_queue && m < BATCH; i++) {
            if (r->slots[r->queue[i]].sock == sock)
                pick[m++] = r->queue[i];
        }
        if (m == 0)
            break;
        memset(msgs, 0, sizeof(msgs[0]) * m);
        for (j = 0; j < m; j++) {
            struct slot *s = &r->slots[pick[j]];

            iov[j].iov_base = s->wire;
            iov[j].iov_len = s->len;
            msgs[j].msg_hdr.msg_iov = &iov[j];
            msgs[j].msg_hdr.msg_iovlen = 1;
        }
        for (j = 0; j < m;) {
            sent = sendmmsg(r->fds[sock], msgs + j, (unsigned)(m - j), MSG_DONTWAIT);
            if (sent < 0 && errno == EINTR)
                continue;
            if (sent < 0) {
                if (errno == ECONNREFUSED)
                    r->st.refused_io++;
                else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
                    return err_set(e, DADNS_EIO, "cannot send SOA queries: %s", strerror(errno));
                sent = (int)(m - j); /* not taken: they time out and go again */
            } else {
                r->st.sent += (unsigned long)sent;
            }
            if (sent == 0)
                sent = (int)(m - j);
            j += (size_t)sent;
        }
        for (j = 0; j < m; j++) {
            struct slot *s = &r->slots[pick[j]];

            s->sent_ms = now;
            r->results[s->zone].tries++;
        }
    }
    return 0;
}

static int flush(struct run *r, uint64_t now, struct err *e)
{
    unsigned sock;
    int rc = 0;

    for (sock = 0; rc == 0 && sock < r->nsock; sock++)
        rc = flush_sock(r, sock, now, e);
    r->n_queue = 0;
    return rc;
}

/* drain - read every answer waiting on socket @fd and settle the queries they answer. */
static int drain(struct run *r, int fd, struct err *e)
{
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int got, i;

    for (;;) {
        memset(msgs, 0, sizeof(msgs));
        for (i = 0; i < BATCH; i++) {
            iov[i].iov_base = r->rbuf + (size_t)i * RECV_MAX;
            iov[i].iov_len = RECV_MAX;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == ECONNREFUSED) { /* an ICMP port unreachable came back */
                r->st.refused_io++;
                continue;
            }
            return err_set(e, DADNS_EIO, "cannot receive SOA answers: %s", strerror(errno));
        }
        for (i = 0; i < got; i++) {
            const uint8_t *w = iov[i].iov_base;
            size_t len = msgs[i].msg_len;
            int id = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : soaquery_id(w, len);
            uint16_t k = id < 0 ? NO_SLOT : r->by_id[id];
            struct slot *s;

            if (k == NO_SLOT) {
                r->st.stray++;
                continue;
            }
            s = &r->slots[k];
            if (soaquery_parse(w, len, s->qname, &r->results[s->zone]) != 0) {
                r->st.stray++;
                continue;
            }
            r->st.answers++;
            adapt_answer(r);
            finish(r, k);
        }
        if (got < BATCH)
            return 0;
    }
}

/* open_socket - a non-blocking UDP socket connected to @addr port @port. */
static int open_socket(const char *addr, int port, int *out, struct err *e)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    int fd, rcv = RCVBUF_WANT;

    memset(&ss, 0, sizeof(ss));
    if (port < 1 || port > 65535)
        return err_set(e, DADNS_EINVAL, "query port %d is not 1-65535", port);
    if (addr != NULL && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof(*s4);
    } else if (addr != NULL && inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*s6);
    } else {
        return err_set(e, DADNS_EINVAL, "query address \"%.100s\" is not an IPv4 or IPv6 literal",
                       addr != NULL ? addr : "");
    }
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, DADNS_EIO, "cannot create a UDP socket: %s", strerror(errno));
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)); /* best effort */
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        int err = errno;

        close(fd);
        return err_set(e, DADNS_EIO, "cannot reach %s port %d: %s", addr, port, strerror(err));
    }
    *out = fd;
    return 0;
}

int soaquery_run(const char *addr, int port, const char *const *zones, size_t n,
                 const struct soaquery_opts *opts, struct soaquery_result *results,
                 struct soaquery_stats *stats, struct err *e)
{
    struct pollfd pfd[MAX_SOCKETS];
    struct run r;
    uint64_t start, deadline, now, wake;
    size_t i;
    uint16_t k;
    unsigned j;
    int rc = 0;

    memset(&r, 0, sizeof(r));
    for (j = 0; j < MAX_SOCKETS; j++)
        r.fds[j] = -1;
    r.zones = zones;
    r.n = n;
    r.results = results;
    r.window = opts != NULL && opts->window > 0 ? opts->window : DEF_WINDOW;
    if (r.window > MAX_WINDOW)
        r.window = MAX_WINDOW;
    r.limit = r.window;
    r.timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEF_TIMEOUT;
    r.tries = opts != NULL && opts->tries > 0 ? opts->tries : DEF_TRIES;
    r.nsock = opts != NULL && opts->sockets > 0 ? opts->sockets : DEF_SOCKETS;
    if (r.nsock > MAX_SOCKETS)
        r.nsock = MAX_SOCKETS;
    start = now_ms();
    deadline = start + (opts != NULL && opts->deadline_ms > 0 ? opts->deadline_ms : DEF_DEADLINE);
    for (i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        results[i].rcode = -1;
    }

    for (j = 0; j < r.nsock; j++) {
        rc = open_socket(addr, port, &r.fds[j], e);
        if (rc != 0)
            goto out;
        pfd[j].fd = r.fds[j];
        pfd[j].events = POLLIN;
    }
    if (n == 0)
        goto out;
    r.slots = calloc(r.window, sizeof(*r.slots));
    r.free_list = calloc(r.window, sizeof(*r.free_list));
    r.queue = calloc(r.window, sizeof(*r.queue));
    r.by_id = malloc(ID_SPACE * sizeof(*r.by_id));
    r.rbuf = malloc((size_t)BATCH * RECV_MAX);
    if (r.slots == NULL || r.free_list == NULL || r.queue == NULL || r.by_id == NULL ||
        r.rbuf == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory for %u queries in flight", r.window);
        goto out;
    }
    for (i = 0; i < ID_SPACE; i++)
        r.by_id[i] = NO_SLOT;
    for (k = 0; k < r.window; k++)
        r.free_list[r.n_free++] = (uint16_t)(r.window - 1 - k);
    if (getrandom(&r.next_id, sizeof(r.next_id), GRND_NONBLOCK) != sizeof(r.next_id))
        r.next_id = (uint16_t)(start ^ (uint64_t)getpid());

    while (r.done < n) {
        int wait_ms;

        now = now_ms();
        if (now >= deadline)
            break;
        wake = deadline;
        expire(&r, now, &wake);
        start_next(&r);
        if (r.n_queue > 0) {
            rc = flush(&r, now, e);
            if (rc != 0)
                goto out;
            if (now + r.timeout_ms < wake)
                wake = now + r.timeout_ms;
        }
        if (r.done >= n)
            break;
        wait_ms = (int)(wake > now ? wake - now : 0);
        for (j = 0; j < r.nsock; j++)
            pfd[j].revents = 0;
        if (poll(pfd, r.nsock, wait_ms) < 0 && errno != EINTR) {
            rc = err_set(e, DADNS_EIO, "poll: %s", strerror(errno));
            goto out;
        }
        for (j = 0; j < r.nsock; j++) {
            if (pfd[j].revents == 0)
                continue;
            rc = drain(&r, r.fds[j], e);
            if (rc != 0)
                goto out;
        }
    }
    /* the deadline: what is still in flight or never started timed out */
    for (k = 0; k < r.window; k++) {
        if (r.slots[k].used) {
            r.results[r.slots[k].zone].status = SOAQUERY_TIMEOUT;
            r.st.timeouts++;
            finish(&r, k);
        }
    }
    for (; r.next < n; r.next++) {
        r.results[r.next].status = SOAQUERY_TIMEOUT;
        r.st.timeouts++;
    }
out:
    r.st.limit = r.limit;
    if (stats != NULL)
        *stats = r.st;
    for (j = 0; j < MAX_SOCKETS; j++) {
        if (r.fds[j] >= 0)
            close(r.fds[j]);
    }
    free(r.slots);
    free(r.free_list);
    free(r.queue);
    free(r.by_id);
    free(r.rbuf);
    return rc;
}
