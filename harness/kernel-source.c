#define _GNU_SOURCE
#include "harness/kernel-source.h"
#include "harness/apt.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/paths.h"
#include "common/process.h"
#include "common/strv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define TAR_TIMEOUT_MS (30 * 60 * 1000)
#define GIT_TIMEOUT_MS (60 * 60 * 1000)

int ksource_series_valid(const char *s)
{
	const char *dot = s ? strchr(s, '.') : NULL;

	if (!dot || dot == s || !dot[1] || strlen(s) > 16)
		return 0;
	for (const char *p = s; *p; p++)
		if (p != dot && !isdigit((unsigned char)*p))
			return 0;
	return 1;
}

char *ksource_series_of(const char *name)
{
	if (!name || strncmp(name, "linux-", 6) || !ksource_series_valid(name + 6))
		return NULL;
	return xstrdup(name + 6);
}

char *ksource_dir(const char *series)
{
	char *cache = sb_cache_dir(), *d = xasprintf("%s/src/linux-%s", cache, series);

	free(cache);
	return d;
}

static void say(int quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int quiet, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	fprintf(stderr, "kernel source: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Git with no user or system configuration and fixed identities and dates,
 * so that the commit id depends on the content only. */
static void git_env(struct strv *env)
{
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "GIT_", 4))
			strv_add(env, *e);
	strv_add(env, "GIT_CONFIG_NOSYSTEM=1");
	strv_add(env, "GIT_CONFIG_GLOBAL=/dev/null");
	strv_add(env, "GIT_AUTHOR_NAME=swapbench");
	strv_add(env, "GIT_AUTHOR_EMAIL=swapbench@localhost");
	strv_add(env, "GIT_COMMITTER_NAME=swapbench");
	strv_add(env, "GIT_COMMITTER_EMAIL=swapbench@localhost");
	strv_add(env, "GIT_AUTHOR_DATE=2000-01-01T00:00:00Z");
	strv_add(env, "GIT_COMMITTER_DATE=2000-01-01T00:00:00Z");
}

static int run(const char *const *argv, char *const *envp, int timeout_ms, char **out)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .capture = 1,
				.merge_stderr = 1, .capture_max = 64 << 10, .envp = envp };
	struct spawn_result r;
	int rc = spawn_run(&o, &r);

	if (rc)
		return sb_err_prefix(-rc, "cannot run %s", argv[0]);
	if (r.timed_out || r.exit_code) {
		char *cmd = spawn_argv_str(argv);

		rc = sb_err(EIO, "'%s' failed%s: %s", cmd, r.timed_out ? " (timed out)" : "",
			    r.out ? r.out : "");
		free(cmd);
	} else if (out) {
		*out = r.out ? r.out : xstrdup("");
		r.out = NULL;
		rstrip(*out);
	}
	spawn_result_release(&r);
	return rc;
}

static char *tag_commit(const char *dir, const char *tag)
{
	char *ref = xasprintf("refs/tags/%s^{commit}", tag), *out = NULL;
	const char *argv[] = { "git", "-C", dir, "rev-parse", "-q", "--verify", ref, NULL };
	struct strv env;

	strv_init(&env);
	git_env(&env);
	if (!is_dir(dir) || run(argv, env.v, 60000, &out))
		out = NULL;
	strv_release(&env);
	free(ref);
	return out;
}

/* Extract the package's tarball (usr/src/linux-source-S.tar.xz) into tmp
 * and commit it there. */
static int make_tree(const char *series, const struct apt_pkg *p, const char *deb,
		     const char *tmp, int quiet)
{
	char *x = xasprintf("%s.deb", tmp), *tarball = NULL, *msg, *tag;
	const char *dx[] = { "dpkg-deb", "-x", deb, x, NULL };
	struct strv env;
	int rc;

	strv_init(&env);
	git_env(&env);
	rm_rf(x);
	mkdir_p(tmp, 0755);
	say(quiet, "extracting %s %s", p->package, p->version);
	rc = run(dx, NULL, TAR_TIMEOUT_MS, NULL);
	if (!rc) {
		tarball = xasprintf("%s/usr/src/linux-source-%s.tar.xz", x, series);
		if (!path_exists(tarball))
			rc = sb_err(ENOENT, "%s %s has no usr/src/linux-source-%s.tar.xz", p->package,
				    p->version, series);
	}
	if (!rc) {
		const char *tar[] = { "tar", "-xJf", tarball, "-C", tmp, "--strip-components=1",
				      "--no-same-owner", NULL };

		rc = run(tar, NULL, TAR_TIMEOUT_MS, NULL);
	}
	rm_rf(x);
	msg = xasprintf("linux-source-%s (Debian %s)", series, p->version);
	tag = xasprintf("v%s-debian", series);
	if (!rc) {
		const char *init[] = { "git", "-C", tmp, "init", "-q", "-b", "master", NULL };
		/* -f: the tarball is the tree, whatever its .gitignore files say. */
		const char *add[] = { "git", "-C", tmp, "add", "-A", "-f", ".", NULL };
		const char *commit[] = { "git", "-C", tmp, "commit", "-q", "-m", msg, NULL };
		const char *tagv[] = { "git", "-C", tmp, "tag", tag, NULL };

		say(quiet, "committing %s as %s", msg, tag);
		rc = run(init, env.v, GIT_TIMEOUT_MS, NULL);
		if (!rc)
			rc = run(add, env.v, GIT_TIMEOUT_MS, NULL);
		if (!rc)
			rc = run(commit, env.v, GIT_TIMEOUT_MS, NULL);
		if (!rc)
			rc = run(tagv, env.v, GIT_TIMEOUT_MS, NULL);
	}
	free(msg);
	free(tag);
	free(tarball);
	free(x);
	strv_release(&env);
	return rc;
}

int ksource_make(const char *series, const char *suite, int quiet, json_t **info)
{
	char *dir, *tag, *commit, *meta_path, *tmp = NULL, *deb = NULL, *debdir = NULL, *pkg;
	struct apt_pkg p;
	json_t *meta = NULL;
	int rc;

	if (!ksource_series_valid(series))
		return sb_err(EINVAL, "'%s' is not a kernel series (expected X.Y, e.g. 7.3)",
			      series);
	dir = ksource_dir(series);
	tag = xasprintf("v%s-debian", series);
	meta_path = xasprintf("%s.json", dir);
	if ((commit = tag_commit(dir, tag))) {
		json_t *m = json_load_file(meta_path, 0, NULL);

		meta = json_is_object(m) ? m : json_object();
		if (!json_is_object(m))
			json_decref(m);
		json_object_set_new(meta, "made", json_false());
		rc = 0;
		goto done;
	}
	pkg = xasprintf("linux-source-%s", series);
	apt_pkg_init(&p);
	rc = apt_find(pkg, NULL, suite, &p);
	free(pkg);
	if (rc)
		goto out;
	{
		char *cache = sb_cache_dir();

		debdir = xasprintf("%s/src/debs", cache);
		free(cache);
	}
	say(quiet, "fetching %s %s", p.package, p.version);
	rc = apt_download(&p, debdir, &deb);
	if (!rc) {
		/* Built beside the destination and renamed when complete. */
		tmp = xasprintf("%s.tmp.%d", dir, (int)getpid());
		rm_rf(tmp);
		rc = make_tree(series, &p, deb, tmp, quiet);
	}
	if (!rc && rename(tmp, dir)) {
		/* Someone else made it meanwhile (same content, same id): keep theirs. */
		if ((errno == EEXIST || errno == ENOTEMPTY) && (commit = tag_commit(dir, tag)))
			rm_rf(tmp);
		else
			rc = sb_err(errno, "rename '%s' to '%s': %s", tmp, dir, strerror(errno));
	}
	if (rc && tmp)
		rm_rf(tmp);
	if (!rc && !commit && !(commit = tag_commit(dir, tag)))
		rc = sb_err(EIO, "'%s' has no tag %s after it was made", dir, tag);
	if (!rc) {
		char *text;

		meta = json_pack("{s:s,s:s,s:s,s:s}", "package", p.package, "version",
				 p.version, "suite", p.suite ? p.suite : "", "deb_sha256",
				 p.sha256 ? p.sha256 : "");
		text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
		write_file_atomic(meta_path, text, strlen(text));
		free(text);
		json_object_set_new(meta, "made", json_true());
		/* The tree is what is kept; the package can be fetched again. */
		unlink(deb);
	}
out:
	apt_pkg_release(&p);
done:
	if (!rc) {
		json_object_set_new(meta, "dir", json_string(dir));
		json_object_set_new(meta, "tag", json_string(tag));
		json_object_set_new(meta, "commit", json_string(commit));
		json_object_set_new(meta, "series", json_string(series));
		say(quiet, "%s ready (%s)", dir, tag);
		if (info)
			*info = json_incref(meta);
	}
	json_decref(meta);
	free(commit);
	free(dir);
	free(tag);
	free(meta_path);
	free(tmp);
	free(deb);
	free(debdir);
	return rc;
}
