/* A night's verdicts against the pooled good nights (synthetic runs):
 * baseline first, then compare's verdict per metric, thresholds, and a
 * regression that is not pooled into later baselines. */
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

#include "common/fsutil.h"
#include "harness/history.h"
#include "harness/nightly.h"
#include "harness/result.h"

static char dir[64];

static void write_json(const char *path, json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);

	assert_int_equal(write_file_atomic(path, t, strlen(t)), 0);
	free(t);
	json_decref(j);
}

/* A run of kernel "mm" on zram/anon: throughput (higher) and elapsed
 * (lower), iters iterations around the given means (+-1%, deterministic). */
static char *make_run(const char *name, int iters, double tput, double elapsed)
{
	char *rd = xasprintf("%s/%s", dir, name), *p;

	mkdir(rd, 0755);
	p = xasprintf("%s/run.json", rd);
	write_json(p, json_pack("{s:i,s:s,s:[{s:s,s:s,s:s}],s:s}", "schema_version", 1, "name",
				name, "kernels", "name", "mm", "source", "git", "cache_id", "git-x",
				"status", "finished"));
	free(p);
	p = xasprintf("%s/cells", rd);
	mkdir(p, 0755);
	free(p);
	for (int i = 0; i < iters; i++) {
		char *id = xasprintf("mm--zram--anon--%d", i + 1), *cd = xasprintf("%s/cells/%s", rd, id);
		double wob = ((i % 3) - 1) * 0.01;

		mkdir(cd, 0755);
		p = xasprintf("%s/result.json", cd);
		write_json(p, json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:[{s:s,s:f,s:s,s:s},"
					"{s:s,s:f,s:s,s:s}],s:{}}",
					"schema_version", 1, "status", "ok", "kernel", "mm", "topology",
					"zram", "workload", "anon", "iteration", i + 1, "cell_id", id,
					"metrics", "name", "throughput", "value", tput * (1 + wob),
					"unit", "MB/s", "better", "higher", "name", "elapsed", "value",
					elapsed * (1 - wob), "unit", "s", "better", "lower", "counters"));
		free(p);
		free(cd);
		free(id);
	}
	return rd;
}

static const json_t *row(const json_t *verdicts, const char *metric)
{
	const json_t *v;
	size_t i;

	json_array_foreach(verdicts, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "metric")), metric))
			return v;
	fail_msg("no verdict for %s", metric);
	return NULL;
}

/* One night through the database as nightly_run does it. */
static int night(struct history *h, const struct nightly_config *c, const char *name,
		 double tput, double elapsed, json_t **verdicts, size_t *pooled)
{
	char *rd = make_run(name, 4, tput, elapsed);
	int64_t nid, rid;
	json_t *sum = NULL, *good = NULL;
	int regs;

	*verdicts = json_array();
	assert_int_equal(history_begin(h), 0);
	assert_int_equal(history_night_start(h, "/t", "mm-unstable", name, rd, &nid), 0);
	assert_int_equal(history_add_run(h, rd, "night", nid, name, &rid), 0);
	assert_int_equal(summary_load(rd, &sum), 0);
	regs = nightly_judge(c, h, nid, rid, "mm", sum, *verdicts, &good);
	*pooled = json_array_size(good);
	assert_int_equal(history_night_finish(h, nid, "judged", regs ? "regression"
						   : *pooled ? "good" : "baseline", regs, NULL), 0);
	assert_int_equal(history_commit(h), 0);
	json_decref(sum);
	json_decref(good);
	free(rd);
	return regs;
}

static void test_nights(void **state)
{
	struct nightly_config c = { .baseline_nights = 2, .threshold_default = 5 };
	char *db = xasprintf("%s/h.db", dir);
	struct history *h;
	json_t *v;
	size_t pooled;

	c.threshold_metrics = json_pack("{s:f}", "elapsed", 50.0);
	c.threshold_workloads = json_object();
	assert_int_equal(history_open(db, 1, &h), 0);
	/* 1: nothing to compare with. */
	assert_int_equal(night(h, &c, "n1", 100, 10, &v, &pooled), 0);
	assert_int_equal(pooled, 0);
	assert_string_equal(json_string_value(json_object_get(row(v, "throughput"), "verdict")),
			    "baseline");
	/* Tonight's mean is shown; there is no base mean (not a 0). */
	assert_true(json_is_number(json_object_get(row(v, "throughput"), "new_mean")));
	assert_true(fabs(json_number_value(json_object_get(row(v, "throughput"), "new_mean")) -
			 100) < 20);
	assert_null(json_object_get(row(v, "throughput"), "base_mean"));
	json_decref(v);
	/* 2: the same: good, 4 pooled values. */
	assert_int_equal(night(h, &c, "n2", 100.5, 10, &v, &pooled), 0);
	assert_int_equal(pooled, 1);
	assert_int_equal(json_integer_value(json_object_get(row(v, "throughput"), "n_base")), 4);
	assert_string_equal(json_string_value(json_object_get(row(v, "throughput"), "verdict")),
			    "same");
	json_decref(v);
	/* 3: throughput -40% (a regression); elapsed +20%, significant but
	 * within its 50% threshold (worse, not a regression). */
	assert_int_equal(night(h, &c, "n3", 60, 12, &v, &pooled), 1);
	assert_int_equal(pooled, 2);
	assert_int_equal(json_integer_value(json_object_get(row(v, "throughput"), "n_base")), 8);
	assert_string_equal(json_string_value(json_object_get(row(v, "throughput"), "verdict")),
			    "worse");
	assert_true(json_is_true(json_object_get(row(v, "throughput"), "regression")));
	assert_true(fabs(json_number_value(json_object_get(row(v, "throughput"), "pct_change")) +
			 40.1) < 0.5);
	assert_string_equal(json_string_value(json_object_get(row(v, "elapsed"), "verdict")),
			    "worse");
	assert_false(json_is_true(json_object_get(row(v, "elapsed"), "regression")));
	json_decref(v);
	/* 4: back to normal; the regressed night 3 is not in the baseline. */
	assert_int_equal(night(h, &c, "n4", 100, 10, &v, &pooled), 0);
	assert_int_equal(pooled, 2);
	assert_true(fabs(json_number_value(json_object_get(row(v, "throughput"), "base_mean")) -
			 100.25 * 0.9975) < 0.01); /* the wobble averages -0.25% */
	json_decref(v);
	history_close(h);
	json_decref(c.threshold_metrics);
	json_decref(c.threshold_workloads);
	free(db);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/sb-judge-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nights, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
