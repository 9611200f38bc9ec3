/* mthp: anonymous memory in chosen multi-size THP sizes, pushed out to swap
 * and faulted back (the anon workload's passes), with per-size counters:
 * swpout, swpout_fallback and their ratio (the headline of large-folio swap
 * series), swpin and zswpout where the kernel has them, swap-out and swap-in
 * bandwidth, and fault latency percentiles. Kernels without per-size mTHP
 * controls (before 6.8) are skipped. */
#define _GNU_SOURCE
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "common/sysfs.h"
#include "workloads/anon.h"
#include "workloads/workload.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

extern const struct workload_ops workload_anon;

static const char *const others_modes[] = { "never", "inherit", "unchanged", NULL };

/* mthp's own keys, then anon's, passed through (workloads/anon.h). */
static const struct param_def mthp_params[] = {
	PARAM_CUSTOM("sizes", NULL, "required: policy per mTHP size, like {\"64kB\": \"always\"}"),
	PARAM_ENUM("others", others_modes, "never", "policy of the sizes not named"),
	PARAM_BOOL("hugepage", "true", "madvise(MADV_HUGEPAGE) the mapping"),
	ANON_PARAMS_SHAPE,
	ANON_PARAMS_DATA,
	PARAM_END(),
};

static bool is_own_key(const char *key)
{
	return !strcmp(key, "sizes") || !strcmp(key, "others") || !strcmp(key, "hugepage");
}

/* anon's params for mthp's (which params_check accepted). */
static json_t *anon_params_for(const json_t *params, int in_guest)
{
	json_t *p = json_object(), *v, *sizes = json_deep_copy(json_object_get(params, "sizes"));
	unsigned int others_i = 0;
	const char *others, *k;
	bool hugepage = false;

	params_get_enum(params, "mthp params", mthp_params, "others", &others_i);
	params_get_bool(params, "mthp params", mthp_params, "hugepage", &hugepage);
	others = others_modes[others_i];
	json_object_foreach((json_t *)params, k, v)
		if (!is_own_key(k))
			json_object_set(p, k, v);
	if (in_guest && strcmp(others, "unchanged")) {
		DIR *d = opendir(THP_DIR);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			const char *size = e->d_name + 10;
			int named = 0;
			const char *key;
			json_t *val;

			char *ctl;
			int has_ctl;

			if (strncmp(e->d_name, "hugepages-", 10))
				continue;
			/* Some sizes only have stats (no anon control, e.g. 8kB). */
			ctl = xasprintf("%s/%s/enabled", THP_DIR, e->d_name);
			has_ctl = access(ctl, W_OK) == 0;
			free(ctl);
			if (!has_ctl)
				continue;
			json_object_foreach(sizes, key, val)
				named |= strtol(key, NULL, 10) == strtol(size, NULL, 10);
			if (!named)
				json_object_set_new(sizes, size, json_string(others));
		}
		if (d)
			closedir(d);
	}
	json_object_set_new(p, "mthp", sizes);
	json_object_set_new(p, "hugepage", json_boolean(hugepage));
	return p;
}

static json_t *anon_params(const json_t *params)
{
	return anon_params_for(params, 1);
}

static int mthp_validate(const json_t *params, const char *where)
{
	json_t *v, *ap;
	int rc;

	if ((rc = params_check(params, where, mthp_params)))
		return rc;
	v = json_object_get(params, "sizes");
	if (!json_is_object(v) || !json_object_size(v))
		return sb_err(EINVAL, "%s.sizes: required: an object like {\"64kB\": \"always\"}",
			      where);
	/* anon checks the passed-through keys again and the sizes' policies. */
	ap = anon_params_for(params, 0);
	rc = workload_anon.validate(ap, where);
	json_decref(ap);
	return rc;
}

static int mthp_supported(struct wl_ctx *ctx)
{
	char *p;
	int ok;

	/* 6.8+ has hugepages-<size>kB directories; 64kB exists on x86-64. */
	p = xasprintf("%s/hugepages-64kB/enabled", THP_DIR);
	ok = access(p, F_OK) == 0;
	free(p);
	if (!ok)
		return sb_err(ENOTSUP, "this kernel has no per-size mTHP controls (%s/hugepages-"
			      "<size>kB/, Linux 6.8+)", THP_DIR);
	return 0;
}

/* "64kB"/"64K"/"64" -> "64kB" directory suffix. */
static void size_dir(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%ld", strtol(name, NULL, 10));
	strncat(out, "kB", len - strlen(out) - 1);
}

/* {size: {stat: value}} for the requested sizes (absent stats stay absent). */
static json_t *read_stats(const json_t *sizes)
{
	static const char *const stats[] = { "swpout", "swpout_fallback", "zswpout", "swpin",
					     "swpin_fallback", "anon_fault_alloc",
					     "anon_fault_fallback", "split", NULL };
	json_t *out = json_object(), *v;
	const char *key;

	json_object_foreach((json_t *)sizes, key, v) {
		json_t *o = json_object();
		char dir[32];

		size_dir(key, dir, sizeof(dir));
		for (int i = 0; stats[i]; i++) {
			char *p = xasprintf("%s/hugepages-%s/stats/%s", THP_DIR, dir, stats[i]);
			unsigned long long n;

			if (sysfs_read_ull(p, &n) == 0)
				json_object_set_new(o, stats[i], json_integer((json_int_t)n));
			free(p);
		}
		json_object_set_new(out, dir, o);
	}
	return out;
}

static long long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "re");
	char line[256], key[128];
	long long v = 0, val;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lld", key, &val) == 2 && !strcmp(key, name))
			v = val;
	if (f)
		fclose(f);
	return v;
}

static int mthp_setup(struct wl_ctx *ctx)
{
	struct wl_ctx inner = *ctx;
	json_t *ap = anon_params(ctx->params);
	int rc;

	inner.params = ap;
	rc = workload_anon.setup ? workload_anon.setup(&inner) : 0;
	/* anon keeps its saved knobs in priv; cleanup needs them. */
	ctx->priv = inner.priv;
	json_decref(ap);
	return rc;
}

static void mthp_cleanup(struct wl_ctx *ctx)
{
	struct wl_ctx inner = *ctx;
	json_t *ap = anon_params(ctx->params);

	inner.params = ap;
	if (workload_anon.cleanup)
		workload_anon.cleanup(&inner);
	json_decref(ap);
}

static int mthp_run(struct wl_ctx *ctx)
{
	json_t *sizes = json_object_get(ctx->params, "sizes");
	json_t *ap = anon_params(ctx->params), *before, *after, *v, *passes;
	json_t *deltas = json_object();
	struct wl_ctx inner = *ctx;
	long long out0 = vmstat("pswpout"), in0 = vmstat("pswpin"), out1, in1;
	double fault_s, back_s = 0;
	const char *key;
	int rc;

	before = read_stats(sizes);
	inner.params = ap;
	rc = workload_anon.run(&inner);
	after = read_stats(sizes);
	out1 = vmstat("pswpout");
	in1 = vmstat("pswpin");
	json_decref(ap);
	if (rc) {
		json_decref(before);
		json_decref(after);
		json_decref(deltas);
		return rc;
	}
	/* Swap-out happens while pass 1 faults memory in past the limit;
	 * swap-in during the later passes. */
	passes = json_object_get(ctx->info, "pass_wall_s");
	fault_s = json_number_value(json_array_get(passes, 0));
	for (size_t i = 1; i < json_array_size(passes); i++)
		back_s += json_number_value(json_array_get(passes, i));
	wl_metric(ctx, "swapout_bw", fault_s > 0 ? (out1 - out0) * 4096 / 1e6 / fault_s : 0,
		  "MB/s", "higher");
	if (back_s > 0)
		wl_metric(ctx, "swapin_bw", (in1 - in0) * 4096 / 1e6 / back_s, "MB/s", "higher");
	json_object_set_new(ctx->info, "mthp_delta", deltas);
	json_object_foreach(after, key, v) {
		json_t *b = json_object_get(before, key), *d = json_object(), *s;
		const char *stat;
		char name[64];
		long long so, sf;

		json_object_foreach(v, stat, s)
			json_object_set_new(d, stat, json_integer(json_integer_value(s) -
					    json_integer_value(json_object_get(b, stat))));
		so = json_integer_value(json_object_get(d, "swpout"));
		sf = json_integer_value(json_object_get(d, "swpout_fallback"));
		snprintf(name, sizeof(name), "swpout_%s", key);
		wl_metric(ctx, name, (double)so, "folios", "higher");
		snprintf(name, sizeof(name), "swpout_fallback_%s", key);
		wl_metric(ctx, name, (double)sf, "folios", "lower");
		snprintf(name, sizeof(name), "fallback_ratio_%s", key);
		wl_metric(ctx, name, so + sf ? 100.0 * sf / (so + sf) : 0, "%", "lower");
		if (json_object_get(d, "swpin")) {
			snprintf(name, sizeof(name), "swpin_%s", key);
			wl_metric(ctx, name, (double)json_integer_value(json_object_get(d, "swpin")),
				  "folios", "higher");
		}
		if (json_object_get(d, "zswpout")) {
			snprintf(name, sizeof(name), "zswpout_%s", key);
			wl_metric(ctx, name,
				  (double)json_integer_value(json_object_get(d, "zswpout")),
				  "folios", "higher");
		}
		json_object_set_new(deltas, key, d);
	}
	json_object_set_new(ctx->info, "pswpout_delta", json_integer(out1 - out0));
	json_object_set_new(ctx->info, "pswpin_delta", json_integer(in1 - in0));
	json_decref(before);
	json_decref(after);
	return 0;
}

static const struct metric_desc mthp_metrics[] = {
	{ "swapout_bw", "MB/s", "higher" },
	{ "swapin_bw", "MB/s", "higher" },
	{ "swpout_<size>", "folios", "higher" },
	{ "swpout_fallback_<size>", "folios", "lower" },
	{ "fallback_ratio_<size>", "%", "lower" },
	{ NULL, NULL, NULL },
};

const struct workload_ops workload_mthp = {
	.name = "mthp",
	.summary = "anon memory in chosen mTHP sizes swapped out and back, per-size counters",
	.validate = mthp_validate,
	.params = mthp_params,
	.supported = mthp_supported,
	.setup = mthp_setup,
	.run = mthp_run,
	.cleanup = mthp_cleanup,
	.metrics = mthp_metrics,
};
