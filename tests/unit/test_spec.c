/* Spec parsing: the good case fills every field; each kind of bad input is
 * refused with a message naming file, line, JSON path and value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/topology.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/spec.h"

static char *spec_path(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/data/specs/%s", getenv("SB_TEST_DATA"), name);
	return buf;
}

static void test_good(void **state)
{
	struct spec s;

	assert_int_equal(spec_load(spec_path("good.json"), &s), 0);
	assert_string_equal(s.name, "good");
	assert_int_equal(s.nkernels, 2);
	assert_string_equal(s.kernels[0].name, "a");
	assert_string_equal(s.kernels[1].name, "6.12");
	assert_int_equal(s.ntopos, 2);
	assert_string_equal(s.topos[0].name, "zram");
	assert_non_null(strstr(s.topos[0].origin, "configs/topologies/zram.json"));
	assert_string_equal(s.topos[1].name, "inline-nvme");
	/* What a run warns about under vm.clock icount: host-backed disks. */
	assert_null(topology_host_backed(s.topos[0].obj));
	assert_string_equal(topology_host_backed(s.topos[1].obj), "nvme");
	assert_int_equal(s.nworkloads, 2);
	assert_string_equal(s.workloads[0].name, "w1");
	assert_int_equal(s.workloads[0].memcg.max, 48LL << 20);
	assert_int_equal(s.workloads[0].memcg.swap_max, 1LL << 30);
	assert_string_equal(s.workloads[1].name, "anon");
	assert_int_equal(s.workloads[1].memcg.max, 64LL << 20);
	assert_int_equal(s.workloads[1].memcg.high, -1);
	assert_int_equal(s.iterations, 2);
	assert_int_equal(s.vm_mem_mb, 512);
	assert_int_equal(s.vm_cpus, 1);
	assert_string_equal(s.accel, "tcg");
	assert_int_equal(s.vm_timeout_s, 120);
	assert_int_equal(s.workloads[1].timeout_s, 120);
	spec_release(&s);
}

/* Each bad spec: expected fragments of the one-line message. */
struct bad_case {
	const char *file;
	const char *frag[4];
};

static const struct bad_case bad[] = {
	{ "unknown-key.json", { "unknown-key.json:7:", "vm.cpu", "unknown parameter (known: memory", NULL } },
	{ "bad-clock.json", { "bad-clock.json:7:", "vm.clock", "\"icount\"", "got \"tsc\"" } },
	{ "bad-quiet.json", { "bad-quiet.json:5:", "vm.quiet", "true or false", NULL } },
	{ "bad-param.json", { "bad-param.json:6:", "workloads[0].params", "processes", "got 0" } },
	{ "bad-source.json", { "bad-source.json:4:", "kernels[1]", "fedora:40", NULL } },
	{ "missing-topology.json", { "missing-topology.json:3:", "topologies[1]",
				     "no-such-topology", "no such file" } },
	{ "bad-layer.json", { "bad-layer.json:6:", "layers[1].kind", "floppy", NULL } },
	{ "unknown-workload.json", { "unknown-workload.json:4:", "workloads[1].kind", "memhog",
				     "known: anon" } },
	{ "syntax.json", { "syntax.json:4:", NULL } },
	{ "dup-names.json", { "kernels[1]", "duplicate kernel name 'x'", NULL } },
	{ "does-not-exist.json", { "does-not-exist.json", "No such file", NULL } },
	{ "git-unknown-key.json", { "git-unknown-key.json:4:", "kernels[0].git.refs",
				    "unknown parameter (known: tree", NULL } },
	{ "git-missing-patch.json", { "git-missing-patch.json:7:", "kernels[0].git.patches[1]",
				      "no such file 'x.mbx'", NULL } },
	{ "git-config-string.json", { "git-config-string.json:4:", "kernels[0].config",
				      "a git kernel's config is an object", NULL } },
	{ "git-bad-make.json", { "git-bad-make.json:5:", "kernels[0].make.O", "'O' cannot be set",
				 NULL } },
	{ "git-missing-fragment.json", { "git-missing-fragment.json:5:",
					 "kernels[0].config.fragments[1]",
					 "no fragment 'no-such-fragment'", NULL } },
	{ "git-no-tree.json", { "git-no-tree.json:4:", "kernels[0].git.tree",
				"no such directory '/nonexistent/linux'", NULL } },
	{ "git-and-source.json", { "git-and-source.json:3:", "kernels[0]",
				   "\"source\" or \"git\", not both", NULL } },
	/* Probes of issue 14: names that would become paths, nonsense limits. */
	{ "probe-pkg-traversal.json", { "probe-pkg-traversal.json:3:", "kernels[0]",
					"kernel package 'linux-image-../../../../tmp/x'",
					"[A-Za-z0-9._+-]" } },
	{ "probe-debian-traversal.json", { "kernels[0]", "'../6.12'", NULL } },
	{ "probe-run-name-traversal.json", { ": name:", "run name '../../../escaped'",
					     "must not start with '.'", NULL } },
	{ "probe-name-dot.json", { "kernels[0]", "kernel name '.'", NULL } },
	{ "probe-name-dotdot.json", { "workloads[0]", "workload name '..'", NULL } },
	{ "probe-topo-dotdot.json", { "topologies[0]", "topology name '..'", NULL } },
	{ "probe-name-escape.json", { "workloads[0]", "'a\\x1b[31m\\nb'", NULL } },
	{ "probe-memcg-negative.json", { "memcg.max", "must be a size", "(got \" -1\")", NULL } },
	{ "probe-memcg-over-vm.json", { "memcg.max", "65536M is not below the VM's memory",
					NULL } },
	{ "probe-memcg-tiny.json", { "memcg.max", "1 bytes is below 1M", NULL } },
	{ "probe-memcg-high-over-max.json", { "memcg.high", "above max", NULL } },
	{ "bad-fast-boot.json", { "bad-fast-boot.json:6:", "vm.fast_boot.microvm",
				  "unknown parameter", "lean_machine" } },
	{ "bad-fast-boot-value.json", { "bad-fast-boot-value.json:6:", "vm.fast_boot.pvh",
					"must be true or false (got", NULL } },
	{ "bad-purpose.json", { "bad-purpose.json:4:", "purpose", "got \"smoke\"", NULL } },
};

/* vm.fast_boot: every step on unless turned off; purpose defaults to
 * measurement. */
static void test_fast_boot(void **state)
{
	struct spec s;

	assert_int_equal(spec_load(spec_path("good.json"), &s), 0);
	assert_true(s.boot.pvh && s.boot.lean_machine && s.boot.lean_initramfs &&
		    s.boot.parallel_modules && s.boot.quick_cmdline);
	assert_false(s.functional);
	spec_release(&s);
	assert_int_equal(spec_load(spec_path("fast-boot.json"), &s), 0);
	assert_false(s.boot.pvh);
	assert_false(s.boot.quick_cmdline);
	assert_true(s.boot.lean_machine && s.boot.lean_initramfs && s.boot.parallel_modules);
	assert_true(s.functional);
	spec_release(&s);
}

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spec s;
		const char *msg;

		sb_clearerr();
		assert_int_not_equal(spec_load(spec_path(bad[i].file), &s), 0);
		msg = sb_lasterr();
		for (int f = 0; f < 4 && bad[i].frag[f]; f++) {
			if (!strstr(msg, bad[i].frag[f]))
				fail_msg("%s: message '%s' lacks '%s'", bad[i].file, msg,
					 bad[i].frag[f]);
		}
		assert_null(strchr(msg, '\n'));
		assert_null(strchr(msg, '\033'));
	}
}

/* A VM bigger than the host is refused at run time (suites for big
 * machines still load). */
static void test_host_limits(void **state)
{
	struct spec s;

	assert_int_equal(spec_load(spec_path("good.json"), &s), 0);
	s.vm_cpus = 256;
	assert_int_equal(spec_check_host(&s, 2, 24ULL << 30), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "vm.cpus: 256 CPUs, but this host has 2"));
	s.vm_cpus = 2;
	s.vm_mem_mb = 1 << 20;
	assert_int_equal(spec_check_host(&s, 2, 24ULL << 30), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "good.json:17: vm.memory: 1048576M"));
	s.vm_mem_mb = 512;
	assert_int_equal(spec_check_host(&s, 2, 24ULL << 30), 0);
	spec_release(&s);
}

/* The shared number and name helpers: no atoi leniency. */
static void test_numbers_and_names(void **state)
{
	static const char *const bad_ll[] = { "2x", "", " 2", "2 ", "+2", "0x10", "--1",
					      "4294967297", "99999999999999999999", NULL };
	static const char *const bad_names[] = { ".", "..", "", "a/b", "-x", ".hidden",
						 "a\nb", "a b", "\033[31m", NULL };
	unsigned long long sz;
	long long v;
	double d;

	for (int i = 0; bad_ll[i]; i++)
		assert_int_not_equal(parse_ll(bad_ll[i], 1, 1000000, &v), 0);
	assert_int_equal(parse_ll("4294967297", 1, 1000, &v), -ERANGE);
	assert_int_equal(parse_ll("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_ll("1000", 1, 1000, &v), 0);
	assert_int_equal(parse_double("1e400", &d), -ERANGE);
	assert_int_equal(parse_double("nan", &d), -EINVAL);
	assert_int_equal(parse_double("inf", &d), -EINVAL);
	assert_int_equal(parse_double("2.5", &d), 0);
	assert_int_not_equal(parse_size(" -1", &sz), 0);
	assert_int_not_equal(parse_size("-1", &sz), 0);
	assert_int_equal(parse_size("99999999999T", &sz), -ERANGE);
	for (int i = 0; bad_names[i]; i++)
		assert_non_null(name_problem(bad_names[i]));
	assert_non_null(name_problem("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_null(name_problem("6.12-rc1+vswap_v6"));
}

/* vm.quiet: icount and one vCPU by default; explicit clock and cpus win. */
static void test_quiet(void **state)
{
	static const struct { const char *vm; const char *clock; unsigned cpus; } cases[] = {
		{ "{\"quiet\": true}", "icount", 1 },
		{ "{\"quiet\": true, \"cpus\": 2}", "icount", 2 },
		{ "{\"quiet\": true, \"clock\": \"host\"}", "host", 1 },
		{ "{\"quiet\": false}", "host", 2 },
	};
	char *path = xasprintf("%s/quiet-%d.json", getenv("TMPDIR") ?: "/tmp", (int)getpid());

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf("{\"name\": \"q\", \"kernels\": [{\"name\": \"k\", "
				       "\"source\": \"debian:6.12\"}], \"topologies\": "
				       "[\"zram\"], \"workloads\": [{\"kind\": \"anon\"}], "
				       "\"vm\": %s}", cases[i].vm);
		struct spec s;

		assert_int_equal(write_file_atomic(path, text, strlen(text)), 0);
		assert_int_equal(spec_load(path, &s), 0);
		assert_string_equal(s.clock, cases[i].clock);
		assert_int_equal(s.vm_cpus, cases[i].cpus);
		spec_release(&s);
		free(text);
	}
	unlink(path);
	free(path);
}

/* Kernels built from git: paths resolved against the spec, defaults filled,
 * make variables sorted. */
static void test_git(void **state)
{
	struct spec s;
	struct spec_kbuild *b;
	char *root = realpath(spec_path("../../.."), NULL);
	char *patch = xasprintf("%s/configs/patches/0001-swapfile-ci-patched-marker.patch", root);

	assert_int_equal(spec_load(spec_path("git-good.json"), &s), 0);
	assert_int_equal(s.nkernels, 4);
	b = s.kernels[0].build;
	assert_non_null(b);
	assert_string_equal(s.kernels[0].name, "base");
	assert_string_equal(b->tree, root);
	assert_string_equal(b->tree_spec, "../../..");
	assert_string_equal(b->ref, "HEAD");
	assert_null(b->branch);
	assert_int_equal(b->patches.n, 0);
	/* No config: what the harness needs, on the smallest base. */
	assert_string_equal(b->config_base, "tinyconfig");
	assert_int_equal(b->fragments.n, 1);
	assert_non_null(strstr(b->fragments.v[0], "/configs/kernel/swapbench.config"));
	assert_string_equal(b->localversion, "");
	assert_string_equal(s.kernels[0].source, "git:../../..@HEAD");

	b = s.kernels[1].build;
	assert_string_equal(b->ref, "HEAD~0");
	assert_int_equal(b->patches.n, 1);
	assert_string_equal(b->patches.v[0], patch);
	assert_string_equal(b->config_base, "defconfig");
	assert_int_equal(b->fragments.n, 2);
	assert_non_null(strstr(b->fragments.v[1], "/configs/kernel/debug.config"));
	assert_int_equal(b->make.n, 2);
	assert_string_equal(b->make.v[0], "CC=gcc");
	assert_string_equal(b->make.v[1], "KCFLAGS=-O2");
	assert_string_equal(b->localversion, "-series");

	b = s.kernels[2].build;
	assert_string_equal(b->branch, "HEAD");
	assert_int_equal(b->fragments.n, 0);
	assert_string_equal(s.kernels[2].source, "git:../../..@HEAD");
	assert_null(s.kernels[3].build);
	assert_string_equal(s.kernels[3].name, "6.12");
	spec_release(&s);
	free(root);
	free(patch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_git),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_host_limits),
		cmocka_unit_test(test_numbers_and_names),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_fast_boot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
