/* summary.c -- the JSON summary of a reconciler pass (see summary.h). */
#include "summary.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* text - a JSON string of @s (NULL = ""), invalid UTF-8 octets replaced by '?'. New
 * reference or NULL. */
static json_t *text(const char *s)
{
    json_t *j;
    char *copy;
    size_t i, n;

    if (s == NULL)
        s = "";
    j = json_string(s);
    if (j != NULL)
        return j;
    n = strlen(s);
    copy = malloc(n + 1);
    if (copy == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    copy[n] = '\0';
    j = json_string(copy);
    free(copy);
    return j;
}

/* set - o[k] = v (stolen); returns -1 when v is NULL or the set failed. */
static int set(json_t *o, const char *k, json_t *v)
{
    if (v == NULL)
        return -1;
    return json_object_set_new(o, k, v);
}

static json_t *count(size_t n)
{
    return json_integer((json_int_t)n);
}

static json_t *servers(const struct summary *s)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < s->n_servers; i++) {
        const struct summary_server *sv = &s->servers[i];
        json_t *o = json_object();

        if (o == NULL || set(o, "name", text(sv->name)) != 0 ||
            set(o, "answered", json_boolean(sv->answered)) != 0 ||
            set(o, "zones", count(sv->answered ? sv->zones : 0)) != 0 ||
            set(o, "error", text(sv->answered ? "" : sv->error)) != 0 ||
            json_array_append_new(a, o) != 0) {
            json_decref(o);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

enum per_backend { REPUBLISHED, DELETED, UNMANAGED, SKIPPED };

static json_t *backends(const struct summary *s, enum per_backend what)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; o != NULL && i < s->n_backends; i++) {
        const struct summary_backend *b = &s->backends[i];
        json_t *v = NULL;

        if ((what == SKIPPED) == b->inventoried)
            continue;
        switch (what) {
        case REPUBLISHED:
            v = count(b->republished);
            break;
        case DELETED:
            v = count(b->deleted);
            break;
        case UNMANAGED:
            v = count(b->unmanaged);
            break;
        case SKIPPED:
            v = text(b->skipped);
            break;
        }
        if (set(o, b->name != NULL ? b->name : "", v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int summary_json(const struct summary *s, char **out, struct err *e)
{
    json_t *o = json_object();
    double d = s->duration_s;
    int bad;

    *out = NULL;
    if (!(d >= 0) || d > 1e12)
        d = 0;
    d = (double)(long long)(d * 1000.0 + 0.5) / 1000.0; /* milliseconds */
    bad = o == NULL || set(o, "started_at", json_integer(s->started_at)) != 0 ||
          set(o, "finished_at", json_integer(s->finished_at)) != 0 ||
          set(o, "duration_s", json_real(d)) != 0 ||
          set(o, "dry_run", json_boolean(s->dry_run)) != 0 ||
          set(o, "forced", json_boolean(s->forced)) != 0 || set(o, "servers", servers(s)) != 0 ||
          set(o, "zones_seen", count(s->zones_seen)) != 0 ||
          set(o, "orphans_deleted", count(s->orphans_deleted)) != 0 ||
          set(o, "orphans_held", count(s->orphans_held)) != 0 ||
          set(o, "guard_tripped", json_boolean(s->guard_tripped)) != 0 ||
          set(o, "guard_reason", text(s->guard_reason)) != 0 ||
          set(o, "owners_updated", count(s->owners_updated)) != 0 ||
          set(o, "republished", backends(s, REPUBLISHED)) != 0 ||
          set(o, "deleted_on_backend", backends(s, DELETED)) != 0 ||
          set(o, "unmanaged", backends(s, UNMANAGED)) != 0 ||
          set(o, "backends_skipped", backends(s, SKIPPED)) != 0 ||
          set(o, "tombstones_purged", count(s->tombstones_purged)) != 0 ||
          set(o, "error", text(s->error)) != 0;
    if (!bad)
        *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(o);
    if (*out == NULL)
        return err_set(e, DADNS_ENOMEM, "out of memory rendering the pass summary");
    return 0;
}
