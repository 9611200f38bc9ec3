/* Commands: one cmd-*.c each, listed in main.c's table. A command returns
 * the process exit code (EXIT_* in runner.h). */
#ifndef SB_CMD_H
#define SB_CMD_H

int cmd_run(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_selftest_noise(int argc, char **argv);
int cmd_plot(int argc, char **argv);

#endif
