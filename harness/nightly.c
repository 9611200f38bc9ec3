#define _GNU_SOURCE
#include "harness/nightly.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "harness/store.h"
#include "harness/bisect.h"
#include "harness/compare.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonget.h"
#include "harness/history.h"
#include "common/jsonloc.h"
#include "harness/kernel-build.h"
#include "harness/kernel.h"
#include "common/log.h"
#include "common/process.h"
#include "harness/report-html.h"
#include "harness/result.h"
#include "harness/runner.h"
#include "harness/spec.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* ---- one night ---- */

/* git fetch; the branch head is kept under refs/swapbench/ so nothing of
 * the user's refs moves. */
static int fetch(const struct nightly_config *c, char **head)
{
	char *ref = xasprintf("+refs/heads/%s:refs/swapbench/nightly/%s", c->branch, c->branch);
	char *local = xasprintf("refs/swapbench/nightly/%s^{commit}", c->branch), *err = NULL;
	int rc;

	if (c->tree_url && !path_exists(c->tree)) {
		const char *args[] = { "clone", "--bare", "--no-tags", c->tree_url, c->tree, NULL };

		fprintf(stderr, "nightly: cloning %s into %s\n", c->tree_url, c->tree);
		if ((rc = git_run(NULL, args, c->fetch_timeout_s, NULL, &err))) {
			rc = sb_err(EIO, "git clone %s failed: %s", c->tree_url, err ?: "");
			goto out;
		}
	}
	{
		const char *remote = c->tree_url && !strcmp(c->remote, "origin") ? c->tree_url
										 : c->remote;
		const char *args[] = { "fetch", "--no-tags", remote, ref, NULL };

		fprintf(stderr, "nightly: git fetch %s %s\n", remote, c->branch);
		if ((rc = git_run(c->tree, args, c->fetch_timeout_s, NULL, &err))) {
			rc = sb_err(EIO, "git fetch %s %s in '%s' failed%s: %s", remote, c->branch,
				    c->tree, rc == -ETIMEDOUT ? " (timed out)" : "", err ?: "");
			goto out;
		}
	}
	{
		const char *args[] = { "rev-parse", "--verify", local, NULL };

		if ((rc = git_run(c->tree, args, 60, head, &err)))
			rc = sb_err(EIO, "'%s': cannot resolve the fetched %s: %s", c->tree,
				    c->branch, err ?: "");
	}
out:
	free(err);
	free(ref);
	free(local);
	return rc;
}

static int lock_db(const char *db, int *fd)
{
	char *p = xasprintf("%s.lock", db);
	int rc = 0;

	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		rc = sb_err(errno, "cannot create the lock '%s': %s", p, strerror(errno));
	else if (flock(*fd, LOCK_EX | LOCK_NB)) {
		rc = sb_err(EBUSY, "another nightly is running on '%s' (lock '%s')", db, p);
		close(*fd);
		*fd = -1;
	}
	free(p);
	return rc;
}

int nightly_judge(const struct nightly_config *c, struct history *h, long long night,
		  long long run_id, const char *kernel, const json_t *summary, json_t *verdicts,
		  json_t **good_nights)
{
	json_t *row;
	size_t i;
	int regressions = 0;

	*good_nights = history_good_nights(h, c->baseline_nights, night);
	json_array_foreach(json_object_get(summary, "rows"), i, row) {
		const char *k = json_string_value(json_object_get(row, "kernel"));
		const char *t = json_string_value(json_object_get(row, "topology"));
		const char *w = json_string_value(json_object_get(row, "workload"));
		const char *m = json_string_value(json_object_get(row, "metric"));
		int hb = !strcmp(json_string_value(json_object_get(row, "better")) ?: "", "higher");
		json_t *base, *now, *bs = NULL, *ns = NULL, *ch = NULL, *v;
		double thr = nightly_threshold(c, w, m);

		if (strcmp(k, kernel))
			continue;
		base = history_night_values(h, *good_nights, k, t, w, m);
		now = history_run_values(h, run_id, k, t, w, m);
		v = json_pack("{s:s,s:s,s:s,s:s,s:O,s:O,s:I,s:I,s:f}", "kernel", k, "topology", t,
			      "workload", w, "metric", m, "unit", json_object_get(row, "unit"),
			      "better", json_object_get(row, "better"), "n_base",
			      (json_int_t)json_array_size(base), "n_new",
			      (json_int_t)json_array_size(now), "threshold", thr);
		if (!json_array_size(base)) {
			/* Nothing to compare with: tonight's mean is the baseline. */
			ns = compare_stat_json(now, hb);
			json_object_set_new(v, "verdict", json_string("baseline"));
			if (json_is_object(ns) && json_object_get(ns, "mean"))
				json_object_set(v, "new_mean", json_object_get(ns, "mean"));
		} else {
			bs = compare_stat_json(base, hb);
			ns = compare_stat_json(now, hb);
			if (json_is_object(bs) && json_is_object(ns))
				ch = compare_change_json(bs, ns, hb);
			if (ch) {
				double pct = json_number_value(json_object_get(ch, "pct_change"));
				const char *verd = json_string_value(json_object_get(ch, "verdict"));
				int reg = !strcmp(verd, "worse") && -pct >= thr;

				json_object_update(v, ch);
				json_object_set_new(v, "base_mean", json_object_get(bs, "mean")
						    ? json_incref(json_object_get(bs, "mean")) : json_null());
				json_object_set_new(v, "new_mean", json_object_get(ns, "mean")
						    ? json_incref(json_object_get(ns, "mean")) : json_null());
				json_object_set_new(v, "regression", json_boolean(reg));
				regressions += reg;
			} else {
				json_object_set_new(v, "verdict", json_string("too few runs"));
			}
		}
		history_add_verdict(h, night, v);
		json_array_append_new(verdicts, v);
		json_decref(base);
		json_decref(now);
		json_decref(bs);
		json_decref(ns);
		json_decref(ch);
	}
	return regressions;
}

static void print_verdicts(const json_t *verdicts, FILE *out)
{
	const json_t *v;
	size_t i;

	fprintf(out, "%-10s %-12s %-24s %9s %9s %8s %7s  %s\n", "topology", "workload", "metric",
		"base", "tonight", "change", "p", "verdict");
	json_array_foreach(verdicts, i, v) {
		json_t *p = json_object_get(v, "welch_p");
		char pct[16] = "", pv[16] = "", bm[16] = "", nm[16] = "";

		if (json_is_number(json_object_get(v, "pct_change")))
			snprintf(pct, sizeof(pct), "%+.1f%%",
				 json_number_value(json_object_get(v, "pct_change")));
		if (json_is_number(p))
			snprintf(pv, sizeof(pv), "%.3f", json_number_value(p));
		/* A baseline night has no base; a missing mean is blank, not 0. */
		if (json_is_number(json_object_get(v, "base_mean")))
			snprintf(bm, sizeof(bm), "%.4g",
				 json_number_value(json_object_get(v, "base_mean")));
		if (json_is_number(json_object_get(v, "new_mean")))
			snprintf(nm, sizeof(nm), "%.4g",
				 json_number_value(json_object_get(v, "new_mean")));
		fprintf(out, "%-10.10s %-12.12s %-24.24s %9s %9s %8s %7s  %s%s\n",
			json_string_value(json_object_get(v, "topology")),
			json_string_value(json_object_get(v, "workload")),
			json_string_value(json_object_get(v, "metric")), bm, nm, pct, pv,
			json_string_value(json_object_get(v, "verdict")),
			json_is_true(json_object_get(v, "regression")) ? " REGRESSION" : "");
	}
}

/* The regression to bisect: the largest beyond its threshold. */
static const json_t *worst(const json_t *verdicts)
{
	const json_t *v, *w = NULL;
	size_t i;

	json_array_foreach(verdicts, i, v)
		if (json_is_true(json_object_get(v, "regression")) &&
		    (!w || json_number_value(json_object_get(v, "pct_change")) <
				   json_number_value(json_object_get(w, "pct_change"))))
			w = v;
	return w;
}

/* One night, from the fetch to the report: the phases of nightly_run. */
struct night {
	const struct nightly_config *c;
	struct history *h;
	int lock;
	char *head, *dir, *spec_path, *run_dir;
	const char *kernel;  /* the suite's kernel that follows the branch */
	struct spec s;
	json_t *info;        /* the head's commit, subject, author, date */
	json_t *night;       /* night.json */
	json_t *verdicts, *good, *summary, *bres;
	json_t *failed_cell; /* summary.json's first failed cell of the branch kernel */
	char *failure;       /* what it came to (bisect_cell_failure) */
	int64_t id, run_id;
	int regressions, build_failed, code;
};

static void night_html(struct night *n)
{
	json_t *dump = NULL;
	char *p;

	if (history_dump(n->h, &dump) || html_report_write(dump, n->night, n->bres, n->c->reports)) {
		log_warn("report: %s", sb_lasterr());
	} else {
		p = xasprintf("%s/index.html", n->c->reports);
		fprintf(stderr, "nightly: report %s\n", p);
		free(p);
	}
	json_decref(dump);
}

/* The lock, the database, the fetch. 0, or -1 with n->code set. */
static int night_open(struct night *n)
{
	const struct nightly_config *c = n->c;
	int rc;

	if ((rc = mkdir_p(c->results, 0755)) || (rc = lock_db(c->database, &n->lock))) {
		n->code = rc == -EBUSY ? EXIT_SKIPPED : EXIT_USAGE;
	} else if (history_open(c->database, 1, &n->h)) {
		n->code = EXIT_USAGE;
	} else {
		history_mark_interrupted(n->h);
		if (!fetch(c, &n->head))
			return 0;
		n->code = EXIT_CELLS_FAILED;
	}
	log_err("%s", sb_lasterr());
	return -1;
}

/* 1 when the head needs nothing tonight: judged already, or its night
 * failed and was bisected already (nothing more to learn from spending the
 * builds and cells again: the same exit code as that night). */
static int night_seen(struct night *n)
{
	json_t *seen = history_night_of_head(n->h, n->head);

	if (seen) {
		printf("%s %.12s was judged on night %lld (%s, verdict %s): nothing to do\n",
		       n->c->branch, n->head, (long long)json_integer_value(json_object_get(seen, "id")),
		       json_string_value(json_object_get(seen, "started")),
		       json_string_value(json_object_get(seen, "verdict")));
	} else if ((seen = history_bisected_failure(n->h, n->head))) {
		const char *fb = json_string_value(json_object_get(seen, "first_bad"));

		printf("%s %.12s failed on night %lld (%s): already bisected: %.12s (\"%s\"); "
		       "nothing to do\n", n->c->branch, n->head,
		       (long long)json_integer_value(json_object_get(seen, "id")),
		       json_string_value(json_object_get(seen, "started")), fb ? fb : "ambiguous",
		       json_string_value(json_object_get(seen, "subject")) ?: "");
		n->code = (int)json_integer_value(json_object_get(seen, "exit_code"));
	}
	json_decref(seen);
	return seen != NULL;
}

/* The night's directory, its suite at the head, its row and night.json.
 * 0, or -1 with n->code set. */
static int night_start(struct night *n)
{
	const struct nightly_config *c = n->c;
	char stamp[32], *abs, *now;
	time_t t = time(NULL);

	n->info = git_commit_info(c->tree, n->head);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&t));
	n->dir = xasprintf("%s/%s-%.12s", c->results, stamp, n->head);
	for (int i = 2; path_exists(n->dir); i++) {
		free(n->dir);
		n->dir = xasprintf("%s/%s-%.12s-%d", c->results, stamp, n->head, i);
	}
	n->spec_path = xasprintf("%s/suite.json", n->dir);
	n->run_dir = xasprintf("%s/run", n->dir);
	if (mkdir_p(n->dir, 0755) ||
	    bisect_suite_at(c->suite, c->kernel, c->tree, n->head, NULL, NULL, n->spec_path) ||
	    spec_load(n->spec_path, &n->s)) {
		log_err("%s", sb_lasterr());
		n->code = EXIT_USAGE;
		return -1;
	}
	for (size_t i = 0; !n->kernel && i < n->s.nkernels; i++)
		if (n->s.kernels[i].build)
			n->kernel = n->s.kernels[i].name;
	abs = realpath(n->dir, NULL);
	if (history_begin(n->h) ||
	    history_night_start(n->h, c->tree_url ?: c->tree, c->branch, n->head, abs, &n->id) ||
	    (n->info && history_add_commit(n->h, n->head, jstr(n->info, "subject"),
					   jstr(n->info, "author"), jstr(n->info, "date"))) ||
	    history_commit(n->h)) {
		log_err("%s", sb_lasterr());
		history_rollback(n->h);
		free(abs);
		n->code = EXIT_USAGE;
		return -1;
	}
	free(abs);
	now = iso_now();
	n->night = json_pack("{s:i,s:I,s:s,s:s,s:s,s:s,s:O?,s:O?,s:s,s:s}", "schema_version", 1,
			     "id", (json_int_t)n->id, "name", c->name, "tree",
			     c->tree_url ?: c->tree, "branch", c->branch, "head", n->head,
			     "subject", json_object_get(n->info, "subject"), "author",
			     json_object_get(n->info, "author"), "kernel", n->kernel, "started",
			     now);
	free(now);
	fprintf(stderr, "nightly: night %lld: %s at %.12s (%s)\n", (long long)n->id, c->branch,
		n->head, jstr(n->info, "subject"));
	return 0;
}

/* A head that does not build, or whose kernel fails a cell (a panic at
 * boot, a crash, a hang), is a regression of the branch: find the commit
 * that broke it, from the newest judged night (its head built and its cells
 * ran): a build bisection (each step only builds) or a cell bisection (each
 * step runs the failed cell once). Nothing when there is no such night or
 * bisection is off; a failed bisection is said in night.json. */
static void night_bisect_failure(struct night *n)
{
	const struct nightly_config *c = n->c;
	json_t *last = c->bisect ? history_last_judged_night(n->h, n->id) : NULL;
	const char *good = json_string_value(json_object_get(last, "head"));
	char *bdir = xasprintf("%s/bisect", n->dir);
	struct bisect_opts bo = { .tree = c->tree, .suite = c->suite, .kernel = n->kernel,
				  .good = good, .bad = n->head, .dir = bdir, .db = n->h,
				  .night_id = n->id, .build_only = !n->failed_cell,
				  .cells_only = !!n->failed_cell };

	if (n->failed_cell) {
		bo.topology = jstr(n->failed_cell, "topology");
		bo.workload = jstr(n->failed_cell, "workload");
	}
	if (good && strcmp(good, n->head)) {
		fprintf(stderr, "nightly: bisecting the %s failure between %.12s (night %lld "
			"was judged) and %.12s\n", n->failed_cell ? "cell" : "build", good,
			(long long)json_integer_value(json_object_get(last, "id")), n->head);
		if (bisect_run(&bo, &n->bres)) {
			log_err("%s", sb_lasterr());
			json_object_set_new(n->night, "bisect_error", json_string(sb_lasterr()));
		}
	}
	json_decref(last);
	free(bdir);
}

/* Build the head first: one that does not build cannot be judged. Its log
 * is kept in the night's directory (the work tree's is the next build's).
 * 0, or -1 when it did not build (bisected). */
static int night_build(struct night *n)
{
	char *log = xasprintf("%s/build.log", n->dir);
	int rc = 0;

	for (size_t i = 0; !rc && i < n->s.nkernels; i++) {
		struct kernel k;
		enum kbuild_state st;
		struct kbuild_opts ko = { .tty = isatty(2), .label = "nightly build", .log = log };

		if (!n->s.kernels[i].build || strcmp(n->s.kernels[i].name, n->kernel))
			continue;
		if (!(rc = kbuild_get(&n->s.kernels[i], &ko, &k, &st))) {
			kernel_release(&k);
			continue;
		}
		log_err("%s", sb_lasterr());
		json_object_set_new(n->night, "error", json_string(sb_lasterr()));
		json_object_set_new(n->night, "build_log", json_string(log));
		n->code = EXIT_CELLS_FAILED;
		n->build_failed = 1;
		night_bisect_failure(n);
		rc = -1;
	}
	free(log);
	return rc;
}

/* The branch kernel's first cell that failed (crashed, timed out,
 * failed, invalid) in a summary, or NULL. A reference kernel's failure is
 * not the branch's. */
static json_t *branch_failed_cell(const json_t *summary, const char *kernel)
{
	json_t *cell;
	size_t i;

	json_array_foreach(json_object_get(summary, "cells"), i, cell) {
		const char *st = jstr(cell, "status");

		if (!strcmp(jstr(cell, "kernel"), kernel) && strcmp(st, "ok") &&
		    strcmp(st, "skipped") && strcmp(st, "interrupted"))
			return json_incref(cell);
	}
	return NULL;
}

/* Run the suite, index the run, judge it against the good nights; a
 * failing cell of the branch kernel is bisected. 0, or -1 when there is
 * nothing to judge (n->code set). */
static int night_run_judge(struct night *n)
{
	struct run_opts ro = { .spec_path = n->spec_path, .out_dir = n->run_dir,
			       .iterations = n->c->iterations };
	int rcode = run_on_stderr(&ro);

	if (!path_exists(n->run_dir)) {
		json_object_set_new(n->night, "error", json_string("the run did not start"));
		n->code = EXIT_CELLS_FAILED;
		return -1;
	}
	if (rcode == EXIT_CELLS_FAILED)
		json_object_set_new(n->night, "error",
				    json_string("some cells failed (crash, timeout or failure): "
						"see the run"));
	if (history_begin(n->h) ||
	    history_add_run(n->h, n->run_dir, "night", n->id, n->head, &n->run_id) ||
	    summary_load(n->run_dir, &n->summary)) {
		log_err("%s", sb_lasterr());
		history_rollback(n->h);
		n->code = EXIT_CELLS_FAILED;
		return -1;
	}
	n->regressions = nightly_judge(n->c, n->h, n->id, n->run_id, n->kernel, n->summary,
				       n->verdicts, &n->good);
	if (history_commit(n->h)) {
		log_err("%s", sb_lasterr());
		history_rollback(n->h);
		n->code = EXIT_CELLS_FAILED;
		return -1;
	}
	json_object_set(n->night, "verdicts", n->verdicts);
	json_object_set(n->night, "baseline_nights", n->good);
	if (json_object_get(n->night, "error"))
		n->code = EXIT_CELLS_FAILED;
	else if (n->regressions)
		n->code = EXIT_REGRESSION;
	if ((n->failed_cell = branch_failed_cell(n->summary, n->kernel))) {
		n->failure = bisect_cell_failure(n->run_dir, n->failed_cell);
		json_object_set_new(n->night, "failed_cell", json_string(n->failure));
		n->code = EXIT_CELLS_FAILED;
		night_bisect_failure(n);
	}
	return 0;
}

/* Bisect the worst regression between the newest good night and tonight,
 * their values being the ends' samples. */
static void night_bisect_regression(struct night *n)
{
	const struct nightly_config *c = n->c;
	const json_t *w = worst(n->verdicts);
	const char *good_head = jstr(json_array_get(n->good, 0), "head");
	char *bdir = xasprintf("%s/bisect", n->dir);
	struct bisect_opts bo = {
		.tree = c->tree, .suite = c->suite, .kernel = n->kernel, .good = good_head,
		.bad = n->head, .topology = jstr(w, "topology"), .workload = jstr(w, "workload"),
		.metric = jstr(w, "metric"), .dir = bdir, .alpha = c->alpha, .beta = c->beta,
		.min_n = c->min_n, .max_n = c->max_n, .batch = c->batch, .ends_n = 5,
		.db = n->h, .night_id = n->id,
	};

	bo.good_values = history_night_values(n->h, n->good, n->kernel, bo.topology,
					      bo.workload, bo.metric);
	bo.bad_values = history_run_values(n->h, n->run_id, n->kernel, bo.topology, bo.workload,
					   bo.metric);
	fprintf(stderr, "nightly: bisecting %s %s/%s between %.12s and %.12s\n", bo.metric,
		bo.topology, bo.workload, good_head, n->head);
	if (bisect_run(&bo, &n->bres)) {
		log_err("%s", sb_lasterr());
		json_object_set_new(n->night, "bisect_error", json_string(sb_lasterr()));
	}
	json_decref(bo.good_values);
	json_decref(bo.bad_values);
	free(bdir);
}

/* The night's text report. */
static char *night_text(const struct night *n, const char *verdict, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	fprintf(f, "swapbench nightly %s: %s at %.12s (\"%s\")\nnight %lld: %s\n\n", n->c->name,
		n->c->branch, n->head, jstr(n->info, "subject"), (long long)n->id, verdict);
	if (json_object_get(n->night, "error"))
		fprintf(f, "error: %s\n\n", jstr(n->night, "error"));
	if (n->build_failed)
		fprintf(f, "REGRESSION of the branch: %s does not build at %.12s (log: %s)\n\n",
			n->c->branch, n->head, jstr(n->night, "build_log"));
	if (n->failed_cell)
		fprintf(f, "REGRESSION of the branch: a cell of %s fails at %.12s:\n  %s\n\n",
			n->c->branch, n->head, n->failure);
	if (json_array_size(n->verdicts)) {
		fprintf(f, "against the pooled last %zu good night(s):\n",
			json_array_size(n->good));
		print_verdicts(n->verdicts, f);
	}
	if (n->bres) {
		fputc('\n', f);
		bisect_print(n->bres, f);
	}
	fclose(f);
	return text;
}

/* Whatever happened: night.json, report.txt, the night's row, a ref that
 * keeps the head, the HTML report, the text (or JSON) on stdout. */
static void night_finish(struct night *n, int json_out)
{
	int failed = n->code == EXIT_CELLS_FAILED;
	const char *verdict = failed ? "unjudged" : n->regressions ? "regression"
					    : json_array_size(n->good) ? "good" : "baseline";
	size_t len = 0;
	char *text = night_text(n, verdict, &len);
	char *np = xasprintf("%s/night.json", n->dir), *tp = xasprintf("%s/report.txt", n->dir);
	char *ref = xasprintf("refs/swapbench/nights/%lld", (long long)n->id);
	const char *args[] = { "update-ref", ref, n->head, NULL };

	json_object_set_new(n->night, "status", json_string(failed ? "failed" : "judged"));
	json_object_set_new(n->night, "verdict", json_string(verdict));
	json_object_set_new(n->night, "exit_code", json_integer(n->code));
	if (n->build_failed || n->failed_cell)
		json_object_set_new(n->night, "failure",
				    json_string(n->build_failed ? "build" : "cells"));
	json_object_set_new(n->night, "report", json_string(text));
	if (n->bres)
		json_object_set_new(n->night, "bisect",
				    json_pack("{s:O,s:O?}", "status",
					      json_object_get(n->bres, "status"), "first_bad",
					      json_object_get(n->bres, "first_bad")));
	store_write_json(np, n->night);
	write_file_atomic(tp, text, len);
	if (history_begin(n->h) ||
	    history_night_finish(n->h, n->id, failed ? "failed" : "judged", verdict, n->code,
				 text) ||
	    history_commit(n->h)) {
		log_err("%s", sb_lasterr());
		history_rollback(n->h);
	}
	/* Keep the judged head reachable: mm-unstable is rebased daily, and
	 * tomorrow's merge base is computed from it. */
	git_run(n->c->tree, args, 60, NULL, NULL);
	night_html(n);
	if (json_out) {
		json_dumpf(n->night, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		fputs(text, stdout);
	}
	free(text);
	free(np);
	free(tp);
	free(ref);
}

int nightly_run(const struct nightly_config *c, int json_out)
{
	struct night n = { .c = c, .lock = -1, .kernel = c->kernel, .verdicts = json_array() };

	spec_init(&n.s);
	if (!night_open(&n) && !night_seen(&n) && !night_start(&n)) {
		if (!night_build(&n) && !night_run_judge(&n) && !n.failed_cell &&
		    n.regressions && c->bisect && json_array_size(n.good))
			night_bisect_regression(&n);
		night_finish(&n, json_out);
	}
	json_decref(n.night);
	json_decref(n.verdicts);
	json_decref(n.good);
	json_decref(n.summary);
	json_decref(n.bres);
	json_decref(n.failed_cell);
	free(n.failure);
	json_decref(n.info);
	spec_release(&n.s);
	history_close(n.h);
	if (n.lock >= 0)
		close(n.lock);
	free(n.head);
	free(n.dir);
	free(n.spec_path);
	free(n.run_dir);
	return n.code;
}
