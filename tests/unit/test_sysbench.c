/* The sysbench workload: validate() and the parser of `sysbench memory`
 * reports written by sysbench 1.0.20 (tests/data/workloads/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "tests/unit/wl-test.h"
#include "workloads/workload.h"
#include "workloads/wl-util.h"

static void test_validate(void **state)
{
	assert_int_equal(validate_text("{}"), 0);
	assert_int_equal(validate_text("{\"threads\":2,\"block_size\":\"32M\","
				       "\"total_size\":\"480M\",\"access_mode\":\"seq\","
				       "\"oper\":\"read\",\"scope\":\"global\",\"time\":5}"), 0);
	expect_bad("{\"threads\":0}", "threads", "(got 0)");
	expect_bad("{\"block_size\":\"100\"}", "block_size", "(got \"100\")");
	expect_bad("{\"block_size\":\"48M\"}", "block_size", "power of two");
	expect_bad("{\"block_size\":\"64M\",\"total_size\":\"1M\"}", "total_size",
		   "at least block_size");
	expect_bad("{\"access_mode\":\"random\"}", "access_mode", "must be \"rnd\" or \"seq\"");
	expect_bad("{\"oper\":\"copy\"}", "oper", "\"write\", \"read\" or \"none\"");
	expect_bad("{\"scope\":\"numa\"}", "scope", "(got \"numa\")");
	expect_bad("{\"time\":0}", "time", "(got 0)");
	expect_bad("{\"memory-block-size\":1}", "memory-block-size", "unknown parameter");
}

static void test_metric_table(void **state)
{
	static const struct metric_want want[] = {
		{ "throughput", "MiB/s", "higher" }, { "events", "events", "higher" },
		{ "lat_avg", "ms", "lower" }, { "lat_p95", "ms", "lower" },
	};

	EXPECT_METRICS(want);
}

static void test_parse(void **state)
{
	char *text = sample("sysbench-memory-rnd.txt");
	struct wl_sysbench_result r;

	assert_int_equal(wl_sysbench_parse(text, &r), 0);
	assert_true(r.throughput_mib == 913.31);
	assert_true(r.transferred_mib == 1024.0);
	assert_true(r.events == 64);
	assert_true(r.total_time_s == 1.1199);
	assert_true(r.lat_min == 20.47 && r.lat_avg == 34.47 && r.lat_max == 67.48);
	assert_true(r.lat_p95 == 51.94);
	free(text);

	text = sample("sysbench-memory-seq.txt");
	assert_int_equal(wl_sysbench_parse(text, &r), 0);
	assert_true(r.throughput_mib == 51029.04);
	assert_true(r.events == 2048);
	assert_true(r.lat_avg == 0.02 && r.lat_p95 == 0.02);
	free(text);
}

static void test_parse_bad(void **state)
{
	char *text = sample("sysbench-memory-rnd.txt"), *cut;
	struct wl_sysbench_result r;

	assert_int_equal(wl_sysbench_parse("FATAL: unknown option", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "MiB transferred"));
	assert_int_equal(wl_sysbench_parse(NULL, &r), -EPROTO);
	/* Cut before the latency section. */
	cut = strstr(text, "Latency (ms):");
	assert_non_null(cut);
	*cut = '\0';
	assert_int_equal(wl_sysbench_parse(text, &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "Latency (ms):"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
	};

	return WL_TEST_MAIN("sysbench", tests);
}
