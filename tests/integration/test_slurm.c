/* Integration test of the Slurm executor on a real one-node Slurm cluster
 * (munged, slurmctld and slurmd started by this test as its own processes,
 * see slurm-cluster.sh), booting real kernels in the array tasks.
 *
 * Env: SB_BIN, SB_SPECS (as the other integration tests), SB_SLURM_CLUSTER
 * (the cluster script).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/process.h"
#include "tests/integration/it-util.h"

static char *cluster_dir;

static int cluster(const char *what)
{
	const char *argv[] = { getenv("SB_SLURM_CLUSTER"), what, cluster_dir, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 120000, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result res;
	int code;

	if (spawn_run(&o, &res))
		return -1;
	print_message("%s", res.out ? res.out : "");
	code = res.timed_out ? -1 : res.exit_code;
	spawn_result_release(&res);
	return code;
}

static int cluster_up(void **state)
{
	int code;

	(void)state;
	cluster_dir = xasprintf("%s/slurm-cluster", it_tmpdir());
	code = cluster("start");
	if (code == 4)
		return 0; /* not installed: the test skips */
	if (code)
		return -1;
	setenv("SLURM_CONF", xasprintf("%s/slurm.conf", cluster_dir), 1);
	return 0;
}

static int cluster_down(void **state)
{
	(void)state;
	cluster("stop");
	return 0;
}

static int capture(const char *const *argv, char **out)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = 300000, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result res;
	int code;

	assert_int_equal(spawn_run(&o, &res), 0);
	assert_false(res.timed_out);
	code = res.exit_code;
	print_message("%s", res.out ? res.out : "");
	if (out)
		*out = xstrdup(res.out ? res.out : "");
	spawn_result_release(&res);
	return code;
}

static void assert_layout(const char *out, const char *cell, const char *status)
{
	static const char *const files[] = { "cell.json", "result.json", "console.log" };
	char host[256] = "";
	json_t *res;
	char *p;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = xasprintf("%s/cells/%s/%s", out, cell, files[i]);
		assert_true(path_exists(p));
		free(p);
	}
	p = xasprintf("cells/%s/result.json", cell);
	res = it_load(out, p);
	free(p);
	assert_string_equal(json_string_value(json_object_get(res, "status")), status);
	assert_string_equal(json_string_value(json_object_get(res, "cell_id")), cell);
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "host"),
							      "node")), host);
	assert_true(it_counter(res, "vmstat", "pswpout") > 0);
	/* how it booted (from inputs/), alone on its node */
	assert_non_null(json_object_get(json_object_get(res, "host"), "boot"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "host"),
							    "concurrency")), 1);
	json_decref(res);
}

/* The whole run through a job array: every cell ok, the same layout and
 * schema as a local run (compare reads it), job ids recorded. */
static void test_slurm_run(void **state)
{
	const char *extra[] = { "--executor", "slurm", "--max-parallel", "1", NULL };
	struct it_run r;
	json_t *run, *summary;
	const char *cmp[] = { getenv("SB_BIN"), "compare", NULL, NULL };

	(void)state;
	if (!getenv("SLURM_CONF"))
		skip();
	r = it_run_spec_args("slurm.json", "slurm", extra);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.output, "slurm: submitted job"));
	assert_layout(r.out, "6.12--zram--anon--1", "ok");
	assert_layout(r.out, "6.1--zram--anon--1", "ok");
	/* what a cell needs to boot the fast way: the per-topology initramfs
	 * (and the PVH vmlinux when the kernel has one) */
	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s/inputs/kernels/%s/initrd-zram", r.out, i ? "6.1" : "6.12");

		assert_true(path_exists(p));
		free(p);
	}
	run = it_load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "finished");
	assert_string_equal(json_string_value(json_object_get(json_object_get(run, "executor"),
							      "kind")), "slurm");
	assert_int_equal(json_array_size(json_object_get(json_object_get(run, "executor"),
							 "jobs")), 1);
	json_decref(run);
	summary = it_load(r.out, "summary.json");
	assert_int_equal(json_array_size(json_object_get(summary, "cells")), 2);
	json_decref(summary);
	cmp[2] = r.out;
	assert_int_equal(capture(cmp, NULL), 0);
	it_run_release(&r);
}

/* --detach, a cancelled task comes back "not run", `status` finalises the
 * run as incomplete (exit 3), and --resume submits only that cell. */
static void test_slurm_cancel_resume(void **state)
{
	const char *extra[] = { "--executor", "slurm", "--max-parallel", "1", "--detach", NULL };
	const char *resume[] = { "--executor", "slurm", "--resume", NULL };
	struct it_run r, r2;
	json_t *run, *cells;
	char *task, *out = NULL;
	const char *status[] = { getenv("SB_BIN"), "status", NULL, NULL };

	(void)state;
	if (!getenv("SLURM_CONF"))
		skip();
	r = it_run_spec_args("slurm.json", "slurm-cancel", extra);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.output, "submitted Slurm job"));
	run = it_load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "submitted");
	task = xasprintf("%s_1", json_string_value(json_array_get(json_object_get(
		json_object_get(run, "executor"), "jobs"), 0)));
	json_decref(run);
	{
		const char *argv[] = { "scancel", task, NULL };

		assert_int_equal(capture(argv, NULL), 0);
	}
	status[2] = r.out;
	for (int i = 0; i < 600; i++) {
		int code = capture(status, &out);

		if (!strstr(out, "jobs still active")) {
			assert_int_equal(code, 3);
			break;
		}
		free(out);
		out = NULL;
		sleep(2);
	}
	assert_non_null(out);
	assert_non_null(strstr(out, "1 not run"));
	free(out);
	run = it_load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "incomplete");
	cells = json_object_get(run, "cells");
	assert_int_equal(json_integer_value(json_object_get(cells, "ok")), 1);
	assert_int_equal(json_integer_value(json_object_get(cells, "not_run")), 1);
	json_decref(run);
	assert_layout(r.out, "6.12--zram--anon--1", "ok");
	{
		char *p = xasprintf("%s/cells/6.1--zram--anon--1/result.json", r.out);

		assert_false(path_exists(p));
		free(p);
	}
	r2 = it_run_spec_args("slurm.json", "slurm-cancel", resume);
	assert_int_equal(r2.exit_code, 0);
	assert_non_null(strstr(r2.output, "1 cells (array 1)"));
	assert_layout(r.out, "6.1--zram--anon--1", "ok");
	run = it_load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "finished");
	assert_int_equal(json_array_size(json_object_get(json_object_get(run, "executor"),
							 "jobs")), 2);
	json_decref(run);
	free(task);
	it_run_release(&r);
	it_run_release(&r2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slurm_run, cluster_up, cluster_down),
		cmocka_unit_test_setup_teardown(test_slurm_cancel_resume, cluster_up,
						cluster_down),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
