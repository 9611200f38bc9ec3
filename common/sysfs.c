#define _GNU_SOURCE
#include "common/sysfs.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(val);
	ssize_t w;

	if (fd < 0)
		return sb_err(errno, "cannot open '%s': %s", path, strerror(errno));
	w = write(fd, val, len);
	if (w < 0 || (size_t)w != len) {
		int e = w < 0 ? errno : EIO;

		close(fd);
		return sb_err(e, "cannot write '%s' to '%s': %s", val, path, strerror(e));
	}
	close(fd);
	return 0;
}

int sysfs_writef(const char *path, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	rc = sysfs_write(path, s);
	free(s);
	return rc;
}

int sysfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return sb_err(errno, "cannot open '%s': %s", path, strerror(errno));
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return sb_err(e, "cannot read '%s': %s", path, strerror(e));
	}
	close(fd);
	buf[n] = '\0';
	rstrip(buf);
	return 0;
}

int sysfs_read_ull(const char *path, unsigned long long *v)
{
	char buf[64], *end;
	int rc = sysfs_read(path, buf, sizeof(buf));

	if (rc)
		return rc;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return sb_err(EINVAL, "'%s': not a number: '%s'", path, buf);
	return 0;
}
