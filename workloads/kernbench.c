/* kernbench: `make -jN` of a source tree inside the workload memcg.
 *
 * The posted recipe (swap table, vswap series): a kernel tree on tmpfs,
 * `make -jN` in a memcg much smaller than the build needs, `make clean`
 * between runs, user/sys/elapsed reported. Here:
 *
 *   setup()  (agent, root cgroup): set mTHP knobs; `cp -a TREE /tmp/kernbench`
 *            so the sources live on tmpfs but are charged to the root
 *            cgroup; run the optional `prepare` target (e.g. defconfig).
 *   run()    (workload memcg): per build, `make clean` (untimed), then
 *            `make -C /tmp/kernbench -jN TARGET` timed. Compiler memory,
 *            temporary files and build output are all charged to the memcg,
 *            so with a tight memory.max the build swaps.
 *
 * user/sys times and major faults come from getrusage(RUSAGE_CHILDREN)
 * around each build: exact for the whole make process tree, since make
 * waits for every compiler it starts (the agent only enables the memory
 * controller, so cgroup cpu.stat is not available). The kernel log is
 * read around each build for "VM_FAULT_OOM leaked out", the thrashing
 * indicator counted in the swap table threads.
 */
#define _GNU_SOURCE
#include "workloads/workload.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "workloads/mthp-knobs.h"
#include "common/process.h"
#include "workloads/wl-util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define KB_DEFAULT_TREE		SWAPBENCH_SOURCE_DIR "/tests/data/kernbench-tree"
#define KB_DIR_NAME		"kernbench"
#define KB_MAX_JOBS		4096
#define KB_MAX_ITERATIONS	100
#define KB_COPY_TIMEOUT_MS	(3600 * 1000)
#define KB_CLEAN_TIMEOUT_MS	(1800 * 1000)
#define KB_TAIL_LINES		12
#define KB_TAIL_BYTES		1500
#define KB_STDOUT_MAX		(64 << 10)
#define KB_OOM_LEAK		"VM_FAULT_OOM leaked out"

static const char *const copy_modes[] = { "tmpfs", "disk", NULL };

/* The parameters; kb_parse resolves them and adds the checks a type cannot
 * say (the tree exists, targets are plain make targets). */
static const struct param_def kb_params[] = {
	PARAM_STRING("tree", 4000, KB_DEFAULT_TREE,
		     "source tree to build, an absolute host path with a Makefile"),
	PARAM_INT("jobs", 1, KB_MAX_JOBS, NULL, "make -j (default: online CPUs)"),
	PARAM_STRING("target", 200, "all", "make target"),
	PARAM_STRING("prepare", 200, NULL, "make target run once before the timed builds"),
	PARAM_ENUM("copy_to", copy_modes, "tmpfs", "where the tree is copied (disk: not yet)"),
	PARAM_INT("iterations", 1, KB_MAX_ITERATIONS, "1", "timed builds (make clean between)"),
	PARAM_CUSTOM("mthp", NULL, "mTHP policy per size, e.g. {\"64K\": \"always\"}"),
	PARAM_INT("build_timeout", 10, 7 * 86400, "7200", "seconds per make invocation"),
	PARAM_END(),
};

struct kb_cfg {
	const char *tree;
	char tree_buf[4096];		/* tree as the guest sees it */
	unsigned int jobs;		/* 0: online CPUs, resolved in the guest */
	const char *target;
	const char *prepare;		/* NULL: none */
	unsigned int iterations;
	unsigned int build_timeout;	/* s, per make invocation */
	struct mthp_knobs mthp;
};

/* What setup() did, for run() (inherited over fork) and cleanup(). */
struct kb_priv {
	struct mthp_saved *mthp;
	char *dir;
	double copy_s, prepare_s;
};

struct kb_build {
	double elapsed, user, sys;
	long majflt;
	long long memcg_majflt;		/* -1 if memory.stat could not be read */
	long oom_leaked;
};

/* ---- parameters ------------------------------------------------------- */

/* Make targets are passed as one argv element; refuse what make would take
 * as an option or a variable assignment rather than a target. */
static int check_target(const json_t *params, const char *where, const char *key,
			const char **out)
{
	const char *t = NULL;
	int ret = params_get_string(params, where, kb_params, key, &t);

	if (ret || !t)
		return ret;
	for (const char *p = t; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.+/-", *p))
			t = NULL;
	if (!t || t[0] == '-')
		return param_bad(where, key, json_object_get(params, key),
				    "must be one make target of letters, digits and \"_.+/-\", "
				    "not starting with '-'");
	*out = t;
	return 0;
}

static int has_makefile(const char *dir)
{
	static const char *const names[] = { "GNUmakefile", "makefile", "Makefile" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		int ok = path_exists(p);

		free(p);
		if (ok)
			return 1;
	}
	return 0;
}

static int kb_parse(const json_t *params, const char *where, struct kb_cfg *cfg)
{
	unsigned int mode = 0;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if ((ret = params_check(params, where, kb_params)) ||
	    (ret = params_get_string(params, where, kb_params, "tree", &cfg->tree)))
		return ret;
	cfg->tree = wl_guest_path(cfg->tree, cfg->tree_buf, sizeof(cfg->tree_buf));
	/* The guest sees the host's root at the same paths, so the host can
	 * refuse a wrong tree before anything boots. */
	if (cfg->tree[0] != '/' || !is_dir(cfg->tree) || !has_makefile(cfg->tree)) {
		json_t *tree = params_get_json(params, kb_params, "tree"); /* or the default */

		ret = param_bad(where, "tree", tree,
				cfg->tree[0] != '/' ? "must be an absolute path on the host" :
				is_dir(cfg->tree) ? "has no Makefile" :
				"is not a directory on this machine");
		json_decref(tree);
		return ret;
	}
	if ((ret = params_get_uint(params, where, kb_params, "jobs", &cfg->jobs)) ||
	    (ret = check_target(params, where, "target", &cfg->target)) ||
	    (ret = check_target(params, where, "prepare", &cfg->prepare)) ||
	    (ret = params_get_enum(params, where, kb_params, "copy_to", &mode)))
		return ret;
	if (mode == 1)
		return param_bad(where, "copy_to", json_object_get(params, "copy_to"),
				    "\"disk\" is not supported yet (the guest has no writable "
				    "disk but its swap devices); use \"tmpfs\"");
	if ((ret = params_get_uint(params, where, kb_params, "iterations", &cfg->iterations)) ||
	    (ret = params_get_uint(params, where, kb_params, "build_timeout",
				   &cfg->build_timeout)))
		return ret;
	return mthp_knobs_parse(json_object_get(params, "mthp"), where, &cfg->mthp);
}

static int kb_validate(const json_t *params, const char *where)
{
	struct kb_cfg cfg;

	return kb_parse(params, where, &cfg);
}

static unsigned int resolve_jobs(const struct kb_cfg *cfg)
{
	long n;

	if (cfg->jobs)
		return cfg->jobs;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

/* ---- running make ----------------------------------------------------- */

static char *build_dir(const struct wl_ctx *ctx)
{
	return xasprintf("%s/" KB_DIR_NAME, ctx->work_dir ? ctx->work_dir : "/tmp");
}

/* Run a command with its stderr in a file next to the build and its
 * stdout captured (the first KB_STDOUT_MAX bytes: make's stdout can be
 * megabytes, its errors go to stderr). On failure the message names the
 * command, how it ended and the tail of its stderr. The caller releases
 * res on success. */
static int run_logged(struct wl_ctx *ctx, const char *what, const char *const *argv,
		      int timeout_ms, const char *log_base, struct spawn_result *res)
{
	char *err = xasprintf("%s.err", log_base);
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .capture = 1,
				.capture_max = KB_STDOUT_MAX, .stderr_path = err };
	int ret;

	/* stderr is opened for appending: start it empty. */
	unlink(err);
	ret = spawn_run(&o, res);
	if (!ret && (res->timed_out || res->signal || res->exit_code)) {
		char *cmd = spawn_argv_str(argv);
		char *tail = wl_output_tail(err, res->out, KB_TAIL_LINES, KB_TAIL_BYTES);
		char how[160];

		wl_describe_end(res->exit_code, res->signal, res->timed_out, res->elapsed_s, how,
				sizeof(how));
		if (ctx->info) {
			json_object_set_new(ctx->info, "failed_command", json_string(cmd));
			json_object_set_new(ctx->info, "failed_output_tail", json_string(tail));
		}
		ret = sb_err(res->timed_out ? ETIMEDOUT : EIO, "kernbench: %s failed (%s): %s: %s",
			     what, how, cmd, *tail ? tail : "(no output)");
		free(tail);
		free(cmd);
		spawn_result_release(res);
	}
	free(err);
	return ret;
}

static int run_make(struct wl_ctx *ctx, const char *dir, const char *target, unsigned int jobs,
		    int timeout_ms, const char *what, struct spawn_result *res)
{
	char jarg[32], *log_base = xasprintf("%s.make", dir);
	const char *argv[] = { "make", "-C", dir, jarg, target, NULL };
	int ret;

	snprintf(jarg, sizeof(jarg), "-j%u", jobs);
	ret = run_logged(ctx, what, argv, timeout_ms, log_base, res);
	free(log_base);
	return ret;
}

/* pgmajfault of the workload cgroup, or -1. */
static long long memcg_majflt(const struct wl_ctx *ctx)
{
	char *path = xasprintf("%s/memory.stat", ctx->cgroup_dir), *text = NULL, *p;
	long long v = -1;

	if (!read_file(path, 1 << 16, &text, NULL) && (p = strstr(text, "\npgmajfault ")))
		v = strtoll(p + 12, NULL, 10);
	free(text);
	free(path);
	return v;
}

/* /dev/kmsg positioned at its end, or -1 (counted as unavailable). */
static int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static long kmsg_count(int fd, const char *needle)
{
	char rec[8192];
	long n = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);

		if (r < 0 && errno == EPIPE)
			continue; /* records overwritten under us: keep going */
		if (r <= 0)
			break;
		rec[r] = '\0';
		n += strstr(rec, needle) != NULL;
	}
	close(fd);
	return n;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static int one_build(struct wl_ctx *ctx, const struct kb_cfg *cfg, const char *dir,
		     unsigned int jobs, unsigned int idx, struct kb_build *b)
{
	struct rusage r0, r1;
	struct spawn_result res;
	long long mf0, mf1;
	char what[64];
	int ret, kfd;

	snprintf(what, sizeof(what), "make clean before build %u", idx + 1);
	ret = run_make(ctx, dir, "clean", jobs, KB_CLEAN_TIMEOUT_MS, what, &res);
	if (ret)
		return ret;
	spawn_result_release(&res);
	snprintf(what, sizeof(what), "build %u of %u", idx + 1, cfg->iterations);
	mf0 = memcg_majflt(ctx);
	kfd = kmsg_mark();
	getrusage(RUSAGE_CHILDREN, &r0);
	ret = run_make(ctx, dir, cfg->target, jobs, (int)cfg->build_timeout * 1000, what, &res);
	getrusage(RUSAGE_CHILDREN, &r1);
	b->oom_leaked = kmsg_count(kfd, KB_OOM_LEAK);
	if (ret)
		return ret;
	b->elapsed = res.elapsed_s;
	b->user = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
	b->sys = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
	b->majflt = r1.ru_majflt - r0.ru_majflt;
	mf1 = memcg_majflt(ctx);
	b->memcg_majflt = mf0 >= 0 && mf1 >= mf0 ? mf1 - mf0 : -1;
	if (ctx->info) {
		/* The last build's output: warnings are worth a look. */
		char *err = xasprintf("%s.make.err", dir), *tail;

		tail = wl_file_tail(err, KB_TAIL_LINES, KB_TAIL_BYTES);
		json_object_set_new(ctx->info, "make_stderr_tail", json_string(tail));
		free(tail);
		tail = wl_tail(res.out, KB_TAIL_LINES, KB_TAIL_BYTES);
		json_object_set_new(ctx->info, "make_stdout_tail", json_string(tail));
		free(tail);
		free(err);
	}
	spawn_result_release(&res);
	return 0;
}

/* ---- plugin ops ------------------------------------------------------- */

static int kb_supported(struct wl_ctx *ctx)
{
	char path[512];

	return wl_find_tool("kernbench", "make", "make", path, sizeof(path));
}

static void kb_cleanup(struct wl_ctx *ctx);

/* The agent does not call cleanup() after a failed setup(): undo here,
 * keeping the reason for failing over any from restoring. */
static int kb_setup_failed(struct wl_ctx *ctx, int ret)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", sb_lasterr());
	kb_cleanup(ctx);
	return sb_err(-ret, "%s", msg);
}

static int kb_setup(struct wl_ctx *ctx)
{
	struct kb_priv *p;
	struct kb_cfg cfg;
	int ret;

	ctx->priv = NULL;
	ret = kb_parse(ctx->params, "kernbench params", &cfg);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return sb_err(ENOMEM, "kernbench: out of memory");
	ret = mthp_knobs_apply(&cfg.mthp, "kernbench", &p->mthp);
	if (ret) {
		free(p);
		return ret;
	}
	ctx->priv = p;
	p->dir = build_dir(ctx);

	/* In the agent's (root) cgroup: the sources' tmpfs pages are not the
	 * memcg's, as when a tree sits on tmpfs before the measured build. */
	{
		char *log_base = xasprintf("%s.copy", p->dir);
		const char *argv[] = { "cp", "-a", cfg.tree, p->dir, NULL };
		struct spawn_result res;

		ret = rm_rf(p->dir);
		if (!ret)
			ret = run_logged(ctx, "copying the tree to tmpfs", argv,
					 KB_COPY_TIMEOUT_MS, log_base, &res);
		free(log_base);
		if (ret)
			return kb_setup_failed(ctx, ret);
		p->copy_s = res.elapsed_s;
		spawn_result_release(&res);
	}
	if (cfg.prepare) {
		struct spawn_result res;

		ret = run_make(ctx, p->dir, cfg.prepare, resolve_jobs(&cfg),
			       (int)cfg.build_timeout * 1000, "the prepare target", &res);
		if (ret)
			return kb_setup_failed(ctx, ret);
		p->prepare_s = res.elapsed_s;
		spawn_result_release(&res);
	}
	return 0;
}

static void add_mean(struct wl_ctx *ctx, const char *name, double sum, unsigned int n,
		     const char *unit)
{
	wl_metric(ctx, name, n ? sum / n : 0.0, unit, "lower");
}

static int kb_run(struct wl_ctx *ctx)
{
	struct kb_priv *p = ctx->priv;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;
	double sum_e = 0, sum_u = 0, sum_s = 0, sum_mf = 0, sum_oom = 0;
	json_t *builds = json_array();
	struct kb_cfg cfg;
	unsigned int jobs, i;
	char *dir;
	int ret;

	ret = kb_parse(ctx->params, "kernbench params", &cfg);
	if (ret) {
		json_decref(builds);
		return ret;
	}
	jobs = resolve_jobs(&cfg);
	dir = p && p->dir ? xstrdup(p->dir) : build_dir(ctx);
	if (ctx->info) {
		json_object_set_new(ctx->info, "params",
				    json_pack("{s:s,s:i,s:s,s:s?,s:s,s:i,s:i,s:o}", "tree",
					      cfg.tree, "jobs", (int)jobs, "target", cfg.target,
					      "prepare", cfg.prepare, "copy_to", "tmpfs",
					      "iterations", (int)cfg.iterations, "build_timeout",
					      (int)cfg.build_timeout, "mthp",
					      mthp_knobs_json(&cfg.mthp)));
		json_object_set_new(ctx->info, "build_dir", json_string(dir));
		if (p) {
			json_object_set_new(ctx->info, "copy_s", json_real(p->copy_s));
			json_object_set_new(ctx->info, "prepare_s", json_real(p->prepare_s));
		}
		json_object_set(ctx->info, "builds", builds);
	}
	/* Make sure our children stay ours to wait for (and to account). */
	sigaction(SIGCHLD, &dfl, &old_chld);
	for (i = 0; i < cfg.iterations; i++) {
		struct kb_build b = { 0 };

		ret = one_build(ctx, &cfg, dir, jobs, i, &b);
		sum_oom += b.oom_leaked;
		if (ret)
			break;
		json_array_append_new(builds, json_pack("{s:f,s:f,s:f,s:I,s:I,s:I}", "elapsed",
							b.elapsed, "user_time", b.user, "sys_time",
							b.sys, "major_faults", (json_int_t)b.majflt,
							"memcg_pgmajfault",
							(json_int_t)b.memcg_majflt,
							"vm_fault_oom_leaked",
							(json_int_t)b.oom_leaked));
		sum_e += b.elapsed;
		sum_u += b.user;
		sum_s += b.sys;
		sum_mf += (double)b.majflt;
	}
	sigaction(SIGCHLD, &old_chld, NULL);
	if (ctx->info)
		json_object_set_new(ctx->info, "vm_fault_oom_leaked_total",
				    json_integer((json_int_t)sum_oom));
	json_decref(builds);
	free(dir);
	if (ret)
		return ret;
	/* Means over the cell's builds; every build is in info.builds. */
	add_mean(ctx, "elapsed", sum_e, i, "s");
	add_mean(ctx, "user_time", sum_u, i, "s");
	add_mean(ctx, "sys_time", sum_s, i, "s");
	add_mean(ctx, "major_faults", sum_mf, i, "count");
	add_mean(ctx, "vm_fault_oom_leaked", sum_oom, i, "count");
	return 0;
}

static void kb_cleanup(struct wl_ctx *ctx)
{
	struct kb_priv *p = ctx->priv;

	if (!p)
		return;
	mthp_knobs_restore(p->mthp, "kernbench");
	/* The copy stays: the VM is discarded, and removing a kernel tree
	 * from tmpfs only costs time. */
	free(p->dir);
	free(p);
	ctx->priv = NULL;
}

static const struct metric_desc kb_metrics[] = {
	{ "elapsed", "s", "lower" },
	{ "user_time", "s", "lower" },
	{ "sys_time", "s", "lower" },
	{ "major_faults", "count", "lower" },
	{ "vm_fault_oom_leaked", "count", "lower" },
	{ .name = NULL },
};

const struct workload_ops workload_kernbench = {
	.name = "kernbench",
	.summary = "make -jN of a source tree copied to tmpfs, inside the memcg; "
		   "elapsed, user and sys time per build",
	.validate = kb_validate,
	.params = kb_params,
	.supported = kb_supported,
	.setup = kb_setup,
	.run = kb_run,
	.cleanup = kb_cleanup,
	.metrics = kb_metrics,
};
