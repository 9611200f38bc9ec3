#define _GNU_SOURCE
#include "harness/runner.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/initramfs.h"
#include "harness/kernel-build.h"
#include "common/log.h"
#include "harness/result.h"
#include "harness/vm.h"
#include "harness/hostnoise.h"
#include "common/stats.h"
#include "workloads/workload.h"

#include <math.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define RUN_SCHEMA_VERSION 1
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

static int write_json(const char *path, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return sb_err(ENOMEM, "cannot serialise '%s'", path);
	rc = write_file_atomic(path, text, strlen(text));
	free(text);
	return rc;
}

struct cell {
	char *id, *dir;
	size_t k, t, w;
	int iter;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char *verdict(const json_t *guest, const struct vm_result *vr, const json_t *scan)
{
	if (vr->timed_out)
		return "timeout";
	if (!guest || json_integer_value(json_object_get(scan, "panics")) > 0)
		return "crashed";
	return json_string_value(json_object_get(guest, "status"));
}

/* Boot one cell and write its result.json; returns the status string. */
static const char *run_cell(const struct spec *s, const struct kernel *k, const char *initrd,
			    const char *accel, const struct cell *c, json_t **final_out)
{
	const struct spec_topology *topo = &s->topos[c->t];
	const struct spec_workload *wl = &s->workloads[c->w];
	char *cell_path = xasprintf("%s/" CELL_FILE, c->dir);
	char *console = xasprintf("%s/console.log", c->dir);
	char *qlog = xasprintf("%s/qemu.log", c->dir);
	char *gpath = xasprintf("%s/" GUEST_RESULT_FILE, c->dir);
	char *rpath = xasprintf("%s/result.json", c->dir);
	json_t *cj, *guest = NULL, *final, *scan, *host;
	struct strv qargs;
	struct vm_result vr = { .agent_s = -1 };
	struct host_sample hs0 = { 0 }, hs1 = { 0 };
	json_t *attempts = json_array(), *noise;
	const char *status;
	int rc;

	mkdir_p(c->dir, 0755);
	unlink(gpath);
	cj = cell_json(c->id, "run", topo->obj, wl, NULL, s->sample_interval_ms);
	json_object_set_new(cj, "kernel", kernel_identity(k));
	json_object_set_new(cj, "iteration", json_integer(c->iter));
	rc = write_json(cell_path, cj);
	json_decref(cj);
	for (int attempt = 0; !rc; attempt++) {
		strv_init(&qargs);
		rc = topology_prepare(topo->obj, c->dir, &qargs);
		if (!rc) {
			struct vm_spec vs = { .vmlinuz = k->vmlinuz, .initrd = initrd,
					      .cmdline_extra = s->cmdline,
					      .mem_mb = s->vm_mem_mb, .cpus = s->vm_cpus,
					      .accel = accel, .clock = s->clock,
					      .cell_dir = c->dir,
					      .console_path = console, .qemu_log = qlog,
					      .timeout_s = s->vm_timeout_s, .extra = &qargs };

			host_sample_take(&hs0);
			rc = vm_run(&vs, &vr);
			host_sample_take(&hs1);
		}
		topology_discard(topo->obj, c->dir);
		strv_release(&qargs);
		/* A guest that crashed before its workload started never ran the
		 * cell's measured phase (under TCG an SMP guest now and then
		 * takes an Oops while patching kernel text, during boot or just
		 * after): boot again, keeping the evidence. A kernel that
		 * crashes there every time stays crashed; hangs are not retried. */
		if (rc || vr.timed_out || path_exists(gpath) ||
		    console_contains(console, WORKLOAD_MARKER) || attempt >= BOOT_RETRIES)
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
	if (rc) {
		final = json_pack("{s:i,s:s,s:s}", "schema_version", RESULT_SCHEMA_VERSION, "status",
				  "failed", "error", sb_lasterr());
		status = "failed";
	} else if (path_exists(gpath) && result_load(gpath, 0, &guest)) {
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
	write_json(rpath, final);
	json_decref(guest);
	json_decref(scan);
	free(cell_path);
	free(console);
	free(qlog);
	free(gpath);
	free(rpath);
	*final_out = final;
	return json_string_value(json_object_get(final, "status"));
}

/* The cell of a kernel that failed to build: recorded, never booted. */
static const char *kernel_failed_cell(const struct spec *s, const char *why,
				      const struct cell *c, json_t **final_out)
{
	char *rpath = xasprintf("%s/result.json", c->dir);
	json_t *final = json_pack("{s:i,s:s,s:s+,s:s,s:s,s:s,s:i,s:s}", "schema_version",
				  RESULT_SCHEMA_VERSION, "status", "failed", "error",
				  "kernel build failed: ", why, "kernel", s->kernels[c->k].name,
				  "topology", s->topos[c->t].name, "workload",
				  s->workloads[c->w].name, "iteration", c->iter, "cell_id", c->id);

	mkdir_p(c->dir, 0755);
	write_json(rpath, final);
	free(rpath);
	*final_out = final;
	return "failed";
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

static char *iso_now(void)
{
	char buf[64];
	time_t t = time(NULL);

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return xstrdup(buf);
}

static void fmt_dur(double s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "?");
	else if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void progress(int tty, size_t done, size_t total, const struct cell *c,
		     const struct spec *s, double elapsed, double per_cell, const char *what)
{
	char el[32], eta[32];

	fmt_dur(elapsed, el, sizeof(el));
	fmt_dur(per_cell > 0 ? per_cell * (total - done) : -1, eta, sizeof(eta));
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

/* The state of the cell loop, shared by the planned cells and the rounds
 * --target-ci adds. */
struct cell_loop {
	const struct spec *s;
	const struct run_opts *o;
	struct kernel *kernels;
	char **initrds, **kerrs;
	const char *accel;
	json_t *finals;
	int tty;
	double t0;
	size_t total, done, ran;
	int nok, nskip, nfail;
};

/* Run (or, with --resume, reuse) each cell; append its result to finals. */
static void run_cells(struct cell_loop *L, struct cell *cells, size_t n)
{
	for (size_t i = 0; i < n && !interrupted; i++) {
		struct cell *c = &cells[i];
		char *rp = xasprintf("%s/result.json", c->dir);
		json_t *final = NULL, *prev = L->o->resume ? json_load_file(rp, 0, NULL) : NULL;
		const char *st = json_string_value(json_object_get(prev, "status"));
		double el = monotonic_s() - L->t0;

		free(rp);
		if (prev && st && (!strcmp(st, "ok") || !strcmp(st, "skipped"))) {
			final = prev;
			L->done++;
		} else {
			json_decref(prev);
			progress(L->tty, L->done, L->total, c, L->s, el, L->ran ? el / L->ran : -1,
				 "running");
			if (L->kerrs[c->k])
				st = kernel_failed_cell(L->s, L->kerrs[c->k], c, &final);
			else
				st = run_cell(L->s, &L->kernels[c->k], L->initrds[c->k], L->accel, c,
					      &final);
			L->ran++;
			L->done++;
			el = monotonic_s() - L->t0;
			progress(L->tty, L->done, L->total, c, L->s, el, el / L->ran, st);
			if (L->tty && strcmp(st, "ok"))
				fputc('\n', stderr);
			if (strcmp(st, "ok") && strcmp(st, "skipped"))
				fprintf(stderr, "cell %s: %s: %s\n", c->id, st,
					json_string_value(json_object_get(final, "error")) ?: "");
		}
		st = json_string_value(json_object_get(final, "status"));
		if (!strcmp(st, "ok"))
			L->nok++;
		else if (!strcmp(st, "skipped"))
			L->nskip++;
		else
			L->nfail++;
		json_array_append_new(L->finals, final);
	}
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

static void target_ci_rounds(struct cell_loop *L, const char *out, struct cell **cellsp,
			     size_t *ncellsp, json_t *run)
{
	const struct spec *s = L->s;
	int maxit = L->o->max_iterations > 0 ? L->o->max_iterations : TARGET_CI_MAX_ITERATIONS;
	double pct = L->o->target_ci_pct;
	json_t *missing = json_array(), *mm;
	int it = s->iterations;
	size_t i;

	for (;;) {
		size_t first = *ncellsp;

		json_array_clear(missing);
		for (size_t t = 0; t < s->ntopos; t++)
			for (size_t w = 0; w < s->nworkloads; w++) {
				int miss = 0;

				for (size_t k = 0; k < s->nkernels; k++)
					if (!L->kerrs[k])
						miss += ci_misses(s, L->finals, k, t, w, pct,
								  missing);
				if (!miss || it >= maxit || interrupted)
					continue;
				/* One more cell of every kernel, in kernel order. */
				*cellsp = realloc(*cellsp, (*ncellsp + s->nkernels) *
						  sizeof(**cellsp));
				for (size_t k = 0; k < s->nkernels; k++) {
					struct cell *c = &(*cellsp)[(*ncellsp)++];

					c->k = k;
					c->t = t;
					c->w = w;
					c->iter = it + 1;
					c->id = xasprintf("%s--%s--%s--%d", s->kernels[k].name,
							  s->topos[t].name, s->workloads[w].name,
							  it + 1);
					c->dir = xasprintf("%s/cells/%s", out, c->id);
				}
			}
		if (*ncellsp == first)
			break;
		it++;
		L->total = *ncellsp;
		fprintf(stderr, "%s--target-ci %g%%: %zu headline metric(s) not there yet; "
			"iteration %d\n", L->tty ? "\n" : "", pct, json_array_size(missing), it);
		run_cells(L, *cellsp + first, *ncellsp - first);
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
	json_object_set_new(run, "target_ci", json_pack("{s:f,s:i,s:i,s:O}", "pct", pct,
							"max_iterations", maxit,
							"iterations", it, "not_reached",
							missing));
	json_object_set_new(run, "iterations", json_integer(it));
	json_decref(missing);
}

int runner_run(const struct run_opts *o)
{
	struct spec s;
	struct kernel *kernels = NULL;
	char **initrds = NULL, *agent = NULL, *out = NULL, *note = NULL, *qv = NULL;
	char **kerrs = NULL;  /* why a kernel could not be built, per kernel */
	const char *accel = "tcg";
	struct cell *cells = NULL;
	json_t *run = NULL, *finals = json_array(), *summary;
	size_t ncells = 0, done = 0, nk = 0;
	int rc, code = EXIT_OK, tty = isatty(2), nfail = 0, nskip = 0, nok = 0, kok = -1;

	rc = spec_load(o->spec_path, &s);
	if (rc) {
		log_err("%s", sb_lasterr());
		json_decref(finals);
		return EXIT_USAGE;
	}
	if (o->aa && spec_make_aa(&s, o->aa_kernel)) {
		log_err("%s", sb_lasterr());
		json_decref(finals);
		spec_release(&s);
		return EXIT_USAGE;
	}
	if (o->iterations > 0)
		s.iterations = o->iterations;
	if (o->accel) {
		free(s.accel);
		s.accel = xstrdup(o->accel);
	}
	agent = agent_path();
	if (access(agent, X_OK)) {
		log_err("guest agent '%s' is missing: build it with cmake --build", agent);
		code = EXIT_USAGE;
		goto out;
	}
	/* Everything that can be wrong with the input is found before any
	 * results directory exists. */
	kernels = calloc(s.nkernels, sizeof(*kernels));
	initrds = calloc(s.nkernels, sizeof(*initrds));
	kerrs = calloc(s.nkernels, sizeof(*kerrs));
	for (nk = 0; nk < s.nkernels; nk++)
		kernel_init(&kernels[nk]);
	for (nk = 0; nk < s.nkernels; nk++) {
		struct spec_kernel *sk = &s.kernels[nk];

		if (sk->build) {
			/* A kernel that fails to build is recorded, and its cells
			 * with it; the other kernels still run. */
			struct kbuild_opts ko = { .tty = tty, .label = "build" };
			enum kbuild_state st;

			kbuild_add_root(s.path); /* for `kernel gc`; idempotent */
			fprintf(stderr, "kernel %s: %s\n", sk->name, sk->source);
			rc = kbuild_get(sk, &ko, &kernels[nk], &st);
			if (rc) {
				kerrs[nk] = xstrdup(sb_lasterr());
				log_err("%s", kerrs[nk]);
				kernel_init(&kernels[nk]);
				continue;
			}
			fprintf(stderr, "kernel %s: %s %s (%s)\n", sk->name,
				st == KBUILD_BUILT ? "built" : "cached", kernels[nk].id,
				kernels[nk].release);
		} else {
			fprintf(stderr, "kernel %s: resolving %s\n", sk->name, sk->source);
			rc = kernel_get(sk->source, sk->name, sk->config, sk->modules,
					&kernels[nk]);
			if (rc) {
				log_err("%s: kernels[%zu]: %s", s.path, nk, sb_lasterr());
				code = EXIT_USAGE;
				goto out;
			}
		}
		for (size_t t = 0; t < s.ntopos; t++) {
			rc = kernel_check_topology(&kernels[nk], s.topos[t].obj);
			if (rc) {
				log_err("%s: %s", s.path, sb_lasterr());
				code = EXIT_USAGE;
				goto out;
			}
		}
		rc = initramfs_get(&kernels[nk], agent, &initrds[nk]);
		if (rc) {
			log_err("kernel %s: %s", sk->name, sb_lasterr());
			code = EXIT_USAGE;
			goto out;
		}
		fprintf(stderr, "kernel %s: %s (%s)\n", sk->name, kernels[nk].release,
			kernels[nk].package ? kernels[nk].package : kernels[nk].vmlinuz);
		kok = kok < 0 ? (int)nk : kok;
	}
	if (kok < 0) {
		log_err("%s: no kernel could be built", s.path);
		code = EXIT_USAGE;
		goto out;
	}
	/* An instruction-counted clock is TCG's: auto means TCG then. */
	if (!strcmp(s.clock, "icount") && !strcmp(s.accel, "auto")) {
		free(s.accel);
		s.accel = xstrdup("tcg");
		fprintf(stderr, "accel: vm.clock icount runs under TCG\n");
	}
	rc = vm_choose_accel(s.accel, kernels[kok].vmlinuz, initrds[kok], &accel, &note);
	if (rc) {
		log_err("%s", sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	if (note)
		fprintf(stderr, "accel: %s\n", note);
	rc = vm_check_clock(s.clock, accel);
	if (rc) {
		log_err("%s: %s", s.path, sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	if (o->out_dir) {
		out = xstrdup(o->out_dir);
	} else {
		char stamp[32];
		time_t t = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&t));
		out = xasprintf("results/%s-%s", s.name, stamp);
	}
	if (path_exists(out) && !o->resume) {
		log_err("results directory '%s' exists: pass --resume to finish it, or another "
			"--out", out);
		code = EXIT_USAGE;
		goto out;
	}
	if (o->resume && path_exists(out)) {
		char *rp = xasprintf("%s/run.json", out);
		json_t *old = json_load_file(rp, 0, NULL);

		if (!old || strcmp(json_string_value(json_object_get(old, "spec_path")) ?: "",
				   s.path)) {
			log_err("--resume: '%s' is not a run of '%s'", out, s.path);
			json_decref(old);
			free(rp);
			code = EXIT_USAGE;
			goto out;
		}
		json_decref(old);
		free(rp);
	}
	if (mkdir_p(out, 0755)) {
		log_err("%s", sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	qv = vm_qemu_version();
	run = json_pack("{s:i,s:s,s:s,s:s,s:O,s:o,s:s,s:{s:s,s:s,s:s?},s:[],s:s,s:i}",
			"schema_version", RUN_SCHEMA_VERSION, "harness_version", SWAPBENCH_VERSION,
			"name", s.name, "spec_path", s.path, "spec", s.root, "host", host_info(),
			"qemu_version", qv, "accel", "requested", s.accel, "used", accel, "note",
			note, "kernels", "started", "", "iterations", s.iterations);
	{
		char *now = iso_now();

		json_object_set_new(run, "started", json_string(now));
		free(now);
	}
	for (size_t i = 0; i < s.nkernels; i++) {
		json_t *id;

		if (kerrs[i])
			id = json_pack("{s:s,s:s,s:s}", "name", s.kernels[i].name, "source",
				       s.kernels[i].source, "build_error", kerrs[i]);
		else
			id = kernel_identity(&kernels[i]);
		json_array_append_new(json_object_get(run, "kernels"), id);
	}
	{
		json_t *topos = json_array(), *wls = json_array();

		for (size_t i = 0; i < s.ntopos; i++)
			json_array_append(topos, s.topos[i].obj);
		for (size_t i = 0; i < s.nworkloads; i++)
			json_array_append_new(wls, json_pack("{s:s,s:s,s:O,s:{s:I,s:I,s:I}}",
							     "name", s.workloads[i].name,
							     "kind", s.workloads[i].kind,
							     "params", s.workloads[i].params,
							     "memcg", "max",
							     (json_int_t)s.workloads[i].memcg.max,
							     "high",
							     (json_int_t)s.workloads[i].memcg.high,
							     "swap_max",
							     (json_int_t)s.workloads[i].memcg.swap_max));
		json_object_set_new(run, "topologies", topos);
		json_object_set_new(run, "workloads", wls);
		json_object_set_new(run, "vm", json_pack("{s:I,s:I,s:i,s:s?,s:s,s:b}", "memory_mb",
							 (json_int_t)s.vm_mem_mb, "cpus",
							 (json_int_t)s.vm_cpus, "timeout_s",
							 s.vm_timeout_s, "cmdline", s.cmdline,
							 "clock", s.clock, "quiet", s.quiet));
	}
	{
		char *rp = xasprintf("%s/run.json", out);

		json_object_set_new(run, "status", json_string("running"));
		write_json(rp, run);
		free(rp);
	}
	/* Iterations outermost, so an interrupted run has every kernel covered. */
	ncells = s.iterations * s.nkernels * s.ntopos * s.nworkloads;
	cells = calloc(ncells, sizeof(*cells));
	ncells = 0;
	for (int it = 1; it <= s.iterations; it++)
		for (size_t t = 0; t < s.ntopos; t++)
			for (size_t w = 0; w < s.nworkloads; w++)
				for (size_t k = 0; k < s.nkernels; k++) {
					struct cell *c = &cells[ncells++];

					c->k = k;
					c->t = t;
					c->w = w;
					c->iter = it;
					c->id = xasprintf("%s--%s--%s--%d", s.kernels[k].name,
							  s.topos[t].name, s.workloads[w].name, it);
					c->dir = xasprintf("%s/cells/%s", out, c->id);
				}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	{
		struct cell_loop L = { .s = &s, .o = o, .kernels = kernels, .initrds = initrds,
				       .kerrs = kerrs, .accel = accel, .finals = finals,
				       .tty = tty, .t0 = monotonic_s(), .total = ncells };

		run_cells(&L, cells, ncells);
		/* --target-ci: more rounds, one cell per kernel each (ABAB...),
		 * for the (topology, workload) pairs whose headline metrics'
		 * CIs are still too wide. */
		if (o->target_ci_pct > 0)
			target_ci_rounds(&L, out, &cells, &ncells, run);
		done = L.done;
		nok = L.nok;
		nskip = L.nskip;
		nfail = L.nfail;
		if (tty)
			fputc('\n', stderr);
	}
	summary = summary_build(finals);
	{
		char *sp = xasprintf("%s/summary.json", out), *rp = xasprintf("%s/run.json", out);
		char *now = iso_now();
		write_json(sp, summary);
		json_object_set_new(run, "finished", json_string(now));
		json_object_set_new(run, "status", json_string(interrupted ? "interrupted"
									   : "finished"));
		json_object_set_new(run, "cells", json_pack("{s:I,s:i,s:i,s:i,s:I}", "total",
							    (json_int_t)ncells, "ok", nok,
							    "skipped", nskip, "failed", nfail,
							    "not_run",
							    (json_int_t)(ncells - done)));
		write_json(rp, run);
		free(sp);
		free(rp);
		free(now);
	}
	summary_print(summary, stdout);
	json_decref(summary);
	printf("\n%d ok, %d failed, %d skipped, %zu not run; results in %s\n", nok, nfail, nskip,
	       ncells - done, out);
	if (interrupted) {
		printf("interrupted: finish with: swapbench run %s --out %s --resume\n", s.path,
		       out);
		code = EXIT_CELLS_FAILED;
	} else if (nfail) {
		code = EXIT_CELLS_FAILED;
	} else if (nskip) {
		code = EXIT_SKIPPED;
	}
out:
	for (size_t i = 0; i < ncells; i++) {
		free(cells[i].id);
		free(cells[i].dir);
	}
	free(cells);
	for (size_t i = 0; kernels && i < s.nkernels; i++) {
		kernel_release(&kernels[i]);
		free(initrds[i]);
		free(kerrs[i]);
	}
	free(kernels);
	free(initrds);
	free(kerrs);
	free(agent);
	free(out);
	free(note);
	free(qv);
	json_decref(run);
	json_decref(finals);
	spec_release(&s);
	return code;
}
