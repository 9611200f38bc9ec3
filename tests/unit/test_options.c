/* Option tables: parsing, range and choice checks, --help from the table. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/options.h"

static int flag, num;
static const char *str, *accel;
static unsigned long long size;

static const struct opt_def opts[] = {
	OPT_BOOL_S('f', "flag", &flag, "a flag"),
	OPT_STRING("str", &str, "S", "a string"),
	OPT_INTEGER("num", &num, "N", 1, 10, "a number\nover two lines"),
	OPT_ENUM("accel", &accel, "A", opt_accels, "an accelerator"),
	OPT_SIZE("mem", &size, "SIZE", 128LL << 20, "a size"),
	OPT_END(),
};

static const struct cmd_def def = { "test", "ARG", "a test command", "Tests.\n", opts, 1, 1,
				    NULL };

static int parse(int *first, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, first);
	argv[argc++] = "test";
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	flag = num = 0;
	str = accel = NULL;
	size = 0;
	return opt_parse(&def, argc, argv, first);
}

static void test_parse(void **state)
{
	int first;

	assert_int_equal(parse(&first, "-f", "--num", "7", "x", "--accel", "tcg", "--str", "s",
			       "--mem", "1G", NULL), OPT_OK);
	assert_int_equal(flag, 1);
	assert_int_equal(num, 7);
	assert_string_equal(accel, "tcg");
	assert_string_equal(str, "s");
	assert_true(size == 1ULL << 30);
}

static void test_bad_values(void **state)
{
	int first;

	assert_int_equal(parse(&first, "--num", "11", "x", NULL), OPT_ERROR);
	assert_int_equal(parse(&first, "--num", "3x", "x", NULL), OPT_ERROR);
	assert_int_equal(parse(&first, "--accel", "xen", "x", NULL), OPT_ERROR);
	assert_int_equal(parse(&first, "--mem", "64M", "x", NULL), OPT_ERROR);
	assert_int_equal(parse(&first, "--nope", "x", NULL), OPT_ERROR);
	/* positional count */
	assert_int_equal(parse(&first, NULL), OPT_ERROR);
	assert_int_equal(parse(&first, "x", "y", NULL), OPT_ERROR);
	assert_int_equal(opt_exit(OPT_ERROR), 2);
	assert_int_equal(opt_exit(OPT_HELP), 0);
}

static void test_help_lists_every_option(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	opt_usage(&def, f);
	fclose(f);
	assert_non_null(strstr(buf, "usage: swapbench test [options] ARG"));
	for (int i = 0; opts[i].type != OPT_T_END; i++)
		assert_non_null(strstr(buf, opts[i].name));
	assert_non_null(strstr(buf, "--help"));
	{
		/* The continuation line starts in the help column. */
		const char *a = strstr(buf, "a number"), *b = strstr(buf, "over two lines");
		const char *la = a, *lb = b;

		assert_non_null(a);
		assert_non_null(b);
		while (la[-1] != '\n')
			la--;
		while (lb[-1] != '\n')
			lb--;
		assert_int_equal(a - la, b - lb);
	}
	free(buf);
}

static int fake_cmd(int argc, char **argv)
{
	return 0;
}

static void test_man_and_completion(void **state)
{
	static const struct cmd_def sub = { "group sub", NULL, "a subcommand", NULL, opts, 0, 0,
					    NULL };
	static const struct subcmd subs[] = { { &sub, fake_cmd }, { NULL, NULL } };
	static const struct cmd_entry cmds[] = {
		{ "test", fake_cmd, &def, NULL, NULL },
		{ "group", fake_cmd, NULL, subs, "a group" },
		{ NULL, NULL, NULL, NULL, NULL },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	opt_man_page(cmds, f);
	fclose(f);
	assert_non_null(strstr(buf, ".TH SWAPBENCH 1"));
	assert_non_null(strstr(buf, "\\fB\\-\\-accel\\fR \\fIA\\fR"));
	free(buf);
	f = open_memstream(&buf, &len);
	opt_bash_completion(cmds, f);
	fclose(f);
	assert_non_null(strstr(buf, "--accel"));
	assert_non_null(strstr(buf, "auto kvm tcg"));
	assert_non_null(strstr(buf, "sub) opts="));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_help_lists_every_option),
		cmocka_unit_test(test_man_and_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
