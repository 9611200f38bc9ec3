/* Messages of the spec parser that point at the file and line of a JSON
 * path, and the checks spec.c and spec-kernels.c share. */
#define _GNU_SOURCE
#include "harness/spec-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int get_str(const char *file, const char *text, const char *path, json_t *obj,
	    const char *key, int required, char **out)
{
	json_t *v = json_object_get(obj, key);
	char *p = jsonloc_path_append_key(path, key);
	int rc = 0;

	if (!v && required)
		rc = jsonloc_err(file, text, path, "missing \"%s\"", key);
	else if (v && (!json_is_string(v) || !json_string_length(v)))
		rc = jsonloc_err(file, text, p, "expected a non-empty string");
	else if (v)
		*out = xstrdup(json_string_value(v));
	free(p);
	return rc;
}

int name_ok(const char *n)
{
	for (const char *c = n; *c; c++)
		if (!(( *c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_' || *c == '+'))
			return 0;
	return *n && strlen(n) <= 64;
}

/* A name that becomes a path component (name_problem is the one rule);
 * the error names the spec position and shows the name escaped. */
int check_name(const struct spec *s, const char *path, const char *what,
		      const char *name)
{
	const char *why = name_problem(name);
	char *e;
	int rc;

	if (!why)
		return 0;
	e = str_escape(name, 0);
	rc = jsonloc_err(s->path, s->text, path, "%s '%s': %s", what, e ? e : "?", why);
	free(e);
	return rc;
}

