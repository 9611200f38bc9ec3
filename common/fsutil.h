/* File and path helpers. All return 0 or a negative errno with sb_err() set. */
#ifndef SB_FSUTIL_H
#define SB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* asprintf that aborts on OOM: paths are small and OOM there is fatal. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);

int mkdir_p(const char *path, mode_t mode);
/* Read a whole file (at most max bytes, else -EFBIG); NUL-terminated. */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* Write via a temp file in the same directory + rename. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* Remove a tree (like rm -rf); a missing path is not an error. */
int rm_rf(const char *path);
int path_exists(const char *path);
int is_dir(const char *path);
/* Directory of the running executable (from /proc/self/exe). */
char *self_dir(void);
/* Trim trailing whitespace in place. */
void rstrip(char *s);
/* Parse sizes like "64M", "1G", "512k", "4096" (bytes; K/M/G/T are 1024-based). */
int parse_size(const char *s, unsigned long long *out);
/* Format bytes as "64M"-style string into buf. */
void format_size(unsigned long long v, char *buf, size_t len);
/* Seconds on the monotonic clock: the one clock for elapsed times. */
double monotonic_s(void);
/* A duration for people: "12s" (with decimals), "3m07s", "2h05m"; "?" when
 * negative (unknown). */
void fmt_duration(double s, int decimals, char *buf, size_t len);
/* The current UTC time as "2026-12-01T04:05:06Z". Caller frees. */
char *iso_now(void);

#endif
