/* The history database: migration from schema 1, refusal of newer or
 * corrupt files (never overwritten), consistency after a killed writer,
 * rows made from JSON objects. */
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
#include "harness/history-int.h"
#include "harness/sha256.h"

/* Schema 1 as swapbench 0.1 wrote it is the code's first migration, frozen
 * (databases in the field hold it): its sha256, so an edit of that released
 * step fails here instead of forking the schema. */
#define SCHEMA_V1_SHA256 "ee37029203b76958a901075d4d9a8b430e950aad1632f73fa63219ed37e53a24"

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
	char hex[65];

	sha256_hex(history_migration(0), strlen(history_migration(0)), hex);
	assert_string_equal(hex, SCHEMA_V1_SHA256);
	raw(p, history_migration(0));
	raw(p, "INSERT INTO nights(started, tree, branch, head, status, verdict) VALUES("
	       "'2026-01-01T00:00:00Z', '/src/mm', 'mm-unstable', 'abc', 'judged', 'good');"
	       "PRAGMA user_version = 1;");
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

/* The first column of the first row of a query, as text ("NULL" for NULL). */
static char *one(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *r;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	r = xstrdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
					       : "NULL");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* Verdicts, bisections and steps are rows made from JSON objects: every
 * member lands in its column, a missing one is NULL. */
static void test_rows_from_json(void **state)
{
	char *p = db_path("rows.db"), *r;
	struct history *h;
	int64_t night, bid;
	json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:f,s:i,s:i,s:f,s:b}", "kernel",
			      "mm", "topology", "zram", "workload", "anon", "metric", "elapsed",
			      "unit", "s", "better", "lower", "verdict", "worse", "pct_change",
			      -12.5, "welch_p", 0.25, "n_base", 6, "n_new", 3, "threshold", 10.0,
			      "regression", 1);
	json_t *b = json_pack("{s:s,s:s,s:s,s:f,s:f}", "good", "g", "bad", "b", "metric",
			      "elapsed", "alpha", 0.5, "beta", 0.25);
	json_t *s = json_pack("{s:i,s:s,s:i,s:s,s:i,s:f,s:s}", "seq", 0, "commit", "c0",
			      "run_id", 0, "decision", "good", "n", 2, "mean", 1.5, "reason",
			      "why");

	(void)state;
	assert_int_equal(history_open(p, 1, &h), 0);
	assert_int_equal(history_night_start(h, "/t", "mm-unstable", "abc", "/d", &night), 0);
	assert_int_equal(history_add_verdict(h, night, v), 0);
	json_object_set_new(b, "night_id", json_integer(night));
	assert_int_equal(history_bisect_start(h, b, &bid), 0);
	assert_int_equal(history_bisect_step(h, bid, s), 0);
	history_close(h);
	r = one(p, "SELECT night_id || ' ' || kernel || ' ' || better || ' ' || verdict || ' ' || "
		   "pct || ' ' || p || ' ' || n_base || ' ' || n_new || ' ' || threshold || ' ' || "
		   "regression FROM verdicts");
	assert_string_equal(r, "1 mm lower worse -12.5 0.25 6 3 10.0 1");
	free(r);
	r = one(p, "SELECT night_id || ' ' || good || ' ' || bad || ' ' || coalesce(merge_base, "
		   "'NULL') || ' ' || metric || ' ' || alpha || ' ' || beta || ' ' || status || "
		   "' ' || (started IS NOT NULL) FROM bisects");
	assert_string_equal(r, "1 g b NULL elapsed 0.5 0.25 running 1");
	free(r);
	r = one(p, "SELECT bisect_id || ' ' || seq || ' ' || commit_sha || ' ' || "
		   "coalesce(run_id, 'NULL') || ' ' || decision || ' ' || n || ' ' || mean || ' ' "
		   "|| coalesce(llr, 'NULL') || ' ' || reason FROM bisect_steps");
	assert_string_equal(r, "1 0 c0 NULL good 2 1.5 NULL why");
	free(r);
	json_decref(v);
	json_decref(b);
	json_decref(s);
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
		cmocka_unit_test_setup_teardown(test_rows_from_json, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
