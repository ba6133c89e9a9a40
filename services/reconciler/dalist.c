/* dalist.c -- DirectAdmin zone list answers -> normalized names (see dalist.h). Pure: no I/O.
 *
 * JSON through jansson, the legacy answer through common/form.c one pair at a time (a legacy
 * list holds far more pairs than one form may), names through common/name.c. */
#include "dalist.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "name.h"

#define SHOW_MAX 120 /* octets of DA's error text quoted in a message */

int dalist_new(struct dalist **out)
{
    struct dalist *l;
    int rc;

    *out = NULL;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return DADNS_ENOMEM;
    rc = strset_new(&l->zones);
    if (rc != 0) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void dalist_free(struct dalist *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->n_warnings; i++)
        free(l->warnings[i]);
    strset_free(l->zones);
    free(l);
}

/* warn - count an invalid entry and keep its explanation while there is room. */
static int warn(struct dalist *l, const char *text)
{
    l->invalid++;
    if (l->n_warnings >= DALIST_MAX_WARNINGS)
        return 0;
    l->warnings[l->n_warnings] = strdup(text);
    if (l->warnings[l->n_warnings] == NULL)
        return DADNS_ENOMEM;
    l->n_warnings++;
    return 0;
}

/* add_name - one listed name (@len octets): normalize it and add it, or warn. */
static int add_name(struct dalist *l, const char *name, size_t len, struct dalist_page *pg)
{
    char norm[NAME_BUF_SIZE];
    struct err ne;
    int rc;

    l->entries++;
    pg->entries++;
    if (name_normalize(name, len, norm, &ne) != 0)
        return warn(l, ne.text);
    rc = strset_add(l->zones, norm);
    if (rc < 0)
        return rc;
    pg->added += (size_t)rc;
    return 0;
}

/* is_number_key - a decimal array index such as "0" or "17". */
static bool is_number_key(const char *k)
{
    if (*k == '\0')
        return false;
    for (; *k != '\0'; k++)
        if (*k < '0' || *k > '9')
            return false;
    return true;
}

/* copy_text - @s (@len octets) made printable into @out (@n bytes), shortened. */
static void copy_text(const char *s, size_t len, char *out, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < len && o + 4 < n && i < SHOW_MAX; i++)
        out[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    if (i < len && o + 4 < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* json_count - a non-negative count given as a number or a numeric string, into *@out.
 * Returns false when @v is neither. */
static bool json_count(const json_t *v, long *out)
{
    const char *s, *end = NULL;
    long n;

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return false;
        *out = (long)json_integer_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    s = json_string_value(v);
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    n = strtol(s, (char **)&end, 10);
    if (errno != 0 || *end != '\0' || n < 0)
        return false;
    *out = n;
    return true;
}

/* json_truthy - DA's "error" member means an error unless it is 0, "0", "", false or null. */
static bool json_truthy(const json_t *v)
{
    if (v == NULL || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_string(v))
        return !(json_string_length(v) == 0 || strcmp(json_string_value(v), "0") == 0);
    return true;
}

/* refusal - DADNS_EDENIED quoting DA's own error text from @error and @text (either may be
 * NULL or empty). */
static int refusal(struct err *e, const char *error, const char *text)
{
    char a[SHOW_MAX + 8], b[SHOW_MAX + 8];

    copy_text(error ? error : "", error ? strlen(error) : 0, a, sizeof(a));
    copy_text(text ? text : "", text ? strlen(text) : 0, b, sizeof(b));
    return err_set(e, DADNS_EDENIED, "DirectAdmin refused the listing: %s%s%s", a[0] ? a : "error",
                   b[0] ? ": " : "", b);
}

static int parse_json(struct dalist *l, const char *body, size_t len, struct dalist_page *pg,
                      struct err *e)
{
    json_error_t je;
    json_t *root, *v, *info;
    const char *key;
    bool any_entry = false;
    int rc = 0;

    pg->format = DALIST_JSON;
    root = json_loadb(body, len, JSON_ALLOW_NUL, &je);
    if (root == NULL)
        return err_setl(e, DADNS_EPARAM, (unsigned long)je.line, (unsigned long)je.column,
                        "malformed JSON in the zone list at line %d column %d: %s", je.line,
                        je.column, je.text);
    if (!json_is_object(root)) {
        rc = err_set(e, DADNS_EPARAM, "the zone list is JSON but not an object");
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        const json_t *d;
        char w[200];

        if (!is_number_key(key))
            continue;
        any_entry = true;
        d = json_is_object(v) ? json_object_get(v, "domain") : NULL;
        if (!json_is_string(d)) {
            l->entries++;
            pg->entries++;
            snprintf(w, sizeof(w), "entry \"%.40s\": %s", key,
                     json_is_object(v) ? "no \"domain\" string" : "not an object");
            rc = warn(l, w);
        } else {
            rc = add_name(l, json_string_value(d), json_string_length(d), pg);
        }
        if (rc != 0)
            goto out;
    }
    if (!any_entry && json_truthy(json_object_get(root, "error"))) {
        const json_t *err = json_object_get(root, "error"), *t = json_object_get(root, "text");

        if (!json_is_string(t))
            t = json_object_get(root, "result");
        if (!json_is_string(t))
            t = json_object_get(root, "details");
        rc = refusal(e, json_is_string(err) ? json_string_value(err) : NULL,
                     json_is_string(t) ? json_string_value(t) : NULL);
        goto out;
    }
    info = json_object_get(root, "info");
    if (json_is_object(info)) {
        v = json_object_get(info, "total_pages");
        if (v != NULL && !json_count(v, &pg->total_pages)) {
            rc = err_set(e, DADNS_EPARAM,
                         "the zone list's info.total_pages is not a non-negative number");
            goto out;
        }
        v = json_object_get(info, "rows");
        if (v != NULL && !json_count(v, &pg->rows))
            pg->rows = -1; /* informational only */
    }
out:
    json_decref(root);
    return rc;
}

/* is_list_key - the key of an entry of the legacy answer. */
static bool is_list_key(const struct form_param *p)
{
    return (p->key_len == 6 && memcmp(p->key, "list[]", 6) == 0) ||
           (p->key_len == 4 && memcmp(p->key, "list", 4) == 0);
}

static int parse_legacy(struct dalist *l, const char *body, size_t len, struct dalist_page *pg,
                        struct err *e)
{
    char error[SHOW_MAX + 8] = "", text[SHOW_MAX + 8] = "";
    bool any_list = false, any_pair = false, is_error = false;
    const char *p = body, *end = body + len, *amp;
    struct form f;
    int rc = 0;

    pg->format = DALIST_LEGACY;
    pg->total_pages = 1;
    form_init(&f);
    while (p < end) {
        const struct form_param *fp;

        amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL)
            amp = end;
        if (amp == p) {
            p++;
            continue;
        }
        rc = form_parse(&f, p, (size_t)(amp - p), e);
        if (rc != 0) {
            rc = err_set(e, DADNS_EPARAM, "malformed zone list: %s", e ? e->text : "bad escape");
            goto out;
        }
        p = amp + 1;
        if (f.n == 0)
            continue;
        fp = &f.v[0];
        any_pair = true;
        if (is_list_key(fp)) {
            any_list = true;
            if (fp->val_len > 0)
                rc = add_name(l, fp->val, fp->val_len, pg);
        } else if (strcmp(fp->key, "error") == 0) {
            is_error = !(fp->val_len == 0 || strcmp(fp->val, "0") == 0);
            copy_text(fp->val, fp->val_len, error, sizeof(error));
        } else if ((strcmp(fp->key, "text") == 0 || strcmp(fp->key, "details") == 0) &&
                   text[0] == '\0') {
            copy_text(fp->val, fp->val_len, text, sizeof(text));
        }
        form_clear(&f);
        if (rc != 0)
            goto out;
    }
    if (is_error && !any_list) {
        rc = refusal(e, strcmp(error, "1") == 0 ? NULL : error, text);
        goto out;
    }
    if (any_pair && !any_list && !is_error && text[0] == '\0' && error[0] == '\0') {
        rc = err_set(e, DADNS_EPARAM, "the answer is not a zone list (no list[] entry)");
        goto out;
    }
    if (any_pair && !any_list) {
        /* error=0 with a text and no list: DA saying something else than a list */
        rc = err_set(e, DADNS_EPARAM, "the answer is not a zone list: %s", text);
        goto out;
    }
out:
    form_clear(&f);
    return rc;
}

int dalist_parse(struct dalist *l, const char *body, size_t len, struct dalist_page *page,
                 struct err *e)
{
    struct dalist_page scratch;
    struct dalist_page *pg = page != NULL ? page : &scratch;
    size_t i = 0;

    if (body == NULL)
        body = "";
    memset(pg, 0, sizeof(*pg));
    pg->total_pages = -1;
    pg->rows = -1;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* a UTF-8 byte order mark */
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i < len && body[i] == '<')
        return err_set(e, DADNS_EDENIED,
                       "DirectAdmin answered with an HTML page (a login page?): check the user, "
                       "the password and that the account is admin-level");
    if (i < len && body[i] == '{')
        return parse_json(l, body + i, len - i, pg, e);
    while (len > i && (body[len - 1] == ' ' || body[len - 1] == '\t' || body[len - 1] == '\r' ||
                       body[len - 1] == '\n'))
        len--;
    return parse_legacy(l, body + i, len - i, pg, e);
}
