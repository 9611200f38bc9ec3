/* Replays the fuzzing regression corpus (tests/data/fuzz/: the probes of
 * issue 14 and every crasher scripts/fuzz.sh found) through the fuzzing
 * entry, so the normal and the ASan/UBSan unit runs keep them fixed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include "../fuzz/fuzz_input.c"

static void test_corpus(void **state)
{
	char *dir = xasprintf("%s/data/fuzz", getenv("SB_TEST_DATA"));
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char *p, *data;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		assert_int_equal(read_file(p, 1 << 20, &data, &len), 0);
		sb_fuzz_one((const uint8_t *)data, len);
		free(data);
		free(p);
		n++;
	}
	closedir(d);
	assert_true(n >= 20);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
