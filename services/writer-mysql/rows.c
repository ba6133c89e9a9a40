/* rows.c -- a DirectAdmin zone turned into CoreDNS mysql_extend or PowerDNS gmysql rows.
 *
 * libzscanner parses the pushed text, libknot's dumper renders each RDATA in presentation
 * format, and this file applies the rules of each table (listed below). Pure: text in, rows
 * out; writing them in one transaction is left to the SQL side of writer-mysql.
 *
 * Rules, both formats:
 * - Owners are lowercased; the scanner makes every name absolute ("@", "mail" -> full names).
 * - RRSIG, NSEC, NSEC3 and NSEC3PARAM are dropped: both tables are served unsigned. PowerDNS
 *   with gmysql-dnssec=no cannot hold the PRESIGNED metadata that would make it serve a signed
 *   zone (domain metadata needs a DNSSEC backend), and CoreDNS's plugin never signs either, so
 *   the signature chain would only be stale bulk rewritten at every re-signing. DNSKEY, CDS,
 *   CDNSKEY and DS (at delegations) are plain data and kept.
 * - The records of one RRset share the TTL of the first of them in the text, as named and
 *   knotd load it ("TTL set to prior TTL").
 * - Rows are sorted (name, type, content, prio); exact duplicates are dropped.
 * - Blank runs outside quoted strings in the dumper's output collapse to one space.
 * - Anything that cannot be written fails the whole zone with a reason naming the record.
 *
 * CoreDNS (mysql_extend): hostname relative to the zone ("@", "www", "*", "_sip._tcp"),
 * escaped like miekg/dns prints names; data in presentation format with every name absolute
 * (trailing dot), TXT with its quotes; data at most 1024 characters (the column) else the zone
 * fails; a TTL of 0 becomes 1 (the plugin needs positive TTLs); prio 0, auth 1.
 *
 * PowerDNS (gmysql): full owner name without trailing dot; every domain name of the content
 * without its trailing dot (the root stays "."); the MX preference and the SRV priority move to
 * prio (PowerDNS serves prio + " " + content for those two types only); TTL 0 stays 0; content
 * is pure ASCII (the dumper writes other octets as \DDD) for the latin1 tables; auth is 0 for
 * every record at a delegation (NS owner below the apex) except its DS, and for everything
 * strictly below one; one empty-non-terminal row (type and content NULL, ttl and prio 0,
 * which the SQL side may write as NULL like pdnsutil rectify-zone) for each name between an
 * owner and the apex that has no records, auth 0 when below a delegation, else 1. */
#include "rows.h"

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "name.h"
#include "strset.h"
#include "zone.h"

/* ------------------------------------------------------------------------------------------ */
/* Limits and types                                                                             */

#define COREDNS_DATA_MAX 1024          /* records.data VARCHAR(1024) */
#define COREDNS_HOST_MAX 512           /* records.hostname VARCHAR(512) */
#define PDNS_NAME_MAX    255           /* records.name VARCHAR(255) */
#define PDNS_CONTENT_MAX 64000         /* records.content VARCHAR(64000) */
#define TYPE_MAX         10            /* records.type VARCHAR(10), both schemas */
#define DUMP_MAX         (1 << 20)     /* largest dumper output tried (65535 octets as \DDD fit) */
#define NAME_TEXT_MAX    (255 * 4 + 1) /* presentation form of a wire name, all \DDD */
#define ARENA_MAX        ((size_t)1 << 31) /* strings of one zone */
#define NONE             SIZE_MAX          /* offset of a NULL string */

enum {
    T_NS = 2,
    T_SOA = 6,
    T_MX = 15,
    T_SRV = 33,
    T_DS = 43,
    T_RRSIG = 46,
    T_NSEC = 47,
    T_NSEC3 = 50,
    T_NSEC3PARAM = 51,
    T_SVCB = 64,
    T_HTTPS = 65,
};

/* One parsed record, kept for the second pass (which needs the whole zone). */
struct rec {
    size_t owner;       /* arena offset of the lowercased wire owner */
    size_t name;        /* arena offset of the owner as the table writes it (second pass) */
    size_t type;        /* arena offset of the type mnemonic */
    size_t content;     /* arena offset of the rendered content */
    unsigned long line; /* line on which the record ends */
    uint32_t ttl;       /* as pushed (CoreDNS: 0 already made 1) */
    uint16_t rrtype;    /* numeric type */
    uint16_t prio;      /* PowerDNS MX/SRV priority, else 0 */
};

/* A row before it moves into the rowset: strings are arena offsets (NONE for NULL). */
struct pre {
    size_t name;    /* hostname / owner text */
    size_t type;    /* type mnemonic, NONE for an empty non-terminal */
    size_t content; /* content text, NONE for an empty non-terminal */
    uint32_t ttl;   /* TTL */
    uint32_t seq;   /* position in the text, to find each RRset's first record */
    uint16_t prio;  /* PowerDNS priority */
    uint8_t auth;   /* PowerDNS auth */
};

struct rows_builder {
    zs_scanner_t *zs;                /* the scanner (about 200 KiB), initialised per call */
    char *text;                      /* rewritten copy of the input (zone_prepare_text) */
    size_t tcap;                     /* octets allocated at text */
    char *dump;                      /* the dumper's output for one record */
    size_t dcap;                     /* octets allocated at dump */
    char *tok;                       /* one record's content being rewritten */
    size_t kcap;                     /* octets allocated at tok */
    struct buf arena;                /* owners and strings of the current call */
    struct rec *recs;                /* records of the current call */
    size_t nrecs, rcap;              /* used / allocated */
    struct pre *pre;                 /* rows of the current call */
    size_t npre, pcap;               /* used / allocated */
    struct strset *owners;           /* PowerDNS: owner names that have records */
    struct strset *cuts;             /* PowerDNS: delegation points (NS owners below the apex) */
    struct strset *ents;             /* PowerDNS: empty non-terminals already added */
    char zone[NAME_BUF_SIZE];        /* the zone, normalized (lowercase, no trailing dot) */
    uint8_t apex[KNOT_DNAME_MAXLEN]; /* wire form of the zone, lowercase */
    size_t apex_len;                 /* octets at apex */
    size_t apex_labels;              /* labels of apex, the root not counted */
    enum rows_format fmt;            /* format of the current call */
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                                */

/* Make room for @need octets at *@p (currently @cap). Returns 0 or DADNS_ENOMEM. */
static int grow(char **p, size_t *cap, size_t need)
{
    char *n;

    if (need <= *cap)
        return 0;
    n = realloc(*p, need);
    if (n == NULL)
        return DADNS_ENOMEM;
    *p = n;
    *cap = need;
    return 0;
}

/* Room for one more element in array @v of @n used / *@cap allocated elements of @size octets:
 * @v itself, or its reallocated copy (*@cap updated), or NULL when out of memory (@v is then
 * untouched). */
static void *grow_array(void *v, size_t n, size_t *cap, size_t size)
{
    size_t ncap;
    void *nv;

    if (n < *cap)
        return v;
    ncap = *cap ? *cap * 2 : 256;
    if (ncap > SIZE_MAX / size)
        return NULL;
    nv = realloc(v, ncap * size);
    if (nv != NULL)
        *cap = ncap;
    return nv;
}

/* Copy @n octets from @s into the arena, NUL terminated; *@off gets their offset. */
static int arena_put(struct rows_builder *rb, const void *s, size_t n, size_t *off)
{
    static const char nul = '\0';
    int rc;

    *off = rb->arena.len;
    rc = buf_append(&rb->arena, s, n);
    if (rc == 0)
        rc = buf_append(&rb->arena, &nul, 1);
    return rc == DADNS_ETOOBIG ? DADNS_ENOMEM : rc;
}

static const char *arena_str(const struct rows_builder *rb, size_t off)
{
    return off == NONE ? NULL : rb->arena.data + off;
}

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                        */

static size_t wire_labels(const uint8_t *p)
{
    size_t n = 0;

    while (*p != 0) {
        n++;
        p += *p + 1;
    }
    return n;
}

/* True when lowercase wire @name equals the apex or is below it, label-wise. */
static bool within_apex(const struct rows_builder *rb, const uint8_t *name, size_t len)
{
    size_t i = 0;

    while (len - i > rb->apex_len) {
        if (name[i] == 0)
            return false;
        i += (size_t)name[i] + 1;
    }
    return len - i == rb->apex_len && memcmp(name + i, rb->apex, rb->apex_len) == 0;
}

/* Presentation form of the first @labels labels of wire name @p into @out (NAME_TEXT_MAX
 * octets), without a trailing dot. PowerDNS style (DNSName::toString) escapes '.' and '\' with
 * a backslash and octets outside 0x21-0x7e as \DDD; the CoreDNS style escapes like miekg/dns
 * prints a query name: also ' ', '\'', '@', ';', '(', ')' and '"' get a backslash. */
static void name_text(const uint8_t *p, size_t labels, bool miekg, char *out)
{
    size_t o = 0, n;

    for (n = 0; n < labels && *p != 0; n++) {
        size_t l = *p++, k;

        if (n > 0)
            out[o++] = '.';
        for (k = 0; k < l; k++, p++) {
            uint8_t c = *p;

            if (c == '.' || c == '\\' || (miekg && c != 0 && strchr(" '@;()\"", c) != NULL)) {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c <= 0x20 || c >= 0x7f) {
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + (c / 10) % 10);
                out[o++] = (char)('0' + c % 10);
            } else {
                out[o++] = (char)c;
            }
        }
    }
    out[o] = '\0';
}

/* The PowerDNS name of wire name @p: every label. */
static void pdns_name(const uint8_t *p, char *out)
{
    name_text(p, wire_labels(p), false, out);
}

/* The CoreDNS hostname of wire name @p (within the apex): "@" or the labels above the apex. */
static void coredns_name(const struct rows_builder *rb, const uint8_t *p, char *out)
{
    size_t rel = wire_labels(p) - rb->apex_labels;

    if (rel == 0) {
        out[0] = '@';
        out[1] = '\0';
        return;
    }
    name_text(p, rel, true, out);
}

/* Set rb->apex from the zone name @zone. Returns 0 or DADNS_EINVAL. */
static int set_apex(struct rows_builder *rb, const char *zone, struct err *e)
{
    const char *norm = rb->zone;
    size_t i = 0, o = 0;
    struct err ne;

    if (zone == NULL || name_normalize(zone, strlen(zone), rb->zone, &ne) != 0)
        return err_set(e, DADNS_EINVAL, "invalid zone name");
    while (norm[i] != '\0') {
        size_t l = strcspn(norm + i, ".");

        rb->apex[o] = (uint8_t)l;
        memcpy(rb->apex + o + 1, norm + i, l);
        o += l + 1;
        i += l;
        if (norm[i] == '.')
            i++;
    }
    rb->apex[o++] = 0;
    rb->apex_len = o;
    rb->apex_labels = wire_labels(rb->apex);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Content                                                                                      */

/* Dump the scanner's current RDATA into rb->dump. Returns the length or a negative code. */
static int dump_rdata(struct rows_builder *rb, const zs_scanner_t *s)
{
    knot_dump_style_t style = KNOT_DUMP_STYLE_DEFAULT;
    knot_rrset_t rr;
    int n;

    style.wrap = false;
    knot_rrset_init(&rr, (knot_dname_t *)s->r_owner, s->r_type, s->r_class, s->r_ttl);
    if (knot_rrset_add_rdata(&rr, s->r_data, (uint16_t)s->r_data_length, NULL) != KNOT_EOK)
        return DADNS_ENOMEM;
    for (;;) {
        n = knot_rrset_txt_dump_data(&rr, 0, rb->dump, rb->dcap, &style);
        if (n >= 0 || rb->dcap >= DUMP_MAX)
            break;
        if (grow(&rb->dump, &rb->dcap, rb->dcap * 2) != 0) {
            n = DADNS_ENOMEM;
            break;
        }
    }
    knot_rdataset_clear(&rr.rrs, NULL);
    return n < 0 && n != DADNS_ENOMEM ? DADNS_EZONE : n;
}

/* Which tokens of the dumper's output of type @type are domain names, as a bit mask (token 0 =
 * bit 0), found from Knot's RDATA descriptor: the fixed fields before a name dump as known
 * numbers of tokens; after a free-form remainder nothing more is known. SVCB and HTTPS keep
 * their target in the remainder, as the second token. */
static uint32_t name_tokens(uint16_t type)
{
    const knot_rdata_descriptor_t *d = knot_get_rdata_descriptor(type);
    uint32_t mask = 0;
    unsigned tok = 0;
    int i;

    if (type == T_SVCB || type == T_HTTPS)
        return 1u << 1;
    for (i = 0; i < KNOT_MAX_RDATA_BLOCKS && d->block_types[i] != KNOT_RDATA_WF_END; i++) {
        int b = d->block_types[i];

        if (b == KNOT_RDATA_WF_FIXED_DNAME || b == KNOT_RDATA_WF_COMPRESSIBLE_DNAME ||
            b == KNOT_RDATA_WF_DECOMPRESSIBLE_DNAME)
            mask |= 1u << tok++;
        else if (b == KNOT_RDATA_WF_NAPTR_HEADER)
            tok += 5; /* order preference "flags" "services" "regexp" */
        else if (b == 2)
            tok += 1; /* MX, AFSDB, RT, KX, LP: one 16-bit number */
        else if (b == 6)
            tok += 3; /* SRV: priority weight port */
        else if (b == 18)
            tok += 7; /* SIG: covered algorithm labels ttl expiration inception tag */
        else
            break; /* a remainder, or fixed fields that follow the names (SOA) */
        if (tok > 31)
            break;
    }
    return mask;
}

/* Copy @n octets of dumper output @in into @out (room for @n + 1) as single-space separated
 * tokens: blank runs outside quoted strings become one space, leading and trailing blanks go.
 * Escapes are copied as they are. Returns the new length. */
static size_t squeeze(const char *in, size_t n, char *out)
{
    bool quoted = false, blank = false;
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        char c = in[i];

        if (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
            blank = o > 0;
            continue;
        }
        if (blank) {
            out[o++] = ' ';
            blank = false;
        }
        out[o++] = c;
        if (c == '\\' && i + 1 < n)
            out[o++] = in[++i];
        else if (c == '"')
            quoted = !quoted;
    }
    out[o] = '\0';
    return o;
}

/* Rewrite squeezed content @s (length @n, in place) for PowerDNS: drop the trailing dot of each
 * name token, and for MX and SRV move the first token into *@prio. Returns the new length, or
 * -1 when the priority is not a number. */
static long pdns_content(uint16_t type, char *s, size_t n, uint16_t *prio)
{
    uint32_t names = name_tokens(type);
    size_t i = 0, o = 0;
    unsigned tok = 0;

    *prio = 0;
    while (i < n) {
        size_t start = i, len;
        bool quoted = false;

        while (i < n && (quoted || s[i] != ' ')) {
            if (s[i] == '\\' && i + 1 < n)
                i++;
            else if (s[i] == '"')
                quoted = !quoted;
            i++;
        }
        len = i - start;
        if (tok == 0 && (type == T_MX || type == T_SRV)) {
            unsigned long v = 0;
            size_t k;

            if (len == 0 || len > 5)
                return -1;
            for (k = start; k < i; k++) {
                if (s[k] < '0' || s[k] > '9')
                    return -1;
                v = v * 10 + (unsigned long)(s[k] - '0');
            }
            if (v > UINT16_MAX)
                return -1;
            *prio = (uint16_t)v;
        } else {
            if (tok < 32 && (names & (1u << tok)) != 0 && len > 1 && s[i - 1] == '.')
                len--; /* absolute names always end with an unescaped dot; "." stays */
            if (o > 0)
                s[o++] = ' ';
            memmove(s + o, s + start, len);
            o += len;
        }
        tok++;
        if (i < n)
            i++; /* the single space */
    }
    s[o] = '\0';
    return (long)o;
}

/* ------------------------------------------------------------------------------------------ */
/* First pass: one record                                                                       */

static bool dropped_type(uint16_t type)
{
    return type == T_RRSIG || type == T_NSEC || type == T_NSEC3 || type == T_NSEC3PARAM;
}

/* Keep the scanner's current record in rb->recs, its content rendered. */
static int on_record(struct rows_builder *rb, const zs_scanner_t *s, uint32_t *serial,
                     bool *have_soa, struct err *e)
{
    unsigned long line = (unsigned long)s->line_counter;
    uint8_t owner[KNOT_DNAME_MAXLEN];
    char tname[32], otext[NAME_TEXT_MAX];
    struct rec *r;
    size_t olen;
    int n, rc;

    olen = knot_dname_size(s->r_owner);
    if (olen == 0 || olen > sizeof(owner))
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: invalid owner name", line);
    memcpy(owner, s->r_owner, olen);
    knot_dname_to_lower(owner);
    pdns_name(owner, otext);
    if (knot_rrtype_to_string(s->r_type, tname, sizeof(tname)) < 0)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: unknown type %u", line,
                        (unsigned)s->r_type);
    if (s->r_class != KNOT_CLASS_IN)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s %s is not of class IN", line, otext,
                        tname);
    if (!within_apex(rb, owner, olen))
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s is outside the zone", line, otext);
    if (s->r_type == T_SOA) {
        if (olen != rb->apex_len)
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: SOA record at %s, not at the apex",
                            line, otext);
        if (*have_soa)
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: a second SOA record", line);
        *have_soa = true;
    }
    if (dropped_type(s->r_type))
        return 0;
    if (strlen(tname) > TYPE_MAX)
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: %s type %s is longer than the %d characters of the type column",
                        line, otext, tname, TYPE_MAX);

    n = dump_rdata(rb, s);
    if (n < 0)
        return n == DADNS_ENOMEM
                   ? err_set(e, n, "out of memory")
                   : err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s %s: cannot render the data",
                              line, otext, tname);
    if (s->r_type == T_SOA && s->r_data_length >= 20) {
        const uint8_t *p = s->r_data + s->r_data_length - 20;

        *serial = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    if (grow(&rb->tok, &rb->kcap, (size_t)n + 1) != 0)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    r = grow_array(rb->recs, rb->nrecs, &rb->rcap, sizeof(*rb->recs));
    if (r == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    rb->recs = r;
    r = &rb->recs[rb->nrecs];
    memset(r, 0, sizeof(*r));
    r->line = line;
    r->rrtype = s->r_type;
    r->ttl = s->r_ttl;
    n = (int)squeeze(rb->dump, (size_t)n, rb->tok);

    if (rb->fmt == ROWS_COREDNS) {
        if (n > COREDNS_DATA_MAX)
            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: %s %s data is %d characters, over the %d of CoreDNS's "
                            "data column",
                            line, otext, tname, n, COREDNS_DATA_MAX);
        if (r->ttl == 0)
            r->ttl = 1;
    } else {
        long m = pdns_content(s->r_type, rb->tok, (size_t)n, &r->prio);
        long k;

        if (m < 0)
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s %s: bad priority", line, otext,
                            tname);
        if (m > PDNS_CONTENT_MAX)
            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: %s %s content is %ld characters, over the %d of PowerDNS's "
                            "content column",
                            line, otext, tname, m, PDNS_CONTENT_MAX);
        for (k = 0; k < m; k++)
            if ((unsigned char)rb->tok[k] >= 0x80)
                return err_setl(e, DADNS_EZONE, line, 0,
                                "line %lu: %s %s: non-ASCII octet in the content", line, otext,
                                tname);
        n = (int)m;
    }
    rc = arena_put(rb, owner, olen, &r->owner);
    if (rc == 0)
        rc = arena_put(rb, tname, strlen(tname), &r->type);
    if (rc == 0)
        rc = arena_put(rb, rb->tok, (size_t)n, &r->content);
    if (rc != 0)
        return err_set(e, rc, "out of memory");
    rb->nrecs++;
    return 0;
}

/* Parse @in (@len octets) into rb->recs. */
static int scan(struct rows_builder *rb, const char *in, size_t len, uint32_t *serial,
                struct err *e)
{
    zs_scanner_t *s = rb->zs;
    char origin[NAME_BUF_SIZE + 1];
    bool have_soa = false;
    int rc = 0;

    snprintf(origin, sizeof(origin), "%s.", rb->zone);
    if (zs_init(s, origin, KNOT_CLASS_IN, 3600) != 0) {
        rc = err_set(e, s->error.code == ZS_ENOMEM ? DADNS_ENOMEM : DADNS_EINVAL,
                     "cannot start the zone parser for %s: %s", origin, zs_strerror(s->error.code));
        goto out;
    }
    if (zs_set_input_string(s, in, len) != 0) {
        rc = err_set(e, DADNS_EINVAL, "zone parser: %s", zs_strerror(s->error.code));
        goto out;
    }
    for (;;) {
        unsigned long line;

        if (zs_parse_record(s) != 0 || s->state == ZS_STATE_ERROR) {
            line = (unsigned long)s->line_counter;
            rc =
                err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s", line, zs_strerror(s->error.code));
            goto out;
        }
        if (s->state == ZS_STATE_DATA) {
            rc = on_record(rb, s, serial, &have_soa, e);
            if (rc != 0)
                goto out;
        } else if (s->state == ZS_STATE_INCLUDE) {
            line = (unsigned long)s->line_counter;
            rc = err_setl(e, DADNS_EZONE, line, 0, "line %lu: $INCLUDE is not allowed", line);
            goto out;
        } else if (s->state == ZS_STATE_EOF || s->state == ZS_STATE_STOP) {
            if (s->error.code != ZS_OK) {
                line = (unsigned long)s->line_counter;
                rc = err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s", line,
                              zs_strerror(s->error.code));
                goto out;
            }
            break;
        }
    }
    if (!have_soa)
        rc = err_set(e, DADNS_EZONE, "no SOA record at the zone apex");
out:
    zs_deinit(s);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Second pass: names, auth, empty non-terminals                                                */

static int add_pre(struct rows_builder *rb, size_t name, size_t type, size_t content, uint32_t ttl,
                   uint16_t prio, uint8_t auth)
{
    struct pre *p = grow_array(rb->pre, rb->npre, &rb->pcap, sizeof(*rb->pre));

    if (p == NULL)
        return DADNS_ENOMEM;
    rb->pre = p;
    p = &rb->pre[rb->npre];
    p->name = name;
    p->type = type;
    p->content = content;
    p->ttl = ttl;
    p->prio = prio;
    p->auth = auth;
    p->seq = (uint32_t)rb->npre;
    rb->npre++;
    return 0;
}

/* True when a strict ancestor of wire name @owner, below the apex, is a delegation point. */
static bool below_cut(const struct rows_builder *rb, const uint8_t *owner)
{
    char t[NAME_TEXT_MAX];
    size_t labels = wire_labels(owner);

    if (strset_count(rb->cuts) == 0)
        return false;
    while (labels > rb->apex_labels + 1) {
        owner += *owner + 1;
        labels--;
        pdns_name(owner, t);
        if (strset_has(rb->cuts, t))
            return true;
    }
    return false;
}

/* Give every record its table name, checking the column width. PowerDNS: also fill the owner
 * and delegation sets. */
static int name_records(struct rows_builder *rb, struct err *e)
{
    char t[NAME_TEXT_MAX];
    size_t i;
    int rc;

    for (i = 0; i < rb->nrecs; i++) {
        struct rec *r = &rb->recs[i];
        const uint8_t *owner = (const uint8_t *)rb->arena.data + r->owner;
        size_t n;

        if (rb->fmt == ROWS_COREDNS)
            coredns_name(rb, owner, t);
        else
            pdns_name(owner, t);
        n = strlen(t);
        if (rb->fmt == ROWS_COREDNS && n > COREDNS_HOST_MAX)
            return err_setl(e, DADNS_EZONE, r->line, 0,
                            "line %lu: hostname of %zu characters, longer than the %d of "
                            "CoreDNS's hostname column: %s",
                            r->line, n, COREDNS_HOST_MAX, t);
        if (rb->fmt == ROWS_POWERDNS && n > PDNS_NAME_MAX)
            return err_setl(e, DADNS_EZONE, r->line, 0,
                            "line %lu: name of %zu characters, longer than the %d of PowerDNS's "
                            "name column: %s",
                            r->line, n, PDNS_NAME_MAX, t);
        if (rb->fmt == ROWS_POWERDNS) {
            rc = strset_add(rb->owners, t);
            if (rc >= 0 && r->rrtype == T_NS && knot_dname_size(owner) != rb->apex_len)
                rc = strset_add(rb->cuts, t);
            if (rc < 0)
                return err_set(e, rc, "out of memory");
        }
        /* after the strset calls: arena_put may move rb->arena.data, and with it owner */
        rc = arena_put(rb, t, n, &r->name);
        if (rc != 0)
            return err_set(e, rc, "out of memory");
    }
    return 0;
}

/* PowerDNS: the empty non-terminals between wire name @owner and the apex, each once. */
static int add_ents(struct rows_builder *rb, size_t owner_off)
{
    char t[NAME_TEXT_MAX];
    size_t labels = wire_labels((const uint8_t *)rb->arena.data + owner_off);
    size_t skip = 0;
    int rc;

    while (labels > rb->apex_labels + 1) {
        const uint8_t *p = (const uint8_t *)rb->arena.data + owner_off + skip;
        size_t name;

        skip += (size_t)*p + 1;
        labels--;
        p += *p + 1;
        pdns_name(p, t);
        if (strset_has(rb->owners, t))
            break; /* its own ancestors are handled from it */
        rc = strset_add(rb->ents, t);
        if (rc <= 0)
            return rc; /* 0: already there, with its ancestors */
        rc = arena_put(rb, t, strlen(t), &name);
        if (rc == 0)
            rc = add_pre(rb, name, NONE, NONE, 0, 0,
                         below_cut(rb, (const uint8_t *)rb->arena.data + owner_off + skip) ? 0 : 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int make_rows(struct rows_builder *rb, struct err *e)
{
    size_t i;
    int rc;

    rc = name_records(rb, e);
    if (rc != 0)
        return rc;
    for (i = 0; i < rb->nrecs; i++) {
        const struct rec *r = &rb->recs[i];
        const uint8_t *owner = (const uint8_t *)rb->arena.data + r->owner;
        uint8_t auth = 1;

        if (rb->fmt == ROWS_POWERDNS) {
            if (below_cut(rb, owner))
                auth = 0;
            else if (r->rrtype != T_DS && strset_has(rb->cuts, arena_str(rb, r->name)))
                auth = 0;
        }
        rc = add_pre(rb, r->name, r->type, r->content, r->ttl, r->prio, auth);
        if (rc != 0)
            return err_set(e, rc, "out of memory");
    }
    if (rb->fmt == ROWS_POWERDNS) {
        for (i = 0; i < rb->nrecs; i++) {
            rc = add_ents(rb, rb->recs[i].owner);
            if (rc != 0)
                return err_set(e, DADNS_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Sorting and output                                                                           */

/* strcmp with NULL first. */
static int cmp_null(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* Order (name, type, content, prio, seq); seq makes it total, so the output is stable. */
static int cmp_pre(const void *x, const void *y, void *arg)
{
    const struct rows_builder *rb = arg;
    const struct pre *a = x, *b = y;
    int c;

    c = strcmp(arena_str(rb, a->name), arena_str(rb, b->name));
    if (c == 0)
        c = cmp_null(arena_str(rb, a->type), arena_str(rb, b->type));
    if (c == 0)
        c = cmp_null(arena_str(rb, a->content), arena_str(rb, b->content));
    if (c == 0)
        c = (a->prio > b->prio) - (a->prio < b->prio);
    if (c == 0)
        c = (a->seq > b->seq) - (a->seq < b->seq);
    return c;
}

static bool same_rrset(const struct rows_builder *rb, const struct pre *a, const struct pre *b)
{
    return strcmp(arena_str(rb, a->name), arena_str(rb, b->name)) == 0 &&
           cmp_null(arena_str(rb, a->type), arena_str(rb, b->type)) == 0;
}

/* Sort rb->pre, give each RRset the TTL of its first record in the text, drop duplicates. */
static void sort_rows(struct rows_builder *rb)
{
    size_t i, j, k, o = 0;

    if (rb->npre == 0)
        return;
    qsort_r(rb->pre, rb->npre, sizeof(*rb->pre), cmp_pre, rb);
    for (i = 0; i < rb->npre; i = j) {
        size_t first = i;

        for (j = i + 1; j < rb->npre && same_rrset(rb, &rb->pre[i], &rb->pre[j]); j++)
            if (rb->pre[j].seq < rb->pre[first].seq)
                first = j;
        for (k = i; k < j; k++)
            rb->pre[k].ttl = rb->pre[first].ttl;
    }
    for (i = 0; i < rb->npre; i++) {
        if (o > 0 && same_rrset(rb, &rb->pre[o - 1], &rb->pre[i]) &&
            cmp_null(arena_str(rb, rb->pre[o - 1].content), arena_str(rb, rb->pre[i].content)) ==
                0 &&
            rb->pre[o - 1].prio == rb->pre[i].prio)
            continue;
        rb->pre[o++] = rb->pre[i];
    }
    rb->npre = o;
}

/* Copy the string at arena offset @off to *@dst; returns the copy (NULL for NONE). */
static const char *out_str(const struct rows_builder *rb, size_t off, char **dst)
{
    const char *s = arena_str(rb, off), *r = *dst;
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    memcpy(*dst, s, n);
    *dst += n;
    return r;
}

/* Move rb->pre into @out: one block holding the row array then the strings. */
static int fill_rowset(const struct rows_builder *rb, struct rowset *out)
{
    size_t need, i;
    char *p;

    if (rb->npre > SIZE_MAX / sizeof(struct row))
        return DADNS_ENOMEM;
    need = rb->npre * sizeof(struct row);
    for (i = 0; i < rb->npre; i++) {
        const struct pre *r = &rb->pre[i];

        need += strlen(arena_str(rb, r->name)) + 1;
        if (r->type != NONE)
            need += strlen(arena_str(rb, r->type)) + 1;
        if (r->content != NONE)
            need += strlen(arena_str(rb, r->content)) + 1;
    }
    if (need > out->cap) {
        void *m = realloc(out->mem, need);

        if (m == NULL)
            return DADNS_ENOMEM;
        out->mem = m;
        out->cap = need;
    }
    out->v = out->mem;
    p = (char *)out->mem + rb->npre * sizeof(struct row);
    for (i = 0; i < rb->npre; i++) {
        const struct pre *r = &rb->pre[i];
        struct row *w = &out->v[i];

        w->name = out_str(rb, r->name, &p);
        w->type = out_str(rb, r->type, &p);
        w->content = out_str(rb, r->content, &p);
        w->ttl = r->ttl;
        w->prio = r->prio;
        w->auth = r->auth;
    }
    out->n = rb->npre;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public API                                                                                   */

int rows_builder_new(struct rows_builder **out)
{
    struct rows_builder *rb = calloc(1, sizeof(*rb));

    *out = NULL;
    if (rb == NULL)
        return DADNS_ENOMEM;
    buf_init(&rb->arena, ARENA_MAX);
    rb->zs = malloc(sizeof(*rb->zs));
    rb->dcap = 64 * 1024;
    rb->dump = malloc(rb->dcap);
    if (rb->zs == NULL || rb->dump == NULL || strset_new(&rb->owners) != 0 ||
        strset_new(&rb->cuts) != 0 || strset_new(&rb->ents) != 0) {
        rows_builder_free(rb);
        return DADNS_ENOMEM;
    }
    *out = rb;
    return 0;
}

void rows_builder_free(struct rows_builder *rb)
{
    if (rb == NULL)
        return;
    free(rb->zs);
    free(rb->text);
    free(rb->dump);
    free(rb->tok);
    buf_free(&rb->arena);
    free(rb->recs);
    free(rb->pre);
    strset_free(rb->owners);
    strset_free(rb->cuts);
    strset_free(rb->ents);
    free(rb);
}

int rows_build(struct rows_builder *rb, enum rows_format fmt, const char *zone, const char *text,
               size_t len, struct rowset *out, struct err *e)
{
    uint32_t serial = 0;
    const char *in, *nul;
    size_t in_len;
    int rc;

    out->n = 0;
    out->serial = 0;
    err_clear(e);
    if (fmt != ROWS_COREDNS && fmt != ROWS_POWERDNS) {
        rc = err_set(e, DADNS_EINVAL, "unknown row format %d", (int)fmt);
        goto out;
    }
    rb->fmt = fmt;
    rb->nrecs = 0;
    rb->npre = 0;
    buf_reset(&rb->arena);
    strset_clear(rb->owners);
    strset_clear(rb->cuts);
    strset_clear(rb->ents);
    rc = set_apex(rb, zone, e);
    if (rc != 0)
        goto out;
    if (text == NULL || len == 0) {
        rc = err_set(e, DADNS_EZONE, "the zone is empty (no text)");
        goto out;
    }
    nul = memchr(text, '\0', len);
    if (nul != NULL) {
        unsigned long line = 1;

        for (in = text; in < nul; in++)
            line += *in == '\n';
        rc = err_setl(e, DADNS_EZONE, line, 0, "line %lu: NUL byte in the zone text", line);
        goto out;
    }
    /* the text as common/zone.c's validation reads it, so a zone that passed ingest parses
     * here the same way */
    rc = zone_prepare_text(text, len, &rb->text, &rb->tcap, &in, &in_len);
    if (rc != 0) {
        err_set(e, rc, "out of memory");
        goto out;
    }
    rc = scan(rb, in, in_len, &serial, e);
    if (rc == 0)
        rc = make_rows(rb, e);
    if (rc != 0)
        goto out;
    sort_rows(rb);
    rc = fill_rowset(rb, out);
    if (rc != 0) {
        err_set(e, rc, "out of memory");
        goto out;
    }
    out->serial = serial;
out:
    if (rc != 0)
        out->n = 0;
    return rc;
}

void rowset_free(struct rowset *rs)
{
    if (rs == NULL)
        return;
    free(rs->mem);
    memset(rs, 0, sizeof(*rs));
}
