/* zram: a compressed RAM block device used as swap. */
#define _GNU_SOURCE
#include "common/topology.h"
#include "common/params.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct param_def zram_params[] = {
	PARAM_STRING("kind", 16, NULL, "\"zram\""),
	PARAM_SIZE_REQ("size", 1 << 20, 0, "disk size of the device (at least 1M)"),
	PARAM_STRING("algorithm", 64, NULL, "compressor, e.g. \"lz4\" (default: the kernel's)"),
	PARAM_INT("priority", -1, 32767, "100", "swap priority"),
	PARAM_SIZE("mem_limit", 0, 0, NULL, "cap on the memory it may use"),
	PARAM_END(),
};

static int zram_validate(const json_t *layer, const char *where)
{
	return params_check(layer, where, zram_params);
}

static const struct kconfig_req zram_kconfig[] = {
	{ "CONFIG_ZRAM", 1 },
	{ "CONFIG_ZSMALLOC", 1 },
	{ NULL, 0 },
};

static void zram_modules(const json_t *layer, struct strv *out)
{
	const char *algo = json_string_value(json_object_get(layer, "algorithm"));

	strv_add(out, "zram");
	/* Before 6.12 zram compresses through the crypto API. */
	if (algo && topo_algo_module(algo))
		strv_add(out, topo_algo_module(algo));
}

static int zram_device(int nth, int *id)
{
	char path[64];
	unsigned long long newid;

	snprintf(path, sizeof(path), "/sys/block/zram%d", nth);
	if (is_dir(path)) {
		*id = nth;
		return 0;
	}
	if (sysfs_read_ull("/sys/class/zram-control/hot_add", &newid))
		return sb_err_prefix(ENODEV, "no zram device %d (is the zram module loaded?)",
				     nth);
	*id = (int)newid;
	return 0;
}

static int zram_setup(const json_t *layer, int index, struct topo_state *st)
{
	const char *algo = NULL;
	long long prio = 0;
	unsigned long long size = 0, limit = 0;
	char path[128], dev[64], avail[256] = "", where[32];
	int id = 0, rc;

	/* Through the table: a size given as a number of bytes reads as well
	 * as "256M" (parse_size of the string alone left it unset). */
	snprintf(where, sizeof(where), "layers[%d]", index);
	if ((rc = params_get_string(layer, where, zram_params, "algorithm", &algo)) ||
	    (rc = params_get_int(layer, where, zram_params, "priority", &prio)) ||
	    (rc = params_get_size(layer, where, zram_params, "size", &size)) ||
	    (rc = params_get_size(layer, where, zram_params, "mem_limit", &limit)))
		return rc;
	rc = zram_device(st->nzram, &id);
	if (rc)
		return rc;
	if (algo) {
		snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", id);
		if (sysfs_write(path, algo)) {
			sysfs_read(path, avail, sizeof(avail));
			return sb_err(EINVAL, "layers[%d]: zram cannot use algorithm '%s' "
				      "(this kernel offers: %s)", index, algo, avail);
		}
	}
	if (limit) {
		snprintf(path, sizeof(path), "/sys/block/zram%d/mem_limit", id);
		rc = sysfs_writef(path, "%llu", limit);
		if (rc)
			return rc;
	}
	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", id);
	rc = sysfs_writef(path, "%llu", size);
	if (rc)
		return rc;
	snprintf(dev, sizeof(dev), "/dev/zram%d", id);
	rc = topo_mkswap(dev);
	if (!rc)
		rc = topo_swapon(dev, (int)prio, 0, st, "zram");
	if (rc)
		return rc;
	st->zram_ids[st->nzram++] = id;
	snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", id);
	sysfs_read(path, avail, sizeof(avail));
	json_object_set_new(st->info, dev, json_pack("{s:s,s:I,s:I,s:s}", "kind", "zram",
						     "disksize", (json_int_t)size,
						     "priority", (json_int_t)prio, "comp_algorithm",
						     avail));
	return 0;
}

const struct topo_kind topo_zram = {
	.kind = "zram",
	.summary = "compressed RAM block device as swap (size, algorithm, priority)",
	.validate = zram_validate,
	.params = zram_params,
	.kconfig = zram_kconfig,
	.modules = zram_modules,
	.setup = zram_setup,
};
