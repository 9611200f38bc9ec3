/* The nightly's pages: trend charts of the history (gnuplot) and a static
 * HTML report (no JavaScript, readable offline and as a CI artifact). */
#ifndef SB_REPORT_HTML_H
#define SB_REPORT_HTML_H

#include <jansson.h>

/* Trend charts of a history_dump(): one chart per metric, a line per
 * (kernel, topology, workload), nights on x; regressions marked and the
 * bisected commit named. Writes trend-<n>.gp/.dat and .png and/or .svg
 * (formats: PLOT_* bits) in out_dir. *written (may be NULL): array of
 * {metric, png, svg} (file names). -ENOPKG without gnuplot. */
int history_plot(const json_t *dump, const char *out_dir, unsigned formats, json_t **written);

/* index.html in out_dir (and the SVG charts beside it): the night's verdict
 * table, the trend charts, the bisection, the nights with links to each
 * run's JSON. night and bisect may be NULL (the latest night in dump is
 * shown). */
int html_report_write(const json_t *dump, const json_t *night, const json_t *bisect,
		      const char *out_dir);

#endif
