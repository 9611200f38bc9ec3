#define _GNU_SOURCE
#include "workloads/wl-util.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int wl_bad_param(const char *where, const char *key, const json_t *v, const char *what)
{
	char *got = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	int ret;

	if (got && strlen(got) > 60)
		strcpy(got + 57, "...");
	ret = sb_err(EINVAL, "%s.%s: %s (got %s)", where, key, what, got ? got : "null");
	free(got);
	return ret;
}

int wl_check_object(const json_t *params, const char *where)
{
	char *got;
	int ret;

	if (!params || json_is_object(params))
		return 0;
	got = json_dumps(params, JSON_ENCODE_ANY | JSON_COMPACT);
	ret = sb_err(EINVAL, "%s: must be a JSON object (got %s)", where, got ? got : "?");
	free(got);
	return ret;
}

int wl_check_keys(const json_t *params, const char *where, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)params, key, v) {
		char what[512];
		size_t off, i;

		for (i = 0; known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (known[i])
			continue;
		off = (size_t)snprintf(what, sizeof(what), "unknown parameter (known:");
		for (i = 0; known[i] && off < sizeof(what); i++)
			off += (size_t)snprintf(what + off, sizeof(what) - off, "%s %s",
						i ? "," : "", known[i]);
		if (off < sizeof(what))
			snprintf(what + off, sizeof(what) - off, ")");
		return wl_bad_param(where, key, v, what);
	}
	return 0;
}

int wl_get_int(const json_t *params, const char *where, const char *key, long long lo,
	       long long hi, long long *out)
{
	json_t *v = json_object_get(params, key);
	char what[96];

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(what, sizeof(what), "must be an integer from %lld to %lld", lo, hi);
		return wl_bad_param(where, key, v, what);
	}
	*out = json_integer_value(v);
	return 0;
}

int wl_get_size(const json_t *params, const char *where, const char *key,
		unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	json_t *v = json_object_get(params, key);
	unsigned long long size = 0;
	char what[160], los[32], his[32];
	bool ok = false;

	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		size = (unsigned long long)json_integer_value(v);
		ok = true;
	} else if (json_is_string(v)) {
		ok = !parse_size(json_string_value(v), &size);
	}
	if (!ok || size < lo || size > hi) {
		format_size(lo, los, sizeof(los));
		format_size(hi, his, sizeof(his));
		snprintf(what, sizeof(what), "must be a size like \"64M\" or a number of bytes, "
			 "from %s to %s", los, his);
		return wl_bad_param(where, key, v, what);
	}
	*out = size;
	return 0;
}

int wl_get_bool(const json_t *params, const char *where, const char *key, bool *out)
{
	json_t *v = json_object_get(params, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return wl_bad_param(where, key, v, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

int wl_get_enum(const json_t *params, const char *where, const char *key,
		const char *const *names, unsigned int *out)
{
	json_t *v = json_object_get(params, key);
	char what[256];
	size_t off;

	if (!v)
		return 0;
	if (json_is_string(v)) {
		for (unsigned int i = 0; names[i]; i++) {
			if (!strcmp(json_string_value(v), names[i])) {
				*out = i;
				return 0;
			}
		}
	}
	off = (size_t)snprintf(what, sizeof(what), "must be");
	for (unsigned int i = 0; names[i] && off < sizeof(what); i++)
		off += (size_t)snprintf(what + off, sizeof(what) - off, "%s\"%s\"",
					!i ? " " : names[i + 1] ? ", " : " or ", names[i]);
	return wl_bad_param(where, key, v, what);
}

int wl_get_string(const json_t *params, const char *where, const char *key, size_t maxlen,
		  const char **out)
{
	json_t *v = json_object_get(params, key);
	char what[96];

	if (!v)
		return 0;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(what, sizeof(what), "must be a non-empty string of at most %zu bytes",
			 maxlen);
		return wl_bad_param(where, key, v, what);
	}
	*out = json_string_value(v);
	return 0;
}

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
