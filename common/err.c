#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char errbuf[2048];

int sb_err(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -(errnum > 0 ? errnum : EINVAL);
}

int sb_err_prefix(int errnum, const char *fmt, ...)
{
	char prefix[1024], old[sizeof(errbuf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof(old));
	snprintf(errbuf, sizeof(errbuf), "%.1000s: %.1000s", prefix, old);
	return -(errnum > 0 ? errnum : EINVAL);
}

const char *sb_lasterr(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

void sb_clearerr(void)
{
	errbuf[0] = '\0';
}
