/* A growing string, in the manner of git's strbuf: append in a loop
 * without reallocating the whole text each time. buf is always
 * NUL-terminated, never NULL after strbuf_init. */
#ifndef SB_STRBUF_H
#define SB_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, alloc;
};

void strbuf_init(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s, preceded by sep unless the buffer is empty: joins lists. */
void strbuf_addsep(struct strbuf *sb, const char *sep, const char *s);
/* The string, now the caller's; sb is left empty with no buffer (strbuf_init
 * it again to reuse it). */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

#endif
