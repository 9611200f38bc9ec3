/* Runs: expand a spec into cells, boot each, store everything under one
 * results directory (run.json, cells/<id>/..., summary.json). */
#ifndef SB_RUNNER_H
#define SB_RUNNER_H

#include <jansson.h>

#include "harness/kernel.h"
#include "harness/spec.h"
#include "common/strv.h"

enum {
	EXIT_OK = 0,
	EXIT_REGRESSION = 1,
	EXIT_USAGE = 2,
	EXIT_CELLS_FAILED = 3,
	EXIT_SKIPPED = 4,
};

struct run_opts {
	const char *spec_path;
	const char *out_dir;   /* NULL: results/<spec>-<timestamp> */
	int resume;
	int force;             /* --resume even though the spec changed */
	const char *accel;     /* overrides the spec when set */
	int iterations;        /* overrides the spec when > 0 */
	int profile;           /* profile every workload (run --profile) */
	const char *executor;  /* "local" (NULL) or "slurm" */
	const char *partition; /* slurm: sbatch --partition */
	int max_parallel;      /* slurm: array throttle (%N); 0 = no limit */
	const char *const *sbatch_args; /* slurm: extra sbatch arguments, NULL-ended */
	int detach;            /* slurm: return after submission */
	int jobs;              /* cells at once (0, 1: one after another) */
	int force_jobs;        /* allow jobs > 1 for a measurement suite */
	double target_ci_pct;  /* > 0: add rounds until headline CIs are this tight */
	int max_iterations;    /* cap for target_ci_pct; 0: TARGET_CI_MAX_ITERATIONS */
	int aa;                /* A/A: aa_kernel (NULL: the first) twice, as A and B */
	const char *aa_kernel;
};

/* Exit codes of a run stopped by SIGINT / SIGTERM (128 + signal). */
#define EXIT_SIGINT 130
#define EXIT_SIGTERM 143
/* --target-ci without --max-iterations stops here. */
#define TARGET_CI_MAX_ITERATIONS 20

/* The run directory's folder of executor inputs: the frozen spec and the
 * kernels' artifacts, so a cell can run on another machine. */
#define RUN_INPUTS "inputs"

/* Returns a process exit code (EXIT_*); messages already printed. */
int runner_run(const struct run_opts *opts);
/* Run cell INDEX of a run directory prepared by an executor (what a Slurm
 * array task does); writes its result.json. */
int runner_cell(const char *run_dir, const char *index);
/* Progress of a run directory; with finalize, write summary.json and the
 * final run.json once no job of the run is active. */
int runner_status(const char *run_dir, int finalize);

/* Pieces shared with `swapbench boot`. */
/* Path of the guest agent binary (next to this executable). Caller frees. */
char *agent_path(void);
/* cell.json for a cell: mode "run" with a workload, or "command" with argv. */
json_t *cell_json(const char *cell_id, const char *mode, const json_t *topo,
		  const struct spec_workload *wl, const char *const *command,
		  int sample_interval_ms);
/* Create device backing files and collect qemu arguments for a topology. */
int topology_prepare(const json_t *topo, const char *cell_dir, struct strv *qemu_args);
void topology_discard(const json_t *topo, const char *cell_dir);

#endif
