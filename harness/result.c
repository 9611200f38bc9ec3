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

/* Guest values must stay far from overflow in sums and squares (1.7e308
 * made rows vanish): anything a kernel counts fits in 1e18. */
#define VALUE_MAX 1e18
#define METRICS_MAX 4096
#define COUNTERS_MAX 65536
#define TEXT_MAX 65536

/* Names and units end up in tables, terminals and gnuplot scripts:
 * printable ASCII without quotes, backslashes or '$'. */
static int label_str_ok(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) > max)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("\"'\\`$", *s))
			return 0;
	return 1;
}

/* A reason text: printable, spaces allowed, no control characters. */
static int text_ok(const char *s, size_t max)
{
	if (!s || strlen(s) > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static int label_ok(const json_t *v, size_t max)
{
	/* json_string_length: a NUL inside the string must not hide the rest. */
	return json_is_string(v) && json_string_length(v) <= max &&
	       json_string_length(v) == strlen(json_string_value(v)) &&
	       label_str_ok(json_string_value(v), max);
}

static int value_ok(const json_t *v)
{
	double d = json_number_value(v);

	return json_is_number(v) && isfinite(d) && fabs(d) <= VALUE_MAX;
}

/* Counters: per source "absent" or nested objects (depth <= 3 below the
 * source) whose leaves are numbers within VALUE_MAX. */
static int counters_walk(const json_t *o, char *path, size_t plen, int depth, size_t *n)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		size_t l = strlen(path);

		snprintf(path + l, plen - l, ".%.64s", key);
		if (++*n > COUNTERS_MAX)
			return sb_err(EINVAL, "counters: more than %d values", COUNTERS_MAX);
		if (!label_str_ok(key, 64))
			return sb_err(EINVAL, "%s: expected a short name of printable characters",
				      path);
		if (!strcmp(key, "scope") && json_is_string(v)) {
			/* What a source measured over (perf: the workload's processes). */
			if (!text_ok(json_string_value(v), 256))
				return sb_err(EINVAL, "%s: expected a short text of printable "
					      "characters", path);
		} else if (!strcmp(key, "absent") && (json_is_string(v) || json_is_object(v))) {
			/* What a source could not measure, and why: short texts. */
			const char *what;
			json_t *why;

			if (json_is_string(v) && !text_ok(json_string_value(v), 256))
				return sb_err(EINVAL, "%s: expected a short reason of printable "
					      "characters", path);
			json_object_foreach(json_is_object(v) ? v : NULL, what, why)
				if (!label_str_ok(what, 64) || !json_is_string(why) ||
				    !text_ok(json_string_value(why), 256))
					return sb_err(EINVAL, "%s.%.64s: expected a short reason of "
						      "printable characters", path, what);
		} else if (json_is_object(v) && depth < 3) {
			int rc = counters_walk(v, path, plen, depth + 1, n);

			if (rc)
				return rc;
		} else if (!value_ok(v)) {
			return sb_err(EINVAL, "%s: expected a finite number of at most 1e18",
				      path);
		}
		path[l] = '\0';
	}
	return 0;
}

static int counters_validate(const json_t *c)
{
	const char *src;
	json_t *v;
	char path[512];
	size_t n = 0;

	if (!json_is_object(c))
		return sb_err(EINVAL, "counters: expected an object");
	json_object_foreach((json_t *)c, src, v) {
		int rc;

		if (json_is_string(v) && !strcmp(json_string_value(v), "absent"))
			continue;
		snprintf(path, sizeof(path), "counters.%.64s", src);
		if (!json_is_object(v))
			return sb_err(EINVAL, "%s: expected an object or \"absent\"", path);
		rc = counters_walk(v, path, sizeof(path), 0, &n);
		if (rc)
			return rc;
	}
	return 0;
}

int result_validate(const json_t *r, int final)
{
	static const char *const statuses[] = { "ok", "failed", "skipped", "crashed", "timeout",
						"invalid", "interrupted", NULL };
	static const char *const names[] = { "kernel", "topology", "workload", "cell_id", NULL };
	json_t *v, *m;
	size_t i;
	int ok = 0;

	if (!json_is_object(r))
		return sb_err(EINVAL, "(top): expected an object");
	for (int n = 0; final && names[n]; n++)
		if (!json_is_string(json_object_get(r, names[n])) ||
		    (n < 3 && name_problem(json_string_value(json_object_get(r, names[n])))))
			return sb_err(EINVAL, "%s: expected a name", names[n]);
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
	if (!ok) {
		char *e = str_escape(json_string_value(v), 0);
		int rc = sb_err(EINVAL, "status: unknown value '%.40s'", e ? e : "?");

		free(e);
		return rc;
	}
	v = json_object_get(r, "error");
	if (v && (!json_is_string(v) || json_string_length(v) > TEXT_MAX))
		return sb_err(EINVAL, "error: expected a string of at most %d bytes", TEXT_MAX);
	v = json_object_get(r, "metrics");
	if (v && !json_is_array(v))
		return sb_err(EINVAL, "metrics: expected an array");
	if (json_array_size(v) > METRICS_MAX)
		return sb_err(EINVAL, "metrics: more than %d", METRICS_MAX);
	if (!strcmp(json_string_value(json_object_get(r, "status")), "ok") &&
	    !json_array_size(v))
		return sb_err(EINVAL, "metrics: a cell with status ok reported no metrics");
	json_array_foreach(v, i, m) {
		json_t *name = json_object_get(m, "name"), *val = json_object_get(m, "value");
		json_t *unit = json_object_get(m, "unit"), *better = json_object_get(m, "better");

		if (!json_is_object(m) || !label_ok(name, 64))
			return sb_err(EINVAL, "metrics[%zu].name: expected a short name of "
				      "printable characters", i);
		if (!value_ok(val))
			return sb_err(EINVAL, "metrics[%zu].value: expected a finite number of "
				      "at most 1e18", i);
		if (!json_is_string(unit) || json_string_length(unit) > 16 ||
		    (json_string_length(unit) && !label_ok(unit, 16)))
			return sb_err(EINVAL, "metrics[%zu].unit: expected a short string", i);
		if (!json_is_string(better) || (strcmp(json_string_value(better), "lower") &&
						 strcmp(json_string_value(better), "higher")))
			return sb_err(EINVAL, "metrics[%zu].better: expected \"lower\" or "
				      "\"higher\"", i);
		/* One value per metric per cell: a repeat would count as another
		 * iteration in the statistics. */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(v, j),
								       "name")),
				    json_string_value(name)))
				return sb_err(EINVAL, "metrics[%zu].name: '%s' already given in "
					      "metrics[%zu]", i, json_string_value(name), j);
	}
	v = json_object_get(r, "counters");
	if (v) {
		int rc = counters_validate(v);

		if (rc)
			return rc;
	}
	v = json_object_get(r, "kmsg");
	if (v) {
		const char *key;
		json_t *kv;

		if (!json_is_object(v))
			return sb_err(EINVAL, "kmsg: expected an object");
		json_object_foreach(v, key, kv)
			if (strcmp(key, "lines") &&
			    (!json_is_integer(kv) || json_integer_value(kv) < 0))
				return sb_err(EINVAL, "kmsg.%.64s: expected a count", key);
	}
	v = json_object_get(r, "memcg");
	if (v && (!json_is_object(v) || !json_is_boolean(json_object_get(v, "limit_held"))))
		return sb_err(EINVAL, "memcg.limit_held: expected true or false");
	/* perf counters go into summaries as they are: numbers or nothing. */
	v = json_object_get(json_object_get(json_object_get(r, "counters"), "perf"), "delta");
	if (v) {
		const char *key;

		if (!json_is_object(v))
			return sb_err(EINVAL, "counters.perf.delta: expected an object");
		json_object_foreach(v, key, m)
			if (!json_is_integer(m) || json_integer_value(m) < 0 || strlen(key) > 64)
				return sb_err(EINVAL, "counters.perf.delta.%.64s: expected a "
					      "non-negative integer", key);
	}
	return 0;
}

static int result_check(const char *path, json_t *r, int final, json_t **out)
{
	int rc = result_validate(r, final);

	if (rc) {
		json_decref(r);
		return sb_err_prefix(-rc, "%s", path);
	}
	*out = r;
	return 0;
}

int result_load(const char *path, int final, json_t **out)
{
	json_t *r;
	int rc = store_load_json(path, RESULT_MAX_BYTES, &r);

	return rc ? rc : result_check(path, r, final, out);
}

int result_load_beneath(const char *dir, const char *name, int final, json_t **out)
{
	json_t *r;
	char *path;
	int rc = store_load_json_beneath(dir, name, RESULT_MAX_BYTES, &r);

	if (rc)
		return rc;
	path = xasprintf("%s/%s", dir, name);
	rc = result_check(path, r, final, out);
	free(path);
	return rc;
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
	json_array_foreach(json_object_get(s, "cells"), i, row)
		if (!json_is_string(json_object_get(row, "cell_id")) ||
		    !json_is_string(json_object_get(row, "status")))
			return sb_err(EINVAL, "cells[%zu]: expected cell_id and status", i);
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
			for (int k = 0; str_keys[k]; k++)
				if (name_problem(json_string_value(json_object_get(row, str_keys[k]))))
					return sb_err(EINVAL, "%s[%zu].%s: expected a name",
						      sections[sec], i, str_keys[k]);
			if (!label_ok(json_object_get(row, name_key), 160))
				return sb_err(EINVAL, "%s[%zu].%s: expected a short name of "
					      "printable characters", sections[sec], i, name_key);
			v = json_object_get(row, "values");
			if (!json_is_array(v) || !json_array_size(v))
				return sb_err(EINVAL, "%s[%zu].values: expected a non-empty array",
					      sections[sec], i);
			for (j = 0; j < json_array_size(v); j++)
				if (!value_ok(json_array_get(v, j)))
					return sb_err(EINVAL, "%s[%zu].values[%zu]: expected a "
						      "finite number of at most 1e18", sections[sec],
						      i, j);
			if (json_integer_value(json_object_get(row, "n")) != (json_int_t)j)
				return sb_err(EINVAL, "%s[%zu].n: expected %zu (the number of "
					      "values)", sections[sec], i, j);
		}
	}
	return 0;
}

int run_validate(const json_t *run)
{
	static const char *const lists[] = { "kernels", "topologies", "workloads", NULL };
	json_t *v;
	size_t i;

	if (!json_is_object(run))
		return sb_err(EINVAL, "(top): expected an object");
	v = json_object_get(run, "name");
	if (v && name_problem(json_string_value(v)))
		return sb_err(EINVAL, "name: expected a name");
	if (!json_array_size(json_object_get(run, "kernels")))
		return sb_err(EINVAL, "kernels: expected a non-empty array");
	for (int l = 0; lists[l]; l++) {
		v = json_object_get(run, lists[l]);
		if (v && !json_is_array(v))
			return sb_err(EINVAL, "%s: expected an array", lists[l]);
		for (i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);

			if (!json_is_object(e) ||
			    name_problem(json_string_value(json_object_get(e, "name"))))
				return sb_err(EINVAL, "%s[%zu].name: expected a name", lists[l], i);
		}
	}
	return 0;
}
