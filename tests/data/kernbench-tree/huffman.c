/* Canonical Huffman coding of bytes: code lengths from a binary heap of
 * symbol weights (limited to 15 bits by flattening the counts and
 * rebuilding), canonical code assignment, a bit writer, and a table-free
 * decoder that walks the canonical length classes. Format: 256 length
 * nibbles (128 bytes), 4-byte little-endian symbol count, then the bits. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#define NSYM		256
#define MAX_BITS	15

struct node {
	uint64_t weight;
	int left, right;	/* children, or -1 for a leaf */
	int sym;
};

struct heap {
	int *idx;
	int n;
	const struct node *nodes;
};

static int heap_less(const struct heap *h, int a, int b)
{
	const struct node *x = &h->nodes[h->idx[a]], *y = &h->nodes[h->idx[b]];

	/* Ties broken by index so the code is deterministic. */
	return x->weight < y->weight || (x->weight == y->weight && h->idx[a] < h->idx[b]);
}

static void heap_swap(struct heap *h, int a, int b)
{
	int t = h->idx[a];

	h->idx[a] = h->idx[b];
	h->idx[b] = t;
}

static void heap_push(struct heap *h, int node)
{
	int i = h->n++;

	h->idx[i] = node;
	while (i > 0 && heap_less(h, i, (i - 1) / 2)) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static int heap_pop(struct heap *h)
{
	int top = h->idx[0], i = 0;

	h->idx[0] = h->idx[--h->n];
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && heap_less(h, l, m))
			m = l;
		if (r < h->n && heap_less(h, r, m))
			m = r;
		if (m == i)
			break;
		heap_swap(h, i, m);
		i = m;
	}
	return top;
}

static void depths(const struct node *nodes, int n, int depth, unsigned char *len)
{
	if (nodes[n].left < 0) {
		len[nodes[n].sym] = (unsigned char)(depth ? depth : 1);
		return;
	}
	depths(nodes, nodes[n].left, depth + 1, len);
	depths(nodes, nodes[n].right, depth + 1, len);
}

/* Code lengths for the given counts; 0 for unused symbols. */
void huffman_lengths(const uint64_t *counts, unsigned char *len)
{
	uint64_t w[NSYM];
	struct node nodes[2 * NSYM];
	int idx[2 * NSYM];

	memcpy(w, counts, sizeof(w));
	for (;;) {
		struct heap h = { .idx = idx, .n = 0, .nodes = nodes };
		int nn = 0, maxlen = 0;

		memset(len, 0, NSYM);
		for (int s = 0; s < NSYM; s++) {
			if (!w[s])
				continue;
			nodes[nn] = (struct node){ .weight = w[s], .left = -1, .right = -1,
						   .sym = s };
			heap_push(&h, nn++);
		}
		if (!nn)
			return;
		while (h.n > 1) {
			int a = heap_pop(&h), b = heap_pop(&h);

			nodes[nn] = (struct node){ .weight = nodes[a].weight + nodes[b].weight,
						   .left = a, .right = b, .sym = -1 };
			heap_push(&h, nn++);
		}
		depths(nodes, heap_pop(&h), 0, len);
		for (int s = 0; s < NSYM; s++)
			if (len[s] > maxlen)
				maxlen = len[s];
		if (maxlen <= MAX_BITS)
			return;
		/* Too deep: flatten the distribution and try again. */
		for (int s = 0; s < NSYM; s++)
			if (w[s])
				w[s] = (w[s] >> 1) | 1;
	}
}

/* Canonical codes: shorter codes first, then by symbol. */
static void canonical(const unsigned char *len, uint16_t *code, uint16_t *first,
		      uint16_t *count, uint16_t *offset, unsigned char *sorted)
{
	uint16_t next[MAX_BITS + 2] = { 0 };
	int k = 0;

	memset(count, 0, (MAX_BITS + 1) * sizeof(*count));
	for (int s = 0; s < NSYM; s++)
		count[len[s]]++;
	count[0] = 0;
	for (int b = 1, c = 0; b <= MAX_BITS; b++) {
		c = (c + count[b - 1]) << 1;
		next[b] = (uint16_t)c;
		first[b] = (uint16_t)c;
	}
	for (int b = 1; b <= MAX_BITS; b++) {
		offset[b] = (uint16_t)k;
		for (int s = 0; s < NSYM; s++)
			if (len[s] == b)
				sorted[k++] = (unsigned char)s;
	}
	for (int s = 0; s < NSYM; s++)
		if (len[s])
			code[s] = next[len[s]]++;
}

struct bitwriter {
	unsigned char *out;
	size_t pos;
	uint32_t acc;
	int nbits;
};

static void put_bits(struct bitwriter *w, uint32_t v, int n)
{
	/* MSB first, so canonical prefixes compare as integers. */
	for (int i = n - 1; i >= 0; i--) {
		w->acc = w->acc << 1 | ((v >> i) & 1);
		if (++w->nbits == 8) {
			w->out[w->pos++] = (unsigned char)w->acc;
			w->acc = 0;
			w->nbits = 0;
		}
	}
}

size_t huffman_bound(size_t n)
{
	return 128 + 4 + (n * MAX_BITS + 7) / 8 + 1;
}

size_t huffman_encode(const unsigned char *in, size_t n, unsigned char *out)
{
	uint64_t counts[NSYM] = { 0 };
	unsigned char len[NSYM], sorted[NSYM];
	uint16_t code[NSYM], first[MAX_BITS + 2], count[MAX_BITS + 1], offset[MAX_BITS + 1];
	struct bitwriter w = { .out = out, .pos = 132 };

	for (size_t i = 0; i < n; i++)
		counts[in[i]]++;
	huffman_lengths(counts, len);
	canonical(len, code, first, count, offset, sorted);
	for (int s = 0; s < NSYM; s += 2)
		out[s / 2] = (unsigned char)(len[s] << 4 | len[s + 1]);
	for (int i = 0; i < 4; i++)
		out[128 + i] = (unsigned char)(n >> (8 * i));
	for (size_t i = 0; i < n; i++)
		put_bits(&w, code[in[i]], len[in[i]]);
	if (w.nbits)
		put_bits(&w, 0, 8 - w.nbits);
	return w.pos;
}

long huffman_decode(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap)
{
	unsigned char len[NSYM], sorted[NSYM];
	uint16_t code[NSYM], first[MAX_BITS + 2], count[MAX_BITS + 1], offset[MAX_BITS + 1];
	size_t n = 0, bit = 0, total;

	if (inlen < 132)
		return -1;
	total = (inlen - 132) * 8;
	for (int s = 0; s < NSYM; s += 2) {
		len[s] = in[s / 2] >> 4;
		len[s + 1] = in[s / 2] & 15;
	}
	for (int i = 0; i < 4; i++)
		n |= (size_t)in[128 + i] << (8 * i);
	if (n > cap)
		return -1;
	canonical(len, code, first, count, offset, sorted);
	for (size_t o = 0; o < n; o++) {
		uint32_t c = 0;
		int b;

		for (b = 1; b <= MAX_BITS; b++) {
			if (bit >= total)
				return -1;
			c = c << 1 | ((in[132 + bit / 8] >> (7 - bit % 8)) & 1);
			bit++;
			if (count[b] && c - first[b] < count[b]) {
				out[o] = sorted[offset[b] + c - first[b]];
				break;
			}
		}
		if (b > MAX_BITS)
			return -1;
	}
	return (long)n;
}

/* Shannon entropy in millibits per byte, for the compression check. */
static unsigned long entropy_mbits(const unsigned char *in, size_t n)
{
	uint64_t counts[NSYM] = { 0 };
	double h = 0;

	for (size_t i = 0; i < n; i++)
		counts[in[i]]++;
	for (int s = 0; s < NSYM; s++) {
		if (counts[s]) {
			double p = (double)counts[s] / (double)n;

			h -= p * __builtin_log2(p);
		}
	}
	return (unsigned long)(h * 1000);
}

uint64_t huffman_selftest(uint64_t seed)
{
	static const size_t sizes[] = { 1, 2, 31, 1000, 50000 };
	uint64_t rng = seed, digest = 0;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int kind = 0; kind < 3; kind++) {
			size_t n = sizes[s], clen;
			unsigned char *in = malloc(n), *c = malloc(huffman_bound(n)),
				      *back = malloc(n);
			long dlen;

			if (!in || !c || !back) {
				KB_CHECK(0, "out of memory");
				free(in);
				free(c);
				free(back);
				return digest;
			}
			if (kind == 0) {
				kb_fill_text(in, n, &rng);
			} else if (kind == 1) {
				for (size_t i = 0; i < n; i++)
					in[i] = (unsigned char)kb_rand(&rng);
			} else {
				/* Geometric: deep trees, exercises the length limit. */
				for (size_t i = 0; i < n; i++) {
					uint64_t r = kb_rand(&rng) | 1ULL << 40;

					in[i] = (unsigned char)__builtin_ctzll(r);
				}
			}
			clen = huffman_encode(in, n, c);
			dlen = huffman_decode(c, clen, back, n);
			KB_CHECK(dlen == (long)n && !memcmp(in, back, n),
				 "round trip of %zu bytes (kind %d)", n, kind);
			if (n >= 1000) {
				/* Within one bit per symbol of the entropy. */
				unsigned long bits = (unsigned long)((clen - 132) * 8000 / n);
				unsigned long h = entropy_mbits(in, n);

				KB_CHECK(bits <= h + 1000, "%lu mbit/byte vs entropy %lu", bits, h);
			}
			digest = kb_mix(digest, clen);
			free(in);
			free(c);
			free(back);
		}
	}
	return digest;
}
