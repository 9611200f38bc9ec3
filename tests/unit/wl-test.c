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

static const struct workload_ops *under_test;

void wl_test_use(const char *name)
{
	under_test = workload_find(name);
	if (!under_test)
		fail_msg("no workload '%s'", name);
}

void wl_test_use_ops(const struct workload_ops *ops)
{
	under_test = ops;
}

const struct workload_ops *wl_test_ops(void)
{
	return under_test;
}

int validate_text(const char *text)
{
	json_error_t jerr;
	json_t *params = json_loads(text, 0, &jerr);
	int ret;

	if (!params)
		fail_msg("bad JSON in test: %s: %s", text, jerr.text);
	sb_clearerr();
	ret = under_test->validate(params, WHERE);
	json_decref(params);
	return ret;
}

void expect_bad(const char *text, const char *key, const char *got)
{
	char prefix[256];
	int ret = validate_text(text);

	if (ret != -EINVAL)
		fail_msg("%s: expected -EINVAL, got %d (%s)", text, ret, sb_lasterr());
	snprintf(prefix, sizeof(prefix), WHERE ".%s: ", key);
	if (strncmp(sb_lasterr(), prefix, strlen(prefix)))
		fail_msg("%s: message does not start with '%s': %s", text, prefix, sb_lasterr());
	if (!strstr(sb_lasterr(), got))
		fail_msg("%s: message does not show '%s': %s", text, got, sb_lasterr());
}

void expect_good(const char *text)
{
	if (validate_text(text))
		fail_msg("%s: refused: %s", text, sb_lasterr());
}

char *sample(const char *name)
{
	char *path = xasprintf("%s/data/workloads/%s", getenv("SB_TEST_DATA"), name), *text;

	if (read_file(path, 1 << 20, &text, NULL))
		fail_msg("cannot read %s: %s", path, sb_lasterr());
	free(path);
	return text;
}

void expect_metrics(const struct metric_want *want, size_t n)
{
	const struct metric_desc *m = under_test->metrics;
	size_t i;

	for (i = 0; m[i].name; i++) {
		if (i >= n)
			fail_msg("%s: metric %zu '%s' not expected", under_test->name, i, m[i].name);
		assert_string_equal(m[i].name, want[i].name);
		if (want[i].unit)
			assert_string_equal(m[i].unit, want[i].unit);
		assert_string_equal(m[i].better, want[i].better);
	}
	assert_int_equal(i, n);
}

int wl_test_main(const char *workload, const struct CMUnitTest *tests, size_t n)
{
	wl_test_use(workload);
	if (!getenv("SB_TEST_DATA")) {
		fprintf(stderr, "set SB_TEST_DATA to the tests directory\n");
		return 2;
	}
	return _cmocka_run_group_tests(workload, tests, n, NULL, NULL);
}
