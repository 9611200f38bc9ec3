/* What the runner's phases and its executors (local, exec-slurm.c) share.
 * Not for other modules: they use runner.h. */
#ifndef SB_RUNNER_INT_H
#define SB_RUNNER_INT_H

#include <jansson.h>
#include <signal.h>
#include <stdio.h>

#include "harness/kernel.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/store.h"

/* One run in progress: what its phases hand each other. */
struct run {
	const struct run_opts *o;
	struct spec s;
	struct kernel *kernels;
	json_t **kids;  /* kernel identities when read back from run.json (cell, status) */
	char **initrds;
	char **kerrs;  /* why a kernel could not be built, per kernel */
	char *agent, *out, *note, *qv;
	const char *accel;
	struct store_cell *cells;
	json_t *manifest, *finals;
	size_t ncells, done;
	int tty, nok, nfail, nskip;
};

/* Set by SIGINT/SIGTERM while cells run. */
extern volatile sig_atomic_t runner_interrupted;

/* Run cell i of r here (boot it, or record its kernel's build failure) and
 * store its result.json. Returns the final result (caller owns it). */
json_t *run_cell_here(struct run *r, size_t i);
/* Count a cell's final result into r (ok / skipped / failed) and keep it. */
void run_tally(struct run *r, json_t *final);
/* The progress line of the cell loop. */
void run_progress(int tty, size_t done, size_t total, const struct store_cell *c,
		  const struct spec *s, double elapsed, double per_cell, const char *what);
/* summary.json, the final run.json and the table; the exit code. */
int run_finish(struct run *r);

/* The Slurm executor (exec-slurm.c): cells as one job array. */
int slurm_check(const struct run_opts *o);
int slurm_run_cells(struct run *r);
/* For `swapbench status`: counts from squeue for the run's jobs; returns 1
 * when jobs of the run are still pending or running. */
int slurm_jobs_active(const json_t *manifest, size_t *running, size_t *pending);

#endif
