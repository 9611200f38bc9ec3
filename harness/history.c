#define _GNU_SOURCE
#include "harness/history.h"
#include "harness/history-int.h"
#include "harness/store.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonget.h"
#include "harness/result.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Migrations: migrations[v] takes a database from version v to v + 1. Never
 * edit a released step: add one. */
static const char *const migrations[] = {
	/* 0 -> 1: nights, the runs they index, their cells, values, verdicts. */
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
	" PRIMARY KEY(night_id, kernel, topology, workload, metric));",
	/* 1 -> 2: bisections and their steps. */
	"CREATE TABLE bisects(id INTEGER PRIMARY KEY, night_id INTEGER REFERENCES nights(id),"
	" good TEXT NOT NULL, bad TEXT NOT NULL, merge_base TEXT, kernel TEXT, topology TEXT,"
	" workload TEXT, metric TEXT, dir TEXT, alpha REAL, beta REAL, status TEXT NOT NULL,"
	" first_bad TEXT, started TEXT, finished TEXT);"
	"CREATE TABLE bisect_steps(bisect_id INTEGER NOT NULL REFERENCES bisects(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, commit_sha TEXT NOT NULL,"
	" run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL, decision TEXT NOT NULL, n INTEGER, mean REAL,"
	" llr REAL, reason TEXT, PRIMARY KEY(bisect_id, seq));"
	"CREATE INDEX metric_values_metric ON metric_values(metric);",
};

const char *history_migration(int v)
{
	return v >= 0 && v < (int)(sizeof(migrations) / sizeof(migrations[0])) ? migrations[v]
										: NULL;
}

static int dberr(struct history *h, const char *what)
{
	int code = sqlite3_errcode(h->db);

	return sb_err(code == SQLITE_BUSY || code == SQLITE_LOCKED ? EBUSY : EIO,
		      "history '%s': %s: %s", h->path, what, sqlite3_errmsg(h->db));
}

int history_exec(struct history *h, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = sb_err(EIO, "history '%s': %s", h->path, msg ? msg : "error");

		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* Prepare and bind: fmt has one letter per parameter: s (text, NULL ok),
 * i (int64), d (double; NaN/inf stored as NULL), n (int64, 0 stored as
 * NULL). */
sqlite3_stmt *history_prep(struct history *h, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		dberr(h, sql);
		return NULL;
	}
	va_start(ap, fmt);
	for (int i = 0; fmt && fmt[i]; i++) {
		switch (fmt[i]) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (s)
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		}
		case 'i':
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'n': {
			int64_t v = va_arg(ap, int64_t);

			if (v)
				sqlite3_bind_int64(st, i + 1, v);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		}
		case 'd': {
			double d = va_arg(ap, double);

			if (isfinite(d))
				sqlite3_bind_double(st, i + 1, d);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		}
		}
	}
	va_end(ap);
	return st;
}

/* Step a statement that returns no rows, and finalize it. */
int history_done(struct history *h, sqlite3_stmt *st, const char *what)
{
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : dberr(h, what);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
	case SQLITE_TEXT: return json_string(col_text(st, i));
	default: return json_null();
	}
}

/* All rows of a statement as objects keyed by column name; finalizes it. */
static json_t *rows(sqlite3_stmt *st)
{
	json_t *arr = json_array();

	if (!st)
		return arr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();

		for (int i = 0; i < sqlite3_column_count(st); i++)
			json_object_set_new(o, sqlite3_column_name(st, i), col_json(st, i));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

int history_schema_version(struct history *h)
{
	sqlite3_stmt *st = history_prep(h, "PRAGMA user_version", NULL);
	int v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int history_begin(struct history *h)
{
	return history_exec(h, "BEGIN IMMEDIATE");
}

int history_commit(struct history *h)
{
	return history_exec(h, "COMMIT");
}

void history_rollback(struct history *h)
{
	if (!sqlite3_get_autocommit(h->db))
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
}

static int migrate(struct history *h)
{
	int v = history_schema_version(h), n = sizeof(migrations) / sizeof(migrations[0]), rc;

	if (v < 0)
		return -EIO;
	if (v > n)
		return sb_err(EPROTO, "history '%s': schema version %d is newer than this "
			      "swapbench knows (%d): use a newer swapbench; the file is left "
			      "as is", h->path, v, n);
	for (; v < n; v++) {
		char *bump = xasprintf("PRAGMA user_version = %d", v + 1);

		if ((rc = history_begin(h)) || (rc = history_exec(h, migrations[v])) ||
		    (rc = history_exec(h, bump)) || (rc = history_commit(h))) {
			history_rollback(h);
			free(bump);
			return sb_err_prefix(-rc, "migrating to schema %d", v + 1);
		}
		free(bump);
	}
	return 0;
}

int history_open(const char *path, int create, struct history **out)
{
	struct history *h = calloc(1, sizeof(*h));
	int rc, flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	sqlite3_stmt *st;

	h->path = xstrdup(path);
	if (!create && !path_exists(path)) {
		rc = sb_err(ENOENT, "history '%s': no such database", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
		rc = sb_err(EIO, "history '%s': cannot open: %s", path,
			    h->db ? sqlite3_errmsg(h->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(h->db, 10000);
	/* Read something first: a file that is not a database fails here,
	 * before any pragma could write to it. */
	st = history_prep(h, "SELECT count(*) FROM sqlite_master", NULL);
	if (!st || sqlite3_step(st) != SQLITE_ROW) {
		rc = sb_err(EINVAL, "history '%s': not a swapbench history database (%s); "
			    "the file is left as is", path, sqlite3_errmsg(h->db));
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (history_schema_version(h) > HISTORY_SCHEMA_VERSION) {
		rc = sb_err(EPROTO, "history '%s': schema version %d is newer than this "
			    "swapbench knows (%d): use a newer swapbench; the file is left as is",
			    path, history_schema_version(h), HISTORY_SCHEMA_VERSION);
		goto fail;
	}
	if ((rc = history_exec(h, "PRAGMA journal_mode = WAL")) ||
	    (rc = history_exec(h, "PRAGMA synchronous = NORMAL")) ||
	    (rc = history_exec(h, "PRAGMA foreign_keys = ON")) || (rc = migrate(h)))
		goto fail;
	*out = h;
	return 0;
fail:
	history_close(h);
	return rc;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	if (h->db)
		sqlite3_close(h->db);
	free(h->path);
	free(h);
}

/* ---- nights ---- */

/* The first row of a statement's result, or NULL. */
static json_t *first_row(sqlite3_stmt *st)
{
	json_t *r = rows(st), *n = json_incref(json_array_get(r, 0));

	json_decref(r);
	return n;
}

json_t *history_night_of_head(struct history *h, const char *head)
{
	return first_row(history_prep(h, "SELECT * FROM nights WHERE head = ? AND status = "
				      "'judged' ORDER BY id DESC LIMIT 1", "s", head));
}

json_t *history_bisected_failure(struct history *h, const char *head)
{
	return first_row(history_prep(h, "SELECT n.id, n.started, n.exit_code, b.status, "
				      "b.first_bad, c.subject FROM nights n JOIN bisects b ON "
				      "b.night_id = n.id LEFT JOIN commits c ON c.sha = b.first_bad "
				      "WHERE n.head = ? AND n.status = 'failed' AND b.status IN "
				      "('found', 'ambiguous') ORDER BY n.id DESC LIMIT 1", "s",
				      head));
}

int history_mark_interrupted(struct history *h)
{
	return history_done(h, history_prep(h, "UPDATE nights SET status = 'interrupted' WHERE status = "
			    "'running'", NULL), "marking interrupted nights");
}

int history_night_start(struct history *h, const char *tree, const char *branch,
			const char *head, const char *dir, int64_t *id)
{
	char *now = iso_now();
	int rc = history_done(h, history_prep(h, "INSERT INTO nights(started, tree, branch, head, dir, status) "
			      "VALUES(?, ?, ?, ?, ?, 'running')", "sssss", now, tree, branch,
			      head, dir), "adding a night");

	free(now);
	if (!rc)
		*id = sqlite3_last_insert_rowid(h->db);
	return rc;
}

int history_night_finish(struct history *h, int64_t id, const char *status,
			 const char *verdict, int exit_code, const char *report)
{
	char *now = iso_now();
	int rc = history_done(h, history_prep(h, "UPDATE nights SET finished = ?, status = ?, verdict = ?, "
			      "exit_code = ?, report = ? WHERE id = ?", "sssisi", now, status,
			      verdict, (int64_t)exit_code, report, id), "finishing a night");

	free(now);
	return rc;
}

json_t *history_good_nights(struct history *h, int n, int64_t exclude)
{
	return rows(history_prep(h, "SELECT id, head FROM nights WHERE status = 'judged' AND verdict "
			 "IN ('good', 'baseline') AND id != ? ORDER BY id DESC LIMIT ?", "ii",
			 exclude, (int64_t)n));
}

json_t *history_last_judged_night(struct history *h, int64_t exclude)
{
	return first_row(history_prep(h, "SELECT id, head FROM nights WHERE status = 'judged' "
				      "AND id != ? ORDER BY id DESC LIMIT 1", "i", exclude));
}

/* ---- runs ---- */

int history_add_commit(struct history *h, const char *sha, const char *subject,
		       const char *author, const char *date)
{
	return history_done(h, history_prep(h, "INSERT OR REPLACE INTO commits VALUES(?, ?, ?, ?)", "ssss", sha,
			    subject, author, date), "adding a commit");
}

static int add_kernels(struct history *h, const json_t *run)
{
	json_t *k;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(run, "kernels"), i, k) {
		const char *id = json_string_value(json_object_get(k, "cache_id"));
		json_t *b = json_object_get(k, "build");

		if (!id)
			continue;
		rc = history_done(h, history_prep(h, "INSERT OR REPLACE INTO kernels VALUES(?, ?, ?, ?)", "ssss",
				  id, json_string_value(json_object_get(b, "commit")),
				  json_string_value(json_object_get(k, "config_sha256")),
				  json_string_value(json_object_get(k, "release"))),
			  "adding a kernel");
		if (rc)
			break;
	}
	return rc;
}

static const char *kernel_cache_id(const json_t *run, const char *name)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(run, "kernels"), i, k)
		if (name && !strcmp(json_string_value(json_object_get(k, "name")) ?: "", name))
			return json_string_value(json_object_get(k, "cache_id"));
	return NULL;
}

int history_add_run(struct history *h, const char *run_dir, const char *kind,
		    int64_t night_id, const char *commit, int64_t *run_id)
{
	char *abs = realpath(run_dir, NULL);
	json_t *run = NULL, *summary = NULL, *c;
	int64_t id = 0;
	size_t i;
	int rc;

	if (!abs) {
		rc = sb_err(ENOENT, "run '%s': no such directory", run_dir);
		goto out;
	}
	if ((rc = store_load_run(run_dir, &run)))
		goto out;
	if ((rc = summary_load(run_dir, &summary)))
		goto out;
	if ((rc = history_done(h, history_prep(h, "DELETE FROM runs WHERE path = ?", "s", abs), "replacing a run")))
		goto out;
	rc = history_done(h, history_prep(h, "INSERT INTO runs(path, night_id, kind, commit_sha, name, started, "
			  "status) VALUES(?, ?, ?, ?, ?, ?, ?)", "snsssss", abs, night_id, kind,
			  commit, json_string_value(json_object_get(run, "name")),
			  json_string_value(json_object_get(run, "started")),
			  json_string_value(json_object_get(run, "status"))), "adding a run");
	if (rc)
		goto out;
	id = sqlite3_last_insert_rowid(h->db);
	if ((rc = add_kernels(h, run)))
		goto out;
	json_array_foreach(json_object_get(summary, "cells"), i, c) {
		const char *cid = json_string_value(json_object_get(c, "cell_id"));
		const char *kname = json_string_value(json_object_get(c, "kernel"));
		const char *status = json_string_value(json_object_get(c, "status"));
		json_t *res = NULL, *m;
		size_t j;

		rc = history_done(h, history_prep(h, "INSERT INTO cells VALUES(?, ?, ?, ?, ?, ?, ?, ?)", "isssssis",
				  id, cid, kname, kernel_cache_id(run, kname),
				  json_string_value(json_object_get(c, "topology")),
				  json_string_value(json_object_get(c, "workload")),
				  (int64_t)json_integer_value(json_object_get(c, "iteration")),
				  status),
			  "adding a cell");
		if (rc)
			goto out;
		if (!cid || !status || strcmp(status, "ok"))
			continue;
		{
			char *p = xasprintf("%s/cells/%s/result.json", run_dir, cid);

			/* The guest's values, validated like every result read. */
			rc = result_load(p, 1, &res);
			free(p);
			if (rc)
				goto out;
		}
		json_array_foreach(json_object_get(res, "metrics"), j, m) {
			rc = history_done(h, history_prep(h, "INSERT OR REPLACE INTO metric_values VALUES(?, ?, ?, ?, "
					  "?, ?)", "issdss", id, cid,
					  json_string_value(json_object_get(m, "name")),
					  json_number_value(json_object_get(m, "value")),
					  json_string_value(json_object_get(m, "unit")),
					  json_string_value(json_object_get(m, "better"))),
				  "adding a value");
			if (rc)
				break;
		}
		json_decref(res);
		if (rc)
			goto out;
	}
	if (run_id)
		*run_id = id;
out:
	json_decref(run);
	json_decref(summary);
	free(abs);
	return rc;
}

static json_t *values_of(sqlite3_stmt *st)
{
	json_t *arr = json_array();

	if (!st)
		return arr;
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_real(sqlite3_column_double(st, 0)));
	sqlite3_finalize(st);
	return arr;
}

json_t *history_night_values(struct history *h, const json_t *night_ids, const char *kernel,
			     const char *topology, const char *workload, const char *metric)
{
	json_t *all = json_array(), *id;
	size_t i;

	json_array_foreach(night_ids, i, id) {
		json_t *v = values_of(history_prep(h, "SELECT v.value FROM metric_values v JOIN cells c "
					   "USING(run_id, cell_id) JOIN runs r ON r.id = v.run_id "
					   "WHERE r.night_id = ? AND r.kind = 'night' AND c.kernel = ? "
					   "AND c.topology = ? AND c.workload = ? AND v.metric = ? "
					   "AND c.status = 'ok' ORDER BY c.iteration",
					   "issss", (int64_t)json_integer_value(json_is_object(id)
						    ? json_object_get(id, "id") : id), kernel,
					   topology, workload, metric));

		json_array_extend(all, v);
		json_decref(v);
	}
	return all;
}

json_t *history_run_values(struct history *h, int64_t run_id, const char *kernel,
			   const char *topology, const char *workload, const char *metric)
{
	return values_of(history_prep(h, "SELECT v.value FROM metric_values v JOIN cells c "
			      "USING(run_id, cell_id) WHERE v.run_id = ? AND c.kernel = ? AND "
			      "c.topology = ? AND c.workload = ? AND v.metric = ? AND c.status = "
			      "'ok' ORDER BY c.iteration", "issss", run_id, kernel, topology,
			      workload, metric));
}

/* ---- rows from JSON objects ---- */

/* Prepare sql and bind parameter i + 1 from the member keys[i] of o, read
 * by the letter fmt[i] as history_prep binds: s (a string, else NULL), i
 * (an integer), n (an integer, 0 as NULL), d (a number, else NULL), b (a
 * boolean as 0/1). The caller binds any parameters after those. */
static sqlite3_stmt *prep_json(struct history *h, const char *sql, const char *fmt,
			       const char *const *keys, const json_t *o)
{
	sqlite3_stmt *st = history_prep(h, sql, NULL);

	for (int i = 0; st && fmt[i]; i++) {
		const json_t *v = json_object_get(o, keys[i]);
		json_int_t n = json_integer_value(v);
		double d = jnum_or_nan(o, keys[i]);

		if (fmt[i] == 's' && json_is_string(v))
			sqlite3_bind_text(st, i + 1, json_string_value(v), -1, SQLITE_TRANSIENT);
		else if (fmt[i] == 'i' || (fmt[i] == 'n' && n))
			sqlite3_bind_int64(st, i + 1, n);
		else if (fmt[i] == 'd' && isfinite(d))
			sqlite3_bind_double(st, i + 1, d);
		else if (fmt[i] == 'b')
			sqlite3_bind_int(st, i + 1, json_is_true(v));
		else
			sqlite3_bind_null(st, i + 1);
	}
	return st;
}

/* ---- verdicts ---- */

int history_add_verdict(struct history *h, int64_t night_id, const json_t *r)
{
	static const char *const keys[] = { "kernel", "topology", "workload", "metric", "unit",
					    "better", "verdict", "pct_change", "welch_p",
					    "n_base", "n_new", "threshold", "regression" };
	sqlite3_stmt *st = prep_json(h, "INSERT OR REPLACE INTO verdicts VALUES(?14, ?1, ?2, ?3, "
				     "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
				     "sssssssddiidb", keys, r);

	if (st)
		sqlite3_bind_int64(st, 14, night_id);
	return history_done(h, st, "adding a verdict");
}

/* ---- bisects ---- */

int history_bisect_start(struct history *h, const json_t *b, int64_t *id)
{
	static const char *const keys[] = { "night_id", "good", "bad", "merge_base", "kernel",
					    "topology", "workload", "metric", "dir", "alpha",
					    "beta" };
	char *now = iso_now();
	sqlite3_stmt *st = prep_json(h, "INSERT INTO bisects(night_id, good, bad, merge_base, "
				     "kernel, topology, workload, metric, dir, alpha, beta, status, "
				     "started) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
				     "'running', ?12)", "nssssssssdd", keys, b);
	int rc;

	if (st)
		sqlite3_bind_text(st, 12, now, -1, SQLITE_TRANSIENT);
	rc = history_done(h, st, "adding a bisect");
	free(now);
	if (!rc)
		*id = sqlite3_last_insert_rowid(h->db);
	return rc;
}

int history_bisect_finish(struct history *h, int64_t id, const char *status,
			  const char *first_bad)
{
	char *now = iso_now();
	int rc = history_done(h, history_prep(h, "UPDATE bisects SET status = ?, first_bad = ?, "
					      "finished = ? WHERE id = ?", "sssi", status,
					      first_bad, now, id), "finishing a bisect");

	free(now);
	return rc;
}

int history_bisect_step(struct history *h, int64_t bisect_id, const json_t *s)
{
	static const char *const keys[] = { "seq", "commit", "run_id", "decision", "n", "mean",
					    "llr", "reason" };
	sqlite3_stmt *st = prep_json(h, "INSERT OR REPLACE INTO bisect_steps VALUES(?9, ?1, ?2, "
				     "?3, ?4, ?5, ?6, ?7, ?8)", "isnsidds", keys, s);

	if (st)
		sqlite3_bind_int64(st, 9, bisect_id);
	return history_done(h, st, "adding a bisect step");
}

/* ---- reading ---- */

int history_dump(struct history *h, json_t **out)
{
	json_t *doc = json_object(), *nights, *series, *bisects, *r;
	sqlite3_stmt *st;
	size_t i;

	nights = rows(history_prep(h, "SELECT n.id, n.started, n.finished, n.tree, n.branch, n.head, "
			   "n.dir, n.status, n.verdict, n.exit_code, c.subject FROM nights n "
			   "LEFT JOIN commits c ON c.sha = n.head ORDER BY n.id", NULL));
	series = json_array();
	st = history_prep(h, "SELECT r.night_id, n.head, c.kernel, c.topology, c.workload, v.metric, "
		  "v.unit, v.better, count(*), avg(v.value), "
		  "coalesce(sqrt(max(sum((v.value - a.m) * (v.value - a.m)) / "
		  "nullif(count(*) - 1, 0), 0)), 0), d.verdict, d.pct, d.regression "
		  "FROM metric_values v JOIN cells c USING(run_id, cell_id) "
		  "JOIN runs r ON r.id = v.run_id JOIN nights n ON n.id = r.night_id "
		  "JOIN (SELECT v2.run_id, c2.kernel k, c2.topology t, c2.workload w, v2.metric mm, "
		  "avg(v2.value) m FROM metric_values v2 JOIN cells c2 USING(run_id, cell_id) "
		  "GROUP BY 1, 2, 3, 4, 5) a ON a.run_id = v.run_id AND a.k = c.kernel AND "
		  "a.t = c.topology AND a.w = c.workload AND a.mm = v.metric "
		  "LEFT JOIN verdicts d ON d.night_id = r.night_id AND d.kernel = c.kernel AND "
		  "d.topology = c.topology AND d.workload = c.workload AND d.metric = v.metric "
		  "WHERE r.kind = 'night' AND c.status = 'ok' "
		  "GROUP BY c.kernel, c.topology, c.workload, v.metric, r.night_id "
		  "ORDER BY c.kernel, c.topology, c.workload, v.metric, r.night_id", NULL);
	if (!st) {
		json_decref(doc);
		json_decref(nights);
		json_decref(series);
		return -EIO;
	}
	{
		json_t *cur = NULL;
		char last[1024] = "";

		while (sqlite3_step(st) == SQLITE_ROW) {
			char key[1024];
			json_t *pt;

			snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s", col_text(st, 2),
				 col_text(st, 3), col_text(st, 4), col_text(st, 5));
			if (!cur || strcmp(key, last)) {
				cur = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:[]}", "kernel",
						col_json(st, 2), "topology", col_json(st, 3),
						"workload", col_json(st, 4), "metric",
						col_json(st, 5), "unit", col_json(st, 6), "better",
						col_json(st, 7), "points");
				json_array_append_new(series, cur);
				snprintf(last, sizeof(last), "%s", key);
			}
			pt = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "night", col_json(st, 0),
				       "head", col_json(st, 1), "n", col_json(st, 8), "mean",
				       col_json(st, 9), "stddev", col_json(st, 10), "verdict",
				       col_json(st, 11), "pct_change", col_json(st, 12),
				       "regression", sqlite3_column_int(st, 13));
			json_array_append_new(json_object_get(cur, "points"), pt);
		}
		sqlite3_finalize(st);
	}
	bisects = rows(history_prep(h, "SELECT b.*, c.subject AS first_bad_subject, c.author AS "
			    "first_bad_author FROM bisects b LEFT JOIN commits c ON c.sha = "
			    "b.first_bad ORDER BY b.id", NULL));
	json_array_foreach(bisects, i, r) {
		json_object_set_new(r, "steps",
				    rows(history_prep(h, "SELECT s.seq, s.commit_sha AS 'commit', s.decision, "
					      "s.n, s.mean, s.llr, s.reason, r.path AS run FROM "
					      "bisect_steps s LEFT JOIN runs r ON r.id = s.run_id "
					      "WHERE s.bisect_id = ? ORDER BY s.seq", "i",
					      (int64_t)json_integer_value(json_object_get(r, "id")))));
	}
	json_object_set_new(doc, "schema_version", json_integer(history_schema_version(h)));
	json_object_set_new(doc, "nights", nights);
	json_object_set_new(doc, "series", series);
	json_object_set_new(doc, "bisects", bisects);
	*out = doc;
	return 0;
}
