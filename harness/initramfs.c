#define _GNU_SOURCE
#include "harness/initramfs.h"
#include "harness/sha256.h"
#include "common/err.h"
#include "harness/paths.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strbuf.h"
#include "common/strv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cpio {
	FILE *f;
	char *path;
	unsigned ino;
	int err;
};

struct cpio *cpio_open(const char *path)
{
	struct cpio *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->f = fopen(path, "wbe");
	if (!c->f) {
		free(c);
		return NULL;
	}
	c->path = xstrdup(path);
	c->ino = 1000;
	return c;
}

static void pad4(struct cpio *c)
{
	long pos = ftell(c->f);

	while (pos++ % 4)
		fputc(0, c->f);
}

static int put(struct cpio *c, const char *name, unsigned mode, const void *data, size_t len,
	       unsigned rmaj, unsigned rmin)
{
	size_t nlen = strlen(name) + 1;

	if (c->err)
		return c->err;
	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		c->ino++, mode, 0, 0, (mode & S_IFDIR) ? 2 : 1, 0, len, 0, 0, rmaj, rmin,
		nlen, 0);
	fwrite(name, 1, nlen, c->f);
	pad4(c);
	if (len)
		fwrite(data, 1, len, c->f);
	pad4(c);
	if (ferror(c->f))
		c->err = sb_err(EIO, "writing '%s' failed", c->path);
	return c->err;
}

int cpio_add_dir(struct cpio *c, const char *name)
{
	return put(c, name, S_IFDIR | 0755, NULL, 0, 0, 0);
}

int cpio_add_file(struct cpio *c, const char *name, const void *data, size_t len,
		  unsigned mode)
{
	return put(c, name, S_IFREG | mode, data, len, 0, 0);
}

int cpio_add_chardev(struct cpio *c, const char *name, unsigned maj, unsigned min)
{
	return put(c, name, S_IFCHR | 0600, NULL, 0, maj, min);
}

int cpio_close(struct cpio *c)
{
	int rc;

	if (!c)
		return -EINVAL;
	put(c, "TRAILER!!!", 0, NULL, 0, 0, 0);
	rc = c->err;
	if (fclose(c->f) && !rc)
		rc = sb_err(EIO, "closing '%s' failed", c->path);
	free(c->path);
	free(c);
	return rc;
}

/* Module bytes, decompressed when the kernel ships .ko.xz / .ko.zst. */
static int module_bytes(const char *path, char **data, size_t *len)
{
	const char *tool = NULL;
	size_t n = strlen(path);

	if (n > 3 && !strcmp(path + n - 3, ".xz"))
		tool = "xz";
	else if (n > 4 && !strcmp(path + n - 4, ".zst"))
		tool = "zstd";
	else if (n > 3 && !strcmp(path + n - 3, ".gz"))
		tool = "gzip";
	if (!tool)
		return read_file(path, 256 << 20, data, len);
	{
		const char *argv[] = { tool, "-dc", path, NULL };
		struct spawn_opts o = { .argv = argv, .timeout_ms = 60000, .capture = 1,
					.capture_max = 256 << 20, .quiet_stderr = 1 };
		struct spawn_result r;
		int rc = spawn_run(&o, &r);

		if (rc == -ENOENT)
			return sb_err(ENOENT, "cannot decompress module '%s': %s is not installed "
				      "(Debian: apt-get install %s)", path, tool,
				      !strcmp(tool, "xz") ? "xz-utils" : tool);
		if (rc)
			return rc;
		if (r.exit_code || r.timed_out) {
			spawn_result_release(&r);
			return sb_err(EIO, "cannot decompress module '%s' with %s", path, tool);
		}
		*data = r.out;
		*len = r.out_len;
		return 0;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Strip .xz/.zst/.gz so the guest loads plain .ko files. */
static char *plain_name(const char *p)
{
	char *b = xstrdup(base_name(p));
	char *ko = strstr(b, ".ko");

	if (ko)
		ko[3] = '\0';
	return b;
}

/* The option that builds each module the initramfs may carry: a module
 * modprobe cannot find is fine when its option is =y (built in, perhaps
 * under another name), and missing when it is =m. */
static const struct { const char *module, *option; } module_options[] = {
	{ "virtio_pci", "CONFIG_VIRTIO_PCI" }, { "9pnet_virtio", "CONFIG_NET_9P_VIRTIO" },
	{ "9p", "CONFIG_9P_FS" },	       { "zram", "CONFIG_ZRAM" },
	{ "nvme", "CONFIG_BLK_DEV_NVME" },     { "zsmalloc", "CONFIG_ZSMALLOC" },
	{ "z3fold", "CONFIG_Z3FOLD" },	       { "zbud", "CONFIG_ZBUD" },
	{ "lz4", "CONFIG_CRYPTO_LZ4" },	       { "lz4hc", "CONFIG_CRYPTO_LZ4HC" },
	{ "zstd", "CONFIG_CRYPTO_ZSTD" },      { "deflate", "CONFIG_CRYPTO_DEFLATE" },
	{ "842", "CONFIG_CRYPTO_842" },	       { "lzo", "CONFIG_CRYPTO_LZO" },
	{ "lzo-rle", "CONFIG_CRYPTO_LZO" },
};

static const char *module_option(const char *module)
{
	for (size_t i = 0; i < sizeof(module_options) / sizeof(module_options[0]); i++)
		if (!strcmp(module_options[i].module, module))
			return module_options[i].option;
	return NULL;
}

/* What the kernel's config says of a module's option: "y", "m", or NULL. */
static const char *module_config(const struct kernel *k, const char *module)
{
	const char *opt = module_option(module);

	return opt && k->config ? json_string_value(json_object_get(k->config, opt)) : NULL;
}

/* A module the guest needs that neither the modules tree nor the kernel
 * has: required ones (the 9p root) stop here, with what is missing. */
static int module_missing(const struct kernel *k, const char *module, int required)
{
	const char *v = module_config(k, module);
	const char *opt = module_option(module);

	if (v && !strcmp(v, "y"))
		return 0; /* built in */
	if (!required) {
		if (v && !strcmp(v, "m"))
			log_warn("kernel %s: module %s (%s=m) is not in '%s/lib/modules/%s'; a "
				 "topology that needs it will fail", k->release, module, opt,
				 k->modules_root ? k->modules_root : "(none)", k->release);
		return 0;
	}
	if (!k->modules_root)
		return sb_err(ENOENT, "kernel %s: the guest needs module %s (%s=%s) but the kernel "
			      "has no modules tree; give \"modules\": a directory holding "
			      "lib/modules/%s", k->release, module, opt ? opt : "?",
			      v ? v : "unknown", k->release);
	return sb_err(ENOENT, "kernel %s: required module %s (%s=%s) is not in '%s/lib/modules/%s' "
		      "(modprobe found no %s.ko, .ko.xz or .ko.zst; run depmod if the tree has no "
		      "modules.dep)", k->release, module, opt ? opt : "?", v ? v : "not set",
		      k->modules_root, k->release, module);
}

static int add_modules(struct cpio *c, const struct kernel *k, const struct strv *want,
		       struct strv *deps)
{
	const char *const *lists[] = { topo_base_modules, topo_all_modules };
	struct strv added;
	int rc = 0;

	if (!k->modules_root) {
		for (int m = 0; topo_base_modules[m] && !rc; m++)
			rc = module_missing(k, topo_base_modules[m], 1);
		return rc;
	}
	strv_init(&added);
	for (size_t l = 0; l < 2 && !rc; l++) {
		if (l == 1 && want) {
			static const char *const none[] = { NULL };

			lists[1] = want->n ? (const char *const *)want->v : none;
		}
		for (int m = 0; lists[l][m] && !rc; m++) {
			const char *argv[] = { "modprobe", "-d", k->modules_root, "-S", k->release,
					       "--show-depends", lists[l][m], NULL };
			struct spawn_opts o = { .argv = argv, .timeout_ms = 60000, .capture = 1,
						.quiet_stderr = 1 };
			struct spawn_result r;
			char *line, *save, *deps_line = xasprintf("%s:", lists[l][m]);

			rc = spawn_run(&o, &r);
			if (rc) {
				free(deps_line);
				break;
			}
			if (r.exit_code) {
				/* Not in the tree: built in, optional, or missing. */
				spawn_result_release(&r);
				free(deps_line);
				rc = module_missing(k, lists[l][m], l == 0);
				continue;
			}
			for (line = strtok_r(r.out, "\n", &save); line && !rc;
			     line = strtok_r(NULL, "\n", &save)) {
				char path[4096], *plain, *n;
				int seen = 0;

				if (sscanf(line, "insmod %4095s", path) != 1)
					continue;
				plain = plain_name(path);
				for (size_t i = 0; i < added.n; i++)
					seen |= !strcmp(added.v[i], plain);
				if (!seen) {
					char *data, *name;
					size_t len;

					rc = module_bytes(path, &data, &len);
					if (!rc) {
						name = xasprintf("modules/%s", plain);
						rc = cpio_add_file(c, name, data, len, 0644);
						free(name);
						free(data);
						strv_add(&added, plain);
					}
				}
				n = xasprintf("%s %s", deps_line, plain);
				free(deps_line);
				deps_line = n;
				free(plain);
			}
			strv_add(deps, deps_line);
			free(deps_line);
			spawn_result_release(&r);
		}
	}
	strv_release(&added);
	return rc;
}

/* "a\nb\n": the n strings of v (n < 0: up to a NULL), a line each. */
static char *lines_of(const char *const *v, long n)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (long i = 0; n < 0 ? v[i] != NULL : i < n; i++)
		strbuf_addf(&sb, "%s\n", v[i]);
	return strbuf_detach(&sb);
}

/* The module set, sorted and without repeats, into want; its name in the
 * image's file name: "all" (no list: every module) or a hash of the list. */
static char *module_set(const struct strv *modules, struct strv *want)
{
	char mh[65], *list;

	for (size_t i = 0; modules && i < modules->n; i++) {
		int seen = 0;

		for (size_t j = 0; j < want->n; j++)
			seen |= !strcmp(want->v[j], modules->v[i]);
		if (!seen)
			strv_add(want, modules->v[i]);
	}
	if (want->n > 1)
		qsort(want->v, want->n, sizeof(*want->v), cmp_str);
	if (!modules)
		return xstrdup("all");
	list = lines_of((const char *const *)want->v, (long)want->n);
	sha256_hex(list, strlen(list), mh);
	free(list);
	return xasprintf("m%.8s", mh);
}

static int cpio_add_text(struct cpio *c, const char *name, char *text)
{
	int rc = cpio_add_file(c, name, text, strlen(text), 0644);

	free(text);
	return rc;
}

/* The image's contents: the directories stage 1 mounts on, the console,
 * the agent as /init, the modules (want, or all: NULL) and the lists of
 * what stage 1 loads first (modules/base) and in which order (deps). */
static int cpio_fill(struct cpio *c, const struct kernel *k, const char *agent_path,
		     const struct strv *want)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "newroot", "modules", "tmp",
					    NULL };
	struct strv deps;
	char *agent = NULL;
	size_t alen;
	int rc;

	strv_init(&deps);
	rc = read_file(agent_path, 256 << 20, &agent, &alen);
	for (int i = 0; dirs[i] && !rc; i++)
		rc = cpio_add_dir(c, dirs[i]);
	if (!rc)
		rc = cpio_add_chardev(c, "dev/console", 5, 1);
	if (!rc)
		rc = cpio_add_file(c, "init", agent, alen, 0755);
	if (!rc)
		rc = add_modules(c, k, want, &deps);
	/* What stage 1 loads before it can mount the host root. */
	if (!rc && k->modules_root)
		rc = cpio_add_text(c, "modules/base", lines_of(topo_base_modules, -1));
	if (!rc && k->modules_root)
		rc = cpio_add_text(c, "modules/deps",
				   lines_of((const char *const *)deps.v, (long)deps.n));
	free(agent);
	strv_release(&deps);
	return rc;
}

int initramfs_get(const struct kernel *k, const char *agent_path, const struct strv *modules,
		  char **out_path)
{
	char *cache = sb_cache_dir(), *dir, *path, *tmp, *set;
	struct strv want;
	struct cpio *c;
	char h[65];
	/* A new agent means a new initramfs. */
	int rc = sha256_file(agent_path, h);

	if (rc) {
		free(cache);
		return sb_err_prefix(-rc, "guest agent");
	}
	if (!k->modules_root)
		modules = NULL; /* everything built in: one image, no modules */
	/* The module set is part of the name. */
	strv_init(&want);
	set = module_set(modules, &want);
	dir = xasprintf("%s/initramfs", cache);
	free(cache);
	mkdir_p(dir, 0755);
	path = xasprintf("%s/%s-%.16s-%s.cpio", dir, k->id, h, set);
	free(set);
	free(dir);
	if (path_exists(path)) {
		strv_release(&want);
		*out_path = path;
		return 0;
	}
	log_info("building the initramfs for %s (%s)", k->release,
		 modules ? "this topology's modules" : "all modules");
	tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	c = cpio_open(tmp);
	if (!c) {
		rc = sb_err(errno, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	rc = cpio_fill(c, k, agent_path, modules ? &want : NULL);
	if (cpio_close(c) && !rc)
		rc = -EIO;
	if (!rc && rename(tmp, path))
		rc = sb_err(errno, "rename '%s': %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
out:
	strv_release(&want);
	free(tmp);
	if (rc) {
		free(path);
		return rc;
	}
	*out_path = path;
	return 0;
}
