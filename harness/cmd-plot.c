#include "harness/cmd.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/options.h"
#include "harness/plot.h"
#include "harness/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct plot_opts o = { .formats = PLOT_ALL };
static const char *out;

static int parse_formats(const char *arg, void *value)
{
	return plot_parse_formats(arg, value);
}

static const struct opt_def plot_opts_table[] = {
	OPT_STRING_S('o', "out", &out, "DIR", "where to write (default RUN/plots)"),
	OPT_CALLBACK("format", &o.formats, "LIST", parse_formats,
		     "which images, comma separated (default png,svg,txt)"),
	OPT_END(),
};

const struct cmd_def cmd_plot_def = {
	"plot", "RUN", "write gnuplot charts (PNG, SVG, text) of a run",
	"Draws the results of the run directory RUN with gnuplot:\n"
	"  bar-<workload>-<metric>    mean +- stddev per topology, a bar per kernel\n"
	"  lat-<workload>-<topology>  latency percentiles (p50..max), a line per\n"
	"                             kernel, log scale\n"
	"  ts-<workload>-<topology>   swap used, zswap pool and memcg usage over time\n"
	"                             in iteration 1, a line per kernel\n"
	"Each chart NAME is written as NAME.gp (gnuplot script) and NAME.dat (its data)\n"
	"and rendered to NAME.png, NAME.svg and NAME.txt (79x24 text, for email);\n"
	"DIR/index.txt lists the charts. Prints the files written, one a line.\n"
	"See docs/plots.md.\n",
	plot_opts_table, 1, 1,
	"Exit: 0 done, 2 bad input (the message names the file), 4 gnuplot missing\n"
	"(Debian: apt-get install gnuplot-nox).\n",
};

int cmd_plot(int argc, char **argv)
{
	char *run, *def_out = NULL;
	json_t *written = NULL, *v;
	size_t i, n;
	int rc, first;

	if ((rc = opt_parse(&cmd_plot_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	run = xstrdup(argv[first]);
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
