/* Descriptive statistics and significance tests over arrays of doubles.
 *
 * Used to decide whether two sets of benchmark runs differ by more than
 * run-to-run noise. Functions returning int follow the err.h convention
 * (0 or a negative errno with sb_err() set); functions returning double
 * report invalid input as NAN. Nothing here keeps state between calls.
 */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <stddef.h>

struct stats_summary {
	size_t n;
	double mean;
	double stddev;    /* sample standard deviation (n-1); 0 when n < 2 */
	double min, max;
	double median;    /* mean of the two middle values for even n */
	double cv;        /* stddev / mean; 0 when mean == 0 */
	double ci95_lo;   /* Student-t 95% confidence interval of the mean; */
	double ci95_hi;   /* both equal mean when n < 2 */
};

/* Summarize v[0..n-1] into *out; v is not modified.
 * -EINVAL when n == 0 or any value is NaN or infinite, -ENOMEM if the
 * scratch copy needed for the median cannot be allocated. */
int stats_summarize(const double *v, size_t n, struct stats_summary *out);

/* Cumulative distribution function of Student's t with df > 0 degrees of
 * freedom (df need not be an integer). NAN for df <= 0 or NaN arguments;
 * df == INFINITY gives the standard normal CDF. */
double stats_t_cdf(double t, double df);

/* Quantile (inverse CDF) of Student's t: the x with stats_t_cdf(x, df) == p.
 * For a two-sided 95% interval use stats_t_quantile(0.975, df).
 * Accurate to well below 1e-6 for df >= 1. Returns -INFINITY for p == 0,
 * INFINITY for p == 1 and NAN for p outside [0, 1] or df <= 0. */
double stats_t_quantile(double p, double df);

/* Welch's unequal-variance t-test of mean(a) == mean(b).
 * *t is (mean(a) - mean(b)) / sqrt(var(a)/na + var(b)/nb), *df the
 * Welch-Satterthwaite degrees of freedom, *p_two_sided the two-sided
 * p-value. Any output pointer may be NULL.
 * When both samples have zero variance the test degenerates: *t is 0 or
 * +-INFINITY, *df is na + nb - 2 and *p_two_sided is 1 if the means are
 * equal, else 0.
 * -EINVAL when na < 2, nb < 2 or any value is NaN or infinite. */
int stats_welch(const double *a, size_t na, const double *b, size_t nb,
		double *t, double *df, double *p_two_sided);

/* Minimum detectable effect of a two-sided Welch test: the smallest true
 * difference of means that a test at level alpha detects with probability
 * `power`, given sample standard deviations sd_a, sd_b and sizes na, nb:
 *   MDE = (t(1 - alpha/2, df) + t(power, df)) * sqrt(sd_a^2/na + sd_b^2/nb)
 * with df the Welch-Satterthwaite degrees of freedom (the usual normal
 * approximation of the noncentral t, with t quantiles in place of z).
 * Same unit as the data; 0 when both sd are 0; NAN when na < 2, nb < 2,
 * an sd is negative or not finite, or alpha/power are outside (0, 1). */
double stats_mde(double sd_a, size_t na, double sd_b, size_t nb, double alpha, double power);

/* Paired t-test of mean(b[i] - a[i]) == 0 over n pairs: the two-sided
 * p-value in *p_two_sided, the mean difference in *mean_diff and the
 * standard deviation of the differences in *sd_diff (outputs may be NULL).
 * Constant differences give p 1 (all zero) or 0. -EINVAL when n < 2 or a
 * value is not finite. */
int stats_paired(const double *a, const double *b, size_t n, double *mean_diff,
		 double *sd_diff, double *p_two_sided);

/* Harmonic mean; NAN when n == 0 or any value is <= 0 or NaN. */
double stats_hmean(const double *v, size_t n);

/* Geometric mean (computed in log space, so it does not overflow);
 * NAN when n == 0 or any value is <= 0 or NaN. */
double stats_geomean(const double *v, size_t n);

/* 1 if the closed 95% confidence intervals of a and b overlap (touching
 * counts), else 0. Overlap is a conservative screen, not a test: disjoint
 * intervals imply a significant difference, overlapping ones do not imply
 * its absence (use stats_welch() for that). */
int stats_ci_overlap(const struct stats_summary *a, const struct stats_summary *b);

#endif
