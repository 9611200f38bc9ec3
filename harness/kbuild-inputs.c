/* The inputs of a kernel build as the user gave them, resolved (commits,
 * file hashes, tool versions), and the keys made from them. */
#define _GNU_SOURCE
#include "harness/kbuild-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "harness/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *tool_version(const char *tool, char *const *envp)
{
	struct strv av;
	char *line = NULL, *copy = xstrdup(tool), *save, *tok;

	strv_init(&av);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		strv_add(&av, tok);
	strv_add(&av, "--version");
	if (av.n < 2 || run_line(strv_argv(&av), NULL, envp, &line))
		line = xasprintf("%s: unknown version", tool);
	strv_release(&av);
	free(copy);
	return line;
}

const char *make_var(const struct spec_kbuild *b, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < b->make.n; i++)
		if (!strncmp(b->make.v[i], name, n) && b->make.v[i][n] == '=')
			return b->make.v[i] + n + 1;
	return NULL;
}

/* The compiler make will use, as the kernel's Makefile picks it. */
char *compiler_of(const struct spec_kbuild *b)
{
	const char *cc = make_var(b, "CC"), *llvm = make_var(b, "LLVM");
	const char *cross = make_var(b, "CROSS_COMPILE");

	if (cc)
		return xstrdup(cc);
	if (llvm && strcmp(llvm, "0"))
		return xstrdup("clang");
	return xasprintf("%sgcc", cross ? cross : "");
}

static char *linker_of(const struct spec_kbuild *b)
{
	const char *ld = make_var(b, "LD"), *llvm = make_var(b, "LLVM");
	const char *cross = make_var(b, "CROSS_COMPILE");

	if (ld)
		return xstrdup(ld);
	if (llvm && strcmp(llvm, "0"))
		return xstrdup("ld.lld");
	return xasprintf("%sld", cross ? cross : "");
}

int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save, *dir;
	int found = 0;

	if (!path)
		return 0;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, prog);

		found = !access(p, X_OK);
		free(p);
	}
	free(copy);
	return found;
}

static char *ref_commit(const char *tree, const char *ref)
{
	char *spec = xasprintf("%s^{commit}", ref), *line = NULL;
	const char *argv[] = { "git", "-C", tree, "rev-parse", "-q", "--verify", spec, NULL };

	if (run_line(argv, NULL, NULL, &line))
		line = NULL;
	free(spec);
	return line;
}

char *keyed_hash(json_t *keyed)
{
	char *text = json_dumps(keyed, JSON_COMPACT | JSON_SORT_KEYS), hex[65];

	sha256_hex(text, strlen(text), hex);
	free(text);
	return xstrdup(hex);
}

/* What the user gave, resolved: recorded in kernel.json and run.json, and
 * hashed (contents, not paths) into the input key. */
int compute_inputs(const struct spec_kernel *sk, char *const *envp, json_t **inputs_out,
			  char **ikey)
{
	const struct spec_kbuild *b = sk->build;
	json_t *in, *keyed, *patches = json_array(), *frags = json_array(), *make = json_object();
	json_t *kpatches = json_array(), *kfrags = json_array();
	char *base, *branch = NULL, *cc, *ld, *ccv, *ldv, *tree = realpath(b->tree, NULL);
	char hex[65];
	int rc = 0;

	if (!is_dir(b->tree)) {
		base = NULL;
		rc = sb_err(ENOENT, "git tree '%s' ('%s') does not exist%s", b->tree_spec, b->tree,
			    !strcmp(b->tree_spec, "cache:linux-6.12")
				    ? ": scripts/linux-git.sh makes it" : "");
	} else if (!(base = ref_commit(b->tree, b->ref))) {
		rc = sb_err(ENOENT, "git tree '%s' has no commit '%s'", b->tree, b->ref);
	}
	if (!rc && b->branch && !(branch = ref_commit(b->tree, b->branch)))
		rc = sb_err(ENOENT, "git tree '%s' has no commit '%s'", b->tree, b->branch);
	for (size_t i = 0; !rc && i < b->patches.n; i++) {
		if ((rc = sha256_file(b->patches.v[i], hex)))
			break;
		json_array_append_new(patches, json_pack("{s:s,s:s}", "file", b->patches.v[i],
							 "sha256", hex));
		json_array_append_new(kpatches, json_string(hex));
	}
	for (size_t i = 0; !rc && i < b->fragments.n; i++) {
		if ((rc = sha256_file(b->fragments.v[i], hex)))
			break;
		json_array_append_new(frags, json_pack("{s:s,s:s}", "file", b->fragments.v[i],
						       "sha256", hex));
		json_array_append_new(kfrags, json_string(hex));
	}
	for (size_t i = 0; i < b->make.n; i++) {
		char *eq = strchr(b->make.v[i], '='), *k = strndup(b->make.v[i],
								   eq - b->make.v[i]);

		json_object_set_new(make, k, json_string(eq + 1));
		free(k);
	}
	if (rc) {
		json_decref(patches);
		json_decref(frags);
		json_decref(make);
		json_decref(kpatches);
		json_decref(kfrags);
		free(base);
		free(branch);
		free(tree);
		return rc;
	}
	cc = compiler_of(b);
	ld = linker_of(b);
	ccv = tool_version(cc, envp);
	ldv = tool_version(ld, envp);
	in = json_pack("{s:s,s:s,s:s,s:s,s:o,s:{s:s,s:o},s:s,s:s,s:o,s:s}", "tree",
		       tree ? tree : b->tree, "tree_spec", b->tree_spec, "ref", b->ref,
		       "base_commit", base, "patches", patches, "config", "base", b->config_base,
		       "fragments", frags, "compiler", ccv, "linker", ldv, "make", make,
		       "localversion", b->localversion);
	keyed = json_pack("{s:s,s:s,s:o,s:s,s:o,s:s,s:s,s:O,s:s}", "v", KBUILD_VERSION, "base",
			  base, "patches", kpatches, "config_base", b->config_base, "fragments",
			  kfrags, "compiler", ccv, "linker", ldv, "make", make, "localversion",
			  b->localversion);
	if (b->config_base[0] == '/') {
		if (!(rc = sha256_file(b->config_base, hex))) {
			json_object_set_new(json_object_get(in, "config"), "base_sha256",
					    json_string(hex));
			json_object_set_new(keyed, "config_base", json_string(hex));
		}
	}
	if (branch) {
		json_object_set_new(in, "branch", json_string(b->branch));
		json_object_set_new(in, "branch_commit", json_string(branch));
		json_object_set_new(keyed, "branch", json_string(branch));
	}
	*ikey = keyed_hash(keyed);
	json_decref(keyed);
	free(base);
	free(branch);
	free(cc);
	free(ld);
	free(ccv);
	free(ldv);
	free(tree);
	if (rc) {
		json_decref(in);
		free(*ikey);
		return rc;
	}
	*inputs_out = in;
	return 0;
}
