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
#include <unistd.h>

#include "fsutil.h"
#include "process.h"

static char tmpdir[] = "/tmp/swapbench-it-XXXXXX";

struct run {
	int exit_code;
	char *out;    /* results dir */
	char *output; /* what swapbench printed */
};

static void run_release(struct run *r)
{
	free(r->out);
	free(r->output);
}

static struct run run_spec(const char *spec, const char *tag)
{
	struct run r = { 0 };
	char *specpath = spec[0] == '/' ? xstrdup(spec)
					: xasprintf("%s/%s", getenv("SB_SPECS"), spec);
	const char *argv[] = { getenv("SB_BIN"), "run", specpath, "--out", NULL, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 20 * 60 * 1000, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result res;

	r.out = xasprintf("%s/%s", tmpdir, tag);
	argv[4] = r.out;
	assert_int_equal(spawn_run(&o, &res), 0);
	assert_false(res.timed_out);
	r.exit_code = res.exit_code;
	r.output = res.out ? xstrdup(res.out) : xstrdup("");
	print_message("%s", r.output);
	spawn_result_release(&res);
	free(specpath);
	return r;
}

static json_t *load(const char *dir, const char *file)
{
	char *p = xasprintf("%s/%s", dir, file);
	json_error_t e;
	json_t *j = json_load_file(p, 0, &e);

	if (!j)
		fail_msg("cannot load %s: %s", p, e.text);
	free(p);
	return j;
}

static json_t *cell_result(const struct run *r, const char *cell)
{
	char *p = xasprintf("cells/%s/result.json", cell);
	json_t *j = load(r->out, p);

	free(p);
	return j;
}

static long long counter(json_t *res, const char *source, const char *name)
{
	json_t *v = json_object_get(json_object_get(json_object_get(json_object_get(res,
		"counters"), source), "delta"), name);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static double metric(json_t *res, const char *name)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(res, "metrics"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "name")), name))
			return json_number_value(json_object_get(m, "value"));
	fail_msg("metric %s missing", name);
	return 0;
}

/* The guest really swapped, under a limit that really held. */
static void assert_swapped(json_t *res, const char *release_prefix, int zswap)
{
	json_t *memcg = json_object_get(res, "memcg");

	assert_string_equal(json_string_value(json_object_get(res, "status")), "ok");
	assert_int_equal(strncmp(json_string_value(json_object_get(res, "kernel_release")),
				 release_prefix, strlen(release_prefix)), 0);
	assert_true(counter(res, "vmstat", "pswpout") > 1000);
	assert_true(counter(res, "vmstat", "pswpin") > 0);
	assert_true(counter(res, "memory_stat", "pgmajfault") > 0);
	assert_true(json_is_true(json_object_get(memcg, "limit_held")));
	assert_int_equal(json_integer_value(json_object_get(memcg, "max")), 48 << 20);
	/* The workload touched twice the limit: the limit must have been hit. */
	assert_true(json_integer_value(json_object_get(json_object_get(memcg, "events"),
						       "max")) > 0);
	assert_true(json_integer_value(json_object_get(memcg, "peak")) > (40 << 20));
	if (zswap)
		assert_true(counter(res, "vmstat", "zswpout") > 1000);
	else
		assert_int_equal(counter(res, "vmstat", "zswpout"), 0);
	/* Touched 96 MB in pages twice; throughput is positive and finite. */
	assert_true(metric(res, "throughput") > 0.1);
	assert_true(metric(res, "lat_p50") <= metric(res, "lat_p99"));
	assert_true(json_array_size(json_object_get(res, "samples")) >= 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
		res, "host"), "console"), "panics")), 0);
}

static void check_swap_run(const char *spec, const char *tag, const char *kname,
			   const char *release)
{
	struct run r = run_spec(spec, tag);
	char cell[128];
	json_t *res, *run, *summary;

	assert_int_equal(r.exit_code, 0);
	snprintf(cell, sizeof(cell), "%s--zram--anon--1", kname);
	res = cell_result(&r, cell);
	assert_swapped(res, release, 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(res, "swaps"), 0), "name")), "/dev/zram0");
	json_decref(res);
	snprintf(cell, sizeof(cell), "%s--zswap-nvme--anon--1", kname);
	res = cell_result(&r, cell);
	assert_swapped(res, release, 1);
	assert_int_equal(strncmp(json_string_value(json_object_get(json_array_get(
		json_object_get(res, "swaps"), 0), "name")), "/dev/nvme", 9), 0);
	json_decref(res);
	run = load(r.out, "run.json");
	assert_string_equal(json_string_value(json_object_get(run, "status")), "finished");
	assert_non_null(json_string_value(json_object_get(json_object_get(run, "accel"), "used")));
	assert_int_equal(strncmp(json_string_value(json_object_get(json_array_get(
		json_object_get(run, "kernels"), 0), "release")), release, strlen(release)), 0);
	json_decref(run);
	summary = load(r.out, "summary.json");
	assert_true(json_array_size(json_object_get(summary, "rows")) >= 2 * 9);
	json_decref(summary);
	run_release(&r);
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
	struct run r = run_spec("panic.json", "panic");
	json_t *ok, *bad, *tail, *line;
	size_t i;
	int saw = 0;

	assert_int_equal(r.exit_code, 3);
	ok = cell_result(&r, "6.12--zram--anon--1");
	assert_string_equal(json_string_value(json_object_get(ok, "status")), "ok");
	bad = cell_result(&r, "6.12--panics--anon--1");
	assert_string_equal(json_string_value(json_object_get(bad, "status")), "crashed");
	json_decref(ok);
	tail = json_object_get(bad, "console_tail");
	assert_true(json_array_size(tail) > 0);
	json_array_foreach(json_object_get(bad, "console_first_problem"), i, line)
		saw |= !!strstr(json_string_value(line), "Kernel panic");
	assert_true(saw);
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(
		bad, "host"), "console"), "panics")) > 0);
	assert_non_null(strstr(r.output, "crashed"));
	json_decref(bad);
	run_release(&r);
}

/* A guest that never finishes is killed at vm.timeout and recorded. */
static void test_hang(void **state)
{
	struct run r = run_spec("hang.json", "hang");
	json_t *res;

	assert_int_equal(r.exit_code, 3);
	res = cell_result(&r, "6.12--hangs--anon--1");
	assert_string_equal(json_string_value(json_object_get(res, "status")), "timeout");
	assert_true(json_is_true(json_object_get(json_object_get(res, "host"), "timed_out")));
	json_decref(res);
	run_release(&r);
}

/* Bad input: exit 2, a one-line message, and no results directory. */
static void test_missing_kernel(void **state)
{
	struct run r = run_spec("missing-kernel.json", "missing-kernel");

	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "missing-kernel.json: kernels[0]"));
	assert_non_null(strstr(r.output, "linux-image-0.0.0-99-nonexistent-amd64"));
	assert_false(path_exists(r.out));
	run_release(&r);
}

/* A kernel whose config lacks ZSWAP cannot run a zswap topology: refused
 * before anything boots, naming the option. Uses image: + config. */
static void test_unsupported_topology(void **state)
{
	const char *argv[] = { getenv("SB_BIN"), "kernel", "get", "debian:6.12", "--json", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 600000, .capture = 1 };
	struct spawn_result res;
	json_t *id;
	char *cfg, *text, *p, *spec;
	FILE *f;
	struct run r;

	assert_int_equal(spawn_run(&o, &res), 0);
	assert_int_equal(res.exit_code, 0);
	id = json_loads(res.out, 0, NULL);
	assert_non_null(id);
	assert_int_equal(read_file(json_string_value(json_object_get(id, "config")), 16 << 20,
				   &text, NULL), 0);
	p = strstr(text, "\nCONFIG_ZSWAP=y");
	assert_non_null(p);
	memcpy(p + 1, "# CONFIG_ZSWAP_", 15); /* same length: "CONFIG_ZSWAP=y" -> unset */
	cfg = xasprintf("%s/no-zswap.config", tmpdir);
	assert_int_equal(write_file_atomic(cfg, text, strlen(text)), 0);
	spec = xasprintf("%s/no-zswap.json", tmpdir);
	f = fopen(spec, "w");
	fprintf(f, "{\"kernels\": [{\"name\": \"nozswap\", \"source\": \"image:%s\", "
		   "\"config\": \"%s\", \"modules\": \"%s\"}],\n \"topologies\": "
		   "[\"zswap-nvme\"],\n \"workloads\": [{\"kind\": \"anon\"}]}\n",
		json_string_value(json_object_get(id, "vmlinuz")), cfg,
		json_string_value(json_object_get(id, "modules_root")) ?: "");
	fclose(f);
	r = run_spec(spec, "no-zswap");
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "cannot run topology 'zswap-nvme'"));
	assert_non_null(strstr(r.output, "CONFIG_ZSWAP=y (has not set)"));
	assert_false(path_exists(r.out));
	run_release(&r);
	json_decref(id);
	spawn_result_release(&res);
	free(text);
	free(cfg);
	free(spec);
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	if (!getenv("SB_KEEP"))
		rm_rf(tmpdir);
	else
		fprintf(stderr, "kept %s\n", tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_kernel),
		cmocka_unit_test(test_unsupported_topology),
		cmocka_unit_test(test_swap_612),
		cmocka_unit_test(test_swap_61),
		cmocka_unit_test(test_panic),
		cmocka_unit_test(test_hang),
	};

	if (!getenv("SB_BIN") || !getenv("SB_SPECS")) {
		fprintf(stderr, "set SB_BIN and SB_SPECS\n");
		return 2;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
