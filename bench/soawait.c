/* soawait.c -- benchmark helper: wait until a DNS server serves every zone of a list with an
 * expected SOA serial, and say how long that took.
 *
 * Owns the UDP query loop (many queries in flight, retransmits, re-asks after a stale answer);
 * packets are built and parsed by libknot (knot_pkt_*), zone names checked by name.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "err.h"
#include "name.h"

#define SLOT_BITS  12                /* query id = generation << SLOT_BITS | slot */
#define MAX_WINDOW (1u << SLOT_BITS) /* queries in flight at most */
#define NS_PER_MS  1000000ULL
#define NS_PER_S   1000000000ULL

/* One zone to wait for. */
struct target {
    char name[NAME_BUF_SIZE];         /* normalized presentation form */
    uint8_t dname[KNOT_DNAME_MAXLEN]; /* lowercase wire form */
    uint64_t due_ns;                  /* earliest time of the next query */
    bool done;                        /* served with the expected serial */
};

/* One query in flight. */
struct slot {
    long target;      /* index into the targets, -1 when free */
    uint16_t id;      /* DNS message id of the query */
    uint64_t sent_ns; /* when it was sent, for retransmission */
};

struct opts {
    const char *server;
    int port;
    const char *list;
    uint32_t serial;
    bool have_serial;
    uint64_t timeout_ns;
    uint64_t start_ns; /* 0 = our own start */
    unsigned window;
    uint64_t retry_ns;      /* re-ask delay after an answer without the serial */
    uint64_t retransmit_ns; /* resend delay when no answer came */
    uint64_t progress_ns;   /* 0 = no progress lines */
    double qps;             /* query rate limit, 0 = none */
    bool quiet;
};

struct run {
    struct target *t; /* targets, owned */
    size_t n;
    size_t cap;
    long *queue; /* FIFO ring of target indexes waiting for a query, capacity n */
    size_t q_head;
    size_t q_len;
    struct slot slots[MAX_WINDOW];
    unsigned inflight;
    unsigned gen;
    size_t done;
    uint64_t sent;
    uint64_t answers;
    uint64_t stale; /* answers without the expected serial (REFUSED, old serial, ...) */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dadns-bench-soawait -e SERIAL (-f LIST | -z ZONE...) [options]\n"
               "  -s ADDR      DNS server IPv4 address (127.0.0.1)\n"
               "  -p PORT      DNS server port (53)\n"
               "  -f FILE      zone names, one a line ('-' = stdin)\n"
               "  -z ZONE      a zone name (repeatable)\n"
               "  -e SERIAL    the SOA serial every zone must serve\n"
               "  -t SECONDS   give up after this long (60)\n"
               "  -T START     start timestamp, epoch seconds[.fraction] (default: now)\n"
               "  -w N         queries in flight (256, max 4096)\n"
               "  -r MS        re-ask a zone this long after a stale answer (5)\n"
               "  -R MS        retransmit after this long without an answer (300)\n"
               "  -i MS        progress line every MS on stderr (1000, 0 = none)\n"
               "  -Q QPS       at most QPS queries a second (10000, 0 = no limit)\n"
               "  -q           print only the result line\n"
               "Prints 'elapsed=SECONDS done=N total=N ...'; exits 0 when all zones serve\n"
               "the serial, 1 on timeout, 2 on usage or system errors.\n");
}

/* Parse a non-negative integer in [0, max]. */
static int parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-')
        return DADNS_EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return DADNS_EINVAL;
    *out = v;
    return 0;
}

/* Parse "SECONDS[.FRACTION]" (e.g. bash's $EPOCHREALTIME) into nanoseconds. */
static int parse_time_ns(const char *s, uint64_t *out)
{
    char sec[32];
    const char *dot = strchr(s, '.');
    size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);
    unsigned long long secs = 0, frac_ns = 0;
    size_t i;

    if (len == 0 || len >= sizeof(sec))
        return DADNS_EINVAL;
    memcpy(sec, s, len);
    sec[len] = '\0';
    if (parse_ulong(sec, 4000000000ULL, &secs) != 0)
        return DADNS_EINVAL;
    if (dot != NULL) {
        unsigned long long scale = NS_PER_S / 10;

        for (i = 1; dot[i] != '\0'; i++) {
            if (dot[i] < '0' || dot[i] > '9')
                return DADNS_EINVAL;
            frac_ns += (unsigned long long)(dot[i] - '0') * scale;
            scale /= 10;
        }
        if (i == 1)
            return DADNS_EINVAL;
    }
    *out = secs * NS_PER_S + frac_ns;
    return 0;
}

/* Append zone @name (@len octets) to the targets. */
static int run_add(struct run *r, const char *name, size_t len, struct err *e)
{
    struct target *t;

    if (r->n == r->cap) {
        size_t cap = r->cap != 0 ? r->cap * 2 : 1024;
        struct target *nt = realloc(r->t, cap * sizeof(*nt));

        if (nt == NULL)
            return err_set(e, DADNS_ENOMEM, "out of memory");
        r->t = nt;
        r->cap = cap;
    }
    t = &r->t[r->n];
    memset(t, 0, sizeof(*t));
    if (name_normalize(name, len, t->name, e) != 0)
        return DADNS_ENAME;
    if (knot_dname_from_str(t->dname, t->name, sizeof(t->dname)) == NULL)
        return err_set(e, DADNS_ENAME, "cannot convert %s to wire form", t->name);
    knot_dname_to_lower(t->dname);
    r->n++;
    return 0;
}

/* Read zone names from @path ('-' = stdin), one a line; blank lines and '#' comments skipped. */
static int run_load(struct run *r, const char *path, struct err *e)
{
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        rc = err_set(e, DADNS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            len--;
        if (len == 0 || line[0] == '#')
            continue;
        rc = run_add(r, line, (size_t)len, e);
        if (rc != 0) {
            err_setl(e, rc, lineno, 0, "%s:%lu: %s", path, lineno, e->text);
            goto out;
        }
    }
    if (ferror(f))
        rc = err_set(e, DADNS_EIO, "%s: read error", path);
out:
    free(line);
    if (f != NULL && f != stdin)
        fclose(f);
    return rc;
}

static void queue_push(struct run *r, long idx)
{
    r->queue[(r->q_head + r->q_len) % r->n] = idx;
    r->q_len++;
}

static long queue_pop(struct run *r)
{
    long idx = r->queue[r->q_head];

    r->q_head = (r->q_head + 1) % r->n;
    r->q_len--;
    return idx;
}

/* Send one SOA query for target @idx in a free slot. */
static int send_query(struct run *r, int fd, knot_pkt_t *q, long idx, uint64_t now)
{
    unsigned s;
    uint16_t id;
    ssize_t sent;
    int rc;

    for (s = 0; s < MAX_WINDOW; s++)
        if (r->slots[s].target < 0)
            break;
    if (s == MAX_WINDOW)
        return DADNS_EINVAL;
    r->gen = (r->gen + 1) & ((1u << (16 - SLOT_BITS)) - 1);
    id = (uint16_t)((r->gen << SLOT_BITS) | s);

    knot_pkt_clear(q);
    knot_wire_set_id(q->wire, id);
    rc = knot_pkt_put_question(q, r->t[idx].dname, KNOT_CLASS_IN, KNOT_RRTYPE_SOA);
    if (rc != KNOT_EOK)
        return DADNS_EINVAL;
    sent = send(fd, q->wire, q->size, 0);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED &&
        errno != ENOBUFS)
        return DADNS_EIO;
    /* A send that failed transiently is retried by the retransmit timer. */
    r->slots[s].target = idx;
    r->slots[s].id = id;
    r->slots[s].sent_ns = now;
    r->inflight++;
    r->sent++;
    return 0;
}

/* Handle one response of @len octets in @buf. */
static void handle_answer(struct run *r, const struct opts *o, uint8_t *buf, size_t len,
                          uint64_t now)
{
    knot_pkt_t *p = NULL;
    struct slot *sl;
    struct target *t;
    const knot_pktsection_t *an;
    const knot_dname_t *qname;
    bool ok = false;
    uint16_t id, i;

    p = knot_pkt_new(buf, (uint16_t)len, NULL);
    if (p == NULL)
        goto out;
    if (knot_pkt_parse(p, 0) != KNOT_EOK || !knot_wire_get_qr(p->wire))
        goto out;
    id = knot_wire_get_id(p->wire);
    sl = &r->slots[id & (MAX_WINDOW - 1)];
    if (sl->target < 0 || sl->id != id)
        goto out; /* late answer to a retransmitted query */
    t = &r->t[sl->target];
    qname = knot_pkt_qname(p);
    if (qname == NULL || !knot_dname_is_equal(qname, t->dname) ||
        knot_pkt_qtype(p) != KNOT_RRTYPE_SOA)
        goto out;
    r->answers++;
    if (knot_wire_get_rcode(p->wire) == KNOT_RCODE_NOERROR) {
        an = knot_pkt_section(p, KNOT_ANSWER);
        for (i = 0; i < an->count; i++) {
            const knot_rrset_t *rr = knot_pkt_rr(an, i);

            if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0 &&
                knot_dname_is_equal(rr->owner, t->dname) &&
                knot_soa_serial(rr->rrs.rdata) == o->serial)
                ok = true;
        }
    }
    if (ok) {
        t->done = true;
        r->done++;
    } else {
        r->stale++;
        t->due_ns = now + o->retry_ns;
        queue_push(r, sl->target);
    }
    sl->target = -1;
    r->inflight--;
out:
    knot_pkt_free(p);
}

/* Requeue every query that has waited longer than the retransmit delay. */
static void retransmit_scan(struct run *r, const struct opts *o, uint64_t now)
{
    unsigned s;

    for (s = 0; s < MAX_WINDOW; s++) {
        struct slot *sl = &r->slots[s];

        if (sl->target >= 0 && now - sl->sent_ns >= o->retransmit_ns) {
            r->t[sl->target].due_ns = now;
            queue_push(r, sl->target);
            sl->target = -1;
            r->inflight--;
        }
    }
}

static int open_socket(const struct opts *o, struct err *e)
{
    struct sockaddr_in sa;
    int rcvbuf = 4 << 20;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->server, &sa.sin_addr) != 1)
        return err_set(e, DADNS_EINVAL, "bad IPv4 address %s", o->server);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, DADNS_EIO, "socket: %s", strerror(errno));
    /* Room for a full window of answers; best effort (capped by net.core.rmem_max). */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        err_set(e, DADNS_EIO, "connect %s:%d: %s", o->server, o->port, strerror(errno));
        close(fd);
        return DADNS_EIO;
    }
    return fd;
}

static double secs(uint64_t ns)
{
    return (double)ns / (double)NS_PER_S;
}

/* The query loop. Returns 0 when every zone is done, 1 on timeout, negative on errors. */
static int run_wait(struct run *r, const struct opts *o, uint64_t start, struct err *e)
{
    knot_pkt_t *q = NULL;
    uint8_t buf[KNOT_WIRE_MAX_PKTSIZE];
    uint64_t began = now_ns(), deadline = began + o->timeout_ns;
    uint64_t next_progress = began + o->progress_ns, next_scan = began, last_fill = began;
    double tokens = 1.0;
    size_t i;
    int fd = -1, rc = 0;

    for (i = 0; i < MAX_WINDOW; i++)
        r->slots[i].target = -1;
    for (i = 0; i < r->n; i++)
        queue_push(r, (long)i);

    fd = open_socket(o, e);
    if (fd < 0) {
        rc = fd;
        goto out;
    }
    q = knot_pkt_new(NULL, KNOT_WIRE_MIN_PKTSIZE, NULL);
    if (q == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }

    while (r->done < r->n) {
        uint64_t now = now_ns(), wait_ns = 10 * NS_PER_MS;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ms;

        if (now >= deadline) {
            rc = 1;
            goto out;
        }
        if (now >= next_scan) {
            retransmit_scan(r, o, now);
            next_scan = now + o->retransmit_ns / 4 + 1;
        }
        if (o->qps > 0) {
            tokens += (double)(now - last_fill) * o->qps / (double)NS_PER_S;
            if (tokens > (double)o->window)
                tokens = (double)o->window;
            last_fill = now;
        }
        while (r->inflight < o->window && r->q_len > 0 && r->t[r->queue[r->q_head]].due_ns <= now &&
               (o->qps <= 0 || tokens >= 1.0)) {
            rc = send_query(r, fd, q, queue_pop(r), now);
            if (rc != 0) {
                err_set(e, rc, "send: %s", strerror(errno));
                goto out;
            }
            tokens -= 1.0;
        }
        if (o->progress_ns != 0 && now >= next_progress) {
            fprintf(stderr, "soawait: t=%.3fs done=%zu/%zu sent=%llu stale=%llu\n",
                    secs(now - start), r->done, r->n, (unsigned long long)r->sent,
                    (unsigned long long)r->stale);
            next_progress += o->progress_ns;
        }
        if (r->q_len > 0 && r->inflight < o->window) {
            uint64_t due = r->t[r->queue[r->q_head]].due_ns;

            wait_ns = due > now ? due - now : 0;
            if (o->qps > 0 && tokens < 1.0) {
                uint64_t refill = (uint64_t)((1.0 - tokens) * (double)NS_PER_S / o->qps);

                if (refill > wait_ns)
                    wait_ns = refill;
            }
        }
        if (wait_ns > 10 * NS_PER_MS)
            wait_ns = 10 * NS_PER_MS;
        ms = (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
        if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
            rc = err_set(e, DADNS_EIO, "poll: %s", strerror(errno));
            goto out;
        }
        for (;;) {
            ssize_t len = recv(fd, buf, sizeof(buf), 0);

            if (len < 0)
                break; /* EAGAIN, or ECONNREFUSED while the server is down */
            handle_answer(r, o, buf, (size_t)len, now_ns());
        }
    }
out:
    knot_pkt_free(q);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Parse the command line into @o and the zone list into @r. Returns 0, 1 when help was shown,
 * or a negative code with @e filled. */
static int parse_opts(int argc, char **argv, struct opts *o, struct run *r, struct err *e)
{
    unsigned long long v;
    int c, rc;

    while ((c = getopt(argc, argv, "s:p:f:z:e:t:T:w:r:R:i:Q:qh")) != -1) {
        switch (c) {
        case 's':
            o->server = optarg;
            break;
        case 'p':
            if (parse_ulong(optarg, 65535, &v) != 0 || v == 0)
                return err_set(e, DADNS_EINVAL, "-p: bad port %s", optarg);
            o->port = (int)v;
            break;
        case 'f':
            o->list = optarg;
            break;
        case 'z':
            rc = run_add(r, optarg, strlen(optarg), e);
            if (rc != 0)
                return rc;
            break;
        case 'e':
            if (parse_ulong(optarg, UINT32_MAX, &v) != 0)
                return err_set(e, DADNS_EINVAL, "-e: bad serial %s", optarg);
            o->serial = (uint32_t)v;
            o->have_serial = true;
            break;
        case 't':
            if (parse_ulong(optarg, 86400, &v) != 0 || v == 0)
                return err_set(e, DADNS_EINVAL, "-t: bad timeout %s", optarg);
            o->timeout_ns = v * NS_PER_S;
            break;
        case 'T':
            if (parse_time_ns(optarg, &o->start_ns) != 0)
                return err_set(e, DADNS_EINVAL, "-T: bad timestamp %s", optarg);
            break;
        case 'w':
            if (parse_ulong(optarg, MAX_WINDOW, &v) != 0 || v == 0)
                return err_set(e, DADNS_EINVAL, "-w: window must be 1-%u", MAX_WINDOW);
            o->window = (unsigned)v;
            break;
        case 'r':
        case 'R':
        case 'i':
            if (parse_ulong(optarg, 3600000, &v) != 0)
                return err_set(e, DADNS_EINVAL, "-%c: bad milliseconds %s", c, optarg);
            if (c == 'r')
                o->retry_ns = v * NS_PER_MS;
            else if (c == 'R')
                o->retransmit_ns = (v != 0 ? v : 1) * NS_PER_MS;
            else
                o->progress_ns = v * NS_PER_MS;
            break;
        case 'Q':
            if (parse_ulong(optarg, 10000000, &v) != 0)
                return err_set(e, DADNS_EINVAL, "-Q: bad rate %s", optarg);
            o->qps = (double)v;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            return err_set(e, DADNS_EINVAL, "bad option (-h for help)");
        }
    }
    if (optind != argc)
        return err_set(e, DADNS_EINVAL, "unexpected argument %s", argv[optind]);
    if (!o->have_serial)
        return err_set(e, DADNS_EINVAL, "-e SERIAL is required");
    if (o->list != NULL) {
        rc = run_load(r, o->list, e);
        if (rc != 0)
            return rc;
    }
    if (r->n == 0)
        return err_set(e, DADNS_EINVAL, "no zones (-f LIST or -z ZONE)");
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .server = "127.0.0.1",
        .port = 53,
        .timeout_ns = 60 * NS_PER_S,
        .window = 256,
        .retry_ns = 5 * NS_PER_MS,
        .retransmit_ns = 300 * NS_PER_MS,
        .progress_ns = 1000 * NS_PER_MS,
        .qps = 10000,
    };
    struct run *r = NULL;
    struct err e;
    uint64_t start, end;
    size_t i, shown = 0;
    int rc, status = 2;

    err_clear(&e);
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "soawait: out of memory\n");
        goto out;
    }
    rc = parse_opts(argc, argv, &o, r, &e);
    if (rc == 1) {
        status = 0;
        goto out;
    }
    if (rc != 0) {
        fprintf(stderr, "soawait: %s\n", e.text);
        goto out;
    }
    if (o.quiet)
        o.progress_ns = 0;
    r->queue = calloc(r->n, sizeof(*r->queue));
    if (r->queue == NULL) {
        fprintf(stderr, "soawait: out of memory\n");
        goto out;
    }
    start = o.start_ns != 0 ? o.start_ns : now_ns();

    rc = run_wait(r, &o, start, &e);
    end = now_ns();
    if (rc < 0) {
        fprintf(stderr, "soawait: %s\n", e.text);
        goto out;
    }
    printf("elapsed=%.6f done=%zu total=%zu serial=%lu sent=%llu answers=%llu stale=%llu\n",
           secs(end > start ? end - start : 0), r->done, r->n, (unsigned long)o.serial,
           (unsigned long long)r->sent, (unsigned long long)r->answers,
           (unsigned long long)r->stale);
    if (rc == 1) {
        fprintf(stderr,
                "soawait: timeout: %zu of %zu zones do not serve serial %lu, e.g.:", r->n - r->done,
                r->n, (unsigned long)o.serial);
        for (i = 0; i < r->n && shown < 10; i++) {
            if (!r->t[i].done) {
                fprintf(stderr, " %s", r->t[i].name);
                shown++;
            }
        }
        fprintf(stderr, "\n");
        status = 1;
        goto out;
    }
    status = 0;
out:
    if (r != NULL) {
        free(r->queue);
        free(r->t);
    }
    free(r);
    return status;
}
