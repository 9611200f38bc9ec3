/* zswap: a compressed cache in front of the swap devices of later layers. */
#define _GNU_SOURCE
#include "common/topology.h"
#include "common/params.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/sysfs.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ZSWAP_PARAMS "/sys/module/zswap/parameters/"

static const struct param_def zswap_params[] = {
	PARAM_STRING("kind", 16, NULL, "\"zswap\""),
	PARAM_STRING("compressor", 64, NULL, "e.g. \"lz4\" (default: the kernel's)"),
	PARAM_STRING("zpool", 64, NULL, "e.g. \"zsmalloc\" (default: the kernel's)"),
	PARAM_INT("max_pool_percent", 1, 100, "20", "pool limit, percent of RAM"),
	PARAM_INT("accept_threshold_percent", 0, 100, "90", "refill threshold, percent"),
	PARAM_BOOL("shrinker", NULL, "the zswap shrinker (default: the kernel's)"),
	PARAM_CUSTOM("required", NULL, "keys whose zswap parameter must exist on this kernel\n"
		     "(e.g. [\"zpool\"]); others a kernel lacks are reported, not fatal"),
	PARAM_END(),
};

/* The keys that name a zswap parameter, and that parameter's file. */
static const char *const zswap_files[][2] = {
	{ "compressor", "compressor" },
	{ "zpool", "zpool" },
	{ "max_pool_percent", "max_pool_percent" },
	{ "accept_threshold_percent", "accept_threshold_percent" },
	{ "shrinker", "shrinker_enabled" },
	{ NULL, NULL },
};

static int zswap_validate(const json_t *layer, const char *where)
{
	json_t *req;
	int rc = params_check(layer, where, zswap_params);

	if (!rc && (req = json_object_get(layer, "required"))) {
		size_t i;
		json_t *r;

		if (!json_is_array(req))
			return sb_err(EINVAL, "%s.required: expected an array of keys", where);
		json_array_foreach(req, i, r) {
			int known = 0;

			for (int k = 0; zswap_files[k][0]; k++)
				known |= json_is_string(r) &&
					 !strcmp(json_string_value(r), zswap_files[k][0]);
			if (!known)
				return sb_err(EINVAL, "%s.required[%zu]: expected one of compressor, "
					      "zpool, max_pool_percent, accept_threshold_percent, "
					      "shrinker", where, i);
			if (!json_object_get(layer, json_string_value(r)))
				return sb_err(EINVAL, "%s.required[%zu]: '%s' is not set in this layer",
					      where, i, json_string_value(r));
		}
	}
	return rc;
}

static const struct kconfig_req zswap_kconfig[] = {
	{ "CONFIG_ZSWAP", 0 },
	{ NULL, 0 },
};

static void zswap_modules(const json_t *layer, struct strv *out)
{
	const char *c = json_string_value(json_object_get(layer, "compressor"));
	const char *z = json_string_value(json_object_get(layer, "zpool"));

	if (c && topo_algo_module(c))
		strv_add(out, topo_algo_module(c));
	if (z)
		strv_add(out, z);
}

static int set_param(const char *name, const char *val, json_t *applied)
{
	char path[128], now[128] = "";
	int rc;

	snprintf(path, sizeof(path), ZSWAP_PARAMS "%s", name);
	rc = sysfs_write(path, val);
	if (rc)
		return sb_err_prefix(-rc, "zswap %s", name);
	sysfs_read(path, now, sizeof(now));
	json_object_set_new(applied, name, json_string(now));
	return 0;
}

static int is_required(const json_t *layer, const char *key)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(layer, "required"), i, r)
		if (!strcmp(json_string_value(r), key))
			return 1;
	return 0;
}

/* Kernels differ in which parameters zswap has (6.1: zpool and the
 * same-filled switches; 6.8+: shrinker_enabled; 7.x: no zpool, zsmalloc
 * only). A key this kernel has no parameter for is recorded under
 * "absent" (with what was asked in "not_applied") and the cell goes on,
 * unless the layer lists it in "required". */
static int zswap_setup(const json_t *layer, int index, struct topo_state *st)
{
	json_t *applied = json_object(), *absent = json_array(), *skipped = json_object();
	int rc = 0;

	if (!is_dir(ZSWAP_PARAMS)) {
		json_decref(applied);
		json_decref(absent);
		json_decref(skipped);
		return sb_err(ENODEV, "layers[%d]: this kernel has no zswap (%s is missing)",
			      index, ZSWAP_PARAMS);
	}
	for (int k = 0; !rc && zswap_files[k][0]; k++) {
		const char *key = zswap_files[k][0], *param = zswap_files[k][1];
		json_t *v = json_object_get(layer, key);
		char path[128], buf[64];
		const char *val;

		if (!v)
			continue;
		if (json_is_string(v))
			val = json_string_value(v);
		else if (json_is_boolean(v))
			val = json_is_true(v) ? "Y" : "N";
		else {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			val = buf;
		}
		snprintf(path, sizeof(path), ZSWAP_PARAMS "%s", param);
		if (access(path, F_OK)) {
			if (is_required(layer, key)) {
				rc = sb_err(ENOENT, "layers[%d].%s: required, but this kernel's "
					    "zswap has no parameter '%s'%s", index, key, param,
					    !strcmp(key, "zpool") ? " (7.x zswap is zsmalloc only)"
								  : "");
				break;
			}
			json_array_append_new(absent, json_string(param));
			json_object_set_new(skipped, key, json_deep_copy(v));
			continue;
		}
		rc = set_param(param, val, applied);
	}
	if (!rc)
		rc = set_param("enabled", "Y", applied);
	if (rc) {
		json_decref(applied);
		json_decref(absent);
		json_decref(skipped);
		return rc;
	}
	st->zswap_enabled = 1;
	json_object_set_new(applied, "absent", absent);
	json_object_set_new(applied, "not_applied", skipped);
	json_object_set_new(st->info, "zswap", applied);
	return 0;
}

const struct topo_kind topo_zswap = {
	.kind = "zswap",
	.summary = "compressed cache in front of the following swap devices",
	.validate = zswap_validate,
	.params = zswap_params,
	.kconfig = zswap_kconfig,
	.modules = zswap_modules,
	.setup = zswap_setup,
};
