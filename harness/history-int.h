/* What history.c and history-rebuild.c share. Not for other modules: they
 * use history.h. */
#ifndef SB_HISTORY_INT_H
#define SB_HISTORY_INT_H

#include <sqlite3.h>

struct history {
	sqlite3 *db;
	char *path;
};

/* Prepare and bind: fmt has one letter per parameter: s (text, NULL ok),
 * i (int64), d (double; NaN/inf stored as NULL), n (int64, 0 stored as
 * NULL). NULL (the error said) on failure. */
sqlite3_stmt *history_prep(struct history *h, const char *sql, const char *fmt, ...);
/* Step a statement that returns no rows, and finalize it. */
int history_done(struct history *h, sqlite3_stmt *st, const char *what);
/* The SQL that takes a database from schema v to v + 1, or NULL. */
const char *history_migration(int v);

#endif
