/* Inside the plotter (plot.c: the charts; plot-gnuplot.c: scripts, data
 * files, rendering). Not for use outside those files. */
#ifndef SB_PLOT_INT_H
#define SB_PLOT_INT_H

#include <jansson.h>
#include <stdio.h>

#include "harness/plot.h"

#define GNUPLOT_TIMEOUT_MS 60000

/* The image formats and their file extensions. */
struct plot_format {
	unsigned bit;
	const char *ext;
};
#define N_FORMATS 3
extern const struct plot_format plot_formats[N_FORMATS];

struct plot {
	const char *run_dir, *out_dir;
	unsigned formats;
	int pngcairo;         /* else gnuplot's libgd png terminal */
	json_t *run, *summary;
	json_t *kernels;      /* names in display order: run.json's, then any others */
	json_t *topologies;
	json_t *workloads;
	const char *accel;    /* NULL when run.json does not say */
	json_t *written;      /* paths, in order */
	json_t *used;         /* chart names taken, to keep sanitized names apart */
	FILE *index;
	char *index_buf;
	size_t index_len;
};

/* A chart being built: script and data in memory until rendered. */
struct chart {
	char *name;
	char *desc;
	const char *grid;   /* "set grid" arguments for the image terminals */
	FILE *gp, *dat;
	char *gp_buf, *dat_buf;
	size_t gp_len, dat_len;
};

/* plot-gnuplot.c */
void gp_quote(FILE *f, const char *s);
char *comment_safe(const char *s);
void dat_token(FILE *f, const char *s);
void dat_num(FILE *f, double v);
char *chart_name(struct plot *p, const char *prefix, const char *a, const char *b);
void chart_open(struct chart *c, char *name, char *desc);
void chart_free(struct chart *c);
void gp_header(const struct chart *c);
void gp_terminal(const struct plot *p, const struct chart *c, unsigned fmt, int w, int h);
int write_out(struct plot *p, const char *name, const char *ext, const char *buf,
	      size_t len);
int chart_render(struct plot *p, struct chart *c);
int probe_gnuplot(struct plot *p);

#endif
