#include "harness/cmd.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/plot.h"
#include "harness/runner.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void plot_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench plot RUN [--out DIR] [--format png,svg,txt]\n\n"
		"Draws the results of the run directory RUN with gnuplot:\n"
		"  bar-<workload>-<metric>    mean +- stddev per topology, a bar per kernel\n"
		"  lat-<workload>-<topology>  latency percentiles (p50..max), a line per\n"
		"                             kernel, log scale\n"
		"  ts-<workload>-<topology>   swap used, zswap pool and memcg usage over time\n"
		"                             in iteration 1, a line per kernel\n"
		"Each chart NAME is written as NAME.gp (gnuplot script) and NAME.dat (its data)\n"
		"and rendered to NAME.png, NAME.svg and NAME.txt (79x24 text, for email);\n"
		"DIR/index.txt lists the charts. Prints the files written, one a line.\n"
		"See docs/plots.md.\n\n"
		"  --out DIR        where to write (default RUN/plots)\n"
		"  --format LIST    which images, comma separated (default png,svg,txt)\n\n"
		"Exit: 0 done, 2 bad input (the message names the file), 4 gnuplot missing\n"
		"(Debian: apt-get install gnuplot-nox).\n");
}

int cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plot_opts o = { .formats = PLOT_ALL };
	const char *out = NULL;
	char *run, *def_out = NULL;
	json_t *written = NULL, *v;
	size_t i, n;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'f':
			if (plot_parse_formats(optarg, &o.formats)) {
				fprintf(stderr, "swapbench plot: --format: %s\n", sb_lasterr());
				return EXIT_USAGE;
			}
			break;
		case 'h': plot_usage(stdout); return EXIT_OK;
		default: plot_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		plot_usage(stderr);
		return EXIT_USAGE;
	}
	run = xstrdup(argv[optind]);
	/* "RUN/" gives RUN/plots, not RUN//plots. */
	for (n = strlen(run); n > 1 && run[n - 1] == '/'; n--)
		run[n - 1] = '\0';
	if (!out)
		out = def_out = xasprintf("%s/plots", run);
	rc = plot_run(run, out, &o, &written);
	if (rc) {
		fprintf(stderr, "swapbench plot: %s\n", sb_lasterr());
		free(def_out);
		free(run);
		return rc == -ENOPKG ? EXIT_SKIPPED : EXIT_USAGE;
	}
	json_array_foreach(written, i, v)
		printf("%s\n", json_string_value(v));
	/* Only index.txt: nothing was ok to draw. */
	if (json_array_size(written) <= 1)
		fprintf(stderr, "swapbench plot: %s has no ok cells; no charts written\n", run);
	json_decref(written);
	free(def_out);
	free(run);
	return EXIT_OK;
}
