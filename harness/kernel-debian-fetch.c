/* Fetching one Debian kernel: download its image, binary, modules and base
 * packages with swapbench's own apt (harness/apt.c), extract them into a
 * root in the cache, and read that root into a struct kernel. Picking which
 * package a selector means is kernel-debian.c's. */
#define _GNU_SOURCE
#include "harness/kernel-debian.h"
#include "harness/kernel-debian-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/paths.h"
#include "common/log.h"
#include "common/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int run_tool(const char *const *argv, int timeout_ms, const char *what)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .capture = 1,
				.merge_stderr = 1, .capture_max = 64 << 10 };
	struct spawn_result r;
	int rc = spawn_run(&o, &r);

	if (rc)
		return sb_err_prefix(-rc, "%s", what);
	if (r.timed_out || r.exit_code) {
		char *cmd = spawn_argv_str(argv);

		rc = sb_err(EIO, "%s: '%s' failed%s: %s", what, cmd,
			    r.timed_out ? " (timed out)" : "", r.out ? r.out : "");
		free(cmd);
	}
	spawn_result_release(&r);
	return rc;
}
/* The one release under dir/boot (vmlinuz-R) or dir/usr/lib/modules/R/vmlinuz. */
static char *find_release(const char *root, char **vmlinuz_rel)
{
	char *boot = xasprintf("%s/boot", root), *rel = NULL;
	DIR *d = opendir(boot);
	struct dirent *e;

	free(boot);
	while (d && !rel && (e = readdir(d)))
		if (!strncmp(e->d_name, "vmlinuz-", 8) && e->d_name[8]) {
			rel = xstrdup(e->d_name + 8);
			*vmlinuz_rel = xasprintf("boot/%s", e->d_name);
		}
	if (d)
		closedir(d);
	for (int i = 0; !rel && i < 2; i++) {
		const char *base = i ? "lib/modules" : "usr/lib/modules";
		char *md = xasprintf("%s/%s", root, base);

		d = opendir(md);
		while (d && !rel && (e = readdir(d))) {
			char *v = xasprintf("%s/%s/vmlinuz", md, e->d_name);

			if (e->d_name[0] != '.' && path_exists(v)) {
				rel = xstrdup(e->d_name);
				*vmlinuz_rel = xasprintf("%s/%s/vmlinuz", base, e->d_name);
			}
			free(v);
		}
		if (d)
			closedir(d);
		free(md);
	}
	return rel;
}

static char *find_config(const char *root, const char *rel)
{
	char *c[] = { xasprintf("boot/config-%s", rel), xasprintf("usr/lib/modules/%s/config", rel),
		      xasprintf("lib/modules/%s/config", rel),
		      xasprintf("usr/src/linux-headers-%s/.config", rel) };
	char *found = NULL;

	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s/%s", root, c[i]);

		if (!found && path_exists(p))
			found = xstrdup(c[i]);
		free(p);
		free(c[i]);
	}
	return found;
}

/* "" when lib/modules/R is under root, "usr" when under root/usr, NULL if neither. */
static const char *modules_base(const char *root, const char *rel)
{
	const char *bases[] = { "", "usr" };

	for (int i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s%slib/modules/%s/kernel", root, bases[i], *bases[i] ? "/" : "",
				    rel);
		int ok = is_dir(p);

		free(p);
		if (ok)
			return bases[i];
	}
	return NULL;
}

static int fetch_extract(const struct apt_pkg *p, const char *dl, const char *tmp, json_t *debs)
{
	char *deb = NULL;
	int rc = apt_download(p, dl, &deb);

	if (!rc) {
		const char *x[] = { "dpkg-deb", "-x", deb, tmp, NULL };

		rc = run_tool(x, 900000, p->package);
	}
	if (!rc)
		json_array_append_new(debs, json_pack("{s:s,s:s,s:s,s:s,s:I}", "package", p->package,
						      "version", p->version, "suite", p->suite,
						      "sha256", p->sha256, "size",
						      (json_int_t)p->size));
	if (deb)
		unlink(deb); /* extracted; the .deb itself is not kept */
	free(deb);
	return rc;
}

static void clean_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strncmp(e->d_name, "root.tmp", 8) || !strncmp(e->d_name, "download", 8)) {
			char *p = xasprintf("%s/%s", base, e->d_name);

			log_info("removing '%s', left by an interrupted fetch", p);
			rm_rf(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
}

static int build_root(const struct apt_pkg *img, const char *base, const char *root)
{
	char *tmp = xasprintf("%s/root.tmp.%d", base, (int)getpid());
	char *dl = xasprintf("%s/download.%d", base, (int)getpid());
	char *rel = NULL, *vml = NULL, *cfg = NULL, *metap = NULL;
	const char *mb;
	json_t *debs = json_array(), *meta = NULL;
	struct strv deps;
	int rc;

	strv_init(&deps);
	clean_stale(base);
	rc = mkdir_p(tmp, 0755);
	if (!rc)
		rc = fetch_extract(img, dl, tmp, debs);
	deb_exact_deps(img, &deps);
	for (size_t i = 0; !rc && i < deps.n; i++) {
		struct apt_pkg d;

		apt_pkg_init(&d);
		rc = apt_find(deps.v[i], img->version, NULL, &d);
		if (rc == -ENOENT && !deb_needed_part(deps.v[i])) {
			fprintf(stderr, "%s %s depends on %s, which the archive lacks; going on "
				"without it\n", img->package, img->version, deps.v[i]);
			rc = 0;
		} else if (!rc) {
			rc = fetch_extract(&d, dl, tmp, debs);
		}
		apt_pkg_release(&d);
	}
	if (!rc && !(rel = find_release(tmp, &vml)))
		rc = sb_err(ENOENT, "%s %s (and %zu packages it depends on) has no vmlinuz in "
			    "boot/ or usr/lib/modules/*/", img->package, img->version, deps.n);
	if (!rc && !(cfg = find_config(tmp, rel))) {
		/* The .config of a split package may be only in linux-headers. */
		char *hn = xasprintf("linux-headers-%s", rel);
		struct apt_pkg h;

		apt_pkg_init(&h);
		rc = apt_find(hn, img->version, NULL, &h);
		if (!rc)
			rc = fetch_extract(&h, dl, tmp, debs);
		apt_pkg_release(&h);
		free(hn);
		if (!rc && !(cfg = find_config(tmp, rel)))
			rc = sb_err(ENOENT, "%s: no kernel config for %s in the package, its "
				    "dependencies or linux-headers-%s", img->package, rel, rel);
	}
	mb = rc ? NULL : modules_base(tmp, rel);
	if (!rc && mb) {
		/* Debian leaves modules.dep to postinst. */
		char *b = xasprintf("%s%s%s", tmp, *mb ? "/" : "", mb);
		const char *dm[] = { "depmod", "-b", b, rel, NULL };

		fprintf(stderr, "depmod -b %s %s\n", b, rel);
		rc = run_tool(dm, 600000, img->package);
		free(b);
	}
	if (!rc) {
		meta = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:O}", "schema_version", 1, "package",
				 img->package, "version", img->version, "release", rel, "vmlinuz",
				 vml, "config", cfg, "debs", debs);
		if (mb)
			json_object_set_new(meta, "modules_root", json_string(mb));
		metap = xasprintf("%s/meta.json", tmp);
		if (json_dump_file(meta, metap, JSON_INDENT(2) | JSON_SORT_KEYS))
			rc = sb_err(EIO, "cannot write '%s'", metap);
	}
	if (!rc && rename(tmp, root))
		rc = sb_err(errno, "rename '%s': %s", tmp, strerror(errno));
	if (rc)
		rm_rf(tmp);
	rm_rf(dl);
	json_decref(meta);
	json_decref(debs);
	strv_release(&deps);
	free(metap);
	free(tmp);
	free(dl);
	free(rel);
	free(vml);
	free(cfg);
	return rc;
}

/* Fill k from a finished root (meta.json, or the layout of old caches:
 * boot/vmlinuz-R, boot/config-R, lib/modules/R). */
static int load_root(const char *root, struct kernel *k)
{
	char *mp = xasprintf("%s/meta.json", root);
	json_t *meta = json_load_file(mp, 0, NULL);
	int rc = 0;

	free(mp);
	if (meta) {
		const char *rel = json_string_value(json_object_get(meta, "release"));
		const char *vml = json_string_value(json_object_get(meta, "vmlinuz"));
		const char *cfg = json_string_value(json_object_get(meta, "config"));
		const char *mb = json_string_value(json_object_get(meta, "modules_root"));

		if (!rel || !vml || !cfg || strstr(vml, "..") || strstr(cfg, "..") ||
		    (mb && strstr(mb, ".."))) {
			json_decref(meta);
			return sb_err(EINVAL, "'%s/meta.json' is damaged; remove '%s' to fetch "
				      "again", root, root);
		}
		k->release = xstrdup(rel);
		k->vmlinuz = xasprintf("%s/%s", root, vml);
		k->config_path = xasprintf("%s/%s", root, cfg);
		if (mb)
			k->modules_root = xasprintf("%s%s%s", root, *mb ? "/" : "", mb);
		json_decref(k->debs);
		k->debs = json_incref(json_object_get(meta, "debs"));
		json_decref(meta);
		return 0;
	}
	{
		char *vml = NULL;

		k->release = find_release(root, &vml);
		if (!k->release)
			rc = sb_err(ENOENT, "'%s' has no boot/vmlinuz-*", root);
		else {
			k->vmlinuz = xasprintf("%s/%s", root, vml);
			k->config_path = xasprintf("%s/boot/config-%s", root, k->release);
			k->modules_root = xstrdup(root);
		}
		free(vml);
	}
	return rc;
}

int deb_fetch(const struct apt_pkg *img, struct kernel *k)
{
	char *cache = sb_cache_dir(), *base = xasprintf("%s/kernels/%s", cache, img->package);
	char *vf = xasprintf("%s/version", base), *v = NULL, *root = NULL, *lock;
	int rc, fd;

	if (!deb_name_valid(img->package) || !deb_version_valid(img->version)) {
		rc = sb_err(EINVAL, "refusing package '%s' version '%s'", img->package,
			    img->version);
		goto out;
	}
	if (read_file(vf, 4096, &v, NULL) == 0) {
		rstrip(v);
		if (strcmp(v, img->version)) {
			/* Another version of the same package: its own directory. */
			free(base);
			free(vf);
			base = xasprintf("%s/kernels/%s_%s", cache, img->package, img->version);
			vf = xasprintf("%s/version", base);
		}
	}
	if ((rc = mkdir_p(base, 0755)))
		goto out;
	root = xasprintf("%s/root", base);
	lock = xasprintf("%s/lock", base);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(lock);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		rc = sb_err(errno, "cannot lock '%s': %s", base, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!is_dir(root)) {
		fprintf(stderr, "fetching %s %s from %s (not installed on the host)\n", img->package,
			img->version, img->suite);
		rc = build_root(img, base, root);
		if (!rc)
			rc = write_file_atomic(vf, img->version, strlen(img->version));
	}
	close(fd);
	if (!rc)
		rc = load_root(root, k);
	if (!rc) {
		k->package = xstrdup(img->package);
		k->version = xstrdup(img->version);
		k->suite = img->suite ? xstrdup(img->suite) : NULL;
		k->deb_sha256 = img->sha256 ? xstrdup(img->sha256) : NULL;
		k->id = xasprintf("%s_%s", img->package, img->version);
	}
out:
	free(cache);
	free(base);
	free(vf);
	free(v);
	free(root);
	return rc;
}
