#define _GNU_SOURCE
#include "harness/kernel.h"
#include "harness/kernel-build.h"
#include "harness/kernel-debian.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"

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

char *sb_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *d;

	if (xdg && *xdg)
		d = xasprintf("%s/swapbench", xdg);
	else
		d = xasprintf("%s/.cache/swapbench", home && *home ? home : "/root");
	mkdir_p(d, 0755);
	return d;
}

json_t *kconfig_parse(const char *text)
{
	json_t *o = json_object();
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > 7 && !strncmp(p, "CONFIG_", 7)) {
			const char *eq = memchr(p, '=', len);

			if (eq) {
				char *key = strndup(p, eq - p);
				char *val = strndup(eq + 1, len - (eq - p) - 1);

				json_object_set_new(o, key, json_string(val));
				free(key);
				free(val);
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return o;
}

char *file_sha256(const char *path)
{
	const char *argv[] = { "sha256sum", path, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 60000, .capture = 1,
				.quiet_stderr = 1 };
	struct spawn_result r;
	char *sum = NULL;

	if (spawn_run(&o, &r))
		return NULL;
	if (!r.exit_code && r.out_len >= 64)
		sum = strndup(r.out, 64);
	spawn_result_release(&r);
	return sum;
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
	k->config_sha256 = file_sha256(k->config_path);
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
		char *sum = file_sha256(k->vmlinuz);

		k->id = xasprintf("image_%.16s", sum ? sum : "unknown");
		free(sum);
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

int kernel_get_spec(const struct spec_kernel *sk, struct kernel *k)
{
	enum kbuild_state st;

	if (sk->build)
		return kbuild_get(sk, NULL, k, &st);
	return kernel_get(sk->source, sk->name, sk->config, sk->modules, k);
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
