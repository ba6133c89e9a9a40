/* request.c -- DirectAdmin request classification and validation (see request.h). Pure. */
#include "request.h"

#include <stdlib.h>
#include <string.h>

#define PATH_LOGIN "/CMD_API_LOGIN_TEST"
#define PATH_DNS   "/CMD_API_DNS_ADMIN"

int request_needs_auth(const char *path)
{
    return !(strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
             strcmp(path, "/readyz") == 0);
}

/* Check and copy a DA owner field (hostname/username): printable ASCII without spaces. */
static int owner_field(const struct form *f, const char *key, char *out, size_t size, struct err *e)
{
    const struct form_param *p = form_get(f, key);
    size_t i;

    out[0] = '\0';
    if (p == NULL)
        return 0;
    if (p->val_len >= size)
        return err_set(e, DADNS_EPARAM, "Parameter '%s' is longer than %zu characters", key,
                       size - 1);
    for (i = 0; i < p->val_len; i++) {
        unsigned char c = (unsigned char)p->val[i];

        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '\\')
            return err_set(e, DADNS_EPARAM,
                           "Parameter '%s' contains a character that is not allowed", key);
    }
    memcpy(out, p->val, p->val_len + 1);
    return 0;
}

/* Validate the "domain" parameter into @out. */
static int domain_param(const struct form *f, char out[NAME_BUF_SIZE], struct err *e)
{
    const struct form_param *p = form_get(f, "domain");
    struct err ne;

    if (p == NULL || p->val_len == 0)
        return err_set(e, DADNS_EPARAM, "Missing 'domain' parameter");
    if (name_normalize(p->val, p->val_len, out, &ne) != 0)
        return err_set(e, DADNS_ENAME, "Invalid domain: %s", ne.text);
    if (strlen(out) > REQUEST_ZONE_MAX)
        return err_set(e, DADNS_ENAME, "Invalid domain: longer than %d characters",
                       REQUEST_ZONE_MAX);
    return 0;
}

/* Is @key "select<digits>"? */
static int is_select(const char *key)
{
    const char *p;

    if (strncmp(key, "select", 6) != 0 || key[6] == '\0')
        return 0;
    for (p = key + 6; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return 0;
    }
    return 1;
}

static int add_zone(struct da_request *r, const struct form_param *p, struct err *e)
{
    char norm[NAME_BUF_SIZE];
    struct err ne;
    size_t i;

    if (name_normalize(p->val, p->val_len, norm, &ne) != 0)
        return err_set(e, DADNS_ENAME, "Invalid domain in '%s': %s", p->key, ne.text);
    for (i = 0; i < r->nzones; i++) {
        if (strcmp(r->zones[i], norm) == 0)
            return 0;
    }
    if (r->nzones >= REQUEST_MAX_ZONES)
        return err_set(e, DADNS_EPARAM, "More than %d domains in one delete", REQUEST_MAX_ZONES);
    memcpy(r->zones[r->nzones++], norm, sizeof(norm));
    return 0;
}

static int parse_delete(const struct form *f, struct da_request *r, struct err *e)
{
    size_t i;
    int rc;

    r->zones = calloc(REQUEST_MAX_ZONES, sizeof(*r->zones));
    if (r->zones == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory");
    for (i = 0; i < f->n; i++) {
        const struct form_param *p = &f->v[i];

        if (!is_select(p->key) && strcmp(p->key, "domain") != 0)
            continue;
        if (p->val_len == 0)
            continue;
        rc = add_zone(r, p, e);
        if (rc != 0)
            return rc;
    }
    if (r->nzones == 0)
        return err_set(e, DADNS_EPARAM, "Missing 'select0' or 'domain' parameter");
    return 0;
}

/* Merge the form body of a POST into a copy of the query parameters (query wins). */
static int merged_params(const struct form *query, const char *body, size_t body_len,
                         struct form *out, struct err *e)
{
    size_t i;
    int rc;

    for (i = 0; i < query->n; i++) {
        rc = form_add(out, query->v[i].key, query->v[i].val, query->v[i].val_len);
        if (rc != 0)
            return err_set(e, rc, "too many parameters");
    }
    if (body != NULL && body_len > 0) {
        rc = form_parse(out, body, body_len, e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int request_parse(const char *method, const char *path, const struct form *query, const char *body,
                  size_t body_len, struct da_request *out, int *status, struct err *e)
{
    int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;
    int is_head = strcmp(method, "HEAD") == 0;
    struct form params;
    const char *action;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    form_init(&params);
    *status = 400;
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
        strcmp(path, "/readyz") == 0) {
        if (!is_get && !is_head) {
            *status = 405;
            return err_set(e, DADNS_EPARAM, "Method %s not allowed on %s", method, path);
        }
        out->action = strcmp(path, "/readyz") == 0 ? DA_READYZ : DA_HEALTHZ;
        return 0;
    }
    if (strcmp(path, PATH_LOGIN) != 0 && strcmp(path, PATH_DNS) != 0) {
        *status = 404;
        return err_set(e, DADNS_EPARAM, "Unknown path");
    }
    if (!is_get && !is_post) {
        *status = 405;
        return err_set(e, DADNS_EPARAM, "Method %s not allowed on %s", method, path);
    }
    if (strcmp(path, PATH_LOGIN) == 0) {
        out->action = DA_LOGIN_TEST;
        return 0;
    }

    action = form_value(query, "action");
    if (action == NULL && is_post) {
        /* Parameters in a form body (exists/delete by POST, or the no-action probe). */
        rc = merged_params(query, body, body_len, &params, e);
        if (rc != 0)
            goto out;
        query = &params;
        action = form_value(query, "action");
    } else if (action != NULL && strcmp(action, "rawsave") != 0 && is_post && body_len > 0) {
        rc = merged_params(query, body, body_len, &params, e);
        if (rc != 0)
            goto out;
        query = &params;
    }
    if (action == NULL || action[0] == '\0') {
        out->action = DA_NOACTION;
        goto out;
    }
    if ((rc = owner_field(query, "hostname", out->host, sizeof(out->host), e)) != 0 ||
        (rc = owner_field(query, "username", out->user, sizeof(out->user), e)) != 0)
        goto out;
    if (strcmp(action, "exists") == 0) {
        const char *cp = form_value(query, "check_for_parent_domain");

        out->action = DA_EXISTS;
        out->check_parent = cp != NULL && cp[0] != '\0';
        rc = domain_param(query, out->zone, e);
    } else if (strcmp(action, "rawsave") == 0) {
        out->action = DA_RAWSAVE;
        if (!is_post) {
            *status = 405;
            rc = err_set(e, DADNS_EPARAM, "rawsave needs POST with the zone as the body");
            goto out;
        }
        rc = domain_param(query, out->zone, e);
        if (rc != 0)
            goto out;
        if (body == NULL || body_len == 0) {
            rc = err_set(e, DADNS_EPARAM, "Missing zone file content");
            goto out;
        }
        out->body = body;
        out->body_len = body_len;
    } else if (strcmp(action, "delete") == 0) {
        out->action = DA_DELETE;
        rc = parse_delete(query, out, e);
    } else {
        rc = err_set(e, DADNS_EPARAM, "Unknown action '%.40s'", action);
    }
out:
    form_clear(&params);
    if (rc != 0)
        request_clear(out);
    return rc;
}

void request_clear(struct da_request *r)
{
    if (r == NULL)
        return;
    free(r->zones);
    r->zones = NULL;
    r->nzones = 0;
}
