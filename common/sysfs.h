/* Small helpers for /proc and /sys files (used in the guest). */
#ifndef SB_SYSFS_H
#define SB_SYSFS_H

#include <stddef.h>

/* Write a string (no newline added). 0 or -errno with sb_err() naming the file. */
int sysfs_write(const char *path, const char *val);
int sysfs_writef(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read a small file into buf, trailing whitespace trimmed. */
int sysfs_read(const char *path, char *buf, size_t len);
/* Read and parse an unsigned integer. */
int sysfs_read_ull(const char *path, unsigned long long *v);

#endif
