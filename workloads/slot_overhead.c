/* slot-overhead: kernel memory per swap slot, measured, attributed.
 *
 * static:  swapoff every topology device, then repeatedly swapon/swapoff one
 *          device, snapshotting kernel memory around each swapon. The "used"
 *          delta (as free(1) computes it) over the device's slots is
 *          static_bytes_per_slot; vmalloc areas by allocating function and
 *          slab caches attribute it (swap_map, the memcg swap id array in
 *          swap_cgroup_swapon, cluster info, zswap trees, ...).
 * dynamic: with the topology up, a process fills `pages` pages and pushes
 *          them to swap (MADV_PAGEOUT). The kernel memory that appears, minus
 *          the stored data itself (zram mm_stat mem_used_total, zswap pool),
 *          the swap cache, the process's own pages and page tables, over the
 *          slots used, is dynamic_bytes_per_slot; slab deltas attribute it
 *          (zswap_entry, xarray nodes, ...).
 * Boot with slab_nomerge so small caches keep their own names. */
#define _GNU_SOURCE
#include "common/err.h"
#include "common/fsutil.h"
#include "workloads/holder.h"
#include "workloads/kmem.h"
#include "common/stats.h"
#include "common/sysfs.h"
#include "common/topology.h"
#include "workloads/wl-util.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

static const char *const so_modes[] = { "static", "dynamic", NULL };

static const struct param_def so_params[] = {
	PARAM_ENUM("mode", so_modes, "static", "static: per-slot metadata of swapon; "
		   "dynamic: its growth per used slot"),
	PARAM_INT("repeat", 2, 100, "5", "measurements to take"),
	PARAM_INT("pages", 256, 1LL << 28, "16384", "pages swapped out (dynamic)"),
	PARAM_PATH("device", "the swap device to measure (default: the topology's)"),
	PARAM_INT("top", 1, 100, "12", "slab/vmalloc callers listed"),
	PARAM_END(),
};

static int so_validate(const json_t *params, const char *where)
{
	return params_check(params, where, so_params);
}

static int so_supported(struct wl_ctx *ctx)
{
	if (!ctx->topo || !ctx->topo->nswaps)
		return sb_err(ENODEV, "slot-overhead needs a topology with a swap device");
	if (access("/proc/vmallocinfo", R_OK) || access("/proc/slabinfo", R_OK))
		return sb_err(ENOENT, "slot-overhead needs /proc/vmallocinfo and /proc/slabinfo");
	return 0;
}

/* A number of so_params (validated by the agent before run). */
static int so_int(const struct wl_ctx *ctx, const char *key)
{
	long long v = 0;

	params_get_int(ctx->params, "slot-overhead params", so_params, key, &v);
	return (int)v;
}

/* The n largest |values| of a {name: bytes} delta, as [{name, bytes,
 * bytes_per_slot}], plus the rest summed. */
static json_t *top_components(const json_t *delta, int n, double slots)
{
	json_t *out = json_array(), *v;
	const char *key;
	size_t count = json_object_size(delta), i = 0;
	const char **names = calloc(count ? count : 1, sizeof(*names));
	long long rest = 0;

	json_object_foreach((json_t *)delta, key, v)
		names[i++] = key;
	/* Selection by |bytes|: n is small. */
	for (int k = 0; k < n && k < (int)count; k++) {
		size_t best = k;

		for (size_t j = k + 1; j < count; j++)
			if (llabs(json_integer_value(json_object_get(delta, names[j]))) >
			    llabs(json_integer_value(json_object_get(delta, names[best]))))
				best = j;
		key = names[best];
		names[best] = names[k];
		names[k] = key;
		json_array_append_new(out, json_pack("{s:s,s:I,s:f}", "name", key, "bytes",
			json_integer_value(json_object_get(delta, key)), "bytes_per_slot",
			json_integer_value(json_object_get(delta, key)) / slots));
	}
	for (size_t j = n; j < count; j++)
		rest += json_integer_value(json_object_get(delta, names[j]));
	if (count > (size_t)n)
		json_array_append_new(out, json_pack("{s:s,s:I,s:f}", "name", "(others)", "bytes",
						     (json_int_t)rest, "bytes_per_slot",
						     rest / slots));
	free(names);
	return out;
}

static void drop_caches(void)
{
	sync();
	sysfs_write("/proc/sys/vm/drop_caches", "3");
}

static int so_static(struct wl_ctx *ctx)
{
	const struct topo_state *st = ctx->topo;
	const char *dev = st->swaps[st->nswaps - 1].path;
	int repeat = so_int(ctx, "repeat"), rc = 0, prio = -1;
	double *per_slot = calloc(repeat, sizeof(double)), mean, half, slots = 0;
	json_t *reps = json_array(), *last_delta = NULL, *last_after = NULL, *static_attr;
	long long last_used = 0;

	params_get_string(ctx->params, "slot-overhead params", so_params, "device", &dev);
	/* Every device off: the measured swapon is the only one. */
	for (int i = 0; i < st->nswaps; i++) {
		if (!strcmp(st->swaps[i].path, dev))
			prio = st->swaps[i].priority;
		if (swapoff(st->swaps[i].path) && errno != EINVAL) {
			rc = sb_err(errno, "swapoff '%s': %s", st->swaps[i].path, strerror(errno));
			goto out;
		}
	}
	for (int r = 0; r < repeat; r++) {
		json_t *before, *after, *delta;
		long long used;
		int flags = prio >= 0 ? SWAP_FLAG_PREFER | (prio & SWAP_FLAG_PRIO_MASK) : 0;

		drop_caches();
		before = kmem_snapshot();
		if (swapon(dev, flags)) {
			rc = sb_err(errno, "swapon '%s': %s", dev, strerror(errno));
			json_decref(before);
			goto out;
		}
		after = kmem_snapshot();
		if (swapoff(dev)) {
			rc = sb_err(errno, "swapoff '%s': %s", dev, strerror(errno));
			json_decref(before);
			json_decref(after);
			goto out;
		}
		delta = kmem_delta(before, after);
		/* Slots: what SwapTotal grew by, in pages. */
		slots = (double)json_integer_value(json_object_get(json_object_get(delta, "meminfo"),
								   "SwapTotal")) / 4096;
		used = kmem_used(after) - kmem_used(before);
		per_slot[r] = slots > 0 ? used / slots : 0;
		json_array_append_new(reps, json_pack("{s:I,s:f}", "used_bytes", (json_int_t)used,
						      "bytes_per_slot", per_slot[r]));
		json_decref(last_delta);
		last_delta = delta;
		last_used = used;
		json_decref(before);
		json_decref(last_after);
		last_after = after;
	}
	if (slots <= 0) {
		rc = sb_err(EIO, "swapon of '%s' added no swap space", dev);
		goto out;
	}
	{
		struct stats_summary sum;

		stats_summarize(per_slot, repeat, &sum);
		mean = sum.mean;
		half = (sum.ci95_hi - sum.ci95_lo) / 2;
	}
	wl_metric(ctx, "static_bytes_per_slot", mean, "B", "lower");
	wl_metric(ctx, "static_total_bytes", mean * slots, "B", "lower");
	wl_metric(ctx, "static_vmalloc_per_slot",
		  kmem_section_total(last_delta, "vmalloc") / slots, "B", "lower");
	wl_metric(ctx, "static_slab_per_slot",
		  kmem_section_total(last_delta, "slab") / slots, "B", "lower");
	{
		/* What the counters name, against the last repetition's used delta.
		 * Swap-table kernels give a table at swapon to each cluster that
		 * holds a bad slot: the header's, and a partial last one. */
		long long vm = kmem_section_total(last_delta, "vmalloc");
		long long sl = kmem_section_total(last_delta, "slab");
		long long tb = kmem_swap_table_page_bytes(last_after), cs = kmem_swap_cluster_slots();
		long long ntables = tb ? 1 + (((long long)slots + 1) % cs != 0) : 0;
		long long cg = kmem_swap_cgroup_page_bytes(
			json_integer_value(json_object_get(json_object_get(last_delta, "vmalloc"),
							   "swap_cgroup_swapon")),
			slots, sysconf(_SC_PAGESIZE));
		long long kl = kmem_large_kmalloc(last_delta);
		long long attributed = vm + sl + kl + ntables * tb + cg;

		static_attr = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "vmalloc",
					(json_int_t)vm, "slab", (json_int_t)sl, "kmalloc_large",
					(json_int_t)kl, "swap_tables",
					(json_int_t)(ntables * tb), "swap_cgroup_pages",
					(json_int_t)cg, "total", (json_int_t)attributed,
					"unattributed", (json_int_t)(last_used - attributed),
					"share", last_used > 0 ? (double)attributed / last_used : 1.0);
		wl_metric(ctx, "static_attributed_share",
			  last_used > 0 ? 100.0 * attributed / last_used : 100.0, "%", "higher");
	}
	json_object_set_new(ctx->info, "static", json_pack(
		"{s:s,s:f,s:f,s:f,s:i,s:o,s:o,s:{s:o,s:o,s:o},s:s}",
		"device", dev, "slots", slots, "bytes_per_slot", mean, "ci95_half_width", half,
		"repeat", repeat, "repetitions", reps, "attributed", static_attr, "components",
		"vmalloc_by_caller", top_components(json_object_get(last_delta, "vmalloc"),
						    so_int(ctx, "top"), slots),
		"slab_by_cache", top_components(json_object_get(last_delta, "slab"), so_int(ctx, "top"),
						slots),
		"meminfo", json_deep_copy(json_object_get(last_delta, "meminfo")),
		"method", "used = MemTotal - MemFree - PcpFree - Buffers - Cached (caches dropped), after "
			  "minus before swapon, over the slots SwapTotal grew by; components "
			  "from the last repetition's /proc/vmallocinfo (by caller) and "
			  "/proc/slabinfo (by cache) deltas; kmalloc_large = meminfo Slab "
			  "delta minus the slabinfo delta (kmalloc/kvmalloc of more than "
			  "two pages: page allocator, in Slab but in no cache)"));
	reps = NULL;
out:
	json_decref(reps);
	json_decref(last_delta);
	json_decref(last_after);
	free(per_slot);
	return rc;
}

static long long stored_bytes(const struct topo_state *st, json_t *parts)
{
	long long total = 0;
	unsigned long long v;

	for (int i = 0; i < st->nzram; i++) {
		char p[64], buf[512];
		long long f[3];

		snprintf(p, sizeof(p), "/sys/block/zram%d/mm_stat", st->zram_ids[i]);
		if (sysfs_read(p, buf, sizeof(buf)) == 0 &&
		    sscanf(buf, "%lld %lld %lld", &f[0], &f[1], &f[2]) == 3) {
			total += f[2];
			json_object_set_new(parts, "zram_mem_used_total", json_integer(f[2]));
		}
	}
	if (sysfs_read_ull("/sys/kernel/debug/zswap/pool_total_size", &v) == 0) {
		total += (long long)v;
		json_object_set_new(parts, "zswap_pool_total_size", json_integer((json_int_t)v));
	}
	return total;
}

/* Pages written to a disk stay in the swap cache (with its xarray nodes)
 * until reclaim drops them: transient, not per-slot metadata. Ask the memcg
 * to reclaim them (they are clean), a few times, until SwapCached is small. */
static void settle_swap_cache(struct wl_ctx *ctx, size_t bytes)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/memory.reclaim", ctx->cgroup_dir);
	for (int i = 0; i < 8; i++) {
		json_t *m = kmem_snapshot();
		long long cached = kmem_meminfo(m, "SwapCached");

		json_decref(m);
		if (cached < (1 << 20))
			break;
		usleep(100000); /* let writeback finish */
		sysfs_writef(path, "%zu", bytes);
	}
}

/* Take the "after" snapshot once kernel memory has stopped moving: frees
 * deferred to RCU, workqueues and writeback completions land a moment after
 * reclaim returns, and a snapshot taken in the middle counts them as used.
 * Snapshots every 0.5 s until "used" moves by less than 256 KiB (at most
 * 12); the series is kept in the result. */
static json_t *settled_snapshot(json_t *series)
{
	json_t *snap = NULL;
	long long prev = 0;

	for (int i = 0; i < 12; i++) {
		long long used;

		if (i)
			usleep(500000);
		drop_caches();
		json_decref(snap);
		snap = kmem_snapshot();
		used = kmem_used(snap);
		json_array_append_new(series, json_integer(used));
		if (i && llabs(used - prev) < (256 << 10))
			break;
		prev = used;
	}
	return snap;
}

static int so_dynamic(struct wl_ctx *ctx)
{
	long long pages = so_int(ctx, "pages");
	json_t *before, *after, *delta, *sb = json_object(), *sa = json_object(), *minfo;
	json_t *settle = json_array(), *attr;
	long long stored_b, stored_a, used, anon, ptables, swapcached, metadata, swapped;
	long long slab, vmalloc, table_bytes, tables = 0, clusters = 0, mapped = 0, attributed;
	long long residue, large;
	struct holder h;
	double slots, share;
	char path[256];
	int rc;

	/* The holder must go entirely to swap, not be limited by the memcg. */
	snprintf(path, sizeof(path), "%s/memory.max", ctx->cgroup_dir);
	sysfs_write(path, "max");
	rc = holder_spawn(&h, (size_t)pages * 4096);
	if (rc) {
		json_decref(sb);
		json_decref(sa);
		json_decref(settle);
		return rc;
	}
	{
		json_t *pre = json_array();

		before = settled_snapshot(pre);
		json_decref(pre);
	}
	stored_b = stored_bytes(ctx->topo, sb);
	rc = holder_fill(&h);
	if (rc) {
		json_decref(before);
		json_decref(sb);
		json_decref(sa);
		json_decref(settle);
		return rc;
	}
	settle_swap_cache(ctx, (size_t)pages * 4096);
	after = settled_snapshot(settle);
	stored_a = stored_bytes(ctx->topo, sa);
	swapped = holder_vmswap(&h);
	delta = kmem_delta(before, after);
	minfo = json_object_get(delta, "meminfo");
	slots = swapped / 4096.0;
	used = kmem_used(after) - kmem_used(before);
	anon = json_integer_value(json_object_get(minfo, "AnonPages"));
	ptables = json_integer_value(json_object_get(minfo, "PageTables"));
	swapcached = json_integer_value(json_object_get(minfo, "SwapCached"));
	/* What is left once the data and its owner are taken out. */
	metadata = used - anon - ptables - swapcached - (stored_a - stored_b);
	slab = kmem_section_total(delta, "slab");
	vmalloc = kmem_section_total(delta, "vmalloc");
	/* Page-allocated swap tables: one per cluster the holder's slots
	 * opened, counted from its pagemap (bytes per table from the source). */
	table_bytes = kmem_swap_table_page_bytes(after);
	if (table_bytes &&
	    kmem_swap_clusters_of(h.pid, kmem_swap_cluster_slots(), &clusters, &mapped) == 0)
		tables = clusters * table_bytes;
	large = kmem_large_kmalloc(delta);
	attributed = slab + vmalloc + large + tables;
	/* Never folded into bytes per slot: memory that moved and that no
	 * counter names is reported apart. */
	residue = metadata - attributed;
	/* How much of what moved the counters name: 1 when nothing is left
	 * over, whatever the sign of the rest. */
	share = llabs(attributed) + llabs(residue) > 0
			? (double)llabs(attributed) / (llabs(attributed) + llabs(residue)) : 1.0;
	attr = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "slab", (json_int_t)slab,
			 "vmalloc", (json_int_t)vmalloc, "kmalloc_large", (json_int_t)large,
			 "swap_tables", (json_int_t)tables,
			 "swap_table_bytes", (json_int_t)table_bytes, "swap_clusters",
			 (json_int_t)clusters, "swapped_pages_in_pagemap", (json_int_t)mapped,
			 "total", (json_int_t)attributed, "share", share);
	json_object_set_new(ctx->info, "dynamic", json_pack(
		"{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:f,s:f,s:o,s:o,s:o,s:{s:o,s:o},s:O,"
		"s:O,s:s}",
		"pages_held", (json_int_t)pages, "slots_used", slots, "used_delta",
		(json_int_t)used, "anon_delta", (json_int_t)anon, "page_tables_delta",
		(json_int_t)ptables, "swap_cache_delta", (json_int_t)swapcached,
		"stored_data_delta", (json_int_t)(stored_a - stored_b), "kernel_metadata",
		(json_int_t)metadata, "attributed", attr, "unattributed", (json_int_t)residue,
		"bytes_per_slot", slots > 0 ? attributed / slots : 0.0,
		"unattributed_per_slot", slots > 0 ? residue / slots : 0.0,
		"settle_used", settle, "stored_before", sb, "stored_after", sa, "components",
		"slab_by_cache",
		top_components(json_object_get(delta, "slab"), so_int(ctx, "top"), slots > 0 ? slots : 1),
		"vmalloc_by_caller",
		top_components(json_object_get(delta, "vmalloc"), so_int(ctx, "top"),
			       slots > 0 ? slots : 1),
		"slab_objects", json_object_get(delta, "slab_objs"), "meminfo", minfo,
		"method", "metadata = used delta - AnonPages - PageTables - SwapCached - stored "
			  "data (zram mem_used_total + zswap pool_total_size), with the pages "
			  "held in swap by a process, the swap cache reclaimed first "
			  "(memory.reclaim) and the after snapshot taken once used stops moving; "
			  "bytes_per_slot = attributed (slab + vmalloc deltas + kmalloc_large "
			  "(meminfo Slab minus slabinfo) + page-allocated "
			  "swap tables: clusters in the holder's pagemap x table size) over the "
			  "slots in its VmSwap; unattributed = metadata - attributed, reported "
			  "apart; share = |attributed| / (|attributed| + |unattributed|)"));
	if (slots < pages / 2.0) {
		rc = sb_err(EIO, "only %.0f of %lld pages reached swap", slots, pages);
	} else {
		wl_metric(ctx, "dynamic_bytes_per_slot", attributed / slots, "B", "lower");
		wl_metric(ctx, "dynamic_attributed_share", share * 100, "%", "higher");
		wl_metric(ctx, "dynamic_unattributed_per_slot", residue / slots, "B", "lower");
		wl_metric(ctx, "dynamic_slab_per_slot", slab / slots, "B", "lower");
		wl_metric(ctx, "dynamic_swap_table_per_slot", tables / slots, "B", "lower");
		wl_metric(ctx, "stored_bytes_per_slot", (stored_a - stored_b) / slots, "B",
			  "lower");
		rc = holder_verify_and_stop(&h);
	}
	holder_kill(&h);
	json_decref(before);
	json_decref(after);
	json_decref(delta);
	return rc;
}

static int so_run(struct wl_ctx *ctx)
{
	unsigned int mode = 0;
	int rc = params_get_enum(ctx->params, "slot-overhead params", so_params, "mode", &mode);

	return rc ? rc : !strcmp(so_modes[mode], "dynamic") ? so_dynamic(ctx) : so_static(ctx);
}

static const struct metric_desc so_metrics[] = {
	{ "static_bytes_per_slot", "B", "lower" },
	{ "static_total_bytes", "B", "lower" },
	{ "static_vmalloc_per_slot", "B", "lower" },
	{ "static_slab_per_slot", "B", "lower" },
	{ "static_attributed_share", "%", "higher" },
	{ "dynamic_bytes_per_slot", "B", "lower" },
	{ "dynamic_attributed_share", "%", "higher" },
	{ "dynamic_unattributed_per_slot", "B", "lower" },
	{ "dynamic_slab_per_slot", "B", "lower" },
	{ "dynamic_swap_table_per_slot", "B", "lower" },
	{ "stored_bytes_per_slot", "B", "lower" },
	{ NULL, NULL, NULL },
};

const struct workload_ops workload_slot_overhead = {
	.name = "slot-overhead",
	.summary = "kernel memory per swap slot: static (at swapon) and dynamic (per used slot)",
	.validate = so_validate,
	.params = so_params,
	.supported = so_supported,
	.run = so_run,
	.metrics = so_metrics,
};
