/* validate() of the anon workload: defaults, a full object, and bad input
 * reported with the key and the offending value; and one small run(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "tests/unit/wl-test.h"
#include "workloads/workload.h"

static void test_defaults(void **state)
{
	assert_int_equal(validate_text("{}"), 0);
}

static void test_full(void **state)
{
	assert_int_equal(validate_text("{\"processes\":4,\"size\":\"96M\",\"pattern\":\"random\","
				       "\"passes\":3,\"hugepage\":true,"
				       "\"mthp\":{\"64kB\":\"always\",\"2048kB\":\"inherit\","
				       "\"16K\":\"never\",\"32kB\":\"madvise\"},"
				       "\"seed\":42,\"fill\":\"zero\"}"), 0);
	assert_int_equal(validate_text("{\"size\":1048576,\"pattern\":\"seq\","
				       "\"fill\":\"random\",\"processes\":1024,\"passes\":1000,"
				       "\"hugepage\":false,\"mthp\":{},\"seed\":-3}"), 0);
	assert_int_equal(validate_text("{\"size\":\"1G\",\"fill\":\"pattern\",\"passes\":1}"), 0);
}

static void test_bad_inputs(void **state)
{
	expect_bad("{\"processes\":0}", "processes", "(got 0)");
	expect_bad("{\"processes\":1025}", "processes", "(got 1025)");
	expect_bad("{\"processes\":\"2\"}", "processes", "(got \"2\")");
	expect_bad("{\"processes\":1.5}", "processes", "(got 1.5)");
	expect_bad("{\"bogus\":1}", "bogus", "(got 1)");
	expect_bad("{\"size\":\"12Q\"}", "size", "(got \"12Q\")");
	expect_bad("{\"size\":100}", "size", "(got 100)");
	expect_bad("{\"size\":-4096}", "size", "(got -4096)");
	expect_bad("{\"pattern\":\"zigzag\"}", "pattern", "(got \"zigzag\")");
	expect_bad("{\"passes\":0}", "passes", "(got 0)");
	expect_bad("{\"hugepage\":\"yes\"}", "hugepage", "(got \"yes\")");
	expect_bad("{\"mthp\":\"64K\"}", "mthp", "(got \"64K\")");
	expect_bad("{\"mthp\":{\"12kB\":\"always\"}}", "mthp.12kB", "(got \"12kB\")");
	expect_bad("{\"mthp\":{\"64K\":\"sometimes\"}}", "mthp.64K", "(got \"sometimes\")");
	expect_bad("{\"mthp\":{\"64K\":\"always\",\"64kB\":\"never\"}}", "mthp.64kB",
		   "(got \"64kB\")");
	expect_bad("{\"seed\":\"x\"}", "seed", "(got \"x\")");
	expect_bad("{\"fill\":\"ones\"}", "fill", "(got \"ones\")");
}

static void test_not_object(void **state)
{
	assert_int_equal(validate_text("[1]"), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "must be a JSON object"));
}

static void test_metric_table(void **state)
{
	static const struct metric_want want[] = {
		{ "throughput", NULL, "higher" }, { "lat_p50", NULL, "lower" },
		{ "lat_p90", NULL, "lower" }, { "lat_p99", NULL, "lower" },
		{ "lat_p99.9", NULL, "lower" }, { "lat_max", NULL, "lower" },
		{ "fault_in_time", NULL, "lower" }, { "free_time", NULL, "lower" },
		{ "elapsed", NULL, "lower" },
	};

	EXPECT_METRICS(want);
}

/* run() on this machine (no memcg: nothing swaps, the numbers are not the
 * point): every process touches every page every pass, reads back what it
 * wrote, and a clean run reports all metrics of the table. */
static void test_run_here(void **state)
{
	json_t *params = json_pack("{s:i,s:s,s:s,s:i}", "processes", 2, "size", "2M", "pattern",
				   "random", "passes", 3);
	struct wl_ctx ctx = { .params = params, .metrics = json_array(), .info = json_object() };
	const struct metric_desc *m = wl_test_ops()->metrics;
	size_t i;

	assert_int_equal(wl_test_ops()->run(&ctx), 0);
	for (i = 0; m[i].name; i++)
		assert_string_equal(json_string_value(json_object_get(
			json_array_get(ctx.metrics, i), "name")), m[i].name);
	assert_int_equal(json_array_size(ctx.metrics), i);
	/* size is per process: 2 processes x 512 pages x 3 passes */
	assert_int_equal(json_integer_value(json_object_get(ctx.info, "accesses")),
			 2 * 512 * 3);
	json_decref(params);
	json_decref(ctx.metrics);
	json_decref(ctx.info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test(test_run_here),
	};

	return WL_TEST_MAIN("anon", tests);
}
