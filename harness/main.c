/* swapbench: benchmark and regression-test Linux swap designs in VMs. */
#include "harness/cmd.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"

#include <stdio.h>
#include <string.h>

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static int man, completion;

static const struct opt_def help_opts[] = {
	OPT_BOOL("man", &man, "print the man page swapbench(1) (troff)"),
	OPT_BOOL("completion", &completion, "print the bash completion script"),
	OPT_END(),
};

static const struct cmd_def version_def = {
	"version", NULL, "print the version", NULL, NULL, 0, 0, NULL,
};

static const struct cmd_def help_def = {
	"help", "[COMMAND]", "show this help, or a command's with 'help COMMAND'", NULL,
	help_opts, 0, 1, NULL,
};

/* The command table: add a command here and in cmd.h. */
static const struct cmd_entry commands[] = {
	{ "run", cmd_run, &cmd_run_def, NULL, NULL },
	{ "kernel", cmd_kernel, NULL, cmd_kernel_subs,
	  "fetch or build kernels into the cache (get, build, list, search, gc)" },
	{ "compare", cmd_compare, &cmd_compare_def, NULL, NULL },
	{ "selftest-noise", cmd_selftest_noise, &cmd_selftest_noise_def, NULL, NULL },
	{ "plot", cmd_plot, &cmd_plot_def, NULL, NULL },
	{ "nightly", cmd_nightly, &cmd_nightly_def, NULL, NULL },
	{ "history", cmd_history, &cmd_history_def, NULL, NULL },
	{ "bisect", cmd_bisect, &cmd_bisect_def, NULL, NULL },
	{ "profile", cmd_profile, &cmd_profile_def, NULL, NULL },
	{ "status", cmd_status, &cmd_status_def, NULL, NULL },
	{ "cell", cmd_cell, &cmd_cell_def, NULL, NULL },
	{ "boot", cmd_boot, &cmd_boot_def, NULL, NULL },
	{ "workloads", cmd_workloads, &cmd_workloads_def, NULL, NULL },
	{ "topologies", cmd_topologies, &cmd_topologies_def, NULL, NULL },
	{ "version", cmd_version, &version_def, NULL, NULL },
	{ "help", cmd_help, &help_def, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const char *summary_of(const struct cmd_entry *c)
{
	return c->summary ? c->summary : c->def->summary;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s\n\n"
		     "Boot kernels in qemu VMs with zram / zswap / NVMe swap topologies, run\n"
		     "workloads under a memcg limit, and store JSON results.\n\ncommands:\n",
		opt_global_synopsis);
	for (int i = 0; commands[i].name; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, summary_of(&commands[i]));
	fprintf(out, "\nRun 'swapbench <command> --help' for a command's options.\n"
		     "Exit codes: %s\n", opt_exit_codes);
}

static int cmd_version(int argc, char **argv)
{
	int rc, first;

	if (argc && (rc = opt_parse(&version_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	printf("swapbench %s\n", SWAPBENCH_VERSION);
	return 0;
}

static const struct cmd_entry *find(const char *name)
{
	for (int i = 0; commands[i].name; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	int rc, first = argc;

	if (argc > 1 && (rc = opt_parse(&help_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	if (man) {
		opt_man_page(commands, stdout);
		return 0;
	}
	if (completion) {
		opt_bash_completion(commands, stdout);
		return 0;
	}
	if (first < argc && find(argv[first]) && strcmp(argv[first], "help")) {
		char *args[] = { argv[first], "--help", NULL };

		return find(argv[first])->fn(2, args);
	}
	usage(stdout);
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
/* A sanitizer finding (a leak included) must not read as an exit code of
 * ours (1 is "regression found"): sanitized builds exit 99 on one. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "exitcode=99";
}
#endif

int main(int argc, char **argv)
{
	const struct cmd_entry *c;
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
