/* Integration tests of noise handling (issue 10, docs/noise.md):
 *
 * - test_known_slowdown: configs/suites/slow-swap-ci.json builds the
 *   6.12 tree as is and with a patch that busy-waits per page written to
 *   zram, runs both in the quiet mode, and compare must call the slow
 *   kernel worse. The tree is a parameter: SB_KERNEL_TREE (default the
 *   suite's cache:linux-6.12).
 * - test_target_ci: run --target-ci adds interleaved rounds (A and B) up to
 *   --max-iterations, says what did not get there, and --resume reuses
 *   them.
 * - test_target_ci_bad: bad values exit 2 before anything boots.
 *
 * Env: SB_BIN, SB_SPECS, SB_SOURCE.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"
#include "tests/unit/test-util.h"
#include "common/process.h"

static json_t *compare_json(const char *dir, const char *const *extra)
{
	const char *argv[8] = { getenv("SB_BIN"), "compare", dir, "--json", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 120000, .capture = 1,
				.capture_max = 32 << 20 };
	struct spawn_result r;
	json_error_t e;
	json_t *j;
	int n = 4;

	for (int i = 0; extra && extra[i] && n < 7; i++)
		argv[n++] = extra[i];
	assert_int_equal(spawn_run(&o, &r), 0);
	assert_int_equal(r.exit_code, 0);
	j = json_loads(r.out ? r.out : "", 0, &e);
	if (!j)
		fail_msg("compare --json: %s", e.text);
	spawn_result_release(&r);
	return j;
}

static json_t *change_of(json_t *cmp, const char *metric)
{
	return json_array_get(json_object_get(cmp_metric(cmp, metric), "changes"), 1);
}

/* The suite with absolute patch paths and, when given, another tree. */
static char *slow_spec(void)
{
	char *src = xasprintf("%s/configs/suites/slow-swap-ci.json", getenv("SB_SOURCE"));
	char *dst = xasprintf("%s/slow-swap.json", it_tmpdir()), *text;
	json_t *spec = json_load_file(src, 0, NULL), *k;
	size_t i;

	assert_non_null(spec);
	json_array_foreach(json_object_get(spec, "kernels"), i, k) {
		json_t *git = json_object_get(k, "git"), *p;
		size_t j;

		if (getenv("SB_KERNEL_TREE"))
			json_object_set_new(git, "tree", json_string(getenv("SB_KERNEL_TREE")));
		json_array_foreach(json_object_get(git, "patches"), j, p) {
			char *abs = xasprintf("%s/configs/suites/%s", getenv("SB_SOURCE"),
					      json_string_value(p));

			json_array_set_new(json_object_get(git, "patches"), j, json_string(abs));
			free(abs);
		}
	}
	text = json_dumps(spec, JSON_INDENT(2));
	assert_int_equal(write_file_atomic(dst, text, strlen(text)), 0);
	free(text);
	free(src);
	json_decref(spec);
	return dst;
}

static void test_known_slowdown(void **state)
{
	char *spec = slow_spec();
	struct it_run r;
	json_t *cmp, *ch, *res;
	int saved_timeout;

	(void)state;
	/* A build of the slow variant (ccache-warm after test_build_variants)
	 * and 8 quiet-mode cells: minutes on an idle machine, far more on a
	 * loaded one. ctest's TIMEOUT (3600 s) stays the outer bound. */
	saved_timeout = it_run_timeout_s;
	it_run_timeout_s = 55 * 60;
	r = it_run_spec_args(spec, "slow", NULL);
	it_run_timeout_s = saved_timeout;
	assert_int_equal(r.exit_code, 0);
	/* The quiet mode really ran: the instruction-counted clock under TCG. */
	res = it_load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "vm"),
								  "clock")), "icount");
	json_decref(res);
	/* The slow kernel really waited: its zram took the parameter. */
	res = it_cell_result(&r, "slow--zram--anon--1");
	assert_true(it_counter(res, "vmstat", "pswpout") > 1000);
	json_decref(res);
	cmp = compare_json(r.out, NULL);
	/* The cost per page swapped out is what the patch changes (100 us per
	 * page written against ~600 us per page in all: about +16%), and the
	 * quiet mode's tightest metric (~2% CV, docs/noise.md). */
	ch = change_of(cmp, "elapsed_per_swapout");
	print_message("elapsed_per_swapout: %s, %.1f%% (MDE %.1f%%)\n",
		      json_string_value(json_object_get(ch, "verdict")),
		      json_number_value(json_object_get(ch, "pct_change")),
		      json_number_value(json_object_get(ch, "mde_pct")));
	assert_string_equal(json_string_value(json_object_get(ch, "verdict")), "worse");
	/* Nothing the slow path does makes the workload faster. */
	ch = change_of(cmp, "throughput");
	assert_string_not_equal(json_string_value(json_object_get(ch, "verdict")), "better");
	ch = change_of(cmp, "elapsed");
	assert_string_not_equal(json_string_value(json_object_get(ch, "verdict")), "better");
	json_decref(cmp);
	it_run_release(&r);
	free(spec);
}

static void test_target_ci(void **state)
{
	const char *const tight[] = { "--target-ci", "0.0001", "--max-iterations", "3", NULL };
	const char *const loose[] = { "--resume", "--target-ci", "1000", "--max-iterations",
				      "3", NULL };
	struct it_run r = it_run_spec_args("target-ci.json", "tci", tight);
	json_t *run, *tc, *cell;
	char *p;

	(void)state;
	assert_int_equal(r.exit_code, 0);
	/* 2 planned iterations, then one round of both kernels, A before B. */
	run = it_load(r.out, "run.json");
	tc = json_object_get(run, "target_ci");
	assert_int_equal(json_integer_value(json_object_get(tc, "iterations")), 3);
	assert_true(json_array_size(json_object_get(tc, "not_reached")) >= 1);
	assert_int_equal(json_integer_value(json_object_get(run, "iterations")), 3);
	json_decref(run);
	assert_non_null(strstr(r.output, "not reached: A/zram/anon"));
	p = xasprintf("%s/cells/A--zram--anon--3/result.json", r.out);
	assert_true(path_exists(p));
	free(p);
	p = xasprintf("%s/cells/B--zram--anon--3/result.json", r.out);
	assert_true(path_exists(p));
	free(p);
	run = it_load(r.out, "summary.json");
	{
		size_t i, n3 = 0;

		json_array_foreach(json_object_get(run, "cells"), i, cell)
			n3 += json_integer_value(json_object_get(cell, "iteration")) == 3;
		assert_int_equal(n3, 2);
	}
	json_decref(run);
	/* Resumed with a target already met: nothing runs again, and the round
	 * already on disk stays in the summary. */
	it_run_release(&r);
	r = it_run_spec_args("target-ci.json", "tci", loose);
	assert_int_equal(r.exit_code, 0);
	assert_null(strstr(r.output, "running"));
	run = it_load(r.out, "summary.json");
	assert_int_equal(json_array_size(json_object_get(run, "cells")), 6);
	json_decref(run);
	it_run_release(&r);
}

static void test_target_ci_bad(void **state)
{
	static const char *const bad[][5] = {
		{ "--target-ci", "0", NULL },
		{ "--target-ci", "-3", NULL },
		{ "--target-ci", "5", "--max-iterations", "1", NULL },
		{ "--max-iterations", "4", NULL },
		{ "--target-ci", "5", "--executor", "slurm", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct it_run r = it_run_spec_args("target-ci.json", "bad", bad[i]);

		assert_int_equal(r.exit_code, 2);
		assert_false(path_exists(r.out));
		it_run_release(&r);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_ci_bad),
		cmocka_unit_test(test_target_ci),
		cmocka_unit_test(test_known_slowdown),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
