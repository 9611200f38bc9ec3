/* A kernel build job: its environment, child processes with their output
 * in the build log, the progress line, the variant lock. */
#define _GNU_SOURCE
#include "harness/kbuild-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strbuf.h"
#include "common/strv.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

extern char **environ;

/* The environment of build steps: the user's, less what would change a
 * kernel build behind the key's back, plus fixed identities. */
void build_env(struct strv *env, const char *cache)
{
	static const char *const drop[] = { "ARCH", "CROSS_COMPILE", "CC", "LD", "LLVM",
					    "KCFLAGS", "KCPPFLAGS", "KAFLAGS", "KRUSTFLAGS",
					    "O", "W", "C", "V", "M", "LOCALVERSION",
					    "INSTALL_MOD_PATH", "INSTALL_MOD_STRIP", "MAKEFLAGS",
					    "MFLAGS", "MAKELEVEL", "MAKEFILES", "GNUMAKEFLAGS",
					    "LC_ALL", "LANG", "CCACHE_BASEDIR", "CCACHE_NOHASHDIR",
					    "CCACHE_DISABLE", NULL };
	static const char *const prefixes[] = { "KBUILD_", "KCONFIG_", "GIT_", NULL };

	for (char **e = environ; *e; e++) {
		size_t n = strcspn(*e, "=");
		int skip = 0;

		for (int i = 0; drop[i]; i++)
			skip |= strlen(drop[i]) == n && !strncmp(*e, drop[i], n);
		for (int i = 0; prefixes[i]; i++)
			skip |= !strncmp(*e, prefixes[i], strlen(prefixes[i]));
		if (!skip)
			strv_add(env, *e);
	}
	strv_add(env, "LC_ALL=C");
	strv_add(env, "GIT_CONFIG_NOSYSTEM=1");
	strv_add(env, "GIT_CONFIG_GLOBAL=/dev/null");
	strv_add(env, "GIT_TERMINAL_PROMPT=0");
	strv_add(env, "GIT_AUTHOR_NAME=" SB_GIT_NAME);
	strv_add(env, "GIT_AUTHOR_EMAIL=" SB_GIT_EMAIL);
	strv_add(env, "GIT_AUTHOR_DATE=" SB_FIXED_DATE);
	strv_add(env, "GIT_COMMITTER_NAME=" SB_GIT_NAME);
	strv_add(env, "GIT_COMMITTER_EMAIL=" SB_GIT_EMAIL);
	strv_add(env, "GIT_COMMITTER_DATE=" SB_FIXED_DATE);
	strv_add(env, "KBUILD_BUILD_TIMESTAMP=" SB_FIXED_DATE);
	strv_add(env, "KBUILD_BUILD_USER=swapbench");
	strv_add(env, "KBUILD_BUILD_HOST=swapbench");
	strv_add(env, "KBUILD_BUILD_VERSION=1");
	/* Paths under the work directory are hashed relative to it, so that
	 * variants in different work trees share ccache entries. */
	strv_addf(env, "CCACHE_BASEDIR=%s/work", cache);
	strv_add(env, "CCACHE_NOHASHDIR=1");
}

/* Run and capture stdout (and stderr with merge); *out is never NULL. */
int run_capture(const char *const *argv, const char *cwd, char *const *envp, int merge,
		       char **out, int *code)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = GIT_TIMEOUT_MS, .capture = 1,
				.merge_stderr = merge, .quiet_stderr = !merge, .cwd = cwd,
				.envp = envp, .capture_max = 16 << 20 };
	struct spawn_result r;
	int rc = spawn_run(&o, &r);

	if (rc)
		return rc;
	*code = r.timed_out ? -1 : r.exit_code;
	*out = r.out ? r.out : xstrdup("");
	r.out = NULL;
	return 0;
}

/* One line of output from a command that must succeed ("git rev-parse"). */
int run_line(const char *const *argv, const char *cwd, char *const *envp, char **line)
{
	char *out;
	int code, rc = run_capture(argv, cwd, envp, 0, &out, &code);

	if (rc)
		return rc;
	if (code || !out[0]) {
		free(out);
		return -EIO;
	}
	out[strcspn(out, "\n")] = '\0';
	*line = out;
	return 0;
}

void progress(struct job *j, int final)
{
	char el[32];

	if (j->o->quiet)
		return;
	fmt_duration(monotonic_s() - j->t0, 0, el, sizeof(el));
	if (j->o->tty)
		fprintf(stderr, "\r\033[K%s%s%s: %s (%s)%s", j->o->label ? j->o->label : "",
			j->o->label ? " " : "", j->sk->name, j->phase, el, final ? "\n" : "");
	else if (!final)
		fprintf(stderr, "%s%s%s: %s (%s)\n", j->o->label ? j->o->label : "",
			j->o->label ? " " : "", j->sk->name, j->phase, el);
	fflush(stderr);
}

void set_phase(struct job *j, const char *phase)
{
	free(j->phase);
	j->phase = xstrdup(phase);
	progress(j, 0);
}

void log_line(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_line(struct job *j, const char *fmt, ...)
{
	va_list ap;

	if (j->log_fd < 0)
		return;
	va_start(ap, fmt);
	vdprintf(j->log_fd, fmt, ap);
	va_end(ap);
}

static void tick(void *job)
{
	progress(job, 0);
}

/* Run a step with stdout and stderr appended to the build log; the progress
 * line is redrawn while it runs. Returns 0, or -EIO with sb_err naming the
 * step, or another negative errno when it could not start. */
int run_logged(struct job *j, const char *const *argv, const char *cwd, int timeout_s)
{
	struct spawn_opts o = { .argv = argv, .cwd = cwd, .envp = j->env.v,
				.timeout_ms = timeout_s * 1000, .out_fd = j->log_fd,
				.tick = j->o->tty ? tick : NULL, .tick_arg = j };
	struct spawn_result r;
	char *cmd = spawn_argv_str(argv);
	int rc;

	log_line(j, "\n== %s: %s\n", j->phase, cmd);
	rc = spawn_run(&o, &r);
	if (!rc && r.timed_out) {
		log_line(j, "\n== %s timed out after %d s\n", j->phase, timeout_s);
		rc = sb_err(ETIMEDOUT, "%s: '%s' timed out after %d s", j->phase, cmd, timeout_s);
	} else if (!rc && r.exit_code) {
		log_line(j, "\n== %s failed: exit %d\n", j->phase, r.exit_code);
		rc = sb_err(EIO, "%s: '%s' failed (exit %d)", j->phase, cmd, r.exit_code);
	}
	if (!rc)
		spawn_result_release(&r);
	free(cmd);
	return rc;
}

/* Append a line of at most 140 characters to out. */
static void add_line(struct strbuf *out, const char *line, size_t len)
{
	strbuf_addf(out, "  %.*s%s\n", (int)(len > 140 ? 137 : len), line,
		    len > 140 ? "..." : "");
}

/* The build log's interesting end: the compiler's errors in the last step
 * (from the last "== <since>" header on), then the last lines. Kept short:
 * it becomes part of an error message. */
char *log_tail(const char *path, const char *since, int nlines)
{
	char *text = NULL, *p, *start, *hdr, *res;
	struct strbuf out;
	size_t len = 0;
	int n = 0, nerr = 0;

	if (read_file(path, 64 << 20, &text, &len))
		return xstrdup("");
	strbuf_init(&out);
	start = text;
	hdr = since ? xasprintf("\n== %s: ", since) : NULL;
	for (p = text; hdr && (p = strstr(p, hdr)); p++)
		start = p;
	free(hdr);
	for (p = start; nerr < 3 && (p = strstr(p, "error:")); p++) {
		char *bol = p, *eol = strchr(p, '\n');

		while (bol > text && bol[-1] != '\n')
			bol--;
		add_line(&out, bol, (eol ? eol : p + strlen(p)) - bol);
		nerr++;
		if (!eol)
			break;
		p = eol;
	}
	p = text + len;
	while (p > start && n <= nlines)
		if (*--p == '\n')
			n++;
	if (*p == '\n')
		p++;
	if (nerr)
		strbuf_addstr(&out, "  --\n");
	for (char *line, *save, *s2 = p; (line = strtok_r(s2, "\n", &save)); s2 = NULL)
		add_line(&out, line, strlen(line));
	free(text);
	res = strbuf_detach(&out);
	strbuf_release(&out);
	rstrip(res);
	return res;
}

int lock_variant(struct job *j)
{
	char *lock = xasprintf("%s.lock", j->work);

	j->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(lock);
	if (j->lock_fd < 0)
		return sb_err(errno, "cannot create the lock of '%s': %s", j->work,
			      strerror(errno));
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB)) {
		if (!j->o->quiet)
			fprintf(stderr, "%s: waiting for another build of the same variant\n",
				j->sk->name);
		if (flock(j->lock_fd, LOCK_EX))
			return sb_err(errno, "lock '%s': %s", j->work, strerror(errno));
	}
	return 0;
}

void job_release(struct job *j)
{
	if (j->log_fd >= 0)
		close(j->log_fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->cache);
	free(j->work);
	free(j->src);
	free(j->out);
	free(j->log);
	free(j->phase);
	strv_release(&j->env);
	strv_release(&j->make);
}
