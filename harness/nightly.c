#define _GNU_SOURCE
#include "harness/nightly.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "harness/store.h"
#include "harness/bisect.h"
#include "harness/compare.h"
#include "common/err.h"
#include "common/fsutil.h"
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

static int git_run(const char *tree, const char *const *args, int timeout_s, char **out,
		   char **err_text)
{
	const char *argv[24] = { "git" };
	struct spawn_opts so = { .argv = argv, .timeout_ms = timeout_s * 1000, .capture = 1,
				 .merge_stderr = 1 };
	struct spawn_result r = { 0 };
	int i = 1, rc;

	if (tree) {
		argv[i++] = "-C";
		argv[i++] = tree;
	}
	for (int j = 0; args[j] && i < 23; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	if ((rc = spawn_run(&so, &r)))
		return rc;
	rc = r.timed_out ? -ETIMEDOUT : r.exit_code ? -EIO : 0;
	if (r.out)
		rstrip(r.out);
	if (rc && err_text)
		*err_text = xstrdup(r.out ?: "");
	if (!rc && out) {
		*out = r.out ?: xstrdup("");
		r.out = NULL;
	}
	spawn_result_release(&r);
	return rc;
}

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

static int reports(const struct nightly_config *c, struct history *h, const char *night_dir,
		   const json_t *night, const json_t *bisect)
{
	json_t *dump = NULL;
	int rc;

	if ((rc = history_dump(h, &dump)))
		return rc;
	rc = html_report_write(dump, night, bisect, c->reports);
	if (!rc) {
		char *p = xasprintf("%s/index.html", c->reports);

		fprintf(stderr, "nightly: report %s\n", p);
		free(p);
	}
	json_decref(dump);
	(void)night_dir;
	return rc;
}

/* A head that does not build is a regression of the branch: find the
 * commit that broke the build, from the newest night whose head built (a
 * build bisection: each step only builds). NULL when there is no such
 * night, bisection is off, or it failed (said in night.json). */
static json_t *bisect_build_failure(const struct nightly_config *c, struct history *h,
				    int64_t night_id, const char *head, const char *kernel,
				    const char *night_dir, json_t *night)
{
	json_t *last = c->bisect ? history_last_judged_night(h, night_id) : NULL, *bres = NULL;
	const char *good = json_string_value(json_object_get(last, "head"));
	char *bdir = xasprintf("%s/bisect", night_dir);
	struct bisect_opts bo = { .tree = c->tree, .suite = c->suite, .kernel = kernel,
				  .good = good, .bad = head, .dir = bdir, .db = h,
				  .night_id = night_id, .build_only = 1 };

	if (good && strcmp(good, head)) {
		fprintf(stderr, "nightly: bisecting the build failure between %.12s (night %lld "
			"built it) and %.12s\n", good,
			(long long)json_integer_value(json_object_get(last, "id")), head);
		if (bisect_run(&bo, &bres)) {
			log_err("%s", sb_lasterr());
			json_object_set_new(night, "bisect_error", json_string(sb_lasterr()));
		}
	}
	json_decref(last);
	free(bdir);
	return bres;
}

int nightly_run(const struct nightly_config *c, int json_out)
{
	struct history *h = NULL;
	int lock = -1, code = EXIT_OK, rc, regressions = 0;
	char *head = NULL, *night_dir = NULL, *spec_path = NULL, *run_dir = NULL;
	json_t *night = NULL, *verdicts = json_array(), *good = NULL, *summary = NULL;
	json_t *bres = NULL, *info = NULL;
	int64_t night_id = 0, run_id = 0;
	const char *kernel = c->kernel;
	int build_failed = 0;
	struct spec s;

	spec_init(&s);
	if ((rc = mkdir_p(c->results, 0755)) || (rc = lock_db(c->database, &lock))) {
		log_err("%s", sb_lasterr());
		code = rc == -EBUSY ? EXIT_SKIPPED : EXIT_USAGE;
		goto out;
	}
	if ((rc = history_open(c->database, 1, &h))) {
		log_err("%s", sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	history_mark_interrupted(h);
	if ((rc = fetch(c, &head))) {
		log_err("%s", sb_lasterr());
		code = EXIT_CELLS_FAILED;
		goto out;
	}
	{
		json_t *seen = history_night_of_head(h, head);

		if (seen) {
			printf("%s %.12s was judged on night %lld (%s, verdict %s): nothing to do\n",
			       c->branch, head, (long long)json_integer_value(json_object_get(seen, "id")),
			       json_string_value(json_object_get(seen, "started")),
			       json_string_value(json_object_get(seen, "verdict")));
			json_decref(seen);
			goto out;
		}
	}
	info = git_commit_info(c->tree, head);
	{
		char stamp[32];
		time_t t = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&t));
		night_dir = xasprintf("%s/%s-%.12s", c->results, stamp, head);
		for (int i = 2; path_exists(night_dir); i++) {
			free(night_dir);
			night_dir = xasprintf("%s/%s-%.12s-%d", c->results, stamp, head, i);
		}
	}
	spec_path = xasprintf("%s/suite.json", night_dir);
	run_dir = xasprintf("%s/run", night_dir);
	if ((rc = mkdir_p(night_dir, 0755)) ||
	    (rc = bisect_suite_at(c->suite, c->kernel, c->tree, head, NULL, NULL, spec_path)) ||
	    (rc = spec_load(spec_path, &s))) {
		log_err("%s", sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; !kernel && i < s.nkernels; i++)
		if (s.kernels[i].build)
			kernel = s.kernels[i].name;
	{
		char *abs = realpath(night_dir, NULL);

		if (history_begin(h) ||
		    history_night_start(h, c->tree_url ?: c->tree, c->branch, head, abs, &night_id) ||
		    (info && history_add_commit(h, head,
						json_string_value(json_object_get(info, "subject")),
						json_string_value(json_object_get(info, "author")),
						json_string_value(json_object_get(info, "date")))) ||
		    history_commit(h)) {
			log_err("%s", sb_lasterr());
			history_rollback(h);
			free(abs);
			code = EXIT_USAGE;
			goto out;
		}
		free(abs);
	}
	night = json_pack("{s:i,s:I,s:s,s:s,s:s,s:s,s:O?,s:O?,s:s}", "schema_version", 1, "id",
			  (json_int_t)night_id, "name", c->name, "tree", c->tree_url ?: c->tree,
			  "branch", c->branch, "head", head, "subject",
			  json_object_get(info, "subject"), "author", json_object_get(info, "author"),
			  "kernel", kernel);
	{
		char now[32];
		time_t t = time(NULL);

		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		json_object_set_new(night, "started", json_string(now));
	}
	fprintf(stderr, "nightly: night %lld: %s at %.12s (%s)\n", (long long)night_id, c->branch,
		head, json_string_value(json_object_get(info, "subject")) ?: "");
	/* Build first: a head that does not build cannot be judged. */
	for (size_t i = 0; i < s.nkernels; i++) {
		struct kernel k;
		enum kbuild_state st;
		struct kbuild_opts ko = { .tty = isatty(2), .label = "nightly build" };

		if (!s.kernels[i].build || strcmp(s.kernels[i].name, kernel))
			continue;
		if (kbuild_get(&s.kernels[i], &ko, &k, &st)) {
			char *why = xstrdup(sb_lasterr());

			log_err("%s", why);
			json_object_set_new(night, "error", json_string(why));
			free(why);
			code = EXIT_CELLS_FAILED;
			build_failed = 1;
			bres = bisect_build_failure(c, h, night_id, head, kernel, night_dir, night);
			goto finish;
		}
		kernel_release(&k);
	}
	{
		struct run_opts ro = { .spec_path = spec_path, .out_dir = run_dir,
				       .iterations = c->iterations };
		int saved = dup(1), rcode;

		/* stdout is the night's report; the runner's lines go to stderr. */
		fflush(stdout);
		if (saved >= 0)
			dup2(2, 1);
		rcode = runner_run(&ro);
		fflush(stdout);
		if (saved >= 0) {
			dup2(saved, 1);
			close(saved);
		}
		if (!path_exists(run_dir)) {
			json_object_set_new(night, "error", json_string("the run did not start"));
			code = EXIT_CELLS_FAILED;
			goto finish;
		}
		if (rcode == EXIT_CELLS_FAILED)
			json_object_set_new(night, "error",
					    json_string("some cells failed (crash, timeout or "
							"failure): see the run"));
	}
	if (history_begin(h) || history_add_run(h, run_dir, "night", night_id, head, &run_id) ||
	    summary_load(run_dir, &summary)) {
		log_err("%s", sb_lasterr());
		history_rollback(h);
		code = EXIT_CELLS_FAILED;
		goto finish;
	}
	regressions = nightly_judge(c, h, night_id, run_id, kernel, summary, verdicts, &good);
	if (history_commit(h)) {
		log_err("%s", sb_lasterr());
		history_rollback(h);
		code = EXIT_CELLS_FAILED;
		goto finish;
	}
	json_object_set(night, "verdicts", verdicts);
	json_object_set(night, "baseline_nights", good);
	if (json_object_get(night, "error"))
		code = EXIT_CELLS_FAILED;
	else if (regressions)
		code = EXIT_REGRESSION;
	if (regressions && c->bisect && json_array_size(good)) {
		const json_t *w = worst(verdicts);
		const char *good_head = json_string_value(json_object_get(json_array_get(good, 0),
									  "head"));
		char *bdir = xasprintf("%s/bisect", night_dir);
		json_t *gv = history_night_values(h, good, kernel,
						  json_string_value(json_object_get(w, "topology")),
						  json_string_value(json_object_get(w, "workload")),
						  json_string_value(json_object_get(w, "metric")));
		json_t *bv = history_run_values(h, run_id, kernel,
						json_string_value(json_object_get(w, "topology")),
						json_string_value(json_object_get(w, "workload")),
						json_string_value(json_object_get(w, "metric")));
		struct bisect_opts bo = {
			.tree = c->tree, .suite = c->suite, .kernel = kernel, .good = good_head,
			.bad = head, .topology = json_string_value(json_object_get(w, "topology")),
			.workload = json_string_value(json_object_get(w, "workload")),
			.metric = json_string_value(json_object_get(w, "metric")), .dir = bdir,
			.alpha = c->alpha, .beta = c->beta, .min_n = c->min_n, .max_n = c->max_n,
			.batch = c->batch, .ends_n = 5, .good_values = gv, .bad_values = bv, .db = h,
			.night_id = night_id,
		};

		fprintf(stderr, "nightly: bisecting %s %s/%s between %.12s and %.12s\n",
			bo.metric, bo.topology, bo.workload, good_head, head);
		rc = bisect_run(&bo, &bres);
		if (rc) {
			log_err("%s", sb_lasterr());
			json_object_set_new(night, "bisect_error", json_string(sb_lasterr()));
		}
		json_decref(gv);
		json_decref(bv);
		free(bdir);
	}
finish:
	{
		const char *verdict = code == EXIT_CELLS_FAILED ? "unjudged"
				      : regressions		   ? "regression"
				      : json_array_size(good)	   ? "good"
								   : "baseline";
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		char *np = xasprintf("%s/night.json", night_dir);
		char *tp = xasprintf("%s/report.txt", night_dir);

		fprintf(f, "swapbench nightly %s: %s at %.12s (\"%s\")\nnight %lld: %s\n\n", c->name,
			c->branch, head, json_string_value(json_object_get(info, "subject")) ?: "",
			(long long)night_id, verdict);
		if (json_object_get(night, "error"))
			fprintf(f, "error: %s\n\n",
				json_string_value(json_object_get(night, "error")));
		if (build_failed)
			fprintf(f, "REGRESSION of the branch: %s does not build at %.12s\n\n",
				c->branch, head);
		if (json_array_size(verdicts)) {
			fprintf(f, "against the pooled last %zu good night(s):\n",
				json_array_size(good));
			print_verdicts(verdicts, f);
		}
		if (bres) {
			fputc('\n', f);
			bisect_print(bres, f);
		}
		fclose(f);
		json_object_set_new(night, "status", json_string(code == EXIT_CELLS_FAILED
								 ? "failed" : "judged"));
		json_object_set_new(night, "verdict", json_string(verdict));
		json_object_set_new(night, "exit_code", json_integer(code));
		if (build_failed)
			json_object_set_new(night, "failure", json_string("build"));
		json_object_set_new(night, "report", json_string(text));
		if (bres)
			json_object_set_new(night, "bisect",
					    json_pack("{s:O,s:O?}", "status",
						      json_object_get(bres, "status"), "first_bad",
						      json_object_get(bres, "first_bad")));
		store_write_json(np, night);
		write_file_atomic(tp, text, len);
		if (history_begin(h) ||
		    history_night_finish(h, night_id, code == EXIT_CELLS_FAILED ? "failed" : "judged",
					 verdict, code, text) ||
		    history_commit(h)) {
			log_err("%s", sb_lasterr());
			history_rollback(h);
		}
		/* Keep the judged head reachable: mm-unstable is rebased daily,
		 * and tomorrow's merge base is computed from it. */
		{
			char *ref = xasprintf("refs/swapbench/nights/%lld", (long long)night_id);
			const char *args[] = { "update-ref", ref, head, NULL };

			git_run(c->tree, args, 60, NULL, NULL);
			free(ref);
		}
		if (reports(c, h, night_dir, night, bres))
			log_warn("report: %s", sb_lasterr());
		if (json_out) {
			json_dumpf(night, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
			fputc('\n', stdout);
		} else {
			fputs(text, stdout);
		}
		free(text);
		free(np);
		free(tp);
	}
out:
	json_decref(night);
	json_decref(verdicts);
	json_decref(good);
	json_decref(summary);
	json_decref(bres);
	json_decref(info);
	spec_release(&s);
	history_close(h);
	if (lock >= 0)
		close(lock);
	free(head);
	free(night_dir);
	free(spec_path);
	free(run_dir);
	return code;
}
