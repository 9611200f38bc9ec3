/* Messages of the spec parser that point at the file and line of a JSON
 * path, and the checks spec.c and spec-kernels.c share. */
#define _GNU_SOURCE
#include "harness/spec-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int perr(const char *file, const char *text, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int line = text ? jsonloc_line(text, path) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return sb_err(EINVAL, "%s:%d: %s: %s", file, line, path[0] ? path : "(top)", msg);
	return sb_err(EINVAL, "%s: %s: %s", file, path[0] ? path : "(top)", msg);
}

int check_keys(const char *file, const char *text, const char *path, json_t *obj,
	       const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return perr(file, text, path, "expected an object");
	json_object_foreach(obj, key, v) {
		int ok = 0;

		for (int i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok) {
			char *p = jsonloc_path_append_key(path, key);
			char known[512] = "";
			int rc;

			for (int i = 0; allowed[i]; i++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", i ? ", " : "", allowed[i]);
			rc = perr(file, text, p, "unknown key '%s' (known: %s)", key, known);
			free(p);
			return rc;
		}
	}
	return 0;
}

int get_str(const char *file, const char *text, const char *path, json_t *obj,
	    const char *key, int required, char **out)
{
	json_t *v = json_object_get(obj, key);
	char *p = jsonloc_path_append_key(path, key);
	int rc = 0;

	if (!v && required)
		rc = perr(file, text, path, "missing \"%s\"", key);
	else if (v && (!json_is_string(v) || !json_string_length(v)))
		rc = perr(file, text, p, "expected a non-empty string");
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
