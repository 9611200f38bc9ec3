/* NIGHTLY.json validation: every mistake names file, line and JSON path. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "harness/nightly.h"

static char dir[64];

static int setup(void **state)
{
	char *p, *suite;

	strcpy(dir, "/tmp/sb-nightlycfg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	p = xasprintf("%s/tree.git", dir);
	mkdir_p(p, 0755);
	free(p);
	p = xasprintf("%s/tree.git/HEAD", dir);
	write_file_atomic(p, "ref: refs/heads/main\n", 21);
	free(p);
	suite = xasprintf("%s/suite.json", dir);
	{
		const char *s = "{\"name\": \"s\", \"kernels\": [{\"name\": \"mm\", \"git\": "
				"{\"tree\": \"cache:x\"}}], \"topologies\": [\"zram\"], "
				"\"workloads\": [{\"name\": \"anon\", \"kind\": \"anon\"}]}";

		write_file_atomic(suite, s, strlen(s));
	}
	free(suite);
	return 0;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

static int load(const char *text, struct nightly_config *c)
{
	char *p = xasprintf("%s/n.json", dir);
	int rc;

	write_file_atomic(p, text, strlen(text));
	setenv("SWAPBENCH_CONFIGS", SWAPBENCH_SOURCE_DIR "/configs", 1);
	rc = nightly_config_load(p, c);
	free(p);
	return rc;
}

#define OK_BODY "\"tree\": \"tree.git\",\n\"branch\": \"mm-unstable\",\n\"suite\": \"suite.json\",\n" \
		"\"database\": \"h.db\",\n\"results\": \"nights\""

static void test_valid(void **state)
{
	struct nightly_config c;

	assert_int_equal(load("{" OK_BODY ",\n\"thresholds\": {\"default\": 4, \"metrics\": "
			      "{\"throughput\": 2}},\n\"bisect\": {\"max_iterations\": 8}}", &c), 0);
	assert_string_equal(c.branch, "mm-unstable");
	assert_string_equal(c.remote, "origin");
	assert_int_equal(c.max_n, 8);
	assert_int_equal(c.baseline_nights, 5);
	assert_true(nightly_threshold(&c, "anon", "throughput") == 2);
	assert_true(nightly_threshold(&c, "anon", "elapsed") == 4);
	assert_non_null(strstr(c.database, "/h.db"));
	nightly_config_release(&c);
	/* Every default comes from the tables in nightly-config.c. */
	assert_int_equal(load("{" OK_BODY "}", &c), 0);
	assert_true(c.bisect && c.alpha == 0.01 && c.beta == 0.01);
	assert_int_equal(c.min_n, 2);
	assert_int_equal(c.max_n, 12);
	assert_int_equal(c.batch, 2);
	assert_int_equal(c.fetch_timeout_s, 900);
	assert_int_equal(c.iterations, 0);
	assert_true(nightly_threshold(&c, "anon", "elapsed") == 5);
	assert_string_equal(c.name, "mm-unstable");
	nightly_config_release(&c);
}

static void test_unknown_key(void **state)
{
	struct nightly_config c;

	assert_int_equal(load("{" OK_BODY ",\n\"bisect\": {\"enabeld\": true}}", &c), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "n.json:6: bisect.enabeld: unknown parameter (known: enabled,"));
	assert_int_equal(load("{" OK_BODY ",\n\"colour\": 1}", &c), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), ":6: colour: unknown parameter"));
}

static void test_missing_suite(void **state)
{
	struct nightly_config c;

	assert_int_equal(load("{\"tree\": \"tree.git\", \"branch\": \"b\", \"database\": \"h\", "
			      "\"results\": \"r\"}", &c), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "suite: is required"));
	assert_int_equal(load("{\"tree\": \"tree.git\", \"branch\": \"b\", \"database\": \"h\", "
			      "\"results\": \"r\",\n\"suite\": \"nope.json\"}", &c), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "n.json:2: suite: no such file"));
}

static void test_bad_values(void **state)
{
	struct nightly_config c;

	assert_int_equal(load("{" OK_BODY ",\n\"bisect\": {\"alpha\": 0.7}}", &c), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "n.json:6: bisect.alpha: must be a number from 1e-06 "
					     "to 0.49 (got 0.7)"));
	assert_int_equal(load("{" OK_BODY ",\n\"kernel\": \"other\"}", &c), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "no git kernel named 'other'"));
	assert_int_equal(load("{\"tree\": \"nowhere\", \"branch\": \"b\", \"suite\": "
			      "\"suite.json\", \"database\": \"h\", \"results\": \"r\"}", &c),
			 -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "is not a git tree"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_suite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
