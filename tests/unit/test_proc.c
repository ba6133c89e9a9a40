/* test_proc.c -- Check suite for common/proc.c: exit statuses, captured output made one line,
 * the output bound, timeouts, commands that cannot start, and batches run several at once. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "proc.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sh - run "sh -c @script" with a 5 s limit into @res; returns res->rc. */
static int sh(const char *script, struct proc_result *res)
{
    const char *argv[] = {"sh", "-c", script, NULL};

    return proc_run(argv, 5000, res);
}

/* ---- exit statuses ------------------------------------------------------------------------ */

START_TEST(true_and_false)
{
    const char *t[] = {"/bin/true", NULL}, *f[] = {"/bin/false", NULL};
    struct proc_result res;

    ck_assert_int_eq(proc_run(t, 5000, &res), 0);
    ck_assert_int_eq(res.rc, 0);
    ck_assert_int_eq(res.started, 1);
    ck_assert_str_eq(res.msg, "");
    ck_assert_int_eq(proc_run(f, 5000, &res), DADNS_EBACKEND);
    ck_assert_int_eq(res.started, 1);
    ck_assert_str_eq(res.msg, "exit 1: (no output)");
}
END_TEST

START_TEST(killed_by_signal)
{
    struct proc_result res;

    ck_assert_int_eq(sh("echo dying; kill -9 $$", &res), DADNS_EBACKEND);
    ck_assert_str_eq(res.msg, "killed by signal 9: dying");
}
END_TEST

/* ---- output ------------------------------------------------------------------------------- */

START_TEST(stdout_and_stderr)
{
    struct proc_result res;

    ck_assert_int_eq(sh("echo 'zone  reload'; printf 'queued\\t\\n\\n' >&2", &res), 0);
    ck_assert_str_eq(res.msg, "zone reload; queued");
    ck_assert_int_eq(sh("echo out; echo err >&2; exit 3", &res), DADNS_EBACKEND);
    ck_assert_str_eq(res.msg, "exit 3: out; err");
}
END_TEST

START_TEST(arguments_as_given)
{
    const char *argv[] = {"printf", "%s|", "a b;c $HOME", "", NULL};
    struct proc_result res;

    ck_assert_int_eq(proc_run(argv, 5000, &res), 0);
    ck_assert_str_eq(res.msg, "a b;c $HOME||");
}
END_TEST

START_TEST(output_bound)
{
    struct proc_result res;
    size_t i, n;

    /* under the bound everything is read: 4000 line breaks, then the text */
    ck_assert_int_eq(sh("head -c 4000 /dev/zero | tr '\\0' '\\n'; echo END", &res), 0);
    ck_assert_str_eq(res.msg, "END");
    /* past PROC_OUT_MAX octets the output is read and dropped: the child never blocks, and
     * what comes after the first 4096 line breaks is gone */
    ck_assert_int_eq(sh("head -c 200000 /dev/zero | tr '\\0' '\\n'; echo END", &res), 0);
    ck_assert_str_eq(res.msg, "");
    /* the message is bounded too */
    ck_assert_int_eq(sh("head -c 10000 /dev/zero | tr '\\0' x; exit 1", &res), DADNS_EBACKEND);
    n = strlen(res.msg);
    ck_assert_uint_lt(n, PROC_MSG_SIZE);
    ck_assert_uint_gt(n, PROC_MSG_SIZE / 2);
    ck_assert_int_eq(strncmp(res.msg, "exit 1: xxx", 11), 0);
    for (i = 8; i < n; i++)
        ck_assert_int_eq(res.msg[i], 'x');
}
END_TEST

/* ---- time --------------------------------------------------------------------------------- */

START_TEST(timeout)
{
    const char *argv[] = {"sleep", "5", NULL};
    struct proc_result res;
    double t0 = now_s(), dt;

    ck_assert_int_eq(proc_run(argv, 200, &res), DADNS_EBACKEND);
    dt = now_s() - t0;
    ck_assert_msg(dt >= 0.15 && dt < 2.0, "sleep 5 with a 200 ms limit took %.2f s", dt);
    ck_assert_int_eq(res.started, 1);
    ck_assert_str_eq(res.msg, "timed out after 200 ms");
}
END_TEST

START_TEST(timeout_kills_the_group)
{
    struct proc_result res;
    const char *argv[] = {"sh", "-c", "echo started; sleep 5; echo never", NULL};
    double t0 = now_s(), dt;

    /* sh forks sleep, which holds the pipe: killing sh alone would leave it open */
    ck_assert_int_eq(proc_run(argv, 200, &res), DADNS_EBACKEND);
    dt = now_s() - t0;
    ck_assert_msg(dt < 2.0, "took %.2f s", dt);
    ck_assert_str_eq(res.msg, "timed out after 200 ms: started");
}
END_TEST

START_TEST(exit_ends_the_wait)
{
    struct proc_result res;
    double t0 = now_s(), dt;

    /* the command exits while a background child still holds the pipe: its exit counts */
    ck_assert_int_eq(sh("sleep 2 & echo bye", &res), 0);
    dt = now_s() - t0;
    ck_assert_msg(dt < 1.5, "took %.2f s", dt);
    ck_assert_str_eq(res.msg, "bye");
}
END_TEST

START_TEST(short_commands_are_quick)
{
    /* closes its output first: only its exit says it is done */
    const char *quiet[] = {"sh", "-c", "exec >/dev/null 2>&1; sleep 0.001", NULL};
    const char *t[] = {"true", NULL};
    struct proc_result res;
    struct proc_job jobs[40];
    double t0, dt;
    size_t i;

    /* the end of a command is seen when it happens, not at the next 10 ms tick */
    t0 = now_s();
    for (i = 0; i < 20; i++)
        ck_assert_int_eq(proc_run(quiet, 5000, &res), 0);
    dt = now_s() - t0;
    ck_assert_msg(dt < 0.15, "20 commands of 1 ms, one after another, took %.3f s", dt);
    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < 40; i++)
        jobs[i].argv = i % 2 ? t : quiet;
    t0 = now_s();
    ck_assert_uint_eq(proc_run_many(jobs, 40, 8, 5000), 0);
    dt = now_s() - t0;
    ck_assert_msg(dt < 0.15, "40 short commands, 8 at once, took %.3f s", dt);
}
END_TEST

/* ---- commands that cannot start ----------------------------------------------------------- */

START_TEST(missing_binary)
{
    const char *abs[] = {"/nonexistent/dadns-prog", "x", NULL};
    const char *path[] = {"dadns-no-such-program", NULL};
    const char *empty[] = {NULL};
    struct proc_result res;

    ck_assert_int_eq(proc_run(abs, 5000, &res), DADNS_EBACKEND);
    ck_assert_int_eq(res.started, 0);
    ck_assert_str_eq(res.msg, "cannot run /nonexistent/dadns-prog: No such file or directory");
    ck_assert_int_eq(proc_run(path, 5000, &res), DADNS_EBACKEND);
    ck_assert_int_eq(res.started, 0);
    ck_assert_str_eq(res.msg, "cannot run dadns-no-such-program: No such file or directory");
    ck_assert_int_eq(proc_run(empty, 5000, &res), DADNS_EINVAL);
    ck_assert_int_eq(res.started, 0);
    ck_assert_int_eq(proc_run(NULL, 5000, &res), DADNS_EINVAL);
}
END_TEST

/* ---- batches ------------------------------------------------------------------------------ */

START_TEST(several_at_once)
{
    const char *ok[] = {"sh", "-c", "sleep 0.3; echo done", NULL};
    const char *bad[] = {"sh", "-c", "sleep 0.3; echo no; exit 1", NULL};
    struct proc_job jobs[6];
    double t0, dt;
    size_t i;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < 6; i++)
        jobs[i].argv = i % 2 ? bad : ok;
    t0 = now_s();
    ck_assert_uint_eq(proc_run_many(jobs, 6, 3, 5000), 3);
    dt = now_s() - t0;
    ck_assert_msg(dt > 0.55 && dt < 3.0, "6 jobs of 0.3 s, 3 at once, took %.2f s", dt);
    for (i = 0; i < 6; i++) {
        ck_assert_int_eq(jobs[i].res.rc, i % 2 ? DADNS_EBACKEND : 0);
        ck_assert_str_eq(jobs[i].res.msg, i % 2 ? "exit 1: no" : "done");
    }
}
END_TEST

START_TEST(batch_mixed)
{
    const char *t[] = {"true", NULL}, *missing[] = {"/nonexistent/x", NULL};
    const char *hang[] = {"sleep", "5", NULL};
    struct proc_job jobs[5];
    double t0, dt;

    memset(jobs, 0, sizeof(jobs));
    jobs[0].argv = missing;
    jobs[1].argv = hang;
    jobs[2].argv = t;
    jobs[3].argv = hang;
    jobs[4].argv = t;
    t0 = now_s();
    ck_assert_uint_eq(proc_run_many(jobs, 5, 100, 300), 3);
    dt = now_s() - t0;
    ck_assert_msg(dt < 2.0, "two hung jobs with a 0.3 s limit, run at once, took %.2f s", dt);
    ck_assert_str_eq(jobs[0].res.msg, "cannot run /nonexistent/x: No such file or directory");
    ck_assert_int_eq(jobs[0].res.started, 0);
    ck_assert_str_eq(jobs[1].res.msg, "timed out after 300 ms");
    ck_assert_int_eq(jobs[2].res.rc, 0);
    ck_assert_str_eq(jobs[3].res.msg, "timed out after 300 ms");
    ck_assert_int_eq(jobs[4].res.rc, 0);
    ck_assert_uint_eq(proc_run_many(jobs, 0, 4, 300), 0);
}
END_TEST

START_TEST(one_at_a_time)
{
    const char *argv[] = {"sh", "-c", "sleep 0.2", NULL};
    struct proc_job jobs[3];
    double t0, dt;
    size_t i;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < 3; i++)
        jobs[i].argv = argv;
    t0 = now_s();
    ck_assert_uint_eq(proc_run_many(jobs, 3, 0, 5000), 0); /* parallel 0 counts as 1 */
    dt = now_s() - t0;
    ck_assert_msg(dt > 0.55, "3 jobs of 0.2 s, one at a time, took %.2f s", dt);
}
END_TEST

static Suite *proc_suite(void)
{
    Suite *su = suite_create("proc");
    TCase *tc;

    tc = tcase_create("status");
    tcase_add_test(tc, true_and_false);
    tcase_add_test(tc, killed_by_signal);
    suite_add_tcase(su, tc);

    tc = tcase_create("output");
    tcase_add_test(tc, stdout_and_stderr);
    tcase_add_test(tc, arguments_as_given);
    tcase_add_test(tc, output_bound);
    suite_add_tcase(su, tc);

    tc = tcase_create("time");
    tcase_add_test(tc, timeout);
    tcase_add_test(tc, timeout_kills_the_group);
    tcase_add_test(tc, exit_ends_the_wait);
    tcase_add_test(tc, short_commands_are_quick);
    suite_add_tcase(su, tc);

    tc = tcase_create("start");
    tcase_add_test(tc, missing_binary);
    suite_add_tcase(su, tc);

    tc = tcase_create("batch");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, several_at_once);
    tcase_add_test(tc, batch_mixed);
    tcase_add_test(tc, one_at_a_time);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(proc_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
