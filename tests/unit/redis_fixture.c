/* redis_fixture.c -- throwaway redis-server for tests (see redis_fixture.h). */
#include "redis_fixture.h"

#include <hiredis.h>
#include <signal.h>
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

            if (ping(port))
                return port;
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
