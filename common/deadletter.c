/* deadletter.c -- moving given-up entries to "P dead:<backend>" (see deadletter.h).
 *
 * The script is sent with EVAL each time: dead letters are rare, so caching its SHA is not
 * worth the code. */
#include "deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* KEYS: dead stream, changes stream. ARGV: group, maxlen, consumer, failed_at, then 7 values
 * per letter: id, zone, op, version, reason, attempts, permanent (7). Returns how many were
 * added. */
static const char BURY_LUA[] =
    "local n = 0\n"
    "for i = 5, #ARGV, 7 do\n"
    "  if redis.call('XACK', KEYS[2], ARGV[1], ARGV[i]) == 1 then\n"
    "    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'zone', ARGV[i + 1],\n"
    "               'op', ARGV[i + 2], 'version', ARGV[i + 3], 'reason', ARGV[i + 4],\n"
    "               'attempts', ARGV[i + 5], 'failed_at', ARGV[4], 'id', ARGV[i],\n"
    "               'consumer', ARGV[3], 'permanent', ARGV[i + 6])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

#define PER_LETTER 7

int deadletter_bury(struct rconn *rc, const char *dead_key, const char *stream, const char *group,
                    long maxlen, const char *consumer, long long now_s, const struct deadletter *dl,
                    size_t n, size_t *buried, struct err *e)
{
    const char **argv = NULL;
    char(*nums)[24] = NULL; /* version and attempts of each letter */
    char smax[24], snow[24];
    redisReply *r = NULL;
    size_t argc = 0, i;
    int code;

    if (buried != NULL)
        *buried = 0;
    if (n == 0)
        return 0;
    argv = calloc(9 + PER_LETTER * n, sizeof(*argv));
    nums = calloc(2 * n, sizeof(*nums));
    if (argv == NULL || nums == NULL) {
        code = err_set(e, DADNS_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(smax, sizeof(smax), "%ld", maxlen);
    snprintf(snow, sizeof(snow), "%lld", now_s);
    argv[argc++] = "EVAL";
    argv[argc++] = BURY_LUA;
    argv[argc++] = "2";
    argv[argc++] = dead_key;
    argv[argc++] = stream;
    argv[argc++] = group;
    argv[argc++] = smax;
    argv[argc++] = consumer;
    argv[argc++] = snow;
    for (i = 0; i < n; i++) {
        snprintf(nums[2 * i], sizeof(nums[0]), "%" PRIu64, dl[i].version);
        snprintf(nums[2 * i + 1], sizeof(nums[0]), "%" PRIu64, dl[i].attempts);
        argv[argc++] = dl[i].id;
        argv[argc++] = dl[i].zone != NULL ? dl[i].zone : "";
        argv[argc++] = dl[i].op != NULL ? dl[i].op : "";
        argv[argc++] = nums[2 * i];
        argv[argc++] = dl[i].reason != NULL ? dl[i].reason : "";
        argv[argc++] = nums[2 * i + 1];
        argv[argc++] = dl[i].permanent ? "1" : "0";
    }
    code = rconn_command(rc, (int)argc, argv, NULL, REDIS_REPLY_INTEGER, &r, e);
    if (code == 0 && buried != NULL)
        *buried = r->integer > 0 ? (size_t)r->integer : 0;
out:
    if (r != NULL)
        freeReplyObject(r);
    free(nums);
    free(argv);
    return code;
}
