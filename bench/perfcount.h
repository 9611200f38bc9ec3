/* perf counters and reclaim-stall latencies of a cell's measured phase,
 * through libperf (built from the kernel's tools/lib/perf, cmake/libperf.cmake).
 *
 * Counters count the workload's processes: libperf 6.12 opens events with
 * perf_event_open flags 0, so perf's cgroup mode (PERF_FLAG_PID_CGROUP with
 * the cgroup v2 directory fd) is out of its reach; instead the counters are
 * opened on the workload's first process with attr.inherit before it runs,
 * so every process it forks is counted and folded in when it exits. That
 * is exactly the set of tasks in the workload's memcg.
 *
 * Reclaim stalls are begin/end tracepoint pairs recorded system-wide into
 * libperf ring buffers, paired per thread in the agent.
 *
 * What a kernel cannot give (no CONFIG_PERF_EVENTS, no tracefs, no PMU
 * under TCG, an older kernel without a tracepoint) is reported as absent
 * with the reason; it never fails the cell.
 */
#ifndef SB_PERFCOUNT_H
#define SB_PERFCOUNT_H

#include <jansson.h>
#include <sys/types.h>

struct perfcount;

/* Open and enable the counters on `pid` (which must not have started the
 * measured work yet). Never fails: what cannot be opened is recorded as
 * absent. NULL only on allocation failure; perfcount_result(NULL) and
 * reclaimlat_finish(NULL) report "not measured". */
struct perfcount *perfcount_open(pid_t pid);
/* counters.perf of result.json:
 *   {"scope": ..., "delta": {name: value}, "absent": {name: reason}}
 * or {"absent": reason} when the kernel has no perf events at all.
 * Values: task-clock and the time-based ones in ns, the rest in events,
 * scaled when the kernel multiplexed them. Call after the workload ended. */
json_t *perfcount_result(struct perfcount *pc);
void perfcount_free(struct perfcount *pc);

struct reclaimlat;

/* Start recording the reclaim tracepoints on every CPU. Never fails:
 * absent ones are recorded with the reason. */
struct reclaimlat *reclaimlat_open(void);
/* Drain the ring buffers; call often (every ~20 ms) during the phase. */
void reclaimlat_poll(struct reclaimlat *rl);
/* Stop; append metrics (reclaim.<kind>.stalls, .stall_ms (total),
 * .stall_p50_us, .stall_p99_us, .stall_max_us and event counts) to
 * `metrics` and return the details (what was absent and why, lost
 * records) for result.json's "reclaim_latency". */
json_t *reclaimlat_finish(struct reclaimlat *rl, json_t *metrics);
void reclaimlat_free(struct reclaimlat *rl);

/* Enable the kernel's perf scheduling hooks now, before the workload
 * starts, and keep them enabled until power-off: opening the first task
 * counter (and closing the last) patches kernel text (jump labels with
 * int3), which under multi-threaded TCG now and then Oopses the guest. Done
 * before the agent says the workload started, such a crash is retried by
 * the host like any boot crash instead of costing the cell. */
void perf_prearm(void);

/* Why perf events cannot be used on this kernel, or NULL if they can. */
const char *perf_absent_reason(void);

#endif
