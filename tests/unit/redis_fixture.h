/* redis_fixture.h -- a throwaway redis-server for tests: temp dir, loopback, random port, and
 * what every Redis test does with it (load the config against it, a raw connection, commands
 * that must not fail).
 *
 * redis_fixture_start() forks redis-server (AOF on, appendfsync always) and waits until it
 * answers; redis_fixture_stop() kills it and removes the directory. An atexit hook stops it
 * even when a test aborts the process. The other functions are for Check tests: they fail the
 * current test (ck_assert) instead of returning an error. */
#ifndef DADNS_REDIS_FIXTURE_H
#define DADNS_REDIS_FIXTURE_H

#include <hiredis.h>

#include "config.h"

/* redis_fixture_start - start the server; returns its port, or -1 (reason on stderr). */
int redis_fixture_start(void);

/* redis_fixture_stop - stop the server started by redis_fixture_start (no-op if none). */
void redis_fixture_stop(void);

/* redis_fixture_env - set DADNS_REDIS_PORT to the server's port (for configs loaded later).
 * Fails the test when no server runs. */
void redis_fixture_env(void);

/* redis_fixture_config - redis_fixture_env, then load the config from the embedded defaults and
 * the environment (set any other DADNS_* variable first) into *@out (caller frees with
 * config_free). Fails the test when the config does not load. */
void redis_fixture_config(struct config **out);

/* redis_fixture_raw - a new plain connection to the server, on which FLUSHALL has run (each
 * test starts from an empty Redis). Caller frees with redisFree. Fails the test when it cannot
 * connect. */
redisContext *redis_fixture_raw(void);

/* redis_fixture_teardown - undo redis_fixture_config and redis_fixture_raw: config_free *@cfg
 * and redisFree *@raw, each then set to NULL. Either pointer may be NULL (nothing to free). */
void redis_fixture_teardown(struct config **cfg, redisContext **raw);

/* redis_fixture_cmd - run the command @fmt (redisCommand's format and arguments) on @c; fails
 * the test when there is no reply or an error reply. Returns the reply (caller frees with
 * freeReplyObject). */
redisReply *redis_fixture_cmd(redisContext *c, const char *fmt, ...);

/* redis_fixture_do - redis_fixture_cmd with the reply freed. */
void redis_fixture_do(redisContext *c, const char *fmt, ...);

/* redis_fixture_int - redis_fixture_cmd, and the reply as a number: an integer reply, a
 * string reply read as a decimal number, -1 for any other reply (nil). */
long long redis_fixture_int(redisContext *c, const char *fmt, ...);

/* redis_fixture_str - redis_fixture_cmd, and a string reply as a new string (caller frees);
 * NULL for any other reply (nil). */
char *redis_fixture_str(redisContext *c, const char *fmt, ...);

#endif
