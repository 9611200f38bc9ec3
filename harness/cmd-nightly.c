#define _GNU_SOURCE
#include "harness/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/nightly.h"
#include "harness/runner.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void nightly_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench nightly NIGHTLY.json [--json]\n\n"
		"One night against a branch (mm-unstable): git fetch, resolve the head; when\n"
		"that commit was judged already, say so and exit 0. Otherwise build it through\n"
		"the kernel cache, run the suite, store the run in the history database, judge\n"
		"each metric against the pooled last N good nights (compare's statistics),\n"
		"bisect the worst regression, and write report.txt, night.json and an HTML\n"
		"report (index.html). The file's keys: docs/nightly.md; example:\n"
		"configs/nightly/mm-unstable.json. A lock keeps two nightlies on one database\n"
		"from overlapping.\n\n"
		"  --json   print night.json instead of the text report\n\n"
		"Exit: 0 good (or nothing new, or a first baseline night), 1 regression,\n"
		"2 bad input (nightly file, suite, database), 3 could not judge (fetch, build\n"
		"or boot failed; nothing is recorded for a failed fetch), 4 another nightly\n"
		"holds the database.\n");
}

int cmd_nightly(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nightly_config c;
	int ch, json = 0, code;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'h': nightly_usage(stdout); return EXIT_OK;
		default: nightly_usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		nightly_usage(stderr);
		return EXIT_USAGE;
	}
	if (nightly_config_load(argv[optind], &c)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	code = nightly_run(&c, json);
	nightly_config_release(&c);
	return code;
}
