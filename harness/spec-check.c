/* Messages of the spec parser that point at the file and line of a JSON
 * path, and the checks spec.c and spec-kernels.c share. */
#define _GNU_SOURCE
#include "harness/spec-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "common/log.h"
#include "common/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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


int spec_relocate(const char *file, const char *text, int rc)
{
	char *msg = xstrdup(sb_lasterr()), *m = msg, *path;
	int line;

	if (*m == '.')
		m++;
	path = strndup(m, strcspn(m, ": "));
	/* The nearest enclosing value that exists: a missing key's object. */
	while (!(line = jsonloc_line(text, path)) && path[0]) {
		char *cut = strrchr(path, path[strlen(path) - 1] == ']' ? '[' : '.');

		*(cut ? cut : path) = '\0';
	}
	/* A message about the root (path "") names it as jsonloc_err does. */
	if (line > 0)
		rc = sb_err(-rc, "%s:%d: %s%s", file, line, *m == ':' ? "(top)" : "", m);
	else
		rc = sb_err(-rc, "%s: %s%s", file, *m == ':' ? "(top)" : "", m);
	free(path);
	free(msg);
	return rc;
}

int check_section(const struct spec *s, const json_t *obj, const char *path,
		  const struct param_def *defs)
{
	int rc = params_check(obj, path, defs);

	return rc ? spec_relocate(s->path, s->text, rc) : 0;
}

void get_str(const json_t *obj, const char *key, char **out)
{
	const char *v = json_string_value(json_object_get(obj, key));

	if (v) {
		free(*out);
		*out = xstrdup(v);
	}
}
