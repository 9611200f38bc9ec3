#define _GNU_SOURCE
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

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "";
}

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

int history_plot(const json_t *dump, const char *out_dir, unsigned formats, json_t **written)
{
	json_t *metrics = json_array(), *out = json_array(), *s, *m;
	size_t i, j;
	int rc = 0;

	if (!formats)
		formats = PLOT_PNG | PLOT_SVG;
	if ((rc = mkdir_p(out_dir, 0755)))
		goto done;
	json_array_foreach(json_object_get(dump, "series"), i, s) {
		int seen = 0;

		json_array_foreach(metrics, j, m)
			seen |= !strcmp(json_string_value(m), jstr(s, "metric"));
		if (!seen)
			json_array_append_new(metrics, json_string(jstr(s, "metric")));
	}
	/* Metrics with a regression first: the page shows them at the top. */
	{
		json_t *first = json_array(), *rest = json_array();

		json_array_foreach(metrics, j, m) {
			int reg = 0;
			size_t k, l;
			json_t *pt;

			json_array_foreach(json_object_get(dump, "series"), k, s)
				if (!strcmp(jstr(s, "metric"), json_string_value(m)))
					json_array_foreach(json_object_get(s, "points"), l, pt)
						reg |= json_is_true(json_object_get(pt, "regression"));
			json_array_append(reg ? first : rest, m);
		}
		json_array_extend(first, rest);
		json_decref(rest);
		json_decref(metrics);
		metrics = first;
	}
	json_array_foreach(metrics, i, m) {
		char *gp = xasprintf("%s/trend-%zu.gp", out_dir, i + 1);
		char *dat = xasprintf("%s/trend-%zu.dat", out_dir, i + 1), *base;
		FILE *g = fopen(gp, "w"), *d = fopen(dat, "w");
		json_t *ent = json_pack("{s:O}", "metric", m), *pt;
		int nseries = 0, any_reg = 0;
		const char *unit = "";

		if (!g || !d) {
			rc = sb_err(errno, "cannot write '%s': %s", gp, strerror(errno));
			if (g)
				fclose(g);
			if (d)
				fclose(d);
			free(gp);
			free(dat);
			json_decref(ent);
			goto done;
		}
		/* One data block per series: night mean stddev regression. */
		json_array_foreach(json_object_get(dump, "series"), j, s) {
			size_t k;

			if (strcmp(jstr(s, "metric"), json_string_value(m)))
				continue;
			unit = jstr(s, "unit");
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
			nseries++;
		}
		fclose(d);
		base = xasprintf("trend-%zu", i + 1);
		fprintf(g, "# swapbench history --plot: %s per night (run 'gnuplot %s.gp' here)\n",
			json_string_value(m), base);
		fprintf(g, "set xlabel 'night'\nset ylabel ");
		plot_gp_quote(g, unit);
		fprintf(g, "\nset title ");
		plot_gp_quote(g, json_string_value(m));
		fprintf(g, "\nset key outside bottom center horizontal\nset grid\n"
			   "set xtics 1\nset offsets 0.3, 0.3, 0, 0\n");
		/* The bisected commits, named at their night. */
		json_array_foreach(json_object_get(dump, "series"), j, s) {
			size_t k;

			if (strcmp(jstr(s, "metric"), json_string_value(m)))
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
		for (int f = 0; f < 2; f++) {
			unsigned bit = f ? PLOT_SVG : PLOT_PNG;
			int idx = 0;

			if (!(formats & bit))
				continue;
			fprintf(g, "set terminal %s noenhanced size 640,340 font 'DejaVu Sans,9'\n"
				   "set output '%s.%s'\nplot ",
				f ? "svg dynamic" : "pngcairo", base, f ? "svg" : "png");
			json_array_foreach(json_object_get(dump, "series"), j, s) {
				char title[256];

				if (strcmp(jstr(s, "metric"), json_string_value(m)))
					continue;
				snprintf(title, sizeof(title), "%s %s/%s", jstr(s, "kernel"),
					 jstr(s, "topology"), jstr(s, "workload"));
				fprintf(g, "%s'%s.dat' index %d using 1:2:3 with yerrorlines lw 2 "
					   "title ", idx ? ", " : "", base, idx);
				plot_gp_quote(g, title);
				fprintf(g, ", '%s.dat' index %d using 1:($4 > 0 ? $2 : 1/0) with "
					   "points pt 7 ps 2.5 lc rgb '#c00000' title %s",
					base, idx, idx == 0 && any_reg ? "'regression'" : "''");
				idx++;
			}
			fprintf(g, "\nunset output\n");
			{
				char *name = xasprintf("%s.%s", base, f ? "svg" : "png");

				json_object_set_new(ent, f ? "svg" : "png", json_string(name));
				free(name);
			}
		}
		fclose(g);
		(void)nseries;
		{
			char *script = xasprintf("%s.gp", base);

			rc = gnuplot(out_dir, script);
			free(script);
		}
		free(gp);
		free(dat);
		free(base);
		json_array_append_new(out, ent);
		if (rc)
			goto done;
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

int html_report_write(const json_t *dump, const json_t *night, const json_t *bisect,
		      const char *out_dir)
{
	char *path = xasprintf("%s/index.html", out_dir), *text = NULL, *out_abs;
	json_t *charts = NULL, *n, *v, *s, *loaded_night = NULL, *loaded_bisect = NULL;
	size_t len = 0, i;
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
	if (!night) {
		/* The latest night, from its directory (the source of truth). */
		size_t k = json_array_size(json_object_get(dump, "nights"));
		const json_t *last = k ? json_array_get(json_object_get(dump, "nights"), k - 1) : NULL;

		if (last && json_is_string(json_object_get(last, "dir"))) {
			char *np = xasprintf("%s/night.json", jstr(last, "dir"));
			char *bp = xasprintf("%s/bisect/bisect.json", jstr(last, "dir"));

			night = loaded_night = json_load_file(np, 0, NULL);
			/* Its id in this database (a rebuilt one numbers anew). */
			if (loaded_night)
				json_object_set(loaded_night, "id", json_object_get(last, "id"));
			if (!bisect)
				bisect = loaded_bisect = json_load_file(bp, 0, NULL);
			free(np);
			free(bp);
		}
		if (!night)
			night = last;
	}
	fputs("<h1>swapbench nightly</h1>\n", f);
	if (night) {
		fprintf(f, "<h2>Night %lld: <span class=\"v-%s\">", (long long)json_integer_value(
								      json_object_get(night, "id")),
			jstr(night, "verdict"));
		esc(f, jstr(night, "verdict"));
		fputs("</span></h2>\n<p>", f);
		esc(f, jstr(night, "branch"));
		fputs(" at <code>", f);
		esc(f, jstr(night, "head"));
		fputs("</code> (", f);
		esc(f, jstr(night, "subject"));
		fputs(")</p>\n", f);
		if (json_object_get(night, "error")) {
			fputs("<p><b>Could not be judged:</b> ", f);
			esc(f, jstr(night, "error"));
			fputs("</p>\n", f);
		}
		if (!strcmp(jstr(night, "failure"), "build")) {
			fputs("<p id=\"failure\"><b>Regression of the branch:</b> ", f);
			esc(f, jstr(night, "branch"));
			fputs(" does not build at this head.</p>\n", f);
		}
	}
	if (json_array_size(json_object_get(night, "verdicts"))) {
		fputs("<h3>Verdicts against the pooled last good nights</h3>\n<table id=\"verdicts\">"
		      "<tr><th>topology</th><th>workload</th><th>metric</th><th>unit</th>"
		      "<th>base</th><th>tonight</th><th>change</th><th>p</th><th>n</th>"
		      "<th>verdict</th></tr>\n", f);
		json_array_foreach(json_object_get(night, "verdicts"), i, v) {
			fprintf(f, "<tr class=\"%s\"><td class=l>", verdict_class(v));
			esc(f, jstr(v, "topology"));
			fputs("</td><td class=l>", f);
			esc(f, jstr(v, "workload"));
			fputs("</td><td class=l>", f);
			esc(f, jstr(v, "metric"));
			fputs("</td><td class=l>", f);
			esc(f, jstr(v, "unit"));
			fputs("</td>", f);
			/* A baseline night has no base mean: blank, not 0. */
			for (int m = 0; m < 2; m++) {
				const json_t *x = json_object_get(v, m ? "new_mean" : "base_mean");

				if (json_is_number(x))
					fprintf(f, "<td>%.4g</td>", json_number_value(x));
				else
					fputs("<td></td>", f);
			}
			if (json_is_number(json_object_get(v, "pct_change")))
				fprintf(f, "<td>%+.1f%%</td>",
					json_number_value(json_object_get(v, "pct_change")));
			else
				fputs("<td></td>", f);
			if (json_is_number(json_object_get(v, "welch_p")))
				fprintf(f, "<td>%.3f</td>",
					json_number_value(json_object_get(v, "welch_p")));
			else
				fputs("<td></td>", f);
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
	if (bisect) {
		char *rep = NULL;
		size_t rl = 0;
		FILE *bf = open_memstream(&rep, &rl);

		bisect_print(bisect, bf);
		fclose(bf);
		fputs("<h3>Bisection</h3>\n<pre id=\"bisect\">", f);
		esc(f, rep);
		fputs("</pre>\n", f);
		free(rep);
	}
	if (json_array_size(charts)) {
		fputs("<h3>Trends</h3>\n", f);
		json_array_foreach(charts, i, v) {
			fputs("<figure><img src=\"", f);
			esc(f, jstr(v, "svg"));
			fputs("\" alt=\"trend of ", f);
			esc(f, jstr(v, "metric"));
			fputs("\"></figure>\n", f);
		}
	}
	fputs("<h3>Nights</h3>\n<table id=\"nights\"><tr><th>night</th><th>started</th>"
	      "<th>head</th><th>subject</th><th>verdict</th><th>run</th></tr>\n", f);
	json_array_foreach(json_object_get(dump, "nights"), i, n) {
		char *d = json_object_get(n, "dir") && json_is_string(json_object_get(n, "dir"))
				  ? href(out_abs, jstr(n, "dir")) : NULL;

		fprintf(f, "<tr><td>%lld</td><td class=l>",
			(long long)json_integer_value(json_object_get(n, "id")));
		esc(f, jstr(n, "started"));
		fputs("</td><td class=l><code>", f);
		fprintf(f, "%.12s", jstr(n, "head"));
		fputs("</code></td><td class=l>", f);
		esc(f, jstr(n, "subject"));
		fprintf(f, "</td><td class=\"l v-%s\">", jstr(n, "verdict"));
		esc(f, jstr(n, "verdict"));
		fputs("</td><td class=l>", f);
		if (d) {
			fputs("<a href=\"", f);
			esc(f, d);
			fputs("/run/run.json\">run.json</a> <a href=\"", f);
			esc(f, d);
			fputs("/run/summary.json\">summary.json</a> <a href=\"", f);
			esc(f, d);
			fputs("/night.json\">night.json</a>", f);
		}
		fputs("</td></tr>\n", f);
		free(d);
	}
	fputs("</table>\n", f);
	json_array_foreach(json_object_get(dump, "bisects"), i, s) {
		json_t *st;
		size_t k;

		fprintf(f, "<h3>Bisection %lld (night %lld): ",
			(long long)json_integer_value(json_object_get(s, "id")),
			(long long)json_integer_value(json_object_get(s, "night_id")));
		esc(f, jstr(s, "status"));
		fputs("</h3>\n<table class=\"steps\"><tr><th>step</th><th>commit</th><th>decision</th>"
		      "<th>n</th><th>mean</th><th>LLR</th><th>run</th></tr>\n", f);
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
			if (d) {
				fputs("<a href=\"", f);
				esc(f, d);
				fputs("/summary.json\">summary.json</a>", f);
			}
			fputs("</td></tr>\n", f);
			free(d);
		}
		fputs("</table>\n", f);
	}
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
