/* Kernels built from source: the build of one variant and kbuild_get().
 * The parts have their own files: kbuild-inputs.c (inputs and keys),
 * kbuild-job.c (processes, log, progress), kbuild-steps.c (tree, patches,
 * config, make, store), kbuild-cache.c and kbuild-gc.c. The cache layout
 * is in kernel-build.h. */
#define _GNU_SOURCE
#include "harness/kbuild-int.h"
#include "harness/sha256.h"
#include "common/err.h"
#include "harness/paths.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/strv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int build(struct job *j, const json_t *inputs, const char *ikey, struct kernel *k,
		 enum kbuild_state *state)
{
	const struct spec_kbuild *b = j->sk->build;
	const char *commit = json_string_value(json_object_get(inputs, b->branch ? "branch_commit"
										 : "base_commit"));
	const char *head[] = { "git", "rev-parse", "HEAD", NULL };
	json_t *result = json_object(), *patch_commits = json_array(), *final = NULL;
	char *resolved = NULL, *text = NULL, *key = NULL;
	int rc, jobs = j->o->jobs > 0 ? j->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);

	j->work = variant_dir(j->cache, j->sk);
	j->src = xasprintf("%s/src", j->work);
	j->out = xasprintf("%s/out", j->work);
	j->log = j->o->log ? xstrdup(j->o->log) : xasprintf("%s/build.log", j->work);
	if ((rc = mkdir_p(j->work, 0755)) || (rc = lock_variant(j)))
		goto out;
	j->log_fd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (j->log_fd < 0) {
		rc = sb_err(errno, "cannot create '%s': %s", j->log, strerror(errno));
		goto out;
	}
	{
		char *in = json_dumps(inputs, JSON_INDENT(2) | JSON_SORT_KEYS);

		log_line(j, "swapbench kernel build '%s'\ninputs: %s\n", j->sk->name, in);
		free(in);
	}
	strv_add(&j->make, "make");
	strv_add(&j->make, "-C");
	strv_add(&j->make, j->src);
	strv_addf(&j->make, "O=%s", j->out);
	strv_addf(&j->make, "-j%d", jobs > 0 ? jobs : 1);
	for (size_t i = 0; i < b->make.n; i++)
		strv_add(&j->make, b->make.v[i]);
	/* ccache changes nothing in what is built, so it is not in the key. */
	if (!make_var(b, "CC") && in_path("ccache")) {
		char *cc = compiler_of(b);

		strv_addf(&j->make, "CC=ccache %s", cc);
		free(cc);
	}
	/* Set even when empty: otherwise setlocalversion appends "+" to a git
	 * tree that is not at a tag. */
	strv_addf(&j->make, "LOCALVERSION=%s", b->localversion);
	if ((rc = prepare_tree(j, commit)))
		goto out;
	if ((rc = apply_patches(j, patch_commits)))
		goto out;
	if ((rc = run_line(head, j->src, j->env.v, &resolved))) {
		rc = sb_err(EIO, "cannot read HEAD of '%s'", j->src);
		goto out;
	}
	if ((rc = configure(j, &final, &text)))
		goto out;
	{
		json_t *keyed = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:s}", "v", KBUILD_VERSION,
					  "commit", resolved, "config", text, "compiler",
					  json_string_value(json_object_get(inputs, "compiler")),
					  "linker",
					  json_string_value(json_object_get(inputs, "linker")),
					  "make", json_object_get(inputs, "make"), "localversion",
					  b->localversion);
		char hex[65];

		key = keyed_hash(keyed);
		json_decref(keyed);
		sha256_hex(text, strlen(text), hex);
		json_object_set_new(result, "commit", json_string(resolved));
		json_object_set_new(result, "config_sha256", json_string(hex));
		json_object_set(result, "patch_commits", patch_commits);
	}
	/* Different inputs, same kernel (a comment in a fragment changed):
	 * nothing to make. */
	if (load_build(j->cache, key, inputs, k) == 0) {
		index_store(j->cache, ikey, key);
		*state = KBUILD_CACHED;
		goto out;
	}
	kernel_release(k);
	if ((rc = build_and_store(j, key, ikey, inputs, final, result)))
		goto out;
	k->name = xstrdup(j->sk->name);
	k->source = xstrdup(j->sk->source);
	rc = load_build(j->cache, key, inputs, k);
	if (rc)
		rc = sb_err(EIO, "the build stored in '%s/builds/%s' is incomplete", j->cache, key);
	else
		*state = KBUILD_BUILT;
out:
	json_decref(result);
	json_decref(patch_commits);
	json_decref(final);
	free(resolved);
	free(text);
	free(key);
	return rc;
}

int kbuild_get(const struct spec_kernel *sk, const struct kbuild_opts *o, struct kernel *k,
	       enum kbuild_state *state)
{
	static const struct kbuild_opts defaults = { .quiet = 1 };
	struct job j = { .sk = sk, .o = o ? o : &defaults, .log_fd = -1, .lock_fd = -1 };
	json_t *inputs = NULL;
	char *ikey = NULL, *key = NULL;
	int rc;

	kernel_init(k);
	*state = KBUILD_FAILED;
	if (!sk->build)
		return sb_err(EINVAL, "kernel '%s' is not built from source", sk->name);
	k->name = xstrdup(sk->name);
	k->source = xstrdup(sk->source);
	j.cache = sb_cache_dir();
	j.t0 = monotonic_s();
	j.phase = xstrdup("inputs");
	strv_init(&j.env);
	strv_init(&j.make);
	build_env(&j.env, j.cache);
	rc = compute_inputs(sk, j.env.v, &inputs, &ikey);
	if (!rc && !j.o->force && (key = index_lookup(j.cache, ikey)) &&
	    load_build(j.cache, key, inputs, k) == 0) {
		*state = KBUILD_CACHED;
	} else if (!rc) {
		char *name = k->name, *source = k->source;

		/* load_build may have filled part of k before failing. */
		k->name = k->source = NULL;
		kernel_release(k);
		k->name = name;
		k->source = source;
		rc = build(&j, inputs, ikey, k, state);
		if (j.o->tty && !j.o->quiet)
			fprintf(stderr, "\r\033[K");
	}
	if (rc) {
		/* Not sb_err_prefix: these messages carry log lines and are
		 * longer than it keeps. */
		char *why = xstrdup(sb_lasterr());

		sb_err(-rc, "kernel '%s': %s", sk->name, why);
		free(why);
		kernel_release(k);
		*state = KBUILD_FAILED;
	}
	json_decref(inputs);
	free(ikey);
	free(key);
	job_release(&j);
	return rc;
}
