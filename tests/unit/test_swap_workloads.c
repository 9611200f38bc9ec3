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

/* Each case: workload, params, and for a bad one the key its message
 * names and a fragment of it. */
static const struct {
	const char *wl, *params, *key, *got;
} cases[] = {
	{ "swapoff", "{}", NULL, NULL },
	{ "swapoff", "{\"size\": \"10G\", \"verify\": false}", NULL, NULL },
	{ "swapoff", "{\"size\": \"12Q\"}", "size", "" },
	{ "swapoff", "{\"size\": \"4k\"}", "size", "" },
	{ "swapoff", "{\"verify\": 1}", "verify", "" },
	{ "swapoff", "{\"sizes\": \"1G\"}", "sizes", "unknown" },
	{ "slot-overhead", "{}", NULL, NULL },
	{ "slot-overhead", "{\"mode\": \"static\", \"repeat\": 5, "
			   "\"device\": \"/dev/nvme0n1\"}", NULL, NULL },
	{ "slot-overhead", "{\"mode\": \"dynamic\", \"pages\": 65536, \"top\": 20}", NULL, NULL },
	{ "slot-overhead", "{\"mode\": \"both\"}", "mode", "" },
	{ "slot-overhead", "{\"repeat\": 1}", "repeat", "" },
	{ "slot-overhead", "{\"pages\": 10}", "pages", "" },
	{ "slot-overhead", "{\"device\": \"nvme0n1\"}", "device", "" },
	{ "slot-overhead", "{\"page\": 10}", "page", "unknown" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}}", NULL, NULL },
	{ "mthp", "{\"sizes\": {\"256kB\": \"always\"}, \"others\": \"inherit\", "
		  "\"processes\": 2, \"size\": \"64M\", \"hugepage\": false}", NULL, NULL },
	{ "mthp", "{}", "sizes", "" },
	{ "mthp", "{\"sizes\": {}}", "sizes", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"sometimes\"}}", "mthp.64kB",
		  "(got \"sometimes\")" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"others\": \"off\"}", "others", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"processes\": 0}", "processes", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"mthp\": {}}", "mthp", "unknown" },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wl_test_use(cases[i].wl);
		if (cases[i].key)
			expect_bad(cases[i].params, cases[i].key, cases[i].got);
		else
			expect_good(cases[i].params);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
