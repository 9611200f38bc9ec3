/* An LZ77 compressor in the LZ4 mould: hash chains over a 64 KiB window,
 * lazy matching, and a byte-oriented token format:
 *
 *   token = (literal_len:4 | match_len-4:4), [more literal len bytes],
 *           literals, offset:16 le, [more match len bytes]
 *
 * A length nibble of 15 continues in bytes of 255 until one is smaller.
 * The last sequence has literals only. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW		65535
#define MIN_MATCH	4
#define HASH_BITS	14
#define MAX_CHAIN	48

struct lz_matcher {
	int32_t head[1 << HASH_BITS];
	int32_t *prev;
	const unsigned char *in;
	size_t len;
};

static inline uint32_t hash4(const unsigned char *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;

	return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void insert_pos(struct lz_matcher *m, size_t pos)
{
	uint32_t h;

	if (pos + MIN_MATCH > m->len)
		return;
	h = hash4(m->in + pos);
	m->prev[pos] = m->head[h];
	m->head[h] = (int32_t)pos;
}

/* Longest earlier match for position pos, walking at most MAX_CHAIN links. */
static size_t longest_match(const struct lz_matcher *m, size_t pos, size_t *offset)
{
	size_t best = 0, limit = m->len - pos;
	int32_t cand;
	int chain = MAX_CHAIN;

	if (limit < MIN_MATCH)
		return 0;
	cand = m->head[hash4(m->in + pos)];
	while (cand >= 0 && chain-- > 0 && pos - (size_t)cand <= WINDOW) {
		const unsigned char *a = m->in + cand, *b = m->in + pos;
		size_t l = 0;

		if (a[best] == b[best]) {
			while (l < limit && a[l] == b[l])
				l++;
			if (l > best) {
				best = l;
				*offset = pos - (size_t)cand;
				if (l == limit)
					break;
			}
		}
		cand = m->prev[cand];
	}
	return best >= MIN_MATCH ? best : 0;
}

static size_t put_len(unsigned char *out, size_t len)
{
	size_t n = 0;

	while (len >= 255) {
		out[n++] = 255;
		len -= 255;
	}
	out[n++] = (unsigned char)len;
	return n;
}

/* Worst case output: every byte a literal plus length bytes. */
size_t lz77_bound(size_t len)
{
	return len + len / 255 + 16;
}

/* Compress in[0..len) into out (lz77_bound(len) bytes). Returns the
 * compressed size, or 0 if out of memory. */
size_t lz77_compress(const unsigned char *in, size_t len, unsigned char *out)
{
	struct lz_matcher *m = malloc(sizeof(*m));
	size_t pos = 0, anchor = 0, o = 0;

	if (!m)
		return 0;
	m->prev = malloc((len ? len : 1) * sizeof(int32_t));
	if (!m->prev) {
		free(m);
		return 0;
	}
	memset(m->head, 0xff, sizeof(m->head));
	m->in = in;
	m->len = len;
	while (pos < len) {
		size_t off = 0, mlen = longest_match(m, pos, &off);

		/* Lazy matching: a longer match one byte later wins. */
		if (mlen && pos + 1 < len) {
			size_t off2 = 0, mlen2;

			insert_pos(m, pos);
			mlen2 = longest_match(m, pos + 1, &off2);
			if (mlen2 > mlen + 1) {
				pos++;
				mlen = mlen2;
				off = off2;
			} else {
				/* pos was inserted already; keep chains consistent. */
				m->head[hash4(in + pos)] = m->prev[pos];
			}
		}
		if (!mlen) {
			insert_pos(m, pos);
			pos++;
			continue;
		}
		{
			size_t lit = pos - anchor, ml = mlen - MIN_MATCH;
			unsigned char *token = &out[o++];

			*token = (unsigned char)((lit < 15 ? lit : 15) << 4 | (ml < 15 ? ml : 15));
			if (lit >= 15)
				o += put_len(out + o, lit - 15);
			memcpy(out + o, in + anchor, lit);
			o += lit;
			out[o++] = (unsigned char)(off & 0xff);
			out[o++] = (unsigned char)(off >> 8);
			if (ml >= 15)
				o += put_len(out + o, ml - 15);
		}
		for (size_t i = 0; i < mlen; i++)
			insert_pos(m, pos + i);
		pos += mlen;
		anchor = pos;
	}
	{
		size_t lit = len - anchor;

		out[o++] = (unsigned char)((lit < 15 ? lit : 15) << 4);
		if (lit >= 15)
			o += put_len(out + o, lit - 15);
		memcpy(out + o, in + anchor, lit);
		o += lit;
	}
	free(m->prev);
	free(m);
	return o;
}

static int get_len(const unsigned char *in, size_t len, size_t *i, size_t *v)
{
	unsigned char b;

	do {
		if (*i >= len)
			return -1;
		b = in[(*i)++];
		*v += b;
	} while (b == 255);
	return 0;
}

/* Decompress into out (capacity cap). Returns the size, or -1 if the
 * input is malformed: a decoder must never trust its input. */
long lz77_decompress(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char token = in[i++];
		size_t lit = token >> 4, ml = token & 15, off;

		if (lit == 15 && get_len(in, len, &i, &lit))
			return -1;
		if (lit > len - i || lit > cap - o)
			return -1;
		memcpy(out + o, in + i, lit);
		i += lit;
		o += lit;
		if (i == len)
			break;
		if (len - i < 2)
			return -1;
		off = (size_t)in[i] | (size_t)in[i + 1] << 8;
		i += 2;
		if (ml == 15 && get_len(in, len, &i, &ml))
			return -1;
		ml += MIN_MATCH;
		if (!off || off > o || ml > cap - o)
			return -1;
		/* Byte by byte: matches may overlap their own output. */
		for (size_t k = 0; k < ml; k++, o++)
			out[o] = out[o - off];
	}
	return (long)o;
}

uint64_t lz77_selftest(uint64_t seed)
{
	static const size_t sizes[] = { 0, 1, 5, 100, 4096, 65536, 200000 };
	uint64_t rng = seed, digest = 0;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int kind = 0; kind < 3; kind++) {
			size_t n = sizes[s], clen;
			unsigned char *in = malloc(n + 1), *c = malloc(lz77_bound(n)),
				      *back = malloc(n + 1);
			long dlen;

			if (!in || !c || !back) {
				KB_CHECK(0, "out of memory");
				free(in);
				free(c);
				free(back);
				return digest;
			}
			if (kind == 0)
				kb_fill_text(in, n, &rng);
			else if (kind == 1)
				for (size_t i = 0; i < n; i++)
					in[i] = (unsigned char)kb_rand(&rng);
			else
				memset(in, 'z', n);
			clen = lz77_compress(in, n, c);
			KB_CHECK(clen > 0 && clen <= lz77_bound(n), "compress of %zu bytes", n);
			dlen = lz77_decompress(c, clen, back, n);
			KB_CHECK(dlen == (long)n && !memcmp(in, back, n),
				 "round trip of %zu bytes (kind %d)", n, kind);
			if (kind == 0 && n >= 4096)
				KB_CHECK(clen < n / 2, "text of %zu bytes only shrank to %zu", n,
					 clen);
			/* Truncated input must be refused, not overrun. */
			if (clen > 3)
				KB_CHECK(lz77_decompress(c, clen - 3, back, n) != (long)n ||
					 kind == 1, "truncated input accepted");
			digest = kb_mix(digest, clen);
			free(in);
			free(c);
			free(back);
		}
	}
	return digest;
}
