/* Every shipped suite must pass spec validation (topologies, workload
 * params), so a broken suite is caught here, not when a user runs it.
 * Full-size kernbench suites name a placeholder tree the user edits. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "harness/spec.h"

static void test_all_suites(void **state)
{
	char *dir = xasprintf("%s/../configs/suites", getenv("SB_TEST_DATA"));
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		struct spec s;
		char *p;
		int rc;

		if (!strstr(e->d_name, ".json"))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		rc = spec_load(p, &s);
		if (rc && strstr(sb_lasterr(), "/path/to/linux")) {
			n++; /* a placeholder the user replaces: refused, clearly */
		} else if (rc) {
			fail_msg("%s: %s", e->d_name, sb_lasterr());
		} else {
			assert_true(s.nkernels >= 1 && s.ntopos >= 1 && s.nworkloads >= 1);
			spec_release(&s);
			n++;
		}
		free(p);
	}
	closedir(d);
	free(dir);
	assert_true(n >= 10); /* every file above was checked; this guards the path */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_suites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
