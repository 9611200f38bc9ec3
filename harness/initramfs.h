/* The guest's initramfs: the static agent as /init, /dev/console, and the
 * kernel's own modules that the agent may need (decompressed), with
 * /modules/deps giving each one's load order and /modules/base the ones
 * stage 1 loads before it mounts anything. Cached per (kernel, agent,
 * module set). */
#ifndef SB_INITRAMFS_H
#define SB_INITRAMFS_H

#include "harness/kernel.h"

/* Path of a ready initramfs for kernel k (built if missing). Caller frees.
 * `modules`: the top-level modules a cell needs beyond the base ones (a
 * topology's, from topology_modules()); NULL: every module any topology
 * may ask for, one image for all cells of the kernel. */
int initramfs_get(const struct kernel *k, const char *agent_path, const struct strv *modules,
		  char **out_path);

/* Low-level: newc archive writer (exposed for tests). */
struct cpio;
struct cpio *cpio_open(const char *path);
int cpio_add_dir(struct cpio *c, const char *name);
int cpio_add_file(struct cpio *c, const char *name, const void *data, size_t len,
		  unsigned mode);
int cpio_add_chardev(struct cpio *c, const char *name, unsigned maj, unsigned min);
int cpio_close(struct cpio *c); /* writes the trailer; frees c */

#endif
