/* swapbench selftest-noise: how far to trust this machine. Runs the A/A
 * experiment of a suite (one kernel under two names, cells interleaved) and
 * reports, per metric, the spread, the minimum detectable effect and how
 * many rows compare calls different although nothing differs. */
#define _GNU_SOURCE
#include "harness/cmd.h"
#include "harness/compare.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct run_opts ro;
static struct compare_opts co;
static int json;

static const struct opt_def selftest_opts[] = {
	OPT_STRING("kernel", &ro.aa_kernel, "NAME", "the suite's kernel to use (default the first)"),
	OPT_INTEGER("iterations", &ro.iterations, "N", 3, 1000, "iterations per side (default 8)"),
	OPT_STRING("out", &ro.out_dir, "DIR", "results directory (default\nresults/<suite>-aa-<time>)"),
	OPT_BOOL("resume", &ro.resume, "finish an interrupted self-check in DIR"),
	OPT_ENUM("accel", &ro.accel, "A", opt_accels, "override the suite: auto, kvm or tcg"),
	OPT_CALLBACK("threshold", &co.threshold_pct, "PCT", opt_parse_pct,
		     "reporting threshold (default 5), as compare's"),
	OPT_BOOL("json", &json, "the report as JSON"),
	OPT_END(),
};

const struct cmd_def cmd_selftest_noise_def = {
	"selftest-noise", "SUITE",
	"A/A experiment of a suite: false-positive rate and MDE per metric here",
	"Runs the A/A experiment of SUITE on this machine: its kernel NAME (default\n"
	"the first) twice, as A and B, every topology and workload, N iterations\n"
	"(default 8) interleaved A, B, A, B... Then compares A with B, where\n"
	"nothing differs, and prints per metric the CoeffVar of each side, the\n"
	"minimum detectable effect (unpaired and paired), the verdicts, and the\n"
	"false-positive rate: the share of rows called better or worse. The\n"
	"results stay in DIR for compare (docs/noise.md).\n",
	selftest_opts, 1, 1,
	"Exit: 0 done (even when the rate is high: read it), 2 bad input, 3 cells\n"
	"failed (the table covers the others).\n",
};

static double jnum(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static const char *fmt_pct(const json_t *v, char *buf, size_t len)
{
	if (json_is_number(v))
		snprintf(buf, len, "%.1f%%", json_number_value(v));
	else
		snprintf(buf, len, "n/a");
	return buf;
}

/* The A/A report: one row per (group, metric); rates over all rows. */
static json_t *aa_report(const json_t *cmp, const json_t *paired)
{
	json_t *rows = json_array(), *g, *m;
	size_t gi, mi, n = 0, flagged = 0, pflagged = 0, under = 0;

	json_array_foreach(json_object_get(cmp, "groups"), gi, g) {
		const json_t *pg = json_array_get(json_object_get(paired, "groups"), gi);

		json_array_foreach(json_object_get(g, "metrics"), mi, m) {
			const json_t *cols = json_object_get(m, "columns");
			const json_t *ch = json_array_get(json_object_get(m, "changes"), 1);
			const json_t *pm = json_array_get(json_object_get(pg, "metrics"), mi);
			const json_t *pch = json_array_get(json_object_get(pm, "changes"), 1);
			const char *v = json_string_value(json_object_get(ch, "verdict")) ?: "";
			const char *pv = json_string_value(json_object_get(pch, "verdict")) ?: "";

			if (!json_is_object(ch))
				continue;
			n++;
			flagged += !strcmp(v, "better") || !strcmp(v, "worse");
			pflagged += !strcmp(pv, "better") || !strcmp(pv, "worse");
			under += !strcmp(v, "underpowered");
			json_array_append_new(rows, json_pack(
				"{s:O,s:O,s:O,s:f,s:f,s:O,s:O,s:O,s:s,s:s}", "topology",
				json_object_get(g, "topology"), "workload",
				json_object_get(g, "workload"), "metric", json_object_get(m, "name"),
				"cv_a", jnum(json_array_get(cols, 0), "cv"), "cv_b",
				jnum(json_array_get(cols, 1), "cv"), "mde_pct",
				json_object_get(ch, "mde_pct"), "paired_mde_pct",
				json_object_get(ch, "paired_mde_pct") ?: json_null(), "welch_p",
				json_object_get(ch, "welch_p"), "verdict", v, "paired_verdict", pv));
		}
	}
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:f,s:f}", "rows", rows, "n_rows", (json_int_t)n,
			 "flagged", (json_int_t)flagged, "flagged_paired", (json_int_t)pflagged,
			 "underpowered", (json_int_t)under, "false_positive_rate",
			 n ? (double)flagged / n : 0.0, "false_positive_rate_paired",
			 n ? (double)pflagged / n : 0.0);
}

static void print_report(const json_t *rep, const json_t *cmp, FILE *out)
{
	const json_t *r, *g;
	size_t i;
	char a[16], b[16];

	fprintf(out, "A/A self-check (same kernel as A and B; any difference is noise)\n"
		     "%-28s %-16s %6s %6s %8s %8s  %s\n", "metric", "topology/workload", "CV A",
		"CV B", "MDE", "paired", "verdict");
	json_array_foreach(json_object_get(rep, "rows"), i, r) {
		char grp[64];

		snprintf(grp, sizeof(grp), "%s/%s",
			 json_string_value(json_object_get(r, "topology")),
			 json_string_value(json_object_get(r, "workload")));
		fprintf(out, "%-28.28s %-16.16s %5.1f%% %5.1f%% %8s %8s  %s\n",
			json_string_value(json_object_get(r, "metric")), grp,
			100 * jnum(r, "cv_a"), 100 * jnum(r, "cv_b"),
			fmt_pct(json_object_get(r, "mde_pct"), a, sizeof(a)),
			fmt_pct(json_object_get(r, "paired_mde_pct"), b, sizeof(b)),
			json_string_value(json_object_get(r, "verdict")));
	}
	json_array_foreach(json_object_get(cmp, "groups"), i, g) {
		const json_t *h = json_object_get(g, "host_noise"), *w;
		size_t j;

		if (json_is_array(h) && json_is_object(json_array_get(h, 0)))
			fprintf(out, "host during %s/%s: others used %.0f%% (A) and %.0f%% (B) "
				"of the CPUs, load %.1f and %.1f\n",
				json_string_value(json_object_get(g, "topology")),
				json_string_value(json_object_get(g, "workload")),
				100 * jnum(json_array_get(h, 0), "others_busy"),
				100 * jnum(json_array_get(h, 1), "others_busy"),
				jnum(json_array_get(h, 0), "load1"),
				jnum(json_array_get(h, 1), "load1"));
		json_array_foreach(json_object_get(g, "host_warnings"), j, w)
			fprintf(out, "warning: %s\n", json_string_value(w));
	}
	fprintf(out, "False positives: %lld of %lld rows (%.1f%%) called better/worse by "
		"compare;\n%lld (%.1f%%) by the paired t-test (compare --paired). Expect "
		"<= 5%%.\n%lld rows underpowered: changes below their MDE would go "
		"unseen.\n",
		(long long)json_integer_value(json_object_get(rep, "flagged")),
		(long long)json_integer_value(json_object_get(rep, "n_rows")),
		100 * jnum(rep, "false_positive_rate"),
		(long long)json_integer_value(json_object_get(rep, "flagged_paired")),
		100 * jnum(rep, "false_positive_rate_paired"),
		(long long)json_integer_value(json_object_get(rep, "underpowered")));
}

int cmd_selftest_noise(int argc, char **argv)
{
	json_t *cmp = NULL, *pcmp = NULL, *rep;
	char *out = NULL;
	const char *dirs[1];
	int code, first;

	ro.aa = 1;
	ro.iterations = 8;
	if ((code = opt_parse(&cmd_selftest_noise_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(code);
	ro.spec_path = argv[first];
	if (!ro.out_dir) {
		char stamp[32], *base = strrchr(ro.spec_path, '/'), *dot;
		time_t t = time(NULL);

		base = xstrdup(base ? base + 1 : ro.spec_path);
		if ((dot = strrchr(base, '.')))
			*dot = '\0';
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&t));
		out = xasprintf("results/%s-aa-%s", base, stamp);
		free(base);
		ro.out_dir = out;
	}
	code = runner_run(&ro);
	if (code == EXIT_USAGE || code == EXIT_SKIPPED) {
		free(out);
		return code;
	}
	dirs[0] = ro.out_dir;
	if (compare_build(dirs, 1, &co, &cmp)) {
		log_err("%s", sb_lasterr());
		free(out);
		return EXIT_CELLS_FAILED;
	}
	co.paired = 1;
	if (compare_build(dirs, 1, &co, &pcmp)) {
		log_err("%s", sb_lasterr());
		json_decref(cmp);
		free(out);
		return EXIT_CELLS_FAILED;
	}
	rep = aa_report(cmp, pcmp);
	if (json) {
		json_object_set_new(rep, "run", json_string(ro.out_dir));
		json_dumpf(rep, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		putchar('\n');
		print_report(rep, cmp, stdout);
		printf("Results: %s (swapbench compare %s [--paired])\n", ro.out_dir, ro.out_dir);
	}
	json_decref(rep);
	json_decref(cmp);
	json_decref(pcmp);
	free(out);
	return code == EXIT_OK ? EXIT_OK : code;
}
