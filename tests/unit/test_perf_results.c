/* perf counters in results: validated as untrusted guest output, and
 * summarised as perf.<counter> rows (the Ops block of compare). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/err.h"
#include "harness/result.h"

static json_t *doc(json_t *delta)
{
	return json_pack("{s:i,s:s,s:[{s:s,s:f,s:s,s:s}],s:{s:{s:o}}}", "schema_version", 1,
			 "status", "ok", "metrics", "name", "reclaim.memcg.stalls", "value", 3.0,
			 "unit", "stalls", "better", "lower", "counters", "perf", "delta", delta);
}

static void test_validate(void **state)
{
	json_t *r = doc(json_pack("{s:I,s:I}", "page-faults", (json_int_t)100, "task-clock",
				  (json_int_t)5000000));

	assert_int_equal(result_validate(r, 0), 0);
	json_decref(r);
	r = doc(json_pack("{s:s}", "page-faults", "many"));
	sb_clearerr();
	assert_int_not_equal(result_validate(r, 0), 0);
	assert_non_null(strstr(sb_lasterr(), "counters.perf.delta.page-faults"));
	json_decref(r);
	r = doc(json_pack("{s:I}", "page-faults", (json_int_t)-1));
	assert_int_not_equal(result_validate(r, 0), 0);
	json_decref(r);
}

static void test_summary(void **state)
{
	json_t *cells = json_array(), *s, *row;
	size_t i;
	int seen = 0;

	for (int it = 0; it < 2; it++) {
		json_t *c = doc(json_pack("{s:I}", "major-faults", (json_int_t)(10 + 10 * it)));

		json_object_set_new(c, "kernel", json_string("6.12"));
		json_object_set_new(c, "topology", json_string("zram"));
		json_object_set_new(c, "workload", json_string("anon"));
		/* summary_validate wants every cell named (issue 14). */
		json_object_set_new(c, "cell_id", json_sprintf("6.12--zram--anon--%d", it + 1));
		json_object_set_new(c, "status", json_string("ok"));
		json_array_append_new(cells, c);
	}
	s = summary_build(cells);
	assert_int_equal(summary_validate(s), 0);
	json_array_foreach(json_object_get(s, "counters"), i, row) {
		if (strcmp(json_string_value(json_object_get(row, "counter")), "perf.major-faults"))
			continue;
		seen = 1;
		assert_int_equal(json_integer_value(json_object_get(row, "n")), 2);
		assert_float_equal(json_number_value(json_object_get(row, "mean")), 15, 1e-9);
	}
	assert_true(seen);
	json_array_foreach(json_object_get(s, "rows"), i, row)
		seen += !strcmp(json_string_value(json_object_get(row, "metric")),
				"reclaim.memcg.stalls");
	assert_int_equal(seen, 2);
	json_decref(s);
	json_decref(cells);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
