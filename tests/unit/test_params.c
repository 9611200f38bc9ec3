/* The parameter schema: one validator for workloads and topology layers,
 * and every shipped table's defaults pass its own checks. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/params.h"
#include "common/topology.h"
#include "workloads/workload.h"

static const char *const colors[] = { "red", "blue", NULL };

static const struct param_def defs[] = {
	PARAM_INT("n", 1, 10, "2", "a number"),
	PARAM_SIZE_REQ("size", 1 << 20, 1LL << 30, "a size"),
	PARAM_BOOL("on", "false", "a switch"),
	PARAM_ENUM("color", colors, "red", "a color"),
	PARAM_PATH("dev", "a path"),
	PARAM_CUSTOM("extra", NULL, "checked elsewhere"),
	PARAM_END(),
};

static void check(const char *json, const char *want)
{
	json_t *o = json_loads(json, 0, NULL);
	int rc;

	assert_non_null(o);
	rc = params_check(o, "s.json: workloads[0].params", defs);
	if (!want) {
		if (rc)
			fail_msg("%s: %s", json, sb_lasterr());
	} else {
		assert_int_equal(rc, -EINVAL);
		if (!strstr(sb_lasterr(), want))
			fail_msg("%s: '%s' does not say '%s'", json, sb_lasterr(), want);
	}
	json_decref(o);
}

static void test_check(void **state)
{
	check("{\"size\":\"2M\"}", NULL);
	check("{\"size\":4194304,\"n\":10,\"on\":true,\"color\":\"blue\",\"dev\":\"/dev/x\","
	      "\"extra\":[1]}", NULL);
	check("{}", "workloads[0].params.size: is required");
	check("{\"size\":\"2M\",\"n\":11}", ".n: must be an integer from 1 to 10 (got 11)");
	check("{\"size\":\"512K\"}", ".size: must be a size");
	check("{\"size\":\"2M\",\"on\":1}", ".on: must be true or false (got 1)");
	check("{\"size\":\"2M\",\"color\":\"green\"}", "must be \"red\" or \"blue\"");
	check("{\"size\":\"2M\",\"dev\":\"x\"}", ".dev: must be an absolute path");
	check("{\"size\":\"2M\",\"bogus\":1}", ".bogus: unknown parameter (known: n, size, on");
	check("[1]", "must be a JSON object");
}

/* A table's defaults, as a params object. */
static json_t *defaults_of(const struct param_def *d)
{
	json_t *o = json_object();

	for (; d->key; d++) {
		if (!d->def)
			continue;
		if (d->type == P_INT)
			json_object_set_new(o, d->key, json_integer(atoll(d->def)));
		else if (d->type == P_BOOL)
			json_object_set_new(o, d->key, json_boolean(!strcmp(d->def, "true")));
		else if (d->type != P_CUSTOM)
			json_object_set_new(o, d->key, json_string(d->def));
	}
	return o;
}

static void test_shipped_defaults_are_valid(void **state)
{
	for (int i = 0; workloads[i]; i++) {
		json_t *o;

		if (!workloads[i]->params)
			continue;
		o = defaults_of(workloads[i]->params);
		if (!strcmp(workloads[i]->name, "mthp")) /* sizes: required, no default */
			json_object_set_new(o, "sizes", json_pack("{s:s}", "64kB", "always"));
		if (workloads[i]->validate(o, "params"))
			fail_msg("workload %s: its defaults fail: %s", workloads[i]->name,
				 sb_lasterr());
		json_decref(o);
	}
	for (int i = 0; topo_kinds[i]; i++) {
		json_t *o = defaults_of(topo_kinds[i]->params);

		json_object_set_new(o, "kind", json_string(topo_kinds[i]->kind));
		if (!strcmp(topo_kinds[i]->kind, "zram") || !strcmp(topo_kinds[i]->kind, "nvme"))
			json_object_set_new(o, "size", json_string("1G"));
		if (topo_kinds[i]->validate(o, "layer"))
			fail_msg("topology kind %s: its defaults fail: %s", topo_kinds[i]->kind,
				 sb_lasterr());
		json_decref(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_shipped_defaults_are_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
