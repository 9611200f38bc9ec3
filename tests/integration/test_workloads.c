/* Integration tests of the tool workloads (kernbench, fio, stress-ng,
 * sysbench) on Debian 6.12 under qemu: each runs the CI suite (or its
 * part) and asserts that the guest really did the work, that the work
 * really swapped where it should, and that the metric is plausible.
 * Usage: test_workloads [TEST]; env SB_BIN, SB_SPECS as for test_vm. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"

static void assert_status(json_t *res, const char *want)
{
	const char *got = json_string_value(json_object_get(res, "status"));

	if (!got || strcmp(got, want))
		fail_msg("cell %s: %s, expected %s: %s",
			 json_string_value(json_object_get(res, "cell_id")), got, want,
			 json_string_value(json_object_get(res, "error")) ?: "");
}

/* The limit held and nothing was OOM-killed: the numbers are of a run that
 * swapped, not of one that lost processes. */
static void assert_clean_memcg(json_t *res)
{
	json_t *memcg = json_object_get(res, "memcg"), *kmsg = json_object_get(res, "kmsg");

	assert_true(json_is_true(json_object_get(memcg, "limit_held")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(memcg, "events"),
							    "oom_kill")), 0);
	assert_int_equal(json_integer_value(json_object_get(kmsg, "oom_kills")), 0);
	assert_int_equal(json_integer_value(json_object_get(kmsg, "panics")), 0);
	assert_int_equal(strncmp(json_string_value(json_object_get(res, "kernel_release")),
				 "6.12.", 5), 0);
}

static char *suite(const char *name)
{
	/* SB_SPECS is tests/integration/specs: the suites are three up. */
	return xasprintf("%s/../../../configs/suites/%s.json", getenv("SB_SPECS"), name);
}

/* The CI tree builds inside a 40M memcg: the compilers' memory swaps. */
static void test_kernbench(void **state)
{
	char *spec = suite("kernbench-ci");
	struct it_run r = it_run_spec(spec, "kernbench");
	json_t *res, *info, *builds;

	assert_int_equal(r.exit_code, 0);
	res = it_cell_result(&r, "6.12--zram--kernbench--1");
	assert_status(res, "ok");
	assert_clean_memcg(res);
	assert_true(it_counter(res, "vmstat", "pswpout") > 0);
	assert_true(it_counter(res, "memory_events", "max") > 0);
	assert_true(it_metric(res, "elapsed") > 1);
	assert_true(it_metric(res, "user_time") > 1);
	assert_true(it_metric(res, "sys_time") > 0);
	/* Two jobs on two CPUs cannot use more CPU time than 2x wall time
	 * (plus rounding): the rusage is of the build and nothing else. */
	assert_true(it_metric(res, "user_time") + it_metric(res, "sys_time") <=
		    2.1 * it_metric(res, "elapsed"));
	assert_true(it_metric(res, "major_faults") > 0);
	assert_true(it_metric(res, "vm_fault_oom_leaked") >= 0);
	info = json_object_get(res, "workload_info");
	builds = json_object_get(info, "builds");
	assert_int_equal(json_array_size(builds), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(info, "params"),
							    "jobs")), 2);
	assert_string_equal(json_string_value(json_object_get(info, "build_dir")),
			    "/tmp/kernbench");
	json_decref(res);
	it_run_release(&r);
	free(spec);
}

/* randwrite and randread on the NVMe swap device after swapoff. */
static void test_fio(void **state)
{
	static const char *const rws[] = { "randwrite", "randread" };
	char *spec = suite("device-baseline-ci");
	struct it_run r = it_run_spec(spec, "fio");

	assert_int_equal(r.exit_code, 0);
	for (int i = 0; i < 2; i++) {
		char cell[128];
		json_t *res, *info, *dir;
		long long io_bytes;

		snprintf(cell, sizeof(cell), "6.12--nvme--fio-%s--1", rws[i]);
		res = it_cell_result(&r, cell);
		assert_status(res, "ok");
		assert_true(it_metric(res, "bw") > 0);
		assert_true(it_metric(res, "iops") > 0);
		assert_true(it_metric(res, "clat_p50") > 0);
		assert_true(it_metric(res, "clat_p50") <= it_metric(res, "clat_p99"));
		assert_true(it_metric(res, "clat_p99") <= it_metric(res, "clat_p99.9"));
		/* 4k blocks: bandwidth and IOPS describe the same I/O. */
		assert_true(fabs(it_metric(res, "bw") * 1e6 / 4096 / it_metric(res, "iops") - 1) < 0.01);
		info = json_object_get(res, "workload_info");
		assert_string_equal(json_string_value(json_object_get(info, "device")),
				    "/dev/nvme0n1");
		/* Swap was on the device after set-up, off after the workload. */
		assert_string_equal(json_string_value(json_object_get(json_array_get(
			json_object_get(res, "swaps"), 0), "name")), "/dev/nvme0n1");
		assert_int_equal(json_array_size(json_object_get(res, "swaps_after")), 0);
		dir = json_object_get(info, i == 0 ? "write" : "read");
		io_bytes = json_integer_value(json_object_get(dir, "io_bytes"));
		assert_true(io_bytes > (1 << 20));
		/* The kernel saw that much block I/O (pgpgin/pgpgout are KiB);
		 * the read test's prefill came before the measured phase. */
		assert_true(it_counter(res, "vmstat", i == 0 ? "pgpgout" : "pgpgin") * 1024 >=
			    io_bytes);
		assert_int_equal(it_counter(res, "vmstat", "pswpout"), 0);
		json_decref(res);
	}
	it_run_release(&r);
	free(spec);
}

/* The vm stressor over twice the limit swaps out and back in; the swap
 * stressor cannot make a swap file on tmpfs and is skipped, saying why. */
static void test_stress_ng(void **state)
{
	struct it_run r = it_run_spec("workload-stress-ng.json", "stress-ng");
	json_t *res;

	/* Some cells skipped, none failed: exit 4. */
	assert_int_equal(r.exit_code, 4);
	res = it_cell_result(&r, "6.12--zram--stress-ng-vm--1");
	assert_status(res, "ok");
	assert_clean_memcg(res);
	assert_true(it_metric(res, "bogo_ops") > 0);
	assert_true(it_metric(res, "bogo_ops_per_s") > 0);
	assert_true(it_counter(res, "vmstat", "pswpout") > 1000);
	assert_true(it_counter(res, "vmstat", "pswpin") > 0);
	json_decref(res);
	res = it_cell_result(&r, "6.12--zram--stress-ng-swap--1");
	assert_status(res, "skipped");
	assert_non_null(strstr(json_string_value(json_object_get(res, "error")),
			       "swap stressor needs a file system"));
	json_decref(res);
	it_run_release(&r);
}

/* Two 32M blocks written at random in a 48M memcg: every event swaps. */
static void test_sysbench(void **state)
{
	struct it_run r = it_run_spec("workload-sysbench.json", "sysbench");
	json_t *res;

	assert_int_equal(r.exit_code, 0);
	res = it_cell_result(&r, "6.12--zram--sysbench-memory--1");
	assert_status(res, "ok");
	assert_clean_memcg(res);
	assert_true(it_metric(res, "throughput") > 0);
	assert_true(it_metric(res, "events") >= 1);
	assert_true(it_metric(res, "lat_avg") > 0);
	assert_true(it_metric(res, "lat_avg") <= it_metric(res, "lat_p95") * 1.5 + 1);
	assert_true(it_counter(res, "vmstat", "pswpout") > 1000);
	assert_true(it_counter(res, "vmstat", "pswpin") > 1000);
	json_decref(res);
	it_run_release(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernbench),
		cmocka_unit_test(test_fio),
		cmocka_unit_test(test_stress_ng),
		cmocka_unit_test(test_sysbench),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
