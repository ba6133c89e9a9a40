/* rowhash.c -- order-independent digest of a zone's records rows (see rowhash.h).
 *
 * Encoding of one row, hashed with nettle's SHA-1: for each of name, type, content a tag
 * octet (0 = NULL, 1 = a value) then, for a value, its length as 4 octets big-endian and its
 * octets; then ttl, prio, auth, live as 8 octets big-endian two's complement. Lengths make the
 * encoding unambiguous; the tag keeps NULL apart from "". */
#include "rowhash.h"

#include <string.h>

#include <nettle/sha1.h>

static const char tag[] = "dadns-rows-1"; /* the final hash starts with it: a format version */

void rowhash_init(struct rowhash *h)
{
    memset(h, 0, sizeof(*h));
}

static void put_str(struct sha1_ctx *c, const char *s, size_t len)
{
    uint8_t head[5];

    if (s == NULL) {
        head[0] = 0;
        sha1_update(c, 1, head);
        return;
    }
    head[0] = 1;
    head[1] = (uint8_t)(len >> 24);
    head[2] = (uint8_t)(len >> 16);
    head[3] = (uint8_t)(len >> 8);
    head[4] = (uint8_t)len;
    sha1_update(c, sizeof(head), head);
    sha1_update(c, len, (const uint8_t *)s);
}

static void put_int(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

void rowhash_add(struct rowhash *h, const char *name, size_t name_len, const char *type,
                 size_t type_len, const char *content, size_t content_len, int64_t ttl,
                 int64_t prio, int64_t auth, int64_t live)
{
    uint8_t ints[32], d[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    int i;

    sha1_init(&c);
    put_str(&c, name, name_len);
    put_str(&c, type, type_len);
    put_str(&c, content, content_len);
    put_int(ints, ttl);
    put_int(ints + 8, prio);
    put_int(ints + 16, auth);
    put_int(ints + 24, live);
    sha1_update(&c, sizeof(ints), ints);
    sha1_digest(&c, sizeof(d), d);
    for (i = 0; i < 5; i++)
        h->sum[i] += (uint32_t)d[4 * i] << 24 | (uint32_t)d[4 * i + 1] << 16 |
                     (uint32_t)d[4 * i + 2] << 8 | (uint32_t)d[4 * i + 3];
    h->n++;
}

void rowhash_hex(const struct rowhash *h, char out[ROWHASH_HEX])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t buf[28], d[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    int i;

    for (i = 0; i < 5; i++) {
        buf[4 * i] = (uint8_t)(h->sum[i] >> 24);
        buf[4 * i + 1] = (uint8_t)(h->sum[i] >> 16);
        buf[4 * i + 2] = (uint8_t)(h->sum[i] >> 8);
        buf[4 * i + 3] = (uint8_t)h->sum[i];
    }
    put_int(buf + 20, (int64_t)h->n);
    sha1_init(&c);
    sha1_update(&c, sizeof(tag) - 1, (const uint8_t *)tag);
    sha1_update(&c, sizeof(buf), buf);
    sha1_digest(&c, sizeof(d), d);
    for (i = 0; i < SHA1_DIGEST_SIZE; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * SHA1_DIGEST_SIZE] = '\0';
}

void rowhash_rowset(enum rows_format fmt, const struct rowset *rs, char out[ROWHASH_HEX])
{
    int pdns = fmt == ROWS_POWERDNS;
    struct rowhash h;
    size_t i;

    rowhash_init(&h);
    for (i = 0; i < rs->n; i++) {
        const struct row *w = &rs->v[i];

        rowhash_add(&h, w->name, strlen(w->name), w->type, w->type ? strlen(w->type) : 0,
                    w->content, w->content ? strlen(w->content) : 0, (int64_t)w->ttl,
                    pdns ? (int64_t)w->prio : 0, pdns ? (w->auth ? 1 : 0) : 0, 1);
    }
    rowhash_hex(&h, out);
}
