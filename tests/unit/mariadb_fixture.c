/* mariadb_fixture.c -- throwaway mariadbd for tests (see mariadb_fixture.h). */
#include "mariadb_fixture.h"

#include <fcntl.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child = -1;
static pid_t owner = -1; /* the process that started it: only it stops it */
static int port = -1;
static char dir[128];
static char sock[192];

const char *mariadb_fixture_socket(void)
{
    return sock;
}

/* answers - can root connect over the socket? */
static int answers(void)
{
    MYSQL *db = mysql_init(NULL);
    unsigned int t = 1;
    int ok;

    if (db == NULL)
        return 0;
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    ok = mysql_real_connect(db, NULL, "root", "", NULL, 0, sock, 0) != NULL;
    mysql_close(db);
    return ok;
}

/* dump_tail - the last lines of file @path on stderr. */
static void dump_tail(const char *path)
{
    char tail[2048];
    FILE *f = fopen(path, "r");
    long size;
    size_t n;

    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > (long)sizeof(tail) - 1)
        fseek(f, size - (long)sizeof(tail) + 1, SEEK_SET);
    else
        fseek(f, 0, SEEK_SET);
    n = fread(tail, 1, sizeof(tail) - 1, f);
    tail[n] = '\0';
    fclose(f);
    fprintf(stderr, "%s\n", tail);
}

/* run_quiet - run @argv with output to @log; returns its exit status or -1. */
static int run_quiet(char *const argv[], const char *log)
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* launch - fork mariadbd on the current port; wait until it answers. Returns 0 or -1. */
static int launch(void)
{
    char a_data[200], a_sock[220], a_port[32], a_pid[200], log[160];
    int i, status;

    snprintf(a_data, sizeof(a_data), "--datadir=%s/data", dir);
    snprintf(a_sock, sizeof(a_sock), "--socket=%s", sock);
    snprintf(a_port, sizeof(a_port), "--port=%d", port);
    snprintf(a_pid, sizeof(a_pid), "--pid-file=%s/mariadbd.pid", dir);
    snprintf(log, sizeof(log), "%s/server.log", dir);
    child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        /* in /usr/sbin on Debian, which a normal user's PATH may lack */
        char *argv[] = {access("/usr/sbin/mariadbd", X_OK) == 0 ? "/usr/sbin/mariadbd" : "mariadbd",
                        "--no-defaults",
                        a_data,
                        a_sock,
                        a_port,
                        "--bind-address=127.0.0.1",
                        a_pid,
                        "--skip-name-resolve",
                        "--innodb-buffer-pool-size=64M",
                        "--max-connections=50",
                        getuid() == 0 ? "--user=root" : NULL, /* mariadbd refuses root else */
                        NULL};

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test even when it crashes */
        execvp(argv[0], argv);
        _exit(127);
    }
    owner = getpid();
    for (i = 0; i < 300; i++) {
        if (answers())
            return 0;
        if (waitpid(child, &status, WNOHANG) == child) {
            child = -1;
            return -1; /* port busy, or no binary */
        }
        usleep(100000);
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
    return -1;
}

void mariadb_fixture_kill(void)
{
    if (child > 0 && owner == getpid()) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
}

int mariadb_fixture_restart(void)
{
    if (dir[0] == '\0' || port < 0)
        return -1;
    mariadb_fixture_kill();
    if (launch() != 0) {
        char log[160];

        fprintf(stderr, "mariadb fixture: could not restart mariadbd; the end of its log:\n");
        snprintf(log, sizeof(log), "%s/server.log", dir);
        dump_tail(log);
        return -1;
    }
    return 0;
}

void mariadb_fixture_stop(void)
{
    char *argv[] = {"rm", "-rf", dir, NULL};

    if (owner != -1 && owner != getpid())
        return;
    mariadb_fixture_kill();
    if (dir[0] != '\0') {
        if (run_quiet(argv, "/dev/null") != 0)
            fprintf(stderr, "mariadb fixture: could not remove %s\n", dir);
        dir[0] = '\0';
    }
}

int mariadb_fixture_start(void)
{
    static int hooked;
    char a_data[200], log[160];
    char *install[] = {"mariadb-install-db",
                       "--no-defaults",
                       a_data,
                       "--auth-root-authentication-method=normal",
                       "--skip-test-db",
                       getuid() == 0 ? "--user=root" : NULL,
                       NULL};
    int attempt;

    snprintf(dir, sizeof(dir), "/tmp/dadns-test-mariadb-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        dir[0] = '\0';
        return -1;
    }
    owner = getpid();
    if (!hooked) {
        atexit(mariadb_fixture_stop);
        hooked = 1;
    }
    snprintf(sock, sizeof(sock), "%s/mysqld.sock", dir);
    snprintf(a_data, sizeof(a_data), "--datadir=%s/data", dir);
    snprintf(log, sizeof(log), "%s/install.log", dir);
    for (attempt = 0;; attempt++) {
        int rc = run_quiet(install, log);
        char *rm[] = {"rm", "-rf", a_data + strlen("--datadir="), NULL};

        if (rc == 0)
            break;
        fprintf(stderr, "mariadb fixture: mariadb-install-db failed (status %d):\n", rc);
        dump_tail(log);
        if (attempt == 1)
            return -1;
        run_quiet(rm, "/dev/null"); /* once more, from scratch */
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (attempt = 0; attempt < 5; attempt++) {
        port = 20000 + rand() % 30000;
        if (launch() == 0)
            return port;
    }
    fprintf(stderr, "mariadb fixture: could not start mariadbd; the end of its log:\n");
    snprintf(log, sizeof(log), "%s/server.log", dir);
    dump_tail(log);
    port = -1;
    return -1;
}
