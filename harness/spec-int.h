/* Inside the spec parser: spec-check.c has the messages that point at the
 * file and line of a JSON path, used by spec.c and spec-kernels.c (the
 * kernels[] section). Not for use elsewhere. */
#ifndef SB_SPEC_INT_H
#define SB_SPEC_INT_H

#include <jansson.h>

#include "harness/spec.h"

/* spec-check.c. "file:line: path: message" -- the line from the JSON path. */
int perr(const char *file, const char *text, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int check_keys(const char *file, const char *text, const char *path, json_t *obj,
	       const char *const *allowed);
int get_str(const char *file, const char *text, const char *path, json_t *obj,
	    const char *key, int required, char **out);
int name_ok(const char *n);

/* spec-kernels.c: the kernels[] array. */
int parse_kernels(struct spec *s, json_t *arr);

#endif
