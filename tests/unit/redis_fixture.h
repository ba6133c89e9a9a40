/* redis_fixture.h -- a throwaway redis-server for tests: temp dir, loopback, random port.
 *
 * redis_fixture_start() forks redis-server (AOF on, appendfsync always) and waits until it
 * answers; redis_fixture_stop() kills it and removes the directory. An atexit hook stops it
 * even when a test aborts the process. */
#ifndef DADNS_REDIS_FIXTURE_H
#define DADNS_REDIS_FIXTURE_H

/* redis_fixture_start - start the server; returns its port, or -1 (reason on stderr). */
int redis_fixture_start(void);

/* redis_fixture_stop - stop the server started by redis_fixture_start (no-op if none). */
void redis_fixture_stop(void);

#endif
