/* The fio workload: validate() and the parser of fio's JSON output, fed
 * with outputs captured from fio 3.33 (tests/data/workloads/fio-*.json). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "tests/unit/wl-test.h"
#include "workloads/workload.h"
#include "workloads/wl-util.h"

static void test_validate_good(void **state)
{
	assert_int_equal(validate_text("{}"), 0);
	assert_int_equal(validate_text("{\"device\":\"/dev/nvme0n1\",\"rw\":\"randread\","
				       "\"bs\":\"64k\",\"iodepth\":32,\"size\":\"1G\","
				       "\"runtime\":5,\"ioengine\":\"io_uring\",\"direct\":0,"
				       "\"prefill\":false}"), 0);
	assert_int_equal(validate_text("{\"rw\":\"randrw\",\"bs\":4096,\"direct\":true}"), 0);
	assert_int_equal(validate_text("{\"rw\":\"write\",\"ioengine\":\"psync\","
				       "\"direct\":1}"), 0);
}

static void test_validate_bad(void **state)
{
	expect_bad("{\"rw\":\"trim\"}", "rw", "(got \"trim\")");
	expect_bad("{\"rw\":\"trim\"}", "rw", "\"randwrite\", \"randread\"");
	expect_bad("{\"bs\":\"3k\"}", "bs", "power of two");
	expect_bad("{\"bs\":\"256\"}", "bs", "(got \"256\")");
	expect_bad("{\"bs\":\"128M\"}", "bs", "(got \"128M\")");
	expect_bad("{\"size\":\"1k\"}", "size", "(got \"1k\")");
	expect_bad("{\"bs\":\"4M\",\"size\":\"2M\"}", "size", "at least one block");
	expect_bad("{\"iodepth\":0}", "iodepth", "(got 0)");
	expect_bad("{\"runtime\":0}", "runtime", "(got 0)");
	expect_bad("{\"ioengine\":\"posixaio\"}", "ioengine", "(got \"posixaio\")");
	expect_bad("{\"direct\":2}", "direct", "(got 2)");
	expect_bad("{\"direct\":\"yes\"}", "direct", "(got \"yes\")");
	expect_bad("{\"device\":\"nvme0n1\"}", "device", "absolute path");
	expect_bad("{\"device\":\"/dev/../etc/passwd\"}", "device", "absolute path");
	expect_bad("{\"prefill\":1}", "prefill", "true or false");
	expect_bad("{\"blocksize\":\"4k\"}", "blocksize", "unknown parameter");
}

static void test_metric_table(void **state)
{
	static const struct metric_want want[] = {
		{ "bw", NULL, "higher" }, { "iops", NULL, "higher" }, { "clat_p50", NULL, "lower" },
		{ "clat_p99", NULL, "lower" }, { "clat_p99.9", NULL, "lower" },
	};

	EXPECT_METRICS(want);
}

static void test_parse_randwrite(void **state)
{
	char *text = sample("fio-randwrite.json");
	struct wl_fio_result r;

	assert_int_equal(wl_fio_parse(text, &r), 0);
	assert_int_equal(r.error, 0);
	assert_string_equal(r.version, "fio-3.33");
	assert_false(r.read.present);
	assert_true(r.write.present);
	assert_true(r.write.bw_bytes == 345039888);
	assert_true(r.write.iops > 84238.25 && r.write.iops < 84238.26);
	assert_int_equal(r.write.total_ios, 252799);
	assert_true(r.write.clat_p50 == 185.344);
	assert_true(r.write.clat_p99 == 317.44);
	assert_true(r.write.clat_p999 == 602.112);
	free(text);
}

static void test_parse_randrw(void **state)
{
	char *text = sample("fio-randrw.json");
	struct wl_fio_result r;

	assert_int_equal(wl_fio_parse(text, &r), 0);
	assert_true(r.read.present && r.write.present);
	assert_true(r.read.bw_bytes == 102619026);
	assert_true(r.write.bw_bytes == 102004933);
	assert_true(r.read.clat_p99 == 2572.288);
	assert_true(r.write.clat_p999 == 8847.36);
	free(text);
}

static void test_parse_notes_and_errors(void **state)
{
	char *text = sample("fio-randwrite.json"), *noisy;
	struct wl_fio_result r;

	/* fio can print notes on stdout before the document. */
	noisy = xasprintf("note: both iodepth >= 1 and synchronous I/O engine are selected\n%s",
			  text);
	assert_int_equal(wl_fio_parse(noisy, &r), 0);
	assert_true(r.write.present);
	free(noisy);
	free(text);

	text = sample("fio-error.json");
	assert_int_equal(wl_fio_parse(text, &r), 0);
	assert_int_equal(r.error, 1);
	free(text);

	assert_int_equal(wl_fio_parse("fio: engine libaio not loadable\n", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "no JSON document"));
	assert_int_equal(wl_fio_parse("{\"jobs\": [", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "bad JSON"));
	assert_int_equal(wl_fio_parse("{\"jobs\": []}", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "no jobs[0]"));
	assert_int_equal(wl_fio_parse("{\"jobs\": [{\"read\": {\"total_ios\": 5}, "
				      "\"write\": {}}]}", &r), -EPROTO);
	assert_non_null(strstr(sb_lasterr(), "jobs[0].read.clat_ns.percentile"));
	assert_int_equal(wl_fio_parse(NULL, &r), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_good),
		cmocka_unit_test(test_validate_bad),
		cmocka_unit_test(test_metric_table),
		cmocka_unit_test(test_parse_randwrite),
		cmocka_unit_test(test_parse_randrw),
		cmocka_unit_test(test_parse_notes_and_errors),
	};

	return WL_TEST_MAIN("fio", tests);
}
