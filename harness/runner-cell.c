/* One cell, run here: its cell.json, the VM boots (with retries), the
 * verdict and its result.json. The local executor (runner-pool.c) and the
 * Slurm one (exec-slurm.c) both call run_cell_here. */
#define _GNU_SOURCE
#include "harness/runner.h"
#include "harness/runner-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "harness/hostnoise.h"
#include "harness/profile.h"
#include "harness/result.h"
#include "harness/store.h"
#include "harness/vm.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Boots again of a cell whose guest crashed before its workload started. */
#define BOOT_RETRIES 2
/* Boots again of a cell whose multi-vCPU TCG guest crashed after it. */
#define TCG_SMP_CRASH_RETRIES 1

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

/* The files of a cell: DIR/{cell.json,result.json,console.log,qemu.log,...}
 * are the host's; only DIR/guest/ is shared with the guest (9p tag "cell"):
 * the guest reads its cell.json there and writes guest-result.json and
 * collected/, and can touch nothing else of the host. */

int run_write_json(const char *path, json_t *j, int *store_err)
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

/* The files of one cell, host side and in the share. */
struct cell_files {
	char *cell, *console, *qlog, *share, *share_cell, *gpath, *rpath, *pidp;
};

static void cell_files_init(struct cell_files *f, const char *dir)
{
	f->cell = store_path(dir, CELL_FILE);
	f->console = store_path(dir, STORE_CONSOLE);
	f->qlog = store_path(dir, STORE_QEMU_LOG);
	f->share = store_path(dir, STORE_GUEST_DIR);
	f->share_cell = store_path(f->share, CELL_FILE);
	f->gpath = store_path(f->share, GUEST_RESULT_FILE);
	f->rpath = store_path(dir, STORE_RESULT);
	f->pidp = store_path(dir, STORE_QEMU_PID);
}

static void cell_files_release(struct cell_files *f)
{
	free(f->cell);
	free(f->console);
	free(f->qlog);
	free(f->share);
	free(f->share_cell);
	free(f->gpath);
	free(f->rpath);
	free(f->pidp);
}

/* What the boots of a cell came to. */
struct cell_boot {
	struct vm_result vr;
	struct host_sample hs0, hs1;
	json_t *attempts; /* the boots that crashed before the workload, kept */
	char *stage1;     /* the agent's "cannot set up its roots" line, or NULL */
};

/* Phase 1: an empty share (nothing an earlier guest left there is read as
 * this cell's) holding the cell's cell.json, and a copy beside it. */
static int cell_write_input(const struct spec *s, json_t *kid, const char *spec_hash,
			    const struct store_cell *c, const struct cell_files *f)
{
	const struct spec_workload *wl = &s->workloads[c->w];
	json_t *cj;
	int rc;

	unlink(f->rpath);
	rc = rm_rf(f->share);
	if (!rc)
		rc = mkdir_p(f->share, 0755);
	cj = cell_json(c->id, "run", s->topos[c->t].obj, wl, NULL, s->sample_interval_ms);
	json_object_set(cj, "kernel", kid);
	json_object_set_new(cj, "iteration", json_integer(c->iter));
	json_object_set_new(cj, "spec_sha256", json_string(spec_hash));
	if (wl->profile)
		json_object_set_new(cj, "profile", json_pack("{s:i,s:I}", "frequency", s->profile_hz,
							     "max_size",
							     (json_int_t)s->profile_max_bytes));
	if (!rc)
		rc = store_write_json(f->cell, cj);
	if (!rc)
		rc = store_write_json(f->share_cell, cj);
	json_decref(cj);
	return rc;
}

/* One boot of the cell's VM, its topology prepared and discarded around it. */
static int cell_boot_once(const struct spec *s, const struct kernel *k, const struct kboot *kb,
			  const char *accel, const char *cmdline, const struct store_cell *c,
			  const struct cell_files *f, struct cell_boot *b)
{
	const json_t *topo = s->topos[c->t].obj;
	struct strv qargs;
	int rc;

	strv_init(&qargs);
	rc = topology_prepare(topo, c->dir, &qargs);
	if (!rc) {
		struct vm_spec vs = { .vmlinuz = kb->pvh ? kb->pvh : k->vmlinuz,
				      .initrd = kb->initrds[c->t],
				      .lean_machine = s->boot.lean_machine,
				      .cmdline_extra = cmdline,
				      .mem_mb = s->vm_mem_mb, .cpus = s->vm_cpus,
				      .accel = accel, .clock = s->clock,
				      .cell_dir = f->share,
				      .console_path = f->console, .qemu_log = f->qlog,
				      .timeout_s = s->vm_timeout_s, .extra = &qargs,
				      .stop = &runner_interrupted, .pid_path = f->pidp };

		host_sample_take(&b->hs0);
		rc = vm_run(&vs, &b->vr);
		host_sample_take(&b->hs1);
	}
	topology_discard(topo, c->dir);
	strv_release(&qargs);
	return rc;
}

/* A guest that ended without a result after its workload started, neither
 * timed out nor stopped, on multi-threaded TCG with more than one vCPU.
 * MTTCG now and then runs a stale translation while another vCPU patches
 * kernel text (static keys flip when memcg, zram or swap first get used):
 * the guest takes an Oops in the middle of a NOP, an emulation artifact
 * never seen under KVM or single-threaded (icount) TCG. It is rare (none in
 * 160 cells of a zram loop here; CI met one in a run of ~200 cells), but a
 * CI run or a night has hundreds of cells. Such a cell is booted once more,
 * the crash kept (console-crashN.log, host.failed_boots); a kernel that
 * really crashes there crashes again and stays crashed. */
static int tcg_smp_crash(const struct spec *s, const char *accel, int rc,
			 const struct cell_boot *b, const struct cell_files *f)
{
	return !rc && !strcmp(accel, "tcg") && s->vm_cpus > 1 &&
	       !(s->clock && !strcmp(s->clock, "icount")) && !b->vr.timed_out &&
	       !b->vr.interrupted && !path_exists(f->gpath) &&
	       console_contains(f->console, WORKLOAD_MARKER);
}

/* Keeps the console of a crashed boot beside the cell and its summary in
 * b->attempts; returns the name it was kept under. */
static char *keep_failed_boot(const struct store_cell *c, const struct cell_files *f,
			      struct cell_boot *b, const char *what, int after_start)
{
	json_t *sc = console_scan(f->console, 10);
	char *keep = xasprintf("%s/console-%s%zu.log", c->dir, what,
			       json_array_size(b->attempts) + 1);

	rename(f->console, keep);
	json_array_append_new(b->attempts, json_pack(
		"{s:i,s:b,s:b,s:f,s:O,s:O,s:s}", "attempt", (int)json_array_size(b->attempts) + 1,
		"after_workload_start", after_start, "timed_out", b->vr.timed_out, "vm_wall_s",
		b->vr.wall_s, "panics", json_object_get(sc, "panics"), "first_problem",
		json_object_get(sc, "first_problem") ?: json_null(), "console",
		strrchr(keep, '/') + 1));
	json_decref(sc);
	return keep;
}

/* A direct boot that never reached the agent, and not because the kernel
 * itself crashed (that one the bzImage shares, and the retries handle). */
static int pvh_boot_failed(const struct kboot *kb, const struct cell_boot *b, const char *console)
{
	return kb->pvh && b->vr.agent_s < 0 && !console_contains(console, "Kernel panic") &&
	       !console_contains(console, "Oops") && !console_contains(console, "BUG:") &&
	       !console_contains(console, STAGE1_FAIL_MARKER);
}

/* Phase 2: boot until the guest ran the workload, or cannot. A failed
 * direct (PVH) boot switches the kernel to its bzImage from now on and
 * boots again. A guest that crashed before its workload started never ran
 * the cell's measured phase (under TCG an SMP guest now and then takes an
 * Oops while patching kernel text, during boot or just after): boot again,
 * up to BOOT_RETRIES, keeping the evidence. A kernel that crashes there
 * every time stays crashed; hangs are not retried. */
static int cell_boot(const struct spec *s, const struct kernel *k, struct kboot *kb,
		     const char *accel, const char *cmdline, const struct store_cell *c,
		     const struct cell_files *f, struct cell_boot *b)
{
	for (int attempt = 0;; attempt++) {
		int rc = cell_boot_once(s, k, kb, accel, cmdline, c, f, b);
		char *keep;

		if (!rc && pvh_boot_failed(kb, b, f->console)) {
			keep = xasprintf("%s/console-pvh.log", c->dir);
			log_warn("kernel %s: the direct (PVH) boot of '%s' did not reach the agent%s;"
				 " booting its bzImage from now on (console kept in '%s')",
				 k->name, kb->pvh, b->vr.timed_out ? " (timed out)" : "", keep);
			rename(f->console, keep);
			free(keep);
			free(kb->pvh);
			kb->pvh = NULL;
			attempt--;
			continue;
		}
		if (rc || b->vr.timed_out || b->vr.interrupted || path_exists(f->gpath) ||
		    console_contains(f->console, WORKLOAD_MARKER) || attempt >= BOOT_RETRIES)
			return rc;
		/* The agent said it cannot set up its roots (a module the kernel
		 * lacks, a 9p file system it cannot mount): booting again gives
		 * the same answer. */
		if ((b->stage1 = console_line(f->console, STAGE1_FAIL_MARKER)))
			return 0;
		free(keep_failed_boot(c, f, b, "attempt", 0));
	}
}

static json_t *failed_result(const char *status, const char *error)
{
	return json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION, "status",
			 status, "error", error);
}

/* Phase 3: the result from what the boots came to and what the guest
 * wrote (validated; the guest is not trusted). */
static json_t *cell_verdict(int rc, struct cell_boot *b, const struct cell_files *f,
			    const json_t *scan)
{
	json_t *final, *guest = NULL;
	const char *status;

	if (!rc && !b->stage1 && !b->vr.timed_out && !path_exists(f->gpath))
		b->stage1 = console_line(f->console, STAGE1_FAIL_MARKER);
	if (rc)
		return failed_result("failed", sb_lasterr());
	if (b->vr.interrupted)
		return failed_result("interrupted", runner_interrupted == SIGTERM
				     ? "stopped by SIGTERM" : "stopped by SIGINT (Ctrl-C)");
	if (b->stage1 && !b->vr.timed_out && !path_exists(f->gpath)) {
		char *e = xasprintf("the guest could not set up its root (agent stage 1; not a "
				    "flake, not booted again): %s", b->stage1);

		final = failed_result("failed", e);
		free(e);
		return final;
	}
	if (path_exists(f->gpath) && result_load_beneath(f->share, GUEST_RESULT_FILE, 0, &guest))
		return failed_result("invalid", sb_lasterr());
	status = verdict(guest, &b->vr, scan);
	final = guest ? json_deep_copy(guest)
		      : json_pack("{s:i}", "schema_version", RESULT_SCHEMA_VERSION);
	json_object_set_new(final, "status", json_string(status));
	if (!guest)
		json_object_set_new(final, "error",
				    json_string(b->vr.timed_out
						? "the VM did not finish within vm.timeout"
						: "the guest ended without a result "
						  "(see console_tail)"));
	json_decref(guest);
	return final;
}

/* Phase 4: what the host saw of the cell: VM times, node, concurrency, how
 * it booted, host noise, the console scan and the failed boots. */
static json_t *cell_host_json(const struct spec *s, const struct kboot *kb, const char *accel,
			      int jobs, const char *cmdline, int rc, struct cell_boot *b,
			      const json_t *scan)
{
	char node[256] = "";
	json_t *host, *noise;

	host = json_pack("{s:f,s:f,s:i,s:b,s:s}", "vm_wall_s", b->vr.wall_s, "boot_to_agent_s",
			 b->vr.agent_s, "qemu_exit_code", b->vr.exit_code, "timed_out",
			 b->vr.timed_out, "accel", accel);
	gethostname(node, sizeof(node) - 1);
	json_object_set_new(host, "node", json_string(node));
	/* Cells that shared the host share its CPUs: compare must know. */
	json_object_set_new(host, "concurrency", json_integer(jobs));
	/* How it booted: so a difference in boot numbers can be told from one
	 * in the kernel. */
	json_object_set_new(host, "boot", json_pack(
		"{s:s,s:s,s:s,s:s,s:s}", "image", kb->pvh ? "vmlinux-pvh" : "bzimage", "machine",
		s->boot.lean_machine ? "q35-lean" : "q35", "initramfs",
		s->boot.lean_initramfs ? "topology" : "all", "modules",
		s->boot.parallel_modules ? "parallel" : "serial", "cmdline", cmdline));
	noise = rc ? NULL : host_noise_json(&b->hs0, &b->hs1, b->vr.cpu_s);
	if (noise)
		json_object_set_new(host, "noise", noise);
	json_object_set_new(host, "console", json_deep_copy(scan));
	json_object_set(host, "failed_boots", b->attempts);
	json_object_del(json_object_get(host, "console"), "tail");
	json_object_del(json_object_get(host, "console"), "first_problem");
	return host;
}

/* Boot one cell and write its result.json; returns the status string. */
static const char *run_cell(const struct spec *s, const struct kernel *k, json_t *kid,
			    struct kboot *kb, const char *accel, int jobs, const char *spec_hash,
			    const struct store_cell *c, json_t **final_out, int *store_err)
{
	char *cmdline = boot_cmdline(s);
	struct cell_files f;
	struct cell_boot b = { .vr = { .agent_s = -1 }, .attempts = json_array() };
	json_t *final, *scan;
	int rc;

	cell_files_init(&f, c->dir);
	for (int crashes = 0;; crashes++) {
		char *keep;

		rc = cell_write_input(s, kid, spec_hash, c, &f);
		if (!rc)
			rc = cell_boot(s, k, kb, accel, cmdline, c, &f, &b);
		if (crashes >= TCG_SMP_CRASH_RETRIES || !tcg_smp_crash(s, accel, rc, &b, &f))
			break;
		keep = keep_failed_boot(c, &f, &b, "crash", 1);
		log_warn("cell %s: the guest crashed after its workload started (TCG, %u vCPUs: "
			 "see docs/results.md, host.failed_boots); booting it once more, console "
			 "kept in '%s'", c->id, s->vm_cpus, keep);
		free(keep);
	}
	scan = console_scan(f.console, 40);
	final = cell_verdict(rc, &b, &f, scan);
	json_object_set_new(final, "host", cell_host_json(s, kb, accel, jobs, cmdline, rc, &b,
							  scan));
	if (strcmp(json_string_value(json_object_get(final, "status")), "ok"))
		json_object_set(final, "console_tail", json_object_get(scan, "tail"));
	if (json_object_get(scan, "first_problem"))
		json_object_set(final, "console_first_problem",
				json_object_get(scan, "first_problem"));
	json_object_set_new(final, "kernel", json_string(k->name));
	json_object_set_new(final, "topology", json_string(s->topos[c->t].name));
	json_object_set_new(final, "workload", json_string(s->workloads[c->w].name));
	json_object_set_new(final, "iteration", json_integer(c->iter));
	json_object_set_new(final, "cell_id", json_string(c->id));
	json_object_set_new(final, "spec_sha256", json_string(spec_hash));
	profile_check(f.share, s->profile_max_bytes, final);
	run_write_json(f.rpath, final, store_err);
	json_decref(scan);
	json_decref(b.attempts);
	free(b.stage1);
	cell_files_release(&f);
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
	run_write_json(rpath, final, store_err);
	free(rpath);
	*final_out = final;
	return status;
}

int cell_boots(const struct run *r, size_t i)
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
