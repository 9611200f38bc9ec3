#define _GNU_SOURCE
#include "common/strv.h"
#include "common/fsutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void strv_init(struct strv *s)
{
	s->v = NULL;
	s->n = s->cap = 0;
}

void strv_release(struct strv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	strv_init(s);
}

static void strv_push(struct strv *s, char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void strv_add(struct strv *s, const char *str)
{
	strv_push(s, xstrdup(str));
}

void strv_addf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;

	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) < 0)
		abort();
	va_end(ap);
	strv_push(s, str);
}

const char *const *strv_argv(struct strv *s)
{
	if (!s->v)
		strv_push(s, NULL), s->n = 0;
	return (const char *const *)s->v;
}
