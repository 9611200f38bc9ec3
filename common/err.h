/* Error reporting for library code.
 *
 * Library functions return 0 on success or a negative errno; on failure
 * they record a message naming the input that caused it with sb_err().
 * Only cmd-*.c (and the agent's main) decide to print it and exit.
 */
#ifndef SB_ERR_H
#define SB_ERR_H

#include <errno.h>

/* Record a formatted message and return -errnum (errnum > 0). */
int sb_err(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the recorded message with "prefix: " and return -errnum. */
int sb_err_prefix(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last recorded message, or a generic one for the errno. */
const char *sb_lasterr(void);
void sb_clearerr(void);

#endif
