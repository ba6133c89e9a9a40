/* bindinventory.c -- the inventory of a BIND backend (see bindinventory.h).
 *
 * Reads the include and the zone files (never writes), asks named through soaquery.c, hashes
 * with nettle's SHA-1. The include's format is bindconf.c's; applying changes is
 * bindbackend.c's. */
#include "bindinventory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha1.h>

#include "bindbackend.h"
#include "bindconf.h"
#include "buf.h"
#include "strset.h"

#define INCLUDE_MAX ((size_t)512 << 20) /* as bindbackend.c: refuse a larger include */
#define CHUNK       65536               /* zone files are read and hashed in chunks */
#define HEAD_MIN    1024                /* octets read before looking for the header line */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------------------------ */
/* Pure part                                                                                  */

/* take - @lit at *@p (within @end)? then move past it. */
static int take(const char **p, const char *end, const char *lit, size_t n)
{
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* number - decimal digits at *@p (within @end), at most @max; moves past them. */
static int number(const char **p, const char *end, uint64_t max, uint64_t *out)
{
    const char *q = *p;
    uint64_t v = 0;

    while (q < end && *q >= '0' && *q <= '9') {
        unsigned d = (unsigned)(*q - '0');

        if (v > (max - d) / 10)
            return 0;
        v = v * 10 + d;
        q++;
    }
    if (q == *p || (q - *p > 1 && **p == '0'))
        return 0;
    *p = q;
    *out = v;
    return 1;
}

size_t bindinventory_header(const char *zone, const char *data, size_t len, uint64_t *version,
                            int *added_nl)
{
    static const char head[] = "; zone ", ver[] = " version ", ser[] = " serial ",
                      nl[] = " " BINDCONF_NL_TOKEN, tail[] = " written by dadns\n";
    const char *p = data, *end = data + len;
    uint64_t v = 0, s = 0;
    int added;

    *version = 0;
    if (added_nl != NULL)
        *added_nl = 0;
    if (!take(&p, end, head, sizeof(head) - 1) || !take(&p, end, zone, strlen(zone)) ||
        !take(&p, end, ver, sizeof(ver) - 1) || !number(&p, end, UINT64_MAX, &v) ||
        !take(&p, end, ser, sizeof(ser) - 1) || !number(&p, end, UINT32_MAX, &s))
        return 0;
    added = take(&p, end, nl, sizeof(nl) - 1);
    if (!take(&p, end, tail, sizeof(tail) - 1))
        return 0;
    *version = v;
    if (added_nl != NULL)
        *added_nl = added;
    return (size_t)(p - data);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                      */

/* read_include - the whole include at @p into @out; a missing one is empty. */
static int read_include(const char *p, struct buf *out, struct err *e)
{
    char chunk[CHUNK];
    ssize_t r;
    int fd, rc = 0;

    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return buf_append(out, "", 0);
        return err_set(e, DADNS_EIO, "cannot open %s: %s", p, strerror(errno));
    }
    for (;;) {
        r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_set(e, DADNS_EIO, "cannot read %s: %s", p, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        rc = buf_append(out, chunk, (size_t)r);
        if (rc != 0) {
            err_set(e, rc, "%s: %s", p, err_str(rc));
            break;
        }
    }
    close(fd);
    if (rc == 0)
        rc = buf_append(out, "", 0);
    return rc;
}

/* What file_digest hashes: everything fed, except -- with @hold -- the file's last octet when
 * it is the newline dadns added (header token BINDCONF_NL_TOKEN). */
struct hasher {
    struct sha1_ctx ctx;
    int hold;       /* keep the last octet fed out of the hash until the end */
    int held_valid; /* @held is an octet fed and not hashed yet */
    uint8_t held;
};

static void hash_feed(struct hasher *hs, const uint8_t *p, size_t n)
{
    if (!hs->hold) {
        sha1_update(&hs->ctx, n, p);
        return;
    }
    if (n == 0)
        return;
    if (hs->held_valid)
        sha1_update(&hs->ctx, 1, &hs->held);
    sha1_update(&hs->ctx, n - 1, p);
    hs->held = p[n - 1];
    hs->held_valid = 1;
}

/* hash_end - the digest; the held octet counts unless it is the added newline. */
static void hash_end(struct hasher *hs, uint8_t *d)
{
    if (hs->held_valid && hs->held != '\n')
        sha1_update(&hs->ctx, 1, &hs->held);
    sha1_digest(&hs->ctx, SHA1_DIGEST_SIZE, d);
}

/* file_digest - version and digest (see bindinventory_run) of zone @zone's file in @dfd. */
static void file_digest(int dfd, const char *zone, struct held_zone *h,
                        struct bindinventory_stats *st)
{
    char fname[NAME_BUF_SIZE + 8], *chunk = NULL;
    uint8_t d[SHA1_DIGEST_SIZE];
    struct hasher hs;
    size_t have = 0, skip;
    ssize_t r;
    int fd = -1, eof = 0;

    h->digest[0] = '\0';
    h->version = 0;
    if (bindconf_zone_file(zone, fname, sizeof(fname), NULL) != 0)
        return;
    fd = openat(dfd, fname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            snprintf(h->digest, sizeof(h->digest), "%s", BINDINVENTORY_MODIFIED);
            st->missing_files++;
        }
        return;
    }
    chunk = malloc(CHUNK);
    if (chunk == NULL)
        goto out;
    memset(&hs, 0, sizeof(hs));
    sha1_init(&hs.ctx);
    /* the start, with room for the header line */
    while (have < HEAD_MIN && !eof) {
        r = read(fd, chunk + have, CHUNK - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto out;
        eof = r == 0;
        have += (size_t)r;
    }
    skip = bindinventory_header(zone, chunk, have, &h->version, &hs.hold);
    if (skip == 0)
        st->foreign_files++;
    hash_feed(&hs, (const uint8_t *)chunk + skip, have - skip);
    while (!eof) {
        r = read(fd, chunk, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            h->version = 0;
            goto out;
        }
        eof = r == 0;
        hash_feed(&hs, (const uint8_t *)chunk, (size_t)r);
    }
    hash_end(&hs, d);
    hex(d, sizeof(d), h->digest);
out:
    free(chunk);
    close(fd);
}

/* ------------------------------------------------------------------------------------------ */
/* The inventory                                                                              */

int bindinventory_run(const struct backend_conf *bc, const struct soaquery_opts *opts,
                      held_zone_fn fn, void *arg, struct bindinventory_stats *st, struct err *e)
{
    struct bindinventory_stats local;
    struct soaquery_result *res = NULL;
    struct strset *zones = NULL;
    const char **sorted = NULL;
    struct held_zone h;
    struct buf text;
    struct err pe;
    size_t n = 0, i;
    double t0;
    int dfd = -1, rc;

    if (st == NULL)
        st = &local;
    memset(st, 0, sizeof(*st));
    buf_init(&text, INCLUDE_MAX);
    rc = strset_new(&zones);
    if (rc != 0) {
        err_set(e, rc, "out of memory");
        goto out;
    }
    rc = read_include(bc->named_conf, &text, e);
    if (rc != 0)
        goto out;
    rc = bindconf_parse_include(text.data, text.len, bc->zones_dir, zones, &pe);
    if (rc != 0) {
        err_set(e, rc, "%s:%lu: %s", bc->named_conf, pe.line, pe.text);
        goto out;
    }
    buf_free(&text);
    rc = strset_sorted(zones, &sorted, &n);
    if (rc != 0) {
        err_set(e, rc, "out of memory sorting %zu zones", strset_count(zones));
        goto out;
    }
    st->zones = n;
    if (n == 0)
        goto out;

    /* what named serves */
    res = calloc(n, sizeof(*res));
    if (res == NULL) {
        rc = err_set(e, DADNS_ENOMEM, "out of memory for %zu zones", n);
        goto out;
    }
    t0 = now_s();
    rc = soaquery_run(bc->query_addr, bc->query_port, sorted, n, opts, res, &st->q, &pe);
    st->query_s = now_s() - t0;
    if (rc != 0) {
        rc = err_set(e, rc == DADNS_ENOMEM ? rc : DADNS_EBACKEND, "SOA queries to named: %s",
                     pe.text);
        goto out;
    }
    if (st->q.answers == 0) {
        rc = err_set(e, DADNS_EBACKEND,
                     "named at %s port %d answered none of %zu SOA queries (%lu sent%s)",
                     bc->query_addr, bc->query_port, n, st->q.sent,
                     st->q.refused_io > 0 ? ", port unreachable" : "");
        goto out;
    }

    /* the files, and the report */
    dfd = open(bc->zones_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && errno != ENOENT) {
        rc = err_set(e, DADNS_EIO, "cannot open zones_dir %s: %s", bc->zones_dir, strerror(errno));
        goto out;
    }
    t0 = now_s();
    for (i = 0; i < n; i++) {
        memset(&h, 0, sizeof(h));
        snprintf(h.zone, sizeof(h.zone), "%s", sorted[i]);
        h.managed = 1;
        if (res[i].status == SOAQUERY_SERIAL) {
            h.has_serial = 1;
            h.serial = res[i].serial;
            st->served++;
        }
        if (dfd >= 0) {
            file_digest(dfd, sorted[i], &h, st);
        } else {
            snprintf(h.digest, sizeof(h.digest), "%s", BINDINVENTORY_MODIFIED);
            st->missing_files++;
        }
        rc = fn(arg, &h);
        if (rc != 0)
            break;
    }
    st->files_s = now_s() - t0;
out:
    if (dfd >= 0)
        close(dfd);
    buf_free(&text);
    free(res);
    free(sorted);
    strset_free(zones);
    return rc;
}

int bindinventory_backend(void *ctx, held_zone_fn fn, void *arg, char *reason, size_t size)
{
    struct err e;
    int rc;

    err_clear(&e);
    rc = bindinventory_run(bindbackend_conf(ctx), NULL, fn, arg, NULL, &e);
    if (rc < 0 && reason != NULL && size > 0)
        snprintf(reason, size, "%s", e.text);
    return rc;
}
