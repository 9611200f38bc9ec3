/* The nightly: fetch a branch (mm-unstable), run a suite on its head, keep
 * the results in the history database, judge them against the last good
 * nights, bisect a regression, write reports. docs/nightly.md.
 */
#ifndef SB_NIGHTLY_H
#define SB_NIGHTLY_H

#include <jansson.h>

struct nightly_config {
	char *path, *name;
	char *tree;        /* a local git tree (absolute) */
	char *tree_url;    /* when the file named a URL: tree is a clone kept here */
	char *remote, *branch;
	char *suite;       /* absolute */
	char *kernel;      /* the suite's kernel following the branch; NULL: first git kernel */
	char *database, *results, *reports;
	int baseline_nights;
	int iterations;    /* 0: the suite's */
	double threshold_default;
	json_t *threshold_metrics, *threshold_workloads; /* name -> percent */
	int bisect;
	double alpha, beta;
	int min_n, max_n, batch;
	int fetch_timeout_s;
};

/* Load and validate NIGHTLY.json: unknown keys, wrong types and missing
 * files are errors naming file, line and JSON path. */
int nightly_config_load(const char *path, struct nightly_config *c);
void nightly_config_release(struct nightly_config *c);

/* The threshold (percent worse) for a metric of a workload. */
double nightly_threshold(const struct nightly_config *c, const char *workload,
			 const char *metric);

struct history;

/* Judge tonight's run (run_id, its summary) of the branch kernel against
 * the pooled values of the last c->baseline_nights good nights, with
 * compare's own verdict (compare_change_json). Appends a row per metric to
 * verdicts (and to the database; the caller holds the transaction), sets
 * *good_nights to the nights pooled, returns how many metrics regressed
 * beyond their threshold. */
int nightly_judge(const struct nightly_config *c, struct history *h, long long night,
		  long long run_id, const char *kernel, const json_t *summary, json_t *verdicts,
		  json_t **good_nights);

/* One night. Returns the exit code: 0 judged good (or already judged, or a
 * baseline), 1 regression, 2 bad input, 3 could not judge (fetch, build or
 * boot failure), 4 another nightly holds the database. */
int nightly_run(const struct nightly_config *c, int json_out);

#endif
