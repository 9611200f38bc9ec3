/* The parameter schema: one validator for workloads and topology layers,
 * one family of getters reading values with the table's ranges and
 * defaults, and every shipped table's defaults pass its own checks. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
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

static const struct param_def rdefs[] = {
	PARAM_INT("n", 1, 10, "2", "a number"),
	PARAM_INT("wide", -1, 10, "3", "a number that can be negative"),
	PARAM_INT("auto", 1, 8, NULL, "default: the caller's"),
	PARAM_SIZE("size", 1 << 20, 1LL << 30, "4M", "a size"),
	PARAM_LIMIT("limit", 1, 0, "max", "a limit"),
	PARAM_BOOL("on", "true", "a switch"),
	PARAM_ENUM("color", colors, "blue", "a color"),
	PARAM_STRING("name", 8, "dflt", "a name"),
	PARAM_PATH("dev", "a path"),
	PARAM_CUSTOM("extra", "{\"a\": 1}", "checked elsewhere"),
	PARAM_INT("typo", 1, 10, "ten", "a default that is not a value"),
	PARAM_END(),
};

#define RWHERE "s.json: workloads[1].params"

static void expect_err(int rc, const char *want)
{
	assert_int_equal(rc, -EINVAL);
	if (!strstr(sb_lasterr(), want))
		fail_msg("'%s' does not say '%s'", sb_lasterr(), want);
}

/* Absent keys read as the table's default, for NULL params as for {}. */
static void test_get_defaults(void **state)
{
	json_t *empty = json_object();
	const json_t *ps[] = { NULL, empty };

	for (int i = 0; i < 2; i++) {
		long long n = 0, wide = 0, autov = 7;
		unsigned int u = 0, color = 0;
		unsigned long long size = 0;
		bool on = false;
		const char *name = NULL, *dev = "/preset";
		json_t *extra;

		assert_int_equal(params_get_int(ps[i], RWHERE, rdefs, "n", &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(params_get_uint(ps[i], RWHERE, rdefs, "n", &u), 0);
		assert_int_equal(u, 2);
		assert_int_equal(params_get_int(ps[i], RWHERE, rdefs, "wide", &wide), 0);
		assert_int_equal(wide, 3);
		assert_int_equal(params_get_int(ps[i], RWHERE, rdefs, "auto", &autov), 0);
		assert_int_equal(autov, 7); /* no default: as preset */
		assert_int_equal(params_get_size(ps[i], RWHERE, rdefs, "size", &size), 0);
		assert_int_equal(size, 4 << 20);
		assert_int_equal(params_get_bool(ps[i], RWHERE, rdefs, "on", &on), 0);
		assert_true(on);
		assert_int_equal(params_get_enum(ps[i], RWHERE, rdefs, "color", &color), 0);
		assert_int_equal(color, 1);
		assert_int_equal(params_get_string(ps[i], RWHERE, rdefs, "name", &name), 0);
		assert_string_equal(name, "dflt");
		assert_int_equal(params_get_string(ps[i], RWHERE, rdefs, "dev", &dev), 0);
		assert_string_equal(dev, "/preset");
		extra = params_get_json(ps[i], rdefs, "extra");
		assert_int_equal(json_integer_value(json_object_get(extra, "a")), 1);
		json_decref(extra);
		assert_null(params_get_json(ps[i], rdefs, "dev"));
	}
	json_decref(empty);
}

/* Present keys: the value, within the table's range and choices. */
static void test_get_values(void **state)
{
	json_t *o = json_pack("{s:i,s:s,s:s,s:b,s:s,s:s,s:s,s:i}", "n", 10, "size", "1G",
			      "limit", "2M", "on", 0, "color", "red", "name", "abc", "dev",
			      "/dev/x", "auto", 8);
	long long n = 0, limit = 0, autov = 0;
	unsigned long long size = 0;
	unsigned int color = 9;
	bool on = true;
	const char *name = NULL, *dev = NULL;
	json_t *extra;

	assert_int_equal(params_get_int(o, RWHERE, rdefs, "n", &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(params_get_int(o, RWHERE, rdefs, "auto", &autov), 0);
	assert_int_equal(autov, 8);
	assert_int_equal(params_get_size(o, RWHERE, rdefs, "size", &size), 0);
	assert_int_equal(size, 1 << 30);
	assert_int_equal(params_get_ll(o, rdefs, "limit", &limit), 0);
	assert_int_equal(limit, 2 << 20);
	assert_int_equal(params_get_bool(o, RWHERE, rdefs, "on", &on), 0);
	assert_false(on);
	assert_int_equal(params_get_enum(o, RWHERE, rdefs, "color", &color), 0);
	assert_int_equal(color, 0);
	assert_int_equal(params_get_string(o, RWHERE, rdefs, "name", &name), 0);
	assert_string_equal(name, "abc");
	assert_int_equal(params_get_string(o, RWHERE, rdefs, "dev", &dev), 0);
	assert_string_equal(dev, "/dev/x");
	extra = params_get_json(o, rdefs, "n");
	assert_int_equal(json_integer_value(extra), 10);
	json_decref(extra);
	json_decref(o);
}

/* Out of the table's range or choices: the message of params_check, which
 * names the spec path; *out keeps its value. */
static void test_get_refuses(void **state)
{
	json_t *o = json_pack("{s:i,s:s,s:i,s:s,s:s,s:s}", "n", 11, "size", "512K", "on", 1,
			      "color", "green", "name", "toolongname", "dev", "x");
	long long n = 5;
	unsigned long long size = 5;
	unsigned int color = 5;
	bool on = false;
	const char *name = NULL;

	expect_err(params_get_int(o, RWHERE, rdefs, "n", &n),
		   RWHERE ".n: must be an integer from 1 to 10 (got 11)");
	assert_int_equal(n, 5);
	expect_err(params_get_size(o, RWHERE, rdefs, "size", &size),
		   RWHERE ".size: must be a size like \"64M\" or a number of bytes, from 1M "
		   "to 1G (got \"512K\")");
	assert_int_equal(size, 5);
	expect_err(params_get_bool(o, RWHERE, rdefs, "on", &on), ".on: must be true or false");
	expect_err(params_get_enum(o, RWHERE, rdefs, "color", &color),
		   ".color: must be \"red\" or \"blue\" (got \"green\")");
	assert_int_equal(color, 5);
	expect_err(params_get_string(o, RWHERE, rdefs, "name", &name),
		   ".name: must be a non-empty string of at most 8 bytes");
	expect_err(params_get_string(o, RWHERE, rdefs, "dev", &name),
		   ".dev: must be an absolute path");
	assert_null(name);
	json_decref(o);
}

/* Reading what the table does not say is a bug, and says so. */
static void test_get_bugs(void **state)
{
	long long n = 0;
	unsigned int u = 0;
	unsigned long long size = 0;
	bool b = false;

	expect_err(params_get_int(NULL, RWHERE, rdefs, "nope", &n), ".nope: read as a type");
	expect_err(params_get_size(NULL, RWHERE, rdefs, "n", &size), ".n: read as a type");
	expect_err(params_get_bool(NULL, RWHERE, rdefs, "color", &b), ".color: read as a type");
	expect_err(params_get_int(NULL, RWHERE, rdefs, "size", &n), ".size: read as a type");
	expect_err(params_get_uint(NULL, RWHERE, rdefs, "wide", &u), ".wide: read as a type");
	expect_err(params_get_int(NULL, RWHERE, rdefs, "typo", &n),
		   ".typo: the default \"ten\" of its parameter table is not a valid value");
	assert_int_equal(n, 0);
}

/* params_get_ll reads an override: absent keeps the inherited value, not
 * the table's default (a workload's memcg over the spec's). */
static void test_get_ll_override(void **state)
{
	json_t *o = json_pack("{s:s}", "limit", "max");
	long long limit = 42, n = 42, size = 42;

	assert_int_equal(params_get_ll(o, rdefs, "limit", &limit), 0);
	assert_int_equal(limit, -1);
	assert_int_equal(params_get_ll(o, rdefs, "n", &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(params_get_ll(NULL, rdefs, "size", &size), 0);
	assert_int_equal(size, 42);
	json_decref(o);
}

/* Every shipped workload table's defaults read through the getters: the
 * code takes them from the table, so a default that is not a value of its
 * type would fail the workload at run time. */
static void test_shipped_defaults_read(void **state)
{
	for (int i = 0; workloads[i]; i++) {
		const struct param_def *d = workloads[i]->params;

		for (; d && d->key; d++) {
			union {
				long long ll;
				unsigned long long size;
				unsigned int e;
				bool b;
				const char *s;
			} v;
			json_t *j;
			int rc = 0;

			if (!d->def)
				continue;
			switch (d->type) {
			case P_INT:
				rc = params_get_int(NULL, "params", workloads[i]->params, d->key, &v.ll);
				break;
			case P_SIZE:
				rc = params_get_size(NULL, "params", workloads[i]->params, d->key,
						     &v.size);
				break;
			case P_BOOL:
				rc = params_get_bool(NULL, "params", workloads[i]->params, d->key, &v.b);
				break;
			case P_ENUM:
				rc = params_get_enum(NULL, "params", workloads[i]->params, d->key, &v.e);
				break;
			case P_STRING:
			case P_PATH:
				rc = params_get_string(NULL, "params", workloads[i]->params, d->key,
						       &v.s);
				break;
			default:
				j = params_get_json(NULL, workloads[i]->params, d->key);
				rc = j ? 0 : -EINVAL;
				json_decref(j);
				break;
			}
			if (rc)
				fail_msg("workload %s: default of %s: %s", workloads[i]->name, d->key,
					 sb_lasterr());
		}
	}
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

/* P_NUM: any JSON number within [dmin, dmax], the default parsed as one. */
static void test_num(void **state)
{
	static const struct param_def nd[] = {
		PARAM_NUM("alpha", 1e-6, 0.49, "0.01", "an error rate"),
		PARAM_END(),
	};
	json_t *ok = json_pack("{s:f}", "alpha", 0.05), *bad = json_pack("{s:i}", "alpha", 1);
	double a = 0;

	(void)state;
	assert_int_equal(params_get_num(NULL, "b", nd, "alpha", &a), 0);
	assert_true(a == 0.01);
	assert_int_equal(params_check(ok, "b", nd), 0);
	assert_int_equal(params_get_num(ok, "b", nd, "alpha", &a), 0);
	assert_true(a == 0.05);
	assert_int_equal(params_check(bad, "b", nd), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "b.alpha: must be a number from 1e-06 to 0.49 "
					     "(got 1)"));
	json_decref(ok);
	json_decref(bad);
}

/* The host side of a topology kind reads its layer through the table: a
 * size given as a number of bytes makes the same sparse file as "1M" (it
 * once read only strings and left the size unset), and qemu gets the
 * table's default host cache. */
static void test_nvme_host_side(void **state)
{
	const struct topo_kind *k = topo_kind_find("nvme");
	const char *const layers[] = { "{\"kind\": \"nvme\", \"size\": 1048576}",
				       "{\"kind\": \"nvme\", \"size\": \"2M\", "
				       "\"host_cache\": \"writeback\"}" };
	const long long sizes[] = { 1 << 20, 2 << 20 };
	const char *const caches[] = { "cache=none", "cache=writeback" };
	char dir[] = "/tmp/sb-test-nvme-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 2; i++) {
		json_t *layer = json_loads(layers[i], 0, NULL);
		json_t *topo = json_pack("{s:s,s:[O]}", "name", "t", "layers", layer);
		char *img = xasprintf("%s/nvme%d.img", dir, i);
		struct strv av;
		struct stat st;
		size_t j;
		int seen = 0;

		assert_int_equal(topology_validate(topo, "t"), 0);
		assert_int_equal(k->prepare(layer, i, dir), 0);
		assert_int_equal(stat(img, &st), 0);
		assert_int_equal(st.st_size, sizes[i]);
		strv_init(&av);
		assert_int_equal(k->qemu_args(layer, i, dir, &av), 0);
		for (j = 0; j < av.n; j++)
			seen |= !!strstr(av.v[j], caches[i]);
		assert_true(seen);
		strv_release(&av);
		k->discard(layer, i, dir);
		assert_false(path_exists(img));
		json_decref(topo);
		json_decref(layer);
		free(img);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_shipped_defaults_are_valid),
		cmocka_unit_test(test_get_defaults),
		cmocka_unit_test(test_get_values),
		cmocka_unit_test(test_get_refuses),
		cmocka_unit_test(test_get_bugs),
		cmocka_unit_test(test_get_ll_override),
		cmocka_unit_test(test_shipped_defaults_read),
		cmocka_unit_test(test_nvme_host_side),
		cmocka_unit_test(test_num),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
