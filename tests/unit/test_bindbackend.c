/* test_bindbackend.c -- Check suite for services/writer-bind/bindbackend.c and rndc.c.
 *
 * "rndc" runs rndc.c against shell scripts (timeouts, parallelism, messages). "fake" drives the
 * backend with a fake rndc that logs its calls, to check which rndc commands a batch costs and
 * how failures are confined. "named" starts a real named on loopback ports in a temporary
 * directory (killed at exit, and by the kernel if this process dies) and checks with dig that
 * what the backend applies is what named serves. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha1.h>

#include "bindbackend.h"
#include "bindconf.h"
#include "bindinventory.h"
#include "change.h"
#include "config.h"
#include "err.h"
#include "rndc.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static char root[256];  /* mkdtemp directory of the whole run */
static pid_t main_pid;  /* the runner (Check forks a child per test) */
static pid_t named_pid; /* 0 when not running */
static int dns_port, ctl_port;
static char named_conf[512], rndc_conf[512], include_path[512], zones_dir[512];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* path - snprintf into a static-size buffer, failing the test on truncation. */
static void path(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void path(char *out, size_t outsz, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, outsz, fmt, ap);
    va_end(ap);
    ck_assert_msg(n > 0 && (size_t)n < outsz, "path too long");
}

/* put_file - write @text to @p; 0 or -1 (usable outside tests). */
static int put_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

static void write_file(const char *p, const char *text, mode_t mode)
{
    FILE *f = fopen(p, "w");

    ck_assert_msg(f != NULL, "cannot write %s: %s", p, strerror(errno));
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
}

/* future - set the mtime of @p @secs seconds ahead of now. */
static void future(const char *p, long secs)
{
    struct timespec ts[2];

    clock_gettime(CLOCK_REALTIME, &ts[1]);
    ts[1].tv_sec += secs;
    ts[0] = ts[1];
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* read_text - file content (malloc'ed, caller frees) or NULL when missing. */
static char *read_text(const char *p)
{
    FILE *f = fopen(p, "r");
    char *s;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = calloc(1, (size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    if (n > 0)
        ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

/* find_bin - absolute path of tool @name (one of a few), stable for the whole run. */
static const char *find_bin(const char *name)
{
    static const char *dirs[] = {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"};
    static struct {
        char name[32];
        char path[256];
    } cache[8];
    size_t i, k;

    for (k = 0; k < 8 && cache[k].name[0] != '\0'; k++) {
        if (strcmp(cache[k].name, name) == 0)
            return cache[k].path;
    }
    if (k == 8)
        return name;
    snprintf(cache[k].name, sizeof(cache[k].name), "%s", name);
    snprintf(cache[k].path, sizeof(cache[k].path), "%s", name);
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char p[256];

        snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
        if (access(p, X_OK) == 0) {
            snprintf(cache[k].path, sizeof(cache[k].path), "%s", p);
            break;
        }
    }
    return cache[k].path;
}

/* run - run @argv (no shell), output into @out (NUL terminated). Returns the exit status, or -1. */
static int run(char *const argv[], char *out, size_t outsz)
{
    int fds[2], status;
    size_t len = 0;
    ssize_t r;
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        char tmp[512];

        r = read(fds[0], tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (out != NULL && len + 1 < outsz) {
            size_t k = (size_t)r < outsz - 1 - len ? (size_t)r : outsz - 1 - len;
            memcpy(out + len, tmp, k);
            len += k;
        }
    }
    if (out != NULL && outsz > 0)
        out[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

/* port_free - true when TCP and UDP @port on 127.0.0.1 can be bound now. */
static int port_free(int port)
{
    static const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    struct sockaddr_in sa;
    size_t i;
    int ok = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 2 && ok; i++) {
        int fd = socket(AF_INET, types[i], 0);

        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            ok = 0;
        if (fd >= 0)
            close(fd);
    }
    return ok;
}

/* ---- named ------------------------------------------------------------------------------ */

static void stop_named(void)
{
    int i, status;

    if (getpid() != main_pid)
        return; /* a forked test child: not ours to stop */
    if (named_pid > 0) {
        kill(named_pid, SIGTERM);
        for (i = 0; i < 100; i++) {
            if (waitpid(named_pid, &status, WNOHANG) == named_pid)
                break;
            usleep(100000);
        }
        if (i == 100) {
            kill(named_pid, SIGKILL);
            waitpid(named_pid, &status, 0);
        }
        named_pid = 0;
    }
    if (root[0] != '\0' && getenv("DADNS_TEST_KEEP") == NULL)
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    root[0] = '\0';
}

static void write_named_conf(void)
{
    char text[4096], key[512];

    snprintf(key, sizeof(key), "%s/rndc.key", root);
    snprintf(text, sizeof(text),
             "options {\n"
             "  directory \"%s\";\n"
             "  listen-on port %d { 127.0.0.1; };\n"
             "  listen-on-v6 { none; };\n"
             "  pid-file \"%s/named.pid\";\n"
             "  session-keyfile \"%s/session.key\";\n"
             "  managed-keys-directory \"%s\";\n"
             "  recursion no;\n"
             "  dnssec-validation no;\n"
             "};\n"
             "include \"%s\";\n"
             "controls { inet 127.0.0.1 port %d allow { 127.0.0.1; } keys { \"rndc-key\"; }; };\n"
             "include \"%s\";\n",
             root, dns_port, root, root, root, key, ctl_port, include_path);
    put_file(named_conf, text);
    snprintf(text, sizeof(text),
             "include \"%s\";\n"
             "options { default-key \"rndc-key\"; default-server 127.0.0.1; default-port %d; };\n",
             key, ctl_port);
    put_file(rndc_conf, text);
}

/* start_named - one attempt on fresh random ports; 0 when named answers rndc status. */
static int start_named_once(void)
{
    char log[512], out[1024];
    char *status_argv[] = {(char *)find_bin("rndc"), "-c", rndc_conf, "status", NULL};
    int i, st;

    do {
        dns_port = 20000 + rand() % 40000;
        ctl_port = dns_port + 1;
    } while (!port_free(dns_port) || !port_free(ctl_port));
    write_named_conf();
    snprintf(log, sizeof(log), "%s/named.log", root);
    named_pid = fork();
    if (named_pid < 0)
        return -1;
    if (named_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test runner */
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(find_bin("named"), "named", "-g", "-c", named_conf, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 100; i++) {
        if (waitpid(named_pid, &st, WNOHANG) == named_pid) {
            named_pid = 0;
            return -1; /* died: port taken meanwhile, or a broken setup (see named.log) */
        }
        if (run(status_argv, out, sizeof(out)) == 0)
            return 0;
        usleep(100000);
    }
    return -1;
}

static int start_named(void)
{
    char key[512];
    char *keygen[] = {(char *)find_bin("rndc-confgen"),
                      "-a",
                      "-A",
                      "hmac-sha256",
                      "-k",
                      "rndc-key",
                      "-c",
                      key,
                      NULL};
    int attempt;

    main_pid = getpid();
    snprintf(root, sizeof(root), "/tmp/dadns-test-bindbackend-XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    atexit(stop_named);
    srand((unsigned)(time(NULL) ^ getpid()));
    snprintf(key, sizeof(key), "%s/rndc.key", root);
    snprintf(named_conf, sizeof(named_conf), "%s/named.conf", root);
    snprintf(rndc_conf, sizeof(rndc_conf), "%s/rndc.conf", root);
    snprintf(include_path, sizeof(include_path), "%s/dadns-zones.conf", root);
    snprintf(zones_dir, sizeof(zones_dir), "%s/zones", root);
    if (run(keygen, NULL, 0) != 0)
        return -1;
    if (put_file(include_path, "") != 0)
        return -1;
    for (attempt = 0; attempt < 5; attempt++) {
        if (start_named_once() == 0)
            return 0;
        if (named_pid > 0) {
            kill(named_pid, SIGKILL);
            waitpid(named_pid, NULL, 0);
            named_pid = 0;
        }
    }
    return -1;
}

/* serial - the SOA serial named serves for @zone, or -1 when it does not answer for it. */
static long serial(const char *zone)
{
    char port[16], out[1024];
    char *argv[] = {(char *)find_bin("dig"),
                    "@127.0.0.1",
                    "-p",
                    port,
                    "+short",
                    "+tries=1",
                    "+time=1",
                    (char *)zone,
                    "SOA",
                    NULL};
    char *p, *end;
    long s;

    snprintf(port, sizeof(port), "%d", dns_port);
    if (run(argv, out, sizeof(out)) != 0)
        return -1;
    /* "ns1.zone. hostmaster.zone. SERIAL ..." */
    p = strchr(out, ' ');
    if (p == NULL)
        return -1;
    p = strchr(p + 1, ' ');
    if (p == NULL)
        return -1;
    errno = 0;
    s = strtol(p + 1, &end, 10);
    if (errno != 0 || end == p + 1)
        return -1;
    return s;
}

/* wait_serial - true once named serves @want for @zone (-1: stops serving it), within 10 s. */
static int wait_serial(const char *zone, long want)
{
    double until = now_s() + 10;

    while (now_s() < until) {
        if (serial(zone) == want)
            return 1;
        usleep(20000);
    }
    return 0;
}

/* ---- changes ---------------------------------------------------------------------------- */

static char texts[64][512];

/* mk - fill @c as @op for @zone with a small valid zone of @ser (text kept in a slot). */
static void mk(struct change *c, enum change_op op, const char *zone, uint64_t version,
               uint32_t ser)
{
    static int slot;
    char *t = texts[slot++ % 64];

    memset(c, 0, sizeof(*c));
    c->op = op;
    snprintf(c->zone, sizeof(c->zone), "%s", zone);
    c->version = version;
    c->serial = ser;
    if (op == CHANGE_DELETE)
        return;
    snprintf(t, 512,
             "$TTL 300\n"
             "@ IN SOA ns1.%s. hostmaster.%s. %u 3600 600 86400 300\n"
             "@ IN NS ns1.%s.\n"
             "ns1 IN A 192.0.2.1\n"
             "www IN A 192.0.2.%u",
             zone, zone, ser, zone, ser % 250 + 1);
    c->text = t;
    c->text_len = strlen(t);
}

static void init_bc(struct backend_conf *bc, char *zdir, char *inc, char *rndc, char *rconf)
{
    memset(bc, 0, sizeof(*bc));
    bc->name = "bind";
    bc->type = BACKEND_BIND;
    bc->enabled = true;
    bc->zones_dir = zdir;
    bc->named_conf = inc;
    bc->rndc = rndc;
    bc->rndc_conf = rconf;
    bc->rndc_server = "";
    bc->rndc_port = 0;
    bc->rndc_parallel = 4;
}

static struct bindbackend *open_named_backend(struct backend_conf *bc)
{
    struct bindbackend *b = NULL;
    struct err e;

    init_bc(bc, zones_dir, include_path, (char *)find_bin("rndc"), rndc_conf);
    ck_assert_msg(bindbackend_open(bc, &b, &e) == 0, "open: %s", e.text);
    return b;
}

/* apply_ok - apply @c as the consumer builds a batch (results cleared: a change that arrives
 * failed is skipped), asserting that every change succeeds. */
static void apply_ok(struct bindbackend *b, struct change *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        c[i].result = 0;
        c[i].permanent = 0;
        c[i].repaired = 0;
        c[i].reason[0] = '\0';
    }
    ck_assert_int_eq(bindbackend_apply(b, c, n), 0);
    for (i = 0; i < n; i++)
        ck_assert_msg(c[i].result == 0, "%s: %d %s", c[i].zone, c[i].result, c[i].reason);
}

static int zone_file_exists(const char *dir, const char *zone)
{
    char p[1024];

    path(p, sizeof(p), "%s/%s.db", dir, zone);
    return access(p, F_OK) == 0;
}

static int include_lists(const char *inc, const char *zone)
{
    char want[600];
    char *text = read_text(inc);
    int found;

    ck_assert_ptr_nonnull(text);
    snprintf(want, sizeof(want), "zone \"%s\" {", zone);
    found = strstr(text, want) != NULL;
    free(text);
    return found;
}

/* ---- rndc.c against scripts ------------------------------------------------------------- */

static char script_dir[512];

static const char *script(const char *name, const char *body)
{
    static char p[4][600];
    static int k;
    char *s = p[k++ % 4], text[2048];

    if (script_dir[0] == '\0') {
        snprintf(script_dir, sizeof(script_dir), "%s/rndc-XXXXXX", root);
        ck_assert_ptr_nonnull(mkdtemp(script_dir));
    }
    snprintf(s, 600, "%s/%s", script_dir, name);
    snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
    write_file(s, text, 0755);
    return s;
}

static void script_cleanup(void)
{
    if (script_dir[0] != '\0')
        nftw(script_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    script_dir[0] = '\0';
}

static void rndc_for(struct rndc *r, const char *bin, int parallel)
{
    memset(r, 0, sizeof(*r));
    r->bin = bin;
    r->conf = "";
    r->server = "";
    r->parallel = parallel;
    r->reconfig_timeout_ms = 5000;
    r->reload_timeout_ms = 5000;
}

START_TEST(rndc_messages)
{
    struct rndc r;
    struct err e;

    rndc_for(&r, script("ok", "echo \"zone reload queued\""), 1);
    ck_assert_int_eq(rndc_reload_zone(&r, "a.test", &e), 0);
    rndc_for(&r,
             script("bad", "echo \"rndc: 'reload' failed: not found\" >&2\n"
                           "printf 'second\\tline\\n\\n' >&2\nexit 3"),
             1);
    ck_assert_int_eq(rndc_reload_zone(&r, "a.test", &e), DADNS_EBACKEND);
    ck_assert_str_eq(e.text, "rndc reload a.test: exit 3: rndc: 'reload' failed: not found; "
                             "second line");
    ck_assert_int_eq(rndc_reconfig(&r, &e), DADNS_EBACKEND);
    ck_assert_ptr_nonnull(strstr(e.text, "rndc reconfig: exit 3"));
    rndc_for(&r, "/nonexistent/rndc", 1);
    ck_assert_int_eq(rndc_reconfig(&r, &e), DADNS_EBACKEND);
    ck_assert_ptr_nonnull(strstr(e.text, "cannot run /nonexistent/rndc"));
    rndc_for(&r, script("silent", "exit 1"), 1);
    ck_assert_int_eq(rndc_reconfig(&r, &e), DADNS_EBACKEND);
    ck_assert_str_eq(e.text, "rndc reconfig: exit 1: (no output)");
    rndc_for(&r, script("sig", "kill -9 $$"), 1);
    ck_assert_int_eq(rndc_reconfig(&r, &e), DADNS_EBACKEND);
    ck_assert_ptr_nonnull(strstr(e.text, "killed by signal 9"));
    /* arguments are passed as they are, no shell in between */
    rndc_for(&r, script("args", "[ \"$#\" = 6 ] && [ \"$6\" = 'x y;z' ] && exit 0; exit 1"), 1);
    r.conf = "/etc/rndc conf";
    r.server = "::1";
    ck_assert_int_eq(rndc_reload_zone(&r, "x y;z", &e), 0);
    script_cleanup();
}
END_TEST

START_TEST(rndc_parallel_and_timeout)
{
    struct rndc_job jobs[8];
    struct rndc r;
    double t0, dt;
    size_t i;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < 8; i++)
        jobs[i].zone = i % 2 ? "odd.test" : "even.test";
    rndc_for(&r,
             script("slow", "sleep 0.3\n[ \"$2\" = odd.test ] && { echo no; exit 1; }\n"
                            "echo \"zone reload queued\""),
             4);
    t0 = now_s();
    ck_assert_uint_eq(rndc_reload_zones(&r, jobs, 8), 4);
    dt = now_s() - t0;
    ck_assert_msg(dt > 0.55 && dt < 3.0, "8 jobs of 0.3 s, 4 at once, took %.2f s", dt);
    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(jobs[i].result, i % 2 ? DADNS_EBACKEND : 0);
        ck_assert_str_eq(jobs[i].msg, i % 2 ? "exit 1: no" : "zone reload queued");
    }

    rndc_for(&r, script("hang", "exec sleep 30"), 2);
    r.reload_timeout_ms = 300;
    t0 = now_s();
    ck_assert_uint_eq(rndc_reload_zones(&r, jobs, 3), 3);
    dt = now_s() - t0;
    ck_assert_msg(dt < 2.0, "3 hung jobs with a 0.3 s timeout took %.2f s", dt);
    ck_assert_str_eq(jobs[0].msg, "timed out after 300 ms");
    ck_assert_uint_eq(rndc_reload_zones(&r, jobs, 0), 0);
    script_cleanup();
}
END_TEST

/* ---- the backend with a fake rndc ------------------------------------------------------- */

static char fake_dir[512], fake_zones[600], fake_inc[600], fake_calls[600];
static const char *fake_rndc;

static void fake_setup(void)
{
    char env[600];

    snprintf(fake_dir, sizeof(fake_dir), "%s/fake-XXXXXX", root);
    ck_assert_ptr_nonnull(mkdtemp(fake_dir));
    path(fake_zones, sizeof(fake_zones), "%s/var/zones", fake_dir);
    path(fake_inc, sizeof(fake_inc), "%s/zones.conf", fake_dir);
    path(fake_calls, sizeof(fake_calls), "%s/calls", fake_dir);
    path(env, sizeof(env), "%s", fake_dir);
    setenv("FAKE_DIR", env, 1);
    fake_rndc = script("fake-rndc",
                       "echo \"$*\" >> \"$FAKE_DIR/calls\"\n"
                       "for a in \"$@\"; do last=$a; done\n"
                       "if [ -e \"$FAKE_DIR/fail-$last\" ]; then cat \"$FAKE_DIR/fail-$last\"; "
                       "exit 1; fi\n"
                       "[ \"$1\" = reload ] && echo 'zone reload queued'\n"
                       "exit 0");
}

static void fake_teardown(void)
{
    nftw(fake_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    script_cleanup();
}

/* calls - the rndc calls logged since the last calls() (one per line), then forget them. */
static char *calls(void)
{
    static char buf[8192];
    char *t = read_text(fake_calls);

    snprintf(buf, sizeof(buf), "%s", t ? t : "");
    free(t);
    unlink(fake_calls);
    return buf;
}

static void fail_on(const char *what, const char *msg)
{
    char p[700];

    path(p, sizeof(p), "%s/fail-%s", fake_dir, what);
    if (msg == NULL)
        unlink(p);
    else
        write_file(p, msg, 0644);
}

static struct bindbackend *open_fake(struct backend_conf *bc)
{
    struct bindbackend *b = NULL;
    struct err e;

    init_bc(bc, fake_zones, fake_inc, (char *)fake_rndc, "");
    ck_assert_msg(bindbackend_open(bc, &b, &e) == 0, "open: %s", e.text);
    return b;
}

START_TEST(fake_batches_cost)
{
    struct backend_conf bc;
    struct bindbackend *b;
    struct change c[3];
    char *inc, tmp[700], tmp2[700], keep[700];
    struct stat st1, st2;

    /* a leftover temporary file goes at open; the missing include is created, empty */
    path(tmp, sizeof(tmp), "%s/var", fake_dir);
    ck_assert_int_eq(mkdir(tmp, 0700), 0);
    ck_assert_int_eq(mkdir(fake_zones, 0700), 0);
    path(tmp, sizeof(tmp), "%s/.x.test.db.tmp.999", fake_zones);
    write_file(tmp, "junk", 0644);
    path(tmp2, sizeof(tmp2), "%s/.zones.conf.tmp.999", fake_dir);
    write_file(tmp2, "junk", 0644);
    path(keep, sizeof(keep), "%s/.other.tmp.999", fake_dir);
    write_file(keep, "not ours", 0644);
    b = open_fake(&bc);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    ck_assert_int_ne(access(tmp2, F_OK), 0);
    ck_assert_int_eq(access(keep, F_OK), 0);
    inc = read_text(fake_inc);
    ck_assert_str_eq(inc, "// Generated by dadns-writer-bind: one line per live zone, sorted. "
                          "Do not edit;\n// this file is overwritten whenever a zone is added "
                          "or removed.\n");
    free(inc);
    ck_assert_uint_eq(bindbackend_zone_count(b), 0);

    /* three new zones: one reconfig, no reload */
    mk(&c[0], CHANGE_SAVE, "c.test", 1, 1);
    mk(&c[1], CHANGE_SAVE, "a.test", 1, 1);
    mk(&c[2], CHANGE_SAVE, "b.test", 1, 1);
    apply_ok(b, c, 3);
    ck_assert_str_eq(calls(), "reconfig\n");
    inc = read_text(fake_inc);
    ck_assert_ptr_nonnull(strstr(inc, "zone \"a.test\" { type primary; file \""));
    ck_assert(strstr(inc, "\"a.test\"") < strstr(inc, "\"b.test\""));
    ck_assert(strstr(inc, "\"b.test\"") < strstr(inc, "\"c.test\""));
    free(inc);
    path(tmp, sizeof(tmp), "%s/a.test.db", fake_zones);
    inc = read_text(tmp);
    ck_assert_ptr_nonnull(inc);
    /* the text pushed lacks a final newline: the file adds one and the header says so */
    ck_assert_int_eq(
        strncmp(inc, "; zone a.test version 1 serial 1 nl=1 written by dadns\n$TTL 300\n", 63), 0);
    ck_assert_int_eq(inc[strlen(inc) - 1], '\n');
    free(inc);

    /* updates of known zones: reloads only; an exact VERIFY: nothing at all, file untouched */
    ck_assert_int_eq(stat(tmp, &st1), 0);
    mk(&c[0], CHANGE_SAVE, "b.test", 2, 2);
    mk(&c[1], CHANGE_VERIFY, "a.test", 1, 1);
    mk(&c[2], CHANGE_SAVE, "c.test", 2, 2);
    apply_ok(b, c, 3);
    ck_assert_int_eq(c[1].repaired, 0);
    {
        char *got = calls();
        ck_assert_msg(strstr(got, "reload b.test\n") && strstr(got, "reload c.test\n") &&
                          strlen(got) == strlen("reload b.test\nreload c.test\n"),
                      "calls: %s", got);
    }
    ck_assert_int_eq(stat(tmp, &st2), 0);
    ck_assert_int_eq(st1.st_ino, st2.st_ino);

    /* a rewrite gets an mtime after the file it replaces even when the clock says otherwise
     * (same clock tick, clock stepped back): named would ignore the reload (see newer_than) */
    path(tmp, sizeof(tmp), "%s/b.test.db", fake_zones);
    future(tmp, 3600);
    ck_assert_int_eq(stat(tmp, &st1), 0);
    mk(&c[0], CHANGE_SAVE, "b.test", 3, 3);
    apply_ok(b, c, 1);
    ck_assert_int_eq(stat(tmp, &st2), 0);
    ck_assert(
        st2.st_mtim.tv_sec > st1.st_mtim.tv_sec ||
        (st2.st_mtim.tv_sec == st1.st_mtim.tv_sec && st2.st_mtim.tv_nsec > st1.st_mtim.tv_nsec));
    ck_assert(st2.st_mtim.tv_sec < st1.st_mtim.tv_sec + 2);
    calls();

    /* a VERIFY that finds the file changed rewrites it and reloads */
    path(tmp, sizeof(tmp), "%s/a.test.db", fake_zones);
    write_file(tmp, "tampered\n", 0644);
    mk(&c[0], CHANGE_VERIFY, "a.test", 1, 1);
    apply_ok(b, c, 1);
    ck_assert_int_eq(c[0].repaired, 1);
    ck_assert_str_eq(calls(), "reload a.test\n");
    inc = read_text(tmp);
    ck_assert_int_eq(strncmp(inc, "; zone a.test version 1", 23), 0);
    free(inc);

    /* a VERIFY of a zone the backend lost adds it back */
    mk(&c[0], CHANGE_VERIFY, "lost.test", 5, 5);
    apply_ok(b, c, 1);
    ck_assert_int_eq(c[0].repaired, 1);
    ck_assert_str_eq(calls(), "reconfig\n");
    ck_assert(include_lists(fake_inc, "lost.test"));

    /* a new backend reads the include back */
    bindbackend_free(b);
    b = open_fake(&bc);
    ck_assert_uint_eq(bindbackend_zone_count(b), 4);
    bindbackend_free(b);
}
END_TEST

START_TEST(fake_failures_are_confined)
{
    struct backend_conf bc;
    struct bindbackend *b;
    struct change c[4];
    char dirpath[700];

    b = open_fake(&bc);
    mk(&c[0], CHANGE_SAVE, "k1.test", 1, 1);
    mk(&c[1], CHANGE_SAVE, "k2.test", 1, 1);
    apply_ok(b, c, 2);
    calls();

    /* reconfig fails: the new zone fails with rndc's message; the known zone's reload works;
     * a bad name and an unwritable file fail alone */
    fail_on("reconfig", "rndc: connect failed: 127.0.0.1#953: connection refused\n");
    path(dirpath, sizeof(dirpath), "%s/blocked.test.db", fake_zones);
    ck_assert_int_eq(mkdir(dirpath, 0755), 0);
    mk(&c[0], CHANGE_SAVE, "new.test", 1, 1);
    mk(&c[1], CHANGE_SAVE, "k1.test", 2, 2);
    mk(&c[2], CHANGE_SAVE, "Bad.Test", 1, 1);
    mk(&c[3], CHANGE_SAVE, "blocked.test", 1, 1);
    ck_assert_int_eq(bindbackend_apply(b, c, 4), 0);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    ck_assert_msg(strstr(c[0].reason, "rndc reconfig: exit 1: rndc: connect failed") != NULL,
                  "reason: %s", c[0].reason);
    ck_assert_int_eq(c[1].result, 0);
    ck_assert_int_eq(c[2].result, DADNS_ENAME);
    ck_assert_int_eq(c[3].result, DADNS_EIO);
    ck_assert_ptr_nonnull(strstr(c[3].reason, "blocked.test.db"));
    ck_assert(include_lists(fake_inc, "new.test")); /* the include already has it */
    ck_assert(!include_lists(fake_inc, "blocked.test"));
    ck_assert_str_eq(calls(), "reconfig\nreload k1.test\n");

    /* while reconfig fails, a delete fails and keeps the file; the retry of the new zone
     * fails again (named still lacks it) */
    mk(&c[0], CHANGE_DELETE, "k2.test", 2, 0);
    mk(&c[1], CHANGE_SAVE, "new.test", 1, 1);
    ck_assert_int_eq(bindbackend_apply(b, c, 2), 0);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    ck_assert_int_eq(c[1].result, DADNS_EBACKEND);
    ck_assert(zone_file_exists(fake_zones, "k2.test"));
    ck_assert(!include_lists(fake_inc, "k2.test"));
    calls();

    /* named is back: the retried changes go through with one reconfig; the file goes */
    fail_on("reconfig", NULL);
    apply_ok(b, c, 2);
    ck_assert_str_eq(calls(), "reconfig\n");
    ck_assert(!zone_file_exists(fake_zones, "k2.test"));
    ck_assert(zone_file_exists(fake_zones, "new.test"));

    /* a reload failure fails only its zone */
    fail_on("k1.test", "rndc: 'reload' failed: bad zone\n");
    mk(&c[0], CHANGE_SAVE, "k1.test", 3, 3);
    mk(&c[1], CHANGE_SAVE, "new.test", 2, 2);
    ck_assert_int_eq(bindbackend_apply(b, c, 2), 0);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    ck_assert_str_eq(c[0].reason, "rndc reload k1.test: exit 1: rndc: 'reload' failed: bad zone");
    ck_assert_int_eq(c[1].result, 0);
    fail_on("k1.test", NULL);
    calls();

    /* deleting what is not there succeeds without rndc */
    mk(&c[0], CHANGE_DELETE, "never.test", 1, 0);
    apply_ok(b, c, 1);
    ck_assert_str_eq(calls(), "");

    /* deleted in a failed batch, then saved again: named kept the old copy, so it is reloaded */
    fail_on("reconfig", "down\n");
    mk(&c[0], CHANGE_DELETE, "new.test", 3, 0);
    bindbackend_apply(b, c, 1);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    fail_on("reconfig", NULL);
    calls();
    mk(&c[0], CHANGE_SAVE, "new.test", 4, 4);
    apply_ok(b, c, 1);
    ck_assert_str_eq(calls(), "reconfig\nreload new.test\n");
    bindbackend_free(b);
}
END_TEST

/* include_drop - rewrite the include @inc in place without the line of @zone (by hand). */
static void include_drop(const char *inc, const char *zone)
{
    char want[600], *text = read_text(inc), *line, *next;
    char out[65536];
    size_t off = 0;

    ck_assert_ptr_nonnull(text);
    snprintf(want, sizeof(want), "zone \"%s\" {", zone);
    out[0] = '\0';
    for (line = text; *line != '\0'; line = next) {
        size_t len;

        next = strchr(line, '\n');
        next = next != NULL ? next + 1 : line + strlen(line);
        len = (size_t)(next - line);
        if (strncmp(line, want, strlen(want)) == 0)
            continue;
        ck_assert_uint_lt(off + len, sizeof(out));
        memcpy(out + off, line, len);
        off += len;
        out[off] = '\0';
    }
    write_file(inc, out, 0644);
    free(text);
}

/* include_add - append the line of @zone (files in @dir) to the include @inc (by hand). */
static void include_add(const char *inc, const char *dir, const char *zone)
{
    char *text = read_text(inc), out[65536];

    ck_assert_ptr_nonnull(text);
    snprintf(out, sizeof(out), "%szone \"%s\" { type primary; file \"%s/%s.db\"; };\n", text, zone,
             dir, zone);
    write_file(inc, out, 0644);
    free(text);
}

START_TEST(fake_arrives_failed)
{
    struct backend_conf bc;
    struct bindbackend *b;
    struct change c[2];

    b = open_fake(&bc);
    mk(&c[0], CHANGE_SAVE, "ok.test", 1, 1);
    apply_ok(b, c, 1);
    calls();
    /* the consumer could not build it (a state without text): left as it came, nothing
     * written, not even an empty zone file; the others go on */
    mk(&c[0], CHANGE_SAVE, "notext.test", 1, 1);
    c[0].text = NULL;
    c[0].text_len = 0;
    c[0].result = DADNS_EREPLY;
    snprintf(c[0].reason, sizeof(c[0].reason), "stored state has no zone text");
    mk(&c[1], CHANGE_SAVE, "ok.test", 2, 2);
    ck_assert_int_eq(bindbackend_apply(b, c, 2), 0);
    ck_assert_int_eq(c[0].result, DADNS_EREPLY);
    ck_assert_str_eq(c[0].reason, "stored state has no zone text");
    ck_assert_int_eq(c[1].result, 0);
    ck_assert(!zone_file_exists(fake_zones, "notext.test"));
    ck_assert(!include_lists(fake_inc, "notext.test"));
    ck_assert_str_eq(calls(), "reload ok.test\n");
    /* alone: no rndc at all */
    ck_assert_int_eq(bindbackend_apply(b, c, 1), 0);
    ck_assert_int_eq(c[0].result, DADNS_EREPLY);
    ck_assert_str_eq(calls(), "");
    bindbackend_free(b);
}
END_TEST

START_TEST(fake_include_repaired)
{
    struct backend_conf bc;
    struct bindbackend *b;
    struct change c[2];
    char p[700];
    struct stat st1, st2;

    b = open_fake(&bc);
    mk(&c[0], CHANGE_SAVE, "a.test", 1, 1);
    mk(&c[1], CHANGE_SAVE, "b.test", 1, 1);
    apply_ok(b, c, 2);
    ck_assert_str_eq(calls(), "reconfig\n");

    /* a forced SAVE of the version the backend has: the file is rewritten and reloaded */
    path(p, sizeof(p), "%s/a.test.db", fake_zones);
    ck_assert_int_eq(stat(p, &st1), 0);
    mk(&c[0], CHANGE_SAVE, "a.test", 1, 1);
    c[0].force = 1;
    apply_ok(b, c, 1);
    ck_assert_int_eq(stat(p, &st2), 0);
    ck_assert_int_ne(st1.st_ino, st2.st_ino);
    ck_assert_str_eq(calls(), "reload a.test\n");

    /* the include loses a.test behind the backend's back: the next batch, forced or not,
     * puts it back with a reconfig, and reloads what it writes (named may keep old copies) */
    include_drop(fake_inc, "a.test");
    ck_assert(!include_lists(fake_inc, "a.test"));
    mk(&c[0], CHANGE_SAVE, "b.test", 2, 2);
    apply_ok(b, c, 1);
    ck_assert(include_lists(fake_inc, "a.test"));
    ck_assert(include_lists(fake_inc, "b.test"));
    ck_assert_str_eq(calls(), "reconfig\nreload b.test\n");
    /* the include is right again: nothing more */
    mk(&c[0], CHANGE_SAVE, "b.test", 3, 3);
    apply_ok(b, c, 1);
    ck_assert_str_eq(calls(), "reload b.test\n");

    /* the include deleted: written again */
    ck_assert_int_eq(unlink(fake_inc), 0);
    mk(&c[0], CHANGE_SAVE, "a.test", 2, 2);
    c[0].force = 1;
    apply_ok(b, c, 1);
    ck_assert(include_lists(fake_inc, "a.test"));
    ck_assert(include_lists(fake_inc, "b.test"));
    ck_assert_str_eq(calls(), "reconfig\nreload a.test\n");

    /* while the reconfig fails, the repair fails the batch's changes and is tried again */
    include_drop(fake_inc, "b.test");
    fail_on("reconfig", "down\n");
    mk(&c[0], CHANGE_SAVE, "a.test", 3, 3);
    ck_assert_int_eq(bindbackend_apply(b, c, 1), 0);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    fail_on("reconfig", NULL);
    calls();
    apply_ok(b, c, 1);
    ck_assert(include_lists(fake_inc, "b.test"));
    ck_assert_str_eq(calls(), "reconfig\nreload a.test\n");

    /* a forced DELETE of a zone the backend's memory says is gone: its include line (put
     * back by hand) and its file go */
    include_add(fake_inc, fake_zones, "ghost.test");
    path(p, sizeof(p), "%s/ghost.test.db", fake_zones);
    write_file(p, "; leftover\n", 0644);
    mk(&c[0], CHANGE_DELETE, "ghost.test", 4, 0);
    c[0].force = 1;
    apply_ok(b, c, 1);
    ck_assert(!include_lists(fake_inc, "ghost.test"));
    ck_assert(!zone_file_exists(fake_zones, "ghost.test"));
    ck_assert_str_eq(calls(), "reconfig\n");
    /* only the file left: it goes, without rndc */
    write_file(p, "; leftover\n", 0644);
    apply_ok(b, c, 1);
    ck_assert(!zone_file_exists(fake_zones, "ghost.test"));
    ck_assert_str_eq(calls(), "");
    ck_assert_uint_eq(bindbackend_zone_count(b), 2);
    bindbackend_free(b);
}
END_TEST

START_TEST(fake_open_errors)
{
    struct backend_conf bc;
    struct bindbackend *b = NULL;
    struct err e;

    write_file(fake_inc,
               "// ok\nzone \"a.test\" { type primary; file \"/somewhere/else/a.test.db\"; };\n",
               0644);
    init_bc(&bc, fake_zones, fake_inc, (char *)fake_rndc, "");
    ck_assert_int_eq(bindbackend_open(&bc, &b, &e), DADNS_ECONFIG);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(e.line, 2);
    ck_assert_msg(strstr(e.text, "zones.conf:2:") != NULL, "%s", e.text);

    bc.zones_dir = "relative/zones";
    ck_assert_int_eq(bindbackend_open(&bc, &b, &e), DADNS_ECONFIG);
    ck_assert_ptr_nonnull(strstr(e.text, "absolute"));
    bc.zones_dir = fake_zones;
    bc.named_conf = "/nonexistent-dir/zones.conf";
    ck_assert_int_eq(bindbackend_open(&bc, &b, &e), DADNS_EIO);
    ck_assert_ptr_nonnull(strstr(e.text, "/nonexistent-dir"));
    bindbackend_free(NULL);
}
END_TEST

/* ---- the backend with a real named ------------------------------------------------------ */

START_TEST(named_save_update_delete)
{
    struct backend_conf bc;
    struct bindbackend *b = open_named_backend(&bc);
    struct change c[1];
    uint32_t s;

    mk(&c[0], CHANGE_SAVE, "alpha.test", 1, 1);
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("alpha.test", 1), "alpha.test not served");
    /* quick successive updates: each must be served (same-second / same-tick rewrites) */
    for (s = 2; s <= 8; s++) {
        mk(&c[0], CHANGE_SAVE, "alpha.test", s, s);
        apply_ok(b, c, 1);
        ck_assert_msg(wait_serial("alpha.test", s), "serial %u not served (got %ld)", s,
                      serial("alpha.test"));
    }
    /* named loaded a future-dated file (as after the clock stepped back): rewrites are still
     * served */
    {
        char p[1024];
        char *argv[] = {(char *)find_bin("rndc"), "-c", rndc_conf, "reload", "alpha.test", NULL};

        path(p, sizeof(p), "%s/alpha.test.db", zones_dir);
        future(p, 3600);
        ck_assert_int_eq(run(argv, NULL, 0), 0);
        usleep(200000);
    }
    mk(&c[0], CHANGE_SAVE, "alpha.test", 9, 9);
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("alpha.test", 9), "serial 9 not served (got %ld)",
                  serial("alpha.test"));
    mk(&c[0], CHANGE_DELETE, "alpha.test", 10, 0);
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("alpha.test", -1), "alpha.test still served");
    ck_assert(!zone_file_exists(zones_dir, "alpha.test"));
    ck_assert(!include_lists(include_path, "alpha.test"));
    apply_ok(b, c, 1); /* again: nothing to do */
    bindbackend_free(b);
}
END_TEST

START_TEST(named_verify_repairs)
{
    struct backend_conf bc;
    struct bindbackend *b = open_named_backend(&bc);
    struct change c[2];
    char p[1024];

    mk(&c[0], CHANGE_SAVE, "beta.test", 1, 10);
    apply_ok(b, c, 1);
    ck_assert(wait_serial("beta.test", 10));
    mk(&c[0], CHANGE_VERIFY, "beta.test", 1, 10);
    apply_ok(b, c, 1);
    ck_assert_int_eq(c[0].repaired, 0);
    /* someone edits the file and named loads it: VERIFY puts ours back */
    path(p, sizeof(p), "%s/beta.test.db", zones_dir);
    write_file(p,
               "$TTL 60\n@ IN SOA ns1.beta.test. h.beta.test. 99 1 1 1 1\n@ IN NS ns1\n"
               "ns1 IN A 192.0.2.9\n",
               0644);
    {
        char *argv[] = {(char *)find_bin("rndc"), "-c", rndc_conf, "reload", "beta.test", NULL};
        ck_assert_int_eq(run(argv, NULL, 0), 0);
    }
    ck_assert(wait_serial("beta.test", 99));
    apply_ok(b, c, 1);
    ck_assert_int_eq(c[0].repaired, 1);
    ck_assert_msg(wait_serial("beta.test", 10), "repaired zone not served");
    /* a zone the backend never had is added by VERIFY */
    mk(&c[1], CHANGE_VERIFY, "gamma.test", 3, 30);
    apply_ok(b, &c[1], 1);
    ck_assert_int_eq(c[1].repaired, 1);
    ck_assert(wait_serial("gamma.test", 30));
    bindbackend_free(b);
}
END_TEST

START_TEST(named_many_new_zones)
{
    enum { N = 2000 };
    struct backend_conf bc;
    struct bindbackend *b = open_named_backend(&bc);
    struct change *c = calloc(N, sizeof(*c));
    char *text = malloc((size_t)N * 200), name[64];
    double t0, t1;
    size_t i;

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(text);
    for (i = 0; i < N; i++) {
        char *t = text + i * 200;

        snprintf(name, sizeof(name), "bulk%zu.test", i);
        c[i].op = CHANGE_SAVE;
        snprintf(c[i].zone, sizeof(c[i].zone), "%s", name);
        c[i].version = 1;
        c[i].serial = 7;
        snprintf(t, 200, "$TTL 300\n@ SOA ns1 h 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n");
        c[i].text = t;
        c[i].text_len = strlen(t);
    }
    t0 = now_s();
    apply_ok(b, c, N);
    t1 = now_s();
    ck_assert_msg(wait_serial("bulk1999.test", 7), "last bulk zone not served");
    ck_assert(wait_serial("bulk0.test", 7));
    ck_assert(wait_serial("bulk1000.test", 7));
    fprintf(stderr, "bindbackend: %d new zones: apply %.2f s, served after %.2f s\n", N, t1 - t0,
            now_s() - t0);
    ck_assert_uint_ge(bindbackend_zone_count(b), N);
    /* and all go again in one batch */
    for (i = 0; i < N; i++)
        c[i].op = CHANGE_DELETE;
    apply_ok(b, c, N);
    ck_assert(wait_serial("bulk1999.test", -1));
    ck_assert(!zone_file_exists(zones_dir, "bulk0.test"));
    free(c);
    free(text);
    bindbackend_free(b);
}
END_TEST

/* rndc_by_hand - run "rndc @cmd [@zone]" against the test's named, as an operator would. */
static void rndc_by_hand(const char *cmd, const char *zone)
{
    char *argv[] = {(char *)find_bin("rndc"), "-c", rndc_conf, (char *)cmd, (char *)zone, NULL};

    ck_assert_int_eq(run(argv, NULL, 0), 0);
}

START_TEST(named_forced_repairs)
{
    struct backend_conf bc;
    struct bindbackend *b = open_named_backend(&bc);
    struct change c[1];
    char p[1024];

    mk(&c[0], CHANGE_SAVE, "eta.test", 1, 1);
    apply_ok(b, c, 1);
    ck_assert(wait_serial("eta.test", 1));

    /* the include loses the zone and named is reconfigured by hand: a forced SAVE of the same
     * version brings it back (include line, reconfig, and a reload right after it) */
    include_drop(include_path, "eta.test");
    rndc_by_hand("reconfig", NULL);
    ck_assert(wait_serial("eta.test", -1));
    mk(&c[0], CHANGE_SAVE, "eta.test", 1, 1);
    c[0].force = 1;
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("eta.test", 1), "eta.test not served again");
    ck_assert(include_lists(include_path, "eta.test"));

    /* the include loses it and named is not told: the include is repaired, and the new file
     * reloaded although a reconfig alone would keep named's old copy */
    include_drop(include_path, "eta.test");
    mk(&c[0], CHANGE_SAVE, "eta.test", 2, 2);
    c[0].force = 1;
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("eta.test", 2), "serial 2 not served (got %ld)", serial("eta.test"));
    ck_assert(include_lists(include_path, "eta.test"));

    /* the file edited and loaded by hand: a forced SAVE of the same version puts ours back */
    path(p, sizeof(p), "%s/eta.test.db", zones_dir);
    write_file(p,
               "$TTL 60\n@ IN SOA ns1.eta.test. h.eta.test. 77 1 1 1 1\n@ IN NS ns1\n"
               "ns1 IN A 192.0.2.9\n",
               0644);
    rndc_by_hand("reload", "eta.test");
    ck_assert(wait_serial("eta.test", 77));
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("eta.test", 2), "serial 2 not back (got %ld)", serial("eta.test"));

    /* deleted; then put back by hand (include line, file, reconfig): a forced DELETE removes
     * it although the backend's memory says it is gone */
    mk(&c[0], CHANGE_DELETE, "eta.test", 3, 0);
    apply_ok(b, c, 1);
    ck_assert(wait_serial("eta.test", -1));
    write_file(p,
               "$TTL 60\n@ IN SOA ns1.eta.test. h.eta.test. 5 1 1 1 1\n@ IN NS ns1\n"
               "ns1 IN A 192.0.2.9\n",
               0644);
    include_add(include_path, zones_dir, "eta.test");
    rndc_by_hand("reconfig", NULL);
    ck_assert(wait_serial("eta.test", 5));
    c[0].force = 1;
    apply_ok(b, c, 1);
    ck_assert_msg(wait_serial("eta.test", -1), "eta.test still served");
    ck_assert(!include_lists(include_path, "eta.test"));
    ck_assert(!zone_file_exists(zones_dir, "eta.test"));
    bindbackend_free(b);
}
END_TEST

START_TEST(named_unreachable_then_back)
{
    struct backend_conf bc;
    struct bindbackend *b;
    struct change c[2];
    char switch_conf[600], *good;

    /* rndc's config is a file we can break and repair under the backend */
    path(switch_conf, sizeof(switch_conf), "%s/rndc-switch.conf", root);
    good = read_text(rndc_conf);
    write_file(switch_conf, good, 0644);
    init_bc(&bc, zones_dir, include_path, (char *)find_bin("rndc"), switch_conf);
    {
        struct err e;
        ck_assert_int_eq(bindbackend_open(&bc, &b, &e), 0);
    }
    mk(&c[0], CHANGE_SAVE, "delta.test", 1, 1);
    apply_ok(b, c, 1);
    ck_assert(wait_serial("delta.test", 1));

    write_file(switch_conf, "options { default-server 127.0.0.1; default-port 1; };\n", 0644);
    mk(&c[0], CHANGE_SAVE, "epsilon.test", 1, 1);
    mk(&c[1], CHANGE_SAVE, "delta.test", 2, 2);
    /* every change failed on rndc and "rndc status" fails too: a whole-batch failure */
    ck_assert_int_eq(bindbackend_apply(b, c, 2), DADNS_EBACKEND);
    ck_assert_int_eq(c[0].result, DADNS_EBACKEND);
    ck_assert_ptr_nonnull(strstr(c[0].reason, "rndc reconfig"));
    ck_assert_int_eq(c[1].result, DADNS_EBACKEND);
    ck_assert_msg(strstr(c[1].reason, "rndc reload delta.test") != NULL, "reason: %s", c[1].reason);

    write_file(switch_conf, good, 0644);
    apply_ok(b, c, 2);
    ck_assert(wait_serial("epsilon.test", 1));
    ck_assert(wait_serial("delta.test", 2));
    free(good);
    bindbackend_free(b);
}
END_TEST

/* ---- the inventory (bindinventory.c, soaquery.c) against the real named --------------------- */

/* A collected inventory. */
struct inv_list {
    struct held_zone *v;
    size_t n, cap;
    size_t stop_after; /* collect() returns 7 after this many (0 = never) */
};

static int collect(void *arg, const struct held_zone *z)
{
    struct inv_list *l = arg;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        ck_assert_ptr_nonnull(l->v);
    }
    l->v[l->n++] = *z;
    return l->stop_after > 0 && l->n >= l->stop_after ? 7 : 0;
}

static const struct held_zone *inv_find(const struct inv_list *l, const char *zone)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].zone, zone) == 0)
            return &l->v[i];
    }
    return NULL;
}

static void sha1_hex(const char *text, size_t len, char out[41])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    size_t i;

    sha1_init(&c);
    sha1_update(&c, len, (const uint8_t *)text);
    sha1_digest(&c, sizeof(d), d);
    for (i = 0; i < sizeof(d); i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[40] = '\0';
}

/* inv_text - a zone text for @zone with serial @ser, ending with a newline (static slot). */
static const char *inv_text(const char *zone, uint32_t ser)
{
    static char slots[8][512];
    static int k;
    char *t = slots[k++ % 8];

    snprintf(t, 512,
             "$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. %u 3600 600 86400 300\n@ IN NS ns1.%s.\n"
             "ns1 IN A 192.0.2.1\n",
             zone, zone, ser, zone);
    return t;
}

static void inv_save(struct change *c, const char *zone, uint64_t version, uint32_t ser,
                     const char *text)
{
    memset(c, 0, sizeof(*c));
    c->op = CHANGE_SAVE;
    snprintf(c->zone, sizeof(c->zone), "%s", zone);
    c->version = version;
    c->serial = ser;
    c->text = text;
    c->text_len = strlen(text);
}

START_TEST(inventory_header_line)
{
    static const char good[] = "; zone a.test version 12 serial 2024 written by dadns\n$TTL 1\n";
    static const char nl[] = "; zone a.test version 13 serial 2025 nl=1 written by dadns\n$TTL 1\n";
    uint64_t v = 99;
    int added = 7;

    ck_assert_uint_eq(bindinventory_header("a.test", good, strlen(good), &v, &added),
                      strlen(good) - 7);
    ck_assert_uint_eq(v, 12);
    ck_assert_int_eq(added, 0); /* no token: nothing added (and files from before the token) */
    ck_assert_uint_eq(bindinventory_header("a.test", nl, strlen(nl), &v, &added), strlen(nl) - 7);
    ck_assert_uint_eq(v, 13);
    ck_assert_int_eq(added, 1);
    ck_assert_uint_eq(bindinventory_header("a.test", nl, strlen(nl), &v, NULL), strlen(nl) - 7);
    /* another zone's header, a cut line, junk, a huge version, leading zero, an unknown
     * token: no header */
    ck_assert_uint_eq(bindinventory_header("b.test", nl, strlen(nl), &v, &added), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(added, 0);
    ck_assert_uint_eq(bindinventory_header("a.test", good, 30, &v, &added), 0);
    ck_assert_uint_eq(bindinventory_header("a.test", "$TTL 1\n", 7, &v, &added), 0);
    ck_assert_uint_eq(
        bindinventory_header("a.test",
                             "; zone a.test version 99999999999999999999 serial 1 written by "
                             "dadns\n",
                             71, &v, &added),
        0);
    ck_assert_uint_eq(bindinventory_header("a.test",
                                           "; zone a.test version 01 serial 1 written by dadns\n",
                                           51, &v, &added),
                      0);
    ck_assert_uint_eq(bindinventory_header("a.test",
                                           "; zone a.test version 1 serial 4294967296 written by "
                                           "dadns\n",
                                           61, &v, &added),
                      0);
    ck_assert_uint_eq(bindinventory_header("a.test",
                                           "; zone a.test version 1 serial 1 nl=2 written by "
                                           "dadns\n",
                                           55, &v, &added),
                      0);
}
END_TEST

START_TEST(named_inventory)
{
    struct backend_conf bc;
    struct bindbackend *b = open_named_backend(&bc);
    struct bindinventory_stats st;
    struct inv_list l = {0};
    const struct held_zone *h;
    struct change c[5];
    char want[41], p[1024], *content;
    const char *t1 = inv_text("inv1.test", 101), *t2 = inv_text("inv2.test", 102),
               *t3 = inv_text("inv3.test", 103);
    static const char nonl[] = "$TTL 300\n@ SOA ns1.inv4.test. h.inv4.test. 104 1 1 1 1\n"
                               "@ NS ns1.inv4.test.\nns1 A 192.0.2.4";
    static const char broken[] = "$TTL 300\n@ SOA ns1.invbad.test. h.invbad.test. 1 1 1 1 1\n"
                                 "@ NS ns1.invbad.test.\nns1 IN A 192.0.2.300\n";
    struct err e;

    bc.query_addr = "127.0.0.1";
    bc.query_port = dns_port;
    inv_save(&c[0], "inv1.test", 11, 101, t1);
    inv_save(&c[1], "inv2.test", 12, 102, t2);
    inv_save(&c[2], "inv3.test", 13, 103, t3);
    inv_save(&c[3], "inv4.test", 14, 104, nonl);
    inv_save(&c[4], "invbad.test", 15, 1, broken);
    ck_assert_int_eq(bindbackend_apply(b, c, 5), 0);
    ck_assert(wait_serial("inv1.test", 101));
    ck_assert(wait_serial("inv2.test", 102));
    ck_assert(wait_serial("inv3.test", 103));
    ck_assert(wait_serial("inv4.test", 104));

    ck_assert_int_eq(bindinventory_run(&bc, NULL, collect, &l, &st, &e), 0);
    ck_assert_uint_eq(st.zones, l.n);
    ck_assert_uint_ge(l.n, 5);
    for (size_t i = 1; i < l.n; i++) /* in name order */
        ck_assert_int_lt(strcmp(l.v[i - 1].zone, l.v[i].zone), 0);
    h = inv_find(&l, "inv1.test");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->has_serial, 1);
    ck_assert_uint_eq(h->serial, 101);
    ck_assert_uint_eq(h->version, 11);
    ck_assert_int_eq(h->managed, 1);
    sha1_hex(t1, strlen(t1), want);
    ck_assert_str_eq(h->digest, want); /* the store's digest of the text */
    h = inv_find(&l, "inv2.test");
    ck_assert_uint_eq(h->serial, 102);
    sha1_hex(t2, strlen(t2), want);
    ck_assert_str_eq(h->digest, want);
    /* a text without a final newline: the file has one more octet, which the header line
     * records (nl=1) and the digest leaves out: still the store's digest of the text */
    h = inv_find(&l, "inv4.test");
    ck_assert_uint_eq(h->serial, 104);
    sha1_hex(nonl, strlen(nonl), want);
    ck_assert_str_eq(h->digest, want);
    ck_assert_uint_eq(h->version, 14);
    /* named could not load it: listed, no serial */
    h = inv_find(&l, "invbad.test");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->has_serial, 0);
    ck_assert_uint_eq(h->version, 15);
    ck_assert_int_eq(h->managed, 1);

    /* behind dadns's back: inv2's file edited (header kept), inv3's file deleted, a stray
     * file in zones_dir (not reported: not in the include) */
    path(p, sizeof(p), "%s/inv2.test.db", zones_dir);
    content = read_text(p);
    ck_assert_ptr_nonnull(content);
    ck_assert_ptr_nonnull(strstr(content, "192.0.2.1"));
    strstr(content, "192.0.2.1")[8] = '9';
    write_file(p, content, 0644);
    free(content);
    path(p, sizeof(p), "%s/inv3.test.db", zones_dir);
    ck_assert_int_eq(unlink(p), 0);
    path(p, sizeof(p), "%s/stray.test.db", zones_dir);
    write_file(p, t1, 0644);
    l.n = 0;
    ck_assert_int_eq(bindinventory_run(&bc, NULL, collect, &l, &st, &e), 0);
    h = inv_find(&l, "inv2.test");
    sha1_hex(t2, strlen(t2), want);
    ck_assert_str_ne(h->digest, want);
    ck_assert_uint_eq(strlen(h->digest), 40);
    ck_assert_uint_eq(h->version, 12);
    h = inv_find(&l, "inv3.test");
    ck_assert_str_eq(h->digest, BINDINVENTORY_MODIFIED);
    ck_assert_int_eq(h->has_serial, 1); /* named still serves what it loaded */
    ck_assert_uint_eq(h->version, 0);
    ck_assert_uint_ge(st.missing_files, 1);
    ck_assert_ptr_null(inv_find(&l, "stray.test"));
    unlink(p);

    /* the change_backend callback, and @fn stopping it */
    l.n = 0;
    l.stop_after = 2;
    {
        char reason[256] = "";

        ck_assert_int_eq(bindinventory_backend(b, collect, &l, reason, sizeof(reason)), 7);
        ck_assert_uint_eq(l.n, 2);
    }

    for (size_t i = 0; i < 5; i++)
        c[i].op = CHANGE_DELETE;
    apply_ok(b, c, 5);
    free(l.v);
    bindbackend_free(b);
}
END_TEST

START_TEST(named_inventory_errors)
{
    struct soaquery_opts o = {.timeout_ms = 100, .tries = 2, .deadline_ms = 3000};
    struct backend_conf bc;
    struct inv_list l = {0};
    char dir[600], inc[700], text[2048];
    struct err e;
    double t0;
    int free_port;

    path(dir, sizeof(dir), "%s/inv-errors", root);
    path(inc, sizeof(inc), "%s/inv-errors.conf", root);
    mkdir(dir, 0755);
    init_bc(&bc, dir, inc, (char *)find_bin("rndc"), rndc_conf);
    bc.query_addr = "127.0.0.1";
    bc.query_port = dns_port;
    /* no include: nothing held */
    unlink(inc);
    ck_assert_int_eq(bindinventory_run(&bc, &o, collect, &l, NULL, &e), 0);
    ck_assert_uint_eq(l.n, 0);
    /* an include dadns did not write */
    write_file(inc, "zone \"x.test\" { type primary; file \"/etc/passwd\"; };\n", 0644);
    ck_assert_int_eq(bindinventory_run(&bc, &o, collect, &l, NULL, &e), DADNS_ECONFIG);
    ck_assert_msg(strstr(e.text, "inv-errors.conf:1:") != NULL, "%s", e.text);
    /* named does not know the zone: REFUSED, no serial, the file is there */
    snprintf(text, sizeof(text),
             "%szone \"ghost.test\" { type primary; file \"%s/ghost.test.db\"; };\n",
             BINDCONF_HEADER, dir);
    write_file(inc, text, 0644);
    ck_assert_int_eq(bindinventory_run(&bc, &o, collect, &l, NULL, &e), 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].zone, "ghost.test");
    ck_assert_int_eq(l.v[0].has_serial, 0);
    ck_assert_str_eq(l.v[0].digest, BINDINVENTORY_MODIFIED);
    /* named down (nobody on the port): an error, not "nothing served" */
    do {
        free_port = 20000 + rand() % 40000;
    } while (!port_free(free_port));
    bc.query_port = free_port;
    t0 = now_s();
    ck_assert_int_eq(bindinventory_run(&bc, &o, collect, &l, NULL, &e), DADNS_EBACKEND);
    ck_assert_double_lt(now_s() - t0, 2.0);
    ck_assert_msg(strstr(e.text, "answered none of 1 SOA queries") != NULL, "%s", e.text);
    free(l.v);
}
END_TEST

START_TEST(named_inventory_many)
{
    enum { N = 3000 };
    struct backend_conf bc;
    struct bindbackend *b = open_named_backend(&bc);
    struct change *c = calloc(N, sizeof(*c));
    char *text = malloc((size_t)N * 200);
    struct bindinventory_stats st;
    struct inv_list l = {0};
    struct err e;
    size_t i, mine = 0;
    double t0;

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(text);
    bc.query_addr = "127.0.0.1";
    bc.query_port = dns_port;
    for (i = 0; i < N; i++) {
        char *t = text + i * 200, name[64];

        snprintf(name, sizeof(name), "many%zu.test", i);
        snprintf(t, 200,
                 "$TTL 300\n@ SOA ns1 h %zu 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n",
                 1000 + i);
        inv_save(&c[i], name, 1, (uint32_t)(1000 + i), t);
    }
    apply_ok(b, c, N);
    ck_assert(wait_serial("many2999.test", 3999));
    /* named loads the zones of one reconfig in no particular order: until every one serves,
     * an inventory rightly reports some without a serial */
    t0 = now_s();
    for (;;) {
        size_t served = 0;

        l.n = 0;
        ck_assert_int_eq(bindinventory_run(&bc, NULL, collect, &l, &st, &e), 0);
        for (i = 0; i < l.n; i++)
            served += l.v[i].has_serial ? 1 : 0;
        if (served >= l.n || now_s() - t0 > 20)
            break;
        usleep(200000);
    }
    l.n = 0;
    t0 = now_s();
    ck_assert_int_eq(bindinventory_run(&bc, NULL, collect, &l, &st, &e), 0);
    fprintf(stderr,
            "bindinventory: %zu zones in %.3f s (SOA queries %.3f s, %lu sent; files %.3f s)\n",
            l.n, now_s() - t0, st.query_s, st.q.sent, st.files_s);
    l.n = 0;
    t0 = now_s();
    ck_assert_int_eq(bindinventory_run(&bc, NULL, collect, &l, &st, &e), 0);
    fprintf(
        stderr,
        "bindinventory: again %zu zones in %.3f s (SOA queries %.3f s, %lu sent; files %.3f s)\n",
        l.n, now_s() - t0, st.query_s, st.q.sent, st.files_s);
    for (i = 0; i < l.n; i++) {
        unsigned long k;

        if (sscanf(l.v[i].zone, "many%lu.test", &k) != 1)
            continue;
        mine++;
        ck_assert_msg(l.v[i].has_serial && l.v[i].serial == 1000 + k, "%s: %d %u", l.v[i].zone,
                      l.v[i].has_serial, l.v[i].serial);
    }
    ck_assert_uint_eq(mine, N);
    for (i = 0; i < N; i++)
        c[i].op = CHANGE_DELETE;
    apply_ok(b, c, N);
    free(l.v);
    free(c);
    free(text);
    bindbackend_free(b);
}
END_TEST

static Suite *bindbackend_suite(void)
{
    Suite *su = suite_create("bindbackend");
    TCase *tc;

    tc = tcase_create("rndc");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, rndc_messages);
    tcase_add_test(tc, rndc_parallel_and_timeout);
    suite_add_tcase(su, tc);

    tc = tcase_create("fake");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
    tcase_add_test(tc, fake_batches_cost);
    tcase_add_test(tc, fake_failures_are_confined);
    tcase_add_test(tc, fake_open_errors);
    tcase_add_test(tc, fake_arrives_failed);
    tcase_add_test(tc, fake_include_repaired);
    suite_add_tcase(su, tc);

    tc = tcase_create("named");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, named_save_update_delete);
    tcase_add_test(tc, named_verify_repairs);
    tcase_add_test(tc, named_many_new_zones);
    tcase_add_test(tc, named_unreachable_then_back);
    tcase_add_test(tc, named_forced_repairs);
    suite_add_tcase(su, tc);

    tc = tcase_create("inventory");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, inventory_header_line);
    tcase_add_test(tc, named_inventory);
    tcase_add_test(tc, named_inventory_errors);
    tcase_add_test(tc, named_inventory_many);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (start_named() != 0) {
        fprintf(stderr, "test_bindbackend: cannot start named in %s (see named.log there)\n", root);
        setenv("DADNS_TEST_KEEP", "1", 1);
        return 1;
    }
    sr = srunner_create(bindbackend_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    stop_named();
    return failed ? 1 : 0;
}
