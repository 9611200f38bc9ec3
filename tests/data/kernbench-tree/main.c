/* kernbench CI tree: runs every module's self-test and prints a digest per
 * module. Exit status is the number of failed checks (0 = all good). */
#include "common.h"

#include <stdlib.h>
#include <string.h>

unsigned long kb_failures;

static const char *const vocabulary[] = {
	"swap", "page", "folio", "memcg", "reclaim", "zram", "zswap", "slot",
	"cluster", "entry", "cache", "fault", "anon", "shmem", "lru", "writeback",
	"the", "of", "a", "to", "in", "is", "for", "on", "with", "and",
};

size_t kb_fill_text(unsigned char *buf, size_t len, uint64_t *state)
{
	size_t n = 0, nwords = sizeof(vocabulary) / sizeof(vocabulary[0]);

	while (n < len) {
		uint64_t r = kb_rand(state);
		const char *w = vocabulary[r % nwords];
		size_t wl = strlen(w);

		for (size_t i = 0; i < wl && n < len; i++)
			buf[n++] = (unsigned char)w[i];
		if (n < len)
			buf[n++] = (r >> 32) % 11 ? ' ' : '\n';
	}
	return n;
}

static const struct {
	const char *name;
	uint64_t (*fn)(uint64_t seed);
} tests[] = {
	{ "sort_i32", sort_i32_selftest },	{ "sort_i64", sort_i64_selftest },
	{ "sort_u16", sort_u16_selftest },	{ "sort_f64", sort_f64_selftest },
	{ "matrix_f64", matrix_f64_selftest },	{ "matrix_f32", matrix_f32_selftest },
	{ "table_u64", table_u64_selftest },	{ "table_u32", table_u32_selftest },
	{ "hash_fnv", hash_fnv_selftest },	{ "hash_murmur", hash_murmur_selftest },
	{ "hash_xx", hash_xx_selftest },	{ "crc", crc_selftest },
	{ "lz77", lz77_selftest },		{ "huffman", huffman_selftest },
	{ "bwt", bwt_selftest },		{ "strsearch", strsearch_selftest },
};

int main(int argc, char **argv)
{
	uint64_t seed = 42;

	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		unsigned long before = kb_failures;
		uint64_t d = tests[i].fn(seed + i);

		printf("%-12s %016llx %s\n", tests[i].name, (unsigned long long)d,
		       kb_failures == before ? "ok" : "FAILED");
	}
	return kb_failures ? 1 : 0;
}
