/* Kernels: where they come from, their identity, their config.
 *
 * Sources:
 *   debian:X.Y          newest linux-image-X.Y*-amd64 in the host's apt lists
 *   linux-image-NAME    that exact Debian package
 *   image:PATH          a prebuilt bzImage (config and modules given beside it)
 *   a "git" object      built from a tree + patches + config (kernel-build.h)
 * Debian packages are fetched with `apt-get download` and extracted into the
 * cache ($XDG_CACHE_HOME/swapbench/kernels/), never installed on the host.
 */
#ifndef SB_KERNEL_H
#define SB_KERNEL_H

#include <jansson.h>

#include "harness/spec.h"
#include "common/topology.h"

struct kernel {
	char *name;         /* the spec's short name, e.g. "6.12" */
	char *source;       /* as written in the spec */
	char *release;      /* uname -r of the kernel */
	char *package;      /* Debian package name, or NULL */
	char *version;      /* Debian package version, or NULL */
	char *vmlinuz;
	char *config_path;  /* NULL when unknown */
	char *modules_root; /* dir holding lib/modules/<release>, or NULL */
	char *config_sha256;
	char *id;           /* stable cache identity */
	json_t *config;     /* {"CONFIG_X": "y"|"m"|"..."} or NULL */
	json_t *build;      /* built from source: tree, commits, patches, ... or NULL */
};

void kernel_init(struct kernel *k);
void kernel_release(struct kernel *k);

/* Resolve and fetch (if needed) a kernel. `name` may be NULL (defaults to the
 * source). `config`/`modules` override the paths for image: sources. */
int kernel_get(const char *source, const char *name, const char *config,
	       const char *modules, struct kernel *k);

/* Check options; on failure sb_err lists every missing one. `what` names the
 * use ("topology 'zram'"). */
int kernel_check_config(const struct kernel *k, const struct kconfig_req *reqs,
			const char *what);
/* Base requirements plus those of every layer of a topology. */
int kernel_check_topology(const struct kernel *k, const json_t *topo);

json_t *kernel_identity(const struct kernel *k);

#endif
