#define _GNU_SOURCE
#include "harness/compare-power.h"
#include "harness/compare.h"
#include "common/fsutil.h"
#include "harness/hostnoise.h"
#include "common/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double jnum(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Values of b and c from the same iteration, in iteration order. */
static size_t pairs(const json_t *b, const json_t *c, double **pa, double **pc)
{
	const json_t *bi = json_object_get(b, "iterations"), *ci = json_object_get(c, "iterations");
	const json_t *bv = json_object_get(b, "values"), *cv = json_object_get(c, "values");
	size_t nb = json_array_size(bi), nc = json_array_size(ci), n = 0;

	*pa = calloc(nb + 1, sizeof(double));
	*pc = calloc(nb + 1, sizeof(double));
	if (nb != json_array_size(bv) || nc != json_array_size(cv))
		return 0;
	for (size_t i = 0; i < nb; i++) {
		json_int_t it = json_integer_value(json_array_get(bi, i));

		if (!json_is_integer(json_array_get(bi, i)))
			continue;
		for (size_t j = 0; j < nc; j++)
			if (json_is_integer(json_array_get(ci, j)) &&
			    json_integer_value(json_array_get(ci, j)) == it) {
				(*pa)[n] = json_number_value(json_array_get(bv, i));
				(*pc)[n] = json_number_value(json_array_get(cv, j));
				n++;
				break;
			}
	}
	return n;
}

static void set_num(json_t *o, const char *k, double v)
{
	json_object_set_new(o, k, isfinite(v) ? json_real(v) : json_null());
}

void power_annotate(json_t *ch, const json_t *b, const json_t *c, int hb,
		    const struct power_opts *o)
{
	size_t nb = json_integer_value(json_object_get(b, "n"));
	size_t nc = json_integer_value(json_object_get(c, "n"));
	double base = fabs(jnum(b, "mean"));
	double mde = stats_mde(jnum(b, "stddev"), nb, jnum(c, "stddev"), nc, POWER_ALPHA,
			       POWER_POWER);
	double mde_pct = base > 0 ? mde / base * 100 : (mde == 0 ? 0 : NAN);
	const char *verdict = jstr(ch, "verdict");

	set_num(ch, "mde", mde);
	set_num(ch, "mde_pct", mde_pct);
	if (o->pairable) {
		double *pa, *pc, md, sd, p;
		size_t n = pairs(b, c, &pa, &pc);

		json_object_set_new(ch, "pairs", json_integer((json_int_t)n));
		if (n >= 2 && stats_paired(pa, pc, n, &md, &sd, &p) == 0) {
			/* The paired test is a one-sample t on the n differences:
			 * the same formula with se sd/sqrt(n) and n-1 df. */
			double pm = (stats_t_quantile(1 - POWER_ALPHA / 2, (double)(n - 1)) +
				     stats_t_quantile(POWER_POWER, (double)(n - 1))) * sd /
				    sqrt((double)n);
			set_num(ch, "paired_p", p);
			set_num(ch, "paired_change_pct",
				base > 0 ? (hb ? md : -md) / base * 100 : NAN);
			set_num(ch, "paired_mde_pct", base > 0 ? pm / base * 100 : NAN);
			if (o->paired && n >= POWER_MIN_PAIRS) {
				mde_pct = base > 0 ? pm / base * 100 : NAN;
				if (p < POWER_ALPHA)
					verdict = (hb ? md : -md) >= 0 ? "better" : "worse";
				else
					verdict = "same";
				json_object_set_new(ch, "significant", json_boolean(p < POWER_ALPHA));
			}
		}
		free(pa);
		free(pc);
	}
	/* Not significant: "same" only when a change of twice the threshold
	 * would have been seen; otherwise say the run could not tell. */
	if (!strcmp(verdict, "noise") || !strcmp(verdict, "same"))
		verdict = isfinite(mde_pct) && mde_pct <= 2 * o->threshold_pct ? "same"
									: "underpowered";
	json_object_set_new(ch, "verdict", json_string(verdict));
}

void power_conventions(json_t *conv, const struct power_opts *o)
{
	json_object_set_new(conv, "mde", json_string(
		"minimum detectable effect: (t(1-alpha/2, df) + t(power, df)) * sqrt(sb^2/nb + "
		"sc^2/nc), Welch-Satterthwaite df, alpha 0.05 two-sided, power 0.8; mde_pct in "
		"percent of the baseline mean"));
	json_object_set_new(conv, "paired", json_string(
		"kernels of one run: the iterations of both columns matched by number (adjacent "
		"interleaved cells); paired_p is the paired t-test, paired_mde_pct its MDE"));
	json_object_set_new(conv, "verdict", json_string(
		o->paired ? "better/worse when paired_p < 0.05 (n >= 3 pairs), else same when "
			    "paired_mde_pct <= 2 x threshold_pct, else underpowered"
			  : "better/worse when significant, else same when mde_pct <= 2 x "
			    "threshold_pct, else underpowered; too few runs when n < 2"));
	json_object_set_new(conv, "threshold_pct", json_real(o->threshold_pct));
	json_object_set_new(conv, "verdict_test", json_string(o->paired ? "paired" : "ci"));
}

json_t *power_host_noise(const json_t *summary, const char *kernel, const char *topo,
			 const char *wl)
{
	const json_t *cell;
	double others = 0, load = 0, qcpu = 0;
	size_t i, n = 0;

	json_array_foreach(json_object_get(summary, "cells"), i, cell) {
		const json_t *hn = json_object_get(cell, "host_noise");

		if (!json_is_object(hn) || strcmp(jstr(cell, "status") ?: "", "ok") ||
		    strcmp(jstr(cell, "kernel") ?: "", kernel) ||
		    strcmp(jstr(cell, "topology") ?: "", topo) ||
		    strcmp(jstr(cell, "workload") ?: "", wl))
			continue;
		others += jnum(hn, "others_busy");
		load += (jnum(hn, "load1_start") + jnum(hn, "load1_end")) / 2;
		qcpu += jnum(hn, "qemu_cpu_per_wall");
		n++;
	}
	if (!n)
		return NULL;
	return json_pack("{s:I,s:f,s:f,s:f}", "cells", (json_int_t)n, "others_busy", others / n,
			 "load1", load / n, "qemu_cpu_per_wall", qcpu / n);
}

char *power_host_warning(const json_t *base, const char *base_label, const json_t *cand,
			 const char *cand_label)
{
	double ob, oc;

	if (!json_is_object(base) || !json_is_object(cand))
		return NULL;
	ob = jnum(base, "others_busy");
	oc = jnum(cand, "others_busy");
	if (fabs(oc - ob) <= HOST_NOISE_BUSIER)
		return NULL;
	return xasprintf("the host was busier during %s: other processes used %.0f%% of its "
			 "CPUs (load %.1f), against %.0f%% (load %.1f) during %s",
			 oc > ob ? cand_label : base_label, 100 * (oc > ob ? oc : ob),
			 jnum(oc > ob ? cand : base, "load1"), 100 * (oc > ob ? ob : oc),
			 jnum(oc > ob ? base : cand, "load1"), oc > ob ? base_label : cand_label);
}
