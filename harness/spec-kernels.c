/* The kernels[] section of an experiment spec: distro and image sources,
 * and kernels built from git trees (tree, refs, patches, config, make). */
#define _GNU_SOURCE
#include "harness/spec-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "common/params.h"
#include "common/log.h"
#include "harness/paths.h"
#include "harness/kernel-debian.h"
#include "common/strv.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		return jsonloc_err(s->path, s->text, path, "expected a non-empty string");
	f = resolve(dir, json_string_value(v));
	if (access(f, R_OK) || is_dir(f)) {
		int rc = jsonloc_err(s->path, s->text, path, "no such file '%s'", json_string_value(v));

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

/* kernels[i]: a package or image, or one built from a git tree. */
static const struct param_def kernel_source_params[] = {
	PARAM_STRING_REQ("source", 0, "debian:X.Y, linux-image-PACKAGE or image:PATH"),
	PARAM_STRING("name", 0, "from the source", "the kernel's name"),
	PARAM_STRING("config", 0, "a .config above an image", "the kernel's .config"),
	PARAM_STRING("modules", 0, NULL, "a directory holding lib/modules/<release>"),
	PARAM_END(),
};

static const struct param_def kernel_git_params[] = {
	PARAM_CUSTOM("git", NULL, "tree, ref, patches | branch (git_params)"),
	PARAM_STRING("name", 0, "from the tree", "the kernel's name"),
	PARAM_CUSTOM("config", "tinyconfig + swapbench", "base, fragments (kconfig_params)"),
	PARAM_CUSTOM("make", NULL, "make variables"),
	PARAM_STRING("localversion", 0, "\"\"", "CONFIG_LOCALVERSION"),
	PARAM_END(),
};

static const struct param_def git_params[] = {
	PARAM_STRING_REQ("tree", 0, "a git tree (relative to the spec) or cache:NAME"),
	PARAM_STRING("ref", 0, "HEAD", "the commit to build"),
	PARAM_CUSTOM("patches", NULL, "patch or mbox files applied with git am"),
	PARAM_STRING("branch", 0, NULL, "build this branch, not ref + patches"),
	PARAM_END(),
};

static const struct param_def kconfig_params[] = {
	PARAM_STRING("base", 0, "tinyconfig", "tinyconfig, defconfig, allnoconfig or a file"),
	PARAM_CUSTOM("fragments", "[\"swapbench\"]", "config fragments merged on top"),
	PARAM_END(),
};

static int parse_git_tree(struct spec *s, const char *gp, json_t *git, const char *dir,
			  struct spec_kbuild *b)
{
	char *tp = jsonloc_path_append_key(gp, "tree");
	int rc = 0;

	get_str(git, "tree", &b->tree_spec);
	if (!strncmp(b->tree_spec, "cache:", 6)) {
		char *cache;

		rc = check_name(s, tp, "cache tree", b->tree_spec + 6);
		if (!rc) {
			cache = sb_cache_dir();
			b->tree = xasprintf("%s/src/%s", cache, b->tree_spec + 6);
			free(cache);
		}
	} else if (!rc) {
		char *t = resolve(dir, b->tree_spec);

		b->tree = realpath(t, NULL) ?: xstrdup(t);
		free(t);
	}
	/* A cache: tree is swapbench's to make (kernel source X.Y), maybe
	 * after the spec was written: checked when the kernel is built. */
	if (!rc && strncmp(b->tree_spec, "cache:", 6)) {
		char *dotgit = xasprintf("%s/.git", b->tree), *objects = xasprintf("%s/objects",
										    b->tree);

		if (!is_dir(b->tree))
			rc = jsonloc_err(s->path, s->text, tp, "no such directory '%s'", b->tree);
		else if (!path_exists(dotgit) && !is_dir(objects))
			rc = jsonloc_err(s->path, s->text, tp, "'%s' is not a git repository", b->tree);
		free(dotgit);
		free(objects);
	}
	free(tp);
	return rc;
}

static int parse_git(struct spec *s, const char *kp, json_t *k, const char *dir,
		     struct spec_kbuild *b)
{
	char *gp = jsonloc_path_append_key(kp, "git");
	json_t *git = json_object_get(k, "git"), *v, *patch;
	size_t i;
	int rc = check_section(s, git, gp, git_params);

	if (!rc) {
		get_str(git, "ref", &b->ref);
		get_str(git, "branch", &b->branch);
		if (!b->ref)
			b->ref = xstrdup("HEAD");
		rc = parse_git_tree(s, gp, git, dir, b);
	}
	if (!rc && !ref_ok(b->ref)) {
		char *p = jsonloc_path_append_key(gp, "ref");

		rc = jsonloc_err(s->path, s->text, p, "bad git ref '%s'", b->ref);
		free(p);
	}
	if (!rc && b->branch && !ref_ok(b->branch)) {
		char *p = jsonloc_path_append_key(gp, "branch");

		rc = jsonloc_err(s->path, s->text, p, "bad git ref '%s'", b->branch);
		free(p);
	}
	v = json_object_get(git, "patches");
	if (!rc && v) {
		char *pp = jsonloc_path_append_key(gp, "patches");

		if (!json_is_array(v))
			rc = jsonloc_err(s->path, s->text, pp, "expected an array of patch or mbox files");
		else if (b->branch)
			rc = jsonloc_err(s->path, s->text, pp, "give \"patches\" or \"branch\", not both");
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
		rc = jsonloc_err(s->path, s->text, cp, "a git kernel's config is an object "
			  "{\"base\": \"tinyconfig\"|\"defconfig\"|FILE, \"fragments\": [...]}");
	if (!rc)
		rc = check_section(s, cfg, cp, kconfig_params);
	if (!rc)
		get_str(cfg, "base", &b->config_base);
	if (!rc && !b->config_base)
		b->config_base = xstrdup("tinyconfig");
	for (int t = 0; !rc && targets[t]; t++)
		target |= !strcmp(b->config_base, targets[t]);
	if (!rc && !target) {
		char *bp = jsonloc_path_append_key(cp, "base"), *f = NULL;
		json_t *str = json_string(b->config_base);

		rc = get_file(s, bp, dir, str, &f);
		if (rc)
			rc = jsonloc_err(s->path, s->text, bp, "expected tinyconfig, defconfig, "
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

		rc = jsonloc_err(s->path, s->text, fp, "expected an array of fragment files");
		free(fp);
	}
	json_array_foreach(rc ? NULL : frags, i, v) {
		char *fp = jsonloc_path_append_key(cp, "fragments"), *ip, *f = NULL;
		const char *str = json_string_value(v);

		ip = jsonloc_path_append_index(fp, i);
		/* A bare name is one of configs/kernel/NAME.config. */
		if (str && !strchr(str, '/') && !name_problem(str) && !strstr(str, ".config")) {
			json_t *named = json_sprintf("%s/kernel/%s.config", configs_dir(), str);

			rc = get_file(s, ip, dir, named, &f);
			if (rc)
				rc = jsonloc_err(s->path, s->text, ip, "no fragment '%s' in %s/kernel",
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
		rc = jsonloc_err(s->path, s->text, mp, "expected an object of make variables");
	json_object_foreach(rc ? NULL : make, key, v) {
		char *vp = jsonloc_path_append_key(mp, key);

		if (!var_ok(key))
			rc = jsonloc_err(s->path, s->text, vp, "'%s' cannot be set here (a make variable "
				  "name; O, LOCALVERSION, INSTALL_MOD_PATH are swapbench's)", key);
		else if (!json_is_string(v))
			rc = jsonloc_err(s->path, s->text, vp, "expected a string");
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
		rc = jsonloc_err(s->path, s->text, kp, "give \"source\" or \"git\", not both");
	else if (json_object_get(k, "modules"))
		rc = jsonloc_err(s->path, s->text, kp, "\"modules\" is for image: kernels; a git "
			  "kernel installs its own");
	if (!rc)
		rc = check_section(s, k, kp, kernel_git_params);
	if (!rc)
		rc = parse_git(s, kp, k, dir, b);
	if (!rc)
		rc = parse_kconfig(s, kp, k, dir, b);
	if (!rc)
		rc = parse_make(s, kp, k, b);
	if (!rc)
		get_str(k, "localversion", &b->localversion);
	if (!rc && !b->localversion)
		b->localversion = xstrdup("");
	if (!rc && b->localversion[0]) {
		/* Part of the release, so of module paths: a name's rules, but it
		 * usually starts with '-'. */
		char *lp = jsonloc_path_append_key(kp, "localversion");
		char *as_name = xasprintf("v%s", b->localversion);
		const char *why = name_problem(as_name);

		if (why) {
			char *e = str_escape(b->localversion, 0);

			rc = jsonloc_err(s->path, s->text, lp, "localversion '%s': %s", e ? e : "?", why);
			free(e);
		}
		free(as_name);
		free(lp);
	}
	if (!rc) {
		get_str(k, "name", &sk->name);
		sk->source = xasprintf("git:%s@%s", b->tree_spec, b->branch ? b->branch : b->ref);
		if (!sk->name)
			sk->name = default_kernel_name(b->tree_spec);
	}
	free(dir);
	return rc;
}

/* {"debian": "7.2.*"} or "debian:7.2.*": every version apt knows, oldest
 * first, named by upstream version; {"debian": "7.3"} is one kernel. */
static int expand_debian(struct spec *s, const char *p, json_t *k, size_t *cap)
{
	const char *val = json_is_string(k) ? json_string_value(k) + 7
					    : json_string_value(json_object_get(k, "debian"));
	struct strv srcs, names;
	char *src;
	int rc = 0;

	if (json_is_object(k) && (json_object_size(k) != 1 || !val))
		return jsonloc_err(s->path, s->text, p, "{\"debian\": \"X.Y.*\"} takes no other keys "
			    "and a string");
	src = xasprintf("debian:%s", val);
	strv_init(&srcs);
	strv_init(&names);
	if (!strchr(val, '*')) {
		strv_add(&srcs, src);
		strv_add(&names, val);
	} else {
		rc = debian_kernel_expand(src, &srcs, &names);
		if (rc)
			rc = jsonloc_err(s->path, s->text, p, "%s", sb_lasterr());
	}
	if (!rc && *cap < s->nkernels + srcs.n) {
		*cap = s->nkernels + srcs.n;
		s->kernels = realloc(s->kernels, *cap * sizeof(*s->kernels));
		if (!s->kernels)
			abort();
	}
	for (size_t j = 0; !rc && j < srcs.n; j++) {
		struct spec_kernel *sk = &s->kernels[s->nkernels++];

		memset(sk, 0, sizeof(*sk));
		sk->source = xstrdup(srcs.v[j]);
		sk->name = xstrdup(names.v[j]);
		if (!name_ok(sk->name))
			rc = jsonloc_err(s->path, s->text, p, "kernel name '%s' must be 1-64 characters "
				  "of [A-Za-z0-9._+-]", sk->name);
		for (size_t i = 0; !rc && i + 1 < s->nkernels; i++)
			if (!strcmp(s->kernels[i].name, sk->name))
				rc = jsonloc_err(s->path, s->text, p, "duplicate kernel name '%s'",
					  sk->name);
	}
	strv_release(&srcs);
	strv_release(&names);
	free(src);
	return rc;
}

static int check_source_name(struct spec *s, const char *p, const char *what,
			     const char *src)
{
	char *part = strndup(src, strcspn(src, "=@"));
	int rc;

	if (!part)
		abort();
	rc = check_name(s, p, what, part);
	free(part);
	return rc;
}

int parse_kernels(struct spec *s, json_t *arr)
{
	json_t *k, *wrapped = NULL;
	size_t i, cap;

	if (json_is_object(arr) && json_object_get(arr, "debian"))
		arr = wrapped = json_pack("[O]", arr);
	if (!json_is_array(arr) || !json_array_size(arr))
		return jsonloc_err(s->path, s->text, "kernels", "expected a non-empty array, or "
			    "{\"debian\": \"X.Y.*\"}");
	cap = json_array_size(arr);
	s->kernels = calloc(cap, sizeof(*s->kernels));
	json_array_foreach(arr, i, k) {
		struct spec_kernel *sk;
		char *p = jsonloc_path_append_index("kernels", i);
		int rc = 0;

		if ((json_is_object(k) && json_object_get(k, "debian")) ||
		    (json_is_string(k) && !strncmp(json_string_value(k), "debian:", 7) &&
		     strchr(json_string_value(k), '*'))) {
			rc = expand_debian(s, wrapped ? "kernels" : p, k, &cap);
			free(p);
			if (rc) {
				json_decref(wrapped);
				return rc;
			}
			continue;
		}
		if (s->nkernels == cap) {
			s->kernels = realloc(s->kernels, ++cap * sizeof(*s->kernels));
			if (!s->kernels)
				abort();
		}
		sk = &s->kernels[s->nkernels++];
		memset(sk, 0, sizeof(*sk));

		if (json_is_string(k)) {
			sk->source = xstrdup(json_string_value(k));
			sk->name = default_kernel_name(sk->source);
		} else {
			if (json_object_get(k, "git")) {
				rc = parse_kbuild(s, p, k, sk);
			} else if (json_object_get(k, "make") || json_object_get(k, "localversion")) {
				rc = jsonloc_err(s->path, s->text, p, "\"make\" and \"localversion\" are "
					  "for kernels built from a \"git\" tree");
			} else {
				rc = check_section(s, k, p, kernel_source_params);
				if (!rc) {
					get_str(k, "source", &sk->source);
					get_str(k, "name", &sk->name);
					get_str(k, "config", &sk->config);
					get_str(k, "modules", &sk->modules);
					if (!sk->name)
						sk->name = default_kernel_name(sk->source);
				}
			}
		}
		if (!rc && !sk->build && strncmp(sk->source, "debian:", 7) &&
		    strncmp(sk->source, "image:", 6) && strncmp(sk->source, "linux-image-", 12))
			rc = jsonloc_err(s->path, s->text, p, "unknown kernel source '%s' (expected "
				  "debian:X.Y, linux-image-PACKAGE, image:PATH, or a \"git\" "
				  "object)", sk->source);
		/* Package names become cache paths and apt arguments: the name part
		 * (before a "=VERSION" or "@SUITE" pin) follows the name rule. */
		if (!rc && !strncmp(sk->source, "debian:", 7))
			rc = check_source_name(s, p, "kernel source debian:", sk->source + 7);
		if (!rc && !strncmp(sk->source, "linux-image-", 12))
			rc = check_source_name(s, p, "kernel package", sk->source);
		if (!rc)
			rc = check_name(s, p, "kernel name", sk->name);
		for (size_t j = 0; !rc && j + 1 < s->nkernels; j++)
			if (!strcmp(s->kernels[j].name, sk->name))
				rc = jsonloc_err(s->path, s->text, p, "duplicate kernel name '%s'",
					  sk->name);
		free(p);
		if (rc) {
			json_decref(wrapped);
			return rc;
		}
	}
	json_decref(wrapped);
	return 0;
}
