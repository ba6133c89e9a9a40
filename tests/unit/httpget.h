/* httpget.h -- a tiny blocking HTTP/1.0 GET over loopback for the tests of the admin listeners:
 * status, headers and body of one answer, and finding a whole line in a body. Test code only. */
#ifndef DADNS_HTTPGET_H
#define DADNS_HTTPGET_H

#include <stddef.h>

struct httpget_reply {
    int status;
    char head[2048]; /* status line and headers */
    char body[262144];
    size_t body_len;
};

/* httpget - GET @path from 127.0.0.1:@port (5 s timeout). Returns 0 with @r filled, or -1 when
 * there was no well-formed answer. */
int httpget(int port, const char *path, struct httpget_reply *r);

/* httpget_has_line - 1 when @line is one whole line of @text (a body, say a metrics scrape),
 * else 0. */
int httpget_has_line(const char *text, const char *line);

#endif
