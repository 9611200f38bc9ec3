/* stress-ng: its vm (or swap) stressor inside the workload memcg.
 *
 *   stress-ng --vm N --vm-bytes B [--vm-method M] [--vm-keep] --timeout Ts
 *             --metrics --yaml FILE --temp-path WORKDIR
 *
 * With vm-bytes x workers above memory.max the stressors' pages swap, and
 * bogo-ops/s falls with how fast the swap design brings them back. The
 * metrics come from the --yaml file (what stress-ng 0.15.x writes):
 *
 *   metrics:
 *       - stressor: vm
 *         bogo-ops: 90068
 *         bogo-ops-per-second-real-time: 29414.371893
 *
 * The swap stressor makes its own swap file under --temp-path; the guest
 * has only tmpfs and 9p there, neither of which can hold a swap file, so
 * supported() refuses it with that reason rather than reporting zeros.
 */
#define _GNU_SOURCE
#include "workloads/workload.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "common/process.h"
#include "common/strv.h"
#include "workloads/wl-util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define SNG_MAX_WORKERS		1024
#define SNG_MAX_BYTES		(1ULL << 40)
#define SNG_CAPTURE_MAX		(256u << 10)
#define SNG_TAIL_BYTES		1500
#define SNG_TMPFS_MAGIC		0x01021994
#define SNG_V9FS_MAGIC		0x01021997
#define SNG_SLOW_HINT		" (one call of a multi-pass vm method, like the default " \
				"all, can outlast the timeout when the memcg thrashes: raise " \
				"timeout or pick a one-pass method like \"write64\")"

static const char *const stressors[] = { "vm", "swap", NULL };

/* The parameters; sng_parse resolves them and adds the checks a type
 * cannot say (method names, vm-only keys). */
static const struct param_def sng_params[] = {
	PARAM_ENUM("stressor", stressors, "vm", "stress-ng stressor"),
	PARAM_INT("workers", 1, SNG_MAX_WORKERS, NULL, "stressor instances (default: online CPUs)"),
	PARAM_SIZE("bytes", 4096, SNG_MAX_BYTES, "128M", "memory per vm worker (vm only)"),
	PARAM_INT("timeout", 1, 86400, "20", "seconds"),
	PARAM_STRING("method", 40, NULL, "--vm-method, like \"write64\" (vm only; default: "
		     "stress-ng's, all)"),
	PARAM_BOOL("keep", "true", "--vm-keep: do not unmap between passes (vm only)"),
	PARAM_END(),
};

struct sng_cfg {
	unsigned int stressor;		/* index into stressors */
	unsigned int workers;		/* 0: online CPUs */
	unsigned long long bytes;	/* per vm worker */
	unsigned int timeout;		/* s */
	const char *method;		/* NULL: stress-ng's default */
	bool keep;			/* --vm-keep */
};

/* One argv element either way, but a leading '-' would be an option. */
static bool method_ok(const char *m)
{
	if (m[0] == '-')
		return false;
	for (; *m; m++)
		if (!islower((unsigned char)*m) && !isdigit((unsigned char)*m) && *m != '-')
			return false;
	return true;
}

static int sng_parse(const json_t *params, const char *where, struct sng_cfg *cfg)
{
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if ((ret = params_check(params, where, sng_params)) ||
	    (ret = params_get_enum(params, where, sng_params, "stressor", &cfg->stressor)) ||
	    (ret = params_get_size(params, where, sng_params, "bytes", &cfg->bytes)) ||
	    (ret = params_get_string(params, where, sng_params, "method", &cfg->method)) ||
	    (ret = params_get_bool(params, where, sng_params, "keep", &cfg->keep)) ||
	    (ret = params_get_uint(params, where, sng_params, "workers", &cfg->workers)) ||
	    (ret = params_get_uint(params, where, sng_params, "timeout", &cfg->timeout)))
		return ret;
	if (cfg->method && !method_ok(cfg->method))
		return param_bad(where, "method", json_object_get(params, "method"),
				    "must be a vm method name like \"write64\" or \"rand-set\" "
				    "(see stress-ng --vm-method which)");
	if (cfg->stressor == 1) {
		/* These only mean something to the vm stressor. */
		if (json_object_get(params, "bytes"))
			return param_bad(where, "bytes", json_object_get(params, "bytes"),
					    "applies to the vm stressor only");
		if (cfg->method)
			return param_bad(where, "method", json_object_get(params, "method"),
					    "applies to the vm stressor only");
		if (json_object_get(params, "keep"))
			return param_bad(where, "keep", json_object_get(params, "keep"),
					    "applies to the vm stressor only");
	}
	return 0;
}

static int sng_validate(const json_t *params, const char *where)
{
	struct sng_cfg cfg;

	return sng_parse(params, where, &cfg);
}

/* ---- YAML parsing (exposed for unit tests) -------------------------------- */

/* The value after "key:" on a line of the stressor's block, or NULL. */
static const char *yaml_value(const char *line, const char *key)
{
	size_t kl = strlen(key);

	while (*line == ' ' || *line == '\t')
		line++;
	if (!strncmp(line, "- ", 2))
		line += 2;
	if (strncmp(line, key, kl) || line[kl] != ':')
		return NULL;
	line += kl + 1;
	while (*line == ' ')
		line++;
	return line;
}

int wl_stress_ng_parse_yaml(const char *text, const char *stressor,
			    struct wl_stress_ng_result *out)
{
	const char *line = text;
	bool in_metrics = false, in_block = false, seen_ops = false, seen_rate = false;

	memset(out, 0, sizeof(*out));
	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *v;
		char *end;

		if (!strncmp(line, "metrics:", 8)) {
			in_metrics = true;
			continue;
		}
		/* Another top-level section ends metrics. */
		if (in_metrics && line[0] != ' ' && line[0] != '-' && line[0] != '\n')
			in_metrics = false;
		if (!in_metrics)
			continue;
		if ((v = yaml_value(line, "stressor"))) {
			size_t sl = strlen(stressor);

			in_block = !strncmp(v, stressor, sl) && (v[sl] == '\n' || v[sl] == '\0' ||
								 v[sl] == ' ' || v[sl] == '\r');
			continue;
		}
		if (!in_block)
			continue;
		if ((v = yaml_value(line, "bogo-ops"))) {
			out->bogo_ops = strtod(v, &end);
			seen_ops = end != v;
		} else if ((v = yaml_value(line, "bogo-ops-per-second-real-time"))) {
			out->bogo_ops_per_s = strtod(v, &end);
			seen_rate = end != v;
		} else if ((v = yaml_value(line, "bogo-ops-per-second-usr-sys-time"))) {
			out->bogo_ops_per_cpu_s = strtod(v, &end);
		} else if ((v = yaml_value(line, "wall-clock-time"))) {
			out->wall_s = strtod(v, &end);
		} else if ((v = yaml_value(line, "user-time"))) {
			out->user_s = strtod(v, &end);
		} else if ((v = yaml_value(line, "system-time"))) {
			out->sys_s = strtod(v, &end);
		}
	}
	if (!seen_ops || !seen_rate)
		return sb_err(EPROTO, "stress-ng YAML: no bogo-ops%s for stressor '%s' in its "
			      "metrics section", seen_ops ? "-per-second-real-time" : "", stressor);
	return 0;
}

/* ---- guest side -------------------------------------------------------- */

static int sng_supported(struct wl_ctx *ctx)
{
	struct sng_cfg cfg;
	struct statfs sf;
	char path[512];
	int ret = wl_find_tool("stress-ng", "stress-ng", "stress-ng", path, sizeof(path));

	if (ret || sng_parse(ctx->params, "stress-ng params", &cfg))
		return ret;
	if (cfg.stressor == 1 && !statfs(ctx->work_dir, &sf) &&
	    ((unsigned long)sf.f_type == SNG_TMPFS_MAGIC ||
	     (unsigned long)sf.f_type == SNG_V9FS_MAGIC))
		return sb_err(EOPNOTSUPP, "stress-ng: the swap stressor needs a file system that "
			      "can hold a swap file under '%s'; the guest has only tmpfs and 9p",
			      ctx->work_dir);
	return 0;
}

static unsigned int resolve_workers(const struct sng_cfg *cfg)
{
	long n;

	if (cfg->workers)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

static int sng_run(struct wl_ctx *ctx)
{
	struct wl_stress_ng_result r;
	struct spawn_result res;
	struct spawn_opts o = { .timeout_ms = 0, .capture = 1, .merge_stderr = 1,
				.capture_max = SNG_CAPTURE_MAX };
	struct sng_cfg cfg;
	struct strv av;
	char *yaml_path, *yaml = NULL, *tail;
	unsigned int workers;
	int ret;

	ret = sng_parse(ctx->params, "stress-ng params", &cfg);
	if (ret)
		return ret;
	workers = resolve_workers(&cfg);
	yaml_path = xasprintf("%s/stress-ng.yaml", ctx->work_dir);
	unlink(yaml_path);
	strv_init(&av);
	strv_add(&av, "stress-ng");
	strv_addf(&av, "--%s", stressors[cfg.stressor]);
	strv_addf(&av, "%u", workers);
	if (cfg.stressor == 0) {
		strv_add(&av, "--vm-bytes");
		strv_addf(&av, "%llu", cfg.bytes);
		if (cfg.method) {
			strv_add(&av, "--vm-method");
			strv_add(&av, cfg.method);
		}
		/* Without it every bogo op unmaps and maps afresh, so pages
		 * swapped out are freed, never swapped back in. */
		if (cfg.keep)
			strv_add(&av, "--vm-keep");
	}
	strv_add(&av, "--timeout");
	strv_addf(&av, "%us", cfg.timeout);
	strv_add(&av, "--metrics");
	strv_add(&av, "--yaml");
	strv_add(&av, yaml_path);
	strv_add(&av, "--temp-path");
	strv_add(&av, ctx->work_dir);
	/* stress-ng stops itself at --timeout; the margin covers reaping
	 * workers that are slow to leave a thrashing memcg. */
	o.timeout_ms = (int)(cfg.timeout * 2 + 120) * 1000;
	ret = wl_run_tool(ctx, &o, &av, &res);
	if (ret) {
		free(yaml_path);
		return ret;
	}
	tail = wl_tail(res.out, 12, SNG_TAIL_BYTES);
	if (ctx->info)
		json_object_set_new(ctx->info, "output_tail", json_string(tail));
	ret = wl_tool_failed(&res, "stress-ng", tail);
	if (!ret)
		ret = read_file(yaml_path, 1 << 20, &yaml, NULL);
	if (!ret)
		ret = wl_stress_ng_parse_yaml(yaml, stressors[cfg.stressor], &r);
	if (!ret && r.bogo_ops <= 0)
		ret = sb_err(EIO, "stress-ng: the %s stressor completed no bogo op in %u s%s: %s",
			     stressors[cfg.stressor], cfg.timeout,
			     cfg.stressor == 0 ? SNG_SLOW_HINT : "", *tail ? tail : "(no output)");
	if (!ret) {
		if (ctx->info)
			json_object_set_new(ctx->info, "stress_ng",
					    json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:f}", "workers",
						      (int)workers, "bogo_ops", r.bogo_ops,
						      "bogo_ops_per_s", r.bogo_ops_per_s,
						      "bogo_ops_per_cpu_s", r.bogo_ops_per_cpu_s,
						      "wall_s", r.wall_s, "user_s", r.user_s,
						      "sys_s", r.sys_s));
		wl_metric(ctx, "bogo_ops_per_s", r.bogo_ops_per_s, "ops/s", "higher");
		wl_metric(ctx, "bogo_ops", r.bogo_ops, "ops", "higher");
	}
	free(tail);
	free(yaml);
	free(yaml_path);
	spawn_result_release(&res);
	return ret;
}

static const struct metric_desc sng_metrics[] = {
	{ "bogo_ops_per_s", "ops/s", "higher" },
	{ "bogo_ops", "ops", "higher" },
	{ .name = NULL },
};

const struct workload_ops workload_stress_ng = {
	.name = "stress-ng",
	.summary = "stress-ng's vm (or swap) stressor in the memcg; bogo ops per second",
	.validate = sng_validate,
	.params = sng_params,
	.supported = sng_supported,
	.run = sng_run,
	.metrics = sng_metrics,
};
