/* test_soaquery.c -- Check suite for services/writer-bind/soaquery.c.
 *
 * "packet": queries built and answers judged by the pure functions (libknot on both sides).
 * "loop": soaquery_run against a fake DNS server in a thread on a loopback port, which answers
 * by zone name: serials, SERVFAIL, REFUSED, a first query dropped, never answering, stray and
 * mismatched datagrams before the real answer; plus deadlines, bad addresses and nobody
 * listening. The real named is exercised by test_bindbackend.c (tcase "inventory"). */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "soaquery.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- answers, built by hand ------------------------------------------------------------- */

/* answer - a response to the query @q (@qlen octets: header, one question, maybe OPT) with
 * @rcode and @aa into @out; with @soa_owner (wire name, NULL = none) an SOA record of @serial
 * in the answer section (@in_auth: in the authority section instead). Returns its length. */
static size_t answer(const uint8_t *q, size_t qlen, int rcode, int aa, const uint8_t *soa_owner,
                     uint32_t serial, int in_auth, uint8_t *out)
{
    size_t qend = 12, n, i;

    ck_assert_uint_ge(qlen, 12);
    while (q[qend] != 0)
        qend += (size_t)q[qend] + 1;
    qend += 1 + 4; /* root label, type, class */
    memcpy(out, q, qend);
    out[2] = (uint8_t)(0x80 | (q[2] & 0x79) | (aa ? 0x04 : 0)); /* QR, opcode, AA, RD copied */
    out[3] = (uint8_t)(rcode & 0x0f);
    memset(out + 6, 0, 6); /* an, ns, ar counts */
    n = qend;
    if (soa_owner != NULL) {
        size_t ol = knot_dname_size(soa_owner);
        static const uint8_t rdata[] = {0, 0}; /* mname ".", rname "." */

        out[in_auth ? 9 : 7] = 1;
        memcpy(out + n, soa_owner, ol);
        n += ol;
        out[n++] = 0;
        out[n++] = 6; /* SOA */
        out[n++] = 0;
        out[n++] = 1; /* IN */
        memset(out + n, 0, 3);
        out[n + 3] = 60; /* TTL */
        n += 4;
        out[n++] = 0;
        out[n++] = (uint8_t)(sizeof(rdata) + 20);
        memcpy(out + n, rdata, sizeof(rdata));
        n += sizeof(rdata);
        out[n++] = (uint8_t)(serial >> 24);
        out[n++] = (uint8_t)(serial >> 16);
        out[n++] = (uint8_t)(serial >> 8);
        out[n++] = (uint8_t)serial;
        for (i = 0; i < 16; i++)
            out[n++] = (uint8_t)(i == 3 ? 1 : 0);
    }
    return n;
}

static size_t query_for(const char *zone, uint16_t id, uint8_t *wire, uint8_t *qname)
{
    size_t len = 0;

    ck_assert_int_gt(soaquery_qname(zone, qname), 0);
    ck_assert_int_eq(soaquery_build(qname, id, wire, SOAQUERY_WIRE_MAX, &len), 0);
    return len;
}

/* ---- packet ----------------------------------------------------------------------------- */

START_TEST(qname_forms)
{
    uint8_t w[SOAQUERY_QNAME_MAX], w2[SOAQUERY_QNAME_MAX];
    static const uint8_t want[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};

    ck_assert_int_eq(soaquery_qname("example.com", w), (int)sizeof(want));
    ck_assert_mem_eq(w, want, sizeof(want));
    ck_assert_int_eq(soaquery_qname("example.com.", w2), (int)sizeof(want));
    ck_assert_mem_eq(w2, want, sizeof(want));
    ck_assert_int_eq(soaquery_qname("", w), DADNS_ENAME);
    ck_assert_int_eq(soaquery_qname(NULL, w), DADNS_ENAME);
    ck_assert_int_eq(soaquery_qname("a..b", w), DADNS_ENAME);
}
END_TEST

START_TEST(build_is_a_plain_soa_query)
{
    uint8_t wire[SOAQUERY_WIRE_MAX], qname[SOAQUERY_QNAME_MAX], small[20];
    size_t len = query_for("Example.COM", 0xbeef, wire, qname);
    knot_pkt_t *pkt = knot_pkt_new(wire, (uint16_t)len, NULL);

    ck_assert_ptr_nonnull(pkt);
    ck_assert_int_eq(knot_pkt_parse(pkt, 0), KNOT_EOK);
    ck_assert_uint_eq(knot_wire_get_id(wire), 0xbeef);
    ck_assert(!knot_wire_get_qr(wire));
    ck_assert(!knot_wire_get_rd(wire));
    ck_assert_uint_eq(knot_wire_get_qdcount(wire), 1);
    ck_assert_uint_eq(knot_pkt_qtype(pkt), KNOT_RRTYPE_SOA);
    ck_assert_uint_eq(knot_pkt_qclass(pkt), KNOT_CLASS_IN);
    ck_assert(knot_dname_is_case_equal(knot_pkt_qname(pkt), qname));
    ck_assert_ptr_nonnull(pkt->opt_rr);
    ck_assert_uint_eq(knot_edns_get_payload(pkt->opt_rr), SOAQUERY_EDNS_SIZE);
    knot_pkt_free(pkt);
    ck_assert_int_eq(soaquery_id(wire, len), 0xbeef);
    ck_assert_int_eq(soaquery_id(wire, 11), -1);
    ck_assert_int_eq(soaquery_build(qname, 1, small, sizeof(small), &len), DADNS_ETOOBIG);
}
END_TEST

START_TEST(parse_judges_answers)
{
    uint8_t q[SOAQUERY_WIRE_MAX], qname[SOAQUERY_QNAME_MAX], other[SOAQUERY_QNAME_MAX];
    uint8_t parent[SOAQUERY_QNAME_MAX], upper[SOAQUERY_QNAME_MAX], a[1024];
    struct soaquery_result r;
    size_t ql = query_for("zone.example", 7, q, qname), n;

    ck_assert_int_gt(soaquery_qname("other.example", other), 0);
    ck_assert_int_gt(soaquery_qname("example", parent), 0);
    ck_assert_int_gt(soaquery_qname("ZONE.Example", upper), 0);

    /* authoritative, SOA in the answer */
    memset(&r, 0, sizeof(r));
    n = answer(q, ql, 0, 1, qname, 2024010199, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_SERIAL);
    ck_assert_uint_eq(r.serial, 2024010199);
    ck_assert_int_eq(r.rcode, 0);
    /* the owner in another case: still the zone */
    n = answer(q, ql, 0, 1, upper, 5, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_SERIAL);
    ck_assert_uint_eq(r.serial, 5);
    /* truncated, but the SOA made it */
    n = answer(q, ql, 0, 1, qname, 6, 0, a);
    a[2] |= 0x02;
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_SERIAL);
    /* SERVFAIL (failed to load), REFUSED (not a zone of the server) */
    n = answer(q, ql, 2, 0, NULL, 0, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_NOSERIAL);
    ck_assert_int_eq(r.rcode, 2);
    n = answer(q, ql, 5, 0, NULL, 0, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_NOSERIAL);
    ck_assert_int_eq(r.rcode, 5);
    /* an SOA without AA (a cache), the parent's SOA (NODATA inside the parent zone), the
     * parent's SOA in the authority section */
    n = answer(q, ql, 0, 0, qname, 9, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_NOSERIAL);
    n = answer(q, ql, 0, 1, parent, 9, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_NOSERIAL);
    n = answer(q, ql, 0, 1, parent, 9, 1, a);
    ck_assert_int_eq(soaquery_parse(a, n, qname, &r), 0);
    ck_assert_int_eq(r.status, SOAQUERY_NOSERIAL);
    ck_assert_int_eq(r.rcode, 0);

    /* not an answer to this question: untouched */
    memset(&r, 0, sizeof(r));
    r.serial = 42;
    n = answer(q, ql, 0, 1, qname, 1, 0, a);
    ck_assert_int_eq(soaquery_parse(a, n, other, &r), DADNS_EINVAL);  /* another zone */
    ck_assert_int_eq(soaquery_parse(q, ql, qname, &r), DADNS_EINVAL); /* a query */
    ck_assert_int_eq(soaquery_parse(a, 11, qname, &r), DADNS_EINVAL); /* no header */
    ck_assert_int_eq(soaquery_parse(a, 20, qname, &r), DADNS_EINVAL); /* cut question */
    {
        uint8_t b[1024];

        memcpy(b, a, n);
        b[12 + knot_dname_size(qname) + 1] = 1; /* qtype A */
        ck_assert_int_eq(soaquery_parse(b, n, qname, &r), DADNS_EINVAL);
        memcpy(b, a, n);
        b[2] |= 0x08; /* opcode IQUERY */
        ck_assert_int_eq(soaquery_parse(b, n, qname, &r), DADNS_EINVAL);
        memcpy(b, a, n);
        b[5] = 2; /* two questions */
        ck_assert_int_eq(soaquery_parse(b, n, qname, &r), DADNS_EINVAL);
    }
    ck_assert_int_eq(r.status, SOAQUERY_PENDING);
    ck_assert_uint_eq(r.serial, 42);
}
END_TEST

/* ---- a fake server ---------------------------------------------------------------------- */

struct fake {
    int fd;
    int port;
    volatile int stop;
    pthread_t thread;
    unsigned long queries;
    unsigned long dropped; /* drop*.test: the first query of each */
    char seen[8192];       /* drop*.test zones already seen once: one byte per number */
};

/* label_num - the number after @prefix in the first label of @qname ("ok123" -> 123). */
static long label_num(const uint8_t *qname, const char *prefix)
{
    size_t pl = strlen(prefix);
    long v = 0;
    size_t i;

    if (qname[0] <= pl || memcmp(qname + 1, prefix, pl) != 0)
        return -1;
    for (i = 1 + pl; i < 1u + qname[0]; i++) {
        if (qname[i] < '0' || qname[i] > '9')
            return -1;
        v = v * 10 + (qname[i] - '0');
    }
    return v;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    uint8_t q[2048], a[2048], other[SOAQUERY_QNAME_MAX];

    soaquery_qname("unrelated.test", other);
    while (!f->stop) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        struct pollfd p = {f->fd, POLLIN, 0};
        const uint8_t *qn;
        ssize_t r;
        size_t n;
        long k;

        if (poll(&p, 1, 50) <= 0)
            continue;
        r = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
        if (r < 12)
            continue;
        f->queries++;
        qn = q + 12;
        if ((k = label_num(qn, "ok")) >= 0) {
            if (k % 7 == 0) {
                /* first a stray (wrong id), then the right id with another question */
                uint16_t id = knot_wire_get_id(q);
                uint8_t b[2048];
                size_t bl;

                n = answer(q, (size_t)r, 0, 1, qn, 1, 0, a);
                knot_wire_set_id(a, (uint16_t)(id ^ 0x5a5a));
                sendto(f->fd, a, n, 0, (struct sockaddr *)&from, fl);
                {
                    uint8_t oq[SOAQUERY_WIRE_MAX];
                    size_t ol = 0;

                    soaquery_build(other, id, oq, sizeof(oq), &ol);
                    bl = answer(oq, ol, 0, 1, other, 1, 0, b);
                    sendto(f->fd, b, bl, 0, (struct sockaddr *)&from, fl);
                }
            }
            n = answer(q, (size_t)r, 0, 1, qn, (uint32_t)(1000 + k), 0, a);
        } else if (label_num(qn, "fail") >= 0) {
            n = answer(q, (size_t)r, 2, 0, NULL, 0, 0, a);
        } else if (label_num(qn, "ref") >= 0) {
            n = answer(q, (size_t)r, 5, 0, NULL, 0, 0, a);
        } else if ((k = label_num(qn, "drop")) >= 0 && k < (long)sizeof(f->seen)) {
            if (!f->seen[k]) {
                f->seen[k] = 1;
                f->dropped++;
                continue;
            }
            n = answer(q, (size_t)r, 0, 1, qn, (uint32_t)(5000 + k), 0, a);
        } else {
            continue; /* mute*.test and the rest: never answered */
        }
        sendto(f->fd, a, n, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static void fake_start(struct fake *f)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int big = 8 << 20;

    memset(f, 0, sizeof(*f));
    f->fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(f->fd, 0);
    setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = 1;
    pthread_join(f->thread, NULL);
    close(f->fd);
}

/* names - @n names "<prefix><i>.test" (i from @first), malloc'ed (free with names_free). */
static char **names(const char *prefix, size_t first, size_t n)
{
    char **v = calloc(n, sizeof(*v));
    size_t i;

    ck_assert_ptr_nonnull(v);
    for (i = 0; i < n; i++) {
        char b[64];

        snprintf(b, sizeof(b), "%s%zu.test", prefix, first + i);
        v[i] = strdup(b);
        ck_assert_ptr_nonnull(v[i]);
    }
    return v;
}

static void names_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- loop ------------------------------------------------------------------------------- */

START_TEST(loop_many_zones)
{
    enum { N = 20000 };
    struct fake f;
    char **z = names("ok", 0, N);
    struct soaquery_result *r = calloc(N, sizeof(*r));
    struct soaquery_stats st;
    struct err e;
    double t0;
    size_t i;

    ck_assert_ptr_nonnull(r);
    fake_start(&f);
    t0 = now_s();
    ck_assert_int_eq(soaquery_run("127.0.0.1", f.port, (const char *const *)z, N, NULL, r, &st, &e),
                     0);
    fprintf(stderr, "soaquery: %d zones from the fake server in %.3f s (%lu sent, %lu stray)\n", N,
            now_s() - t0, st.sent, st.stray);
    fake_stop(&f);
    for (i = 0; i < N; i++) {
        ck_assert_msg(r[i].status == SOAQUERY_SERIAL, "%s: status %d", z[i], r[i].status);
        ck_assert_uint_eq(r[i].serial, 1000 + i);
    }
    ck_assert_uint_eq(st.answers, N);
    ck_assert_uint_eq(st.timeouts, 0);
    ck_assert_uint_ge(st.stray, 2 * (N / 7)); /* the decoys were seen and ignored */
    names_free(z, N);
    free(r);
}
END_TEST

START_TEST(loop_mixed_outcomes)
{
    enum { N = 40 };
    struct soaquery_opts o = {.window = 64, .timeout_ms = 100, .tries = 3, .deadline_ms = 10000};
    const char *z[N];
    char *owned[N];
    struct soaquery_result r[N];
    struct soaquery_stats st;
    struct fake f;
    struct err e;
    size_t i;

    for (i = 0; i < N; i++) {
        char b[64];
        static const char *const kinds[] = {"ok", "fail", "ref", "drop", "mute"};

        snprintf(b, sizeof(b), "%s%zu.test", kinds[i % 5], i);
        owned[i] = strdup(b);
        z[i] = owned[i];
    }
    z[N - 1] = "bad..name";
    fake_start(&f);
    ck_assert_int_eq(soaquery_run("127.0.0.1", f.port, z, N, &o, r, &st, &e), 0);
    fake_stop(&f);
    for (i = 0; i < N - 1; i++) {
        switch (i % 5) {
        case 0:
            ck_assert_int_eq(r[i].status, SOAQUERY_SERIAL);
            ck_assert_uint_eq(r[i].serial, 1000 + i);
            ck_assert_uint_eq(r[i].tries, 1);
            break;
        case 1:
            ck_assert_int_eq(r[i].status, SOAQUERY_NOSERIAL);
            ck_assert_int_eq(r[i].rcode, 2);
            break;
        case 2:
            ck_assert_int_eq(r[i].status, SOAQUERY_NOSERIAL);
            ck_assert_int_eq(r[i].rcode, 5);
            break;
        case 3: /* the first query was dropped: the retry got it */
            ck_assert_int_eq(r[i].status, SOAQUERY_SERIAL);
            ck_assert_uint_eq(r[i].serial, 5000 + i);
            ck_assert_uint_eq(r[i].tries, 2);
            break;
        case 4:
            ck_assert_int_eq(r[i].status, SOAQUERY_TIMEOUT);
            ck_assert_uint_eq(r[i].tries, 3);
            ck_assert_int_eq(r[i].rcode, -1);
            break;
        }
    }
    ck_assert_int_eq(r[N - 1].status, SOAQUERY_NOSERIAL); /* never asked */
    ck_assert_uint_eq(r[N - 1].tries, 0);
    ck_assert_uint_eq(st.timeouts, N / 5 - 1);
    ck_assert_uint_eq(f.dropped, N / 5);
    /* the losses cut the window: 64 -> 48 -> 36 (once per timeout) */
    ck_assert_uint_eq(st.resent, N / 5 + 2 * (N / 5 - 1));
    ck_assert_uint_lt(st.limit, 64);
    ck_assert_uint_ge(st.limit, 16);
    for (i = 0; i < N - 1; i++)
        free(owned[i]);
    free(owned[N - 1]);
}
END_TEST

START_TEST(loop_deadline)
{
    enum { N = 1000 };
    struct soaquery_opts o = {.window = 64, .timeout_ms = 1000, .tries = 10, .deadline_ms = 300};
    char **z = names("mute", 0, N);
    struct soaquery_result *r = calloc(N, sizeof(*r));
    struct soaquery_stats st;
    struct fake f;
    struct err e;
    double t0;
    size_t i;

    ck_assert_ptr_nonnull(r);
    fake_start(&f);
    t0 = now_s();
    ck_assert_int_eq(soaquery_run("127.0.0.1", f.port, (const char *const *)z, N, &o, r, &st, &e),
                     0);
    ck_assert_double_lt(now_s() - t0, 1.0);
    fake_stop(&f);
    for (i = 0; i < N; i++)
        ck_assert_int_eq(r[i].status, SOAQUERY_TIMEOUT);
    ck_assert_uint_eq(st.timeouts, N);
    ck_assert_uint_eq(st.sent, 64); /* the first window, never resent */
    ck_assert_uint_eq(r[N - 1].tries, 0);
    names_free(z, N);
    free(r);
}
END_TEST

START_TEST(loop_errors)
{
    struct soaquery_opts o = {.window = 4, .timeout_ms = 50, .tries = 2, .deadline_ms = 2000};
    const char *z[] = {"a.test", "b.test"};
    struct soaquery_result r[2];
    struct soaquery_stats st;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct err e;
    int fd, port, rc;

    ck_assert_int_eq(soaquery_run("localhost", 53, z, 2, &o, r, NULL, &e), DADNS_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.text, "not an IPv4 or IPv6 literal"));
    ck_assert_int_eq(soaquery_run("127.0.0.1", 0, z, 2, &o, r, NULL, &e), DADNS_EINVAL);
    ck_assert_int_eq(soaquery_run("127.0.0.1", 53, z, 0, &o, r, NULL, &e), 0);
    /* a port nobody listens on: refused, every zone times out, no error */
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    ck_assert_int_eq(soaquery_run("127.0.0.1", port, z, 2, &o, r, &st, &e), 0);
    ck_assert_int_eq(r[0].status, SOAQUERY_TIMEOUT);
    ck_assert_int_eq(r[1].status, SOAQUERY_TIMEOUT);
    ck_assert_uint_eq(st.answers, 0);
    ck_assert_uint_gt(st.refused_io, 0);
    /* an IPv6 literal is accepted (EIO where the host has no IPv6 loopback) */
    rc = soaquery_run("::1", port, z, 2, &o, r, &st, &e);
    ck_assert_msg(rc == 0 || rc == DADNS_EIO, "%d %s", rc, e.text);
}
END_TEST

static Suite *soaquery_suite(void)
{
    Suite *su = suite_create("soaquery");
    TCase *tc;

    tc = tcase_create("packet");
    tcase_add_test(tc, qname_forms);
    tcase_add_test(tc, build_is_a_plain_soa_query);
    tcase_add_test(tc, parse_judges_answers);
    suite_add_tcase(su, tc);

    tc = tcase_create("loop");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, loop_many_zones);
    tcase_add_test(tc, loop_mixed_outcomes);
    tcase_add_test(tc, loop_deadline);
    tcase_add_test(tc, loop_errors);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(soaquery_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
