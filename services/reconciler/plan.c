/* plan.c -- the decisions of a reconciler pass from DA's lists and the store (see plan.h).
 *
 * Pure and linear: one hash set of the live zones, lookups in each server's set. Carrying the
 * decisions out is the reconciler service's job. */
#include "plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_SERVER SIZE_MAX

/* A growable array of fixed-size items. */
struct vec {
    void **items; /* where the array pointer lives (in the plan) */
    size_t *n;    /* where its count lives */
    size_t cap;
    size_t size; /* sizeof one item */
};

/* push - append a copy of @item (vec->size octets). Returns 0 or DADNS_ENOMEM. */
static int push(struct vec *v, const void *item)
{
    if (*v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 64;
        void *na;

        if (ncap > SIZE_MAX / v->size)
            return DADNS_ENOMEM;
        na = realloc(*v->items, ncap * v->size);
        if (na == NULL)
            return DADNS_ENOMEM;
        *v->items = na;
        v->cap = ncap;
    }
    memcpy((char *)*v->items + *v->n * v->size, item, v->size);
    (*v->n)++;
    return 0;
}

#define VEC(arr, cnt)                                                                              \
    {                                                                                              \
        (void **)(void *)&(arr), &(cnt), 0, sizeof(*(arr))                                         \
    }

void plan_free(struct plan *p)
{
    if (p == NULL)
        return;
    free(p->deletes);
    free(p->held);
    free(p->owners);
    free(p->conflicts);
    free(p->missing);
    free(p->servers);
    free(p);
}

/* owner_of - the index of the server whose hostname is @host, or NO_SERVER. */
static size_t owner_of(const struct plan_server *servers, size_t n, const char *host)
{
    size_t i;

    if (host == NULL || host[0] == '\0')
        return NO_SERVER;
    for (i = 0; i < n; i++)
        if (strcasecmp(servers[i].hostname, host) == 0)
            return i;
    return NO_SERVER;
}

/* Context of the walk over each answering server's set (missing names, zones seen). */
struct listed_ctx {
    const struct plan_server *servers;
    size_t index;              /* the server being walked */
    const struct strset *live; /* live zones of the store */
    struct plan *p;
    struct vec *missing;
};

static int visit_listed(const char *zone, void *arg)
{
    struct listed_ctx *c = arg;
    bool first = true, live = strset_has(c->live, zone);
    size_t j;

    if (!live)
        c->p->servers[c->index].missing++;
    for (j = 0; j < c->index && first; j++)
        if (c->servers[j].answered && strset_has(c->servers[j].zones, zone))
            first = false;
    if (!first)
        return 0;
    c->p->zones_seen++;
    if (!live)
        return push(c->missing, &zone);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* check_inputs - the arguments plan_build can refuse. */
static int check_inputs(const struct plan_server *servers, size_t n_servers,
                        const struct plan_zone *zones, size_t n_zones,
                        const struct plan_guard *guard, struct err *e)
{
    size_t i;

    if (guard == NULL || guard->max_delete_percent < 0 || guard->max_delete_percent > 100)
        return err_set(e, DADNS_EINVAL, "plan: max_delete_percent must be 0-100");
    for (i = 0; i < n_servers; i++)
        if (servers[i].name == NULL || servers[i].hostname == NULL ||
            (servers[i].answered && servers[i].zones == NULL))
            return err_set(e, DADNS_EINVAL, "plan: server %zu is incomplete", i);
    for (i = 0; i < n_zones; i++)
        if (zones[i].name == NULL)
            return err_set(e, DADNS_EINVAL, "plan: zone %zu has no name", i);
    return 0;
}

/* trip - decide the guard of server @i of @p and write its reason. */
static void trip(struct plan *p, const struct plan_server *s, size_t i, int pct)
{
    struct plan_server_result *r = &p->servers[i];
    size_t o;

    if (!s->answered || r->stored == 0)
        return;
    if (r->listed == 0) {
        r->guard = PLAN_GUARD_EMPTY;
        snprintf(r->guard_reason, sizeof(r->guard_reason),
                 "%s lists no zones but owns %zu in the store", s->name, r->stored);
    } else if (r->orphans > 0 && r->orphans * 100 > (size_t)pct * r->stored) {
        r->guard = PLAN_GUARD_PERCENT;
        snprintf(r->guard_reason, sizeof(r->guard_reason),
                 "%s would delete %zu of its %zu zones (%.1f%%), more than max_delete_percent "
                 "%d%%",
                 s->name, r->orphans, r->stored, 100.0 * (double)r->orphans / (double)r->stored,
                 pct);
    } else {
        return;
    }
    if (!p->guard_tripped)
        p->guard_server = i;
    p->guard_tripped = true;
    o = strlen(p->guard_reason);
    snprintf(p->guard_reason + o, sizeof(p->guard_reason) - o, "%s%s", o ? "; " : "",
             r->guard_reason);
}

int plan_build(const struct plan_server *servers, size_t n_servers, const struct plan_zone *zones,
               size_t n_zones, const struct plan_guard *guard, struct plan **out, struct err *e)
{
    struct strset *live = NULL;
    struct plan_delete *orphans = NULL;
    size_t n_orphans = 0, i, j;
    struct plan *p = NULL;
    int rc;

    *out = NULL;
    rc = check_inputs(servers, n_servers, zones, n_zones, guard, e);
    if (rc != 0)
        return rc;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        goto nomem;
    p->dry_run = guard->dry_run;
    p->forced = guard->force;
    p->n_servers = n_servers;
    if (n_servers > 0) {
        p->servers = calloc(n_servers, sizeof(*p->servers));
        if (p->servers == NULL)
            goto nomem;
    }
    rc = strset_new(&live);
    if (rc != 0)
        goto nomem;
    for (i = 0; i < n_servers; i++) {
        if (!servers[i].answered)
            continue;
        p->answered++;
        p->servers[i].listed = strset_count(servers[i].zones);
    }

    /* every live zone: owner updates, conflicts, orphan candidates */
    {
        struct vec vo = VEC(orphans, n_orphans), vw = VEC(p->owners, p->n_owners),
                   vc = VEC(p->conflicts, p->n_conflicts);

        for (i = 0; i < n_zones; i++) {
            const struct plan_zone *z = &zones[i];
            size_t owner, first = NO_SERVER, second = NO_SERVER, listing = 0;
            bool owner_lists = false;

            if (z->deleted)
                continue;
            p->live_zones++;
            if (strset_add(live, z->name) < 0)
                goto nomem;
            owner = owner_of(servers, n_servers, z->host);
            if (owner != NO_SERVER)
                p->servers[owner].stored++;
            for (j = 0; j < n_servers; j++) {
                if (!servers[j].answered || !strset_has(servers[j].zones, z->name))
                    continue;
                listing++;
                if (j == owner)
                    owner_lists = true;
                if (first == NO_SERVER)
                    first = j;
                else if (second == NO_SERVER)
                    second = j;
            }
            if (listing > 0) {
                size_t keep = first;

                if (owner_lists) {
                    keep = owner;
                } else if (owner != NO_SERVER && !servers[owner].answered) {
                    p->deferred_owners++;
                    continue;
                } else {
                    struct plan_owner ow = {z->name, z->host != NULL ? z->host : "", first};

                    if (push(&vw, &ow) != 0)
                        goto nomem;
                    p->servers[first].gained++;
                }
                if (listing > 1) {
                    struct plan_conflict cf = {z->name, keep, keep == first ? second : first,
                                               listing};

                    if (push(&vc, &cf) != 0)
                        goto nomem;
                }
            } else if (owner == NO_SERVER) {
                p->unowned_unlisted++;
            } else if (!servers[owner].answered) {
                p->servers[owner].protected_zones++;
                p->protected_zones++;
            } else {
                struct plan_delete d = {z->name, owner};

                if (push(&vo, &d) != 0)
                    goto nomem;
                p->servers[owner].orphans++;
            }
        }
    }

    /* the guard, per server; then orphans go to deletes or held */
    for (i = 0; i < n_servers; i++)
        trip(p, &servers[i], i, guard->max_delete_percent);
    {
        struct vec vd = VEC(p->deletes, p->n_deletes), vh = VEC(p->held, p->n_held);

        for (i = 0; i < n_orphans; i++) {
            bool hold = p->servers[orphans[i].server].guard != PLAN_GUARD_NONE && !guard->force;

            if (push(hold ? &vh : &vd, &orphans[i]) != 0)
                goto nomem;
        }
    }

    /* names DA lists that the store lacks, and the distinct names seen */
    {
        struct vec vm = VEC(p->missing, p->n_missing);
        struct listed_ctx c = {servers, 0, live, p, &vm};

        for (i = 0; i < n_servers; i++) {
            if (!servers[i].answered)
                continue;
            c.index = i;
            if (strset_iterate(servers[i].zones, visit_listed, &c) != 0)
                goto nomem;
        }
        if (p->n_missing > 1)
            qsort(p->missing, p->n_missing, sizeof(*p->missing), cmp_str);
    }

    free(orphans);
    strset_free(live);
    *out = p;
    return 0;
nomem:
    free(orphans);
    strset_free(live);
    plan_free(p);
    return err_set(e, DADNS_ENOMEM, "plan: out of memory");
}
