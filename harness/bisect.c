#define _GNU_SOURCE
#include "harness/bisect.h"
#include "harness/store.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonget.h"
#include "harness/history.h"
#include "harness/kernel-build.h"
#include "common/log.h"
#include "common/process.h"
#include "harness/result.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "common/stats.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BISECT_SCHEMA_VERSION 1

/* ---- the steps ---- */

struct ctx {
	const struct bisect_opts *o;
	json_t *res;         /* bisect.json */
	char *tree;          /* absolute */
	char *json_path;
	struct sprt rule;
	double t0;
	long long history_id;
};

static int save(struct ctx *c)
{
	return store_write_json(c->json_path, c->res);
}

const char *bisect_mode(const struct bisect_opts *o)
{
	return o->build_only ? "build" : o->cells_only ? "cells" : "metric";
}

/* A failure bisection (build or cells): each step's outcome decides; no
 * metric, no ends, no SPRT. */
static int by_outcome(const struct bisect_opts *o)
{
	return o->build_only || o->cells_only;
}

static int step_spec(struct ctx *c, const char *commit, const char *path)
{
	return bisect_suite_at(c->o->suite, c->o->kernel, c->tree, commit, c->o->topology,
			       c->o->workload, path);
}

char *bisect_cell_failure(const char *run_dir, const json_t *cell)
{
	char *dir = store_cell_dir(run_dir, jstr(cell, "cell_id")), *e, *why;
	json_t *res = NULL;
	const char *err;
	size_t len;

	if (store_load_json_beneath(dir, STORE_RESULT, STORE_RUN_MAX, &res))
		res = NULL;
	err = json_string_value(json_array_get(json_object_get(res, "console_first_problem"),
					       0)) ?: jstr(res, "error");
	e = str_escape(err, 0);
	len = strcspn(e, "\n");
	while (len && isspace((unsigned char)e[len - 1]))
		len--;
	why = xasprintf("%s %s%s%.*s", jstr(cell, "cell_id"), jstr(cell, "status"),
			len ? ": " : "", (int)len, e);
	free(e);
	json_decref(res);
	free(dir);
	return why;
}

/* The values of the bisected metric in a run, and how many cells failed
 * (*why, when non-NULL: the first one's id, status and error). */
static json_t *run_values(const struct ctx *c, const char *run_dir, const char *kernel,
			  int *failed, char **why)
{
	json_t *sum = NULL, *row, *vals = json_array();
	size_t i;

	*failed = 0;
	if (summary_load(run_dir, &sum))
		return vals;
	/* A cell bisection has no metric: its steps' values stay empty. */
	json_array_foreach(c->o->metric ? json_object_get(sum, "rows") : NULL, i, row)
		if (!strcmp(json_string_value(json_object_get(row, "kernel")) ?: "", kernel) &&
		    !strcmp(json_string_value(json_object_get(row, "topology")) ?: "",
			    c->o->topology) &&
		    !strcmp(json_string_value(json_object_get(row, "workload")) ?: "",
			    c->o->workload) &&
		    !strcmp(json_string_value(json_object_get(row, "metric")) ?: "", c->o->metric)) {
			json_decref(vals);
			vals = json_incref(json_object_get(row, "values"));
		}
	json_array_foreach(json_object_get(sum, "cells"), i, row) {
		const char *st = json_string_value(json_object_get(row, "status")) ?: "";

		if (strcmp(st, "ok") && strcmp(st, "skipped") && !(*failed)++ && why)
			*why = bisect_cell_failure(run_dir, row);
	}
	json_decref(sum);
	return vals;
}

static const char *run_status(const char *run_dir)
{
	json_t *r = NULL;
	static char buf[32];

	store_load_run(run_dir, &r);
	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(r, "status")) ?: "");
	json_decref(r);
	return buf;
}

/* runner_run prints its summary on stdout: during a bisection or a night
 * stdout is the report's, so the runner's lines go to stderr. */
int run_on_stderr(const struct run_opts *ro)
{
	int saved, code;

	fflush(stdout);
	saved = dup(1);
	if (saved >= 0)
		dup2(2, 1);
	code = runner_run(ro);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, 1);
		close(saved);
	}
	return code;
}

static double *to_doubles(const json_t *arr, size_t *n)
{
	size_t len = json_array_size(arr);
	double *v = calloc(len ? len : 1, sizeof(*v));

	for (size_t i = 0; i < len; i++)
		v[i] = json_number_value(json_array_get(arr, i));
	*n = len;
	return v;
}

/* What one step found out (its record in bisect.json and the history). */
struct step_out {
	const char *decision;  /* "good", "bad" or "skip" */
	char *reason;          /* why skipped (or why a build step is bad) */
	json_t *vals;          /* the metric's values */
	double mean, llr, build_s;
};

/* The step's suite at its commit and the branch kernel in it: the only one
 * of a metric step's spec; a build step's spec keeps the suite's kernels,
 * the branch's by name. */
static int step_kernel(struct ctx *c, const char *commit, const char *spec_path,
		       struct spec *s, struct spec_kernel **sk)
{
	int rc;

	if ((rc = step_spec(c, commit, spec_path)) || (rc = spec_load(spec_path, s)))
		return rc;
	for (size_t i = 0; i < s->nkernels; i++)
		if (s->kernels[i].build && (!c->o->kernel || !strcmp(s->kernels[i].name, c->o->kernel))) {
			*sk = &s->kernels[i];
			return 0;
		}
	return sb_err(EINVAL, "%s: no git kernel to bisect", spec_path);
}

/* Build the step's kernel (its log next to the step's run). 1 when that
 * decided the step (a build failure; any build of a build bisection). */
static int step_build(struct ctx *c, const struct spec_kernel *sk, const char *log,
		      json_t *step, struct step_out *so)
{
	struct kernel k;
	enum kbuild_state st;
	struct kbuild_opts ko = { .tty = isatty(2), .label = "bisect build", .log = log };
	double t0 = monotonic_s();
	int rc = kbuild_get(sk, &ko, &k, &st);

	so->build_s = monotonic_s() - t0;
	json_object_set_new(step, "build", json_string(rc ? "failed" : st == KBUILD_BUILT
						       ? "built" : "cached"));
	if (rc) {
		const char *e = sb_lasterr(), *el = strstr(e, "error:");

		/* The compiler's first error says more than "make failed". */
		while (el && el > e && el[-1] != '\n')
			el--;
		so->reason = xasprintf("build failed: %.*s", (int)strcspn(el ?: e, "\n"), el ?: e);
		/* Bisecting a build failure, not building is the bad side;
		 * otherwise the step cannot be decided (skip). */
		if (c->o->build_only)
			so->decision = "bad";
		return 1;
	}
	json_object_set_new(step, "cache_id", json_string(k.id ?: ""));
	kernel_release(&k);
	if (c->o->build_only)
		so->decision = "good";
	return c->o->build_only;
}

/* Run the step's cell until the rule decides (fixed: an end, ends_n
 * iterations, no decision). -EINTR when the run was interrupted. */
static int step_measure(struct ctx *c, const char *spec_path, const char *run_dir,
			const char *kernel, const char *fixed, struct step_out *so)
{
	const struct bisect_opts *o = c->o;
	int n = o->cells_only ? 1 : fixed ? o->ends_n : o->min_n, failed = 0;

	for (;;) {
		struct run_opts ro = { .spec_path = spec_path, .out_dir = run_dir,
				       .resume = path_exists(run_dir), .iterations = n };
		struct stats_summary ss;
		enum sprt_decision d;
		size_t nv;
		double *v;

		run_on_stderr(&ro);
		if (!strcmp(run_status(run_dir), "interrupted"))
			return -EINTR;
		json_decref(so->vals);
		so->vals = run_values(c, run_dir, kernel, &failed,
				      o->cells_only ? &so->reason : NULL);
		/* Bisecting a failing cell: one run decides. */
		if (o->cells_only) {
			so->decision = failed ? "bad" : "good";
			return 0;
		}
		if (failed) {
			so->reason = xasprintf("%d cell(s) failed (crashed, timed out or failed)",
					       failed);
			return 0;
		}
		v = to_doubles(so->vals, &nv);
		if (nv && !stats_summarize(v, nv, &ss))
			so->mean = ss.mean;
		if (fixed) {
			free(v);
			so->decision = fixed;
			return 0;
		}
		d = sprt_decide(&c->rule, v, nv, &so->llr);
		free(v);
		if (d == SPRT_MORE && n < o->max_n) {
			n = n + o->batch > o->max_n ? o->max_n : n + o->batch;
			continue;
		}
		if (d == SPRT_GOOD || d == SPRT_BAD)
			so->decision = sprt_decision_name(d);
		else
			so->reason = xasprintf("undecided after %zu iterations (LLR %.2f)", nv,
					       so->llr);
		return 0;
	}
}

/* The step's record: into bisect.json's step and the history (its run
 * indexed when there is one). */
static void step_record(struct ctx *c, json_t *step, const struct step_out *so,
			const char *run_dir, double t0)
{
	const struct bisect_opts *o = c->o;
	json_t *row;
	int64_t rid = 0;
	int hr;

	json_object_set_new(step, "decision", json_string(so->decision));
	json_object_set_new(step, "n", json_integer(json_array_size(so->vals)));
	json_object_set_new(step, "values", so->vals ? json_incref(so->vals) : json_array());
	json_object_set_new(step, "mean", isfinite(so->mean) ? json_real(so->mean) : json_null());
	json_object_set_new(step, "llr", isfinite(so->llr) ? json_real(so->llr) : json_null());
	json_object_set_new(step, "reason", so->reason ? json_string(so->reason) : json_null());
	json_object_set_new(step, "build_s", json_real(so->build_s));
	json_object_set_new(step, "seconds", json_real(monotonic_s() - t0));
	if (!o->db || history_begin(o->db))
		return;
	row = json_deep_copy(step);
	hr = path_exists(run_dir) ? history_add_run(o->db, run_dir, "bisect", o->night_id,
						    jstr(step, "commit"), &rid) : 0;
	json_object_set_new(row, "run_id", json_integer(rid));
	if (!hr)
		hr = history_bisect_step(o->db, c->history_id, row);
	if (hr || history_commit(o->db)) {
		log_warn("history: %s", sb_lasterr());
		history_rollback(o->db);
	}
	json_decref(row);
}

/* One step: build, run until decided. fixed: "good"/"bad" for the ends
 * (run ends_n iterations, no decision), NULL to decide. The step's record
 * in *out. -EINTR when interrupted. */
static int run_step(struct ctx *c, int seq, const char *commit, const char *role,
		    const char *fixed, json_t **out)
{
	char *name = xasprintf("step-%02d-%.12s", seq, commit);
	char *spec_path = xasprintf("%s/%s.json", c->o->dir, name);
	char *run_dir = xasprintf("%s/%s", c->o->dir, name);
	char *log = xasprintf("%s/%s.build.log", c->o->dir, name);
	json_t *step = json_pack("{s:i,s:s,s:s,s:s}", "seq", seq, "commit", commit, "role", role,
				 "run", name), *info;
	struct step_out so = { .decision = "skip", .mean = NAN, .llr = NAN };
	struct spec s;
	struct spec_kernel *sk = NULL;
	double t0 = monotonic_s();
	int rc;

	spec_init(&s);
	if ((info = git_commit_info(c->tree, commit))) {
		json_object_set(step, "subject", json_object_get(info, "subject"));
		json_decref(info);
	}
	fprintf(stderr, "bisect: step %d: %.12s (%s)\n", seq, commit, role);
	if ((rc = step_kernel(c, commit, spec_path, &s, &sk)))
		goto out;
	if (!step_build(c, sk, log, step, &so) &&
	    (rc = step_measure(c, spec_path, run_dir, sk->name, fixed, &so)))
		goto out;
	step_record(c, step, &so, run_dir, t0);
	if (by_outcome(c->o))
		fprintf(stderr, "bisect: step %d: %.12s %s%s%s\n", seq, commit, so.decision,
			so.reason ? ": " : "", so.reason ?: "");
	else
		fprintf(stderr, "bisect: step %d: %.12s %s (n=%zu, mean %.4g)%s%s\n", seq,
			commit, so.decision, json_array_size(so.vals), so.mean,
			so.reason ? ": " : "", so.reason ?: "");
	*out = step;
	step = NULL;
out:
	json_decref(step);
	json_decref(so.vals);
	spec_release(&s);
	free(so.reason);
	free(name);
	free(spec_path);
	free(run_dir);
	free(log);
	return rc;
}

static json_t *find_step(json_t *res, const char *commit, const char *role)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(res, "steps"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "commit")) ?: "", commit) &&
		    !strcmp(json_string_value(json_object_get(s, "role")) ?: "", role))
			return s;
	return NULL;
}

/* A step already recorded (resume), or run it now and record it. */
static int step(struct ctx *c, const char *commit, const char *role, const char *fixed,
		json_t **rec)
{
	json_t *steps = json_object_get(c->res, "steps"), *s = find_step(c->res, commit, role);
	int rc;

	if (s) {
		*rec = s;
		return 0;
	}
	rc = run_step(c, (int)json_array_size(steps), commit, role, fixed, &s);
	if (rc)
		return rc;
	json_array_append_new(steps, s);
	*rec = s;
	return save(c);
}

static const char *decision_of(const json_t *s)
{
	return json_string_value(json_object_get(s, "decision")) ?: "skip";
}

static int finish(struct ctx *c, const char *status, const char *first_bad)
{
	const struct bisect_opts *o = c->o;
	json_t *steps = json_object_get(c->res, "steps"), *s;
	int builds = 0, cells = 0;
	size_t i;

	json_object_set_new(c->res, "status", json_string(status));
	if (first_bad) {
		json_t *info = git_commit_info(c->tree, first_bad);

		json_object_set_new(c->res, "first_bad", info ? info : json_string(first_bad));
	}
	json_array_foreach(steps, i, s) {
		builds += !strcmp(json_string_value(json_object_get(s, "build")) ?: "", "built");
		/* A cell bisection's step ran one cell when it was decided. */
		cells += o->cells_only ? strcmp(decision_of(s), "skip") != 0
				       : (int)json_array_size(json_object_get(s, "values"));
	}
	json_object_set_new(c->res, "totals", json_pack("{s:I,s:i,s:i,s:f}", "steps",
							(json_int_t)json_array_size(steps),
							"builds", builds, "cells", cells, "seconds",
							monotonic_s() - c->t0 +
							json_number_value(json_object_get(
								json_object_get(c->res, "totals"),
								"seconds_before"))));
	if (o->db) {
		json_t *info = json_object_get(c->res, "first_bad");

		if (!history_begin(o->db)) {
			if (json_is_object(info))
				history_add_commit(o->db, first_bad,
						   json_string_value(json_object_get(info, "subject")),
						   json_string_value(json_object_get(info, "author")),
						   json_string_value(json_object_get(info, "date")));
			if (history_bisect_finish(o->db, c->history_id, status, first_bad) ||
			    history_commit(o->db)) {
				log_warn("history: %s", sb_lasterr());
				history_rollback(o->db);
			}
		}
	}
	return save(c);
}

static int start(struct ctx *c)
{
	const struct bisect_opts *o = c->o;
	char *base = NULL;
	json_t *commits = NULL;
	int rebased = 0, rc;

	c->json_path = xasprintf("%s/bisect.json", o->dir);
	if (path_exists(c->json_path)) {
		if (!o->resume)
			return sb_err(EEXIST, "'%s' holds a bisection: pass --resume to continue it, "
				      "or another directory", o->dir);
		if ((rc = store_load_json(c->json_path, STORE_RUN_MAX, &c->res)))
			return rc;
		c->history_id = json_integer_value(json_object_get(c->res, "history_id"));
		{
			json_t *t = json_object_get(c->res, "totals");

			if (!t)
				json_object_set_new(c->res, "totals", t = json_object());
			json_object_set_new(t, "seconds_before",
					    json_real(json_number_value(json_object_get(t, "seconds"))));
		}
		return 0;
	}
	if ((rc = bisect_range(c->tree, o->good, o->bad, &base, &rebased, &commits)))
		return rc;
	if ((rc = mkdir_p(o->dir, 0755))) {
		free(base);
		json_decref(commits);
		return rc;
	}
	c->res = json_pack("{s:i,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s?,s:s?,s:s?,s:o,s:[],s:s}",
			   "schema_version", BISECT_SCHEMA_VERSION, "mode",
			   bisect_mode(o), "tree", c->tree, "good", o->good,
			   "bad", o->bad, "rebased", rebased, "base", base, "suite", o->suite,
			   "topology", o->topology, "workload", o->workload, "metric", o->metric,
			   "commits", commits, "steps", "status", "running");
	json_object_set_new(c->res, "rule", by_outcome(o)
			    ? json_pack("{s:s}", "name", bisect_mode(o))
			    : json_pack("{s:s,s:f,s:f,s:i,s:i,s:i}", "name", "sprt", "alpha",
					o->alpha, "beta", o->beta, "min_n", o->min_n, "max_n",
					o->max_n, "batch", o->batch));
	{
		char *g = git_rev_parse(c->tree, o->good), *b = git_rev_parse(c->tree, o->bad);

		json_object_set_new(c->res, "good", json_string(g ?: o->good));
		json_object_set_new(c->res, "bad", json_string(b ?: o->bad));
		free(g);
		free(b);
	}
	if (rebased)
		json_object_set_new(c->res, "merge_base", json_string(base));
	if (o->db) {
		json_t *b = json_pack("{s:I,s:O,s:O,s:s?,s:s?,s:s?,s:s?,s:s,s:s}", "night_id",
				      (json_int_t)o->night_id, "good", json_object_get(c->res, "good"),
				      "bad", json_object_get(c->res, "bad"), "merge_base",
				      rebased ? base : NULL, "kernel", o->kernel, "topology",
				      o->topology, "workload", o->workload, "metric",
				      by_outcome(o) ? bisect_mode(o) : o->metric,
				      "dir", o->dir);
		int64_t id = 0;

		if (!by_outcome(o)) {
			json_object_set_new(b, "alpha", json_real(o->alpha));
			json_object_set_new(b, "beta", json_real(o->beta));
		}
		if (!history_begin(o->db) && !history_bisect_start(o->db, b, &id) &&
		    !history_commit(o->db))
			c->history_id = id;
		else
			history_rollback(o->db);
		json_object_set_new(c->res, "history_id", json_integer(c->history_id));
		json_decref(b);
	}
	free(base);
	return save(c);
}

/* The rule's ends: given (a nightly knows its good nights and tonight), or
 * measured here as the first two steps; then the SPRT between them. */
static int ends(struct ctx *c)
{
	const struct bisect_opts *o = c->o;
	json_t *good_vals = NULL, *bad_vals = NULL, *rec, *rule;
	double *g, *b;
	size_t ng, nb;
	int rc;

	if (o->good_values && o->bad_values) {
		good_vals = json_incref(o->good_values);
		bad_vals = json_incref(o->bad_values);
	} else {
		if ((rc = step(c, jstr(c->res, "good"), "good end", "good", &rec)))
			return rc;
		good_vals = json_incref(json_object_get(rec, "values"));
		if ((rc = step(c, jstr(c->res, "bad"), "bad end", "bad", &rec))) {
			json_decref(good_vals);
			return rc;
		}
		bad_vals = json_incref(json_object_get(rec, "values"));
	}
	json_object_set_new(c->res, "good_values", good_vals);
	json_object_set_new(c->res, "bad_values", bad_vals);
	g = to_doubles(good_vals, &ng);
	b = to_doubles(bad_vals, &nb);
	rc = sprt_init(&c->rule, g, ng, b, nb, o->alpha, o->beta, o->min_n, o->max_n);
	free(g);
	free(b);
	if (rc)
		return sb_err_prefix(-rc, "bisect %s", o->metric);
	rule = json_object_get(c->res, "rule");
	json_object_set_new(rule, "mu_good", json_real(c->rule.mu_good));
	json_object_set_new(rule, "mu_bad", json_real(c->rule.mu_bad));
	json_object_set_new(rule, "sigma", json_real(c->rule.sigma));
	return 0;
}

/* A rebased branch: its merge base with the last good commit must be good
 * itself, or the regression is older than the branch point. 1 when the
 * bisection ends there (finished), 0 to search, or -errno. */
static int merge_base_first(struct ctx *c)
{
	const char *mb = jstr(c->res, "merge_base"), *d;
	json_t *rec;
	int rc;

	if (!json_is_true(json_object_get(c->res, "rebased")))
		return 0;
	fprintf(stderr, "bisect: %.12s is not an ancestor of %.12s (rebased): bisecting from "
		"their merge base %.12s, tested first\n", c->o->good, c->o->bad, mb);
	if ((rc = step(c, mb, "merge base", NULL, &rec)))
		return rc;
	d = decision_of(rec);
	if (!strcmp(d, "good"))
		return 0;
	rc = finish(c, !strcmp(d, "bad") ? "merge-base-bad" : "merge-base-undecided", NULL);
	return rc ? rc : 1;
}

/* The search: the midpoints' marks from the steps recorded so far (also
 * after --resume), the next midpoint, until the first bad commit is known
 * or skipped steps leave candidates. */
static int search(struct ctx *c)
{
	json_t *commits = json_object_get(c->res, "commits"), *s, *rec;
	int n = (int)json_array_size(commits), first_bad = -1, lo, hi, pick, rc = 0;
	enum bisect_mark *marks = calloc(n, sizeof(*marks));
	size_t i;

	marks[n - 1] = BISECT_BAD;
	for (;;) {
		json_array_foreach(json_object_get(c->res, "steps"), i, s) {
			const char *d = decision_of(s);

			if (strcmp(jstr(s, "role"), "midpoint"))
				continue;
			for (int j = 0; j < n; j++)
				if (!strcmp(json_string_value(json_array_get(commits, j)),
					    jstr(s, "commit")))
					marks[j] = !strcmp(d, "good") ? BISECT_GOOD
						   : !strcmp(d, "bad") ? BISECT_BAD : BISECT_SKIP;
		}
		pick = bisect_next(marks, n, &first_bad, &lo, &hi);
		if (pick < 0)
			break;
		if ((rc = step(c, json_string_value(json_array_get(commits, pick)), "midpoint",
			       NULL, &rec)))
			goto out;
	}
	if (first_bad >= 0) {
		rc = finish(c, "found", json_string_value(json_array_get(commits, first_bad)));
	} else {
		json_t *cand = json_array();

		for (int j = lo + 1; j <= hi; j++)
			json_array_append(cand, json_array_get(commits, j));
		json_object_set_new(c->res, "candidates", cand);
		rc = finish(c, "ambiguous", NULL);
	}
out:
	free(marks);
	return rc;
}

int bisect_run(const struct bisect_opts *o, json_t **result)
{
	struct ctx c = { .o = o, .t0 = monotonic_s() };
	const char *status;
	int rc;

	*result = NULL;
	c.tree = realpath(o->tree, NULL);
	if (!c.tree)
		return sb_err(ENOENT, "bisect: no such tree '%s'", o->tree);
	if ((rc = start(&c)))
		goto out;
	status = jstr(c.res, "status");
	/* A build or cell failure: each step's build or cell decides; no
	 * ends, no rule. */
	if (strcmp(status, "found") && strcmp(status, "ambiguous") &&
	    (by_outcome(o) || !(rc = ends(&c))) &&
	    !(rc = merge_base_first(&c)))
		rc = search(&c);
	if (rc == 1)
		rc = 0;
	if (!rc) {
		*result = c.res;
		c.res = NULL;
	}
out:
	if (rc == -EINTR) {
		json_object_set_new(c.res, "status", json_string("interrupted"));
		save(&c);
		sb_err(EINTR, "bisect interrupted: the %zu step(s) done are kept in '%s'; continue "
		       "with --resume", json_array_size(json_object_get(c.res, "steps")), o->dir);
	}
	json_decref(c.res);
	free(c.tree);
	free(c.json_path);
	return rc;
}

/* ---- the report ---- */

void bisect_print(const json_t *r, FILE *out)
{
	const json_t *fb = json_object_get(r, "first_bad"), *rule = json_object_get(r, "rule");
	const json_t *s, *tot = json_object_get(r, "totals");
	const char *status = jstr(r, "status");
	int build = !strcmp(jstr(r, "mode"), "build"), cells = !strcmp(jstr(r, "mode"), "cells");
	int outcome = build || cells; /* no SPRT columns: each step's outcome decided it */
	size_t i;

	if (!strcmp(status, "found"))
		fprintf(out, "first bad commit: %.12s (\"%s\")\nAuthor: %s\nDate:   %s\n\n",
			jstr(fb, "commit"), jstr(fb, "subject"), jstr(fb, "author"),
			jstr(fb, "date"));
	else if (!strcmp(status, "ambiguous"))
		fprintf(out, "first bad commit: one of %zu commits (skipped steps leave it "
			"ambiguous)\n\n", json_array_size(json_object_get(r, "candidates")));
	else
		fprintf(out, "bisection %s\n\n", status);
	if (build)
		fprintf(out, "swapbench bisected a build failure between\n  good %.12s (builds) and "
			"bad %.12s (does not build)", jstr(r, "good"), jstr(r, "bad"));
	else if (cells)
		fprintf(out, "swapbench bisected a failing cell on %s / %s between\n  good %.12s "
			"(cell ok) and bad %.12s (cell failed)",
			jstr(r, "topology"), jstr(r, "workload"), jstr(r, "good"), jstr(r, "bad"));
	else
		fprintf(out, "swapbench bisected %s on %s / %s between\n  good %.12s and bad %.12s",
			jstr(r, "metric"), jstr(r, "topology"), jstr(r, "workload"),
			jstr(r, "good"), jstr(r, "bad"));
	if (json_is_true(json_object_get(r, "rebased")))
		fprintf(out, "\n  (the branch was rebased: from their merge base %.12s)",
			jstr(r, "merge_base"));
	if (build)
		fprintf(out, "\nover %zu commits. Each step built its commit with the suite's "
			"config:\nbad when it does not build, good when it does.\n\n",
			json_array_size(json_object_get(r, "commits")));
	else if (cells)
		fprintf(out, "\nover %zu commits. Each step built its commit and ran the cell "
			"once:\nbad when it failed, good when it was ok; a step that does not "
			"build is skipped.\n\n", json_array_size(json_object_get(r, "commits")));
	else
		fprintf(out, "\nover %zu commits. Each step ran until Wald's SPRT decided between\n"
			"the good mean %.4g and the bad mean %.4g (sigma %.3g) with error rates\n"
			"alpha %.3g, beta %.3g, in %lld..%lld iterations (else skipped).\n\n",
			json_array_size(json_object_get(r, "commits")),
			json_number_value(json_object_get(rule, "mu_good")),
			json_number_value(json_object_get(rule, "mu_bad")),
			json_number_value(json_object_get(rule, "sigma")),
			json_number_value(json_object_get(rule, "alpha")),
			json_number_value(json_object_get(rule, "beta")),
			(long long)json_integer_value(json_object_get(rule, "min_n")),
			(long long)json_integer_value(json_object_get(rule, "max_n")));
	if (outcome)
		fprintf(out, "step commit       role        decision  why\n");
	else
		fprintf(out, "step commit       role        decision  n     mean      LLR  subject\n");
	json_array_foreach(json_object_get(r, "steps"), i, s) {
		char subj[18];

		snprintf(subj, sizeof(subj), "%s", jstr(s, "subject"));
		if (outcome) {
			fprintf(out, "%4lld %.12s %-11.11s %-9s %.40s\n",
				(long long)json_integer_value(json_object_get(s, "seq")),
				jstr(s, "commit"), jstr(s, "role"), jstr(s, "decision"),
				json_is_string(json_object_get(s, "reason")) ? jstr(s, "reason")
									     : jstr(s, "subject"));
			continue;
		}
		fprintf(out, "%4lld %.12s %-11.11s %-9s %2lld %8.4g %8.2f  %s\n",
			(long long)json_integer_value(json_object_get(s, "seq")), jstr(s, "commit"),
			jstr(s, "role"), jstr(s, "decision"),
			(long long)json_integer_value(json_object_get(s, "n")),
			json_number_value(json_object_get(s, "mean")),
			json_number_value(json_object_get(s, "llr")), subj);
	}
	/* What the compiler (or the failing cell) said at the first bad
	 * commit. */
	json_array_foreach(outcome ? json_object_get(r, "steps") : NULL, i, s) {
		const char *why = jstr(s, "reason");

		if (!strcmp(jstr(s, "commit"), jstr(fb, "commit")) &&
		    !strcmp(jstr(s, "decision"), "bad")) {
			const char *colon = strstr(why, ": ");

			if (build && !strncmp(why, "build failed: ", 14))
				fprintf(out, "\nits build:\n  %.76s\n", why + 14);
			else if (build || !colon)
				fprintf(out, "\nits %s:\n  %.76s\n", build ? "build" : "cell", why);
			else /* "ID STATUS: WHY" */
				fprintf(out, "\nits cell %.*s:\n  %.76s\n",
					colon - why > 66 ? 66 : (int)(colon - why), why, colon + 2);
			break;
		}
	}
	if (tot)
		fprintf(out, "\n%lld steps, %lld kernel builds, %lld cells, %.0f s\n",
			(long long)json_integer_value(json_object_get(tot, "steps")),
			(long long)json_integer_value(json_object_get(tot, "builds")),
			(long long)json_integer_value(json_object_get(tot, "cells")),
			json_number_value(json_object_get(tot, "seconds")));
}
