/* The steps of a kernel build: work tree, patches (git am), config, make,
 * and storing the result in the build cache. */
#define _GNU_SOURCE
#include "harness/kbuild-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strbuf.h"
#include "common/strv.h"

#include "harness/kconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int is_mail(const char *path)
{
	char *text = NULL;
	int mail;

	if (read_file(path, 1u << 30, &text, NULL))
		return 1; /* let git am say what is wrong */
	mail = !strncmp(text, "From ", 5) || !strncmp(text, "From:", 5) ||
	       !strncmp(text, "Subject:", 8) || !strncmp(text, "Date:", 5);
	free(text);
	return mail;
}

/* Why `git am` stopped: the patch, and the files that conflict. */
static int am_failure(struct job *j, size_t idx, const char *patch, const char *am_out)
{
	const char *diff[] = { "git", "diff", "--name-only", "--diff-filter=U", NULL };
	char *conf = NULL, *at = NULL, *p;
	struct strbuf files;
	const char *shown = strrchr(patch, '/') ? strrchr(patch, '/') + 1 : patch;
	int code = 0, rc;

	strbuf_init(&files);
	if (run_capture(diff, j->src, j->env.v, 0, &conf, &code) == 0 && !code) {
		char *line, *save;

		for (line = strtok_r(conf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			strbuf_addsep(&files, ", ", line);
	}
	/* Without a 3-way merge (blobs unknown), git names them itself. */
	for (p = files.len ? NULL : (char *)am_out; p && (p = strstr(p, "error: patch failed: "));
	     p++) {
		char *name = strndup(p + 21, strcspn(p + 21, "\n")), *c = strrchr(name, ':');

		if (c)
			*c = '\0';
		if (!strstr(files.buf, name))
			strbuf_addsep(&files, ", ", name);
		free(name);
	}
	/* "Patch failed at 0002 subject": which mail of the file, for a series. */
	if ((p = strstr(am_out, "Patch failed at ")))
		at = strndup(p + 16, strcspn(p + 16, "\n"));
	rc = sb_err(EIO, "patch %zu/%zu '%s'%s%s%s does not apply on %s%s: %s%s", idx + 1,
		    j->sk->build->patches.n, shown, at ? " (mail " : "", at ? at : "",
		    at ? ")" : "", j->sk->build->ref, idx ? " with the patches before it" : "",
		    files.len ? "conflicts in " : "", files.len ? files.buf : "see the log");
	{
		const char *abort_am[] = { "git", "am", "--abort", NULL };
		char *o2;
		int c2;

		if (run_capture(abort_am, j->src, j->env.v, 1, &o2, &c2) == 0)
			free(o2);
	}
	free(conf);
	strbuf_release(&files);
	free(at);
	return rc;
}

int apply_patches(struct job *j, json_t *patch_commits)
{
	const struct spec_kbuild *b = j->sk->build;

	for (size_t i = 0; i < b->patches.n; i++) {
		const char *head[] = { "git", "rev-parse", "HEAD", NULL };
		char *before = NULL, *out = NULL, *range, *phase;
		int code = 0, rc;
		json_t *commits = json_array();

		phase = xasprintf("patch %zu/%zu", i + 1, b->patches.n);
		set_phase(j, phase);
		free(phase);
		if ((rc = run_line(head, j->src, j->env.v, &before)))
			return sb_err(EIO, "cannot read HEAD of '%s'", j->src);
		if (is_mail(b->patches.v[i])) {
			const char *am[] = { "git", "am", "--3way",
					     "--committer-date-is-author-date", b->patches.v[i],
					     NULL };

			rc = run_capture(am, j->src, j->env.v, 1, &out, &code);
			log_line(j, "\n== %s: git am --3way %s\n%s", j->phase, b->patches.v[i],
				 out ? out : "");
			if (!rc && code)
				rc = am_failure(j, i, b->patches.v[i], out);
		} else {
			/* A plain diff: applied and committed under fixed names. */
			const char *ap[] = { "git", "apply", "--index", b->patches.v[i], NULL };
			const char *base = strrchr(b->patches.v[i], '/') + 1;
			char *msg = xasprintf("%s\n\nApplied by swapbench from %s.", base, base);
			const char *ci[] = { "git", "commit", "-q", "--allow-empty", "-m", msg,
					     NULL };

			rc = run_capture(ap, j->src, j->env.v, 1, &out, &code);
			log_line(j, "\n== %s: git apply %s\n%s", j->phase, b->patches.v[i],
				 out ? out : "");
			if (!rc && code) {
				const char *reset[] = { "git", "reset", "-q", "--hard", NULL };
				char *o2 = NULL;
				int c2;

				if (out)
					rstrip(out);
				rc = sb_err(EIO, "patch %zu/%zu '%s' does not apply on %s%s: %s",
					    i + 1, b->patches.n, base, b->ref,
					    i ? " with the patches before it" : "", out ? out : "");
				if (run_capture(reset, j->src, j->env.v, 1, &o2, &c2) == 0)
					free(o2);
			} else if (!rc) {
				free(out);
				out = NULL;
				rc = run_capture(ci, j->src, j->env.v, 1, &out, &code);
				if (!rc && code)
					rc = sb_err(EIO, "committing '%s' failed: %s", base, out);
			}
			free(msg);
		}
		free(out);
		if (!rc) {
			const char *log[] = { "git", "log", "--reverse", "--format=%H%x09%s",
					      (range = xasprintf("%s..HEAD", before)), NULL };
			char *lines = NULL, *line, *save;

			if (run_capture(log, j->src, j->env.v, 0, &lines, &code) == 0) {
				for (line = strtok_r(lines, "\n", &save); line;
				     line = strtok_r(NULL, "\n", &save)) {
					char *tab = strchr(line, '\t');

					if (tab)
						*tab++ = '\0';
					json_array_append_new(commits, json_pack("{s:s,s:s}", "id",
										 line, "subject",
										 tab ? tab : ""));
				}
			}
			free(lines);
			free(range);
		}
		free(before);
		json_array_append_new(patch_commits, commits);
		if (rc)
			return rc;
	}
	return 0;
}

int prepare_tree(struct job *j, const char *commit)
{
	const struct spec_kbuild *b = j->sk->build;
	char *dotgit = xasprintf("%s/.git", j->src), *am_dir = xasprintf("%s/.git/rebase-apply",
									 j->src);
	int rc = 0;

	if (!is_dir(dotgit)) {
		/* Shares the user's objects; their checkout and refs are never
		 * touched, and commits made here stay here. */
		const char *clone[] = { "git", "clone", "-q", "--shared", "--no-checkout", b->tree,
					j->src, NULL };

		set_phase(j, "clone");
		rm_rf(j->src);
		rc = run_logged(j, clone, NULL, GIT_TIMEOUT_MS / 1000);
	}
	if (!rc) {
		/* The work tree is this job's alone (the entry is locked): an
		 * index.lock left by a build that was killed is stale, and would
		 * fail every later build of this variant. */
		char *lock = xasprintf("%s/.git/index.lock", j->src);

		if (path_exists(lock) && !unlink(lock))
			log_warn("%s: removed a stale '%s' (an earlier build was interrupted)",
				 j->sk->name, lock);
		free(lock);
	}
	if (!rc && is_dir(am_dir)) {
		const char *abort_am[] = { "git", "am", "--abort", NULL };

		run_logged(j, abort_am, j->src, 600);
	}
	if (!rc) {
		const char *co[] = { "git", "checkout", "-q", "-f", "--detach", commit, NULL };
		const char *clean[] = { "git", "clean", "-q", "-f", "-d", "-x", NULL };

		set_phase(j, "checkout");
		rc = run_logged(j, co, j->src, GIT_TIMEOUT_MS / 1000);
		if (!rc)
			rc = run_logged(j, clean, j->src, GIT_TIMEOUT_MS / 1000);
	}
	free(dotgit);
	free(am_dir);
	return rc;
}

static int make_step(struct job *j, const char *target, int timeout_s)
{
	struct strv av;
	int rc;

	strv_init(&av);
	for (size_t i = 0; i < j->make.n; i++)
		strv_add(&av, j->make.v[i]);
	if (target)
		strv_add(&av, target);
	rc = run_logged(j, strv_argv(&av), NULL, timeout_s);
	strv_release(&av);
	return rc;
}

int configure(struct job *j, json_t **final_out, char **config_text)
{
	const struct spec_kbuild *b = j->sk->build;
	char *cfg = xasprintf("%s/.config", j->out), *text = NULL, *report = NULL;
	json_t *req = json_object(), *final;
	int rc = 0, unmet;

	set_phase(j, "config");
	mkdir_p(j->out, 0755);
	if (b->config_base[0] == '/') {
		char *data;
		size_t len;

		rc = read_file(b->config_base, 16 << 20, &data, &len);
		if (!rc) {
			rc = write_file_atomic(cfg, data, len);
			free(data);
		}
	} else {
		rc = make_step(j, b->config_base, 1800);
	}
	if (!rc && b->fragments.n) {
		struct strv av;

		strv_init(&av);
		strv_add(&av, "sh");
		strv_addf(&av, "%s/scripts/kconfig/merge_config.sh", j->src);
		strv_add(&av, "-m");
		strv_add(&av, "-O");
		strv_add(&av, j->out);
		strv_add(&av, cfg);
		for (size_t i = 0; i < b->fragments.n; i++)
			strv_add(&av, b->fragments.v[i]);
		/* It writes temporary files into its working directory. */
		rc = run_logged(j, strv_argv(&av), j->out, 600);
		strv_release(&av);
	}
	if (!rc)
		rc = make_step(j, "olddefconfig", 1800);
	if (!rc)
		rc = read_file(cfg, 16 << 20, &text, NULL);
	if (rc) {
		char *tail = log_tail(j->log, NULL, 6), *why = xstrdup(sb_lasterr());

		rc = sb_err(-rc, "configuring failed (log kept: %s): %s\n%s", j->log, why, tail);
		free(why);
		free(tail);
		free(cfg);
		json_decref(req);
		return rc;
	}
	set_phase(j, "verify config");
	for (size_t i = 0; i < b->fragments.n; i++) {
		char *frag;

		if (read_file(b->fragments.v[i], 16 << 20, &frag, NULL) == 0) {
			kconfig_fragment_parse(frag, req);
			free(frag);
		}
	}
	final = kconfig_parse(text);
	json_decref(j->config_absent);
	j->config_absent = json_array();
	unmet = kconfig_verify(req, final, j->src, &report, j->config_absent);
	{
		size_t i;
		json_t *a;

		json_array_foreach(j->config_absent, i, a)
			log_line(j, "== verify config: %s is optional and this tree has no such "
				 "option: skipped\n", json_string_value(a));
	}
	if (unmet) {
		rc = sb_err(EINVAL, "config: %d option%s the fragments asked for do%s not hold "
			    "after olddefconfig:\n  %s", unmet, unmet > 1 ? "s" : "",
			    unmet > 1 ? "" : "es", report);
		/* One per line, indented like the first. */
		{
			char *msg = xstrdup(sb_lasterr()), *o = calloc(1, strlen(msg) * 2 + 1);

			for (char *s = msg, *d = o; *s; s++) {
				*d++ = *s;
				if (*s == '\n' && s[1] && s[1] != ' ') {
					*d++ = ' ';
					*d++ = ' ';
				}
			}
			sb_err(EINVAL, "%s", o);
			free(msg);
			free(o);
		}
		log_line(j, "\n== verify config: unmet\n%s\n", report);
		json_decref(final);
		free(text);
	} else {
		*final_out = final;
		*config_text = text;
	}
	free(report);
	free(cfg);
	json_decref(req);
	return rc;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char *data;
	size_t len;
	int rc = read_file(from, 1u << 30, &data, &len), fd;

	if (rc)
		return rc;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd)) {
		rc = sb_err(errno ? errno : EIO, "cannot write '%s': %s", to, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(data);
	return rc;
}

/* Make, install modules, and write builds/<key> atomically. */
int build_and_store(struct job *j, const char *key, const char *ikey,
			   const json_t *inputs, json_t *final, json_t *result)
{
	char *dir = xasprintf("%s/builds/%s", j->cache, key);
	char *tmp = xasprintf("%s.tmp.%d", dir, (int)getpid());
	char *relf = xasprintf("%s/include/config/kernel.release", j->out), *rel = NULL;
	const char *key_modules = json_string_value(json_object_get(final, "CONFIG_MODULES"));
	int modular = 0, rc;
	double t = monotonic_s();
	const char *k;
	json_t *v;

	json_object_foreach(final, k, v)
		modular |= !strcmp(json_string_value(v), "m");
	modular &= key_modules && !strcmp(key_modules, "y");
	set_phase(j, "make");
	rc = make_step(j, NULL, MAKE_TIMEOUT_S);
	if (rc) {
		char *tail = log_tail(j->log, "make", 6);

		rc = sb_err(EIO, "make failed after %.0f s (log kept: %s):\n%s",
			    monotonic_s() - t, j->log, tail);
		free(tail);
		goto out;
	}
	if ((rc = read_file(relf, 4096, &rel, NULL)))
		goto out;
	rstrip(rel);
	set_phase(j, "store");
	rm_rf(tmp);
	if ((rc = mkdir_p(tmp, 0755)))
		goto out;
	{
		char *bz = xasprintf("%s/arch/x86/boot/bzImage", j->out);
		char *to = xasprintf("%s/bzImage", tmp), *cfg = xasprintf("%s/.config", j->out);
		char *cto = xasprintf("%s/config", tmp);

		rc = copy_file(bz, to, 0644);
		if (!rc)
			rc = copy_file(cfg, cto, 0644);
		free(bz);
		free(to);
		free(cfg);
		free(cto);
	}
	if (!rc && modular) {
		char *mp = xasprintf("INSTALL_MOD_PATH=%s", tmp);

		set_phase(j, "modules_install");
		strv_add(&j->make, mp);
		strv_add(&j->make, "INSTALL_MOD_STRIP=1");
		rc = make_step(j, "modules_install", 1800);
		free(mp);
		if (!rc) {
			/* Links back into the work tree would dangle after gc. */
			char *l1 = xasprintf("%s/lib/modules/%s/build", tmp, rel);
			char *l2 = xasprintf("%s/lib/modules/%s/source", tmp, rel);

			unlink(l1);
			unlink(l2);
			free(l1);
			free(l2);
		}
	}
	if (!rc) {
		char *cache_id = xasprintf("git-%.16s", key), *now = iso_now(), *text;
		char *kj = xasprintf("%s/kernel.json", tmp);
		char *logto = xasprintf("%s/build.log", tmp);
		json_t *meta;

		json_object_set_new(result, "release", json_string(rel));
		json_object_set_new(result, "modules", json_boolean(modular));
		json_object_set_new(result, "built", json_string(now));
		json_object_set_new(result, "build_seconds", json_real(monotonic_s() - j->t0));
		json_object_set_new(result, "ccache", json_boolean(in_path("ccache")));
		json_object_set_new(result, "config_absent",
				    j->config_absent ? json_deep_copy(j->config_absent) : json_array());
		json_object_set_new(result, "log", json_sprintf("%s/build.log", dir));
		meta = json_pack("{s:i,s:s,s:s,s:s,s:s,s:O,s:O}", "schema_version", 1, "cache_id",
				 cache_id, "key", key, "input_key", ikey, "built_by", j->sk->name,
				 "inputs", inputs, "result", result);
		text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
		log_line(j, "\n== stored as %s (%s)\n", dir, cache_id);
		rc = write_file_atomic(kj, text, strlen(text));
		if (!rc)
			rc = copy_file(j->log, logto, 0644);
		free(text);
		json_decref(meta);
		free(cache_id);
		free(now);
		free(kj);
		free(logto);
	}
	if (!rc && rename(tmp, dir)) {
		/* Someone else stored the same build meanwhile: theirs is as good. */
		if (errno == EEXIST || errno == ENOTEMPTY)
			rm_rf(tmp);
		else
			rc = sb_err(errno, "rename '%s': %s", tmp, strerror(errno));
	}
	if (!rc)
		index_store(j->cache, ikey, key);
out:
	if (rc)
		rm_rf(tmp);
	free(dir);
	free(tmp);
	free(relf);
	free(rel);
	return rc;
}
