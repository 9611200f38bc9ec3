#define _GNU_SOURCE
#include "harness/initramfs.h"
#include "harness/sha256.h"
#include "common/err.h"
#include "harness/paths.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
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

static int add_modules(struct cpio *c, const struct kernel *k, struct strv *deps)
{
	const char *const *lists[] = { topo_base_modules, topo_all_modules };
	struct strv added;
	int rc = 0;

	strv_init(&added);
	for (size_t l = 0; l < 2 && !rc; l++) {
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
				/* Not in this kernel at all: leave it out of deps. */
				spawn_result_release(&r);
				free(deps_line);
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

int initramfs_get(const struct kernel *k, const char *agent_path, char **out_path)
{
	char *cache = sb_cache_dir(), *dir, *path, *tmp, *agent = NULL;
	struct strv deps;
	struct cpio *c;
	char h[65];
	size_t alen;
	/* A new agent means a new initramfs. */
	int rc = sha256_file(agent_path, h);

	if (rc) {
		free(cache);
		return sb_err_prefix(-rc, "guest agent");
	}
	dir = xasprintf("%s/initramfs", cache);
	free(cache);
	mkdir_p(dir, 0755);
	path = xasprintf("%s/%s-%.16s.cpio", dir, k->id, h);
	free(dir);
	if (path_exists(path)) {
		*out_path = path;
		return 0;
	}
	log_info("building the initramfs for %s", k->release);
	tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	c = cpio_open(tmp);
	if (!c) {
		rc = sb_err(errno, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	strv_init(&deps);
	rc = read_file(agent_path, 256 << 20, &agent, &alen);
	if (!rc) {
		static const char *const dirs[] = { "dev", "proc", "sys", "newroot", "modules",
						    "tmp", NULL };

		for (int i = 0; dirs[i] && !rc; i++)
			rc = cpio_add_dir(c, dirs[i]);
		if (!rc)
			rc = cpio_add_chardev(c, "dev/console", 5, 1);
		if (!rc)
			rc = cpio_add_file(c, "init", agent, alen, 0755);
	}
	if (!rc && k->modules_root)
		rc = add_modules(c, k, &deps);
	if (!rc && k->modules_root) {
		size_t len = 0;
		char *text;

		for (size_t i = 0; i < deps.n; i++)
			len += strlen(deps.v[i]) + 1;
		text = calloc(1, len + 1);
		for (size_t i = 0; i < deps.n; i++) {
			strcat(text, deps.v[i]);
			strcat(text, "\n");
		}
		rc = cpio_add_file(c, "modules/deps", text, strlen(text), 0644);
		free(text);
	}
	free(agent);
	strv_release(&deps);
	if (cpio_close(c) && !rc)
		rc = -EIO;
	if (!rc && rename(tmp, path))
		rc = sb_err(errno, "rename '%s': %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	if (rc) {
		free(path);
		return rc;
	}
	*out_path = path;
	return 0;
}
