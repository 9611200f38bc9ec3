/* Inside the kernel builder (kernel-build.c and kbuild-*.c): the job of one
 * build and what its parts share. Not for use outside those files. */
#ifndef SB_KBUILD_INT_H
#define SB_KBUILD_INT_H

#include "harness/kernel-build.h"
#include "common/strv.h"

/* Part of every key: change it when the way a kernel is built changes, so
 * that old builds are not taken for new ones. */
#define KBUILD_VERSION "swapbench-kbuild-1"
#define GIT_TIMEOUT_MS (30 * 60 * 1000)
#define MAKE_TIMEOUT_S (4 * 3600)
/* Fixed identities and dates: the same patches on the same base give the
 * same commit ids, and the same sources the same kernel, every time. */
#define SB_GIT_NAME "swapbench"
#define SB_GIT_EMAIL "swapbench@localhost"
#define SB_FIXED_DATE "2000-01-01T00:00:00Z"

struct job {
	const struct spec_kernel *sk;
	const struct kbuild_opts *o;
	char *cache, *work, *src, *out, *log;
	int log_fd, lock_fd;
	struct strv env;
	struct strv make;  /* make -C src O=out VAR=... (no target) */
	double t0;
	char *phase;
};

/* kbuild-job.c: environment, processes, build log, progress, lock. */
void build_env(struct strv *env, const char *cache);
/* Run and capture stdout (and stderr with merge); *out is never NULL. */
int run_capture(const char *const *argv, const char *cwd, char *const *envp, int merge,
		char **out, int *code);
/* One line of output from a command that must succeed ("git rev-parse"). */
int run_line(const char *const *argv, const char *cwd, char *const *envp, char **line);
void progress(struct job *j, int final);
void set_phase(struct job *j, const char *phase);
void log_line(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int run_logged(struct job *j, const char *const *argv, const char *cwd, int timeout_s);
char *log_tail(const char *path, const char *since, int nlines);
int lock_variant(struct job *j);
void job_release(struct job *j);

/* kbuild-inputs.c: inputs and keys. */
const char *make_var(const struct spec_kbuild *b, const char *name);
char *compiler_of(const struct spec_kbuild *b);
int in_path(const char *prog);
char *keyed_hash(json_t *keyed);
int compute_inputs(const struct spec_kernel *sk, char *const *envp, json_t **inputs_out,
		   char **ikey);

/* kbuild-steps.c: the steps of a build. */
int prepare_tree(struct job *j, const char *commit);
int apply_patches(struct job *j, json_t *patch_commits);
int configure(struct job *j, json_t **final_out, char **config_text);
int build_and_store(struct job *j, const char *key, const char *ikey, const json_t *inputs,
		    json_t *final, json_t *result);

/* kbuild-cache.c: builds/<key>, the index, work-tree names. */
char *builds_dir(const char *cache);
int load_build(const char *cache, const char *key, const json_t *inputs, struct kernel *k);
char *index_lookup(const char *cache, const char *ikey);
void index_store(const char *cache, const char *ikey, const char *key);
char *variant_dir(const char *cache, const struct spec_kernel *sk);

#endif
