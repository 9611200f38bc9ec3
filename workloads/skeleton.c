/* skeleton: the template of a workload plugin (in the manner of fio's
 * engines/skeleton_external.c). Copy it to workloads/NAME.c, rename
 * workload_skeleton, add it to the table in registry.c, and see
 * docs/adding-a-workload.md. It is built and unit-tested
 * (tests/unit/test_skeleton.c) but not registered: specs cannot name it.
 *
 * What it does, so that the template is real code: write `size` bytes of
 * anonymous memory `passes` times and report how long a pass took.
 */
#define _GNU_SOURCE
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "workloads/workload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* 1. The parameters: one line each. params_check() validates a spec's
 * params against this table (unknown keys, types, ranges) before anything
 * boots, and `swapbench workloads` prints it. Adding a parameter is one
 * line here plus the code that reads it in run(). */
static const struct param_def skeleton_params[] = {
	PARAM_SIZE("size", 1 << 20, 1LL << 40, "16M", "anonymous memory written per pass"),
	PARAM_INT("passes", 1, 100, "2", "passes over the memory"),
	PARAM_END(),
};

/* 2. validate(): host and guest. The table does the checking; add checks
 * that involve several keys here (see nvme_validate in common/topo-nvme.c). */
static int skeleton_validate(const json_t *params, const char *where)
{
	return params_check(params, where, skeleton_params);
}

/* 3. supported(): guest, before setup. Refuse with a reason (sb_err) when
 * this kernel or topology cannot run the workload: the cell is recorded as
 * skipped, not failed. */
static int skeleton_supported(struct wl_ctx *ctx)
{
	return 0;
}

/* 4. run(): guest, in a child already in the workload's memcg. Read the
 * params (already valid: params_get_ll reads them within the table's
 * ranges; the defaults are preset here),
 * do the work, report metrics with wl_metric() and details in ctx->info.
 * setup()/cleanup() (not needed here) run in the agent around it, for
 * knobs outside the memcg that must be restored. */
static int skeleton_run(struct wl_ctx *ctx)
{
	long long size = 16LL << 20, passes = 2;
	double t0, t;
	char *mem;

	params_get_ll(ctx->params, skeleton_params, "size", &size);
	params_get_ll(ctx->params, skeleton_params, "passes", &passes);
	mem = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return sb_err(errno, "mmap %lld bytes: %s", size, strerror(errno));
	t0 = monotonic_s();
	for (long long p = 0; p < passes; p++)
		memset(mem, (int)p + 1, (size_t)size);
	t = (monotonic_s() - t0) / (double)passes;
	munmap(mem, (size_t)size);
	wl_metric(ctx, "pass_time", t, "s", "lower");
	json_object_set_new(ctx->info, "size", json_integer((json_int_t)size));
	return 0;
}

/* 5. The metrics it emits: name, unit, which way is better. */
static const struct metric_desc skeleton_metrics[] = {
	{ "pass_time", "s", "lower" },
	{ NULL, NULL, NULL },
};

const struct workload_ops workload_skeleton = {
	.name = "skeleton",
	.summary = "template: write anonymous memory, time a pass",
	.validate = skeleton_validate,
	.params = skeleton_params,
	.supported = skeleton_supported,
	.run = skeleton_run,
	.metrics = skeleton_metrics,
};
