/* topo_mkswap: the swap header the agent writes itself instead of running
 * mkswap; util-linux must read it as mkswap's own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"
#include "common/topology.h"

static void test_header(void **state)
{
	char path[] = "/tmp/sb-mkswap-XXXXXX";
	int fd = mkstemp(path);
	long page = sysconf(_SC_PAGESIZE);
	char *data;
	size_t len;
	uint32_t v[3];
	const char *argv[] = { "blkid", "-p", "-o", "export", path, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 30000, .capture = 1,
				.quiet_stderr = 1 };
	struct spawn_result r;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * page), 0);
	close(fd);
	assert_int_equal(topo_mkswap(path), 0);
	assert_int_equal(read_file(path, 1 << 20, &data, &len), 0);
	assert_int_equal(len, 64 * page);
	assert_memory_equal(data + page - 10, "SWAPSPACE2", 10);
	memcpy(v, data + 1024, sizeof(v));
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 63);
	assert_int_equal(v[2], 0);
	free(data);
	/* util-linux's own reading of it. */
	if (spawn_run(&o, &r) == 0 && r.exit_code != 127) {
		assert_int_equal(r.exit_code, 0);
		assert_non_null(strstr(r.out, "TYPE=swap"));
		assert_non_null(strstr(r.out, "UUID="));
		spawn_result_release(&r);
	}
	unlink(path);
}

static void test_too_small(void **state)
{
	char path[] = "/tmp/sb-mkswap-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	assert_int_equal(topo_mkswap(path), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "too small"));
	assert_int_equal(topo_mkswap("/nonexistent/swap"), -ENOENT);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
