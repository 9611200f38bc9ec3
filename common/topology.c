#define _GNU_SOURCE
#include "common/topology.h"
#include "common/params.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

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

static const struct topo_kind *layer_kind(const json_t *layer)
{
	return topo_kind_find(json_string_value(json_object_get(layer, "kind")));
}

void topology_modules(const json_t *topo, struct strv *out)
{
	const struct topo_kind *k;
	json_t *layer;
	size_t i;

	json_array_foreach(json_object_get(topo, "layers"), i, layer)
		if ((k = layer_kind(layer)) && k->modules)
			k->modules(layer, out);
}

const char *topology_host_backed(const json_t *topo)
{
	const struct topo_kind *k;
	json_t *layer;
	size_t i;

	json_array_foreach(json_object_get(topo, "layers"), i, layer)
		if ((k = layer_kind(layer)) && k->prepare)
			return k->kind;
	return NULL;
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

/* A topology object; its layers are checked by their kinds' tables. */
static const struct param_def topology_params[] = {
	PARAM_STRING_REQ("name", 0, "the topology's name in cell ids"),
	PARAM_CUSTOM("description", NULL, "free text"),
	PARAM_CUSTOM("layers", NULL, "the swap layers, front first"),
	PARAM_CUSTOM("commands", NULL, "argument vectors run in the guest after the layers"),
	PARAM_CUSTOM("collect", NULL, "guest paths copied into the cell's results"),
	PARAM_END(),
};

int topology_validate(const json_t *topo, const char *where)
{
	json_t *layers, *layer;
	size_t i;
	int rc, nzswap = 0, nswap = 0;

	rc = params_check(topo, where, topology_params);
	if (rc)
		return rc;
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

/* What mkswap writes (a version-1 swap header in the first page), written
 * here: running mkswap means loading it and its libraries over 9p, which
 * under TCG costs seconds of every cell's set-up. */
int topo_mkswap(const char *dev)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size = 0;
	struct stat st;
	unsigned char *hdr;
	uint32_t v[3];
	int fd = open(dev, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return sb_err(errno, "mkswap: cannot open '%s': %s", dev, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			size = 0;
	} else if (fstat(fd, &st) == 0) {
		size = (unsigned long long)st.st_size;
	}
	if (page < 4096 || size < 10ULL * (unsigned long long)page) {
		close(fd);
		return sb_err(EINVAL, "mkswap: '%s' holds %llu bytes, too small for swap", dev, size);
	}
	hdr = calloc(1, page);
	/* struct swap_header: version, last_page, nr_badpages after 1024 boot
	 * bytes, then a 16-byte UUID; the magic ends the page. */
	v[0] = 1;
	v[1] = (uint32_t)(size / page - 1 > UINT32_MAX ? UINT32_MAX : size / page - 1);
	v[2] = 0;
	memcpy(hdr + 1024, v, sizeof(v));
	if (getrandom(hdr + 1036, 16, 0) == 16) {
		hdr[1036 + 6] = (hdr[1036 + 6] & 0x0f) | 0x40; /* UUID version 4 */
		hdr[1036 + 8] = (hdr[1036 + 8] & 0x3f) | 0x80;
	}
	memcpy(hdr + page - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, hdr, page, 0) != page || fsync(fd))
		rc = sb_err(errno ? errno : EIO, "mkswap: writing the swap header to '%s' failed: %s",
			    dev, strerror(errno ? errno : EIO));
	free(hdr);
	close(fd);
	return rc;
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
