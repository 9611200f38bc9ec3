/* Probes of issue 14 at the library level: guest data that must be refused
 * (naming where), files a guest may plant (FIFO, symlink), a console large
 * enough to hide a panic, text that must not reach a terminal raw, and a
 * full disk. The regression corpus is tests/data/hostile/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "harness/result.h"
#include "harness/vm.h"

static char *data(const char *name)
{
	return xasprintf("%s/data/hostile/%s", getenv("SB_TEST_DATA"), name);
}

static void expect_refused(const char *file, const char *frag)
{
	char *p = data(file);
	json_t *r = NULL;

	sb_clearerr();
	if (result_load(p, 0, &r) == 0)
		fail_msg("%s was accepted", file);
	if (!strstr(sb_lasterr(), frag))
		fail_msg("%s: message '%s' lacks '%s'", file, sb_lasterr(), frag);
	/* The path names the cell; no raw control character in the message. */
	assert_non_null(strstr(sb_lasterr(), file));
	free(p);
}

static void test_guest_results(void **state)
{
	char *p = data("result-good.json");
	json_t *r = NULL;

	assert_int_equal(result_load(p, 0, &r), 0);
	json_decref(r);
	free(p);
	expect_refused("result-ok-alone.json", "schema_version");
	expect_refused("result-dup-metric.json", "metrics[1].name: 'throughput' already given");
	expect_refused("result-string-counter.json", "counters.vmstat.delta.pswpout: expected a "
			"finite number");
	expect_refused("result-huge-value.json", "metrics[0].value: expected a finite number");
	expect_refused("result-overflow.json", "result-overflow.json:");
	expect_refused("result-nan.json", "result-nan.json:");
	expect_refused("result-escape-name.json", "metrics[0].name: expected a short name");
	expect_refused("result-deep-counter.json", "counters.x.a.b.c.d:");
}

/* A guest may plant a FIFO or a symlink where the host expects its result:
 * refused at once (no hang, no read through the link). */
static void test_planted_files(void **state)
{
	char dir[] = "/tmp/sb-hostile-XXXXXX";
	char *fifo, *link;
	json_t *r = NULL;

	assert_non_null(mkdtemp(dir));
	fifo = xasprintf("%s/guest-result.json", dir);
	link = xasprintf("%s/result.json", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a hang fails the test instead of blocking ctest */
	assert_int_equal(result_load(fifo, 0, &r), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "not a regular file"));
	assert_int_equal(symlink("/etc/shadow", link), 0);
	assert_int_equal(result_load(link, 1, &r), -EPERM);
	assert_null(strstr(sb_lasterr(), "root:"));
	alarm(0);
	rm_rf(dir);
	free(fifo);
	free(link);
}

/* A console over 64 MiB used to be skipped whole: its panic went unseen. */
static void test_big_console(void **state)
{
	char dir[] = "/tmp/sb-hostile-XXXXXX";
	char *path;
	static const char tail[] = "\n[ 99.0] Kernel panic - not syncing: hidden\n";
	json_t *scan;
	int fd;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/console.log", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	/* Sparse: 80 MiB of NULs, then the panic. */
	assert_int_equal(ftruncate(fd, 80 << 20), 0);
	assert_int_equal(pwrite(fd, tail, sizeof(tail) - 1, 80 << 20), (ssize_t)sizeof(tail) - 1);
	close(fd);
	scan = console_scan(path, 5);
	assert_int_equal(json_integer_value(json_object_get(scan, "panics")), 1);
	assert_true(json_integer_value(json_object_get(scan, "unscanned_bytes")) > 0);
	assert_true(console_contains(path, "Kernel panic"));
	json_decref(scan);
	rm_rf(dir);
	free(path);
}

static void test_escape(void **state)
{
	char *e = str_escape("a\033[31mb\nc\\\x7f\xc2\x9b\xe2\x82\xac", 0);

	assert_string_equal(e, "a\\x1b[31mb\\nc\\\\x7f\\xc2\\x9b\xe2\x82\xac");
	free(e);
	e = str_escape("line1\nline2\t\a", 1);
	assert_string_equal(e, "line1\nline2\t\\x07");
	free(e);
	e = str_escape("\xc2", 0); /* a cut UTF-8 sequence */
	assert_string_equal(e, "\\xc2");
	free(e);
}

/* Disk full: a write that cannot be stored is an error naming the path,
 * and leaves no temp file. Needs root for the small tmpfs. */
static void test_disk_full(void **state)
{
	char dir[] = "/tmp/sb-hostile-XXXXXX";
	char *path, *big;
	size_t n = 256 << 10;

	assert_non_null(mkdtemp(dir));
	if (geteuid() || mount("sbfull", dir, "tmpfs", 0, "size=64k")) {
		rmdir(dir);
		skip();
	}
	path = xasprintf("%s/result.json", dir);
	big = calloc(1, n);
	memset(big, 'x', n);
	assert_int_equal(write_file_atomic(path, big, n), -ENOSPC);
	assert_non_null(strstr(sb_lasterr(), path));
	assert_false(path_exists(path));
	{
		/* No temp file is left behind. */
		DIR *d = opendir(dir);
		struct dirent *e;
		int n_entries = 0;

		while (d && (e = readdir(d)))
			n_entries += e->d_name[0] != '.';
		if (d)
			closedir(d);
		assert_int_equal(n_entries, 0);
	}
	assert_int_equal(umount(dir), 0);
	rmdir(dir);
	free(big);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_results),
		cmocka_unit_test(test_planted_files),
		cmocka_unit_test(test_big_console),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_disk_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
