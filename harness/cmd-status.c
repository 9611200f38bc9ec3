#include "harness/cmd.h"
#include "harness/options.h"
#include "harness/runner.h"

static const struct opt_def status_opts[] = {
	OPT_END(),
};

const struct cmd_def cmd_status_def = {
	"status", "RUN", "progress of a run on Slurm; writes its summary when done",
	"Progress of a run submitted with 'run --executor slurm' (cells done, Slurm\n"
	"tasks running and pending). When no task of the run is active any more,\n"
	"writes RUN/summary.json and the final RUN/run.json and prints the table,\n"
	"as 'run' does at its end. Cells without a result (cancelled tasks) stay\n"
	"'not run': 'swapbench run SPEC --out RUN --resume --executor slurm' runs them.\n",
	status_opts, 1, 1,
	"Exit: as 'run' once finalised (3 when cells were not run); 0 while jobs are\n"
	"still active; 2 when RUN is not a run prepared by an executor.\n",
};

int cmd_status(int argc, char **argv)
{
	int rc, first;

	if ((rc = opt_parse(&cmd_status_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	return runner_status(argv[first], 1);
}
