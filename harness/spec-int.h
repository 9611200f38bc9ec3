/* Inside the spec parser: spec-check.c has the checks spec.c and
 * spec-kernels.c (the kernels[] section) share; their messages point at the
 * file and line of a JSON path through common/jsonloc.h. Not for use
 * elsewhere. */
#ifndef SB_SPEC_INT_H
#define SB_SPEC_INT_H

#include <jansson.h>

#include "harness/spec.h"

/* spec-check.c */
int name_ok(const char *n);
/* A name that becomes a path component: name_problem() is the one rule;
 * the error names the spec position and shows the name escaped. */
int check_name(const struct spec *s, const char *path, const char *what, const char *name);

struct param_def;
/* Validators (common/params.h, topology and workload validate()) report
 * "<json path>: message": give it the file and the line of that path (or
 * of the nearest enclosing value that exists, a missing key's object). */
int spec_relocate(const char *file, const char *text, int rc);
/* A section of the spec checked against its table by the one parameter
 * validator, params_check(); the code then reads what it accepted. */
int check_section(const struct spec *s, const json_t *obj, const char *path,
		  const struct param_def *defs);
/* A member's string (already checked) copied into *out; absent: left. */
void get_str(const json_t *obj, const char *key, char **out);

/* spec-kernels.c: the kernels[] array. */
int parse_kernels(struct spec *s, json_t *arr);

#endif
