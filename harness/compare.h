/* Comparisons of runs: statistics per metric against a baseline.
 *
 * compare_build() turns one run (columns = its kernels) or several runs
 * (columns = runs, cells matched by kernel/topology/workload) into one JSON
 * document: that is the --json output, and the text renderers only format
 * it. Schema in docs/compare.md.
 */
#ifndef SB_COMPARE_H
#define SB_COMPARE_H

#include <jansson.h>
#include <stdio.h>

#define COMPARE_SCHEMA_VERSION 1
/* A row is too noisy to call when CoeffVar exceeds this or n < 3. */
#define COMPARE_NOISY_CV 0.10
#define COMPARE_MIN_N 3

struct compare_opts {
	const char *baseline;  /* kernel name (one run) or run label/path (runs) */
	double fail_pct;       /* > 0: regressions beyond this percent are listed */
	double threshold_pct;  /* reporting threshold; 0: POWER_THRESHOLD_PCT */
	int paired;            /* verdicts from the paired test (kernels mode) */
};

/* 0 or -errno with sb_err() naming the offending file or input. */
int compare_build(const char *const *run_dirs, int nruns, const struct compare_opts *o,
		  json_t **out);

/* Text renderers. color: ANSI colours for significant changes. */
void compare_print_mmtests(const json_t *cmp, FILE *out, int color);
void compare_print_lkp(const json_t *cmp, FILE *out, int color);
/* Kernels as rows: per metric one line per kernel (n, mean, half CI, %
 * against the baseline, verdict); for many kernels at 80 columns. */
void compare_print_rows(const json_t *cmp, FILE *out, int color);

/* The statistics of one sample of a metric, as in a comparison column:
 * {n, mean, stddev, cv, min, max, median, ci95, values[, hmean]}; JSON null
 * when values is empty or not all finite. values is kept (a new reference). */
json_t *compare_stat_json(json_t *values, int higher_better);

/* The verdict of candidate c against baseline b (two compare_stat_json()
 * objects): {pct_change, raw_change, ci_overlap, significant, noisy,
 * lkp_changed, verdict, welch_p}; verdict is better/worse (95% CIs apart),
 * noise (CoeffVar > COMPARE_NOISY_CV or n < COMPARE_MIN_N), same, or
 * "too few runs". The one verdict rule: `compare`, `nightly` and `history`
 * all call it. */
json_t *compare_change_json(const json_t *b, const json_t *c, int higher_better);

/* mmtests-style percentage: better is positive. */
double compare_pct_better(double base, double cand, int higher_better);

#endif
