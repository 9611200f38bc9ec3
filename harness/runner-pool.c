/* The local executor: cells in order (one at a time, or --jobs N in child
 * processes), resuming finished ones, then the --target-ci rounds. */
#define _GNU_SOURCE
#include "harness/runner.h"
#include "harness/runner-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/stats.h"
#include "harness/result.h"
#include "harness/store.h"
#include "harness/vm.h"
#include "workloads/workload.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
/* The line a cell's end gets on the terminal: its status, and for one that
 * did not end ok its error and the console's first problem (a kernel
 * crash's first line), so a log of the run alone says why. */
static void say_cell(const struct store_cell *c, const json_t *final, const char *lead)
{
	const char *st = json_string_value(json_object_get(final, "status")) ?: "";
	int bad = strcmp(st, "ok") && strcmp(st, "skipped");
	char *e = str_escape(bad ? json_string_value(json_object_get(final, "error")) ?: "" : "",
			     0);
	const char *first = json_string_value(json_array_get(
		json_object_get(final, "console_first_problem"), 0));
	char *fp = bad && first ? str_escape(first, 0) : NULL;

	fprintf(stderr, "%scell %s: %s%s%s\n", lead, c->id, st, e && *e ? ": " : "", e ? e : "");
	if (fp)
		fprintf(stderr, "  console: %s\n", fp);
	free(fp);
	free(e);
}

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
	if (strcmp(st, "ok") && strcmp(st, "skipped"))
		say_cell(c, final, "");
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
	const char *image;
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
	say_cell(c, final, r->tty ? "\r\033[K" : "");
	run_tally(r, final);
	p->slot[i] = p->slot[p->n - 1];
	p->n--;
}

/* Cells from `from` on, in order, until done, interrupted (SIGINT/SIGTERM)
 * or a result cannot be stored (a full disk: booting more would lose more);
 * with --jobs N, up to N at once. ran and t0 carry over to the --target-ci
 * rounds (ETA). */
void run_cells(struct run *r, size_t from, size_t *ran, double t0)
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
void target_ci_rounds(struct run *r, size_t *ran, double t0)
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
