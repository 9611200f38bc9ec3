/* The bzip2 pipeline minus the entropy coder: Burrows-Wheeler transform
 * of a block (suffix array by prefix doubling on cyclic rotations),
 * move-to-front, and zero-run-length coding; with the inverses. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

struct sa_ctx {
	const int32_t *rank;
	size_t n, k;
};

static struct sa_ctx sa_cmp_ctx;

static int cmp_rot(const void *a, const void *b)
{
	size_t i = *(const int32_t *)a, j = *(const int32_t *)b, n = sa_cmp_ctx.n;
	const int32_t *r = sa_cmp_ctx.rank;

	if (r[i] != r[j])
		return r[i] < r[j] ? -1 : 1;
	i = (i + sa_cmp_ctx.k) % n;
	j = (j + sa_cmp_ctx.k) % n;
	return r[i] < r[j] ? -1 : r[i] > r[j];
}

/* Sort the n cyclic rotations of s: doubling the compared prefix each
 * round, O(n log^2 n). Returns 0 or -1 if out of memory. */
int bwt_sort_rotations(const unsigned char *s, size_t n, int32_t *sa)
{
	int32_t *rank = malloc(n * sizeof(*rank)), *tmp = malloc(n * sizeof(*tmp));

	if (!rank || !tmp) {
		free(rank);
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		sa[i] = (int32_t)i;
		rank[i] = s[i];
	}
	for (size_t k = 1;; k *= 2) {
		sa_cmp_ctx = (struct sa_ctx){ .rank = rank, .n = n, .k = k % n };
		qsort(sa, n, sizeof(*sa), cmp_rot);
		tmp[sa[0]] = 0;
		for (size_t i = 1; i < n; i++)
			tmp[sa[i]] = tmp[sa[i - 1]] + (cmp_rot(&sa[i - 1], &sa[i]) < 0);
		memcpy(rank, tmp, n * sizeof(*rank));
		/* All ranks distinct, or the block is periodic and can't be split. */
		if ((size_t)rank[sa[n - 1]] == n - 1 || k >= n)
			break;
	}
	free(rank);
	free(tmp);
	return 0;
}

/* out[i] = last column; returns the row of the original string, or -1. */
long bwt_forward(const unsigned char *in, size_t n, unsigned char *out)
{
	int32_t *sa = malloc((n ? n : 1) * sizeof(*sa));
	long primary = 0;

	if (!sa || bwt_sort_rotations(in, n, sa)) {
		free(sa);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = in[(sa[i] + n - 1) % n];
		if (sa[i] == 0)
			primary = (long)i;
	}
	free(sa);
	return primary;
}

int bwt_inverse(const unsigned char *last, size_t n, size_t primary, unsigned char *out)
{
	size_t count[256] = { 0 }, start[256], sum = 0;
	uint32_t *next = malloc((n ? n : 1) * sizeof(*next));

	if (!next)
		return -1;
	for (size_t i = 0; i < n; i++)
		count[last[i]]++;
	for (int c = 0; c < 256; c++) {
		start[c] = sum;
		sum += count[c];
	}
	/* LF mapping: row i of the sorted matrix continues at next[i]. */
	for (size_t i = 0; i < n; i++)
		next[start[last[i]]++] = (uint32_t)i;
	for (size_t i = 0, p = next[primary]; i < n; i++) {
		out[i] = last[p];
		p = next[p];
	}
	free(next);
	return 0;
}

void mtf_encode(unsigned char *buf, size_t n)
{
	unsigned char order[256];

	for (int i = 0; i < 256; i++)
		order[i] = (unsigned char)i;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = buf[i], j = 0;

		while (order[j] != c)
			j++;
		memmove(order + 1, order, j);
		order[0] = c;
		buf[i] = j;
	}
}

void mtf_decode(unsigned char *buf, size_t n)
{
	unsigned char order[256];

	for (int i = 0; i < 256; i++)
		order[i] = (unsigned char)i;
	for (size_t i = 0; i < n; i++) {
		unsigned char j = buf[i], c = order[j];

		memmove(order + 1, order, j);
		order[0] = c;
		buf[i] = c;
	}
}

/* Zero runs become (0, run length - 1) pairs, runs capped at 256; MTF
 * output after BWT is mostly zeros. Output is at most 2n bytes. */
size_t zrle_encode(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		if (in[i]) {
			out[o++] = in[i++];
			continue;
		}
		size_t run = 0;

		while (i < n && !in[i] && run < 256) {
			run++;
			i++;
		}
		out[o++] = 0;
		out[o++] = (unsigned char)(run - 1);
	}
	return o;
}

long zrle_decode(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i]) {
			if (o >= cap)
				return -1;
			out[o++] = in[i];
			continue;
		}
		if (++i >= n || (size_t)in[i] + 1 > cap - o)
			return -1;
		memset(out + o, 0, (size_t)in[i] + 1);
		o += (size_t)in[i] + 1;
	}
	return (long)o;
}

uint64_t bwt_selftest(uint64_t seed)
{
	static const size_t sizes[] = { 1, 2, 7, 300, 5000, 20000 };
	uint64_t rng = seed, digest = 0;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s], zlen;
		unsigned char *in = malloc(n), *t = malloc(n), *z = malloc(2 * n),
			      *back = malloc(n);
		long primary, dlen;

		if (!in || !t || !z || !back) {
			KB_CHECK(0, "out of memory");
			free(in);
			free(t);
			free(z);
			free(back);
			return digest;
		}
		kb_fill_text(in, n, &rng);
		if (s == 2)
			memcpy(in, "abababa", 7); /* periodic block */
		primary = bwt_forward(in, n, t);
		KB_CHECK(primary >= 0, "bwt of %zu bytes failed", n);
		mtf_encode(t, n);
		zlen = zrle_encode(t, n, z);
		dlen = zrle_decode(z, zlen, t, n);
		KB_CHECK(dlen == (long)n, "zrle round trip of %zu bytes: %ld", n, dlen);
		mtf_decode(t, n);
		KB_CHECK(!bwt_inverse(t, n, (size_t)primary, back), "inverse bwt: no memory");
		KB_CHECK(!memcmp(in, back, n), "bwt round trip of %zu bytes", n);
		if (n >= 5000)
			KB_CHECK(zlen < n, "text of %zu bytes grew to %zu", n, zlen);
		digest = kb_mix(digest, zlen);
		digest = kb_mix(digest, (uint64_t)primary);
		free(in);
		free(t);
		free(z);
		free(back);
	}
	return digest;
}
