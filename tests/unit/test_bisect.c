/* The bisection's decision rule (SPRT) on simulated measurements, the
 * search with skipped steps, and the range of a rebased branch in a real
 * (tiny) git repository. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/bisect.h"
#include "common/fsutil.h"

/* A deterministic generator, so the measured rates are the same each run. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(double mu, double sigma)
{
	return mu + sigma * sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

struct trial_stats {
	double false_bad, false_good, undecided_good, undecided_bad, mean_n;
};

/* Each trial draws fresh ends (ends_n values each; sigma is estimated from
 * them, as a bisection does) and one step from the good or bad side. */
static struct trial_stats simulate(double mu_good, double mu_bad, double cv, int ends_n,
				   double alpha, double beta, int min_n, int max_n, int trials)
{
	struct trial_stats t = { 0 };
	long total_n = 0;

	for (int i = 0; i < trials; i++) {
		double g[64], b[64], x[64];
		struct sprt s;

		for (int j = 0; j < ends_n; j++) {
			g[j] = normal(mu_good, cv * mu_good);
			b[j] = normal(mu_bad, cv * mu_good);
		}
		assert_int_equal(sprt_init(&s, g, ends_n, b, ends_n, alpha, beta, min_n, max_n), 0);
		for (int truth = 0; truth < 2; truth++) {
			enum sprt_decision d = SPRT_MORE;
			int n = 0;

			while (d == SPRT_MORE) {
				x[n] = normal(truth ? mu_bad : mu_good, cv * mu_good);
				n++;
				d = sprt_decide(&s, x, n, NULL);
			}
			total_n += n;
			if (!truth && d == SPRT_BAD)
				t.false_bad++;
			if (truth && d == SPRT_GOOD)
				t.false_good++;
			if (d == SPRT_UNDECIDED)
				*(truth ? &t.undecided_bad : &t.undecided_good) += 1;
		}
	}
	t.false_bad /= trials;
	t.false_good /= trials;
	t.undecided_good /= trials;
	t.undecided_bad /= trials;
	t.mean_n = (double)total_n / (2.0 * trials);
	return t;
}

static void report(const char *what, struct trial_stats t)
{
	print_message("%s: false bad %.4f, false good %.4f, undecided %.4f/%.4f, mean n %.2f\n",
		      what, t.false_bad, t.false_good, t.undecided_good, t.undecided_bad,
		      t.mean_n);
}

/* The nightly's defaults (alpha = beta = 0.01, 2..12 iterations) on a
 * strong slowdown under TCG noise (CV 25%, throughput down 50%): the rates
 * must stay near the stated ones although sigma comes from 6+6 values. */
static void test_sprt_error_rates_tcg(void **state)
{
	struct trial_stats t = simulate(100, 50, 0.25, 6, 0.01, 0.01, 2, 12, 20000);

	report("CV 25%, -50%, ends 6+6", t);
	/* Sigma from 12 values is often too small: the rates come out above
	 * the nominal 1% (measured 1.5-1.7%); twice the nominal is the bound. */
	assert_true(t.false_bad <= 0.02);
	assert_true(t.false_good <= 0.02);
	assert_true(t.undecided_good <= 0.03 && t.undecided_bad <= 0.03);
	assert_true(t.mean_n < 5);
}

/* A smaller effect with less noise (bare metal: CV 3%, -8%). */
static void test_sprt_error_rates_small_effect(void **state)
{
	struct trial_stats t = simulate(100, 92, 0.03, 8, 0.05, 0.05, 2, 20, 20000);

	report("CV 3%, -8%, ends 8+8, alpha=beta=0.05", t);
	assert_true(t.false_bad <= 0.08);
	assert_true(t.false_good <= 0.08);
}

/* A step in the middle of the two means is neither: with a low maximum it
 * must often come out undecided rather than always one side. */
static void test_sprt_midway_undecided(void **state)
{
	double g[] = { 100, 101, 99, 100 }, b[] = { 50, 51, 49, 50 }, x[12];
	struct sprt s;
	double llr;

	assert_int_equal(sprt_init(&s, g, 4, b, 4, 0.01, 0.01, 2, 12), 0);
	for (int i = 0; i < 12; i++)
		x[i] = 75;
	assert_int_equal(sprt_decide(&s, x, 1, &llr), SPRT_MORE);
	assert_int_equal(sprt_decide(&s, x, 12, &llr), SPRT_UNDECIDED);
	assert_true(fabs(llr) < 1e-9);
	x[0] = 100;
	x[1] = 99;
	assert_int_equal(sprt_decide(&s, x, 1, &llr), SPRT_MORE); /* min_n 2 */
	assert_int_equal(sprt_decide(&s, x, 2, &llr), SPRT_GOOD);
}

static void test_sprt_bad_input(void **state)
{
	double g[] = { 1, 1 }, b[] = { 1, 1 }, one[] = { 2 };
	struct sprt s;

	assert_int_equal(sprt_init(&s, g, 2, b, 2, 0.01, 0.01, 2, 10), -EINVAL);
	assert_int_equal(sprt_init(&s, g, 2, one, 1, 0.01, 0.01, 2, 10), -EINVAL);
	assert_int_equal(sprt_init(&s, g, 2, (double[]){ 3, 4 }, 2, 0.7, 0.01, 2, 10), -EINVAL);
}

/* Bisect 8 commits for every position of the first bad one, some skipped. */
static void test_bisect_search(void **state)
{
	for (int n = 1; n <= 9; n++)
		for (int fb = 0; fb < n; fb++) {
			enum bisect_mark m[16] = { 0 };
			int first = -2, lo, hi, steps = 0, pick;

			m[n - 1] = BISECT_BAD;
			while ((pick = bisect_next(m, n, &first, &lo, &hi)) >= 0) {
				m[pick] = pick >= fb ? BISECT_BAD : BISECT_GOOD;
				steps++;
			}
			assert_int_equal(first, fb);
			assert_true(steps <= (int)ceil(log2(n)) + 1);
		}
}

static void test_bisect_skip(void **state)
{
	/* 0 1 2 3 4 5 6 7, first bad 4; 5 does not build. */
	enum bisect_mark m[8] = { 0 };
	int first = -2, lo, hi, pick;

	m[7] = BISECT_BAD;
	while ((pick = bisect_next(m, 8, &first, &lo, &hi)) >= 0)
		m[pick] = pick == 5 ? BISECT_SKIP : pick >= 4 ? BISECT_BAD : BISECT_GOOD;
	assert_int_equal(first, 4);
	assert_int_equal(m[5], BISECT_SKIP);
	/* Now 4 is the one skipped: 3 good, 5 bad, 4 unknown: ambiguous. */
	memset(m, 0, sizeof(m));
	m[7] = BISECT_BAD;
	while ((pick = bisect_next(m, 8, &first, &lo, &hi)) >= 0)
		m[pick] = pick == 4 ? BISECT_SKIP : pick >= 4 ? BISECT_BAD : BISECT_GOOD;
	assert_int_equal(first, -1);
	assert_int_equal(lo, 3);
	assert_int_equal(hi, 5);
}

static int sh(const char *dir, const char *const *argv)
{
	char *cmd = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&cmd, &len);
	int rc;

	/* Test-only: fixed arguments, no input from outside the test. */
	fprintf(f, "cd '%s' && env GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 "
		"GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t "
		"GIT_COMMITTER_EMAIL=t@t", dir);
	for (int i = 0; argv[i]; i++)
		fprintf(f, " '%s'", argv[i]);
	fprintf(f, " >/dev/null 2>&1");
	fclose(f);
	rc = system(cmd);
	free(cmd);
	return rc;
}

static char *head_of(const char *dir)
{
	char *cmd = xasprintf("git -C '%s' rev-parse HEAD", dir), buf[64] = "";
	FILE *p = popen(cmd, "r");

	if (p && fgets(buf, sizeof(buf), p))
		rstrip(buf);
	if (p)
		pclose(p);
	free(cmd);
	return xstrdup(buf);
}

static void commit(const char *dir, const char *file, const char *msg)
{
	char *p = xasprintf("%s/%s", dir, file);
	FILE *f = fopen(p, "a");

	fprintf(f, "%s\n", msg);
	fclose(f);
	free(p);
	assert_int_equal(sh(dir, (const char *[]){ "git", "add", file, NULL }), 0);
	assert_int_equal(sh(dir, (const char *[]){ "git", "commit", "-q", "-m", msg, NULL }), 0);
}

/* mm-unstable is rebased every day: yesterday's good head is not an
 * ancestor of tonight's, and the range starts at their merge base. */
static void test_rebase_range(void **state)
{
	char tmpl[] = "/tmp/sb-bisect-XXXXXX", *dir = mkdtemp(tmpl);
	char *base, *old_head, *new_head, *mb = NULL;
	json_t *commits = NULL;
	int rebased = -1;

	assert_non_null(dir);
	assert_int_equal(sh(dir, (const char *[]){ "git", "init", "-q", "-b", "main", NULL }), 0);
	commit(dir, "a", "base");
	base = head_of(dir);
	assert_int_equal(sh(dir, (const char *[]){ "git", "checkout", "-q", "-b", "mm", NULL }), 0);
	commit(dir, "b", "series 1");
	commit(dir, "c", "series 2");
	old_head = head_of(dir);
	/* Plain advance first: good is an ancestor. */
	commit(dir, "d", "series 3");
	new_head = head_of(dir);
	assert_int_equal(bisect_range(dir, old_head, new_head, &mb, &rebased, &commits), 0);
	assert_int_equal(rebased, 0);
	assert_string_equal(mb, old_head);
	assert_int_equal(json_array_size(commits), 1);
	json_decref(commits);
	free(mb);
	free(new_head);
	/* Rebase: the series again on top of a new upstream commit. */
	assert_int_equal(sh(dir, (const char *[]){ "git", "checkout", "-q", "main", NULL }), 0);
	commit(dir, "u", "upstream moved");
	assert_int_equal(sh(dir, (const char *[]){ "git", "checkout", "-q", "-B", "mm2", NULL }),
			 0);
	commit(dir, "b", "series 1");
	commit(dir, "c", "series 2");
	commit(dir, "d", "series 3");
	new_head = head_of(dir);
	assert_int_equal(bisect_range(dir, old_head, new_head, &mb, &rebased, &commits), 0);
	assert_int_equal(rebased, 1);
	assert_string_equal(mb, base);
	/* upstream moved, series 1, 2, 3: oldest first, the head last. */
	assert_int_equal(json_array_size(commits), 4);
	assert_string_equal(json_string_value(json_array_get(commits, 3)), new_head);
	{
		json_t *info = git_commit_info(dir, json_string_value(json_array_get(commits, 0)));

		assert_string_equal(json_string_value(json_object_get(info, "subject")),
				    "upstream moved");
		json_decref(info);
	}
	json_decref(commits);
	free(mb);
	assert_int_equal(bisect_range(dir, "nonexistent", new_head, &mb, &rebased, &commits),
			 -ENOENT);
	free(base);
	free(old_head);
	free(new_head);
	rm_rf(dir);
}

/* A build or cell bisection's report: no SPRT columns (one outcome decides
 * a step), every line within 80 columns. */
static void assert_outcome_report(const char *text)
{
	assert_null(strstr(text, "SPRT"));
	assert_null(strstr(text, "LLR"));
	for (const char *line = text; *line;
	     line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0))
		assert_true(strcspn(line, "\n") <= 80);
}

/* The report of a build bisection names the commit that broke the build and
 * says why each step was decided, with no SPRT columns (nothing ran). */
static void test_print_build(void **state)
{
	json_t *r = json_pack(
		"{s:s,s:s,s:s,s:s,s:b,s:[sss],s:{s:s},s:{s:s,s:s,s:s,s:s},"
		"s:[{s:i,s:s,s:s,s:s,s:s,s:n},{s:i,s:s,s:s,s:s,s:s,s:s}],s:{s:i,s:i,s:i,s:f}}",
		"mode", "build", "status", "found", "good", "1111111111111111",
		"bad", "3333333333333333", "rebased", 0, "commits", "a", "b", "c", "rule", "name",
		"build", "first_bad", "commit", "2222222222222222", "subject", "break it",
		"author", "A <a@x>", "date", "2026-01-01", "steps", "seq", 0, "commit",
		"1111aaaa1111aaaa", "role", "midpoint", "decision", "good", "subject", "fine",
		"reason", "seq", 1, "commit", "2222222222222222", "role", "midpoint", "decision",
		"bad", "subject", "break it", "reason", "build failed: make: error",
		"totals", "steps", 2, "builds", 1, "cells", 0, "seconds", 61.0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	bisect_print(r, f);
	fclose(f);
	assert_non_null(strstr(text, "first bad commit: 222222222222 (\"break it\")"));
	assert_non_null(strstr(text, "bisected a build failure"));
	assert_non_null(strstr(text, "bad       build failed: make: error"));
	assert_non_null(strstr(text, "its build:\n  make: error\n"));
	assert_outcome_report(text);
	free(text);
	json_decref(r);
}

/* The report of a cell bisection quotes the failing cell (a panic's line)
 * at the first bad commit and shows no SPRT columns (one run decides). */
static void test_print_cells(void **state)
{
	json_t *r = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:[sss],s:{s:s},s:{s:s,s:s,s:s,s:s},"
		"s:[{s:i,s:s,s:s,s:s,s:s,s:n},{s:i,s:s,s:s,s:s,s:s,s:s}],s:{s:i,s:i,s:i,s:f}}",
		"mode", "cells", "status", "found", "topology", "zram", "workload", "anon",
		"good", "1111111111111111", "bad", "3333333333333333", "rebased", 0, "commits",
		"a", "b", "c", "rule", "name", "cells", "first_bad", "commit", "2222222222222222",
		"subject", "panic", "author", "A <a@x>", "date", "2026-01-01", "steps", "seq", 0,
		"commit", "1111aaaa1111aaaa", "role", "midpoint", "decision", "good", "subject",
		"fine", "reason", "seq", 1, "commit", "2222222222222222", "role", "midpoint",
		"decision", "bad", "subject", "panic", "reason",
		"k--zram--anon--1 crashed: Kernel panic - not syncing: swapon", "totals", "steps",
		2, "builds", 2, "cells", 0, "seconds", 61.0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	bisect_print(r, f);
	fclose(f);
	assert_non_null(strstr(text, "first bad commit: 222222222222 (\"panic\")"));
	assert_non_null(strstr(text, "bisected a failing cell on zram / anon"));
	assert_non_null(strstr(text, "its cell k--zram--anon--1 crashed:\n  Kernel panic - not "
				     "syncing: swapon\n"));
	assert_outcome_report(text);
	free(text);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sprt_error_rates_tcg),
		cmocka_unit_test(test_sprt_error_rates_small_effect),
		cmocka_unit_test(test_sprt_midway_undecided),
		cmocka_unit_test(test_sprt_bad_input),
		cmocka_unit_test(test_bisect_search),
		cmocka_unit_test(test_bisect_skip),
		cmocka_unit_test(test_rebase_range),
		cmocka_unit_test(test_print_build),
		cmocka_unit_test(test_print_cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
