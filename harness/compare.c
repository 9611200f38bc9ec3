#define _GNU_SOURCE
#include "harness/compare.h"
#include "harness/compare-power.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/result.h"
#include "harness/store.h"
#include "common/stats.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double compare_pct_better(double base, double cand, int higher_better)
{
	if (base == 0)
		return cand == 0 ? 0 : (higher_better ? 1 : -1) * INFINITY;
	return higher_better ? cand / base * 100 - 100 : 100 - cand / base * 100;
}

struct column {
	char *label;
	int run;            /* index into runs */
	const char *kernel; /* kernel name in that run */
};

struct run_data {
	const char *dir;
	json_t *run, *summary;
	/* "kernel\x1ftopology\x1fworkload" -> {"metrics": {name: row},
	 * "counters": {name: row}, "order": [metric names]} */
	json_t *index;
};

json_t *compare_stat_json(json_t *values, int higher_better)
{
	size_t n = json_array_size(values);
	double *v = calloc(n ? n : 1, sizeof(*v));
	struct stats_summary st;
	json_t *o;

	for (size_t i = 0; i < n; i++)
		v[i] = json_number_value(json_array_get(values, i));
	if (stats_summarize(v, n, &st)) {
		free(v);
		return json_null();
	}
	o = json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:[f,f],s:O}", "n", (json_int_t)n, "mean",
		      st.mean, "stddev", st.stddev, "cv", st.cv, "min", st.min, "max", st.max,
		      "median", st.median, "ci95", st.ci95_lo, st.ci95_hi, "values", values);
	if (higher_better) {
		double h = stats_hmean(v, n);

		if (isfinite(h))
			json_object_set_new(o, "hmean", json_real(h));
	}
	free(v);
	return o;
}

static double jnum(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* The headline value: Hmean for rates (as mmtests), else the mean. */
static double headline(const json_t *st)
{
	json_t *h = json_object_get(st, "hmean");

	return h ? json_number_value(h) : jnum(st, "mean");
}

json_t *compare_change_json(const json_t *b, const json_t *c, int higher_better)
{
	double bv = headline(b), cv = headline(c);
	size_t nb = json_integer_value(json_object_get(b, "n"));
	size_t nc = json_integer_value(json_object_get(c, "n"));
	json_t *bvals = json_object_get(b, "values"), *cvals = json_object_get(c, "values");
	double *va = calloc(nb, sizeof(double)), *vb = calloc(nc, sizeof(double));
	double t, df, p = NAN, bmin = jnum(b, "min"), bmax = jnum(b, "max");
	double cmin = jnum(c, "min"), cmax = jnum(c, "max");
	int overlap, significant, noisy, enough = nb >= 2 && nc >= 2;
	int separate, lkp_changed;
	/* LKP reports plain averages. */
	double bm = jnum(b, "mean"), cm = jnum(c, "mean");
	double raw = bm != 0 ? (cm - bm) / fabs(bm) * 100 : 0;
	const char *verdict;
	json_t *o;

	for (size_t i = 0; i < nb; i++)
		va[i] = json_number_value(json_array_get(bvals, i));
	for (size_t i = 0; i < nc; i++)
		vb[i] = json_number_value(json_array_get(cvals, i));
	if (enough && stats_welch(va, nb, vb, nc, &t, &df, &p))
		p = NAN;
	free(va);
	free(vb);
	{
		json_t *bc = json_object_get(b, "ci95"), *cc = json_object_get(c, "ci95");
		double blo = json_number_value(json_array_get(bc, 0));
		double bhi = json_number_value(json_array_get(bc, 1));
		double clo = json_number_value(json_array_get(cc, 0));
		double chi = json_number_value(json_array_get(cc, 1));

		overlap = !(bhi < clo || chi < blo);
	}
	significant = enough && !overlap && bv != cv;
	noisy = nb < COMPARE_MIN_N || nc < COMPARE_MIN_N || jnum(b, "cv") > COMPARE_NOISY_CV ||
		jnum(c, "cv") > COMPARE_NOISY_CV;
	/* LKP's rule: the sample ranges separate, with enough runs. */
	separate = bmax < cmin || cmax < bmin;
	lkp_changed = separate && nb >= COMPARE_MIN_N && nc >= COMPARE_MIN_N && fabs(raw) >= 1.0;
	if (!enough)
		verdict = "too few runs";
	else if (significant)
		verdict = compare_pct_better(bv, cv, higher_better) >= 0 ? "better" : "worse";
	else if (noisy)
		verdict = "noise";
	else
		verdict = "same";
	o = json_pack("{s:f,s:f,s:b,s:b,s:b,s:b,s:s}", "pct_change",
		      compare_pct_better(bv, cv, higher_better), "raw_change", raw, "ci_overlap",
		      overlap, "significant", significant, "noisy", noisy, "lkp_changed",
		      lkp_changed, "verdict", verdict);
	json_object_set_new(o, "welch_p", isfinite(p) ? json_real(p) : json_null());
	return o;
}

static int load_run(const char *dir, struct run_data *r)
{
	char *p;
	int rc;

	r->dir = dir;
	rc = store_load_run(dir, &r->run);
	if (rc)
		return rc;
	p = store_path(dir, STORE_RUN);
	if (!json_is_array(json_object_get(r->run, "kernels")) ||
	    !json_array_size(json_object_get(r->run, "kernels"))) {
		rc = sb_err(EINVAL, "%s: kernels: expected a non-empty array", p);
		free(p);
		return rc;
	}
	free(p);
	rc = summary_load(dir, &r->summary);
	if (rc)
		return rc;
	r->index = json_object();
	for (int sec = 0; sec < 2; sec++) {
		const char *section = sec ? "counters" : "rows", *namekey = sec ? "counter" : "metric";
		json_t *row;
		size_t i;

		json_array_foreach(json_object_get(r->summary, section), i, row) {
			char *gk = xasprintf("%s\x1f%s\x1f%s",
					     json_string_value(json_object_get(row, "kernel")),
					     json_string_value(json_object_get(row, "topology")),
					     json_string_value(json_object_get(row, "workload")));
			json_t *g = json_object_get(r->index, gk);

			if (!g) {
				g = json_pack("{s:{},s:{},s:[],s:[]}", "metrics", "counters", "order",
					      "corder");
				json_object_set_new(r->index, gk, g);
			}
			json_object_set(json_object_get(g, sec ? "counters" : "metrics"),
					json_string_value(json_object_get(row, namekey)), row);
			json_array_append(json_object_get(g, sec ? "corder" : "order"),
					  json_object_get(row, namekey));
			free(gk);
		}
	}
	return 0;
}

struct load_job {
	const char *dir;
	struct run_data *r;
	int rc;
	char err[1024];
};

static void *load_thread(void *arg)
{
	struct load_job *j = arg;

	j->rc = load_run(j->dir, j->r);
	if (j->rc)
		snprintf(j->err, sizeof(j->err), "%s", sb_lasterr());
	return NULL;
}

/* Parsing each run's index dominates a large comparison: load them in
 * parallel (jansson is thread-safe for separate documents). */
static int load_runs(const char *const *dirs, int n, struct run_data *runs)
{
	struct load_job *jobs = calloc(n, sizeof(*jobs));
	pthread_t *tids = calloc(n, sizeof(*tids));
	int rc = 0;

	json_object_seed(0); /* before threads: the hash seed is global */
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct load_job){ .dir = dirs[i], .r = &runs[i] };
		if (pthread_create(&tids[i], NULL, load_thread, &jobs[i])) {
			load_thread(&jobs[i]);
			tids[i] = 0;
		}
	}
	for (int i = 0; i < n; i++) {
		if (tids[i])
			pthread_join(tids[i], NULL);
		if (jobs[i].rc && !rc)
			rc = sb_err(-jobs[i].rc, "%s", jobs[i].err);
	}
	free(jobs);
	free(tids);
	return rc;
}

static json_t *group_of(const struct run_data *r, const char *kernel, const char *topo,
			const char *wl)
{
	char *gk = xasprintf("%s\x1f%s\x1f%s", kernel, topo, wl);
	json_t *g = json_object_get(r->index, gk);

	free(gk);
	return g;
}

static const char *run_label(const struct run_data *r, int i)
{
	const char *name = json_string_value(json_object_get(r->run, "name"));

	(void)i;
	return name ? name : r->dir;
}

/* Append name to arr once, keeping first-seen order. */
static void add_unique(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return;
	json_array_append_new(arr, json_string(s));
}

static json_t *setup_json(struct run_data *runs, int nruns)
{
	json_t *setup = json_object(), *accels = json_array(), *memcg = json_array();
	json_t *w;
	size_t i;
	json_int_t conc = 1;

	for (int r = 0; r < nruns; r++) {
		json_int_t c = json_integer_value(json_object_get(runs[r].run, "concurrency"));

		conc = c > conc ? c : conc;
		const char *a = json_string_value(json_object_get(json_object_get(runs[r].run,
										  "accel"),
								  "used"));

		add_unique(accels, a ? a : "?");
		json_array_foreach(json_object_get(runs[r].run, "workloads"), i, w) {
			json_int_t mx = json_integer_value(json_object_get(json_object_get(w,
											  "memcg"),
									   "max"));
			char buf[32];

			if (mx > 0) {
				format_size((unsigned long long)mx, buf, sizeof(buf));
				add_unique(memcg, buf);
			}
		}
	}
	json_object_set(setup, "vm", json_object_get(runs[0].run, "vm"));
	json_object_set(setup, "iterations", json_object_get(runs[0].run, "iterations"));
	json_object_set_new(setup, "accel", accels);
	json_object_set_new(setup, "memcg_max", memcg);
	/* Runs with --jobs: cells shared the host; say so, wherever shown. */
	if (conc > 1)
		json_object_set_new(setup, "concurrency", json_integer(conc));
	return setup;
}

/* What the phases of compare_build share. */
struct cmp {
	const struct compare_opts *o;
	const char *const *run_dirs;
	struct run_data *runs;
	int nruns, multi;
	struct column *cols; /* cols[0] is the baseline */
	size_t ncols;
	json_t *regs;        /* regressions beyond o->fail_pct */
	struct power_opts po; /* MDE, pairing and verdict rules (compare-power.c) */
};

/* Grouping: the columns (the kernels of one run, or one per run), the
 * baseline moved first. */
static int make_columns(struct cmp *x)
{
	int base = 0;
	size_t i;

	if (!x->multi) {
		json_t *k;

		x->ncols = json_array_size(json_object_get(x->runs[0].run, "kernels"));
		x->cols = calloc(x->ncols, sizeof(*x->cols));
		json_array_foreach(json_object_get(x->runs[0].run, "kernels"), i, k) {
			x->cols[i].kernel = json_string_value(json_object_get(k, "name"));
			x->cols[i].label = xstrdup(x->cols[i].kernel ? x->cols[i].kernel : "?");
		}
	} else {
		x->ncols = x->nruns;
		x->cols = calloc(x->ncols, sizeof(*x->cols));
		for (int r = 0; r < x->nruns; r++) {
			x->cols[r].run = r;
			x->cols[r].label = xstrdup(run_label(&x->runs[r], r));
			for (int q = 0; q < r; q++)
				if (!strcmp(x->cols[q].label, x->cols[r].label)) {
					free(x->cols[r].label);
					x->cols[r].label = xasprintf("%s#%d",
								     run_label(&x->runs[r], r), r + 1);
				}
		}
	}
	if (x->ncols < 2)
		return sb_err(EINVAL, "'%s' has one kernel: nothing to compare it with (give "
			      "two runs)", x->run_dirs[0]);
	if (x->o->baseline) {
		base = -1;
		for (i = 0; i < x->ncols; i++)
			if (!strcmp(x->cols[i].label, x->o->baseline) ||
			    (x->multi && !strcmp(x->run_dirs[i], x->o->baseline)))
				base = (int)i;
		if (base < 0)
			return sb_err(EINVAL, "--baseline '%s': no such %s", x->o->baseline,
				      x->multi ? "run" : "kernel in the run");
	}
	if (base) {
		struct column tmp = x->cols[base];

		memmove(x->cols + 1, x->cols, base * sizeof(*x->cols));
		x->cols[0] = tmp;
	}
	return 0;
}

/* The document's head: conventions, columns and the setup of each. */
static json_t *doc_head(const struct cmp *x)
{
	json_t *doc, *jcols = json_array();

	doc = json_pack("{s:i,s:s,s:s}", "schema_version", COMPARE_SCHEMA_VERSION, "mode",
			x->multi ? "runs" : "kernels", "baseline", x->cols[0].label);
	json_object_set_new(doc, "conventions", json_pack(
		"{s:s,s:s,s:s,s:s,s:f,s:i}",
		"pct_change", "better is positive: lower-is-better 100 - new/base*100, "
			      "higher-is-better new/base*100 - 100 (on Hmean for rates, Amean "
			      "otherwise)",
		"raw_change", "(new - base) / base * 100, not direction-adjusted (LKP)",
		"significant", "the 95% confidence intervals of the mean (Student t) do not "
			       "overlap (mmtests); welch_p is Welch's t-test, two-sided",
		"lkp_changed", "sample ranges separate, n >= 3 on both sides, |raw_change| >= 1%",
		"noisy_cv", COMPARE_NOISY_CV, "min_n", COMPARE_MIN_N));
	power_conventions(json_object_get(doc, "conventions"), &x->po);
	for (size_t i = 0; i < x->ncols; i++) {
		struct run_data *r = &x->runs[x->cols[i].run];
		json_t *k, *ident = NULL;
		size_t j;

		json_array_foreach(json_object_get(r->run, "kernels"), j, k)
			if (!x->multi && !strcmp(json_string_value(json_object_get(k, "name")),
						 x->cols[i].kernel))
				ident = k;
		json_array_append_new(jcols, json_pack("{s:s,s:s,s:O?,s:O?}", "label",
						       x->cols[i].label, "run", r->dir, "kernel",
						       ident, "kernels",
						       x->multi ? json_object_get(r->run, "kernels")
								: NULL));
	}
	json_object_set_new(doc, "columns", jcols);
	json_object_set_new(doc, "setup", setup_json(x->runs, x->nruns));
	return doc;
}

/* Grouping: keys (topology, workload) for kernels, plus kernel for runs,
 * as "KERNEL\x1fTOPOLOGY\x1fWORKLOAD" in first-seen order; a set keeps
 * this linear. */
static json_t *group_keys(const struct cmp *x)
{
	json_t *keys = json_array(), *seen = json_object();

	for (size_t i = 0; i < x->ncols; i++) {
		json_t *row;
		size_t j;

		json_array_foreach(json_object_get(x->runs[x->cols[i].run].summary, "rows"), j,
				   row) {
			const char *k = json_string_value(json_object_get(row, "kernel"));
			char *gk;

			if (!x->multi && strcmp(k, x->cols[i].kernel))
				continue;
			gk = xasprintf("%s\x1f%s\x1f%s", x->multi ? k : "",
				       json_string_value(json_object_get(row, "topology")),
				       json_string_value(json_object_get(row, "workload")));
			if (!json_object_get(seen, gk)) {
				json_object_set_new(seen, gk, json_true());
				json_array_append_new(keys, json_string(gk));
			}
			free(gk);
		}
	}
	json_decref(seen);
	return keys;
}

/* One group's summary rows in column c. */
static json_t *col_group(const struct cmp *x, size_t c, const char *k, const char *topo,
			 const char *wl)
{
	return group_of(&x->runs[x->cols[c].run], x->multi ? k : x->cols[c].kernel, topo, wl);
}

/* Verdicts: a change worse than --fail-on-regression is a regression. */
static void check_regression(struct cmp *x, const json_t *ch, size_t c, const char *k,
			     const char *topo, const char *wl, json_t *name)
{
	if (x->o->fail_pct > 0 && !strcmp(json_string_value(json_object_get(ch, "verdict")),
					  "worse") &&
	    -jnum(ch, "pct_change") > x->o->fail_pct)
		json_array_append_new(x->regs, json_pack(
			"{s:s,s:s,s:s?,s:O,s:s,s:f,s:O}", "topology", topo, "workload", wl,
			"kernel", x->multi ? k : NULL, "metric", name, "column", x->cols[c].label,
			"pct_change", jnum(ch, "pct_change"), "welch_p",
			json_object_get(ch, "welch_p")));
}

/* Statistics of one metric in every column, and the change of each
 * against the baseline. */
static json_t *metric_json(struct cmp *x, const char *k, const char *topo, const char *wl,
			   json_t *name)
{
	json_t *m = json_object(), *mcols = json_array(), *changes = json_array(), *b = NULL;
	int hb = 0;

	for (size_t c = 0; c < x->ncols; c++) {
		json_t *row = json_object_get(json_object_get(col_group(x, c, k, topo, wl),
							      "metrics"),
					      json_string_value(name));
		json_t *st, *ch;

		if (row && !json_object_get(m, "unit")) {
			json_object_set(m, "unit", json_object_get(row, "unit"));
			json_object_set(m, "better", json_object_get(row, "better"));
			hb = !strcmp(json_string_value(json_object_get(row, "better")), "higher");
		}
		st = row ? compare_stat_json(json_object_get(row, "values"), hb) : json_null();
		if (json_is_object(st) && json_object_get(row, "iterations"))
			json_object_set(st, "iterations", json_object_get(row, "iterations"));
		if (c == 0)
			b = st;
		json_array_append_new(mcols, st);
		if (c == 0 || !json_is_object(st) || !json_is_object(b)) {
			json_array_append_new(changes, json_null());
			continue;
		}
		ch = compare_change_json(b, st, hb);
		/* A baseline mean of 0 makes the change infinite, which JSON
		 * cannot hold: no change object, as for a missing side. */
		if (!ch) {
			json_array_append_new(changes, json_null());
			continue;
		}
		power_annotate(ch, b, st, hb, &x->po);
		check_regression(x, ch, c, k, topo, wl, name);
		json_array_append_new(changes, ch);
	}
	json_object_set(m, "name", name);
	json_object_set_new(m, "columns", mcols);
	json_object_set_new(m, "changes", changes);
	return m;
}

/* One counter's n and mean in every column. */
static json_t *counter_json(const struct cmp *x, const char *k, const char *topo,
			    const char *wl, json_t *name)
{
	json_t *cc = json_array();

	for (size_t c = 0; c < x->ncols; c++) {
		json_t *row = json_object_get(json_object_get(col_group(x, c, k, topo, wl),
							      "counters"),
					      json_string_value(name));

		json_array_append_new(cc, row ? json_pack("{s:O,s:O}", "n",
							  json_object_get(row, "n"), "mean",
							  json_object_get(row, "mean"))
					      : json_null());
	}
	return json_pack("{s:O,s:o}", "name", name, "columns", cc);
}

/* Per column, the host noise of the group's cells, and a warning for each
 * column whose host was busier or quieter than the baseline's. */
static void group_host_noise(const struct cmp *x, json_t *g, const char *k, const char *topo,
			     const char *wl)
{
	json_t *hn = json_array(), *warn = json_array();
	int any = 0;

	for (size_t c = 0; c < x->ncols; c++) {
		json_t *h = power_host_noise(x->runs[x->cols[c].run].summary,
					     x->multi ? k : x->cols[c].kernel, topo, wl);

		any |= h != NULL;
		json_array_append_new(hn, h ? h : json_null());
	}
	for (size_t c = 1; c < x->ncols; c++) {
		char *w = power_host_warning(json_array_get(hn, 0), x->cols[0].label,
					     json_array_get(hn, c), x->cols[c].label);

		if (w)
			json_array_append_new(warn, json_string(w));
		free(w);
	}
	if (any)
		json_object_set_new(g, "host_noise", hn);
	else
		json_decref(hn);
	if (json_array_size(warn))
		json_object_set_new(g, "host_warnings", warn);
	else
		json_decref(warn);
}

/* One group: its metrics and counters, or NULL when the baseline and at
 * least one other column do not both have it. */
static json_t *group_json(struct cmp *x, const char *key)
{
	char *k = xstrdup(key), *topo = strchr(k, 0x1f), *wl;
	json_t *g = NULL, *metrics, *counters, *names = json_array(), *cnames = json_array();
	json_t *name;
	size_t j;
	int present = 0;

	*topo++ = '\0';
	wl = strchr(topo, 0x1f);
	*wl++ = '\0';
	/* Which metrics/counters exist in any column, in first-seen order. */
	for (size_t c = 0; c < x->ncols; c++) {
		json_t *grp = col_group(x, c, k, topo, wl), *n;
		size_t r;

		if (!grp)
			continue;
		present++;
		json_array_foreach(json_object_get(grp, "order"), r, n)
			add_unique(names, json_string_value(n));
		json_array_foreach(json_object_get(grp, "corder"), r, n)
			add_unique(cnames, json_string_value(n));
	}
	/* Only cells the baseline and at least one other column have. */
	if (present >= 2 && col_group(x, 0, k, topo, wl)) {
		metrics = json_array();
		counters = json_array();
		json_array_foreach(names, j, name)
			json_array_append_new(metrics, metric_json(x, k, topo, wl, name));
		json_array_foreach(cnames, j, name)
			json_array_append_new(counters, counter_json(x, k, topo, wl, name));
		g = json_pack("{s:s,s:s,s:o,s:o}", "topology", topo, "workload", wl, "metrics",
			      metrics, "counters", counters);
		if (x->multi)
			json_object_set_new(g, "kernel", json_string(k));
		group_host_noise(x, g, k, topo, wl);
	}
	json_decref(names);
	json_decref(cnames);
	free(k);
	return g;
}

/* Statistics: the geometric mean of better-adjusted ratios of one
 * workload's metrics in column c. */
static json_t *geomean_of(const json_t *groups, const char *wl, size_t c)
{
	double *ratios = NULL;
	size_t nr = 0, gi, mi;
	json_t *g, *m, *v;

	json_array_foreach(groups, gi, g) {
		if (strcmp(json_string_value(json_object_get(g, "workload")), wl))
			continue;
		json_array_foreach(json_object_get(g, "metrics"), mi, m) {
			json_t *bs = json_array_get(json_object_get(m, "columns"), 0);
			json_t *cs = json_array_get(json_object_get(m, "columns"), c);
			int hb = !strcmp(json_string_value(json_object_get(m, "better")), "higher");
			double bv, cv;

			if (!json_is_object(bs) || !json_is_object(cs))
				continue;
			bv = headline(bs);
			cv = headline(cs);
			if (bv <= 0 || cv <= 0)
				continue;
			ratios = realloc(ratios, (nr + 1) * sizeof(double));
			ratios[nr++] = hb ? cv / bv : bv / cv;
		}
	}
	v = nr ? json_real(stats_geomean(ratios, nr)) : json_null();
	free(ratios);
	return v;
}

/* Per workload and column. */
static json_t *geomean_json(const struct cmp *x, const json_t *groups)
{
	json_t *g, *gm = json_array(), *wls = json_array(), *w;
	size_t gi, wi;

	json_array_foreach(groups, gi, g)
		add_unique(wls, json_string_value(json_object_get(g, "workload")));
	json_array_foreach(wls, wi, w) {
		json_t *colsr = json_array();

		for (size_t c = 0; c < x->ncols; c++)
			json_array_append_new(colsr, geomean_of(groups, json_string_value(w), c));
		json_array_append_new(gm, json_pack("{s:O,s:o}", "workload", w, "columns", colsr));
	}
	json_decref(wls);
	return gm;
}

int compare_build(const char *const *run_dirs, int nruns, const struct compare_opts *o,
		  json_t **out)
{
	struct cmp x = { .o = o, .run_dirs = run_dirs, .nruns = nruns, .multi = nruns > 1,
			 .runs = calloc(nruns, sizeof(*x.runs)),
			 .po = { .threshold_pct = o->threshold_pct > 0 ? o->threshold_pct
								       : POWER_THRESHOLD_PCT,
				 .paired = o->paired, .pairable = nruns == 1 } };
	json_t *doc = NULL, *groups, *keys, *key;
	size_t i;
	int rc;

	rc = load_runs(run_dirs, nruns, x.runs);
	if (!rc)
		rc = make_columns(&x);
	if (rc)
		goto out;
	doc = doc_head(&x);
	keys = group_keys(&x);
	groups = json_array();
	x.regs = json_array();
	json_array_foreach(keys, i, key) {
		json_t *g = group_json(&x, json_string_value(key));

		if (g)
			json_array_append_new(groups, g);
	}
	json_decref(keys);
	if (!json_array_size(groups)) {
		rc = sb_err(ENOENT, "no common cells: the baseline '%s' shares no (%s topology, "
			    "workload) with the others", x.cols[0].label,
			    x.multi ? "kernel," : "");
		json_decref(groups);
		json_decref(x.regs);
		goto out;
	}
	json_object_set_new(doc, "geomean", geomean_json(&x, groups));
	json_object_set_new(doc, "groups", groups);
	json_object_set_new(doc, "regressions", x.regs);
	if (o->fail_pct > 0)
		json_object_set_new(doc, "fail_on_regression_pct", json_real(o->fail_pct));
	*out = doc;
	doc = NULL;
out:
	json_decref(doc);
	for (size_t c = 0; c < x.ncols; c++)
		free(x.cols[c].label);
	free(x.cols);
	for (int r = 0; r < nruns; r++) {
		json_decref(x.runs[r].run);
		json_decref(x.runs[r].summary);
		json_decref(x.runs[r].index);
	}
	free(x.runs);
	return rc;
}
