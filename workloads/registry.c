#include "workloads/workload.h"

#include <string.h>

extern const struct workload_ops workload_anon;
extern const struct workload_ops workload_swapoff;
extern const struct workload_ops workload_slot_overhead;
extern const struct workload_ops workload_mthp;
extern const struct workload_ops workload_kernbench;
extern const struct workload_ops workload_fio;
extern const struct workload_ops workload_stress_ng;
extern const struct workload_ops workload_sysbench;

/* The registry: add a workload here (CMake globs the workloads folder). */
const struct workload_ops *const workloads[] = {
	&workload_anon,
	&workload_swapoff,
	&workload_slot_overhead,
	&workload_mthp,
	&workload_kernbench,
	&workload_fio,
	&workload_stress_ng,
	&workload_sysbench,
	NULL,
};

const struct workload_ops *workload_find(const char *name)
{
	for (int i = 0; workloads[i]; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}

void wl_metric(struct wl_ctx *ctx, const char *name, double value, const char *unit,
	       const char *better)
{
	json_array_append_new(ctx->metrics, json_pack("{s:s,s:f,s:s,s:s}", "name", name,
						       "value", value, "unit", unit,
						       "better", better));
}
