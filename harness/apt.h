/* swapbench's own apt: Debian packages from any suite, never installed.
 *
 * The only place that runs apt-get and apt-cache. Everything lives under
 * $XDG_CACHE_HOME/swapbench/apt/ (apt.conf, sources, lists, archives, an
 * empty dpkg status), used through APT_CONFIG: the host's /etc/apt is
 * neither read nor changed, and nothing is installed on the host.
 *
 * Suites (in preference order): bookworm, bookworm-security, trixie,
 * trixie-backports, sid; component main; amd64. Mirrors:
 * $SWAPBENCH_DEBIAN_MIRROR (default http://deb.debian.org/debian) and
 * $SWAPBENCH_DEBIAN_SECURITY_MIRROR (http://deb.debian.org/debian-security).
 *
 * Lists are fetched on first use and refreshed when older than
 * $SWAPBENCH_APT_MAX_AGE seconds (default 86400); a failed refresh with
 * lists present is a warning, not an error. apt_update(1) forces it.
 *
 * Typical use ("the newest P from any suite into DIR"):
 *   struct apt_pkg p; char *deb;
 *   if (!apt_find("linux-source-7.3", NULL, NULL, &p) &&
 *       !apt_download(&p, dir, &deb)) ... use deb, p.version, p.suite, p.sha256
 */
#ifndef SB_APT_H
#define SB_APT_H

#include <stddef.h>

#include "common/strv.h"

/* One version of one binary package, as the archive index describes it. */
struct apt_pkg {
	char *package;
	char *version;
	char *suite;      /* the first of apt_suites[] that has this version */
	struct strv suites; /* every configured suite that has it, in order */
	char *filename;   /* pool path */
	char *sha256;     /* of the .deb, from the index */
	char *depends;    /* raw Depends field, or NULL */
	long long size;
};

void apt_pkg_init(struct apt_pkg *p);
void apt_pkg_release(struct apt_pkg *p);
void apt_pkgs_free(struct apt_pkg *v, size_t n);
/* Deep copy into dst (initialised here). */
void apt_pkg_copy(struct apt_pkg *dst, const struct apt_pkg *src);

/* The configured suites, NULL-terminated, in preference order. */
extern const char *const apt_suites[];
/* Index in apt_suites, or -1. */
int apt_suite_index(const char *suite);

/* $XDG_CACHE_HOME/swapbench/apt (created, config written). Caller frees. */
char *apt_dir(void);
/* Fetch the lists now (force) or when missing / older than the max age.
 * Progress goes to the terminal when stderr is one. */
int apt_update(int force);

/* Every version of every package whose name starts with `prefix` and
 * matches the extended regex `name_re` (NULL: any), in the configured
 * suites. Sorted by package name, then version (newest first). Lists are
 * updated first as apt_update(0) does. */
int apt_list(const char *prefix, const char *name_re, struct apt_pkg **out, size_t *n);
/* The newest version of package `name` (or exactly `version` when not
 * NULL), in any suite (or only `suite` when not NULL). ENOENT names what
 * exists instead. */
int apt_find(const char *name, const char *version, const char *suite, struct apt_pkg *out);
/* Download p's .deb into dir (created) as <package>_<version>_amd64.deb,
 * through a temp name: a file with that name is complete and its sha256 is
 * the index's. *path is set on success (caller frees). */
int apt_download(const struct apt_pkg *p, const char *dir, char **path);

/* Pure helpers (unit-tested). */
/* dpkg's version order: <0, 0, >0. */
int deb_vercmp(const char *a, const char *b);
/* The upstream part of a Debian version: no epoch, no revision. Caller frees. */
char *deb_upstream(const char *version);
/* A Debian package name safe as a path component: [a-z0-9][a-z0-9+.-]+,
 * no "..". Versions: [A-Za-z0-9.+~:-], starting with a digit. */
int deb_name_valid(const char *name);
int deb_version_valid(const char *version);
/* Parse `apt-cache show` stanzas and `apt-cache madison` lines into a
 * sorted array (as apt_list). Versions that madison does not place in a
 * configured suite are dropped. */
int apt_parse(const char *show, const char *madison, struct apt_pkg **out, size_t *n);

#endif
