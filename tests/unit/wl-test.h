/* Shared helpers of the workload unit tests: validate a params text with
 * the workload under test, check the message of a rejection and the metric
 * table, and the tests' main(). Include after cmocka.h. */
#ifndef SB_WL_TEST_H
#define SB_WL_TEST_H

#include <stddef.h>

#define WHERE "test.json: workloads[0].params"

struct CMUnitTest;
struct workload_ops;

/* The workload the helpers validate with; call first (in main). */
void wl_test_use(const char *name);
/* The same for a workload not in the registry (the skeleton). */
void wl_test_use_ops(const struct workload_ops *ops);
/* The workload wl_test_use() chose. */
const struct workload_ops *wl_test_ops(void);
/* Its validate() on a JSON text (the test fails on bad JSON). */
int validate_text(const char *text);
/* Rejected with -EINVAL and a message naming where, key and value. */
void expect_bad(const char *text, const char *key, const char *got);
/* Accepted; else the test fails showing the message. */
void expect_good(const char *text);
/* The text of tests/data/workloads/NAME. Caller frees. */
char *sample(const char *name);

/* A row of a metric table; a NULL unit is not checked. */
struct metric_want {
	const char *name, *unit, *better;
};
/* The workload's metric table is exactly want[0..n), in order. */
void expect_metrics(const struct metric_want *want, size_t n);
#define EXPECT_METRICS(want) expect_metrics(want, sizeof(want) / sizeof((want)[0]))

/* main() of a workload test: use the workload, require SB_TEST_DATA (the
 * tests directory), run the tests. */
int wl_test_main(const char *workload, const struct CMUnitTest *tests, size_t n);
#define WL_TEST_MAIN(workload, tests) \
	wl_test_main(workload, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
