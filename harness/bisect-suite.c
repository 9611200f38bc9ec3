/* The suite a bisection step runs: the nightly suite cut down to one
 * kernel (built from the tree at a commit), one topology and workload,
 * its relative paths made absolute. */
#define _GNU_SOURCE
#include "harness/bisect.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "harness/spec.h"
#include "harness/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_pathish(const char *s)
{
	return strchr(s, '/') || strstr(s, ".json") || strstr(s, ".config") ||
	       strstr(s, ".patch") || strstr(s, ".mbx") || strstr(s, ".mbox");
}

static void absolutize(json_t *arr_or_str, json_t *parent, const char *key, size_t idx,
		       const char *base_dir)
{
	const char *s = json_string_value(arr_or_str);

	if (!s || s[0] == '/' || !strncmp(s, "cache:", 6) || !is_pathish(s))
		return;
	{
		char *p = xasprintf("%s/%s", base_dir, s), *r = realpath(p, NULL);
		json_t *v = json_string(r ? r : p);

		if (key)
			json_object_set_new(parent, key, v);
		else
			json_array_set_new(parent, idx, v);
		free(p);
		free(r);
	}
}

static void absolutize_array(json_t *arr, const char *base_dir)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		absolutize(v, arr, NULL, i, base_dir);
}

int bisect_suite_at(const char *suite, const char *kernel, const char *tree,
		    const char *commit, const char *topology, const char *workload,
		    const char *path)
{
	json_error_t jerr;
	json_t *s = json_load_file(suite, 0, &jerr), *k, *kernels, *arr, *v;
	char *sdir = NULL, *slash, *abs_tree = realpath(tree, NULL);
	size_t i;
	int rc = 0, found = 0;

	if (!s) {
		free(abs_tree);
		return sb_err(EINVAL, "%s:%d: %s", suite, jerr.line, jerr.text);
	}
	{
		char *abs = realpath(suite, NULL);

		sdir = abs ? abs : xstrdup(".");
		if (abs && (slash = strrchr(sdir, '/')))
			*slash = 0;
	}
	kernels = json_array();
	json_array_foreach(json_object_get(s, "kernels"), i, k) {
		const char *name = json_string_value(json_object_get(k, "name"));
		json_t *g = json_object_get(k, "git"), *cfg = json_object_get(k, "config");
		int branch = g && !found && (!kernel || (name && !strcmp(name, kernel)));

		if (!branch && topology)
			continue;
		k = json_deep_copy(k);
		g = json_object_get(k, "git");
		cfg = json_object_get(k, "config");
		if (branch) {
			found = 1;
			json_object_set_new(g, "tree", json_string(abs_tree ? abs_tree : tree));
			json_object_set_new(g, "ref", json_string(commit));
			json_object_del(g, "branch");
		} else if (g && json_is_string(json_object_get(g, "tree"))) {
			absolutize(json_object_get(g, "tree"), g, "tree", 0, sdir);
		}
		if (g)
			absolutize_array(json_object_get(g, "patches"), sdir);
		if (json_is_string(json_object_get(cfg, "base")))
			absolutize(json_object_get(cfg, "base"), cfg, "base", 0, sdir);
		absolutize_array(json_object_get(cfg, "fragments"), sdir);
		json_array_append_new(kernels, k);
	}
	json_object_set_new(s, "kernels", kernels);
	if (!found) {
		rc = sb_err(EINVAL, "%s: kernels: no git kernel%s%s%s to follow the branch", suite,
			    kernel ? " named '" : "", kernel ?: "", kernel ? "'" : "");
		goto out;
	}
	arr = json_array();
	json_array_foreach(json_object_get(s, "topologies"), i, v) {
		const char *name = json_is_string(v) ? json_string_value(v)
						     : json_string_value(json_object_get(v, "name"));
		const char *b = name ? strrchr(name, '/') : NULL;
		size_t len;

		b = b ? b + 1 : name;
		len = b ? strlen(b) : 0;
		if (len > 5 && !strcmp(b + len - 5, ".json"))
			len -= 5;
		if (!topology || (b && strlen(topology) == len && !strncmp(b, topology, len)))
			json_array_append(arr, v);
	}
	absolutize_array(arr, sdir);
	json_object_set_new(s, "topologies", arr);
	if (workload) {
		arr = json_array();
		json_array_foreach(json_object_get(s, "workloads"), i, v)
			if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", workload))
				json_array_append(arr, v);
		json_object_set_new(s, "workloads", arr);
	}
	if (!json_array_size(json_object_get(s, "topologies")) ||
	    !json_array_size(json_object_get(s, "workloads"))) {
		rc = sb_err(EINVAL, "%s: no topology '%s' or no workload '%s' in it", suite,
			    topology ?: "", workload ?: "");
		goto out;
	}
	{
		char *text = json_dumps(s, JSON_INDENT(2));

		rc = write_file_atomic(path, text, strlen(text));
		free(text);
	}
out:
	json_decref(s);
	free(sdir);
	free(abs_tree);
	return rc;
}
