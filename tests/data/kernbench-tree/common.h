/* Shared helpers of the kernbench CI tree: a small deterministic PRNG and
 * a failure counter. Every module exports one <module>_selftest() that
 * main.c runs, so `make check` proves the code is real, not filler. */
#ifndef KB_COMMON_H
#define KB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern unsigned long kb_failures;

#define KB_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			kb_failures++;					\
			fprintf(stderr, "%s:%d: check failed: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
		}							\
	} while (0)

static inline uint64_t kb_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t kb_mix(uint64_t digest, uint64_t v)
{
	digest ^= v + 0x9e3779b97f4a7c15ULL + (digest << 6) + (digest >> 2);
	return digest;
}

/* Text-like bytes (words from a small vocabulary): what compressors and
 * string searches see in practice, rather than incompressible noise. */
size_t kb_fill_text(unsigned char *buf, size_t len, uint64_t *state);

/* Module self-tests: each returns a digest of what it computed. */
uint64_t sort_i32_selftest(uint64_t seed);
uint64_t sort_i64_selftest(uint64_t seed);
uint64_t sort_u16_selftest(uint64_t seed);
uint64_t sort_f64_selftest(uint64_t seed);
uint64_t matrix_f64_selftest(uint64_t seed);
uint64_t matrix_f32_selftest(uint64_t seed);
uint64_t table_u64_selftest(uint64_t seed);
uint64_t table_u32_selftest(uint64_t seed);
uint64_t hash_fnv_selftest(uint64_t seed);
uint64_t hash_murmur_selftest(uint64_t seed);
uint64_t hash_xx_selftest(uint64_t seed);
uint64_t crc_selftest(uint64_t seed);
uint64_t lz77_selftest(uint64_t seed);
uint64_t huffman_selftest(uint64_t seed);
uint64_t bwt_selftest(uint64_t seed);
uint64_t strsearch_selftest(uint64_t seed);

#endif
