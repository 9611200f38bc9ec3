#define _GNU_SOURCE
#include "harness/plot-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "harness/result.h"
#include "harness/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIB (1024.0 * 1024.0)

/* Pens of gnuplot's dumb terminal by line type. Its histogram keys show no
 * sample, so text bar charts name each kernel's pen in the key instead. */
static const char dumb_pens[] = "*#$%@&=";

static const struct {
	const char *metric, *label;
} lat_metrics[] = {
	{ "lat_p50", "p50" }, { "lat_p90", "p90" }, { "lat_p99", "p99" },
	{ "lat_p99.9", "p99.9" }, { "lat_max", "max" },
};

static const struct {
	const char *key, *title;
} ts_series[] = {
	{ "swap_used", "swap used" },
	{ "zswap_pool", "zswap pool" },
	{ "memcg_current", "memcg usage" },
};
#define N_TS (sizeof(ts_series) / sizeof(ts_series[0]))

static const char *sv(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void add_unique(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (!s)
		return;
	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return;
	json_array_append_new(arr, json_string(s));
}

/* Names from a run.json list: objects with "name" (or plain strings). */
static void add_names(json_t *arr, const json_t *list)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		add_unique(arr, json_is_string(v) ? json_string_value(v) : sv(v, "name"));
}

static const json_t *find_row(const struct plot *p, const char *kernel, const char *topo,
			      const char *wl, const char *metric)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(p->summary, "rows"), i, r)
		if (streq(sv(r, "kernel"), kernel) && streq(sv(r, "topology"), topo) &&
		    streq(sv(r, "workload"), wl) && streq(sv(r, "metric"), metric))
			return r;
	return NULL;
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "mean +- stddev over n=3 ok iterations; accel tcg" for a set of rows. */
static char *subtitle(const struct plot *p, const json_t *rows, int errorbars)
{
	long long lo = -1, hi = -1;
	size_t i;
	json_t *r;
	char n[64];

	json_array_foreach(rows, i, r) {
		long long v = json_integer_value(json_object_get(r, "n"));

		if (lo < 0 || v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	if (lo == hi)
		snprintf(n, sizeof(n), "n=%lld", lo);
	else
		snprintf(n, sizeof(n), "n=%lld..%lld", lo, hi);
	return xasprintf("%s over %s ok iterations%s%s", errorbars ? "mean +- stddev" :
			 "mean (error bars in .png/.svg)", n, p->accel ? "; accel " : "",
			 p->accel ? p->accel : "");
}

/* "set title T . "\n" . SUB" */
static void gp_title2(FILE *gp, const char *title, const char *sub)
{
	fprintf(gp, "set title ");
	plot_gp_quote(gp, title);
	fprintf(gp, " . \"\\n\" . ");
	plot_gp_quote(gp, sub);
	fprintf(gp, "\n");
}

/* 1. Bars per (workload, metric): x = topology, a bar per kernel. */
static int chart_bars(struct plot *p, const char *wl, const char *metric)
{
	json_t *topos = json_array(), *kernels = json_array(), *rows = json_array(), *v, *k;
	const json_t *first = NULL;
	char *sub, *title;
	struct chart c;
	size_t i, j;
	int rc, negative = 0;

	json_array_foreach(p->topologies, i, v)
		json_array_foreach(p->kernels, j, k) {
			const json_t *r = find_row(p, json_string_value(k), json_string_value(v), wl,
						   metric);

			if (!r)
				continue;
			first = first ? first : r;
			add_unique(topos, json_string_value(v));
			add_unique(kernels, json_string_value(k));
			json_array_append(rows, (json_t *)r);
			negative |= num(r, "mean") < 0;
		}
	if (!first) {
		rc = 0;
		goto free_lists;
	}
	sub = subtitle(p, rows, 1);
	title = xasprintf("%s: %s (%s, %s is better)", wl, metric, sv(first, "unit"),
			  sv(first, "better"));
	chart_open(&c, chart_name(p, "bar", wl, metric),
		   xasprintf("%s: mean +- stddev per topology, a bar per kernel", title));

	fprintf(c.dat, "# %s\n# %s\n# NaN: no ok iteration for that kernel and topology\n# topology",
		title, sub);
	json_array_foreach(kernels, j, k) {
		const char *kn = json_string_value(k);

		fputc(' ', c.dat);
		dat_token(c.dat, kn);
		fputs(".mean ", c.dat);
		dat_token(c.dat, kn);
		fputs(".stddev ", c.dat);
		dat_token(c.dat, kn);
		fputs(".n", c.dat);
	}
	fputc('\n', c.dat);
	json_array_foreach(topos, i, v) {
		dat_token(c.dat, json_string_value(v));
		json_array_foreach(kernels, j, k) {
			const json_t *r = find_row(p, json_string_value(k), json_string_value(v), wl,
						   metric);

			dat_num(c.dat, r ? num(r, "mean") : NAN);
			dat_num(c.dat, r ? num(r, "stddev") : NAN);
			dat_num(c.dat, r ? num(r, "n") : NAN);
		}
		fputc('\n', c.dat);
	}

	gp_header(&c);
	c.grid = "ytics";
	fprintf(c.gp, "set style data histograms\n"
		      "set style histogram errorbars gap 2 lw 1\n"
		      "set style fill solid 0.6 border -1\n"
		      "set key outside right top\n"
		      "set xlabel \"topology\"\n");
	if (!negative)
		fprintf(c.gp, "set yrange [0:*]\n");
	fprintf(c.gp, "set ylabel ");
	plot_gp_quote(c.gp, sv(first, "unit"));
	fprintf(c.gp, "\n");
	gp_title2(c.gp, title, sub);
	fprintf(c.gp, "set xtics (");
	json_array_foreach(topos, i, v) {
		plot_gp_quote(c.gp, json_string_value(v));
		fprintf(c.gp, " %zu%s", i, i + 1 < json_array_size(topos) ? ", " : "");
	}
	fprintf(c.gp, ")\nset xrange [-0.6:%g]\n", json_array_size(topos) - 0.4);
	for (size_t f = 0; f < N_FORMATS; f++) {
		if (!(p->formats & plot_formats[f].bit))
			continue;
		fprintf(c.gp, "\n");
		gp_terminal(p, &c, plot_formats[f].bit, 900, 560);
		fprintf(c.gp, "plot ");
		json_array_foreach(kernels, j, k) {
			char *t = plot_formats[f].bit == PLOT_TXT ?
				xasprintf("%s (%c)", json_string_value(k), dumb_pens[j % 7]) :
				xstrdup(json_string_value(k));

			fprintf(c.gp, "%s\"%s.dat\" using %zu:%zu lt %zu title ", j ? ", \\\n     " : "",
				c.name, 2 + 3 * j, 3 + 3 * j, j + 1);
			plot_gp_quote(c.gp, t);
			free(t);
		}
		fprintf(c.gp, "\nset output\n");
	}
	rc = chart_render(p, &c);
	chart_free(&c);
	free(sub);
	free(title);
free_lists:
	json_decref(rows);
	json_decref(topos);
	json_decref(kernels);
	return rc;
}

/* 2. Latency percentiles per (workload, topology), log scale. */
#define N_LAT (sizeof(lat_metrics) / sizeof(lat_metrics[0]))

/* A latency chart: the percentiles present for (wl, topo), a line per
 * kernel. */
struct lat_chart {
	json_t *kernels, *rows;
	size_t present[N_LAT], np;
	const json_t *first; /* a row, for the unit */
	int logscale;        /* every mean > 0 */
	char *title, *sub, *sub_txt;
};

static void lat_collect(struct plot *p, const char *wl, const char *topo, struct lat_chart *l)
{
	json_t *k;
	size_t j;

	for (size_t m = 0; m < N_LAT; m++) {
		int any = 0;

		json_array_foreach(p->kernels, j, k) {
			const json_t *r = find_row(p, json_string_value(k), topo, wl,
						   lat_metrics[m].metric);

			if (!r)
				continue;
			any = 1;
			l->first = l->first ? l->first : r;
			add_unique(l->kernels, json_string_value(k));
			json_array_append(l->rows, (json_t *)r);
			l->logscale &= num(r, "mean") > 0;
		}
		if (any)
			l->present[l->np++] = m;
	}
}

static void lat_write_dat(struct plot *p, const char *wl, const char *topo,
			  const struct lat_chart *l, struct chart *c)
{
	json_t *k;
	size_t j;

	fprintf(c->dat, "# %s\n# %s\n# low/high: the error bar (mean -+ stddev; on the log scale a "
		"low end <= 0 is cut at the\n# smallest value seen)\n# x percentile", l->title,
		l->sub);
	json_array_foreach(l->kernels, j, k) {
		static const char *const cols[] = { "mean", "stddev", "low", "high" };

		for (int i = 0; i < 4; i++) {
			fputc(' ', c->dat);
			dat_token(c->dat, json_string_value(k));
			fprintf(c->dat, ".%s", cols[i]);
		}
	}
	fputc('\n', c->dat);
	for (size_t i = 0; i < l->np; i++) {
		fprintf(c->dat, "%zu %s", i, lat_metrics[l->present[i]].label);
		json_array_foreach(l->kernels, j, k) {
			const json_t *r = find_row(p, json_string_value(k), topo, wl,
						   lat_metrics[l->present[i]].metric);
			double mean = r ? num(r, "mean") : NAN, sd = r ? num(r, "stddev") : NAN;
			double low = mean - sd;

			if (l->logscale && !(low > 0))
				low = r && num(r, "min") > 0 ? num(r, "min") : mean;
			dat_num(c->dat, mean);
			dat_num(c->dat, sd);
			dat_num(c->dat, low);
			dat_num(c->dat, mean + sd);
		}
		fputc('\n', c->dat);
	}
}

static void lat_write_gp(struct plot *p, const struct lat_chart *l, struct chart *c)
{
	json_t *k;
	size_t j;

	gp_header(c);
	c->grid = "ytics mytics";
	fprintf(c->gp, "set key outside right top\n"
		       "set xlabel \"percentile\"\nset xrange [-0.5:%g]\n", l->np - 0.5);
	if (l->logscale)
		fprintf(c->gp, "set logscale y\nset format y \"%%g\"\n");
	fprintf(c->gp, "set ylabel ");
	plot_gp_quote(c->gp, sv(l->first, "unit"));
	fprintf(c->gp, "\n");
	gp_title2(c->gp, l->title, l->sub);
	fprintf(c->gp, "set xtics (");
	for (size_t i = 0; i < l->np; i++)
		fprintf(c->gp, "\"%s\" %zu%s", lat_metrics[l->present[i]].label, i,
			i + 1 < l->np ? ", " : "");
	fprintf(c->gp, ")\n");
	for (size_t f = 0; f < N_FORMATS; f++) {
		int txt = plot_formats[f].bit == PLOT_TXT;

		if (!(p->formats & plot_formats[f].bit))
			continue;
		fprintf(c->gp, "\n");
		gp_terminal(p, c, plot_formats[f].bit, 900, 560);
		/* 24 lines show no error bars, and their key samples garble. */
		if (txt)
			gp_title2(c->gp, l->title, l->sub_txt);
		fprintf(c->gp, "plot ");
		json_array_foreach(l->kernels, j, k) {
			/* Side by side, so error bars of kernels do not hide each other. */
			double off = (j - (json_array_size(l->kernels) - 1) / 2.0) * 0.06;

			if (txt)
				fprintf(c->gp, "%s\"%s.dat\" using 1:%zu with linespoints lt %zu "
					"pt %zu title ", j ? ", \\\n     " : "", c->name, 3 + 4 * j,
					j + 1, j + 1);
			else
				fprintf(c->gp, "%s\"%s.dat\" using ($1%+.3f):%zu:%zu:%zu with "
					"yerrorlines lt %zu pt %zu lw 2 title ",
					j ? ", \\\n     " : "", c->name, off, 3 + 4 * j, 5 + 4 * j,
					6 + 4 * j, j + 1, j + 1);
			plot_gp_quote(c->gp, json_string_value(k));
		}
		fprintf(c->gp, "\nset output\n");
	}
}

static int chart_latency(struct plot *p, const char *wl, const char *topo)
{
	struct lat_chart l = { .kernels = json_array(), .rows = json_array(), .logscale = 1 };
	struct chart c;
	int rc = 0;

	lat_collect(p, wl, topo, &l);
	if (l.np) {
		l.sub = subtitle(p, l.rows, 1);
		l.sub_txt = subtitle(p, l.rows, 0);
		l.title = xasprintf("%s on %s: access latency percentiles (%s, lower is better)",
				    wl, topo, sv(l.first, "unit"));
		chart_open(&c, chart_name(p, "lat", wl, topo),
			   xasprintf("%s: a line per kernel%s", l.title,
				     l.logscale ? ", log scale" : ""));
		lat_write_dat(p, wl, topo, &l, &c);
		lat_write_gp(p, &l, &c);
		rc = chart_render(p, &c);
		chart_free(&c);
		free(l.sub);
		free(l.sub_txt);
		free(l.title);
	}
	json_decref(l.rows);
	json_decref(l.kernels);
	return rc;
}

/* The cell whose samples stand for a kernel: iteration 1 when it is ok,
 * else the lowest ok iteration. */
static const json_t *sample_cell(const struct plot *p, const char *kernel, const char *topo,
				 const char *wl)
{
	const json_t *best = NULL;
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(p->summary, "cells"), i, c) {
		const char *id = sv(c, "cell_id");

		if (!streq(sv(c, "kernel"), kernel) || !streq(sv(c, "topology"), topo) ||
		    !streq(sv(c, "workload"), wl) || !streq(sv(c, "status"), "ok") ||
		    !json_is_integer(json_object_get(c, "iteration")))
			continue;
		/* The id becomes a path: keep it inside cells/. */
		if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
			continue;
		if (!best || json_integer_value(json_object_get(c, "iteration")) <
			     json_integer_value(json_object_get(best, "iteration")))
			best = c;
	}
	return best;
}

/* 3. Samples over time per (workload, topology): a panel per series. */
/* The result of each kernel's sample cell that has samples, titled for
 * the key; which series any of them has. */
static int ts_collect(struct plot *p, const char *wl, const char *topo, json_t *results,
		      int *present, int *all_first)
{
	json_t *k, *r, *s;
	size_t j, i;

	json_array_foreach(p->kernels, j, k) {
		const json_t *cell = sample_cell(p, json_string_value(k), topo, wl);
		char *dir, *path;
		json_int_t it;
		int any = 0, rc;

		if (!cell)
			continue;
		dir = store_cell_dir(p->run_dir, sv(cell, "cell_id"));
		path = store_path(dir, STORE_RESULT);
		free(dir);
		rc = result_load(path, 1, &r);
		free(path);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(r, "samples"), i, s) {
			if (!json_is_number(json_object_get(s, "t")))
				continue;
			any = 1;
			for (size_t t = 0; t < N_TS; t++)
				present[t] |= json_is_number(json_object_get(s, ts_series[t].key));
		}
		if (!any) {
			json_decref(r);
			continue;
		}
		it = json_integer_value(json_object_get(cell, "iteration"));
		*all_first &= it == 1;
		json_object_set_new(r, "plot_title", it == 1 ?
				    json_string(json_string_value(k)) :
				    json_sprintf("%s (iteration %lld)", json_string_value(k),
						 (long long)it));
		json_array_append_new(results, r);
	}
	return 0;
}

static void ts_write_dat(const char *title, const json_t *results, struct chart *c)
{
	json_t *r;
	size_t j;

	fprintf(c->dat, "# %s\n# A block per kernel (gnuplot index 0, 1, ...); MiB; NaN: not "
		"sampled\n", title);
	json_array_foreach(results, j, r) {
		char *kn = comment_safe(sv(r, "plot_title")), *id = comment_safe(sv(r, "cell_id"));
		size_t i;
		json_t *s;

		fprintf(c->dat, "%s# index %zu: %s, cell %s\n# t_s", j ? "\n\n" : "", j, kn, id);
		for (size_t t = 0; t < N_TS; t++)
			fprintf(c->dat, " %s_MiB", ts_series[t].key);
		fputc('\n', c->dat);
		json_array_foreach(json_object_get(r, "samples"), i, s) {
			if (!json_is_number(json_object_get(s, "t")))
				continue;
			fprintf(c->dat, "%.6g", num(s, "t"));
			for (size_t t = 0; t < N_TS; t++)
				dat_num(c->dat, num(s, ts_series[t].key) / MIB);
			fputc('\n', c->dat);
		}
		free(kn);
		free(id);
	}
}

/* One panel: series t, a line per kernel. */
static void ts_panel(const char *title, const json_t *results, size_t t, int txt,
		     struct chart *c)
{
	json_t *r;
	size_t j;

	fprintf(c->gp, "set title ");
	if (txt) {
		char *pt = xasprintf("%s: %s (MiB)", title, ts_series[t].title);

		plot_gp_quote(c->gp, pt);
		free(pt);
	} else {
		fprintf(c->gp, "\"%s (MiB)\"", ts_series[t].title);
	}
	fprintf(c->gp, "\nplot ");
	json_array_foreach(results, j, r) {
		/* Samples are about a second apart: show where they are. */
		fprintf(c->gp, "%s\"%s.dat\" index %zu using 1:%zu with %s lt %zu "
			"lw 2 title ", j ? ", \\\n     " : "", c->name, j, 2 + t,
			txt ? "lines" : "linespoints pt 7 ps 0.6", j + 1);
		plot_gp_quote(c->gp, sv(r, "plot_title"));
	}
	fprintf(c->gp, "\n");
}

static void ts_write_gp(struct plot *p, const char *title, const json_t *results,
			const int *present, int np, struct chart *c)
{
	gp_header(c);
	c->grid = "";
	fprintf(c->gp, "set key outside right top\nset xlabel \"t (s)\"\n"
		       "set ylabel \"MiB\"\nset yrange [0:*]\n");
	for (size_t f = 0; f < N_FORMATS; f++) {
		int txt = plot_formats[f].bit == PLOT_TXT;

		if (!(p->formats & plot_formats[f].bit))
			continue;
		fprintf(c->gp, "\n");
		/* Text gets a page per panel: three panels in 24 lines say nothing. */
		gp_terminal(p, c, plot_formats[f].bit, 900, 80 + 260 * np);
		if (!txt) {
			/* The same left margin lines the panels' time axes up. */
			fprintf(c->gp, "set lmargin 10\nset multiplot layout %d,1 title ", np);
			plot_gp_quote(c->gp, title);
			fprintf(c->gp, "\n");
		}
		for (size_t t = 0; t < N_TS; t++)
			if (present[t])
				ts_panel(title, results, t, txt, c);
		if (!txt)
			fprintf(c->gp, "unset multiplot\nset lmargin -1\n");
		fprintf(c->gp, "set output\n");
	}
}

static int chart_series(struct plot *p, const char *wl, const char *topo)
{
	json_t *results = json_array();
	int present[N_TS] = { 0 }, np = 0, all_first = 1;
	int rc = ts_collect(p, wl, topo, results, present, &all_first);
	char *title;
	struct chart c;

	for (size_t t = 0; t < N_TS; t++)
		np += present[t];
	if (!rc && np && json_array_size(results)) {
		title = xasprintf("%s on %s: samples of %s per kernel", wl, topo,
				  all_first ? "iteration 1" : "one ok iteration");
		chart_open(&c, chart_name(p, "ts", wl, topo),
			   xasprintf("%s, MiB against time", title));
		ts_write_dat(title, results, &c);
		ts_write_gp(p, title, results, present, np, &c);
		rc = chart_render(p, &c);
		chart_free(&c);
		free(title);
	}
	json_decref(results);
	return rc;
}

static int load_run(struct plot *p)
{
	size_t i;
	json_t *r;
	int rc;

	rc = summary_load(p->run_dir, &p->summary);
	if (rc)
		goto out;
	rc = store_load_run(p->run_dir, &p->run);
	if (rc)
		goto out;
	p->accel = sv(json_object_get(p->run, "accel"), "used");
	/* run.json has the spec's order (first kernel = baseline); names only
	 * in the summary (an edited run) go after. */
	add_names(p->kernels, json_object_get(p->run, "kernels"));
	add_names(p->topologies, json_object_get(p->run, "topologies"));
	add_names(p->workloads, json_object_get(p->run, "workloads"));
	json_array_foreach(json_object_get(p->summary, "rows"), i, r) {
		add_unique(p->kernels, sv(r, "kernel"));
		add_unique(p->topologies, sv(r, "topology"));
		add_unique(p->workloads, sv(r, "workload"));
	}
	json_array_foreach(json_object_get(p->summary, "cells"), i, r) {
		add_unique(p->kernels, sv(r, "kernel"));
		add_unique(p->topologies, sv(r, "topology"));
		add_unique(p->workloads, sv(r, "workload"));
	}
out:
	return rc;
}

int plot_run(const char *run_dir, const char *out_dir, const struct plot_opts *o,
	     json_t **written)
{
	struct plot p = {
		.run_dir = run_dir, .out_dir = out_dir,
		.formats = o && o->formats ? o->formats & PLOT_ALL : PLOT_ALL,
		.kernels = json_array(), .topologies = json_array(), .workloads = json_array(),
		.written = json_array(), .used = json_object(),
	};
	json_t *wl, *v;
	size_t i, j;
	int rc, charts = 0;

	*written = NULL;
	rc = load_run(&p);
	if (!rc)
		rc = probe_gnuplot(&p);
	if (!rc)
		rc = mkdir_p(out_dir, 0755);
	if (rc)
		goto out;
	p.index = open_memstream(&p.index_buf, &p.index_len);
	if (!p.index)
		abort();
	fprintf(p.index, "# Charts of %s, written by swapbench plot (see docs/plots.md).\n"
		"# Each NAME has NAME.gp (gnuplot script), NAME.dat (its data) and the images.\n",
		run_dir);
	json_array_foreach(p.workloads, i, wl) {
		const char *w = json_string_value(wl);
		json_t *metrics = json_array(), *r;

		json_array_foreach(json_object_get(p.summary, "rows"), j, r)
			if (streq(sv(r, "workload"), w))
				add_unique(metrics, sv(r, "metric"));
		json_array_foreach(metrics, j, v) {
			rc = chart_bars(&p, w, json_string_value(v));
			if (rc)
				break;
		}
		json_decref(metrics);
		json_array_foreach(p.topologies, j, v) {
			if (!rc)
				rc = chart_latency(&p, w, json_string_value(v));
			if (!rc)
				rc = chart_series(&p, w, json_string_value(v));
		}
		if (rc)
			break;
	}
	charts = json_object_size(p.used);
	if (!rc && !charts)
		fprintf(p.index, "(no charts: the run has no ok cells)\n");
	fclose(p.index);
	if (!rc)
		rc = write_out(&p, "index", "txt", p.index_buf, p.index_len);
	if (!rc) {
		*written = p.written;
		p.written = NULL;
	}
out:
	free(p.index_buf);
	json_decref(p.written);
	json_decref(p.used);
	json_decref(p.kernels);
	json_decref(p.topologies);
	json_decref(p.workloads);
	json_decref(p.run);
	json_decref(p.summary);
	return rc;
}
