/* form.c -- URL-encoded parameter parsing (see form.h). Pure: no I/O. */
#include "form.h"

#include <stdlib.h>
#include <string.h>

void form_init(struct form *f)
{
    f->v = NULL;
    f->n = 0;
    f->cap = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode @len octets of @s into a new NUL-terminated string; *@out_len gets the length.
 * Returns 0, DADNS_ENOMEM, or DADNS_EPARAM for a malformed escape. */
static int decode(const char *s, size_t len, char **out, size_t *out_len)
{
    char *d = malloc(len + 1);
    size_t i, j = 0;

    if (d == NULL)
        return DADNS_ENOMEM;
    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            d[j++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;

            if (len - i < 3) {
                free(d);
                return DADNS_EPARAM;
            }
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                free(d);
                return DADNS_EPARAM;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    *out_len = j;
    return 0;
}

static int grow(struct form *f)
{
    struct form_param *nv;
    size_t ncap;

    if (f->n >= FORM_MAX_PARAMS)
        return DADNS_ETOOBIG;
    if (f->n < f->cap)
        return 0;
    ncap = f->cap ? f->cap * 2 : 8;
    nv = realloc(f->v, ncap * sizeof(*nv));
    if (nv == NULL)
        return DADNS_ENOMEM;
    f->v = nv;
    f->cap = ncap;
    return 0;
}

int form_add(struct form *f, const char *key, const char *val, size_t val_len)
{
    struct form_param *p;
    int rc = grow(f);

    if (rc != 0)
        return rc;
    p = &f->v[f->n];
    p->key_len = strlen(key);
    p->key = strdup(key);
    p->val = malloc(val_len + 1);
    if (p->key == NULL || p->val == NULL) {
        free(p->key);
        free(p->val);
        return DADNS_ENOMEM;
    }
    memcpy(p->val, val, val_len);
    p->val[val_len] = '\0';
    p->val_len = val_len;
    f->n++;
    return 0;
}

/* Parse one "k=v" pair of @len octets. */
static int parse_pair(struct form *f, const char *s, size_t len, struct err *e)
{
    const char *eq = memchr(s, '=', len);
    size_t klen = eq ? (size_t)(eq - s) : len;
    const char *v = eq ? eq + 1 : s + len;
    size_t vlen = eq ? len - klen - 1 : 0;
    char *key = NULL, *val = NULL;
    size_t dklen = 0, dvlen = 0;
    struct form_param *p;
    int rc;

    rc = decode(s, klen, &key, &dklen);
    if (rc == DADNS_EPARAM) {
        err_set(e, rc, "malformed %%-escape in a parameter name");
        goto out;
    }
    if (rc != 0)
        goto out;
    rc = decode(v, vlen, &val, &dvlen);
    if (rc == DADNS_EPARAM) {
        err_set(e, rc, "malformed %%-escape in parameter '%.64s'", key);
        goto out;
    }
    if (rc != 0)
        goto out;
    rc = grow(f);
    if (rc == DADNS_ETOOBIG)
        err_set(e, rc, "more than %d parameters", FORM_MAX_PARAMS);
    if (rc != 0)
        goto out;
    p = &f->v[f->n++];
    p->key = key;
    p->key_len = dklen;
    p->val = val;
    p->val_len = dvlen;
    key = NULL;
    val = NULL;
out:
    if (rc == DADNS_ENOMEM)
        err_set(e, rc, "out of memory");
    free(key);
    free(val);
    return rc;
}

int form_parse(struct form *f, const char *s, size_t len, struct err *e)
{
    size_t start = 0, i;
    int rc;

    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '&')
            continue;
        if (i > start) {
            rc = parse_pair(f, s + start, i - start, e);
            if (rc != 0)
                return rc;
        }
        start = i + 1;
    }
    return 0;
}

const struct form_param *form_get(const struct form *f, const char *key)
{
    size_t i;

    for (i = 0; i < f->n; i++) {
        if (strcmp(f->v[i].key, key) == 0 && f->v[i].key_len == strlen(key))
            return &f->v[i];
    }
    return NULL;
}

const char *form_value(const struct form *f, const char *key)
{
    const struct form_param *p = form_get(f, key);

    return p ? p->val : NULL;
}

void form_clear(struct form *f)
{
    size_t i;

    if (f == NULL)
        return;
    for (i = 0; i < f->n; i++) {
        free(f->v[i].key);
        free(f->v[i].val);
    }
    free(f->v);
    form_init(f);
}
