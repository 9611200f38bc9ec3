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

/* spec-kernels.c: the kernels[] array. */
int parse_kernels(struct spec *s, json_t *arr);

#endif
