/* Which builds are in use (the specs that used them: roots), the list of
 * cached builds, and gc of the rest. */
#define _GNU_SOURCE
#include "harness/kbuild-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "harness/paths.h"
#include "harness/sha256.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void kbuild_add_root(const char *spec_path)
{
	char *cache = sb_cache_dir(), *abs = realpath(spec_path, NULL), hex[65];
	char *dir = xasprintf("%s/builds/roots", cache), *p;

	if (abs) {
		sha256_hex(abs, strlen(abs), hex);
		p = xasprintf("%s/%.16s", dir, hex);
		mkdir_p(dir, 0755);
		if (!path_exists(p))
			write_file_atomic(p, abs, strlen(abs));
		free(p);
	}
	free(abs);
	free(dir);
	free(cache);
}

json_t *kbuild_list(void)
{
	char *cache = sb_cache_dir(), *dir = builds_dir(cache);
	DIR *d = opendir(dir);
	struct dirent *e;
	json_t *out = json_array();

	while (d && (e = readdir(d))) {
		char *kj;
		json_t *meta;

		if (strlen(e->d_name) != 64)
			continue;
		kj = xasprintf("%s/%s/kernel.json", dir, e->d_name);
		meta = json_load_file(kj, 0, NULL);
		if (meta) {
			json_object_set_new(meta, "dir", json_sprintf("%s/%s", dir, e->d_name));
			json_array_append_new(out, meta);
		}
		free(kj);
	}
	if (d)
		closedir(d);
	free(dir);
	free(cache);
	return out;
}

static long long du(const char *path)
{
	struct stat st;
	long long sum = 0;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st))
		return 0;
	sum = (long long)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
		return sum;
	while ((e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", path, e->d_name);
		sum += du(p);
		free(p);
	}
	closedir(d);
	return sum;
}

static int in_list(const struct strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static void gc_remove(json_t *removed, const char *path, const char *what, int dry_run)
{
	json_array_append_new(removed, json_pack("{s:s,s:s,s:I}", "path", path, "what", what,
						 "bytes", (json_int_t)du(path)));
	if (!dry_run)
		rm_rf(path);
}

/* What the given specs use: input keys, build keys, work directories. */
static void gc_mark(const char *spec_path, const char *cache, struct strv *ikeys,
		    struct strv *keys, struct strv *works)
{
	struct spec s;
	struct strv env;

	if (spec_load(spec_path, &s))
		return;
	strv_init(&env);
	build_env(&env, cache);
	for (size_t i = 0; i < s.nkernels; i++) {
		json_t *inputs = NULL;
		char *ikey = NULL, *key, *w;

		if (!s.kernels[i].build)
			continue;
		w = variant_dir(cache, &s.kernels[i]);
		strv_add(works, strrchr(w, '/') + 1);
		free(w);
		if (compute_inputs(&s.kernels[i], env.v, &inputs, &ikey))
			continue;
		strv_add(ikeys, ikey);
		if ((key = index_lookup(cache, ikey)))
			strv_add(keys, key);
		free(key);
		free(ikey);
		json_decref(inputs);
	}
	strv_release(&env);
	spec_release(&s);
}

int kbuild_gc(const char *const *specs, size_t nspecs, int dry_run, json_t **removed_out)
{
	char *cache = sb_cache_dir(), *bdir = builds_dir(cache);
	char *rdir = xasprintf("%s/roots", bdir), *idir = xasprintf("%s/index", bdir);
	char *wdir = xasprintf("%s/work", cache);
	struct strv ikeys, keys, works;
	json_t *removed = json_array();
	DIR *d;
	struct dirent *e;

	strv_init(&ikeys);
	strv_init(&keys);
	strv_init(&works);
	if (nspecs) {
		for (size_t i = 0; i < nspecs; i++)
			gc_mark(specs[i], cache, &ikeys, &keys, &works);
	} else if ((d = opendir(rdir))) {
		while ((e = readdir(d))) {
			char *rp, *spec = NULL;

			if (e->d_name[0] == '.')
				continue;
			rp = xasprintf("%s/%s", rdir, e->d_name);
			if (read_file(rp, 8192, &spec, NULL) == 0 && path_exists(spec))
				gc_mark(spec, cache, &ikeys, &keys, &works);
			else if (!dry_run)
				unlink(rp);
			free(spec);
			free(rp);
		}
		closedir(d);
	}
	if ((d = opendir(bdir))) {
		while ((e = readdir(d))) {
			char *p = xasprintf("%s/%s", bdir, e->d_name), *dot;

			if (strlen(e->d_name) == 64 && !in_list(&keys, e->d_name)) {
				gc_remove(removed, p, "build", dry_run);
			} else if ((dot = strstr(e->d_name, ".tmp."))) {
				/* Being written unless its writer is gone. */
				pid_t pid = (pid_t)atoi(dot + 5);

				if (pid <= 0 || (kill(pid, 0) && errno == ESRCH))
					gc_remove(removed, p, "unfinished build", dry_run);
			}
			free(p);
		}
		closedir(d);
	}
	if ((d = opendir(idir))) {
		while ((e = readdir(d))) {
			char *p = xasprintf("%s/%s", idir, e->d_name);

			if (e->d_name[0] != '.' && !in_list(&ikeys, e->d_name) && !dry_run)
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	if ((d = opendir(wdir))) {
		while ((e = readdir(d))) {
			char *p, *lock;
			int fd;

			if (e->d_name[0] == '.' || strstr(e->d_name, ".lock") ||
			    in_list(&works, e->d_name))
				continue;
			p = xasprintf("%s/%s", wdir, e->d_name);
			lock = xasprintf("%s.lock", p);
			fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
			/* A variant being built is in use, whatever the roots say. */
			if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB)) {
				gc_remove(removed, p, "work tree", dry_run);
				if (!dry_run)
					unlink(lock);
			}
			if (fd >= 0)
				close(fd);
			free(p);
			free(lock);
		}
		closedir(d);
	}
	strv_release(&ikeys);
	strv_release(&keys);
	strv_release(&works);
	free(cache);
	free(bdir);
	free(rdir);
	free(idir);
	free(wdir);
	*removed_out = removed;
	return 0;
}
