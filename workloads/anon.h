/* anon's parameters, shared with mthp (which passes most of them through):
 * one definition of each key, its range and its default. */
#ifndef SB_WL_ANON_H
#define SB_WL_ANON_H

#include "common/params.h"

#include <limits.h>

#define ANON_MAX_PROCESSES	1024
#define ANON_MAX_PASSES		1000
#define ANON_MAX_SIZE		(1ULL << 40)	/* keeps page indexes within 32 bits */

enum anon_fill { FILL_ZERO, FILL_RANDOM, FILL_PATTERN };

extern const char *const anon_patterns[];	/* "seq", "random" */
extern const char *const anon_fill_names[];	/* by enum anon_fill */

/* How much memory and how it is walked. */
#define ANON_PARAMS_SHAPE							\
	PARAM_INT("processes", 1, ANON_MAX_PROCESSES, "1",			\
		  "processes, each with its own `size` of memory"),		\
	PARAM_SIZE("size", 4096, ANON_MAX_SIZE, "64M", "anonymous memory per process"), \
	PARAM_ENUM("pattern", anon_patterns, "seq", "access order of the passes"), \
	PARAM_INT("passes", 1, ANON_MAX_PASSES, "2", "passes over the memory")

/* What the pages hold. */
#define ANON_PARAMS_DATA							\
	PARAM_INT("seed", LLONG_MIN, LLONG_MAX, "1", "random seed (pattern, fill)"), \
	PARAM_ENUM("fill", anon_fill_names, "pattern", "page contents")

#endif
