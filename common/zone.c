/* zone.c -- validation of a pushed zone the way named loads a primary zone (see zone.h).
 *
 * Knot's libzscanner does the syntax; this file adds BIND's load-time rules (check-names,
 * singleton types, CNAME exclusivity, SOA and NS at the apex, addresses of in-zone apex NS
 * targets) and dadns's own (no $INCLUDE, no NUL, owners inside the zone, class IN only).
 * Storing the zone and logging the outcome are left to the callers. */
#include "zone.h"

#include <libzscanner/scanner.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "name.h"

/* ------------------------------------------------------------------------------------------ */
/* Types                                                                                        */

enum {
    T_A = 1,
    T_NS = 2,
    T_CNAME = 5,
    T_SOA = 6,
    T_WKS = 11,
    T_PTR = 12,
    T_MINFO = 14,
    T_MX = 15,
    T_TXT = 16,
    T_RP = 17,
    T_AFSDB = 18,
    T_RT = 21,
    T_SIG = 24,
    T_KEY = 25,
    T_AAAA = 28,
    T_SRV = 33,
    T_DNAME = 39,
    T_SSHFP = 44,
    T_DS = 43,
    T_RRSIG = 46,
    T_NSEC = 47,
    T_NSEC3 = 50,
    T_SVCB = 64,
    T_HTTPS = 65,
    T_CDS = 59,
    T_ZONEMD = 63,
    T_CAA = 257,
    T_SPF = 99,
    T_AVC = 258,
};

#define WIRE_MAX    255       /* longest wire-format name */
#define TEXT_MAX    (255 * 4) /* longest presentation form of a wire name (all \DDD) */
#define EXCERPT_MAX 60        /* octets of an offending line quoted in a syntax error */

/* One parsed record, as much of it as the whole-zone checks need. */
struct rec {
    size_t owner;         /* offset of the lowercased wire owner in zc->arena */
    size_t rdata;         /* offset of the kept rdata (NS, CNAME, DNAME) in zc->arena, or 0 */
    const uint8_t *oname; /* owner pointer, set once the arena stops moving (after the scan) */
    unsigned long line;   /* line on which the record ends */
    uint32_t rdata_len;   /* octets at rdata (0 if not kept) */
    uint16_t type;        /* RR type */
    uint8_t owner_len;    /* octets at owner */
};

struct zone_checker {
    zs_scanner_t *zs;       /* the scanner, about 200 KiB, initialised per check */
    struct rec *recs;       /* records of the current check, reused across checks */
    size_t nrecs;           /* records used */
    size_t rcap;            /* records allocated */
    uint8_t *arena;         /* owners and kept rdata of the current check */
    size_t alen;            /* arena octets used */
    size_t acap;            /* arena octets allocated */
    char *text;             /* rewritten copy of the input (zone_prepare_text), reused */
    size_t tcap;            /* text octets allocated */
    uint8_t apex[WIRE_MAX]; /* wire form of the origin, lowercase */
    size_t apex_len;        /* octets at apex */
    const char *origin;     /* origin as given, for messages (borrowed during a check) */
    const char *in;         /* text being scanned (borrowed during a check) */
    size_t in_len;          /* octets at in */
    bool have_soa;          /* an SOA was seen */
    size_t soa_rdata;       /* arena offset of the first SOA's lowercased rdata */
    uint32_t soa_len;       /* its length */
    uint32_t serial;        /* its serial */
    const char *span;       /* where the text of the next record starts (after the last one) */
    int depth;              /* parentheses still open where the last record's text ended */
};

/* ------------------------------------------------------------------------------------------ */
/* Wire-format names                                                                            */

/* Length of the wire name at @p (at most @max octets) including the root label, or 0 when it
 * is malformed or longer than @max. */
static size_t dname_len(const uint8_t *p, size_t max)
{
    size_t i = 0;

    while (i < max) {
        uint8_t l = p[i];

        if (l == 0)
            return i + 1;
        if (l > 63)
            return 0;
        i += (size_t)l + 1;
    }
    return 0;
}

static void dname_lower(uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len && p[i] != 0) {
        size_t l = p[i], k;

        for (k = i + 1; k <= i + l && k < len; k++)
            if (p[k] >= 'A' && p[k] <= 'Z')
                p[k] = (uint8_t)(p[k] + ('a' - 'A'));
        i += l + 1;
    }
}

/* True when @name (wire, @len octets) equals @anc or is below it, label-wise. Both must be
 * lowercase. */
static bool dname_within(const uint8_t *name, size_t len, const uint8_t *anc, size_t alen)
{
    size_t i = 0;

    while (len - i > alen) {
        if (name[i] == 0)
            return false;
        i += (size_t)name[i] + 1;
    }
    return len - i == alen && memcmp(name + i, anc, alen) == 0;
}

/* Number of labels of @name, the root label not counted. */
static size_t dname_labels(const uint8_t *name)
{
    size_t n = 0;

    while (*name != 0) {
        n++;
        name += *name + 1;
    }
    return n;
}

/* Presentation form of wire name @p into @out (TEXT_MAX + 2 octets), without the final dot
 * except for the root. Escapes what is not a plain printable octet. */
static const char *dname_text(const uint8_t *p, char *out)
{
    size_t o = 0;

    if (*p == 0) {
        out[0] = '.';
        out[1] = '\0';
        return out;
    }
    while (*p != 0) {
        size_t l = *p++, k;

        if (o > 0)
            out[o++] = '.';
        for (k = 0; k < l; k++, p++) {
            uint8_t c = *p;

            if (c <= 0x20 || c >= 0x7f) {
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + (c / 10) % 10);
                out[o++] = (char)('0' + c % 10);
            } else {
                if (strchr(".\\\"();@$", c) != NULL)
                    out[o++] = '\\';
                out[o++] = (char)c;
            }
            if (o > TEXT_MAX - 4)
                goto done;
        }
    }
done:
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* BIND's check-names (lib/dns/name.c: dns_name_ishostname, dns_name_ismailbox)                */

static bool is_alnum(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Labels from @p on are RFC 952/1123 host labels: letters, digits, inner '-'. */
static bool host_labels(const uint8_t *p)
{
    while (*p != 0) {
        size_t l = *p++, k;

        for (k = 0; k < l; k++) {
            uint8_t c = p[k];

            if (k == 0 || k == l - 1) {
                if (!is_alnum(c))
                    return false;
            } else if (!is_alnum(c) && c != '-') {
                return false;
            }
        }
        p += l;
    }
    return true;
}

/* dns_name_ishostname(): the root, or host labels; a leading "*" label is allowed when
 * @wildcard (owner names). */
static bool is_hostname(const uint8_t *p, bool wildcard)
{
    if (wildcard && p[0] == 1 && p[1] == '*')
        p += 2;
    return host_labels(p);
}

/* dns_name_ismailbox(): the root, or a first label of printable non-space octets followed by
 * host labels (none at all is fine: "hostmaster." passes, as in named). */
static bool is_mailbox(const uint8_t *p)
{
    size_t l = p[0], k;

    if (l == 0)
        return true;
    for (k = 1; k <= l; k++)
        if (p[k] <= 0x20 || p[k] >= 0x7f)
            return false;
    return host_labels(p + l + 1);
}

static bool label_is(const uint8_t *label, const char *s)
{
    size_t n = strlen(s);

    return label[0] == n && memcmp(label + 1, s, n) == 0;
}

/* BIND's owner-name rule for @type at lowercase @owner; true when fine. A, AAAA, MX and WKS
 * owners must be host names (wildcards allowed); A and AAAA accept the Active Directory name
 * gc._msdcs.<host>; A also accepts names holding an "_spf", "_spf_verify" or "_spf_rate" label
 * other than the last (RFC 7208 exists targets). */
static bool owner_ok(uint16_t type, const uint8_t *owner)
{
    const uint8_t *p;
    size_t labels, i;

    if (type != T_A && type != T_AAAA && type != T_MX && type != T_WKS)
        return true;
    labels = dname_labels(owner);
    if ((type == T_A || type == T_AAAA) && labels > 1) {
        if (label_is(owner, "gc") && label_is(owner + 3, "_msdcs") && host_labels(owner + 10))
            return true;
    }
    if (type == T_A && labels > 1) {
        for (p = owner, i = 0; i + 1 < labels; i++, p += *p + 1)
            if (label_is(p, "_spf") || label_is(p, "_spf_verify") || label_is(p, "_spf_rate"))
                return true;
    }
    return is_hostname(owner, true);
}

/* dns_name_isdnssd(): b, db, r, dr or lb ._dns-sd._udp.<domain>. */
static bool is_dnssd(const uint8_t *owner)
{
    static const char *const first[] = {"b", "db", "r", "dr", "lb"};
    const uint8_t *p;
    size_t i;

    if (dname_labels(owner) < 3)
        return false;
    for (i = 0; i < sizeof(first) / sizeof(first[0]); i++)
        if (label_is(owner, first[i]))
            break;
    if (i == sizeof(first) / sizeof(first[0]))
        return false;
    p = owner + owner[0] + 1;
    return label_is(p, "_dns-sd") && label_is(p + 8, "_udp");
}

static bool in_reverse_tree(const uint8_t *owner, size_t len)
{
    static const uint8_t in_addr[] = "\007in-addr\004arpa";
    static const uint8_t ip6_arpa[] = "\003ip6\004arpa";
    static const uint8_t ip6_int[] = "\003ip6\003int";

    return dname_within(owner, len, in_addr, sizeof(in_addr)) ||
           dname_within(owner, len, ip6_arpa, sizeof(ip6_arpa)) ||
           dname_within(owner, len, ip6_int, sizeof(ip6_int));
}

/* NSEC3 owners start with a base32hex (no padding) hash, as BIND's checkowner_nsec3 wants. */
static bool nsec3_owner_ok(const uint8_t *owner)
{
    size_t l = owner[0], k, rem = owner[0] % 8;
    unsigned v = 0;

    if (l == 0 || rem == 1 || rem == 3 || rem == 6)
        return false;
    for (k = 1; k <= l; k++) {
        uint8_t c = owner[k];

        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'v')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'V')
            v = c - 'A' + 10;
        else
            return false;
    }
    /* the bits of the last character past the last whole octet must be zero */
    switch (rem) {
    case 2:
        return (v & 0x3) == 0;
    case 4:
        return (v & 0xf) == 0;
    case 5:
        return (v & 0x1) == 0;
    case 7:
        return (v & 0x7) == 0;
    default:
        return true;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Messages                                                                                     */

static const char *type_name(uint16_t type, char *buf, size_t size)
{
    switch (type) {
    case T_A:
        return "A";
    case T_NS:
        return "NS";
    case T_CNAME:
        return "CNAME";
    case T_SOA:
        return "SOA";
    case T_WKS:
        return "WKS";
    case T_PTR:
        return "PTR";
    case T_MINFO:
        return "MINFO";
    case T_MX:
        return "MX";
    case T_RP:
        return "RP";
    case T_AFSDB:
        return "AFSDB";
    case T_RT:
        return "RT";
    case T_AAAA:
        return "AAAA";
    case T_SRV:
        return "SRV";
    case T_DNAME:
        return "DNAME";
    case T_SVCB:
        return "SVCB";
    case T_HTTPS:
        return "HTTPS";
    default:
        snprintf(buf, size, "TYPE%u", (unsigned)type);
        return buf;
    }
}

/* Copy line @line of the scanned text into @out (safe to print, cut at EXCERPT_MAX octets). */
static void line_excerpt(const struct zone_checker *zc, unsigned long line, char *out, size_t size)
{
    const char *p = zc->in, *end = zc->in + zc->in_len;
    unsigned long n = 1;
    size_t o = 0, taken = 0;

    while (n < line && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (nl == NULL) {
            p = end;
            break;
        }
        p = nl + 1;
        n++;
    }
    while (p < end && *p != '\n' && taken < EXCERPT_MAX && o + 5 < size) {
        unsigned char c = (unsigned char)*p++;

        taken++;
        if (c == '\t') {
            out[o++] = ' ';
        } else if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = (char)('0' + c / 100);
            out[o++] = (char)('0' + (c / 10) % 10);
            out[o++] = (char)('0' + c % 10);
        }
    }
    if (p < end && *p != '\n' && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* If line @line names a class other than IN among its first tokens, copy it to @cls. The
 * scanner only knows IN, so "x CH TXT a" reaches us as an unknown type. */
static bool line_class(const struct zone_checker *zc, unsigned long line, char *cls, size_t size)
{
    static const char *const classes[] = {"CH", "CHAOS", "HS", "HESIOD", "CS", "NONE", "ANY"};
    char ex[EXCERPT_MAX * 4 + 8], *tok, *save = NULL;
    bool owner;
    size_t k;
    int i;

    line_excerpt(zc, line, ex, sizeof(ex));
    owner = ex[0] != ' ';
    tok = strtok_r(ex, " ", &save);
    for (i = 0; tok != NULL && i < 4; i++, tok = strtok_r(NULL, " ", &save)) {
        bool hit = strncasecmp(tok, "CLASS", 5) == 0 && tok[5] >= '0' && tok[5] <= '9' &&
                   strcmp(tok + 5, "1") != 0;

        if (i == 0 && owner)
            continue;
        for (k = 0; !hit && k < sizeof(classes) / sizeof(classes[0]); k++)
            hit = strcasecmp(tok, classes[k]) == 0;
        if (hit) {
            snprintf(cls, size, "%s", tok);
            return true;
        }
    }
    return false;
}

static int syntax_error(struct zone_checker *zc, struct err *e)
{
    zs_scanner_t *s = zc->zs;
    unsigned long line = (unsigned long)s->line_counter;
    char ex[EXCERPT_MAX * 4 + 8], cls[32];

    if (s->error.code == ZS_UNSUPPORTED_TYPE && line_class(zc, line, cls, sizeof(cls)))
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: class %s is not allowed (only IN)",
                        line, cls);
    if (s->error.code == ZS_DOS_NEWLINE)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: stray carriage return", line);
    line_excerpt(zc, line, ex, sizeof(ex));
    if (ex[0] == '\0')
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s", line, zs_strerror(s->error.code));
    return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s: \"%s\"", line,
                    zs_strerror(s->error.code), ex);
}

/* ------------------------------------------------------------------------------------------ */
/* Storage                                                                                      */

/* Append @n octets to the arena; *@off gets their offset. */
static int arena_put(struct zone_checker *zc, const void *p, size_t n, size_t *off)
{
    if (n > zc->acap - zc->alen) {
        size_t ncap = zc->acap ? zc->acap : 4096;
        uint8_t *a;

        while (ncap - zc->alen < n) {
            if (ncap > SIZE_MAX / 2)
                return DADNS_ENOMEM;
            ncap *= 2;
        }
        a = realloc(zc->arena, ncap);
        if (a == NULL)
            return DADNS_ENOMEM;
        zc->arena = a;
        zc->acap = ncap;
    }
    memcpy(zc->arena + zc->alen, p, n);
    *off = zc->alen;
    zc->alen += n;
    return 0;
}

static struct rec *rec_new(struct zone_checker *zc)
{
    if (zc->nrecs == zc->rcap) {
        size_t ncap = zc->rcap ? zc->rcap * 2 : 64;
        struct rec *r;

        if (ncap > SIZE_MAX / sizeof(*r))
            return NULL;
        r = realloc(zc->recs, ncap * sizeof(*r));
        if (r == NULL)
            return NULL;
        zc->recs = r;
        zc->rcap = ncap;
    }
    return &zc->recs[zc->nrecs++];
}

/* ------------------------------------------------------------------------------------------ */
/* Per-record checks                                                                            */

static int bad_name(struct err *e, unsigned long line, uint16_t type, const char *what,
                    const uint8_t *name)
{
    char t[TEXT_MAX + 2], tb[16];

    if (strcmp(what, "mailbox") == 0)
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: %s mailbox %s is not valid (check-names: after the first "
                        "label only letters, digits and inner '-')",
                        line, type_name(type, tb, sizeof(tb)), dname_text(name, t));
    return err_setl(e, DADNS_EZONE, line, 0,
                    "line %lu: %s %s %s is not a valid host name (check-names: letters, digits "
                    "and inner '-' only)",
                    line, type_name(type, tb, sizeof(tb)), what, dname_text(name, t));
}

/* BIND's check-names rules on the names inside the rdata (@rd, @len octets). */
static int check_rdata_names(uint16_t type, const uint8_t *owner, size_t owner_len,
                             const uint8_t *rd, size_t len, unsigned long line, struct err *e)
{
    size_t skip = 0, n1;
    bool mailbox = false;

    switch (type) {
    case T_NS:
        break;
    case T_MX:
    case T_AFSDB:
    case T_RT:
        skip = 2;
        break;
    case T_SRV:
        skip = 6;
        break;
    case T_SVCB:
    case T_HTTPS:
        if (len < 2 || (rd[0] == 0 && rd[1] == 0))
            return 0; /* alias mode: target not checked */
        skip = 2;
        break;
    case T_PTR:
        if (!in_reverse_tree(owner, owner_len) || is_dnssd(owner))
            return 0;
        break;
    case T_RP:
    case T_MINFO:
        mailbox = true;
        break;
    case T_SOA:
        break;
    default:
        return 0;
    }
    if (len <= skip || (n1 = dname_len(rd + skip, len - skip)) == 0)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: malformed record data", line);
    rd += skip;
    len -= skip;
    if (type == T_SOA) {
        if (!is_hostname(rd, false))
            return bad_name(e, line, type, "primary server", rd);
        if (dname_len(rd + n1, len - n1) == 0)
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: malformed SOA data", line);
        if (!is_mailbox(rd + n1))
            return bad_name(e, line, type, "mailbox", rd + n1);
        return 0;
    }
    if (mailbox) {
        if (!is_mailbox(rd))
            return bad_name(e, line, type, "mailbox", rd);
        if (type == T_MINFO && dname_len(rd + n1, len - n1) != 0 && !is_mailbox(rd + n1))
            return bad_name(e, line, type, "mailbox", rd + n1);
        return 0;
    }
    if (!is_hostname(rd, false))
        return bad_name(e, line, type, "target", rd);
    return 0;
}

/* Octets a digest of @kind must have in DS/CDS (1 SHA-1, 2 SHA-256, 4 SHA-384), 0 if any. */
static size_t ds_digest_len(uint8_t kind)
{
    return kind == 1 ? 20 : kind == 2 ? 32 : kind == 4 ? 48 : 0;
}

/* Rdata rules named enforces when it reads a record and the scanner does not: digest
 * lengths (DS, CDS, SSHFP, ZONEMD), CAA tags, RRSIG signer labels, and "no-default-alpn"
 * needing "alpn". */
static int check_rdata_shape(uint16_t type, const uint8_t *rd, size_t len, unsigned long line,
                             struct err *e)
{
    size_t want = 0, got = 0, i, n;
    const char *what = NULL;
    bool alpn = false, nodefault = false;

    switch (type) {
    case T_DS:
    case T_CDS:
        if (len >= 4) {
            want = ds_digest_len(rd[3]);
            got = len - 4;
            what = type == T_DS ? "DS digest" : "CDS digest";
        }
        break;
    case T_SSHFP:
        if (len >= 2) {
            want = rd[1] == 1 ? 20 : rd[1] == 2 ? 32 : 0;
            got = len - 2;
            what = "SSHFP fingerprint";
        }
        break;
    case T_ZONEMD:
        if (len >= 6) {
            got = len - 6;
            what = "ZONEMD digest";
            want = rd[5] == 1 ? 48 : rd[5] == 2 ? 64 : 0;
            if (want == 0 && got < 12)
                return err_setl(e, DADNS_EZONE, line, 0,
                                "line %lu: ZONEMD digest is shorter than 12 octets", line);
        }
        break;
    case T_CAA:
        if (len >= 2 && (rd[1] == 0 || (size_t)rd[1] + 2 > len))
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: CAA record without a tag", line);
        for (i = 0; len >= 2 && i < rd[1]; i++)
            if (!is_alnum(rd[2 + i]))
                return err_setl(e, DADNS_EZONE, line, 0,
                                "line %lu: CAA tag may hold only letters and digits", line);
        return 0;
    case T_NSEC:
        if ((n = dname_len(rd, len)) != 0 && n == len)
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: NSEC record without types", line);
        return 0;
    case T_RRSIG:
        /* the signer (the zone) cannot have more labels than the signed owner */
        if (len > 18 && dname_len(rd + 18, len - 18) != 0 && dname_labels(rd + 18) > rd[3]) {
            char t[TEXT_MAX + 2];

            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: RRSIG signer %s has more labels than the labels field "
                            "(%u)",
                            line, dname_text(rd + 18, t), (unsigned)rd[3]);
        }
        return 0;
    case T_SVCB:
    case T_HTTPS:
        if (len < 3 || (n = dname_len(rd + 2, len - 2)) == 0)
            return 0;
        for (i = 2 + n; i + 4 <= len; i += 4 + ((size_t)rd[i + 2] << 8 | rd[i + 3])) {
            unsigned key = (unsigned)rd[i] << 8 | rd[i + 1];

            alpn |= key == 1;
            nodefault |= key == 2;
        }
        if (nodefault && !alpn)
            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: no-default-alpn needs an alpn parameter", line);
        return 0;
    default:
        return 0;
    }
    if (what != NULL && want != 0 && got != want)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s has %zu octets instead of %zu", line,
                        what, got, want);
    return 0;
}

/* Keep the SOA: the first one gives the serial; another one must be identical (named merges
 * identical records and refuses a second, different SOA). */
static int check_soa(struct zone_checker *zc, const uint8_t *rd, size_t len, unsigned long line,
                     struct err *e)
{
    uint8_t canon[2 * WIRE_MAX + 20];
    size_t n1, n2;
    int rc;

    n1 = dname_len(rd, len);
    n2 = n1 ? dname_len(rd + n1, len - n1) : 0;
    if (n1 == 0 || n2 == 0 || len != n1 + n2 + 20 || len > sizeof(canon))
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: malformed SOA data", line);
    memcpy(canon, rd, len);
    dname_lower(canon, n1);
    dname_lower(canon + n1, n2);
    if (!zc->have_soa) {
        const uint8_t *s = canon + n1 + n2;

        zc->serial = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
        rc = arena_put(zc, canon, len, &zc->soa_rdata);
        if (rc != 0)
            return err_set(e, rc, "out of memory");
        zc->soa_len = (uint32_t)len;
        zc->have_soa = true;
        return 0;
    }
    if (zc->soa_len != len || memcmp(zc->arena + zc->soa_rdata, canon, len) != 0)
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: a second SOA record (a zone has exactly one, at the apex)",
                        line);
    return 0;
}

/* Octets that end an unquoted token in zone text (1), or need a closer look inside one (2). */
static const uint8_t token_class[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['('] = 1, [')'] = 1, [';'] = 1, ['"'] = 1, ['\\'] = 2,
};

/* Line number of position @at in the text that starts at @text. */
static unsigned long line_at(const char *text, const char *at)
{
    unsigned long line = 1;

    for (; text < at; text++)
        line += *text == '\n';
    return line;
}

/* Lexical rules named applies to the text of one record, [@p, @end) inside @text, where
 * libzscanner is more lenient: a quoted string may not run over a line end, a \DDD escape may
 * not exceed 255, a backslash may not end a line, a record may not start before the previous
 * one is over (inside its parentheses or after its ')' on the same line), and (when @strings,
 * for TXT and SPF, which the scanner silently splits) no string may decode to more than 255
 * octets. *@carry holds the parentheses still open from the previous record and gets those
 * still open at @end. Comments are skipped; \X and \DDD count as one octet. */
static int check_record_text(const char *text, const char *p, const char *end, bool strings,
                             int *carry, struct err *e)
{
    int depth = *carry, open_before = *carry; /* parentheses opened in earlier records */
    bool closed_here = false;                 /* the line holds the ')' of an earlier record */

    while (p < end) {
        const char *start = p;
        size_t n = 0;
        bool quoted;

        if (*p == ';') {
            const char *nl = memchr(p, '\n', (size_t)(end - p));

            p = nl != NULL ? nl : end;
            continue;
        }
        if (*p == ')' && depth == 0) {
            unsigned long l = line_at(text, p);

            return err_setl(e, DADNS_EZONE, l, 0, "line %lu: ')' without '('", l);
        }
        if (*p == '(' || *p == ')')
            depth += *p == '(' ? 1 : -1;
        if (depth < open_before) {
            open_before = depth;
            closed_here = depth == 0;
        }
        if (*p == '\n')
            closed_here = false;
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '(' || *p == ')') {
            p++;
            continue;
        }
        if (closed_here || open_before > 0) {
            /* the scanner would take this as a record of its own; named as more of the last */
            unsigned long l = line_at(text, p);

            return err_setl(e, DADNS_EZONE, l, 0,
                            "line %lu: unexpected data after the end of the previous record", l);
        }
        quoted = *p == '"';
        if (quoted)
            p++;
        while (p < end) {
            const char *q = p;

            /* plain octets first: most of a record is base64, hex or words */
            if (quoted)
                while (q < end && *q != '"' && *q != '\\' && *q != '\n')
                    q++;
            else
                while (q < end && token_class[(unsigned char)*q] == 0)
                    q++;
            n += (size_t)(q - p);
            p = q;
            if (p == end || (quoted ? *p == '"' : token_class[(unsigned char)*p] == 1))
                break;
            if (*p == '\n') {
                unsigned long l = line_at(text, start);

                return err_setl(e, DADNS_EZONE, l, 0,
                                "line %lu: a quoted string runs past the end of the line "
                                "(missing closing quote?)",
                                l);
            }
            /* a backslash: \DDD or \X, one octet either way */
            if (end - p >= 4 && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
                p[3] >= '0' && p[3] <= '9') {
                int v = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');

                if (v > 255) {
                    unsigned long l = line_at(text, p);

                    return err_setl(e, DADNS_EZONE, l, 0, "line %lu: escape \\%c%c%c is over 255",
                                    l, p[1], p[2], p[3]);
                }
                p += 4;
            } else if (end - p < 2 || p[1] == '\n') {
                unsigned long l = line_at(text, p);

                return err_setl(e, DADNS_EZONE, l, 0, "line %lu: a backslash ends the line", l);
            } else {
                p += 2;
            }
            n++;
        }
        if (strings && n > 255) {
            unsigned long l = line_at(text, start);

            return err_setl(e, DADNS_EZONE, l, 0,
                            "line %lu: string longer than 255 characters (split it into "
                            "several quoted strings)",
                            l);
        }
        if (quoted && p < end)
            p++;
    }
    *carry = depth;
    return 0;
}

/* True when the tag of the CAA record written in [@p, @end) holds a backslash: named takes
 * the tag literally and refuses it, the scanner decodes the escape. The tag is the token after
 * "CAA" and the numeric flags. */
static bool caa_tag_escaped(const char *p, const char *end)
{
    const char *tok[16];
    size_t len[16], i, k;
    int n = 0;

    while (p < end && n < 16) {
        if (*p == ';') {
            while (p < end && *p != '\n')
                p++;
        } else if (strchr(" \t\n()", *p) != NULL) {
            p++;
        } else {
            bool quoted = *p == '"';

            tok[n] = p++;
            while (p < end && (quoted ? *p != '"' : token_class[(unsigned char)*p] != 1))
                p += (*p == '\\' && end - p >= 2) ? 2 : 1;
            if (quoted && p < end)
                p++;
            len[n] = (size_t)(p - tok[n]);
            n++;
        }
    }
    for (i = 0; i + 2 < (size_t)n; i++) {
        if (len[i] != 3 || strncasecmp(tok[i], "CAA", 3) != 0)
            continue;
        for (k = 0; k < len[i + 1] && tok[i + 1][k] >= '0' && tok[i + 1][k] <= '9'; k++)
            ;
        if (k == len[i + 1] && memchr(tok[i + 2], '\\', len[i + 2]) != NULL)
            return true;
    }
    return false;
}

static int on_record(struct zone_checker *zc, struct err *e)
{
    zs_scanner_t *s = zc->zs;
    unsigned long line = (unsigned long)s->line_counter;
    uint8_t owner[WIRE_MAX + 1];
    size_t olen = s->r_owner_length;
    char t1[TEXT_MAX + 2], tb[16];
    const char *span_end;
    struct rec *r;
    int rc;

    if (s->r_class != 1)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: class %u is not allowed (only IN)",
                        line, (unsigned)s->r_class);
    if (s->zone_origin_length > sizeof(owner) || olen == 0 || olen > sizeof(owner) ||
        dname_len(s->r_owner, olen) != olen)
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: malformed owner name", line);

    /* $ORIGIN may move, but not out of the zone. */
    memcpy(owner, s->zone_origin, s->zone_origin_length);
    dname_lower(owner, s->zone_origin_length);
    if (!dname_within(owner, s->zone_origin_length, zc->apex, zc->apex_len))
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: $ORIGIN %s. is outside the zone %s",
                        line, dname_text(owner, t1), zc->origin);

    memcpy(owner, s->r_owner, olen);
    dname_lower(owner, olen);
    if (!dname_within(owner, olen, zc->apex, zc->apex_len))
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: %s is outside the zone %s", line,
                        dname_text(owner, t1), zc->origin);

    if (s->r_type == T_SOA) {
        if (olen != zc->apex_len)
            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: SOA record at %s, not at the zone apex %s", line,
                            dname_text(owner, t1), zc->origin);
        rc = check_soa(zc, s->r_data, s->r_data_length, line, e);
        if (rc != 0)
            return rc;
    } else if (s->r_type == T_DS && olen == zc->apex_len) {
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: DS record at the zone apex %s (it belongs in the parent zone)",
                        line, zc->origin);
    } else if (s->r_type == T_NSEC3 && !nsec3_owner_ok(owner)) {
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: NSEC3 owner %s does not start with a base32hex hash", line,
                        dname_text(owner, t1));
    }
    if (!owner_ok(s->r_type, owner))
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: %s is not a valid host name, which %s records need "
                        "(check-names: letters, digits and inner '-' only)",
                        line, dname_text(owner, t1), type_name(s->r_type, tb, sizeof(tb)));
    if (s->r_type == T_NS && owner[0] == 1 && owner[1] == '*')
        return err_setl(e, DADNS_EZONE, line, 0,
                        "line %lu: NS records are not allowed at the wildcard name %s", line,
                        dname_text(owner, t1));
    rc = check_rdata_names(s->r_type, owner, olen, s->r_data, s->r_data_length, line, e);
    if (rc == 0)
        rc = check_rdata_shape(s->r_type, s->r_data, s->r_data_length, line, e);
    if (rc != 0)
        return rc;

    /* the record's own text: from the end of the previous record to where the scanner is */
    span_end = zc->in + zc->in_len;
    if ((uintptr_t)s->input.current >= (uintptr_t)zc->in &&
        (uintptr_t)s->input.current <= (uintptr_t)span_end)
        span_end = s->input.current; /* else the scanner is in its own final-newline block */
    if (zc->span != NULL && zc->span <= span_end) {
        rc = check_record_text(zc->in, zc->span, span_end,
                               s->r_type == T_TXT || s->r_type == T_SPF || s->r_type == T_AVC,
                               &zc->depth, e);
        if (rc != 0)
            return rc;
        if (s->r_type == T_CAA && caa_tag_escaped(zc->span, span_end))
            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: CAA tag may hold only letters and digits", line);
    }
    zc->span = span_end;

    r = rec_new(zc);
    if (r == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    r->type = s->r_type;
    r->line = line;
    r->owner_len = (uint8_t)olen;
    r->rdata = 0;
    r->rdata_len = 0;
    r->oname = NULL;
    /* consecutive records usually share their owner: store it once */
    if (zc->nrecs > 1 && r[-1].owner_len == olen &&
        memcmp(zc->arena + r[-1].owner, owner, olen) == 0) {
        r->owner = r[-1].owner;
    } else {
        rc = arena_put(zc, owner, olen, &r->owner);
        if (rc != 0)
            return err_set(e, rc, "out of memory");
    }
    if (r->type == T_NS || r->type == T_CNAME || r->type == T_DNAME) {
        size_t n = dname_len(s->r_data, s->r_data_length);

        if (n == 0 || n != s->r_data_length)
            return err_setl(e, DADNS_EZONE, line, 0, "line %lu: malformed record data", line);
        rc = arena_put(zc, s->r_data, n, &r->rdata);
        if (rc != 0)
            return err_set(e, rc, "out of memory");
        dname_lower(zc->arena + r->rdata, n);
        r->rdata_len = (uint32_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Whole-zone checks                                                                            */

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    size_t n = x->owner_len < y->owner_len ? x->owner_len : y->owner_len;
    int c = memcmp(x->oname, y->oname, n);

    if (c != 0)
        return c;
    if (x->owner_len != y->owner_len)
        return x->owner_len < y->owner_len ? -1 : 1;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Index of the first record owned by @name (sorted records), or nrecs when there is none. */
static size_t find_owner(const struct zone_checker *zc, const uint8_t *name, size_t len)
{
    size_t lo = 0, hi = zc->nrecs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct rec *r = &zc->recs[mid];
        size_t n = r->owner_len < len ? r->owner_len : len;
        int c = memcmp(r->oname, name, n);

        if (c == 0)
            c = r->owner_len < len ? -1 : r->owner_len > len;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < zc->nrecs && zc->recs[lo].owner_len == len &&
        memcmp(zc->recs[lo].oname, name, len) == 0)
        return lo;
    return zc->nrecs;
}

/* Bit set of what the records owned by @name hold. */
enum { HAS_ADDR = 1, HAS_CNAME = 2, HAS_NS = 4, HAS_DNAME = 8, HAS_ANY = 16 };

static unsigned owner_flags(const struct zone_checker *zc, const uint8_t *name, size_t len)
{
    size_t i = find_owner(zc, name, len);
    unsigned f = 0;

    for (;
         i < zc->nrecs && zc->recs[i].owner_len == len && memcmp(zc->recs[i].oname, name, len) == 0;
         i++) {
        uint16_t t = zc->recs[i].type;

        f |= HAS_ANY;
        if (t == T_A || t == T_AAAA)
            f |= HAS_ADDR;
        else if (t == T_CNAME)
            f |= HAS_CNAME;
        else if (t == T_NS)
            f |= HAS_NS;
        else if (t == T_DNAME)
            f |= HAS_DNAME;
    }
    return f;
}

/* True when some owner lies strictly below @name. */
static bool has_descendant(const struct zone_checker *zc, const uint8_t *name, size_t len)
{
    size_t i;

    for (i = 0; i < zc->nrecs; i++)
        if (zc->recs[i].owner_len > len &&
            dname_within(zc->recs[i].oname, zc->recs[i].owner_len, name, len))
            return true;
    return false;
}

/* named refuses a primary zone whose apex NS names an in-zone host without A/AAAA records
 * (lib/dns/zone.c: zone_check_ns). Resolve @target the way a lookup in the zone would. */
static int check_ns_target(const struct zone_checker *zc, const struct rec *ns, struct err *e)
{
    const uint8_t *tgt = zc->arena + ns->rdata;
    size_t tlen = ns->rdata_len, cut[WIRE_MAX / 2 + 1], ncut = 0, i, k;
    char t1[TEXT_MAX + 2], t2[TEXT_MAX + 2];
    uint8_t wild[WIRE_MAX + 2];
    unsigned f;

    if (!dname_within(tgt, tlen, zc->apex, zc->apex_len))
        return 0;
    /* label boundaries of the target, from the target itself up to the apex */
    for (i = 0; tlen - i >= zc->apex_len; i += (size_t)tgt[i] + 1) {
        cut[ncut++] = i;
        if (tlen - i == zc->apex_len)
            break;
    }
    /* walk down from the apex: a zone cut ends the lookup, a DNAME above rewrites it */
    for (k = ncut; k-- > 0;) {
        const uint8_t *n = tgt + cut[k];
        size_t nl = tlen - cut[k];

        f = owner_flags(zc, n, nl);
        if (nl != zc->apex_len && (f & HAS_NS))
            return 0;
        if (k > 0 && (f & HAS_DNAME))
            return err_setl(e, DADNS_EZONE, ns->line, 0,
                            "line %lu: name server %s is below the DNAME at %s", ns->line,
                            dname_text(tgt, t1), dname_text(n, t2));
    }
    f = owner_flags(zc, tgt, tlen);
    if (f == 0 && !has_descendant(zc, tgt, tlen)) {
        /* no such name: a wildcard at the closest encloser may answer */
        for (k = 1; k < ncut; k++) {
            const uint8_t *n = tgt + cut[k];
            size_t nl = tlen - cut[k];

            if (owner_flags(zc, n, nl) != 0 || has_descendant(zc, n, nl) || k == ncut - 1) {
                wild[0] = 1;
                wild[1] = '*';
                memcpy(wild + 2, n, nl);
                f = owner_flags(zc, wild, nl + 2);
                break;
            }
        }
    }
    if (f & HAS_CNAME)
        return err_setl(e, DADNS_EZONE, ns->line, 0,
                        "line %lu: name server %s is a CNAME (it needs A or AAAA records)",
                        ns->line, dname_text(tgt, t1));
    if (!(f & HAS_ADDR))
        return err_setl(e, DADNS_EZONE, ns->line, 0,
                        "line %lu: name server %s is inside the zone but has no A or AAAA "
                        "record",
                        ns->line, dname_text(tgt, t1));
    return 0;
}

/* True for the types named lets live beside a CNAME (DNSSEC data; NSEC3 lives apart). */
static bool beside_cname(uint16_t t)
{
    return t == T_CNAME || t == T_RRSIG || t == T_NSEC || t == T_NSEC3 || t == T_KEY || t == T_SIG;
}

/* One owner's records, zc->recs[@b, @end): CNAME/DNAME rules, and the apex rules. */
static int check_owner(const struct zone_checker *zc, size_t b, size_t end, struct err *e)
{
    const struct rec *cname = NULL, *dname = NULL, *other = NULL, *ns = NULL;
    const struct rec *r;
    char t1[TEXT_MAX + 2];
    bool apex = zc->recs[b].owner_len == zc->apex_len;
    size_t i;
    int rc;

    for (i = b; i < end; i++) {
        r = &zc->recs[i];
        if (r->type == T_CNAME || r->type == T_DNAME) {
            const struct rec **first = r->type == T_CNAME ? &cname : &dname;

            if (*first == NULL) {
                *first = r;
            } else if ((*first)->rdata_len != r->rdata_len ||
                       memcmp(zc->arena + (*first)->rdata, zc->arena + r->rdata, r->rdata_len) !=
                           0) {
                return err_setl(e, DADNS_EZONE, r->line, 0,
                                "line %lu: more than one %s record at %s", r->line,
                                r->type == T_CNAME ? "CNAME" : "DNAME", dname_text(r->oname, t1));
            }
        }
        if (!beside_cname(r->type) && (other == NULL || r->line < other->line))
            other = r;
        if (r->type == T_NS && ns == NULL)
            ns = r;
    }
    if (cname != NULL && other != NULL) {
        unsigned long line = cname->line > other->line ? cname->line : other->line;

        if (apex)
            return err_setl(e, DADNS_EZONE, line, 0,
                            "line %lu: CNAME at the zone apex %s (the apex has SOA and NS "
                            "records)",
                            line, zc->origin);
        return err_setl(e, DADNS_EZONE, line, 0, "line %lu: CNAME and other data at %s", line,
                        dname_text(cname->oname, t1));
    }
    if (!apex)
        return 0;
    if (ns == NULL)
        return err_setl(e, DADNS_EZONE, 0, 0, "no NS records at the zone apex %s", zc->origin);
    for (i = b; i < end; i++) {
        if (zc->recs[i].type != T_NS)
            continue;
        rc = check_ns_target(zc, &zc->recs[i], e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int check_all(struct zone_checker *zc, struct err *e)
{
    size_t i, b;
    int rc;

    if (zc->nrecs == 0)
        return err_set(e, DADNS_EZONE, "the zone is empty (no records)");
    if (!zc->have_soa)
        return err_set(e, DADNS_EZONE, "no SOA record at the zone apex %s", zc->origin);
    for (i = 0; i < zc->nrecs; i++)
        zc->recs[i].oname = zc->arena + zc->recs[i].owner;
    qsort(zc->recs, zc->nrecs, sizeof(zc->recs[0]), rec_cmp);
    for (b = 0; b < zc->nrecs; b = i) {
        const struct rec *r = &zc->recs[b];

        for (i = b + 1; i < zc->nrecs && zc->recs[i].owner_len == r->owner_len &&
                        memcmp(zc->recs[i].oname, r->oname, r->owner_len) == 0;
             i++)
            ;
        rc = check_owner(zc, b, i, e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* API                                                                                          */

int zone_checker_new(struct zone_checker **out)
{
    struct zone_checker *zc = calloc(1, sizeof(*zc));

    *out = NULL;
    if (zc == NULL)
        return DADNS_ENOMEM;
    zc->zs = malloc(sizeof(*zc->zs));
    if (zc->zs == NULL) {
        free(zc);
        return DADNS_ENOMEM;
    }
    *out = zc;
    return 0;
}

void zone_checker_free(struct zone_checker *zc)
{
    if (zc == NULL)
        return;
    free(zc->zs);
    free(zc->recs);
    free(zc->arena);
    free(zc->text);
    free(zc);
}

/* Origin text to lowercase wire form in zc->apex. */
static int set_apex(struct zone_checker *zc, const char *origin, struct err *e)
{
    char norm[NAME_BUF_SIZE];
    struct err ne;
    size_t i = 0, o = 0;

    if (origin == NULL)
        return err_set(e, DADNS_EINVAL, "zone origin missing");
    if (name_normalize(origin, strlen(origin), norm, &ne) != 0)
        return err_set(e, DADNS_EINVAL, "zone origin: %s", ne.text);
    while (norm[i] != '\0') {
        size_t l = strcspn(norm + i, ".");

        zc->apex[o] = (uint8_t)l;
        memcpy(zc->apex + o + 1, norm + i, l);
        o += l + 1;
        i += l;
        if (norm[i] == '.')
            i++;
    }
    zc->apex[o++] = 0;
    zc->apex_len = o;
    return 0;
}

int zone_prepare_text(const char *text, size_t len, char **buf, size_t *cap, const char **in,
                      size_t *in_len)
{
    size_t i, o = 0;
    bool rewrite = false;
    char *t;

    *in = text;
    *in_len = len;
    for (i = 0; i < len && !rewrite; i++)
        rewrite = text[i] == '\r' || (unsigned char)text[i] >= 0x80;
    if (!rewrite)
        return 0;
    if (len > SIZE_MAX / 4)
        return DADNS_ENOMEM;
    if (len * 4 > *cap) {
        t = realloc(*buf, len * 4);
        if (t == NULL)
            return DADNS_ENOMEM;
        *buf = t;
        *cap = len * 4;
    }
    t = *buf;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\\' && i + 1 < len && (unsigned char)text[i + 1] < 0x80) {
            t[o++] = text[i++]; /* an escape pair stays as it is */
            t[o++] = text[i];
            continue;
        }
        if (c == '\\' && i + 1 < len)
            c = (unsigned char)text[++i]; /* "\<high octet>" is that octet */
        if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        if (c >= 0x80) {
            t[o++] = '\\';
            t[o++] = (char)('0' + c / 100);
            t[o++] = (char)('0' + (c / 10) % 10);
            t[o++] = (char)('0' + c % 10);
        } else {
            t[o++] = (char)c;
        }
    }
    *in = t;
    *in_len = o;
    return 0;
}

int zone_check(struct zone_checker *zc, const char *origin, const char *text, size_t len,
               struct zone_info *info, struct err *e)
{
    zs_scanner_t *s = zc->zs;
    bool scanning = false;
    const char *nul;
    int rc;

    zc->nrecs = 0;
    zc->alen = 0;
    zc->have_soa = false;
    zc->origin = origin;
    zc->in = text;
    zc->in_len = len;
    rc = set_apex(zc, origin, e);
    if (rc != 0)
        goto out;
    if (len == 0) {
        rc = err_set(e, DADNS_EZONE, "the zone is empty (no text)");
        goto out;
    }
    nul = memchr(text, '\0', len);
    if (nul != NULL) {
        unsigned long line = 1;
        const char *p;

        for (p = text; p < nul; p++)
            line += *p == '\n';
        rc = err_setl(e, DADNS_EZONE, line, 0, "line %lu: NUL byte in the zone text", line);
        goto out;
    }
    rc = zone_prepare_text(text, len, &zc->text, &zc->tcap, &zc->in, &zc->in_len);
    if (rc != 0) {
        err_set(e, rc, "out of memory");
        goto out;
    }

    if (zs_init(s, origin, 1, 3600) != 0) {
        rc = err_set(e, s->error.code == ZS_ENOMEM ? DADNS_ENOMEM : DADNS_EINVAL,
                     "cannot start the zone parser for %s: %s", origin, zs_strerror(s->error.code));
        zs_deinit(s);
        goto out;
    }
    scanning = true;
    zc->span = zc->in;
    zc->depth = 0;
    if (zs_set_input_string(s, zc->in, zc->in_len) != 0) {
        rc = err_set(e, DADNS_EINVAL, "zone parser: %s", zs_strerror(s->error.code));
        goto out;
    }
    for (;;) {
        if (zs_parse_record(s) != 0) {
            rc = syntax_error(zc, e);
            goto out;
        }
        if (s->state == ZS_STATE_DATA) {
            rc = on_record(zc, e);
            if (rc != 0)
                goto out;
        } else if (s->state == ZS_STATE_ERROR) {
            rc = syntax_error(zc, e);
            goto out;
        } else if (s->state == ZS_STATE_INCLUDE) {
            unsigned long line = (unsigned long)s->line_counter;

            /* the scanner stops here in manual mode: nothing has been opened */
            rc = err_setl(e, DADNS_EZONE, line, 0, "line %lu: $INCLUDE is not allowed", line);
            goto out;
        } else if (s->state == ZS_STATE_EOF || s->state == ZS_STATE_STOP) {
            /* the scanner can drop an unfinished last record and still report EOF */
            if (s->error.code != ZS_OK) {
                rc = syntax_error(zc, e);
                goto out;
            }
            break;
        }
    }
    zs_deinit(s);
    scanning = false;

    rc = check_all(zc, e);
    if (rc != 0)
        goto out;
    if (info != NULL) {
        info->serial = zc->serial;
        info->records = zc->nrecs;
    }
    err_clear(e);
out:
    if (scanning)
        zs_deinit(s);
    zc->origin = NULL;
    zc->in = NULL;
    zc->in_len = 0;
    zc->span = NULL;
    return rc;
}
