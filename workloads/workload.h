/* Workload plugins.
 *
 * One file per workload under workloads/, registered in the table in
 * workloads/registry.c. The same object files are linked into the host
 * (`swapbench`, which only calls validate()) and into the guest agent
 * (`swapbench-agent`, which calls supported/setup/run/cleanup).
 *
 * Guest life cycle, all inside the VM:
 *   supported()  -> may refuse with a reason (cell recorded as skipped)
 *   setup()      -> in the agent, root cgroup: sysfs knobs etc. (save old values)
 *   run()        -> in a forked child that has already joined the workload
 *                   memcg; it may fork further processes (they inherit it)
 *   cleanup()    -> in the agent: restore every knob setup() touched
 *
 * run() reports through ctx->metrics (wl_metric) and ctx->info (free-form
 * JSON object). The agent serialises them back from the child.
 */
#ifndef SB_WORKLOAD_H
#define SB_WORKLOAD_H

#include <jansson.h>
#include <stddef.h>

struct topo_state;
struct param_def;

struct wl_ctx {
	const json_t *params;     /* validated workload params (never NULL) */
	const char *cgroup_dir;   /* e.g. "/sys/fs/cgroup/swapbench" */
	const char *work_dir;     /* a writable scratch directory (tmpfs) */
	unsigned long long memcg_max; /* bytes, 0 if unlimited */
	/* What the topology set up (swap devices, zram ids); see
	 * common/topology.h. NULL on the host. */
	const struct topo_state *topo;
	json_t *metrics;          /* array of {name,value,unit,better} */
	json_t *info;             /* object: details worth keeping */
	void *priv;               /* the plugin's own state between calls */
};

struct metric_desc {
	const char *name;
	const char *unit;
	const char *better; /* "lower" or "higher" */
};

struct workload_ops {
	const char *name;
	const char *summary;
	/* Host and guest: check params; `where` names the input for messages
	 * (e.g. "quick.json: workloads[0].params"). 0 or -errno + sb_err(). */
	int (*validate)(const json_t *params, const char *where);
	/* The parameters: keys, types, ranges, defaults (common/params.h). A
	 * workload with a table validates with params_check() and whatever
	 * cross-checks it needs, and reads every value with params_get_*()
	 * (the table's range and default); `swapbench workloads` prints it. */
	const struct param_def *params;
	/* Guest: 0 if it can run here, else -errno and a reason in sb_err(). */
	int (*supported)(struct wl_ctx *ctx);
	int (*setup)(struct wl_ctx *ctx);
	int (*run)(struct wl_ctx *ctx);
	void (*cleanup)(struct wl_ctx *ctx);
	const struct metric_desc *metrics; /* terminated by {NULL} */
};

/* Append a metric to ctx->metrics. */
void wl_metric(struct wl_ctx *ctx, const char *name, double value, const char *unit,
	       const char *better);

const struct workload_ops *workload_find(const char *name);
/* NULL-terminated table of all workloads. */
extern const struct workload_ops *const workloads[];

#endif
