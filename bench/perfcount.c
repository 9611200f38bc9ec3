/* perf counters and reclaim stall latencies (see perfcount.h). */
#define _GNU_SOURCE
#include "bench/perfcount.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int quiet_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void perf_lib_init(void)
{
	static int done;

	if (!done) {
		/* libperf prints debug noise to stderr, the VM console. */
		libperf_init(quiet_print);
		done = 1;
	}
}

const char *perf_absent_reason(void)
{
	if (access("/proc/sys/kernel/perf_event_paranoid", F_OK))
		return "the kernel has no perf events (CONFIG_PERF_EVENTS is not set: no "
		       "/proc/sys/kernel/perf_event_paranoid)";
	return NULL;
}

void perf_prearm(void)
{
	static struct perf_evsel *dummy;
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
	};

	if (dummy || perf_absent_reason())
		return;
	perf_lib_init();
	dummy = perf_evsel__new(&attr);
	/* On this process (a task event: it arms the sched hooks); never
	 * closed, on purpose. */
	if (dummy && perf_evsel__open(dummy, NULL, NULL)) {
		perf_evsel__delete(dummy);
		dummy = NULL;
	}
}

/* Counters. */

struct counter_desc {
	const char *name;
	__u32 type;
	__u64 config;
};

static const struct counter_desc counters[] = {
	{ "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
	{ "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	{ "major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
	{ "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
	{ "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

struct perfcount {
	const char *absent;               /* the whole source, or NULL */
	struct perf_thread_map *threads;
	struct perf_evsel *evsel[NCOUNTERS];
	char *why[NCOUNTERS];             /* per counter when it could not open */
};

static char *open_reason(const struct counter_desc *d, int err)
{
	if (d->type == PERF_TYPE_HARDWARE && (err == ENOENT || err == EOPNOTSUPP ||
					      err == ENODEV))
		return xasprintf("no hardware PMU in this VM (%s; qemu TCG has none, KVM with "
				 "-cpu host does)", strerror(err));
	return xasprintf("perf_event_open failed: %s", strerror(err));
}

struct perfcount *perfcount_open(pid_t pid)
{
	struct perfcount *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pc->absent = perf_absent_reason();
	if (pc->absent)
		return pc;
	perf_lib_init();
	pc->threads = perf_thread_map__new_array(1, &pid);
	if (!pc->threads) {
		pc->absent = "cannot allocate a libperf thread map";
		return pc;
	}
	for (size_t i = 0; i < NCOUNTERS; i++) {
		struct perf_event_attr attr = {
			.size = sizeof(attr),
			.type = counters[i].type,
			.config = counters[i].config,
			.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
				       PERF_FORMAT_TOTAL_TIME_RUNNING,
			/* Every process the workload forks, folded in at its exit. */
			.inherit = 1,
		};
		int rc;

		pc->evsel[i] = perf_evsel__new(&attr);
		if (!pc->evsel[i]) {
			pc->why[i] = xasprintf("cannot allocate a libperf evsel");
			continue;
		}
		rc = perf_evsel__open(pc->evsel[i], NULL, pc->threads);
		if (rc) {
			pc->why[i] = open_reason(&counters[i], -rc);
			perf_evsel__delete(pc->evsel[i]);
			pc->evsel[i] = NULL;
		}
	}
	return pc;
}

json_t *perfcount_result(struct perfcount *pc)
{
	json_t *delta = json_object(), *absent = json_object(), *out;

	if (!pc)
		return json_pack("{s:s}", "absent", "not measured: the workload process could not "
				 "be set up (see error)");
	if (pc->absent) {
		json_decref(delta);
		json_decref(absent);
		return json_pack("{s:s}", "absent", pc->absent);
	}
	for (size_t i = 0; i < NCOUNTERS; i++) {
		struct perf_counts_values v = { { { 0 } } };
		__s8 scaled = 0;

		if (!pc->evsel[i]) {
			json_object_set_new(absent, counters[i].name, json_string(pc->why[i]));
			continue;
		}
		if (perf_evsel__read(pc->evsel[i], 0, 0, &v)) {
			json_object_set_new(absent, counters[i].name,
					    json_sprintf("read failed: %s", strerror(errno)));
			continue;
		}
		perf_counts_values__scale(&v, true, &scaled);
		if (scaled < 0) {
			json_object_set_new(absent, counters[i].name,
					    json_string("never scheduled on the PMU"));
			continue;
		}
		json_object_set_new(delta, counters[i].name, json_integer((json_int_t)v.val));
	}
	out = json_pack("{s:s,s:o}", "scope", "workload processes (inherited counters)",
			"delta", delta);
	if (json_object_size(absent))
		json_object_set_new(out, "absent", absent);
	else
		json_decref(absent);
	return out;
}

void perfcount_free(struct perfcount *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < NCOUNTERS; i++) {
		if (pc->evsel[i]) {
			perf_evsel__close(pc->evsel[i]);
			perf_evsel__delete(pc->evsel[i]);
		}
		free(pc->why[i]);
	}
	perf_thread_map__put(pc->threads);
	free(pc);
}

/* Reclaim and swap-path tracepoints. */

struct tp_desc {
	const char *metric;   /* metric prefix */
	const char *system;
	const char *begin;    /* a begin/end pair: stall latencies */
	const char *end;      /* NULL: a plain event count */
};

/* Version-aware by construction: each tracepoint is looked up in tracefs,
 * and the kernel that lacks one gets it reported absent. */
static const struct tp_desc tps[] = {
	/* Reclaim a task did itself because the system ran short. */
	{ "reclaim.direct", "vmscan", "mm_vmscan_direct_reclaim_begin",
	  "mm_vmscan_direct_reclaim_end" },
	/* Reclaim a task did because its memcg hit memory.high/max. */
	{ "reclaim.memcg", "vmscan", "mm_vmscan_memcg_reclaim_begin",
	  "mm_vmscan_memcg_reclaim_end" },
	/* Folios reclaim wrote out (anon ones go to swap): the swap-out path.
	 * 6.0+ names it write_folio, older kernels writepage: one metric. */
	{ "reclaim.writeout", "vmscan", "mm_vmscan_write_folio|mm_vmscan_writepage", NULL },
	/* kswapd going to work: background reclaim, for context. */
	{ "reclaim.kswapd_wake", "vmscan", "mm_vmscan_kswapd_wake", NULL },
};
#define NTPS (sizeof(tps) / sizeof(tps[0]))

#define MAX_STALLS (1u << 20)  /* kept for percentiles; counts stay exact */
#define TID_SLOTS 4096

struct tp_state {
	int begin_id, end_id;
	char *absent;
	unsigned long long count, total_ns, max_ns;
	unsigned long long *stalls;
	size_t nstalls, cap;
	/* Open begins: tid + 1 (0 = free) and begin time, see tid_slot(). */
	unsigned int tid[TID_SLOTS];
	unsigned long long t0[TID_SLOTS];
};

struct reclaimlat {
	const char *absent;
	struct perf_evlist *evlist;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct tp_state tp[NTPS];
	unsigned long long lost, samples;
};

static const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing", NULL };

	for (int i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/events", dirs[i]);
		int ok = is_dir(p);

		free(p);
		if (ok)
			return dirs[i];
	}
	return NULL;
}

/* The id of the first of "name|other|..." the kernel has, or -1. */
static int tp_id(const char *tracefs, const char *system, const char *names)
{
	char *copy = xstrdup(names), *save = NULL;
	int id = -1;

	for (char *n = strtok_r(copy, "|", &save); n && id < 0; n = strtok_r(NULL, "|", &save)) {
		char *p = xasprintf("%s/events/%s/%s/id", tracefs, system, n);
		FILE *f = fopen(p, "re");

		free(p);
		if (f) {
			if (fscanf(f, "%d", &id) != 1)
				id = -1;
			fclose(f);
		}
	}
	free(copy);
	return id;
}

static int add_tp(struct reclaimlat *rl, int id)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_TRACEPOINT,
		.config = (__u64)id,
		.sample_period = 1,
		/* The raw record starts with the tracepoint id (common_type):
		 * that tells events apart in the one shared ring buffer. */
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW,
		.disabled = 1,
	};
	struct perf_evsel *e = perf_evsel__new(&attr);

	if (!e)
		return -ENOMEM;
	perf_evlist__add(rl->evlist, e);
	return 0;
}

struct reclaimlat *reclaimlat_open(void)
{
	struct reclaimlat *rl = calloc(1, sizeof(*rl));
	const char *tracefs;
	int n = 0, rc;

	if (!rl)
		return NULL;
	rl->absent = perf_absent_reason();
	if (rl->absent)
		return rl;
	tracefs = tracefs_dir();
	if (!tracefs) {
		rl->absent = "the kernel has no tracefs (CONFIG_FTRACE/CONFIG_TRACING not set, "
			     "or tracefs not mountable): no tracepoints";
		return rl;
	}
	perf_lib_init();
	rl->evlist = perf_evlist__new();
	if (!rl->evlist) {
		rl->absent = "cannot allocate a libperf evlist";
		return rl;
	}
	for (size_t i = 0; i < NTPS; i++) {
		struct tp_state *s = &rl->tp[i];

		s->begin_id = tp_id(tracefs, tps[i].system, tps[i].begin);
		s->end_id = tps[i].end ? tp_id(tracefs, tps[i].system, tps[i].end) : -1;
		if (s->begin_id < 0 || (tps[i].end && s->end_id < 0)) {
			s->absent = xasprintf("this kernel has no tracepoint %s/%s",
					      tps[i].system, s->begin_id < 0 ? tps[i].begin
									   : tps[i].end);
			continue;
		}
		if (add_tp(rl, s->begin_id) || (tps[i].end && add_tp(rl, s->end_id))) {
			rl->absent = "cannot allocate a libperf evsel";
			return rl;
		}
		n++;
	}
	if (!n) {
		rl->absent = "this kernel has none of the reclaim tracepoints";
		return rl;
	}
	rl->cpus = perf_cpu_map__new_online_cpus();
	rl->threads = perf_thread_map__new_dummy();
	if (!rl->cpus || !rl->threads) {
		rl->absent = "cannot allocate libperf cpu/thread maps";
		return rl;
	}
	perf_evlist__set_maps(rl->evlist, rl->cpus, rl->threads);
	rc = perf_evlist__open(rl->evlist);
	if (rc) {
		static char why[160];

		snprintf(why, sizeof(why), "perf_event_open of the tracepoints failed: %s",
			 strerror(-rc));
		rl->absent = why;
		return rl;
	}
	/* 64 pages per CPU: ~6000 records between two 20 ms drains. */
	rc = perf_evlist__mmap(rl->evlist, 64);
	if (rc) {
		static char why[160];

		snprintf(why, sizeof(why), "mmap of the perf ring buffers failed: %s",
			 strerror(errno));
		perf_evlist__close(rl->evlist);
		rl->absent = why;
		return rl;
	}
	perf_evlist__enable(rl->evlist);
	return rl;
}

/* Open begins are kept per thread in a direct-mapped table: a thread
 * reclaims synchronously, so it has at most one open stall per kind, and
 * two threads whose tids collide mod TID_SLOTS at the same moment lose one
 * stall, which the "records"/"lost_records" info lets a reader judge. */
static unsigned int tid_slot(unsigned int tid)
{
	return tid % TID_SLOTS;
}

static void on_sample(struct reclaimlat *rl, unsigned int tid, unsigned long long t, int id)
{
	for (size_t i = 0; i < NTPS; i++) {
		struct tp_state *s = &rl->tp[i];
		unsigned int h;

		if (s->absent)
			continue;
		if (id == s->begin_id && !tps[i].end) {
			s->count++;
		} else if (id == s->begin_id) {
			/* A begin with no end seen (lost records): restart. */
			h = tid_slot(tid);
			s->tid[h] = tid + 1;
			s->t0[h] = t;
		} else if (id == s->end_id) {
			h = tid_slot(tid);
			if (s->tid[h] != tid + 1)
				continue; /* began before the phase, or lost */
			s->tid[h] = 0;
			if (t >= s->t0[h]) {
				unsigned long long d = t - s->t0[h];

				s->count++;
				s->total_ns += d;
				if (d > s->max_ns)
					s->max_ns = d;
				if (s->nstalls < MAX_STALLS) {
					if (s->nstalls == s->cap) {
						size_t cap = s->cap ? 2 * s->cap : 1024;
						void *p = realloc(s->stalls, cap * sizeof(*s->stalls));

						if (!p)
							continue;
						s->stalls = p;
						s->cap = cap;
					}
					s->stalls[s->nstalls++] = d;
				}
			}
		}
	}
}

void reclaimlat_poll(struct reclaimlat *rl)
{
	struct perf_mmap *map;

	if (!rl || rl->absent)
		return;
	perf_evlist__for_each_mmap(rl->evlist, map, false) {
		union perf_event *ev;

		if (perf_mmap__read_init(map) < 0)
			continue;
		while ((ev = perf_mmap__read_event(map))) {
			if (ev->header.type == PERF_RECORD_LOST) {
				rl->lost += ev->lost.lost;
			} else if (ev->header.type == PERF_RECORD_SAMPLE &&
				   ev->header.size >= sizeof(ev->header) + 20 + 2) {
				/* pid, tid (u32 each), time (u64), raw size (u32), raw. */
				const unsigned char *p = (const unsigned char *)ev + sizeof(ev->header);
				uint32_t tid, rawsz;
				uint64_t t;
				uint16_t type;

				memcpy(&tid, p + 4, 4);
				memcpy(&t, p + 8, 8);
				memcpy(&rawsz, p + 16, 4);
				if (rawsz >= 2) {
					memcpy(&type, p + 20, 2);
					rl->samples++;
					on_sample(rl, tid, t, type);
				}
			}
			perf_mmap__consume(map);
		}
		perf_mmap__read_done(map);
	}
}

static int ull_cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static void metric(json_t *metrics, const char *prefix, const char *name, double v,
		   const char *unit)
{
	json_array_append_new(metrics, json_pack("{s:s+,s:f,s:s,s:s}", "name", prefix, name,
						 "value", v, "unit", unit, "better", "lower"));
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const unsigned long long *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1];
}

json_t *reclaimlat_finish(struct reclaimlat *rl, json_t *metrics)
{
	json_t *info = json_object(), *absent = json_object();

	if (!rl) {
		json_object_set_new(info, "absent", json_string("not measured: the workload process "
								"could not be set up (see error)"));
		json_decref(absent);
		return info;
	}
	if (rl->absent) {
		json_object_set_new(info, "absent", json_string(rl->absent));
		json_decref(absent);
		return info;
	}
	reclaimlat_poll(rl);
	perf_evlist__disable(rl->evlist);
	reclaimlat_poll(rl);
	for (size_t i = 0; i < NTPS; i++) {
		struct tp_state *s = &rl->tp[i];

		if (s->absent) {
			json_object_set_new(absent, tps[i].metric, json_string(s->absent));
			continue;
		}
		if (!tps[i].end) {
			metric(metrics, tps[i].metric, ".events", (double)s->count, "events");
			continue;
		}
		metric(metrics, tps[i].metric, ".stalls", (double)s->count, "stalls");
		metric(metrics, tps[i].metric, ".stall_ms", s->total_ns / 1e6, "ms");
		if (s->nstalls) {
			qsort(s->stalls, s->nstalls, sizeof(*s->stalls), ull_cmp);
			metric(metrics, tps[i].metric, ".stall_p50_us",
			       pct(s->stalls, s->nstalls, 50) / 1e3, "us");
			metric(metrics, tps[i].metric, ".stall_p99_us",
			       pct(s->stalls, s->nstalls, 99) / 1e3, "us");
			metric(metrics, tps[i].metric, ".stall_max_us", s->max_ns / 1e3, "us");
		}
		if (s->nstalls < s->count) {
			char key[96];

			snprintf(key, sizeof(key), "%s.percentiles_over_first", tps[i].metric);
			json_object_set_new(info, key, json_integer((json_int_t)s->nstalls));
		}
	}
	json_object_set_new(info, "records", json_integer((json_int_t)rl->samples));
	json_object_set_new(info, "lost_records", json_integer((json_int_t)rl->lost));
	json_object_set_new(info, "scope", json_string("system-wide, all CPUs"));
	if (json_object_size(absent))
		json_object_set_new(info, "absent_tracepoints", absent);
	else
		json_decref(absent);
	return info;
}

void reclaimlat_free(struct reclaimlat *rl)
{
	if (!rl)
		return;
	if (rl->evlist) {
		perf_evlist__delete(rl->evlist); /* unmaps, closes, deletes the evsels */
	}
	perf_cpu_map__put(rl->cpus);
	perf_thread_map__put(rl->threads);
	for (size_t i = 0; i < NTPS; i++) {
		free(rl->tp[i].absent);
		free(rl->tp[i].stalls);
	}
	free(rl);
}
