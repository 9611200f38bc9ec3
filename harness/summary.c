/* summary.json: built from the cells' results (a value group per kernel,
 * topology, workload and metric or counter, with its statistics), loaded
 * back (rebuilt when a result is newer), and printed as the short table
 * `swapbench run` ends with. Validating it is result.c's. */
#define _GNU_SOURCE
#include "harness/result.h"
#include "harness/store.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/stats.h"
#include "common/log.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counters the reports show, as "source.name" from the deltas. */
static const char *const report_vmstat[] = {
	"pswpin", "pswpout", "zswpin", "zswpout", "zswpwb", "swpin_zero", "swpout_zero",
	"thp_swpout", "thp_swpout_fallback", "pgmajfault", "swap_ra", "swap_ra_hit",
	"workingset_refault_anon", "pgscan_anon", "pgsteal_anon", NULL
};

static void add_value(json_t *groups, const json_t *cell, const char *kind, const char *name,
		      json_t *val, const json_t *metric)
{
	char *k = xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", kind,
			    json_string_value(json_object_get(cell, "kernel")),
			    json_string_value(json_object_get(cell, "topology")),
			    json_string_value(json_object_get(cell, "workload")), name);
	json_t *g = json_object_get(groups, k);

	if (!g) {
		g = json_pack("{s:s,s:O,s:O,s:O,s:s,s:[],s:[]}", "kind", kind, "kernel",
			      json_object_get(cell, "kernel"), "topology",
			      json_object_get(cell, "topology"), "workload",
			      json_object_get(cell, "workload"), "name", name, "values",
			      "iterations");
		if (metric) {
			json_object_set(g, "unit", json_object_get(metric, "unit"));
			json_object_set(g, "better", json_object_get(metric, "better"));
		}
		json_object_set_new(groups, k, g);
	}
	json_array_append(json_object_get(g, "values"), val);
	/* Which iteration each value came from: compare pairs the kernels'
	 * adjacent cells by it (docs/noise.md). */
	json_array_append(json_object_get(g, "iterations"),
			  json_object_get(cell, "iteration") ?: json_null());
	free(k);
}

/* Each member of the counter group's delta, as counter PREFIX.key, but
 * the keys in skip (levels, not deltas; NULL-terminated or NULL). */
static void add_deltas(json_t *groups, const json_t *cell, const char *prefix,
		       const json_t *counter, const char *const *skip)
{
	const char *key;
	char name[160];
	json_t *v;

	json_object_foreach(json_object_get(counter, "delta"), key, v) {
		int skipped = 0;

		for (int i = 0; skip && skip[i]; i++)
			skipped |= !strcmp(key, skip[i]);
		if (skipped)
			continue;
		snprintf(name, sizeof(name), "%s.%s", prefix, key);
		add_value(groups, cell, "counter", name, v, NULL);
	}
}

static void add_counters(json_t *groups, const json_t *cell)
{
	static const char *const zswap_levels[] = { "pool_total_size", "stored_pages", NULL };
	json_t *c = json_object_get(cell, "counters"), *d, *v, *size;
	const char *key;
	char name[160];

	d = json_object_get(json_object_get(c, "vmstat"), "delta");
	for (int i = 0; report_vmstat[i]; i++)
		if ((v = json_object_get(d, report_vmstat[i]))) {
			snprintf(name, sizeof(name), "vmstat.%s", report_vmstat[i]);
			add_value(groups, cell, "counter", name, v, NULL);
		}
	add_deltas(groups, cell, "memory.events", json_object_get(c, "memory_events"), NULL);
	add_deltas(groups, cell, "zswap", json_object_get(c, "zswap"), zswap_levels);
	/* mTHP: per-size swap-out and its fallback, the headline ratio. */
	d = json_object_get(json_object_get(c, "mthp"), "delta");
	json_object_foreach(d, key, size) {
		static const char *const f[] = { "swpout", "swpout_fallback", "zswpout",
						 "swpin", NULL };

		for (int i = 0; f[i]; i++)
			if ((v = json_object_get(size, f[i]))) {
				snprintf(name, sizeof(name), "mthp.%s.%s", key, f[i]);
				add_value(groups, cell, "counter", name, v, NULL);
			}
	}
	/* perf software (and hardware) counters of the workload's processes. */
	add_deltas(groups, cell, "perf", json_object_get(c, "perf"), NULL);
	d = json_object_get(json_object_get(c, "zram"), "after");
	if (json_is_object(d)) {
		json_int_t used = 0;

		json_object_foreach(d, key, v)
			used += json_integer_value(json_object_get(v, "mem_used_max"));
		v = json_integer(used);
		add_value(groups, cell, "counter", "zram.mem_used_max", v, NULL);
		json_decref(v);
	}
	d = json_object_get(cell, "kmsg");
	json_object_foreach(d, key, v) {
		if (json_is_integer(v)) {
			snprintf(name, sizeof(name), "kmsg.%s", key);
			add_value(groups, cell, "counter", name, v, NULL);
		}
	}
}

/* Derived metrics: elapsed_per_swapout, the workload's elapsed time per
 * page swapped out (pswpout + zswpout; a page zswap wrote back counts
 * twice). It divides out how much the work itself varied (how many pages a
 * cell swapped), which counts for much of the noise under TCG
 * (docs/noise.md). */
static void add_derived(json_t *groups, const json_t *cell)
{
	json_t *d = json_object_get(json_object_get(json_object_get(cell, "counters"), "vmstat"),
				    "delta");
	json_t *m, *v, *desc;
	double elapsed = -1, pages;
	size_t i;

	json_array_foreach(json_object_get(cell, "metrics"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "name")) ?: "", "elapsed"))
			elapsed = json_number_value(json_object_get(m, "value"));
	pages = (double)json_integer_value(json_object_get(d, "pswpout")) +
		(double)json_integer_value(json_object_get(d, "zswpout"));
	if (elapsed < 0 || pages <= 0)
		return;
	v = json_real(elapsed * 1e6 / pages);
	desc = json_pack("{s:s,s:s}", "unit", "us", "better", "lower");
	add_value(groups, cell, "metric", "elapsed_per_swapout", v, desc);
	json_decref(v);
	json_decref(desc);
}

json_t *summary_build(const json_t *cells)
{
	json_t *groups = json_object(), *rows = json_array(), *counters = json_array();
	json_t *index = json_array(), *cell, *g;
	const char *key;
	size_t i;

	json_array_foreach(cells, i, cell) {
		json_t *m;
		size_t j;

		json_array_append_new(index, json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O*}",
						       "cell_id",
						       json_object_get(cell, "cell_id"), "kernel",
						       json_object_get(cell, "kernel"), "topology",
						       json_object_get(cell, "topology"), "workload",
						       json_object_get(cell, "workload"), "iteration",
						       json_object_get(cell, "iteration"), "status",
						       json_object_get(cell, "status"), "host_noise",
						       json_object_get(json_object_get(cell, "host"),
								       "noise")));
		if (strcmp(json_string_value(json_object_get(cell, "status")) ?: "", "ok"))
			continue;
		json_array_foreach(json_object_get(cell, "metrics"), j, m)
			add_value(groups, cell, "metric",
				  json_string_value(json_object_get(m, "name")),
				  json_object_get(m, "value"), m);
		add_counters(groups, cell);
		add_derived(groups, cell);
	}
	json_object_foreach(groups, key, g) {
		json_t *vals = json_object_get(g, "values"), *row;
		size_t n = json_array_size(vals);
		double *v = calloc(n, sizeof(double));
		struct stats_summary st;
		int metric = !strcmp(json_string_value(json_object_get(g, "kind")), "metric");

		for (size_t j = 0; j < n; j++)
			v[j] = json_number_value(json_array_get(vals, j));
		if (stats_summarize(v, n, &st) == 0) {
			row = json_pack("{s:O,s:O,s:O,s:O,s:I,s:f,s:f,s:f,s:f,s:f,s:O}",
					"kernel", json_object_get(g, "kernel"), "topology",
					json_object_get(g, "topology"), "workload",
					json_object_get(g, "workload"), metric ? "metric" : "counter",
					json_object_get(g, "name"), "n", (json_int_t)n, "mean",
					st.mean, "stddev", st.stddev, "min", st.min, "max", st.max,
					"median", st.median, "values", vals);
			json_object_set(row, "iterations", json_object_get(g, "iterations"));
			if (metric) {
				json_object_set(row, "unit", json_object_get(g, "unit"));
				json_object_set(row, "better", json_object_get(g, "better"));
			}
			json_array_append_new(metric ? rows : counters, row);
		}
		free(v);
	}
	json_decref(groups);
	return json_pack("{s:i,s:o,s:o,s:o}", "schema_version", SUMMARY_SCHEMA_VERSION, "rows",
			 rows, "counters", counters, "cells", index);
}

/* What summary_build reads of a result: keeps memory flat when a large run
 * is re-indexed. */
static json_t *result_compact(json_t *r)
{
	static const char *const keep[] = { "cell_id", "kernel", "topology", "workload",
					    "iteration", "status", "metrics", "kmsg", NULL };
	static const char *const deltas[] = { "vmstat", "memory_events", "zswap", "mthp", "perf",
					      NULL };
	json_t *c = json_object(), *counters = json_object(), *src = json_object_get(r, "counters");

	for (int i = 0; keep[i]; i++)
		if (json_object_get(r, keep[i]))
			json_object_set(c, keep[i], json_object_get(r, keep[i]));
	for (int i = 0; deltas[i]; i++) {
		json_t *d = json_object_get(json_object_get(src, deltas[i]), "delta");

		if (!d)
			continue;
		if (!strcmp(deltas[i], "vmstat")) {
			/* Only the reported vmstat counters: ~15 of ~180. */
			json_t *few = json_object();

			for (int k = 0; report_vmstat[k]; k++)
				if (json_object_get(d, report_vmstat[k]))
					json_object_set(few, report_vmstat[k],
							json_object_get(d, report_vmstat[k]));
			json_object_set_new(counters, "vmstat", json_pack("{s:o}", "delta", few));
		} else {
			json_object_set_new(counters, deltas[i], json_pack("{s:O}", "delta", d));
		}
	}
	if (json_object_get(json_object_get(src, "zram"), "after"))
		json_object_set_new(counters, "zram", json_pack("{s:O}", "after", json_object_get(
			json_object_get(src, "zram"), "after")));
	json_object_set_new(c, "counters", counters);
	if (json_object_get(json_object_get(r, "host"), "noise"))
		json_object_set_new(c, "host", json_pack("{s:O}", "noise", json_object_get(
			json_object_get(r, "host"), "noise")));
	return c;
}

static int newest_result(const char *run_dir, struct timespec *newest, json_t *paths)
{
	char *cells = store_path(run_dir, STORE_CELLS);
	DIR *d = opendir(cells);
	struct dirent *e;

	if (!d) {
		int rc = sb_err(ENOENT, "'%s' is not a swapbench run (no cells/ directory)",
				run_dir);

		free(cells);
		return rc;
	}
	while ((e = readdir(d))) {
		char *p;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s/" STORE_RESULT, cells, e->d_name);
		if (lstat(p, &st) == 0) {
			if (st.st_mtim.tv_sec > newest->tv_sec ||
			    (st.st_mtim.tv_sec == newest->tv_sec &&
			     st.st_mtim.tv_nsec > newest->tv_nsec))
				*newest = st.st_mtim;
			json_array_append_new(paths, json_string(p));
		}
		free(p);
	}
	closedir(d);
	free(cells);
	return 0;
}

/* A summary agrees with its run when it indexes exactly the cells on disk
 * and its statistics are those of its values (a hand-edited or stale index
 * is rebuilt, never believed). */
static int summary_agrees(const json_t *s, const json_t *paths)
{
	static const char *const sections[] = { "rows", "counters", NULL };
	json_t *ids = json_object(), *c, *row;
	size_t i;
	int ok = json_array_size(json_object_get(s, "cells")) == json_array_size(paths);

	json_array_foreach(json_object_get(s, "cells"), i, c)
		json_object_set_new(ids, json_string_value(json_object_get(c, "cell_id")),
				    json_true());
	ok &= json_object_size(ids) == json_array_size(paths);
	json_array_foreach(paths, i, c) {
		/* .../cells/<id>/result.json */
		const char *p = json_string_value(c), *end = strrchr(p, '/'), *start = end;
		char *id;

		while (start > p && start[-1] != '/')
			start--;
		id = strndup(start, (size_t)(end - start));
		ok &= json_object_get(ids, id) != NULL;
		free(id);
	}
	json_decref(ids);
	for (int sec = 0; ok && sections[sec]; sec++)
		json_array_foreach(json_object_get(s, sections[sec]), i, row) {
			json_t *v = json_object_get(row, "values");
			size_t n = json_array_size(v);
			double *d = calloc(n, sizeof(*d));
			struct stats_summary st;
			const char *keys[] = { "mean", "stddev", "min", "max", "median" };

			for (size_t j = 0; j < n; j++)
				d[j] = json_number_value(json_array_get(v, j));
			if (!d || stats_summarize(d, n, &st)) {
				ok = 0;
			} else {
				double want[] = { st.mean, st.stddev, st.min, st.max, st.median };

				for (int k = 0; k < 5; k++) {
					double got = json_number_value(json_object_get(row, keys[k]));

					ok &= fabs(got - want[k]) <= 1e-9 * (fabs(want[k]) + 1);
				}
			}
			free(d);
			if (!ok)
				break;
		}
	return ok;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

int summary_load(const char *run_dir, json_t **out)
{
	char *run = store_path(run_dir, STORE_RUN), *sp = store_path(run_dir, STORE_SUMMARY);
	struct timespec newest = { 0, 0 };
	json_t *paths = json_array(), *cells, *s = NULL;
	struct stat st;
	int rc;

	if (stat(run, &st)) {
		rc = sb_err(ENOENT, "'%s' is not a swapbench run (no run.json)", run_dir);
		goto out;
	}
	rc = newest_result(run_dir, &newest, paths);
	if (rc)
		goto out;
	if (stat(sp, &st) == 0 && (st.st_mtim.tv_sec > newest.tv_sec ||
				   (st.st_mtim.tv_sec == newest.tv_sec &&
				    st.st_mtim.tv_nsec >= newest.tv_nsec))) {
		/* An index that cannot be read, is malformed or disagrees with
		 * the cells is rebuilt from them, never believed. */
		if (store_load_json(sp, STORE_SUMMARY_MAX, &s))
			log_warn("%s; rebuilding it from the cells", sb_lasterr());
		else if (summary_validate(s))
			log_warn("%s: %s; rebuilding it from the cells", sp, sb_lasterr());
		else if (!summary_agrees(s, paths))
			log_warn("%s does not agree with the cells; rebuilding it", sp);
		else {
			*out = s;
			s = NULL;
			goto out;
		}
		json_decref(s);
		s = NULL;
	}
	/* Stale or missing: rebuild from every cell, in a stable order. */
	{
		size_t n = json_array_size(paths), i;
		json_t **v = calloc(n ? n : 1, sizeof(*v));

		for (i = 0; i < n; i++)
			v[i] = json_array_get(paths, i);
		qsort(v, n, sizeof(*v), path_cmp);
		cells = json_array();
		for (i = 0; i < n && !rc; i++) {
			json_t *r;

			rc = result_load(json_string_value(v[i]), 1, &r);
			if (!rc) {
				json_array_append_new(cells, result_compact(r));
				json_decref(r);
			}
		}
		free(v);
	}
	if (!rc) {
		char *text;

		s = summary_build(cells);
		text = json_dumps(s, JSON_COMPACT);
		write_file_atomic(sp, text, strlen(text));
		free(text);
		*out = s;
		s = NULL;
	}
	json_decref(cells);
out:
	json_decref(s);
	json_decref(paths);
	free(run);
	free(sp);
	return rc;
}

static int row_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	static const char *const keys[] = { "workload", "metric", "topology", "kernel_index" };

	for (int i = 0; i < 3; i++) {
		int c = strcmp(json_string_value(json_object_get(x, keys[i])),
			       json_string_value(json_object_get(y, keys[i])));

		if (c)
			return c;
	}
	return (int)(json_integer_value(json_object_get(x, keys[3])) -
		     json_integer_value(json_object_get(y, keys[3])));
}

void summary_print(const json_t *doc, FILE *out)
{
	const json_t *summary = json_object_get(doc, "rows");
	size_t n = json_array_size(summary);
	json_t **rows = calloc(n ? n : 1, sizeof(*rows));
	const char *last_wl = "", *last_metric = "";

	for (size_t i = 0; i < n; i++)
		rows[i] = json_array_get(summary, i);
	qsort(rows, n, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *r = rows[i];
		const char *wl = json_string_value(json_object_get(r, "workload"));
		const char *metric = json_string_value(json_object_get(r, "metric"));
		double mean = json_number_value(json_object_get(r, "mean"));
		double sd = json_number_value(json_object_get(r, "stddev"));

		if (strcmp(wl, last_wl) || strcmp(metric, last_metric))
			fprintf(out, "\n%s: %s (%s, %s is better)\n", wl, metric,
				json_string_value(json_object_get(r, "unit")),
				json_string_value(json_object_get(r, "better")));
		last_wl = wl;
		last_metric = metric;
		fprintf(out, "  %-16.16s %-16.16s %12.3f +- %-10.3f n=%lld\n",
			json_string_value(json_object_get(r, "kernel")),
			json_string_value(json_object_get(r, "topology")), mean, sd,
			(long long)json_integer_value(json_object_get(r, "n")));
	}
	free(rows);
}
