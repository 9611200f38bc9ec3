/* Growable NULL-terminated string vectors, for argument vectors. */
#ifndef SB_STRV_H
#define SB_STRV_H

#include <stddef.h>

struct strv {
	char **v;   /* always NULL-terminated once anything was added */
	size_t n, cap;
};

void strv_init(struct strv *s);
void strv_release(struct strv *s);
void strv_add(struct strv *s, const char *str);
void strv_addf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Pointer suitable for spawn_opts.argv. */
const char *const *strv_argv(struct strv *s);

#endif
