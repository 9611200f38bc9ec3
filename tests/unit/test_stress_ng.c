/* The stress-ng workload: validate() and the parser of its --yaml file,
 * fed with files written by stress-ng 0.15.06 (tests/data/workloads/). */
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
	assert_int_equal(validate_text("{\"stressor\":\"vm\",\"workers\":4,\"bytes\":\"96M\","
				       "\"timeout\":10,\"method\":\"rand-set\"}"), 0);
	assert_int_equal(validate_text("{\"stressor\":\"swap\",\"workers\":1}"), 0);
	expect_bad("{\"stressor\":\"memrate\"}", "stressor", "must be \"vm\" or \"swap\"");
	expect_bad("{\"workers\":0}", "workers", "(got 0)");
	expect_bad("{\"bytes\":\"1\"}", "bytes", "(got \"1\")");
	expect_bad("{\"timeout\":\"10s\"}", "timeout", "(got \"10s\")");
	expect_bad("{\"method\":\"--all\"}", "method", "vm method name");
	expect_bad("{\"method\":\"Flip\"}", "method", "(got \"Flip\")");
	expect_bad("{\"stressor\":\"swap\",\"bytes\":\"64M\"}", "bytes", "vm stressor only");
	expect_bad("{\"stressor\":\"swap\",\"method\":\"flip\"}", "method", "vm stressor only");
	expect_bad("{\"vm-bytes\":\"64M\"}", "vm-bytes", "unknown parameter");
}

static void test_metric_table(void **state)
{
	static const struct metric_want want[] = {
		{ "bogo_ops_per_s", NULL, "higher" }, { "bogo_ops", NULL, "higher" },
	};

	EXPECT_METRICS(want);
}

static void test_parse_vm(void **state)
{
	char *text = sample("stress-ng-vm.yaml");
	struct wl_stress_ng_result r;

	assert_int_equal(wl_stress_ng_parse_yaml(text, "vm", &r), 0);
	assert_true(r.bogo_ops == 90068);
	assert_true(r.bogo_ops_per_s > 29414.37 && r.bogo_ops_per_s < 29414.38);
	assert_true(r.bogo_ops_per_cpu_s > 29416.09 && r.bogo_ops_per_cpu_s < 29416.10);
	assert_true(r.wall_s > 3.06 && r.wall_s < 3.07);
	assert_true(r.user_s > 1.68 && r.sys_s > 1.38);
	/* A stressor that did not run has no block. */
	assert_int_equal(wl_stress_ng_parse_yaml(text, "swap", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "stressor 'swap'"));
	/* "vm" must not match a "vm-rw" block either. */
	free(text);
	text = xasprintf("metrics:\n    - stressor: vm-rw\n      bogo-ops: 5\n"
			 "      bogo-ops-per-second-real-time: 1.0\n");
	assert_int_equal(wl_stress_ng_parse_yaml(text, "vm", &r), -EPROTO);
	free(text);
}

static void test_parse_swap_and_multi(void **state)
{
	char *text = sample("stress-ng-swap-tmpfs.yaml");
	struct wl_stress_ng_result r;

	/* Parsed fine: zero work is for run() to refuse. */
	assert_int_equal(wl_stress_ng_parse_yaml(text, "swap", &r), 0);
	assert_true(r.bogo_ops == 0 && r.bogo_ops_per_s == 0);
	free(text);

	text = xasprintf("---\nsystem-info:\n      bogo-ops: 1\nmetrics:\n"
			 "    - stressor: swap\n      bogo-ops: 7\n"
			 "      bogo-ops-per-second-real-time: 2.5\n"
			 "    - stressor: vm\n      bogo-ops: 1000\n"
			 "      bogo-ops-per-second-real-time: 99.5\n"
			 "...\nbogo-ops: 3\n");
	assert_int_equal(wl_stress_ng_parse_yaml(text, "vm", &r), 0);
	assert_true(r.bogo_ops == 1000 && r.bogo_ops_per_s == 99.5);
	assert_int_equal(wl_stress_ng_parse_yaml(text, "swap", &r), 0);
	assert_true(r.bogo_ops == 7 && r.bogo_ops_per_s == 2.5);
	free(text);
	assert_int_equal(wl_stress_ng_parse_yaml("metrics:\n    - stressor: vm\n"
						 "      bogo-ops: 12\n", "vm", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "bogo-ops-per-second-real-time"));
	assert_int_equal(wl_stress_ng_parse_yaml("", "vm", &r), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test(test_parse_vm),
		cmocka_unit_test(test_parse_swap_and_multi),
	};

	return WL_TEST_MAIN("stress-ng", tests);
}
