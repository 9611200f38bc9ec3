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
#include "bench/kmsg.h"
#include "common/log.h"
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

#define CGROUP_ROOT "/sys/fs/cgroup"
#define WL_CGROUP CGROUP_ROOT "/swapbench"

struct agent {
	const char *cell_dir;
	json_t *cell;
	json_t *result;
	struct topo_state topo;
	int kmsg_fd;
	double t_start;
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
	static const char *const knobs[][2] = { { "max", "memory.max" },
						{ "high", "memory.high" },
						{ "swap_max", "memory.swap.max" } };
	json_t *memcg = json_object_get(a->cell, "memcg");
	int rc;

	if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		return sb_err(errno, "mount cgroup2 failed: %s", strerror(errno));
	rc = sysfs_write(CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	if (rc && !json_object_size(memcg)) {
		/* Booted with cgroup_disable=memory (a property test of the
		 * per-slot overhead): fine when the cell asks for no limit. */
		say("memory controller unavailable; the cell asked for no limit");
		json_object_set_new(a->result, "memcg_controller", json_string("unavailable"));
		rc = 0;
	} else if (rc) {
		return rc;
	}
	if (mkdir(WL_CGROUP, 0755) && errno != EEXIST)
		return sb_err(errno, "mkdir '%s' failed: %s", WL_CGROUP, strerror(errno));
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		json_t *v = json_object_get(memcg, knobs[i][0]);
		char path[128];

		if (!json_is_integer(v))
			continue;
		snprintf(path, sizeof(path), WL_CGROUP "/%s", knobs[i][1]);
		rc = sysfs_writef(path, "%lld", (long long)json_integer_value(v));
		if (rc)
			return rc;
	}
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

/* In the forked child: join the memcg, run, send {metrics, info, error} back. */
static void workload_child(const struct workload_ops *wl, struct wl_ctx *ctx, int out_fd)
{
	json_t *msg;
	char *text;
	int rc;

	rc = sysfs_writef(WL_CGROUP "/cgroup.procs", "%d", (int)getpid());
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

static int run_workload(struct agent *a)
{
	json_t *wl_j = json_object_get(a->cell, "workload");
	const struct workload_ops *wl = workload_find(json_string_value(json_object_get(wl_j,
											"kind")));
	json_t *params = json_object_get(wl_j, "params");
	long long interval_ms = json_integer_value(json_object_get(a->cell, "sample_interval_ms"));
	long long timeout_s = json_integer_value(json_object_get(a->cell, "workload_timeout_s"));
	struct wl_ctx ctx = { .cgroup_dir = WL_CGROUP, .work_dir = "/tmp", .topo = &a->topo };
	json_t *before, *after, *samples = json_array(), *msg = NULL;
	char *buf = NULL;
	size_t buflen = 0;
	double t0, next_sample;
	unsigned long long peak = 0, cur;
	int have_peak_file = access(WL_CGROUP "/memory.peak", R_OK) == 0;
	int pipefd[2], status = 0, rc, done = 0, timed_out = 0;
	pid_t pid;

	if (!wl)
		return sb_err(EINVAL, "unknown workload kind");
	ctx.params = params ? params : json_object_get(wl_j, "params");
	ctx.metrics = json_array();
	ctx.info = json_object();
	ctx.memcg_max = json_integer_value(json_object_get(json_object_get(a->cell, "memcg"),
							  "max"));
	if (interval_ms <= 0)
		interval_ms = 1000;
	rc = wl->validate(ctx.params, "workload.params");
	if (!rc && wl->supported)
		rc = wl->supported(&ctx);
	if (rc) {
		json_object_set_new(a->result, "status", json_string("skipped"));
		return rc;
	}
	if (wl->setup && (rc = wl->setup(&ctx)))
		return rc;
	if (pipe2(pipefd, O_CLOEXEC))
		return sb_err(errno, "pipe: %s", strerror(errno));
	before = sampler_snapshot(WL_CGROUP, &a->topo);
	say(AGENT_WORKLOAD "%s: start", wl->name);
	t0 = monotonic_s();
	pid = fork();
	if (pid < 0)
		return sb_err(errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(pipefd[0]);
		workload_child(wl, &ctx, pipefd[1]);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	next_sample = t0;
	while (!done) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		double now = monotonic_s();
		pid_t w;

		if (now >= next_sample) {
			json_array_append_new(samples,
					      sampler_periodic(now - t0, WL_CGROUP, &a->topo));
			next_sample += interval_ms / 1000.0;
		}
		/* Kernels without memory.peak (6.1): watch usage every ~20 ms. */
		if (!have_peak_file && sysfs_read_ull(WL_CGROUP "/memory.current", &cur) == 0 &&
		    cur > peak)
			peak = cur;
		if (poll(&p, 1, 20) > 0)
			drain_pipe(pipefd[0], &buf, &buflen);
		/* PID 1 reaps everything; only our child ends the loop. */
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				done = 1;
		if (!done && timeout_s > 0 && now - t0 > timeout_s) {
			kill(pid, SIGKILL);
			timed_out = 1;
		}
	}
	drain_pipe(pipefd[0], &buf, &buflen);
	close(pipefd[0]);
	after = sampler_snapshot(WL_CGROUP, &a->topo);
	json_array_append_new(samples, sampler_periodic(monotonic_s() - t0, WL_CGROUP, &a->topo));
	json_object_set_new(a->result, "workload_s", json_real(monotonic_s() - t0));
	json_object_set_new(a->result, "counters", sampler_deltas(before, after));
	json_object_set_new(a->result, "samples", samples);
	json_object_set_new(a->result, "memcg", memcg_verdict(ctx.memcg_max, peak, after));
	json_decref(before);
	json_decref(after);
	if (wl->cleanup)
		wl->cleanup(&ctx);
	if (buf)
		msg = json_loads(buf, 0, NULL);
	free(buf);
	if (msg) {
		json_object_set(a->result, "metrics", json_object_get(msg, "metrics"));
		json_object_set(a->result, "workload_info", json_object_get(msg, "info"));
	}
	json_decref(ctx.metrics);
	json_decref(ctx.info);
	say(AGENT_WORKLOAD "%s: end after %.1f s", wl->name, monotonic_s() - t0);
	if (timed_out) {
		json_decref(msg);
		return sb_err(ETIMEDOUT, "workload did not finish within %lld s", timeout_s);
	}
	if (json_is_string(json_object_get(msg, "error"))) {
		rc = sb_err(EIO, "%s", json_string_value(json_object_get(msg, "error")));
	} else if (!msg) {
		rc = sb_err(EIO, "workload process ended (%s %d) without reporting",
			    WIFSIGNALED(status) ? "signal" : "exit",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		rc = sb_err(EIO, "workload process failed");
	}
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
		say("stage 1 failed: %s", sb_lasterr());
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
	say("done status=%s", json_string_value(json_object_get(a.result, "status")));
	json_decref(a.cell);
	json_decref(a.result);
	(void)argc;
	(void)argv;
	agent_poweroff();
}
