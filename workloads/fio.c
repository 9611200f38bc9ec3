/* fio: a raw-device baseline for the topology's swap device.
 *
 * What swap can get out of a device is bounded by what the device does on
 * its own; this measures that, in the same VM, with the same qemu backing
 * (host cache mode, sparse file or block device) the swap cells use.
 *
 *   setup()  (agent): pick the device (default: the first swap device of
 *            the topology that is not zram, else zram) and swapoff(2) it:
 *            it is empty, and fio must not write under an active swap area.
 *            Never swapon again: the VM is discarded after the cell.
 *            Optionally prefill the region (reads of a never-written sparse
 *            backing file would only measure holes).
 *   run()    (memcg): fio --output-format=json, one job; parse jobs[0].
 *
 * Metrics: bw (MB/s), iops, clat_p50/p99/p99.9 (us, completion latency).
 * For randrw, bw and iops are read + write and each percentile is the
 * worse of the two directions; both directions are in info.
 */
#define _GNU_SOURCE
#include "workloads/workload.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "common/process.h"
#include "common/topology.h"
#include "workloads/wl-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#define FIO_MIN_BS		512ULL
#define FIO_MAX_BS		(64ULL << 20)
#define FIO_MAX_SIZE		(64ULL << 40)
#define FIO_CAPTURE_MAX		(4u << 20)	/* one job's JSON is ~7 KiB */
#define FIO_TAIL_BYTES		1500

static const char *const rw_modes[] = { "randwrite", "randread", "write", "read", "randrw",
					NULL };
static const char *const engines[] = { "libaio", "io_uring", "psync", NULL };

/* The parameters; fio_parse_params resolves them and adds the checks a
 * type cannot say (bs a power of two, size at least one block). */
static const struct param_def fio_params[] = {
	PARAM_STRING("device", 120, NULL, "block device in the guest, like \"/dev/nvme0n1\" "
		     "(default: the first swap device that is not zram, else zram)"),
	PARAM_ENUM("rw", rw_modes, "randwrite", "fio --rw"),
	PARAM_SIZE("bs", FIO_MIN_BS, FIO_MAX_BS, "4K", "block size, a power of two"),
	PARAM_INT("iodepth", 1, 4096, "16", "fio --iodepth"),
	PARAM_SIZE("size", 1 << 20, FIO_MAX_SIZE, "256M", "region of the device used"),
	PARAM_INT("runtime", 1, 86400, "10", "seconds"),
	PARAM_ENUM("ioengine", engines, "libaio", "fio --ioengine"),
	PARAM_CUSTOM("direct", "true", "O_DIRECT: true, false, 1 or 0"),
	PARAM_BOOL("prefill", NULL, "write the region first (default: true for jobs that read)"),
	PARAM_END(),
};

struct fio_cfg {
	const char *device;		/* NULL: from the topology */
	unsigned int rw;		/* index into rw_modes */
	unsigned long long bs, size;
	unsigned int iodepth, runtime;
	unsigned int engine;
	bool direct, prefill;
};

struct fio_priv {
	char device[128];
	double swapoff_s, prefill_s;
};

static bool rw_reads(unsigned int rw)
{
	return !strcmp(rw_modes[rw], "randread") || !strcmp(rw_modes[rw], "read") ||
	       !strcmp(rw_modes[rw], "randrw");
}

static bool rw_writes(unsigned int rw)
{
	return strcmp(rw_modes[rw], "randread") && strcmp(rw_modes[rw], "read");
}

static int fio_parse_params(const json_t *params, const char *where, struct fio_cfg *cfg)
{
	json_t *v;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if ((ret = params_check(params, where, fio_params)) ||
	    (ret = params_get_string(params, where, fio_params, "device", &cfg->device)) ||
	    (ret = params_get_enum(params, where, fio_params, "rw", &cfg->rw)) ||
	    (ret = params_get_size(params, where, fio_params, "bs", &cfg->bs)) ||
	    (ret = params_get_size(params, where, fio_params, "size", &cfg->size)) ||
	    (ret = params_get_enum(params, where, fio_params, "ioengine", &cfg->engine)))
		return ret;
	if (cfg->device && (cfg->device[0] != '/' || strstr(cfg->device, "/../")))
		return param_bad(where, "device", json_object_get(params, "device"),
				    "must be an absolute path in the guest, like "
				    "\"/dev/nvme0n1\"");
	if (cfg->bs & (cfg->bs - 1))
		return param_bad(where, "bs", json_object_get(params, "bs"),
				    "must be a power of two, like \"4k\"");
	if (cfg->size < cfg->bs)
		return param_bad(where, "size", json_object_get(params, "size"),
				    "must be at least one block (bs)");
	if ((ret = params_get_uint(params, where, fio_params, "iodepth", &cfg->iodepth)) ||
	    (ret = params_get_uint(params, where, fio_params, "runtime", &cfg->runtime)))
		return ret;
	/* fio itself takes 0/1: accept those as well as JSON booleans. */
	v = params_get_json(params, fio_params, "direct");
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
		cfg->direct = json_integer_value(v) == 1;
	else if (json_is_boolean(v))
		cfg->direct = json_is_true(v);
	else
		ret = param_bad(where, "direct", v, "must be true, false, 1 or 0");
	json_decref(v);
	if (ret)
		return ret;
	/* A never-written region of a sparse backing file reads as holes. */
	cfg->prefill = rw_reads(cfg->rw);
	return params_get_bool(params, where, fio_params, "prefill", &cfg->prefill);
}

static int fio_validate(const json_t *params, const char *where)
{
	struct fio_cfg cfg;

	return fio_parse_params(params, where, &cfg);
}

/* ---- output parsing (exposed for unit tests) ------------------------------ */

static double pct_us(const json_t *pct, const char *key)
{
	json_t *v = json_object_get(pct, key);

	return json_is_number(v) ? json_number_value(v) / 1e3 : -1;
}

static int parse_dir(const json_t *job, const char *name, struct wl_fio_dir *d)
{
	json_t *dir = json_object_get(job, name), *pct, *bw;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(dir))
		return sb_err(EPROTO, "fio output: jobs[0].%s is missing", name);
	d->io_bytes = json_integer_value(json_object_get(dir, "io_bytes"));
	/* bw_bytes (fio >= 3.x) is exact; bw is KiB/s. */
	bw = json_object_get(dir, "bw_bytes");
	d->bw_bytes = json_is_number(bw) ? json_number_value(bw)
					 : json_number_value(json_object_get(dir, "bw")) * 1024;
	d->iops = json_number_value(json_object_get(dir, "iops"));
	d->total_ios = json_integer_value(json_object_get(dir, "total_ios"));
	pct = json_object_get(json_object_get(dir, "clat_ns"), "percentile");
	d->clat_p50 = pct_us(pct, "50.000000");
	d->clat_p99 = pct_us(pct, "99.000000");
	d->clat_p999 = pct_us(pct, "99.900000");
	d->present = d->total_ios > 0;
	if (d->present && (d->clat_p50 < 0 || d->clat_p99 < 0 || d->clat_p999 < 0))
		return sb_err(EPROTO, "fio output: jobs[0].%s.clat_ns.percentile lacks 50, 99 "
			      "or 99.9", name);
	return 0;
}

int wl_fio_parse(const char *text, struct wl_fio_result *out)
{
	const char *start = text;
	json_error_t jerr;
	json_t *root, *job;
	int ret;

	memset(out, 0, sizeof(*out));
	/* fio may print notes before the JSON document: start at the first
	 * line that opens an object. */
	while (start && *start && *start != '{') {
		start = strchr(start, '\n');
		if (start)
			start++;
	}
	if (!start || *start != '{')
		return sb_err(EPROTO, "fio output: no JSON document found");
	root = json_loads(start, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root)
		return sb_err(EPROTO, "fio output: bad JSON at line %d: %s", jerr.line, jerr.text);
	job = json_array_get(json_object_get(root, "jobs"), 0);
	if (!json_is_object(job)) {
		json_decref(root);
		return sb_err(EPROTO, "fio output: no jobs[0]");
	}
	out->error = (int)json_integer_value(json_object_get(job, "error"));
	snprintf(out->version, sizeof(out->version), "%s",
		 json_string_value(json_object_get(root, "fio version")) ?: "");
	ret = parse_dir(job, "read", &out->read);
	if (!ret)
		ret = parse_dir(job, "write", &out->write);
	json_decref(root);
	return ret;
}

/* ---- guest side -------------------------------------------------------- */

static bool in_topology(const struct topo_state *t, const char *path)
{
	for (int i = 0; t && i < t->nswaps; i++)
		if (!strcmp(t->swaps[i].path, path))
			return true;
	return false;
}

/* Is path an active swap area now (per /proc/swaps)? */
static bool swap_active(const char *path)
{
	FILE *f = fopen("/proc/swaps", "re");
	char line[512], name[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%255s", name) == 1 && !strcmp(name, path);
	fclose(f);
	return found;
}

static int pick_device(const struct fio_cfg *cfg, const struct topo_state *t, char *out,
		       size_t outlen)
{
	if (cfg->device) {
		snprintf(out, outlen, "%s", cfg->device);
		return 0;
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; t && i < t->nswaps; i++)
			if (pass || strcmp(t->swaps[i].kind, "zram")) {
				snprintf(out, outlen, "%s", t->swaps[i].path);
				return 0;
			}
	return sb_err(ENODEV, "fio: the topology set up no swap device to measure; name one "
		      "with the \"device\" param");
}

static int fio_supported(struct wl_ctx *ctx)
{
	char path[512];

	return wl_find_tool("fio", "fio", "fio", path, sizeof(path));
}

static void common_args(struct strv *av, const struct fio_cfg *cfg, const char *dev)
{
	strv_addf(av, "--filename=%s", dev);
	strv_addf(av, "--size=%llu", cfg->size);
	strv_addf(av, "--ioengine=%s", engines[cfg->engine]);
	strv_addf(av, "--direct=%d", cfg->direct ? 1 : 0);
	strv_add(av, "--output-format=json");
}

/* Run fio; on success res->out holds its stdout. Errors carry the tail of
 * what it printed. */
static int run_fio(const char *what, const char *const *argv, int timeout_ms,
		   const char *err_path, struct spawn_result *res)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .capture = 1,
				.capture_max = FIO_CAPTURE_MAX, .stderr_path = err_path };
	int ret;

	unlink(err_path);
	ret = spawn_run(&o, res);
	if (ret)
		return ret;
	if (res->timed_out || res->signal || res->exit_code) {
		char *tail = wl_output_tail(err_path, res->out, 10, FIO_TAIL_BYTES);
		char *name = xasprintf("fio: %s", what);

		ret = wl_tool_failed(res, name, tail);
		free(name);
		free(tail);
		spawn_result_release(res);
	}
	return ret;
}

static int fio_setup(struct wl_ctx *ctx)
{
	struct fio_priv *p;
	struct fio_cfg cfg;
	struct stat st;
	double t0;
	int ret;

	ctx->priv = NULL;
	ret = fio_parse_params(ctx->params, "fio params", &cfg);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return sb_err(ENOMEM, "fio: out of memory");
	ret = pick_device(&cfg, ctx->topo, p->device, sizeof(p->device));
	if (ret)
		goto fail;
	if (stat(p->device, &st) || !S_ISBLK(st.st_mode)) {
		ret = sb_err(ENODEV, "fio: '%s' is not a block device in the guest%s", p->device,
			     in_topology(ctx->topo, p->device) ? "" : " (the topology's swap "
			     "devices are the ones to measure)");
		goto fail;
	}
	t0 = monotonic_s();
	if (swap_active(p->device) && swapoff(p->device)) {
		ret = sb_err(errno, "fio: swapoff '%s' failed: %s", p->device, strerror(errno));
		goto fail;
	}
	p->swapoff_s = monotonic_s() - t0;
	if (cfg.prefill) {
		/* Sequential 1M writes over the region, outside the memcg and
		 * outside the measured phase. */
		char *err = xasprintf("%s/fio-prefill.err", ctx->work_dir);
		struct spawn_result res;
		struct strv av;

		strv_init(&av);
		strv_add(&av, "fio");
		strv_add(&av, "--name=prefill");
		strv_add(&av, "--rw=write");
		strv_add(&av, "--bs=1M");
		strv_add(&av, "--iodepth=4");
		common_args(&av, &cfg, p->device);
		ret = run_fio("prefill", strv_argv(&av), 3600 * 1000, err, &res);
		strv_release(&av);
		free(err);
		if (ret)
			goto fail;
		p->prefill_s = res.elapsed_s;
		spawn_result_release(&res);
	}
	ctx->priv = p;
	return 0;
fail:
	free(p);
	return ret;
}

static json_t *dir_json(const struct wl_fio_dir *d)
{
	return json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "io_bytes", (json_int_t)d->io_bytes,
			 "total_ios", (json_int_t)d->total_ios, "bw_MBps", d->bw_bytes / 1e6,
			 "iops", d->iops, "clat_p50_us", d->clat_p50, "clat_p99_us",
			 d->clat_p99, "clat_p99.9_us", d->clat_p999);
}

static double worse(double a, double b)
{
	return a > b ? a : b;
}

static int fio_run(struct wl_ctx *ctx)
{
	struct fio_priv *p = ctx->priv;
	struct wl_fio_result fr;
	struct spawn_result res;
	struct fio_cfg cfg;
	struct strv av;
	char *err;
	int ret;

	ret = fio_parse_params(ctx->params, "fio params", &cfg);
	if (ret)
		return ret;
	if (!p)
		return sb_err(EINVAL, "fio: run without setup");
	strv_init(&av);
	strv_add(&av, "fio");
	strv_add(&av, "--name=swapbench");
	strv_addf(&av, "--rw=%s", rw_modes[cfg.rw]);
	strv_addf(&av, "--bs=%llu", cfg.bs);
	strv_addf(&av, "--iodepth=%u", cfg.iodepth);
	strv_addf(&av, "--runtime=%u", cfg.runtime);
	strv_add(&av, "--time_based");
	/* Same region, same numbers on every run. */
	strv_add(&av, "--randrepeat=1");
	common_args(&av, &cfg, p->device);
	if (ctx->info) {
		char *cmd = spawn_argv_str(strv_argv(&av));

		json_object_set_new(ctx->info, "device", json_string(p->device));
		json_object_set_new(ctx->info, "command", json_string(cmd));
		json_object_set_new(ctx->info, "swapoff_s", json_real(p->swapoff_s));
		json_object_set_new(ctx->info, "prefill_s", json_real(p->prefill_s));
		free(cmd);
	}
	err = xasprintf("%s/fio.err", ctx->work_dir);
	/* fio stops itself at runtime; the margin covers start-up and ramp
	 * down under TCG. */
	ret = run_fio(rw_modes[cfg.rw], strv_argv(&av), (int)(cfg.runtime * 2 + 120) * 1000, err,
		      &res);
	strv_release(&av);
	if (!ret) {
		char *tail = wl_file_tail(err, 10, FIO_TAIL_BYTES);

		if (ctx->info && *tail)
			json_object_set_new(ctx->info, "stderr_tail", json_string(tail));
		free(tail);
		ret = wl_fio_parse(res.out, &fr);
		spawn_result_release(&res);
	}
	free(err);
	if (ret)
		return ret;
	if (fr.error)
		return sb_err(EIO, "fio: the job reported error %d (%s) on '%s'", fr.error,
			      strerror(fr.error), p->device);
	if (ctx->info) {
		json_object_set_new(ctx->info, "fio_version", json_string(fr.version));
		if (rw_reads(cfg.rw) || fr.read.present)
			json_object_set_new(ctx->info, "read", dir_json(&fr.read));
		if (rw_writes(cfg.rw) || fr.write.present)
			json_object_set_new(ctx->info, "write", dir_json(&fr.write));
	}
	if ((rw_reads(cfg.rw) && !fr.read.present) || (rw_writes(cfg.rw) && !fr.write.present))
		return sb_err(EIO, "fio: %s on '%s' completed no I/O", rw_modes[cfg.rw],
			      p->device);
	{
		const struct wl_fio_dir *r = &fr.read, *w = &fr.write;
		bool rd = rw_reads(cfg.rw), wr = rw_writes(cfg.rw);

		wl_metric(ctx, "bw", ((rd ? r->bw_bytes : 0) + (wr ? w->bw_bytes : 0)) / 1e6,
			  "MB/s", "higher");
		wl_metric(ctx, "iops", (rd ? r->iops : 0) + (wr ? w->iops : 0), "IO/s", "higher");
		wl_metric(ctx, "clat_p50", worse(rd ? r->clat_p50 : 0, wr ? w->clat_p50 : 0),
			  "us", "lower");
		wl_metric(ctx, "clat_p99", worse(rd ? r->clat_p99 : 0, wr ? w->clat_p99 : 0),
			  "us", "lower");
		wl_metric(ctx, "clat_p99.9", worse(rd ? r->clat_p999 : 0, wr ? w->clat_p999 : 0),
			  "us", "lower");
	}
	return 0;
}

static void fio_cleanup(struct wl_ctx *ctx)
{
	/* Nothing to restore: the device stays off (the VM is discarded). */
	free(ctx->priv);
	ctx->priv = NULL;
}

static const struct metric_desc fio_metrics[] = {
	{ "bw", "MB/s", "higher" },
	{ "iops", "IO/s", "higher" },
	{ "clat_p50", "us", "lower" },
	{ "clat_p99", "us", "lower" },
	{ "clat_p99.9", "us", "lower" },
	{ .name = NULL },
};

const struct workload_ops workload_fio = {
	.name = "fio",
	.summary = "device baseline: fio on the topology's swap device (swapped off first); "
		   "bandwidth, IOPS, completion latency percentiles",
	.validate = fio_validate,
	.params = fio_params,
	.supported = fio_supported,
	.setup = fio_setup,
	.run = fio_run,
	.cleanup = fio_cleanup,
	.metrics = fio_metrics,
};
