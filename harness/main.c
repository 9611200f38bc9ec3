/* swapbench: benchmark and regression-test Linux swap designs in VMs. */
#include "harness/cmd.h"
#include "common/log.h"
#include "harness/runner.h"

#include <stdio.h>
#include <string.h>

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* The command table: add a command here and in cmd.h. */
static const struct command commands[] = {
	{ "run", cmd_run, "run an experiment spec: boot each kernel per cell, store results" },
	{ "kernel", cmd_kernel, "fetch or build kernels into the cache (get, build, list, gc)" },
	{ "compare", cmd_compare, "compare kernels of a run, or matching cells of runs" },
	{ "selftest-noise", cmd_selftest_noise,
	  "A/A experiment of a suite: false-positive rate and MDE per metric here" },
	{ "plot", cmd_plot, "write gnuplot charts (PNG, SVG, text) of a run" },
	{ "boot", cmd_boot, "boot a kernel with a topology interactively, for debugging" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "show this help, or a command's with 'help COMMAND'" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: swapbench [-v|-vv] <command> [options]\n\n"
		     "Boot kernels in qemu VMs with zram / zswap / NVMe swap topologies, run\n"
		     "workloads under a memcg limit, and store JSON results.\n\ncommands:\n");
	for (int i = 0; commands[i].name; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'swapbench <command> --help' for a command's options.\n"
		     "Exit codes: 0 ok, 1 regression, 2 usage/input error, 3 some cells failed,\n"
		     "4 skipped (missing prerequisite).\n");
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("swapbench %s\n", SWAPBENCH_VERSION);
	return 0;
}

static const struct command *find(const char *name)
{
	for (int i = 0; commands[i].name; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && find(argv[1]) && strcmp(argv[1], "help")) {
		char *args[] = { argv[1], "--help", NULL };

		return find(argv[1])->fn(2, args);
	}
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			log_set_level(LOG_INFO);
		else if (!strcmp(argv[i], "-vv"))
			log_set_level(LOG_DEBUG);
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return cmd_help(1, argv);
		else if (!strcmp(argv[i], "--version"))
			return cmd_version(0, NULL);
		else {
			fprintf(stderr, "swapbench: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	c = find(argv[i]);
	if (!c) {
		fprintf(stderr, "swapbench: '%s' is not a command\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return c->fn(argc - i, argv + i);
}
