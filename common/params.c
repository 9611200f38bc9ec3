#define _GNU_SOURCE
#include "common/params.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int param_bad(const char *where, const char *key, const json_t *v, const char *what)
{
	char *got = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10))
		      : NULL;
	int ret;

	if (got && strlen(got) > 60)
		strcpy(got + 57, "...");
	ret = sb_err(EINVAL, "%s.%s: %s (got %s)", where, key, what, got ? got : "null");
	free(got);
	return ret;
}

int param_check_object(const json_t *params, const char *where)
{
	char *got;
	int ret;

	if (!params || json_is_object(params))
		return 0;
	got = json_dumps(params, JSON_ENCODE_ANY | JSON_COMPACT);
	ret = sb_err(EINVAL, "%s: must be a JSON object (got %s)", where, got ? got : "?");
	free(got);
	return ret;
}

int param_check_keys(const json_t *params, const char *where, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)params, key, v) {
		char what[512];
		size_t off, i;

		for (i = 0; known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (known[i])
			continue;
		off = (size_t)snprintf(what, sizeof(what), "unknown parameter (known:");
		for (i = 0; known[i] && off < sizeof(what); i++)
			off += (size_t)snprintf(what + off, sizeof(what) - off, "%s %s",
						i ? "," : "", known[i]);
		if (off < sizeof(what))
			snprintf(what + off, sizeof(what) - off, ")");
		return param_bad(where, key, v, what);
	}
	return 0;
}

/* ---- one value against one table entry ---------------------------------- */

union param_val {
	long long ll;		/* P_INT, P_LIMIT (bytes, "max": -1) */
	double d;		/* P_NUM */
	unsigned long long size; /* P_SIZE */
	bool b;
	unsigned int e;		/* P_ENUM: index into choices */
	const char *s;		/* P_STRING, P_PATH: points into the value */
};

static int check_int(const json_t *v, const char *where, const struct param_def *d,
		     union param_val *out)
{
	char what[96];

	if (!json_is_integer(v) || json_integer_value(v) < d->min ||
	    json_integer_value(v) > d->max) {
		snprintf(what, sizeof(what), "must be an integer from %lld to %lld", d->min, d->max);
		return param_bad(where, d->key, v, what);
	}
	out->ll = json_integer_value(v);
	return 0;
}

static int check_num(const json_t *v, const char *where, const struct param_def *d,
		     union param_val *out)
{
	char what[96];

	if (!json_is_number(v) || !(json_number_value(v) >= d->dmin) ||
	    !(json_number_value(v) <= d->dmax)) {
		snprintf(what, sizeof(what), "must be a number from %g to %g", d->dmin, d->dmax);
		return param_bad(where, d->key, v, what);
	}
	out->d = json_number_value(v);
	return 0;
}

/* A size, or for P_LIMIT also "max" (ll -1); max 0: no upper bound. */
static int check_size(const json_t *v, const char *where, const struct param_def *d,
		      union param_val *out)
{
	unsigned long long size = 0, lo = (unsigned long long)d->min;
	unsigned long long hi = d->max ? (unsigned long long)d->max : ~0ULL;
	bool limit = d->type == P_LIMIT, ok = false;
	char what[160], los[32], his[32];

	if (limit && json_is_string(v) && !strcmp(json_string_value(v), "max")) {
		out->ll = -1;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		size = (unsigned long long)json_integer_value(v);
		ok = true;
	} else if (json_is_string(v)) {
		ok = !parse_size(json_string_value(v), &size);
	}
	if (!ok || size < lo || size > hi) {
		format_size(lo, los, sizeof(los));
		format_size(hi, his, sizeof(his));
		snprintf(what, sizeof(what), "must be a size like \"64M\" or a number of bytes%s, "
			 "%s%s%s%s", limit ? " (or \"max\")" : "", hi == ~0ULL ? "at least " : "from ",
			 los, hi == ~0ULL ? "" : " to ", hi == ~0ULL ? "" : his);
		return param_bad(where, d->key, v, what);
	}
	if (limit)
		out->ll = (long long)size;
	else
		out->size = size;
	return 0;
}

static int check_enum(const json_t *v, const char *where, const struct param_def *d,
		      union param_val *out)
{
	const char *const *names = d->choices;
	char what[256];
	size_t off;

	if (json_is_string(v)) {
		for (unsigned int i = 0; names[i]; i++) {
			if (!strcmp(json_string_value(v), names[i])) {
				out->e = i;
				return 0;
			}
		}
	}
	off = (size_t)snprintf(what, sizeof(what), "must be");
	for (unsigned int i = 0; names[i] && off < sizeof(what); i++)
		off += (size_t)snprintf(what + off, sizeof(what) - off, "%s\"%s\"",
					!i ? " " : names[i + 1] ? ", " : " or ", names[i]);
	return param_bad(where, d->key, v, what);
}

static int check_string(const json_t *v, const char *where, const struct param_def *d,
			union param_val *out)
{
	size_t maxlen = d->max ? (size_t)d->max : 4096;
	char what[96];

	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(what, sizeof(what), "must be a non-empty string of at most %zu bytes",
			 maxlen);
		return param_bad(where, d->key, v, what);
	}
	out->s = json_string_value(v);
	return 0;
}

/* v (present) against its entry d; P_CUSTOM is the plugin's. */
static int check_value(const json_t *v, const char *where, const struct param_def *d,
		       union param_val *out)
{
	switch (d->type) {
	case P_INT:
		return check_int(v, where, d, out);
	case P_NUM:
		return check_num(v, where, d, out);
	case P_SIZE:
	case P_LIMIT:
		return check_size(v, where, d, out);
	case P_BOOL:
		if (!json_is_boolean(v))
			return param_bad(where, d->key, v, "must be true or false");
		out->b = json_is_true(v);
		return 0;
	case P_ENUM:
		return check_enum(v, where, d, out);
	case P_STRING:
		return check_string(v, where, d, out);
	case P_PATH:
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return param_bad(where, d->key, v, "must be an absolute path");
		out->s = json_string_value(v);
		return 0;
	case P_CUSTOM:
	case P_END:
		break;
	}
	return 0;
}

static const struct param_def *find_def(const struct param_def *defs, const char *key)
{
	while (defs->key && strcmp(defs->key, key))
		defs++;
	return defs;
}

int params_check(const json_t *params, const char *where, const struct param_def *defs)
{
	const char *known[64];
	size_t n = 0;
	int rc = param_check_object(params, where);

	for (; defs[n].key && n + 1 < sizeof(known) / sizeof(known[0]); n++)
		known[n] = defs[n].key;
	known[n] = NULL;
	if (!rc && params)
		rc = param_check_keys(params, where, known);
	for (size_t i = 0; !rc && params && defs[i].key; i++) {
		const json_t *v = json_object_get(params, defs[i].key);
		union param_val val;

		if (v)
			rc = check_value(v, where, &defs[i], &val);
		else if (defs[i].required)
			rc = sb_err(EINVAL, "%s.%s: is required", where, defs[i].key);
	}
	return rc;
}

/* ---- the getters ---------------------------------------------------------- */

/* The table's default of d as a JSON value (new reference), or NULL when it
 * is not one of d's type. */
static json_t *default_json(const struct param_def *d)
{
	char *end;
	long long n;
	double x;

	switch (d->type) {
	case P_INT:
		errno = 0;
		n = strtoll(d->def, &end, 10);
		return errno || end == d->def || *end ? NULL : json_integer(n);
	case P_NUM:
		errno = 0;
		x = strtod(d->def, &end);
		return errno || end == d->def || *end ? NULL : json_real(x);
	case P_BOOL:
		return !strcmp(d->def, "true") ? json_true() :
		       !strcmp(d->def, "false") ? json_false() : NULL;
	case P_CUSTOM:
		return json_loads(d->def, JSON_DECODE_ANY, NULL);
	default:
		return json_string(d->def);
	}
}

/* What a getter writes, and the types of table entries it may read. */
enum out_kind { OUT_INT, OUT_UINT, OUT_NUMBER, OUT_DOUBLE, OUT_SIZE, OUT_BOOL, OUT_ENUM,
		OUT_STRING };

static const unsigned int kind_types[] = {
	[OUT_INT] = 1u << P_INT,
	[OUT_UINT] = 1u << P_INT,
	[OUT_NUMBER] = 1u << P_INT | 1u << P_SIZE | 1u << P_LIMIT,
	[OUT_DOUBLE] = 1u << P_NUM,
	[OUT_SIZE] = 1u << P_SIZE,
	[OUT_BOOL] = 1u << P_BOOL,
	[OUT_ENUM] = 1u << P_ENUM,
	[OUT_STRING] = 1u << P_STRING | 1u << P_PATH,
};

/* The value of key, checked against its table entry, into *out as `kind`
 * says; absent: the entry's default, or *out untouched if it has none. */
static int get(const json_t *params, const char *where, const struct param_def *defs,
	       const char *key, enum out_kind kind, void *out)
{
	const struct param_def *d = find_def(defs, key);
	const json_t *v = json_object_get(params, key);
	union param_val val;
	json_t *def = NULL;
	int rc;

	if (!d->key || !(kind_types[kind] & 1u << d->type) ||
	    (kind == OUT_UINT && (d->min < 0 || d->max > (long long)UINT_MAX)))
		return sb_err(EINVAL, "%s.%s: read as a type its parameter table does not give "
			      "it (a bug)", where, key);
	if (!v && !d->def)
		return 0;
	if (v) {
		rc = check_value(v, where, d, &val);
		if (rc)
			return rc;
	} else {
		def = default_json(d);
		rc = def ? check_value(def, where, d, &val) : -EINVAL;
		json_decref(def);
		if (rc)
			return sb_err(EINVAL, "%s.%s: the default \"%s\" of its parameter table is "
				      "not a valid value (a bug)", where, key, d->def);
		if (kind == OUT_STRING)
			val.s = d->def; /* the table's string outlives def */
	}
	switch (kind) {
	case OUT_INT:
		*(long long *)out = val.ll;
		break;
	case OUT_UINT:
	case OUT_ENUM:
		*(unsigned int *)out = kind == OUT_UINT ? (unsigned int)val.ll : val.e;
		break;
	case OUT_NUMBER:
		*(long long *)out = d->type == P_SIZE ? (long long)val.size : val.ll;
		break;
	case OUT_DOUBLE:
		*(double *)out = val.d;
		break;
	case OUT_SIZE:
		*(unsigned long long *)out = val.size;
		break;
	case OUT_BOOL:
		*(bool *)out = val.b;
		break;
	case OUT_STRING:
		*(const char **)out = val.s;
		break;
	}
	return 0;
}

int params_get_int(const json_t *params, const char *where, const struct param_def *defs,
		   const char *key, long long *out)
{
	return get(params, where, defs, key, OUT_INT, out);
}

int params_get_uint(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, unsigned int *out)
{
	return get(params, where, defs, key, OUT_UINT, out);
}

int params_get_size(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, unsigned long long *out)
{
	return get(params, where, defs, key, OUT_SIZE, out);
}

int params_get_num(const json_t *params, const char *where, const struct param_def *defs,
		   const char *key, double *out)
{
	return get(params, where, defs, key, OUT_DOUBLE, out);
}

int params_get_bool(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, bool *out)
{
	return get(params, where, defs, key, OUT_BOOL, out);
}

int params_get_enum(const json_t *params, const char *where, const struct param_def *defs,
		    const char *key, unsigned int *out)
{
	return get(params, where, defs, key, OUT_ENUM, out);
}

int params_get_string(const json_t *params, const char *where, const struct param_def *defs,
		      const char *key, const char **out)
{
	return get(params, where, defs, key, OUT_STRING, out);
}

json_t *params_get_json(const json_t *params, const struct param_def *defs, const char *key)
{
	const struct param_def *d = find_def(defs, key);
	json_t *v = json_object_get(params, key);

	if (v)
		return json_incref(v);
	return d->key && d->def ? default_json(d) : NULL;
}

int params_get_ll(const json_t *params, const struct param_def *defs, const char *key,
		  long long *out)
{
	/* An override: absent keeps what *out inherited, whatever the default. */
	if (!json_object_get(params, key))
		return 0;
	return get(params, "", defs, key, OUT_NUMBER, out);
}

static void type_str(const struct param_def *d, char *buf, size_t len)
{
	char lo[32], hi[32];

	switch (d->type) {
	case P_INT:
		if (d->min == LLONG_MIN)
			snprintf(buf, len, "integer");
		else
			snprintf(buf, len, "integer %lld..%lld", d->min, d->max);
		break;
	case P_NUM:
		snprintf(buf, len, "number %g..%g", d->dmin, d->dmax);
		break;
	case P_SIZE:
	case P_LIMIT:
		format_size((unsigned long long)d->min, lo, sizeof(lo));
		if (d->max)
			format_size((unsigned long long)d->max, hi, sizeof(hi));
		snprintf(buf, len, "size %s..%s%s", lo, d->max ? hi : "",
			 d->type == P_LIMIT ? "|max" : "");
		break;
	case P_BOOL:
		snprintf(buf, len, "true|false");
		break;
	case P_ENUM:
		buf[0] = '\0';
		for (int i = 0; d->choices[i]; i++)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "|" : "",
				 d->choices[i]);
		break;
	case P_STRING:
		snprintf(buf, len, "string");
		break;
	case P_PATH:
		snprintf(buf, len, "path");
		break;
	case P_CUSTOM:
	case P_END:
		snprintf(buf, len, "object");
		break;
	}
}

void params_print(const struct param_def *defs, const char *indent, FILE *out)
{
	for (size_t i = 0; defs[i].key; i++) {
		char type[160];

		type_str(&defs[i], type, sizeof(type));
		fprintf(out, "%s%s (%s%s%s%s)\n%s    %s\n", indent, defs[i].key, type,
			defs[i].def ? ", default " : "", defs[i].def ? defs[i].def : "",
			defs[i].required ? ", required" : "", indent, defs[i].help);
	}
}
