/* Kernels built from source: a git tree + base ref + a patch series (or a
 * second ref) + a config (base + fragments), built out of tree and cached by
 * content. See docs/kernels.md.
 *
 * Cache layout under $XDG_CACHE_HOME/swapbench:
 *   builds/<key>/          a finished build: bzImage, config, build.log,
 *                          kernel.json, lib/modules/<release> when modular
 *   builds/<key>.tmp.<pid> one being written (renamed when complete)
 *   builds/index/<ikey>    input key -> key: the fast path, no git work
 *   builds/roots/<hash>    specs that used builds, for `kernel gc`
 *   work/<name>-<hash>/    per variant: src/ (a `git clone --shared` of the
 *                          user's tree, never their checkout), out/ (make O=),
 *                          build.log, and a lock
 *
 * Two keys. The input key covers what the user gave: the base commit (and
 * branch commit), each patch's sha256, the config base and fragments'
 * sha256, the compiler and linker versions, the make variables and the
 * local version. It is computed without touching a work tree, so a cache
 * hit costs a few git and compiler --version calls. The key proper covers
 * what was built: the commit after the patches, the final .config, compiler,
 * make variables, local version. Both name the same builds/<key>.
 */
#ifndef SB_KERNEL_BUILD_H
#define SB_KERNEL_BUILD_H

#include <jansson.h>
#include <stddef.h>

#include "harness/kernel.h"
#include "harness/spec.h"

enum kbuild_state { KBUILD_CACHED, KBUILD_BUILT, KBUILD_FAILED };

struct kbuild_opts {
	int jobs;          /* make -jN; 0: online CPUs */
	int tty;           /* redraw a progress line on stderr */
	int quiet;         /* no progress lines at all */
	int force;         /* build even when cached */
	const char *label; /* progress prefix, e.g. "[1/2]"; may be NULL */
	const char *log;   /* the build log's path; NULL: build.log in the work
			    * tree (truncated by the variant's next build) */
};

/* Build the kernel of a git spec kernel, or find it in the cache, and fill
 * k as kernel_get() does (k->build holds the build identity). *state says
 * which (KBUILD_FAILED when it returns non-zero). Errors name the cause: the
 * patch and conflicting files, each unmet config option, or the make step
 * with the last lines and the path of its kept log. */
int kbuild_get(const struct spec_kernel *sk, const struct kbuild_opts *o, struct kernel *k,
	       enum kbuild_state *state);

/* Remember a spec as a user of its builds (for kbuild_gc). */
void kbuild_add_root(const char *spec_path);

/* The cached builds: an array of their kernel.json objects, each with "dir". */
json_t *kbuild_list(void);

/* Remove builds (and work trees) that no spec uses: the specs given, or when
 * nspecs is 0 every remembered spec that still exists. In-progress builds
 * are left alone. Returns an array of {"path", "what", "bytes"} removed
 * (or that would be, with dry_run). */
int kbuild_gc(const char *const *specs, size_t nspecs, int dry_run, json_t **removed);

#endif
