#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "tests/integration/it-util.h"
#include "common/process.h"

static char tmpdir[] = "/tmp/swapbench-it-XXXXXX";

const char *it_tmpdir(void)
{
	return tmpdir;
}

int it_run_timeout_s = 20 * 60;

struct it_run it_run_spec_args(const char *spec, const char *tag, const char *const *extra)
{
	struct it_run r = { 0 };
	char *specpath = spec[0] == '/' ? xstrdup(spec)
					: xasprintf("%s/%s", getenv("SB_SPECS"), spec);
	const char *argv[32] = { getenv("SB_BIN"), "run", specpath, "--out", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = it_run_timeout_s * 1000,
				.capture = 1, .merge_stderr = 1 };
	struct spawn_result res;
	size_t n = 5;

	r.out = xasprintf("%s/%s", tmpdir, tag);
	argv[4] = r.out;
	for (size_t i = 0; extra && extra[i]; i++) {
		assert_true(n + 1 < sizeof(argv) / sizeof(argv[0]));
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	assert_int_equal(spawn_run(&o, &res), 0);
	assert_false(res.timed_out);
	r.exit_code = res.exit_code;
	r.output = xstrdup(res.out ? res.out : "");
	print_message("%s", r.output);
	spawn_result_release(&res);
	free(specpath);
	return r;
}

struct it_run it_run_spec(const char *spec, const char *tag)
{
	return it_run_spec_args(spec, tag, NULL);
}

void it_run_release(struct it_run *r)
{
	free(r->out);
	free(r->output);
}

json_t *it_load(const char *dir, const char *file)
{
	char *p = xasprintf("%s/%s", dir, file);
	json_error_t e;
	json_t *j = json_load_file(p, 0, &e);

	if (!j)
		fail_msg("cannot load %s: %s", p, e.text);
	free(p);
	return j;
}

json_t *it_cell_result(const struct it_run *r, const char *cell)
{
	char *p = xasprintf("cells/%s/result.json", cell);
	json_t *j = it_load(r->out, p);

	free(p);
	return j;
}

double it_metric(json_t *res, const char *name)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(res, "metrics"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "name")), name))
			return json_number_value(json_object_get(m, "value"));
	fail_msg("metric %s missing", name);
	return 0;
}

long long it_counter(json_t *res, const char *source, const char *name)
{
	json_t *v = json_object_get(json_object_get(json_object_get(json_object_get(res,
		"counters"), source), "delta"), name);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

void it_assert_swapped(json_t *res, const char *release_prefix)
{
	assert_string_equal(json_string_value(json_object_get(res, "status")), "ok");
	assert_int_equal(strncmp(json_string_value(json_object_get(res, "kernel_release")),
				 release_prefix, strlen(release_prefix)), 0);
	assert_true(it_counter(res, "vmstat", "pswpout") > 1000);
	assert_true(it_counter(res, "vmstat", "pswpin") > 0);
	assert_true(it_counter(res, "memory_stat", "pgmajfault") > 0);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

void it_remove_dir(const char *dir)
{
	if (!getenv("SB_KEEP"))
		rm_rf(dir);
	else
		fprintf(stderr, "kept %s\n", dir);
}

static int teardown(void **state)
{
	it_remove_dir(tmpdir);
	return 0;
}

int it_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n)
{
	if (!getenv("SB_BIN") || !getenv("SB_SPECS")) {
		fprintf(stderr, "set SB_BIN and SB_SPECS\n");
		return 2;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return _cmocka_run_group_tests("integration", tests, n, setup, teardown);
}
