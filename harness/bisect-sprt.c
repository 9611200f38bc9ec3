/* The arithmetic of a bisection: Wald's sequential probability ratio test
 * that decides a step good or bad, and the binary search over the marks.
 * No git, no runs: unit-tested on its own. */
#define _GNU_SOURCE
#include "harness/bisect.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the sequential decision rule ---- */

int sprt_init(struct sprt *s, const double *good, size_t ng, const double *bad, size_t nb,
	      double alpha, double beta, int min_n, int max_n)
{
	struct stats_summary g, b;
	int rc;

	if (ng < 2 || nb < 2)
		return sb_err(EINVAL, "the decision rule needs two values of each end at least "
			      "(good %zu, bad %zu)", ng, nb);
	if ((rc = stats_summarize(good, ng, &g)) || (rc = stats_summarize(bad, nb, &b)))
		return rc;
	if (g.mean == b.mean)
		return sb_err(EINVAL, "the good and bad ends have the same mean (%g): nothing "
			      "to bisect", g.mean);
	if (!(alpha > 0 && alpha < 0.5 && beta > 0 && beta < 0.5))
		return sb_err(EINVAL, "error rates must be in (0, 0.5): alpha %g, beta %g", alpha,
			      beta);
	s->mu_good = g.mean;
	s->mu_bad = b.mean;
	s->sigma = sqrt(((ng - 1) * g.stddev * g.stddev + (nb - 1) * b.stddev * b.stddev) /
			(double)(ng + nb - 2));
	/* Identical values on both ends would make every step certain after
	 * one look; keep a floor of a thousandth of the gap. */
	if (s->sigma < fabs(g.mean - b.mean) * 1e-3)
		s->sigma = fabs(g.mean - b.mean) * 1e-3;
	s->alpha = alpha;
	s->beta = beta;
	s->min_n = min_n > 0 ? min_n : 1;
	s->max_n = max_n >= s->min_n ? max_n : s->min_n;
	return 0;
}

enum sprt_decision sprt_decide(const struct sprt *s, const double *x, size_t n, double *llr)
{
	double l = 0, hi = log((1 - s->beta) / s->alpha), lo = log(s->beta / (1 - s->alpha));
	double v = 2 * s->sigma * s->sigma;

	for (size_t i = 0; i < n; i++)
		l += ((x[i] - s->mu_good) * (x[i] - s->mu_good) -
		      (x[i] - s->mu_bad) * (x[i] - s->mu_bad)) / v;
	if (llr)
		*llr = l;
	if ((int)n >= s->min_n) {
		if (l >= hi)
			return SPRT_BAD;
		if (l <= lo)
			return SPRT_GOOD;
	}
	return (int)n >= s->max_n ? SPRT_UNDECIDED : SPRT_MORE;
}

const char *sprt_decision_name(enum sprt_decision d)
{
	static const char *const names[] = { "more", "good", "bad", "undecided" };

	return names[d];
}

/* ---- the search ---- */

int bisect_next(const enum bisect_mark *m, int n, int *first_bad, int *lo_out, int *hi_out)
{
	int lo = -1, hi = n - 1, best = -1;
	double mid;

	/* The last good before the first bad: marks are monotone unless the
	 * measurements lied, and then the first bad wins. */
	for (int i = 0; i < n; i++)
		if (m[i] == BISECT_BAD) {
			hi = i;
			break;
		}
	for (int i = 0; i < hi; i++)
		if (m[i] == BISECT_GOOD)
			lo = i;
	mid = (lo + hi) / 2.0;
	for (int i = lo + 1; i < hi; i++)
		if (m[i] == BISECT_UNKNOWN &&
		    (best < 0 || fabs(i - mid) < fabs(best - mid)))
			best = i;
	if (lo_out)
		*lo_out = lo;
	if (hi_out)
		*hi_out = hi;
	if (best >= 0)
		return best;
	/* Nothing left to test between lo and hi. */
	*first_bad = hi == lo + 1 ? hi : -1;
	return -1;
}
