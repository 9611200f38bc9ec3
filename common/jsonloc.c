#define _GNU_SOURCE
#include "common/jsonloc.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same limit as jansson's parser, so anything jansson accepted is
 * accepted here; it also bounds the recursion on hostile input. */
#define JSONLOC_MAX_DEPTH 2048

struct seg {
	int is_key;
	const char *key;   /* decoded, not NUL-terminated */
	size_t klen;
	size_t index;
};

struct path {
	struct seg *segs;
	size_t n;
	char *buf;         /* backing store for the decoded keys */
};

struct scan {
	const char *p;
	unsigned long line;
	int depth;
	const struct path *path;
	unsigned long found;   /* line of the path's target, 0 if not seen */
};

static int is_plain_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void path_release(struct path *pa)
{
	free(pa->segs);
	free(pa->buf);
}

/* Split a path into segments. Quoted keys are unescaped in place in a copy
 * of the path: decoding only ever shortens them, so the write position
 * never overtakes the read position. Returns -1 on a malformed path or
 * when out of memory. */
static int path_parse(const char *path, struct path *pa)
{
	size_t len = strlen(path);
	char *s;

	pa->n = 0;
	pa->buf = strdup(path);
	/* Every segment takes at least one character. */
	pa->segs = calloc(len + 1, sizeof(*pa->segs));
	if (!pa->buf || !pa->segs)
		goto bad;

	s = pa->buf;
	while (*s) {
		struct seg *sg = &pa->segs[pa->n];

		if (*s == '[' && s[1] == '"') {
			char *w;

			s += 2;
			sg->is_key = 1;
			sg->key = w = s;
			while (*s != '"') {
				if (*s == '\0')
					goto bad;
				if (*s == '\\') {
					s++;
					if (*s == '\0')
						goto bad;
				}
				*w++ = *s++;
			}
			sg->klen = w - sg->key;
			if (s[1] != ']')
				goto bad;
			s += 2;
		} else if (*s == '[') {
			size_t v = 0;

			s++;
			if (*s < '0' || *s > '9')
				goto bad;
			while (*s >= '0' && *s <= '9') {
				if (v > (SIZE_MAX - 9) / 10)
					goto bad;
				v = v * 10 + (size_t)(*s++ - '0');
			}
			if (*s++ != ']')
				goto bad;
			sg->index = v;
		} else {
			/* A bare key: at the very start, or after a dot. */
			if (pa->n > 0) {
				if (*s != '.')
					goto bad;
				s++;
			}
			if (!is_plain_key_char(*s))
				goto bad;
			sg->is_key = 1;
			sg->key = s;
			while (is_plain_key_char(*s))
				s++;
			sg->klen = s - sg->key;
		}
		pa->n++;
	}
	return 0;
bad:
	path_release(pa);
	return -1;
}

static void skip_ws(struct scan *sc)
{
	for (;;) {
		switch (*sc->p) {
		case '\n':
			sc->line++;
			/* fall through */
		case ' ':
		case '\t':
		case '\r':
			sc->p++;
			break;
		default:
			return;
		}
	}
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	/* Stops at the first non-hex character, so a NUL is never passed. */
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_encode(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Scan a string token starting at its opening quote. With want set, also
 * report in *eq whether the decoded string equals want[0..wlen-1]; the
 * comparison runs as the string is decoded, so no copy is needed. */
static int scan_string(struct scan *sc, const char *want, size_t wlen, int *eq)
{
	const char *p = sc->p + 1;
	size_t pos = 0;
	int same = 1;

	for (;;) {
		char dec[4];
		size_t dlen;
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			break;
		/* Also catches the NUL terminator and raw newlines. */
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			dec[0] = (char)c;
			dlen = 1;
			p++;
		} else {
			unsigned cp, lo;

			p++;
			dlen = 1;
			switch (*p) {
			case '"':  dec[0] = '"'; break;
			case '\\': dec[0] = '\\'; break;
			case '/':  dec[0] = '/'; break;
			case 'b':  dec[0] = '\b'; break;
			case 'f':  dec[0] = '\f'; break;
			case 'n':  dec[0] = '\n'; break;
			case 'r':  dec[0] = '\r'; break;
			case 't':  dec[0] = '\t'; break;
			case 'u':
				if (hex4(p + 1, &cp))
					return -1;
				p += 4;
				/* Join a surrogate pair into one code point so
				 * keys compare equal to the UTF-8 jansson gives
				 * out. A lone surrogate is legal JSON grammar;
				 * it is encoded as is and simply matches no
				 * valid UTF-8 key. */
				if (cp >= 0xd800 && cp <= 0xdbff && p[1] == '\\' &&
				    p[2] == 'u' && !hex4(p + 3, &lo) &&
				    lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
				dlen = utf8_encode(cp, dec);
				break;
			default:
				return -1;
			}
			p++;
		}
		if (want && same) {
			if (pos + dlen > wlen || memcmp(want + pos, dec, dlen))
				same = 0;
			pos += dlen;
		}
	}
	sc->p = p + 1;
	if (eq)
		*eq = want && same && pos == wlen;
	return 0;
}

static int scan_literal(struct scan *sc, const char *lit)
{
	/* Comparing one character at a time stops at a NUL in the text. */
	for (; *lit; lit++, sc->p++)
		if (*sc->p != *lit)
			return -1;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct scan *sc)
{
	const char *p = sc->p;

	if (*p == '-')
		p++;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (is_digit(*p))
			p++;
	} else {
		return -1;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return -1;
		while (is_digit(*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return -1;
		while (is_digit(*p))
			p++;
	}
	sc->p = p;
	return 0;
}

static int scan_value(struct scan *sc, long match);

/* match: how many path segments lead to the current value, or -1 when it
 * is off the path. The target itself is recorded by the caller. */
static int scan_object(struct scan *sc, long match)
{
	const struct path *pa = sc->path;
	const struct seg *next = NULL;

	if (match >= 0 && (size_t)match < pa->n && pa->segs[match].is_key)
		next = &pa->segs[match];

	sc->p++;
	skip_ws(sc);
	if (*sc->p == '}') {
		sc->p++;
		return 0;
	}
	for (;;) {
		unsigned long key_line;
		long child = -1;
		int eq = 0;

		skip_ws(sc);
		if (*sc->p != '"')
			return -1;
		key_line = sc->line;
		if (scan_string(sc, next ? next->key : NULL, next ? next->klen : 0, &eq))
			return -1;
		if (eq) {
			/* A later duplicate replaces the earlier member in
			 * jansson, so forget whatever the earlier one gave. */
			sc->found = 0;
			if ((size_t)match + 1 == pa->n)
				sc->found = key_line;
			else
				child = match + 1;
		}
		skip_ws(sc);
		if (*sc->p != ':')
			return -1;
		sc->p++;
		if (scan_value(sc, child))
			return -1;
		skip_ws(sc);
		if (*sc->p == '}') {
			sc->p++;
			return 0;
		}
		if (*sc->p != ',')
			return -1;
		sc->p++;
	}
}

static int scan_array(struct scan *sc, long match)
{
	const struct path *pa = sc->path;
	const struct seg *next = NULL;
	size_t idx = 0;

	if (match >= 0 && (size_t)match < pa->n && !pa->segs[match].is_key)
		next = &pa->segs[match];

	sc->p++;
	skip_ws(sc);
	if (*sc->p == ']') {
		sc->p++;
		return 0;
	}
	for (;;) {
		long child = next && next->index == idx ? match + 1 : -1;

		if (scan_value(sc, child))
			return -1;
		skip_ws(sc);
		if (*sc->p == ']') {
			sc->p++;
			return 0;
		}
		if (*sc->p != ',')
			return -1;
		sc->p++;
		idx++;
	}
}

static int scan_value(struct scan *sc, long match)
{
	int ret;

	skip_ws(sc);
	if (match >= 0 && (size_t)match == sc->path->n)
		sc->found = sc->line;

	switch (*sc->p) {
	case '{':
	case '[':
		if (++sc->depth > JSONLOC_MAX_DEPTH)
			return -1;
		ret = *sc->p == '{' ? scan_object(sc, match) : scan_array(sc, match);
		sc->depth--;
		return ret;
	case '"':
		return scan_string(sc, NULL, 0, NULL);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		return scan_number(sc);
	}
}

int jsonloc_line(const char *text, const char *path)
{
	struct path pa;
	struct scan sc = { .p = text, .line = 1 };
	int ok;

	if (!text || !path || path_parse(path, &pa))
		return 0;
	sc.path = &pa;
	ok = !scan_value(&sc, 0);
	if (ok) {
		skip_ws(&sc);
		/* Trailing garbage makes the document invalid for jansson. */
		ok = *sc.p == '\0';
	}
	path_release(&pa);
	if (!ok || sc.found > INT_MAX)
		return 0;
	return (int)sc.found;
}

char *jsonloc_path_append_key(const char *base, const char *key)
{
	size_t blen, klen, n = 0;
	int plain;
	char *out, *w;

	if (!base)
		base = "";
	if (!key)
		key = "";
	blen = strlen(base);
	klen = strlen(key);

	plain = klen > 0;
	for (const char *k = key; *k; k++) {
		if (!is_plain_key_char(*k))
			plain = 0;
		if (*k == '"' || *k == '\\')
			n++;
	}

	/* Worst case: base + ["key"] with every escape doubled + NUL. */
	out = malloc(blen + klen + n + 5);
	if (!out)
		return NULL;
	memcpy(out, base, blen);
	w = out + blen;
	if (plain) {
		if (blen)
			*w++ = '.';
		memcpy(w, key, klen);
		w += klen;
	} else {
		*w++ = '[';
		*w++ = '"';
		for (const char *k = key; *k; k++) {
			if (*k == '"' || *k == '\\')
				*w++ = '\\';
			*w++ = *k;
		}
		*w++ = '"';
		*w++ = ']';
	}
	*w = '\0';
	return out;
}

char *jsonloc_path_append_index(const char *base, size_t i)
{
	char *out;

	if (asprintf(&out, "%s[%zu]", base ? base : "", i) < 0)
		return NULL;
	return out;
}

/* The input error messages of every JSON file swapbench reads (specs,
 * nightly files): "file:line: path: message", the line found from the path. */
static int verr_at(const char *file, const char *text, const char *path, const char *fmt,
		   va_list ap)
{
	char msg[1024];
	int line = text ? jsonloc_line(text, path) : 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		return sb_err(EINVAL, "%s:%d: %s: %s", file, line, path[0] ? path : "(top)", msg);
	return sb_err(EINVAL, "%s: %s: %s", file, path[0] ? path : "(top)", msg);
}

int jsonloc_err(const char *file, const char *text, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr_at(file, text, path, fmt, ap);
	va_end(ap);
	return rc;
}
