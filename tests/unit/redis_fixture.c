/* redis_fixture.c -- throwaway redis-server for tests, and the Redis tests' shared setup and
 * raw commands (see redis_fixture.h). */
#include "redis_fixture.h"

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static pid_t child = -1;
static char dir[256];
static int server_port = -1; /* of the running server */

static int ping(int port)
{
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r;
    int ok = 0;

    if (c == NULL || c->err) {
        redisFree(c);
        return 0;
    }
    r = redisCommand(c, "PING");
    ok = r != NULL && r->type == REDIS_REPLY_STATUS;
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return ok;
}

void redis_fixture_stop(void)
{
    char cmd[300];

    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
    server_port = -1;
    if (dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "redis fixture: could not remove %s\n", dir);
        dir[0] = '\0';
    }
}

int redis_fixture_start(void)
{
    static int hooked;
    char portbuf[16];
    int attempt, port = -1, i;

    snprintf(dir, sizeof(dir), "/tmp/dadns-test-redis-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        dir[0] = '\0';
        return -1;
    }
    if (!hooked) {
        atexit(redis_fixture_stop);
        hooked = 1;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (attempt = 0; attempt < 5; attempt++) {
        port = 20000 + rand() % 30000;
        snprintf(portbuf, sizeof(portbuf), "%d", port);
        child = fork();
        if (child == 0) {
            int devnull = open("/dev/null", 1);

            if (devnull >= 0) {
                dup2(devnull, 1);
                dup2(devnull, 2);
            }
            execlp("redis-server", "redis-server", "--port", portbuf, "--bind", "127.0.0.1",
                   "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                   "--daemonize", "no", (char *)NULL);
            _exit(127);
        }
        for (i = 0; i < 100; i++) {
            int status;

            if (ping(port)) {
                server_port = port;
                return port;
            }
            if (waitpid(child, &status, WNOHANG) == child) {
                child = -1;
                break; /* port busy or no binary: try another port */
            }
            usleep(50000);
        }
        if (child > 0) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            child = -1;
        }
    }
    fprintf(stderr, "redis fixture: could not start redis-server\n");
    return -1;
}

void redis_fixture_env(void)
{
    char p[16];

    ck_assert_msg(server_port > 0, "no redis fixture running");
    snprintf(p, sizeof(p), "%d", server_port);
    setenv("DADNS_REDIS_PORT", p, 1);
}

void redis_fixture_config(struct config **out)
{
    struct err e;

    redis_fixture_env();
    ck_assert_msg(config_load(NULL, out, &e) == 0, "%s", e.text);
}

redisContext *redis_fixture_raw(void)
{
    redisContext *c;

    ck_assert_msg(server_port > 0, "no redis fixture running");
    c = redisConnect("127.0.0.1", server_port);
    ck_assert_msg(c != NULL && !c->err, "cannot connect to the redis fixture: %s",
                  c != NULL ? c->errstr : "out of memory");
    redis_fixture_do(c, "FLUSHALL");
    return c;
}

void redis_fixture_teardown(struct config **cfg, redisContext **raw)
{
    if (cfg != NULL) {
        config_free(*cfg);
        *cfg = NULL;
    }
    if (raw != NULL && *raw != NULL) {
        redisFree(*raw);
        *raw = NULL;
    }
}

/* vcmd - redis_fixture_cmd with a va_list. */
static redisReply *vcmd(redisContext *c, const char *fmt, va_list ap)
{
    redisReply *r = redisvCommand(c, fmt, ap);

    ck_assert_msg(r != NULL, "%s: no reply (%s)", fmt, c->errstr);
    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    return r;
}

redisReply *redis_fixture_cmd(redisContext *c, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(c, fmt, ap);
    va_end(ap);
    return r;
}

void redis_fixture_do(redisContext *c, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(c, fmt, ap);
    va_end(ap);
    freeReplyObject(r);
}

long long redis_fixture_int(redisContext *c, const char *fmt, ...)
{
    redisReply *r;
    long long v = -1;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(c, fmt, ap);
    va_end(ap);
    if (r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r->type == REDIS_REPLY_STRING)
        v = strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    return v;
}

char *redis_fixture_str(redisContext *c, const char *fmt, ...)
{
    redisReply *r;
    char *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(c, fmt, ap);
    va_end(ap);
    if (r->type == REDIS_REPLY_STRING) {
        s = strdup(r->str);
        ck_assert_ptr_nonnull(s);
    }
    freeReplyObject(r);
    return s;
}
