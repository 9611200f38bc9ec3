/* The workload's cgroup v2 group, set up through libcgroup (linked
 * statically from Debian's libcgroup-dev). */
#ifndef SB_CGROUP_H
#define SB_CGROUP_H

#include <jansson.h>
#include <sys/types.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define WL_CGROUP_NAME "swapbench"
#define WL_CGROUP CGROUP_ROOT "/" WL_CGROUP_NAME

/* Mount cgroup v2, create the workload group with the memory controller
 * and the limits of the cell's "memcg" object {max, high, swap_max,
 * zswap_max} (bytes), then read them back into *readback
 * ({"memory.max": "50331648", ...}). When the kernel has no memory
 * controller (cgroup_disable=memory) and no limit is asked for, the group
 * is created without it and *controller_ok is 0. 0 or -errno + sb_err(). */
int wlcg_setup(const json_t *memcg, json_t **readback, int *controller_ok);
/* Move a process into the workload group. */
int wlcg_attach(pid_t pid);

#endif
