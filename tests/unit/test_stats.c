/* Reference values: t quantiles from published two-sided 95% tables; the
 * Welch example is example 1 of Wikipedia's "Welch's t-test". All were
 * re-derived independently (numerical integration of the t density) to
 * more digits than the tables give before being frozen here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/err.h"
#include "common/stats.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A macro rather than a function so that failures report the caller's line. */
#define assert_near(got, want, tol) do {					\
	double got_ = (got), want_ = (want), tol_ = (tol);			\
	if (!(fabs(got_ - want_) <= tol_))					\
		fail_msg("%s = %.10g, want %.10g (tolerance %g)",		\
			 #got, got_, want_, tol_);				\
} while (0)

static void test_summary_even(void **state)
{
	double v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct stats_summary s;

	assert_int_equal(stats_summarize(v, ARRAY_LEN(v), &s), 0);
	assert_int_equal(s.n, 8);
	assert_near(s.mean, 5.0, 1e-12);
	/* Population sd is 2; the sample sd is sqrt(32 / 7). */
	assert_near(s.stddev, sqrt(32.0 / 7.0), 1e-12);
	assert_near(s.stddev, 2.138089935, 1e-9);
	assert_near(s.median, 4.5, 1e-12);
	assert_near(s.min, 2.0, 0);
	assert_near(s.max, 9.0, 0);
	assert_near(s.cv, 0.427617987, 1e-9);
}

static void test_summary_odd_unsorted(void **state)
{
	double v[] = { 3, 1, 2 };
	double orig[] = { 3, 1, 2 };
	struct stats_summary s;

	assert_int_equal(stats_summarize(v, ARRAY_LEN(v), &s), 0);
	assert_near(s.mean, 2.0, 1e-12);
	assert_near(s.stddev, 1.0, 1e-12);
	assert_near(s.median, 2.0, 0);
	assert_near(s.min, 1.0, 0);
	assert_near(s.max, 3.0, 0);
	assert_near(s.cv, 0.5, 1e-12);
	/* The median is taken from a sorted copy, not by sorting in place. */
	assert_memory_equal(v, orig, sizeof(v));
}

static void test_summary_ci(void **state)
{
	double v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct stats_summary s;

	/* mean +- t(0.975, 7) * sd / sqrt(8), t(0.975, 7) = 2.364624 */
	assert_int_equal(stats_summarize(v, ARRAY_LEN(v), &s), 0);
	assert_near(s.ci95_lo, 3.212512082, 1e-8);
	assert_near(s.ci95_hi, 6.787487918, 1e-8);
}

static void test_summary_single(void **state)
{
	double v[] = { 42.5 };
	struct stats_summary s;

	assert_int_equal(stats_summarize(v, 1, &s), 0);
	assert_int_equal(s.n, 1);
	assert_near(s.mean, 42.5, 0);
	assert_near(s.median, 42.5, 0);
	assert_near(s.stddev, 0.0, 0);
	assert_near(s.cv, 0.0, 0);
	assert_near(s.ci95_lo, 42.5, 0);
	assert_near(s.ci95_hi, 42.5, 0);
}

static void test_summary_constant_and_zero_mean(void **state)
{
	double c[] = { 7, 7, 7, 7 };
	double z[] = { -1, 1 };
	struct stats_summary s;

	/* No spread: the interval collapses onto the mean. */
	assert_int_equal(stats_summarize(c, ARRAY_LEN(c), &s), 0);
	assert_near(s.stddev, 0.0, 0);
	assert_near(s.ci95_lo, 7.0, 0);
	assert_near(s.ci95_hi, 7.0, 0);

	assert_int_equal(stats_summarize(z, ARRAY_LEN(z), &s), 0);
	assert_near(s.mean, 0.0, 0);
	assert_near(s.cv, 0.0, 0);
	assert_near(s.median, 0.0, 0);
}

static void test_summary_errors(void **state)
{
	double v[] = { 1, NAN, 3 };
	double w[] = { 1, INFINITY };
	struct stats_summary s;

	sb_clearerr();
	assert_int_equal(stats_summarize(v, 0, &s), -EINVAL);
	assert_string_not_equal(sb_lasterr(), "unknown error");
	assert_int_equal(stats_summarize(v, ARRAY_LEN(v), &s), -EINVAL);
	assert_int_equal(stats_summarize(w, ARRAY_LEN(w), &s), -EINVAL);
}

static void test_t_quantile_table(void **state)
{
	static const struct {
		double df, q;
	} tab[] = {
		{ 1, 12.706205 }, { 2, 4.302653 }, { 5, 2.570582 },
		{ 7, 2.364624 }, { 10, 2.228139 }, { 30, 2.042272 },
		{ 1000, 1.962339 },
	};

	for (size_t i = 0; i < ARRAY_LEN(tab); i++) {
		assert_near(stats_t_quantile(0.975, tab[i].df), tab[i].q, 1e-6);
		/* The distribution is symmetric. */
		assert_near(stats_t_quantile(0.025, tab[i].df), -tab[i].q, 1e-6);
	}
	/* Large df tends to the normal quantile 1.959964. */
	assert_near(stats_t_quantile(0.975, 1e9), 1.959964, 1e-6);
	assert_near(stats_t_quantile(0.975, INFINITY), 1.959964, 1e-6);
}

static void test_t_closed_forms(void **state)
{
	/* df = 1 is the Cauchy distribution and df = 2 has a closed-form
	 * quantile, so the whole range can be checked, tails included. */
	static const double ps[] = { 1e-9, 0.001, 0.05, 0.3, 0.5, 0.7, 0.9, 0.995, 1 - 1e-9 };

	for (size_t i = 0; i < ARRAY_LEN(ps); i++) {
		double p = ps[i];
		double q1 = p < 0.5 ? -1 / tan(M_PI * p) : 1 / tan(M_PI * (1 - p));
		double q2 = (2 * p - 1) / sqrt(2 * p * (1 - p));

		assert_near(stats_t_quantile(p, 1), q1, 1e-9 * fmax(1, fabs(q1)));
		assert_near(stats_t_quantile(p, 2), q2, 1e-9 * fmax(1, fabs(q2)));
	}
	for (double t = -50; t <= 50; t += 0.73) {
		assert_near(stats_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-12);
		assert_near(stats_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-12);
	}
}

static void test_t_cdf(void **state)
{
	assert_near(stats_t_cdf(0, 5), 0.5, 1e-15);
	assert_near(stats_t_cdf(2.0, 3), 0.930337016, 1e-9);
	assert_near(stats_t_cdf(3.0, 50), 0.997899148, 1e-9);
	/* Non-integer df, as Welch's test produces. */
	assert_near(stats_t_cdf(0.5, 7.5), 0.684294518, 1e-9);
	assert_near(stats_t_cdf(-2.0, 3), 1 - 0.930337016, 1e-9);
	/* Extreme tails keep relative precision (Cauchy: 1 / (pi t)). */
	assert_near(stats_t_cdf(-1e12, 1) / (1 / (M_PI * 1e12)), 1.0, 1e-9);

	for (double df = 1; df < 200; df *= 1.7)
		for (double p = 0.01; p < 1; p += 0.07)
			assert_near(stats_t_cdf(stats_t_quantile(p, df), df), p, 1e-12);
}

static void test_t_invalid(void **state)
{
	assert_true(isnan(stats_t_quantile(-0.1, 5)));
	assert_true(isnan(stats_t_quantile(1.1, 5)));
	assert_true(isnan(stats_t_quantile(NAN, 5)));
	assert_true(isnan(stats_t_quantile(0.9, 0)));
	assert_true(isnan(stats_t_quantile(0.9, -3)));
	assert_true(isinf(stats_t_quantile(0, 5)) && stats_t_quantile(0, 5) < 0);
	assert_true(isinf(stats_t_quantile(1, 5)) && stats_t_quantile(1, 5) > 0);
	assert_near(stats_t_quantile(0.5, 5), 0, 0);
	assert_true(isnan(stats_t_cdf(1, 0)));
	assert_true(isnan(stats_t_cdf(NAN, 3)));
}

static const double welch_a[] = {
	27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
	21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4,
};
static const double welch_b[] = {
	27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
	24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4,
};

static void test_welch_example(void **state)
{
	double t, df, p;

	/* Wikipedia: t = -2.46, df = 24.99, p = 0.021. */
	assert_int_equal(stats_welch(welch_a, ARRAY_LEN(welch_a), welch_b, ARRAY_LEN(welch_b),
				     &t, &df, &p), 0);
	assert_near(t, -2.455356, 1e-6);
	assert_near(df, 24.988529, 1e-6);
	assert_near(p, 0.021378, 1e-6);

	/* Swapping the samples flips only the sign of t. */
	assert_int_equal(stats_welch(welch_b, ARRAY_LEN(welch_b), welch_a, ARRAY_LEN(welch_a),
				     &t, &df, &p), 0);
	assert_near(t, 2.455356, 1e-6);
	assert_near(p, 0.021378, 1e-6);

	/* Outputs are optional. */
	assert_int_equal(stats_welch(welch_a, ARRAY_LEN(welch_a), welch_b, ARRAY_LEN(welch_b),
				     NULL, NULL, &p), 0);
	assert_near(p, 0.021378, 1e-6);
}

static void test_welch_same_sample(void **state)
{
	double t, df, p;

	assert_int_equal(stats_welch(welch_a, ARRAY_LEN(welch_a), welch_a, ARRAY_LEN(welch_a),
				     &t, &df, &p), 0);
	assert_near(t, 0, 0);
	assert_near(df, 28, 1e-9);
	assert_near(p, 1, 1e-12);
}

static void test_welch_zero_variance(void **state)
{
	double c5[] = { 5, 5, 5 }, c5b[] = { 5, 5 }, c6[] = { 6, 6, 6 };
	double lin[] = { 1, 2, 3 };
	double t, df, p;

	assert_int_equal(stats_welch(c5, 3, c5b, 2, &t, &df, &p), 0);
	assert_near(t, 0, 0);
	assert_near(df, 3, 0);
	assert_near(p, 1, 0);

	assert_int_equal(stats_welch(c5, 3, c6, 3, &t, &df, &p), 0);
	assert_true(isinf(t) && t < 0);
	assert_near(p, 0, 0);

	/* Only one sample constant: df collapses to that of the other, and
	 * with df = 2 the p-value has the closed form 1 - t / sqrt(2 + t^2). */
	assert_int_equal(stats_welch(c5, 3, lin, 3, &t, &df, &p), 0);
	assert_near(t, 3 / sqrt(1.0 / 3), 1e-12);
	assert_near(df, 2, 1e-12);
	assert_near(p, 1 - t / sqrt(2 + t * t), 1e-12);
	assert_near(p, 0.035098719, 1e-9);
}

static void test_welch_errors(void **state)
{
	double one[] = { 1 }, two[] = { 1, 2 }, bad[] = { 1, NAN, 3 };
	double t = 123;

	assert_int_equal(stats_welch(one, 1, two, 2, &t, NULL, NULL), -EINVAL);
	assert_int_equal(stats_welch(two, 2, one, 1, &t, NULL, NULL), -EINVAL);
	assert_int_equal(stats_welch(two, 2, bad, 3, &t, NULL, NULL), -EINVAL);
	/* Nothing is written on failure. */
	assert_near(t, 123, 0);
}

static void test_means(void **state)
{
	double v[] = { 1, 2, 4 }, w[] = { 2, 8 };
	double zero[] = { 1, 0, 2 }, neg[] = { 1, -2 }, nan[] = { 1, NAN };

	assert_near(stats_hmean(v, 3), 12.0 / 7.0, 1e-12);
	assert_near(stats_geomean(v, 3), 2.0, 1e-12);
	assert_near(stats_geomean(w, 2), 4.0, 1e-12);
	assert_near(stats_hmean(w, 2), 3.2, 1e-12);
	/* Means of a constant sample are that constant. */
	assert_near(stats_hmean(w, 1), 2.0, 1e-12);
	assert_near(stats_geomean(w + 1, 1), 8.0, 1e-12);

	assert_true(isnan(stats_hmean(zero, 3)));
	assert_true(isnan(stats_geomean(zero, 3)));
	assert_true(isnan(stats_hmean(neg, 2)));
	assert_true(isnan(stats_geomean(neg, 2)));
	assert_true(isnan(stats_hmean(nan, 2)));
	assert_true(isnan(stats_geomean(nan, 2)));
	assert_true(isnan(stats_hmean(v, 0)));
	assert_true(isnan(stats_geomean(v, 0)));
}

static void test_ci_overlap(void **state)
{
	struct stats_summary a = { .ci95_lo = 1, .ci95_hi = 2 };
	struct stats_summary b = { .ci95_lo = 1.5, .ci95_hi = 3 };
	struct stats_summary c = { .ci95_lo = 2, .ci95_hi = 3 };
	struct stats_summary d = { .ci95_lo = 2.1, .ci95_hi = 3 };
	struct stats_summary e = { .ci95_lo = 0, .ci95_hi = 5 };

	assert_true(stats_ci_overlap(&a, &b));
	assert_true(stats_ci_overlap(&b, &a));
	assert_true(stats_ci_overlap(&a, &c));   /* touching */
	assert_false(stats_ci_overlap(&a, &d));
	assert_false(stats_ci_overlap(&d, &a));
	assert_true(stats_ci_overlap(&a, &e));   /* containment */
	assert_true(stats_ci_overlap(&e, &a));
}

static void test_ci_overlap_real(void **state)
{
	struct stats_summary sa, sb;

	/* The Welch example is significant at 5%, yet its CIs overlap:
	 * the reason overlap is documented as only a screen. */
	assert_int_equal(stats_summarize(welch_a, ARRAY_LEN(welch_a), &sa), 0);
	assert_int_equal(stats_summarize(welch_b, ARRAY_LEN(welch_b), &sb), 0);
	assert_true(stats_ci_overlap(&sa, &sb));
}

/* Constant samples of one value have exactly that mean: a mean of 3 x
 * 172.031 that came out one ulp off once made an A/A row "better". */
static void test_summary_constant(void **state)
{
	double a[] = { 172.031, 172.031, 172.031 };
	struct stats_summary s;

	(void)state;
	assert_int_equal(stats_summarize(a, 3, &s), 0);
	assert_true(s.mean == 172.031);
	assert_true(s.stddev == 0.0);
	assert_true(s.ci95_lo == 172.031 && s.ci95_hi == 172.031);
}

/* Cohen (1988), Statistical Power Analysis, Table 2.4.1: two-sided
 * alpha 0.05, power 0.80 needs n = 26, 64 and 393 per group for effect
 * sizes d = 0.8, 0.5 and 0.2 (sd 1). Read backwards, those n give those
 * MDEs; the tables round n up, so the MDE is at most the table's d. */
static void test_mde_cohen(void **state)
{
	(void)state;
	assert_near(stats_mde(1, 26, 1, 26, 0.05, 0.8), 0.8, 0.01);
	assert_near(stats_mde(1, 64, 1, 64, 0.05, 0.8), 0.5, 0.005);
	assert_near(stats_mde(1, 393, 1, 393, 0.05, 0.8), 0.2, 0.002);
	/* Large n: the normal limit (z.975 + z.80) * sqrt(2/n). */
	assert_near(stats_mde(1, 1000000, 1, 1000000, 0.05, 0.8),
		    (1.959963985 + 0.841621234) * sqrt(2e-6), 1e-7);
	/* Scales with sd, and unequal samples follow Welch's standard error. */
	assert_near(stats_mde(3, 64, 3, 64, 0.05, 0.8), 3 * stats_mde(1, 64, 1, 64, 0.05, 0.8),
		    1e-9);
	assert_true(stats_mde(1, 5, 2, 5, 0.05, 0.8) > stats_mde(1, 5, 1, 5, 0.05, 0.8));
	/* No spread: any change is detectable; too few values: unknown. */
	assert_near(stats_mde(0, 5, 0, 5, 0.05, 0.8), 0, 0);
	assert_true(isnan(stats_mde(1, 1, 1, 5, 0.05, 0.8)));
	assert_true(isnan(stats_mde(-1, 5, 1, 5, 0.05, 0.8)));
	assert_true(isnan(stats_mde(1, 5, 1, 5, 0, 0.8)));
	assert_true(isnan(stats_mde(1, 5, 1, 5, 0.05, 1)));
}

/* Student's sleep data (Cushny and Peebles), as in R's example for
 * t.test(paired = TRUE): mean difference -1.58, t = -4.0621, df = 9,
 * p = 0.002833. */
static void test_paired_sleep(void **state)
{
	double g1[] = { 0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0 };
	double g2[] = { 1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4 };
	double m, sd, p;

	(void)state;
	assert_int_equal(stats_paired(g2, g1, 10, &m, &sd, &p), 0);
	assert_near(m, -1.58, 1e-12);
	assert_near(m / (sd / sqrt(10)), -4.0621, 1e-4);
	assert_near(p, 0.002833, 1e-6);
	assert_int_equal(stats_paired(g1, g1, 10, &m, &sd, &p), 0);
	assert_near(p, 1, 0);
	assert_int_equal(stats_paired(g1, g2, 1, &m, &sd, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_even),
		cmocka_unit_test(test_summary_odd_unsorted),
		cmocka_unit_test(test_summary_ci),
		cmocka_unit_test(test_summary_single),
		cmocka_unit_test(test_summary_constant_and_zero_mean),
		cmocka_unit_test(test_summary_errors),
		cmocka_unit_test(test_t_quantile_table),
		cmocka_unit_test(test_t_closed_forms),
		cmocka_unit_test(test_t_cdf),
		cmocka_unit_test(test_t_invalid),
		cmocka_unit_test(test_welch_example),
		cmocka_unit_test(test_welch_same_sample),
		cmocka_unit_test(test_welch_zero_variance),
		cmocka_unit_test(test_welch_errors),
		cmocka_unit_test(test_means),
		cmocka_unit_test(test_ci_overlap),
		cmocka_unit_test(test_ci_overlap_real),
		cmocka_unit_test(test_summary_constant),
		cmocka_unit_test(test_mde_cohen),
		cmocka_unit_test(test_paired_sleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
