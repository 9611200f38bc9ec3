/* Benchmark helper: write a synthetic run directory with many cells whose
 * result.json files have the size and shape of real ones (metrics, ~150
 * vmstat counters with deltas and after-values, periodic samples).
 *   perf_gen_run DIR NAME KERNELS TOPOLOGIES WORKLOADS ITERATIONS SEED
 * Not a test: it produces input for tests/perf/compare-scale.sh. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"

static const char *const metric_names[] = { "throughput", "lat_p50", "lat_p90", "lat_p99",
					    "lat_p99.9", "lat_max", "fault_in_time",
					    "free_time", "elapsed" };

static double rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return ((*s >> 8) & 0xffff) / 65536.0;
}

static void dump(const char *path, json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);

	if (!t || write_file_atomic(path, t, strlen(t))) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
	free(t);
	json_decref(j);
}

int main(int argc, char **argv)
{
	int nk, nt, nw, ni;
	unsigned seed;
	json_t *kernels = json_array();
	char *p;

	if (argc != 8) {
		fprintf(stderr, "usage: perf_gen_run DIR NAME KERNELS TOPOLOGIES WORKLOADS "
				"ITERATIONS SEED\n");
		return 2;
	}
	nk = atoi(argv[3]);
	nt = atoi(argv[4]);
	nw = atoi(argv[5]);
	ni = atoi(argv[6]);
	seed = (unsigned)atoi(argv[7]);
	mkdir_p(argv[1], 0755);
	for (int k = 0; k < nk; k++)
		json_array_append_new(kernels, json_pack("{s:s,s:s}", "name",
							 k ? "patched" : "base", "source",
							 "debian:6.12"));
	p = xasprintf("%s/run.json", argv[1]);
	dump(p, json_pack("{s:i,s:s,s:o,s:{s:s},s:{s:i,s:i},s:i,s:[]}", "schema_version", 1,
			  "name", argv[2], "kernels", kernels, "accel", "used", "tcg", "vm",
			  "memory_mb", 1024, "cpus", 2, "iterations", ni, "workloads"));
	free(p);
	for (int k = 0; k < nk; k++)
		for (int t = 0; t < nt; t++)
			for (int w = 0; w < nw; w++)
				for (int i = 1; i <= ni; i++) {
					char topo[32], wl[32];
					char *id, *dir;
					json_t *metrics = json_array(), *delta = json_object();
					json_t *after = json_object(), *samples = json_array();

					snprintf(topo, sizeof(topo), "topo%03d", t);
					snprintf(wl, sizeof(wl), "wl%03d", w);
					id = xasprintf("%s--%s--%s--%d", k ? "patched" : "base", topo,
						       wl, i);
					dir = xasprintf("%s/cells/%s", argv[1], id);
					mkdir_p(dir, 0755);
					for (size_t m = 0; m < 9; m++)
						json_array_append_new(metrics, json_pack(
							"{s:s,s:f,s:s,s:s}", "name", metric_names[m],
							"value", 100 * (1 + 0.1 * k) * (0.9 + 0.2 * rnd(&seed)),
							"unit", m ? "us" : "MB/s", "better",
							m ? "lower" : "higher"));
					for (int c = 0; c < 150; c++) {
						char name[32];

						snprintf(name, sizeof(name), c == 0 ? "pswpout" :
							 c == 1 ? "pswpin" : "counter_%03d", c);
						json_object_set_new(delta, name, json_integer(
							(json_int_t)(rnd(&seed) * 100000)));
						json_object_set_new(after, name, json_integer(
							(json_int_t)(rnd(&seed) * 10000000)));
					}
					for (int s = 0; s < 10; s++)
						json_array_append_new(samples, json_pack(
							"{s:f,s:I,s:I,s:I}", "t", s * 1.0,
							"swap_used", (json_int_t)(rnd(&seed) * 1e8),
							"memcg_current", (json_int_t)(rnd(&seed) * 1e8),
							"mem_free", (json_int_t)(rnd(&seed) * 1e9)));
					p = xasprintf("%s/result.json", dir);
					dump(p, json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:{s:{s:o,s:o}},s:o}",
							  "schema_version", 1, "status", "ok",
							  "kernel", k ? "patched" : "base",
							  "topology", topo, "workload", wl,
							  "iteration", i, "cell_id", id, "metrics",
							  metrics, "counters", "vmstat", "delta",
							  delta, "after", after, "samples", samples));
					free(p);
					free(dir);
					free(id);
				}
	return 0;
}
