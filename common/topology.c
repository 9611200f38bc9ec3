#define _GNU_SOURCE
#include "common/topology.h"
#include "common/params.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>

extern const struct topo_kind topo_zram, topo_zswap, topo_nvme;

/* The registry of layer kinds. */
const struct topo_kind *const topo_kinds[] = {
	&topo_zram,
	&topo_zswap,
	&topo_nvme,
	NULL,
};

const struct kconfig_req topo_base_kconfig[] = {
	{ "CONFIG_SWAP", 0 },
	{ "CONFIG_MEMCG", 0 },
	{ "CONFIG_CGROUPS", 0 },
	{ "CONFIG_VM_EVENT_COUNTERS", 0 },
	{ "CONFIG_TRANSPARENT_HUGEPAGE", 0 },
	{ "CONFIG_BLK_DEV_INITRD", 0 },
	{ "CONFIG_DEVTMPFS", 0 },
	{ "CONFIG_TMPFS", 0 },
	{ "CONFIG_SERIAL_8250_CONSOLE", 0 },
	{ "CONFIG_VIRTIO_PCI", 1 },
	{ "CONFIG_NET_9P", 1 },
	{ "CONFIG_NET_9P_VIRTIO", 1 },
	{ "CONFIG_9P_FS", 1 },
	{ NULL, 0 },
};

const char *const topo_base_modules[] = { "virtio_pci", "9pnet_virtio", "9p", NULL };

const char *const topo_all_modules[] = { "zram", "nvme", "zsmalloc", "z3fold", "zbud", "lz4",
					 "lz4hc", "zstd", "deflate", "842", "lzo", "lzo-rle",
					 NULL };

const char *topo_algo_module(const char *algo)
{
	static const char *const known[] = { "lz4", "lz4hc", "zstd", "deflate", "842", "lzo",
					     "lzo-rle", NULL };

	for (int i = 0; known[i]; i++)
		if (!strcmp(known[i], algo))
			return known[i];
	return NULL;
}

void topology_modules(const json_t *topo, struct strv *out)
{
	json_t *layer;
	size_t i;

	json_array_foreach(json_object_get(topo, "layers"), i, layer) {
		const struct topo_kind *k = topo_kind_find(
			json_string_value(json_object_get(layer, "kind")));

		if (k && k->modules)
			k->modules(layer, out);
	}
}

const struct topo_kind *topo_kind_find(const char *kind)
{
	for (int i = 0; topo_kinds[i]; i++)
		if (!strcmp(topo_kinds[i]->kind, kind))
			return topo_kinds[i];
	return NULL;
}

static int validate_argv_list(const json_t *list, const char *where, const char *key)
{
	size_t i, j;
	json_t *cmd, *arg;

	if (!json_is_array(list))
		return sb_err(EINVAL, "%s.%s: expected an array", where, key);
	json_array_foreach(list, i, cmd) {
		if (!strcmp(key, "collect")) {
			if (!json_is_string(cmd) || json_string_value(cmd)[0] != '/')
				return sb_err(EINVAL, "%s.%s[%zu]: expected an absolute path",
					      where, key, i);
			continue;
		}
		if (!json_is_array(cmd) || !json_array_size(cmd))
			return sb_err(EINVAL,
				      "%s.%s[%zu]: expected a non-empty argument vector, "
				      "e.g. [\"swapon\", \"/dev/ghostswap\"]", where, key, i);
		json_array_foreach(cmd, j, arg)
			if (!json_is_string(arg))
				return sb_err(EINVAL, "%s.%s[%zu][%zu]: expected a string",
					      where, key, i, j);
	}
	return 0;
}

int topology_validate(const json_t *topo, const char *where)
{
	static const char *const keys[] = { "name", "description", "layers", "commands",
					    "collect", NULL };
	json_t *layers, *layer, *name;
	size_t i;
	int rc, nzswap = 0, nswap = 0;

	rc = param_check_object(topo, where) ?: param_check_keys(topo, where, keys);
	if (rc)
		return rc;
	name = json_object_get(topo, "name");
	if (!json_is_string(name) || !json_string_length(name))
		return sb_err(EINVAL, "%s.name: expected a non-empty string", where);
	layers = json_object_get(topo, "layers");
	if (!json_is_array(layers) || !json_array_size(layers))
		return sb_err(EINVAL, "%s.layers: expected a non-empty array of layers", where);
	json_array_foreach(layers, i, layer) {
		char *lw = xasprintf("%s.layers[%zu]", where, i);
		json_t *kind = json_object_get(layer, "kind");
		const struct topo_kind *k;

		if (!json_is_object(layer) || !json_is_string(kind)) {
			rc = sb_err(EINVAL, "%s: expected an object with a \"kind\"", lw);
		} else if (!(k = topo_kind_find(json_string_value(kind)))) {
			rc = sb_err(EINVAL, "%s.kind: unknown layer kind '%s' (known: zram, "
				    "zswap, nvme)", lw, json_string_value(kind));
		} else {
			rc = k->validate(layer, lw);
			if (!strcmp(k->kind, "zswap"))
				nzswap++;
			else
				nswap++;
		}
		free(lw);
		if (rc)
			return rc;
	}
	if (nzswap > 1)
		return sb_err(EINVAL, "%s.layers: zswap can appear only once", where);
	if (nzswap && !nswap && !json_object_get(topo, "commands"))
		return sb_err(EINVAL, "%s.layers: zswap needs a swap device behind it "
			      "(add an nvme or zram layer)", where);
	if (json_object_get(topo, "commands")) {
		rc = validate_argv_list(json_object_get(topo, "commands"), where, "commands");
		if (rc)
			return rc;
	}
	if (json_object_get(topo, "collect"))
		return validate_argv_list(json_object_get(topo, "collect"), where, "collect");
	return 0;
}

int topo_mkswap(const char *dev)
{
	const char *argv[] = { "mkswap", "-f", dev, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 120000, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result r;
	int rc = spawn_run(&o, &r);

	if (rc)
		return rc;
	if (r.timed_out || r.exit_code) {
		rc = sb_err(EIO, "mkswap '%s' failed (exit %d): %s", dev, r.exit_code,
			    r.out ? r.out : "");
		spawn_result_release(&r);
		return rc;
	}
	spawn_result_release(&r);
	return 0;
}

int topo_swapon(const char *dev, int priority, int discard, struct topo_state *st,
		const char *kind)
{
	int flags = 0;

	if (st->nswaps >= TOPO_MAX_SWAPS)
		return sb_err(E2BIG, "too many swap devices (max %d)", TOPO_MAX_SWAPS);
	if (priority >= 0)
		flags |= SWAP_FLAG_PREFER | ((priority << SWAP_FLAG_PRIO_SHIFT) &
					      SWAP_FLAG_PRIO_MASK);
	if (discard)
		flags |= SWAP_FLAG_DISCARD;
	if (swapon(dev, flags))
		return sb_err(errno, "swapon '%s' (priority %d) failed: %s", dev, priority,
			      strerror(errno));
	snprintf(st->swaps[st->nswaps].path, sizeof(st->swaps[0].path), "%s", dev);
	snprintf(st->swaps[st->nswaps].kind, sizeof(st->swaps[0].kind), "%s", kind);
	st->swaps[st->nswaps].priority = priority;
	st->nswaps++;
	return 0;
}
