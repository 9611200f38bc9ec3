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

#endif
