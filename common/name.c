/* name.c -- strict zone-name validation and label-wise comparisons (see name.h).
 *
 * Owns the rules for what a zone name from a request may look like; the zone *content* is
 * zone.c's business. Pure: no I/O, no allocation. */
#include "name.h"

#include <string.h>

/* Longest excerpt of the input quoted in an error message. */
#define QUOTE_MAX 64

/* Render @len octets of @in into @out (@outsz bytes) so that it is safe to print: printable
 * ASCII other than '"' and '\\' as is, every other octet as \DDD; "..." when cut short. */
static void quote(const char *in, size_t len, char *out, size_t outsz)
{
    static const char ell[] = "...";
    size_t i, o = 0;

    for (i = 0; i < len && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o + 2 > outsz)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 5 > outsz)
                break;
            out[o++] = '\\';
            out[o++] = (char)('0' + c / 100);
            out[o++] = (char)('0' + (c / 10) % 10);
            out[o++] = (char)('0' + c % 10);
        }
    }
    if (i < len && o + sizeof(ell) <= outsz) {
        memcpy(out + o, ell, sizeof(ell) - 1);
        o += sizeof(ell) - 1;
    }
    out[o] = '\0';
}

static int is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* Refuse @in with a message naming the whole input and @why. */
static int refuse(struct err *e, const char *in, size_t len, const char *why)
{
    char q[QUOTE_MAX * 4 + 8];

    quote(in, len, q, sizeof(q));
    return err_set(e, DADNS_ENAME, "invalid zone name \"%s\": %s", q, why);
}

/* Like refuse(), quoting the offending octet @c as well. */
static int refuse_char(struct err *e, const char *in, size_t len, unsigned char c)
{
    char q[QUOTE_MAX * 4 + 8], qc[8];

    quote(in, len, q, sizeof(q));
    quote((const char *)&c, 1, qc, sizeof(qc));
    return err_set(e, DADNS_ENAME,
                   "invalid zone name \"%s\": character '%s' is not allowed (letters, digits, "
                   "'-' and '.' only)",
                   q, qc);
}

int name_normalize(const char *in, size_t len, char out[NAME_BUF_SIZE], struct err *e)
{
    size_t n = len, i, start, labels = 0;
    int numeric = 1; /* the current label has digits only */

    if (in == NULL || len == 0)
        return err_set(e, DADNS_ENAME, "invalid zone name: empty");
    if (in[n - 1] == '.')
        n--;
    if (n == 0)
        return refuse(e, in, len, "empty");
    if (n > NAME_MAX_LEN)
        return refuse(e, in, len, "longer than 253 characters");

    start = 0;
    for (i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)in[i] : '.';

        if (c != '.') {
            if (!is_ldh(c))
                return refuse_char(e, in, len, c);
            if (c < '0' || c > '9')
                numeric = 0;
            out[i] = (char)((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
            continue;
        }
        /* end of the label in[start, i) */
        if (i == start)
            return refuse(e, in, len, "empty label (leading, trailing or double dot)");
        if (i - start > 63)
            return refuse(e, in, len, "a label is longer than 63 characters");
        if (in[start] == '-' || in[i - 1] == '-')
            return refuse(e, in, len, "a label starts or ends with '-'");
        if (i - start >= 4 && in[start + 2] == '-' && in[start + 3] == '-' &&
            !((out[start] == 'x') && (out[start + 1] == 'n')))
            return refuse(e, in, len, "'--' in positions 3-4 of a label other than \"xn--\"");
        if (i < n)
            out[i] = '.';
        labels++;
        if (i < n) {
            start = i + 1;
            numeric = 1;
        }
    }
    if (labels < 2)
        return refuse(e, in, len, "a zone name needs at least two labels");
    if (numeric)
        return refuse(e, in, len, "the last label is numeric");
    out[n] = '\0';
    return 0;
}

const char *name_parent(const char *name)
{
    const char *dot = strchr(name, '.');

    return dot != NULL ? dot + 1 : NULL;
}

bool name_is_within(const char *child, const char *parent)
{
    size_t lc = strlen(child), lp = strlen(parent);

    if (lp == 0)
        return true; /* everything is within the root */
    if (lc < lp || memcmp(child + lc - lp, parent, lp) != 0)
        return false;
    return lc == lp || child[lc - lp - 1] == '.';
}
