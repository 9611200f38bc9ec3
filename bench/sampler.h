/* Guest counters: snapshots before/after the measured phase, and periodic samples. */
#ifndef SB_SAMPLER_H
#define SB_SAMPLER_H

#include <jansson.h>

#include "common/topology.h"

/* A snapshot is an object { source: {name: value} | "absent" }, sources:
 * vmstat, meminfo, memory_stat, memory_events, memory_swap_events,
 * zram (per device mm_stat), zswap (debugfs), mthp (per size stats). */
json_t *sampler_snapshot(const char *cgroup_dir, const struct topo_state *st);
/* { source: { "delta": {...}, "after": {...} } } ("absent" sources kept as "absent"). */
json_t *sampler_deltas(const json_t *before, const json_t *after);
/* One periodic sample: t plus a few gauges. */
json_t *sampler_periodic(double t, const char *cgroup_dir, const struct topo_state *st);

/* Parse "name value" lines (vmstat, memory.stat) into {name: int}. */
json_t *parse_kv_file(const char *path, int meminfo_style);

#endif
