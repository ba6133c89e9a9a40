/* statuspage.c -- the status page's JSON and HTML (see statuspage.h). Pure: the data comes in a
 * struct, the text goes into a buf or a string; collecting is statuscache.c's, serving http.c's. */
#include "statuspage.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

/* ---- shared ---- */

/* fresh - a heartbeat written at @updated_at still counts at @now. */
static int fresh(const struct statuspage_data *d, long long updated_at)
{
    return updated_at > 0 && d->now - updated_at <= STATUSPAGE_STALE_S;
}

/* last_apply - the newest last_apply_at of @g's writers, 0 when none. */
static long long last_apply(const struct control_group *g)
{
    long long t = 0;
    size_t i;

    for (i = 0; i < g->n_writers; i++)
        if (g->writers[i].last_apply_at > t)
            t = g->writers[i].last_apply_at;
    return t;
}

/* breaker - 1 when a writer of @g with a fresh heartbeat has its breaker open, 0 when one
 * fresh heartbeat says closed, -1 when no writer is heard of. */
static int breaker(const struct statuspage_data *d, const struct control_group *g)
{
    int state = -1;
    size_t i;

    for (i = 0; i < g->n_writers; i++) {
        if (!fresh(d, g->writers[i].updated_at))
            continue;
        if (g->writers[i].breaker_open)
            return 1;
        state = 0;
    }
    return state;
}

/* reconciler_last - P reconciler:last parsed (new reference), or NULL when absent; text that
 * is not a JSON object comes back as a JSON string. */
static json_t *reconciler_last(const struct control_status *st)
{
    json_t *v;

    if (st == NULL || st->reconciler_last == NULL)
        return NULL;
    v = json_loads(st->reconciler_last, 0, NULL);
    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v != NULL ? v : json_string(st->reconciler_last);
}

/* ---- JSON ---- */

/* Strings from Redis may hold invalid UTF-8, which jansson refuses: such a value is replaced. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s != NULL ? s : "");

    return v != NULL ? v : json_string("(not UTF-8)");
}

static json_t *jll(long long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *jtime(long long t)
{
    return t > 0 ? json_integer(t) : json_null();
}

static json_t *backend_json(const struct statuspage_data *d, const struct control_group *g)
{
    json_t *b = json_object(), *cons = json_array(), *wr = json_array();
    int br = breaker(d, g);
    size_t j;

    json_object_set_new(b, "name", jstr(g->be.name));
    json_object_set_new(b, "configured", json_boolean(g->be.configured));
    json_object_set_new(b, "group", json_boolean(g->be.has_group));
    json_object_set_new(b, "pending", g->be.has_group ? jll(g->pending) : json_null());
    json_object_set_new(b, "lag", g->be.has_group ? jll(g->lag) : json_null());
    json_object_set_new(
        b, "oldest_pending_age_s",
        g->oldest_pending_age_ms < 0 ? json_null() : json_integer(g->oldest_pending_age_ms / 1000));
    json_object_set_new(b, "dead_letters", json_integer(g->dead));
    for (j = 0; j < g->n_consumers; j++) {
        json_t *x = json_object();

        json_object_set_new(x, "name", jstr(g->consumers[j].name));
        json_object_set_new(x, "pending", json_integer(g->consumers[j].pending));
        json_object_set_new(x, "idle_ms", jll(g->consumers[j].idle_ms));
        json_array_append_new(cons, x);
    }
    json_object_set_new(b, "consumers", cons);
    for (j = 0; j < g->n_writers; j++) {
        const struct heartbeat_record *w = &g->writers[j];
        json_t *x = json_object();

        json_object_set_new(x, "consumer", jstr(w->consumer));
        json_object_set_new(x, "last_apply_at", jtime(w->last_apply_at));
        json_object_set_new(x, "last_batch_at", jtime(w->last_batch_at));
        json_object_set_new(x, "applied", json_integer((json_int_t)w->applied));
        json_object_set_new(x, "failed", json_integer((json_int_t)w->failed));
        json_object_set_new(x, "dead", json_integer((json_int_t)w->dead));
        json_object_set_new(x, "breaker_open", json_boolean(w->breaker_open));
        json_object_set_new(x, "updated_at", jtime(w->updated_at));
        json_object_set_new(x, "stale", json_boolean(!fresh(d, w->updated_at)));
        json_array_append_new(wr, x);
    }
    json_object_set_new(b, "writers", wr);
    json_object_set_new(b, "last_apply_at", jtime(last_apply(g)));
    json_object_set_new(b, "breaker_open", br < 0 ? json_null() : json_boolean(br));
    return b;
}

static json_t *failure_json(const struct heartbeat_failure *f)
{
    json_t *x = json_object();

    json_object_set_new(x, "at", jtime(f->at));
    json_object_set_new(x, "backend", jstr(f->backend));
    json_object_set_new(x, "consumer", jstr(f->consumer));
    json_object_set_new(x, "zone", jstr(f->zone));
    json_object_set_new(x, "op", jstr(f->op));
    json_object_set_new(x, "version", json_integer((json_int_t)f->version));
    json_object_set_new(x, "reason", jstr(f->reason));
    json_object_set_new(x, "attempts", json_integer((json_int_t)f->attempts));
    json_object_set_new(x, "dead", json_boolean(f->dead));
    return x;
}

int statuspage_json(const struct statuspage_data *d, char **out)
{
    const struct control_status *st = d->st;
    json_t *o = json_object(), *redis = json_object(), *zones = json_object();
    json_t *stream = json_object(), *bes = json_array(), *ingest = json_object();
    json_t *spool = json_object(), *rec = json_object(), *fl = json_array(), *last;
    char key[256];
    size_t i;

    json_object_set_new(o, "generated_at", json_integer(d->now));
    json_object_set_new(o, "version", jstr(d->version));
    json_object_set_new(redis, "up", json_boolean(st != NULL));
    json_object_set_new(redis, "error",
                        st == NULL && d->error != NULL ? jstr(d->error) : json_null());
    json_object_set_new(redis, "collected_at", st != NULL ? jtime(d->collected_at) : json_null());
    json_object_set_new(o, "redis", redis);
    json_object_set_new(zones, "live", st != NULL ? jll(st->zones_live) : json_null());
    json_object_set_new(zones, "tombstones", jll(d->tombstones));
    json_object_set_new(zones, "tombstones_counted_at", jtime(d->tombstones_at));
    json_object_set_new(o, "zones", zones);
    snprintf(key, sizeof(key), "%schanges", d->prefix != NULL ? d->prefix : "");
    json_object_set_new(stream, "key", jstr(key));
    json_object_set_new(stream, "length", st != NULL ? jll(st->stream_length) : json_null());
    json_object_set_new(o, "stream", stream);
    for (i = 0; st != NULL && i < st->n_groups; i++)
        json_array_append_new(bes, backend_json(d, &st->groups[i]));
    json_object_set_new(o, "backends", bes);
    json_object_set_new(spool, "enabled", json_boolean(d->spool_enabled));
    json_object_set_new(spool, "records", json_integer((json_int_t)d->spool_records));
    json_object_set_new(ingest, "spool", spool);
    json_object_set_new(o, "ingest", ingest);
    last = reconciler_last(st);
    json_object_set_new(rec, "last", last != NULL ? last : json_null());
    if (st != NULL && st->n_guard > 0) {
        json_t *g = json_object();

        for (i = 0; i + 1 < st->n_guard; i += 2)
            json_object_set_new(g, st->guard[i], jstr(st->guard[i + 1]));
        json_object_set_new(rec, "guard", g);
    } else {
        json_object_set_new(rec, "guard", json_null());
    }
    json_object_set_new(o, "reconciler", rec);
    for (i = 0; st != NULL && i < st->n_failures && i < STATUSPAGE_FAILURES; i++)
        json_array_append_new(fl, failure_json(&st->failures[i]));
    json_object_set_new(o, "failures", fl);
    json_object_set_new(o, "failures_total", st != NULL ? jll(st->failures_total) : json_null());
    *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out != NULL ? 0 : DADNS_ENOMEM;
}

/* ---- HTML ---- */

int statuspage_escape(struct buf *out, const char *s)
{
    const char *p = s != NULL ? s : "";
    int rc = 0;

    for (; *p != '\0' && rc == 0; p++) {
        unsigned char c = (unsigned char)*p;

        switch (c) {
        case '&':
            rc = buf_appends(out, "&amp;");
            break;
        case '<':
            rc = buf_appends(out, "&lt;");
            break;
        case '>':
            rc = buf_appends(out, "&gt;");
            break;
        case '"':
            rc = buf_appends(out, "&quot;");
            break;
        case '\'':
            rc = buf_appends(out, "&#39;");
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                rc = buf_printf(out, "&#%u;", c == '\t' || c == '\n' ? c : 0xfffdu);
            else
                rc = buf_append(out, p, 1);
        }
    }
    return rc;
}

/* The page being written: the first error sticks, later writes do nothing. */
struct page {
    struct buf *b;
    int rc;
};

static void raw(struct page *pg, const char *s)
{
    if (pg->rc == 0)
        pg->rc = buf_appends(pg->b, s);
}

static void text(struct page *pg, const char *s)
{
    if (pg->rc == 0)
        pg->rc = statuspage_escape(pg->b, s);
}

static void rawf(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rawf(struct page *pg, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    raw(pg, tmp);
}

/* when - unix seconds @t as "2006-01-02 15:04:05 UTC" ("-" when <= 0). */
static void when(long long t, char *out, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, size, "-");
        return;
    }
    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* span - @s seconds as "45s", "3m 20s", "2h 05m", "3d 04h" ("-" when < 0). */
static void span(long long s, char *out, size_t size)
{
    if (s < 0)
        snprintf(out, size, "-");
    else if (s < 60)
        snprintf(out, size, "%llds", s);
    else if (s < 3600)
        snprintf(out, size, "%lldm %02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%lldh %02lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf(out, size, "%lldd %02lldh", s / 86400, (s % 86400) / 3600);
}

/* ago - "<span> ago" for unix time @t seen at @now, "never" when @t <= 0. */
static void ago(long long now, long long t, char *out, size_t size)
{
    char s[32];

    if (t <= 0) {
        snprintf(out, size, "never");
        return;
    }
    span(now > t ? now - t : 0, s, sizeof(s));
    snprintf(out, size, "%s ago", s);
}

/* cell - a <td> with class @cls (NULL = none) and escaped @v. */
static void cell(struct page *pg, const char *cls, const char *v)
{
    if (cls != NULL) {
        raw(pg, "<td class=\"");
        raw(pg, cls);
        raw(pg, "\">");
    } else {
        raw(pg, "<td>");
    }
    text(pg, v);
    raw(pg, "</td>");
}

/* num - a number cell ("-" when @v < 0) with class "n" plus @extra (may be NULL). */
static void num(struct page *pg, const char *extra, long long v)
{
    char s[32], cls[64];

    if (v < 0)
        snprintf(s, sizeof(s), "-");
    else
        snprintf(s, sizeof(s), "%lld", v);
    snprintf(cls, sizeof(cls), "n%s%s", extra != NULL ? " " : "", extra != NULL ? extra : "");
    cell(pg, cls, s);
}

/* timecell - a <td> with the relative time, the absolute one as its title. */
static void timecell(struct page *pg, long long now, long long t)
{
    char abs[48], rel[48];

    when(t, abs, sizeof(abs));
    ago(now, t, rel, sizeof(rel));
    raw(pg, "<td title=\"");
    text(pg, abs);
    raw(pg, "\">");
    text(pg, rel);
    raw(pg, "</td>");
}

static const char CSS[] =
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "margin:0;background:#f3f5f8;color:#1c2330}"
    "header{background:#1c2330;color:#fff;padding:14px 28px;display:flex;flex-wrap:wrap;"
    "justify-content:space-between;align-items:baseline;gap:8px}"
    "header h1{font-size:20px;margin:0;font-weight:600}"
    "header .meta{color:#b7c0cd;font-size:13px}"
    "main{padding:20px 28px;max-width:1440px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 18px}"
    ".card{background:#fff;border:1px solid #d9dee6;border-radius:8px;padding:10px 18px;"
    "min-width:160px}"
    ".card .l{color:#5a6676;font-size:11px;text-transform:uppercase;letter-spacing:.04em}"
    ".card .v{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}"
    ".card .s{color:#7a8595;font-size:12px}"
    "section{background:#fff;border:1px solid #d9dee6;border-radius:8px;margin:0 0 18px;"
    "padding:14px 18px;overflow-x:auto}"
    "h2{font-size:15px;margin:0 0 10px;font-weight:600}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #edf0f4;vertical-align:top;"
    "white-space:nowrap}"
    "td.reason,td.consumers{white-space:normal}"
    "th{font-size:11px;color:#5a6676;text-transform:uppercase;letter-spacing:.04em;"
    "font-weight:600}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td.reason{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;"
    "word-break:break-word}"
    ".ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e;font-weight:600}"
    ".muted{color:#8a94a3}"
    ".pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;"
    "font-weight:600}"
    ".pill.ok{background:#dafbe1}.pill.bad{background:#ffebe9}.pill.warn{background:#fff8c5}"
    ".pill.muted{background:#eef1f4}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}"
    "dt{color:#5a6676}dd{margin:0}"
    ".alert{background:#ffebe9;border:1px solid #ff8182;border-radius:8px;padding:10px 16px;"
    "margin:0 0 18px}"
    "footer{color:#8a94a3;font-size:12px;padding:0 28px 24px}";

static void card(struct page *pg, const char *id, const char *label, const char *value,
                 const char *cls, const char *sub)
{
    raw(pg, "<div class=\"card\"><div class=\"l\">");
    text(pg, label);
    raw(pg, "</div><div class=\"v");
    if (cls != NULL) {
        raw(pg, " ");
        raw(pg, cls);
    }
    raw(pg, "\" id=\"");
    raw(pg, id);
    raw(pg, "\">");
    text(pg, value);
    raw(pg, "</div>");
    if (sub != NULL) {
        raw(pg, "<div class=\"s\">");
        text(pg, sub);
        raw(pg, "</div>");
    }
    raw(pg, "</div>");
}

static void cards(struct page *pg, const struct statuspage_data *d)
{
    const struct control_status *st = d->st;
    char v[32], sub[96], t[48];
    long long dead = 0, pending = 0;
    size_t i;

    if (st != NULL)
        snprintf(v, sizeof(v), "%lld", st->zones_live);
    else
        snprintf(v, sizeof(v), "-");
    card(pg, "zones-live", "Zones live", v, NULL, NULL);
    if (d->tombstones >= 0) {
        snprintf(v, sizeof(v), "%lld", d->tombstones);
        ago(d->now, d->tombstones_at, t, sizeof(t));
        snprintf(sub, sizeof(sub), "counted %s", t);
    } else {
        snprintf(v, sizeof(v), "-");
        snprintf(sub, sizeof(sub), "not counted yet");
    }
    card(pg, "zones-tombstones", "Tombstones", v, NULL, sub);
    for (i = 0; st != NULL && i < st->n_groups; i++) {
        dead += st->groups[i].dead;
        pending += st->groups[i].pending > 0 ? st->groups[i].pending : 0;
    }
    if (st != NULL)
        snprintf(v, sizeof(v), "%lld", st->stream_length);
    else
        snprintf(v, sizeof(v), "-");
    snprintf(sub, sizeof(sub), "%lld pending in all groups", pending);
    card(pg, "stream-length", "Change stream", v, NULL, st != NULL ? sub : NULL);
    snprintf(v, sizeof(v), "%lld", dead);
    card(pg, "dead-total", "Dead letters", st != NULL ? v : "-", dead > 0 ? "bad" : "ok", NULL);
    snprintf(v, sizeof(v), "%zu", d->spool_records);
    card(pg, "spool-records", "Ingest spool", d->spool_enabled ? v : "off",
         d->spool_records > 0 ? "warn" : NULL,
         d->spool_enabled ? "records waiting for Redis" : "app.spool_dir is empty");
    card(pg, "redis-up", "Redis", st != NULL ? "up" : "DOWN", st != NULL ? "ok" : "bad", NULL);
}

static void backends(struct page *pg, const struct statuspage_data *d)
{
    const struct control_status *st = d->st;
    size_t i, j;

    raw(pg, "<section id=\"backends\"><h2>Backends</h2>");
    if (st == NULL || st->n_groups == 0) {
        raw(pg, "<p class=\"muted\">No backend configured and no consumer group.</p></section>");
        return;
    }
    raw(pg, "<table><thead><tr><th>Backend</th><th class=\"n\">Pending</th><th class=\"n\">Lag</th>"
            "<th class=\"n\">Oldest pending</th><th class=\"n\">Dead letters</th>"
            "<th>Consumers</th><th>Last apply</th><th>Breaker</th></tr></thead><tbody>");
    for (i = 0; i < st->n_groups; i++) {
        const struct control_group *g = &st->groups[i];
        char age[32];
        int br = breaker(d, g);

        raw(pg, "<tr class=\"backend\" id=\"backend-");
        text(pg, g->be.name);
        raw(pg, "\" data-backend=\"");
        text(pg, g->be.name);
        raw(pg, "\"><td class=\"name\">");
        text(pg, g->be.name);
        if (!g->be.configured)
            raw(pg, " <span class=\"pill muted\">not configured</span>");
        if (!g->be.has_group)
            raw(pg, " <span class=\"pill warn\">no group yet</span>");
        raw(pg, "</td>");
        num(pg, "pending", g->be.has_group ? g->pending : -1);
        num(pg, "lag", g->be.has_group ? g->lag : -1);
        span(g->oldest_pending_age_ms < 0 ? -1 : g->oldest_pending_age_ms / 1000, age, sizeof(age));
        cell(pg, g->oldest_pending_age_ms >= 600000 ? "n oldest bad" : "n oldest", age);
        num(pg, g->dead > 0 ? "dead bad" : "dead", g->dead);
        raw(pg, "<td class=\"consumers\">");
        for (j = 0; j < g->n_consumers; j++) {
            char idle[32];

            if (j > 0)
                raw(pg, "<br>");
            text(pg, g->consumers[j].name);
            span(g->consumers[j].idle_ms < 0 ? -1 : g->consumers[j].idle_ms / 1000, idle,
                 sizeof(idle));
            rawf(pg, " <span class=\"muted\">(%lld pending, idle ", g->consumers[j].pending);
            text(pg, idle);
            raw(pg, ")</span>");
        }
        if (g->n_consumers == 0)
            raw(pg, "<span class=\"muted\">none</span>");
        raw(pg, "</td>");
        timecell(pg, d->now, last_apply(g));
        raw(pg, br > 0    ? "<td class=\"breaker\"><span class=\"pill bad\">open</span></td>"
                : br == 0 ? "<td class=\"breaker\"><span class=\"pill ok\">closed</span></td>"
                          : "<td class=\"breaker\"><span class=\"pill muted\">no writer</span>"
                            "</td>");
        raw(pg, "</tr>");
    }
    raw(pg, "</tbody></table></section>");
}

static void writers(struct page *pg, const struct statuspage_data *d)
{
    const struct control_status *st = d->st;
    size_t i, j, n = 0;

    for (i = 0; st != NULL && i < st->n_groups; i++)
        n += st->groups[i].n_writers;
    raw(pg, "<section id=\"writers\"><h2>Writers</h2>");
    if (n == 0) {
        raw(pg, "<p class=\"muted\">No writer heartbeat (none ran in the last day).</p>"
                "</section>");
        return;
    }
    raw(pg, "<table><thead><tr><th>Backend</th><th>Consumer</th><th>Last apply</th>"
            "<th>Last batch</th><th class=\"n\">Applied</th><th class=\"n\">Failed</th>"
            "<th class=\"n\">Dead</th><th>Breaker</th>"
            "<th>Heartbeat</th></tr></thead><tbody>");
    for (i = 0; i < st->n_groups; i++) {
        for (j = 0; j < st->groups[i].n_writers; j++) {
            const struct heartbeat_record *w = &st->groups[i].writers[j];
            char hb[48];

            raw(pg, "<tr>");
            cell(pg, NULL, st->groups[i].be.name);
            cell(pg, NULL, w->consumer);
            timecell(pg, d->now, w->last_apply_at);
            timecell(pg, d->now, w->last_batch_at);
            num(pg, NULL, (long long)w->applied);
            num(pg, w->failed > 0 ? "warn" : NULL, (long long)w->failed);
            num(pg, w->dead > 0 ? "bad" : NULL, (long long)w->dead);
            raw(pg, w->breaker_open ? "<td><span class=\"pill bad\">open</span></td>"
                                    : "<td><span class=\"pill ok\">closed</span></td>");
            ago(d->now, w->updated_at, hb, sizeof(hb));
            cell(pg, fresh(d, w->updated_at) ? NULL : "bad", hb);
            raw(pg, "</tr>");
        }
    }
    raw(pg, "</tbody></table></section>");
}

/* field - one <dt>/<dd> pair of the reconciler summary. */
static void field(struct page *pg, const char *label, const char *value, const char *cls)
{
    raw(pg, "<dt>");
    text(pg, label);
    raw(pg, "</dt><dd");
    if (cls != NULL) {
        raw(pg, " class=\"");
        raw(pg, cls);
        raw(pg, "\"");
    }
    raw(pg, ">");
    text(pg, value);
    raw(pg, "</dd>");
}

static long long jnum(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    if (json_is_number(v))
        return (long long)json_number_value(v);
    return json_is_true(v) ? 1 : json_is_false(v) ? 0 : -1;
}

static const char *jtext(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* per_backend - "a: 1, b: 2" from the object o[k] ("0" when empty or missing). */
static void per_backend(const json_t *o, const char *k, char *out, size_t size)
{
    const json_t *m = json_object_get(o, k), *v;
    const char *name;
    size_t len = 0;

    out[0] = '\0';
    if (json_is_object(m)) {
        json_object_foreach((json_t *)m, name, v)
        {
            int n = snprintf(out + len, size - len, "%s%s: %lld", len > 0 ? ", " : "", name,
                             json_is_number(v) ? (long long)json_number_value(v) : 0LL);

            if (n < 0 || (size_t)n >= size - len)
                break;
            len += (size_t)n;
        }
    }
    if (out[0] == '\0')
        snprintf(out, size, "0");
}

static void reconciler(struct page *pg, const struct statuspage_data *d)
{
    const struct control_status *st = d->st;
    json_t *last = reconciler_last(st);
    char a[160], b[64], c[1024];
    size_t i;

    raw(pg, "<section id=\"reconciler\"><h2>Reconciler</h2>");
    if (st != NULL && st->n_guard > 0) {
        raw(pg, "<div class=\"alert\" id=\"guard\"><strong>Deletion guard tripped</strong>: ");
        for (i = 0; i + 1 < st->n_guard; i += 2) {
            if (i > 0)
                raw(pg, ", ");
            text(pg, st->guard[i]);
            raw(pg, "=");
            if (strcmp(st->guard[i], "at") == 0) {
                when(strtoll(st->guard[i + 1], NULL, 10), a, sizeof(a));
                text(pg, a);
            } else {
                text(pg, st->guard[i + 1]);
            }
        }
        raw(pg, ". A forced pass clears it: <code>dadnsctl reconcile --force</code></div>");
    }
    if (last == NULL) {
        raw(pg, "<p class=\"muted\">No pass recorded yet.</p></section>");
        return;
    }
    if (!json_is_object(last)) {
        raw(pg, "<p>Last pass (not JSON): ");
        text(pg, json_string_value(last));
        raw(pg, "</p></section>");
        json_decref(last);
        return;
    }
    raw(pg, "<dl id=\"reconciler-last\">");
    when(jnum(last, "finished_at"), a, sizeof(a));
    ago(d->now, jnum(last, "finished_at"), b, sizeof(b));
    snprintf(c, sizeof(c), "%s (%s)", a, b);
    field(pg, "Last pass finished", c, NULL);
    span(jnum(last, "duration_s"), a, sizeof(a));
    field(pg, "Duration", a, NULL);
    snprintf(a, sizeof(a), "%s%s", jnum(last, "dry_run") == 1 ? "dry run" : "live",
             jnum(last, "forced") == 1 ? ", forced" : "");
    field(pg, "Mode", a, NULL);
    {
        const json_t *servers = json_object_get(last, "servers"), *sv;
        size_t len = 0, k;

        c[0] = '\0';
        json_array_foreach(servers, k, sv)
        {
            const char *err = jtext(sv, "error");
            int n = snprintf(c + len, sizeof(c) - len, "%s%s: %s", len > 0 ? "; " : "",
                             jtext(sv, "name") != NULL ? jtext(sv, "name") : "?",
                             jnum(sv, "answered") == 1 ? "answered" : "no answer");

            if (n < 0 || (size_t)n >= sizeof(c) - len)
                break;
            len += (size_t)n;
            if (jnum(sv, "zones") >= 0)
                len +=
                    (size_t)snprintf(c + len, sizeof(c) - len, ", %lld zones", jnum(sv, "zones"));
            if (err != NULL && err[0] != '\0' && len < sizeof(c))
                len += (size_t)snprintf(c + len, sizeof(c) - len, " (%s)", err);
            if (len >= sizeof(c))
                len = sizeof(c) - 1;
        }
        field(pg, "DirectAdmin servers", c[0] != '\0' ? c : "none", NULL);
    }
    snprintf(a, sizeof(a), "%lld", jnum(last, "zones_seen"));
    field(pg, "Zones seen", a, NULL);
    snprintf(a, sizeof(a), "%lld deleted, %lld held", jnum(last, "orphans_deleted"),
             jnum(last, "orphans_held"));
    field(pg, "Orphans", a, NULL);
    per_backend(last, "republished", c, sizeof(c));
    field(pg, "Republished", c, NULL);
    per_backend(last, "deleted_on_backend", c, sizeof(c));
    field(pg, "Deleted on backends", c, NULL);
    per_backend(last, "unmanaged", c, sizeof(c));
    field(pg, "Unmanaged on backends", c, NULL);
    snprintf(a, sizeof(a), "%lld", jnum(last, "tombstones_purged"));
    field(pg, "Tombstones purged", a, NULL);
    if (jnum(last, "guard_tripped") == 1)
        field(pg, "Guard",
              jtext(last, "guard_reason") != NULL ? jtext(last, "guard_reason") : "tripped", "bad");
    else
        field(pg, "Guard", "not tripped", "ok");
    if (jtext(last, "error") != NULL && jtext(last, "error")[0] != '\0')
        field(pg, "Error", jtext(last, "error"), "bad");
    raw(pg, "</dl></section>");
    json_decref(last);
}

static void failures(struct page *pg, const struct statuspage_data *d)
{
    const struct control_status *st = d->st;
    size_t i;

    raw(pg, "<section id=\"failures\"><h2>Recent failures</h2>");
    if (st == NULL || st->n_failures == 0) {
        raw(pg, "<p class=\"muted\">None recorded.</p></section>");
        return;
    }
    rawf(pg, "<p class=\"muted\">Newest first; %zu shown of %lld kept.</p>",
         st->n_failures < STATUSPAGE_FAILURES ? st->n_failures : (size_t)STATUSPAGE_FAILURES,
         st->failures_total);
    raw(pg, "<table><thead><tr><th>When</th><th>Backend</th><th>Zone</th><th>Op</th>"
            "<th class=\"n\">Version</th><th class=\"n\">Attempts</th><th>State</th>"
            "<th>Reason</th></tr></thead>"
            "<tbody>");
    for (i = 0; i < st->n_failures && i < STATUSPAGE_FAILURES; i++) {
        const struct heartbeat_failure *f = &st->failures[i];

        raw(pg, "<tr class=\"failure\">");
        timecell(pg, d->now, f->at);
        cell(pg, NULL, f->backend);
        cell(pg, "zone", f->zone);
        cell(pg, NULL, f->op);
        num(pg, NULL, (long long)f->version);
        num(pg, NULL, (long long)f->attempts);
        raw(pg, f->dead ? "<td><span class=\"pill bad\">dead letter</span></td>"
                        : "<td><span class=\"pill warn\">retrying</span></td>");
        cell(pg, "reason", f->reason);
        raw(pg, "</tr>");
    }
    raw(pg, "</tbody></table></section>");
}

int statuspage_html(const struct statuspage_data *d, struct buf *out)
{
    struct page pg = {out, 0};
    char t[48];

    raw(&pg, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    rawf(&pg, "<meta http-equiv=\"refresh\" content=\"%d\">", STATUSPAGE_REFRESH_S);
    raw(&pg, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<title>dadns status</title><style>");
    raw(&pg, CSS);
    raw(&pg, "</style></head><body><header><h1>dadns status</h1><div class=\"meta\">");
    when(d->now, t, sizeof(t));
    text(&pg, t);
    raw(&pg, " &middot; dadns ");
    text(&pg, d->version);
    rawf(&pg, " &middot; refreshes every %d s</div></header><main>", STATUSPAGE_REFRESH_S);
    if (d->st == NULL) {
        raw(&pg, "<div class=\"alert\" id=\"error\"><strong>Redis cannot be read</strong>: ");
        text(&pg, d->error != NULL && d->error[0] != '\0' ? d->error : "unknown error");
        raw(&pg, "</div>");
    }
    raw(&pg, "<div class=\"cards\">");
    cards(&pg, d);
    raw(&pg, "</div>");
    backends(&pg, d);
    writers(&pg, d);
    failures(&pg, d);
    reconciler(&pg, d);
    raw(&pg, "</main><footer>Read-only. The same data as JSON: <code>GET /status</code>. "
             "Operator actions: <code>dadnsctl</code>.");
    if (d->st != NULL) {
        when(d->collected_at, t, sizeof(t));
        raw(&pg, " Collected from Redis at ");
        text(&pg, t);
        raw(&pg, ".");
    }
    raw(&pg, "</footer></body></html>\n");
    return pg.rc;
}
