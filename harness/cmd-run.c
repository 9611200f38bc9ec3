#include "harness/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct run_opts run_o;
static int dry;

static const struct opt_def run_opts[] = {
	OPT_STRING_S('o', "out", &run_o.out_dir, "DIR",
		     "results directory (default results/<spec name>-<time>)"),
	OPT_BOOL("resume", &run_o.resume, "finish an interrupted run in DIR, skipping finished cells"),
	OPT_ENUM("accel", &run_o.accel, "A", opt_accels,
		 "override the spec: auto (KVM only where it really boots),\nkvm or tcg"),
	OPT_INTEGER("iterations", &run_o.iterations, "N", 1, 1000,
		    "override the spec's iteration count"),
	OPT_INTEGER("jobs", &run_o.jobs, "N", 1, 64,
		    "run N cells at once (at most the host's CPUs); for suites\n"
		    "with \"purpose\": \"functional\" (CI, smoke). Every result\n"
		    "records its concurrency"),
	OPT_BOOL("force-jobs", &run_o.force_jobs, "allow --jobs on a measurement suite (its\n"
		 "numbers are then marked as taken side by side)"),
	OPT_BOOL("dry-run", &dry, "check the spec and list its cells; fetch, build and boot\n"
		 "nothing"),
	OPT_END(),
};

const struct cmd_def cmd_run_def = {
	"run", "SPEC", "run an experiment spec: boot each kernel per cell, store results",
	"Runs every cell (kernel x topology x workload x iteration) of the experiment\n"
	"spec SPEC (JSON, see configs/suites/ and docs/spec.md), each in its own VM.\n"
	"Writes DIR/run.json, DIR/cells/<cell>/{cell.json,result.json,console.log}\n"
	"and DIR/summary.json, then prints a short table per metric.\n",
	run_opts, 1, 1,
	"Exit: 0 all cells ok, 2 bad input (nothing written), 3 some cells failed,\n"
	"crashed or timed out (the others are stored), 4 some cells skipped.\n",
};

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
	int rc, first;

	if ((rc = opt_parse(&cmd_run_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	run_o.spec_path = argv[first];
	if (run_o.jobs > sysconf(_SC_NPROCESSORS_ONLN)) {
		fprintf(stderr, "swapbench run: --jobs %d: more than this host's %ld CPUs\n",
			run_o.jobs, sysconf(_SC_NPROCESSORS_ONLN));
		return EXIT_USAGE;
	}
	return dry ? dry_run(&run_o) : runner_run(&run_o);
}
