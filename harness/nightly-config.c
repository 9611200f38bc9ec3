/* The nightly configuration file (NIGHTLY.json, docs/nightly.md): its
 * reading, checking and release, and per-metric thresholds. One night's run
 * is in nightly.c. */
#define _GNU_SOURCE
#include "harness/nightly.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "common/log.h"
#include "common/params.h"
#include "harness/spec-int.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "harness/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the file ---- */

/* The file's sections: one table each, checked by the one validator
 * (common/params.h); defaults live here and nowhere else. */
static const struct param_def top_params[] = {
	PARAM_STRING("name", 0, NULL, "the nightly's name (default: the branch)"),
	PARAM_STRING("description", 0, NULL, "free text"),
	PARAM_STRING_REQ("tree", 0, "the kernel git tree: a path or a git URL"),
	PARAM_STRING("remote", 0, "origin", "the remote to fetch"),
	PARAM_STRING_REQ("branch", 0, "the branch to follow"),
	PARAM_STRING_REQ("suite", 0, "the spec to run (relative to this file)"),
	PARAM_STRING("kernel", 0, NULL, "the suite's git kernel that follows the branch"),
	PARAM_STRING_REQ("database", 0, "the history database (SQLite)"),
	PARAM_STRING_REQ("results", 0, "where run directories go"),
	PARAM_STRING("reports", 0, NULL, "where reports go (default: results)"),
	PARAM_CUSTOM("baseline", NULL, "{\"nights\": N}"),
	PARAM_CUSTOM("thresholds", NULL, "{\"default\": %, \"metrics\": {...}, \"workloads\": {...}}"),
	PARAM_CUSTOM("bisect", NULL, "{\"enabled\", \"alpha\", \"beta\", ...}"),
	PARAM_INT("iterations", 1, 1000, NULL, "iterations per cell (default: the suite's)"),
	PARAM_INT("fetch_timeout", 1, 86400, "900", "seconds git fetch may take"),
	PARAM_END(),
};

static const struct param_def baseline_params[] = {
	PARAM_INT("nights", 1, 365, "5", "the last N nights judged good form the baseline"),
	PARAM_END(),
};

static const struct param_def threshold_params[] = {
	PARAM_NUM("default", 0, 1000, "5", "a regression is a change beyond this % (any metric)"),
	PARAM_CUSTOM("metrics", NULL, "per metric name: a %"),
	PARAM_CUSTOM("workloads", NULL, "per workload name: a %"),
	PARAM_END(),
};

static const struct param_def bisect_params[] = {
	PARAM_BOOL("enabled", "true", "bisect a regression"),
	PARAM_NUM("alpha", 1e-6, 0.49, "0.01", "chance of calling a good commit bad"),
	PARAM_NUM("beta", 1e-6, 0.49, "0.01", "chance of calling a bad commit good"),
	PARAM_INT("min_iterations", 1, 100, "2", "cells per step before deciding"),
	PARAM_INT("max_iterations", 1, 1000, "12", "cells per step at most (then skip)"),
	PARAM_INT("batch", 1, 100, "2", "cells added per undecided round"),
	PARAM_END(),
};

/* Section obj (at JSON path where, "" for the root) against its table, the
 * message pointing at the file's line. */
static int check(const char *file, const char *text, const json_t *obj, const char *where,
		 const struct param_def *defs)
{
	int rc = params_check(obj, where, defs);

	return rc ? spec_relocate(file, text, rc) : 0;
}

/* An int-valued key through its table (and the same relocation). */
static int get_int(const char *file, const char *text, const json_t *obj, const char *where,
		   const struct param_def *defs, const char *key, int *out)
{
	long long v = *out;
	int rc = params_get_int(obj, where, defs, key, &v);

	if (rc)
		return spec_relocate(file, text, rc);
	*out = (int)v;
	return 0;
}

/* A string key through its table, copied (NULL when absent, no default). */
static char *str_copy(const json_t *obj, const struct param_def *defs, const char *key)
{
	const char *v = NULL;

	params_get_string(obj, "", defs, key, &v);
	return v ? xstrdup(v) : NULL;
}

/* A path relative to the file's directory. */
static char *rel_to(const char *dir, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
}

static int is_url(const char *s)
{
	return strstr(s, "://") || !strncmp(s, "git@", 4);
}

static int thresholds(const char *file, const char *text, const json_t *t, json_t **out)
{
	const char *key;
	json_t *v;

	*out = json_object();
	if (!t)
		return 0;
	json_object_foreach((json_t *)t, key, v) {
		char *p = jsonloc_path_append_key("", key);
		int bad = !json_is_number(v) || !(json_number_value(v) >= 0);
		int rc = bad ? jsonloc_err(file, text, p, "expected a percentage >= 0") : 0;

		free(p);
		if (rc)
			return rc;
		json_object_set(*out, key, v);
	}
	return 0;
}

/* "tree": a URL is cloned once under the cache; a path must be a git tree.
 * Takes tree (a URL is kept as c->tree_url). */
static int config_tree(struct nightly_config *c, const char *path, const char *text,
		       const char *dir, char **tree)
{
	char *t, *g, *h;
	int rc = 0;

	if (is_url(*tree)) {
		char hex[65], *cache = sb_cache_dir();

		sha256_hex(*tree, strlen(*tree), hex);
		c->tree_url = *tree;
		c->tree = xasprintf("%s/src/nightly-%.12s", cache, hex);
		free(cache);
		*tree = NULL;
		return 0;
	}
	t = rel_to(dir, *tree);
	g = xasprintf("%s/.git", t);
	h = xasprintf("%s/HEAD", t);
	if (!is_dir(g) && !path_exists(h))
		rc = jsonloc_err(path, text, "tree", "'%s' is not a git tree (or give a URL)", t);
	else
		c->tree = realpath(t, NULL);
	free(t);
	free(g);
	free(h);
	return rc;
}

/* "suite": a spec that loads and has the git kernel ("kernel", or any)
 * that follows the branch. */
static int config_suite(struct nightly_config *c, const char *path, const char *text)
{
	struct spec s;
	int rc, found = 0;

	if (!path_exists(c->suite))
		return jsonloc_err(path, text, "suite", "no such file '%s'", c->suite);
	spec_init(&s);
	if ((rc = spec_load(c->suite, &s)))
		return jsonloc_err(path, text, "suite", "%s", sb_lasterr());
	for (size_t i = 0; i < s.nkernels; i++)
		found |= s.kernels[i].build && (!c->kernel || !strcmp(s.kernels[i].name, c->kernel));
	if (!found)
		rc = jsonloc_err(path, text, c->kernel ? "kernel" : "suite",
				 "the suite has no git kernel%s%s%s to follow the branch",
				 c->kernel ? " named '" : "", c->kernel ?: "", c->kernel ? "'" : "");
	spec_release(&s);
	return rc;
}

/* "baseline", "thresholds" and "bisect", each optional. */
static int config_judging(struct nightly_config *c, const char *path, const char *text,
			  const json_t *root)
{
	const json_t *b = json_object_get(root, "baseline");
	const json_t *t = json_object_get(root, "thresholds");
	const json_t *o = json_object_get(root, "bisect");
	bool enabled = true;
	int rc;

	if ((rc = check(path, text, b, "baseline", baseline_params)) ||
	    (rc = get_int(path, text, b, "baseline", baseline_params, "nights",
			  &c->baseline_nights)) ||
	    (rc = check(path, text, t, "thresholds", threshold_params)) ||
	    (rc = params_get_num(t, "thresholds", threshold_params, "default",
				 &c->threshold_default)) ||
	    (rc = thresholds(path, text, json_object_get(t, "metrics"), &c->threshold_metrics)) ||
	    (rc = thresholds(path, text, json_object_get(t, "workloads"),
			     &c->threshold_workloads)) ||
	    (rc = check(path, text, o, "bisect", bisect_params)) ||
	    (rc = params_get_bool(o, "bisect", bisect_params, "enabled", &enabled)) ||
	    (rc = params_get_num(o, "bisect", bisect_params, "alpha", &c->alpha)) ||
	    (rc = params_get_num(o, "bisect", bisect_params, "beta", &c->beta)) ||
	    (rc = get_int(path, text, o, "bisect", bisect_params, "min_iterations", &c->min_n)) ||
	    (rc = get_int(path, text, o, "bisect", bisect_params, "max_iterations", &c->max_n)) ||
	    (rc = get_int(path, text, o, "bisect", bisect_params, "batch", &c->batch)))
		return rc;
	c->bisect = enabled;
	if (c->max_n < c->min_n)
		return jsonloc_err(path, text, "bisect.max_iterations", "below min_iterations (%d)",
				   c->min_n);
	return 0;
}

int nightly_config_load(const char *path, struct nightly_config *c)
{
	char *text = NULL, *dir, *slash, *tree = NULL, *suite = NULL, *db = NULL, *res = NULL;
	char *rep = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	if ((rc = read_file(path, 1 << 20, &text, NULL)))
		return sb_err_prefix(-rc, "nightly file");
	root = json_loads(text, 0, &jerr);
	if (!root) {
		rc = sb_err(EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	dir = realpath(path, NULL);
	if (dir && (slash = strrchr(dir, '/')))
		*slash = 0;
	if (!dir)
		dir = xstrdup(".");
	if ((rc = check(path, text, root, "", top_params)) ||
	    (rc = get_int(path, text, root, "", top_params, "iterations", &c->iterations)) ||
	    (rc = get_int(path, text, root, "", top_params, "fetch_timeout",
			  &c->fetch_timeout_s)))
		goto done;
	c->name = str_copy(root, top_params, "name");
	c->remote = str_copy(root, top_params, "remote");
	c->branch = str_copy(root, top_params, "branch");
	c->kernel = str_copy(root, top_params, "kernel");
	tree = str_copy(root, top_params, "tree");
	suite = str_copy(root, top_params, "suite");
	db = str_copy(root, top_params, "database");
	res = str_copy(root, top_params, "results");
	rep = str_copy(root, top_params, "reports");
	if (!c->name)
		c->name = xstrdup(c->branch);
	if ((rc = config_tree(c, path, text, dir, &tree)))
		goto done;
	c->suite = rel_to(dir, suite);
	if ((rc = config_suite(c, path, text)))
		goto done;
	c->database = rel_to(dir, db);
	c->results = rel_to(dir, res);
	c->reports = rep ? rel_to(dir, rep) : xstrdup(c->results);
	if ((rc = config_judging(c, path, text, root)))
		goto done;
	if (!c->threshold_metrics)
		c->threshold_metrics = json_object();
	if (!c->threshold_workloads)
		c->threshold_workloads = json_object();
done:
	free(dir);
out:
	free(text);
	free(tree);
	free(suite);
	free(db);
	free(res);
	free(rep);
	json_decref(root);
	if (rc)
		nightly_config_release(c);
	return rc;
}

void nightly_config_release(struct nightly_config *c)
{
	free(c->path);
	free(c->name);
	free(c->tree);
	free(c->tree_url);
	free(c->remote);
	free(c->branch);
	free(c->suite);
	free(c->kernel);
	free(c->database);
	free(c->results);
	free(c->reports);
	json_decref(c->threshold_metrics);
	json_decref(c->threshold_workloads);
	memset(c, 0, sizeof(*c));
}

double nightly_threshold(const struct nightly_config *c, const char *workload,
			 const char *metric)
{
	json_t *v = json_object_get(c->threshold_metrics, metric);

	if (!v)
		v = json_object_get(c->threshold_workloads, workload);
	return v ? json_number_value(v) : c->threshold_default;
}

