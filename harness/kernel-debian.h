/* Debian kernel packages of any suite (through apt.h): resolve, fetch,
 * extract into the cache. docs/kernels.md "Debian kernels".
 *
 * Sources:
 *   debian:7.3                 newest linux-image-7.3.*-amd64 (not cloud, rt,
 *                              dbg, unsigned) in any suite
 *   debian:7.2.11              newest package of upstream 7.2.11
 *   debian:7.3@trixie-backports   only that suite
 *   debian:7.2.*               (spec only) every 7.2 version apt knows,
 *                              oldest first, one kernel each
 *   linux-image-PKG[=VERSION][@SUITE]   that package (and version)
 * Newest = highest upstream version; for equal upstream versions the first
 * suite in apt_suites order (bookworm before trixie: debian:6.12 stays the
 * bookworm build), then the highest Debian revision.
 *
 * Cache: kernels/<package>/root/ (renamed into place when complete, with
 * meta.json inside) and kernels/<package>/version; a second version of the
 * same package goes to kernels/<package>_<version>/.
 */
#ifndef SB_KERNEL_DEBIAN_H
#define SB_KERNEL_DEBIAN_H

#include <stddef.h>

#include "harness/apt.h"
#include "harness/kernel.h"
#include "common/strv.h"

struct deb_ksel {
	char *series;  /* "7.3", "7.2.11"; NULL with package */
	char *package; /* exact package, or NULL */
	char *version; /* exact version, or NULL */
	char *suite;   /* or NULL */
	int all;       /* "7.2.*" */
};

void deb_ksel_release(struct deb_ksel *s);
/* Parse "debian:..." or "linux-image-..." (what the source says). */
int deb_ksel_parse(const char *source, struct deb_ksel *s);

/* The package name regex of the plain amd64 flavour. */
extern const char deb_kernel_name_re[];
/* Pure selection over apt_list() output (unit-tested):
 * deb_kernel_pick: the one package the selector means (*idx), or -ENOENT
 *   with a message naming the closest versions that exist.
 * deb_kernel_all: every upstream version the selector matches, oldest
 *   first, one package each (chosen as deb_kernel_pick would). */
int deb_kernel_pick(const struct apt_pkg *v, size_t n, const struct deb_ksel *s, size_t *idx);
int deb_kernel_all(const struct apt_pkg *v, size_t n, const struct deb_ksel *s, size_t **idx,
		   size_t *nidx);
/* The exact-version linux-* packages an image depends on that the lists
 * lack ("linux-base-R, linux-modules-R"), or NULL when complete; v must
 * hold those packages (debian_kernel_get lists them). A selector never
 * picks an incomplete image. Caller frees. */
char *deb_kernel_missing(const struct apt_pkg *v, size_t n, const struct apt_pkg *img);
/* "closest existing: 7.2.9, 7.2.11" for a wanted series/version. Caller frees. */
char *deb_kernel_closest(const struct apt_pkg *v, size_t n, const char *want,
			 const char *suite);

/* Resolve and fetch a Debian source into k (kernel_get's Debian half). */
int debian_kernel_get(const char *source, struct kernel *k);
/* Expand "debian:7.2.*" into exact sources and names ("7.2.6"). */
int debian_kernel_expand(const char *source, struct strv *sources, struct strv *names);
/* Available kernels (and linux-source packages) whose upstream version
 * starts with `prefix`, for `kernel search`, oldest first. Incomplete
 * uploads (deb_kernel_missing) are counted in *nincomplete and left out
 * unless `all` (which also adds the cloud and rt flavours). */
int debian_kernel_search(const char *prefix, const char *suite, int all,
			 struct apt_pkg **out, size_t *n, size_t *nincomplete);

#endif
