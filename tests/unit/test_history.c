/* The history database: migration from schema 1, refusal of newer or
 * corrupt files (never overwritten), consistency after a killed writer. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "harness/history.h"

/* Schema 1 as swapbench 0.1 wrote it (frozen: a database in the field). */
static const char *const schema_v1 =
	"CREATE TABLE nights(id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT,"
	" tree TEXT NOT NULL, branch TEXT NOT NULL, head TEXT NOT NULL, dir TEXT,"
	" status TEXT NOT NULL, verdict TEXT, exit_code INTEGER, report TEXT);"
	"CREATE INDEX nights_head ON nights(head);"
	"CREATE TABLE commits(sha TEXT PRIMARY KEY, subject TEXT, author TEXT, date TEXT);"
	"CREATE TABLE kernels(cache_id TEXT PRIMARY KEY, commit_sha TEXT, config_sha256 TEXT,"
	" release TEXT);"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
	" night_id INTEGER REFERENCES nights(id), kind TEXT NOT NULL, commit_sha TEXT,"
	" name TEXT, started TEXT, status TEXT);"
	"CREATE TABLE cells(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	" cell_id TEXT NOT NULL, kernel TEXT, kernel_cache_id TEXT, topology TEXT,"
	" workload TEXT, iteration INTEGER, status TEXT, PRIMARY KEY(run_id, cell_id));"
	"CREATE TABLE metric_values(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	" cell_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, unit TEXT,"
	" better TEXT, PRIMARY KEY(run_id, cell_id, metric));"
	"CREATE TABLE verdicts(night_id INTEGER NOT NULL REFERENCES nights(id),"
	" kernel TEXT NOT NULL, topology TEXT NOT NULL, workload TEXT NOT NULL,"
	" metric TEXT NOT NULL, unit TEXT, better TEXT, verdict TEXT, pct REAL, p REAL,"
	" n_base INTEGER, n_new INTEGER, threshold REAL, regression INTEGER,"
	" PRIMARY KEY(night_id, kernel, topology, workload, metric));"
	"INSERT INTO nights(started, tree, branch, head, status, verdict) VALUES("
	"'2026-01-01T00:00:00Z', '/src/mm', 'mm-unstable', 'abc', 'judged', 'good');"
	"PRAGMA user_version = 1;";

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/sb-history-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

static char *db_path(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void raw(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_create(void **state)
{
	char *p = db_path("new.db");
	struct history *h;
	json_t *d;

	assert_int_equal(history_open(p, 0, &h), -ENOENT);
	assert_int_equal(history_open(p, 1, &h), 0);
	assert_int_equal(history_schema_version(h), HISTORY_SCHEMA_VERSION);
	assert_int_equal(history_dump(h, &d), 0);
	assert_int_equal(json_array_size(json_object_get(d, "nights")), 0);
	json_decref(d);
	history_close(h);
	free(p);
}

static void test_migrate_v1(void **state)
{
	char *p = db_path("v1.db");
	struct history *h;
	json_t *n, *b = json_pack("{s:s,s:s,s:s,s:s,s:s}", "good", "abc", "bad", "def", "topology",
				  "zram", "workload", "anon", "metric", "throughput");
	int64_t id;

	raw(p, schema_v1);
	assert_int_equal(history_open(p, 0, &h), 0);
	assert_int_equal(history_schema_version(h), 2);
	/* The old night survives and the new tables work. */
	n = history_night_of_head(h, "abc");
	assert_non_null(n);
	assert_string_equal(json_string_value(json_object_get(n, "verdict")), "good");
	json_decref(n);
	assert_int_equal(history_bisect_start(h, b, &id), 0);
	assert_true(id > 0);
	json_decref(b);
	history_close(h);
	/* Opening again is a no-op. */
	assert_int_equal(history_open(p, 0, &h), 0);
	assert_int_equal(history_schema_version(h), 2);
	history_close(h);
	free(p);
}

static char *contents(const char *p, size_t *len)
{
	char *t = NULL;

	assert_int_equal(read_file(p, 1 << 24, &t, len), 0);
	return t;
}

static void test_newer_schema_untouched(void **state)
{
	char *p = db_path("future.db"), *before, *after;
	struct history *h = NULL;
	size_t l1, l2;

	raw(p, "CREATE TABLE x(a); PRAGMA user_version = 99;");
	before = contents(p, &l1);
	assert_int_equal(history_open(p, 1, &h), -EPROTO);
	after = contents(p, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(before, after, l1);
	free(before);
	free(after);
	free(p);
}

static void test_corrupt_untouched(void **state)
{
	char *p = db_path("corrupt.db"), *after;
	const char junk[] = "this is not an SQLite database, but a text file of 64 bytes....";
	struct history *h = NULL;
	size_t l;

	assert_int_equal(write_file_atomic(p, junk, sizeof(junk)), 0);
	assert_int_equal(history_open(p, 1, &h), -EINVAL);
	after = contents(p, &l);
	assert_int_equal(l, sizeof(junk));
	assert_memory_equal(after, junk, l);
	free(after);
	free(p);
}

/* A nightly killed in the middle of a transaction: what it committed is
 * there, what it did not is not, and the file passes integrity_check. */
static void test_killed_writer(void **state)
{
	char *p = db_path("killed.db");
	struct history *h;
	int64_t id;
	pid_t pid;
	int st;

	assert_int_equal(history_open(p, 1, &h), 0);
	assert_int_equal(history_night_start(h, "/t", "b", "committed", NULL, &id), 0);
	history_close(h);
	pid = fork();
	if (pid == 0) {
		struct history *c;
		int64_t cid;

		if (history_open(p, 0, &c) || history_begin(c) ||
		    history_night_start(c, "/t", "b", "uncommitted", NULL, &cid))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(history_open(p, 0, &h), 0);
	{
		json_t *d;
		size_t n;

		assert_int_equal(history_dump(h, &d), 0);
		n = json_array_size(json_object_get(d, "nights"));
		assert_int_equal(n, 1);
		assert_string_equal(json_string_value(json_object_get(
					    json_array_get(json_object_get(d, "nights"), 0), "head")),
				    "committed");
		json_decref(d);
	}
	assert_int_equal(history_exec(h, "CREATE TEMP TABLE ok AS SELECT 1 AS x WHERE "
				      "(SELECT integrity_check FROM pragma_integrity_check) = 'ok'"),
			 0);
	/* The night left running by the killed nightly becomes interrupted. */
	assert_int_equal(history_mark_interrupted(h), 0);
	history_close(h);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_writer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
