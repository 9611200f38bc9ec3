#define _GNU_SOURCE
#include "harness/cmd.h"
#include "harness/compare.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/runner.h"

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void compare_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench compare RUN [RUN...] [--baseline NAME] [--style mmtests|lkp]\n"
		"                         [--json] [--fail-on-regression PCT] [--color WHEN]\n"
		"                         [--threshold PCT] [--paired]\n\n"
		"One RUN: compares its kernels, the first (or --baseline NAME) being the\n"
		"baseline. Several RUNs: compares matching cells (kernel, topology, workload)\n"
		"across runs, the first run (or --baseline LABEL|DIR) being the baseline.\n\n"
		"Per metric: n, mean (Hmean for rates), stddev, CoeffVar, min, max, the\n"
		"percent change with better positive, Welch's t-test p-value, the minimum\n"
		"detectable effect (MDE: alpha 0.05 two-sided, power 0.8) and a verdict:\n"
		"better/worse only when the 95%% confidence intervals do not overlap; else\n"
		"same when the MDE is at most twice the threshold, else underpowered. Mean\n"
		"counter deltas follow (Ops), then the geometric mean of ratios per workload.\n"
		"A warning names a side that ran on a busier host (docs/noise.md).\n\n"
		"  --style S              mmtests (default) or lkp (%%change table)\n"
		"  --json                 the comparison as JSON (docs/compare.md)\n"
		"  --fail-on-regression P exit 1 when a significant change is worse than P%%\n"
		"  --color WHEN           auto (default: on a TTY unless NO_COLOR), always, never\n"
		"  --threshold PCT        reporting threshold (default 5): same needs MDE <= 2x\n"
		"  --paired               one run: verdicts from the paired t-test of the\n"
		"                         kernels' adjacent interleaved cells (docs/noise.md)\n\n"
		"Exit: 0 ok, 1 regression (with --fail-on-regression), 2 bad input.\n");
}

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "baseline", required_argument, NULL, 'b' },
		{ "style", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "fail-on-regression", required_argument, NULL, 'f' },
		{ "color", required_argument, NULL, 'c' },
		{ "threshold", required_argument, NULL, 't' },
		{ "paired", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct compare_opts o = { 0 };
	const char *style = "mmtests", *when = "auto";
	json_t *cmp = NULL;
	int c, json = 0, color, code;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': o.baseline = optarg; break;
		case 's': style = optarg; break;
		case 'j': json = 1; break;
		case 'c': when = optarg; break;
		case 'f':
			o.fail_pct = strtod(optarg, &end);
			if (*end || end == optarg || !(o.fail_pct > 0)) {
				fprintf(stderr, "swapbench compare: --fail-on-regression: expected "
					"a positive percentage, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			o.threshold_pct = strtod(optarg, &end);
			if (*end || end == optarg || !(o.threshold_pct > 0) ||
			    o.threshold_pct > 1000) {
				fprintf(stderr, "swapbench compare: --threshold: expected a "
					"percentage in (0, 1000], got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p': o.paired = 1; break;
		case 'h': compare_usage(stdout); return EXIT_OK;
		default: compare_usage(stderr); return EXIT_USAGE;
		}
	}
	if (strcmp(style, "mmtests") && strcmp(style, "lkp")) {
		fprintf(stderr, "swapbench compare: --style: expected mmtests or lkp, got '%s'\n",
			style);
		return EXIT_USAGE;
	}
	if (strcmp(when, "auto") && strcmp(when, "always") && strcmp(when, "never")) {
		fprintf(stderr, "swapbench compare: --color: expected auto, always or never\n");
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		compare_usage(stderr);
		return EXIT_USAGE;
	}
	/* A large comparison is hundreds of thousands of small JSON nodes; glibc's
	 * fastbins make freeing them cost more than building them. */
	mallopt(M_MXFAST, 0);
	if (compare_build((const char *const *)argv + optind, argc - optind, &o, &cmp)) {
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
	 * cost a tenth of its run time for nothing (git's UNLEAK idea). */
	return code;
}
