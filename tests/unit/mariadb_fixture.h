/* mariadb_fixture.h -- a throwaway mariadbd for tests: temp dir, loopback, random port.
 *
 * mariadb_fixture_start() makes a data directory (mariadb-install-db, root without password)
 * and forks mariadbd on 127.0.0.1 and a unix socket, then waits until it answers;
 * mariadb_fixture_kill() / _restart() stop it hard and start it again on the same data
 * directory and port (for outage tests); mariadb_fixture_stop() kills it and removes the
 * directory. An atexit hook stops it even when a test aborts the process (run the suite with
 * CK_NOFORK: a forked Check child would run the hook too), and the server gets SIGKILL when
 * the test process dies (PR_SET_PDEATHSIG). */
#ifndef DADNS_MARIADB_FIXTURE_H
#define DADNS_MARIADB_FIXTURE_H

/* mariadb_fixture_start - install and start the server; returns its TCP port, or -1 (reason on
 * stderr). */
int mariadb_fixture_start(void);

/* mariadb_fixture_socket - the unix socket path of the running server (static storage). */
const char *mariadb_fixture_socket(void);

/* mariadb_fixture_kill - SIGKILL the server and wait for it; the data directory stays. */
void mariadb_fixture_kill(void);

/* mariadb_fixture_restart - start the server again on the same data directory and port.
 * Returns 0, or -1 (reason on stderr). */
int mariadb_fixture_restart(void);

/* mariadb_fixture_stop - kill the server and remove its directory (no-op if none). */
void mariadb_fixture_stop(void);

#endif
