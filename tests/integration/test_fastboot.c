/* Cells per hour: the PVH boot of Debian kernels and `run --jobs`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"

static const char *boot_field(json_t *res, const char *key)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(res, "host"),
								 "boot"), key));
}

/* --jobs: refused above the host's CPUs and for a measurement suite (exit 2,
 * nothing written); a functional suite runs its cells side by side, each
 * recording that, booted through PVH with the lean steps. */
static void test_jobs(void **state)
{
	char *too_many = xasprintf("%ld", sysconf(_SC_NPROCESSORS_ONLN) + 1);
	const char *many[] = { "--jobs", too_many, NULL };
	const char *two[] = { "--jobs", "2", NULL };
	struct it_run r = it_run_spec_args("jobs.json", "jobs-too-many", many);
	json_t *run;

	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "CPUs"));
	assert_false(path_exists(r.out));
	it_run_release(&r);
	r = it_run_spec_args("swap-6.12.json", "jobs-measurement", two);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.output, "--force-jobs"));
	assert_false(path_exists(r.out));
	it_run_release(&r);
	free(too_many);

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	r = it_run_spec_args("jobs.json", "jobs", two);
	assert_int_equal(r.exit_code, 0);
	run = it_load(r.out, "run.json");
	assert_int_equal(json_integer_value(json_object_get(run, "concurrency")), 2);
	json_decref(run);
	for (int i = 1; i <= 2; i++) {
		char cell[64];
		json_t *res;

		snprintf(cell, sizeof(cell), "6.12--zram--anon--%d", i);
		res = it_cell_result(&r, cell);
		assert_string_equal(json_string_value(json_object_get(res, "status")), "ok");
		assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "host"),
								    "concurrency")), 2);
		/* Debian's 6.12 has CONFIG_PVH: the unpacked ELF booted, on the
		 * lean machine, with only zram's modules. */
		assert_string_equal(boot_field(res, "image"), "vmlinux-pvh");
		assert_string_equal(boot_field(res, "machine"), "q35-lean");
		assert_string_equal(boot_field(res, "initramfs"), "topology");
		assert_true(json_array_size(json_object_get(res, "swaps")) >= 1);
		json_decref(res);
	}
	it_run_release(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs),
	};

	return it_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
