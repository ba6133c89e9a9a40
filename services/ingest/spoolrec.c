/* spoolrec.c -- spool file header, record and progress slot codecs (see spoolrec.h). Pure. */
#include "spoolrec.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char FILE_MAGIC[8] = {'D', 'A', 'D', 'N', 'S', 'S', 'P', 'L'};
static const char REC_MAGIC[4] = {'D', 'S', 'P', 'R'};
static const char POS_MAGIC[4] = {'D', 'S', 'P', 'P'};

#define FORMAT_VERSION 1
#define REC_VERSION    1
#define PAYLOAD_FIXED  24 /* serial, accepted, host len, user len, zone count, 0, text len */

/* ---- CRC-32 ---------------------------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    uint32_t i, j, c;

    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t spoolrec_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    for (i = 0; i < n; i++)
        crc = crc_table[(crc ^ b[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---- little-endian helpers ------------------------------------------------------------- */

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)get16(p) | ((uint32_t)get16(p + 2) << 16);
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

/* ---- records --------------------------------------------------------------------------- */

/* Check the shape of @r and compute its payload size into *@payload. */
static int check_rec(const struct spoolrec *r, size_t *payload, struct err *e)
{
    size_t size = PAYLOAD_FIXED, hl, ul, i;

    if (r->op != SPOOLREC_SAVE && r->op != SPOOLREC_DELETE)
        return err_set(e, DADNS_EINVAL, "spool record: unknown op %d", (int)r->op);
    if (r->nzones == 0 || r->nzones > SPOOLREC_MAX_ZONES ||
        (r->op == SPOOLREC_SAVE && r->nzones != 1))
        return err_set(e, DADNS_EINVAL, "spool record: %zu zones for op %d", r->nzones, (int)r->op);
    if (r->op == SPOOLREC_SAVE && (r->text == NULL || r->text_len == 0))
        return err_set(e, DADNS_EINVAL, "spool record: save without zone text");
    if (r->op == SPOOLREC_DELETE && r->text_len != 0)
        return err_set(e, DADNS_EINVAL, "spool record: delete with text");
    hl = r->host ? strlen(r->host) : 0;
    ul = r->user ? strlen(r->user) : 0;
    if (hl > SPOOLREC_OWNER_MAX || ul > SPOOLREC_OWNER_MAX)
        return err_set(e, DADNS_EINVAL, "spool record: hostname or username too long");
    size += hl + ul;
    for (i = 0; i < r->nzones; i++) {
        size_t zl = r->zones[i] ? strlen(r->zones[i]) : 0;

        if (zl == 0 || zl > SPOOLREC_NAME_MAX)
            return err_set(e, DADNS_EINVAL, "spool record: zone name empty or too long");
        size += 2 + zl;
    }
    if (r->text_len > SPOOLREC_MAX_PAYLOAD || size + r->text_len > SPOOLREC_MAX_PAYLOAD)
        return err_set(e, DADNS_EINVAL, "spool record: over %u octets",
                       (unsigned)SPOOLREC_MAX_PAYLOAD);
    *payload = size + r->text_len;
    return 0;
}

size_t spoolrec_size(const struct spoolrec *r)
{
    size_t payload;

    if (check_rec(r, &payload, NULL) != 0)
        return 0;
    return SPOOLREC_HDR_SIZE + payload;
}

int spoolrec_encode(const struct spoolrec *r, struct buf *out, struct err *e)
{
    unsigned char *rec = NULL, *p;
    size_t payload, hl, ul, i;
    uint32_t crc;
    int rc;

    if ((rc = check_rec(r, &payload, e)) != 0)
        return rc;
    rec = malloc(SPOOLREC_HDR_SIZE + payload);
    if (rec == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    hl = r->host ? strlen(r->host) : 0;
    ul = r->user ? strlen(r->user) : 0;
    memcpy(rec, REC_MAGIC, 4);
    rec[4] = REC_VERSION;
    rec[5] = (unsigned char)r->op;
    put16(rec + 6, 0);
    put32(rec + 8, (uint32_t)payload);
    p = rec + SPOOLREC_HDR_SIZE;
    put32(p, r->serial);
    put64(p + 4, r->accepted_ms);
    put16(p + 12, (uint16_t)hl);
    put16(p + 14, (uint16_t)ul);
    put16(p + 16, (uint16_t)r->nzones);
    put16(p + 18, 0);
    put32(p + 20, (uint32_t)r->text_len);
    p += PAYLOAD_FIXED;
    if (hl > 0)
        memcpy(p, r->host, hl);
    p += hl;
    if (ul > 0)
        memcpy(p, r->user, ul);
    p += ul;
    for (i = 0; i < r->nzones; i++) {
        size_t zl = strlen(r->zones[i]);

        put16(p, (uint16_t)zl);
        memcpy(p + 2, r->zones[i], zl);
        p += 2 + zl;
    }
    if (r->text_len > 0)
        memcpy(p, r->text, r->text_len);
    crc = spoolrec_crc32(0, rec, 12);
    crc = spoolrec_crc32(crc, rec + SPOOLREC_HDR_SIZE, payload);
    put32(rec + 12, crc);
    rc = buf_append(out, rec, SPOOLREC_HDR_SIZE + payload);
    if (rc != 0)
        err_set(e, rc, "spool record: %s", rc == DADNS_ETOOBIG ? "too big" : "out of memory");
    free(rec);
    return rc;
}

int spoolrec_header(const void *p, size_t n, size_t *total, struct err *e)
{
    const unsigned char *h = p;
    uint32_t len;

    if (n < SPOOLREC_HDR_SIZE)
        return err_set(e, DADNS_EINVAL, "incomplete record header");
    if (memcmp(h, REC_MAGIC, 4) != 0)
        return err_set(e, DADNS_EINVAL, "no record magic");
    if (h[4] != REC_VERSION)
        return err_set(e, DADNS_EINVAL, "unknown record version %u", (unsigned)h[4]);
    if (h[5] != SPOOLREC_SAVE && h[5] != SPOOLREC_DELETE)
        return err_set(e, DADNS_EINVAL, "unknown record op %u", (unsigned)h[5]);
    len = get32(h + 8);
    if (len < PAYLOAD_FIXED || len > SPOOLREC_MAX_PAYLOAD)
        return err_set(e, DADNS_EINVAL, "record length %u out of range", (unsigned)len);
    *total = SPOOLREC_HDR_SIZE + (size_t)len;
    return 0;
}

/* Copy @len octets at @src into the arena at *@cur as a NUL-terminated string; NULs inside
 * are refused. */
static int take_str(char **cur, const unsigned char *src, size_t len, const char **out)
{
    if (memchr(src, '\0', len) != NULL)
        return DADNS_EINVAL;
    memcpy(*cur, src, len);
    (*cur)[len] = '\0';
    *out = *cur;
    *cur += len + 1;
    return 0;
}

int spoolrec_decode(const void *p, size_t n, struct spoolrec *out, struct err *e)
{
    const unsigned char *h = p, *pl, *q, *end;
    size_t total, hl, ul, nz, tl, i, arena;
    const char **zonev = NULL;
    char *mem = NULL, *cur;
    uint32_t crc;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = spoolrec_header(p, n, &total, e)) != 0)
        return rc;
    if (total != n)
        return err_set(e, DADNS_EINVAL, "record length %zu, %zu octets given", total, n);
    crc = spoolrec_crc32(0, h, 12);
    crc = spoolrec_crc32(crc, h + SPOOLREC_HDR_SIZE, n - SPOOLREC_HDR_SIZE);
    if (crc != get32(h + 12))
        return err_set(e, DADNS_EINVAL, "CRC mismatch");
    pl = h + SPOOLREC_HDR_SIZE;
    end = h + n;
    hl = get16(pl + 12);
    ul = get16(pl + 14);
    nz = get16(pl + 16);
    tl = get32(pl + 20);
    q = pl + PAYLOAD_FIXED;
    if (hl > SPOOLREC_OWNER_MAX || ul > SPOOLREC_OWNER_MAX || nz == 0 ||
        (size_t)(end - q) < hl + ul)
        return err_set(e, DADNS_EINVAL, "bad owner or zone count");
    if ((h[5] == SPOOLREC_SAVE && (nz != 1 || tl == 0)) || (h[5] == SPOOLREC_DELETE && tl != 0))
        return err_set(e, DADNS_EINVAL, "bad shape for op %u", (unsigned)h[5]);
    /* Strings: host, user, zones, each with its NUL; plus the zone pointer array. */
    arena = hl + 1 + ul + 1 + (size_t)(end - q) + nz;
    mem = malloc(arena + nz * sizeof(*zonev) + sizeof(*zonev));
    if (mem == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    zonev = (const char **)(void *)mem;
    cur = mem + (nz + 1) * sizeof(*zonev);
    if (take_str(&cur, q, hl, &out->host) != 0 || take_str(&cur, q + hl, ul, &out->user) != 0)
        goto bad;
    q += hl + ul;
    for (i = 0; i < nz; i++) {
        size_t zl;

        if (end - q < 2)
            goto bad;
        zl = get16(q);
        q += 2;
        if (zl == 0 || zl > SPOOLREC_NAME_MAX || (size_t)(end - q) < zl ||
            take_str(&cur, q, zl, &zonev[i]) != 0)
            goto bad;
        q += zl;
    }
    zonev[nz] = NULL;
    if ((size_t)(end - q) != tl)
        goto bad;
    out->op = (enum spoolrec_op)h[5];
    out->serial = get32(pl);
    out->accepted_ms = get64(pl + 4);
    out->zones = zonev;
    out->nzones = nz;
    out->text = tl > 0 ? (const char *)q : NULL;
    out->text_len = tl;
    out->mem = mem;
    return 0;
bad:
    free(mem);
    memset(out, 0, sizeof(*out));
    return err_set(e, DADNS_EINVAL, "malformed record payload");
}

void spoolrec_clear(struct spoolrec *r)
{
    if (r == NULL)
        return;
    free(r->mem);
    memset(r, 0, sizeof(*r));
}

/* ---- file header and progress ---------------------------------------------------------- */

void spoolrec_file_header(uint64_t id, unsigned char out[SPOOLREC_FILE_HDR_SIZE])
{
    memset(out, 0, SPOOLREC_FILE_HDR_SIZE);
    memcpy(out, FILE_MAGIC, 8);
    put32(out + 8, FORMAT_VERSION);
    put64(out + 16, id);
    put32(out + 28, spoolrec_crc32(0, out, 28));
}

int spoolrec_file_header_parse(const void *p, uint64_t *id, struct err *e)
{
    const unsigned char *h = p;

    if (memcmp(h, FILE_MAGIC, 8) != 0)
        return err_set(e, DADNS_EINVAL, "not a dadns spool file (bad magic)");
    if (spoolrec_crc32(0, h, 28) != get32(h + 28))
        return err_set(e, DADNS_EINVAL, "spool file header: CRC mismatch");
    if (get32(h + 8) != FORMAT_VERSION)
        return err_set(e, DADNS_EINVAL, "spool file format %u not supported",
                       (unsigned)get32(h + 8));
    *id = get64(h + 16);
    return 0;
}

void spoolrec_pos_encode(const struct spoolrec_pos *pos, unsigned char out[SPOOLREC_POS_SIZE])
{
    memset(out, 0, SPOOLREC_POS_SIZE);
    memcpy(out, POS_MAGIC, 4);
    put32(out + 4, FORMAT_VERSION);
    put64(out + 8, pos->seq);
    put64(out + 16, pos->id);
    put64(out + 24, pos->offset);
    put32(out + 32, spoolrec_crc32(0, out, 32));
}

int spoolrec_pos_decode(const void *p, struct spoolrec_pos *out)
{
    const unsigned char *h = p;

    if (memcmp(h, POS_MAGIC, 4) != 0 || get32(h + 4) != FORMAT_VERSION ||
        spoolrec_crc32(0, h, 32) != get32(h + 32))
        return DADNS_EINVAL;
    out->seq = get64(h + 8);
    out->id = get64(h + 16);
    out->offset = get64(h + 24);
    return 0;
}
