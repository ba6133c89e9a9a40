/* bindconf.c -- zone paths, the named.conf include and zone file contents (see bindconf.h).
 *
 * Pure text work: names are re-validated with name_normalize here (defence in depth) because
 * they become file names and quoted named.conf strings. Files and rndc are bindbackend.c's. */
#include "bindconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

/* Longest file name the usual Linux file systems accept (NAME_MAX). */
#define FILE_NAME_MAX 255

static const char line_head[] = "zone \"";
static const char line_mid[] = "\" { type primary; file \"";
static const char line_tail[] = "\"; };";

/* dir_len - length of @dir without its trailing '/' run. */
static size_t dir_len(const char *dir)
{
    size_t n = strlen(dir);

    while (n > 0 && dir[n - 1] == '/')
        n--;
    return n;
}

int bindconf_check_dir(const char *dir, struct err *e)
{
    const unsigned char *p;

    if (dir == NULL || dir[0] == '\0')
        return err_set(e, DADNS_ECONFIG, "zones_dir is empty");
    if (dir[0] != '/')
        return err_set(e, DADNS_ECONFIG, "zones_dir \"%.200s\" is not an absolute path", dir);
    if (strlen(dir) > BINDCONF_DIR_MAX)
        return err_set(e, DADNS_ECONFIG, "zones_dir is longer than %d octets", BINDCONF_DIR_MAX);
    for (p = (const unsigned char *)dir; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f)
            return err_set(e, DADNS_ECONFIG,
                           "zones_dir contains a byte that cannot go into named.conf "
                           "(0x%02x at offset %zu)",
                           *p, (size_t)(p - (const unsigned char *)dir));
    }
    return 0;
}

/* check_zone - @zone must be a valid name already in normalized form. */
static int check_zone(const char *zone, struct err *e)
{
    char norm[NAME_BUF_SIZE];
    size_t len = strnlen(zone, NAME_BUF_SIZE);
    int rc;

    if (len >= NAME_BUF_SIZE)
        return err_set(e, DADNS_ENAME, "zone name longer than %d octets", NAME_MAX_LEN);
    rc = name_normalize(zone, len, norm, e);
    if (rc != 0)
        return rc;
    if (strcmp(norm, zone) != 0)
        return err_set(e, DADNS_ENAME, "zone name \"%s\" is not in normalized form (\"%s\")", zone,
                       norm);
    return 0;
}

int bindconf_zone_file(const char *zone, char *out, size_t outsz, struct err *e)
{
    int rc, n;

    rc = check_zone(zone, e);
    if (rc != 0)
        return rc;
    if (strlen(zone) + 3 > FILE_NAME_MAX)
        return err_set(e, DADNS_ENAME, "zone name \"%s\" is too long for a file name", zone);
    n = snprintf(out, outsz, "%s.db", zone);
    if (n < 0 || (size_t)n >= outsz)
        return err_set(e, DADNS_ETOOBIG, "zone file name does not fit in %zu octets", outsz);
    return 0;
}

int bindconf_zone_path(const char *zones_dir, const char *zone, char *out, size_t outsz,
                       struct err *e)
{
    int rc, n;

    rc = bindconf_check_dir(zones_dir, e);
    if (rc != 0)
        return rc;
    rc = check_zone(zone, e);
    if (rc != 0)
        return rc;
    n = snprintf(out, outsz, "%.*s/%s.db", (int)dir_len(zones_dir), zones_dir, zone);
    if (n < 0 || (size_t)n >= outsz)
        return err_set(e, DADNS_ETOOBIG, "zone file path does not fit in %zu octets", outsz);
    return 0;
}

int bindconf_render_include(const struct strset *zones, const char *zones_dir, struct buf *out,
                            struct err *e)
{
    const char **sorted = NULL;
    char path[BINDCONF_PATH_SIZE];
    size_t n = 0, i;
    int rc;

    rc = bindconf_check_dir(zones_dir, e);
    if (rc != 0)
        goto out;
    rc = strset_sorted(zones, &sorted, &n);
    if (rc != 0) {
        err_set(e, rc, "no memory to sort %zu zones", strset_count(zones));
        goto out;
    }
    rc = buf_appends(out, BINDCONF_HEADER);
    for (i = 0; rc == 0 && i < n; i++) {
        rc = bindconf_zone_path(zones_dir, sorted[i], path, sizeof(path), e);
        if (rc != 0)
            goto out;
        rc = buf_printf(out, "%s%s%s%s%s\n", line_head, sorted[i], line_mid, path, line_tail);
    }
    if (rc != 0)
        err_set(e, rc, "include text for %zu zones: %s", n, err_str(rc));
out:
    free(sorted);
    return rc;
}

/* excerpt - a printable, bounded copy of @len octets of @p for error messages. */
static void excerpt(const char *p, size_t len, char *out, size_t outsz)
{
    size_t i, k = 0;

    for (i = 0; i < len && k + 4 < outsz; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c >= 0x20 && c < 0x7f && c != '"')
            out[k++] = p[i];
        else
            out[k++] = '?';
    }
    if (i < len && k + 3 < outsz) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* starts - true when @len octets at @p begin with the NUL-terminated @s. */
static int starts(const char *p, size_t len, const char *s)
{
    size_t n = strlen(s);

    return len >= n && memcmp(p, s, n) == 0;
}

/* parse_line - one zone line of @len octets (no newline) into @zones. */
static int parse_line(const char *p, size_t len, const char *zones_dir, unsigned long lineno,
                      struct strset *zones, struct err *e)
{
    const char *q, *end = p + len, *name, *path;
    char zone[NAME_BUF_SIZE], want[BINDCONF_PATH_SIZE], show[80];
    size_t name_len, path_len;
    struct err ne;
    int rc;

    excerpt(p, len, show, sizeof(show));
    if (!starts(p, len, line_head))
        goto bad;
    name = p + strlen(line_head);
    q = memchr(name, '"', (size_t)(end - name));
    if (q == NULL)
        goto bad;
    name_len = (size_t)(q - name);
    if (!starts(q, (size_t)(end - q), line_mid))
        goto bad;
    path = q + strlen(line_mid);
    q = memchr(path, '"', (size_t)(end - path));
    if (q == NULL)
        goto bad;
    path_len = (size_t)(q - path);
    if ((size_t)(end - q) != strlen(line_tail) || memcmp(q, line_tail, strlen(line_tail)) != 0)
        goto bad;

    if (name_len == 0 || name_len > NAME_MAX_LEN)
        return err_setl(e, DADNS_ECONFIG, lineno, 1, "line %lu: bad zone name length in \"%s\"",
                        lineno, show);
    memcpy(zone, name, name_len);
    zone[name_len] = '\0';
    if (memchr(zone, '\0', name_len) != NULL)
        goto bad;
    rc = bindconf_zone_path(zones_dir, zone, want, sizeof(want), &ne);
    if (rc != 0)
        return err_setl(e, DADNS_ECONFIG, lineno, 1, "line %lu: %s", lineno, ne.text);
    if (path_len != strlen(want) || memcmp(path, want, path_len) != 0)
        return err_setl(e, DADNS_ECONFIG, lineno, 1,
                        "line %lu: zone %s: file is not \"%s\" (was zones_dir changed?)", lineno,
                        zone, want);
    rc = strset_add(zones, zone);
    if (rc < 0)
        return err_setl(e, rc, lineno, 1, "line %lu: %s", lineno, err_str(rc));
    if (rc == 0)
        return err_setl(e, DADNS_ECONFIG, lineno, 1, "line %lu: zone %s is listed twice", lineno,
                        zone);
    return 0;
bad:
    return err_setl(e, DADNS_ECONFIG, lineno, 1,
                    "line %lu: not a dadns zone line or // comment: \"%s\"", lineno, show);
}

int bindconf_parse_include(const char *text, size_t len, const char *zones_dir,
                           struct strset *zones, struct err *e)
{
    const char *p = text, *end = text + len, *nl;
    unsigned long lineno = 0;
    size_t n;
    int rc;

    rc = bindconf_check_dir(zones_dir, e);
    if (rc != 0)
        return rc;
    while (p < end) {
        lineno++;
        nl = memchr(p, '\n', (size_t)(end - p));
        n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (starts(p, n, "//")) {
            if (memchr(p, '\0', n) != NULL)
                return err_setl(e, DADNS_ECONFIG, lineno, 1, "line %lu: NUL byte in a comment",
                                lineno);
        } else {
            rc = parse_line(p, n, zones_dir, lineno, zones, e);
            if (rc != 0)
                return rc;
        }
        p += n + (nl != NULL ? 1 : 0);
    }
    return 0;
}

int bindconf_render_zone(const char *zone, uint64_t version, uint32_t serial, const char *text,
                         size_t len, struct buf *out, struct err *e)
{
    int add_nl = len > 0 && text[len - 1] != '\n', rc;

    rc = check_zone(zone, e);
    if (rc != 0)
        return rc;
    rc = buf_printf(out, "; zone %s version %" PRIu64 " serial %" PRIu32 "%s written by dadns\n",
                    zone, version, serial, add_nl ? " " BINDCONF_NL_TOKEN : "");
    if (rc == 0 && len > 0)
        rc = buf_append(out, text, len);
    if (rc == 0 && add_nl)
        rc = buf_append(out, "\n", 1);
    if (rc != 0)
        err_set(e, rc, "zone %s: file content: %s", zone, err_str(rc));
    return rc;
}
