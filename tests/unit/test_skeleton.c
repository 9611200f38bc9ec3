/* The skeleton workload: the template stays buildable and correct. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/err.h"
#include "tests/unit/wl-test.h"
#include "workloads/workload.h"

extern const struct workload_ops workload_skeleton;

static void test_validate(void **state)
{
	expect_good("{}");
	expect_good("{\"size\":\"2M\",\"passes\":3}");
	expect_bad("{\"passes\":0}", "passes", "must be an integer from 1 to 100");
	expect_bad("{\"sise\":\"2M\"}", "sise", "unknown parameter (known: size, passes)");
}

static void test_run(void **state)
{
	json_t *params = json_pack("{s:s,s:i}", "size", "1M", "passes", 2);
	struct wl_ctx ctx = { .params = params, .metrics = json_array(), .info = json_object() };
	json_t *m;

	assert_int_equal(workload_skeleton.supported(&ctx), 0);
	assert_int_equal(workload_skeleton.run(&ctx), 0);
	assert_int_equal(json_array_size(ctx.metrics), 1);
	m = json_array_get(ctx.metrics, 0);
	assert_string_equal(json_string_value(json_object_get(m, "name")),
			    workload_skeleton.metrics[0].name);
	assert_true(json_real_value(json_object_get(m, "value")) > 0);
	assert_int_equal(json_integer_value(json_object_get(ctx.info, "size")), 1 << 20);
	json_decref(params);
	json_decref(ctx.metrics);
	json_decref(ctx.info);
}

static void test_not_registered(void **state)
{
	assert_null(workload_find("skeleton"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_not_registered),
	};

	wl_test_use_ops(&workload_skeleton);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
