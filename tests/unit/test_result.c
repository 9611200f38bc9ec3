/* Guest results are untrusted: validation must refuse each malformed shape
 * and name where it is; the summary must aggregate only ok cells. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "harness/result.h"

static const char *good =
	"{\"schema_version\": 1, \"status\": \"ok\", \"metrics\": ["
	" {\"name\": \"throughput\", \"value\": 100.5, \"unit\": \"MB/s\", \"better\": \"higher\"},"
	" {\"name\": \"lat_p50\", \"value\": 12, \"unit\": \"us\", \"better\": \"lower\"}],"
	" \"counters\": {\"vmstat\": {\"delta\": {\"pswpout\": 10}}},"
	" \"memcg\": {\"limit_held\": true}}";

/* The good document with one top-level key replaced (val NULL: removed). */
static json_t *mutate(const char *key, json_t *val)
{
	json_t *r = json_loads(good, 0, NULL);

	if (val)
		json_object_set_new(r, key, val);
	else
		json_object_del(r, key);
	return r;
}

/* The good document with one key of metrics[i] replaced or removed. */
static json_t *mutate_metric(size_t i, const char *key, json_t *val)
{
	json_t *r = json_loads(good, 0, NULL);
	json_t *m = json_array_get(json_object_get(r, "metrics"), i);

	if (val)
		json_object_set_new(m, key, val);
	else
		json_object_del(m, key);
	return r;
}

static void test_good(void **state)
{
	json_t *r = json_loads(good, 0, NULL);

	assert_int_equal(result_validate(r, 0), 0);
	json_decref(r);
}

static void expect_bad(json_t *r, const char *frag)
{
	sb_clearerr();
	assert_int_equal(result_validate(r, 0), -EINVAL);
	if (!strstr(sb_lasterr(), frag))
		fail_msg("message '%s' lacks '%s'", sb_lasterr(), frag);
	json_decref(r);
}

static void test_bad(void **state)
{
	expect_bad(json_string("x"), "expected an object");
	expect_bad(mutate("schema_version", json_integer(2)), "schema_version");
	expect_bad(mutate("schema_version", NULL), "schema_version");
	expect_bad(mutate("status", json_string("great")), "status: unknown value 'great'");
	expect_bad(mutate("status", json_integer(1)), "status");
	expect_bad(mutate("metrics", json_object()), "metrics: expected an array");
	expect_bad(mutate("metrics", json_array()), "reported no metrics");
	expect_bad(mutate_metric(1, "value", json_string("12")), "metrics[1].value");
	/* jansson cannot hold NaN or inf, so a missing value is the other case. */
	expect_bad(mutate_metric(0, "value", NULL), "metrics[0].value");
	expect_bad(mutate_metric(0, "better", json_string("more")), "metrics[0].better");
	expect_bad(mutate_metric(1, "unit", NULL), "metrics[1].unit");
	expect_bad(mutate_metric(0, "name", json_string("")), "metrics[0].name");
	expect_bad(mutate("counters", json_array()), "counters");
	expect_bad(mutate("memcg", json_object()), "memcg.limit_held");
}

/* A source says what it could not measure and why (perf under TCG has no
 * hardware counters): short texts under "absent", never numbers. */
static void test_absent_reasons(void **state)
{
	json_t *r = mutate("counters", json_pack(
		"{s:{s:s,s:{s:I},s:{s:s}}}", "perf", "scope", "workload processes (inherited)", "delta", "page-faults", (json_int_t)5, "absent",
		"branch-misses", "no PMU in this VM (TCG)"));

	(void)state;
	assert_int_equal(result_validate(r, 0), 0);
	json_decref(r);
	r = mutate("counters", json_pack("{s:{s:{s:s}}}", "perf", "absent", "cycles",
					 "bad\x1b[31m"));
	json_object_set_new(json_object_get(json_object_get(json_object_get(r, "counters"),
							    "perf"), "absent"),
			    "cycles", json_string("bad\x1b[31m"));
	json_object_set_new(json_object_get(json_object_get(json_object_get(r, "counters"),
							    "perf"), "absent"),
			    "cycles", json_string("bad\033[31m"));
	assert_int_not_equal(result_validate(r, 0), 0);
	json_decref(r);
}

static void test_failed_without_metrics_is_valid(void **state)
{
	json_t *r = mutate("metrics", json_array());

	json_object_set_new(r, "status", json_string("failed"));
	assert_int_equal(result_validate(r, 0), 0);
	json_decref(r);
}

static void test_load_caps_and_syntax(void **state)
{
	char dir[] = "/tmp/sb-result-XXXXXX";
	char *p;
	json_t *r = NULL;

	assert_non_null(mkdtemp(dir));
	p = xasprintf("%s/r.json", dir);
	assert_int_equal(write_file_atomic(p, "{\"schema_version\": 1,", 21), 0);
	assert_int_equal(result_load(p, 0, &r), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "r.json:1"));
	{
		size_t n = RESULT_MAX_BYTES + 10;
		char *big = malloc(n);

		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		assert_int_equal(write_file_atomic(p, big, n), 0);
		free(big);
	}
	assert_int_equal(result_load(p, 0, &r), -EFBIG);
	assert_int_equal(write_file_atomic(p, good, strlen(good)), 0);
	assert_int_equal(result_load(p, 0, &r), 0);
	json_decref(r);
	rm_rf(dir);
	free(p);
}

static json_t *cell(const char *k, const char *status, double tput)
{
	static int n;
	char id[32];

	snprintf(id, sizeof(id), "%s--zram--anon--%d", k, ++n);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:f,s:s,s:s}]}", "cell_id", id, "kernel",
			 k, "topology", "zram", "workload", "anon", "status", status, "metrics",
			 "name", "throughput", "value", tput, "unit", "MB/s", "better", "higher");
}

static void test_summary(void **state)
{
	json_t *cells = json_array(), *rows, *row, *doc;
	size_t i;
	int seen = 0;

	json_array_append_new(cells, cell("a", "ok", 10));
	json_array_append_new(cells, cell("a", "ok", 12));
	json_array_append_new(cells, cell("a", "ok", 14));
	json_array_append_new(cells, cell("a", "crashed", 1000));
	json_array_append_new(cells, cell("b", "ok", 20));
	doc = summary_build(cells);
	assert_int_equal(summary_validate(doc), 0);
	rows = json_object_get(doc, "rows");
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(json_array_size(json_object_get(doc, "cells")), 5);
	json_array_foreach(rows, i, row) {
		if (strcmp(json_string_value(json_object_get(row, "kernel")), "a"))
			continue;
		seen = 1;
		assert_int_equal(json_integer_value(json_object_get(row, "n")), 3);
		assert_float_equal(json_number_value(json_object_get(row, "mean")), 12, 1e-9);
		assert_float_equal(json_number_value(json_object_get(row, "stddev")), 2, 1e-9);
		assert_float_equal(json_number_value(json_object_get(row, "median")), 12, 1e-9);
		assert_float_equal(json_number_value(json_object_get(row, "min")), 10, 1e-9);
		assert_float_equal(json_number_value(json_object_get(row, "max")), 14, 1e-9);
		assert_string_equal(json_string_value(json_object_get(row, "better")), "higher");
		assert_string_equal(json_string_value(json_object_get(row, "unit")), "MB/s");
	}
	assert_true(seen);
	json_decref(doc);
	json_decref(cells);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_absent_reasons),
		cmocka_unit_test(test_failed_without_metrics_is_valid),
		cmocka_unit_test(test_load_caps_and_syntax),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
