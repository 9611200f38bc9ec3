#define _GNU_SOURCE
#include "common/jsonget.h"
#include "harness/report-html.h"
#include "harness/bisect.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/plot.h"
#include "common/process.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- trend charts ---- */

static int gnuplot(const char *dir, const char *script)
{
	const char *argv[] = { "gnuplot", script, NULL };
	struct spawn_opts so = { .argv = argv, .timeout_ms = 60000, .capture = 1,
				 .merge_stderr = 1, .cwd = dir };
	struct spawn_result r = { 0 };
	int rc = spawn_run(&so, &r);

	if (rc == -ENOENT)
		return sb_err(ENOPKG, "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	if (!rc && (r.timed_out || r.exit_code))
		rc = sb_err(EIO, "gnuplot %s/%s failed: %.1000s", dir, script, r.out ?: "");
	spawn_result_release(&r);
	return rc;
}

/* The subject of the first bad commit a bisect found at a night. */
static const json_t *bisect_at(const json_t *dump, json_int_t night)
{
	const json_t *b;
	size_t i;

	json_array_foreach(json_object_get(dump, "bisects"), i, b)
		if (json_integer_value(json_object_get(b, "night_id")) == night &&
		    !strcmp(jstr(b, "status"), "found"))
			return b;
	return NULL;
}

/* The metrics of the series, each once; those with a regression first
 * (the page shows them at the top). */
static json_t *trend_metrics(const json_t *dump)
{
	json_t *metrics = json_array(), *first = json_array(), *rest = json_array(), *s, *m, *pt;
	size_t i, j, k;

	json_array_foreach(json_object_get(dump, "series"), i, s) {
		int seen = 0;

		json_array_foreach(metrics, j, m)
			seen |= !strcmp(json_string_value(m), jstr(s, "metric"));
		if (!seen)
			json_array_append_new(metrics, json_string(jstr(s, "metric")));
	}
	json_array_foreach(metrics, j, m) {
		int reg = 0;

		json_array_foreach(json_object_get(dump, "series"), i, s)
			if (!strcmp(jstr(s, "metric"), json_string_value(m)))
				json_array_foreach(json_object_get(s, "points"), k, pt)
					reg |= json_is_true(json_object_get(pt, "regression"));
		json_array_append(reg ? first : rest, m);
	}
	json_array_extend(first, rest);
	json_decref(rest);
	json_decref(metrics);
	return first;
}

/* One data block per series of metric: night mean stddev regression.
 * Returns whether any night regressed; *unit: the series' unit. */
static int trend_dat(FILE *d, const json_t *dump, const char *metric, const char **unit)
{
	json_t *s, *pt;
	size_t j, k;
	int any_reg = 0;

	json_array_foreach(json_object_get(dump, "series"), j, s) {
		if (strcmp(jstr(s, "metric"), metric))
			continue;
		*unit = jstr(s, "unit");
		fprintf(d, "# %s %s/%s\n", jstr(s, "kernel"), jstr(s, "topology"),
			jstr(s, "workload"));
		json_array_foreach(json_object_get(s, "points"), k, pt) {
			int reg = json_is_true(json_object_get(pt, "regression"));

			any_reg |= reg;
			fprintf(d, "%lld %.6g %.6g %d\n",
				(long long)json_integer_value(json_object_get(pt, "night")),
				json_number_value(json_object_get(pt, "mean")),
				json_number_value(json_object_get(pt, "stddev")), reg);
		}
		fprintf(d, "\n\n");
	}
	return any_reg;
}

/* The bisected commits, named at their night (on the first series). */
static void trend_labels(FILE *g, const json_t *dump, const char *metric)
{
	json_t *s, *pt;
	size_t j, k;

	json_array_foreach(json_object_get(dump, "series"), j, s) {
		if (strcmp(jstr(s, "metric"), metric))
			continue;
		json_array_foreach(json_object_get(s, "points"), k, pt) {
			const json_t *b = bisect_at(dump, json_integer_value(
								 json_object_get(pt, "night")));
			char label[96];

			if (!b || !json_is_true(json_object_get(pt, "regression")))
				continue;
			snprintf(label, sizeof(label), "first bad %.12s", jstr(b, "first_bad"));
			fprintf(g, "set label ");
			plot_gp_quote(g, label);
			fprintf(g, " at %lld, %.6g offset 1,1 textcolor rgb '#c00000'\n",
				(long long)json_integer_value(json_object_get(pt, "night")),
				json_number_value(json_object_get(pt, "mean")));
		}
		break;
	}
}

/* plot: a line per series, regressions as red points. */
static void trend_plot(FILE *g, const json_t *dump, const char *metric, const char *base,
		       int any_reg)
{
	json_t *s;
	size_t j;
	int idx = 0;

	json_array_foreach(json_object_get(dump, "series"), j, s) {
		char title[256];

		if (strcmp(jstr(s, "metric"), metric))
			continue;
		snprintf(title, sizeof(title), "%s %s/%s", jstr(s, "kernel"), jstr(s, "topology"),
			 jstr(s, "workload"));
		fprintf(g, "%s'%s.dat' index %d using 1:2:3 with yerrorlines lw 2 title ",
			idx ? ", " : "", base, idx);
		plot_gp_quote(g, title);
		fprintf(g, ", '%s.dat' index %d using 1:($4 > 0 ? $2 : 1/0) with "
			   "points pt 7 ps 2.5 lc rgb '#c00000' title %s",
			base, idx, idx == 0 && any_reg ? "'regression'" : "''");
		idx++;
	}
}

/* trend-N.{dat,gp} of one metric, rendered; *ent: {metric, png, svg}. */
static int trend_chart(const json_t *dump, const char *out_dir, size_t n, json_t *m,
		       unsigned formats, json_t **ent)
{
	char *gp = xasprintf("%s/trend-%zu.gp", out_dir, n);
	char *dat = xasprintf("%s/trend-%zu.dat", out_dir, n);
	char *base = xasprintf("trend-%zu", n), *script;
	FILE *g = fopen(gp, "w"), *d = fopen(dat, "w");
	const char *unit = "";
	int any_reg, rc;

	*ent = json_pack("{s:O}", "metric", m);
	if (!g || !d) {
		rc = sb_err(errno, "cannot write '%s': %s", gp, strerror(errno));
		if (g)
			fclose(g);
		if (d)
			fclose(d);
		free(gp);
		free(dat);
		free(base);
		return rc;
	}
	any_reg = trend_dat(d, dump, json_string_value(m), &unit);
	fclose(d);
	fprintf(g, "# swapbench history --plot: %s per night (run 'gnuplot %s.gp' here)\n",
		json_string_value(m), base);
	fprintf(g, "set xlabel 'night'\nset ylabel ");
	plot_gp_quote(g, unit);
	fprintf(g, "\nset title ");
	plot_gp_quote(g, json_string_value(m));
	fprintf(g, "\nset key outside bottom center horizontal\nset grid\n"
		   "set xtics 1\nset offsets 0.3, 0.3, 0, 0\n");
	trend_labels(g, dump, json_string_value(m));
	for (int f = 0; f < 2; f++) {
		unsigned bit = f ? PLOT_SVG : PLOT_PNG;

		if (!(formats & bit))
			continue;
		fprintf(g, "set terminal %s noenhanced size 640,340 font 'DejaVu Sans,9'\n"
			   "set output '%s.%s'\nplot ",
			f ? "svg dynamic" : "pngcairo", base, f ? "svg" : "png");
		trend_plot(g, dump, json_string_value(m), base, any_reg);
		fprintf(g, "\nunset output\n");
		json_object_set_new(*ent, f ? "svg" : "png",
				    json_sprintf("%s.%s", base, f ? "svg" : "png"));
	}
	fclose(g);
	script = xasprintf("%s.gp", base);
	rc = gnuplot(out_dir, script);
	free(script);
	free(gp);
	free(dat);
	free(base);
	return rc;
}

int history_plot(const json_t *dump, const char *out_dir, unsigned formats, json_t **written)
{
	json_t *metrics = NULL, *out = json_array(), *m, *ent;
	size_t i;
	int rc;

	if (!formats)
		formats = PLOT_PNG | PLOT_SVG;
	if ((rc = mkdir_p(out_dir, 0755)))
		goto done;
	metrics = trend_metrics(dump);
	json_array_foreach(metrics, i, m) {
		rc = trend_chart(dump, out_dir, i + 1, m, formats, &ent);
		if (rc) {
			json_decref(ent);
			break;
		}
		json_array_append_new(out, ent);
	}
done:
	json_decref(metrics);
	if (!rc && written)
		*written = out;
	else
		json_decref(out);
	return rc;
}

/* ---- HTML ---- */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* HTML, then text escaped, then HTML: the shape of every cell and link. */
static void put(FILE *f, const char *before, const char *text, const char *after)
{
	fputs(before, f);
	esc(f, text);
	fputs(after, f);
}

/* A link target relative to the report when it is below it. */
static char *href(const char *out_abs, const char *path)
{
	size_t n = out_abs ? strlen(out_abs) : 0;

	if (n && !strncmp(path, out_abs, n) && path[n] == '/')
		return xstrdup(path + n + 1);
	return xasprintf("file://%s", path);
}

static const char *verdict_class(const json_t *v)
{
	const char *s = jstr(v, "verdict");

	if (json_is_true(json_object_get(v, "regression")))
		return "reg";
	if (!strcmp(s, "worse"))
		return "worse";
	if (!strcmp(s, "better"))
		return "better";
	return "plain";
}

static void html_head(FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>swapbench nightly</title>\n<style>\n"
	      "body{font-family:DejaVu Sans,sans-serif;margin:1.5em;color:#222;max-width:70em}\n"
	      "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
	      "th,td{border:1px solid #bbb;padding:0.2em 0.6em;text-align:right}\n"
	      "th{background:#eee}td.l{text-align:left}\n"
	      "tr.reg td{background:#f8d0d0;font-weight:bold}tr.worse td{background:#fbe9e9}\n"
	      "tr.better td{background:#e2f3e2}\n"
	      "pre{background:#f6f6f6;padding:0.8em;border:1px solid #ddd;overflow:auto}\n"
	      "figure{display:inline-block;margin:0.3em;width:47%}"
	      "img{width:100%;border:1px solid #ddd}\n.v-regression{color:#c00000}"
	      ".v-good,.v-baseline{color:#207020}\n</style></head><body>\n", f);
}

/* The latest night, from its directory (the source of truth), with its
 * bisection; *loaded_* own what was read. */
static const json_t *latest_night(const json_t *dump, const json_t **bisect,
				  json_t **loaded_night, json_t **loaded_bisect)
{
	size_t k = json_array_size(json_object_get(dump, "nights"));
	const json_t *last = k ? json_array_get(json_object_get(dump, "nights"), k - 1) : NULL;
	const json_t *night = NULL;

	if (last && json_is_string(json_object_get(last, "dir"))) {
		char *np = xasprintf("%s/night.json", jstr(last, "dir"));
		char *bp = xasprintf("%s/bisect/bisect.json", jstr(last, "dir"));

		night = *loaded_night = json_load_file(np, 0, NULL);
		/* Its id in this database (a rebuilt one numbers anew). */
		if (*loaded_night)
			json_object_set(*loaded_night, "id", json_object_get(last, "id"));
		if (!*bisect)
			*bisect = *loaded_bisect = json_load_file(bp, 0, NULL);
		free(np);
		free(bp);
	}
	return night ? night : last;
}

/* Night N: verdict, branch at head (subject), and why it was not judged. */
static void html_night(FILE *f, const json_t *night)
{
	fprintf(f, "<h2>Night %lld: <span class=\"v-%s\">", (long long)json_integer_value(
							      json_object_get(night, "id")),
		jstr(night, "verdict"));
	put(f, "", jstr(night, "verdict"), "</span></h2>\n");
	put(f, "<p>", jstr(night, "branch"), " at <code>");
	put(f, "", jstr(night, "head"), "</code> (");
	put(f, "", jstr(night, "subject"), ")</p>\n");
	if (json_object_get(night, "error"))
		put(f, "<p><b>Could not be judged:</b> ", jstr(night, "error"), "</p>\n");
	if (!strcmp(jstr(night, "failure"), "build"))
		put(f, "<p id=\"failure\"><b>Regression of the branch:</b> ", jstr(night, "branch"),
		    " does not build at this head.</p>\n");
	if (!strcmp(jstr(night, "failure"), "cells")) {
		put(f, "<p id=\"failure\"><b>Regression of the branch:</b> a cell of ",
		    jstr(night, "branch"), " fails at this head: <code>");
		put(f, "", jstr(night, "failed_cell"), "</code></p>\n");
	}
}

/* A cell of a change in percent or of a p-value, or an empty one. */
/* A number cell (blank when absent): pct 1 a signed %, 2 a mean (%.4g),
 * 0 a p value. */
static void td_num(FILE *f, const json_t *v, int pct)
{
	if (!json_is_number(v))
		fputs("<td></td>", f);
	else if (pct == 2)
		fprintf(f, "<td>%.4g</td>", json_number_value(v));
	else if (pct)
		fprintf(f, "<td>%+.1f%%</td>", json_number_value(v));
	else
		fprintf(f, "<td>%.3f</td>", json_number_value(v));
}

static void html_verdicts(FILE *f, const json_t *night)
{
	json_t *v;
	size_t i;

	fputs("<h3>Verdicts against the pooled last good nights</h3>\n<table id=\"verdicts\">"
	      "<tr><th>topology</th><th>workload</th><th>metric</th><th>unit</th>"
	      "<th>base</th><th>tonight</th><th>change</th><th>p</th><th>n</th>"
	      "<th>verdict</th></tr>\n", f);
	json_array_foreach(json_object_get(night, "verdicts"), i, v) {
		static const char *const names[] = { "topology", "workload", "metric", "unit" };

		fprintf(f, "<tr class=\"%s\">", verdict_class(v));
		for (size_t k = 0; k < 4; k++)
			put(f, "<td class=l>", jstr(v, names[k]), "</td>");
		/* A baseline night has no base mean: blank, not 0. */
		td_num(f, json_object_get(v, "base_mean"), 2);
		td_num(f, json_object_get(v, "new_mean"), 2);
		td_num(f, json_object_get(v, "pct_change"), 1);
		td_num(f, json_object_get(v, "welch_p"), 0);
		fprintf(f, "<td>%lld/%lld</td><td class=l>",
			(long long)json_integer_value(json_object_get(v, "n_base")),
			(long long)json_integer_value(json_object_get(v, "n_new")));
		esc(f, jstr(v, "verdict"));
		if (json_is_true(json_object_get(v, "regression")))
			fputs(" (regression)", f);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void html_bisect_report(FILE *f, const json_t *bisect)
{
	char *rep = NULL;
	size_t rl = 0;
	FILE *bf = open_memstream(&rep, &rl);

	bisect_print(bisect, bf);
	fclose(bf);
	put(f, "<h3>Bisection</h3>\n<pre id=\"bisect\">", rep, "</pre>\n");
	free(rep);
}

static void html_charts(FILE *f, const json_t *charts)
{
	json_t *v;
	size_t i;

	fputs("<h3>Trends</h3>\n", f);
	json_array_foreach(charts, i, v) {
		put(f, "<figure><img src=\"", jstr(v, "svg"), "\" alt=\"trend of ");
		put(f, "", jstr(v, "metric"), "\"></figure>\n");
	}
}

/* The nights, with links to their files. */
static void html_nights(FILE *f, const json_t *dump, const char *out_abs)
{
	json_t *n;
	size_t i;

	fputs("<h3>Nights</h3>\n<table id=\"nights\"><tr><th>night</th><th>started</th>"
	      "<th>head</th><th>subject</th><th>verdict</th><th>run</th></tr>\n", f);
	json_array_foreach(json_object_get(dump, "nights"), i, n) {
		char *d = json_object_get(n, "dir") && json_is_string(json_object_get(n, "dir"))
				  ? href(out_abs, jstr(n, "dir")) : NULL;

		fprintf(f, "<tr><td>%lld</td>",
			(long long)json_integer_value(json_object_get(n, "id")));
		put(f, "<td class=l>", jstr(n, "started"), "</td>");
		fprintf(f, "<td class=l><code>%.12s</code></td>", jstr(n, "head"));
		put(f, "<td class=l>", jstr(n, "subject"), "</td>");
		fprintf(f, "<td class=\"l v-%s\">", jstr(n, "verdict"));
		put(f, "", jstr(n, "verdict"), "</td><td class=l>");
		if (d) {
			put(f, "<a href=\"", d, "/run/run.json\">run.json</a> ");
			put(f, "<a href=\"", d, "/run/summary.json\">summary.json</a> ");
			put(f, "<a href=\"", d, "/night.json\">night.json</a>");
		}
		fputs("</td></tr>\n", f);
		free(d);
	}
	fputs("</table>\n", f);
}

/* The bisections, step by step. */
static void html_bisects(FILE *f, const json_t *dump, const char *out_abs)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(dump, "bisects"), i, s) {
		json_t *st;
		size_t k;

		fprintf(f, "<h3>Bisection %lld (night %lld): ",
			(long long)json_integer_value(json_object_get(s, "id")),
			(long long)json_integer_value(json_object_get(s, "night_id")));
		put(f, "", jstr(s, "status"), "</h3>\n<table class=\"steps\"><tr><th>step</th>"
		    "<th>commit</th><th>decision</th><th>n</th><th>mean</th><th>LLR</th>"
		    "<th>run</th></tr>\n");
		json_array_foreach(json_object_get(s, "steps"), k, st) {
			char *d = json_is_string(json_object_get(st, "run"))
					  ? href(out_abs, jstr(st, "run")) : NULL;

			fprintf(f, "<tr><td>%lld</td><td class=l><code>%.12s</code></td><td class=l>",
				(long long)json_integer_value(json_object_get(st, "seq")),
				jstr(st, "commit"));
			esc(f, jstr(st, "decision"));
			fprintf(f, "</td><td>%lld</td><td>%.4g</td><td>%.2f</td><td class=l>",
				(long long)json_integer_value(json_object_get(st, "n")),
				json_number_value(json_object_get(st, "mean")),
				json_number_value(json_object_get(st, "llr")));
			if (d)
				put(f, "<a href=\"", d, "/summary.json\">summary.json</a>");
			fputs("</td></tr>\n", f);
			free(d);
		}
		fputs("</table>\n", f);
	}
}

int html_report_write(const json_t *dump, const json_t *night, const json_t *bisect,
		      const char *out_dir)
{
	char *path = xasprintf("%s/index.html", out_dir), *text = NULL, *out_abs;
	json_t *charts = NULL, *loaded_night = NULL, *loaded_bisect = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((rc = mkdir_p(out_dir, 0755))) {
		free(path);
		return rc;
	}
	out_abs = realpath(out_dir, NULL);
	if (json_array_size(json_object_get(dump, "series")) &&
	    (rc = history_plot(dump, out_dir, PLOT_SVG, &charts))) {
		free(path);
		free(out_abs);
		return rc;
	}
	f = open_memstream(&text, &len);
	html_head(f);
	if (!night)
		night = latest_night(dump, &bisect, &loaded_night, &loaded_bisect);
	fputs("<h1>swapbench nightly</h1>\n", f);
	if (night)
		html_night(f, night);
	if (json_array_size(json_object_get(night, "verdicts")))
		html_verdicts(f, night);
	if (bisect)
		html_bisect_report(f, bisect);
	if (json_array_size(charts))
		html_charts(f, charts);
	html_nights(f, dump, out_abs);
	html_bisects(f, dump, out_abs);
	fputs("<p>Written by swapbench nightly; statistics as in <code>swapbench compare</code> "
	      "(95% confidence intervals, Welch's t-test).</p>\n</body></html>\n", f);
	fclose(f);
	rc = write_file_atomic(path, text, len);
	free(text);
	free(path);
	free(out_abs);
	json_decref(charts);
	json_decref(loaded_night);
	json_decref(loaded_bisect);
	return rc;
}
