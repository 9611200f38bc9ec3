#include "cmd.h"
#include "runner.h"

#include <stdio.h>

/* Placeholder until harness/plot.c lands. */
int cmd_plot(int argc, char **argv)
{
	fprintf(stderr, "swapbench plot: not implemented yet\n");
	return EXIT_USAGE;
}
