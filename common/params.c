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
	char *got = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
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

int param_get_int(const json_t *params, const char *where, const char *key, long long lo,
	       long long hi, long long *out)
{
	json_t *v = json_object_get(params, key);
	char what[96];

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(what, sizeof(what), "must be an integer from %lld to %lld", lo, hi);
		return param_bad(where, key, v, what);
	}
	*out = json_integer_value(v);
	return 0;
}

int param_get_uint(const json_t *params, const char *where, const char *key, long long lo,
		   long long hi, unsigned int *out)
{
	long long v = *out;
	int ret = param_get_int(params, where, key, lo, hi, &v);

	if (!ret)
		*out = (unsigned int)v;
	return ret;
}

/* A size, or with limit also "max" (-1); hi ~0ULL: no upper bound. */
static int get_size(const json_t *params, const char *where, const char *key,
		    unsigned long long lo, unsigned long long hi, bool limit, long long *max,
		    unsigned long long *out)
{
	json_t *v = json_object_get(params, key);
	unsigned long long size = 0;
	char what[160], los[32], his[32];
	bool ok = false;

	if (!v)
		return 0;
	if (limit && json_is_string(v) && !strcmp(json_string_value(v), "max")) {
		*max = -1;
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
		return param_bad(where, key, v, what);
	}
	*out = size;
	if (max)
		*max = (long long)size;
	return 0;
}

int param_get_size(const json_t *params, const char *where, const char *key,
		unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	return get_size(params, where, key, lo, hi, false, NULL, out);
}

int param_get_limit(const json_t *params, const char *where, const char *key,
		    unsigned long long lo, unsigned long long hi, long long *out)
{
	unsigned long long size;

	return get_size(params, where, key, lo, hi, true, out, &size);
}

int param_get_bool(const json_t *params, const char *where, const char *key, bool *out)
{
	json_t *v = json_object_get(params, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return param_bad(where, key, v, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

int param_get_enum(const json_t *params, const char *where, const char *key,
		const char *const *names, unsigned int *out)
{
	json_t *v = json_object_get(params, key);
	char what[256];
	size_t off;

	if (!v)
		return 0;
	if (json_is_string(v)) {
		for (unsigned int i = 0; names[i]; i++) {
			if (!strcmp(json_string_value(v), names[i])) {
				*out = i;
				return 0;
			}
		}
	}
	off = (size_t)snprintf(what, sizeof(what), "must be");
	for (unsigned int i = 0; names[i] && off < sizeof(what); i++)
		off += (size_t)snprintf(what + off, sizeof(what) - off, "%s\"%s\"",
					!i ? " " : names[i + 1] ? ", " : " or ", names[i]);
	return param_bad(where, key, v, what);
}

int param_get_string(const json_t *params, const char *where, const char *key, size_t maxlen,
		  const char **out)
{
	json_t *v = json_object_get(params, key);
	char what[96];

	if (!v)
		return 0;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(what, sizeof(what), "must be a non-empty string of at most %zu bytes",
			 maxlen);
		return param_bad(where, key, v, what);
	}
	*out = json_string_value(v);
	return 0;
}

static int check_one(const json_t *params, const char *where, const struct param_def *d)
{
	json_t *v = json_object_get(params, d->key);
	unsigned long long sz, hi = d->max ? (unsigned long long)d->max : ~0ULL;
	long long i;
	unsigned int e;
	bool b;
	const char *str;

	if (!v)
		return d->required ? sb_err(EINVAL, "%s.%s: is required", where, d->key) : 0;
	switch (d->type) {
	case P_INT:
		return param_get_int(params, where, d->key, d->min, d->max, &i);
	case P_SIZE:
		return param_get_size(params, where, d->key, (unsigned long long)d->min, hi, &sz);
	case P_LIMIT:
		return param_get_limit(params, where, d->key, (unsigned long long)d->min, hi, &i);
	case P_BOOL:
		return param_get_bool(params, where, d->key, &b);
	case P_ENUM:
		return param_get_enum(params, where, d->key, d->choices, &e);
	case P_STRING:
		return param_get_string(params, where, d->key, d->max ? (size_t)d->max : 4096,
					&str);
	case P_PATH:
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return param_bad(where, d->key, v, "must be an absolute path");
		return 0;
	case P_CUSTOM:
	case P_END:
		break;
	}
	return 0;
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
	for (size_t i = 0; !rc && params && defs[i].key; i++)
		rc = check_one(params, where, &defs[i]);
	return rc;
}

int params_get_ll(const json_t *params, const struct param_def *defs, const char *key,
		  long long *out)
{
	const struct param_def *d = defs;
	unsigned long long sz;

	while (d->key && strcmp(d->key, key))
		d++;
	switch (d->type) {
	case P_INT:
		return param_get_int(params, "", key, d->min, d->max, out);
	case P_SIZE:
	case P_LIMIT:
		return get_size(params, "", key, (unsigned long long)d->min,
				d->max ? (unsigned long long)d->max : ~0ULL, d->type == P_LIMIT,
				out, &sz);
	default:
		return sb_err(EINVAL, "%s: not a number in the table", key);
	}
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
