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
#include "common/topology.h"
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

/* icount times the guest by instructions, but an emulated disk completes
 * I/O in host time: the I/O a workload waits on becomes arbitrary (measured:
 * zswap+nvme cells 28-262 s, docs/noise.md). Said once per topology. */
static void warn_icount_disks(const struct spec *s)
{
	const char *kind;

	if (!s->clock || strcmp(s->clock, "icount"))
		return;
	for (size_t t = 0; t < s->ntopos; t++)
		if ((kind = topology_host_backed(s->topos[t].obj)))
			log_warn("%s: topology '%s' swaps to an emulated disk (%s): under "
				 "vm.clock icount (vm.quiet) its I/O waits are not measured "
				 "reliably (docs/noise.md); prefer vm.clock \"host\" for it",
				 s->path, s->topos[t].name, kind);
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
	warn_icount_disks(&r->s);
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


/* summary.json, the final run.json, the table; returns the exit code. */
int run_finish(struct run *r)
{
	json_t *summary = summary_build(r->finals);
	char *sp = store_path(r->out, STORE_SUMMARY), *rp = store_path(r->out, STORE_RUN);
	char *now = iso_now();

	run_write_json(sp, summary, &r->store_err);
	json_object_set_new(r->manifest, "finished", json_string(now));
	json_object_set_new(r->manifest, "status",
			    json_string(runner_interrupted ? "interrupted"
				       : r->store_err ? "write error"
				       : r->done < r->ncells ? "incomplete" : "finished"));
	json_object_set_new(r->manifest, "cells",
			    json_pack("{s:I,s:i,s:i,s:i,s:I}", "total", (json_int_t)r->ncells, "ok",
				      r->nok, "skipped", r->nskip, "failed", r->nfail, "not_run",
				      (json_int_t)(r->ncells - r->done)));
	run_write_json(rp, r->manifest, &r->store_err);
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
		if (run_write_json(rp, r.manifest, &r.store_err)) {
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
