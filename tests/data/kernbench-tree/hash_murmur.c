/* MurmurHash3 (Austin Appleby's x86_32 and x64_128 variants, from the
 * reference description), its 64-bit finaliser as an integer mixer, and
 * a simple Bloom filter built on the 128-bit variant. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static inline uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

uint64_t murmur_fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

uint32_t murmur3_32(const void *key, size_t len, uint32_t seed)
{
	const unsigned char *p = key;
	const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
	size_t nblocks = len / 4;
	uint32_t h = seed, k = 0;

	for (size_t i = 0; i < nblocks; i++) {
		k = get32(p + 4 * i);
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64u;
	}
	k = 0;
	switch (len & 3) {
	case 3:
		k ^= (uint32_t)p[4 * nblocks + 2] << 16;
		/* fall through */
	case 2:
		k ^= (uint32_t)p[4 * nblocks + 1] << 8;
		/* fall through */
	case 1:
		k ^= p[4 * nblocks];
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
	}
	h ^= (uint32_t)len;
	return fmix32(h);
}

void murmur3_128(const void *key, size_t len, uint32_t seed, uint64_t out[2])
{
	const unsigned char *p = key, *tail;
	const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
	size_t nblocks = len / 16;
	uint64_t h1 = seed, h2 = seed, k1 = 0, k2 = 0;

	for (size_t i = 0; i < nblocks; i++) {
		k1 = get64(p + 16 * i);
		k2 = get64(p + 16 * i + 8);
		k1 *= c1;
		k1 = rotl64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		h1 = rotl64(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;
		k2 *= c2;
		k2 = rotl64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		h2 = rotl64(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}
	tail = p + 16 * nblocks;
	k1 = k2 = 0;
	switch (len & 15) {
	case 15: k2 ^= (uint64_t)tail[14] << 48; /* fall through */
	case 14: k2 ^= (uint64_t)tail[13] << 40; /* fall through */
	case 13: k2 ^= (uint64_t)tail[12] << 32; /* fall through */
	case 12: k2 ^= (uint64_t)tail[11] << 24; /* fall through */
	case 11: k2 ^= (uint64_t)tail[10] << 16; /* fall through */
	case 10: k2 ^= (uint64_t)tail[9] << 8; /* fall through */
	case 9:
		k2 ^= (uint64_t)tail[8];
		k2 *= c2;
		k2 = rotl64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		/* fall through */
	case 8: k1 ^= (uint64_t)tail[7] << 56; /* fall through */
	case 7: k1 ^= (uint64_t)tail[6] << 48; /* fall through */
	case 6: k1 ^= (uint64_t)tail[5] << 40; /* fall through */
	case 5: k1 ^= (uint64_t)tail[4] << 32; /* fall through */
	case 4: k1 ^= (uint64_t)tail[3] << 24; /* fall through */
	case 3: k1 ^= (uint64_t)tail[2] << 16; /* fall through */
	case 2: k1 ^= (uint64_t)tail[1] << 8; /* fall through */
	case 1:
		k1 ^= (uint64_t)tail[0];
		k1 *= c1;
		k1 = rotl64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
	}
	h1 ^= (uint64_t)len;
	h2 ^= (uint64_t)len;
	h1 += h2;
	h2 += h1;
	h1 = murmur_fmix64(h1);
	h2 = murmur_fmix64(h2);
	h1 += h2;
	h2 += h1;
	out[0] = h1;
	out[1] = h2;
}

/* Bloom filter with k probes derived from two halves of one 128-bit hash
 * (Kirsch-Mitzenmacher double hashing). */
struct bloom {
	uint64_t *bits;
	size_t nbits;
	unsigned int k;
};

int bloom_init(struct bloom *b, size_t nbits, unsigned int k)
{
	b->nbits = (nbits + 63) & ~(size_t)63;
	b->k = k;
	b->bits = calloc(b->nbits / 64, sizeof(uint64_t));
	return b->bits ? 0 : -1;
}

void bloom_release(struct bloom *b)
{
	free(b->bits);
	b->bits = NULL;
}

void bloom_add(struct bloom *b, const void *key, size_t len)
{
	uint64_t h[2];

	murmur3_128(key, len, 0x5eed, h);
	for (unsigned int i = 0; i < b->k; i++) {
		size_t bit = (size_t)((h[0] + i * h[1]) % b->nbits);

		b->bits[bit / 64] |= 1ULL << (bit % 64);
	}
}

int bloom_maybe(const struct bloom *b, const void *key, size_t len)
{
	uint64_t h[2];

	murmur3_128(key, len, 0x5eed, h);
	for (unsigned int i = 0; i < b->k; i++) {
		size_t bit = (size_t)((h[0] + i * h[1]) % b->nbits);

		if (!(b->bits[bit / 64] & (1ULL << (bit % 64))))
			return 0;
	}
	return 1;
}

uint64_t hash_murmur_selftest(uint64_t seed)
{
	uint64_t rng = seed, digest = 0, h[2];
	unsigned int false_pos = 0;
	struct bloom b;
	char key[32];

	KB_CHECK(murmur3_32("", 0, 0) == 0, "murmur3_32 of nothing, seed 0");
	KB_CHECK(murmur3_32("", 0, 1) == 0x514E28B7u, "murmur3_32 of nothing, seed 1");
	KB_CHECK(murmur3_32("", 0, 0xffffffffu) == 0x81F16F39u,
		 "murmur3_32 of nothing, seed ~0");
	murmur3_128("", 0, 0, h);
	KB_CHECK(h[0] == 0 && h[1] == 0, "murmur3_128 of nothing, seed 0");

	/* 10 bits per key and 7 probes: about 1% false positives. */
	if (bloom_init(&b, 100000, 7)) {
		KB_CHECK(0, "out of memory");
		return 0;
	}
	for (unsigned int i = 0; i < 10000; i++) {
		int len = snprintf(key, sizeof(key), "member-%u", i);

		bloom_add(&b, key, (size_t)len);
	}
	for (unsigned int i = 0; i < 10000; i++) {
		int len = snprintf(key, sizeof(key), "member-%u", i);

		KB_CHECK(bloom_maybe(&b, key, (size_t)len), "member %u lost", i);
		len = snprintf(key, sizeof(key), "stranger-%u", i);
		false_pos += (unsigned int)bloom_maybe(&b, key, (size_t)len);
	}
	KB_CHECK(false_pos < 300, "%u false positives in 10000", false_pos);
	digest = kb_mix(digest, false_pos);
	bloom_release(&b);

	for (int i = 0; i < 1000; i++) {
		uint64_t r = kb_rand(&rng);
		size_t len = (size_t)(r % 31);

		memcpy(key, &r, sizeof(r));
		memcpy(key + 8, &r, sizeof(r));
		memcpy(key + 16, &r, sizeof(r));
		murmur3_128(key, len, (uint32_t)i, h);
		digest = kb_mix(digest, h[0] ^ h[1]);
		digest = kb_mix(digest, murmur3_32(key, len, (uint32_t)i));
		digest = kb_mix(digest, murmur_fmix64(r));
	}
	return digest;
}
