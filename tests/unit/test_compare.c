/* compare: statistics on fixed data against reference values, renderings
 * against golden files (SB_UPDATE_GOLDEN=1 rewrites them), and bad input. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/compare.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/result.h"
#include "tests/unit/test-util.h"

/* Welch's textbook example (Wikipedia "Welch's t-test", example 1):
 * t = -2.46, df = 24.99, p = 0.021. As a higher-is-better throughput. */
static const double welch_a[15] = { 27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
				    21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4 };
static const double welch_b[15] = { 27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
				    24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4 };

static char topdir[] = "/tmp/sb-compare-XXXXXX";

static void write_json(const char *path, json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);

	assert_int_equal(write_file_atomic(path, t, strlen(t)), 0);
	free(t);
	json_decref(j);
}

/* A run directory: kernels[] x topology "zram" x workload "anon". */
static void make_run(const char *dir, const char *name, const char *const *kernels, int nk,
		     int iters, double (*val)(int k, int i, const char *metric))
{
	json_t *kj = json_array();
	char *p;

	mkdir(dir, 0755);
	for (int k = 0; k < nk; k++)
		json_array_append_new(kj, json_pack("{s:s,s:s,s:s}", "name", kernels[k], "source",
						    "debian:6.12", "release", "6.12.0-test"));
	p = xasprintf("%s/run.json", dir);
	write_json(p, json_pack("{s:i,s:s,s:o,s:{s:s},s:{s:i,s:i},s:i,s:[{s:s,s:{s:i}}]}",
				"schema_version", 1, "name", name, "kernels", kj, "accel", "used",
				"tcg", "vm", "memory_mb", 1024, "cpus", 2, "iterations", iters,
				"workloads", "name", "anon", "memcg", "max", 64 << 20));
	free(p);
	p = xasprintf("%s/cells", dir);
	mkdir(p, 0755);
	free(p);
	for (int k = 0; k < nk; k++)
		for (int i = 0; i < iters; i++) {
			char *id = xasprintf("%s--zram--anon--%d", kernels[k], i + 1);
			char *cd = xasprintf("%s/cells/%s", dir, id);

			mkdir(cd, 0755);
			p = xasprintf("%s/result.json", cd);
			write_json(p, json_pack(
				"{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:[{s:s,s:f,s:s,s:s},{s:s,s:f,s:s,s:s},"
				"{s:s,s:f,s:s,s:s}],s:{s:{s:{s:i,s:i}}},"
				"s:{s:{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f}}}",
				"schema_version", 1, "status", "ok", "kernel", kernels[k], "topology",
				"zram", "workload", "anon", "iteration", i + 1, "cell_id", id,
				"metrics", "name", "throughput", "value", val(k, i, "throughput"),
				"unit", "MB/s", "better", "higher", "name", "elapsed", "value",
				val(k, i, "elapsed"), "unit", "s", "better", "lower", "name",
				"free_time", "value", val(k, i, "free_time"), "unit", "ms",
				"better", "lower", "counters", "vmstat", "delta", "pswpout",
				1000 * (k + 1) + i, "zswpout", 0, "host", "noise", "cpus", 2,
				"load1_start", 1.0 + 2 * k, "load1_end", 1.0 + 2 * k, "host_busy",
				0.6 + 0.3 * k, "others_busy", 0.1 + 0.5 * k, "steal", 0.0,
				"qemu_cpu_s", 20.0, "qemu_cpu_per_wall", 1.0 - 0.4 * k));
			free(p);
			free(cd);
			free(id);
		}
}

static double values(int k, int i, const char *metric)
{
	if (!strcmp(metric, "throughput"))
		return k ? welch_b[i] : welch_a[i];
	if (!strcmp(metric, "elapsed")) /* patched clearly slower: a regression */
		return k ? 12.0 + (i % 3) * 0.1 : 10.0 + (i % 3) * 0.1;
	/* free_time: same mean (6), noisy on the patched side. */
	return k ? 6.0 + ((i % 5) - 2) * 2.0 : 5.0 + (i % 5) * 0.5;
}

static double values_b(int k, int i, const char *metric)
{
	return values(1, i, metric);
}

static void golden(const char *name, const char *text, int email)
{
	char *path = xasprintf("%s/golden/%s", getenv("SB_TEST_DATA"), name);
	char *want = NULL;

	if (getenv("SB_UPDATE_GOLDEN")) {
		assert_int_equal(write_file_atomic(path, text, strlen(text)), 0);
	} else {
		if (read_file(path, 1 << 20, &want, NULL))
			fail_msg("missing golden file %s (SB_UPDATE_GOLDEN=1 creates it)", path);
		if (strcmp(want, text)) {
			char *got = xasprintf("%s.got", path);

			write_file_atomic(got, text, strlen(text));
			fail_msg("%s differs from the golden file; output in %s", name, got);
		}
	}
	/* Email rules: 80 columns, no tabs, no colour codes. */
	for (const char *line = text; email && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line), cols = 0;

		for (size_t i = 0; i < len; i++)
			cols += ((unsigned char)line[i] & 0xc0) != 0x80; /* count UTF-8 chars */
		if (cols > 80)
			fail_msg("%s: line over 80 columns: %.*s", name, (int)len, line);
		line = nl ? nl + 1 : line + len;
	}
	assert_null(strchr(text, '\t'));
	assert_null(strchr(text, '\033'));
	free(want);
	free(path);
}

static char *render(json_t *cmp, int lkp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (lkp)
		compare_print_lkp(cmp, f, 0);
	else
		compare_print_mmtests(cmp, f, 0);
	fclose(f);
	return buf;
}

static double change(json_t *cmp, const char *name, const char *field)
{
	return json_number_value(json_object_get(json_array_get(json_object_get(
		cmp_metric(cmp, name), "changes"), 1), field));
}

static const char *verdict(json_t *cmp, const char *name)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(
		cmp_metric(cmp, name), "changes"), 1), "verdict"));
}

static void test_kernels(void **state)
{
	const char *const runs[] = { "run-k" };
	struct compare_opts o = { .fail_pct = 5 };
	json_t *cmp;
	char *text, *js;

	assert_int_equal(compare_build(runs, 1, &o, &cmp), 0);
	assert_string_equal(json_string_value(json_object_get(cmp, "baseline")), "base");
	/* The textbook Welch example, through the whole pipeline. */
	assert_float_equal(change(cmp, "throughput", "welch_p"), 0.021378, 1e-5);
	/* ... yet its 95% CIs overlap ([19.41, 22.23] vs [22.12, 23.86]), so the
	 * stricter mmtests rule does not call it, and the 12% CoeffVar is noise. */
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(
		cmp_metric(cmp, "throughput"), "changes"), 1), "ci_overlap")));
	assert_string_equal(verdict(cmp, "throughput"), "underpowered");
	/* MDE from the published t = -2.46 and df = 24.99: the difference of
	 * means over |t| is the standard error; times (t.975 + t.80) at 25 df
	 * from the tables (2.060 + 0.856), over the baseline mean 20.82. */
	assert_float_equal(change(cmp, "throughput", "mde_pct"),
			   2.16667 / 2.46 * (2.060 + 0.856) / 20.82 * 100, 0.05);
	/* Paired by iteration: the mean difference is +2.167 MB/s. */
	assert_int_equal(change(cmp, "throughput", "pairs"), 15);
	assert_float_equal(change(cmp, "throughput", "paired_change_pct"), 2.16667 / 20.82 * 100,
			   0.01);
	/* mmtests percentage on Hmean, better is positive. */
	assert_true(change(cmp, "throughput", "pct_change") > 0);
	/* elapsed 10.1 -> 12.1 s: 100 - 12.1/10.1*100 = -19.80%, caught by the gate. */
	assert_float_equal(change(cmp, "elapsed", "pct_change"), -19.80, 0.01);
	assert_float_equal(change(cmp, "elapsed", "raw_change"), 19.80, 0.01);
	assert_string_equal(verdict(cmp, "elapsed"), "worse");
	assert_int_equal(json_array_size(json_object_get(cmp, "regressions")), 1);
	assert_string_equal(verdict(cmp, "free_time"), "underpowered");
	/* The patched side ran on a busier host: said per group. */
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(json_array_get(
		json_object_get(cmp, "groups"), 0), "host_warnings"), 0)),
		"host was busier during patched"));
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(
		cmp_metric(cmp, "free_time"), "changes"), 1), "noisy")));
	text = render(cmp, 0);
	golden("compare-kernels-mmtests.txt", text, 1);
	free(text);
	text = render(cmp, 1);
	golden("compare-kernels-lkp.txt", text, 1);
	free(text);
	js = json_dumps(cmp, JSON_INDENT(1) | JSON_REAL_PRECISION(8));
	golden("compare-kernels.json", js, 0);
	free(js);
	json_decref(cmp);
}

/* same needs the MDE within twice the threshold; --paired takes the
 * verdict from the paired test. */
static void test_power_options(void **state)
{
	const char *const runs[] = { "run-k" };
	struct compare_opts o = { .threshold_pct = 50 };
	json_t *cmp;

	assert_int_equal(compare_build(runs, 1, &o, &cmp), 0);
	/* free_time: MDE about 39% of 6 ms: not underpowered at a 50% threshold. */
	assert_true(change(cmp, "free_time", "mde_pct") > 30);
	assert_true(change(cmp, "free_time", "mde_pct") < 50);
	assert_string_equal(verdict(cmp, "free_time"), "same");
	json_decref(cmp);
	o = (struct compare_opts){ .paired = 1 };
	assert_int_equal(compare_build(runs, 1, &o, &cmp), 0);
	/* Paired t = 2.69 on 14 df: p < 0.05, where the CI rule said nothing. */
	assert_true(change(cmp, "throughput", "paired_p") < 0.05);
	assert_string_equal(verdict(cmp, "throughput"), "better");
	assert_string_equal(verdict(cmp, "elapsed"), "worse");
	json_decref(cmp);
}

static void test_baseline_option(void **state)
{
	const char *const runs[] = { "run-k" };
	struct compare_opts o = { .baseline = "patched" };
	json_t *cmp;

	assert_int_equal(compare_build(runs, 1, &o, &cmp), 0);
	assert_string_equal(json_string_value(json_object_get(cmp, "baseline")), "patched");
	assert_string_equal(verdict(cmp, "elapsed"), "better");
	json_decref(cmp);
	o.baseline = "nope";
	assert_int_equal(compare_build(runs, 1, &o, &cmp), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "--baseline 'nope'"));
}

static void test_runs(void **state)
{
	const char *const runs[] = { "run-a", "run-b" };
	struct compare_opts o = { 0 };
	json_t *cmp;
	char *text;

	assert_int_equal(compare_build(runs, 2, &o, &cmp), 0);
	assert_string_equal(json_string_value(json_object_get(cmp, "mode")), "runs");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		cmp, "groups"), 0), "kernel")), "k");
	assert_float_equal(change(cmp, "throughput", "welch_p"), 0.021378, 1e-5);
	text = render(cmp, 0);
	golden("compare-runs-mmtests.txt", text, 1);
	free(text);
	json_decref(cmp);
}

static void test_bad_input(void **state)
{
	const char *const notrun[] = { "cells-only" };
	const char *const one[] = { "run-a" };
	const char *const nocommon[] = { "run-a", "run-other" };
	const char *const corrupt[] = { "run-corrupt" };
	struct compare_opts o = { 0 };
	json_t *cmp;
	FILE *f;

	mkdir("cells-only", 0755);
	assert_int_equal(compare_build(notrun, 1, &o, &cmp), -ENOENT);
	assert_non_null(strstr(sb_lasterr(), "'cells-only' is not a swapbench run"));
	assert_int_equal(compare_build(one, 1, &o, &cmp), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "nothing to compare"));
	assert_int_equal(compare_build(nocommon, 2, &o, &cmp), -ENOENT);
	assert_non_null(strstr(sb_lasterr(), "no common cells"));
	/* A result.json newer than the index is re-read; a broken one is named. */
	f = fopen("run-corrupt/cells/base--zram--anon--2/result.json", "w");
	fputs("{\"schema_version\": 1, \"status\": ", f);
	fclose(f);
	assert_int_equal(compare_build(corrupt, 1, &o, &cmp), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "base--zram--anon--2/result.json"));
}

/* Probes of issue 14: run.json kernels without a name or as plain strings
 * (compare crashed: SIGSEGV), and an index (summary.json) newer than the
 * cells but edited: never believed, rebuilt from the cells. */
static void test_hostile_runs(void **state)
{
	const char *const two[] = { "base", "patched" };
	const char *const noname[] = { "run-noname" }, *const strs[] = { "run-strings" };
	const char *const tamper[] = { "run-tamper" };
	struct compare_opts o = { 0 };
	json_t *cmp = NULL, *sum, *run, *row;
	double mean;

	make_run("run-noname", "noname", two, 2, 3, values);
	run = json_load_file("run-noname/run.json", 0, NULL);
	json_object_del(json_array_get(json_object_get(run, "kernels"), 1), "name");
	write_json("run-noname/run.json", run);
	assert_int_equal(compare_build(noname, 1, &o, &cmp), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "run-noname/run.json: kernels[1].name"));

	make_run("run-strings", "strings", two, 2, 3, values);
	run = json_load_file("run-strings/run.json", 0, NULL);
	json_object_set_new(run, "kernels", json_pack("[s,s]", "base", "patched"));
	write_json("run-strings/run.json", run);
	assert_int_equal(compare_build(strs, 1, &o, &cmp), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "kernels[0].name"));

	make_run("run-tamper", "tamper", two, 2, 3, values);
	assert_int_equal(summary_load("run-tamper", &sum), 0);
	row = json_array_get(json_object_get(sum, "rows"), 0);
	mean = json_number_value(json_object_get(row, "mean"));
	json_object_set_new(row, "mean", json_real(mean * 9900.65));
	write_json("run-tamper/summary.json", sum);
	assert_int_equal(summary_load("run-tamper", &sum), 0);
	row = json_array_get(json_object_get(sum, "rows"), 0);
	assert_float_equal(json_number_value(json_object_get(row, "mean")), mean, 1e-9);
	/* An index missing a cell is rebuilt too. */
	json_array_remove(json_object_get(sum, "cells"), 0);
	write_json("run-tamper/summary.json", sum);
	assert_int_equal(summary_load("run-tamper", &sum), 0);
	assert_int_equal(json_array_size(json_object_get(sum, "cells")), 6);
	json_decref(sum);
	assert_int_equal(compare_build(tamper, 1, &o, &cmp), 0);
	json_decref(cmp);
}

/* free_time 0 on the baseline (as 6.12's swap-table bytes per slot, a
 * structure it does not have), nonzero on the candidate. */
static double values_zero_base(int k, int i, const char *metric)
{
	if (!strcmp(metric, "free_time"))
		return k ? 8.0 + i * 0.01 : 0.0;
	return values(k, i, metric);
}

/* An infinite change cannot be JSON: that metric gets no change object
 * (blank %base and verdict), the others still compare; no crash. */
static void test_zero_baseline(void **state)
{
	const char *const runs[] = { "run-zero" };
	struct compare_opts o = { 0 };
	json_t *cmp;
	char *text;

	(void)state;
	assert_int_equal(compare_build(runs, 1, &o, &cmp), 0);
	assert_true(json_is_null(json_array_get(json_object_get(cmp_metric(cmp, "free_time"),
								"changes"), 1)));
	assert_string_equal(verdict(cmp, "elapsed"), "worse");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		compare_print_rows(cmp, f, 0);
		compare_print_mmtests(cmp, f, 0);
		fclose(f);
		text = buf;
	}
	assert_non_null(strstr(text, "free_time"));
	free(text);
	json_decref(cmp);
}

static int setup(void **state)
{
	const char *const two[] = { "base", "patched" };
	const char *const one[] = { "k" };
	const char *const other[] = { "other" };

	if (!mkdtemp(topdir) || chdir(topdir))
		return -1;
	make_run("run-k", "kernels", two, 2, 15, values);
	make_run("run-a", "before", one, 1, 15, values);
	make_run("run-b", "after", one, 1, 15, values_b);
	make_run("run-other", "other", other, 1, 3, values);
	make_run("run-corrupt", "corrupt", two, 2, 3, values);
	make_run("run-zero", "zero", two, 2, 3, values_zero_base);
	return 0;
}

static int teardown(void **state)
{
	if (chdir("/") == 0)
		rm_rf(topdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels),
		cmocka_unit_test(test_power_options),
		cmocka_unit_test(test_baseline_option),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_hostile_runs),
		cmocka_unit_test(test_zero_baseline),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
