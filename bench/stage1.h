/* Agent stage 1: PID 1 inside the initramfs.
 *
 * Loads the kernel modules a distro kernel needs (9p, virtio, then what the
 * cell asks for), mounts the host root read-only over 9p ("hostroot") and
 * the cell directory read-write ("cell"), then chroots into the host root
 * so workloads can use host tools. The initramfs holds /init (this binary),
 * /modules/NAME.ko and /modules/deps ("name: a.ko b.ko name.ko" per line,
 * in load order; "name:" alone means built in).
 */
#ifndef SB_STAGE1_H
#define SB_STAGE1_H

#include "common/protocol.h"

/* Returns 0 once chrooted with the cell directory at GUEST_CELL_DIR. */
int stage1_run(void);
/* Load a module and its dependencies by name from /modules (before chroot). */
int stage1_load_module(const char *name);
/* True when the kernel command line has the word. */
int cmdline_has(const char *word);
void agent_poweroff(void) __attribute__((noreturn));
double uptime_s(void);

#endif
