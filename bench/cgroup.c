/* The workload's cgroup v2 group through libcgroup (see cgroup.h). */
#define _GNU_SOURCE
#include "bench/cgroup.h"
#include "common/err.h"
#include "common/sysfs.h"

#include <errno.h>
#include <libcgroup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static struct cgroup *wl_cg;

/* libcgroup errors are its own codes (ECG*); ECGOTHER carries an errno. */
static int cg_err(int code, const char *what)
{
	int e = code == ECGOTHER ? cgroup_get_last_errno() : 0;

	return sb_err(e ? e : EIO, "libcgroup: %s failed: %s%s%s", what, cgroup_strerror(code),
		      e ? ": " : "", e ? strerror(e) : "");
}

static const char *const knobs[][2] = { { "max", "memory.max" },
					{ "high", "memory.high" },
					{ "swap_max", "memory.swap.max" },
					{ "zswap_max", "memory.zswap.max" } };
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

int wlcg_setup(const json_t *memcg, json_t **readback, int *controller_ok)
{
	struct cgroup_controller *mem = NULL;
	struct cgroup *rb = NULL;
	json_t *back;
	int rc, want_limits = json_object_size(memcg) > 0;
	char val[32];

	*controller_ok = 1;
	/* libcgroup 2.0 mounts hierarchies only from a cgconfig.conf; one
	 * mount(2) is simpler than writing a config file in PID 1. */
	if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		return sb_err(errno, "mount cgroup2 on %s failed: %s", CGROUP_ROOT,
			      strerror(errno));
	rc = cgroup_init();
	if (rc)
		return cg_err(rc, "cgroup_init");
	if (access(CGROUP_ROOT "/cgroup.controllers", R_OK) == 0) {
		char ctl[256] = "";

		sysfs_read(CGROUP_ROOT "/cgroup.controllers", ctl, sizeof(ctl));
		if (!strstr(ctl, "memory")) {
			if (want_limits)
				return sb_err(ENODEV, "the kernel's cgroup v2 has no memory "
					      "controller (controllers: '%s'; booted with "
					      "cgroup_disable=memory?) but the cell sets memcg "
					      "limits", ctl);
			*controller_ok = 0;
		}
	}
	if (*controller_ok) {
		wl_cg = cgroup_new_cgroup(WL_CGROUP_NAME);
		if (!wl_cg)
			return sb_err(ENOMEM, "libcgroup: cgroup_new_cgroup failed");
		/* Enables +memory in the root's cgroup.subtree_control too. */
		mem = cgroup_add_controller(wl_cg, "memory");
		if (!mem)
			return sb_err(ENOMEM, "libcgroup: cannot add the memory controller");
		for (size_t i = 0; i < NKNOBS; i++) {
			json_t *v = json_object_get(memcg, knobs[i][0]);

			if (!json_is_integer(v))
				continue;
			if (!strcmp(knobs[i][0], "zswap_max") &&
			    access("/sys/module/zswap", F_OK))
				return sb_err(ENOENT, "memcg.zswap_max: the kernel has no zswap "
					      "(memory.zswap.max needs CONFIG_ZSWAP)");
			snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(v));
			rc = cgroup_add_value_string(mem, knobs[i][1], val);
			if (rc)
				return cg_err(rc, knobs[i][1]);
		}
		rc = cgroup_create_cgroup(wl_cg, 1);
		if (rc)
			return cg_err(rc, "creating " WL_CGROUP " with its memory limits");
	} else {
		/* libcgroup 2.0 creates a v2 group only for a controller it
		 * attaches (cgroup_create_cgroup with none does nothing): a
		 * plain mkdir, and wlcg_attach() writes cgroup.procs itself. */
		if (mkdir(WL_CGROUP, 0755) && errno != EEXIST)
			return sb_err(errno, "mkdir '%s' failed: %s", WL_CGROUP,
				      strerror(errno));
		*readback = json_object();
		return 0;
	}
	/* Read back what the kernel holds: it may round, or refuse silently. */
	rb = cgroup_new_cgroup(WL_CGROUP_NAME);
	if (!rb)
		return sb_err(ENOMEM, "libcgroup: cgroup_new_cgroup failed");
	rc = cgroup_get_cgroup(rb);
	if (rc) {
		cgroup_free(&rb);
		return cg_err(rc, "reading " WL_CGROUP " back");
	}
	back = json_object();
	mem = cgroup_get_controller(rb, "memory");
	for (size_t i = 0; mem && i < NKNOBS; i++) {
		char *s = NULL;

		if (cgroup_get_value_string(mem, knobs[i][1], &s) == 0 && s) {
			size_t n = strlen(s);

			while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
				s[--n] = '\0';
			json_object_set_new(back, knobs[i][1], json_string(s));
		}
		free(s);
	}
	cgroup_free(&rb);
	*readback = back;
	return 0;
}

int wlcg_attach(pid_t pid)
{
	int rc;

	if (!wl_cg) {
		/* The group libcgroup could not create (see wlcg_setup). */
		return sysfs_writef(WL_CGROUP "/cgroup.procs", "%d", (int)pid);
	}
	rc = cgroup_attach_task_pid(wl_cg, pid);
	return rc ? cg_err(rc, "attaching the workload to " WL_CGROUP) : 0;
}
