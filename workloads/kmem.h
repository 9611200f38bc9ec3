/* Kernel memory snapshots for attributing overhead to its owners:
 *   {"meminfo": {Name: bytes}, "slab": {cache: bytes}, "slab_objs": {cache: objects},
 *    "vmalloc": {caller: bytes}}
 * slab bytes are the pages the cache's slabs occupy; vmalloc bytes are the
 * pages of each area (pages=N), grouped by allocating function. Boot with
 * slab_nomerge, or SLUB may merge a cache into another of the same size. */
#ifndef SB_KMEM_H
#define SB_KMEM_H

#include <jansson.h>

json_t *kmem_snapshot(void);
/* after - before for every number (nested), dropping zero deltas. */
json_t *kmem_delta(const json_t *before, const json_t *after);
/* Memory in use: MemTotal - MemFree - PcpFree - Buffers - Cached, where
 * PcpFree (added from /proc/zoneinfo) is the free pages on per-CPU lists.
 * Unlike free(1), reclaimable slab counts as used: swap's own xarray nodes
 * (swap cache shadow entries, zswap's tree) live in the reclaimable
 * radix_tree_node cache. Callers drop caches first so dentries and inodes
 * do not move between snapshots. */
long long kmem_used(const json_t *snap);
long long kmem_meminfo(const json_t *snap, const char *name);
/* Sum of the values of one section ("slab", "vmalloc"). */
long long kmem_section_total(const json_t *delta, const char *section);

/* Swap-table era (6.18+): each swap cluster in use has a swap table (one
 * unsigned long per slot). With 512-slot clusters it is a whole page from
 * the page allocator, invisible to /proc/slabinfo and /proc/vmallocinfo;
 * smaller ones come from the "swap_table" slab cache (then slab deltas
 * already count them). kmem_swap_table_page_bytes() is the size of one
 * page-allocated table on this kernel, or 0 when tables are not pages (older
 * kernels, or the slab cache exists). */
long long kmem_swap_table_page_bytes(const json_t *snap);
/* Large kmalloc (and kvmalloc that did not fall back to vmalloc) of more
 * than two pages: served by the page allocator, counted in meminfo's Slab
 * (SUnreclaim) but in no /proc/slabinfo cache. The swap cluster array of a
 * 64 GiB device (1.5 MiB) is one. The delta's meminfo Slab minus the sum
 * of its slab section. */
long long kmem_large_kmalloc(const json_t *delta);
/* The memcg swap id array (2 bytes per slot) where vmallocinfo does not
 * show it, given the bytes vmalloc'd by swap_cgroup_swapon at a swapon of
 * `slots` slots. Up to 6.13 that function vmallocs only a map of page
 * pointers (8 bytes per 2048 slots) and alloc_page()s the array: then the
 * array is ceil(slots x 2 / psize) pages, returned here. From 6.14 the
 * array itself is vcalloc'd (already in the vmalloc figure) and from 7.x
 * swap_cgroup is gone (no vmalloc): 0 for both, and for no swapon. */
long long kmem_swap_cgroup_page_bytes(long long vmalloc_bytes, double slots, long psize);
/* Slots per swap cluster on this kernel: HPAGE_PMD_NR (512 on x86-64) with
 * THP, 256 without. */
int kmem_swap_cluster_slots(void);
/* The swap clusters holding a process's swapped-out pages, from
 * /proc/PID/pagemap (swap type and offset of each swapped page): how many
 * distinct clusters, excluding cluster 0 of each device (it holds the
 * header slot, so swapon gave it a table already). 0 and *pages set on
 * success. */
int kmem_swap_clusters_of(int pid, int cluster_slots, long long *clusters, long long *pages);

#endif
