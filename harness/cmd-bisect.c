#define _GNU_SOURCE
#include "harness/bisect.h"
#include "harness/cmd.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/history.h"
#include "common/log.h"
#include "harness/runner.h"
#include "harness/spec.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void bisect_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench bisect --tree DIR --good C1 --bad C2 --suite SPEC --metric M\n"
		"                        [--topology T] [--workload W] [--kernel NAME] [--out DIR]\n"
		"                        [--db HISTORY] [--alpha A] [--beta B] [--min-iterations N]\n"
		"                        [--max-iterations N] [--batch N] [--ends N] [--resume]\n"
		"                        [--json]\n\n"
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
		"Exit: 0 found (or ambiguous: see the report), 2 bad input, 3 interrupted or\n"
		"failed.\n");
}

int cmd_bisect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 'T' },
		{ "good", required_argument, NULL, 'g' },
		{ "bad", required_argument, NULL, 'b' },
		{ "suite", required_argument, NULL, 's' },
		{ "metric", required_argument, NULL, 'm' },
		{ "topology", required_argument, NULL, 't' },
		{ "workload", required_argument, NULL, 'w' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "db", required_argument, NULL, 'd' },
		{ "alpha", required_argument, NULL, 'A' },
		{ "beta", required_argument, NULL, 'B' },
		{ "min-iterations", required_argument, NULL, 'n' },
		{ "max-iterations", required_argument, NULL, 'x' },
		{ "batch", required_argument, NULL, 'c' },
		{ "ends", required_argument, NULL, 'e' },
		{ "resume", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bisect_opts o = { .alpha = 0.01, .beta = 0.01, .min_n = 2, .max_n = 12,
				 .batch = 2, .ends_n = 5 };
	struct history *h = NULL;
	json_t *res = NULL;
	char *out = NULL, *topo = NULL, *wl = NULL;
	const char *db = NULL;
	int ch, json = 0, rc, code;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		double d = 0;

		if (strchr("ABnxce", ch)) {
			d = strtod(optarg, &end);
			if (!*optarg || *end || !(d > 0) || (strchr("AB", ch) && d >= 0.5) ||
			    (!strchr("AB", ch) && (d != (int)d || d > 1000))) {
				fprintf(stderr, "swapbench bisect: bad value '%s' for an option "
					"(rates in (0, 0.5), counts 1..1000)\n", optarg);
				return EXIT_USAGE;
			}
		}
		switch (ch) {
		case 'T': o.tree = optarg; break;
		case 'g': o.good = optarg; break;
		case 'b': o.bad = optarg; break;
		case 's': o.suite = optarg; break;
		case 'm': o.metric = optarg; break;
		case 't': o.topology = optarg; break;
		case 'w': o.workload = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'o': o.dir = optarg; break;
		case 'd': db = optarg; break;
		case 'A': o.alpha = d; break;
		case 'B': o.beta = d; break;
		case 'n': o.min_n = (int)d; break;
		case 'x': o.max_n = (int)d; break;
		case 'c': o.batch = (int)d; break;
		case 'e': o.ends_n = (int)d; break;
		case 'r': o.resume = 1; break;
		case 'j': json = 1; break;
		case 'h': bisect_usage(stdout); return EXIT_OK;
		default: bisect_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc || !o.tree || !o.good || !o.bad || !o.suite || !o.metric) {
		fprintf(stderr, "swapbench bisect: --tree, --good, --bad, --suite and --metric "
			"are required\n");
		bisect_usage(stderr);
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
		if (!o.topology)
			o.topology = topo = s.ntopos ? xstrdup(s.topos[0].name) : NULL;
		if (!o.workload)
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
