#define _GNU_SOURCE
#include "harness/kernel-build.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strv.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

/* ---- SHA-256 (FIPS 180-4) ---- */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha_k[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->n = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->len += len;
	while (len) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n == 64) {
			sha256_block(s, s->buf);
			s->n = 0;
		}
	}
}

static void sha256_final_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, len[8];

	sha256_update(s, &pad, 1);
	pad = 0;
	while (s->n != 56)
		sha256_update(s, &pad, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final_hex(&s, out);
}

static int file_hash(const char *path, char out[65])
{
	char *data;
	size_t len;
	int rc = read_file(path, 1u << 30, &data, &len);

	if (rc)
		return rc;
	sha256_hex(data, len, out);
	free(data);
	return 0;
}

/* ---- config fragments and verification ---- */

void kconfig_fragment_parse(const char *text, json_t *req)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len), *l = line;

		rstrip(l);
		while (*l == ' ' || *l == '\t')
			l++;
		if (!strncmp(l, "CONFIG_", 7) && strchr(l, '=')) {
			char *eq = strchr(l, '=');

			*eq = '\0';
			json_object_set_new(req, l, json_string(eq + 1));
		} else if (!strncmp(l, "# CONFIG_", 9)) {
			size_t n = strlen(l);

			if (n > 20 && !strcmp(l + n - 11, " is not set")) {
				l[n - 11] = '\0';
				json_object_set_new(req, l + 2, json_string("n"));
			}
		}
		free(line);
		p = nl ? nl + 1 : NULL;
	}
}

struct kscan {
	const char *sym;
	struct strv defs; /* one condition string per definition */
};

static int kw(const char *l, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(l, word, n) && (l[n] == '\0' || l[n] == ' ' || l[n] == '\t');
}

static int indent_of(const char *s)
{
	int n = 0;

	for (; *s == ' ' || *s == '\t'; s++)
		n = *s == '\t' ? (n / 8 + 1) * 8 : n + 1;
	return n;
}

static void kscan_file(const char *path, struct kscan *ks)
{
	char *text, *save, *line;
	struct strv ifs, deps, choice;
	int in_block = 0, help_indent = -1, choice_header = 0;

	if (read_file(path, 4 << 20, &text, NULL))
		return;
	/* Join continued lines ("depends on A || \\\n B"). */
	for (char *c = text; (c = strstr(c, "\\\n"));)
		c[0] = c[1] = ' ';
	strv_init(&ifs);
	strv_init(&deps);
	strv_init(&choice);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = line, *hash;
		int ind = indent_of(line);

		while (*l == ' ' || *l == '\t')
			l++;
		if (help_indent >= 0) {
			if (!*l || ind > help_indent)
				continue;
			help_indent = -1;
		}
		if (!strcmp(l, "help") || !strcmp(l, "---help---")) {
			help_indent = ind;
			continue;
		}
		if ((hash = strchr(l, '#')))
			*hash = '\0';
		rstrip(l);
		if (in_block && (kw(l, "config") || kw(l, "menuconfig") || kw(l, "choice") ||
				 kw(l, "endchoice") || kw(l, "comment") || kw(l, "menu") ||
				 kw(l, "endmenu") || kw(l, "if") || kw(l, "endif") ||
				 kw(l, "source"))) {
			size_t len = 1;
			char *cond;

			for (size_t i = 0; i < deps.n; i++)
				len += strlen(deps.v[i]) + 8;
			cond = calloc(1, len);
			for (size_t i = 0; i < deps.n; i++) {
				if (i)
					strcat(cond, " && ");
				strcat(cond, deps.v[i]);
			}
			strv_add(&ks->defs, cond);
			free(cond);
			strv_release(&deps);
			in_block = 0;
		}
		/* A choice's own "depends on" holds for every option in it. */
		if (kw(l, "choice")) {
			strv_release(&choice);
			choice_header = 1;
			continue;
		}
		if (kw(l, "endchoice")) {
			strv_release(&choice);
			choice_header = 0;
			continue;
		}
		if (choice_header && !strncmp(l, "depends on", 10)) {
			char *e = l + 10;

			while (*e == ' ' || *e == '\t')
				e++;
			strv_add(&choice, e);
			continue;
		}
		if (kw(l, "config") || kw(l, "menuconfig"))
			choice_header = 0;
		if (kw(l, "if")) {
			strv_add(&ifs, l + 3);
		} else if (kw(l, "endif")) {
			if (ifs.n) {
				free(ifs.v[--ifs.n]);
				ifs.v[ifs.n] = NULL;
			}
		} else if ((kw(l, "config") || kw(l, "menuconfig"))) {
			char *sym = l + (l[0] == 'c' ? 6 : 10);

			while (*sym == ' ' || *sym == '\t')
				sym++;
			if (!strcmp(sym, ks->sym)) {
				in_block = 1;
				for (size_t i = 0; i < ifs.n; i++)
					strv_add(&deps, ifs.v[i]);
				for (size_t i = 0; i < choice.n; i++)
					strv_add(&deps, choice.v[i]);
			}
		} else if (in_block && !strncmp(l, "depends on", 10)) {
			char *e = l + 10;

			while (*e == ' ' || *e == '\t')
				e++;
			strv_add(&deps, e);
		}
	}
	if (in_block) {
		size_t len = 1;
		char *cond;

		for (size_t i = 0; i < deps.n; i++)
			len += strlen(deps.v[i]) + 8;
		cond = calloc(1, len);
		for (size_t i = 0; i < deps.n; i++) {
			if (i)
				strcat(cond, " && ");
			strcat(cond, deps.v[i]);
		}
		strv_add(&ks->defs, cond);
		free(cond);
	}
	strv_release(&ifs);
	strv_release(&deps);
	strv_release(&choice);
	free(text);
}

static void kscan_dir(const char *dir, int depth, int in_arch, struct kscan *ks)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d || depth > 12) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.' || (depth == 0 && (!strcmp(e->d_name, "Documentation") ||
							   !strcmp(e->d_name, "tools") ||
							   !strcmp(e->d_name, "samples"))))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;

			if (!lstat(p, &st) && S_ISDIR(st.st_mode))
				e->d_type = DT_DIR;
		}
		if (e->d_type == DT_DIR) {
			/* Only x86's arch tree: other arches' symbols would mislead. */
			if (!(in_arch && strcmp(e->d_name, "x86")))
				kscan_dir(p, depth + 1, depth == 0 && !strcmp(e->d_name, "arch"),
					  ks);
		} else if (!strncmp(e->d_name, "Kconfig", 7)) {
			kscan_file(p, ks);
		}
		free(p);
	}
	closedir(d);
}

char *kconfig_depends(const char *srctree, const char *symbol)
{
	struct kscan ks = { .sym = symbol };
	char *out = NULL;
	size_t len = 1;

	strv_init(&ks.defs);
	kscan_dir(srctree, 0, 0, &ks);
	if (!ks.defs.n) {
		strv_release(&ks.defs);
		return NULL;
	}
	for (size_t i = 0; i < ks.defs.n; i++)
		len += strlen(ks.defs.v[i]) + 2;
	out = calloc(1, len);
	for (size_t i = 0; i < ks.defs.n; i++) {
		if (!ks.defs.v[i][0])
			continue;
		if (out[0])
			strcat(out, "; ");
		strcat(out, ks.defs.v[i]);
	}
	strv_release(&ks.defs);
	return out;
}

/* Symbols of a dependency expression that the final config lacks (negated
 * ones excluded: "!PREEMPT_RT" is met by their absence). */
static char *unmet_symbols(const char *deps, const json_t *final)
{
	struct strv seen;
	char *out = xstrdup("");

	strv_init(&seen);
	for (const char *p = deps; *p;) {
		if (isalnum((unsigned char)*p) || *p == '_') {
			const char *st = p;
			int neg = 0, dup = 0;
			char *sym, *key;
			const char *v;

			for (const char *b = st - 1; b >= deps && (*b == ' ' || *b == '!'); b--)
				neg |= *b == '!';
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			sym = strndup(st, p - st);
			if (neg || !strcmp(sym, "y") || !strcmp(sym, "n") || !strcmp(sym, "m") ||
			    isdigit((unsigned char)sym[0])) {
				free(sym);
				continue;
			}
			for (size_t i = 0; i < seen.n; i++)
				dup |= !strcmp(seen.v[i], sym);
			key = xasprintf("CONFIG_%s", sym);
			v = json_string_value(json_object_get(final, key));
			if (!dup && (!v || !strcmp(v, "n"))) {
				char *n = xasprintf("%s%s%s", out, out[0] ? ", " : "", sym);

				free(out);
				out = n;
			}
			strv_add(&seen, sym);
			free(key);
			free(sym);
		} else {
			p++;
		}
	}
	strv_release(&seen);
	return out;
}

int kconfig_verify(const json_t *req, const json_t *final, const char *srctree, char **report)
{
	const char *key;
	json_t *v;
	int n = 0;

	json_object_foreach((json_t *)req, key, v) {
		const char *want = json_string_value(v);
		const char *got = json_string_value(json_object_get(final, key));
		int ok;
		char *line, *deps = NULL;

		if (!strcmp(want, "n"))
			ok = !got || !strcmp(got, "n");
		else if (!strcmp(want, "m"))
			ok = got && (!strcmp(got, "m") || !strcmp(got, "y"));
		else
			ok = got && !strcmp(got, want);
		if (ok)
			continue;
		n++;
		if (!report)
			continue;
		if (!strcmp(want, "n"))
			line = xasprintf("requested %s not set, got %s=%s", key, key, got);
		else
			line = xasprintf("requested %s=%s, got %s", key, want,
					 got ? got : "not set");
		if (srctree && strcmp(want, "n"))
			deps = kconfig_depends(srctree, key + 7);
		if (srctree && strcmp(want, "n") && !deps) {
			char *l2 = xasprintf("%s (no such option in this tree)", line);

			free(line);
			line = l2;
		} else if (deps && deps[0]) {
			char *unmet = unmet_symbols(deps, final);
			char *l2 = xasprintf("%s (depends on: %s%s%s)", line, deps,
					     unmet[0] ? "; unmet: " : "", unmet);

			free(line);
			free(unmet);
			line = l2;
		}
		free(deps);
		{
			char *r = xasprintf("%s%s%s", *report ? *report : "", *report ? "\n" : "",
					    line);

			free(*report);
			*report = r;
		}
		free(line);
	}
	return n;
}

/* ---- processes ---- */

/* The environment of build steps: the user's, less what would change a
 * kernel build behind the key's back, plus fixed identities. */
static void build_env(struct strv *env, const char *cache)
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
static int run_capture(const char *const *argv, const char *cwd, char *const *envp, int merge,
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
static int run_line(const char *const *argv, const char *cwd, char *const *envp, char **line)
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

static void fmt_elapsed(double s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else
		snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
}

static void progress(struct job *j, int final)
{
	char el[32];

	if (j->o->quiet)
		return;
	fmt_elapsed(monotonic_s() - j->t0, el, sizeof(el));
	if (j->o->tty)
		fprintf(stderr, "\r\033[K%s%s%s: %s (%s)%s", j->o->label ? j->o->label : "",
			j->o->label ? " " : "", j->sk->name, j->phase, el, final ? "\n" : "");
	else if (!final)
		fprintf(stderr, "%s%s%s: %s (%s)\n", j->o->label ? j->o->label : "",
			j->o->label ? " " : "", j->sk->name, j->phase, el);
	fflush(stderr);
}

static void set_phase(struct job *j, const char *phase)
{
	free(j->phase);
	j->phase = xstrdup(phase);
	progress(j, 0);
}

static void log_line(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(struct job *j, const char *fmt, ...)
{
	va_list ap;

	if (j->log_fd < 0)
		return;
	va_start(ap, fmt);
	vdprintf(j->log_fd, fmt, ap);
	va_end(ap);
}

/* Run a step with stdout and stderr appended to the build log; the progress
 * line is redrawn while it runs. Returns 0, or -EIO with sb_err naming the
 * step, or another negative errno when it could not start. */
static int run_logged(struct job *j, const char *const *argv, const char *cwd, int timeout_s)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	double start = monotonic_s(), last = 0;
	int rc, status = 0;
	pid_t pid;
	char *cmd = spawn_argv_str(argv);

	log_line(j, "\n== %s: %s\n", j->phase, cmd);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigdefault(&attr, &def);
	sigemptyset(&def);
	posix_spawnattr_setsigmask(&attr, &def);
	/* Its own process group, so a timeout kills all of make's children. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, j->log_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, j->log_fd, 2);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, j->env.v);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		rc = sb_err(rc, "cannot run '%s': %s", argv[0], strerror(rc));
		free(cmd);
		return rc;
	}
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		pid_t w = waitpid(pid, &status, WNOHANG);
		double now = monotonic_s();

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (timeout_s && now - start > timeout_s) {
			spawn_kill(pid);
			waitpid(pid, &status, 0);
			log_line(j, "\n== %s timed out after %d s\n", j->phase, timeout_s);
			rc = sb_err(ETIMEDOUT, "%s: '%s' timed out after %d s", j->phase, cmd,
				    timeout_s);
			free(cmd);
			return rc;
		}
		if (j->o->tty && now - last >= 1) {
			progress(j, 0);
			last = now;
		}
		nanosleep(&ts, NULL);
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

		log_line(j, "\n== %s failed: exit %d\n", j->phase, code);
		rc = sb_err(EIO, "%s: '%s' failed (exit %d)", j->phase, cmd, code);
	}
	free(cmd);
	return rc;
}

/* Append a line of at most 140 characters to *out. */
static void add_line(char **out, const char *line, size_t len)
{
	char *n = xasprintf("%s  %.*s%s\n", *out, (int)(len > 140 ? 137 : len), line,
			    len > 140 ? "..." : "");

	free(*out);
	*out = n;
}

/* The build log's interesting end: the compiler's errors in the last step
 * (from the last "== <since>" header on), then the last lines. Kept short:
 * it becomes part of an error message. */
static char *log_tail(const char *path, const char *since, int nlines)
{
	char *text = NULL, *out = xstrdup(""), *p, *start, *hdr;
	size_t len = 0;
	int n = 0, nerr = 0;

	if (read_file(path, 64 << 20, &text, &len))
		return out;
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
	if (nerr) {
		char *o2 = xasprintf("%s  --\n", out);

		free(out);
		out = o2;
	}
	for (char *line, *save, *s2 = p; (line = strtok_r(s2, "\n", &save)); s2 = NULL)
		add_line(&out, line, strlen(line));
	free(text);
	rstrip(out);
	return out;
}

/* ---- inputs and keys ---- */

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

static const char *make_var(const struct spec_kbuild *b, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < b->make.n; i++)
		if (!strncmp(b->make.v[i], name, n) && b->make.v[i][n] == '=')
			return b->make.v[i] + n + 1;
	return NULL;
}

/* The compiler make will use, as the kernel's Makefile picks it. */
static char *compiler_of(const struct spec_kbuild *b)
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

static int in_path(const char *prog)
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

static char *keyed_hash(json_t *keyed)
{
	char *text = json_dumps(keyed, JSON_COMPACT | JSON_SORT_KEYS), hex[65];

	sha256_hex(text, strlen(text), hex);
	free(text);
	return xstrdup(hex);
}

/* What the user gave, resolved: recorded in kernel.json and run.json, and
 * hashed (contents, not paths) into the input key. */
static int compute_inputs(const struct spec_kernel *sk, char *const *envp, json_t **inputs_out,
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
		if ((rc = file_hash(b->patches.v[i], hex)))
			break;
		json_array_append_new(patches, json_pack("{s:s,s:s}", "file", b->patches.v[i],
							 "sha256", hex));
		json_array_append_new(kpatches, json_string(hex));
	}
	for (size_t i = 0; !rc && i < b->fragments.n; i++) {
		if ((rc = file_hash(b->fragments.v[i], hex)))
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
		if (!(rc = file_hash(b->config_base, hex))) {
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

static char *builds_dir(const char *cache)
{
	return xasprintf("%s/builds", cache);
}

/* ---- cache ---- */

/* Fill k from builds/<key>; the identity joins this spec's inputs (paths
 * as this spec names them) with what the build produced. */
static int load_build(const char *cache, const char *key, const json_t *inputs,
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

static char *index_lookup(const char *cache, const char *ikey)
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

static void index_store(const char *cache, const char *ikey, const char *key)
{
	char *dir = xasprintf("%s/builds/index", cache), *p = index_path(cache, ikey);

	mkdir_p(dir, 0755);
	write_file_atomic(p, key, strlen(key));
	free(dir);
	free(p);
}

static char *variant_dir(const char *cache, const struct spec_kernel *sk)
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

/* ---- the build ---- */

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
	char *conf = NULL, *files = xstrdup(""), *at = NULL, *p;
	const char *shown = strrchr(patch, '/') ? strrchr(patch, '/') + 1 : patch;
	int code = 0, rc;

	if (run_capture(diff, j->src, j->env.v, 0, &conf, &code) == 0 && !code) {
		char *line, *save;

		for (line = strtok_r(conf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *n = xasprintf("%s%s%s", files, files[0] ? ", " : "", line);

			free(files);
			files = n;
		}
	}
	/* Without a 3-way merge (blobs unknown), git names them itself. */
	for (p = files[0] ? NULL : (char *)am_out; p && (p = strstr(p, "error: patch failed: "));
	     p++) {
		char *name = strndup(p + 21, strcspn(p + 21, "\n")), *c = strrchr(name, ':');

		if (c)
			*c = '\0';
		if (!strstr(files, name)) {
			char *n = xasprintf("%s%s%s", files, files[0] ? ", " : "", name);

			free(files);
			files = n;
		}
		free(name);
	}
	/* "Patch failed at 0002 subject": which mail of the file, for a series. */
	if ((p = strstr(am_out, "Patch failed at ")))
		at = strndup(p + 16, strcspn(p + 16, "\n"));
	rc = sb_err(EIO, "patch %zu/%zu '%s'%s%s%s does not apply on %s%s: %s%s", idx + 1,
		    j->sk->build->patches.n, shown, at ? " (mail " : "", at ? at : "",
		    at ? ")" : "", j->sk->build->ref, idx ? " with the patches before it" : "",
		    files[0] ? "conflicts in " : "", files[0] ? files : "see the log");
	{
		const char *abort_am[] = { "git", "am", "--abort", NULL };
		char *o2;
		int c2;

		if (run_capture(abort_am, j->src, j->env.v, 1, &o2, &c2) == 0)
			free(o2);
	}
	free(conf);
	free(files);
	free(at);
	return rc;
}

static int apply_patches(struct job *j, json_t *patch_commits)
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

static int prepare_tree(struct job *j, const char *commit)
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

static int configure(struct job *j, json_t **final_out, char **config_text)
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
	unmet = kconfig_verify(req, final, j->src, &report);
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

static char *iso_now(void)
{
	char buf[64];
	time_t t = time(NULL);

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return xstrdup(buf);
}

/* Make, install modules, and write builds/<key> atomically. */
static int build_and_store(struct job *j, const char *key, const char *ikey,
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

static int lock_variant(struct job *j)
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

static void job_release(struct job *j)
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
	j->log = xasprintf("%s/build.log", j->work);
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

/* ---- roots, list, gc ---- */

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
