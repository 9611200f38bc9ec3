/* Text renderings of a comparison document (compare.c), at most 80 columns:
 * the mmtests compare-kernels style (default) and the LKP %change style. */
#define _GNU_SOURCE
#include "harness/compare.h"
#include "common/fsutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COL_W 21 /* " 107.69 (  10.52%)" */
#define GREEN "\033[32m"
#define RED "\033[31m"
#define RESET "\033[0m"

static double jnum(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void fmt_num(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.3e", v); /* 9 columns */
	else if (fabs(v) < 10)
		snprintf(buf, len, "%.3f", v); /* bytes per slot need the third digit */
	else
		snprintf(buf, len, "%.2f", v);
}

static void fmt_pct(double p, char *buf, size_t len)
{
	if (!isfinite(p))
		snprintf(buf, len, "%s", isnan(p) ? "nan" : p > 0 ? "+inf" : "-inf");
	else if (fabs(p) >= 10000)
		snprintf(buf, len, "%.0f", p);
	else
		snprintf(buf, len, "%.2f", p);
}

static const char *group_title(const json_t *g, char *buf, size_t len)
{
	const char *k = json_string_value(json_object_get(g, "kernel"));

	snprintf(buf, len, "%s%s%s / %s", k ? k : "", k ? ": " : "",
		 json_string_value(json_object_get(g, "topology")),
		 json_string_value(json_object_get(g, "workload")));
	return buf;
}

static void print_header(const json_t *cmp, FILE *out, const char *style)
{
	const json_t *setup = json_object_get(cmp, "setup"), *vm = json_object_get(setup, "vm");
	json_t *c, *a;
	size_t i, j;
	char accel[64] = "", memcg[96] = "";

	json_array_foreach(json_object_get(setup, "accel"), i, a)
		snprintf(accel + strlen(accel), sizeof(accel) - strlen(accel), "%s%s",
			 i ? "," : "", json_string_value(a));
	json_array_foreach(json_object_get(setup, "memcg_max"), i, a)
		snprintf(memcg + strlen(memcg), sizeof(memcg) - strlen(memcg), "%s%s",
			 i ? "," : "", json_string_value(a));
	fprintf(out, "swapbench compare (%s style), baseline %s\n", style,
		json_string_value(json_object_get(cmp, "baseline")));
	fprintf(out, "Setup: VM %lldM %lld CPUs, accel %s, memcg max %s, %lld iterations\n",
		(long long)json_integer_value(json_object_get(vm, "memory_mb")),
		(long long)json_integer_value(json_object_get(vm, "cpus")), accel,
		memcg[0] ? memcg : "none",
		(long long)json_integer_value(json_object_get(setup, "iterations")));
	if (json_integer_value(json_object_get(setup, "concurrency")) > 1)
		fprintf(out, "Warning: cells ran up to %lld at once (--jobs): wall-time numbers "
			"are not comparable\n",
			(long long)json_integer_value(json_object_get(setup, "concurrency")));
	json_array_foreach(json_object_get(cmp, "columns"), i, c) {
		const json_t *k = json_object_get(c, "kernel");

		if (json_is_object(k)) {
			fprintf(out, "%-9s %.12s = %.20s %.30s\n", i ? "" : "Kernels:",
				json_string_value(json_object_get(c, "label")),
				json_string_value(json_object_get(k, "source")),
				json_string_value(json_object_get(k, "release")) ?: "");
		} else {
			json_t *kk;

			fprintf(out, "%-9s %.12s = run %.50s\n", i ? "" : "Runs:",
				json_string_value(json_object_get(c, "label")),
				json_string_value(json_object_get(c, "run")));
			json_array_foreach(json_object_get(c, "kernels"), j, kk)
				fprintf(out, "%-9s %14s %.12s = %.20s %.24s\n", "", "",
					json_string_value(json_object_get(kk, "name")),
					json_string_value(json_object_get(kk, "source")),
					json_string_value(json_object_get(kk, "release")) ?: "");
		}
	}
}

/* One mmtests row: label, then per column "value ( pct%)" or "value * pct%*". */
static void mm_row(FILE *out, const char *stat, const char *name, const json_t *m, size_t c0,
		   size_t c1, const char *field, int pct_kind, int mark, int color)
{
	const json_t *cols = json_object_get(m, "columns");
	const json_t *b = json_array_get(cols, 0);
	int hb = !strcmp(json_string_value(json_object_get(m, "better")) ?: "", "higher");
	size_t idx[2] = { c0, c1 };

	fprintf(out, "%-8s %-28.28s", stat, name);
	for (int k = 0; k < 2; k++) {
		const json_t *st = json_array_get(cols, idx[k]);
		const json_t *ch = json_array_get(json_object_get(m, "changes"), idx[k]);
		char v[32], p[32];
		double val, bval, pct;
		int sig = 0;

		if (!json_is_object(st)) {
			fprintf(out, "%*s", COL_W, "n/a");
			continue;
		}
		val = !strcmp(field, "headline") ? (json_object_get(st, "hmean") ?
						   jnum(st, "hmean") : jnum(st, "mean"))
						 : jnum(st, field);
		bval = !strcmp(field, "headline") ? (json_object_get(b, "hmean") ?
						    jnum(b, "hmean") : jnum(b, "mean"))
						  : jnum(b, field);
		if (!strcmp(field, "cv")) {
			/* CoeffVar is shown in percent, as mmtests does. */
			val *= 100;
			bval *= 100;
		}
		fmt_num(val, v, sizeof(v));
		/* mmtests: dispersion is better when lower, whatever the metric. */
		pct = idx[k] == 0 ? 0 : compare_pct_better(bval, val, pct_kind ? hb : 0);
		if (mark && idx[k] && json_is_object(ch))
			sig = json_is_true(json_object_get(ch, "significant"));
		fmt_pct(pct, p, sizeof(p));
		if (sig && color)
			fprintf(out, " %9s %s*%7s%%*%s", v, pct >= 0 ? GREEN : RED, p, RESET);
		else if (sig)
			fprintf(out, " %9s *%7s%%*", v, p);
		else
			fprintf(out, " %9s (%7s%%)", v, p);
	}
	fputc('\n', out);
}

static void mm_plain_row(FILE *out, const char *stat, const char *name, const char *a,
			 const char *b)
{
	fprintf(out, "%-8s %-28.28s %9s%12s%9s\n", stat, name, a, "", b);
}

/* "MDE  name  12.34%": the smallest change this row could have detected,
 * by the test that gave the verdict. */
static void mde_row(FILE *out, const char *name, const json_t *ch, int paired)
{
	const json_t *m = json_object_get(ch, paired ? "paired_mde_pct" : "mde_pct");
	char a[32];

	if (json_is_number(m))
		snprintf(a, sizeof(a), "%.2f%%", json_number_value(m));
	else
		snprintf(a, sizeof(a), "n/a");
	mm_plain_row(out, "MDE", name, "", a);
}

/* Host noise warnings of a group (compare-power.c). */
static void host_warnings(FILE *out, const json_t *g)
{
	const json_t *w;
	size_t i;

	/* Wrapped at 79 columns: the text goes into emails. */
	json_array_foreach(json_object_get(g, "host_warnings"), i, w) {
		const char *p = json_string_value(w);
		int col = fprintf(out, "Warning:");

		while (*p) {
			size_t len = strcspn(p, " ");

			if (col + 1 + (int)len > 79)
				col = fprintf(out, "\n        ");
			col += fprintf(out, " %.*s", (int)len, p);
			p += len;
			p += strspn(p, " ");
		}
		fputc('\n', out);
	}
}

void compare_print_mmtests(const json_t *cmp, FILE *out, int color)
{
	const json_t *g, *m, *cols = json_object_get(cmp, "columns");
	size_t ncols = json_array_size(cols), gi, mi;
	int paired = !strcmp(json_string_value(json_object_get(json_object_get(cmp, "conventions"),
							       "verdict_test")) ?: "", "paired");

	print_header(cmp, out, "mmtests");
	fprintf(out, "Percentages: better is positive (times 100-new/base*100, rates\n"
		     "new/base*100-100); *x%%* = significant: 95%% CIs do not overlap.\n");
	/* 80 columns fit the baseline and one other: one block per candidate. */
	for (size_t c = 1; c < ncols; c++) {
		json_array_foreach(json_object_get(cmp, "groups"), gi, g) {
			char title[160];

			fprintf(out, "\n%-37.37s %9.9s%12s%9.9s\n",
				group_title(g, title, sizeof(title)),
				json_string_value(json_object_get(json_array_get(cols, 0), "label")),
				"",
				json_string_value(json_object_get(json_array_get(cols, c), "label")));
			host_warnings(out, g);
			json_array_foreach(json_object_get(g, "metrics"), mi, m) {
				const char *name = json_string_value(json_object_get(m, "name"));
				int hb = !strcmp(json_string_value(json_object_get(m, "better")) ?: "",
						 "higher");
				const json_t *ch = json_array_get(json_object_get(m, "changes"), c);
				const json_t *st = json_array_get(json_object_get(m, "columns"), c);
				char p[32];

				mm_row(out, hb ? "Hmean" : "Amean", name, m, 0, c, "headline", 1, 1,
				       color);
				mm_row(out, "Stddev", name, m, 0, c, "stddev", 0, 0, 0);
				mm_row(out, "CoeffVar", name, m, 0, c, "cv", 0, 0, 0);
				mm_row(out, "Min", name, m, 0, c, "min", 1, 0, 0);
				mm_row(out, "Max", name, m, 0, c, "max", 1, 0, 0);
				if (json_is_object(ch)) {
					json_t *wp = json_object_get(ch, paired ? "paired_p"
										 : "welch_p");

					if (json_is_real(wp))
						snprintf(p, sizeof(p), "%.4f",
							 json_real_value(wp));
					else
						snprintf(p, sizeof(p), "n/a");
					mm_plain_row(out, paired ? "Paired-p" : "Welch-p", name,
						     "", p);
					mde_row(out, name, ch, paired);
					snprintf(p, sizeof(p), "%s%s",
						 json_string_value(json_object_get(ch, "verdict")),
						 json_is_true(json_object_get(ch, "noisy")) &&
								 json_is_true(json_object_get(
									 ch, "significant"))
							 ? "?"
							 : "");
					mm_plain_row(out, "Verdict", name, "", p);
				} else if (!json_is_object(st)) {
					mm_plain_row(out, "Verdict", name, "", "missing");
				}
			}
			json_array_foreach(json_object_get(g, "counters"), mi, m) {
				const json_t *cc = json_object_get(m, "columns");
				char a[32] = "n/a", b[32] = "n/a";

				/* An email has no room for counters that never moved. */
				if (jnum(json_array_get(cc, 0), "mean") == 0 &&
				    jnum(json_array_get(cc, c), "mean") == 0)
					continue;
				if (json_is_object(json_array_get(cc, 0)))
					fmt_num(jnum(json_array_get(cc, 0), "mean"), a, sizeof(a));
				if (json_is_object(json_array_get(cc, c)))
					fmt_num(jnum(json_array_get(cc, c), "mean"), b, sizeof(b));
				fprintf(out, "Ops %-33.33s %9s%12s%9s\n",
					json_string_value(json_object_get(m, "name")), a, "", b);
			}
		}
	}
	json_array_foreach(json_object_get(cmp, "geomean"), gi, g) {
		const json_t *v = json_object_get(g, "columns");

		fprintf(out, "\nGmean ratio %s vs %s (>1 is better):", json_string_value(
				json_object_get(g, "workload")),
			json_string_value(json_object_get(json_array_get(cols, 0), "label")));
		for (size_t c = 1; c < ncols; c++) {
			if (json_is_real(json_array_get(v, c)))
				fprintf(out, " %s %.3f", json_string_value(json_object_get(
					json_array_get(cols, c), "label")),
					json_real_value(json_array_get(v, c)));
		}
		fputc('\n', out);
	}
	{
		const json_t *conv = json_object_get(cmp, "conventions");
		double thr = jnum(conv, "threshold_pct");

		fprintf(out, "\nMDE = smallest change the row could detect (%s, alpha 0.05 "
			     "two-sided,\npower 0.8).\nVerdict: better/worse = %s; same = not, with MDE <= "
			     "%.0f%%;\nunderpowered = not, and the MDE is larger: a change that "
			     "size could\nhide here. ? = significant but CoeffVar > %.0f%% or n < "
			     "%d. Ops = mean\ncounter deltas per run (zero ones hidden; all are "
			     "in --json).\n",
			paired ? "paired t" : "Welch",
			paired ? "paired t-test p < 0.05" : "significant", 2 * thr,
			COMPARE_NOISY_CV * 100, COMPARE_MIN_N);
	}
}

/* Many kernels (a history, a bisection range): one line per kernel under
 * each metric, so six kernels stay inside 80 columns. */
void compare_print_rows(const json_t *cmp, FILE *out, int color)
{
	const json_t *g, *m, *cols = json_object_get(cmp, "columns");
	size_t ncols = json_array_size(cols), gi, mi;

	print_header(cmp, out, "rows");
	fprintf(out, "One line per kernel; %%base: better is positive; *x%%* = significant:\n"
		     "95%% CIs do not overlap; +-: half the 95%% CI.\n");
	json_array_foreach(json_object_get(cmp, "groups"), gi, g) {
		char title[160];

		fprintf(out, "\n%s\n", group_title(g, title, sizeof(title)));
		json_array_foreach(json_object_get(g, "metrics"), mi, m) {
			const char *unit = json_string_value(json_object_get(m, "unit"));

			fprintf(out, "  %s%s%s%s (%s is better)\n",
				json_string_value(json_object_get(m, "name")), unit ? " (" : "",
				unit ? unit : "", unit ? ")" : "",
				json_string_value(json_object_get(m, "better")) ?: "?");
			fprintf(out, "    %-14s %3s %11s %10s %10s  %s\n", "kernel", "n", "mean",
				"+-", "%base", "verdict");
			for (size_t c = 0; c < ncols; c++) {
				const json_t *st = json_array_get(json_object_get(m, "columns"), c);
				const json_t *ch = json_array_get(json_object_get(m, "changes"), c);
				const json_t *ci = json_object_get(st, "ci95");
				const char *label = json_string_value(
					json_object_get(json_array_get(cols, c), "label"));
				char v[32], h[32], p[64] = "", verdict[40] = "";

				if (!json_is_object(st)) {
					fprintf(out, "    %-14.14s %3s %11s\n", label, "-", "missing");
					continue;
				}
				fmt_num(json_object_get(st, "hmean") ? jnum(st, "hmean")
								      : jnum(st, "mean"), v, sizeof(v));
				if (json_array_size(ci) == 2)
					fmt_num((json_number_value(json_array_get(ci, 1)) -
						 json_number_value(json_array_get(ci, 0))) / 2, h,
						sizeof(h));
				else
					snprintf(h, sizeof(h), "-");
				if (c == 0) {
					snprintf(verdict, sizeof(verdict), "baseline");
				} else if (json_is_object(ch)) {
					int sig = json_is_true(json_object_get(ch, "significant"));
					double pct = jnum(ch, "pct_change");
					char q[24];

					fmt_pct(pct, q, sizeof(q));
					snprintf(p, sizeof(p), sig ? "*%s%%*" : "%s%%", q);
					snprintf(verdict, sizeof(verdict), "%s%s",
						 json_string_value(json_object_get(ch, "verdict")) ?: "",
						 json_is_true(json_object_get(ch, "noisy")) &&
								 strcmp(json_string_value(json_object_get(
									 ch, "verdict")) ?: "", "noise")
							 ? "?" : "");
					if (sig && color)
						snprintf(p, sizeof(p), "%s*%s%%*%s",
							 pct >= 0 ? GREEN : RED, q, RESET);
				}
				fprintf(out, "    %-14.14s %3lld %11s %10s %10s  %s\n", label,
					(long long)json_integer_value(json_object_get(st, "n")), v, h,
					p, verdict);
			}
		}
	}
	fprintf(out, "\nVerdict: better/worse = significant; noise = CoeffVar > %.0f%% or n < %d;"
		     "\n? = significant but noisy.\n", COMPARE_NOISY_CV * 100, COMPARE_MIN_N);
}

/* LKP: "value ± NN%" with the ± part only above 2%. */
static void lkp_cell(const json_t *st, char *buf, size_t len)
{
	char v[32];
	double mean, cv;

	if (!json_is_object(st)) {
		snprintf(buf, len, "%16s", "n/a");
		return;
	}
	mean = jnum(st, "mean");
	cv = jnum(st, "cv") * 100;
	if (fabs(mean) >= 100)
		snprintf(v, sizeof(v), "%.0f", mean);
	else
		snprintf(v, sizeof(v), "%.2f", mean);
	if (cv > 2)
		snprintf(buf, len, "%10s \u00b1%3.0f%%", v, cv);
	else
		snprintf(buf, len, "%10s      ", v);
}

void compare_print_lkp(const json_t *cmp, FILE *out, int color)
{
	const json_t *g, *m, *cols = json_object_get(cmp, "columns");
	size_t ncols = json_array_size(cols), gi, mi;

	print_header(cmp, out, "LKP");
	fprintf(out, "%%change = (new-base)/base, not direction-adjusted; \u00b1 = stddev/mean"
		     " when > 2%%;\n! = changed by LKP's rule (ranges separate, n >= 3, >= 1%%)."
		     "\n");
	for (size_t c = 1; c < ncols; c++) {
		fprintf(out, "\n%16.16s %27.27s\n---------------- ---------------------------\n"
			     "         %%stddev     %%change         %%stddev\n"
			     "             \\          |                \\\n",
			json_string_value(json_object_get(json_array_get(cols, 0), "label")),
			json_string_value(json_object_get(json_array_get(cols, c), "label")));
		json_array_foreach(json_object_get(cmp, "groups"), gi, g) {
			const char *kern = json_string_value(json_object_get(g, "kernel"));
			char prefix[128];

			snprintf(prefix, sizeof(prefix), "%s%s%s.%s.", kern ? kern : "",
				 kern ? "." : "", json_string_value(json_object_get(g, "topology")),
				 json_string_value(json_object_get(g, "workload")));
			json_array_foreach(json_object_get(g, "metrics"), mi, m) {
				const json_t *ch = json_array_get(json_object_get(m, "changes"), c);
				char a[64], b[64], name[160], pct[16] = "";
				int changed = json_is_true(json_object_get(ch, "lkp_changed"));

				lkp_cell(json_array_get(json_object_get(m, "columns"), 0), a,
					 sizeof(a));
				lkp_cell(json_array_get(json_object_get(m, "columns"), c), b,
					 sizeof(b));
				if (json_is_object(ch))
					snprintf(pct, sizeof(pct), "%+.1f%%",
						 jnum(ch, "raw_change"));
				snprintf(name, sizeof(name), "%s%s", prefix,
					 json_string_value(json_object_get(m, "name")));
				fprintf(out, "%s %s%10s%s%c %s  %.32s\n", a,
					changed && color ? (jnum(ch, "pct_change") >= 0 ? GREEN : RED)
							 : "",
					pct, changed && color ? RESET : "", changed ? '!' : ' ', b,
					name);
			}
		}
	}
}
