#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/test-util.h"

json_t *cmp_metric(const json_t *cmp, const char *name)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(json_array_get(json_object_get(cmp, "groups"), 0),
					   "metrics"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "name")), name))
			return m;
	fail_msg("the comparison has no metric %s", name);
	return NULL;
}
