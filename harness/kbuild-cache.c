/* The build cache: builds/<key>, the input-key index, work-tree names.
 * Layout in kernel-build.h. */
#define _GNU_SOURCE
#include "harness/kbuild-int.h"
#include "common/err.h"
#include "harness/paths.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strv.h"

#include "harness/kconfig.h"
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

char *builds_dir(const char *cache)
{
	return xasprintf("%s/builds", cache);
}

/* Fill k from builds/<key>; the identity joins this spec's inputs (paths
 * as this spec names them) with what the build produced. */
int load_build(const char *cache, const char *key, const json_t *inputs,
		      struct kernel *k)
{
	char *dir = xasprintf("%s/builds/%s", cache, key);
	char *kj = xasprintf("%s/kernel.json", dir), *text = NULL;
	json_t *meta = json_load_file(kj, 0, NULL), *res, *id, *pc, *p;
	const char *rel;
	size_t i;
	int rc = 0;

	res = json_object_get(meta, "result");
	rel = json_string_value(json_object_get(res, "release"));
	k->vmlinuz = xasprintf("%s/bzImage", dir);
	k->config_path = xasprintf("%s/config", dir);
	if (!rel || access(k->vmlinuz, R_OK) || read_file(k->config_path, 16 << 20, &text, NULL)) {
		rc = -ENOENT;
		goto out;
	}
	k->release = xstrdup(rel);
	k->config = kconfig_parse(text);
	k->config_sha256 = xstrdup(json_string_value(json_object_get(res, "config_sha256")));
	{
		char *md = xasprintf("%s/lib/modules/%s", dir, rel);

		if (is_dir(md))
			k->modules_root = xstrdup(dir);
		free(md);
	}
	k->id = xstrdup(json_string_value(json_object_get(meta, "cache_id")));
	id = json_deep_copy(inputs);
	json_object_update(id, res);
	json_object_del(id, "patch_commits");
	pc = json_object_get(res, "patch_commits");
	json_array_foreach(json_object_get(id, "patches"), i, p) {
		if (json_array_get(pc, i))
			json_object_set(p, "commits", json_array_get(pc, i));
		else
			json_object_set_new(p, "commits", json_array());
	}
	json_object_set(id, "cache_id", json_object_get(meta, "cache_id"));
	json_object_set(id, "key", json_object_get(meta, "key"));
	json_object_set_new(id, "dir", json_string(dir));
	k->build = id;
out:
	free(text);
	free(dir);
	free(kj);
	json_decref(meta);
	return rc;
}

static char *index_path(const char *cache, const char *ikey)
{
	return xasprintf("%s/builds/index/%s", cache, ikey);
}

char *index_lookup(const char *cache, const char *ikey)
{
	char *p = index_path(cache, ikey), *key = NULL;

	if (read_file(p, 4096, &key, NULL) == 0)
		rstrip(key);
	free(p);
	if (key && strlen(key) != 64) {
		free(key);
		key = NULL;
	}
	return key;
}

void index_store(const char *cache, const char *ikey, const char *key)
{
	char *dir = xasprintf("%s/builds/index", cache), *p = index_path(cache, ikey);

	mkdir_p(dir, 0755);
	write_file_atomic(p, key, strlen(key));
	free(dir);
	free(p);
}

char *variant_dir(const char *cache, const struct spec_kernel *sk)
{
	char *tree = realpath(sk->build->tree, NULL);
	char *id = xasprintf("%s%c%s", tree ? tree : sk->build->tree, 0, sk->name), hex[65];
	size_t len = strlen(id) + 1 + strlen(sk->name);
	char *dir;

	sha256_hex(id, len, hex);
	dir = xasprintf("%s/work/%s-%.12s", cache, sk->name, hex);
	free(id);
	free(tree);
	return dir;
}
