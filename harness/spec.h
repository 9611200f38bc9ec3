/* Experiment specs (configs/suites/NAME.json): what to run.
 *
 * {
 *   "name": "quick",
 *   "kernels": [ {"name": "6.1", "source": "debian:6.1"}, ... ],
 *   "topologies": [ "zram", "configs/topologies/x.json", { inline topology } ],
 *   "workloads": [ {"name": "anon", "kind": "anon", "params": {...},
 *                   "memcg": {...}, "timeout": 300} ],
 *   "memcg": {"max": "64M", "high": "60M", "swap_max": "1G"},
 *   "iterations": 3,
 *   "vm": {"memory": "1G", "cpus": 2, "accel": "auto", "timeout": 600,
 *          "cmdline": "extra kernel args", "clock": "host"|"icount",
 *          "quiet": false,
 *          "fast_boot": true | false | {"pvh": b, "lean_machine": b,
 *                        "lean_initramfs": b, "parallel_modules": b,
 *                        "quick_cmdline": b}},
 *   "purpose": "measurement" | "functional",   (may cells share the host?)
 *   "sample_interval_ms": 1000,
 *   "profile": {"frequency": 499, "max_size": "64M"}
 * }
 * workloads[].profile (true|false) records a perf profile of its measured
 * phase in every cell; "profile" caps it (sampling Hz, perf.data bytes).
 * memcg may also set "zswap_max".
 * Unknown keys are errors. Errors name file, line, JSON path and value.
 */
#ifndef SB_SPEC_H
#define SB_SPEC_H

#include <jansson.h>
#include <stddef.h>

#include "common/strv.h"

/* What vm.quiet selects, from the A/A measurements in docs/noise.md. */
#define VM_QUIET_CLOCK "icount"

struct spec_memcg {
	long long max, high, swap_max, zswap_max; /* bytes; -1 = not set */
};

/* A kernel built from source (kernels[].git, docs/kernels.md). Paths are
 * resolved (relative ones against the spec's directory) and checked to
 * exist when the spec is loaded. */
struct spec_kbuild {
	char *tree;             /* the git repository, absolute */
	char *tree_spec;        /* as written: "cache:linux-6.12", "../linux" */
	char *ref;              /* the base, default "HEAD" */
	char *branch;           /* the series as commits instead of patches, or NULL */
	struct strv patches;    /* files for `git am`, in order */
	char *config_base;      /* "tinyconfig", "defconfig", "allnoconfig" or a file */
	struct strv fragments;  /* merged in order with merge_config.sh */
	struct strv make;       /* "VAR=value", sorted */
	char *localversion;     /* release suffix, "" when none */
};

struct spec_kernel {
	char *name, *source, *config, *modules;
	struct spec_kbuild *build; /* git sources only, else NULL */
};

struct spec_topology {
	char *name;
	char *origin;  /* file it came from, or the spec for inline ones */
	json_t *obj;   /* validated topology object */
};

struct spec_workload {
	char *name, *kind;
	json_t *params;          /* always an object */
	struct spec_memcg memcg; /* the spec's memcg with this workload's overrides */
	int timeout_s;
	int profile;             /* record a perf profile of the measured phase */
};

/* Boot steps that make a cell cheaper (docs/boot.md); all on by default.
 * Each can be turned off to measure what it buys. */
struct spec_boot {
	int pvh;              /* boot the uncompressed ELF through qemu's PVH entry */
	int lean_machine;     /* q35 without the devices no cell uses */
	int lean_initramfs;   /* only the modules this cell's topology needs */
	int parallel_modules; /* the agent loads independent modules at once */
	int quick_cmdline;    /* kernel options that skip boot work */
};

struct spec {
	char *path, *name, *text;
	json_t *root;
	struct spec_kernel *kernels;
	size_t nkernels;
	struct spec_topology *topos;
	size_t ntopos;
	struct spec_workload *workloads;
	size_t nworkloads;
	int iterations;
	unsigned vm_mem_mb, vm_cpus;
	char *accel, *cmdline;
	char *clock;   /* "host" (default) or "icount" (docs/noise.md) */
	int quiet;     /* vm.quiet: the measured quiet mode (docs/noise.md) */
	int vm_timeout_s;
	struct spec_boot boot;
	int functional;       /* "purpose": "functional": cells may run side by side */
	int sample_interval_ms;
	int profile_hz;              /* perf record -F */
	long long profile_max_bytes; /* perf record --max-size */
};

void spec_init(struct spec *s);
void spec_release(struct spec *s);
/* Load and validate a spec file. */
int spec_load(const char *path, struct spec *s);
/* The VM fits this host: vm.cpus and vm.memory within what it has (0: not
 * checked). Suites for bigger machines still load; a run checks this. */
int spec_check_host(const struct spec *s, unsigned host_cpus, unsigned long long host_mem);
/* Load one topology: a name (configs/topologies/NAME.json), a path, with
 * `base_dir` for relative paths. `where` names the referring input. */
int topology_load(const char *ref, const char *base_dir, const char *where,
		  struct spec_topology *t);
void spec_topology_release(struct spec_topology *t);
/* Turn a loaded spec into an A/A experiment: its kernel `kernel` (NULL: the
 * first) twice, named "A" and "B", and the name NAME-aa. */
int spec_make_aa(struct spec *s, const char *kernel);
void spec_kbuild_free(struct spec_kbuild *b);

#endif
