/* datacase.h -- the data-driven test cases shared by the zone and rows suites: a directory of
 * NN_topic.zone files (first line "; origin: NAME") with expected-output files beside them.
 * Owns finding and reading the files; each suite owns what it expects of a case. */
#ifndef DADNS_DATACASE_H
#define DADNS_DATACASE_H

#include <stddef.h>

#define DATACASE_MAX 512 /* cases read from one directory at most */

struct datacase_set {
    char *dir;                 /* $DADNS_TEST_DATA/<subdir> (default tests/data/<subdir>) */
    char *stems[DATACASE_MAX]; /* case names without ".zone", sorted */
    int n;
};

/* datacase_collect - fill @s with the stems of every *.zone file of @subdir. A missing
 * directory gives no cases (the suites assert a minimum count). Aborts when out of memory.
 * Release with datacase_release. */
void datacase_collect(struct datacase_set *s, const char *subdir);

/* datacase_release - free what datacase_collect allocated. */
void datacase_release(struct datacase_set *s);

/* datacase_read - @path read into a new NUL-terminated buffer of at most @max - 1 octets
 * (caller frees); *@len (may be NULL) gets the size. NULL when unreadable. */
char *datacase_read(const char *path, size_t max, size_t *len);

/* datacase_origin - the origin from @text's first line "; origin: NAME" into @out (@size
 * bytes). Returns 0, or -1 when the line is missing or the name does not fit. */
int datacase_origin(const char *text, char *out, size_t size);

#endif
