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

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench run SPEC [--out DIR] [--resume] [--accel auto|kvm|tcg]\n"
		"                      [--iterations N] [--dry-run]\n"
		"                      [--target-ci PCT [--max-iterations N]]\n\n"
		"Runs every cell (kernel x topology x workload x iteration) of the experiment\n"
		"spec SPEC (JSON, see configs/suites/ and docs/spec.md), each in its own VM.\n"
		"Writes DIR/run.json, DIR/cells/<cell>/{cell.json,result.json,console.log}\n"
		"and DIR/summary.json, then prints a short table per metric.\n\n"
		"  --out DIR        results directory (default results/<spec name>-<time>)\n"
		"  --resume         finish an interrupted run in DIR, skipping finished cells\n"
		"  --accel A        override the spec: auto (KVM only where it really boots),\n"
		"                   kvm or tcg\n"
		"  --iterations N   override the spec's iteration count\n"
		"  --dry-run        check the spec and list its cells; fetch, build and boot\n"
		"                   nothing\n"
		"  --target-ci PCT  after the spec's iterations, add rounds (one cell per\n"
		"                   kernel, interleaved) while the 95%% CI half-width of a\n"
		"                   headline metric (a workload's first metric, and elapsed)\n"
		"                   is above PCT%% of its mean; then say which did not get\n"
		"                   there. Works with --resume (docs/noise.md)\n"
		"  --max-iterations N  cap for --target-ci (default 20, at least 2)\n\n"
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
		{ "target-ci", required_argument, NULL, 'T' },
		{ "max-iterations", required_argument, NULL, 'M' },
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
		case 'T': {
			char *end;

			o.target_ci_pct = strtod(optarg, &end);
			if (*end || end == optarg || !(o.target_ci_pct > 0) ||
			    o.target_ci_pct > 1000) {
				fprintf(stderr, "swapbench run: --target-ci: expected a percentage "
					"above 0, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'M':
			o.max_iterations = atoi(optarg);
			if (o.max_iterations < 2 || o.max_iterations > 1000) {
				fprintf(stderr, "swapbench run: --max-iterations: expected 2..1000, "
					"got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
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
	if (o.max_iterations && !(o.target_ci_pct > 0)) {
		fprintf(stderr, "swapbench run: --max-iterations needs --target-ci\n");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		run_usage(stderr);
		return EXIT_USAGE;
	}
	o.spec_path = argv[optind];
	return dry ? dry_run(&o) : runner_run(&o);
}
