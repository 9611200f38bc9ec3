/* swapbench workloads / topologies: the registered kinds and their
 * parameters, printed from the plugins' own tables. */
#include "harness/cmd.h"
#include "common/params.h"
#include "common/topology.h"
#include "workloads/workload.h"

#include <stdio.h>

const struct cmd_def cmd_workloads_def = {
	"workloads", NULL, "list the workload kinds and their parameters with defaults",
	"Every workload kind a spec's workloads[].kind may name, with the parameters\n"
	"its params object takes (type and range, meaning, default).\n",
	NULL, 0, 0, NULL,
};

const struct cmd_def cmd_topologies_def = {
	"topologies", NULL, "list the topology layer kinds and their parameters",
	"Every layer kind a topology's layers[].kind may name, with the keys of the\n"
	"layer object (type and range, meaning, default).\n",
	NULL, 0, 0, NULL,
};

static void print_kind(const char *name, const char *summary, const struct param_def *params)
{
	printf("%s\n  %s\n", name, summary);
	if (params)
		params_print(params, "    ", stdout);
	else
		printf("    (parameters: see docs/workloads.md)\n");
}

int cmd_workloads(int argc, char **argv)
{
	int rc, first;

	if ((rc = opt_parse(&cmd_workloads_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	for (int i = 0; workloads[i]; i++)
		print_kind(workloads[i]->name, workloads[i]->summary, workloads[i]->params);
	return 0;
}

int cmd_topologies(int argc, char **argv)
{
	int rc, first;

	if ((rc = opt_parse(&cmd_topologies_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	for (int i = 0; topo_kinds[i]; i++)
		print_kind(topo_kinds[i]->kind, topo_kinds[i]->summary, topo_kinds[i]->params);
	return 0;
}
