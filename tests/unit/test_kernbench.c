/* validate() of the kernbench workload (tree, target and mthp checks), its
 * metric table, and the output helpers in workloads/wl-util.c. */
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
#include "harness/spec.h"
#include "tests/unit/wl-test.h"
#include "workloads/workload.h"
#include "workloads/wl-util.h"

static char *tree_dir(void)
{
	return xasprintf("%s/data/kernbench-tree", getenv("SB_TEST_DATA"));
}

static void test_defaults(void **state)
{
	/* The default tree is the CI tree in this source directory. */
	assert_int_equal(validate_text("{}"), 0);
}

static void test_full(void **state)
{
	char *tree = tree_dir(), *text;

	text = xasprintf("{\"tree\":\"%s\",\"jobs\":48,\"target\":\"kbtest\","
			 "\"prepare\":\"clean\",\"copy_to\":\"tmpfs\",\"iterations\":12,"
			 "\"mthp\":{\"256kB\":\"always\",\"64kB\":\"never\"},"
			 "\"build_timeout\":3600}", tree);
	assert_int_equal(validate_text(text), 0);
	free(text);
	free(tree);
	assert_int_equal(validate_text("{\"target\":\"arch/x86/boot/bzImage\"}"), 0);
	assert_int_equal(validate_text("{\"target\":\"vmlinux\",\"jobs\":1}"), 0);
}

static void test_bad_inputs(void **state)
{
	char *tree = tree_dir(), *text;

	expect_bad("{\"tree\":\"relative/linux\"}", "tree", "(got \"relative/linux\")");
	expect_bad("{\"tree\":\"/path/to/linux\"}", "tree", "is not a directory");
	/* A directory without a Makefile. */
	text = xasprintf("{\"tree\":\"%s/data\"}", getenv("SB_TEST_DATA"));
	expect_bad(text, "tree", "has no Makefile");
	free(text);
	expect_bad("{\"tree\":42}", "tree", "(got 42)");
	expect_bad("{\"jobs\":0}", "jobs", "(got 0)");
	expect_bad("{\"jobs\":\"4\"}", "jobs", "(got \"4\")");
	expect_bad("{\"target\":\"-j100\"}", "target", "not starting with '-'");
	expect_bad("{\"target\":\"all clean\"}", "target", "(got \"all clean\")");
	expect_bad("{\"target\":\"CC=clang\"}", "target", "(got \"CC=clang\")");
	expect_bad("{\"target\":\"\"}", "target", "(got \"\")");
	expect_bad("{\"prepare\":\"a;b\"}", "prepare", "(got \"a;b\")");
	expect_bad("{\"copy_to\":\"disk\"}", "copy_to", "not supported yet");
	expect_bad("{\"copy_to\":\"ssd\"}", "copy_to", "must be \"tmpfs\" or \"disk\"");
	expect_bad("{\"iterations\":0}", "iterations", "(got 0)");
	expect_bad("{\"build_timeout\":5}", "build_timeout", "(got 5)");
	expect_bad("{\"mthp\":{\"48kB\":\"always\"}}", "mthp.48kB", "power of two");
	expect_bad("{\"mthp\":{\"64kB\":\"yes\"}}", "mthp.64kB", "(got \"yes\")");
	expect_bad("{\"mthp\":[\"64kB\"]}", "mthp", "must be an object");
	expect_bad("{\"job\":4}", "job", "unknown parameter (known: tree, jobs");
	free(tree);
}

static void test_not_object(void **state)
{
	assert_int_equal(validate_text("[1]"), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), WHERE ": must be a JSON object"));
}

static void test_metric_table(void **state)
{
	static const struct metric_want want[] = {
		{ "elapsed", NULL, "lower" }, { "user_time", NULL, "lower" },
		{ "sys_time", NULL, "lower" }, { "major_faults", NULL, "lower" },
		{ "vm_fault_oom_leaked", NULL, "lower" },
	};

	EXPECT_METRICS(want);
	assert_non_null(wl_test_ops()->supported);
	assert_non_null(wl_test_ops()->setup);
	assert_non_null(wl_test_ops()->cleanup);
}

static void test_tail(void **state)
{
	char *t;

	t = wl_tail("a\nb\nc\nd\n\n", 2, 100);
	assert_string_equal(t, "c\nd");
	free(t);
	t = wl_tail("only line", 3, 100);
	assert_string_equal(t, "only line");
	free(t);
	t = wl_tail("abcdefgh", 3, 4);
	assert_string_equal(t, "efgh");
	free(t);
	t = wl_tail(NULL, 3, 4);
	assert_string_equal(t, "");
	free(t);
	/* Cut inside a two-byte character; a stray byte in the middle. */
	t = wl_tail("x\xc3\xa9t\xff\xc3\xa9", 1, 5);
	assert_string_equal(t, "?t?\xc3\xa9");
	free(t);
}

static void test_file_tail(void **state)
{
	char path[] = "/tmp/sb-tail-XXXXXX", *t;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (int i = 0; i < 5000; i++)
		fprintf(f, "line %d\n", i);
	fclose(f);
	t = wl_file_tail(path, 2, 200);
	assert_string_equal(t, "line 4998\nline 4999");
	free(t);
	unlink(path);
	t = wl_file_tail(path, 2, 200);
	assert_string_equal(t, "");
	free(t);
}

static void test_find_tool(void **state)
{
	char path[256];

	setenv("PATH", "/nonexistent:/bin:/usr/bin", 1);
	assert_int_equal(wl_find_tool("t", "sh", "dash", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/sh"));
	assert_int_equal(wl_find_tool("t", "no-such-tool-xyz", "pkg", path, sizeof(path)),
			 -ENOENT);
	assert_non_null(strstr(sb_lasterr(), "'no-such-tool-xyz' is not installed"));
	assert_non_null(strstr(sb_lasterr(), "'pkg' package"));
}

static char *suite_path(const char *name)
{
	return xasprintf("%s/../configs/suites/%s.json", getenv("SB_TEST_DATA"), name);
}

/* The suites this workload family ships: the CI ones load as they are;
 * the full-size ones insist that the user names a Linux tree, and load
 * once one is given. */
static void test_suites(void **state)
{
	static const char *const ci[] = { "kernbench-ci", "device-baseline-ci", "stress-ci" };
	static const char *const full[] = { "kernbench-phase4", "kernbench-vswap" };

	for (size_t i = 0; i < sizeof(ci) / sizeof(ci[0]); i++) {
		char *p = suite_path(ci[i]);
		struct spec s;

		if (spec_load(p, &s))
			fail_msg("%s: %s", p, sb_lasterr());
		spec_release(&s);
		free(p);
	}
	for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		char *p = suite_path(full[i]), *text, *at, *fixed, *tree = tree_dir();
		char tmp[] = "/tmp/sb-suite-XXXXXX";
		struct spec s;
		int fd;

		assert_int_equal(spec_load(p, &s), -EINVAL);
		assert_non_null(strstr(sb_lasterr(), "workloads[0].params.tree"));
		assert_non_null(strstr(sb_lasterr(), "/path/to/linux"));
		spec_release(&s);
		assert_int_equal(read_file(p, 1 << 20, &text, NULL), 0);
		at = strstr(text, "/path/to/linux");
		assert_non_null(at);
		*at = '\0';
		fixed = xasprintf("%s%s%s", text, tree, at + strlen("/path/to/linux"));
		fd = mkstemp(tmp);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(write_file_atomic(tmp, fixed, strlen(fixed)), 0);
		if (spec_load(tmp, &s))
			fail_msg("%s with the tree set: %s", full[i], sb_lasterr());
		spec_release(&s);
		unlink(tmp);
		free(fixed);
		free(text);
		free(tree);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_file_tail),
		cmocka_unit_test(test_find_tool),
		cmocka_unit_test(test_suites),
	};

	return WL_TEST_MAIN("kernbench", tests);
}
