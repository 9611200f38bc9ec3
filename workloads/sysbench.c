/* sysbench: `sysbench memory` inside the workload memcg.
 *
 *   sysbench memory --memory-block-size=B --memory-total-size=T
 *            --memory-access-mode=seq|rnd --memory-oper=write|read
 *            --memory-scope=local|global --threads=N --time=S run
 *
 * Each thread owns a buffer of block_size (scope local) and every event
 * sweeps it (seq) or does block_size/8 random word accesses in it (rnd).
 * With threads x block_size above memory.max, the sweeps swap. Parsed from
 * its text report:
 *
 *   1024.00 MiB transferred (913.31 MiB/sec)
 *       total number of events:              64
 *   Latency (ms):
 *            avg:                                   34.47
 *            95th percentile:                       51.94
 *
 * throughput stays in MiB/s, sysbench's own unit (1 MiB = 2^20 bytes), so
 * it can be checked against sysbench output by eye; latencies are per
 * event (one block) in ms.
 */
#define _GNU_SOURCE
#include "workloads/workload.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "common/process.h"
#include "common/strv.h"
#include "workloads/wl-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SB_MAX_THREADS		1024
#define SB_MAX_BLOCK		(16ULL << 30)
#define SB_MAX_TOTAL		(1ULL << 50)
#define SB_CAPTURE_MAX		(256u << 10)
#define SB_TAIL_BYTES		1500

static const char *const access_modes[] = { "rnd", "seq", NULL };
static const char *const opers[] = { "write", "read", "none", NULL };
static const char *const scopes[] = { "local", "global", NULL };

/* The parameters; sysb_parse resolves them and adds the checks a type
 * cannot say (block size a power of two, total at least one block). */
static const struct param_def sysb_params[] = {
	PARAM_INT("threads", 1, SB_MAX_THREADS, NULL, "sysbench --threads (default: online CPUs)"),
	PARAM_SIZE("block_size", 1024, SB_MAX_BLOCK, "64M", "--memory-block-size, a power of two"),
	PARAM_SIZE("total_size", 1024, SB_MAX_TOTAL, "1G", "--memory-total-size"),
	PARAM_ENUM("access_mode", access_modes, "rnd", "--memory-access-mode"),
	PARAM_ENUM("oper", opers, "write", "--memory-oper"),
	PARAM_ENUM("scope", scopes, "local", "--memory-scope"),
	PARAM_INT("time", 1, 86400, "10", "seconds (sysbench --time)"),
	PARAM_END(),
};

struct sysb_cfg {
	unsigned int threads;		/* 0: online CPUs */
	unsigned long long block_size, total_size;
	unsigned int access_mode, oper, scope;
	unsigned int time;		/* s, sysbench --time */
};

static int sysb_parse(const json_t *params, const char *where, struct sysb_cfg *cfg)
{
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if ((ret = params_check(params, where, sysb_params)) ||
	    (ret = params_get_size(params, where, sysb_params, "block_size", &cfg->block_size)) ||
	    (ret = params_get_size(params, where, sysb_params, "total_size", &cfg->total_size)) ||
	    (ret = params_get_enum(params, where, sysb_params, "access_mode", &cfg->access_mode)) ||
	    (ret = params_get_enum(params, where, sysb_params, "oper", &cfg->oper)) ||
	    (ret = params_get_enum(params, where, sysb_params, "scope", &cfg->scope)) ||
	    (ret = params_get_uint(params, where, sysb_params, "threads", &cfg->threads)) ||
	    (ret = params_get_uint(params, where, sysb_params, "time", &cfg->time)))
		return ret;
	/* sysbench refuses anything else ("Invalid value for memory-block-size"). */
	if (cfg->block_size & (cfg->block_size - 1))
		return param_bad(where, "block_size", json_object_get(params, "block_size"),
				    "must be a power of two, like \"64M\"");
	if (cfg->total_size < cfg->block_size)
		return param_bad(where, "total_size", json_object_get(params, "total_size"),
				    "must be at least block_size (one event)");
	return 0;
}

static int sysb_validate(const json_t *params, const char *where)
{
	struct sysb_cfg cfg;

	return sysb_parse(params, where, &cfg);
}

/* ---- output parsing (exposed for unit tests) ------------------------------ */

/* The number after the first `key` at or after `from`, or -1 if missing. */
static double number_after(const char *from, const char *key, const char **at)
{
	const char *p = from ? strstr(from, key) : NULL;
	char *end;
	double v;

	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t' || *p == '(')
		p++;
	v = strtod(p, &end);
	if (end == p)
		return -1;
	if (at)
		*at = end;
	return v;
}

int wl_sysbench_parse(const char *text, struct wl_sysbench_result *out)
{
	const char *p, *lat;

	memset(out, 0, sizeof(*out));
	/* "1024.00 MiB transferred (913.31 MiB/sec)" */
	p = text ? strstr(text, " transferred (") : NULL;
	if (!p)
		return sb_err(EPROTO, "sysbench output: no \"MiB transferred (... MiB/sec)\" line");
	out->throughput_mib = number_after(p, " transferred (", NULL);
	if (out->throughput_mib < 0 || !strstr(p, "MiB/sec)"))
		return sb_err(EPROTO, "sysbench output: cannot read the MiB/sec figure");
	{
		/* The transferred amount is the number before " MiB transferred". */
		const char *q = p;

		while (q > text && q[-1] != '\n')
			q--;
		out->transferred_mib = strtod(q, NULL);
	}
	out->total_time_s = number_after(text, "total time:", NULL);
	out->events = number_after(text, "total number of events:", NULL);
	if (out->events < 0)
		return sb_err(EPROTO, "sysbench output: no \"total number of events\" line");
	lat = strstr(text, "Latency (ms):");
	if (!lat)
		return sb_err(EPROTO, "sysbench output: no \"Latency (ms):\" section");
	out->lat_min = number_after(lat, "min:", NULL);
	out->lat_avg = number_after(lat, "avg:", NULL);
	out->lat_max = number_after(lat, "max:", NULL);
	out->lat_p95 = number_after(lat, "95th percentile:", NULL);
	if (out->lat_avg < 0 || out->lat_p95 < 0)
		return sb_err(EPROTO, "sysbench output: the latency section lacks avg or the "
			      "95th percentile");
	return 0;
}

/* ---- guest side -------------------------------------------------------- */

static int sysb_supported(struct wl_ctx *ctx)
{
	char path[512];

	return wl_find_tool("sysbench", "sysbench", "sysbench", path, sizeof(path));
}

static int sysb_run(struct wl_ctx *ctx)
{
	struct spawn_opts o = { .capture = 1, .merge_stderr = 1, .capture_max = SB_CAPTURE_MAX };
	struct wl_sysbench_result r;
	struct spawn_result res;
	struct sysb_cfg cfg;
	struct strv av;
	unsigned int threads;
	long ncpu;
	char *tail;
	int ret;

	ret = sysb_parse(ctx->params, "sysbench params", &cfg);
	if (ret)
		return ret;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	threads = cfg.threads ? cfg.threads : ncpu > 0 ? (unsigned int)ncpu : 1;
	strv_init(&av);
	strv_add(&av, "sysbench");
	strv_add(&av, "memory");
	strv_addf(&av, "--memory-block-size=%llu", cfg.block_size);
	strv_addf(&av, "--memory-total-size=%llu", cfg.total_size);
	strv_addf(&av, "--memory-access-mode=%s", access_modes[cfg.access_mode]);
	strv_addf(&av, "--memory-oper=%s", opers[cfg.oper]);
	strv_addf(&av, "--memory-scope=%s", scopes[cfg.scope]);
	strv_addf(&av, "--threads=%u", threads);
	strv_addf(&av, "--time=%u", cfg.time);
	strv_add(&av, "--percentile=95");
	strv_add(&av, "run");
	/* sysbench stops at --time, but an event in progress (one block
	 * through swap) finishes first: allow for it. */
	o.timeout_ms = (int)(cfg.time * 2 + 120) * 1000;
	ret = wl_run_tool(ctx, &o, &av, &res);
	if (ret)
		return ret;
	tail = wl_tail(res.out, 14, SB_TAIL_BYTES);
	if (ctx->info)
		json_object_set_new(ctx->info, "output_tail", json_string(tail));
	ret = wl_tool_failed(&res, "sysbench", tail);
	if (!ret)
		ret = wl_sysbench_parse(res.out, &r);
	if (!ret && r.events <= 0)
		ret = sb_err(EIO, "sysbench: no event completed in %u s: %s", cfg.time, tail);
	if (!ret) {
		json_t *sum = json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "threads",
					(int)threads, "transferred_MiB", r.transferred_mib,
					"total_time_s", r.total_time_s, "events", r.events,
					"lat_min_ms", r.lat_min, "lat_avg_ms", r.lat_avg,
					"lat_max_ms", r.lat_max, "lat_p95_ms", r.lat_p95);

		if (ctx->info)
			json_object_set_new(ctx->info, "sysbench", sum);
		else
			json_decref(sum);
		wl_metric(ctx, "throughput", r.throughput_mib, "MiB/s", "higher");
		wl_metric(ctx, "events", r.events, "events", "higher");
		wl_metric(ctx, "lat_avg", r.lat_avg, "ms", "lower");
		wl_metric(ctx, "lat_p95", r.lat_p95, "ms", "lower");
	}
	free(tail);
	spawn_result_release(&res);
	return ret;
}

static const struct metric_desc sysb_metrics[] = {
	{ "throughput", "MiB/s", "higher" },
	{ "events", "events", "higher" },
	{ "lat_avg", "ms", "lower" },
	{ "lat_p95", "ms", "lower" },
	{ .name = NULL },
};

const struct workload_ops workload_sysbench = {
	.name = "sysbench",
	.summary = "sysbench memory (seq or rnd over per-thread blocks) in the memcg; MiB/s and "
		   "per-event latency",
	.validate = sysb_validate,
	.params = sysb_params,
	.supported = sysb_supported,
	.run = sysb_run,
	.metrics = sysb_metrics,
};
