/* Charts of a run: gnuplot scripts + data, rendered to PNG, SVG and text.
 *
 * Every chart <name> is written as <name>.gp (the script, runnable again by
 * hand from the output directory) and <name>.dat (its data, whitespace
 * separated columns under a header comment), then rendered by running
 * gnuplot on it. See docs/plots.md.
 */
#ifndef SB_PLOT_H
#define SB_PLOT_H

#include <jansson.h>
#include <stdio.h>

enum {
	PLOT_PNG = 1 << 0,
	PLOT_SVG = 1 << 1,
	PLOT_TXT = 1 << 2,
	PLOT_ALL = PLOT_PNG | PLOT_SVG | PLOT_TXT,
};

struct plot_opts {
	unsigned formats;   /* PLOT_* bits; 0 means PLOT_ALL */
};

/* Parse "png,svg,txt" (any non-empty subset) into PLOT_* bits.
 * 0 or -EINVAL with sb_err() naming the bad word. */
int plot_parse_formats(const char *list, unsigned *formats);

/* Write the charts of the run in run_dir into out_dir (created if needed).
 * On success *written is a new array of the paths written (scripts, data,
 * images, index.txt), in order. Returns 0 or a negative errno with sb_err():
 * -ENOENT/-EINVAL for a bad run (naming the file), -ENOPKG when gnuplot is
 * not installed (nothing written then), -EIO when gnuplot fails on a script
 * (its stderr in the message). */
int plot_run(const char *run_dir, const char *out_dir, const struct plot_opts *o,
	     json_t **written);

/* Write s as a gnuplot double-quoted string (backquotes and control
 * characters replaced: gnuplot would run `...` as a shell command). */
void plot_gp_quote(FILE *f, const char *s);

#endif
