/* What kernel-debian.c (picking a package) and kernel-debian-fetch.c
 * (fetching it) share. Not for other modules: they use kernel-debian.h. */
#ifndef SB_KERNEL_DEBIAN_INT_H
#define SB_KERNEL_DEBIAN_INT_H

#include "harness/apt.h"
#include "harness/kernel.h"
#include "common/strv.h"

/* The "(= version)" linux-* dependencies of img: binary, modules, base. */
void deb_exact_deps(const struct apt_pkg *img, struct strv *out);
/* Whether a kernel cannot boot without dependency dep (binary, modules). */
int deb_needed_part(const char *dep);
/* Download, extract and load the kernel of package img into k. */
int deb_fetch(const struct apt_pkg *img, struct kernel *k);

#endif
