#define _GNU_SOURCE
#include "harness/apt.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "common/log.h"
#include "common/process.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *const apt_suites[] = { "bookworm", "bookworm-security", "trixie",
				   "trixie-backports", "sid", NULL };

int apt_suite_index(const char *suite)
{
	for (int i = 0; suite && apt_suites[i]; i++)
		if (!strcmp(apt_suites[i], suite))
			return i;
	return -1;
}

void apt_pkg_init(struct apt_pkg *p)
{
	memset(p, 0, sizeof(*p));
	strv_init(&p->suites);
}

void apt_pkg_release(struct apt_pkg *p)
{
	if (!p)
		return;
	free(p->package);
	free(p->version);
	free(p->suite);
	strv_release(&p->suites);
	free(p->filename);
	free(p->sha256);
	free(p->depends);
	apt_pkg_init(p);
}

void apt_pkgs_free(struct apt_pkg *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		apt_pkg_release(&v[i]);
	free(v);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void apt_pkg_copy(struct apt_pkg *dst, const struct apt_pkg *src)
{
	apt_pkg_init(dst);
	dst->package = dup_or_null(src->package);
	dst->version = dup_or_null(src->version);
	dst->suite = dup_or_null(src->suite);
	for (size_t i = 0; i < src->suites.n; i++)
		strv_add(&dst->suites, src->suites.v[i]);
	dst->filename = dup_or_null(src->filename);
	dst->sha256 = dup_or_null(src->sha256);
	dst->depends = dup_or_null(src->depends);
	dst->size = src->size;
}

/* ---- versions and names ---- */

static int ver_order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* dpkg's verrevcmp: non-digit runs by ver_order, digit runs numerically. */
static int verrevcmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;

		while ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
			int ac = ver_order((unsigned char)*a), bc = ver_order((unsigned char)*b);

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (isdigit((unsigned char)*a))
			return 1;
		if (isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

struct dver {
	long epoch;
	char *upstream, *revision;
};

static void dver_parse(const char *v, struct dver *d)
{
	const char *colon = strchr(v, ':'), *dash;

	d->epoch = 0;
	if (colon) {
		d->epoch = strtol(v, NULL, 10);
		v = colon + 1;
	}
	d->upstream = xstrdup(v);
	dash = strrchr(d->upstream, '-');
	if (dash) {
		d->revision = xstrdup(dash + 1);
		d->upstream[dash - d->upstream] = '\0';
	} else {
		d->revision = xstrdup("");
	}
}

int deb_vercmp(const char *a, const char *b)
{
	struct dver x, y;
	int r;

	dver_parse(a, &x);
	dver_parse(b, &y);
	if (x.epoch != y.epoch)
		r = x.epoch < y.epoch ? -1 : 1;
	else if (!(r = verrevcmp(x.upstream, y.upstream)))
		r = verrevcmp(x.revision, y.revision);
	free(x.upstream);
	free(x.revision);
	free(y.upstream);
	free(y.revision);
	return r < 0 ? -1 : r > 0;
}

char *deb_upstream(const char *version)
{
	struct dver d;

	dver_parse(version, &d);
	free(d.revision);
	return d.upstream;
}

int deb_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 2 || n > 200 || !(islower((unsigned char)name[0]) || isdigit((unsigned char)name[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      strchr("+.-", name[i])))
			return 0;
	return !strstr(name, "..");
}

int deb_version_valid(const char *version)
{
	size_t n = version ? strlen(version) : 0;

	if (!n || n > 200 || !isdigit((unsigned char)version[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)version[i]) || strchr(".+~:-", version[i])))
			return 0;
	return !strstr(version, "..");
}

/* ---- parsing apt-cache output ---- */

static int pkg_cmp(const void *a, const void *b)
{
	const struct apt_pkg *x = a, *y = b;
	int c = strcmp(x->package, y->package);

	return c ? c : -deb_vercmp(x->version, y->version);
}

/* Field value of a stanza line "Name: value" (NULL when the line is not it). */
static const char *field(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ')
		line++;
	return line;
}

int apt_parse(const char *show, const char *madison, struct apt_pkg **out, size_t *n)
{
	struct apt_pkg *v = NULL, cur;
	size_t nv = 0, cap = 0;
	char *text = xstrdup(show ? show : ""), *save, *line;
	char *mtext = xstrdup(madison ? madison : "");

	apt_pkg_init(&cur);
	/* Stanzas: a blank line (or the end) closes one. */
	for (line = text; line; ) {
		char *nl = strchr(line, '\n');
		const char *val;

		if (nl)
			*nl = '\0';
		if ((val = field(line, "Package"))) {
			free(cur.package);
			cur.package = xstrdup(val);
		} else if ((val = field(line, "Version"))) {
			free(cur.version);
			cur.version = xstrdup(val);
		} else if ((val = field(line, "Filename"))) {
			free(cur.filename);
			cur.filename = xstrdup(val);
		} else if ((val = field(line, "SHA256"))) {
			free(cur.sha256);
			cur.sha256 = xstrdup(val);
		} else if ((val = field(line, "Depends"))) {
			free(cur.depends);
			cur.depends = xstrdup(val);
		} else if ((val = field(line, "Size"))) {
			cur.size = atoll(val);
		}
		if (!*line || !nl) {
			int dup = 0;

			for (size_t i = 0; i < nv && cur.package && cur.version; i++)
				dup |= !strcmp(v[i].package, cur.package) &&
				       !strcmp(v[i].version, cur.version);
			if (!dup && cur.package && cur.version && cur.sha256 && cur.filename &&
			    deb_name_valid(cur.package) && deb_version_valid(cur.version)) {
				if (nv == cap) {
					cap = cap ? cap * 2 : 64;
					v = realloc(v, cap * sizeof(*v));
					if (!v)
						abort();
				}
				v[nv++] = cur;
				apt_pkg_init(&cur);
			}
			apt_pkg_release(&cur);
		}
		line = nl ? nl + 1 : NULL;
	}
	apt_pkg_release(&cur);
	/* madison: "pkg | version | URI suite/component arch Packages" */
	for (line = strtok_r(mtext, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char pkg[256], ver[256], uri[512], dist[256];

		if (sscanf(line, " %255s | %255s | %511s %255s", pkg, ver, uri, dist) != 4)
			continue;
		dist[strcspn(dist, "/")] = '\0';
		if (apt_suite_index(dist) < 0)
			continue;
		for (size_t i = 0; i < nv; i++) {
			int seen = 0;

			if (strcmp(v[i].package, pkg) || strcmp(v[i].version, ver))
				continue;
			for (size_t s = 0; s < v[i].suites.n; s++)
				seen |= !strcmp(v[i].suites.v[s], dist);
			if (!seen)
				strv_add(&v[i].suites, dist);
		}
	}
	free(text);
	free(mtext);
	/* Keep what a configured suite has; order its suites by preference. */
	{
		size_t w = 0;

		for (size_t i = 0; i < nv; i++) {
			struct strv ordered;

			if (!v[i].suites.n) {
				apt_pkg_release(&v[i]);
				continue;
			}
			strv_init(&ordered);
			for (int s = 0; apt_suites[s]; s++)
				for (size_t j = 0; j < v[i].suites.n; j++)
					if (!strcmp(v[i].suites.v[j], apt_suites[s]))
						strv_add(&ordered, apt_suites[s]);
			strv_release(&v[i].suites);
			v[i].suites = ordered;
			v[i].suite = xstrdup(ordered.v[0]);
			v[w++] = v[i];
		}
		nv = w;
	}
	if (nv)
		qsort(v, nv, sizeof(*v), pkg_cmp);
	*out = v;
	*n = nv;
	return 0;
}

/* ---- running apt ---- */

static const char *mirror(const char *env, const char *def)
{
	const char *m = getenv(env);

	return m && *m ? m : def;
}

static int write_if_changed(const char *path, const char *text)
{
	char *old = NULL;
	int same = read_file(path, 1 << 20, &old, NULL) == 0 && !strcmp(old, text);

	free(old);
	return same ? 0 : write_file_atomic(path, text, strlen(text));
}

char *apt_dir(void)
{
	char *cache = sb_cache_dir(), *d = xasprintf("%s/apt", cache);
	static const char *const sub[] = { "lists/partial", "archives/partial", "cache",
					   "state", "etc/apt.conf.d", "etc/preferences.d",
					   "etc/sources.list.d", "etc/trusted.gpg.d", "log", NULL };
	char *conf, *src, *status;
	const char *deb = mirror("SWAPBENCH_DEBIAN_MIRROR", "http://deb.debian.org/debian");
	const char *sec = mirror("SWAPBENCH_DEBIAN_SECURITY_MIRROR",
				 "http://deb.debian.org/debian-security");

	free(cache);
	for (int i = 0; sub[i]; i++) {
		char *p = xasprintf("%s/%s", d, sub[i]);

		mkdir_p(p, 0755);
		free(p);
	}
	status = xasprintf("%s/state/status", d);
	if (!path_exists(status))
		write_file_atomic(status, "", 0);
	free(status);
	/* APT_CONFIG is read before the parts directory and the main file, so
	 * pointing those at our own (empty) ones keeps the host's out. */
	conf = xasprintf(
		"// written by swapbench: its own apt, never the host's\n"
		"Dir \"/\";\n"
		"Dir::State \"%1$s/state\";\n"
		"Dir::State::Lists \"%1$s/lists\";\n"
		"Dir::State::status \"%1$s/state/status\";\n"
		"Dir::Cache \"%1$s/cache\";\n"
		"Dir::Cache::archives \"%1$s/archives\";\n"
		"Dir::Log \"%1$s/log\";\n"
		"Dir::Etc \"%1$s/etc\";\n"
		"Dir::Etc::main \"/dev/null\";\n"
		"Dir::Etc::parts \"%1$s/etc/apt.conf.d\";\n"
		"Dir::Etc::sourcelist \"/dev/null\";\n"
		"Dir::Etc::sourceparts \"%1$s/etc/sources.list.d\";\n"
		"Dir::Etc::preferences \"/dev/null\";\n"
		"Dir::Etc::preferencesparts \"%1$s/etc/preferences.d\";\n"
		"Dir::Etc::trusted \"/dev/null\";\n"
		"Dir::Etc::trustedparts \"%1$s/etc/trusted.gpg.d\";\n"
		"APT::Architecture \"amd64\";\n"
		"APT::Architectures { \"amd64\"; };\n"
		"Acquire::Languages \"none\";\n"
		"Acquire::GzipIndexes \"true\";\n"
		"Acquire::Retries \"3\";\n"
		"APT::Sandbox::User \"root\";\n"
		"Debug::NoLocking \"true\";\n",
		d);
	src = xasprintf("%s/apt.conf", d);
	write_if_changed(src, conf);
	free(src);
	free(conf);
	/* Signatures are checked (Signed-By); Valid-Until is not: an index a
	 * few weeks old only means an older kernel, whose .deb sha256 is
	 * recorded with every run. */
	conf = xasprintf("Types: deb\nURIs: %s\nSuites: bookworm trixie trixie-backports sid\n"
			 "Components: main\nArchitectures: amd64\n"
			 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
			 "Check-Valid-Until: no\n\n"
			 "Types: deb\nURIs: %s\nSuites: bookworm-security\n"
			 "Components: main\nArchitectures: amd64\n"
			 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
			 "Check-Valid-Until: no\n",
			 deb, sec);
	src = xasprintf("%s/etc/sources.list.d/swapbench.sources", d);
	write_if_changed(src, conf);
	free(src);
	free(conf);
	return d;
}

/* This process's environment plus APT_CONFIG and LC_ALL=C. Free with
 * free_env. */
static char **apt_env(const char *dir)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		abort();
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "APT_CONFIG=", 11) && strncmp(environ[i], "LC_ALL=", 7))
			env[k++] = xstrdup(environ[i]);
	env[k++] = xasprintf("APT_CONFIG=%s/apt.conf", dir);
	env[k++] = xstrdup("LC_ALL=C");
	env[k] = NULL;
	return env;
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int lock_apt(const char *dir, int op)
{
	char *p = xasprintf("%s/lock", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	free(p);
	if (fd < 0)
		return sb_err(errno, "cannot open the apt lock in '%s': %s", dir, strerror(errno));
	if (flock(fd, op)) {
		int e = errno;

		close(fd);
		return sb_err(e, "cannot lock '%s/lock': %s", dir, strerror(e));
	}
	return fd;
}

/* Run apt-get/apt-cache under our config; output captured (stdout only
 * unless merge). */
static int apt_run(const char *dir, const char *const *argv, const char *cwd, int timeout_ms,
		   int merge, struct spawn_result *r)
{
	char **env = apt_env(dir);
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .capture = 1,
				.merge_stderr = merge, .quiet_stderr = !merge,
				.capture_max = 64 << 20, .cwd = cwd, .envp = env };
	int rc = spawn_run(&o, r);

	free_env(env);
	if (rc)
		return sb_err_prefix(-rc, "cannot run %s", argv[0]);
	return 0;
}

static double lists_age(const char *dir)
{
	char *stamp = xasprintf("%s/lists/.swapbench-updated", dir);
	struct stat st;
	double age = -1;

	if (!stat(stamp, &st))
		age = difftime(time(NULL), st.st_mtime);
	free(stamp);
	return age;
}

static double max_age(void)
{
	const char *e = getenv("SWAPBENCH_APT_MAX_AGE");
	char *end;
	double v;

	if (!e || !*e)
		return 86400;
	v = strtod(e, &end);
	return *end || v < 0 ? 86400 : v;
}

static int do_update(const char *dir)
{
	const char *argv[] = { "apt-get", "update", NULL };
	const char *qargv[] = { "apt-get", "-q", "update", NULL };
	int tty = isatty(2);
	char **env = apt_env(dir);
	struct spawn_opts o = { .argv = tty ? argv : qargv, .timeout_ms = 900000,
				.envp = env };
	struct spawn_result r;
	double t0 = monotonic_s();
	int rc;

	fprintf(stderr, "updating swapbench's apt lists (bookworm, bookworm-security, trixie, "
			"trixie-backports, sid) in %s\n", dir);
	if (tty) {
		/* apt draws its own progress on the terminal; keep our stdout clean. */
		o.stdout_path = "/dev/tty";
	} else {
		o.capture = 1;
		o.merge_stderr = 1;
		o.capture_max = 1 << 20;
	}
	rc = spawn_run(&o, &r);
	free_env(env);
	if (rc)
		return sb_err_prefix(-rc, "cannot run apt-get update");
	if (r.timed_out || r.exit_code ||
	    (r.out && (strstr(r.out, "\nE: ") || !strncmp(r.out, "E: ", 3)))) {
		rc = sb_err(EIO, "apt-get update (swapbench's lists in '%s') failed%s%s", dir,
			    r.out ? ": " : " (see above)", r.out ? r.out : "");
	} else {
		char *stamp = xasprintf("%s/lists/.swapbench-updated", dir);

		rc = write_file_atomic(stamp, "", 0);
		free(stamp);
		fprintf(stderr, "apt lists updated in %.0fs\n", monotonic_s() - t0);
	}
	spawn_result_release(&r);
	return rc;
}

int apt_update(int force)
{
	char *dir = apt_dir();
	double age;
	int fd, rc = 0;

	fd = lock_apt(dir, LOCK_EX);
	if (fd < 0) {
		free(dir);
		return fd;
	}
	/* Checked under the lock: another process may just have done it. */
	age = lists_age(dir);
	if (force || age < 0 || age > max_age()) {
		rc = do_update(dir);
		if (rc && age >= 0 && !force) {
			log_warn("%s; using the lists of %.1f days ago", sb_lasterr(),
				 age / 86400);
			rc = 0;
		}
	}
	close(fd);
	free(dir);
	return rc;
}

int apt_list(const char *prefix, const char *name_re, struct apt_pkg **out, size_t *n)
{
	char *dir;
	struct spawn_result r = { 0 }, sh = { 0 }, md = { 0 };
	struct strv names, av;
	regex_t re;
	int rc, fd;

	rc = apt_update(0);
	if (rc)
		return rc;
	if (name_re && regcomp(&re, name_re, REG_EXTENDED | REG_NOSUB))
		return sb_err(EINVAL, "bad package name pattern '%s'", name_re);
	dir = apt_dir();
	strv_init(&names);
	strv_init(&av);
	fd = lock_apt(dir, LOCK_SH);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	{
		const char *argv[] = { "apt-cache", "pkgnames", prefix, NULL };

		rc = apt_run(dir, argv, NULL, 120000, 0, &r);
	}
	if (rc)
		goto out;
	if (r.exit_code || r.timed_out) {
		rc = sb_err(EIO, "apt-cache pkgnames %s failed (exit %d)", prefix, r.exit_code);
		goto out;
	}
	for (char *save, *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (deb_name_valid(l) && (!name_re || !regexec(&re, l, 0, NULL, 0)))
			strv_add(&names, l);
	if (!names.n) {
		*out = NULL;
		*n = 0;
		goto out;
	}
	strv_add(&av, "apt-cache");
	strv_add(&av, "show");
	for (size_t i = 0; i < names.n; i++)
		strv_add(&av, names.v[i]);
	rc = apt_run(dir, strv_argv(&av), NULL, 120000, 0, &sh);
	if (!rc) {
		free(av.v[1]);
		av.v[1] = xstrdup("madison");
		rc = apt_run(dir, strv_argv(&av), NULL, 120000, 0, &md);
	}
	if (!rc && (sh.exit_code || md.exit_code || sh.timed_out || md.timed_out))
		rc = sb_err(EIO, "apt-cache show/madison of %zu package(s) failed", names.n);
	if (!rc)
		rc = apt_parse(sh.out, md.out, out, n);
out:
	if (fd >= 0)
		close(fd);
	if (name_re)
		regfree(&re);
	spawn_result_release(&r);
	spawn_result_release(&sh);
	spawn_result_release(&md);
	strv_release(&names);
	strv_release(&av);
	free(dir);
	return rc;
}

static int has_suite(const struct apt_pkg *p, const char *suite)
{
	for (size_t i = 0; i < p->suites.n; i++)
		if (!strcmp(p->suites.v[i], suite))
			return 1;
	return 0;
}

int apt_find(const char *name, const char *version, const char *suite, struct apt_pkg *out)
{
	struct apt_pkg *v = NULL;
	size_t n = 0;
	int rc, best = -1;

	if (!deb_name_valid(name))
		return sb_err(EINVAL, "'%s' is not a Debian package name", name);
	if (version && !deb_version_valid(version))
		return sb_err(EINVAL, "'%s' is not a Debian version", version);
	if (suite && apt_suite_index(suite) < 0)
		return sb_err(EINVAL, "unknown suite '%s' (known: bookworm, bookworm-security, "
			      "trixie, trixie-backports, sid)", suite);
	rc = apt_list(name, NULL, &v, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].package, name))
			continue;
		if (version && strcmp(v[i].version, version))
			continue;
		if (suite && !has_suite(&v[i], suite))
			continue;
		if (best < 0 || deb_vercmp(v[i].version, v[best].version) > 0)
			best = (int)i;
	}
	if (best < 0) {
		char have[512] = "";

		for (size_t i = 0; i < n; i++)
			if (!strcmp(v[i].package, name) && strlen(have) < 400)
				snprintf(have + strlen(have), sizeof(have) - strlen(have),
					 "%s%s (%s)", *have ? ", " : "", v[i].version, v[i].suite);
		rc = sb_err(ENOENT, "no package %s%s%s%s%s in swapbench's apt lists%s%s", name,
			    version ? "=" : "", version ? version : "", suite ? " in " : "",
			    suite ? suite : "", *have ? "; it has " : "", have);
	} else {
		apt_pkg_copy(out, &v[best]);
	}
	apt_pkgs_free(v, n);
	return rc;
}

int apt_download(const struct apt_pkg *p, const char *dir, char **path)
{
	char *ad = apt_dir(), *tmp = NULL, *final = NULL, *deb = NULL, sum[65] = "";
	char *spec = xasprintf("%s=%s", p->package, p->version);
	const char *argv[] = { "apt-get", "download", "-q", spec, NULL };
	struct spawn_result r = { 0 };
	int rc;

	if (!deb_name_valid(p->package) || !deb_version_valid(p->version)) {
		rc = sb_err(EINVAL, "refusing to download '%s': not a valid package=version", spec);
		goto out;
	}
	if ((rc = mkdir_p(dir, 0755)))
		goto out;
	final = xasprintf("%s/%s_%s_amd64.deb", dir, p->package, p->version);
	tmp = xasprintf("%s/.download.%d", dir, (int)getpid());
	rm_rf(tmp);
	if ((rc = mkdir_p(tmp, 0700)))
		goto out;
	fprintf(stderr, "downloading %s %s (%s, %.1f MiB)\n", p->package, p->version,
		p->suite ? p->suite : "?", p->size / 1048576.0);
	if (isatty(2)) {
		/* apt's own progress on the terminal; stdout stays clean. */
		const char *targv[] = { "apt-get", "download", spec, NULL };
		char **env = apt_env(ad);
		struct spawn_opts o = { .argv = targv, .timeout_ms = 1800000, .cwd = tmp,
					.envp = env, .stdout_path = "/dev/tty" };

		rc = spawn_run(&o, &r);
		free_env(env);
		if (rc) {
			rc = sb_err_prefix(-rc, "cannot run apt-get");
			goto out;
		}
	} else {
		rc = apt_run(ad, argv, tmp, 1800000, 1, &r);
		if (rc)
			goto out;
	}
	if (r.timed_out || r.exit_code) {
		rc = sb_err(EIO, "apt-get download %s failed%s: %s", spec,
			    r.timed_out ? " (timed out)" : "", r.out ? r.out : "(see above)");
		goto out;
	}
	/* apt names the file with the version's ':' escaped; there is one. */
	{
		struct strv found;
		char *ls_dir = tmp;
		DIR *d;

		strv_init(&found);
		d = opendir(ls_dir);
		for (struct dirent *e; d && (e = readdir(d));)
			if (strlen(e->d_name) > 4 && !strcmp(e->d_name + strlen(e->d_name) - 4, ".deb"))
				strv_add(&found, e->d_name);
		if (d)
			closedir(d);
		if (found.n != 1)
			rc = sb_err(EIO, "apt-get download %s left %zu .deb files", spec, found.n);
		else
			deb = xasprintf("%s/%s", tmp, found.v[0]);
		strv_release(&found);
		if (rc)
			goto out;
	}
	if (sha256_file(deb, sum) || !p->sha256 || strcmp(sum, p->sha256)) {
		rc = sb_err(EIO, "%s: sha256 %s does not match the index's %s; not kept", spec,
			    sum, p->sha256 ? p->sha256 : "(none)");
		goto out;
	}
	if (rename(deb, final)) {
		rc = sb_err(errno, "rename '%s': %s", deb, strerror(errno));
		goto out;
	}
	*path = final;
	final = NULL;
out:
	spawn_result_release(&r);
	if (tmp)
		rm_rf(tmp);
	free(tmp);
	free(final);
	free(deb);
	free(spec);
	free(ad);
	return rc;
}
