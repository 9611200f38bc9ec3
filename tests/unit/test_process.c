/* spawn: argument vectors, redirection, capture, timeouts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/process.h"

static void test_stdout_path(void **state)
{
	char path[] = "/tmp/sb-spawn-XXXXXX";
	const char *argv[] = { "echo", "hello; $(no shell)", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 10000, .stdout_path = path };
	struct spawn_result r;
	char *text;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	/* The file must be the child's open stdout, not closed at exec. */
	assert_int_equal(spawn_run(&o, &r), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(read_file(path, 4096, &text, NULL), 0);
	assert_string_equal(text, "hello; $(no shell)\n");
	free(text);
	unlink(path);
}

static void test_capture_and_exit(void **state)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 10000, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result r;

	assert_int_equal(spawn_run(&o, &r), 0);
	assert_int_equal(r.exit_code, 3);
	assert_non_null(strstr(r.out, "out"));
	assert_non_null(strstr(r.out, "err"));
	spawn_result_release(&r);
	assert_true(spawn_ok((const char *[]){ "true", NULL }, 5000));
	assert_false(spawn_ok((const char *[]){ "false", NULL }, 5000));
}

static void test_timeout_kills_group(void **state)
{
	const char *argv[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 300, .capture = 1 };
	struct spawn_result r;

	assert_int_equal(spawn_run(&o, &r), 0);
	assert_true(r.timed_out);
	/* The background sleep held the pipe: it must have been killed too. */
	assert_true(r.elapsed_s < 5);
	spawn_result_release(&r);
}

static void test_missing_program(void **state)
{
	const char *argv[] = { "/nonexistent/prog", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 1000 };
	struct spawn_result r;

	assert_true(spawn_run(&o, &r) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdout_path),
		cmocka_unit_test(test_capture_and_exit),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_missing_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
