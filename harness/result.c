#define _GNU_SOURCE
#include "harness/result.h"
#include "harness/store.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/stats.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int result_validate(const json_t *r, int final)
{
	static const char *const statuses[] = { "ok", "failed", "skipped", "crashed", "timeout",
						"invalid", NULL };
	static const char *const names[] = { "kernel", "topology", "workload", NULL };
	json_t *v, *m;
	size_t i;
	int ok = 0;

	if (!json_is_object(r))
		return sb_err(EINVAL, "(top): expected an object");
	for (int n = 0; final && names[n]; n++)
		if (!json_is_string(json_object_get(r, names[n])))
			return sb_err(EINVAL, "%s: expected a string", names[n]);
	if (final && !json_is_integer(json_object_get(r, "iteration")))
		return sb_err(EINVAL, "iteration: expected an integer");
	v = json_object_get(r, "schema_version");
	if (!json_is_integer(v) || json_integer_value(v) != RESULT_SCHEMA_VERSION)
		return sb_err(EINVAL, "schema_version: expected %d", RESULT_SCHEMA_VERSION);
	v = json_object_get(r, "status");
	if (!json_is_string(v))
		return sb_err(EINVAL, "status: expected a string");
	for (int s = 0; statuses[s] && (final || s < 3); s++)
		ok |= !strcmp(statuses[s], json_string_value(v));
	if (!ok)
		return sb_err(EINVAL, "status: unknown value '%.40s'", json_string_value(v));
	v = json_object_get(r, "metrics");
	if (v && !json_is_array(v))
		return sb_err(EINVAL, "metrics: expected an array");
	if (!strcmp(json_string_value(json_object_get(r, "status")), "ok") &&
	    !json_array_size(v))
		return sb_err(EINVAL, "metrics: a cell with status ok reported no metrics");
	json_array_foreach(v, i, m) {
		json_t *name = json_object_get(m, "name"), *val = json_object_get(m, "value");
		json_t *unit = json_object_get(m, "unit"), *better = json_object_get(m, "better");

		if (!json_is_object(m) || !json_is_string(name) || !json_string_length(name) ||
		    json_string_length(name) > 64)
			return sb_err(EINVAL, "metrics[%zu].name: expected a short string", i);
		if (!json_is_number(val) || !isfinite(json_number_value(val)))
			return sb_err(EINVAL, "metrics[%zu].value: expected a finite number", i);
		if (!json_is_string(unit) || json_string_length(unit) > 16)
			return sb_err(EINVAL, "metrics[%zu].unit: expected a short string", i);
		if (!json_is_string(better) || (strcmp(json_string_value(better), "lower") &&
						 strcmp(json_string_value(better), "higher")))
			return sb_err(EINVAL, "metrics[%zu].better: expected \"lower\" or "
				      "\"higher\"", i);
	}
	v = json_object_get(r, "counters");
	if (v && !json_is_object(v))
		return sb_err(EINVAL, "counters: expected an object");
	v = json_object_get(r, "memcg");
	if (v && (!json_is_object(v) || !json_is_boolean(json_object_get(v, "limit_held"))))
		return sb_err(EINVAL, "memcg.limit_held: expected true or false");
	return 0;
}

int result_load(const char *path, int final, json_t **out)
{
	json_t *r;
	int rc = store_load_json(path, RESULT_MAX_BYTES, &r);

	if (rc)
		return rc;
	rc = result_validate(r, final);
	if (rc) {
		json_decref(r);
		return sb_err_prefix(-rc, "%s", path);
	}
	*out = r;
	return 0;
}

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

static void add_counters(json_t *groups, const json_t *cell)
{
	json_t *c = json_object_get(cell, "counters"), *d, *v, *size;
	const char *key;
	char name[160];

	d = json_object_get(json_object_get(c, "vmstat"), "delta");
	for (int i = 0; report_vmstat[i]; i++)
		if ((v = json_object_get(d, report_vmstat[i]))) {
			snprintf(name, sizeof(name), "vmstat.%s", report_vmstat[i]);
			add_value(groups, cell, "counter", name, v, NULL);
		}
	d = json_object_get(json_object_get(c, "memory_events"), "delta");
	json_object_foreach(d, key, v) {
		snprintf(name, sizeof(name), "memory.events.%s", key);
		add_value(groups, cell, "counter", name, v, NULL);
	}
	d = json_object_get(json_object_get(c, "zswap"), "delta");
	json_object_foreach(d, key, v) {
		if (strcmp(key, "pool_total_size") && strcmp(key, "stored_pages")) {
			snprintf(name, sizeof(name), "zswap.%s", key);
			add_value(groups, cell, "counter", name, v, NULL);
		}
	}
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

int summary_validate(const json_t *s)
{
	static const char *const str_keys[] = { "kernel", "topology", "workload", NULL };
	static const char *const sections[] = { "rows", "counters", NULL };
	json_t *row, *v;
	size_t i, j;

	if (!json_is_object(s))
		return sb_err(EINVAL, "(top): expected an object");
	if (json_integer_value(json_object_get(s, "schema_version")) != SUMMARY_SCHEMA_VERSION)
		return sb_err(EINVAL, "schema_version: expected %d", SUMMARY_SCHEMA_VERSION);
	if (!json_is_array(json_object_get(s, "cells")))
		return sb_err(EINVAL, "cells: expected an array");
	for (int sec = 0; sections[sec]; sec++) {
		const char *name_key = sec ? "counter" : "metric";

		if (!json_is_array(json_object_get(s, sections[sec])))
			return sb_err(EINVAL, "%s: expected an array", sections[sec]);
		json_array_foreach(json_object_get(s, sections[sec]), i, row) {
			for (int k = 0; str_keys[k]; k++)
				if (!json_is_string(json_object_get(row, str_keys[k])))
					return sb_err(EINVAL, "%s[%zu].%s: expected a string",
						      sections[sec], i, str_keys[k]);
			if (!json_is_string(json_object_get(row, name_key)))
				return sb_err(EINVAL, "%s[%zu].%s: expected a string",
					      sections[sec], i, name_key);
			if (!sec && (!json_is_string(json_object_get(row, "unit")) ||
				     !json_is_string(json_object_get(row, "better")) ||
				     (strcmp(json_string_value(json_object_get(row, "better")),
					     "lower") &&
				      strcmp(json_string_value(json_object_get(row, "better")),
					     "higher"))))
				return sb_err(EINVAL, "rows[%zu]: expected unit and better "
					      "(lower|higher)", i);
			v = json_object_get(row, "values");
			if (!json_is_array(v) || !json_array_size(v))
				return sb_err(EINVAL, "%s[%zu].values: expected a non-empty array",
					      sections[sec], i);
			for (j = 0; j < json_array_size(v); j++)
				if (!json_is_number(json_array_get(v, j)))
					return sb_err(EINVAL, "%s[%zu].values[%zu]: expected a "
						      "number", sections[sec], i, j);
		}
	}
	return 0;
}

/* What summary_build reads of a result: keeps memory flat when a large run
 * is re-indexed. */
static json_t *result_compact(json_t *r)
{
	static const char *const keep[] = { "cell_id", "kernel", "topology", "workload",
					    "iteration", "status", "metrics", "kmsg", NULL };
	static const char *const deltas[] = { "vmstat", "memory_events", "zswap", "mthp", NULL };
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
		if (stat(p, &st) == 0) {
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
		rc = store_load_json(sp, STORE_SUMMARY_MAX, &s);
		if (rc)
			goto out;
		rc = summary_validate(s);
		if (rc) {
			rc = sb_err_prefix(-rc, "%s", sp);
			goto out;
		}
		*out = s;
		s = NULL;
		goto out;
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
