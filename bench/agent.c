/* swapbench-agent: runs one cell inside the guest and powers off.
 *
 * As PID 1 it first does stage 1 (modules, 9p roots, chroot). Then it reads
 * cell.json from the cell directory, mounts cgroup2 with +memory, sets up
 * the topology, runs the workload in its own memcg child while sampling,
 * and writes guest-result.json. The host treats that file as untrusted.
 */
#define _GNU_SOURCE
#include "common/err.h"
#include "common/fsutil.h"
#include "bench/cgroup.h"
#include "bench/kmsg.h"
#include "common/log.h"
#include "bench/perfcount.h"
#include "bench/perfrecord.h"
#include "bench/sampler.h"
#include "common/process.h"
#include "common/protocol.h"
#include "bench/stage1.h"
#include "common/sysfs.h"
#include "common/topology.h"
#include "workloads/workload.h"

#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


struct agent {
	const char *cell_dir;
	json_t *cell;
	json_t *result;
	struct topo_state topo;
	int kmsg_fd;
	double t_start;
	/* Freed only after the result is written: closing perf events
	 * patches kernel text (see perf_prearm). */
	struct perfcount *pc;
	struct reclaimlat *rl;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One write per line, so the host never sees half a line on the console. */
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = snprintf(line, sizeof(line), AGENT_LOG_PREFIX);

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, n) < 0)
		return;
}

static int write_result(struct agent *a)
{
	char *path = xasprintf("%s/" GUEST_RESULT_FILE, a->cell_dir);
	char *text = json_dumps(a->result, JSON_INDENT(1) | JSON_SORT_KEYS);
	int rc = text ? write_file_atomic(path, text, strlen(text)) : -ENOMEM;

	if (rc)
		say("cannot write the result: %s", sb_lasterr());
	free(text);
	free(path);
	return rc;
}

static void fail(struct agent *a, const char *status, const char *phase)
{
	say("%s in %s: %s", status, phase, sb_lasterr());
	json_object_set_new(a->result, "status", json_string(status));
	json_object_set_new(a->result, "error", json_sprintf("%s: %s", phase, sb_lasterr()));
}

static int setup_memcg(struct agent *a)
{
	json_t *readback = NULL;
	int controller_ok, rc;

	rc = wlcg_setup(json_object_get(a->cell, "memcg"), &readback, &controller_ok);
	if (rc)
		return rc;
	if (!controller_ok) {
		/* Booted with cgroup_disable=memory (a property test of the
		 * per-slot overhead): fine when the cell asks for no limit. */
		say("memory controller unavailable; the cell asked for no limit");
		json_object_set_new(a->result, "memcg_controller", json_string("unavailable"));
	}
	json_object_set_new(a->result, "memcg_readback", readback);
	return 0;
}

static int setup_topology(struct agent *a)
{
	json_t *topo = json_object_get(a->cell, "topology"), *layer, *cmd;
	json_t *cmds_out = json_array();
	size_t i;
	int rc = 0, has_zswap = 0;

	json_array_foreach(json_object_get(topo, "layers"), i, layer)
		has_zswap |= !strcmp(json_string_value(json_object_get(layer, "kind")), "zswap");
	/* A distro may enable zswap by default; a topology without it must not
	 * get it silently in front of its devices. */
	if (!has_zswap && access("/sys/module/zswap/parameters/enabled", W_OK) == 0)
		sysfs_write("/sys/module/zswap/parameters/enabled", "N");
	json_array_foreach(json_object_get(topo, "layers"), i, layer) {
		const struct topo_kind *k =
			topo_kind_find(json_string_value(json_object_get(layer, "kind")));

		if (!k)
			return sb_err(EINVAL, "layers[%zu]: unknown kind", i);
		rc = k->setup(layer, (int)i, &a->topo);
		if (rc)
			return rc;
	}
	json_array_foreach(json_object_get(topo, "commands"), i, cmd) {
		struct strv av;
		struct spawn_opts o = { .timeout_ms = 300000, .capture = 1, .merge_stderr = 1,
					.capture_max = 65536 };
		struct spawn_result r;
		json_t *arg;
		size_t j;

		strv_init(&av);
		json_array_foreach(cmd, j, arg)
			strv_add(&av, json_string_value(arg));
		o.argv = strv_argv(&av);
		say("topology command %zu: %s", i, av.v[0]);
		rc = spawn_run(&o, &r);
		strv_release(&av);
		if (rc)
			break;
		json_array_append_new(cmds_out, json_pack("{s:O,s:i,s:b,s:s}", "argv", cmd,
							  "exit_code", r.exit_code,
							  "timed_out", r.timed_out, "output",
							  r.out ? r.out : ""));
		if (r.timed_out || r.exit_code)
			rc = sb_err(EIO, "topology commands[%zu] failed (exit %d%s): %.300s", i,
				    r.exit_code, r.timed_out ? ", timed out" : "",
				    r.out ? r.out : "");
		spawn_result_release(&r);
		if (rc)
			break;
	}
	json_object_set_new(a->result, "topology_commands", cmds_out);
	return rc;
}

static json_t *read_swaps(void)
{
	json_t *arr = json_array();
	FILE *f = fopen("/proc/swaps", "re");
	char line[512];

	if (!f)
		return arr;
	while (fgets(line, sizeof(line), f)) {
		char name[256], type[32];
		long long size, used;
		int prio;

		if (sscanf(line, "%255s %31s %lld %lld %d", name, type, &size, &used, &prio) == 5)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:i}", "name",
							     name, "type", type, "size",
							     (json_int_t)size * 1024, "used",
							     (json_int_t)used * 1024, "priority",
							     prio));
	}
	fclose(f);
	return arr;
}

/* Did the workload stay inside memory.max? zswap charges its compressed
 * copies from reclaim context (PF_MEMALLOC), which the kernel force-charges
 * past the limit, so a small overshoot is expected: held means within 1%. */
static json_t *memcg_verdict(unsigned long long max, unsigned long long sampled_peak,
			     const json_t *after)
{
	json_t *mc = json_object();
	json_t *ev = json_object_get(after, "memory_events");
	unsigned long long pk, tol = max / 100, over;

	if (sysfs_read_ull(WL_CGROUP "/memory.peak", &pk) == 0) {
		json_object_set_new(mc, "peak_source", json_string("memory.peak"));
	} else {
		pk = sampled_peak;
		json_object_set_new(mc, "peak_source",
				    json_string("memory.current sampled every 20 ms"));
	}
	over = max && pk > max ? pk - max : 0;
	json_object_set_new(mc, "peak", json_integer((json_int_t)pk));
	json_object_set_new(mc, "max", max ? json_integer((json_int_t)max) : json_null());
	json_object_set_new(mc, "overshoot_bytes", json_integer((json_int_t)over));
	json_object_set_new(mc, "limit_tolerance_bytes", json_integer((json_int_t)tol));
	json_object_set_new(mc, "limit_held", json_boolean(!max || over <= tol));
	if (json_is_object(ev))
		json_object_set(mc, "events", ev);
	return mc;
}

/* In the forked child: wait until the agent has put it in the memcg and
 * opened its counters, run, send {metrics, info, error} back. */
static void workload_child(const struct workload_ops *wl, struct wl_ctx *ctx, int go_fd,
			   int out_fd)
{
	json_t *msg;
	char *text, go = 0;
	int rc;

	rc = read(go_fd, &go, 1) == 1 && go == 'g' ? 0
		: sb_err(EIO, "the agent could not set up the workload's cgroup or counters");
	close(go_fd);
	if (!rc)
		rc = wl->run(ctx);
	msg = json_pack("{s:O,s:O}", "metrics", ctx->metrics, "info", ctx->info);
	if (rc)
		json_object_set_new(msg, "error", json_string(sb_lasterr()));
	text = json_dumps(msg, JSON_COMPACT);
	for (size_t off = 0, len = strlen(text); off < len;) {
		ssize_t w = write(out_fd, text + off, len - off);

		if (w <= 0)
			break;
		off += w;
	}
	_exit(rc ? 1 : 0);
}

/* Append what a non-blocking pipe holds to *buf (NUL-terminated), up to
 * 8 MiB: the workload child's report. */
static void drain_pipe(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && *len < (8u << 20)) {
		*buf = realloc(*buf, *len + n + 1);
		memcpy(*buf + *len, chunk, n);
		*len += n;
		(*buf)[*len] = '\0';
	}
}

/* The workload process being watched: its report pipe, the samples and
 * the memcg peak taken meanwhile, and how it ended. */
struct wl_watch {
	pid_t pid;
	int fd;
	double t0;
	long long interval_ms, timeout_s;
	json_t *samples;
	char *buf;               /* what the child reported */
	size_t buflen;
	unsigned long long peak; /* highest memory.current, for kernels without memory.peak */
	int status, timed_out;
};

/* Sample, read the report and poll reclaim latency until the child ends
 * (killed at the timeout). */
static void watch_workload(struct agent *a, struct reclaimlat *rl, struct wl_watch *w)
{
	int have_peak_file = access(WL_CGROUP "/memory.peak", R_OK) == 0, done = 0;
	double next_sample = w->t0;
	unsigned long long cur;

	fcntl(w->fd, F_SETFL, O_NONBLOCK);
	while (!done) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		double now = monotonic_s();
		pid_t r;

		if (now >= next_sample) {
			json_array_append_new(w->samples,
					      sampler_periodic(now - w->t0, WL_CGROUP, &a->topo));
			next_sample += w->interval_ms / 1000.0;
		}
		/* Kernels without memory.peak (6.1): watch usage every ~20 ms. */
		if (!have_peak_file && sysfs_read_ull(WL_CGROUP "/memory.current", &cur) == 0 &&
		    cur > w->peak)
			w->peak = cur;
		if (poll(&p, 1, 20) > 0)
			drain_pipe(w->fd, &w->buf, &w->buflen);
		reclaimlat_poll(rl);
		/* PID 1 reaps everything; only our child ends the loop. */
		while ((r = waitpid(-1, &w->status, WNOHANG)) > 0)
			if (r == w->pid)
				done = 1;
		if (!done && w->timeout_s > 0 && now - w->t0 > w->timeout_s) {
			kill(w->pid, SIGKILL);
			w->timed_out = 1;
		}
	}
	drain_pipe(w->fd, &w->buf, &w->buflen);
	close(w->fd);
}

/* The child's report into the result (metrics, info), with the reclaim
 * stalls: metrics like the workload's own, but only next to them (a
 * workload that reported nothing stays so). Returns the report or NULL. */
static json_t *take_report(struct agent *a, struct wl_watch *w, struct reclaimlat *rl)
{
	json_t *msg = w->buf ? json_loads(w->buf, 0, NULL) : NULL, *m, *extra = json_array();

	free(w->buf);
	w->buf = NULL;
	if (msg) {
		json_object_set(a->result, "metrics", json_object_get(msg, "metrics"));
		json_object_set(a->result, "workload_info", json_object_get(msg, "info"));
	}
	m = json_object_get(a->result, "metrics");
	json_object_set_new(a->result, "reclaim_latency", reclaimlat_finish(rl, extra));
	if (json_array_size(m))
		json_array_extend(m, extra);
	json_decref(extra);
	return msg;
}

/* 0, or why the workload failed: timeout, its own error, no report, exit. */
static int workload_outcome(const json_t *msg, const struct wl_watch *w)
{
	int st = w->status;

	if (w->timed_out)
		return sb_err(ETIMEDOUT, "workload did not finish within %lld s", w->timeout_s);
	if (json_is_string(json_object_get(msg, "error")))
		return sb_err(EIO, "%s", json_string_value(json_object_get(msg, "error")));
	if (!msg)
		return sb_err(EIO, "workload process ended (%s %d) without reporting",
			      WIFSIGNALED(st) ? "signal" : "exit",
			      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return sb_err(EIO, "workload process failed");
	return 0;
}

/* The child waits: it joins the memcg and gets its inherited counters
 * before it does anything worth measuring. */
static int start_child(struct agent *a, pid_t pid, int gofd)
{
	int rc = wlcg_attach(pid);

	if (!rc) {
		a->pc = perfcount_open(pid);
		if (write(gofd, "g", 1) != 1)
			rc = sb_err(errno, "cannot start the workload process: %s",
				    strerror(errno));
	}
	if (rc)
		say("workload set-up: %s", sb_lasterr());
	close(gofd);
	return rc;
}

static int run_workload(struct agent *a)
{
	json_t *wl_j = json_object_get(a->cell, "workload");
	const struct workload_ops *wl = workload_find(json_string_value(json_object_get(wl_j,
											"kind")));
	json_t *params = json_object_get(wl_j, "params");
	struct wl_watch w = {
		.interval_ms = json_integer_value(json_object_get(a->cell, "sample_interval_ms")),
		.timeout_s = json_integer_value(json_object_get(a->cell, "workload_timeout_s")),
		.samples = json_array(),
	};
	struct wl_ctx ctx = { .cgroup_dir = WL_CGROUP, .work_dir = "/tmp", .topo = &a->topo };
	json_t *before, *after, *msg;
	int pipefd[2], gofd[2], rc, ret;
	struct reclaimlat *rl = NULL;
	struct profile_rec prof = { 0 };
	json_t *prof_cfg = json_object_get(a->cell, "profile");

	if (!wl)
		return sb_err(EINVAL, "unknown workload kind");
	ctx.params = params ? params : json_object_get(wl_j, "params");
	ctx.metrics = json_array();
	ctx.info = json_object();
	ctx.memcg_max = json_integer_value(json_object_get(json_object_get(a->cell, "memcg"),
							  "max"));
	if (w.interval_ms <= 0)
		w.interval_ms = 1000;
	rc = wl->validate(ctx.params, "workload.params");
	if (!rc && wl->supported)
		rc = wl->supported(&ctx);
	if (rc) {
		json_object_set_new(a->result, "status", json_string("skipped"));
		return rc;
	}
	if (wl->setup && (rc = wl->setup(&ctx)))
		return rc;
	if (pipe2(pipefd, O_CLOEXEC) || pipe2(gofd, O_CLOEXEC))
		return sb_err(errno, "pipe: %s", strerror(errno));
	if (json_is_object(prof_cfg)) {
		profile_start(&prof, prof_cfg, a->cell_dir);
		say("profile: %s", prof.pid ? "recording" : "not recorded, see result.json");
	}
	/* Kernel text patching (perf hooks, tracepoints) before the marker:
	 * a TCG crash there is retried by the host (perf_prearm). */
	perf_prearm();
	rl = a->rl = reclaimlat_open();
	before = sampler_snapshot(WL_CGROUP, &a->topo);
	say(AGENT_WORKLOAD "%s: start", wl->name);
	w.t0 = monotonic_s();
	w.pid = fork();
	if (w.pid < 0)
		return sb_err(errno, "fork: %s", strerror(errno));
	if (w.pid == 0) {
		close(pipefd[0]);
		close(gofd[1]);
		workload_child(wl, &ctx, gofd[0], pipefd[1]);
	}
	close(pipefd[1]);
	close(gofd[0]);
	rc = start_child(a, w.pid, gofd[1]);
	w.fd = pipefd[0];
	watch_workload(a, rl, &w);
	after = sampler_snapshot(WL_CGROUP, &a->topo);
	json_array_append_new(w.samples, sampler_periodic(monotonic_s() - w.t0, WL_CGROUP,
							  &a->topo));
	json_object_set_new(a->result, "workload_s", json_real(monotonic_s() - w.t0));
	json_object_set_new(a->result, "counters", sampler_deltas(before, after));
	json_object_set_new(json_object_get(a->result, "counters"), "perf",
			    perfcount_result(a->pc));
	if (prof.pid || prof.info)
		json_object_set_new(a->result, "profile", profile_stop(&prof, a->cell_dir));
	json_object_set_new(a->result, "samples", w.samples);
	json_object_set_new(a->result, "memcg", memcg_verdict(ctx.memcg_max, w.peak, after));
	json_decref(before);
	json_decref(after);
	if (wl->cleanup)
		wl->cleanup(&ctx);
	msg = take_report(a, &w, rl);
	json_decref(ctx.metrics);
	json_decref(ctx.info);
	say(AGENT_WORKLOAD "%s: end after %.1f s", wl->name, monotonic_s() - w.t0);
	/* A set-up error stands when the workload said nothing worse. */
	if ((ret = workload_outcome(msg, &w)))
		rc = ret;
	json_decref(msg);
	return rc;
}

static void collect(struct agent *a)
{
	json_t *paths = json_object_get(json_object_get(a->cell, "topology"), "collect"), *p;
	char *dest = xasprintf("%s/collected", a->cell_dir);
	size_t i;

	if (!json_array_size(paths)) {
		free(dest);
		return;
	}
	mkdir_p(dest, 0755);
	json_array_foreach(paths, i, p) {
		/* cp handles directories and special files (debugfs) well enough. */
		const char *argv[] = { "cp", "-r", "--no-preserve=all", json_string_value(p),
				       dest, NULL };
		struct spawn_opts o = { .argv = argv, .timeout_ms = 60000, .quiet_stderr = 1 };
		struct spawn_result r;

		if (spawn_run(&o, &r) == 0)
			spawn_result_release(&r);
	}
	free(dest);
}

static int run_command(struct agent *a)
{
	json_t *cmd = json_object_get(a->cell, "command"), *arg;
	struct spawn_opts o = { 0 };
	struct spawn_result r;
	struct strv av;
	size_t i;
	int rc;

	strv_init(&av);
	json_array_foreach(cmd, i, arg)
		strv_add(&av, json_string_value(arg));
	if (!av.n)
		strv_add(&av, "/bin/sh");
	o.argv = strv_argv(&av);
	rc = spawn_run(&o, &r);
	strv_release(&av);
	if (!rc) {
		json_object_set_new(a->result, "command_exit_code", json_integer(r.exit_code));
		spawn_result_release(&r);
	}
	return rc;
}

static int run_cell(struct agent *a)
{
	json_error_t jerr;
	char *path = xasprintf("%s/" CELL_FILE, a->cell_dir);
	const char *mode;
	double t;
	int rc;

	a->cell = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	free(path);
	if (!a->cell)
		return sb_err(EINVAL, "cell.json:%d: %s", jerr.line, jerr.text);
	json_object_set(a->result, "cell_id", json_object_get(a->cell, "cell_id"));
	a->topo.info = json_object();
	mode = json_string_value(json_object_get(a->cell, "mode"));
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	/* Tracepoint ids for the reclaim latencies; absent without tracing. */
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	t = monotonic_s();
	if ((rc = setup_memcg(a))) {
		fail(a, "failed", "memcg set-up");
		return rc;
	}
	if ((rc = setup_topology(a))) {
		fail(a, "failed", "topology set-up");
		return rc;
	}
	json_object_set_new(a->result, "topology_info", json_incref(a->topo.info));
	json_object_set_new(a->result, "swaps", read_swaps());
	json_object_set_new(a->result, "setup_s", json_real(monotonic_s() - t));
	if (mode && !strcmp(mode, "command")) {
		rc = run_command(a);
		if (rc)
			fail(a, "failed", "command");
	} else {
		rc = run_workload(a);
		if (rc && !json_object_get(a->result, "status"))
			fail(a, "failed", "workload");
		else if (rc)
			fail(a, json_string_value(json_object_get(a->result, "status")),
			     "workload");
		collect(a);
	}
	json_object_set_new(a->result, "swaps_after", read_swaps());
	return rc;
}

int main(int argc, char **argv)
{
	struct agent a = { .cell_dir = GUEST_CELL_DIR, .kmsg_fd = -1 };
	double up0;
	int rc = 0;

	log_set_prefix("swapbench-agent");
	if (getpid() != 1) {
		fprintf(stderr, "swapbench-agent: this program is PID 1 inside a swapbench VM; "
			"use 'swapbench boot' or 'swapbench run'\n");
		return 2;
	}
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	up0 = uptime_s();
	/* The host times boot-to-agent by this line. */
	say(AGENT_START " uptime=%.3f", up0);
	if (cmdline_has("swapbench.probe")) {
		say("probe done");
		agent_poweroff();
	}
	a.result = json_pack("{s:i,s:f}", "schema_version", RESULT_SCHEMA_VERSION, "uptime_at_agent",
			     up0);
	if (stage1_run()) {
		say(AGENT_STAGE1_FAILED "%s", sb_lasterr());
		agent_poweroff();
	}
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("TMPDIR", "/tmp", 1);
	say("root mounted uptime=%.3f", uptime_s());
	json_object_set_new(a.result, "uptime_at_root", json_real(uptime_s()));
	a.kmsg_fd = kmsg_open();
	{
		struct utsname_buf { char s[65]; } rel;
		FILE *f = fopen("/proc/sys/kernel/osrelease", "re");

		if (f && fgets(rel.s, sizeof(rel.s), f)) {
			rstrip(rel.s);
			json_object_set_new(a.result, "kernel_release", json_string(rel.s));
		}
		if (f)
			fclose(f);
	}
	rc = run_cell(&a);
	if (!rc && !json_object_get(a.result, "status"))
		json_object_set_new(a.result, "status", json_string("ok"));
	json_object_set_new(a.result, "kmsg", kmsg_collect(a.kmsg_fd));
	json_object_set_new(a.result, "uptime_at_end", json_real(uptime_s()));
	write_result(&a);
	perfcount_free(a.pc);
	reclaimlat_free(a.rl);
	say("done status=%s", json_string_value(json_object_get(a.result, "status")));
	json_decref(a.cell);
	json_decref(a.result);
	(void)argc;
	(void)argv;
	agent_poweroff();
}
