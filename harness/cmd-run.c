#include "harness/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/store.h"
#include "common/strv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const executors[] = { "local", "slurm", NULL };
static struct run_opts run_o;
static int dry;
static struct strv sbatch_args;

/* --sbatch-arg may be given many times: each one is kept, in order. */
static int add_sbatch_arg(const char *arg, void *value)
{
	strv_add(value, arg);
	return 0;
}

static const struct opt_def run_opts[] = {
	OPT_STRING_S('o', "out", &run_o.out_dir, "DIR",
		     "results directory (default results/<spec name>-<time>)"),
	OPT_BOOL("resume", &run_o.resume, "finish an interrupted run in DIR, skipping finished cells\n"
		 "(valid results of this cell and spec); refused when the\n"
		 "spec changed since the run began"),
	OPT_BOOL("force", &run_o.force, "with --resume: resume although the spec changed"),
	OPT_ENUM("accel", &run_o.accel, "A", opt_accels,
		 "override the spec: auto (KVM only where it really boots),\nkvm or tcg"),
	OPT_INTEGER("iterations", &run_o.iterations, "N", 1, 1000,
		    "override the spec's iteration count"),
	OPT_BOOL("profile", &run_o.profile, "record a perf profile of every cell's measured phase\n"
		 "(as workloads[].profile; see 'swapbench profile')"),
	OPT_INTEGER("jobs", &run_o.jobs, "N", 1, 64,
		    "run N cells at once (at most the host's CPUs); for suites\n"
		    "with \"purpose\": \"functional\" (CI, smoke). Every result\n"
		    "records its concurrency"),
	OPT_BOOL("force-jobs", &run_o.force_jobs, "allow --jobs on a measurement suite (its\n"
		 "numbers are then marked as taken side by side)"),
	OPT_BOOL("dry-run", &dry, "check the spec and list its cells; fetch, build and boot\n"
		 "nothing"),
	OPT_CALLBACK("target-ci", &run_o.target_ci_pct, "PCT", opt_parse_pct,
		     "after the spec's iterations, add rounds (one cell per\n"
		     "kernel, interleaved) while the 95% CI half-width of a\n"
		     "headline metric (a workload's first metric, and elapsed)\n"
		     "is above PCT% of its mean; then say which did not get\n"
		     "there. Works with --resume; local executor only\n"
		     "(docs/noise.md)"),
	OPT_INTEGER("max-iterations", &run_o.max_iterations, "N", 2, 1000,
		    "cap for --target-ci (default 20)"),
	OPT_ENUM("executor", &run_o.executor, "E", executors,
		 "local (default): boot cells here, one after another;\n"
		 "slurm: kernels are prepared here, the cells run as one\n"
		 "Slurm job array (DIR on a file system the nodes share;\n"
		 "see docs/slurm.md)"),
	OPT_STRING("partition", &run_o.partition, "P", "slurm: the partition to submit to"),
	OPT_INTEGER("max-parallel", &run_o.max_parallel, "N", 1, 100000,
		    "slurm: at most N cells at once (sbatch --array=...%N)"),
	OPT_CALLBACK("sbatch-arg", &sbatch_args, "ARG", add_sbatch_arg,
		     "slurm: pass ARG to sbatch (repeatable)"),
	OPT_BOOL("detach", &run_o.detach, "slurm: return after submission; 'swapbench status\n"
		 "DIR' shows progress and writes the summary when all are in"),
	OPT_END(),
};

const struct cmd_def cmd_run_def = {
	"run", "SPEC", "run an experiment spec: boot each kernel per cell, store results",
	"Runs every cell (kernel x topology x workload x iteration) of the experiment\n"
	"spec SPEC (JSON, see configs/suites/ and docs/spec.md), each in its own VM.\n"
	"Writes DIR/run.json, DIR/cells/<cell>/{cell.json,result.json,console.log}\n"
	"and DIR/summary.json, then prints a short table per metric.\n",
	run_opts, 1, 1,
	"Exit: 0 all cells ok, 2 bad input (nothing written) or DIR in use, 3 some\n"
	"cells failed, crashed or timed out (the others are stored) or a result could\n"
	"not be written (disk full: the path is named), 4 some cells skipped, 130/143\n"
	"stopped by SIGINT/SIGTERM: the running VM is stopped at once, the cell marked\n"
	"interrupted, run.json and summary.json written (a second Ctrl-C kills; qemu\n"
	"never outlives swapbench).\n",
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

	strv_init(&sbatch_args);
	if ((rc = opt_parse(&cmd_run_def, argc, argv, &first)) != OPT_OK) {
		strv_release(&sbatch_args);
		return opt_exit(rc);
	}
	if ((run_o.partition || run_o.max_parallel || sbatch_args.n || run_o.detach) &&
	    (!run_o.executor || strcmp(run_o.executor, "slurm"))) {
		log_err("run: --partition, --max-parallel, --sbatch-arg and --detach need "
			"--executor slurm");
		strv_release(&sbatch_args);
		return EXIT_USAGE;
	}
	if (run_o.max_iterations && !(run_o.target_ci_pct > 0)) {
		log_err("run: --max-iterations needs --target-ci");
		strv_release(&sbatch_args);
		return EXIT_USAGE;
	}
	run_o.spec_path = argv[first];
	if (run_o.jobs > sysconf(_SC_NPROCESSORS_ONLN)) {
		log_err("run: --jobs %d: more than this host's %ld CPUs", run_o.jobs,
			sysconf(_SC_NPROCESSORS_ONLN));
		strv_release(&sbatch_args);
		return EXIT_USAGE;
	}
	if (run_o.target_ci_pct > 0 && run_o.executor && !strcmp(run_o.executor, "slurm")) {
		log_err("run: --target-ci is for the local executor (its rounds are decided "
			"here between cells)");
		strv_release(&sbatch_args);
		return EXIT_USAGE;
	}
	if ((run_o.jobs > 1 || run_o.force_jobs) && run_o.executor &&
	    !strcmp(run_o.executor, "slurm")) {
		log_err("run: --jobs and --force-jobs are for the local executor (with "
			"--executor slurm, use --max-parallel)");
		strv_release(&sbatch_args);
		return EXIT_USAGE;
	}
	run_o.sbatch_args = sbatch_args.n ? strv_argv(&sbatch_args) : NULL;
	rc = dry ? dry_run(&run_o) : runner_run(&run_o);
	strv_release(&sbatch_args);
	return rc;
}
