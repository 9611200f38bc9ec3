/* The nightly configuration file (NIGHTLY.json, docs/nightly.md): its
 * reading, checking and release, and per-metric thresholds. One night's run
 * is in nightly.c. */
#define _GNU_SOURCE
#include "harness/nightly.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "common/log.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "harness/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the file ---- */

/* jsonloc_get_int into an int. */
static int get_int(const char *file, const char *text, const char *path, const json_t *o,
		   const char *key, int lo, int hi, int *out)
{
	long long v = *out;
	int rc = jsonloc_get_int(file, text, path, o, key, lo, hi, &v);

	if (!rc)
		*out = (int)v;
	return rc;
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
	static const char *const base_keys[] = { "nights", NULL };
	static const char *const thr_keys[] = { "default", "metrics", "workloads", NULL };
	static const char *const bis_keys[] = { "enabled", "alpha", "beta", "min_iterations",
						"max_iterations", "batch", NULL };
	json_t *o, *e;
	int rc;

	if ((o = json_object_get(root, "baseline")) &&
	    ((rc = jsonloc_check_keys(path, text, "baseline", o, base_keys)) ||
	     (rc = get_int(path, text, "baseline", o, "nights", 1, 365, &c->baseline_nights))))
		return rc;
	if ((o = json_object_get(root, "thresholds")) &&
	    ((rc = jsonloc_check_keys(path, text, "thresholds", o, thr_keys)) ||
	     (rc = jsonloc_get_num(path, text, "thresholds", o, "default", 0, 1000,
				   &c->threshold_default)) ||
	     (rc = thresholds(path, text, json_object_get(o, "metrics"), &c->threshold_metrics)) ||
	     (rc = thresholds(path, text, json_object_get(o, "workloads"),
			      &c->threshold_workloads))))
		return rc;
	if (!(o = json_object_get(root, "bisect")))
		return 0;
	e = json_object_get(o, "enabled");
	if ((rc = jsonloc_check_keys(path, text, "bisect", o, bis_keys)) ||
	    (rc = jsonloc_get_num(path, text, "bisect", o, "alpha", 1e-6, 0.49, &c->alpha)) ||
	    (rc = jsonloc_get_num(path, text, "bisect", o, "beta", 1e-6, 0.49, &c->beta)) ||
	    (rc = get_int(path, text, "bisect", o, "min_iterations", 1, 100, &c->min_n)) ||
	    (rc = get_int(path, text, "bisect", o, "max_iterations", 1, 1000, &c->max_n)) ||
	    (rc = get_int(path, text, "bisect", o, "batch", 1, 100, &c->batch)))
		return rc;
	if (e && !json_is_boolean(e))
		return jsonloc_err(path, text, "bisect.enabled", "expected true or false");
	if (e)
		c->bisect = json_is_true(e);
	if (c->max_n < c->min_n)
		return jsonloc_err(path, text, "bisect.max_iterations", "below min_iterations (%d)",
				   c->min_n);
	return 0;
}

int nightly_config_load(const char *path, struct nightly_config *c)
{
	static const char *const top[] = { "name", "description", "tree", "remote", "branch",
					   "suite", "kernel", "database", "results", "reports",
					   "baseline", "thresholds", "bisect", "iterations",
					   "fetch_timeout", NULL };
	char *text = NULL, *dir, *slash, *tree = NULL, *suite = NULL, *db = NULL, *res = NULL;
	char *rep = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	c->baseline_nights = 5;
	c->threshold_default = 5.0;
	c->bisect = 1;
	c->alpha = c->beta = 0.01;
	c->min_n = 2;
	c->max_n = 12;
	c->batch = 2;
	c->fetch_timeout_s = 900;
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
	if ((rc = jsonloc_check_keys(path, text, "", root, top)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "name", 0, &c->name)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "tree", 1, &tree)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "remote", 0, &c->remote)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "branch", 1, &c->branch)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "suite", 1, &suite)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "kernel", 0, &c->kernel)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "database", 1, &db)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "results", 1, &res)) ||
	    (rc = jsonloc_get_str(path, text, "", root, "reports", 0, &rep)) ||
	    (rc = get_int(path, text, "", root, "iterations", 1, 1000, &c->iterations)) ||
	    (rc = get_int(path, text, "", root, "fetch_timeout", 1, 86400, &c->fetch_timeout_s)))
		goto done;
	if (!c->name)
		c->name = xstrdup(c->branch);
	if (!c->remote)
		c->remote = xstrdup("origin");
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

