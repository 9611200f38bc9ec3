#include "workloads/lat-hist.h"

#include <math.h>

static uint64_t hist_lo(unsigned int idx)
{
	unsigned int row, sub;

	if (idx < HIST_SUB)
		return idx;
	row = (idx - HIST_SUB) / HIST_SUB;
	sub = (idx - HIST_SUB) % HIST_SUB;
	return (uint64_t)(HIST_SUB + sub) << row;
}

static uint64_t hist_hi(unsigned int idx)
{
	if (idx < HIST_SUB)
		return idx;
	return hist_lo(idx) + (1ULL << ((idx - HIST_SUB) / HIST_SUB)) - 1;
}

void hist_merge(struct lat_hist *dst, const struct lat_hist *src)
{
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		dst->count[i] += src->count[i];
	dst->n += src->n;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
}

uint64_t hist_quantile(const struct lat_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->n)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->n);
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank)
			return hist_hi(i) < h->max_ns ? hist_hi(i) : h->max_ns;
	}
	return h->max_ns;
}

json_t *hist_summary(const struct lat_hist *h)
{
	/* Decade counts by bucket lower bound, so edges are fuzzy by one bucket. */
	static const struct { const char *name; uint64_t below; } decades[] = {
		{ "lt_1us", 1000ULL },		{ "1us_10us", 10000ULL },
		{ "10us_100us", 100000ULL },	{ "100us_1ms", 1000000ULL },
		{ "1ms_10ms", 10000000ULL },	{ "10ms_100ms", 100000000ULL },
		{ "ge_100ms", UINT64_MAX },
	};
	json_t *counts = json_object();
	unsigned int b = 0;

	for (size_t d = 0; d < sizeof(decades) / sizeof(decades[0]); d++) {
		uint64_t c = 0;

		for (; b < HIST_BUCKETS && hist_lo(b) < decades[d].below; b++)
			c += h->count[b];
		json_object_set_new(counts, decades[d].name, json_integer((json_int_t)c));
	}
	return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:o}",
			 "accesses", (json_int_t)h->n,
			 "min_us", h->n ? h->min_ns / 1e3 : 0.0,
			 "mean_us", h->n ? (double)h->sum_ns / (double)h->n / 1e3 : 0.0,
			 "p50_us", hist_quantile(h, 0.5) / 1e3,
			 "p90_us", hist_quantile(h, 0.9) / 1e3,
			 "p99_us", hist_quantile(h, 0.99) / 1e3,
			 "p99.9_us", hist_quantile(h, 0.999) / 1e3,
			 "max_us", h->max_ns / 1e3,
			 "counts", counts);
}

