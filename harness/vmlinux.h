/* The uncompressed kernel for qemu's PVH entry.
 *
 * A bzImage carries the kernel ELF compressed; under TCG its decompressor
 * runs as emulated code before the kernel's clock starts (seconds for an xz
 * Debian kernel). qemu can instead load the ELF itself through the PVH entry
 * point when the kernel was built with CONFIG_PVH (an ELF note). We extract
 * the ELF once into the kernel's cache entry and boot that; whatever goes
 * wrong, the bzImage still boots.
 */
#ifndef SB_VMLINUX_H
#define SB_VMLINUX_H

#include <stddef.h>

#include "harness/kernel.h"

/* Where the payload of a bzImage starts and how long it is, and which
 * decompressor it needs ("xz", "zstd", "gzip", "lz4", or NULL: unknown). */
struct bzimage_payload {
	size_t offset, length;
	const char *format;
	unsigned long long expect_size; /* decompressed size mod 2^32, from the trailer */
};
int bzimage_payload(const char *data, size_t len, const char *what, struct bzimage_payload *p);

/* 1 when the ELF at path is a complete x86-64 kernel with a PVH entry note,
 * 0 when it is a kernel without one; negative errno (sb_err) when the file
 * is not a sound ELF. */
int elf_has_pvh_note(const char *path);

/* Extract the ELF from bzImage `bzimage` into `out` (temp + rename; checked
 * against the size the image records and for a PVH note). */
int vmlinux_extract(const char *bzimage, const char *out);

/* The PVH-bootable ELF of kernel k, extracted once into its cache entry:
 * 0 and *path set, or negative errno with sb_err saying why (the caller then
 * boots k->vmlinuz). */
int vmlinux_get(const struct kernel *k, char **path);

#endif
