/* Shared helpers of the workload unit tests: validate a params text with
 * the workload under test and check the message of a rejection. */
#ifndef SB_WL_TEST_H
#define SB_WL_TEST_H

#define WHERE "test.json: workloads[0].params"

/* The workload the helpers validate with; call first (in main). */
void wl_test_use(const char *name);
/* Its validate() on a JSON text (the test fails on bad JSON). */
int validate_text(const char *text);
/* Rejected with -EINVAL and a message naming where, key and value. */
void expect_bad(const char *text, const char *key, const char *got);
/* The text of tests/data/workloads/NAME. Caller frees. */
char *sample(const char *name);

#endif
