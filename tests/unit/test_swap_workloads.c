/* Parameter validation of the swapoff, slot-overhead and mthp workloads:
 * good inputs pass, and each bad one is refused naming the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/err.h"
#include "workloads/workload.h"

static void expect(const char *wl, const char *params, int ok, const char *frag)
{
	const struct workload_ops *ops = workload_find(wl);
	json_error_t e;
	json_t *p = json_loads(params, 0, &e);
	int rc;

	assert_non_null(ops);
	assert_non_null(p);
	sb_clearerr();
	rc = ops->validate(p, "w.params");
	if (ok && rc)
		fail_msg("%s %s: refused: %s", wl, params, sb_lasterr());
	if (!ok && !rc)
		fail_msg("%s %s: accepted", wl, params);
	if (!ok && frag && !strstr(sb_lasterr(), frag))
		fail_msg("%s %s: message '%s' lacks '%s'", wl, params, sb_lasterr(), frag);
	json_decref(p);
}

static void test_swapoff(void **state)
{
	expect("swapoff", "{}", 1, NULL);
	expect("swapoff", "{\"size\": \"10G\", \"verify\": false}", 1, NULL);
	expect("swapoff", "{\"size\": \"12Q\"}", 0, "w.params.size");
	expect("swapoff", "{\"size\": \"4k\"}", 0, "w.params.size");
	expect("swapoff", "{\"verify\": 1}", 0, "w.params.verify");
	expect("swapoff", "{\"sizes\": \"1G\"}", 0, "w.params.sizes: unknown");
}

static void test_slot_overhead(void **state)
{
	expect("slot-overhead", "{}", 1, NULL);
	expect("slot-overhead", "{\"mode\": \"static\", \"repeat\": 5, \"device\": \"/dev/nvme0n1\"}",
	       1, NULL);
	expect("slot-overhead", "{\"mode\": \"dynamic\", \"pages\": 65536, \"top\": 20}", 1, NULL);
	expect("slot-overhead", "{\"mode\": \"both\"}", 0, "w.params.mode");
	expect("slot-overhead", "{\"repeat\": 1}", 0, "w.params.repeat");
	expect("slot-overhead", "{\"pages\": 10}", 0, "w.params.pages");
	expect("slot-overhead", "{\"device\": \"nvme0n1\"}", 0, "w.params.device");
	expect("slot-overhead", "{\"page\": 10}", 0, "w.params.page: unknown");
}

static void test_mthp(void **state)
{
	expect("mthp", "{\"sizes\": {\"64kB\": \"always\"}}", 1, NULL);
	expect("mthp", "{\"sizes\": {\"256kB\": \"always\"}, \"others\": \"inherit\", "
		       "\"processes\": 2, \"size\": \"64M\", \"hugepage\": false}", 1, NULL);
	expect("mthp", "{}", 0, "w.params.sizes");
	expect("mthp", "{\"sizes\": {}}", 0, "w.params.sizes");
	expect("mthp", "{\"sizes\": {\"64kB\": \"sometimes\"}}", 0, "mthp");
	expect("mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"others\": \"off\"}", 0,
	       "w.params.others");
	expect("mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"processes\": 0}", 0,
	       "processes");
	expect("mthp", "{\"sizes\": {\"64kB\": \"always\"}, \"mthp\": {}}", 0,
	       "w.params.mthp: unknown");
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
