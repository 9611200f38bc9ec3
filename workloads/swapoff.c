/* swapoff: fill the topology with `size` of swapped-out anonymous memory held
 * by a process, then time swapoff(2) of each swap device (wall and system
 * time of the caller, who does the work of bringing pages back), and check
 * every page came back intact. */
#define _GNU_SOURCE
#include "common/err.h"
#include "common/fsutil.h"
#include "workloads/holder.h"
#include "common/sysfs.h"
#include "common/topology.h"
#include "workloads/wl-util.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/swap.h>

static const struct param_def swapoff_params[] = {
	PARAM_SIZE("size", 1 << 20, 0, "64M", "anonymous memory swapped out, then back in"),
	PARAM_BOOL("verify", "true", "check every page's contents after swapoff"),
	PARAM_END(),
};

static int swapoff_validate(const json_t *params, const char *where)
{
	return params_check(params, where, swapoff_params);
}

static int swapoff_supported(struct wl_ctx *ctx)
{
	if (!ctx->topo || !ctx->topo->nswaps)
		return sb_err(ENODEV, "swapoff needs a topology with a swap device");
	return 0;
}

static long long swap_used(const char *dev)
{
	FILE *f = fopen("/proc/swaps", "re");
	char line[512], name[256];
	long long size, used = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %*s %lld %lld", name, &size, &used) == 3 &&
		    !strcmp(name, dev))
			break;
		else
			used = -1;
	if (f)
		fclose(f);
	return used < 0 ? -1 : used * 1024;
}

static double cpu_sys(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int swapoff_run(struct wl_ctx *ctx)
{
	unsigned long long size = 0;
	bool verify = true;
	const struct topo_state *st = ctx->topo;
	json_t *devs = json_array();
	double total_t = 0, total_sys = 0;
	long long total_used = 0;
	struct holder h;
	char path[256];
	int rc;

	if ((rc = params_get_size(ctx->params, "swapoff params", swapoff_params, "size", &size)) ||
	    (rc = params_get_bool(ctx->params, "swapoff params", swapoff_params, "verify",
				  &verify)))
		return rc;
	rc = holder_start(&h, size);
	if (rc)
		return rc;
	json_object_set_new(ctx->info, "held_bytes", json_integer((json_int_t)size));
	json_object_set_new(ctx->info, "swapped_bytes", json_integer((json_int_t)h.swapped));
	json_object_set_new(ctx->info, "fill_s", json_real(h.fill_s));
	json_object_set_new(ctx->info, "pageout_s", json_real(h.pageout_s));
	if (h.swapped < size / 2) {
		holder_kill(&h);
		return sb_err(EIO, "only %llu of %llu bytes reached swap: the topology is too "
			      "small or MADV_PAGEOUT failed", h.swapped, size);
	}
	/* Everything comes back into memory: lift the limit, or swapoff fails. */
	snprintf(path, sizeof(path), "%s/memory.max", ctx->cgroup_dir);
	sysfs_write(path, "max");
	/* Lowest priority first: the device the others overflow into. */
	for (int i = st->nswaps - 1; i >= 0; i--) {
		const char *dev = st->swaps[i].path;
		long long used = swap_used(dev);
		double t0 = monotonic_s(), s0 = cpu_sys(), t, s;
		char name[128];
		const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;

		if (swapoff(dev)) {
			rc = sb_err(errno, "swapoff '%s' failed: %s", dev, strerror(errno));
			break;
		}
		t = monotonic_s() - t0;
		s = cpu_sys() - s0;
		total_t += t;
		total_sys += s;
		total_used += used > 0 ? used : 0;
		json_array_append_new(devs, json_pack("{s:s,s:s,s:I,s:f,s:f,s:f}", "device", dev,
						      "kind", st->swaps[i].kind, "used_bytes",
						      (json_int_t)used, "wall_s", t, "sys_s", s,
						      "pages_per_s",
						      t > 0 ? used / 4096.0 / t : 0.0));
		snprintf(name, sizeof(name), "swapoff_time_%.40s", base);
		wl_metric(ctx, name, t, "s", "lower");
	}
	json_object_set_new(ctx->info, "devices", devs);
	if (rc) {
		holder_kill(&h);
		return rc;
	}
	wl_metric(ctx, "swapoff_time", total_t, "s", "lower");
	wl_metric(ctx, "swapoff_sys_time", total_sys, "s", "lower");
	wl_metric(ctx, "swapoff_rate", total_t > 0 ? total_used / 1e6 / total_t : 0, "MB/s",
		  "higher");
	wl_metric(ctx, "swapped_mb", h.swapped / 1e6, "MB", "higher");
	if (verify)
		return holder_verify_and_stop(&h);
	holder_kill(&h);
	return 0;
}

static const struct metric_desc swapoff_metrics[] = {
	{ "swapoff_time", "s", "lower" },
	{ "swapoff_sys_time", "s", "lower" },
	{ "swapoff_rate", "MB/s", "higher" },
	{ "swapped_mb", "MB", "higher" },
	{ NULL, NULL, NULL },
};

const struct workload_ops workload_swapoff = {
	.name = "swapoff",
	.summary = "time swapoff(2) of each device holding N MB of a process's memory",
	.validate = swapoff_validate,
	.params = swapoff_params,
	.supported = swapoff_supported,
	.run = swapoff_run,
	.metrics = swapoff_metrics,
};
