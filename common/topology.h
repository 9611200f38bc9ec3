/* Swap topologies: an ordered list of layers, each of a registered kind.
 *
 * A topology file (configs/topologies/NAME.json):
 *   { "name": "zswap-nvme", "description": "...",
 *     "layers": [ {"kind": "zswap", "compressor": "lz4", ...},
 *                 {"kind": "nvme", "size": "2G", "priority": 10} ],
 *     "commands": [["swapon", "/dev/ghostswap"]],   (guest, after set-up)
 *     "collect": ["/sys/kernel/debug/zswap"] }       (copied after the workload)
 *
 * One file per kind (common/topo-<kind>.c) fills struct topo_kind. The host
 * uses validate/kconfig/modules/qemu_args; the guest agent uses setup.
 * Kind files are linked into both binaries.
 */
#ifndef SB_TOPOLOGY_H
#define SB_TOPOLOGY_H

#include <jansson.h>

#include "common/strv.h"

/* A kernel config requirement: value must be 'y', or 'y'/'m' when module_ok. */
struct param_def;

struct kconfig_req {
	const char *option; /* "CONFIG_ZSWAP" */
	int module_ok;
};

#define TOPO_MAX_SWAPS 16

/* What the guest set up, for samplers and the result. */
struct topo_state {
	int nswaps;
	struct {
		char path[128];
		char kind[16];
		int priority;
	} swaps[TOPO_MAX_SWAPS];
	int zram_ids[TOPO_MAX_SWAPS];
	int nzram;
	int zswap_enabled;
	json_t *info; /* object: per-layer settings actually applied */
};

struct topo_kind {
	const char *kind;
	const char *summary;
	/* Host and guest: check one layer object. */
	int (*validate)(const json_t *layer, const char *where);
	/* The layer's keys, types, ranges and defaults (common/params.h). */
	const struct param_def *params;
	const struct kconfig_req *kconfig;  /* {NULL}-terminated */
	/* Kernel modules this layer needs when they are built as modules
	 * (top-level names; dependencies are resolved on the host). */
	void (*modules)(const json_t *layer, struct strv *out);
	/* Host: qemu arguments for layer `index`; `cell_dir` holds backing files. */
	int (*qemu_args)(const json_t *layer, int index, const char *cell_dir, struct strv *av);
	/* Host: create backing storage before boot. */
	int (*prepare)(const json_t *layer, int index, const char *cell_dir);
	/* Host: remove backing storage after the cell. */
	void (*discard)(const json_t *layer, int index, const char *cell_dir);
	/* Guest: bring the layer up. */
	int (*setup)(const json_t *layer, int index, struct topo_state *st);
};

extern const struct topo_kind *const topo_kinds[];
const struct topo_kind *topo_kind_find(const char *kind);

/* Validate a whole topology object; `where` names it for messages. */
int topology_validate(const json_t *topo, const char *where);
/* Kernel options every cell needs, independent of the topology. */
extern const struct kconfig_req topo_base_kconfig[];
extern const char *const topo_base_modules[];
/* Every module any layer could ask for: what initramfs images carry. */
extern const char *const topo_all_modules[];
/* The modules one topology needs (base ones excluded). */
void topology_modules(const json_t *topo, struct strv *out);
/* The kind of the first layer backed by a host file (an emulated disk whose
 * I/O qemu completes in host time), or NULL. */
const char *topology_host_backed(const json_t *topo);
/* Crypto/compressor module for an algorithm name ("lz4" -> "lz4"), or NULL. */
const char *topo_algo_module(const char *algo);

/* Guest helpers shared by kinds. */
int topo_mkswap(const char *dev);
int topo_swapon(const char *dev, int priority, int discard, struct topo_state *st,
		const char *kind);

#endif
