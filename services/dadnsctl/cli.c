/* cli.c -- dadnsctl's shared command plumbing (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHOW_MAX 64 /* longest excerpt of a bad argument echoed in a message */

/* Copy @in into @out (@size bytes) safe to print: non-printable octets become '?', cut at
 * SHOW_MAX with "...". */
static void show(const char *in, char *out, size_t size)
{
    size_t i, o = 0;

    for (i = 0; in[i] != '\0' && i < SHOW_MAX && o + 1 < size; i++) {
        unsigned char ch = (unsigned char)in[i];

        out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (in[i] != '\0' && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

int cli_open(struct cli *c, const char *cmd)
{
    struct err e;
    int rc;

    err_clear(&e);
    rc = config_load(c->config_path, &c->cfg, &e);
    if (rc != 0) {
        fprintf(stderr, "%s %s: %s\n", c->prog, cmd, e.text);
        return rc == DADNS_ENOMEM ? CLI_FAILED : CLI_USAGE;
    }
    rc = control_new(c->cfg, "dadnsctl", &c->ctl);
    if (rc != 0) {
        fprintf(stderr, "%s %s: %s\n", c->prog, cmd,
                rc == DADNS_ETOOBIG ? "redis.prefix too long" : err_str(rc));
        return rc == DADNS_ETOOBIG ? CLI_USAGE : CLI_FAILED;
    }
    return 0;
}

void cli_close(struct cli *c)
{
    control_free(c->ctl);
    c->ctl = NULL;
    config_free(c->cfg);
    c->cfg = NULL;
}

int cli_getopt(struct cli *c, const char *cmd, int *started, int argc, char **argv,
               const char *shortopts, const struct option *longopts)
{
    char opts[64], bad[SHOW_MAX + 8];
    int ch;

    if (!*started) {
        optind = 0; /* GNU getopt: full re-initialisation */
        *started = 1;
    }
    opterr = 0;
    snprintf(opts, sizeof(opts), ":%s", shortopts);
    for (;;) {
        ch = getopt_long(argc, argv, opts, longopts, NULL);
        if (ch == 'j') {
            c->json = 1;
            continue;
        }
        if (ch == '?') {
            if (optopt != 0) {
                cli_usage(c, cmd, "unknown option -%c", optopt);
            } else {
                show(argv[optind - 1], bad, sizeof(bad));
                cli_usage(c, cmd, "unknown option %s", bad);
            }
            return '?';
        }
        if (ch == ':') {
            show(argv[optind - 1], bad, sizeof(bad));
            cli_usage(c, cmd, "option %s needs a value", bad);
            return '?';
        }
        return ch;
    }
}

int cli_usage(const struct cli *c, const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s %s: ", c->prog, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry '%s %s --help'\n", c->prog, cmd);
    return CLI_USAGE;
}

int cli_fail(const struct cli *c, const char *cmd, int code, const struct err *e)
{
    fprintf(stderr, "%s %s: %s\n", c->prog, cmd, e->text[0] != '\0' ? e->text : err_str(code));
    return code == DADNS_EREDIS ? CLI_UNREACHABLE : CLI_FAILED;
}

int cli_zone_arg(const struct cli *c, const char *cmd, const char *arg, char out[NAME_BUF_SIZE])
{
    struct err e;

    err_clear(&e);
    if (name_normalize(arg, strlen(arg), out, &e) != 0)
        return cli_usage(c, cmd, "%s", e.text);
    return 0;
}

int cli_backend_arg(const struct cli *c, const char *cmd, const char *arg)
{
    char bad[SHOW_MAX + 8];
    size_t i, n = strlen(arg);
    int ok = n >= 1 && n <= 63;

    for (i = 0; ok && i < n; i++) {
        char ch = arg[i];

        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
             (i > 0 && (ch == '_' || ch == '-'));
    }
    if (ok)
        return 0;
    show(arg, bad, sizeof(bad));
    return cli_usage(c, cmd, "invalid backend name \"%s\" (expected [a-z0-9][a-z0-9_-]{0,62})",
                     bad);
}

int cli_count_arg(const struct cli *c, const char *cmd, const char *opt, const char *arg, long *out)
{
    char bad[SHOW_MAX + 8], *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < 0 || arg[0] == '-' || arg[0] == '+') {
        show(arg, bad, sizeof(bad));
        return cli_usage(c, cmd, "%s: expected a non-negative integer, got \"%s\"", opt, bad);
    }
    *out = v;
    return 0;
}

void cli_iso_time(long long t, char *out, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "-");
}

void cli_duration(long long ms, char *out, size_t size)
{
    long long s = ms / 1000;

    if (ms < 0)
        snprintf(out, size, "-");
    else if (ms < 1000)
        snprintf(out, size, "%lldms", ms);
    else if (ms < 60000)
        snprintf(out, size, "%lld.%llds", s, (ms % 1000) / 100);
    else if (s < 3600)
        snprintf(out, size, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf(out, size, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
}

int cli_print_json(json_t *v)
{
    char *s = v != NULL ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    json_decref(v);
    if (s == NULL) {
        fprintf(stderr, "dadnsctl: out of memory\n");
        return CLI_FAILED;
    }
    printf("%s\n", s);
    free(s);
    return CLI_OK;
}

json_t *cli_json_ll(long long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

/* A JSON scalar or small object as text for one "key=value" of the summary. */
static void scalar_text(const json_t *v, char *out, size_t size)
{
    if (json_is_string(v))
        snprintf(out, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "%g", json_real_value(v));
    else if (json_is_true(v))
        snprintf(out, size, "yes");
    else if (json_is_false(v))
        snprintf(out, size, "no");
    else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        size_t o = 0;

        out[0] = '\0';
        json_object_foreach((json_t *)v, k, x)
        {
            char sv[64];
            int n;

            scalar_text(x, sv, sizeof(sv));
            n = snprintf(out + o, size - o, "%s%s:%s", o ? "," : "", k, sv);
            if (n < 0 || (size_t)n >= size - o)
                break;
            o += (size_t)n;
        }
        if (o == 0)
            snprintf(out, size, "-");
    } else {
        snprintf(out, size, "-");
    }
}

/* The unix time at @name of @o (number or numeric string), or 0. */
static long long json_unix(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);

    if (json_is_number(v))
        return (long long)json_number_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

void cli_reconciler_text(const char *json, const char *indent)
{
    json_t *o, *servers, *x;
    char t1[32], t2[32], line[1024], val[512];
    const char *k;
    size_t i, len = 0;

    if (json == NULL) {
        printf("%sno pass recorded\n", indent);
        return;
    }
    o = json_loads(json, 0, NULL);
    if (!json_is_object(o)) {
        printf("%s(not JSON) %.200s\n", indent, json);
        json_decref(o);
        return;
    }
    cli_iso_time(json_unix(o, "started_at"), t1, sizeof(t1));
    cli_iso_time(json_unix(o, "finished_at"), t2, sizeof(t2));
    scalar_text(json_object_get(o, "duration_s"), val, sizeof(val));
    printf("%sstarted %s, finished %s, took %ss\n", indent, t1, t2, val);
    line[0] = '\0';
    json_object_foreach(o, k, x)
    {
        int n;

        if (strcmp(k, "started_at") == 0 || strcmp(k, "finished_at") == 0 ||
            strcmp(k, "duration_s") == 0 || strcmp(k, "servers") == 0)
            continue;
        scalar_text(x, val, sizeof(val));
        n = snprintf(line + len, sizeof(line) - len, "%s%s=%s", len ? " " : "", k, val);
        if (n < 0 || (size_t)n >= sizeof(line) - len)
            break;
        len += (size_t)n;
    }
    if (len > 0)
        printf("%s%s\n", indent, line);
    servers = json_object_get(o, "servers");
    for (i = 0; json_is_array(servers) && i < json_array_size(servers); i++) {
        const json_t *s = json_array_get(servers, i);
        const json_t *err = json_object_get(s, "error");
        char zones[32];

        scalar_text(json_object_get(s, "zones"), zones, sizeof(zones));
        printf("%sserver %s: %s, %s zones%s%s\n", indent,
               json_is_string(json_object_get(s, "name"))
                   ? json_string_value(json_object_get(s, "name"))
                   : "?",
               json_is_true(json_object_get(s, "answered")) ? "answered" : "did not answer", zones,
               (json_is_string(err) && json_string_length(err) > 0) ? ", error: " : "",
               (json_is_string(err) && json_string_length(err) > 0) ? json_string_value(err) : "");
    }
    json_decref(o);
}

/* ---- tables ---- */

void cli_table_init(struct cli_table *t, size_t ncol)
{
    memset(t, 0, sizeof(*t));
    t->ncol = ncol;
}

int cli_table_row(struct cli_table *t, const char *const *cols)
{
    size_t i;

    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? 2 * t->cap : 16;
        char **p = realloc(t->cells, ncap * t->ncol * sizeof(*p));

        if (p == NULL)
            return DADNS_ENOMEM;
        t->cells = p;
        t->cap = ncap;
    }
    for (i = 0; i < t->ncol; i++) {
        char *s = strdup(cols[i] != NULL ? cols[i] : "-");

        if (s == NULL) {
            while (i-- > 0)
                free(t->cells[t->nrows * t->ncol + i]);
            return DADNS_ENOMEM;
        }
        t->cells[t->nrows * t->ncol + i] = s;
    }
    t->nrows++;
    return 0;
}

void cli_table_print(struct cli_table *t, const char *indent)
{
    size_t w[16] = {0}, r, i;

    for (r = 0; r < t->nrows; r++) {
        for (i = 0; i < t->ncol && i < 16; i++) {
            size_t l = strlen(t->cells[r * t->ncol + i]);

            if (l > w[i])
                w[i] = l;
        }
    }
    for (r = 0; r < t->nrows; r++) {
        fputs(indent, stdout);
        for (i = 0; i < t->ncol; i++) {
            const char *s = t->cells[r * t->ncol + i];

            if (i + 1 < t->ncol && i < 16)
                printf("%-*s  ", (int)w[i], s);
            else
                printf("%s", s);
        }
        putchar('\n');
    }
    cli_table_free(t);
}

void cli_table_free(struct cli_table *t)
{
    size_t i;

    for (i = 0; i < t->nrows * t->ncol; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
    t->cap = 0;
}
