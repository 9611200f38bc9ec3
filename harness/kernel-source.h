/* Source trees for series: Debian's linux-source-X.Y package as a local git
 * repository that specs name "tree": "cache:linux-X.Y".
 *
 *   $XDG_CACHE_HOME/swapbench/src/linux-X.Y/        the tree (tag vX.Y-debian)
 *   $XDG_CACHE_HOME/swapbench/src/linux-X.Y.json    where it came from
 *
 * The package comes through swapbench's own apt (harness/apt.h), is
 * extracted (never installed) and committed once, with a fixed author,
 * committer and date and no user or system git configuration: the commit id
 * depends only on the tarball's contents and the package version, so the
 * same Debian package gives the same id, and the same build cache keys, on
 * every machine. The tree is built beside its final name and renamed: an
 * interrupted run never leaves something that looks finished.
 */
#ifndef SB_KERNEL_SOURCE_H
#define SB_KERNEL_SOURCE_H

#include <jansson.h>

/* "7.3", "6.12": digits, one dot, digits. */
int ksource_series_valid(const char *series);
/* The series of a cache tree name ("linux-7.3" -> "7.3"), or NULL when the
 * name is not one ksource_make() makes. Caller frees. */
char *ksource_series_of(const char *cache_name);
/* $XDG_CACHE_HOME/swapbench/src/linux-SERIES. Caller frees. */
char *ksource_dir(const char *series);
/* Make the tree of `series` unless it is there (tag vSERIES-debian), from
 * the newest linux-source-SERIES of any configured suite, or of `suite`
 * when not NULL. *info (may be NULL) gets {"dir", "tag", "commit",
 * "package", "version", "suite", "deb_sha256", "made"} ("made": false when
 * it was already there; package fields then come from linux-X.Y.json).
 * Progress lines go to stderr unless quiet. */
int ksource_make(const char *series, const char *suite, int quiet, json_t **info);

#endif
