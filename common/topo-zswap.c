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
	PARAM_END(),
};

static int zswap_validate(const json_t *layer, const char *where)
{
	return params_check(layer, where, zswap_params);
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

static int zswap_setup(const json_t *layer, int index, struct topo_state *st)
{
	json_t *applied = json_object(), *absent = json_array(), *v;
	char buf[32];
	int rc = 0;

	if (!is_dir(ZSWAP_PARAMS)) {
		json_decref(applied);
		json_decref(absent);
		return sb_err(ENODEV, "layers[%d]: this kernel has no zswap (%s is missing)",
			      index, ZSWAP_PARAMS);
	}
	if ((v = json_object_get(layer, "compressor")))
		rc = set_param("compressor", json_string_value(v), applied);
	if (!rc && (v = json_object_get(layer, "zpool")))
		rc = set_param("zpool", json_string_value(v), applied);
	if (!rc && (v = json_object_get(layer, "max_pool_percent"))) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		rc = set_param("max_pool_percent", buf, applied);
	}
	if (!rc && (v = json_object_get(layer, "accept_threshold_percent"))) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		rc = set_param("accept_threshold_percent", buf, applied);
	}
	if (!rc && (v = json_object_get(layer, "shrinker"))) {
		/* Only 6.8+ has the shrinker; older kernels record it as absent. */
		if (access(ZSWAP_PARAMS "shrinker_enabled", F_OK) == 0)
			rc = set_param("shrinker_enabled", json_is_true(v) ? "Y" : "N", applied);
		else
			json_array_append_new(absent, json_string("shrinker_enabled"));
	}
	if (!rc)
		rc = set_param("enabled", "Y", applied);
	if (rc) {
		json_decref(applied);
		json_decref(absent);
		return rc;
	}
	st->zswap_enabled = 1;
	json_object_set_new(applied, "absent", absent);
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
