/* Profiles: perf script output parsing (self samples, folded stacks, the
 * swap-path focus), the host's checks of guest-written profile files, and
 * the spec keys that ask for a profile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "harness/profile.h"
#include "harness/spec.h"

static FILE *script(void)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/data/profile/script.txt", getenv("SB_TEST_DATA"));
	f = fopen(path, "re");
	assert_non_null(f);
	return f;
}

static long long self_of(json_t *self, const char *sym)
{
	return json_integer_value(json_object_get(json_object_get(self, sym), "samples"));
}

static void test_parse_all(void **state)
{
	json_t *self = json_object(), *folded = json_object();
	FILE *f = script();

	assert_int_equal(profile_parse_script(f, NULL, self, folded), 4);
	fclose(f);
	assert_int_equal(self_of(self, "smp_call_function_many_cond"), 1);
	assert_int_equal(self_of(self, "LZ4_compress_fast_extState"), 1);
	assert_int_equal(self_of(self, "clear_page_erms"), 1);
	/* An unknown symbol names its object when known (see folded). */
	assert_int_equal(self_of(self, "[unknown]"), 1);
	assert_true(json_is_true(json_object_get(json_object_get(self, "clear_page_erms"),
						 "kernel")));
	assert_false(json_is_true(json_object_get(json_object_get(self,
		"[unknown]"), "kernel")));
	/* Folded: comm;outermost;...;leaf, spaces made underscores. */
	assert_int_equal(json_integer_value(json_object_get(folded,
		"init;[unknown_in_/init];asm_exc_page_fault;do_swap_page;"
		"shrink_folio_list.isra.0;on_each_cpu_cond_mask;smp_call_function_many_cond")), 1);
	assert_int_equal(json_integer_value(json_object_get(folded,
		"kworker/0:1_H;do_anonymous_page;clear_page_erms")), 1);
	/* A module's symbol counts as the kernel's. */
	assert_int_equal(json_object_size(folded), 4);
	json_decref(self);
	json_decref(folded);
}

static void test_parse_swap_path(void **state)
{
	json_t *self = json_object(), *folded = json_object();
	FILE *f = script();

	/* All samples are counted (shares stay shares of CPU time), but only
	 * those through the swap path are kept. */
	assert_int_equal(profile_parse_script(f, profile_swap_path, self, folded), 4);
	fclose(f);
	assert_int_equal(json_object_size(self), 2);
	assert_int_equal(self_of(self, "smp_call_function_many_cond"), 1); /* .isra.0 match */
	assert_int_equal(self_of(self, "LZ4_compress_fast_extState"), 1);
	assert_int_equal(self_of(self, "clear_page_erms"), 0);
	json_decref(self);
	json_decref(folded);
}

static void test_check_caps(void **state)
{
	char dir[] = "/tmp/sb-test-profile-XXXXXX";
	char *data, *ks;
	json_t *final = json_pack("{s:{}}", "profile"), *hc;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	data = xasprintf("%s/perf.data", dir);
	ks = xasprintf("%s/kallsyms", dir);
	/* A perf.data far over the cap is removed, never kept. */
	f = fopen(data, "we");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 20LL << 20), 0);
	fclose(f);
	/* A guest-made symlink is not followed, it is removed. */
	assert_int_equal(symlink("/etc/passwd", ks), 0);
	profile_check(dir, 1 << 20, final);
	hc = json_object_get(json_object_get(final, "profile"), "host_check");
	assert_non_null(strstr(json_string_value(json_object_get(hc, "perf.data")), "over the cap"));
	assert_non_null(strstr(json_string_value(json_object_get(hc, "kallsyms")),
			       "not a regular file"));
	assert_false(path_exists(data));
	assert_int_equal(access(ks, F_OK), -1);
	/* Within the cap: kept, size recorded. */
	f = fopen(data, "we");
	fputs("PERFILE2", f);
	fclose(f);
	profile_check(dir, 1 << 20, final);
	hc = json_object_get(json_object_get(final, "profile"), "host_check");
	assert_int_equal(json_integer_value(json_object_get(hc, "perf.data")), 8);
	assert_string_equal(json_string_value(json_object_get(hc, "kallsyms")), "missing");
	json_decref(final);
	rm_rf(dir);
	free(data);
	free(ks);
}

static int load_text(const char *text, struct spec *s)
{
	char path[] = "/tmp/sb-test-spec-XXXXXX.json";
	int fd = mkstemps(path, 5), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = spec_load(path, s);
	unlink(path);
	return rc;
}

#define SPEC(extra, wl_extra)                                                              \
	"{\"kernels\": [{\"source\": \"debian:6.12\"}], \"topologies\": [\"zram\"],"     \
	" \"workloads\": [{\"kind\": \"anon\"" wl_extra "}]" extra "}"

static void test_spec_profile(void **state)
{
	struct spec s;

	assert_int_equal(load_text(SPEC("", ""), &s), 0);
	assert_int_equal(s.workloads[0].profile, 0);
	assert_int_equal(s.profile_hz, 499);
	assert_int_equal(s.profile_max_bytes, 64LL << 20);
	spec_release(&s);
	assert_int_equal(load_text(SPEC(", \"profile\": {\"frequency\": 99, \"max_size\": \"8M\"},"
					" \"memcg\": {\"zswap_max\": \"16M\"}",
					", \"profile\": true"), &s), 0);
	assert_int_equal(s.workloads[0].profile, 1);
	assert_int_equal(s.profile_hz, 99);
	assert_int_equal(s.profile_max_bytes, 8LL << 20);
	assert_int_equal(s.workloads[0].memcg.zswap_max, 16LL << 20);
	spec_release(&s);

	sb_clearerr();
	assert_int_not_equal(load_text(SPEC("", ", \"profile\": 1"), &s), 0);
	assert_non_null(strstr(sb_lasterr(), "workloads[0].profile"));
	sb_clearerr();
	assert_int_not_equal(load_text(SPEC(", \"profile\": {\"max_size\": \"1K\"}", ""), &s), 0);
	assert_non_null(strstr(sb_lasterr(), "profile.max_size"));
	sb_clearerr();
	assert_int_not_equal(load_text(SPEC(", \"profile\": {\"hz\": 9}", ""), &s), 0);
	assert_non_null(strstr(sb_lasterr(), "hz"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_all),
		cmocka_unit_test(test_parse_swap_path),
		cmocka_unit_test(test_check_caps),
		cmocka_unit_test(test_spec_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
