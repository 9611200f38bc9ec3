#define _GNU_SOURCE
#include "harness/runner.h"
#include "harness/runner-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/initramfs.h"
#include "harness/kernel-build.h"
#include "harness/sha256.h"
#include "common/log.h"
#include "harness/profile.h"
#include "harness/result.h"
#include "harness/store.h"
#include "harness/vm.h"
#include "harness/vmlinux.h"

#include <errno.h>
#include "harness/hostnoise.h"
#include "common/stats.h"
#include "workloads/workload.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Boots again of a cell whose guest crashed before its workload started. */
#define BOOT_RETRIES 2

char *agent_path(void)
{
	char *dir = self_dir(), *p = xasprintf("%s/swapbench-agent", dir);

	free(dir);
	return p;
}

json_t *cell_json(const char *cell_id, const char *mode, const json_t *topo,
		  const struct spec_workload *wl, const char *const *command,
		  int sample_interval_ms)
{
	struct strv mods;
	json_t *c, *m, *memcg = json_object();

	c = json_pack("{s:i,s:s,s:s,s:O,s:i}", "schema_version", CELL_SCHEMA_VERSION, "cell_id", cell_id, "mode",
		      mode, "topology", topo, "sample_interval_ms", sample_interval_ms);
	strv_init(&mods);
	topology_modules(topo, &mods);
	m = json_array();
	for (size_t i = 0; i < mods.n; i++)
		json_array_append_new(m, json_string(mods.v[i]));
	strv_release(&mods);
	json_object_set_new(c, "modules", m);
	if (wl) {
		json_object_set_new(c, "workload", json_pack("{s:s,s:s,s:O}", "name", wl->name,
							     "kind", wl->kind, "params",
							     wl->params));
		if (wl->memcg.max > 0)
			json_object_set_new(memcg, "max", json_integer(wl->memcg.max));
		if (wl->memcg.high > 0)
			json_object_set_new(memcg, "high", json_integer(wl->memcg.high));
		if (wl->memcg.swap_max > 0)
			json_object_set_new(memcg, "swap_max", json_integer(wl->memcg.swap_max));
		if (wl->memcg.zswap_max > 0)
			json_object_set_new(memcg, "zswap_max", json_integer(wl->memcg.zswap_max));
		json_object_set_new(c, "workload_timeout_s", json_integer(wl->timeout_s));
	}
	json_object_set_new(c, "memcg", memcg);
	if (command) {
		json_t *argv = json_array();

		for (int i = 0; command[i]; i++)
			json_array_append_new(argv, json_string(command[i]));
		json_object_set_new(c, "command", argv);
	}
	return c;
}

int topology_prepare(const json_t *topo, const char *cell_dir, struct strv *qemu_args)
{
	json_t *layer;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(topo, "layers"), i, layer) {
		const struct topo_kind *k =
			topo_kind_find(json_string_value(json_object_get(layer, "kind")));

		if (k && k->prepare && (rc = k->prepare(layer, (int)i, cell_dir)))
			break;
		if (k && k->qemu_args && (rc = k->qemu_args(layer, (int)i, cell_dir, qemu_args)))
			break;
	}
	return rc;
}

void topology_discard(const json_t *topo, const char *cell_dir)
{
	json_t *layer;
	size_t i;

	json_array_foreach(json_object_get(topo, "layers"), i, layer) {
		const struct topo_kind *k =
			topo_kind_find(json_string_value(json_object_get(layer, "kind")));

		if (k && k->discard)
			k->discard(layer, (int)i, cell_dir);
	}
}

/* The signal that stopped the run (SIGINT/SIGTERM), 0 while running. */
volatile sig_atomic_t runner_interrupted;

static void on_signal(int sig)
{
	static const char msg[] = "\nswapbench: interrupted: stopping the running VM, "
				  "saving what is done (again to kill at once)\n";

	if (runner_interrupted) {
		/* Second one: die now; the watchdog takes qemu with us. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	runner_interrupted = sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		runner_interrupted = sig;
}

/* The files of a cell: DIR/{cell.json,result.json,console.log,qemu.log,...}
 * are the host's; only DIR/guest/ is shared with the guest (9p tag "cell"):
 * the guest reads its cell.json there and writes guest-result.json and
 * collected/, and can touch nothing else of the host. */

static int write_json_checked(const char *path, json_t *j, int *store_err)
{
	int rc = store_write_json(path, j);

	if (rc) {
		log_err("%s", sb_lasterr());
		*store_err = 1;
	}
	return rc;
}


static const char *verdict(const json_t *guest, const struct vm_result *vr, const json_t *scan)
{
	if (vr->timed_out)
		return "timeout";
	if (!guest || json_integer_value(json_object_get(scan, "panics")) > 0)
		return "crashed";
	return json_string_value(json_object_get(guest, "status"));
}

/* The rest of the first console line holding needle, or NULL. */
static char *console_line(const char *path, const char *needle)
{
	char *text, *p, *line = NULL;

	if (read_file(path, 64 << 20, &text, NULL))
		return NULL;
	if ((p = strstr(text, needle))) {
		char *ts;

		p += strlen(needle);
		line = strndup(p, strcspn(p, "\r\n"));
		/* a kernel message may have landed in the middle of the line */
		for (ts = strchr(line, '['); ts; ts = strchr(ts + 1, '['))
			if (ts[1 + strspn(ts + 1, " ")] >= '0' && ts[1 + strspn(ts + 1, " ")] <= '9' &&
			    strchr(ts, ']') && strchr(ts, '.') && strchr(ts, '.') < strchr(ts, ']')) {
				*ts = '\0';
				break;
			}
	}
	free(text);
	return line;
}

/* Kernel options that skip boot work no cell needs, and nothing else: the
 * kernel under test must behave as it would on its own. */
#define QUICK_CMDLINE                                                                  \
	"cryptomgr.notests" /* crypto self-tests: ~1.5 s of TCG time per boot */           \
	" no_timer_check"   /* the IO-APIC timer check's delay loop */                     \
	" 8250.nr_uarts=1"  /* probe the one serial port there is */                       \
	" noresume"         /* no hibernation image to look for */

static char *boot_cmdline(const struct spec *s)
{
	return xasprintf("%s%s%s%s", s->boot.quick_cmdline ? QUICK_CMDLINE : "",
			 s->boot.parallel_modules ? "" : " swapbench.modules=serial",
			 s->cmdline ? " " : "", s->cmdline ? s->cmdline : "");
}

/* Boot one cell and write its result.json; returns the status string. */
static const char *run_cell(const struct spec *s, const struct kernel *k, json_t *kid,
			    struct kboot *kb, const char *accel, int jobs, const char *spec_hash,
			    const struct store_cell *c, json_t **final_out, int *store_err)
{
	const char *initrd = kb->initrds[c->t];
	char *cmdline = boot_cmdline(s);
	const char *image;
	const struct spec_topology *topo = &s->topos[c->t];
	const struct spec_workload *wl = &s->workloads[c->w];
	char *cell_path = store_path(c->dir, CELL_FILE);
	char *console = store_path(c->dir, STORE_CONSOLE);
	char *qlog = store_path(c->dir, STORE_QEMU_LOG);
	char *share = store_path(c->dir, STORE_GUEST_DIR);
	char *share_cell = store_path(share, CELL_FILE);
	char *gpath = store_path(share, GUEST_RESULT_FILE);
	char *rpath = store_path(c->dir, STORE_RESULT);
	char *pidp = store_path(c->dir, STORE_QEMU_PID);
	json_t *cj, *guest = NULL, *final, *scan, *host;
	struct strv qargs;
	struct vm_result vr = { .agent_s = -1 };
	struct host_sample hs0 = { 0 }, hs1 = { 0 };
	json_t *attempts = json_array(), *noise;
	const char *status;
	char *stage1 = NULL;
	int rc;

	/* A rerun starts from an empty share: nothing an earlier guest left
	 * there is read as this cell's. */
	unlink(rpath);
	rc = rm_rf(share);
	if (!rc)
		rc = mkdir_p(share, 0755);
	cj = cell_json(c->id, "run", topo->obj, wl, NULL, s->sample_interval_ms);
	json_object_set(cj, "kernel", kid);
	json_object_set_new(cj, "iteration", json_integer(c->iter));
	json_object_set_new(cj, "spec_sha256", json_string(spec_hash));
	if (wl->profile)
		json_object_set_new(cj, "profile", json_pack("{s:i,s:I}", "frequency", s->profile_hz,
							     "max_size",
							     (json_int_t)s->profile_max_bytes));
	if (!rc)
		rc = store_write_json(cell_path, cj);
	if (!rc)
		rc = store_write_json(share_cell, cj);
	json_decref(cj);
	for (int attempt = 0; !rc; attempt++) {
		image = kb->pvh ? kb->pvh : k->vmlinuz;
		strv_init(&qargs);
		rc = topology_prepare(topo->obj, c->dir, &qargs);
		if (!rc) {
			struct vm_spec vs = { .vmlinuz = image, .initrd = initrd,
					      .lean_machine = s->boot.lean_machine,
					      .cmdline_extra = cmdline,
					      .mem_mb = s->vm_mem_mb, .cpus = s->vm_cpus,
					      .accel = accel, .clock = s->clock,
					      .cell_dir = share,
					      .console_path = console, .qemu_log = qlog,
					      .timeout_s = s->vm_timeout_s, .extra = &qargs,
					      .stop = &runner_interrupted, .pid_path = pidp };

			host_sample_take(&hs0);
			rc = vm_run(&vs, &vr);
			host_sample_take(&hs1);
		}
		topology_discard(topo->obj, c->dir);
		strv_release(&qargs);
		/* A direct boot that never reached the agent, and not because the
		 * kernel itself crashed (that one the bzImage shares, and the
		 * retries below handle): the bzImage from now on, for this
		 * kernel, and this cell boots again. */
		if (!rc && kb->pvh && vr.agent_s < 0 && !console_contains(console, "Kernel panic") &&
		    !console_contains(console, "Oops") && !console_contains(console, "BUG:") &&
		    !console_contains(console, STAGE1_FAIL_MARKER)) {
			char *keep = xasprintf("%s/console-pvh.log", c->dir);

			log_warn("kernel %s: the direct (PVH) boot of '%s' did not reach the agent%s;"
				 " booting its bzImage from now on (console kept in '%s')",
				 k->name, kb->pvh, vr.timed_out ? " (timed out)" : "", keep);
			rename(console, keep);
			free(keep);
			free(kb->pvh);
			kb->pvh = NULL;
			attempt--;
			continue;
		}
		/* A guest that crashed before its workload started never ran the
		 * cell's measured phase (under TCG an SMP guest now and then
		 * takes an Oops while patching kernel text, during boot or just
		 * after): boot again, keeping the evidence. A kernel that
		 * crashes there every time stays crashed; hangs are not retried. */
		if (rc || vr.timed_out || vr.interrupted || path_exists(gpath) ||
		    console_contains(console, WORKLOAD_MARKER) || attempt >= BOOT_RETRIES)
			break;
		/* The agent said it cannot set up its roots (a module the kernel
		 * lacks, a 9p file system it cannot mount): booting again gives
		 * the same answer. */
		if ((stage1 = console_line(console, STAGE1_FAIL_MARKER)))
			break;
		{
			json_t *sc = console_scan(console, 10);
			char *keep = xasprintf("%s/console-attempt%d.log", c->dir, attempt + 1);

			rename(console, keep);
			json_array_append_new(attempts, json_pack(
				"{s:i,s:b,s:f,s:O,s:O}", "attempt", attempt + 1, "timed_out",
				vr.timed_out, "vm_wall_s", vr.wall_s, "panics",
				json_object_get(sc, "panics"), "first_problem",
				json_object_get(sc, "first_problem") ?: json_null()));
			json_decref(sc);
			free(keep);
		}
	}
	scan = console_scan(console, 40);
	if (!rc && !stage1 && !vr.timed_out && !path_exists(gpath))
		stage1 = console_line(console, STAGE1_FAIL_MARKER);
	if (rc) {
		final = json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION, "status",
				  "failed", "error", sb_lasterr());
		status = "failed";
	} else if (vr.interrupted) {
		final = json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION, "status",
				  "interrupted", "error", runner_interrupted == SIGTERM
				  ? "stopped by SIGTERM" : "stopped by SIGINT (Ctrl-C)");
		status = "interrupted";
	} else if (stage1 && !vr.timed_out && !path_exists(gpath)) {
		char *e = xasprintf("the guest could not set up its root (agent stage 1; not a "
				    "flake, not booted again): %s", stage1);

		final = json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION, "status",
				  "failed", "error", e);
		status = "failed";
		free(e);
	} else if (path_exists(gpath) &&
		   result_load_beneath(share, GUEST_RESULT_FILE, 0, &guest)) {
		final = json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION, "status",
				  "invalid", "error", sb_lasterr());
		status = "invalid";
	} else {
		status = verdict(guest, &vr, scan);
		final = guest ? json_deep_copy(guest)
			      : json_pack("{s:i}", "schema_version", RESULT_SCHEMA_VERSION);
		json_object_set_new(final, "status", json_string(status));
		if (!guest)
			json_object_set_new(final, "error",
					    json_string(vr.timed_out
							? "the VM did not finish within vm.timeout"
							: "the guest ended without a result "
							  "(see console_tail)"));
	}
	host = json_pack("{s:f,s:f,s:i,s:b,s:s}", "vm_wall_s", vr.wall_s, "boot_to_agent_s",
			 vr.agent_s, "qemu_exit_code", vr.exit_code, "timed_out", vr.timed_out,
			 "accel", accel);
	{
		char node[256] = "";

		gethostname(node, sizeof(node) - 1);
		json_object_set_new(host, "node", json_string(node));
	}
	/* Cells that shared the host share its CPUs: compare must know. */
	json_object_set_new(host, "concurrency", json_integer(jobs));
	/* How it booted: so a difference in boot numbers can be told from one
	 * in the kernel. */
	json_object_set_new(host, "boot", json_pack(
		"{s:s,s:s,s:s,s:s,s:s}", "image", kb->pvh ? "vmlinux-pvh" : "bzimage", "machine",
		s->boot.lean_machine ? "q35-lean" : "q35", "initramfs",
		s->boot.lean_initramfs ? "topology" : "all", "modules",
		s->boot.parallel_modules ? "parallel" : "serial", "cmdline", cmdline));
	noise = rc ? NULL : host_noise_json(&hs0, &hs1, vr.cpu_s);
	if (noise)
		json_object_set_new(host, "noise", noise);
	json_object_set_new(host, "console", json_deep_copy(scan));
	json_object_set_new(host, "failed_boots", attempts);
	json_object_del(json_object_get(host, "console"), "tail");
	json_object_del(json_object_get(host, "console"), "first_problem");
	json_object_set_new(final, "host", host);
	if (strcmp(status, "ok"))
		json_object_set(final, "console_tail", json_object_get(scan, "tail"));
	if (json_object_get(scan, "first_problem"))
		json_object_set(final, "console_first_problem",
				json_object_get(scan, "first_problem"));
	json_object_set_new(final, "kernel", json_string(k->name));
	json_object_set_new(final, "topology", json_string(topo->name));
	json_object_set_new(final, "workload", json_string(wl->name));
	json_object_set_new(final, "iteration", json_integer(c->iter));
	json_object_set_new(final, "cell_id", json_string(c->id));
	json_object_set_new(final, "spec_sha256", json_string(spec_hash));
	profile_check(share, s->profile_max_bytes, final);
	write_json_checked(rpath, final, store_err);
	json_decref(guest);
	json_decref(scan);
	free(stage1);
	free(cell_path);
	free(console);
	free(qlog);
	free(share);
	free(share_cell);
	free(gpath);
	free(rpath);
	free(pidp);
	free(cmdline);
	*final_out = final;
	return json_string_value(json_object_get(final, "status"));
}

/* A cell recorded without booting: its kernel failed to build ("failed"),
 * or it lacks what the cell's topology needs ("skipped"). */
static const char *unbooted_cell(const struct spec *s, const char *status, const char *why,
				 const char *spec_hash, const struct store_cell *c,
				 json_t **final_out, int *store_err)
{
	char *rpath = store_path(c->dir, STORE_RESULT);
	json_t *final = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "schema_version",
				  RESULT_SCHEMA_VERSION, "status", status, "error", why, "kernel",
				  s->kernels[c->k].name, "topology", s->topos[c->t].name,
				  "workload", s->workloads[c->w].name, "iteration", c->iter,
				  "cell_id", c->id);

	json_object_set_new(final, "spec_sha256", json_string(spec_hash));
	write_json_checked(rpath, final, store_err);
	free(rpath);
	*final_out = final;
	return status;
}

/* What a cell's numbers depend on, hashed: the spec as loaded (topology
 * files included) and the accelerator. A resume must not mix cells of two
 * different specs. */
static char *spec_hash(const struct spec *s)
{
	json_t *topos = json_array(), *doc;
	char hex[65], *text;

	for (size_t i = 0; i < s->ntopos; i++)
		json_array_append(topos, s->topos[i].obj);
	doc = json_pack("{s:O,s:o,s:s}", "spec", s->root, "topologies", topos, "accel", s->accel);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	sha256_hex(text, strlen(text), hex);
	free(text);
	json_decref(doc);
	return xstrdup(hex);
}

/* An exclusive lock on the run directory for as long as this process
 * lives: two runs (or resumes) never boot the same cells. */
static int lock_run_dir(const char *out, int *fd)
{
	char *p = xasprintf("%s/.lock", out);
	int rc = lock_file(p, 0, fd);

	if (rc == -EBUSY)
		rc = sb_err(EBUSY, "'%s' is in use by another swapbench run (lock '%s')", out,
			    p);
	free(p);
	return rc;
}

/* A stored result counts as done only when it is fully valid, finished
 * (ok or skipped) and is this very cell of this very spec: same cell id,
 * kernel, topology, workload, iteration and spec hash, in result.json and
 * in the host's cell.json. Else *why says what differs. */
static json_t *cell_done(const struct spec *s, const struct store_cell *c, const char *hash,
			 const char **why)
{
	char *rp = store_path(c->dir, STORE_RESULT), *cp = store_path(c->dir, CELL_FILE);
	json_t *r = NULL, *cj = NULL;
	const char *st;
	char it[16];

	*why = NULL;
	snprintf(it, sizeof(it), "%d", c->iter);
	if (!path_exists(rp)) {
		*why = "";
	} else if (result_load(rp, 1, &r)) {
		*why = "its result.json is not valid";
	} else {
		const char *const keys[] = { "cell_id", "kernel", "topology", "workload",
					     "spec_sha256" };
		const char *const want[] = { c->id, s->kernels[c->k].name, s->topos[c->t].name,
					     s->workloads[c->w].name, hash };
		json_error_t jerr;
		char *text = NULL;

		st = json_string_value(json_object_get(r, "status"));
		if (strcmp(st, "ok") && strcmp(st, "skipped"))
			*why = "";
		for (int i = 0; !*why && i < 5; i++)
			if (strcmp(json_string_value(json_object_get(r, keys[i])) ?: "", want[i]))
				*why = "its result.json is of another cell or spec";
		if (!*why && json_integer_value(json_object_get(r, "iteration")) != c->iter)
			*why = "its result.json is of another iteration";
		if (!*why && read_file(cp, 1 << 20, &text, NULL) == 0)
			cj = json_loads(text, 0, &jerr);
		free(text);
		if (!*why && (!cj ||
			      strcmp(json_string_value(json_object_get(cj, "cell_id")) ?: "", c->id) ||
			      strcmp(json_string_value(json_object_get(cj, "spec_sha256")) ?: "",
				     hash)))
			*why = "its cell.json is missing or of another cell or spec";
	}
	json_decref(cj);
	free(rp);
	free(cp);
	if (*why) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* A qemu left running in this cell (its swapbench was killed before the
 * watchdog existed, or the watchdog was killed too): kill it before the
 * cell is booted again, so it cannot write into the new attempt. */
static void kill_orphan_qemu(const struct store_cell *c)
{
	char *pp = store_path(c->dir, STORE_QEMU_PID);
	pid_t pid;

	if (vm_qemu_alive(pp, &pid)) {
		log_warn("cell %s: its qemu (pid %d) is still running: killing it", c->id,
			 (int)pid);
		kill(pid, SIGKILL);
		for (int i = 0; i < 250 && vm_qemu_alive(pp, &pid); i++)
			usleep(20000);
	}
	unlink(pp);
	free(pp);
}

static json_t *host_info(void)
{
	struct utsname u;
	char host[256] = "";
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	return json_pack("{s:s,s:s,s:s,s:i,s:I}", "hostname", host, "kernel", u.release, "arch",
			 u.machine, "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN), "memory",
			 (json_int_t)pages * psize);
}

void run_progress(int tty, size_t done, size_t total, const struct store_cell *c,
		     const struct spec *s, double elapsed, double per_cell, const char *what)
{
	char el[32], eta[32];

	fmt_duration(elapsed, 0, el, sizeof(el));
	fmt_duration(per_cell > 0 ? per_cell * (total - done) : -1, 0, eta, sizeof(eta));
	if (tty)
		fprintf(stderr, "\r\033[K[%zu/%zu] %s %s/%s/%s #%d  elapsed %s  ETA %s", done,
			total, what, s->kernels[c->k].name, s->topos[c->t].name,
			s->workloads[c->w].name, c->iter, el, eta);
	else
		fprintf(stderr, "[%zu/%zu] %s %s/%s/%s #%d (elapsed %s, ETA %s)\n", done, total,
			what, s->kernels[c->k].name, s->topos[c->t].name,
			s->workloads[c->w].name, c->iter, el, eta);
	fflush(stderr);
}

/* The spec with the command line's overrides. */
static int load_spec(struct run *r)
{
	if (spec_load(r->o->spec_path, &r->s)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (r->o->aa && spec_make_aa(&r->s, r->o->aa_kernel)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (r->o->iterations > 0)
		r->s.iterations = r->o->iterations;
	for (size_t i = 0; r->o->profile && i < r->s.nworkloads; i++)
		r->s.workloads[i].profile = 1;
	r->jobs = r->o->jobs > 1 ? r->o->jobs : 1;
	/* Cells side by side share the host's CPUs and memory bandwidth: fine
	 * for a functional suite (did it work?), not for numbers. */
	if (r->jobs > 1 && !r->s.functional) {
		if (!r->o->force_jobs) {
			log_err("%s: --jobs %d: this is a measurement suite (no \"purpose\": "
				"\"functional\"); cells running at once disturb each other's "
				"numbers. Add --force-jobs to run it anyway", r->s.path, r->jobs);
			return EXIT_USAGE;
		}
		log_warn("%s: --jobs %d on a measurement suite: its numbers are recorded as "
			 "taken %d cells at once and are not comparable to serial runs",
			 r->s.path, r->jobs, r->jobs);
	}
	if (r->o->accel) {
		free(r->s.accel);
		r->s.accel = xstrdup(r->o->accel);
	}
	if (spec_check_host(&r->s, (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
			    (unsigned long long)sysconf(_SC_PHYS_PAGES) *
				    (unsigned long long)sysconf(_SC_PAGE_SIZE))) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	r->hash = spec_hash(&r->s);
	r->agent = agent_path();
	if (access(r->agent, X_OK)) {
		log_err("guest agent '%s' is missing: build it with cmake --build", r->agent);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Build, fetch and check one kernel and make its initramfs. A kernel that
 * fails to build is recorded in kerrs (its cells with it) and is not an
 * error; anything else wrong is. */
static int resolve_kernel(struct run *r, size_t nk)
{
	struct spec_kernel *sk = &r->s.kernels[nk];
	struct kernel *k = &r->kernels[nk];
	int rc;

	if (sk->build) {
		struct kbuild_opts ko = { .tty = r->tty, .label = "build" };
		enum kbuild_state st;

		kbuild_add_root(r->s.path); /* for `kernel gc`; idempotent */
		fprintf(stderr, "kernel %s: %s\n", sk->name, sk->source);
		rc = kbuild_get(sk, &ko, k, &st);
		if (rc) {
			r->kerrs[nk] = xstrdup(sb_lasterr());
			log_err("%s", r->kerrs[nk]);
			kernel_init(k);
			return EXIT_OK;
		}
		fprintf(stderr, "kernel %s: %s %s (%s)\n", sk->name,
			st == KBUILD_BUILT ? "built" : "cached", k->id, k->release);
	} else {
		fprintf(stderr, "kernel %s: resolving %s\n", sk->name, sk->source);
		rc = kernel_get(sk->source, sk->name, sk->config, sk->modules, k);
		if (rc) {
			log_err("%s: kernels[%zu]: %s", r->s.path, nk, sb_lasterr());
			return EXIT_USAGE;
		}
	}
	/* A kernel without what a topology needs: those cells are skipped
	 * with the reason; the others run. */
	for (size_t t = 0; t < r->s.ntopos; t++) {
		if (kernel_check_topology(k, r->s.topos[t].obj)) {
			r->tskip[nk * r->s.ntopos + t] = xstrdup(sb_lasterr());
			log_warn("%s: %s: its cells are skipped", r->s.path, sb_lasterr());
		}
	}
	/* Every cell's initramfs now, not between cells. */
	r->kb[nk].initrds = calloc(r->s.ntopos, sizeof(char *));
	for (size_t t = 0; t < r->s.ntopos && !rc; t++) {
		struct strv mods;

		if (r->tskip[nk * r->s.ntopos + t])
			continue; /* its cells do not boot */
		strv_init(&mods);
		topology_modules(r->s.topos[t].obj, &mods);
		rc = initramfs_get(k, r->agent, r->s.boot.lean_initramfs ? &mods : NULL,
				   &r->kb[nk].initrds[t]);
		strv_release(&mods);
	}
	if (rc) {
		log_err("kernel %s: %s", sk->name, sb_lasterr());
		return EXIT_USAGE;
	}
	if (r->s.boot.pvh && vmlinux_get(k, &r->kb[nk].pvh))
		log_warn("kernel %s: booting the bzImage: %s", sk->name, sb_lasterr());
	fprintf(stderr, "kernel %s: %s (%s)\n", sk->name, k->release,
		k->package ? k->package : k->vmlinuz);
	return EXIT_OK;
}

/* Every kernel, then the accelerator (probed with the first usable one).
 * Everything that can be wrong with the input is found before any results
 * directory exists. */
static int resolve_kernels(struct run *r)
{
	int code, kok = -1;
	size_t t;

	r->kernels = calloc(r->s.nkernels, sizeof(*r->kernels));
	r->kb = calloc(r->s.nkernels, sizeof(*r->kb));
	r->kerrs = calloc(r->s.nkernels, sizeof(*r->kerrs));
	r->tskip = calloc(r->s.nkernels * r->s.ntopos, sizeof(*r->tskip));
	for (size_t nk = 0; nk < r->s.nkernels; nk++)
		kernel_init(&r->kernels[nk]);
	for (size_t nk = 0; nk < r->s.nkernels; nk++) {
		if ((code = resolve_kernel(r, nk)) != EXIT_OK)
			return code;
		if (!r->kerrs[nk])
			kok = kok < 0 ? (int)nk : kok;
	}
	if (kok < 0) {
		log_err("%s: no kernel could be built", r->s.path);
		return EXIT_USAGE;
	}
	/* An instruction-counted clock is TCG's: auto means TCG then. */
	if (!strcmp(r->s.clock, "icount") && !strcmp(r->s.accel, "auto")) {
		free(r->s.accel);
		r->s.accel = xstrdup("tcg");
		fprintf(stderr, "accel: vm.clock icount runs under TCG\n");
	}
	for (t = 0; t + 1 < r->s.ntopos && !r->kb[kok].initrds[t]; t++)
		;
	if (vm_choose_accel(r->s.accel, r->kernels[kok].vmlinuz, r->kb[kok].initrds[t], &r->accel,
			    &r->note)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (r->note)
		fprintf(stderr, "accel: %s\n", r->note);
	if (vm_check_clock(r->s.clock, r->accel)) {
		log_err("%s: %s", r->s.path, sb_lasterr());
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The results directory: named, new (or the same spec's, with --resume). */
static int open_output(struct run *r)
{
	const struct run_opts *o = r->o;

	if (o->out_dir) {
		r->out = xstrdup(o->out_dir);
	} else {
		char stamp[32];
		time_t t = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&t));
		r->out = xasprintf("results/%s-%s", r->s.name, stamp);
	}
	if (path_exists(r->out) && !o->resume) {
		log_err("results directory '%s' exists: pass --resume to finish it, or another "
			"--out", r->out);
		return EXIT_USAGE;
	}
	if (mkdir_p(r->out, 0755) || lock_run_dir(r->out, &r->lock_fd)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (o->resume) {
		json_t *old = NULL;
		const char *oh;
		int code = EXIT_OK;

		if (store_load_run(r->out, &old))
			old = NULL;
		oh = json_string_value(json_object_get(old, "spec_sha256"));
		if (!old || strcmp(json_string_value(json_object_get(old, "spec_path")) ?: "",
				   r->s.path)) {
			log_err("--resume: '%s' is not a run of '%s'", r->out, r->s.path);
			code = EXIT_USAGE;
		} else if (!o->force && (!oh || strcmp(oh, r->hash))) {
			log_err("--resume: '%s' changed since the run in '%s' began (or the run "
				"predates spec hashes): resuming would mix cells of two specs; "
				"pass --force to resume anyway", r->s.path, r->out);
			code = EXIT_USAGE;
		}
		json_decref(old);
		if (code)
			return code;
	}
	return EXIT_OK;
}

/* run.json as the run starts: spec, kernels, host, qemu, accel. */
static json_t *run_manifest(struct run *r)
{
	const struct spec *s = &r->s;
	json_t *run, *topos = json_array(), *wls = json_array();
	char *now = iso_now();

	r->qv = vm_qemu_version();
	run = json_pack("{s:i,s:s,s:s,s:s,s:O,s:o,s:s,s:{s:s,s:s,s:s?},s:[],s:s,s:i}",
			"schema_version", RUN_SCHEMA_VERSION, "harness_version", SWAPBENCH_VERSION,
			"name", s->name, "spec_path", s->path, "spec", s->root, "host", host_info(),
			"qemu_version", r->qv, "accel", "requested", s->accel, "used", r->accel,
			"note", r->note, "kernels", "started", now, "iterations", s->iterations);
	free(now);
	json_object_set_new(run, "spec_sha256", json_string(r->hash));
	json_object_set_new(run, "concurrency", json_integer(r->jobs));
	for (size_t i = 0; i < s->nkernels; i++) {
		json_t *id;

		if (r->kerrs[i])
			id = json_pack("{s:s,s:s,s:s}", "name", s->kernels[i].name, "source",
				       s->kernels[i].source, "build_error", r->kerrs[i]);
		else
			id = kernel_identity(&r->kernels[i]);
		json_array_append_new(json_object_get(run, "kernels"), id);
	}
	for (size_t i = 0; i < s->ntopos; i++)
		json_array_append(topos, s->topos[i].obj);
	for (size_t i = 0; i < s->nworkloads; i++)
		json_array_append_new(wls, json_pack("{s:s,s:s,s:O,s:{s:I,s:I,s:I}}", "name",
						     s->workloads[i].name, "kind",
						     s->workloads[i].kind, "params",
						     s->workloads[i].params, "memcg", "max",
						     (json_int_t)s->workloads[i].memcg.max, "high",
						     (json_int_t)s->workloads[i].memcg.high,
						     "swap_max",
						     (json_int_t)s->workloads[i].memcg.swap_max));
	json_object_set_new(run, "topologies", topos);
	json_object_set_new(run, "workloads", wls);
	json_object_set_new(run, "vm", json_pack("{s:I,s:I,s:i,s:s?,s:s,s:b}", "memory_mb",
						 (json_int_t)s->vm_mem_mb, "cpus",
						 (json_int_t)s->vm_cpus, "timeout_s", s->vm_timeout_s,
						 "cmdline", s->cmdline, "clock", s->clock, "quiet",
						 s->quiet));
	json_object_set_new(run, "status", json_string("running"));
	return run;
}

/* Whether cell i boots a VM (else it is recorded at once: its kernel failed
 * to build, or cannot run its topology). */
static int cell_boots(const struct run *r, size_t i)
{
	const struct store_cell *c = &r->cells[i];

	return !r->kerrs[c->k] && !(r->tskip && r->tskip[c->k * r->s.ntopos + c->t]);
}

json_t *run_cell_here(struct run *r, size_t i)
{
	const struct store_cell *c = &r->cells[i];
	json_t *final = NULL, *kid;
	int cell_store_err = 0;

	if (mkdir_p(c->dir, 0755)) {
		final = json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION,
				  "status", "failed", "error", sb_lasterr());
		cell_store_err = 1;
	} else if (r->kerrs[c->k]) {
		char *why = xasprintf("kernel build failed: %s", r->kerrs[c->k]);

		unbooted_cell(&r->s, "failed", why, r->hash, c, &final, &cell_store_err);
		free(why);
	} else if (r->tskip && r->tskip[c->k * r->s.ntopos + c->t]) {
		unbooted_cell(&r->s, "skipped", r->tskip[c->k * r->s.ntopos + c->t], r->hash, c,
			      &final, &cell_store_err);
	} else {
		kid = r->kids ? json_incref(r->kids[c->k]) : kernel_identity(&r->kernels[c->k]);
		run_cell(&r->s, &r->kernels[c->k], kid, &r->kb[c->k], r->accel, r->jobs, r->hash,
			 c, &final, &cell_store_err);
		json_decref(kid);
	}
	if (cell_store_err) {
		/* Never "ok" for a result that is not stored. */
		json_object_set_new(final, "status", json_string("not stored"));
		r->store_err = 1;
	}
	return final;
}

void run_tally(struct run *r, json_t *final)
{
	const char *st = json_string_value(json_object_get(final, "status")) ?: "";

	r->done++;
	if (!strcmp(st, "ok"))
		r->nok++;
	else if (!strcmp(st, "skipped"))
		r->nskip++;
	else
		r->nfail++;
	json_array_append_new(r->finals, final);
}

/* One cell: its stored result when resuming a finished one (valid, of this
 * cell and spec), else run it. */
static json_t *cell_final(struct run *r, size_t i, size_t *ran, double t0)
{
	const struct store_cell *c = &r->cells[i];
	const char *why = NULL, *st;
	json_t *final = r->o->resume ? cell_done(&r->s, c, r->hash, &why) : NULL;
	double el = monotonic_s() - t0;

	if (final)
		return final;
	if (why && *why)
		log_warn("cell %s: %s: running it again", c->id, why);
	kill_orphan_qemu(c);
	run_progress(r->tty, r->done, r->ncells, c, &r->s, el, *ran ? el / *ran : -1, "running");
	final = run_cell_here(r, i);
	st = json_string_value(json_object_get(final, "status"));
	++*ran;
	el = monotonic_s() - t0;
	run_progress(r->tty, r->done + 1, r->ncells, c, &r->s, el, el / *ran, st);
	if (r->tty && strcmp(st, "ok"))
		fputc('\n', stderr);
	if (strcmp(st, "ok") && strcmp(st, "skipped")) {
		char *e = str_escape(json_string_value(json_object_get(final, "error")) ?: "", 0);

		fprintf(stderr, "cell %s: %s: %s\n", c->id, st, e ? e : "");
		free(e);
	}
	return final;
}

/* --jobs: cells running side by side, each in a child process that boots
 * it and writes its result.json (the same run_cell_here as one at a time).
 * A child is in its own process group and dies with swapbench
 * (PR_SET_PDEATHSIG; its qemu's watchdog then takes qemu): a SIGINT or
 * SIGTERM reaches it once, forwarded by the parent, so it stops its VM and
 * stores "interrupted". A child whose result could not be stored exits
 * with POOL_NOT_STORED: the parent tallies "not stored" and stops. */
#define POOL_NOT_STORED 3

struct pool {
	struct {
		pid_t pid;     /* 0: ran here (fork failed), done already */
		size_t cell;
		json_t *final; /* pid 0: its result */
		int store_err; /* pid 0: its result was not stored */
	} slot[64];
	size_t n;
	int forwarded; /* runner_interrupted passed on to the children */
};

static void pool_start(struct run *r, struct pool *p, size_t idx)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		json_t *final;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		r->store_err = 0;
		final = run_cell_here(r, idx);
		json_decref(final);
		fflush(NULL);
		_exit(r->store_err ? POOL_NOT_STORED : 0);
	}
	p->slot[p->n].final = NULL;
	p->slot[p->n].store_err = 0;
	if (pid < 0) {
		int had = r->store_err;

		r->store_err = 0;
		p->slot[p->n].final = run_cell_here(r, idx);
		p->slot[p->n].store_err = r->store_err;
		r->store_err = had;
		pid = 0;
	}
	p->slot[p->n].pid = pid;
	p->slot[p->n].cell = idx;
	p->n++;
}

/* Wait for one child, load what it stored, and tally it. */
static void pool_reap(struct run *r, struct pool *p)
{
	size_t i;
	const struct store_cell *c;
	char *rp;
	json_t *final;
	const char *st, *image;
	int status = 0, not_stored = 0;

	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		for (i = 0; i < p->n && p->slot[i].pid; i++)
			;
		if (i < p->n)
			break;
		if (runner_interrupted && !p->forwarded) {
			for (size_t j = 0; j < p->n; j++)
				kill(p->slot[j].pid, runner_interrupted);
			p->forwarded = 1;
		}
		for (i = 0; i < p->n; i++) {
			pid_t w = waitpid(p->slot[i].pid, &status, WNOHANG);

			if (w == p->slot[i].pid || (w < 0 && errno == ECHILD))
				break;
		}
		if (i < p->n)
			break;
		nanosleep(&ts, NULL);
	}
	c = &r->cells[p->slot[i].cell];
	if (!p->slot[i].pid) {
		final = p->slot[i].final;
		not_stored = p->slot[i].store_err;
	} else {
		not_stored = WIFEXITED(status) && WEXITSTATUS(status) == POOL_NOT_STORED;
		rp = store_path(c->dir, STORE_RESULT);
		final = json_load_file(rp, 0, NULL);
		free(rp);
	}
	if (!final || !json_is_string(json_object_get(final, "status"))) {
		json_decref(final);
		final = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "schema_version",
				  RESULT_SCHEMA_VERSION, "status", "failed", "error",
				  "the cell's process ended without a result", "kernel",
				  r->s.kernels[c->k].name, "topology", r->s.topos[c->t].name,
				  "workload", r->s.workloads[c->w].name, "iteration", c->iter,
				  "cell_id", c->id);
	}
	if (not_stored) {
		/* Never "ok" for a result that is not stored. */
		json_object_set_new(final, "status", json_string("not stored"));
		r->store_err = 1;
	}
	/* A child that fell back to the bzImage: so do the next cells. */
	image = json_string_value(json_object_get(
		json_object_get(json_object_get(final, "host"), "boot"), "image"));
	if (r->kb[c->k].pvh && image && !strcmp(image, "bzimage")) {
		free(r->kb[c->k].pvh);
		r->kb[c->k].pvh = NULL;
	}
	st = json_string_value(json_object_get(final, "status"));
	{
		char *e = str_escape(strcmp(st, "ok") && strcmp(st, "skipped")
				     ? json_string_value(json_object_get(final, "error")) ?: ""
				     : "", 0);

		fprintf(stderr, "%scell %s: %s%s%s\n", r->tty ? "\r\033[K" : "", c->id, st,
			e && *e ? ": " : "", e ? e : "");
		free(e);
	}
	run_tally(r, final);
	p->slot[i] = p->slot[p->n - 1];
	p->n--;
}

/* Cells from `from` on, in order, until done, interrupted (SIGINT/SIGTERM)
 * or a result cannot be stored (a full disk: booting more would lose more);
 * with --jobs N, up to N at once. ran and t0 carry over to the --target-ci
 * rounds (ETA). */
static void run_cells(struct run *r, size_t from, size_t *ran, double t0)
{
	struct pool pool = { .n = 0 };

	for (size_t i = from; i < r->ncells && !runner_interrupted && !r->store_err; i++) {
		const struct store_cell *c = &r->cells[i];

		if (r->jobs > 1 && cell_boots(r, i)) {
			const char *why = NULL;
			json_t *prev = r->o->resume ? cell_done(&r->s, c, r->hash, &why) : NULL;
			double el = monotonic_s() - t0;

			if (prev) {
				run_tally(r, prev);
				continue;
			}
			if (why && *why)
				log_warn("cell %s: %s: running it again", c->id, why);
			while (pool.n >= (size_t)r->jobs)
				pool_reap(r, &pool);
			if (runner_interrupted || r->store_err)
				break;
			kill_orphan_qemu(c);
			run_progress(r->tty, r->done, r->ncells, c, &r->s, el, *ran ? el / *ran : -1,
				     "starting");
			pool_start(r, &pool, i);
			++*ran;
			continue;
		}
		run_tally(r, cell_final(r, i, ran, t0));
	}
	while (pool.n)
		pool_reap(r, &pool);
	if (r->tty)
		fputc('\n', stderr);
}

/* A workload's headline metrics: the first it declares (its main result)
 * and "elapsed" when it has one. */
static int is_headline(const char *kind, const char *metric)
{
	const struct workload_ops *w = workload_find(kind);

	if (!w || !w->metrics || !w->metrics[0].name)
		return !strcmp(metric, "elapsed");
	return !strcmp(metric, w->metrics[0].name) || !strcmp(metric, "elapsed");
}

/* Headline metrics of (kernel k, topology t, workload w) whose 95% CI
 * half-width is above pct of their mean, appended to `missing` as
 * {kernel, topology, workload, metric, n, ci_pct}; returns how many. */
static int ci_misses(const struct spec *s, const json_t *finals, size_t k, size_t t, size_t w,
		     double pct, json_t *missing)
{
	const struct spec_workload *wl = &s->workloads[w];
	json_t *vals = json_object(), *cell, *m, *arr;
	const char *name;
	size_t i, j;
	int nmiss = 0;

	json_array_foreach(finals, i, cell) {
		if (strcmp(json_string_value(json_object_get(cell, "status")) ?: "", "ok") ||
		    strcmp(json_string_value(json_object_get(cell, "kernel")) ?: "",
			   s->kernels[k].name) ||
		    strcmp(json_string_value(json_object_get(cell, "topology")) ?: "",
			   s->topos[t].name) ||
		    strcmp(json_string_value(json_object_get(cell, "workload")) ?: "", wl->name))
			continue;
		json_array_foreach(json_object_get(cell, "metrics"), j, m) {
			const char *mn = json_string_value(json_object_get(m, "name"));

			if (!mn || !is_headline(wl->kind, mn))
				continue;
			if (!(arr = json_object_get(vals, mn)))
				json_object_set_new(vals, mn, arr = json_array());
			json_array_append(arr, json_object_get(m, "value"));
		}
	}
	/* A workload that reported nothing yet has not reached anything. */
	if (!json_object_size(vals)) {
		json_array_append_new(missing, json_pack("{s:s,s:s,s:s,s:s,s:i,s:n}", "kernel",
							 s->kernels[k].name, "topology",
							 s->topos[t].name, "workload", wl->name,
							 "metric", "(all)", "n", 0, "ci_pct"));
		json_decref(vals);
		return 1;
	}
	json_object_foreach(vals, name, arr) {
		size_t n = json_array_size(arr);
		double *v = calloc(n, sizeof(double)), half = INFINITY;
		struct stats_summary st;

		for (size_t q = 0; q < n; q++)
			v[q] = json_number_value(json_array_get(arr, q));
		if (n >= 2 && stats_summarize(v, n, &st) == 0)
			half = st.mean != 0 ? (st.ci95_hi - st.mean) / fabs(st.mean) * 100
					    : (st.ci95_hi > st.mean ? INFINITY : 0);
		free(v);
		if (half <= pct)
			continue;
		nmiss++;
		json_array_append_new(missing, json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "kernel",
							 s->kernels[k].name, "topology",
							 s->topos[t].name, "workload", wl->name,
							 "metric", name, "n", (json_int_t)n, "ci_pct",
							 isfinite(half) ? json_real(half)
									: json_null()));
	}
	json_decref(vals);
	return nmiss;
}

/* True when some kernel's cell (t, w, iter) has a result in the run. */
static int round_on_disk(const struct run *r, size_t t, size_t w, int iter)
{
	int found = 0;

	for (size_t k = 0; k < r->s.nkernels && !found; k++) {
		struct store_cell c;
		char *rp;

		store_cell_set(&c, &r->s, r->out, k, t, w, iter);
		rp = store_path(c.dir, STORE_RESULT);
		found = path_exists(rp);
		free(rp);
		free(c.id);
		free(c.dir);
	}
	return found;
}

/* --target-ci: after the spec's iterations, rounds of one more cell per
 * kernel (in kernel order, so A, B, A, B...) for each (topology, workload)
 * whose headline metrics' CIs are still too wide on some kernel, up to
 * --max-iterations; then say which did not get there (stderr, run.json). */
static void target_ci_rounds(struct run *r, size_t *ran, double t0)
{
	const struct spec *s = &r->s;
	int maxit = r->o->max_iterations > 0 ? r->o->max_iterations : TARGET_CI_MAX_ITERATIONS;
	double pct = r->o->target_ci_pct;
	json_t *missing = json_array(), *mm;
	int it = s->iterations;
	size_t i;

	for (;;) {
		size_t first = r->ncells;

		json_array_clear(missing);
		for (size_t t = 0; t < s->ntopos; t++)
			for (size_t w = 0; w < s->nworkloads; w++) {
				int miss = 0;

				for (size_t k = 0; k < s->nkernels; k++)
					if (!r->kerrs[k])
						miss += ci_misses(s, r->finals, k, t, w, pct,
								  missing);
				/* Resuming: rounds already on disk are results too,
				 * whatever the target now says (nothing is lost). */
				if ((!miss && !(r->o->resume && round_on_disk(r, t, w, it + 1))) ||
				    it >= maxit || runner_interrupted)
					continue;
				r->cells = realloc(r->cells, (r->ncells + s->nkernels) *
						   sizeof(*r->cells));
				for (size_t k = 0; k < s->nkernels; k++)
					store_cell_set(&r->cells[r->ncells++], s, r->out, k, t, w,
						       it + 1);
			}
		if (r->ncells == first)
			break;
		it++;
		if (json_array_size(missing))
			fprintf(stderr, "--target-ci %g%%: %zu headline metric(s) not there yet; "
				"iteration %d\n", pct, json_array_size(missing), it);
		else
			fprintf(stderr, "--target-ci %g%%: iteration %d is on disk (--resume)\n",
				pct, it);
		run_cells(r, first, ran, t0);
	}
	json_array_foreach(missing, i, mm) {
		char ci[32] = "inf";

		if (json_is_real(json_object_get(mm, "ci_pct")))
			snprintf(ci, sizeof(ci), "%.1f",
				 json_real_value(json_object_get(mm, "ci_pct")));
		fprintf(stderr, "--target-ci %g%%: not reached: %s/%s/%s %s (95%% CI +-%s%% "
			"at n=%lld)\n", pct, json_string_value(json_object_get(mm, "kernel")),
			json_string_value(json_object_get(mm, "topology")),
			json_string_value(json_object_get(mm, "workload")),
			json_string_value(json_object_get(mm, "metric")), ci,
			(long long)json_integer_value(json_object_get(mm, "n")));
	}
	json_object_set_new(r->manifest, "target_ci",
			    json_pack("{s:f,s:i,s:i,s:O}", "pct", pct, "max_iterations", maxit,
				      "iterations", it, "not_reached", missing));
	json_object_set_new(r->manifest, "iterations", json_integer(it));
	json_decref(missing);
}

/* summary.json, the final run.json, the table; returns the exit code. */
int run_finish(struct run *r)
{
	json_t *summary = summary_build(r->finals);
	char *sp = store_path(r->out, STORE_SUMMARY), *rp = store_path(r->out, STORE_RUN);
	char *now = iso_now();

	write_json_checked(sp, summary, &r->store_err);
	json_object_set_new(r->manifest, "finished", json_string(now));
	json_object_set_new(r->manifest, "status",
			    json_string(runner_interrupted ? "interrupted"
				       : r->store_err ? "write error"
				       : r->done < r->ncells ? "incomplete" : "finished"));
	json_object_set_new(r->manifest, "cells",
			    json_pack("{s:I,s:i,s:i,s:i,s:I}", "total", (json_int_t)r->ncells, "ok",
				      r->nok, "skipped", r->nskip, "failed", r->nfail, "not_run",
				      (json_int_t)(r->ncells - r->done)));
	write_json_checked(rp, r->manifest, &r->store_err);
	free(sp);
	free(rp);
	free(now);
	summary_print(summary, stdout);
	json_decref(summary);
	printf("\n%d ok, %d failed, %d skipped, %zu not run; results in %s\n", r->nok, r->nfail,
	       r->nskip, r->ncells - r->done, r->out);
	if (r->store_err) {
		printf("some results could not be stored (see the errors above): the run in %s "
		       "is incomplete\n", r->out);
		return EXIT_CELLS_FAILED;
	}
	if (runner_interrupted) {
		printf("interrupted by %s: finish with: swapbench run %s --out %s --resume\n",
		       runner_interrupted == SIGTERM ? "SIGTERM" : "SIGINT", r->s.path, r->out);
		return runner_interrupted == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
	}
	if (r->nfail || r->done < r->ncells)
		return EXIT_CELLS_FAILED;
	return r->nskip ? EXIT_SKIPPED : EXIT_OK;
}

static void run_release(struct run *r)
{
	store_cells_free(r->cells, r->ncells);
	for (size_t i = 0; r->kernels && i < r->s.nkernels; i++) {
		kernel_release(&r->kernels[i]);
		for (size_t t = 0; r->kb[i].initrds && t < r->s.ntopos; t++)
			free(r->kb[i].initrds[t]);
		free(r->kb[i].initrds);
		free(r->kb[i].pvh);
		free(r->kerrs[i]);
		for (size_t t = 0; r->tskip && t < r->s.ntopos; t++)
			free(r->tskip[i * r->s.ntopos + t]);
	}
	for (size_t i = 0; r->kids && i < r->s.nkernels; i++)
		json_decref(r->kids[i]);
	free(r->kids);
	free(r->kernels);
	free(r->kb);
	free(r->kerrs);
	free(r->tskip);
	free(r->agent);
	free(r->out);
	free(r->note);
	free(r->qv);
	free(r->hash);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	json_decref(r->manifest);
	json_decref(r->finals);
	spec_release(&r->s);
}

int runner_run(const struct run_opts *o)
{
	struct run r = { .o = o, .accel = "tcg", .tty = isatty(2), .finals = json_array(),
			 .lock_fd = -1 };
	int code;

	spec_init(&r.s);
	if (o->executor && !strcmp(o->executor, "slurm") && (code = slurm_check(o)) != EXIT_OK) {
		run_release(&r);
		return code;
	}
	if ((code = load_spec(&r)) == EXIT_OK && (code = resolve_kernels(&r)) == EXIT_OK &&
	    (code = open_output(&r)) == EXIT_OK) {
		char *rp = store_path(r.out, STORE_RUN);

		r.manifest = run_manifest(&r);
		if (o->resume) {
			/* Keep what executors recorded earlier (Slurm job ids). */
			json_t *old = NULL;

			if (!store_load_run(r.out, &old) && json_object_get(old, "executor"))
				json_object_set(r.manifest, "executor",
						json_object_get(old, "executor"));
			json_decref(old);
		}
		if (write_json_checked(rp, r.manifest, &r.store_err)) {
			free(rp);
			run_release(&r);
			return EXIT_CELLS_FAILED;
		}
		free(rp);
		r.ncells = store_cells(&r.s, r.out, &r.cells);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (o->executor && !strcmp(o->executor, "slurm")) {
			code = slurm_run_cells(&r);
			if (code < 0)
				code = run_finish(&r);
		} else {
			size_t ran = 0;
			double t0 = monotonic_s();

			run_cells(&r, 0, &ran, t0);
			if (o->target_ci_pct > 0)
				target_ci_rounds(&r, &ran, t0);
			code = run_finish(&r);
		}
	}
	run_release(&r);
	return code;
}

/* A run directory prepared for an executor (inputs/ written by it): the
 * frozen spec, the kernels' copied artifacts and identities, the cells. */
static int open_run_dir(struct run *r, const char *dir)
{
	char *sp = xasprintf("%s/" RUN_INPUTS "/spec.json", dir);
	json_t *kernels;
	int rc;

	r->out = xstrdup(dir);
	if (store_load_run(dir, &r->manifest)) {
		log_err("%s", sb_lasterr());
		free(sp);
		return EXIT_USAGE;
	}
	rc = spec_load(sp, &r->s);
	free(sp);
	if (rc) {
		log_err("'%s' was not prepared for an executor: %s", dir, sb_lasterr());
		return EXIT_USAGE;
	}
	r->hash = spec_hash(&r->s);
	kernels = json_object_get(r->manifest, "kernels");
	if (json_array_size(kernels) != r->s.nkernels) {
		log_err("'%s': run.json lists %zu kernels, its spec %zu", dir,
			json_array_size(kernels), r->s.nkernels);
		return EXIT_USAGE;
	}
	r->kernels = calloc(r->s.nkernels, sizeof(*r->kernels));
	r->kb = calloc(r->s.nkernels, sizeof(*r->kb));
	r->kerrs = calloc(r->s.nkernels, sizeof(*r->kerrs));
	r->kids = calloc(r->s.nkernels, sizeof(*r->kids));
	r->tskip = calloc(r->s.nkernels * r->s.ntopos + 1, sizeof(*r->tskip));
	if (!r->kernels || !r->kb || !r->kerrs || !r->kids || !r->tskip)
		abort();
	for (size_t i = 0; i < r->s.nkernels; i++) {
		json_t *id = json_array_get(kernels, i);
		const char *err = json_string_value(json_object_get(id, "build_error"));

		kernel_init(&r->kernels[i]);
		r->kernels[i].name = xstrdup(r->s.kernels[i].name);
		r->kernels[i].vmlinuz = xasprintf("%s/" RUN_INPUTS "/kernels/%s/vmlinuz", dir,
						  r->s.kernels[i].name);
		/* The boot files write_inputs left (exec-slurm.c). */
		r->kb[i].pvh = xasprintf("%s/" RUN_INPUTS "/kernels/%s/vmlinux-pvh", dir,
					 r->s.kernels[i].name);
		if (!path_exists(r->kb[i].pvh)) {
			free(r->kb[i].pvh);
			r->kb[i].pvh = NULL;
		}
		r->kb[i].initrds = calloc(r->s.ntopos + 1, sizeof(char *));
		if (!r->kb[i].initrds)
			abort();
		for (size_t t = 0; t < r->s.ntopos; t++) {
			char *skip = xasprintf("%s/" RUN_INPUTS "/kernels/%s/skip-%s", dir,
					       r->s.kernels[i].name, r->s.topos[t].name);
			char *why = NULL;

			r->kb[i].initrds[t] = xasprintf("%s/" RUN_INPUTS "/kernels/%s/initrd-%s",
							dir, r->s.kernels[i].name,
							r->s.topos[t].name);
			if (path_exists(skip) && !read_file(skip, 4096, &why, NULL))
				r->tskip[i * r->s.ntopos + t] = why;
			free(skip);
		}
		r->kids[i] = json_incref(id);
		if (err)
			r->kerrs[i] = xstrdup(err);
	}
	r->ncells = store_cells(&r->s, r->out, &r->cells);
	return EXIT_OK;
}

int runner_cell(const char *run_dir, const char *index)
{
	struct run_opts o = { 0 };
	struct run r = { .o = &o, .accel = "tcg", .finals = json_array(), .lock_fd = -1 };
	long long i;
	int code;

	spec_init(&r.s);
	code = open_run_dir(&r, run_dir);
	if (code == EXIT_OK) {
		char *end;

		errno = 0;
		i = strtoll(index, &end, 10);
		if (errno || end == index || *end || i < 0 || (size_t)i >= r.ncells)
			i = -1;
	}
	if (code == EXIT_OK && i < 0) {
		log_err("cell: index '%s': expected 0..%zu", index, r.ncells - 1);
		code = EXIT_USAGE;
	}
	if (code == EXIT_OK) {
		const char *want = json_string_value(json_object_get(
			json_object_get(r.manifest, "accel"), "requested")) ?: "auto";
		const struct store_cell *c = &r.cells[i];
		json_t *final;

		/* This node's accelerator: probed here, not on the submitting host. */
		r.jobs = 1;
		if (cell_boots(&r, (size_t)i) &&
		    vm_choose_accel(want, r.kernels[c->k].vmlinuz, r.kb[c->k].initrds[c->t],
				    &r.accel, &r.note)) {
			log_err("cell %s: %s", c->id, sb_lasterr());
			code = EXIT_CELLS_FAILED;
		} else {
			final = run_cell_here(&r, (size_t)i);
			printf("cell %s: %s\n", c->id,
			       json_string_value(json_object_get(final, "status")) ?: "?");
			code = strcmp(json_string_value(json_object_get(final, "status")) ?: "",
				      "ok") ? EXIT_CELLS_FAILED : EXIT_OK;
			json_decref(final);
		}
	}
	run_release(&r);
	return code;
}

int runner_status(const char *run_dir, int finalize)
{
	struct run_opts o = { .resume = 1 };
	struct run r = { .o = &o, .accel = "tcg", .tty = isatty(2), .finals = json_array(),
			 .lock_fd = -1 };
	size_t running = 0, pending = 0, missing = 0;
	int code, active;

	spec_init(&r.s);
	code = open_run_dir(&r, run_dir);
	if (code != EXIT_OK) {
		run_release(&r);
		return code;
	}
	active = slurm_jobs_active(r.manifest, &running, &pending);
	for (size_t i = 0; i < r.ncells; i++) {
		char *rp = store_path(r.cells[i].dir, STORE_RESULT);
		json_t *res = NULL;

		if (path_exists(rp) && !store_load_json(rp, RESULT_MAX_BYTES, &res))
			run_tally(&r, res);
		else
			missing++;
		free(rp);
	}
	printf("%s: %zu of %zu cells done (%d ok, %d failed, %d skipped); %zu running, "
	       "%zu pending\n", run_dir, r.done, r.ncells, r.nok, r.nfail, r.nskip, running,
	       pending);
	if (active) {
		printf("jobs still active: run 'swapbench status %s' again later\n", run_dir);
		code = EXIT_OK;
	} else if (finalize) {
		if (missing)
			printf("%zu cells have no result (cancelled or lost): 'swapbench run SPEC "
			       "--out %s --resume --executor slurm' runs them\n", missing, run_dir);
		code = run_finish(&r);
	}
	run_release(&r);
	return code;
}
