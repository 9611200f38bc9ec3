#include "harness/cmd.h"
#include "harness/profile.h"
#include "harness/runner.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void profile_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench profile RUN [--kernel A [--kernel B]] [--top N] [--out DIR]\n"
		"                         [--swap-path | --focus SYM,...] [--json]\n\n"
		"Reads the perf profiles of RUN's cells (recorded with 'swapbench run\n"
		"--profile' or workloads[].profile: true) and prints, per kernel, the symbols\n"
		"with the most self samples summed over iterations and topologies, then the\n"
		"difference in share of samples between kernels A and B (default: the run's\n"
		"first two kernels), largest changes first, like perf diff.\n"
		"Writes DIR/folded-<kernel>.txt (folded stacks, flamegraph.pl input) and\n"
		"DIR/profile-diff.{dat,gp,png} (a bar chart of the top changes).\n"
		"Kernel symbols come from perf with the kernel's vmlinux when this host has\n"
		"it (Debian: linux-image-*-dbg), else from the guest's /proc/kallsyms saved\n"
		"beside perf.data; what is missing is said.\n\n"
		"  --kernel K   a kernel (spec name) to show; twice to diff two\n"
		"  --top N      rows per table (default 20)\n"
		"  --swap-path  count only samples whose stack runs through the swap path\n"
		"               (reclaim's swap-out, swap-in faults, zswap, zram/NVMe I/O,\n"
		"               swap freeing, swapoff); shares stay shares of all samples\n"
		"  --focus S,.. the same with your own entry symbols\n"
		"  --out DIR    where to write (default RUN/profile)\n"
		"  --json       machine output\n\n"
		"Exit: 0 ok, 2 bad input, 3 perf failed on some cells, 4 no profile samples.\n");
}

int cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "top", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "swap-path", no_argument, NULL, 's' },
		{ "focus", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct profile_opts o = { .top = 20 };
	static const char *focus[64];
	int c, nk = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (nk == 2) {
				fprintf(stderr, "swapbench profile: --kernel: at most two\n");
				return EXIT_USAGE;
			}
			o.kernels[nk++] = optarg;
			break;
		case 't':
			o.top = atoi(optarg);
			if (o.top < 1 || o.top > 1000) {
				fprintf(stderr, "swapbench profile: --top: expected 1..1000, got "
					"'%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o': o.out_dir = optarg; break;
		case 'j': o.json = 1; break;
		case 's': o.swap_path = 1; break;
		case 'f': {
			char *save = NULL;
			int n = 0;

			for (char *t = strtok_r(optarg, ",", &save); t && n < 63;
			     t = strtok_r(NULL, ",", &save))
				focus[n++] = t;
			focus[n] = NULL;
			if (!n) {
				fprintf(stderr, "swapbench profile: --focus: expected symbol "
					"names separated by commas\n");
				return EXIT_USAGE;
			}
			o.focus = focus;
			break;
		}
		case 'h': profile_usage(stdout); return EXIT_OK;
		default: profile_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		profile_usage(stderr);
		return EXIT_USAGE;
	}
	o.run_dir = argv[optind];
	return profile_report(&o);
}
