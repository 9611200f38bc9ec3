/* Helpers shared by unit and integration tests (linked into both through
 * sbunittest). Include after cmocka.h. */
#ifndef SB_TEST_UTIL_H
#define SB_TEST_UTIL_H

#include <jansson.h>

/* The row of metric name in the first group of a `compare --json`
 * comparison (compare_build); the test fails when there is none. */
json_t *cmp_metric(const json_t *cmp, const char *name);

#endif
