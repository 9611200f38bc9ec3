/* swapbench plot on a synthetic run: every chart must come with its script,
 * data and images, the data must hold the summary's means, the text charts
 * must fit an email, and names from the run must never reach gnuplot
 * unquoted (a backquote there runs a shell command). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "harness/plot.h"
#include "common/process.h"

static const char *const kernels[] = { "6.1", "6.12" };
static const char *const topologies[] = { "zram", "zswap-nvme" };

static int have_gnuplot(void)
{
	const char *argv[] = { "gnuplot", "--version", NULL };

	return spawn_ok(argv, 10000);
}

static char *tmp_dir(void)
{
	char *d = xstrdup("/tmp/sb-test-plot-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void write_json(const char *path, json_t *doc)
{
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	json_decref(doc);
}

static json_t *metric(const char *name, double value, const char *unit, const char *better)
{
	return json_pack("{s:s,s:f,s:s,s:s}", "name", name, "value", value, "unit", unit,
			 "better", better);
}

/* A final result for one cell. Throughput is 100 + 20 k + 50 t + 10 (it - 1),
 * so the two iterations average to 105 + 20 k + 50 t with stddev 7.07107. */
static void write_cell(const char *run, const char *kernel, int k, const char *topo, int t,
		       const char *wl, int it)
{
	char *id = xasprintf("k%d--t%d--%d", k, t, it);
	char *dir = xasprintf("%s/cells/%s", run, id), *path;
	json_t *samples = json_array();

	for (int i = 0; i < 5; i++) {
		json_t *s = json_pack("{s:f,s:I,s:I}", "t", i * 0.5, "swap_used",
				      (json_int_t)(i * 10) << 20, "memcg_current",
				      (json_int_t)(60 + k) << 20);

		/* zram cells have no zswap pool: that panel must go. */
		if (t == 1)
			json_object_set_new(s, "zswap_pool", json_integer((json_int_t)(i * 3) << 20));
		json_array_append_new(samples, s);
	}
	assert_int_equal(mkdir_p(dir, 0755), 0);
	path = xasprintf("%s/result.json", dir);
	write_json(path, json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:[o,o,o,o],s:o}",
				   "schema_version", 1, "status", "ok", "kernel", kernel,
				   "topology", topo, "workload", wl, "iteration", it, "cell_id", id,
				   "metrics",
				   metric("throughput", 100 + 20 * k + 50 * t + 10 * (it - 1), "MB/s",
					  "higher"),
				   metric("lat_p50", 10 + k + it, "us", "lower"),
				   metric("lat_p99", 500 + 100 * k + 10 * it, "us", "lower"),
				   metric("lat_max", 9000 + 1000 * t + it, "us", "lower"),
				   "samples", samples));
	free(path);
	free(dir);
	free(id);
}

/* A run of 2 kernels x 2 topologies x workload wl x 2 iterations; summary.json
 * is left for summary_load to build from the cells. */
static char *make_run(const char *wl)
{
	char *run = tmp_dir(), *path = xasprintf("%s/run.json", run);

	write_json(path, json_pack("{s:i,s:[{s:s},{s:s}],s:[{s:s},{s:s}],s:[{s:s}],s:{s:s},s:i}",
				   "schema_version", 1, "kernels", "name", kernels[0], "name",
				   kernels[1], "topologies", "name", topologies[0], "name",
				   topologies[1], "workloads", "name", wl, "accel", "used", "tcg",
				   "iterations", 2));
	free(path);
	for (int k = 0; k < 2; k++)
		for (int t = 0; t < 2; t++)
			for (int it = 1; it <= 2; it++)
				write_cell(run, kernels[k], k, topologies[t], t, wl, it);
	return run;
}

/* The text of dir/name (name NULL: of dir); the test fails when it cannot
 * be read. */
static char *slurp(const char *dir, const char *name)
{
	char *path = name ? xasprintf("%s/%s", dir, name) : xstrdup(dir), *text;

	if (read_file(path, 16 << 20, &text, NULL))
		fail_msg("cannot read %s: %s", path, sb_lasterr());
	free(path);
	return text;
}

static void assert_nonempty(const char *dir, const char *name, const char *ext)
{
	char *path = xasprintf("%s/%s.%s", dir, name, ext);
	struct stat st;

	if (stat(path, &st) || st.st_size == 0)
		fail_msg("%s is missing or empty", path);
	free(path);
}

static void assert_missing(const char *dir, const char *name, const char *ext)
{
	char *path = xasprintf("%s/%s.%s", dir, name, ext);

	if (path_exists(path))
		fail_msg("%s should not exist", path);
	free(path);
}

/* Text charts: email width, no escape sequences, no form feeds. */
static void assert_mail_text(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s.txt", dir, name), *text = slurp(path, NULL);
	int line = 1, col = 0;

	for (const char *c = text; *c; c++) {
		if (*c == '\x1b' || *c == '\f')
			fail_msg("%s:%d: control character 0x%02x", path, line, *c);
		if (*c == '\n') {
			line++;
			col = 0;
		} else if (++col > 79) {
			fail_msg("%s:%d: longer than 79 columns", path, line);
		}
	}
	assert_true(line > 20);
	free(text);
	free(path);
}

static void test_charts(void **state)
{
	static const char *const charts[] = {
		"bar-anon-throughput", "bar-anon-lat_p50", "bar-anon-lat_p99", "bar-anon-lat_max",
		"lat-anon-zram", "lat-anon-zswap-nvme", "ts-anon-zram", "ts-anon-zswap-nvme",
	};
	static const char *const exts[] = { "gp", "dat", "png", "svg", "txt" };
	struct plot_opts o = { 0 };
	char *run, *out, *text;
	json_t *written = NULL;

	if (!have_gnuplot())
		skip();
	run = make_run("anon");
	out = xasprintf("%s/plots", run);
	if (plot_run(run, out, &o, &written))
		fail_msg("plot_run: %s", sb_lasterr());
	/* 4 bars + 2 latency + 2 time series, 5 files each, and index.txt */
	assert_int_equal(json_array_size(written), 8 * 5 + 1);
	for (size_t i = 0; i < sizeof(charts) / sizeof(charts[0]); i++) {
		for (size_t e = 0; e < sizeof(exts) / sizeof(exts[0]); e++)
			assert_nonempty(out, charts[i], exts[e]);
		assert_mail_text(out, charts[i]);
	}

	/* Means of the two iterations, kernels in run.json's order. */
	text = slurp(out, "bar-anon-throughput.dat");
	if (!strstr(text, "\nzram 105 7.07107 2 125 7.07107 2\n") ||
	    !strstr(text, "\nzswap-nvme 155 7.07107 2 175 7.07107 2\n"))
		fail_msg("unexpected bar-anon-throughput.dat:\n%s", text);
	free(text);

	/* Only the latency metrics that exist, in percentile order. */
	text = slurp(out, "lat-anon-zram.gp");
	assert_non_null(strstr(text, "set xtics (\"p50\" 0, \"p99\" 1, \"max\" 2)"));
	assert_non_null(strstr(text, "set logscale y"));
	free(text);

	/* zram cells never sampled a zswap pool: two panels there, three on zswap. */
	text = slurp(out, "ts-anon-zram.gp");
	assert_non_null(strstr(text, "set multiplot layout 2,1"));
	assert_null(strstr(text, "zswap pool"));
	free(text);
	text = slurp(out, "ts-anon-zswap-nvme.gp");
	assert_non_null(strstr(text, "set multiplot layout 3,1"));
	free(text);

	text = slurp(out, "index.txt");
	for (size_t i = 0; i < sizeof(charts) / sizeof(charts[0]); i++)
		assert_non_null(strstr(text, charts[i]));
	free(text);

	json_decref(written);
	free(out);
	rm_rf(run);
	free(run);
}

static void test_formats(void **state)
{
	struct plot_opts o = { 0 };
	char *run, *out;
	json_t *written = NULL;

	assert_int_equal(plot_parse_formats("svg,txt", &o.formats), 0);
	assert_int_equal(o.formats, PLOT_SVG | PLOT_TXT);
	assert_int_equal(plot_parse_formats("png,jpg", &o.formats), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "'jpg'"));
	assert_int_equal(plot_parse_formats(",", &o.formats), -EINVAL);

	if (!have_gnuplot())
		skip();
	run = make_run("anon");
	out = xasprintf("%s/only-text", run);
	o.formats = PLOT_TXT;
	if (plot_run(run, out, &o, &written))
		fail_msg("plot_run: %s", sb_lasterr());
	assert_int_equal(json_array_size(written), 8 * 3 + 1);
	assert_nonempty(out, "bar-anon-throughput", "txt");
	assert_missing(out, "bar-anon-throughput", "png");
	assert_missing(out, "bar-anon-throughput", "svg");
	json_decref(written);
	free(out);
	rm_rf(run);
	free(run);
}

/* Names are input: a result naming its workload with quotes, backslashes,
 * backquotes or control characters is refused before any chart is made
 * (names are [A-Za-z0-9._+-], metric names printable without quotes), and
 * the refusal names the cell. gp_quote still escapes what it writes. */
static void test_hostile_names(void **state)
{
	const char *wl = "w\"l\\`touch PWNED`\n";
	struct plot_opts o = { 0 };
	char *run, *out, *path;
	json_t *written = NULL;

	if (!have_gnuplot())
		skip();
	run = make_run(wl);
	out = xasprintf("%s/plots", run);
	assert_int_equal(plot_run(run, out, &o, &written), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "/result.json: workload: expected a name"));
	assert_non_null(strstr(sb_lasterr(), "cells/"));
	path = xasprintf("%s/PWNED", out);
	assert_false(path_exists(path));
	free(path);
	json_decref(written);
	free(out);
	rm_rf(run);
	free(run);
}

static void test_not_a_run(void **state)
{
	struct plot_opts o = { 0 };
	char *dir = tmp_dir(), *out = xasprintf("%s/plots", dir);
	json_t *written = NULL;

	sb_clearerr();
	assert_int_equal(plot_run(dir, out, &o, &written), -ENOENT);
	assert_null(written);
	if (!strstr(sb_lasterr(), dir))
		fail_msg("message '%s' does not name %s", sb_lasterr(), dir);
	assert_false(path_exists(out));
	free(out);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charts),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_not_a_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
