/* What a comparison could have detected, and whether the host was fair to
 * both sides (docs/noise.md).
 *
 * compare.c builds each metric row's change; these functions add to it:
 * the minimum detectable effect (MDE) at the row's n and spread, a paired
 * analysis of adjacent interleaved cells when the columns are kernels of
 * one run, the `same` / `underpowered` verdicts, and per-column host noise.
 */
#ifndef SB_COMPARE_POWER_H
#define SB_COMPARE_POWER_H

#include <jansson.h>

/* The MDE is for a two-sided test at this level and power. */
#define POWER_ALPHA 0.05
#define POWER_POWER 0.80
/* Default reporting threshold (compare --threshold): `same` needs an MDE
 * of at most twice this, in percent of the baseline. */
#define POWER_THRESHOLD_PCT 5.0
/* Paired analysis needs this many matched iterations. */
#define POWER_MIN_PAIRS 3

struct power_opts {
	double threshold_pct; /* > 0 */
	int paired;           /* verdict from the paired test (kernels mode) */
	int pairable;         /* columns are kernels of one interleaved run */
};

/* Add mde, mde_pct, threshold-based verdict and (when pairable) paired_*
 * fields to change `ch` of candidate stats `c` against baseline stats `b`
 * (stat objects with n, mean, stddev, values, iterations). hb: higher is
 * better. Rewrites a verdict of "noise"/"same" to "same" or
 * "underpowered"; with o->paired, the verdict comes from the paired test. */
void power_annotate(json_t *ch, const json_t *b, const json_t *c, int hb,
		    const struct power_opts *o);

/* Add the definitions of mde, paired and verdict to compare's conventions. */
void power_conventions(json_t *conv, const struct power_opts *o);

/* Mean host noise over the ok cells of (kernel, topology, workload) in a
 * run's summary: {"cells", "others_busy", "load1", "qemu_cpu_per_wall"}, or
 * NULL when no cell recorded it. */
json_t *power_host_noise(const json_t *summary, const char *kernel, const char *topo,
			 const char *wl);

/* A warning when column c's host was busier than the baseline's (or the
 * other way round) by HOST_NOISE_BUSIER of the host CPUs; NULL otherwise.
 * Labels name the columns. */
char *power_host_warning(const json_t *base, const char *base_label, const json_t *cand,
			 const char *cand_label);

#endif
