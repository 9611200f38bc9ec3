#define _GNU_SOURCE
#include "bench/sampler.h"
#include "common/fsutil.h"
#include "common/sysfs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* meminfo_style: "Name:   123 kB" lines, values converted to bytes. */
json_t *parse_kv_file(const char *path, int meminfo_style)
{
	FILE *f = fopen(path, "re");
	json_t *o;
	char line[512];

	if (!f)
		return NULL;
	o = json_object();
	while (fgets(line, sizeof(line), f)) {
		char name[128], unit[16] = "";
		long long v;
		int n = meminfo_style ? sscanf(line, "%127[^:]: %lld %15s", name, &v, unit)
				      : sscanf(line, "%127s %lld", name, &v);

		if (n < 2)
			continue;
		if (meminfo_style && !strcmp(unit, "kB"))
			v *= 1024;
		json_object_set_new(o, name, json_integer(v));
	}
	fclose(f);
	return o;
}

static void put(json_t *snap, const char *name, json_t *val)
{
	json_object_set_new(snap, name, val ? val : json_string("absent"));
}

static json_t *zram_stats(const struct topo_state *st)
{
	static const char *const fields[] = { "orig_data_size", "compr_data_size",
					      "mem_used_total", "mem_limit", "mem_used_max",
					      "same_pages", "pages_compacted", "huge_pages",
					      "huge_pages_since", NULL };
	json_t *all;

	if (!st || !st->nzram)
		return NULL;
	all = json_object();
	for (int i = 0; i < st->nzram; i++) {
		char path[64], buf[512], dev[16], *p;
		json_t *o = json_object();

		snprintf(path, sizeof(path), "/sys/block/zram%d/mm_stat", st->zram_ids[i]);
		snprintf(dev, sizeof(dev), "zram%d", st->zram_ids[i]);
		if (sysfs_read(path, buf, sizeof(buf)) == 0) {
			p = buf;
			/* Older kernels have fewer columns: keep what is there. */
			for (int f = 0; fields[f] && *p; f++) {
				char *end;
				long long v = strtoll(p, &end, 10);

				if (end == p)
					break;
				json_object_set_new(o, fields[f], json_integer(v));
				p = end;
			}
		}
		json_object_set_new(all, dev, o);
	}
	return all;
}

/* Every file of a directory that holds a single integer. */
static json_t *int_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	json_t *o;

	if (!d)
		return NULL;
	o = json_object();
	while ((e = readdir(d))) {
		char path[512];
		unsigned long long v;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (sysfs_read_ull(path, &v) == 0)
			json_object_set_new(o, e->d_name, json_integer((json_int_t)v));
	}
	closedir(d);
	return o;
}

static json_t *mthp_stats(void)
{
	const char *base = "/sys/kernel/mm/transparent_hugepage";
	DIR *d = opendir(base);
	struct dirent *e;
	json_t *o = NULL;

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char path[512];
		json_t *s;

		if (strncmp(e->d_name, "hugepages-", 10))
			continue;
		snprintf(path, sizeof(path), "%s/%s/stats", base, e->d_name);
		s = int_dir(path);
		if (!s)
			continue;
		if (!o)
			o = json_object();
		json_object_set_new(o, e->d_name + 10, s);
	}
	closedir(d);
	return o;
}

json_t *sampler_snapshot(const char *cgroup_dir, const struct topo_state *st)
{
	json_t *snap = json_object();
	char path[256];

	put(snap, "vmstat", parse_kv_file("/proc/vmstat", 0));
	put(snap, "meminfo", parse_kv_file("/proc/meminfo", 1));
	snprintf(path, sizeof(path), "%s/memory.stat", cgroup_dir);
	put(snap, "memory_stat", parse_kv_file(path, 0));
	snprintf(path, sizeof(path), "%s/memory.events", cgroup_dir);
	put(snap, "memory_events", parse_kv_file(path, 0));
	snprintf(path, sizeof(path), "%s/memory.swap.events", cgroup_dir);
	put(snap, "memory_swap_events", parse_kv_file(path, 0));
	put(snap, "zram", zram_stats(st));
	put(snap, "zswap", int_dir("/sys/kernel/debug/zswap"));
	put(snap, "mthp", mthp_stats());
	return snap;
}

/* Recursive: numbers become after-before; nested objects recurse. */
static json_t *diff(const json_t *before, const json_t *after)
{
	json_t *d = json_object(), *av;
	const char *key;

	json_object_foreach((json_t *)after, key, av) {
		json_t *bv = json_object_get(before, key);

		if (json_is_integer(av))
			json_object_set_new(d, key, json_integer(json_integer_value(av) -
								 (json_is_integer(bv) ?
								  json_integer_value(bv) : 0)));
		else if (json_is_object(av))
			json_object_set_new(d, key, diff(json_is_object(bv) ? bv : NULL, av));
	}
	return d;
}

json_t *sampler_deltas(const json_t *before, const json_t *after)
{
	json_t *out = json_object(), *av;
	const char *key;

	json_object_foreach((json_t *)after, key, av) {
		json_t *bv = json_object_get(before, key);

		if (!json_is_object(av)) {
			json_object_set_new(out, key, json_string("absent"));
			continue;
		}
		json_object_set_new(out, key, json_pack("{s:o,s:O}", "delta",
							diff(json_is_object(bv) ? bv : NULL, av),
							"after", av));
	}
	return out;
}

json_t *sampler_periodic(double t, const char *cgroup_dir, const struct topo_state *st)
{
	json_t *meminfo = parse_kv_file("/proc/meminfo", 1);
	json_t *s = json_object();
	unsigned long long v;
	char path[256];

	json_object_set_new(s, "t", json_real(t));
	if (meminfo) {
		long long total = json_integer_value(json_object_get(meminfo, "SwapTotal"));
		long long free_ = json_integer_value(json_object_get(meminfo, "SwapFree"));

		json_object_set_new(s, "swap_used", json_integer(total - free_));
		json_object_set_new(s, "mem_free",
				    json_integer(json_integer_value(
					    json_object_get(meminfo, "MemFree"))));
		if (json_object_get(meminfo, "Zswap"))
			json_object_set_new(s, "zswap_pool",
					    json_integer(json_integer_value(
						    json_object_get(meminfo, "Zswap"))));
		json_decref(meminfo);
	}
	snprintf(path, sizeof(path), "%s/memory.current", cgroup_dir);
	if (sysfs_read_ull(path, &v) == 0)
		json_object_set_new(s, "memcg_current", json_integer((json_int_t)v));
	snprintf(path, sizeof(path), "%s/memory.swap.current", cgroup_dir);
	if (sysfs_read_ull(path, &v) == 0)
		json_object_set_new(s, "memcg_swap", json_integer((json_int_t)v));
	if (!json_object_get(s, "zswap_pool") &&
	    sysfs_read_ull("/sys/kernel/debug/zswap/pool_total_size", &v) == 0)
		json_object_set_new(s, "zswap_pool", json_integer((json_int_t)v));
	if (st && st->nzram) {
		long long used = 0;

		for (int i = 0; i < st->nzram; i++) {
			char p[64], buf[512];
			long long f[3] = { 0, 0, 0 };

			snprintf(p, sizeof(p), "/sys/block/zram%d/mm_stat", st->zram_ids[i]);
			if (sysfs_read(p, buf, sizeof(buf)) == 0 &&
			    sscanf(buf, "%lld %lld %lld", &f[0], &f[1], &f[2]) == 3)
				used += f[2];
		}
		json_object_set_new(s, "zram_used", json_integer(used));
	}
	return s;
}
