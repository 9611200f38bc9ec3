#include "harness/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "harness/nightly.h"
#include "harness/options.h"
#include "harness/runner.h"

#include <stdio.h>

static int json;

static const struct opt_def nightly_opts[] = {
	OPT_BOOL("json", &json, "print night.json instead of the text report"),
	OPT_END(),
};

const struct cmd_def cmd_nightly_def = {
	"nightly", "NIGHTLY.json",
	"one night against a branch: fetch, run, judge, bisect, report",
	"One night against a branch (mm-unstable): git fetch, resolve the head; when\n"
	"that commit was judged already, say so and exit 0; when its night failed and\n"
	"was bisected, say 'already bisected' and exit 3. Otherwise build it through\n"
	"the kernel cache, run the suite, store the run in the history database, judge\n"
	"each metric against the pooled last N good nights (compare's statistics),\n"
	"bisect the worst regression, and write report.txt, night.json and an HTML\n"
	"report (index.html). The file's keys: docs/nightly.md; example:\n"
	"configs/nightly/mm-unstable.json. A lock keeps two nightlies on one database\n"
	"from overlapping.\n",
	nightly_opts, 1, 1,
	"Exit: 0 good (or nothing new, or a first baseline night), 1 regression,\n"
	"2 bad input (nightly file, suite, database), 3 could not judge (fetch, build\n"
	"or boot failed; nothing is recorded for a failed fetch), 4 another nightly\n"
	"holds the database.\n",
};

int cmd_nightly(int argc, char **argv)
{
	struct nightly_config c;
	int rc, first, code;

	if ((rc = opt_parse(&cmd_nightly_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	if (nightly_config_load(argv[first], &c)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	code = nightly_run(&c, json);
	nightly_config_release(&c);
	return code;
}
