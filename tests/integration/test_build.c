/* Integration tests of kernels built from source: Debian's linux-source-6.12
 * as a git tree (swapbench kernel source 6.12), configs/suites/variants-ci.json's
 * base and patched variants built, booted and swapping; a patch that does
 * not apply; a config fragment that cannot hold; a variant whose build fails
 * while another is fine; and a cache hit that never runs make.
 *
 * The kernels are built into the user's cache like any others, so the first
 * run on a machine pays for two builds and later runs (and the other tests)
 * reuse them.
 *
 * Usage: test_build [TEST]
 * Env:   SB_BIN the swapbench binary; SB_SOURCE the source tree
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/process.h"
#include "common/strv.h"
#include "tests/integration/it-util.h"

extern char **environ;

static char tmpdir[] = "/tmp/swapbench-build-XXXXXX";

struct out {
	int code;
	char *text; /* stdout + stderr */
	double secs;
};

static struct out run(const char *const *argv, char *const *envp)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = 40 * 60 * 1000, .capture = 1,
				.merge_stderr = 1, .envp = envp, .capture_max = 8 << 20 };
	struct spawn_result r;
	struct out res;
	char *cmd = spawn_argv_str(argv);

	print_message("$ %s\n", cmd);
	free(cmd);
	assert_int_equal(spawn_run(&o, &r), 0);
	assert_false(r.timed_out);
	res.code = r.exit_code;
	res.text = r.out ? r.out : xstrdup("");
	res.secs = r.elapsed_s;
	print_message("%s(exit %d, %.1f s)\n", res.text, res.code, res.secs);
	return res;
}

static char *suite(void)
{
	return xasprintf("%s/configs/suites/variants-ci.json", getenv("SB_SOURCE"));
}

static char *ci_patch_text(void)
{
	char *p = xasprintf("%s/configs/patches/0001-swapfile-ci-patched-marker.patch",
			    getenv("SB_SOURCE")), *text;

	assert_int_equal(read_file(p, 1 << 20, &text, NULL), 0);
	free(p);
	return text;
}

static char *write_tmp(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", tmpdir, name);

	assert_int_equal(write_file_atomic(p, text, strlen(text)), 0);
	return p;
}

/* Replace the first occurrence of `from` (which must be there). */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	assert_non_null(at);
	return xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* A spec of git kernels on cache:linux-6.12; `kernels` is the JSON array body. */
static char *spec_with(const char *name, const char *kernels)
{
	char *text = xasprintf("{\"name\": \"%s\", \"kernels\": [%s],\n"
			       " \"topologies\": [\"zram\"],\n"
			       " \"workloads\": [{\"name\": \"anon\", \"kind\": \"anon\", "
			       "\"params\": {\"processes\": 2, \"size\": \"48M\", "
			       "\"pattern\": \"random\", \"passes\": 2}}],\n"
			       " \"memcg\": {\"max\": \"48M\"},\n"
			       " \"vm\": {\"memory\": \"768M\", \"cpus\": 2, \"timeout\": 300}}\n",
			       name, kernels);
	char *file = xasprintf("%s.json", name), *p = write_tmp(file, text);

	free(text);
	free(file);
	return p;
}

#define BASE_KERNEL \
	"{\"name\": \"base\", \"git\": {\"tree\": \"cache:linux-6.12\", " \
	"\"ref\": \"v6.12-debian\"}," \
	" \"config\": {\"base\": \"tinyconfig\", \"fragments\": [\"swapbench\"]}," \
	" \"localversion\": \"-sb-base\"}"

static long long counter(json_t *res, const char *source, const char *name)
{
	json_t *v = json_object_get(json_object_get(json_object_get(json_object_get(res,
		"counters"), source), "delta"), name);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		fail_msg("missing string '%s'", key);
	return s;
}

static void assert_cell_swapped(const char *dir, const char *kernel, const char *release_end)
{
	char *cell = xasprintf("cells/%s--zram--anon--1/result.json", kernel);
	json_t *res = it_load(dir, cell);
	const char *rel = str(res, "kernel_release");

	assert_string_equal(str(res, "status"), "ok");
	assert_true(strlen(rel) > strlen(release_end));
	assert_string_equal(rel + strlen(rel) - strlen(release_end), release_end);
	assert_true(counter(res, "vmstat", "pswpout") > 0);
	assert_true(json_is_true(json_object_get(json_object_get(res, "memcg"), "limit_held")));
	/* tinyconfig + swapbench.config: perf events (x86 always selects
	 * them); whether tracing is there depends on the fragment, and the
	 * cell is ok either way. */
	assert_true(counter(res, "perf", "page-faults") > 0);
	print_message("%s: boot-to-agent %.2f s, pswpout %lld\n", kernel,
		      json_number_value(json_object_get(json_object_get(res, "host"),
							"boot_to_agent_s")),
		      counter(res, "vmstat", "pswpout"));
	json_decref(res);
	free(cell);
}

/* Both variants build (or come from the cache), boot under TCG, swap; run.json
 * says where each came from. */
static void test_build_variants(void **state)
{
	char *spec = suite(), *out = xasprintf("%s/variants", tmpdir);
	const char *build[] = { getenv("SB_BIN"), "kernel", "build", spec, NULL };
	const char *runv[] = { getenv("SB_BIN"), "run", spec, "--out", out, NULL };
	struct out r = run(build, NULL);
	json_t *runj, *kernels, *base, *patched, *pb, *bb, *patch, *commit;

	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.text, "base "));
	assert_non_null(strstr(r.text, "patched "));
	free(r.text);
	r = run(runv, NULL);
	assert_int_equal(r.code, 0);
	free(r.text);
	assert_cell_swapped(out, "base", "-sb-base");
	assert_cell_swapped(out, "patched", "-sb-patched");

	runj = it_load(out, "run.json");
	kernels = json_object_get(runj, "kernels");
	assert_int_equal(json_array_size(kernels), 2);
	base = json_array_get(kernels, 0);
	patched = json_array_get(kernels, 1);
	bb = json_object_get(base, "build");
	pb = json_object_get(patched, "build");
	assert_non_null(bb);
	assert_non_null(pb);
	/* The tree, its base commit, the patches with their hashes and commits,
	 * the config's hash, the cache id. */
	assert_string_equal(str(bb, "tree_spec"), "cache:linux-6.12");
	assert_non_null(strstr(str(bb, "tree"), "/swapbench/src/linux-6.12"));
	assert_string_equal(str(bb, "ref"), "v6.12-debian");
	assert_int_equal(strlen(str(bb, "base_commit")), 40);
	assert_string_equal(str(bb, "base_commit"), str(pb, "base_commit"));
	assert_string_equal(str(bb, "commit"), str(bb, "base_commit"));
	assert_string_not_equal(str(pb, "commit"), str(pb, "base_commit"));
	assert_int_equal(json_array_size(json_object_get(bb, "patches")), 0);
	assert_int_equal(json_array_size(json_object_get(pb, "patches")), 1);
	patch = json_array_get(json_object_get(pb, "patches"), 0);
	assert_non_null(strstr(str(patch, "file"), "0001-swapfile-ci-patched-marker.patch"));
	assert_int_equal(strlen(str(patch, "sha256")), 64);
	assert_int_equal(json_array_size(json_object_get(patch, "commits")), 1);
	commit = json_array_get(json_object_get(patch, "commits"), 0);
	/* One patch: the resolved commit is that patch's commit. */
	assert_string_equal(str(commit, "id"), str(pb, "commit"));
	assert_non_null(strstr(str(commit, "subject"), "mm/swapfile"));
	assert_int_equal(strlen(str(base, "config_sha256")), 64);
	assert_string_equal(str(base, "config_sha256"), str(bb, "config_sha256"));
	assert_int_equal(strncmp(str(base, "cache_id"), "git-", 4), 0);
	assert_string_not_equal(str(base, "cache_id"), str(patched, "cache_id"));
	assert_non_null(strstr(str(bb, "compiler"), "gcc"));
	assert_string_equal(str(pb, "localversion"), "-sb-patched");
	json_decref(runj);
	free(spec);
	free(out);
}

/* The JSON array printed after the progress lines. */
static const char *json_start(const char *text)
{
	for (const char *p = text; (p = strchr(p, '[')); p++)
		if ((p == text || p[-1] == '\n') && p[1] == '\n')
			return p;
	fail_msg("no JSON array in the output");
	return NULL;
}

/* Same inputs: no make at all (a `make` first in PATH would fail and leave
 * a mark), and fast. */
static void test_cache_hit(void **state)
{
	char *spec = suite(), *bin = xasprintf("%s/bin", tmpdir);
	char *mark = xasprintf("%s/make-was-run", tmpdir), *fake = xasprintf("%s/make", bin);
	char *script = xasprintf("#!/bin/sh\necho \"$@\" >> '%s'\nexit 1\n", mark);
	const char *build[] = { getenv("SB_BIN"), "kernel", "build", spec, "--json", NULL };
	const char *gc[] = { getenv("SB_BIN"), "kernel", "gc", "--dry-run", spec, NULL };
	struct strv env;
	struct out r, g;
	json_t *arr, *k;
	size_t i;

	/* Cached by the first run (which may build when this test runs alone). */
	r = run(build, NULL);
	assert_int_equal(r.code, 0);
	free(r.text);
	mkdir_p(bin, 0755);
	assert_int_equal(write_file_atomic(fake, script, strlen(script)), 0);
	chmod(fake, 0755);
	strv_init(&env);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "PATH=", 5))
			strv_add(&env, *e);
	strv_addf(&env, "PATH=%s:%s", bin, getenv("PATH"));
	r = run(build, env.v);
	assert_int_equal(r.code, 0);
	assert_false(path_exists(mark));
	/* Two kernels, each "well under a second"; slack for a loaded CI host. */
	assert_true(r.secs < 5.0);
	arr = json_loads(json_start(r.text), JSON_DISABLE_EOF_CHECK, NULL);
	assert_int_equal(json_array_size(arr), 2);
	/* What the spec uses is not garbage. */
	g = run(gc, NULL);
	assert_int_equal(g.code, 0);
	json_array_foreach(arr, i, k) {
		const char *dir = str(json_object_get(k, "build"), "dir");

		assert_string_equal(str(k, "state"), "cached");
		assert_true(path_exists(str(k, "vmlinuz")));
		assert_null(strstr(g.text, dir));
	}
	json_decref(arr);
	free(g.text);
	free(r.text);
	strv_release(&env);
	free(spec);
	free(bin);
	free(mark);
	free(fake);
	free(script);
}

/* The second patch of a series conflicts with the first: the failure names
 * the patch and the file; the user's tree is left as it was. */
static void test_bad_patch(void **state)
{
	char *ci = ci_patch_text(), *ci_path = write_tmp("0001-ci.patch", ci);
	char *conflict = replace(ci, "(swapbench-ci patched)", "(conflicting)");
	char *c2 = replace(conflict, "Subject: [PATCH] mm/swapfile: say",
			   "Subject: [PATCH] mm/swapfile: also say");
	char *conf_path = write_tmp("0002-conflict.patch", c2);
	char *kern = xasprintf("{\"name\": \"badpatch\", \"git\": {\"tree\": \"cache:linux-6.12\","
			       " \"ref\": \"v6.12-debian\", \"patches\": [\"%s\", \"%s\"]}}",
			       ci_path, conf_path);
	char *spec = spec_with("badpatch", kern);
	const char *build[] = { getenv("SB_BIN"), "kernel", "build", spec, NULL };
	const char *tree_status[] = { "git", "-C", NULL, "status", "--porcelain", NULL };
	const char *tree_head[] = { "git", "-C", NULL, "rev-parse", "HEAD", NULL };
	const char *lgit[] = { getenv("SB_BIN"), "kernel", "source", "6.12", "--print", NULL };
	struct out r, tp, st, head0, head1;
	char *treedir;

	tp = run(lgit, NULL);
	treedir = xstrdup(tp.text);
	rstrip(treedir);
	tree_status[2] = tree_head[2] = treedir;
	head0 = run(tree_head, NULL);
	r = run(build, NULL);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.text, "failed"));
	assert_non_null(strstr(r.text, "patch 2/2 '0002-conflict.patch'"));
	assert_non_null(strstr(r.text, "does not apply on v6.12-debian with the patches before"));
	assert_non_null(strstr(r.text, "mm/swapfile.c"));
	assert_null(strstr(r.text, "0001-ci.patch'"));
	st = run(tree_status, NULL);
	assert_int_equal(st.code, 0);
	assert_string_equal(st.text, "");
	head1 = run(tree_head, NULL);
	assert_string_equal(head0.text, head1.text);
	free(r.text);
	free(tp.text);
	free(st.text);
	free(head0.text);
	free(head1.text);
	free(treedir);
	free(ci);
	free(ci_path);
	free(conflict);
	free(c2);
	free(conf_path);
	free(kern);
	free(spec);
}

/* A fragment asks for ZSWAP but turns SWAP off: the run refuses that
 * kernel, naming the option and the unmet dependency, and still runs the
 * other one. */
static void test_unsat_fragment(void **state)
{
	char *frag = write_tmp("unsat.config", "# CONFIG_SWAP is not set\nCONFIG_ZSWAP=y\n");
	char *kern = xasprintf(BASE_KERNEL ",\n {\"name\": \"unsat\", \"git\": {\"tree\": "
			       "\"cache:linux-6.12\", \"ref\": \"v6.12-debian\"}, \"config\": "
			       "{\"base\": \"tinyconfig\", "
			       "\"fragments\": [\"swapbench\", \"%s\"]}}",
			       frag);
	char *spec = spec_with("unsat", kern), *out = xasprintf("%s/unsat", tmpdir);
	const char *runv[] = { getenv("SB_BIN"), "run", spec, "--out", out, NULL };
	struct out r = run(runv, NULL);
	json_t *res, *runj;

	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.text, "requested CONFIG_ZSWAP=y, got not set"));
	assert_non_null(strstr(r.text, "unmet: SWAP"));
	assert_cell_swapped(out, "base", "-sb-base");
	res = it_load(out, "cells/unsat--zram--anon--1/result.json");
	assert_string_equal(str(res, "status"), "failed");
	assert_non_null(strstr(str(res, "error"), "kernel build failed"));
	assert_non_null(strstr(str(res, "error"), "requested CONFIG_ZSWAP=y, got not set"));
	runj = it_load(out, "run.json");
	assert_non_null(strstr(str(json_array_get(json_object_get(runj, "kernels"), 1),
				   "build_error"), "CONFIG_ZSWAP"));
	json_decref(res);
	json_decref(runj);
	free(r.text);
	free(frag);
	free(kern);
	free(spec);
	free(out);
}

/* A plain diff that breaks the compile: that variant fails with the
 * compiler's error and a kept log; the other, listed after it, is fine. */
static void test_build_failure(void **state)
{
	char *diff = write_tmp("break-init.diff",
			       "--- a/init/main.c\n"
			       "+++ b/init/main.c\n"
			       "@@ -11,6 +11,8 @@\n"
			       "  */\n"
			       " \n"
			       " #define DEBUG\t\t/* Enable initcall_debug */\n"
			       "+\n"
			       "+this line is not C: the build of this variant must fail\n"
			       " \n"
			       " #include <linux/types.h>\n"
			       " #include <linux/extable.h>\n");
	char *kern = xasprintf("{\"name\": \"broken\", \"git\": {\"tree\": \"cache:linux-6.12\", "
			       "\"ref\": \"v6.12-debian\", \"patches\": [\"%s\"]}, \"config\": "
			       "{\"base\": \"tinyconfig\", \"fragments\": [\"swapbench\"]}},\n "
			       BASE_KERNEL, diff);
	char *spec = spec_with("broken", kern), *log = NULL;
	const char *build[] = { getenv("SB_BIN"), "kernel", "build", spec, "--json", NULL };
	struct out r = run(build, NULL);
	json_t *arr, *broken, *base;
	const char *err;

	assert_int_equal(r.code, 3);
	arr = json_loads(json_start(r.text), JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(arr);
	broken = json_array_get(arr, 0);
	base = json_array_get(arr, 1);
	assert_string_equal(str(broken, "state"), "failed");
	err = str(broken, "error");
	assert_non_null(strstr(err, "make failed"));
	assert_non_null(strstr(err, "init/main.c"));
	assert_non_null(strstr(err, "error:"));
	assert_non_null(strstr(err, "log kept: "));
	log = strndup(strstr(err, "log kept: ") + 10, strcspn(strstr(err, "log kept: ") + 10, ")"));
	assert_true(path_exists(log));
	/* The other variant is intact: there, bootable, from the cache. */
	assert_string_equal(str(base, "state"), "cached");
	assert_true(path_exists(str(base, "vmlinuz")));
	json_decref(arr);
	free(r.text);
	free(log);
	free(diff);
	free(kern);
	free(spec);
}

static int setup(void **state)
{
	const char *src[] = { getenv("SB_BIN"), "kernel", "source", "6.12", NULL };
	struct spawn_opts o = { .argv = src, .timeout_ms = 40 * 60 * 1000 };
	struct spawn_result r;

	if (!mkdtemp(tmpdir))
		return -1;
	/* The tree every test builds from: made once per machine. */
	if (spawn_run(&o, &r) || r.exit_code) {
		fprintf(stderr, "swapbench kernel source 6.12 failed\n");
		return -1;
	}
	spawn_result_release(&r);
	return 0;
}

static int teardown(void **state)
{
	it_remove_dir(tmpdir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_variants),
		cmocka_unit_test(test_cache_hit),
		cmocka_unit_test(test_bad_patch),
		cmocka_unit_test(test_unsat_fragment),
		cmocka_unit_test(test_build_failure),
	};

	if (!getenv("SB_BIN") || !getenv("SB_SOURCE")) {
		fprintf(stderr, "set SB_BIN and SB_SOURCE\n");
		return 2;
	}
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
