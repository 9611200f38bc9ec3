#define _GNU_SOURCE
#include "harness/kernel.h"
#include "harness/kconfig.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strbuf.h"

#include <dirent.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kernel_init(struct kernel *k)
{
	memset(k, 0, sizeof(*k));
}

void kernel_release(struct kernel *k)
{
	if (!k)
		return;
	free(k->name);
	free(k->source);
	free(k->release);
	free(k->package);
	free(k->version);
	free(k->vmlinuz);
	free(k->config_path);
	free(k->modules_root);
	free(k->config_sha256);
	free(k->id);
	json_decref(k->config);
	json_decref(k->build);
	kernel_init(k);
}

static int load_config(struct kernel *k)
{
	char *text;
	int rc;

	if (!k->config_path)
		return 0;
	rc = read_file(k->config_path, 16 << 20, &text, NULL);
	if (rc)
		return rc;
	k->config = kconfig_parse(text);
	free(text);
	{
		char hex[65];

		if (!sha256_file(k->config_path, hex))
			k->config_sha256 = xstrdup(hex);
	}
	return 0;
}

/* The newest package whose name matches ^linux-image-X.Y.<...>-amd64$. */
static int debian_resolve(const char *series, char **pkg)
{
	const char *argv[] = { "apt-cache", "pkgnames", "linux-image-", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 60000, .capture = 1,
				.quiet_stderr = 1, .capture_max = 8 << 20 };
	struct spawn_result r;
	char *best = NULL, *save, *line, *pat;
	struct strbuf esc;
	regex_t re;
	int rc;

	for (const char *c = series; *c; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.'))
			return sb_err(EINVAL, "'debian:%s': expected a version like 6.1 or 6.12",
				      series);
	strbuf_init(&esc);
	for (const char *c = series; *c; c++)
		strbuf_add(&esc, *c == '.' ? "\\." : c, *c == '.' ? 2 : 1);
	pat = xasprintf("^linux-image-%s\\.[0-9]+(-[0-9]+)?(\\+[a-z0-9]+)?-amd64$", esc.buf);
	strbuf_release(&esc);
	if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) {
		free(pat);
		return sb_err(EINVAL, "bad pattern");
	}
	free(pat);
	rc = spawn_run(&o, &r);
	if (rc) {
		regfree(&re);
		return rc;
	}
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (regexec(&re, line, 0, NULL, 0))
			continue;
		if (!best || strverscmp(line, best) > 0) {
			free(best);
			best = xstrdup(line);
		}
	}
	regfree(&re);
	spawn_result_release(&r);
	if (!best)
		return sb_err(ENOENT, "no Debian package linux-image-%s.*-amd64 is known to apt "
			      "(run 'apt-get update', or scripts/setup.sh)", series);
	*pkg = best;
	return 0;
}

/* Find boot/vmlinuz-<release> in an extracted package tree. */
static int find_release(const char *root, char **release)
{
	char *boot = xasprintf("%s/boot", root);
	DIR *d = opendir(boot);
	struct dirent *e;

	free(boot);
	if (!d)
		return sb_err(ENOENT, "'%s' has no boot/ directory", root);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vmlinuz-", 8)) {
			*release = xstrdup(e->d_name + 8);
			closedir(d);
			return 0;
		}
	closedir(d);
	return sb_err(ENOENT, "no boot/vmlinuz-* in '%s'", root);
}

static int run_checked(const char *const *argv, int timeout_ms, const char *what)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .capture = 1,
				.merge_stderr = 1, .capture_max = 64 << 10 };
	struct spawn_result r;
	int rc = spawn_run(&o, &r);

	if (rc)
		return rc;
	if (r.timed_out || r.exit_code) {
		char *cmd = spawn_argv_str(argv);

		rc = sb_err(EIO, "%s: '%s' failed%s: %s", what, cmd,
			    r.timed_out ? " (timed out)" : "", r.out ? r.out : "");
		free(cmd);
	}
	spawn_result_release(&r);
	return rc;
}

static int debian_get(const char *pkg, struct kernel *k)
{
	char *cache = sb_cache_dir();
	char *dir = xasprintf("%s/kernels/%s", cache, pkg);
	char *root = xasprintf("%s/root", dir);
	char *tmp = xasprintf("%s/root.tmp", dir);
	char *dl = xasprintf("%s/download", dir);
	char *deb = NULL;
	int rc = 0;

	free(cache);
	if (!is_dir(root)) {
		const char *get[] = { "apt-get", "download", "-q", pkg, NULL };
		struct spawn_opts o = { .argv = get, .timeout_ms = 900000, .capture = 1,
					.merge_stderr = 1, .cwd = dl };
		struct spawn_result r;
		DIR *d;
		struct dirent *e;

		log_info("fetching %s (apt-get download, not installed on the host)", pkg);
		rm_rf(dl);
		rm_rf(tmp);
		if ((rc = mkdir_p(dl, 0755)))
			goto out;
		rc = spawn_run(&o, &r);
		if (rc)
			goto out;
		if (r.timed_out || r.exit_code) {
			rc = sb_err(EIO, "apt-get download %s failed: %s", pkg, r.out ? r.out : "");
			spawn_result_release(&r);
			goto out;
		}
		spawn_result_release(&r);
		d = opendir(dl);
		while (d && (e = readdir(d)))
			if (strstr(e->d_name, ".deb"))
				deb = xasprintf("%s/%s", dl, e->d_name);
		if (d)
			closedir(d);
		if (!deb) {
			rc = sb_err(ENOENT, "apt-get download %s produced no .deb", pkg);
			goto out;
		}
		{
			const char *x[] = { "dpkg-deb", "-x", deb, tmp, NULL };

			rc = run_checked(x, 600000, pkg);
		}
		if (!rc)
			rc = find_release(tmp, &k->release);
		if (!rc) {
			/* Debian packages leave modules.dep to postinst. */
			const char *dm[] = { "depmod", "-b", tmp, k->release, NULL };

			rc = run_checked(dm, 300000, pkg);
		}
		if (!rc && rename(tmp, root))
			rc = sb_err(errno, "rename '%s': %s", tmp, strerror(errno));
		rm_rf(dl);
		if (rc)
			goto out;
	} else {
		rc = find_release(root, &k->release);
		if (rc)
			goto out;
	}
	k->package = xstrdup(pkg);
	k->vmlinuz = xasprintf("%s/boot/vmlinuz-%s", root, k->release);
	k->config_path = xasprintf("%s/boot/config-%s", root, k->release);
	k->modules_root = xstrdup(root);
	{
		char *vf = xasprintf("%s/version", dir), *v = NULL;

		if (read_file(vf, 4096, &v, NULL) == 0) {
			rstrip(v);
			k->version = v;
		} else {
			const char *sh[] = { "apt-cache", "show", "--no-all-versions", pkg, NULL };
			struct spawn_opts o = { .argv = sh, .timeout_ms = 60000, .capture = 1,
						.quiet_stderr = 1 };
			struct spawn_result r;

			if (spawn_run(&o, &r) == 0) {
				char *p = r.out ? strstr(r.out, "\nVersion: ") : NULL;

				if (p) {
					p += 10;
					k->version = strndup(p, strcspn(p, "\n"));
					write_file_atomic(vf, k->version, strlen(k->version));
				}
				spawn_result_release(&r);
			}
		}
	}
	k->id = xasprintf("%s_%s", pkg, k->version ? k->version : "unknown");
out:
	free(deb);
	free(dir);
	free(root);
	free(tmp);
	free(dl);
	return rc;
}

/* The version string of a bzImage: setup header field kernel_version. */
static char *bzimage_release(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char hdr[0x210];
	char ver[256] = "";
	uint16_t off;

	if (!f)
		return NULL;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || memcmp(hdr + 0x202, "HdrS", 4)) {
		fclose(f);
		return NULL;
	}
	off = hdr[0x20e] | (hdr[0x20f] << 8);
	if (fseek(f, off + 0x200, SEEK_SET) || !fgets(ver, sizeof(ver), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	ver[strcspn(ver, " ")] = '\0';
	return ver[0] ? xstrdup(ver) : NULL;
}

static int image_get(const char *path, const char *config, const char *modules,
		     struct kernel *k)
{
	char *dir, *slash;

	if (access(path, R_OK))
		return sb_err(errno, "image:%s: %s", path, strerror(errno));
	k->vmlinuz = realpath(path, NULL);
	k->release = bzimage_release(path);
	if (!k->release)
		return sb_err(EINVAL, "image:%s: not a bzImage (no setup header)", path);
	if (config) {
		k->config_path = xstrdup(config);
	} else {
		/* A tree's arch/x86/boot/bzImage has its .config three levels up. */
		dir = xstrdup(k->vmlinuz);
		for (int up = 0; up < 4 && (slash = strrchr(dir, '/')); up++) {
			char *c;

			*slash = '\0';
			c = xasprintf("%s/.config", dir);
			if (!access(c, R_OK)) {
				k->config_path = c;
				break;
			}
			free(c);
		}
		free(dir);
	}
	if (!k->config_path)
		return sb_err(ENOENT, "image:%s: cannot find its .config to verify it; give "
			      "\"config\" beside \"source\"", path);
	if (access(k->config_path, R_OK))
		return sb_err(errno, "config '%s': %s", k->config_path, strerror(errno));
	if (modules) {
		char *md = xasprintf("%s/lib/modules/%s", modules, k->release);

		if (!is_dir(md)) {
			int rc = sb_err(ENOENT, "modules: '%s' has no lib/modules/%s", modules,
					k->release);

			free(md);
			return rc;
		}
		free(md);
		k->modules_root = xstrdup(modules);
	}
	{
		char sum[65];

		k->id = xasprintf("image_%.16s", sha256_file(k->vmlinuz, sum) ? "unknown" : sum);
	}
	return 0;
}

int kernel_get(const char *source, const char *name, const char *config,
	       const char *modules, struct kernel *k)
{
	int rc;

	kernel_init(k);
	k->source = xstrdup(source);
	k->name = xstrdup(name ? name : source);
	if (!strncmp(source, "debian:", 7)) {
		char *pkg = NULL;

		rc = debian_resolve(source + 7, &pkg);
		if (!rc)
			rc = debian_get(pkg, k);
		free(pkg);
	} else if (!strncmp(source, "image:", 6)) {
		rc = image_get(source + 6, config, modules, k);
	} else if (!strncmp(source, "linux-image-", 12)) {
		rc = debian_get(source, k);
	} else {
		rc = sb_err(EINVAL, "unknown kernel source '%s' (expected debian:X.Y, "
			    "linux-image-PACKAGE or image:PATH)", source);
	}
	if (!rc)
		rc = load_config(k);
	if (rc) {
		sb_err_prefix(-rc, "kernel '%s'", k->name);
		kernel_release(k);
	}
	return rc;
}

int kernel_check_config(const struct kernel *k, const struct kconfig_req *reqs,
			const char *what)
{
	char missing[1500] = "";
	int n = 0;

	if (!k->config)
		return 0;
	for (int i = 0; reqs[i].option; i++) {
		const char *v = json_string_value(json_object_get(k->config, reqs[i].option));

		if (v && (!strcmp(v, "y") || (reqs[i].module_ok && !strcmp(v, "m"))))
			continue;
		if (strlen(missing) + 80 < sizeof(missing))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s=%s (has %s)", n ? ", " : "", reqs[i].option,
				 reqs[i].module_ok ? "y|m" : "y", v ? v : "not set");
		n++;
	}
	if (n)
		return sb_err(ENOTSUP, "kernel '%s' (%s) cannot run %s: missing %s", k->name,
			      k->release, what, missing);
	return 0;
}

int kernel_check_topology(const struct kernel *k, const json_t *topo)
{
	const char *tname = json_string_value(json_object_get(topo, "name"));
	char *what = xasprintf("topology '%s'", tname ? tname : "?");
	json_t *layer;
	size_t i;
	int rc = kernel_check_config(k, topo_base_kconfig, "any cell");

	json_array_foreach(json_object_get(topo, "layers"), i, layer) {
		const struct topo_kind *kind;

		if (rc)
			break;
		kind = topo_kind_find(json_string_value(json_object_get(layer, "kind")));
		if (kind)
			rc = kernel_check_config(k, kind->kconfig, what);
	}
	free(what);
	return rc;
}

json_t *kernel_identity(const struct kernel *k)
{
	json_t *id = json_pack("{s:s,s:s}", "name", k->name, "source", k->source);
	const struct { const char *key, *val; } f[] = {
		{ "release", k->release },	   { "package", k->package },
		{ "version", k->version },	   { "config_sha256", k->config_sha256 },
		{ "config", k->config_path },	   { "vmlinuz", k->vmlinuz },
		{ "modules_root", k->modules_root }, { "cache_id", k->id },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].val)
			json_object_set_new(id, f[i].key, json_string(f[i].val));
	if (k->build)
		json_object_set_new(id, "build", json_deep_copy(k->build));
	return id;
}
