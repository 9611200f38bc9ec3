/* zram: a compressed RAM block device used as swap. */
#define _GNU_SOURCE
#include "common/topology.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const zram_keys[] = { "kind", "size", "algorithm", "priority", "mem_limit",
					  NULL };

static int zram_validate(const json_t *layer, const char *where)
{
	unsigned long long sz;
	long long prio;
	json_t *v;
	int rc = topo_check_keys(layer, zram_keys, where);

	if (rc)
		return rc;
	v = json_object_get(layer, "size");
	if (!json_is_string(v) || parse_size(json_string_value(v), &sz) || sz < (1 << 20))
		return sb_err(EINVAL, "%s.size: expected a size of at least 1M like \"1G\"",
			      where);
	v = json_object_get(layer, "mem_limit");
	if (v && (!json_is_string(v) || parse_size(json_string_value(v), &sz)))
		return sb_err(EINVAL, "%s.mem_limit: expected a size like \"512M\"", where);
	v = json_object_get(layer, "algorithm");
	if (v && (!json_is_string(v) || !json_string_length(v)))
		return sb_err(EINVAL, "%s.algorithm: expected a compressor name like \"lz4\"",
			      where);
	return topo_get_int(layer, "priority", -1, 32767, 100, &prio, where);
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
	const char *algo = json_string_value(json_object_get(layer, "algorithm"));
	const char *limit = json_string_value(json_object_get(layer, "mem_limit"));
	json_t *prio_j = json_object_get(layer, "priority");
	int prio = prio_j ? (int)json_integer_value(prio_j) : 100;
	unsigned long long size;
	char path[128], dev[64], avail[256] = "";
	int id = 0, rc;

	parse_size(json_string_value(json_object_get(layer, "size")), &size);
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
		rc = sysfs_write(path, limit);
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
		rc = topo_swapon(dev, prio, 0, st, "zram");
	if (rc)
		return rc;
	st->zram_ids[st->nzram++] = id;
	snprintf(path, sizeof(path), "/sys/block/zram%d/comp_algorithm", id);
	sysfs_read(path, avail, sizeof(avail));
	json_object_set_new(st->info, dev, json_pack("{s:s,s:I,s:i,s:s}", "kind", "zram",
						     "disksize", (json_int_t)size,
						     "priority", prio, "comp_algorithm",
						     avail));
	return 0;
}

const struct topo_kind topo_zram = {
	.kind = "zram",
	.summary = "compressed RAM block device as swap (size, algorithm, priority)",
	.validate = zram_validate,
	.kconfig = zram_kconfig,
	.modules = zram_modules,
	.setup = zram_setup,
};
