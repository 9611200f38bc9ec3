/* Reading one member of a JSON object that may be missing or of another
 * type: the fallbacks the reports and the history want. */
#ifndef SB_JSONGET_H
#define SB_JSONGET_H

#include <jansson.h>
#include <math.h>

/* The string member k of o, or "" (absent, not a string, o NULL). */
static inline const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The number member k of o, or NAN. */
static inline double jnum_or_nan(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

#endif
