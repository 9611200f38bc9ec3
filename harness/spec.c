#define _GNU_SOURCE
#include "harness/spec.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "harness/paths.h"
#include "common/topology.h"
#include "workloads/workload.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPEC_MAX_BYTES (4 << 20)

void spec_init(struct spec *s)
{
	memset(s, 0, sizeof(*s));
}

void spec_topology_release(struct spec_topology *t)
{
	free(t->name);
	free(t->origin);
	json_decref(t->obj);
	memset(t, 0, sizeof(*t));
}

void spec_kbuild_free(struct spec_kbuild *b)
{
	if (!b)
		return;
	free(b->tree);
	free(b->tree_spec);
	free(b->ref);
	free(b->branch);
	strv_release(&b->patches);
	free(b->config_base);
	strv_release(&b->fragments);
	strv_release(&b->make);
	free(b->localversion);
	free(b);
}

void spec_release(struct spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nkernels; i++) {
		spec_kbuild_free(s->kernels[i].build);
		free(s->kernels[i].name);
		free(s->kernels[i].source);
		free(s->kernels[i].config);
		free(s->kernels[i].modules);
	}
	for (size_t i = 0; i < s->ntopos; i++)
		spec_topology_release(&s->topos[i]);
	for (size_t i = 0; i < s->nworkloads; i++) {
		free(s->workloads[i].name);
		free(s->workloads[i].kind);
		json_decref(s->workloads[i].params);
	}
	free(s->kernels);
	free(s->topos);
	free(s->workloads);
	free(s->path);
	free(s->name);
	free(s->text);
	free(s->accel);
	free(s->cmdline);
	free(s->clock);
	json_decref(s->root);
	spec_init(s);
}

/* "file:line: path: message" -- the line found from the JSON path. */
static int perr(const char *file, const char *text, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int perr(const char *file, const char *text, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int line = text ? jsonloc_line(text, path) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return sb_err(EINVAL, "%s:%d: %s: %s", file, line, path[0] ? path : "(top)", msg);
	return sb_err(EINVAL, "%s: %s: %s", file, path[0] ? path : "(top)", msg);
}

/* Validators report "<json path>: message"; prefix file and line. */
static int relocate(const char *file, const char *text, int rc)
{
	char *msg = xstrdup(sb_lasterr()), *m = msg, *path;
	int line;

	if (*m == '.')
		m++;
	path = strndup(m, strcspn(m, ": "));
	line = jsonloc_line(text, path);
	if (line > 0)
		rc = sb_err(-rc, "%s:%d: %s", file, line, m);
	else
		rc = sb_err(-rc, "%s: %s", file, m);
	free(path);
	free(msg);
	return rc;
}

static int check_keys(const char *file, const char *text, const char *path, json_t *obj,
		      const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return perr(file, text, path, "expected an object");
	json_object_foreach(obj, key, v) {
		int ok = 0;

		for (int i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok) {
			char *p = jsonloc_path_append_key(path, key);
			char known[512] = "";
			int rc;

			for (int i = 0; allowed[i]; i++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", i ? ", " : "", allowed[i]);
			rc = perr(file, text, p, "unknown key '%s' (known: %s)", key, known);
			free(p);
			return rc;
		}
	}
	return 0;
}

/* Parse-or-fail for a member; value must be a (positive) size string or integer. */
static int get_size(const char *file, const char *text, const char *path, json_t *obj,
		    const char *key, long long *out)
{
	json_t *v = json_object_get(obj, key);
	unsigned long long sz;
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	p = jsonloc_path_append_key(path, key);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		*out = json_integer_value(v);
	else if (json_is_string(v) && !parse_size(json_string_value(v), &sz) && sz > 0)
		*out = (long long)sz;
	else if (json_is_string(v) && !strcmp(json_string_value(v), "max"))
		*out = -1;
	else
		rc = perr(file, text, p, "expected a size like \"64M\" or a byte count%s%s%s",
			  json_is_string(v) ? " (got '" : "",
			  json_is_string(v) ? json_string_value(v) : "",
			  json_is_string(v) ? "')" : "");
	free(p);
	return rc;
}

static int get_int(const char *file, const char *text, const char *path, json_t *obj,
		   const char *key, long long lo, long long hi, long long *out)
{
	json_t *v = json_object_get(obj, key);
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	p = jsonloc_path_append_key(path, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		rc = perr(file, text, p, "expected an integer in [%lld, %lld]", lo, hi);
	else
		*out = json_integer_value(v);
	free(p);
	return rc;
}

static int get_str(const char *file, const char *text, const char *path, json_t *obj,
		   const char *key, int required, char **out)
{
	json_t *v = json_object_get(obj, key);
	char *p = jsonloc_path_append_key(path, key);
	int rc = 0;

	if (!v && required)
		rc = perr(file, text, path, "missing \"%s\"", key);
	else if (v && (!json_is_string(v) || !json_string_length(v)))
		rc = perr(file, text, p, "expected a non-empty string");
	else if (v)
		*out = xstrdup(json_string_value(v));
	free(p);
	return rc;
}

static int parse_memcg(const char *file, const char *text, const char *path, json_t *obj,
		       struct spec_memcg *m)
{
	static const char *const keys[] = { "max", "high", "swap_max", NULL };
	int rc = check_keys(file, text, path, obj, keys);

	if (!rc)
		rc = get_size(file, text, path, obj, "max", &m->max);
	if (!rc)
		rc = get_size(file, text, path, obj, "high", &m->high);
	if (!rc)
		rc = get_size(file, text, path, obj, "swap_max", &m->swap_max);
	return rc;
}

static int name_ok(const char *n)
{
	for (const char *c = n; *c; c++)
		if (!(( *c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_' || *c == '+'))
			return 0;
	return *n && strlen(n) <= 64;
}

int topology_load(const char *ref, const char *base_dir, const char *where,
		  struct spec_topology *t)
{
	char *path, *text = NULL;
	json_error_t jerr;
	json_t *obj;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strchr(ref, '/') || strstr(ref, ".json"))
		path = ref[0] == '/' ? xstrdup(ref) : xasprintf("%s/%s", base_dir, ref);
	else if (name_ok(ref))
		path = xasprintf("%s/topologies/%s.json", configs_dir(), ref);
	else
		return sb_err(EINVAL, "%s: bad topology name '%s'", where, ref);
	rc = read_file(path, SPEC_MAX_BYTES, &text, NULL);
	if (rc) {
		rc = sb_err(ENOENT, "%s: topology '%s': no such file '%s'", where, ref, path);
		free(path);
		return rc;
	}
	obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		rc = sb_err(EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	} else {
		rc = topology_validate(obj, "");
		if (rc)
			rc = relocate(path, text, rc);
	}
	free(text);
	if (rc) {
		json_decref(obj);
		free(path);
		return rc;
	}
	t->obj = obj;
	t->name = xstrdup(json_string_value(json_object_get(obj, "name")));
	t->origin = path;
	return 0;
}

/* A short default name for a kernel source: debian:6.12 -> 6.12. */
static char *default_kernel_name(const char *source)
{
	const char *slash;

	if (!strncmp(source, "debian:", 7))
		return xstrdup(source + 7);
	if (!strncmp(source, "linux-image-", 12))
		return xstrdup(source + 12);
	if (!strncmp(source, "cache:", 6))
		return xstrdup(source + 6);
	slash = strrchr(source, '/');
	return xstrdup(slash ? slash + 1 : source);
}

/* The directory of the spec file, absolute: build steps run elsewhere. */
static char *spec_dir(const struct spec *s)
{
	char *copy = xstrdup(s->path), *dir = realpath(dirname(copy), NULL);

	free(copy);
	return dir ? dir : xstrdup(".");
}

static char *resolve(const char *dir, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
}

/* A readable regular file named by the string at `path`; resolved into *out. */
static int get_file(const struct spec *s, const char *path, const char *dir, json_t *v,
		    char **out)
{
	char *f;

	if (!json_is_string(v) || !json_string_length(v))
		return perr(s->path, s->text, path, "expected a non-empty string");
	f = resolve(dir, json_string_value(v));
	if (access(f, R_OK) || is_dir(f)) {
		int rc = perr(s->path, s->text, path, "no such file '%s'", json_string_value(v));

		free(f);
		return rc;
	}
	*out = realpath(f, NULL) ?: xstrdup(f);
	free(f);
	return 0;
}

/* Refs and make variables end up in argument vectors: nothing that could
 * be taken for an option. */
static int ref_ok(const char *r)
{
	return r[0] != '-' && !strpbrk(r, " \t\n") && strlen(r) < 256;
}

static int var_ok(const char *v)
{
	static const char *const reserved[] = { "O", "LOCALVERSION", "INSTALL_MOD_PATH",
						"KCONFIG_CONFIG", "KBUILD_OUTPUT", NULL };

	if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || *v == '_'))
		return 0;
	for (const char *c = v; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return 0;
	for (int i = 0; reserved[i]; i++)
		if (!strcmp(v, reserved[i]))
			return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_git_tree(struct spec *s, const char *gp, json_t *git, const char *dir,
			  struct spec_kbuild *b)
{
	char *tp = jsonloc_path_append_key(gp, "tree");
	int rc = get_str(s->path, s->text, gp, git, "tree", 1, &b->tree_spec);

	if (!rc && !strncmp(b->tree_spec, "cache:", 6)) {
		char *cache;

		if (!name_ok(b->tree_spec + 6)) {
			rc = perr(s->path, s->text, tp, "bad cache tree name '%s'", b->tree_spec);
		} else {
			cache = sb_cache_dir();
			b->tree = xasprintf("%s/src/%s", cache, b->tree_spec + 6);
			free(cache);
		}
	} else if (!rc) {
		char *t = resolve(dir, b->tree_spec);

		b->tree = realpath(t, NULL) ?: xstrdup(t);
		free(t);
	}
	/* A cache: tree is swapbench's to make (scripts/linux-git.sh), maybe
	 * after the spec was written: checked when the kernel is built. */
	if (!rc && strncmp(b->tree_spec, "cache:", 6)) {
		char *dotgit = xasprintf("%s/.git", b->tree), *objects = xasprintf("%s/objects",
										    b->tree);

		if (!is_dir(b->tree))
			rc = perr(s->path, s->text, tp, "no such directory '%s'", b->tree);
		else if (!path_exists(dotgit) && !is_dir(objects))
			rc = perr(s->path, s->text, tp, "'%s' is not a git repository", b->tree);
		free(dotgit);
		free(objects);
	}
	free(tp);
	return rc;
}

static int parse_git(struct spec *s, const char *kp, json_t *k, const char *dir,
		     struct spec_kbuild *b)
{
	static const char *const keys[] = { "tree", "ref", "patches", "branch", NULL };
	char *gp = jsonloc_path_append_key(kp, "git");
	json_t *git = json_object_get(k, "git"), *v, *patch;
	size_t i;
	int rc = check_keys(s->path, s->text, gp, git, keys);

	if (!rc)
		rc = parse_git_tree(s, gp, git, dir, b);
	if (!rc)
		rc = get_str(s->path, s->text, gp, git, "ref", 0, &b->ref);
	if (!rc && !b->ref)
		b->ref = xstrdup("HEAD");
	if (!rc && !ref_ok(b->ref)) {
		char *p = jsonloc_path_append_key(gp, "ref");

		rc = perr(s->path, s->text, p, "bad git ref '%s'", b->ref);
		free(p);
	}
	if (!rc)
		rc = get_str(s->path, s->text, gp, git, "branch", 0, &b->branch);
	if (!rc && b->branch && !ref_ok(b->branch)) {
		char *p = jsonloc_path_append_key(gp, "branch");

		rc = perr(s->path, s->text, p, "bad git ref '%s'", b->branch);
		free(p);
	}
	v = json_object_get(git, "patches");
	if (!rc && v) {
		char *pp = jsonloc_path_append_key(gp, "patches");

		if (!json_is_array(v))
			rc = perr(s->path, s->text, pp, "expected an array of patch or mbox files");
		else if (b->branch)
			rc = perr(s->path, s->text, pp, "give \"patches\" or \"branch\", not both");
		json_array_foreach(rc ? NULL : v, i, patch) {
			char *ip = jsonloc_path_append_index(pp, i), *f = NULL;

			if (!rc)
				rc = get_file(s, ip, dir, patch, &f);
			if (!rc)
				strv_add(&b->patches, f);
			free(f);
			free(ip);
		}
		free(pp);
	}
	free(gp);
	return rc;
}

static int parse_kconfig(struct spec *s, const char *kp, json_t *k, const char *dir,
			 struct spec_kbuild *b)
{
	static const char *const keys[] = { "base", "fragments", NULL };
	static const char *const targets[] = { "tinyconfig", "defconfig", "allnoconfig", NULL };
	char *cp = jsonloc_path_append_key(kp, "config");
	json_t *cfg = json_object_get(k, "config"), *frags, *v;
	size_t i;
	int rc = 0, target = 0;

	if (!cfg) {
		/* What the harness needs to boot, on the smallest base. */
		b->config_base = xstrdup("tinyconfig");
		strv_addf(&b->fragments, "%s/kernel/swapbench.config", configs_dir());
		free(cp);
		return 0;
	}
	if (!json_is_object(cfg))
		rc = perr(s->path, s->text, cp, "a git kernel's config is an object "
			  "{\"base\": \"tinyconfig\"|\"defconfig\"|FILE, \"fragments\": [...]}");
	if (!rc)
		rc = check_keys(s->path, s->text, cp, cfg, keys);
	if (!rc)
		rc = get_str(s->path, s->text, cp, cfg, "base", 0, &b->config_base);
	if (!rc && !b->config_base)
		b->config_base = xstrdup("tinyconfig");
	for (int t = 0; !rc && targets[t]; t++)
		target |= !strcmp(b->config_base, targets[t]);
	if (!rc && !target) {
		char *bp = jsonloc_path_append_key(cp, "base"), *f = NULL;
		json_t *str = json_string(b->config_base);

		rc = get_file(s, bp, dir, str, &f);
		if (rc)
			rc = perr(s->path, s->text, bp, "expected tinyconfig, defconfig, "
				  "allnoconfig or a config file (no such file '%s')",
				  b->config_base);
		json_decref(str);
		free(b->config_base);
		b->config_base = f;
		free(bp);
	}
	frags = json_object_get(cfg, "fragments");
	if (!rc && frags && !json_is_array(frags)) {
		char *fp = jsonloc_path_append_key(cp, "fragments");

		rc = perr(s->path, s->text, fp, "expected an array of fragment files");
		free(fp);
	}
	json_array_foreach(rc ? NULL : frags, i, v) {
		char *fp = jsonloc_path_append_key(cp, "fragments"), *ip, *f = NULL;
		const char *str = json_string_value(v);

		ip = jsonloc_path_append_index(fp, i);
		/* A bare name is one of configs/kernel/NAME.config. */
		if (str && !strchr(str, '/') && name_ok(str) && !strstr(str, ".config")) {
			json_t *named = json_sprintf("%s/kernel/%s.config", configs_dir(), str);

			rc = get_file(s, ip, dir, named, &f);
			if (rc)
				rc = perr(s->path, s->text, ip, "no fragment '%s' in %s/kernel",
					  str, configs_dir());
			json_decref(named);
		} else {
			rc = get_file(s, ip, dir, v, &f);
		}
		if (!rc)
			strv_add(&b->fragments, f);
		free(f);
		free(ip);
		free(fp);
		if (rc)
			break;
	}
	free(cp);
	return rc;
}

static int parse_make(struct spec *s, const char *kp, json_t *k, struct spec_kbuild *b)
{
	char *mp = jsonloc_path_append_key(kp, "make");
	json_t *make = json_object_get(k, "make"), *v;
	const char *key;
	int rc = 0;

	if (make && !json_is_object(make))
		rc = perr(s->path, s->text, mp, "expected an object of make variables");
	json_object_foreach(rc ? NULL : make, key, v) {
		char *vp = jsonloc_path_append_key(mp, key);

		if (!var_ok(key))
			rc = perr(s->path, s->text, vp, "'%s' cannot be set here (a make variable "
				  "name; O, LOCALVERSION, INSTALL_MOD_PATH are swapbench's)", key);
		else if (!json_is_string(v))
			rc = perr(s->path, s->text, vp, "expected a string");
		else
			strv_addf(&b->make, "%s=%s", key, json_string_value(v));
		free(vp);
		if (rc)
			break;
	}
	if (!rc && b->make.n)
		qsort(b->make.v, b->make.n, sizeof(char *), cmp_str);
	free(mp);
	return rc;
}

/* kernels[i] with "git": a kernel built from source. */
static int parse_kbuild(struct spec *s, const char *kp, json_t *k, struct spec_kernel *sk)
{
	char *dir = spec_dir(s);
	struct spec_kbuild *b = calloc(1, sizeof(*b));
	int rc = 0;

	if (!b)
		abort();
	sk->build = b;
	if (json_object_get(k, "source"))
		rc = perr(s->path, s->text, kp, "give \"source\" or \"git\", not both");
	else if (json_object_get(k, "modules"))
		rc = perr(s->path, s->text, kp, "\"modules\" is for image: kernels; a git "
			  "kernel installs its own");
	if (!rc)
		rc = parse_git(s, kp, k, dir, b);
	if (!rc)
		rc = parse_kconfig(s, kp, k, dir, b);
	if (!rc)
		rc = parse_make(s, kp, k, b);
	if (!rc)
		rc = get_str(s->path, s->text, kp, k, "localversion", 0, &b->localversion);
	if (!rc && !b->localversion)
		b->localversion = xstrdup("");
	if (!rc && (strlen(b->localversion) > 64 ||
		    (b->localversion[0] && !name_ok(b->localversion)))) {
		char *lp = jsonloc_path_append_key(kp, "localversion");

		rc = perr(s->path, s->text, lp, "'%s' must be up to 64 characters of "
			  "[A-Za-z0-9._+-]", b->localversion);
		free(lp);
	}
	if (!rc)
		rc = get_str(s->path, s->text, kp, k, "name", 0, &sk->name);
	if (!rc) {
		sk->source = xasprintf("git:%s@%s", b->tree_spec, b->branch ? b->branch : b->ref);
		if (!sk->name)
			sk->name = default_kernel_name(b->tree_spec);
	}
	free(dir);
	return rc;
}

static int parse_kernels(struct spec *s, json_t *arr)
{
	static const char *const keys[] = { "name", "source", "config", "modules", "git",
					    "make", "localversion", NULL };
	json_t *k;
	size_t i;

	if (!json_is_array(arr) || !json_array_size(arr))
		return perr(s->path, s->text, "kernels", "expected a non-empty array");
	s->kernels = calloc(json_array_size(arr), sizeof(*s->kernels));
	json_array_foreach(arr, i, k) {
		struct spec_kernel *sk = &s->kernels[s->nkernels++];
		char *p = jsonloc_path_append_index("kernels", i);
		int rc = 0;

		if (json_is_string(k)) {
			sk->source = xstrdup(json_string_value(k));
			sk->name = default_kernel_name(sk->source);
		} else {
			rc = check_keys(s->path, s->text, p, k, keys);
			if (!rc && json_object_get(k, "git")) {
				rc = parse_kbuild(s, p, k, sk);
			} else if (!rc && (json_object_get(k, "make") ||
					   json_object_get(k, "localversion"))) {
				rc = perr(s->path, s->text, p, "\"make\" and \"localversion\" are "
					  "for kernels built from a \"git\" tree");
			} else if (!rc) {
				rc = get_str(s->path, s->text, p, k, "source", 1, &sk->source);
				if (!rc)
					rc = get_str(s->path, s->text, p, k, "name", 0, &sk->name);
				if (!rc)
					rc = get_str(s->path, s->text, p, k, "config", 0,
						     &sk->config);
				if (!rc)
					rc = get_str(s->path, s->text, p, k, "modules", 0,
						     &sk->modules);
				if (!rc && !sk->name)
					sk->name = default_kernel_name(sk->source);
			}
		}
		if (!rc && !sk->build && strncmp(sk->source, "debian:", 7) &&
		    strncmp(sk->source, "image:", 6) && strncmp(sk->source, "linux-image-", 12))
			rc = perr(s->path, s->text, p, "unknown kernel source '%s' (expected "
				  "debian:X.Y, linux-image-PACKAGE, image:PATH, or a \"git\" "
				  "object)", sk->source);
		if (!rc && !name_ok(sk->name))
			rc = perr(s->path, s->text, p, "kernel name '%s' must be 1-64 characters "
				  "of [A-Za-z0-9._+-]", sk->name);
		for (size_t j = 0; !rc && j + 1 < s->nkernels; j++)
			if (!strcmp(s->kernels[j].name, sk->name))
				rc = perr(s->path, s->text, p, "duplicate kernel name '%s'",
					  sk->name);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_topologies(struct spec *s, json_t *arr)
{
	char *dir_copy = xstrdup(s->path), *base = dirname(dir_copy);
	json_t *t;
	size_t i;
	int rc = 0;

	if (!json_is_array(arr) || !json_array_size(arr)) {
		free(dir_copy);
		return perr(s->path, s->text, "topologies", "expected a non-empty array");
	}
	s->topos = calloc(json_array_size(arr), sizeof(*s->topos));
	json_array_foreach(arr, i, t) {
		struct spec_topology *st = &s->topos[s->ntopos];
		char *p = jsonloc_path_append_index("topologies", i);
		int line = jsonloc_line(s->text, p);
		char *where = line > 0 ? xasprintf("%s:%d: %s", s->path, line, p)
				       : xasprintf("%s: %s", s->path, p);

		if (json_is_string(t)) {
			rc = topology_load(json_string_value(t), base, where, st);
		} else if (json_is_object(t)) {
			rc = topology_validate(t, p);
			if (rc)
				rc = relocate(s->path, s->text, rc);
			if (!rc) {
				st->obj = json_deep_copy(t);
				st->name = xstrdup(json_string_value(json_object_get(t, "name")));
				st->origin = xstrdup(s->path);
			}
		} else {
			rc = perr(s->path, s->text, p, "expected a topology name, a path or an "
				  "object");
		}
		if (!rc) {
			s->ntopos++;
			if (!name_ok(st->name))
				rc = perr(s->path, s->text, p, "topology name '%s' must be 1-64 "
					  "characters of [A-Za-z0-9._+-]", st->name);
			for (size_t j = 0; !rc && j + 1 < s->ntopos; j++)
				if (!strcmp(s->topos[j].name, st->name))
					rc = perr(s->path, s->text, p,
						  "duplicate topology name '%s'", st->name);
		}
		free(where);
		free(p);
		if (rc)
			break;
	}
	free(dir_copy);
	return rc;
}

static int parse_workloads(struct spec *s, json_t *arr, const struct spec_memcg *memcg,
			   int default_timeout)
{
	static const char *const keys[] = { "name", "kind", "params", "memcg", "timeout", NULL };
	json_t *w;
	size_t i;

	if (!json_is_array(arr) || !json_array_size(arr))
		return perr(s->path, s->text, "workloads", "expected a non-empty array");
	s->workloads = calloc(json_array_size(arr), sizeof(*s->workloads));
	json_array_foreach(arr, i, w) {
		struct spec_workload *sw = &s->workloads[s->nworkloads++];
		char *p = jsonloc_path_append_index("workloads", i);
		const struct workload_ops *ops;
		long long timeout = default_timeout;
		int rc = check_keys(s->path, s->text, p, w, keys);

		sw->memcg = *memcg;
		if (!rc)
			rc = get_str(s->path, s->text, p, w, "kind", 1, &sw->kind);
		if (!rc)
			rc = get_str(s->path, s->text, p, w, "name", 0, &sw->name);
		if (!rc && !sw->name)
			sw->name = xstrdup(sw->kind);
		if (!rc && !(ops = workload_find(sw->kind))) {
			char *kp = jsonloc_path_append_key(p, "kind");
			char known[256] = "";

			for (int j = 0; workloads[j]; j++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", j ? ", " : "", workloads[j]->name);
			rc = perr(s->path, s->text, kp, "unknown workload kind '%s' (known: %s)",
				  sw->kind, known);
			free(kp);
		}
		if (!rc && !name_ok(sw->name))
			rc = perr(s->path, s->text, p, "workload name '%s' must be 1-64 characters "
				  "of [A-Za-z0-9._+-]", sw->name);
		for (size_t j = 0; !rc && j + 1 < s->nworkloads; j++)
			if (!strcmp(s->workloads[j].name, sw->name))
				rc = perr(s->path, s->text, p, "duplicate workload name '%s'",
					  sw->name);
		if (!rc) {
			json_t *params = json_object_get(w, "params");
			char *pp = jsonloc_path_append_key(p, "params");

			sw->params = params ? json_incref(params) : json_object();
			if (!json_is_object(sw->params)) {
				rc = perr(s->path, s->text, pp, "expected an object");
			} else {
				rc = ops->validate(sw->params, pp);
				if (rc)
					rc = relocate(s->path, s->text, rc);
			}
			free(pp);
		}
		if (!rc && json_object_get(w, "memcg")) {
			char *mp = jsonloc_path_append_key(p, "memcg");

			rc = parse_memcg(s->path, s->text, mp, json_object_get(w, "memcg"),
					 &sw->memcg);
			free(mp);
		}
		if (!rc)
			rc = get_int(s->path, s->text, p, w, "timeout", 1, 86400, &timeout);
		sw->timeout_s = (int)timeout;
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

int spec_make_aa(struct spec *s, const char *kernel)
{
	json_t *arr = json_object_get(s->root, "kernels"), *aa, *k = NULL;
	size_t i;
	int rc;

	for (i = 0; i < s->nkernels; i++)
		if (!kernel || !strcmp(s->kernels[i].name, kernel))
			break;
	if (i == s->nkernels)
		return sb_err(ENOENT, "%s: no kernel named '%s'", s->path, kernel);
	k = json_array_get(arr, i);
	aa = json_array();
	for (int c = 0; c < 2; c++) {
		json_t *copy = json_is_string(k) ? json_pack("{s:O}", "source", k)
						 : json_deep_copy(k);

		json_object_set_new(copy, "name", json_string(c ? "B" : "A"));
		json_array_append_new(aa, copy);
	}
	for (i = 0; i < s->nkernels; i++) {
		spec_kbuild_free(s->kernels[i].build);
		free(s->kernels[i].name);
		free(s->kernels[i].source);
		free(s->kernels[i].config);
		free(s->kernels[i].modules);
	}
	free(s->kernels);
	s->kernels = NULL;
	s->nkernels = 0;
	json_object_set_new(s->root, "kernels", aa);
	rc = parse_kernels(s, aa);
	if (!rc) {
		char *name = xasprintf("%s-aa", s->name);

		free(s->name);
		s->name = name;
	}
	return rc;
}

int spec_load(const char *path, struct spec *s)
{
	static const char *const keys[] = { "name", "description", "kernels", "topologies",
					    "workloads", "memcg", "iterations", "vm",
					    "sample_interval_ms", NULL };
	static const char *const vm_keys[] = { "memory", "cpus", "accel", "timeout", "cmdline",
					       "clock", "quiet", NULL };
	struct spec_memcg memcg = { -1, -1, -1 };
	long long iterations = 1, cpus = 2, timeout = 900, interval = 1000, mem = 1LL << 30;
	json_error_t jerr;
	json_t *vm;
	int rc;

	spec_init(s);
	s->path = xstrdup(path);
	rc = read_file(path, SPEC_MAX_BYTES, &s->text, NULL);
	if (rc)
		goto fail;
	s->root = json_loads(s->text, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->root) {
		rc = sb_err(EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	rc = check_keys(path, s->text, "", s->root, keys);
	if (!rc)
		rc = get_str(path, s->text, "", s->root, "name", 0, &s->name);
	if (!rc && !s->name) {
		char *copy = xstrdup(path), *b = basename(copy), *dot = strrchr(b, '.');

		if (dot)
			*dot = '\0';
		s->name = xstrdup(b);
		free(copy);
	}
	if (!rc && json_object_get(s->root, "memcg"))
		rc = parse_memcg(path, s->text, "memcg", json_object_get(s->root, "memcg"),
				 &memcg);
	if (!rc)
		rc = get_int(path, s->text, "", s->root, "iterations", 1, 1000, &iterations);
	if (!rc)
		rc = get_int(path, s->text, "", s->root, "sample_interval_ms", 50, 60000,
			     &interval);
	vm = json_object_get(s->root, "vm");
	if (!rc && vm) {
		rc = check_keys(path, s->text, "vm", vm, vm_keys);
		if (!rc)
			rc = get_size(path, s->text, "vm", vm, "memory", &mem);
		if (!rc && (mem < (128LL << 20) || mem > (1LL << 40)))
			rc = perr(path, s->text, "vm.memory", "expected between 128M and 1T");
		if (!rc)
			rc = get_int(path, s->text, "vm", vm, "cpus", 1, 256, &cpus);
		if (!rc)
			rc = get_int(path, s->text, "vm", vm, "timeout", 10, 86400, &timeout);
		if (!rc)
			rc = get_str(path, s->text, "vm", vm, "accel", 0, &s->accel);
		if (!rc && s->accel && strcmp(s->accel, "auto") && strcmp(s->accel, "kvm") &&
		    strcmp(s->accel, "tcg"))
			rc = perr(path, s->text, "vm.accel", "expected \"auto\", \"kvm\" or "
				  "\"tcg\" (got '%s')", s->accel);
		if (!rc)
			rc = get_str(path, s->text, "vm", vm, "cmdline", 0, &s->cmdline);
		if (!rc)
			rc = get_str(path, s->text, "vm", vm, "clock", 0, &s->clock);
		if (!rc && s->clock && strcmp(s->clock, "host") && strcmp(s->clock, "icount"))
			rc = perr(path, s->text, "vm.clock", "expected \"host\" or \"icount\" "
				  "(got '%s')", s->clock);
		if (!rc && json_object_get(vm, "quiet")) {
			if (!json_is_boolean(json_object_get(vm, "quiet")))
				rc = perr(path, s->text, "vm.quiet", "expected true or false");
			else
				s->quiet = json_is_true(json_object_get(vm, "quiet"));
		}
	}
	if (!rc)
		rc = parse_kernels(s, json_object_get(s->root, "kernels"));
	if (!rc)
		rc = parse_topologies(s, json_object_get(s->root, "topologies"));
	if (!rc)
		rc = parse_workloads(s, json_object_get(s->root, "workloads"), &memcg,
				     (int)timeout);
	if (rc)
		goto fail;
	s->iterations = (int)iterations;
	s->vm_mem_mb = (unsigned)(mem >> 20);
	s->vm_cpus = (unsigned)cpus;
	s->vm_timeout_s = (int)timeout;
	s->sample_interval_ms = (int)interval;
	if (!s->accel)
		s->accel = xstrdup("auto");
	if (!s->clock)
		s->clock = xstrdup(s->quiet ? VM_QUIET_CLOCK : "host");
	return 0;
fail:
	spec_release(s);
	return rc;
}
