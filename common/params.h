/* Parameters of workloads and topology layers: one schema, one validator,
 * one way to read them.
 *
 * A plugin declares its parameters in a table, in the manner of fio's
 * struct fio_option:
 *
 *   static const struct param_def swapoff_params[] = {
 *           PARAM_SIZE("size", 1 << 20, 0, "64M", "anonymous memory swapped out"),
 *           PARAM_BOOL("verify", "true", "check every page after swapoff"),
 *           PARAM_END(),
 *   };
 *
 * params_check() validates an object against it (unknown keys, types,
 * ranges, choices), params_print() documents it (`swapbench workloads`),
 * and the code reads each value with params_get_*(), which take the range,
 * choices and default from the same line:
 *
 *           unsigned long long size;
 *           params_get_size(params, where, swapoff_params, "size", &size);
 *
 * Adding a parameter is one line in the table plus the code that uses it.
 *
 * Messages read "<where>.<key>: <what> (got <value>)", the value shortened
 * to 60 characters, so that spec.c can point at the line.
 */
#ifndef SB_PARAMS_H
#define SB_PARAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum param_type {
	P_END,
	P_INT,    /* integer in [min, max] */
	P_NUM,    /* any JSON number in [dmin, dmax] */
	P_SIZE,   /* "64M" or bytes, in [min, max] (max 0: no limit) */
	P_LIMIT,  /* a P_SIZE or "max" (a cgroup limit: no limit) */
	P_BOOL,
	P_ENUM,   /* one of choices */
	P_STRING, /* non-empty, at most max bytes (0: 4096) */
	P_PATH,   /* an absolute path */
	P_CUSTOM, /* checked by the plugin's own code; documented here */
};

struct param_def {
	const char *key;
	enum param_type type;
	long long min, max;
	const char *const *choices; /* P_ENUM, NULL-terminated */
	const char *def;            /* the default as shown; NULL: none */
	const char *help;
	bool required;
	double dmin, dmax; /* P_NUM */
};

#define PARAM_INT(k, lo, hi, d, h) { (k), P_INT, (lo), (hi), NULL, (d), (h), false, 0, 0 }
#define PARAM_NUM(k, lo, hi, d, h) { (k), P_NUM, 0, 0, NULL, (d), (h), false, (lo), (hi) }
#define PARAM_SIZE(k, lo, hi, d, h) { (k), P_SIZE, (lo), (hi), NULL, (d), (h), false, 0, 0 }
#define PARAM_SIZE_REQ(k, lo, hi, h) { (k), P_SIZE, (lo), (hi), NULL, NULL, (h), true, 0, 0 }
#define PARAM_LIMIT(k, lo, hi, d, h) { (k), P_LIMIT, (lo), (hi), NULL, (d), (h), false, 0, 0 }
#define PARAM_BOOL(k, d, h) { (k), P_BOOL, 0, 0, NULL, (d), (h), false, 0, 0 }
#define PARAM_ENUM(k, c, d, h) { (k), P_ENUM, 0, 0, (c), (d), (h), false, 0, 0 }
#define PARAM_STRING(k, max, d, h) { (k), P_STRING, 0, (max), NULL, (d), (h), false, 0, 0 }
#define PARAM_STRING_REQ(k, max, h) { (k), P_STRING, 0, (max), NULL, NULL, (h), true, 0, 0 }
#define PARAM_PATH(k, h) { (k), P_PATH, 0, 0, NULL, NULL, (h), false, 0, 0 }
#define PARAM_CUSTOM(k, d, h) { (k), P_CUSTOM, 0, 0, NULL, (d), (h), false, 0, 0 }
#define PARAM_END() { NULL, P_END, 0, 0, NULL, NULL, NULL, false, 0, 0 }

/* The one validator: params must be an object (NULL counts as an empty
 * one) with only the table's keys, each of its type; P_CUSTOM keys are left
 * to the caller. */
int params_check(const json_t *params, const char *where, const struct param_def *defs);
/* One line per parameter: key, type and range, default, help. */
void params_print(const struct param_def *defs, const char *indent, FILE *out);

/* Reading: the one way a plugin reads its parameters. Each getter reads
 * key within its table entry's range, length or choices (no caller repeats
 * them), after params_check() accepted params (NULL: an empty object):
 * absent, *out gets the entry's default, parsed from the table's text; an
 * entry without one (def NULL, "default: online CPUs" in the help) leaves
 * *out as the caller preset it. A key the table does not have, or gives
 * another type, or a default that is not a valid value, is a bug and
 * fails. Returns 0 or -EINVAL with sb_err() set ("<where>.<key>: ..."). */
int params_get_int(const json_t *params, const char *where, const struct param_def *defs,
		   const char *key, long long *out);                   /* P_INT */
/* P_INT with a range within [0, UINT_MAX]. */
int params_get_uint(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, unsigned int *out);
int params_get_size(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, unsigned long long *out);         /* P_SIZE */
int params_get_num(const json_t *params, const char *where, const struct param_def *defs,
		   const char *key, double *out);                      /* P_NUM */
int params_get_bool(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, bool *out);
/* *out is the index of the value in the entry's choices. */
int params_get_enum(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, unsigned int *out);
/* P_STRING or P_PATH; *out points into params or to the table's default. */
int params_get_string(const json_t *params, const char *where, const struct param_def *defs,
		      const char *key, const char **out);
/* The value as JSON, for P_CUSTOM keys and the plugin's own messages: the
 * value, else the table's default as JSON, else NULL; a new reference. */
json_t *params_get_json(const json_t *params, const struct param_def *defs, const char *key);
/* An override of an integer, size or limit ("max" reads as -1): *out keeps
 * the value it inherited when the key is absent, whatever the default (a
 * workload's memcg over the spec's). */
int params_get_ll(const json_t *params, const struct param_def *defs, const char *key,
		  long long *out);

/* The pieces params_check is made of, for plugins' own checks. */
int param_bad(const char *where, const char *key, const json_t *v, const char *what);
int param_check_object(const json_t *params, const char *where);
/* Refuse keys not in the NULL-terminated `known`, listing the known ones:
 * a typo is reported as such, not as whatever default took its place. */
int param_check_keys(const json_t *params, const char *where, const char *const *known);

#endif
