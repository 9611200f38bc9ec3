#include "harness/cmd.h"
#include "harness/runner.h"

#include <stdio.h>
#include <string.h>

static void status_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench status RUN\n\n"
		"Progress of a run submitted with 'run --executor slurm' (cells done, Slurm\n"
		"tasks running and pending). When no task of the run is active any more,\n"
		"writes RUN/summary.json and the final RUN/run.json and prints the table,\n"
		"as 'run' does at its end. Cells without a result (cancelled tasks) stay\n"
		"'not run': 'swapbench run SPEC --out RUN --resume --executor slurm' runs them.\n\n"
		"Exit: as 'run' once finalised; 0 while jobs are still active; 2 when RUN is\n"
		"not a run prepared by an executor.\n");
}

int cmd_status(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		status_usage(stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		status_usage(stderr);
		return EXIT_USAGE;
	}
	return runner_status(argv[1], 1);
}
