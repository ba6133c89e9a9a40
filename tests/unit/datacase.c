/* datacase.c -- finding and reading data-driven test cases (see datacase.h). */
#include "datacase.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *datacase_read(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n;

    if (f == NULL)
        return NULL;
    p = malloc(max);
    if (p == NULL)
        goto out;
    n = fread(p, 1, max - 1, f);
    p[n] = '\0';
    if (len != NULL)
        *len = n;
out:
    fclose(f);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void datacase_collect(struct datacase_set *s, const char *subdir)
{
    const char *data = getenv("DADNS_TEST_DATA");
    struct dirent *de;
    size_t n;
    DIR *d;

    memset(s, 0, sizeof(*s));
    if (data == NULL)
        data = "tests/data";
    n = strlen(data) + strlen(subdir) + 2;
    s->dir = malloc(n);
    if (s->dir == NULL)
        abort();
    snprintf(s->dir, n, "%s/%s", data, subdir);
    d = opendir(s->dir);
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL && s->n < DATACASE_MAX) {
        size_t l = strlen(de->d_name);

        if (l > 5 && strcmp(de->d_name + l - 5, ".zone") == 0) {
            s->stems[s->n] = strndup(de->d_name, l - 5);
            if (s->stems[s->n] == NULL)
                abort();
            s->n++;
        }
    }
    closedir(d);
    qsort(s->stems, (size_t)s->n, sizeof(s->stems[0]), cmp_str);
}

void datacase_release(struct datacase_set *s)
{
    int i;

    for (i = 0; i < s->n; i++)
        free(s->stems[i]);
    free(s->dir);
    memset(s, 0, sizeof(*s));
}

int datacase_origin(const char *text, char *out, size_t size)
{
    static const char tag[] = "; origin:";
    const char *p, *end;
    size_t n;

    if (strncmp(text, tag, sizeof(tag) - 1) != 0)
        return -1;
    p = text + sizeof(tag) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p;
    while (*end != '\0' && *end != '\n' && *end != '\r' && *end != ' ' && *end != '\t')
        end++;
    n = (size_t)(end - p);
    if (n == 0 || n >= size)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}
