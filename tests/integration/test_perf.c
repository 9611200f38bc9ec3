/* Integration test of perf counters, reclaim stall latencies, libcgroup
 * set-up and profiles: one anon cell under a memcg limit on each of Debian
 * 6.1 and 6.12 (zram), profiled, then `swapbench profile` on the run.
 * Usage: test_perf [TEST]; env SB_BIN, SB_SPECS as for test_vm. */
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
#include <sys/stat.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"
#include "common/process.h"
#include "harness/store.h"

static const char *const hardware[] = { "cycles", "instructions", "cache-misses",
					"branch-misses", NULL };

static void assert_cell(const struct it_run *r, const char *kernel)
{
	char cell[128], *p;
	json_t *res, *perf, *rb;
	struct stat st;

	snprintf(cell, sizeof(cell), "%s--zram--anon--1", kernel);
	res = it_cell_result(r, cell);
	if (strcmp(json_string_value(json_object_get(res, "status")) ?: "", "ok"))
		fail_msg("%s: %s: %s", cell, json_string_value(json_object_get(res, "status")),
			 json_string_value(json_object_get(res, "error")) ?: "");
	/* Software counters of the workload's processes moved. */
	assert_true(it_counter(res, "perf", "page-faults") > 0);
	assert_true(it_counter(res, "perf", "major-faults") > 0);
	assert_true(it_counter(res, "perf", "minor-faults") > 0);
	assert_true(it_counter(res, "perf", "context-switches") > 0);
	assert_true(it_counter(res, "perf", "cpu-migrations") >= 0);
	/* Twice 48M through a 48M limit for ~10 s at least of CPU. */
	assert_true(it_counter(res, "perf", "task-clock") > 1000000000LL);
	/* Every fault that completed is major or minor (perf's major also
	 * counts retried ones, so it is not vmstat's pgmajfault). */
	assert_true(it_counter(res, "perf", "page-faults") >=
		    it_counter(res, "perf", "major-faults") +
		    it_counter(res, "perf", "minor-faults"));
	/* Hardware counters: counted with a PMU (KVM), else absent (TCG). */
	perf = json_object_get(json_object_get(res, "counters"), "perf");
	for (int i = 0; hardware[i]; i++)
		assert_true(!!json_object_get(json_object_get(perf, "delta"), hardware[i]) !=
			    !!json_object_get(json_object_get(perf, "absent"), hardware[i]));
	/* The limit was hit: memcg reclaim stalled the workload. */
	assert_true(it_metric(res, "reclaim.memcg.stalls") > 0);
	assert_true(it_metric(res, "reclaim.memcg.stall_ms") > 0);
	assert_true(it_metric(res, "reclaim.memcg.stall_p50_us") <=
		    it_metric(res, "reclaim.memcg.stall_p99_us"));
	assert_true(it_metric(res, "reclaim.memcg.stall_p99_us") <=
		    it_metric(res, "reclaim.memcg.stall_max_us"));
	assert_true(it_metric(res, "reclaim.writeout.events") > 0);
	assert_true(it_metric(res, "reclaim.direct.stalls") >= 0);
	/* libcgroup set the limits; the kernel holds them. */
	rb = json_object_get(res, "memcg_readback");
	assert_string_equal(json_string_value(json_object_get(rb, "memory.max")), "50331648");
	assert_string_equal(json_string_value(json_object_get(rb, "memory.high")), "48234496");
	/* The profile is stored, within its cap, with the symbols beside. */
	p = xasprintf("%s/cells/%s/" GUEST_SUBDIR "/perf.data", r->out, cell);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 0 && st.st_size <= (16 << 20) + (8 << 20));
	free(p);
	p = xasprintf("%s/cells/%s/" GUEST_SUBDIR "/kallsyms", r->out, cell);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 0);
	free(p);
	assert_null(json_object_get(json_object_get(res, "profile"), "error"));
	json_decref(res);
}

static void test_perf_profile(void **state)
{
	struct it_run r = it_run_spec("perf-profile.json", "perf");
	const char *argv[] = { getenv("SB_BIN"), "profile", r.out, "--swap-path", "--top", "15",
			       "--json", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 10 * 60 * 1000, .capture = 1,
				.capture_max = 16 << 20 };
	struct spawn_result res;
	json_t *doc, *k, *row, *summary, *c;
	size_t i, j;
	int swap_sym = 0, perf_ops = 0;

	assert_int_equal(r.exit_code, 0);
	assert_cell(&r, "6.1");
	assert_cell(&r, "6.12");
	/* perf counters reach the summary compare's Ops block reads. */
	summary = it_load(r.out, "summary.json");
	json_array_foreach(json_object_get(summary, "counters"), i, c)
		perf_ops += !strncmp(json_string_value(json_object_get(c, "counter")), "perf.", 5);
	assert_true(perf_ops >= 2 * 6);
	json_decref(summary);

	assert_int_equal(spawn_run(&o, &res), 0);
	assert_int_equal(res.exit_code, 0);
	doc = json_loads(res.out, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "kernels")), 2);
	json_array_foreach(json_object_get(doc, "kernels"), i, k) {
		const char *key;
		json_t *v;

		assert_true(json_integer_value(json_object_get(k, "samples")) > 100);
		/* Symbolized: the swap path's own functions are named. */
		json_object_foreach(json_object_get(k, "self"), key, v)
			if (strcasestr(key, "lz4") || strstr(key, "zram") || strstr(key, "swap"))
				swap_sym++;
	}
	assert_true(swap_sym >= 2);
	/* The diff's top entries are kernel symbols of the swap path. */
	assert_true(json_array_size(json_object_get(doc, "diff")) >= 5);
	json_array_foreach(json_object_get(doc, "diff"), j, row) {
		if (j >= 5)
			break;
		assert_true(json_is_true(json_object_get(row, "kernel")));
	}
	json_decref(doc);
	spawn_result_release(&res);
	{
		char *png = xasprintf("%s/profile/profile-diff.png", r.out);
		char *f61 = xasprintf("%s/profile/folded-6.12.txt", r.out);
		struct stat st;

		assert_int_equal(stat(png, &st), 0);
		assert_true(st.st_size > 1000);
		assert_int_equal(stat(f61, &st), 0);
		assert_true(st.st_size > 0);
		free(png);
		free(f61);
	}
	it_run_release(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perf_profile),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
