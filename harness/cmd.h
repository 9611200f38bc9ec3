/* Commands: one cmd-*.c each, listed in main.c's table. A command returns
 * the process exit code (EXIT_* in runner.h) and declares its options in a
 * table (options.h), which also makes its --help, the man page and the bash
 * completion. */
#ifndef SB_CMD_H
#define SB_CMD_H

#include "harness/options.h"

int cmd_run(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_selftest_noise(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_nightly(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_bisect(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_cell(int argc, char **argv);
int cmd_workloads(int argc, char **argv);
int cmd_topologies(int argc, char **argv);

extern const struct cmd_def cmd_run_def, cmd_boot_def, cmd_compare_def, cmd_plot_def;
extern const struct cmd_def cmd_profile_def;
extern const struct cmd_def cmd_selftest_noise_def;
extern const struct cmd_def cmd_workloads_def, cmd_topologies_def;
extern const struct cmd_def cmd_status_def, cmd_cell_def;
extern const struct cmd_def cmd_nightly_def, cmd_history_def, cmd_bisect_def;
extern const struct subcmd cmd_kernel_subs[];

#endif
