/* Shared helpers of the integration tests: run `swapbench run` on a spec
 * and read what it stored. Env: SB_BIN (the binary), SB_SPECS (spec dir). */
#ifndef SB_IT_UTIL_H
#define SB_IT_UTIL_H

#include <jansson.h>
#include <stddef.h>

struct CMUnitTest;

struct it_run {
	int exit_code;
	char *out;    /* the results directory */
	char *output; /* what swapbench printed (stdout + stderr) */
};

/* The temp directory the tests write under (made by it_main). */
const char *it_tmpdir(void);
/* Remove a test's temp directory, or keep it when SB_KEEP is set (saying
 * which). */
void it_remove_dir(const char *dir);
/* Run `swapbench run SPEC --out <tmp>/TAG`; SPEC relative to SB_SPECS unless
 * absolute. Fails the test if swapbench cannot be started or hangs. */
struct it_run it_run_spec(const char *spec, const char *tag);
/* The same with more options after --out DIR (NULL-ended). */
/* How long it_run_spec*() waits for `swapbench run` (default 20 min). */
extern int it_run_timeout_s;

struct it_run it_run_spec_args(const char *spec, const char *tag, const char *const *extra);
void it_run_release(struct it_run *r);
/* A JSON file of the run (fails the test if missing or broken). */
json_t *it_load(const char *dir, const char *file);
json_t *it_cell_result(const struct it_run *r, const char *cell);
/* Value of metrics[].name, failing the test when it is missing. */
double it_metric(json_t *res, const char *name);
/* Counter delta counters.<source>.delta.<name>, or -1 if absent. */
long long it_counter(json_t *res, const char *source, const char *name);
/* The cell ran ok on a kernel whose release starts with release_prefix,
 * and really swapped: pages out and back in, major faults in the memcg. */
void it_assert_swapped(json_t *res, const char *release_prefix);
/* Run the group (argv[1] filters by test name); makes and removes the temp
 * dir (kept with SB_KEEP=1). */
int it_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n);

#endif
