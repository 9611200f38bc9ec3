/* history --rebuild: index night directories (night.json, run/, bisect/)
 * or run directories again. The run directories are the source of truth,
 * the database their index. */
#define _GNU_SOURCE
#include "harness/history.h"
#include "harness/history-int.h"
#include "harness/store.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/result.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rebuild_bisect(struct history *h, const char *night_dir, int64_t night_id)
{
	char *p = xasprintf("%s/bisect/bisect.json", night_dir);
	json_t *b = NULL, *s, *steps;
	int64_t bid;
	size_t i;
	int rc = 0;

	if (!path_exists(p)) {
		free(p);
		return 0;
	}
	rc = store_load_json(p, STORE_RUN_MAX, &b);
	free(p);
	if (rc)
		return rc;
	json_object_set_new(b, "night_id", json_integer(night_id));
	if ((rc = history_bisect_start(h, b, &bid)))
		goto out;
	steps = json_object_get(b, "steps");
	json_array_foreach(steps, i, s) {
		json_t *step = json_deep_copy(s);
		const char *run = json_string_value(json_object_get(s, "run"));
		int64_t rid = 0;

		if (run) {
			char *rd = xasprintf("%s/bisect/%s", night_dir, run);

			if (path_exists(rd))
				rc = history_add_run(h, rd, "bisect", night_id,
						     json_string_value(json_object_get(s, "commit")),
						     &rid);
			free(rd);
		}
		json_object_set_new(step, "run_id", json_integer(rid));
		if (!rc)
			rc = history_bisect_step(h, bid, step);
		json_decref(step);
		if (rc)
			goto out;
	}
	{
		json_t *fb = json_object_get(b, "first_bad");

		if (json_is_object(fb))
			history_add_commit(h, json_string_value(json_object_get(fb, "commit")),
					   json_string_value(json_object_get(fb, "subject")),
					   json_string_value(json_object_get(fb, "author")),
					   json_string_value(json_object_get(fb, "date")));
		rc = history_bisect_finish(h, bid, json_string_value(json_object_get(b, "status")),
					   json_string_value(json_object_get(fb, "commit")));
	}
out:
	json_decref(b);
	return rc;
}

static int rebuild_night(struct history *h, const char *dir)
{
	char *p = xasprintf("%s/night.json", dir), *run = xasprintf("%s/run", dir);
	json_t *n = NULL, *v;
	int64_t id;
	size_t i;
	int rc;

	if ((rc = store_load_json(p, STORE_RUN_MAX, &n)))
		goto out;
	if ((rc = history_night_start(h, json_string_value(json_object_get(n, "tree")) ?: "?",
				      json_string_value(json_object_get(n, "branch")) ?: "?",
				      json_string_value(json_object_get(n, "head")) ?: "?", dir,
				      &id)))
		goto out;
	history_add_commit(h, json_string_value(json_object_get(n, "head")),
			   json_string_value(json_object_get(n, "subject")),
			   json_string_value(json_object_get(n, "author")), NULL);
	if (is_dir(run) && (rc = history_add_run(h, run, "night", id,
						 json_string_value(json_object_get(n, "head")),
						 NULL)))
		goto out;
	json_array_foreach(json_object_get(n, "verdicts"), i, v)
		if ((rc = history_add_verdict(h, id, v)))
			goto out;
	if ((rc = rebuild_bisect(h, dir, id)))
		goto out;
	rc = history_night_finish(h, id, json_string_value(json_object_get(n, "status")) ?: "judged",
				  json_string_value(json_object_get(n, "verdict")),
				  (int)json_integer_value(json_object_get(n, "exit_code")),
				  json_string_value(json_object_get(n, "report")));
	if (!rc)
		rc = history_done(h, history_prep(h, "UPDATE nights SET started = coalesce(?, started) WHERE id = ?",
				  "si", json_string_value(json_object_get(n, "started")), id),
			  "dating a night");
out:
	json_decref(n);
	free(p);
	free(run);
	return rc;
}

int history_rebuild(struct history *h, const char *const *paths, int n)
{
	int rc = 0;

	for (int i = 0; i < n && !rc; i++) {
		char *night = xasprintf("%s/night.json", paths[i]);
		char *abs = realpath(paths[i], NULL);

		if ((rc = history_begin(h)))
			break;
		if (path_exists(night)) {
			/* Again from scratch: the night of this directory goes. */
			rc = history_done(h, history_prep(h, "DELETE FROM bisect_steps WHERE bisect_id IN (SELECT "
					  "b.id FROM bisects b JOIN nights n ON n.id = b.night_id "
					  "WHERE n.dir = ?)", "s", abs ? abs : paths[i]),
				  "rebuild");
			if (!rc) {
				sqlite3_stmt *st = history_prep(h, "SELECT id FROM nights WHERE dir = ?", "s",
							abs ? abs : paths[i]);

				while (!rc && st && sqlite3_step(st) == SQLITE_ROW) {
					int64_t id = sqlite3_column_int64(st, 0);

					rc = history_done(h, history_prep(h, "DELETE FROM bisects WHERE night_id = ?",
							  "i", id), "rebuild");
					if (!rc)
						rc = history_done(h, history_prep(h, "DELETE FROM verdicts WHERE "
								  "night_id = ?", "i", id),
							  "rebuild");
					if (!rc)
						rc = history_done(h, history_prep(h, "DELETE FROM runs WHERE "
								  "night_id = ?", "i", id),
							  "rebuild");
					if (!rc)
						rc = history_done(h, history_prep(h, "DELETE FROM nights WHERE id = ?",
								  "i", id), "rebuild");
				}
				sqlite3_finalize(st);
			}
			if (!rc)
				rc = rebuild_night(h, abs ? abs : paths[i]);
		} else {
			rc = history_add_run(h, paths[i], "run", 0, NULL, NULL);
		}
		if (rc) {
			history_rollback(h);
			rc = sb_err_prefix(-rc, "rebuild '%s'", paths[i]);
		} else {
			rc = history_commit(h);
		}
		free(night);
		free(abs);
	}
	return rc;
}
