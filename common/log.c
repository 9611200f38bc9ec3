#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

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

	if (level > cur_level)
		return;
	fprintf(stderr, "%s: %s: ", cur_prefix, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
