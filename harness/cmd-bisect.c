#include "harness/bisect.h"
#include "harness/cmd.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/history.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"
#include "harness/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct bisect_opts o = { .alpha = 0.01, .beta = 0.01, .min_n = 2, .max_n = 12,
				.batch = 2, .ends_n = 5 };
static const char *db;
static int json;

/* An error rate of the SPRT: in (0, 0.5). */
static int parse_rate(const char *arg, void *value)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v > 0) || v >= 0.5)
		return sb_err(EINVAL, "expected a rate in (0, 0.5), got '%s'", arg);
	*(double *)value = v;
	return 0;
}

static const struct opt_def bisect_opts_table[] = {
	OPT_STRING("tree", &o.tree, "DIR", "the kernel git tree (required)"),
	OPT_STRING("good", &o.good, "C1", "a good commit (required)"),
	OPT_STRING("bad", &o.bad, "C2", "a bad commit (required)"),
	OPT_STRING("suite", &o.suite, "SPEC", "the experiment spec to run (required)"),
	OPT_STRING("metric", &o.metric, "M", "the metric that moved (required unless\n"
		   "--build-failure or --cell-failure)"),
	OPT_BOOL("build-failure", &o.build_only, "find the commit that broke the build:\n"
		 "a step is bad when it does not build (nothing runs)"),
	OPT_BOOL("cell-failure", &o.cells_only, "find the commit that makes the cell fail\n"
		 "(a panic, a crash, a hang): each step runs it\n"
		 "once; bad when not ok, skipped when not built"),
	OPT_STRING("topology", &o.topology, "T", "the topology (default the suite's first)"),
	OPT_STRING("workload", &o.workload, "W", "the workload (default the suite's first)"),
	OPT_STRING("kernel", &o.kernel, "NAME",
		   "the suite's git kernel to bisect (default the first)"),
	OPT_STRING("out", &o.dir, "DIR", "where the steps' run directories go\n"
		   "(default bisect-<time>)"),
	OPT_STRING("db", &db, "HISTORY", "also record the bisection in this history database"),
	OPT_CALLBACK("alpha", &o.alpha, "A", parse_rate,
		     "SPRT error rate: good called bad (default 0.01)"),
	OPT_CALLBACK("beta", &o.beta, "B", parse_rate,
		     "SPRT error rate: bad called good (default 0.01)"),
	OPT_INTEGER("min-iterations", &o.min_n, "N", 1, 1000,
		    "iterations before a step's decision (default 2)"),
	OPT_INTEGER("max-iterations", &o.max_n, "N", 1, 1000,
		    "a step undecided after N is skipped (default 12)"),
	OPT_INTEGER("batch", &o.batch, "N", 1, 1000,
		    "iterations run at a time between decisions (default 2)"),
	OPT_INTEGER("ends", &o.ends_n, "N", 1, 1000,
		    "iterations of the good and bad ends first (default 5)"),
	OPT_BOOL("resume", &o.resume, "continue an interrupted bisection in --out"),
	OPT_BOOL("json", &json, "print bisect.json instead of the text report"),
	OPT_END(),
};

const struct cmd_def cmd_bisect_def = {
	"bisect", NULL,
	"find the commit that moved a metric (repeat until confident)",
	"Needs --tree DIR --good C1 --bad C2 --suite SPEC, and --metric M,\n"
	"--build-failure or --cell-failure.\n\n"
	"Find the commit between C1 (good) and C2 (bad) that moved metric M of the\n"
	"suite's git kernel (--kernel, default the first) on one topology and workload\n"
	"(default the suite's first). Each step builds the commit through the kernel\n"
	"cache and runs iterations until Wald's SPRT decides good or bad with error\n"
	"rates --alpha (good called bad) and --beta (bad called good), default 0.01;\n"
	"no decision by --max-iterations (12), a failed build or failed cells skip the\n"
	"step. The ends run --ends iterations first (5). When C1 is not an ancestor of\n"
	"C2 (a rebased branch) the range starts at their merge base, tested first.\n"
	"Each step is a run directory under --out (default bisect-<time>), with\n"
	"bisect.json after every step; --resume continues an interrupted bisection.\n"
	"--db also records it in a history database.\n\n"
	"--build-failure: C2 does not build and C1 does; each step only builds its\n"
	"commit (bad when it does not build) and the first commit that does not\n"
	"build is named.\n"
	"--cell-failure: C2's cell (topology, workload) crashes, times out or fails\n"
	"and C1's is ok; each step builds its commit and runs the cell once (bad when\n"
	"it is not ok, skipped when the commit does not build).\n",
	bisect_opts_table, 0, 0,
	"Exit: 0 found (or ambiguous: see the report), 2 bad input, 3 interrupted or\n"
	"failed.\n",
};

int cmd_bisect(int argc, char **argv)
{
	struct history *h = NULL;
	json_t *res = NULL;
	char *out = NULL, *topo = NULL, *wl = NULL;
	int rc, first, code;

	if ((rc = opt_parse(&cmd_bisect_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	if (!o.tree || !o.good || !o.bad || !o.suite ||
	    (!o.metric && !o.build_only && !o.cells_only)) {
		fprintf(stderr, "swapbench bisect: --tree, --good, --bad, --suite and --metric "
			"(or --build-failure or --cell-failure) are required\n");
		opt_usage(&cmd_bisect_def, stderr);
		return EXIT_USAGE;
	}
	if (o.build_only + o.cells_only + !!o.metric > 1) {
		fprintf(stderr, "swapbench bisect: one of --metric, --build-failure and "
			"--cell-failure\n");
		opt_usage(&cmd_bisect_def, stderr);
		return EXIT_USAGE;
	}
	if (o.max_n < o.min_n || o.ends_n < 2) {
		fprintf(stderr, "swapbench bisect: --max-iterations below --min-iterations, or "
			"--ends below 2\n");
		return EXIT_USAGE;
	}
	{
		struct spec s;

		spec_init(&s);
		if (spec_load(o.suite, &s)) {
			log_err("%s", sb_lasterr());
			return EXIT_USAGE;
		}
		/* A build bisection runs nothing: no cell to name. */
		if (o.build_only)
			o.topology = o.workload = o.metric = NULL;
		if (o.cells_only)
			o.metric = NULL;
		if (!o.build_only && !o.topology)
			o.topology = topo = s.ntopos ? xstrdup(s.topos[0].name) : NULL;
		if (!o.build_only && !o.workload)
			o.workload = wl = s.nworkloads ? xstrdup(s.workloads[0].name) : NULL;
		spec_release(&s);
	}
	if (!o.dir) {
		char stamp[32];
		time_t t = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&t));
		o.dir = out = xasprintf("bisect-%s", stamp);
	}
	if (db && history_open(db, 1, &h)) {
		log_err("%s", sb_lasterr());
		free(out);
		free(topo);
		free(wl);
		return EXIT_USAGE;
	}
	o.db = h;
	rc = bisect_run(&o, &res);
	if (rc) {
		log_err("%s", sb_lasterr());
		code = rc == -ENOENT || rc == -EINVAL || rc == -EEXIST ? EXIT_USAGE
								       : EXIT_CELLS_FAILED;
	} else {
		if (json)
			json_dumpf(res, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
		else
			bisect_print(res, stdout);
		if (json)
			fputc('\n', stdout);
		code = EXIT_OK;
	}
	json_decref(res);
	history_close(h);
	free(out);
	free(topo);
	free(wl);
	return code;
}
