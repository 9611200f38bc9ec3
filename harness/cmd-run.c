#include "harness/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench run SPEC [--out DIR] [--resume] [--accel auto|kvm|tcg]\n"
		"                      [--iterations N] [--jobs N [--force-jobs]] [--dry-run]\n\n"
		"Runs every cell (kernel x topology x workload x iteration) of the experiment\n"
		"spec SPEC (JSON, see configs/suites/ and docs/spec.md), each in its own VM.\n"
		"Writes DIR/run.json, DIR/cells/<cell>/{cell.json,result.json,console.log}\n"
		"and DIR/summary.json, then prints a short table per metric.\n\n"
		"  --out DIR        results directory (default results/<spec name>-<time>)\n"
		"  --resume         finish an interrupted run in DIR, skipping finished cells\n"
		"  --accel A        override the spec: auto (KVM only where it really boots),\n"
		"                   kvm or tcg\n"
		"  --iterations N   override the spec's iteration count\n"
		"  --jobs N         run N cells at once (at most the host's CPUs); for suites\n"
		"                   with \"purpose\": \"functional\" (CI, smoke). Every result\n"
		"                   records its concurrency\n"
		"  --force-jobs     allow --jobs on a measurement suite (its numbers are then\n"
		"                   marked as taken side by side)\n"
		"  --dry-run        check the spec and list its cells; fetch, build and boot\n"
		"                   nothing\n\n"
		"Exit: 0 all cells ok, 2 bad input (nothing written), 3 some cells failed,\n"
		"crashed or timed out (the others are stored), 4 some cells skipped.\n");
}

/* The cell matrix of a valid spec, in run order; nothing fetched or booted. */
static int dry_run(const struct run_opts *o)
{
	struct spec s;
	struct store_cell *cells;
	size_t n;

	if (spec_load(o->spec_path, &s)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (o->iterations > 0)
		s.iterations = o->iterations;
	n = store_cells(&s, NULL, &cells);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", cells[i].id);
	store_cells_free(cells, n);
	fprintf(stderr, "%s: valid; %zu cells (%zu kernels x %zu topologies x %zu workloads x "
		"%d iterations), VM %uM x %u CPUs\n", s.path, n, s.nkernels, s.ntopos,
		s.nworkloads, s.iterations, s.vm_mem_mb, s.vm_cpus);
	spec_release(&s);
	return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "resume", no_argument, NULL, 'r' },
		{ "accel", required_argument, NULL, 'a' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "force-jobs", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { 0 };
	int c, dry = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out_dir = optarg; break;
		case 'r': o.resume = 1; break;
		case 'n': dry = 1; break;
		case 'a': o.accel = optarg; break;
		case 'i':
			o.iterations = atoi(optarg);
			if (o.iterations < 1 || o.iterations > 1000) {
				fprintf(stderr, "swapbench run: --iterations: expected 1..1000, "
					"got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j': {
			long cpus = sysconf(_SC_NPROCESSORS_ONLN);
			char *end;
			long j = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end || j < 1 || j > 64) {
				fprintf(stderr, "swapbench run: --jobs: expected a number of cells "
					"from 1 to 64, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			if (j > cpus) {
				fprintf(stderr, "swapbench run: --jobs %ld: more than this host's %ld "
					"CPUs\n", j, cpus);
				return EXIT_USAGE;
			}
			o.jobs = (int)j;
			break;
		}
		case 'f': o.force_jobs = 1; break;
		case 'h': run_usage(stdout); return EXIT_OK;
		default: run_usage(stderr); return EXIT_USAGE;
		}
	}
	if (o.accel && strcmp(o.accel, "auto") && strcmp(o.accel, "kvm") &&
	    strcmp(o.accel, "tcg")) {
		fprintf(stderr, "swapbench run: --accel: expected auto, kvm or tcg, got '%s'\n",
			o.accel);
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		run_usage(stderr);
		return EXIT_USAGE;
	}
	o.spec_path = argv[optind];
	return dry ? dry_run(&o) : runner_run(&o);
}
