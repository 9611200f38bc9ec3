/* String search and comparison: naive, Knuth-Morris-Pratt, Boyer-Moore-
 * Horspool, Rabin-Karp and Z-algorithm substring search (all must find
 * the same occurrences), Levenshtein distance and longest common
 * subsequence with two-row dynamic programming. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef size_t (*search_fn)(const unsigned char *t, size_t n, const unsigned char *p,
			    size_t m, size_t *hits, size_t max_hits);

static size_t add_hit(size_t *hits, size_t nhits, size_t max_hits, size_t pos)
{
	if (nhits < max_hits)
		hits[nhits] = pos;
	return nhits + 1;
}

size_t search_naive(const unsigned char *t, size_t n, const unsigned char *p, size_t m,
		    size_t *hits, size_t max_hits)
{
	size_t nh = 0;

	if (!m || m > n)
		return 0;
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(t + i, p, m))
			nh = add_hit(hits, nh, max_hits, i);
	return nh;
}

size_t search_kmp(const unsigned char *t, size_t n, const unsigned char *p, size_t m,
		  size_t *hits, size_t max_hits)
{
	size_t *fail, nh = 0, k = 0;

	if (!m || m > n || !(fail = malloc(m * sizeof(*fail))))
		return 0;
	/* fail[i]: length of the longest proper border of p[0..i]. */
	fail[0] = 0;
	for (size_t i = 1; i < m; i++) {
		while (k && p[i] != p[k])
			k = fail[k - 1];
		if (p[i] == p[k])
			k++;
		fail[i] = k;
	}
	k = 0;
	for (size_t i = 0; i < n; i++) {
		while (k && t[i] != p[k])
			k = fail[k - 1];
		if (t[i] == p[k])
			k++;
		if (k == m) {
			nh = add_hit(hits, nh, max_hits, i + 1 - m);
			k = fail[k - 1];
		}
	}
	free(fail);
	return nh;
}

size_t search_horspool(const unsigned char *t, size_t n, const unsigned char *p, size_t m,
		       size_t *hits, size_t max_hits)
{
	size_t shift[256], nh = 0;

	if (!m || m > n)
		return 0;
	for (int c = 0; c < 256; c++)
		shift[c] = m;
	for (size_t i = 0; i + 1 < m; i++)
		shift[p[i]] = m - 1 - i;
	for (size_t i = 0; i + m <= n; i += shift[t[i + m - 1]]) {
		if (t[i + m - 1] == p[m - 1] && !memcmp(t + i, p, m - 1))
			nh = add_hit(hits, nh, max_hits, i);
	}
	return nh;
}

size_t search_rabin_karp(const unsigned char *t, size_t n, const unsigned char *p, size_t m,
			 size_t *hits, size_t max_hits)
{
	const uint64_t base = 257, mod = (1ULL << 61) - 1;
	uint64_t hp = 0, ht = 0, pow = 1;
	size_t nh = 0;

	if (!m || m > n)
		return 0;
	for (size_t i = 0; i < m; i++) {
		hp = (uint64_t)(((unsigned __int128)hp * base + p[i]) % mod);
		ht = (uint64_t)(((unsigned __int128)ht * base + t[i]) % mod);
		if (i)
			pow = (uint64_t)(((unsigned __int128)pow * base) % mod);
	}
	for (size_t i = 0;; i++) {
		/* Equal hashes are only candidates: confirm. */
		if (hp == ht && !memcmp(t + i, p, m))
			nh = add_hit(hits, nh, max_hits, i);
		if (i + m >= n)
			break;
		ht = (uint64_t)((ht + mod - (unsigned __int128)t[i] * pow % mod) % mod);
		ht = (uint64_t)(((unsigned __int128)ht * base + t[i + m]) % mod);
	}
	return nh;
}

size_t search_z(const unsigned char *t, size_t n, const unsigned char *p, size_t m,
		size_t *hits, size_t max_hits)
{
	size_t len = m + 1 + n, *z, nh = 0, l = 0, r = 0;
	int *s;

	if (!m || m > n)
		return 0;
	z = calloc(len, sizeof(*z));
	s = malloc(len * sizeof(*s));
	if (!z || !s) {
		free(z);
		free(s);
		return 0;
	}
	/* Pattern, a separator no byte equals, then the text. */
	for (size_t i = 0; i < m; i++)
		s[i] = p[i];
	s[m] = -1;
	for (size_t i = 0; i < n; i++)
		s[m + 1 + i] = t[i];
	for (size_t i = 1; i < len; i++) {
		if (i < r)
			z[i] = r - i < z[i - l] ? r - i : z[i - l];
		while (i + z[i] < len && s[z[i]] == s[i + z[i]])
			z[i]++;
		if (i + z[i] > r) {
			l = i;
			r = i + z[i];
		}
		if (i > m && z[i] >= m)
			nh = add_hit(hits, nh, max_hits, i - m - 1);
	}
	free(z);
	free(s);
	return nh;
}

size_t levenshtein(const unsigned char *a, size_t n, const unsigned char *b, size_t m)
{
	size_t *prev = malloc((m + 1) * sizeof(size_t)), *cur = malloc((m + 1) * sizeof(size_t));
	size_t d;

	if (!prev || !cur) {
		free(prev);
		free(cur);
		return (size_t)-1;
	}
	for (size_t j = 0; j <= m; j++)
		prev[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1,
			       sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? (del < sub ? del : sub) : (ins < sub ? ins : sub);
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	d = prev[m];
	free(prev);
	free(cur);
	return d;
}

size_t lcs_length(const unsigned char *a, size_t n, const unsigned char *b, size_t m)
{
	size_t *prev = calloc(m + 1, sizeof(size_t)), *cur = calloc(m + 1, sizeof(size_t));
	size_t l;

	if (!prev || !cur) {
		free(prev);
		free(cur);
		return 0;
	}
	for (size_t i = 1; i <= n; i++) {
		size_t *t;

		for (size_t j = 1; j <= m; j++)
			cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1
			       : prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
		t = prev;
		prev = cur;
		cur = t;
	}
	l = prev[m];
	free(prev);
	free(cur);
	return l;
}

uint64_t strsearch_selftest(uint64_t seed)
{
	static const struct {
		const char *name;
		search_fn fn;
	} fns[] = {
		{ "kmp", search_kmp }, { "horspool", search_horspool },
		{ "rabin-karp", search_rabin_karp }, { "z", search_z },
	};
	enum { TEXT = 30000, MAXHITS = 4096 };
	static unsigned char text[TEXT];
	static size_t ref[MAXHITS], got[MAXHITS];
	uint64_t rng = seed, digest = 0;

	kb_fill_text(text, TEXT, &rng);
	for (int round = 0; round < 40; round++) {
		size_t m = 1 + (size_t)(kb_rand(&rng) % 12);
		size_t at = (size_t)(kb_rand(&rng) % (TEXT - m));
		size_t nref = search_naive(text, TEXT, text + at, m, ref, MAXHITS);

		KB_CHECK(nref >= 1, "pattern taken from the text not found");
		for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
			size_t ngot = fns[f].fn(text, TEXT, text + at, m, got, MAXHITS);
			size_t cmp = ngot < MAXHITS ? ngot : MAXHITS;

			KB_CHECK(ngot == nref && !memcmp(got, ref, cmp * sizeof(size_t)),
				 "%s: %zu hits for a %zu-byte pattern, naive found %zu",
				 fns[f].name, ngot, m, nref);
		}
		digest = kb_mix(digest, nref);
	}
	KB_CHECK(levenshtein((const unsigned char *)"kitten", 6,
			     (const unsigned char *)"sitting", 7) == 3, "kitten/sitting");
	KB_CHECK(lcs_length((const unsigned char *)"ABCBDAB", 7,
			    (const unsigned char *)"BDCABA", 6) == 4, "lcs of the textbook pair");
	for (int round = 0; round < 8; round++) {
		size_t a = (size_t)(kb_rand(&rng) % (TEXT - 400));
		size_t b = (size_t)(kb_rand(&rng) % (TEXT - 400));
		size_t d = levenshtein(text + a, 300, text + b, 350);
		size_t l = lcs_length(text + a, 300, text + b, 350);

		/* Both are bounded by the lengths and each other. */
		KB_CHECK(d >= 50 && d <= 350, "levenshtein %zu out of range", d);
		KB_CHECK(l <= 300 && d >= 350 - l, "lcs %zu vs distance %zu", l, d);
		digest = kb_mix(digest, d);
		digest = kb_mix(digest, l);
	}
	return digest;
}
