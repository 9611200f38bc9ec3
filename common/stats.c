#define _GNU_SOURCE
#include "common/stats.h"
#include "common/err.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Continued-fraction tuning for the incomplete beta function. The fraction
 * needs O(sqrt(max(a, b))) terms, so the cap is far above what the largest
 * df handled through it (see T_DF_NORMAL) requires. */
#define BETACF_EPS	(DBL_EPSILON / 2)
#define BETACF_TINY	1e-300
#define BETACF_MAXIT	20000

/* Beyond this many degrees of freedom the t distribution is used as the
 * standard normal: the two differ by less than 1e-7 in the quantiles we
 * care about, and it keeps the continued fraction short. */
#define T_DF_NORMAL	1e7

/* lgamma() writes the global signgam; the reentrant variant keeps these
 * functions safe to call from several threads. Arguments here are > 0. */
static double lgam(double x)
{
	int sign;

	return lgamma_r(x, &sign);
}

/* Continued fraction for I_x(a, b), evaluated with the modified Lentz
 * method; converges fast for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
	double qab = a + b, qap = a + 1.0, qam = a - 1.0;
	double c = 1.0, d = 1.0 - qab * x / qap, h;

	if (fabs(d) < BETACF_TINY)
		d = BETACF_TINY;
	d = 1.0 / d;
	h = d;
	for (int m = 1; m <= BETACF_MAXIT; m++) {
		double m2 = 2.0 * m, aa, del;

		/* Even step of the recurrence. */
		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < BETACF_TINY)
			d = BETACF_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < BETACF_TINY)
			c = BETACF_TINY;
		d = 1.0 / d;
		h *= d * c;

		/* Odd step. */
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < BETACF_TINY)
			d = BETACF_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < BETACF_TINY)
			c = BETACF_TINY;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < BETACF_EPS)
			break;
	}
	return h;
}

/* Regularized incomplete beta I_x(a, b). The caller passes y = 1 - x and
 * the logarithms of both, each computed without cancellation: for t near 0
 * x is close to 1 and 1 - x would lose most of its digits, and for huge t
 * x underflows while log(x) is still perfectly representable. */
static double inc_beta(double a, double b, double x, double y, double lx, double ly)
{
	double lbt;

	if (y <= 0.0)
		return 1.0;
	lbt = lgam(a + b) - lgam(a) - lgam(b) + a * lx + b * ly;
	/* Use the symmetry I_x(a, b) = 1 - I_y(b, a) on whichever side the
	 * continued fraction converges quickly. */
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lbt) * betacf(a, b, x) / a;
	return 1.0 - exp(lbt) * betacf(b, a, y) / b;
}

/* Upper tail P(T > t) for t >= 0. Computed directly rather than as
 * 1 - cdf so that small p-values and extreme quantiles keep their
 * relative precision. */
static double t_upper_tail(double t, double df)
{
	double x, y, lx, ly;

	if (df > T_DF_NORMAL)
		return 0.5 * erfc(t / M_SQRT2);
	if (isinf(t))
		return 0.0;
	if (t > 1.0) {
		/* x = df / (df + t^2) = r / (1 + r) with r = df / t^2, written
		 * so that huge t neither overflows t * t nor loses log(x). */
		double r = df / t / t;

		x = r / (1.0 + r);
		y = 1.0 / (1.0 + r);
		ly = -log1p(r);
		if (r >= 1.0)
			lx = -log1p(1.0 / r);
		else if (r >= DBL_MIN)
			lx = log(r) - log1p(r);
		else
			lx = log(df) - 2.0 * log(t) - log1p(r);
	} else {
		double u = t * t / df;

		x = 1.0 / (1.0 + u);
		y = u / (1.0 + u);
		lx = -log1p(u);
		ly = log(u) - log1p(u);
	}
	return 0.5 * inc_beta(df / 2.0, 0.5, x, y, lx, ly);
}

double stats_t_cdf(double t, double df)
{
	if (isnan(t) || isnan(df) || df <= 0.0)
		return NAN;
	if (t >= 0.0)
		return 1.0 - t_upper_tail(t, df);
	return t_upper_tail(-t, df);
}

double stats_t_quantile(double p, double df)
{
	double q, lo = 0.0, hi = 1.0;

	if (isnan(p) || isnan(df) || df <= 0.0 || p < 0.0 || p > 1.0)
		return NAN;
	if (p == 0.0)
		return -INFINITY;
	if (p == 1.0)
		return INFINITY;
	if (p == 0.5)
		return 0.0;

	/* Solve on the upper tail; 1 - p is exact for p >= 0.5. */
	q = p < 0.5 ? p : 1.0 - p;

	/* The tail decreases monotonically, so bracket the root by doubling
	 * and then bisect. Bisection is slower than Newton but cannot
	 * overshoot into regions where the tail underflows to 0. */
	while (t_upper_tail(hi, df) > q) {
		lo = hi;
		hi *= 2.0;
		if (isinf(hi))
			return p < 0.5 ? -INFINITY : INFINITY;
	}
	while (hi - lo > 2.0 * DBL_EPSILON * hi) {
		double mid = lo + (hi - lo) / 2.0;

		if (mid <= lo || mid >= hi)
			break;
		if (t_upper_tail(mid, df) > q)
			lo = mid;
		else
			hi = mid;
	}
	q = lo + (hi - lo) / 2.0;
	return p < 0.5 ? -q : q;
}

static int check_finite(const double *v, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return sb_err(EINVAL, "%s: value %zu is not a finite number", what, i);
	return 0;
}

/* Mean and sample variance with the corrected two-pass algorithm: the
 * second-pass correction term cancels most of the rounding error of the
 * mean, which matters for long runs of nearly identical timings. */
static void mean_var(const double *v, size_t n, double *mean, double *var)
{
	double sum = 0.0, ss = 0.0, comp = 0.0, m;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	m = sum / n;
	for (size_t i = 0; i < n; i++) {
		double d = v[i] - m;

		ss += d * d;
		comp += d;
	}
	*mean = m;
	*var = n < 2 ? 0.0 : (ss - comp * comp / n) / (n - 1);
	if (*var < 0.0)
		*var = 0.0;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* The 97.5% t quantile for integer df, memoised: comparisons summarise
 * tens of thousands of small samples, and each quantile costs a bisection
 * over the incomplete beta function. Benign race: a value is written whole
 * and is the same from every thread. */
static double t975(size_t df)
{
	static double cache[1024];

	if (df >= sizeof(cache) / sizeof(cache[0]))
		return stats_t_quantile(0.975, (double)df);
	if (!cache[df])
		cache[df] = stats_t_quantile(0.975, (double)df);
	return cache[df];
}

int stats_summarize(const double *v, size_t n, struct stats_summary *out)
{
	double *s, var;
	int ret;

	if (n == 0 || !v)
		return sb_err(EINVAL, "cannot summarize an empty sample");
	ret = check_finite(v, n, "summary");
	if (ret)
		return ret;

	/* Sort a copy: callers keep their samples in run order. */
	s = malloc(n * sizeof(*s));
	if (!s)
		return sb_err(ENOMEM, "out of memory summarizing %zu values", n);
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);

	memset(out, 0, sizeof(*out));
	out->n = n;
	mean_var(v, n, &out->mean, &var);
	out->stddev = sqrt(var);
	out->min = s[0];
	out->max = s[n - 1];
	/* A constant sample's mean is that value, not its rounded sum / n: two
	 * constant samples of the same value (histogram buckets) must not
	 * look different by one ulp. */
	if (out->min == out->max) {
		out->mean = out->min;
		out->stddev = 0.0;
	}
	/* Halve before adding so two huge values cannot overflow. */
	out->median = n % 2 ? s[n / 2] : 0.5 * s[n / 2 - 1] + 0.5 * s[n / 2];
	out->cv = out->mean == 0.0 ? 0.0 : out->stddev / out->mean;
	if (n < 2) {
		out->ci95_lo = out->ci95_hi = out->mean;
	} else {
		double half = t975(n - 1) *
			      out->stddev / sqrt((double)n);

		out->ci95_lo = out->mean - half;
		out->ci95_hi = out->mean + half;
	}
	free(s);
	return 0;
}

int stats_welch(const double *a, size_t na, const double *b, size_t nb,
		double *t, double *df, double *p_two_sided)
{
	double ma, va, mb, vb, sa, sb, se2, fa, fb, tv, dfv, pv;
	int ret;

	if (!a || !b || na < 2 || nb < 2)
		return sb_err(EINVAL, "Welch's t-test needs at least 2 values per sample (got %zu and %zu)",
			      na, nb);
	ret = check_finite(a, na, "Welch's t-test, first sample");
	if (!ret)
		ret = check_finite(b, nb, "Welch's t-test, second sample");
	if (ret)
		return ret;

	mean_var(a, na, &ma, &va);
	mean_var(b, nb, &mb, &vb);
	sa = va / na;
	sb = vb / nb;
	se2 = sa + sb;

	if (se2 == 0.0) {
		/* Both samples are constant: there is no noise to compare
		 * against, so any difference at all is "certain". Each is its
		 * first value exactly (not a sum / n one ulp off). */
		ma = a[0];
		mb = b[0];
		tv = ma == mb ? 0.0 : copysign(INFINITY, ma - mb);
		dfv = (double)(na + nb - 2);
		pv = ma == mb ? 1.0 : 0.0;
	} else {
		tv = (ma - mb) / sqrt(se2);
		/* Welch-Satterthwaite, with each term scaled by se2 first
		 * so that squaring tiny variances cannot underflow. */
		fa = sa / se2;
		fb = sb / se2;
		dfv = 1.0 / (fa * fa / (na - 1) + fb * fb / (nb - 1));
		pv = 2.0 * t_upper_tail(fabs(tv), dfv);
		if (pv > 1.0)
			pv = 1.0;
	}
	if (t)
		*t = tv;
	if (df)
		*df = dfv;
	if (p_two_sided)
		*p_two_sided = pv;
	return 0;
}

double stats_mde(double sd_a, size_t na, double sd_b, size_t nb, double alpha, double power)
{
	double sa, sb, se2, fa, fb, df;

	if (na < 2 || nb < 2 || !(sd_a >= 0) || !(sd_b >= 0) || !isfinite(sd_a) ||
	    !isfinite(sd_b) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1))
		return NAN;
	sa = sd_a * sd_a / na;
	sb = sd_b * sd_b / nb;
	se2 = sa + sb;
	if (se2 == 0.0)
		return 0.0;
	fa = sa / se2;
	fb = sb / se2;
	df = 1.0 / (fa * fa / (na - 1) + fb * fb / (nb - 1));
	return (stats_t_quantile(1 - alpha / 2, df) + stats_t_quantile(power, df)) * sqrt(se2);
}

int stats_paired(const double *a, const double *b, size_t n, double *mean_diff,
		 double *sd_diff, double *p_two_sided)
{
	double *d, m, var, pv;
	int ret;

	if (!a || !b || n < 2)
		return sb_err(EINVAL, "a paired t-test needs at least 2 pairs (got %zu)", n);
	ret = check_finite(a, n, "paired t-test, first sample");
	if (!ret)
		ret = check_finite(b, n, "paired t-test, second sample");
	if (ret)
		return ret;
	d = malloc(n * sizeof(*d));
	if (!d)
		return sb_err(ENOMEM, "out of memory for %zu pairs", n);
	for (size_t i = 0; i < n; i++)
		d[i] = b[i] - a[i];
	mean_var(d, n, &m, &var);
	free(d);
	if (var == 0.0)
		pv = m == 0.0 ? 1.0 : 0.0;
	else
		pv = fmin(1.0, 2.0 * t_upper_tail(fabs(m) / sqrt(var / n), (double)(n - 1)));
	if (mean_diff)
		*mean_diff = m;
	if (sd_diff)
		*sd_diff = sqrt(var);
	if (p_two_sided)
		*p_two_sided = pv;
	return 0;
}

static double inverse(double x)
{
	return 1.0 / x;
}

/* The sum of f(v[i]); NaN when v is empty or a value is not > 0 (written
 * as !(x > 0) so that NaN is rejected too). */
static double sum_of_positive(const double *v, size_t n, double (*f)(double))
{
	double sum = 0.0;

	if (!v || n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (!(v[i] > 0.0))
			return NAN;
		sum += f(v[i]);
	}
	return sum;
}

double stats_hmean(const double *v, size_t n)
{
	return n / sum_of_positive(v, n, inverse);
}

double stats_geomean(const double *v, size_t n)
{
	return exp(sum_of_positive(v, n, log) / n);
}

int stats_ci_overlap(const struct stats_summary *a, const struct stats_summary *b)
{
	return a->ci95_lo <= b->ci95_hi && b->ci95_lo <= a->ci95_hi;
}
