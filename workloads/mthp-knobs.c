#define _GNU_SOURCE
#include "workloads/mthp-knobs.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "workloads/wl-util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MTHP_MIN_BYTES	(8ULL << 10)
#define MTHP_MAX_BYTES	(1ULL << 30)

static const char *const mthp_modes[] = { "always", "madvise", "inherit", "never", NULL };

struct mthp_saved {
	unsigned int nr;
	struct {
		char *path;
		char old[16];
	} saved[MTHP_MAX];
};

int mthp_knobs_parse(const json_t *obj, const char *where, struct mthp_knobs *out)
{
	const char *name;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return param_bad(where, "mthp", obj,
				    "must be an object mapping sizes like \"64kB\" to a mode");
	json_object_foreach((json_t *)obj, name, v) {
		struct mthp_setting *m = &out->set[out->nr];
		const char *bad = NULL;
		unsigned long long bytes;
		char key[96];
		unsigned int i;

		snprintf(key, sizeof(key), "mthp.%s", name);
		if (parse_size(name, &bytes) || bytes < MTHP_MIN_BYTES || bytes > MTHP_MAX_BYTES ||
		    (bytes & (bytes - 1)))
			bad = "size must be a power of two from 8kB to 1G, like \"64kB\"";
		for (i = 0; !bad && i < out->nr; i++)
			if (out->set[i].kb == bytes >> 10)
				bad = "names the same size as another mthp entry";
		if (bad) {
			/* The key is what is wrong here, so show the key. */
			json_t *k = json_string(name);
			int ret = param_bad(where, key, k, bad);

			json_decref(k);
			return ret;
		}
		for (i = 0; mthp_modes[i]; i++)
			if (json_is_string(v) && !strcmp(json_string_value(v), mthp_modes[i]))
				break;
		if (!mthp_modes[i])
			return param_bad(where, key, v, "must be \"always\", \"madvise\", "
					    "\"inherit\" or \"never\"");
		m->kb = bytes >> 10;
		m->mode = mthp_modes[i];
		out->nr++;
	}
	return 0;
}

json_t *mthp_knobs_json(const struct mthp_knobs *k)
{
	json_t *o = json_object();

	for (unsigned int i = 0; i < k->nr; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%llukB", k->set[i].kb);
		json_object_set_new(o, name, json_string(k->set[i].mode));
	}
	return o;
}

/* anon's writer from before the split: unlike sysfs_write() it retries
 * EINTR, and its messages are what anon always printed. */
static int knob_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t w;
	int fd, e;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sb_err(errno, "cannot open '%s' for writing: %s", path, strerror(errno));
	do
		w = write(fd, val, len);
	while (w < 0 && errno == EINTR);
	e = w < 0 ? errno : (size_t)w != len ? EIO : 0;
	close(fd);
	if (e)
		return sb_err(e, "cannot write '%s' to '%s': %s", val, path, strerror(e));
	return 0;
}

int mthp_read_mode(const char *path, char *out, size_t outlen)
{
	char *buf, *open_b, *close_b;
	int ret = read_file(path, 4096, &buf, NULL);

	if (ret)
		return ret;
	open_b = strchr(buf, '[');
	close_b = open_b ? strchr(open_b, ']') : NULL;
	if (!close_b || (size_t)(close_b - open_b - 1) >= outlen) {
		ret = sb_err(EPROTO, "cannot find the selected [mode] in '%s' (\"%s\")", path,
			     buf);
		free(buf);
		return ret;
	}
	memcpy(out, open_b + 1, close_b - open_b - 1);
	out[close_b - open_b - 1] = '\0';
	free(buf);
	return 0;
}

static void restore_upto(struct mthp_saved *p, unsigned int upto, const char *who)
{
	while (upto--) {
		if (knob_write(p->saved[upto].path, p->saved[upto].old))
			fprintf(stderr, "%s: restoring mTHP setting: %s\n", who, sb_lasterr());
	}
}

static void saved_free(struct mthp_saved *p)
{
	for (unsigned int i = 0; i < p->nr; i++)
		free(p->saved[i].path);
	free(p);
}

int mthp_knobs_apply(const struct mthp_knobs *k, const char *who, struct mthp_saved **saved)
{
	struct mthp_saved *p;
	unsigned int i;
	int ret;

	*saved = NULL;
	if (!k->nr)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return sb_err(ENOMEM, "%s: out of memory", who);
	for (i = 0; i < k->nr; i++) {
		char *path = xasprintf(THP_SYSFS "/hugepages-%llukB/enabled", k->set[i].kb);

		p->saved[p->nr++].path = path;
		if (!path_exists(path)) {
			ret = sb_err(ENOENT, "%s: mthp size %llukB needs '%s', which does not "
				     "exist (no per-size mTHP control for it on this kernel)", who,
				     k->set[i].kb, path);
			goto fail;
		}
		ret = mthp_read_mode(path, p->saved[i].old, sizeof(p->saved[i].old));
		if (ret) {
			sb_err_prefix(-ret, "%s: mthp %llukB", who, k->set[i].kb);
			goto fail;
		}
	}
	for (i = 0; i < k->nr; i++) {
		ret = knob_write(p->saved[i].path, k->set[i].mode);
		if (ret) {
			char msg[512];

			/* Keep the reason for failing over any from rolling back. */
			snprintf(msg, sizeof(msg), "%s", sb_lasterr());
			restore_upto(p, i, who);
			sb_err(-ret, "%s", msg);
			goto fail;
		}
	}
	*saved = p;
	return 0;
fail:
	saved_free(p);
	return ret;
}

void mthp_knobs_restore(struct mthp_saved *saved, const char *who)
{
	if (!saved)
		return;
	restore_upto(saved, saved->nr, who);
	saved_free(saved);
}
