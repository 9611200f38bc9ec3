#include "harness/cmd.h"
#include "harness/options.h"
#include "harness/runner.h"

static const struct opt_def cell_opts[] = {
	OPT_END(),
};

const struct cmd_def cmd_cell_def = {
	"cell", "RUN INDEX", "internal: run one cell of a prepared run (Slurm array task)",
	"Runs cell INDEX (0-based, in run order) of a run directory that an executor\n"
	"prepared (RUN/inputs/), exactly as 'run' runs a cell here, and writes\n"
	"RUN/cells/<cell>/result.json. This is what each Slurm array task executes;\n"
	"the accelerator is chosen on the node it runs on.\n",
	cell_opts, 2, 2,
	"Exit: 0 the cell is ok, 3 it failed (its result says why), 2 bad input.\n",
};

int cmd_cell(int argc, char **argv)
{
	int rc, first;

	if ((rc = opt_parse(&cmd_cell_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	return runner_cell(argv[first], argv[first + 1]);
}
