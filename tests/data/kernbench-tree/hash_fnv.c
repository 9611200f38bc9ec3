/* Small non-cryptographic string hashes: FNV-1 and FNV-1a (32 and 64 bit),
 * djb2, sdbm and Jenkins' one-at-a-time, with known-answer tests and a
 * bucket distribution check over generated keys. */
#include "common.h"

#include <string.h>

#define FNV32_OFFSET	0x811c9dc5u
#define FNV32_PRIME	0x01000193u
#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

uint32_t fnv1_32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = FNV32_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h *= FNV32_PRIME;
		h ^= p[i];
	}
	return h;
}

uint32_t fnv1a_32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = FNV32_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV32_PRIME;
	}
	return h;
}

uint64_t fnv1_64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = FNV64_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h *= FNV64_PRIME;
		h ^= p[i];
	}
	return h;
}

uint64_t fnv1a_64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = FNV64_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

uint32_t djb2(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 5381;

	for (size_t i = 0; i < len; i++)
		h = h * 33 + p[i];
	return h;
}

uint32_t sdbm(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 0;

	for (size_t i = 0; i < len; i++)
		h = p[i] + (h << 6) + (h << 16) - h;
	return h;
}

uint32_t one_at_a_time(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 0;

	for (size_t i = 0; i < len; i++) {
		h += p[i];
		h += h << 10;
		h ^= h >> 6;
	}
	h += h << 3;
	h ^= h >> 11;
	h += h << 15;
	return h;
}

/* Fold a 32-bit hash into [0, n) without the bias of a plain modulo. */
static inline uint32_t reduce(uint32_t h, uint32_t n)
{
	return (uint32_t)(((uint64_t)h * n) >> 32);
}

typedef uint32_t (*hash32_fn)(const void *, size_t);

/* Hash `keys` generated names into 1024 buckets; a decent hash keeps the
 * fullest bucket within a few times the mean. Returns the fullest. */
static uint32_t worst_bucket(hash32_fn fn, unsigned int keys, uint64_t *rng)
{
	static uint32_t buckets[1024];
	uint32_t worst = 0;
	char name[32];

	memset(buckets, 0, sizeof(buckets));
	for (unsigned int i = 0; i < keys; i++) {
		int len = snprintf(name, sizeof(name), "key-%u-%llx", i,
				   (unsigned long long)(kb_rand(rng) & 0xfff));
		uint32_t b = reduce(fn(name, (size_t)len), 1024);

		if (++buckets[b] > worst)
			worst = buckets[b];
	}
	return worst;
}

static const struct {
	const char *in;
	uint32_t fnv1a32;
	uint64_t fnv1a64;
} vectors[] = {
	{ "", 0x811c9dc5u, 0xcbf29ce484222325ULL },
	{ "a", 0xe40c292cu, 0xaf63dc4c8601ec8cULL },
	{ "foobar", 0xbf9cf968u, 0x85944171f73967e8ULL },
};

uint64_t hash_fnv_selftest(uint64_t seed)
{
	static const struct {
		const char *name;
		hash32_fn fn;
	} fns[] = {
		{ "fnv1_32", fnv1_32 }, { "fnv1a_32", fnv1a_32 }, { "djb2", djb2 },
		{ "sdbm", sdbm }, { "one_at_a_time", one_at_a_time },
	};
	uint64_t rng = seed, digest = 0;
	unsigned char buf[4096];

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t len = strlen(vectors[i].in);

		KB_CHECK(fnv1a_32(vectors[i].in, len) == vectors[i].fnv1a32, "fnv1a_32(\"%s\")",
			 vectors[i].in);
		KB_CHECK(fnv1a_64(vectors[i].in, len) == vectors[i].fnv1a64, "fnv1a_64(\"%s\")",
			 vectors[i].in);
	}
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
		uint32_t worst = worst_bucket(fns[f].fn, 20000, &rng);

		/* Mean is ~19.5 per bucket. */
		KB_CHECK(worst < 60, "%s: a bucket got %u of 20000 keys", fns[f].name, worst);
		digest = kb_mix(digest, worst);
	}
	kb_fill_text(buf, sizeof(buf), &rng);
	for (size_t len = 1; len <= sizeof(buf); len *= 2) {
		digest = kb_mix(digest, fnv1_64(buf, len));
		digest = kb_mix(digest, fnv1a_64(buf, len));
		digest = kb_mix(digest, one_at_a_time(buf, len));
	}
	return digest;
}
