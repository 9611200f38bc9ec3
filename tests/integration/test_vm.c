/* Integration tests: boot real Debian kernels under qemu (TCG here) through
 * `swapbench run` and assert on what the guest really did.
 *
 * Usage: test_vm [TEST]   (runs one test, or all)
 * Env:   SB_BIN   the swapbench binary
 *        SB_SPECS directory of the integration specs
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"
#include "common/process.h"

/* The guest really swapped, under a limit that really held. */
static void assert_swapped(json_t *res, const char *release_prefix, int zswap)
{
	json_t *memcg = json_object_get(res, "memcg");

	it_assert_swapped(res, release_prefix);
	assert_true(json_is_true(json_object_get(memcg, "limit_held")));
	assert_int_equal(json_integer_value(json_object_get(memcg, "max")), 48 << 20);
	/* The workload touched twice the limit: the limit must have been hit. */
	assert_true(json_integer_value(json_object_get(json_object_get(memcg, "events"),
						       "max")) > 0);
	assert_true(json_integer_value(json_object_get(memcg, "peak")) > (40 << 20));
	if (zswap)
		assert_true(it_counter(res, "vmstat", "zswpout") > 1000);
	else
		assert_int_equal(it_counter(res, "vmstat", "zswpout"), 0);
	/* Touched 96 MB in pages twice; throughput is positive and finite. */
	assert_true(it_metric(res, "throughput") > 0.1);
	assert_true(it_metric(res, "lat_p50") <= it_metric(res, "lat_p99"));
	/* perf counters of the workload and memcg reclaim stalls (test_perf). */
	assert_true(it_counter(res, "perf", "page-faults") > 0);
	assert_true(it_metric(res, "reclaim.memcg.stalls") > 0);
	assert_true(json_array_size(json_object_get(res, "samples")) >= 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
		res, "host"), "console"), "panics")), 0);
}

static void check_swap_run(const char *spec, const char *tag, const char *kname,
			   const char *release)
{
	struct it_run r = it_run_spec(spec, tag);
	char cell[128];
	json_t *res, *run, *summary;

	assert_int_equal(r.exit_code, 0);
	snprintf(cell, sizeof(cell), "%s--zram--anon--1", kname);
	res = it_cell_result(&r, cell);
	assert_swapped(res, release, 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(res, "swaps"), 0), "name")), "/dev/zram0");
	json_decref(res);
	snprintf(cell, sizeof(cell), "%s--zswap-nvme--anon--1", kname);
	res = it_cell_result(&r, cell);
	assert_swapped(res, release, 1);
	assert_int_equal(strncmp(json_string_value(json_object_get(json_array_get(
		json_object_get(res, "swaps"), 0), "name")), "/dev/nvme", 9), 0);
	json_decref(res);
	run = it_load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "finished");
	assert_non_null(json_string_value(json_object_get(json_object_get(run, "accel"), "used")));
	assert_int_equal(strncmp(json_string_value(json_object_get(json_array_get(
		json_object_get(run, "kernels"), 0), "release")), release, strlen(release)), 0);
	json_decref(run);
	summary = it_load(r.out, "summary.json");
	assert_true(json_array_size(json_object_get(summary, "rows")) >= 2 * 9);
	json_decref(summary);
	it_run_release(&r);
}

static void test_swap_612(void **state)
{
	check_swap_run("swap-6.12.json", "swap-6.12", "6.12", "6.12.");
}

static void test_swap_61(void **state)
{
	check_swap_run("swap-6.1.json", "swap-6.1", "6.1", "6.1.");
}

/* A guest panic is recorded as crashed with its console; the other cell
 * still runs and is stored; exit 3. */
static void test_panic(void **state)
{
	struct it_run r = it_run_spec("panic.json", "panic");
	json_t *ok, *bad, *tail, *line;
	size_t i;
	int saw = 0;

	assert_int_equal(r.exit_code, 3);
	ok = it_cell_result(&r, "6.12--zram--anon--1");
	assert_string_equal(json_string_value(json_object_get(ok, "status")), "ok");
	bad = it_cell_result(&r, "6.12--panics--anon--1");
	assert_string_equal(json_string_value(json_object_get(bad, "status")), "crashed");
	json_decref(ok);
	tail = json_object_get(bad, "console_tail");
	assert_true(json_array_size(tail) > 0);
	json_array_foreach(json_object_get(bad, "console_first_problem"), i, line)
		saw |= !!strstr(json_string_value(line), "Kernel panic");
	assert_true(saw);
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(
		bad, "host"), "console"), "panics")) > 0);
	/* It crashed before its workload every time: booted three times. */
	assert_int_equal(json_array_size(json_object_get(json_object_get(bad, "host"),
							 "failed_boots")), 2);
	assert_non_null(strstr(r.output, "crashed"));
	json_decref(bad);
	it_run_release(&r);
}

/* A guest that never finishes is killed at vm.timeout and recorded. */
static void test_hang(void **state)
{
	struct it_run r = it_run_spec("hang.json", "hang");
	json_t *res;

	assert_int_equal(r.exit_code, 3);
	res = it_cell_result(&r, "6.12--hangs--anon--1");
	assert_string_equal(json_string_value(json_object_get(res, "status")), "timeout");
	assert_true(json_is_true(json_object_get(json_object_get(res, "host"), "timed_out")));
	json_decref(res);
	it_run_release(&r);
}

/* A guest that dies before the agent starts is booted once more (TCG SMP
 * guests occasionally crash while patching kernel text); a kernel that
 * cannot boot at all stays crashed, with both consoles kept. */
static void test_boot_failure(void **state)
{
	struct it_run r = it_run_spec("bootfail.json", "bootfail");
	char *first;
	json_t *res, *boots;

	assert_int_equal(r.exit_code, 3);
	res = it_cell_result(&r, "6.12--zram--anon--1");
	assert_string_equal(json_string_value(json_object_get(res, "status")), "crashed");
	boots = json_object_get(json_object_get(res, "host"), "failed_boots");
	/* Three boots in all: two failed ones kept, then the last. */
	assert_int_equal(json_array_size(boots), 2);
	assert_true(json_integer_value(json_object_get(json_array_get(boots, 0), "panics")) > 0);
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(
		res, "host"), "console"), "panics")) > 0);
	for (int i = 1; i <= 2; i++) {
		first = xasprintf("%s/cells/6.12--zram--anon--1/console-attempt%d.log", r.out, i);
		assert_true(path_exists(first));
		free(first);
	}
	json_decref(res);
	it_run_release(&r);
}

/* --dry-run lists the matrix in run order and writes, fetches, boots
 * nothing; a bad spec is refused the same way as by run. */
static void test_dry_run(void **state)
{
	char *quick = xasprintf("%s/configs/suites/quick.json", SWAPBENCH_SOURCE_DIR);
	const char *argv[] = { getenv("SB_BIN"), "run", quick, "--dry-run", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 30000, .capture = 1,
				.quiet_stderr = 1 };
	struct spawn_result res;
	int lines = 0;

	assert_int_equal(spawn_run(&o, &res), 0);
	assert_int_equal(res.exit_code, 0);
	for (char *p = res.out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 12);
	{
		static const char first[] = "6.1--zram--anon--1\n6.12--zram--anon--1\n";

		assert_int_equal(strncmp(res.out, first, strlen(first)), 0);
	}
	spawn_result_release(&res);
	free(quick);
	quick = xasprintf("%s/unknown-key.json", getenv("SB_SPECS"));
	argv[2] = quick;
	assert_int_equal(spawn_run(&o, &res), 0);
	assert_int_equal(res.exit_code, 2);
	spawn_result_release(&res);
	free(quick);
}

/* Bad input: exit 2, a one-line message, and no results directory. */
static void test_missing_kernel(void **state)
{
	struct it_run r = it_run_spec("missing-kernel.json", "missing-kernel");

	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "missing-kernel.json: kernels[0]"));
	assert_non_null(strstr(r.output, "linux-image-0.0.0-99-nonexistent-amd64"));
	assert_false(path_exists(r.out));
	it_run_release(&r);
}

/* A kernel whose config lacks ZSWAP cannot run a zswap topology: its cells
 * are skipped without booting, naming the option (other cells would run).
 * Uses image: + config. */
static void test_unsupported_topology(void **state)
{
	const char *argv[] = { getenv("SB_BIN"), "kernel", "get", "debian:6.12", "--json", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 600000, .capture = 1 };
	struct spawn_result res;
	json_t *id;
	char *cfg, *text, *p, *spec;
	FILE *f;
	struct it_run r;

	assert_int_equal(spawn_run(&o, &res), 0);
	assert_int_equal(res.exit_code, 0);
	id = json_loads(res.out, 0, NULL);
	assert_non_null(id);
	assert_int_equal(read_file(json_string_value(json_object_get(id, "config")), 16 << 20,
				   &text, NULL), 0);
	p = strstr(text, "\nCONFIG_ZSWAP=y");
	assert_non_null(p);
	memcpy(p + 1, "# CONFIG_ZSWAP_", 15); /* same length: "CONFIG_ZSWAP=y" -> unset */
	cfg = xasprintf("%s/no-zswap.config", it_tmpdir());
	assert_int_equal(write_file_atomic(cfg, text, strlen(text)), 0);
	spec = xasprintf("%s/no-zswap.json", it_tmpdir());
	f = fopen(spec, "w");
	fprintf(f, "{\"kernels\": [{\"name\": \"nozswap\", \"source\": \"image:%s\", "
		   "\"config\": \"%s\", \"modules\": \"%s\"}],\n \"topologies\": "
		   "[\"zswap-nvme\"],\n \"workloads\": [{\"kind\": \"anon\"}]}\n",
		json_string_value(json_object_get(id, "vmlinuz")), cfg,
		json_string_value(json_object_get(id, "modules_root")) ?: "");
	fclose(f);
	r = it_run_spec(spec, "no-zswap");
	/* every cell skipped: exit 4, the reason in the cell, nothing booted */
	assert_int_equal(r.exit_code, 4);
	assert_non_null(strstr(r.output, "cannot run topology 'zswap-nvme'"));
	{
		json_t *cres = it_cell_result(&r, "nozswap--zswap-nvme--anon--1");
		const char *err = json_string_value(json_object_get(cres, "error"));

		assert_string_equal(json_string_value(json_object_get(cres, "status")), "skipped");
		assert_non_null(err);
		assert_non_null(strstr(err, "CONFIG_ZSWAP=y (has not set)"));
		assert_null(json_object_get(cres, "host"));
		json_decref(cres);
	}
	it_run_release(&r);
	json_decref(id);
	spawn_result_release(&res);
	free(text);
	free(cfg);
	free(spec);
}

/* The guest is untrusted: what it writes into its cell directory over 9p
 * must not become a setuid-root file, a symlink, a FIFO or a device node
 * on the host (the share uses a mapped security model). The guest itself
 * still sees what it made (its commands succeed). */
static void test_hostile_guest(void **state)
{
	static const char *const planted[] = { "suid-sh", "shadow-link", "fifo", "null-dev" };
	struct it_run r = it_run_spec("hostile-guest.json", "hostile");
	char *dir = xasprintf("%s/cells/6.12--planter--anon--1/guest", r.out);
	json_t *res;

	(void)state;
	assert_int_equal(r.exit_code, 0);
	res = it_cell_result(&r, "6.12--planter--anon--1");
	assert_string_equal(json_string_value(json_object_get(res, "status")), "ok");
	for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
		char *p = xasprintf("%s/%s", dir, planted[i]);
		struct stat st;

		/* There (the guest made it), but a plain file without set-id or
		 * execute bits; never a link or a special file. */
		if (lstat(p, &st))
			fail_msg("%s: the guest's file is missing", p);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & (S_ISUID | S_ISGID | 0111), 0);
		free(p);
	}
	json_decref(res);
	free(dir);
	it_run_release(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_unsupported_topology),
		cmocka_unit_test(test_swap_612),
		cmocka_unit_test(test_swap_61),
		cmocka_unit_test(test_panic),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_boot_failure),
		cmocka_unit_test(test_hostile_guest),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
