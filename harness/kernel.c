#define _GNU_SOURCE
#include "harness/kernel.h"
#include "harness/kconfig.h"
#include "harness/paths.h"
#include "harness/sha256.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "harness/kernel-debian.h"

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
	free(k->suite);
	free(k->deb_sha256);
	json_decref(k->debs);
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

/* "modules" of an image: a directory holding lib/modules/<release> (or
 * usr/lib/modules/<release>, as Debian 6.19+ packages extract), or that
 * lib/modules/<release> directory itself. */
static int image_modules(const char *modules, struct kernel *k)
{
	const char *forms[] = { "", "/usr" };
	char *root = NULL, *dep;
	int rc = 0;

	for (int i = 0; i < 2 && !root; i++) {
		char *md = xasprintf("%s%s/lib/modules/%s", modules, forms[i], k->release);

		if (is_dir(md))
			root = xasprintf("%s%s", modules, forms[i]);
		free(md);
	}
	if (!root) {
		char *rp = realpath(modules, NULL);
		char *tail = rp ? xasprintf("/lib/modules/%s", k->release) : NULL;
		size_t n = rp ? strlen(rp) : 0, t = tail ? strlen(tail) : 0;

		if (rp && n > t && !strcmp(rp + n - t, tail))
			root = strndup(rp, n - t);
		free(rp);
		free(tail);
	}
	if (!root)
		return sb_err(ENOENT, "modules: '%s' has no lib/modules/%s (nor usr/lib/modules/%s)",
			      modules, k->release, k->release);
	dep = xasprintf("%s/lib/modules/%s/modules.dep", root, k->release);
	if (!path_exists(dep))
		rc = sb_err(ENOENT, "modules: '%s' has no modules.dep; run 'depmod -b %s %s' first",
			    modules, root, k->release);
	free(dep);
	if (rc)
		free(root);
	else
		k->modules_root = root;
	return rc;
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
		int rc = image_modules(modules, k);

		if (rc)
			return rc;
	}
	{
		char sum[65], msum[65];
		int has_m = 0;

		/* The modules are part of the identity: the initramfs is cached
		 * by it, and a kernel first tried without its modules must not
		 * keep booting without them. */
		if (k->modules_root) {
			char *dep = xasprintf("%s/lib/modules/%s/modules.dep", k->modules_root,
					      k->release);

			has_m = !sha256_file(dep, msum);
			free(dep);
		}
		k->id = xasprintf("image_%.16s%s%.16s", sha256_file(k->vmlinuz, sum) ? "unknown" : sum,
				  has_m ? "_m" : "", has_m ? msum : "");
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
	if (!strncmp(source, "debian:", 7) || !strncmp(source, "linux-image-", 12)) {
		rc = debian_kernel_get(source, k);
	} else if (!strncmp(source, "image:", 6)) {
		rc = image_get(source + 6, config, modules, k);
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
		{ "suite", k->suite },		   { "deb_sha256", k->deb_sha256 },
		{ "config", k->config_path },	   { "vmlinuz", k->vmlinuz },
		{ "modules_root", k->modules_root }, { "cache_id", k->id },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].val)
			json_object_set_new(id, f[i].key, json_string(f[i].val));
	if (k->build)
		json_object_set_new(id, "build", json_deep_copy(k->build));
	if (k->debs)
		json_object_set_new(id, "debs", json_deep_copy(k->debs));
	return id;
}
