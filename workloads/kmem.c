#define _GNU_SOURCE
#include "workloads/kmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *meminfo(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	json_t *o = json_object();
	char line[256];

	while (f && fgets(line, sizeof(line), f)) {
		char name[64], unit[8] = "";
		long long v;

		if (sscanf(line, "%63[^:]: %lld %7s", name, &v, unit) >= 2)
			json_object_set_new(o, name, json_integer(!strcmp(unit, "kB") ? v * 1024 : v));
	}
	if (f)
		fclose(f);
	return o;
}

static void slabinfo(json_t *bytes, json_t *objs)
{
	FILE *f = fopen("/proc/slabinfo", "re");
	long psize = sysconf(_SC_PAGESIZE);
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		char name[128];
		long long active, num, objsize, perslab, pages, aslabs, nslabs;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%127s %lld %lld %lld %lld %lld : tunables %*d %*d %*d : "
				 "slabdata %lld %lld", name, &active, &num, &objsize, &perslab,
			   &pages, &aslabs, &nslabs) == 8) {
			json_object_set_new(bytes, name, json_integer(nslabs * pages * psize));
			json_object_set_new(objs, name, json_integer(active));
		}
	}
	if (f)
		fclose(f);
}

static json_t *vmallocinfo(void)
{
	FILE *f = fopen("/proc/vmallocinfo", "re");
	json_t *o = json_object();
	long psize = sysconf(_SC_PAGESIZE);
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		char range[64], caller[128], *plus, *pages;
		long long size, n;
		json_t *cur;

		if (sscanf(line, "%63s %lld %127s", range, &size, caller) != 3)
			continue;
		pages = strstr(line, " pages=");
		if (!pages || sscanf(pages, " pages=%lld", &n) != 1)
			continue; /* ioremap and friends: no RAM of their own */
		plus = strchr(caller, '+');
		if (plus)
			*plus = '\0';
		cur = json_object_get(o, caller);
		json_object_set_new(o, caller, json_integer((cur ? json_integer_value(cur) : 0) +
							    n * psize));
	}
	if (f)
		fclose(f);
	return o;
}

/* Free pages parked on per-CPU lists are not in MemFree; recent kernels
 * auto-tune those lists to megabytes, which would hide allocations served
 * from them. /proc/zoneinfo counts them ("count:" under pagesets). */
static long long pcp_free_bytes(void)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	long long pages = 0, n;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lld", &n) == 1)
			pages += n;
	if (f)
		fclose(f);
	return pages * sysconf(_SC_PAGESIZE);
}

json_t *kmem_snapshot(void)
{
	json_t *slab = json_object(), *objs = json_object(), *mi = meminfo();

	slabinfo(slab, objs);
	json_object_set_new(mi, "PcpFree", json_integer(pcp_free_bytes()));
	return json_pack("{s:o,s:o,s:o,s:o}", "meminfo", mi, "slab", slab, "slab_objs",
			 objs, "vmalloc", vmallocinfo());
}

json_t *kmem_delta(const json_t *before, const json_t *after)
{
	json_t *d = json_object(), *av;
	const char *key;

	json_object_foreach((json_t *)after, key, av) {
		json_t *bv = json_object_get(before, key);

		if (json_is_object(av)) {
			json_object_set_new(d, key, kmem_delta(bv, av));
		} else if (json_is_integer(av)) {
			long long delta = json_integer_value(av) - json_integer_value(bv);

			if (delta)
				json_object_set_new(d, key, json_integer(delta));
		}
	}
	/* Things that disappeared count as negative. */
	json_object_foreach((json_t *)before, key, av) {
		if (json_is_integer(av) && !json_object_get(after, key) && json_integer_value(av))
			json_object_set_new(d, key, json_integer(-json_integer_value(av)));
	}
	return d;
}

long long kmem_meminfo(const json_t *snap, const char *name)
{
	return json_integer_value(json_object_get(json_object_get(snap, "meminfo"), name));
}

long long kmem_used(const json_t *snap)
{
	return kmem_meminfo(snap, "MemTotal") - kmem_meminfo(snap, "MemFree") -
	       kmem_meminfo(snap, "PcpFree") - kmem_meminfo(snap, "Buffers") -
	       kmem_meminfo(snap, "Cached");
}

long long kmem_section_total(const json_t *delta, const char *section)
{
	const char *key;
	json_t *v;
	long long sum = 0;

	json_object_foreach(json_object_get(delta, section), key, v)
		sum += json_integer_value(v);
	return sum;
}
