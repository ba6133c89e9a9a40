/* httpget.c -- the tests' tiny HTTP/1.0 client (see httpget.h). */
#include "httpget.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int httpget(int port, const char *path, struct httpget_reply *r)
{
    static char raw[sizeof(r->head) + sizeof(r->body)];
    struct sockaddr_in in;
    struct timeval tv = {5, 0};
    char req[512], *sep, *end;
    size_t got = 0;
    ssize_t n;
    int fd;

    memset(r, 0, sizeof(*r));
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_port = htons((uint16_t)port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&in, sizeof(in)) != 0) {
        close(fd);
        return -1;
    }
    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: test\r\n\r\n", path);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        close(fd);
        return -1;
    }
    while (got < sizeof(raw) - 1 && (n = read(fd, raw + got, sizeof(raw) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    raw[got] = '\0';
    sep = strstr(raw, "\r\n\r\n");
    if (sep == NULL || strncmp(raw, "HTTP/1.", 7) != 0 || got < 12)
        return -1;
    r->status = (int)strtol(raw + 9, &end, 10);
    if (end != raw + 12)
        return -1;
    snprintf(r->head, sizeof(r->head), "%.*s", (int)(sep - raw), raw);
    r->body_len = got - (size_t)(sep + 4 - raw);
    if (r->body_len >= sizeof(r->body))
        r->body_len = sizeof(r->body) - 1;
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
    return 0;
}

int httpget_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}
