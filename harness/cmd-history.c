#include "harness/cmd.h"
#include "common/err.h"
#include "harness/history.h"
#include "harness/options.h"
#include "common/log.h"
#include "harness/plot.h"
#include "harness/report-html.h"
#include "harness/runner.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *plot, *html;
static int json, rebuild;

static const struct opt_def history_opts[] = {
	OPT_BOOL("json", &json, "everything as JSON (nights, series, bisects with steps)"),
	OPT_STRING("plot", &plot, "DIR", "gnuplot trend charts (PNG and SVG) into DIR: one per\n"
		   "metric, a line per topology/workload, regressions\n"
		   "marked, the first bad commit named"),
	OPT_STRING("html", &html, "DIR", "the HTML report of the latest night into DIR"),
	OPT_BOOL("rebuild", &rebuild, "index the given night directories (night.json, run/,\n"
		 "bisect/) or run directories again: the run directories\n"
		 "are the source of truth, the database their index"),
	OPT_END(),
};

const struct cmd_def cmd_history_def = {
	"history", "DB [PATH...]", "the nightly history database: trends, plots, rebuild",
	"  swapbench history DB [--json] [--plot DIR] [--html DIR]\n"
	"  swapbench history DB --rebuild PATH...\n\n"
	"The nightly history database: per metric (and kernel, topology, workload)\n"
	"the mean per night with its spread and the night's verdict, regressions\n"
	"marked '!', then the bisections and their first bad commits.\n",
	history_opts, 1, -1,
	"Exit: 0 ok, 2 bad input (no database, a corrupt or newer one: never\n"
	"overwritten).\n",
};

/* 80 columns: a block per series. */
static void print_text(const json_t *d, FILE *out)
{
	const json_t *s, *p, *b;
	size_t i, j;

	fprintf(out, "%zu night(s), schema %lld\n",
		json_array_size(json_object_get(d, "nights")),
		(long long)json_integer_value(json_object_get(d, "schema_version")));
	json_array_foreach(json_object_get(d, "series"), i, s) {
		double lo = INFINITY, hi = -INFINITY;

		json_array_foreach(json_object_get(s, "points"), j, p) {
			double m = json_number_value(json_object_get(p, "mean"));

			lo = m < lo ? m : lo;
			hi = m > hi ? m : hi;
		}
		fprintf(out, "\n%.20s %.16s/%.16s %.20s (%s, %s is better)\n",
			json_string_value(json_object_get(s, "kernel")),
			json_string_value(json_object_get(s, "topology")),
			json_string_value(json_object_get(s, "workload")),
			json_string_value(json_object_get(s, "metric")),
			json_string_value(json_object_get(s, "unit")) ?: "",
			json_string_value(json_object_get(s, "better")) ?: "?");
		fprintf(out, "night head          n      mean    stddev  change verdict     trend\n");
		json_array_foreach(json_object_get(s, "points"), j, p) {
			double m = json_number_value(json_object_get(p, "mean"));
			int bar = hi > lo ? (int)lround((m - lo) / (hi - lo) * 15) + 1 : 8;
			char pct[16] = "";
			char bars[20];

			/* 8 columns: -11935.8% would push the line past 80. */
			if (json_is_number(json_object_get(p, "pct_change")))
				snprintf(pct, sizeof(pct),
					 fabs(json_number_value(json_object_get(p, "pct_change")))
						 >= 999.95 ? "%+.0f%%" : "%+.1f%%",
					 json_number_value(json_object_get(p, "pct_change")));
			memset(bars, '#', bar);
			bars[bar] = 0;
			fprintf(out, "%5lld %.12s %3lld %9.4g %9.3g %7s %-10.10s%s %s\n",
				(long long)json_integer_value(json_object_get(p, "night")),
				json_string_value(json_object_get(p, "head")) ?: "",
				(long long)json_integer_value(json_object_get(p, "n")), m,
				json_number_value(json_object_get(p, "stddev")), pct,
				json_string_value(json_object_get(p, "verdict")) ?: "-",
				json_is_true(json_object_get(p, "regression")) ? "!" : " ", bars);
		}
	}
	json_array_foreach(json_object_get(d, "bisects"), i, b) {
		fprintf(out, "\nbisect %lld (night %lld) %.20s/%.20s %.24s: %s",
			(long long)json_integer_value(json_object_get(b, "id")),
			(long long)json_integer_value(json_object_get(b, "night_id")),
			json_string_value(json_object_get(b, "topology")) ?: "",
			json_string_value(json_object_get(b, "workload")) ?: "",
			json_string_value(json_object_get(b, "metric")) ?: "",
			json_string_value(json_object_get(b, "status")) ?: "");
		if (json_is_string(json_object_get(b, "first_bad")))
			fprintf(out, "\n  first bad %.12s (\"%.50s\")",
				json_string_value(json_object_get(b, "first_bad")),
				json_string_value(json_object_get(b, "first_bad_subject")) ?: "");
		fprintf(out, "\n  %zu steps\n", json_array_size(json_object_get(b, "steps")));
	}
}

int cmd_history(int argc, char **argv)
{
	struct history *h = NULL;
	json_t *d = NULL;
	int rc, first, code = EXIT_OK;

	if ((rc = opt_parse(&cmd_history_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	if ((!rebuild && argc - first != 1) || (rebuild && argc - first < 2)) {
		opt_usage(&cmd_history_def, stderr);
		return EXIT_USAGE;
	}
	if (history_open(argv[first], rebuild, &h)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (rebuild) {
		if (history_rebuild(h, (const char *const *)argv + first + 1, argc - first - 1)) {
			log_err("%s", sb_lasterr());
			code = EXIT_USAGE;
		} else {
			printf("indexed %d path(s) into %s\n", argc - first - 1, argv[first]);
		}
		goto out;
	}
	if (history_dump(h, &d)) {
		log_err("%s", sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	if (plot) {
		json_t *w = NULL;
		size_t i;
		json_t *e;

		if (history_plot(d, plot, PLOT_PNG | PLOT_SVG, &w)) {
			log_err("%s", sb_lasterr());
			code = EXIT_USAGE;
			goto out;
		}
		json_array_foreach(w, i, e)
			fprintf(stderr, "%s/%s\n", plot,
				json_string_value(json_object_get(e, "png")));
		json_decref(w);
	}
	if (html) {
		if (html_report_write(d, NULL, NULL, html)) {
			log_err("%s", sb_lasterr());
			code = EXIT_USAGE;
			goto out;
		}
		fprintf(stderr, "%s/index.html\n", html);
	}
	if (json) {
		json_dumpf(d, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
	} else if (!plot && !html) {
		print_text(d, stdout);
	}
out:
	json_decref(d);
	history_close(h);
	return code;
}
