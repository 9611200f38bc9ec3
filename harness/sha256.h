/* SHA-256, the one hasher of the host: cache keys and file identities. */
#ifndef SB_SHA256_H
#define SB_SHA256_H

#include <stddef.h>

/* SHA-256 of a buffer as 64 hex digits plus NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);
/* SHA-256 of a file's contents; 0 or a negative errno with sb_err(). */
int sha256_file(const char *path, char out[65]);

#endif
