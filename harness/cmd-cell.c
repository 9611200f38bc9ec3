#include "harness/cmd.h"
#include "harness/runner.h"

#include <stdio.h>
#include <string.h>

static void cell_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench cell RUN INDEX\n\n"
		"Internal: run cell INDEX (0-based, in run order) of a run directory that\n"
		"an executor prepared (RUN/inputs/), exactly as 'run' runs a cell here, and\n"
		"write RUN/cells/<cell>/result.json. This is what each Slurm array task\n"
		"executes; the accelerator is chosen on the node it runs on.\n\n"
		"Exit: 0 the cell is ok, 3 it failed (its result says why), 2 bad input.\n");
}

int cmd_cell(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		cell_usage(stdout);
		return EXIT_OK;
	}
	if (argc != 3 || argv[1][0] == '-') {
		cell_usage(stderr);
		return EXIT_USAGE;
	}
	return runner_cell(argv[1], argv[2]);
}
