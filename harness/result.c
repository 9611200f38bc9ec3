#define _GNU_SOURCE
#include "result.h"
#include "err.h"
#include "fsutil.h"
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int result_validate(const json_t *r)
{
	static const char *const statuses[] = { "ok", "failed", "skipped", NULL };
	json_t *v, *m;
	size_t i;
	int ok = 0;

	if (!json_is_object(r))
		return sb_err(EINVAL, "(top): expected an object");
	v = json_object_get(r, "schema_version");
	if (!json_is_integer(v) || json_integer_value(v) != RESULT_SCHEMA_VERSION)
		return sb_err(EINVAL, "schema_version: expected %d", RESULT_SCHEMA_VERSION);
	v = json_object_get(r, "status");
	if (!json_is_string(v))
		return sb_err(EINVAL, "status: expected a string");
	for (int s = 0; statuses[s]; s++)
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

int result_load(const char *path, json_t **out)
{
	json_error_t jerr;
	char *text;
	json_t *r;
	int rc = read_file(path, RESULT_MAX_BYTES, &text, NULL);

	if (rc)
		return rc;
	r = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!r)
		return sb_err(EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	rc = result_validate(r);
	if (rc) {
		json_decref(r);
		return sb_err_prefix(-rc, "%s", path);
	}
	*out = r;
	return 0;
}

json_t *summary_build(const json_t *cells)
{
	json_t *groups = json_object(), *rows = json_array(), *cell, *g;
	const char *key;
	size_t i;

	/* Group metric values by kernel/topology/workload/metric. */
	json_array_foreach(cells, i, cell) {
		json_t *m;
		size_t j;

		if (strcmp(json_string_value(json_object_get(cell, "status")) ?: "", "ok"))
			continue;
		json_array_foreach(json_object_get(cell, "metrics"), j, m) {
			char *k = xasprintf("%s\x1f%s\x1f%s\x1f%s",
					    json_string_value(json_object_get(cell, "kernel")),
					    json_string_value(json_object_get(cell, "topology")),
					    json_string_value(json_object_get(cell, "workload")),
					    json_string_value(json_object_get(m, "name")));

			g = json_object_get(groups, k);
			if (!g) {
				g = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:[]}", "kernel",
					      json_object_get(cell, "kernel"), "topology",
					      json_object_get(cell, "topology"), "workload",
					      json_object_get(cell, "workload"), "metric",
					      json_object_get(m, "name"), "unit",
					      json_object_get(m, "unit"), "better",
					      json_object_get(m, "better"), "values");
				json_object_set_new(groups, k, g);
			}
			json_array_append(json_object_get(g, "values"), json_object_get(m, "value"));
			free(k);
		}
	}
	json_object_foreach(groups, key, g) {
		json_t *vals = json_object_get(g, "values"), *row;
		size_t n = json_array_size(vals);
		double *v = calloc(n, sizeof(double));
		struct stats_summary st;

		for (size_t j = 0; j < n; j++)
			v[j] = json_number_value(json_array_get(vals, j));
		if (stats_summarize(v, n, &st) == 0) {
			row = json_pack("{s:O,s:O,s:O,s:O,s:I,s:f,s:f,s:f,s:f,s:f,s:O,s:O,s:O}",
					"kernel", json_object_get(g, "kernel"), "topology",
					json_object_get(g, "topology"), "workload",
					json_object_get(g, "workload"), "metric",
					json_object_get(g, "metric"), "n", (json_int_t)n, "mean",
					st.mean, "stddev", st.stddev, "min", st.min, "max", st.max,
					"median", st.median, "unit", json_object_get(g, "unit"),
					"better", json_object_get(g, "better"), "values", vals);
			json_array_append_new(rows, row);
		}
		free(v);
	}
	json_decref(groups);
	return rows;
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

void summary_print(const json_t *summary, FILE *out)
{
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
