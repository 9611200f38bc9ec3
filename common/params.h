/* Parameters of workloads and topology layers: one schema, one validator.
 *
 * A plugin declares its parameters in a table, in the manner of fio's
 * struct fio_option:
 *
 *   static const struct param_def swapoff_params[] = {
 *           PARAM_SIZE("size", 1 << 20, 0, "256M", "anonymous memory swapped out"),
 *           PARAM_BOOL("verify", "true", "check every page after swapoff"),
 *           PARAM_END(),
 *   };
 *
 * params_check() validates an object against it (unknown keys, types,
 * ranges, choices), params_print() documents it (`swapbench workloads`).
 * Adding a parameter is one line in the table plus the code that uses it.
 *
 * Messages read "<where>.<key>: <what> (got <value>)", the value shortened
 * to 60 characters, so that spec.c can point at the line. The getters leave
 * *out untouched when the key is absent (callers preset defaults) and
 * return 0 or -EINVAL with sb_err() set.
 */
#ifndef SB_PARAMS_H
#define SB_PARAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum param_type {
	P_END,
	P_INT,    /* integer in [min, max] */
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
};

#define PARAM_INT(k, lo, hi, d, h) { (k), P_INT, (lo), (hi), NULL, (d), (h), false }
#define PARAM_SIZE(k, lo, hi, d, h) { (k), P_SIZE, (lo), (hi), NULL, (d), (h), false }
#define PARAM_SIZE_REQ(k, lo, hi, h) { (k), P_SIZE, (lo), (hi), NULL, NULL, (h), true }
#define PARAM_LIMIT(k, lo, hi, d, h) { (k), P_LIMIT, (lo), (hi), NULL, (d), (h), false }
#define PARAM_BOOL(k, d, h) { (k), P_BOOL, 0, 0, NULL, (d), (h), false }
#define PARAM_ENUM(k, c, d, h) { (k), P_ENUM, 0, 0, (c), (d), (h), false }
#define PARAM_STRING(k, max, d, h) { (k), P_STRING, 0, (max), NULL, (d), (h), false }
#define PARAM_STRING_REQ(k, max, h) { (k), P_STRING, 0, (max), NULL, NULL, (h), true }
#define PARAM_PATH(k, h) { (k), P_PATH, 0, 0, NULL, NULL, (h), false }
#define PARAM_CUSTOM(k, d, h) { (k), P_CUSTOM, 0, 0, NULL, (d), (h), false }
#define PARAM_END() { NULL, P_END, 0, 0, NULL, NULL, NULL, false }

/* The one validator: params must be an object (NULL counts as an empty
 * one) with only the table's keys, each of its type; P_CUSTOM keys are left
 * to the caller. */
int params_check(const json_t *params, const char *where, const struct param_def *defs);
/* One line per parameter: key, type and range, default, help. */
void params_print(const struct param_def *defs, const char *indent, FILE *out);

/* The value of an integer, size or limit ("max" reads as -1) that
 * params_check() accepted, read within its table entry's range: no caller
 * repeats the range. *out is untouched when the key is absent. */
int params_get_ll(const json_t *params, const struct param_def *defs, const char *key,
		  long long *out);

/* The pieces params_check is made of, for plugins that resolve values. */
int param_bad(const char *where, const char *key, const json_t *v, const char *what);
int param_check_object(const json_t *params, const char *where);
/* Refuse keys not in the NULL-terminated `known`, listing the known ones:
 * a typo is reported as such, not as whatever default took its place. */
int param_check_keys(const json_t *params, const char *where, const char *const *known);
int param_get_int(const json_t *params, const char *where, const char *key, long long lo,
		  long long hi, long long *out);
/* The same into an unsigned int (0 <= lo <= hi <= UINT_MAX). */
int param_get_uint(const json_t *params, const char *where, const char *key, long long lo,
		   long long hi, unsigned int *out);
/* A size like "64M" (1024-based) or a number of bytes, within [lo, hi]. */
int param_get_size(const json_t *params, const char *where, const char *key,
		   unsigned long long lo, unsigned long long hi, unsigned long long *out);
/* The same, or "max" (*out = -1): a cgroup limit. */
int param_get_limit(const json_t *params, const char *where, const char *key,
		    unsigned long long lo, unsigned long long hi, long long *out);
int param_get_bool(const json_t *params, const char *where, const char *key, bool *out);
/* One of the NULL-terminated names; *out is its index. */
int param_get_enum(const json_t *params, const char *where, const char *key,
		   const char *const *names, unsigned int *out);
/* A non-empty string of at most maxlen bytes; *out points into params. */
int param_get_string(const json_t *params, const char *where, const char *key, size_t maxlen,
		     const char **out);

#endif
