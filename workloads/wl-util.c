#define _GNU_SOURCE
#include "workloads/wl-util.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"
#include "common/strv.h"
#include "workloads/workload.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int wl_find_tool(const char *who, const char *name, const char *package, char *out,
		 size_t outlen)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (!path || !*path)
		path = DEFAULT_PATH;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;
		char *p = xasprintf("%s/%s", dir, name);

		if (!stat(p, &st) && S_ISREG(st.st_mode) && !access(p, X_OK)) {
			snprintf(out, outlen, "%s", p);
			free(p);
			free(copy);
			return 0;
		}
		free(p);
	}
	free(copy);
	/* The guest runs the host's root file system: the tool must be
	 * installed on the host. */
	return sb_err(ENOENT, "%s: '%s' is not installed (not found in PATH %s); install the "
		      "'%s' package on the host (scripts/setup.sh does)", who, name, path, package);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
		   (s[0] & 0xf8) == 0xf0 ? 4 : 0;

	if (s[0] >= 0x80 && s[0] < 0xc2)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Tools print bytes, JSON wants UTF-8 (jansson refuses anything else, and
 * a message it refuses is lost): replace what is not valid by '?'. A tail
 * cut mid-character is the common case. */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (n) {
			p += n;
		} else {
			*p++ = '?';
		}
	}
}

char *wl_tail(const char *text, unsigned int lines, size_t bytes)
{
	size_t len = text ? strlen(text) : 0, start;
	unsigned int seen = 0;

	/* Ignore trailing newlines, so the last line counts as one. */
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	start = len;
	while (start > 0 && len - start < bytes) {
		if (text[start - 1] == '\n' && ++seen == lines)
			break;
		start--;
	}
	{
		char *out = strndup(text ? text + start : "", len - start);

		if (!out)
			abort();
		utf8_sanitize(out);
		return out;
	}
}

char *wl_file_tail(const char *path, unsigned int lines, size_t bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf, *tail;
	off_t size;
	ssize_t n;

	if (fd < 0)
		return xstrdup("");
	size = lseek(fd, 0, SEEK_END);
	/* Read a little more than wanted: the cut may land mid-line. */
	if (size < 0 || lseek(fd, size > (off_t)(2 * bytes) ? size - (off_t)(2 * bytes) : 0,
			      SEEK_SET) < 0) {
		close(fd);
		return xstrdup("");
	}
	buf = calloc(1, 2 * bytes + 1);
	if (!buf) {
		close(fd);
		return xstrdup("");
	}
	n = read(fd, buf, 2 * bytes);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	tail = wl_tail(buf, lines, bytes);
	free(buf);
	return tail;
}

void wl_describe_end(int exit_code, int sig, int timed_out, double elapsed_s, char *buf,
		     size_t len)
{
	if (timed_out)
		snprintf(buf, len, "timed out after %.0f s", elapsed_s);
	else if (sig)
		snprintf(buf, len, "killed by signal %d (%s)%s", sig, strsignal(sig),
			 sig == SIGKILL ? ", an OOM kill? check the memcg limit and swap" : "");
	else
		snprintf(buf, len, "exit %d", exit_code);
}

const char *wl_guest_path(const char *host_path, char *buf, size_t len)
{
#ifdef SWAPBENCH_GUEST
	if (!strncmp(host_path, "/tmp/", 5) || !strcmp(host_path, "/tmp")) {
		snprintf(buf, len, "/run/swapbench-host-tmp%s", host_path + 4);
		return buf;
	}
#endif
	snprintf(buf, len, "%s", host_path);
	return buf;
}

char *wl_output_tail(const char *err_path, const char *out, unsigned int lines, size_t bytes)
{
	char *tail = wl_file_tail(err_path, lines, bytes);

	if (!*tail) {
		free(tail);
		tail = wl_tail(out, lines, bytes);
	}
	return tail;
}

int wl_tool_failed(const struct spawn_result *res, const char *what, const char *tail)
{
	char how[160];

	if (!res->timed_out && !res->signal && !res->exit_code)
		return 0;
	wl_describe_end(res->exit_code, res->signal, res->timed_out, res->elapsed_s, how,
			sizeof(how));
	return sb_err(res->timed_out ? ETIMEDOUT : EIO, "%s failed (%s): %s", what, how,
		      *tail ? tail : "(no output)");
}

int wl_run_tool(struct wl_ctx *ctx, struct spawn_opts *o, struct strv *argv,
		struct spawn_result *res)
{
	int ret;

	o->argv = strv_argv(argv);
	if (ctx->info) {
		char *cmd = spawn_argv_str(o->argv);

		json_object_set_new(ctx->info, "command", json_string(cmd));
		free(cmd);
	}
	ret = spawn_run(o, res);
	strv_release(argv);
	return ret;
}
