/* The nightly history: an SQLite index of run directories.
 *
 * The run directories stay the source of truth; the database indexes them
 * (nights, commits, kernels, runs, cells, metric values, verdicts, bisects
 * and their steps) and can be rebuilt from them (history_rebuild). Schema in
 * docs/nightly.md; versioned with PRAGMA user_version and migrated forward
 * in a transaction per step when opened. A database of a newer schema, or a
 * file that is not an SQLite database, is an error and is never written.
 * WAL journal: a killed writer leaves the last committed state.
 */
#ifndef SB_HISTORY_H
#define SB_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#define HISTORY_SCHEMA_VERSION 2

struct history;

/* Open (and create when create is set and the file does not exist) and
 * migrate. 0 or -errno with sb_err() naming the file. */
int history_open(const char *path, int create, struct history **out);
void history_close(struct history *h);

/* Schema version of an open database (after migration). */
int history_schema_version(struct history *h);

/* Transactions (BEGIN IMMEDIATE: one writer at a time). */
int history_begin(struct history *h);
int history_commit(struct history *h);
void history_rollback(struct history *h);

/* Raw SQL for tests and migrations; no parameters. */
int history_exec(struct history *h, const char *sql);

/* ---- nights ---- */

/* A night that was judged (status 'judged') for this head, or NULL. */
json_t *history_night_of_head(struct history *h, const char *head);
/* The newest failed night of this head whose bisection finished (found or
 * ambiguous): {id, started, exit_code, status, first_bad, subject}, or NULL. */
json_t *history_bisected_failure(struct history *h, const char *head);
/* Nights left 'running' by a killed nightly become 'interrupted'. */
int history_mark_interrupted(struct history *h);
int history_night_start(struct history *h, const char *tree, const char *branch,
			const char *head, const char *dir, int64_t *id);
/* status: judged, failed (could not judge); verdict: baseline, good,
 * regression, unjudged. */
int history_night_finish(struct history *h, int64_t id, const char *status,
			 const char *verdict, int exit_code, const char *report);
/* The head commits of the last n nights judged good or baseline, newest
 * first (excluding night `exclude`). */
json_t *history_good_nights(struct history *h, int n, int64_t exclude);
/* {id, head} of the newest judged night, whatever its verdict (its head
 * built and ran), excluding night `exclude`; NULL when there is none. */
json_t *history_last_judged_night(struct history *h, int64_t exclude);

/* ---- runs ---- */

/* Index a run directory (run.json, summary.json, cells/<id>/result.json):
 * its kernels, cells and metric values. An already indexed path is
 * replaced. kind: night, bisect, run. night_id 0: none. */
int history_add_run(struct history *h, const char *run_dir, const char *kind,
		    int64_t night_id, const char *commit, int64_t *run_id);
int history_add_commit(struct history *h, const char *sha, const char *subject,
		       const char *author, const char *date);

/* The values of a metric (ok cells) of a kernel name over the night runs of
 * the given nights (an array of night ids, or of history_good_nights()
 * objects), as a JSON array of numbers. */
json_t *history_night_values(struct history *h, const json_t *night_ids, const char *kernel,
			     const char *topology, const char *workload, const char *metric);
/* The same over one run. */
json_t *history_run_values(struct history *h, int64_t run_id, const char *kernel,
			   const char *topology, const char *workload, const char *metric);

/* ---- verdicts ---- */

/* row: {kernel, topology, workload, metric, unit, better, verdict,
 * pct_change, welch_p, n_base, n_new, threshold, regression} */
int history_add_verdict(struct history *h, int64_t night_id, const json_t *row);

/* ---- bisects ---- */

/* b: {night_id, good, bad, merge_base, kernel, topology, workload, metric,
 * dir, alpha, beta} */
int history_bisect_start(struct history *h, const json_t *b, int64_t *id);
int history_bisect_finish(struct history *h, int64_t id, const char *status,
			  const char *first_bad);
/* step: {seq, commit, run_id (0: none), decision, n, mean, llr, reason} */
int history_bisect_step(struct history *h, int64_t bisect_id, const json_t *step);

/* ---- reading ---- */

/* Everything `history` prints: {schema_version, nights[], series[],
 * bisects[]}; series are per (kernel, topology, workload, metric) with
 * points per night {night, head, n, mean, stddev, verdict, regression}. */
int history_dump(struct history *h, json_t **out);

/* Index run directories again. A path holding night.json is a night (its
 * run/ and bisect/step-NN run directories, verdicts and bisect with it);
 * a path holding run.json is a single run. */
int history_rebuild(struct history *h, const char *const *paths, int n);

#endif
