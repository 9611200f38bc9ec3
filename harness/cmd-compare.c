#define _GNU_SOURCE
#include "harness/cmd.h"
#include "harness/compare.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"
#include "common/fsutil.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct compare_opts o;
static const char *style = "mmtests", *when = "auto";
static int json;
static const char *const styles[] = { "mmtests", "lkp", "rows", NULL };
static const char *const whens[] = { "auto", "always", "never", NULL };

static const struct opt_def compare_opts_table[] = {
	OPT_STRING("baseline", &o.baseline, "NAME",
		   "the baseline: a kernel of the run,\nor a run's label or DIR"),
	OPT_ENUM("style", &style, "S", styles, "mmtests (default; one block per kernel against\n"
		 "the baseline), lkp (%change table) or rows (a line per\n"
		 "kernel under each metric: many kernels)"),
	OPT_BOOL("json", &json, "the comparison as JSON (docs/compare.md)"),
	OPT_CALLBACK("fail-on-regression", &o.fail_pct, "P", opt_parse_pct,
		     "exit 1 when a significant change is worse than P%"),
	OPT_ENUM("color", &when, "WHEN", whens,
		 "auto (default: on a TTY unless NO_COLOR), always, never"),
	OPT_CALLBACK("threshold", &o.threshold_pct, "PCT", opt_parse_pct,
		     "reporting threshold (default 5): same needs MDE <= 2x"),
	OPT_BOOL("paired", &o.paired, "one run: verdicts from the paired t-test of the\n"
		 "kernels' adjacent interleaved cells (docs/noise.md)"),
	OPT_END(),
};

const struct cmd_def cmd_compare_def = {
	"compare", "RUN [RUN...]", "compare kernels of a run, or matching cells of runs",
	"One RUN: compares its kernels, the first (or --baseline NAME) being the\n"
	"baseline. Several RUNs: compares matching cells (kernel, topology, workload)\n"
	"across runs, the first run (or --baseline LABEL|DIR) being the baseline.\n\n"
	"Per metric: n, mean (Hmean for rates), stddev, CoeffVar, min, max, the\n"
	"percent change with better positive, Welch's t-test p-value, the minimum\n"
	"detectable effect (MDE: alpha 0.05 two-sided, power 0.8) and a verdict:\n"
	"better/worse only when the 95% confidence intervals do not overlap; else\n"
	"same when the MDE is at most twice the threshold, else underpowered. Mean\n"
	"counter deltas follow (Ops), then the geometric mean of ratios per workload.\n"
	"A warning names a side that ran on a busier host (docs/noise.md).\n",
	compare_opts_table, 1, -1,
	"Exit: 0 ok, 1 regression (with --fail-on-regression), 2 bad input.\n",
};

int cmd_compare(int argc, char **argv)
{
	json_t *cmp = NULL;
	int color, code, first;

	if ((code = opt_parse(&cmd_compare_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(code);
	/* A large comparison is hundreds of thousands of small JSON nodes; glibc's
	 * fastbins make freeing them cost more than building them. */
	mallopt(M_MXFAST, 0);
	if (compare_build((const char *const *)argv + first, argc - first, &o, &cmp)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	color = !strcmp(when, "always") ||
		(!strcmp(when, "auto") && isatty(1) && !getenv("NO_COLOR"));
	if (json) {
		json_dumpf(cmp, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (!strcmp(style, "lkp")) {
		compare_print_lkp(cmp, stdout, color);
	} else if (!strcmp(style, "rows")) {
		compare_print_rows(cmp, stdout, color);
	} else {
		compare_print_mmtests(cmp, stdout, color);
	}
	code = EXIT_OK;
	if (json_array_size(json_object_get(cmp, "regressions"))) {
		json_t *r;
		size_t i;

		json_array_foreach(json_object_get(cmp, "regressions"), i, r)
			fprintf(stderr, "regression: %s%s%s/%s %s: %s is %.2f%% worse (Welch p %s)\n",
				json_string_value(json_object_get(r, "kernel")) ?: "",
				json_object_get(r, "kernel") ? ": " : "",
				json_string_value(json_object_get(r, "topology")),
				json_string_value(json_object_get(r, "workload")),
				json_string_value(json_object_get(r, "metric")),
				json_string_value(json_object_get(r, "column")),
				-json_number_value(json_object_get(r, "pct_change")),
				json_is_real(json_object_get(r, "welch_p")) ? "given" : "n/a");
		code = EXIT_REGRESSION;
	}
	/* The process ends here: freeing a large comparison node by node would
	 * cost a tenth of its run time for nothing (git's UNLEAK idea), except
	 * under the sanitizers, whose leak check must stay meaningful. */
#if defined(__SANITIZE_ADDRESS__)
	json_decref(cmp);
#endif
	return code;
}
