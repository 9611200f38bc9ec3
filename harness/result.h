/* Guest results: validation of untrusted guest output, and the summary. */
#ifndef SB_RESULT_H
#define SB_RESULT_H

#include <jansson.h>

#include "common/protocol.h"

#define RESULT_MAX_BYTES (16 << 20)
#define SUMMARY_SCHEMA_VERSION 1

/* Strictly validate a result document. 0 or -EINVAL with sb_err() naming
 * the JSON path of the first problem. A guest's own result may only say
 * ok/failed/skipped; a final (host-written) one also crashed/timeout/invalid
 * and must name its kernel, topology, workload and iteration. */
int result_validate(const json_t *r, int final);

/* Load + validate a result file (size-capped). */
int result_load(const char *path, int final, json_t **out);

/* The run's index (summary.json) from its final cell results:
 *   rows[]     {kernel, topology, workload, metric, unit, better, n, mean,
 *               stddev, min, max, median, values[]} over ok cells
 *   counters[] {kernel, topology, workload, counter, n, mean, values[]}
 *              for the counters reports show (vmstat.pswpout, ...)
 *   cells[]    {cell_id, kernel, topology, workload, iteration, status} */
json_t *summary_build(const json_t *cells);

/* The index of a run directory: summary.json when it is newer than every
 * cells/<cell>/result.json, else rebuilt from the cells (each validated; the
 * first bad one is named) and rewritten. */
int summary_load(const char *run_dir, json_t **out);

/* Validate a summary document (what compare relies on). */
int summary_validate(const json_t *s);

/* Print a short table per metric (mean ± stddev per kernel x topology). */
void summary_print(const json_t *summary, FILE *out);

#endif
