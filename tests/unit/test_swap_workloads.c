/* Parameter validation of the swapoff, slot-overhead and mthp workloads,
 * and of every workload's ranges at both ends: good inputs pass, and each
 * bad one is refused naming the key. The code reads each range from its
 * workload's param_def table (params_get_*), so these rows are what the
 * table says and what the workloads accepted before they read it there. */
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
	{ "swapoff", "{\"size\": \"1M\"}", NULL, NULL },
	{ "swapoff", "{\"size\": \"1023K\"}", "size", "at least 1M (got \"1023K\")" },
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
	{ "slot-overhead", "{\"repeat\": 100, \"top\": 100, \"pages\": 268435456}", NULL, NULL },
	{ "slot-overhead", "{\"repeat\": 2, \"top\": 1, \"pages\": 256}", NULL, NULL },
	{ "slot-overhead", "{\"repeat\": 101}", "repeat", "from 2 to 100" },
	{ "slot-overhead", "{\"top\": 0}", "top", "from 1 to 100" },
	{ "slot-overhead", "{\"pages\": 268435457}", "pages", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}}", NULL, NULL },
	{ "mthp", "{\"sizes\": {\"256kB\": \"always\"}, \"others\": \"inherit\", "
		  "\"processes\": 2, \"size\": \"64M\", \"hugepage\": false}", NULL, NULL },
	{ "mthp", "{}", "sizes", "" },
	{ "mthp", "{\"sizes\": {}}", "sizes", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"sometimes\"}}", "mthp.64kB",
		  "(got \"sometimes\")" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"others\": \"off\"}", "others", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"processes\": 0}", "processes", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"passes\": 1001}", "passes", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"hugepage\": 1}", "hugepage", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"mthp\": {}}", "mthp", "unknown" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"passes\": 1001}", "passes", "" },
	{ "mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"hugepage\": 1}", "hugepage", "" },
	{ "swapoff", "{\"size\": \"1M\"}", NULL, NULL },
	{ "swapoff", "{\"size\": \"1023K\"}", "size", "at least 1M (got \"1023K\")" },
	{ "slot-overhead", "{\"repeat\": 100, \"top\": 100, \"pages\": 268435456}", NULL, NULL },
	{ "slot-overhead", "{\"repeat\": 2, \"top\": 1, \"pages\": 256}", NULL, NULL },
	{ "slot-overhead", "{\"repeat\": 101}", "repeat", "from 2 to 100 (got 101)" },
	{ "slot-overhead", "{\"top\": 0}", "top", "from 1 to 100 (got 0)" },
	{ "slot-overhead", "{\"pages\": 268435457}", "pages", "(got 268435457)" },
	/* anon: size from 4K (the code used to say page_size(): 4K on x86-64). */
	{ "anon", "{\"size\": 4096, \"passes\": 1000, \"processes\": 1024}", NULL, NULL },
	{ "anon", "{\"size\": \"1T\", \"seed\": -9223372036854775807}", NULL, NULL },
	{ "anon", "{\"size\": 4095}", "size", "from 4K to 1T (got 4095)" },
	{ "anon", "{\"size\": \"2T\"}", "size", "(got \"2T\")" },
	{ "anon", "{\"passes\": 1001}", "passes", "from 1 to 1000 (got 1001)" },
	{ "fio", "{\"bs\": \"512\", \"size\": \"1M\", \"iodepth\": 4096, \"runtime\": 86400}",
	  NULL, NULL },
	{ "fio", "{\"bs\": \"64M\", \"size\": \"64T\", \"iodepth\": 1, \"runtime\": 1}", NULL,
	  NULL },
	{ "fio", "{\"iodepth\": 4097}", "iodepth", "from 1 to 4096 (got 4097)" },
	{ "fio", "{\"runtime\": 86401}", "runtime", "from 1 to 86400 (got 86401)" },
	{ "fio", "{\"size\": \"65T\"}", "size", "from 1M to 64T (got \"65T\")" },
	{ "stress-ng", "{\"workers\": 1024, \"bytes\": \"1T\", \"timeout\": 86400, "
		       "\"keep\": false}", NULL, NULL },
	{ "stress-ng", "{\"bytes\": 4096, \"timeout\": 1}", NULL, NULL },
	{ "stress-ng", "{\"workers\": 1025}", "workers", "from 1 to 1024 (got 1025)" },
	{ "stress-ng", "{\"bytes\": 4095}", "bytes", "from 4K to 1T (got 4095)" },
	{ "stress-ng", "{\"timeout\": 86401}", "timeout", "(got 86401)" },
	{ "stress-ng", "{\"method\": \"a0123456789012345678901234567890123456789\"}", "method",
	  "at most 40 bytes" },
	{ "stress-ng", "{\"keep\": 1}", "keep", "true or false" },
	{ "sysbench", "{\"threads\": 1024, \"block_size\": \"16G\", "
		      "\"total_size\": 1125899906842624, \"time\": 86400}", NULL, NULL },
	{ "sysbench", "{\"threads\": 1, \"block_size\": \"1K\", \"total_size\": \"1K\", "
		      "\"time\": 1}", NULL, NULL },
	{ "sysbench", "{\"threads\": 1025}", "threads", "from 1 to 1024 (got 1025)" },
	{ "sysbench", "{\"block_size\": \"32G\"}", "block_size", "from 1K to 16G (got \"32G\")" },
	{ "sysbench", "{\"total_size\": 1125899906842625}", "total_size",
	  "(got 1125899906842625)" },
	{ "sysbench", "{\"time\": 86401}", "time", "(got 86401)" },
	{ "kernbench", "{\"jobs\": 4096, \"iterations\": 100, \"build_timeout\": 604800}", NULL,
	  NULL },
	{ "kernbench", "{\"jobs\": 1, \"iterations\": 1, \"build_timeout\": 10}", NULL, NULL },
	{ "kernbench", "{\"jobs\": 4097}", "jobs", "from 1 to 4096 (got 4097)" },
	{ "kernbench", "{\"iterations\": 101}", "iterations", "from 1 to 100 (got 101)" },
	{ "kernbench", "{\"build_timeout\": 604801}", "build_timeout",
	  "from 10 to 604800 (got 604801)" },
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
