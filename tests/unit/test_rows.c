/* test_rows.c -- unit tests of services/writer-mysql/rows.c: every data case under
 * $DADNS_TEST_DATA/rows (NN_topic.zone with NN_topic.coredns / NN_topic.pdns holding the
 * expected rows, or NN_topic.error a substring of the expected error), invariants every output
 * must keep, then API behaviour the data cases cannot show (reuse, NUL, limits, size). */
#include <check.h>
#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "datacase.h"
#include "rows.h"

#define MAX_FILE (4 * 1024 * 1024)

static struct datacase_set g_set; /* $DADNS_TEST_DATA/rows and its case stems */
static struct rows_builder *g_rb; /* shared by the data cases, as a writer shares one */
static zs_scanner_t *g_zs;        /* re-parses CoreDNS rows the way the plugin does */

static const char SAMPLE[] = "$TTL 3600\n"
                             "@\tIN\tSOA\tns1.example.net. hostmaster.example.com. (\n"
                             "\t\t2024010101 3600 600 1209600 300 )\n"
                             "@\tIN\tNS\tns1.example.net.\n"
                             "@\tIN\tA\t192.0.2.10\n"
                             "www\tIN\tA\t192.0.2.10\n"
                             "mail\tIN\tA\t192.0.2.11\n"
                             "@\tIN\tMX\t10 mail\n"
                             "_sip._tcp\tIN\tSRV\t10 60 5060 sip.example.net.\n";

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                      */

/* The rows of @rs in the data-case format of @fmt, one per line, into @b. */
static void render(const struct rowset *rs, enum rows_format fmt, struct buf *b)
{
    size_t i;

    buf_reset(b);
    for (i = 0; i < rs->n; i++) {
        const struct row *r = &rs->v[i];
        int rc;

        if (fmt == ROWS_COREDNS)
            rc = buf_printf(b, "%s\t%s\t%s\t%lu\n", r->name, r->type, r->content,
                            (unsigned long)r->ttl);
        else
            rc = buf_printf(b, "%s\t%s\t%u\t%s\t%lu\t%u\n", r->name,
                            r->type != NULL ? r->type : "NULL", (unsigned)r->prio,
                            r->content != NULL ? r->content : "NULL", (unsigned long)r->ttl,
                            (unsigned)r->auth);
        ck_assert_int_eq(rc, 0);
    }
}

/* Report the first line where @got and @want differ. */
static void assert_same_text(const char *what, const char *got, const char *want)
{
    const char *g = got, *w = want;
    unsigned long line = 1;

    if (strcmp(got, want) == 0)
        return;
    for (;;) {
        const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
        size_t gl = ge != NULL ? (size_t)(ge - g) : strlen(g);
        size_t wl = we != NULL ? (size_t)(we - w) : strlen(w);

        if (gl != wl || memcmp(g, w, gl) != 0 || ge == NULL || we == NULL) {
            ck_abort_msg("%s: line %lu differs\n  got:  %.*s\n  want: %.*s", what, line,
                         (int)(gl > 400 ? 400 : gl), g, (int)(wl > 400 ? 400 : wl), w);
            return;
        }
        g = ge + 1;
        w = we + 1;
        line++;
    }
}

/* Blank runs outside quoted strings of @s made single spaces, ends trimmed, in place. */
static void squeeze(char *s)
{
    bool quoted = false, blank = false;
    size_t i, o = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (!quoted && (s[i] == ' ' || s[i] == '\t')) {
            blank = o > 0;
            continue;
        }
        if (blank)
            s[o++] = ' ';
        blank = false;
        s[o++] = s[i];
        if (s[i] == '\\' && s[i + 1] != '\0')
            s[o++] = s[++i];
        else if (s[i] == '"')
            quoted = !quoted;
    }
    s[o] = '\0';
}

/* The plugin builds "<fqdn> <ttl> IN <type> <data>" and parses it with miekg/dns, origin ".":
 * parse the row that way (libzscanner) and dump it again; any relative name would now end in
 * the root and differ from the data. */
static void check_coredns_reparse(const char *what, size_t i, const struct row *r)
{
    static char line[70000], dump[70000];
    knot_dump_style_t style = KNOT_DUMP_STYLE_DEFAULT;
    knot_rrset_t rr;
    int n;

    style.wrap = false;
    snprintf(line, sizeof(line), "host.example. %lu IN %s %s\n", (unsigned long)r->ttl, r->type,
             r->content);
    ck_assert_int_eq(zs_init(g_zs, ".", KNOT_CLASS_IN, 3600), 0);
    ck_assert_int_eq(zs_set_input_string(g_zs, line, strlen(line)), 0);
    ck_assert_msg(zs_parse_record(g_zs) == 0 && g_zs->state == ZS_STATE_DATA,
                  "%s: row %zu does not parse with origin \".\": %s", what, i, line);
    knot_rrset_init(&rr, g_zs->r_owner, g_zs->r_type, g_zs->r_class, g_zs->r_ttl);
    ck_assert_int_eq(knot_rrset_add_rdata(&rr, g_zs->r_data, (uint16_t)g_zs->r_data_length, NULL),
                     0);
    n = knot_rrset_txt_dump_data(&rr, 0, dump, sizeof(dump), &style);
    knot_rdataset_clear(&rr.rrs, NULL);
    zs_deinit(g_zs);
    ck_assert_int_ge(n, 0);
    squeeze(dump);
    ck_assert_msg(strcmp(dump, r->content) == 0, "%s: row %zu reads back as \"%s\", not \"%s\"",
                  what, i, dump, r->content);
}

/* What every output must keep, whatever the zone. */
static void check_invariants(const char *what, const struct rowset *rs, enum rows_format fmt)
{
    size_t i, k;

    for (i = 0; i < rs->n; i++) {
        const struct row *r = &rs->v[i];
        size_t nl = strlen(r->name);

        ck_assert_msg(nl > 0 && r->name[nl - 1] != '.', "%s: row %zu: bad name \"%s\"", what, i,
                      r->name);
        if (i > 0) {
            const struct row *p = &rs->v[i - 1];
            int c = strcmp(p->name, r->name);

            if (c == 0)
                c = (p->type != NULL) - (r->type != NULL);
            if (c == 0 && p->type != NULL)
                c = strcmp(p->type, r->type);
            if (c == 0 && p->content != NULL)
                c = strcmp(p->content, r->content);
            if (c == 0)
                c = p->prio < r->prio ? -1 : p->prio > r->prio;
            ck_assert_msg(c < 0, "%s: rows %zu and %zu out of order or duplicate", what, i - 1, i);
        }
        if (fmt == ROWS_COREDNS) {
            ck_assert_msg(r->type != NULL && r->content != NULL, "%s: NULL in a CoreDNS row", what);
            ck_assert_msg(r->ttl > 0, "%s: row %zu: ttl 0", what, i);
            ck_assert_msg(strlen(r->content) <= 1024, "%s: row %zu: data too long", what, i);
            ck_assert_uint_eq(r->prio, 0);
            ck_assert_uint_eq(r->auth, 1);
            check_coredns_reparse(what, i, r);
            continue;
        }
        ck_assert_msg((r->type == NULL) == (r->content == NULL), "%s: row %zu: half NULL", what, i);
        if (r->type == NULL) {
            ck_assert_uint_eq(r->ttl, 0);
            ck_assert_uint_eq(r->prio, 0);
            continue;
        }
        if (strcmp(r->type, "MX") != 0 && strcmp(r->type, "SRV") != 0)
            ck_assert_msg(r->prio == 0, "%s: row %zu: prio on %s", what, i, r->type);
        for (k = 0; r->content[k] != '\0'; k++)
            ck_assert_msg((unsigned char)r->content[k] >= 0x20 &&
                              (unsigned char)r->content[k] < 0x7f,
                          "%s: row %zu: octet %u in the content", what, i,
                          (unsigned)(unsigned char)r->content[k]);
        for (k = 0; r->name[k] != '\0'; k++)
            ck_assert_msg((unsigned char)r->name[k] > 0x20 && (unsigned char)r->name[k] < 0x7f,
                          "%s: row %zu: octet %u in the name", what, i,
                          (unsigned)(unsigned char)r->name[k]);
    }
}

/* Build @text for @zone in @fmt, expecting success; the rows go to @rs. */
static void build_ok(struct rows_builder *rb, enum rows_format fmt, const char *zone,
                     const char *text, size_t len, struct rowset *rs)
{
    struct err e;
    int rc = rows_build(rb, fmt, zone, text, len, rs, &e);

    ck_assert_msg(rc == 0, "rows_build failed (%d): %s", rc, e.text);
}

/* The row of @rs at @name with @type (first one), or NULL. */
static const struct row *find(const struct rowset *rs, const char *name, const char *type)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->v[i].name, name) == 0 &&
            ((type == NULL && rs->v[i].type == NULL) ||
             (type != NULL && rs->v[i].type != NULL && strcmp(rs->v[i].type, type) == 0)))
            return &rs->v[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Data cases                                                                                   */

static void run_format(const char *stem, const char *origin, const char *zone, size_t zlen,
                       enum rows_format fmt, struct rowset *rs, struct buf *out)
{
    const char *ext = fmt == ROWS_COREDNS ? "coredns" : "pdns";
    char path[4096], what[300];
    char *want = NULL, *nl;
    struct err e;
    int rc;

    snprintf(what, sizeof(what), "%s.%s", stem, ext);
    snprintf(path, sizeof(path), "%s/%s.%s", g_set.dir, stem, ext);
    want = datacase_read(path, MAX_FILE, NULL);
    err_clear(&e);
    rc = rows_build(g_rb, fmt, origin, zone, zlen, rs, &e);
    if (want != NULL) {
        ck_assert_msg(rc == 0, "%s: expected rows, got %d: %s", what, rc, e.text);
        render(rs, fmt, out);
        assert_same_text(what, out->data != NULL ? out->data : "", want);
        check_invariants(what, rs, fmt);
        free(want);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s.error", g_set.dir, stem);
    want = datacase_read(path, MAX_FILE, NULL);
    ck_assert_msg(want != NULL, "%s: neither %s.%s nor %s.error", stem, stem, ext, stem);
    nl = strchr(want, '\n');
    if (nl != NULL)
        *nl = '\0';
    ck_assert_msg(rc == DADNS_EZONE, "%s: expected an error containing \"%s\", got %d", what, want,
                  rc);
    ck_assert_int_eq(e.code, DADNS_EZONE);
    ck_assert_msg(strstr(e.text, want) != NULL, "%s: error \"%s\" lacks \"%s\"", what, e.text,
                  want);
    ck_assert_uint_eq(rs->n, 0);
    if (strncmp(e.text, "line ", 5) == 0)
        ck_assert_uint_eq(e.line, strtoul(e.text + 5, NULL, 10));
    free(want);
}

START_TEST(test_data_case)
{
    const char *stem = g_set.stems[_i];
    struct rowset rs = {0};
    char path[4096], origin[300];
    char *zone = NULL;
    size_t zlen = 0;
    struct buf out;

    buf_init(&out, MAX_FILE);
    snprintf(path, sizeof(path), "%s/%s.zone", g_set.dir, stem);
    zone = datacase_read(path, MAX_FILE, &zlen);
    ck_assert_msg(zone != NULL, "%s: cannot read %s", stem, path);
    ck_assert_msg(datacase_origin(zone, origin, sizeof(origin)) == 0,
                  "%s: first line must be \"; origin: NAME\"", stem);
    /* the same rowset goes through both formats: reuse is part of every case */
    run_format(stem, origin, zone, zlen, ROWS_COREDNS, &rs, &out);
    run_format(stem, origin, zone, zlen, ROWS_POWERDNS, &rs, &out);
    rowset_free(&rs);
    buf_free(&out);
    free(zone);
}
END_TEST

START_TEST(test_enough_cases)
{
    ck_assert_msg(g_set.n >= 29, "only %d data cases found in %s", g_set.n, g_set.dir);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* API                                                                                          */

START_TEST(test_free_null)
{
    struct rowset rs = {0};

    rowset_free(NULL);
    rows_builder_free(NULL);
    rowset_free(&rs); /* zeroed, never used */
    ck_assert_ptr_null(rs.mem);
    ck_assert_uint_eq(rs.n, 0);
}
END_TEST

START_TEST(test_reuse)
{
    static const char bad[] = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
                              "x TXT \"unclosed\n";
    struct rows_builder *rb = NULL;
    struct rowset rs = {0};
    struct err e;
    int i;

    ck_assert_int_eq(rows_builder_new(&rb), 0);
    for (i = 0; i < 3; i++) {
        const struct row *r;

        build_ok(rb, ROWS_POWERDNS, "example.com", SAMPLE, strlen(SAMPLE), &rs);
        ck_assert_uint_eq(rs.serial, 2024010101u);
        ck_assert_uint_eq(rs.n, 8); /* 7 records + the ENT _tcp */
        r = find(&rs, "example.com", "MX");
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(r->content, "mail.example.com");
        ck_assert_uint_eq(r->prio, 10);
        ck_assert_ptr_nonnull(find(&rs, "_tcp.example.com", NULL));

        ck_assert_int_eq(rows_build(rb, ROWS_COREDNS, "example.com", bad, strlen(bad), &rs, &e),
                         DADNS_EZONE);
        ck_assert_uint_eq(rs.n, 0);
        ck_assert_uint_eq(rs.serial, 0);
        ck_assert_uint_eq(e.line, 5);

        /* the same text for another zone: relative names follow the zone */
        build_ok(rb, ROWS_COREDNS, "example.org", SAMPLE, strlen(SAMPLE), &rs);
        ck_assert_uint_eq(rs.n, 7);
        r = find(&rs, "@", "MX");
        ck_assert_ptr_nonnull(r);
        ck_assert_str_eq(r->content, "10 mail.example.org.");
        ck_assert_ptr_null(find(&rs, "_tcp", NULL));
    }
    rowset_free(&rs);
    ck_assert_ptr_null(rs.mem);
    rowset_free(&rs); /* twice is fine: it was left empty */
    /* an emptied rowset is as good as a zeroed one */
    build_ok(rb, ROWS_COREDNS, "example.com", SAMPLE, strlen(SAMPLE), &rs);
    ck_assert_uint_eq(rs.n, 7);
    rowset_free(&rs);
    rows_builder_free(rb);
}
END_TEST

START_TEST(test_rows_own_their_strings)
{
    struct rows_builder *rb = NULL;
    struct rowset rs = {0};
    char *text = strdup(SAMPLE);
    size_t i;

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(rows_builder_new(&rb), 0);
    build_ok(rb, ROWS_POWERDNS, "example.com", text, strlen(text), &rs);
    /* neither the text nor the builder is needed afterwards (ASan sees any borrow) */
    memset(text, 'x', strlen(text));
    free(text);
    rows_builder_free(rb);
    for (i = 0; i < rs.n; i++) {
        const char *lo = rs.mem, *hi = lo + rs.cap;

        ck_assert(rs.v[i].name >= lo && rs.v[i].name < hi);
        ck_assert(rs.v[i].content == NULL || (rs.v[i].content >= lo && rs.v[i].content < hi));
    }
    ck_assert_str_eq(rs.v[rs.n - 1].name, "www.example.com");
    rowset_free(&rs);
}
END_TEST

START_TEST(test_not_nul_terminated)
{
    char *copy = malloc(sizeof(SAMPLE) + 16);
    struct rowset rs = {0};

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, SAMPLE, sizeof(SAMPLE) - 1);
    memcpy(copy + sizeof(SAMPLE) - 1, "x BAD RECORD((((", 16); /* must not be read */
    build_ok(g_rb, ROWS_COREDNS, "example.com", copy, sizeof(SAMPLE) - 1, &rs);
    ck_assert_uint_eq(rs.n, 7);
    rowset_free(&rs);
    free(copy);
}
END_TEST

START_TEST(test_bad_arguments)
{
    struct rowset rs = {0};
    struct err e;

    ck_assert_int_eq(rows_build(g_rb, ROWS_COREDNS, "bad name", SAMPLE, strlen(SAMPLE), &rs, &e),
                     DADNS_EINVAL);
    ck_assert_int_eq(rows_build(g_rb, ROWS_COREDNS, NULL, SAMPLE, strlen(SAMPLE), &rs, &e),
                     DADNS_EINVAL);
    ck_assert_int_eq(
        rows_build(g_rb, (enum rows_format)7, "example.com", SAMPLE, strlen(SAMPLE), &rs, &e),
        DADNS_EINVAL);
    ck_assert_int_eq(rows_build(g_rb, ROWS_POWERDNS, "example.com", "", 0, &rs, &e), DADNS_EZONE);
    ck_assert_ptr_nonnull(strstr(e.text, "empty"));
    ck_assert_int_eq(rows_build(g_rb, ROWS_POWERDNS, "example.com", NULL, 0, &rs, NULL),
                     DADNS_EZONE);
    ck_assert_uint_eq(rs.n, 0);
    rowset_free(&rs);
}
END_TEST

START_TEST(test_zone_name_forms)
{
    struct rowset a = {0}, b = {0};
    size_t i;

    build_ok(g_rb, ROWS_POWERDNS, "example.com", SAMPLE, strlen(SAMPLE), &a);
    build_ok(g_rb, ROWS_POWERDNS, "Example.COM.", SAMPLE, strlen(SAMPLE), &b);
    ck_assert_uint_eq(a.n, b.n);
    for (i = 0; i < a.n; i++) {
        ck_assert_str_eq(a.v[i].name, b.v[i].name);
        ck_assert_pstr_eq(a.v[i].type, b.v[i].type);
        ck_assert_pstr_eq(a.v[i].content, b.v[i].content);
    }
    ck_assert_ptr_nonnull(find(&b, "example.com", "SOA"));
    rowset_free(&a);
    rowset_free(&b);
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char text[] = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx TXT \"a\0b\"\n";
    struct rowset rs = {0};
    struct err e;

    ck_assert_int_eq(
        rows_build(g_rb, ROWS_POWERDNS, "example.com", text, sizeof(text) - 1, &rs, &e),
        DADNS_EZONE);
    ck_assert_str_eq(e.text, "line 3: NUL byte in the zone text");
    ck_assert_uint_eq(e.line, 3);
    rowset_free(&rs);
}
END_TEST

START_TEST(test_soa_serial_and_place)
{
    static const char two[] = "$TTL 60\n@ SOA ns hm 7 2 3 4 5\n@ SOA ns hm 8 2 3 4 5\n";
    static const char below[] = "$TTL 60\n@ SOA ns hm 7 2 3 4 5\nsub SOA ns hm 8 2 3 4 5\n";
    static const char big[] = "$TTL 60\n@ SOA ns hm 4294967295 2 3 4 5\n@ NS ns.example.net.\n";
    struct rowset rs = {0};
    struct err e;

    ck_assert_int_eq(rows_build(g_rb, ROWS_COREDNS, "example.com", two, strlen(two), &rs, &e),
                     DADNS_EZONE);
    ck_assert_str_eq(e.text, "line 3: a second SOA record");
    ck_assert_int_eq(rows_build(g_rb, ROWS_POWERDNS, "example.com", below, strlen(below), &rs, &e),
                     DADNS_EZONE);
    ck_assert_ptr_nonnull(strstr(e.text, "SOA record at sub.example.com, not at the apex"));
    build_ok(g_rb, ROWS_POWERDNS, "example.com", big, strlen(big), &rs);
    ck_assert_uint_eq(rs.serial, 4294967295u);
    ck_assert_str_eq(find(&rs, "example.com", "SOA")->content,
                     "ns.example.com hm.example.com 4294967295 2 3 4 5");
    rowset_free(&rs);
}
END_TEST

/* A TXT of 255 strings of 255 octets: 65,789 characters, too long for both content columns. */
START_TEST(test_pdns_content_limit)
{
    struct rowset rs = {0};
    struct buf b;
    struct err e;
    int i;

    buf_init(&b, MAX_FILE);
    ck_assert_int_eq(buf_appends(&b, "$TTL 60\n@ SOA ns hm 1 2 3 4 5\nbig TXT ("), 0);
    for (i = 0; i < 255; i++)
        ck_assert_int_eq(buf_printf(&b, " \"%0255d\"", i), 0);
    ck_assert_int_eq(buf_appends(&b, " )\n"), 0);
    ck_assert_int_eq(rows_build(g_rb, ROWS_POWERDNS, "example.com", b.data, b.len, &rs, &e),
                     DADNS_EZONE);
    ck_assert_msg(strstr(e.text, "big.example.com TXT content is 65789 characters, over the "
                                 "64000 of PowerDNS's content column") != NULL,
                  "%s", e.text);
    ck_assert_int_eq(rows_build(g_rb, ROWS_COREDNS, "example.com", b.data, b.len, &rs, &e),
                     DADNS_EZONE);
    ck_assert_ptr_nonnull(strstr(e.text, "over the 1024 of CoreDNS's data column"));
    rowset_free(&rs);
    buf_free(&b);
}
END_TEST

START_TEST(test_name_limits)
{
    struct rowset rs = {0};
    struct buf b;
    struct err e;
    int i;

    /* 55 labels of 3 octets in raw UTF-8 (a 235-octet name): every octet becomes \DDD, so
     * the PowerDNS name (55 * 13 characters and more) passes 255 and the hostname 512 */
    buf_init(&b, MAX_FILE);
    ck_assert_int_eq(buf_appends(&b, "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"), 0);
    for (i = 0; i < 55; i++)
        ck_assert_int_eq(buf_appends(&b, "\xc3\xa9\xc3."), 0);
    ck_assert_int_eq(buf_appends(&b, "x TXT \"long owner\"\n"), 0);
    ck_assert_int_eq(rows_build(g_rb, ROWS_POWERDNS, "example.com", b.data, b.len, &rs, &e),
                     DADNS_EZONE);
    ck_assert_msg(strstr(e.text, "line 3: name of 728 characters, longer than the 255 of "
                                 "PowerDNS's name column: \\195\\169\\195.") != NULL,
                  "%s", e.text);
    ck_assert_uint_eq(e.line, 3);
    ck_assert_int_eq(rows_build(g_rb, ROWS_COREDNS, "example.com", b.data, b.len, &rs, &e),
                     DADNS_EZONE);
    ck_assert_msg(strstr(e.text, "line 3: hostname of 716 characters, longer than the 512 of "
                                 "CoreDNS's hostname column: \\195\\169\\195.") != NULL,
                  "%s", e.text);
    rowset_free(&rs);
    buf_free(&b);
}
END_TEST

START_TEST(test_large_zone)
{
    struct rows_builder *rb = NULL;
    struct rowset rs = {0};
    struct buf b;
    int i;

    buf_init(&b, 8 * 1024 * 1024);
    ck_assert_int_eq(buf_appends(&b, SAMPLE), 0);
    for (i = 0; i < 20000; i++)
        ck_assert_int_eq(buf_printf(&b,
                                    "h%d.g%d\t300\tIN\tA\t10.%d.%d.%d\nh%d.g%d\tTXT\t\"n=%d\"\n", i,
                                    i % 100, i >> 16, (i >> 8) & 255, i & 255, i, i % 100, i),
                         0);
    ck_assert_int_eq(rows_builder_new(&rb), 0);
    build_ok(rb, ROWS_POWERDNS, "example.com", b.data, b.len, &rs);
    ck_assert_uint_eq(rs.n, 8 + 40000 + 100); /* + one ENT per g<N> */
    ck_assert_ptr_nonnull(find(&rs, "g42.example.com", NULL));
    check_invariants("large/pdns", &rs, ROWS_POWERDNS);
    build_ok(rb, ROWS_COREDNS, "example.com", b.data, b.len, &rs);
    ck_assert_uint_eq(rs.n, 7 + 40000);
    check_invariants("large/coredns", &rs, ROWS_COREDNS);
    rowset_free(&rs);
    rows_builder_free(rb);
    buf_free(&b);
}
END_TEST

static Suite *rows_suite(void)
{
    Suite *s = suite_create("rows");
    TCase *tc;

    tc = tcase_create("data_cases");
    tcase_add_test(tc, test_enough_cases);
    tcase_add_loop_test(tc, test_data_case, 0, g_set.n);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_test(tc, test_free_null);
    tcase_add_test(tc, test_reuse);
    tcase_add_test(tc, test_rows_own_their_strings);
    tcase_add_test(tc, test_not_nul_terminated);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_zone_name_forms);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_soa_serial_and_place);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_pdns_content_limit);
    tcase_add_test(tc, test_name_limits);
    tcase_add_test(tc, test_large_zone);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failures;

    datacase_collect(&g_set, "rows");
    g_zs = malloc(sizeof(*g_zs));
    if (g_zs == NULL || rows_builder_new(&g_rb) != 0)
        return 1;
    sr = srunner_create(rows_suite());
    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    rows_builder_free(g_rb);
    free(g_zs);
    datacase_release(&g_set);
    return failures ? 1 : 0;
}
