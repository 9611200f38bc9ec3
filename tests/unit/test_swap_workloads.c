/* Parameter validation of the swapoff, slot-overhead and mthp workloads:
 * good inputs pass, and each bad one is refused naming the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/err.h"
#include "tests/unit/wl-test.h"
#include "workloads/workload.h"

static void test_swapoff(void **state)
{
	wl_test_use("swapoff");
	expect_good("{}");
	expect_good("{\"size\": \"10G\", \"verify\": false}");
	expect_bad("{\"size\": \"12Q\"}", "size", "");
	expect_bad("{\"size\": \"4k\"}", "size", "");
	expect_bad("{\"verify\": 1}", "verify", "");
	expect_bad("{\"sizes\": \"1G\"}", "sizes", "unknown");
}

static void test_slot_overhead(void **state)
{
	wl_test_use("slot-overhead");
	expect_good("{}");
	expect_good("{\"mode\": \"static\", \"repeat\": 5, \"device\": \"/dev/nvme0n1\"}");
	expect_good("{\"mode\": \"dynamic\", \"pages\": 65536, \"top\": 20}");
	expect_bad("{\"mode\": \"both\"}", "mode", "");
	expect_bad("{\"repeat\": 1}", "repeat", "");
	expect_bad("{\"pages\": 10}", "pages", "");
	expect_bad("{\"device\": \"nvme0n1\"}", "device", "");
	expect_bad("{\"page\": 10}", "page", "unknown");
}

static void test_mthp(void **state)
{
	wl_test_use("mthp");
	expect_good("{\"sizes\": {\"64kB\": \"always\"}}");
	expect_good("{\"sizes\": {\"256kB\": \"always\"}, \"others\": \"inherit\", "
		       "\"processes\": 2, \"size\": \"64M\", \"hugepage\": false}");
	expect_bad("{}", "sizes", "");
	expect_bad("{\"sizes\": {}}", "sizes", "");
	expect_bad("{\"sizes\": {\"64kB\": \"sometimes\"}}", "mthp.64kB", "(got \"sometimes\")");
	expect_bad("{\"sizes\": {\"64kB\": \"always\"}, \"others\": \"off\"}", "others", "");
	expect_bad("{\"sizes\": {\"64kB\": \"always\"}, \"processes\": 0}", "processes", "");
	expect_bad("{\"sizes\": {\"64kB\": \"always\"}, \"mthp\": {}}", "mthp", "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swapoff),
		cmocka_unit_test(test_slot_overhead),
		cmocka_unit_test(test_mthp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
