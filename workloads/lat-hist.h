/* A log-linear latency histogram in nanoseconds: cheap enough to take
 * every page access of the anon workload (hist_add is inline), merged over
 * processes, summarised as percentiles and decade counts. */
#ifndef SB_WL_LAT_HIST_H
#define SB_WL_LAT_HIST_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

/* Log-linear histogram: values below 16 ns get exact buckets, then every
 * power of two of nanoseconds is split into 16 linear sub-buckets (6.25%
 * resolution). The top row covers 2^36..2^37-1 ns (~69..137 s); anything
 * larger is clamped into the last bucket (the exact max is kept apart). */
#define HIST_SUB_BITS		4
#define HIST_SUB		(1U << HIST_SUB_BITS)
#define HIST_MAX_MSB		36
#define HIST_BUCKETS		(HIST_SUB + (HIST_MAX_MSB - HIST_SUB_BITS + 1) * HIST_SUB)

struct lat_hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
};

static inline void hist_init(struct lat_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

static inline unsigned int hist_idx(uint64_t v)
{
	unsigned int msb;

	if (v < HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	if (msb > HIST_MAX_MSB)
		return HIST_BUCKETS - 1;
	return HIST_SUB + (msb - HIST_SUB_BITS) * HIST_SUB +
	       (unsigned int)((v >> (msb - HIST_SUB_BITS)) - HIST_SUB);
}

static inline void hist_add(struct lat_hist *h, uint64_t v)
{
	h->count[hist_idx(v)]++;
	h->n++;
	h->sum_ns += v;
	if (v > h->max_ns)
		h->max_ns = v;
	if (v < h->min_ns)
		h->min_ns = v;
}

void hist_merge(struct lat_hist *dst, const struct lat_hist *src);
/* The highest value equivalent to the q-quantile's bucket, capped at the
 * exact max so that p50 <= ... <= max always holds. */
uint64_t hist_quantile(const struct lat_hist *h, double q);
/* {accesses, min/mean/p50/p90/p99/p99.9/max_us, counts per decade}. */
json_t *hist_summary(const struct lat_hist *h);

#endif
