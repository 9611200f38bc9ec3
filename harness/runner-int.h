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

/* How one kernel boots in this run. */
struct kboot {
	char *pvh;        /* the ELF for qemu's PVH entry, or NULL: the bzImage */
	char **initrds;   /* per topology */
};

/* One run in progress: what its phases hand each other. */
struct run {
	const struct run_opts *o;
	struct spec s;
	struct kernel *kernels;
	json_t **kids;  /* kernel identities when read back from run.json (cell, status) */
	struct kboot *kb; /* per kernel */
	char **kerrs;  /* why a kernel could not be built, per kernel */
	char **tskip;  /* why kernel k cannot run topology t, at [k * ntopos + t] */
	char *agent, *out, *note, *qv;
	const char *accel;
	struct store_cell *cells;
	json_t *manifest, *finals;
	size_t ncells, done;
	int tty, nok, nfail, nskip;
	char *hash;    /* the spec's hash (spec_sha256 of run.json and cells) */
	int lock_fd;   /* the run directory's lock, -1 before it is taken */
	int store_err; /* a result, run.json or summary.json could not be written */
	int jobs;       /* cells at once (--jobs; local executor) */
};

/* The signal (SIGINT/SIGTERM) that stopped the cells, 0 while they run. */
extern volatile sig_atomic_t runner_interrupted;

/* store_write_json that logs a failure and sets *store_err. */
int run_write_json(const char *path, json_t *j, int *store_err);

/* Cells from `from` on, in order (runner-pool.c): until done, interrupted
 * or a result cannot be stored; with --jobs N, up to N at once. ran and t0
 * carry over to the --target-ci rounds (ETA). */
void run_cells(struct run *r, size_t from, size_t *ran, double t0);
/* --target-ci: more rounds until the headline CIs are narrow enough. */
void target_ci_rounds(struct run *r, size_t *ran, double t0);

/* Whether cell i boots a VM (else it is recorded at once: its kernel failed
 * to build, or cannot run its topology). */
int cell_boots(const struct run *r, size_t i);
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
