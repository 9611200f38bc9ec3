#define _GNU_SOURCE
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level cur_level = LOG_WARN;
static const char *cur_prefix = "swapbench";

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_set_prefix(const char *prefix)
{
	cur_prefix = prefix;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;
	char *msg = NULL, *safe;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	/* Messages quote inputs (names, guest errors): no escape sequence in
	 * them may reach the terminal. */
	safe = str_escape(msg ? msg : fmt, 1);
	fprintf(stderr, "%s: %s: %s\n", cur_prefix, names[level], safe ? safe : "?");
	free(safe);
	free(msg);
}

char *str_escape(const char *s, int keep_newlines)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = malloc(strlen((const char *)p) * 4 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		int seq = *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3
			: *p >= 0xf0 && *p <= 0xf4 ? 4 : 1, ok = 1;

		for (int i = 1; i < seq && ok; i++)
			ok = (p[i] & 0xc0) == 0x80; /* stops at the NUL */
		/* Valid UTF-8 is kept, but for the C1 controls (C2 80..9F). */
		if (seq > 1 && ok && !(*p == 0xc2 && p[1] <= 0x9f)) {
			memcpy(o, p, seq);
			o += seq;
			p += seq;
			continue;
		}
		if ((*p == '\n' || *p == '\t') && keep_newlines) {
			*o++ = (char)*p;
		} else if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*p < 0x20 || *p >= 0x7f) {
			o += sprintf(o, "\\x%02x", *p);
		} else {
			*o++ = (char)*p;
		}
		p++;
	}
	*o = '\0';
	return out;
}

void fputs_escaped(const char *s, FILE *f)
{
	char *e = str_escape(s, 0);

	fputs(e ? e : "?", f);
	free(e);
}
