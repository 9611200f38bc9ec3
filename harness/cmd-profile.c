#include "harness/cmd.h"
#include "common/err.h"
#include "harness/options.h"
#include "harness/profile.h"
#include "harness/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct profile_opts po = { .top = 20 };
static const char *focus[64];

static int parse_kernel(const char *arg, void *value)
{
	struct profile_opts *o = value;

	if (o->kernels[1])
		return sb_err(EINVAL, "--kernel: at most two");
	o->kernels[o->kernels[0] ? 1 : 0] = arg;
	return 0;
}

static int parse_focus(const char *arg, void *value)
{
	char *copy = strdup(arg), *save = NULL;
	int n = 0;

	if (!copy)
		return -ENOMEM;
	/* Kept for the process's life: focus[] points into it. */
	for (char *t = strtok_r(copy, ",", &save); t && n < 63; t = strtok_r(NULL, ",", &save))
		focus[n++] = t;
	focus[n] = NULL;
	if (!n)
		return sb_err(EINVAL, "--focus: expected symbol names separated by commas");
	((struct profile_opts *)value)->focus = focus;
	return 0;
}

static const struct opt_def profile_opts_table[] = {
	OPT_CALLBACK("kernel", &po, "K", parse_kernel, "a kernel (spec name) to show; twice to "
		     "diff two\n(default: the run's first two)"),
	OPT_INTEGER("top", &po.top, "N", 1, 1000, "rows per table (default 20)"),
	OPT_STRING_S('o', "out", &po.out_dir, "DIR", "where to write (default RUN/profile)"),
	OPT_BOOL("swap-path", &po.swap_path, "count only samples whose stack runs through the "
		 "swap path\n(reclaim's swap-out, swap-in faults, zswap, zram/NVMe I/O,\n"
		 "swap freeing, swapoff); shares stay shares of all samples"),
	OPT_CALLBACK("focus", &po, "SYM,...", parse_focus, "the same with your own entry "
		     "symbols"),
	OPT_BOOL("json", &po.json, "machine output"),
	OPT_END(),
};

const struct cmd_def cmd_profile_def = {
	"profile", "RUN", "per-kernel top symbols and their difference from perf profiles",
	"Reads the perf profiles of RUN's cells (recorded with 'swapbench run\n"
	"--profile' or workloads[].profile: true) and prints, per kernel, the symbols\n"
	"with the most self samples summed over iterations and topologies, then the\n"
	"difference in share of samples between kernels A and B, largest changes\n"
	"first, like perf diff. Writes DIR/folded-<kernel>.txt (folded stacks,\n"
	"flamegraph.pl input) and DIR/profile-diff.{dat,gp,png} (a bar chart of the\n"
	"top changes). Kernel symbols come from perf with the kernel's vmlinux when\n"
	"this host has it (Debian: linux-image-*-dbg), else from the guest's\n"
	"/proc/kallsyms saved beside perf.data; what is missing is said.\n"
	"See docs/profile.md.\n",
	profile_opts_table, 1, 1,
	"Exit: 0 ok, 2 bad input, 3 perf failed on some cells, 4 no profile samples.\n",
};

int cmd_profile(int argc, char **argv)
{
	int rc, first;

	if ((rc = opt_parse(&cmd_profile_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	po.run_dir = argv[first];
	return profile_report(&po);
}
