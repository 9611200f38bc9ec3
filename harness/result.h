/* Guest results: validation of untrusted guest output, and the summary. */
#ifndef SB_RESULT_H
#define SB_RESULT_H

#include <jansson.h>

#define RESULT_MAX_BYTES (16 << 20)
#define RESULT_SCHEMA_VERSION 1

/* Strictly validate a guest-result.json document. 0 or -EINVAL with sb_err()
 * naming the JSON path of the first problem. */
int result_validate(const json_t *r);

/* Load + validate a guest result file (size-capped). */
int result_load(const char *path, json_t **out);

/* Aggregate rows {kernel, topology, workload, metric, n, mean, stddev, min,
 * max, median, unit, better} from a list of final cell results. */
json_t *summary_build(const json_t *cells);

/* Print a short table per metric (mean ± stddev per kernel x topology). */
void summary_print(const json_t *summary, FILE *out);

#endif
