/* xxHash32 and xxHash64 (Yann Collet's algorithms, written from the
 * specification), one-shot and streaming. The self-test checks known
 * answers and that streaming in odd chunk sizes matches one-shot. */
#include "common.h"

#include <string.h>

#define P32_1 0x9E3779B1u
#define P32_2 0x85EBCA77u
#define P32_3 0xC2B2AE3Du
#define P32_4 0x27D4EB2Fu
#define P32_5 0x165667B1u

#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL
#define P64_3 0x165667B19E3779F9ULL
#define P64_4 0x85EBCA77C2B2AE63ULL
#define P64_5 0x27D4EB2F165667C5ULL

static inline uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint32_t read32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t read64(const unsigned char *p)
{
	return (uint64_t)read32(p) | (uint64_t)read32(p + 4) << 32;
}

static inline uint32_t round32(uint32_t acc, uint32_t in)
{
	acc += in * P32_2;
	acc = rotl32(acc, 13);
	return acc * P32_1;
}

static inline uint64_t round64(uint64_t acc, uint64_t in)
{
	acc += in * P64_2;
	acc = rotl64(acc, 31);
	return acc * P64_1;
}

static inline uint64_t merge64(uint64_t acc, uint64_t val)
{
	acc ^= round64(0, val);
	return acc * P64_1 + P64_4;
}

static uint32_t xxh32_tail(uint32_t h, const unsigned char *p, size_t len)
{
	while (len >= 4) {
		h += read32(p) * P32_3;
		h = rotl32(h, 17) * P32_4;
		p += 4;
		len -= 4;
	}
	while (len--) {
		h += *p++ * P32_5;
		h = rotl32(h, 11) * P32_1;
	}
	h ^= h >> 15;
	h *= P32_2;
	h ^= h >> 13;
	h *= P32_3;
	h ^= h >> 16;
	return h;
}

uint32_t xxh32(const void *data, size_t len, uint32_t seed)
{
	const unsigned char *p = data, *end = p + len;
	uint32_t h;

	if (len >= 16) {
		uint32_t v1 = seed + P32_1 + P32_2, v2 = seed + P32_2, v3 = seed,
			 v4 = seed - P32_1;

		do {
			v1 = round32(v1, read32(p));
			v2 = round32(v2, read32(p + 4));
			v3 = round32(v3, read32(p + 8));
			v4 = round32(v4, read32(p + 12));
			p += 16;
		} while (p + 16 <= end);
		h = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
	} else {
		h = seed + P32_5;
	}
	h += (uint32_t)len;
	return xxh32_tail(h, p, (size_t)(end - p));
}

static uint64_t xxh64_tail(uint64_t h, const unsigned char *p, size_t len)
{
	while (len >= 8) {
		h ^= round64(0, read64(p));
		h = rotl64(h, 27) * P64_1 + P64_4;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		h ^= (uint64_t)read32(p) * P64_1;
		h = rotl64(h, 23) * P64_2 + P64_3;
		p += 4;
		len -= 4;
	}
	while (len--) {
		h ^= *p++ * P64_5;
		h = rotl64(h, 11) * P64_1;
	}
	h ^= h >> 33;
	h *= P64_2;
	h ^= h >> 29;
	h *= P64_3;
	h ^= h >> 32;
	return h;
}

struct xxh64_state {
	uint64_t total;
	uint64_t v[4];
	unsigned char buf[32];
	size_t buffered;
	uint64_t seed;
};

void xxh64_reset(struct xxh64_state *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->v[0] = seed + P64_1 + P64_2;
	s->v[1] = seed + P64_2;
	s->v[2] = seed;
	s->v[3] = seed - P64_1;
}

static void xxh64_stripe(struct xxh64_state *s, const unsigned char *p)
{
	for (int i = 0; i < 4; i++)
		s->v[i] = round64(s->v[i], read64(p + 8 * i));
}

void xxh64_update(struct xxh64_state *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->total += len;
	if (s->buffered + len < 32) {
		memcpy(s->buf + s->buffered, p, len);
		s->buffered += len;
		return;
	}
	if (s->buffered) {
		size_t take = 32 - s->buffered;

		memcpy(s->buf + s->buffered, p, take);
		xxh64_stripe(s, s->buf);
		p += take;
		len -= take;
		s->buffered = 0;
	}
	while (len >= 32) {
		xxh64_stripe(s, p);
		p += 32;
		len -= 32;
	}
	memcpy(s->buf, p, len);
	s->buffered = len;
}

uint64_t xxh64_digest(const struct xxh64_state *s)
{
	uint64_t h;

	if (s->total >= 32) {
		h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) +
		    rotl64(s->v[3], 18);
		for (int i = 0; i < 4; i++)
			h = merge64(h, s->v[i]);
	} else {
		h = s->seed + P64_5;
	}
	h += s->total;
	return xxh64_tail(h, s->buf, s->buffered);
}

uint64_t xxh64(const void *data, size_t len, uint64_t seed)
{
	struct xxh64_state s;

	xxh64_reset(&s, seed);
	xxh64_update(&s, data, len);
	return xxh64_digest(&s);
}

uint64_t hash_xx_selftest(uint64_t seed)
{
	static unsigned char buf[8192];
	uint64_t rng = seed, digest = 0;

	KB_CHECK(xxh32("", 0, 0) == 0x02CC5D05u, "xxh32 of nothing");
	KB_CHECK(xxh64("", 0, 0) == 0xEF46DB3751D8E999ULL, "xxh64 of nothing");
	kb_fill_text(buf, sizeof(buf), &rng);
	for (size_t len = 0; len <= sizeof(buf); len = len * 3 + 1) {
		struct xxh64_state s;
		uint64_t one = xxh64(buf, len, seed);
		size_t off = 0;

		xxh64_reset(&s, seed);
		while (off < len) {
			size_t chunk = (size_t)(kb_rand(&rng) % 45);

			if (chunk > len - off)
				chunk = len - off;
			xxh64_update(&s, buf + off, chunk);
			off += chunk;
		}
		KB_CHECK(xxh64_digest(&s) == one, "xxh64 streaming differs at length %zu", len);
		digest = kb_mix(digest, one);
		digest = kb_mix(digest, xxh32(buf, len, (uint32_t)seed));
	}
	/* One flipped bit changes about half the output bits. */
	for (int bit = 0; bit < 64; bit++) {
		uint64_t a = xxh64(buf, 64, 0), b;
		int changed;

		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		b = xxh64(buf, 64, 0);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		changed = __builtin_popcountll(a ^ b);
		KB_CHECK(changed > 12 && changed < 52, "bit %d: %d output bits changed", bit,
			 changed);
	}
	return digest;
}
