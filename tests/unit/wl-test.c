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

char *sample(const char *name)
{
	char *path = xasprintf("%s/data/workloads/%s", getenv("SB_TEST_DATA"), name), *text;

	if (read_file(path, 1 << 20, &text, NULL))
		fail_msg("cannot read %s: %s", path, sb_lasterr());
	free(path);
	return text;
}
