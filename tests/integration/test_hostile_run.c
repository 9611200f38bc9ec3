/* Probes of issue 14 against `swapbench run` itself, with a fake qemu on
 * PATH (fake-qemu/qemu-system-x86_64 plays the guest: SB_FAKE_MODE) and the
 * cached Debian 6.12 kernel (never booted here): a FIFO or symlink as the
 * guest's result, a 70 MiB console hiding a panic, guest data that must be
 * refused, SIGINT/SIGTERM/SIGKILL during a VM, forged results on resume, a
 * spec changed between runs, two runs of one directory, a full disk, and
 * input errors (--iterations 2x, a run name with ../). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"
#include "common/process.h"

#define CELL "k--zram--anon--1"

static char *spec_file(void)
{
	return xasprintf("%s/fake.json", getenv("SB_SPECS"));
}

struct run {
	int exit_code;
	char *out;
	char *output;
};

/* swapbench run SPEC --out OUT EXTRA... with SB_FAKE_MODE=mode; waited for
 * (at most 900 s, the first run may fetch the kernel: a hang fails the test). */
static struct run run_mode3(const char *mode, const char *spec, const char *out,
			    const char *extra1, const char *extra2, const char *extra3)
{
	const char *argv[] = { getenv("SB_BIN"), "run", spec, "--out", out, extra1, extra2,
			       extra3, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 900 * 1000, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result res;
	struct run r = { 0 };

	setenv("SB_FAKE_MODE", mode, 1);
	assert_int_equal(spawn_run(&o, &res), 0);
	if (res.timed_out)
		fail_msg("swapbench run (fake qemu mode %s) hung: %s", mode, res.out);
	r.exit_code = res.exit_code;
	r.out = xstrdup(out);
	r.output = xstrdup(res.out ? res.out : "");
	print_message("%s", r.output);
	spawn_result_release(&res);
	return r;
}

static struct run run_mode(const char *mode, const char *spec, const char *out,
			   const char *extra1, const char *extra2)
{
	return run_mode3(mode, spec, out, extra1, extra2, NULL);
}

static void run_release(struct run *r)
{
	free(r->out);
	free(r->output);
}

static char *out_dir(const char *tag)
{
	return xasprintf("%s/%s", it_tmpdir(), tag);
}

static const char *cell_status(const char *out, const char *cell)
{
	static char buf[64];
	char *p = xasprintf("cells/%s/result.json", cell);
	json_t *r = it_load(out, p);

	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(r, "status")) ?: "");
	json_decref(r);
	free(p);
	return buf;
}

static void expect_cell(const char *mode, const char *status, const char *frag)
{
	char *spec = spec_file(), *out = out_dir(mode);
	struct run r = run_mode(mode, spec, out, NULL, NULL);

	assert_int_equal(r.exit_code, 3);
	assert_string_equal(cell_status(out, CELL), status);
	if (frag && !strstr(r.output, frag))
		fail_msg("output lacks '%s'", frag);
	run_release(&r);
	free(out);
	free(spec);
}

/* A FIFO planted as guest-result.json hung `run` (SIGTERM did not help). */
static void test_fifo_result(void **state)
{
	expect_cell("fifo", "invalid", "not a regular file");
}

static void test_symlink_result(void **state)
{
	expect_cell("symlink", "invalid", "it is a symbolic link");
}

/* A console over 64 MiB hid a panic: the cell read ok, panics 0. */
static void test_big_console(void **state)
{
	expect_cell("big-console", "crashed", NULL);
}

/* Guest data shaping the statistics: refused, the cell named. */
static void test_guest_data(void **state)
{
	expect_cell("dup", "invalid", "metrics[1].name: 'throughput' already given");
	expect_cell("string-counter", "invalid", "counters.vmstat.delta.pswpout");
	expect_cell("huge", "invalid", "metrics[1].value");
}

static int process_alive(pid_t pid)
{
	char path[64], *text = NULL;
	int alive;

	/* A zombie is dead for this purpose. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, 4096, &text, NULL))
		return 0;
	alive = !strstr(text, ") Z ");
	free(text);
	return alive;
}

/* Waits until N fake qemus have written their pids (one a line) to PATH. */
static void wait_pidfile_n(const char *path, pid_t *pids, int n)
{
	for (int i = 0; i < 600; i++) {
		char *text = NULL, *p;
		int got = 0;

		if (read_file(path, 256, &text, NULL) == 0)
			for (p = text; got < n && *p; got++) {
				pids[got] = (pid_t)strtol(p, &p, 10);
				if (pids[got] <= 0 || *p != '\n')
					break;
				p++;
			}
		free(text);
		if (got == n)
			return;
		usleep(100000);
	}
	fail_msg("%d fake qemu(s) never started (%s)", n, path);
}


/* swapbench with a fake qemu that sleeps; returns swapbench's pid and the
 * fake qemu's. Its output goes to OUT.log. */
static pid_t start_sleeping_spec(const char *spec, const char *out, const char *extra1,
				 const char *extra2, pid_t *qemus, int nqemu)
{
	char *pidf = xasprintf("%s.qemu-pid", out);
	char *log = xasprintf("%s.log", out), *err = xasprintf("%s.err", out);
	const char *argv[] = { getenv("SB_BIN"), "run", spec, "--out", out, extra1, extra2,
			       NULL };
	struct spawn_opts o = { .argv = argv, .stdout_path = log, .stderr_path = err };
	pid_t pid;

	unlink(pidf);
	setenv("SB_FAKE_MODE", "sleep", 1);
	setenv("SB_FAKE_PIDFILE", pidf, 1);
	assert_int_equal(spawn_start(&o, &pid), 0);
	wait_pidfile_n(pidf, qemus, nqemu);
	unsetenv("SB_FAKE_PIDFILE");
	free(pidf);
	free(log);
	free(err);
	return pid;
}

static pid_t start_sleeping(const char *out, pid_t *qemu)
{
	char *spec = spec_file();
	pid_t pid = start_sleeping_spec(spec, out, NULL, NULL, qemu, 1);

	free(spec);
	return pid;
}

static int wait_exit(pid_t pid, int timeout_s)
{
	int status;

	for (int i = 0; i < timeout_s * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(100000);
	}
	spawn_kill(pid);
	fail_msg("swapbench did not stop within %d s", timeout_s);
	return -1;
}

/* SIGINT/SIGTERM waited for the VM (up to vm.timeout) without a word. */
static void signal_case(int sig, int want_exit)
{
	char *out = out_dir(sig == SIGINT ? "sigint" : "sigterm");
	char *log = xasprintf("%s.err", out), *text = NULL;
	pid_t qemu, pid = start_sleeping(out, &qemu);
	json_t *run, *sum;

	assert_int_equal(kill(pid, sig), 0);
	assert_int_equal(wait_exit(pid, 15), want_exit);
	assert_false(process_alive(qemu));
	assert_int_equal(read_file(log, 1 << 20, &text, NULL), 0);
	print_message("%s", text);
	assert_non_null(strstr(text, "interrupted: stopping the running VM"));
	assert_string_equal(cell_status(out, CELL), "interrupted");
	run = it_load(out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "interrupted");
	sum = it_load(out, "summary.json");
	json_decref(sum);
	json_decref(run);
	free(text);
	free(log);
	free(out);
}

static void test_sigint(void **state)
{
	signal_case(SIGINT, 130);
}

static void test_sigterm(void **state)
{
	signal_case(SIGTERM, 143);
}

/* SIGKILL of swapbench orphaned qemu. */
static void test_sigkill_no_orphan(void **state)
{
	char *out = out_dir("sigkill");
	pid_t qemu, pid = start_sleeping(out, &qemu);
	int gone = 0;

	assert_int_equal(kill(pid, SIGKILL), 0);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 50 && !gone; i++) {
		gone = !process_alive(qemu);
		usleep(100000);
	}
	if (!gone) {
		kill(qemu, SIGKILL);
		fail_msg("qemu (pid %d) outlived a SIGKILLed swapbench", (int)qemu);
	}
	free(out);
}

/* Two runs of one directory booted the same cells twice. */
static void test_lock(void **state)
{
	char *out = out_dir("lock"), *spec = spec_file();
	pid_t qemu, pid = start_sleeping(out, &qemu);
	struct run r = run_mode("ok", spec, out, "--resume", NULL);

	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "is in use by another swapbench run"));
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, 15), 143);
	run_release(&r);
	free(spec);
	free(out);
}

/* --resume kept any result.json saying ok: {"status":"ok"} alone, or
 * another cell's result copied in. */
static void test_resume_forged(void **state)
{
	char *out = out_dir("forged"), *spec = spec_file();
	char *c1 = xasprintf("%s/cells/" CELL "/result.json", out);
	char *c2 = xasprintf("%s/cells/k--zram--anon--2/result.json", out);
	char *c3 = xasprintf("%s/cells/k--zram--anon--3/result.json", out);
	char *text = NULL;
	size_t len;
	struct run r = run_mode("ok", spec, out, "--iterations", "3");
	json_t *sum, *cell;
	size_t i;

	assert_int_equal(r.exit_code, 0);
	run_release(&r);
	assert_int_equal(write_file_atomic(c1, "{\"status\":\"ok\"}", 15), 0);
	assert_int_equal(read_file(c3, 1 << 20, &text, &len), 0);
	assert_int_equal(write_file_atomic(c2, text, len), 0);
	free(text);
	r = run_mode3("ok", spec, out, "--resume", "--iterations", "3");
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.output, "cell " CELL ": its result.json is not valid: "
				"running it again"));
	assert_non_null(strstr(r.output, "cell k--zram--anon--2: its result.json is of "
				"another cell or spec"));
	run_release(&r);
	sum = it_load(out, "summary.json");
	assert_int_equal(json_array_size(json_object_get(sum, "cells")), 3);
	json_array_foreach(json_object_get(sum, "cells"), i, cell)
		assert_int_equal(json_integer_value(json_object_get(cell, "iteration")), i + 1);
	json_decref(sum);
	free(c1);
	free(c2);
	free(c3);
	free(spec);
	free(out);
}

/* Editing the spec between runs and resuming mixed settings, exit 0. */
static void test_resume_spec_changed(void **state)
{
	char *out = out_dir("changed"), *spec = xasprintf("%s/changed.json", it_tmpdir());
	char *orig = spec_file(), *text = NULL, *edited;
	struct run r;

	assert_int_equal(read_file(orig, 1 << 20, &text, NULL), 0);
	assert_int_equal(write_file_atomic(spec, text, strlen(text)), 0);
	r = run_mode("ok", spec, out, NULL, NULL);
	assert_int_equal(r.exit_code, 0);
	run_release(&r);
	edited = strstr(text, "\"24M\"");
	assert_non_null(edited);
	memcpy(edited, "\"32M\"", 5);
	assert_int_equal(write_file_atomic(spec, text, strlen(text)), 0);
	r = run_mode("ok", spec, out, "--resume", NULL);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "changed since the run"));
	run_release(&r);
	r = run_mode("ok", spec, out, "--resume", "--force");
	assert_int_equal(r.exit_code, 0);
	/* Forced: the old cell is of another spec, so it is run again. */
	assert_non_null(strstr(r.output, "of another cell or spec: running it again"));
	run_release(&r);
	free(text);
	free(orig);
	free(spec);
	free(out);
}

/* A qemu still running in a cell (its swapbench gone) kept writing into it
 * while a resume booted the cell again. */
static void test_resume_kills_orphan(void **state)
{
	char *out = out_dir("orphan"), *spec = spec_file();
	char *pidp = xasprintf("%s/cells/" CELL "/qemu.pid", out), *stat = NULL, *line, *p;
	const char *argv[] = { "sleep", "600", NULL };
	struct spawn_opts o = { .argv = argv };
	struct run r = run_mode("ok", spec, out, NULL, NULL);
	unsigned long long start = 0;
	pid_t orphan;

	assert_int_equal(r.exit_code, 0);
	run_release(&r);
	/* The cell is not done, and a "qemu" of it still runs. */
	p = xasprintf("%s/cells/" CELL "/result.json", out);
	unlink(p);
	free(p);
	assert_int_equal(spawn_start(&o, &orphan), 0);
	p = xasprintf("/proc/%d/stat", (int)orphan);
	assert_int_equal(read_file(p, 4096, &stat, NULL), 0);
	free(p);
	p = strrchr(stat, ')');
	for (int field = 2; field < 22; p++)
		field += *p == ' ';
	start = strtoull(p, NULL, 10);
	line = xasprintf("%d %llu\n", (int)orphan, start);
	assert_int_equal(write_file_atomic(pidp, line, strlen(line)), 0);
	r = run_mode("ok", spec, out, "--resume", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.output, "is still running: killing it"));
	assert_int_equal(waitpid(orphan, NULL, 0), orphan);
	run_release(&r);
	free(line);
	free(stat);
	free(pidp);
	free(spec);
	free(out);
}

/* --out on a nearly full file system said "1 ok ... results in", exit 0, yet
 * nothing was stored and run.json still said "running". Here: a good result,
 * then a full file system (a 512k tmpfs) under the run: exit 3, the write
 * errors named with their paths, and "N ok" only for results that really
 * are stored. jobs_opt/jobs: NULL, or "--jobs" and a count. */
static void disk_full_case(const char *tag, const char *spec, const char *jobs_opt,
			   const char *jobs, int ncells)
{
	char *mnt = out_dir(tag), *out = xasprintf("%s/run", mnt);
	char *where = xasprintf("/%s/run/", tag);
	struct run r;
	int stored = 0;

	mkdir_p(mnt, 0755);
	if (geteuid() || (jobs && sysconf(_SC_NPROCESSORS_ONLN) < atoi(jobs)) ||
	    mount("sbfull", mnt, "tmpfs", 0, "size=512k"))
		skip();
	r = run_mode("fill", spec, out, jobs_opt, jobs);
	for (int i = 1; i <= ncells; i++) {
		char *rp = xasprintf("%s/cells/k--zram--anon--%d/result.json", out, i);

		stored += path_exists(rp);
		free(rp);
	}
	umount2(mnt, MNT_DETACH); /* before any assert can leave it mounted */
	assert_int_equal(r.exit_code, 3);
	for (int n = 1; n <= ncells; n++) {
		char *ok = xasprintf("%d ok", n);

		if (strstr(r.output, ok))
			assert_true(stored >= n);
		free(ok);
	}
	assert_non_null(strstr(r.output, "cannot write '"));
	assert_non_null(strstr(r.output, where));
	assert_non_null(strstr(r.output, "No space left on device"));
	assert_non_null(strstr(r.output, "could not be stored"));
	run_release(&r);
	free(where);
	free(out);
	free(mnt);
}

static void test_disk_full(void **state)
{
	char *spec = spec_file();

	disk_full_case("full", spec, NULL, NULL, 1);
	free(spec);
}

/* run --jobs 2: SIGINT stops every running VM, not only the first child's. */
static void test_jobs_sigint(void **state)
{
	char *out = out_dir("jobs-sigint"), *spec = xasprintf("%s/fake-jobs.json",
							       getenv("SB_SPECS"));
	pid_t qemus[2], pid;
	json_t *run;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	pid = start_sleeping_spec(spec, out, "--jobs", "2", qemus, 2);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(wait_exit(pid, 15), 130);
	assert_false(process_alive(qemus[0]));
	assert_false(process_alive(qemus[1]));
	assert_string_equal(cell_status(out, "k--zram--anon--1"), "interrupted");
	assert_string_equal(cell_status(out, "k--zram--anon--2"), "interrupted");
	run = it_load(out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "interrupted");
	json_decref(run);
	free(spec);
	free(out);
}

/* The same under run --jobs 2: a child that cannot store its cell says so. */
static void test_jobs_disk_full(void **state)
{
	char *spec = xasprintf("%s/fake-jobs.json", getenv("SB_SPECS"));

	disk_full_case("jobs-full", spec, "--jobs", "2", 2);
	free(spec);
}

/* A crash after the workload started, SB_FAKE_MODE=mode, spec SPEC:
 * expects the exit code, the cell's status and host.failed_boots' size;
 * returns the cell's result. */
static json_t *crash_case(const char *mode, const char *spec_name, int exit_code,
			  const char *status, size_t failed_boots)
{
	char *spec = xasprintf("%s/%s", getenv("SB_SPECS"), spec_name);
	char *tag = xasprintf("%s-%s", mode, spec_name), *out = out_dir(tag);
	char *p = xasprintf("cells/%s/result.json", CELL);
	struct run r = run_mode(mode, spec, out, NULL, NULL);
	json_t *res;

	assert_int_equal(r.exit_code, exit_code);
	res = it_load(out, p);
	assert_string_equal(json_string_value(json_object_get(res, "status")), status);
	assert_int_equal(json_array_size(json_object_get(json_object_get(res, "host"),
							 "failed_boots")), failed_boots);
	if (failed_boots)
		assert_non_null(strstr(r.output, "crashed after its workload started"));
	run_release(&r);
	free(p);
	free(out);
	free(tag);
	free(spec);
	return res;
}

/* A two-vCPU TCG guest that crashes once after its workload started (the
 * MTTCG text-patching artifact) is booted once more; the crash is kept. */
static void test_tcg_smp_crash(void **state)
{
	json_t *res = crash_case("oops-once", "fake-smp.json", 0, "ok", 1);
	json_t *fb = json_array_get(json_object_get(json_object_get(res, "host"),
						    "failed_boots"), 0);
	char *keep = xasprintf("%s/oops-once-fake-smp.json/cells/%s/%s", it_tmpdir(), CELL,
			       json_string_value(json_object_get(fb, "console")));

	assert_true(json_is_true(json_object_get(fb, "after_workload_start")));
	assert_true(json_integer_value(json_object_get(fb, "panics")) > 0);
	assert_true(path_exists(keep));
	free(keep);
	json_decref(res);
	/* A kernel that crashes every time stays crashed, after one retry. */
	json_decref(crash_case("oops", "fake-smp.json", 3, "crashed", 1));
	/* One vCPU: no such artifact, no retry. */
	json_decref(crash_case("oops", "fake.json", 3, "crashed", 0));
}

/* Input probes through the command line. */
static void test_input(void **state)
{
	char *out = out_dir("input"), *spec = spec_file();
	char *bad = xasprintf("%s/../../data/specs/probe-run-name-traversal.json",
			      getenv("SB_SPECS"));
	struct run r = run_mode("ok", spec, out, "--iterations", "2x");

	assert_int_equal(r.exit_code, 2);
	run_release(&r);
	r = run_mode("ok", spec, out, "--iterations", "4294967297");
	assert_int_equal(r.exit_code, 2);
	run_release(&r);
	assert_false(path_exists(out));
	r = run_mode("ok", bad, out, NULL, NULL);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "run name '../../../escaped'"));
	run_release(&r);
	free(bad);
	free(spec);
	free(out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_result),
		cmocka_unit_test(test_symlink_result),
		cmocka_unit_test(test_big_console),
		cmocka_unit_test(test_guest_data),
		cmocka_unit_test(test_sigint),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_sigkill_no_orphan),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_resume_forged),
		cmocka_unit_test(test_resume_spec_changed),
		cmocka_unit_test(test_resume_kills_orphan),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_jobs_sigint),
		cmocka_unit_test(test_jobs_disk_full),
		cmocka_unit_test(test_tcg_smp_crash),
	};
	char *path = xasprintf("%s:%s", SB_FAKE_QEMU_DIR, getenv("PATH") ?: "/usr/bin:/bin");

	/* The fake qemu comes first on PATH for swapbench and its children. */
	setenv("PATH", path, 1);
	free(path);
	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
