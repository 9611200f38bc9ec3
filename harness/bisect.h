/* Automatic bisection of a performance regression: which commit between a
 * good and a bad one moved a metric.
 *
 * Each step builds the midpoint through the kernel cache, runs the suite's
 * cell of the metric (one topology, one workload) and decides by
 * repeat-until-confident: iterations are added in batches until Wald's
 * sequential probability ratio test says, with the stated error rates, that
 * the step's mean is the good side's or the bad side's, up to a maximum
 * (then the step is skipped, like `git bisect skip`, as is a step whose
 * kernel does not build or whose cells fail). See docs/nightly.md.
 */
#ifndef SB_BISECT_H
#define SB_BISECT_H

#include <jansson.h>
#include <stddef.h>

struct history;

/* ---- the sequential decision rule ---- */

enum sprt_decision { SPRT_MORE, SPRT_GOOD, SPRT_BAD, SPRT_UNDECIDED };

/* Wald's SPRT of H0: mean = mu_good against H1: mean = mu_bad for normal
 * observations with a common sigma (pooled from the two ends' samples).
 * alpha: probability of calling a good step bad; beta: of calling a bad
 * step good. The bounds ln((1-beta)/alpha) and ln(beta/(1-alpha)) hold
 * those rates when the model holds; tests/unit/test_bisect.c measures them
 * on simulated data with sigma estimated as here. */
struct sprt {
	double mu_good, mu_bad, sigma;
	double alpha, beta;
	int min_n, max_n;  /* decide no earlier than min_n, give up at max_n */
};

/* From the two ends' samples (each n >= 2). -EINVAL with sb_err() when a
 * sample is too small, or the means are equal. */
int sprt_init(struct sprt *s, const double *good, size_t ng, const double *bad, size_t nb,
	      double alpha, double beta, int min_n, int max_n);
/* Decide on the observations x[0..n-1]; *llr (may be NULL) gets the log
 * likelihood ratio (bad over good). */
enum sprt_decision sprt_decide(const struct sprt *s, const double *x, size_t n, double *llr);
const char *sprt_decision_name(enum sprt_decision d);

/* ---- the search ---- */

enum bisect_mark { BISECT_UNKNOWN, BISECT_GOOD, BISECT_BAD, BISECT_SKIP };

/* Commits c[0..n-1] oldest first after the good base; c[n-1] is the bad
 * head (marked bad). Returns the index to test next, or -1 when done: then
 * *first_bad is the first bad index when it is known, or -1 when skipped
 * commits leave it ambiguous (*lo_out..*hi_out: the candidates). */
int bisect_next(const enum bisect_mark *marks, int n, int *first_bad, int *lo_out,
		int *hi_out);

/* ---- git ---- */

/* git [-C tree] args... within timeout_s. 0 with the output (trailing
 * white space stripped) in *out when out is non-NULL. Non-zero exit: -EIO,
 * -ETIMEDOUT, or spawn's -errno; then *err (when non-NULL) gets git's
 * output and message (stderr is captured with stdout when err is given,
 * else discarded). */
int git_run(const char *tree, const char *const *args, int timeout_s, char **out,
	    char **err);

/* The range to bisect in tree: when good is an ancestor of bad, base is
 * good and *rebased 0; otherwise (the branch was rebased) base is their
 * merge base and *rebased 1. *commits: array of ids in base..bad, oldest
 * first (git rev-list --reverse --topo-order). -errno with sb_err() (no
 * merge base, unknown commit). */
int bisect_range(const char *tree, const char *good, const char *bad, char **base,
		 int *rebased, json_t **commits);

/* The commit id a revision names in tree, or NULL. */
char *git_rev_parse(const char *tree, const char *rev);

/* {commit, subject, author, date} of a commit, or NULL. */
json_t *git_commit_info(const char *tree, const char *commit);

/* Write the suite with its branch kernel (the git kernel named kernel, or
 * the first git kernel) at commit of tree, relative paths made absolute.
 * topology and workload non-NULL: only that cell, and only the branch
 * kernel (a bisection step); NULL: every kernel and cell (a night). */
int bisect_suite_at(const char *suite, const char *kernel, const char *tree,
		    const char *commit, const char *topology, const char *workload,
		    const char *path);

/* ---- a whole bisection ---- */

struct bisect_opts {
	const char *tree;      /* the git tree (commits must be in it) */
	const char *suite;     /* spec whose git kernel is the branch */
	const char *kernel;    /* that kernel's name; NULL: the first git kernel */
	const char *good, *bad;
	const char *topology, *workload, *metric;
	const char *dir;       /* where step runs and bisect.json go */
	double alpha, beta;
	int min_n, max_n, batch;
	int ends_n;            /* iterations of each end when not given */
	json_t *good_values;   /* the ends' samples when known (nightly), else NULL */
	json_t *bad_values;
	struct history *db;    /* NULL: no history */
	long long night_id;    /* 0: none */
	int resume;
	/* Bisect a build failure instead of a metric: a step is bad when its
	 * kernel does not build, good when it does; nothing is run, and
	 * topology, workload, metric and the SPRT fields are unused. */
	int build_only;
	/* Bisect a failing cell instead of a metric (a kernel that panics at
	 * boot, crashes or hangs in the topology/workload's cell): each step
	 * runs that cell once; bad when it fails (crashed, timeout, failed),
	 * good when it is ok; a step that does not build is skipped. metric
	 * and the SPRT fields are unused. */
	int cells_only;
};

/* The name of a bisection's mode: "build", "cells" or "metric". */
const char *bisect_mode(const struct bisect_opts *o);

/* Run it (a metric, with build_only a build failure, with cells_only a
 * failing cell). Returns 0 when it
 * finished (found or ambiguous; see (*result)["status"]), or -errno.
 * *result is bisect.json's content (written in dir after every step, so an
 * interrupted bisection resumes). -EINTR when interrupted (SIGINT/SIGTERM):
 * the steps done are kept. */
int bisect_run(const struct bisect_opts *o, json_t **result);

struct run_opts;

/* runner_run with its summary lines on stderr: a bisection's or a night's
 * stdout is its report. Returns runner_run's exit code. */
int run_on_stderr(const struct run_opts *ro);

/* What went wrong in a failed cell (an entry of summary.json's "cells"
 * of the run in run_dir): "ID STATUS: WHY", WHY the console's first problem
 * (a panic's line) or else the error's first line, escaped (the console is
 * the guest's). Caller frees. */
char *bisect_cell_failure(const char *run_dir, const json_t *cell);

/* The text report: fit for a reply to the first bad commit's thread. */
void bisect_print(const json_t *result, FILE *out);

#endif
