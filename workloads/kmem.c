#define _GNU_SOURCE
#include "workloads/kmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/err.h"

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

	/* Right after meminfo: pages move between the per-CPU lists and
	 * MemFree in batches of dozens, so any read in between (slabinfo
	 * takes a while) shows up as noise in "used". */
	json_object_set_new(mi, "PcpFree", json_integer(pcp_free_bytes()));
	slabinfo(slab, objs);
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

/* Swap tables arrived with swap table phase I in 6.18. */
static int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > major || (a == major && b >= minor);
}

int kmem_swap_cluster_slots(void)
{
	return access("/sys/kernel/mm/transparent_hugepage", F_OK) == 0 ? 512 : 256;
}

long long kmem_swap_table_page_bytes(const json_t *snap)
{
	long psize = sysconf(_SC_PAGESIZE);

	if (!kernel_at_least(6, 18) || json_object_get(json_object_get(snap, "slab"), "swap_table"))
		return 0;
	/* sizeof(struct swap_table) == PAGE_SIZE: SWP_TABLE_USE_PAGE. */
	return (long long)kmem_swap_cluster_slots() * 8 == psize ? psize : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int kmem_swap_clusters_of(int pid, int cluster_slots, long long *clusters_out,
			  long long *pages_out)
{
	char path[64], line[512];
	FILE *maps;
	int fd;
	uint64_t *keys = NULL;
	size_t n = 0, cap = 0;
	long psize = sysconf(_SC_PAGESIZE);
	long long clusters = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!maps || fd < 0) {
		int e = errno;

		if (maps)
			fclose(maps);
		if (fd >= 0)
			close(fd);
		return sb_err(e, "cannot read /proc/%d/maps and pagemap: %s", pid, strerror(e));
	}
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		uint64_t buf[512];

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || strstr(line, "[vsyscall]"))
			continue;
		for (unsigned long a = lo; a < hi;) {
			size_t want = (hi - a) / psize < 512 ? (hi - a) / psize : 512;
			ssize_t got = pread(fd, buf, want * 8, (off_t)(a / psize) * 8);

			if (got <= 0)
				break;
			for (ssize_t i = 0; i < got / 8; i++) {
				/* bit 62: swapped; bits 0-4 type, 5-54 offset. */
				if (!(buf[i] >> 62 & 1))
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 4096;
					keys = realloc(keys, cap * sizeof(*keys));
				}
				keys[n++] = (buf[i] & 31) << 50 |
					    ((buf[i] >> 5 & ((1ULL << 50) - 1)) / cluster_slots);
			}
			a += (unsigned long)(got / 8) * psize;
		}
	}
	fclose(maps);
	close(fd);
	qsort(keys, n, sizeof(*keys), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || keys[i] != keys[i - 1]) && (keys[i] & ((1ULL << 50) - 1)))
			clusters++;
	free(keys);
	*clusters_out = clusters;
	*pages_out = (long long)n;
	return 0;
}

long long kmem_swap_cgroup_page_bytes(long long vmalloc_bytes, double slots, long psize)
{
	long long n = (long long)slots;

	/* A pointer map is 1/256 of a byte per slot, the array 2 bytes:
	 * anything below half a byte per slot is a map. */
	if (vmalloc_bytes <= 0 || n <= 0 || psize <= 0 || vmalloc_bytes >= n / 2)
		return 0;
	return (n * 2 + psize - 1) / psize * psize;
}

long long kmem_large_kmalloc(const json_t *delta)
{
	return json_integer_value(json_object_get(json_object_get(delta, "meminfo"), "Slab")) -
	       kmem_section_total(delta, "slab");
}
