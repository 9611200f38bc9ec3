#define _GNU_SOURCE
#include "harness/options.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char *const opt_accels[] = { "auto", "kvm", "tcg", NULL };

int opt_parse_pct(const char *arg, void *value)
{
	double v;

	if (parse_double(arg, &v) || !(v > 0) || v > 1000)
		return sb_err(EINVAL, "expected a percentage above 0 and at most 1000, got '%s'",
			      arg);
	*(double *)value = v;
	return 0;
}


static const struct opt_def help_opt = OPT_BOOL_S('h', "help", NULL, "show this help");

static size_t nopts(const struct opt_def *o)
{
	size_t n = 0;

	while (o && o[n].type != OPT_T_END)
		n++;
	return n;
}

/* "auto, kvm or tcg" */
static void choices_str(const char *const *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	while (c[n])
		n++;
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", c[i],
			 i + 2 < n ? ", " : i + 1 < n ? " or " : "");
}

/* "--out DIR" or "-o, --out DIR" */
static void left_str(const struct opt_def *o, char *buf, size_t len)
{
	if (o->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", o->short_name, o->name, o->argh ? " " : "",
			 o->argh ? o->argh : "");
	else
		snprintf(buf, len, "    --%s%s%s", o->name, o->argh ? " " : "",
			 o->argh ? o->argh : "");
}

static void print_opt(const struct opt_def *o, int width, FILE *out)
{
	char left[96];
	const char *h = o->help;

	left_str(o, left, sizeof(left));
	fprintf(out, "  %-*s  ", width, left);
	while (h) {
		const char *nl = strchr(h, '\n');

		fprintf(out, "%.*s\n", nl ? (int)(nl - h) : (int)strlen(h), h);
		if (nl)
			fprintf(out, "  %-*s  ", width, "");
		h = nl ? nl + 1 : NULL;
	}
}

void opt_usage(const struct cmd_def *d, FILE *out)
{
	size_t n = nopts(d->opts);
	int width = 14;
	char left[96];

	fprintf(out, "usage: swapbench %s%s%s%s\n", d->name, n ? " [options]" : "",
		d->args ? " " : "", d->args ? d->args : "");
	if (d->description)
		fprintf(out, "\n%s", d->description);
	for (size_t i = 0; i < n; i++) {
		left_str(&d->opts[i], left, sizeof(left));
		if ((int)strlen(left) > width)
			width = (int)strlen(left);
	}
	fputc('\n', out);
	for (size_t i = 0; i < n; i++)
		print_opt(&d->opts[i], width, out);
	print_opt(&help_opt, width, out);
	if (d->footer)
		fprintf(out, "\n%s", d->footer);
}

static int bad(const struct cmd_def *d, const struct opt_def *o, const char *what,
	       const char *arg)
{
	fprintf(stderr, "swapbench %s: --%s: expected %s, got '%s'\n", d->name, o->name, what,
		arg);
	return OPT_ERROR;
}

/* Check and store one option's value. */
static int set_value(const struct cmd_def *d, const struct opt_def *o, const char *arg)
{
	char what[256];

	switch (o->type) {
	case OPT_T_BOOL:
		*(int *)o->value = 1;
		return OPT_OK;
	case OPT_T_STRING:
		*(const char **)o->value = arg;
		return OPT_OK;
	case OPT_T_INT: {
		long long v;

		/* The one strict integer parser: no spaces, '+' or junk. */
		snprintf(what, sizeof(what), "%lld..%lld", o->min, o->max);
		if (parse_ll(arg, o->min, o->max, &v))
			return bad(d, o, what, arg);
		*(int *)o->value = (int)v;
		return OPT_OK;
	}
	case OPT_T_SIZE: {
		unsigned long long v;

		snprintf(what, sizeof(what), "a size of at least %lldM", o->min >> 20);
		if (parse_size(arg, &v) || v < (unsigned long long)o->min)
			return bad(d, o, what, arg);
		*(unsigned long long *)o->value = v;
		return OPT_OK;
	}
	case OPT_T_ENUM:
		for (int i = 0; o->choices[i]; i++)
			if (!strcmp(o->choices[i], arg)) {
				*(const char **)o->value = o->choices[i];
				return OPT_OK;
			}
		choices_str(o->choices, what, sizeof(what));
		return bad(d, o, what, arg);
	case OPT_T_CALLBACK:
		if (o->parse(arg, o->value)) {
			fprintf(stderr, "swapbench %s: --%s: %s\n", d->name, o->name, sb_lasterr());
			return OPT_ERROR;
		}
		return OPT_OK;
	case OPT_T_END:
		break;
	}
	return OPT_ERROR;
}

int opt_parse(const struct cmd_def *d, int argc, char **argv, int *first)
{
	size_t n = nopts(d->opts);
	struct option *lo = calloc(n + 2, sizeof(*lo));
	char shorts[64] = "";
	int c, rc = OPT_OK, npos;

	for (size_t i = 0; i < n; i++) {
		const struct opt_def *o = &d->opts[i];

		lo[i] = (struct option){ o->name, o->type == OPT_T_BOOL ? no_argument
								: required_argument,
					 NULL, 256 + (int)i };
		if (o->short_name && strlen(shorts) + 3 < sizeof(shorts)) {
			size_t l = strlen(shorts);

			shorts[l] = o->short_name;
			shorts[l + 1] = o->type == OPT_T_BOOL ? '\0' : ':';
			shorts[l + 2] = '\0';
		}
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	strcat(shorts, "h");
	optind = 1;
	while (rc == OPT_OK && (c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == 'h') {
			opt_usage(d, stdout);
			rc = OPT_HELP;
		} else if (c >= 256 && c < 256 + (int)n) {
			rc = set_value(d, &d->opts[c - 256], optarg);
		} else {
			size_t i;

			for (i = 0; i < n && d->opts[i].short_name != c; i++)
				;
			if (i < n) {
				rc = set_value(d, &d->opts[i], optarg);
			} else {
				opt_usage(d, stderr);
				rc = OPT_ERROR;
			}
		}
	}
	free(lo);
	if (rc != OPT_OK)
		return rc;
	npos = argc - optind;
	if (npos < d->min_args || (d->max_args >= 0 && npos > d->max_args)) {
		opt_usage(d, stderr);
		return OPT_ERROR;
	}
	*first = optind;
	return OPT_OK;
}

int opt_exit(int parse_result)
{
	return parse_result == OPT_HELP ? 0 : 2;
}

/* "get" of "kernel get" */
static const char *subname(const struct cmd_def *d)
{
	const char *sp = strrchr(d->name, ' ');

	return sp ? sp + 1 : d->name;
}

static void group_usage(const char *group, const char *summary, const struct subcmd *subs,
			FILE *out)
{
	for (int i = 0; subs[i].def; i++)
		fprintf(out, "%s swapbench %s [options]%s%s\n", i ? "      " : "usage:",
			subs[i].def->name, subs[i].def->args ? " " : "",
			subs[i].def->args ? subs[i].def->args : "");
	fprintf(out, "\n%s\n\n", summary);
	for (int i = 0; subs[i].def; i++)
		fprintf(out, "  %-7s %s\n", subname(subs[i].def),
			subs[i].def->summary);
	fprintf(out, "\nRun 'swapbench %s <subcommand> --help' for its options.\n", group);
}

int subcmd_run(const char *group, const char *summary, const struct subcmd *subs, int argc,
	       char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		group_usage(group, summary, subs, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 0; subs[i].def; i++)
		if (!strcmp(subname(subs[i].def), argv[1]))
			return subs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "swapbench %s: unknown subcommand '%s'\n", group, argv[1]);
	group_usage(group, summary, subs, stderr);
	return 2;
}

/* ---- man page and completion ---- */

/* Text for troff: backslashes escaped, '-' as \-, lines never starting
 * with a control character. */
static void roff(const char *s, FILE *out)
{
	int bol = 1;

	for (; s && *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
		bol = *s == '\n';
	}
}

static void man_cmd(const struct cmd_def *d, FILE *out)
{
	fputs(".SS \"swapbench ", out);
	roff(d->name, out);
	if (d->args) {
		fputc(' ', out);
		roff(d->args, out);
	}
	fputs("\"\n", out);
	roff(d->summary, out);
	fputs(".\n.PP\n", out);
	if (d->description) {
		/* Blank lines separate paragraphs. */
		for (const char *p = d->description; *p;) {
			const char *e = strstr(p, "\n\n");
			char *para = strndup(p, e ? (size_t)(e - p) : strlen(p));

			fputs(".nf\n", out);
			roff(para, out);
			fputs("\n.fi\n.PP\n", out);
			free(para);
			p = e ? e + 2 : p + strlen(p);
		}
	}
	for (size_t i = 0; i < nopts(d->opts); i++) {
		const struct opt_def *o = &d->opts[i];
		char *h = xstrdup(o->help);

		for (char *q = h; *q; q++)
			if (*q == '\n')
				*q = ' ';
		fputs(".TP\n", out);
		if (o->short_name)
			fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
		fputs("\\fB\\-\\-", out);
		roff(o->name, out);
		fputs("\\fR", out);
		if (o->argh) {
			fputs(" \\fI", out);
			roff(o->argh, out);
			fputs("\\fR", out);
		}
		fputc('\n', out);
		roff(h, out);
		fputc('\n', out);
		free(h);
	}
}

const char opt_global_synopsis[] = "swapbench [-v|-vv] <command> [options]";
const char opt_exit_codes[] = "0 ok, 1 regression (compare, nightly), 2 usage or input error,\n"
			      "3 some cells failed, 4 skipped (missing prerequisite).";

void opt_man_page(const struct cmd_entry *cmds, FILE *out)
{
	fprintf(out, ".TH SWAPBENCH 1 \"\" \"swapbench %s\" \"User Commands\"\n", SWAPBENCH_VERSION);
	fputs(".SH NAME\nswapbench \\- benchmark and regression-test Linux swap designs in VMs\n"
	      ".SH SYNOPSIS\n", out);
	roff(opt_global_synopsis, out);
	fputs("\n.SH DESCRIPTION\nBoots kernels in qemu VMs with zram, zswap "
	      "and NVMe swap topologies, runs workloads under a memcg limit, stores JSON "
	      "results, compares them and draws charts. Every command answers "
	      "\\fB\\-\\-help\\fR.\n.SH COMMANDS\n", out);
	for (int i = 0; cmds[i].name; i++) {
		if (cmds[i].def) {
			man_cmd(cmds[i].def, out);
		} else if (cmds[i].subs) {
			for (int j = 0; cmds[i].subs[j].def; j++)
				man_cmd(cmds[i].subs[j].def, out);
		} else {
			fprintf(out, ".SS \"swapbench %s\"\n", cmds[i].name);
			roff(cmds[i].summary, out);
			fputs(".\n", out);
		}
	}
	fputs(".SH EXIT STATUS\n", out);
	roff(opt_exit_codes, out);
	fputs("\n.SH ENVIRONMENT\n.TP\n\\fBXDG_CACHE_HOME\\fR\nthe cache is "
	      "$XDG_CACHE_HOME/swapbench (default ~/.cache/swapbench).\n.TP\n"
	      "\\fBSWAPBENCH_CONFIGS\\fR\nwhere bundled configs live (default: the source "
	      "tree's configs/).\n.SH SEE ALSO\nREADME.md and docs/ in the source tree.\n", out);
}

static void compl_opts(const struct cmd_def *d, FILE *out)
{
	fputs("opts='--help", out);
	for (size_t i = 0; i < nopts(d->opts); i++)
		fprintf(out, " --%s", d->opts[i].name);
	fputs("';", out);
	for (size_t i = 0; i < nopts(d->opts); i++) {
		const struct opt_def *o = &d->opts[i];

		if (o->type != OPT_T_ENUM)
			continue;
		fprintf(out, " [[ $prev == --%s ]] && words='", o->name);
		for (int c = 0; o->choices[c]; c++)
			fprintf(out, "%s%s", c ? " " : "", o->choices[c]);
		fputs("';", out);
	}
}

void opt_bash_completion(const struct cmd_entry *cmds, FILE *out)
{
	fputs("# bash completion for swapbench, generated from its option tables\n"
	      "_swapbench()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal cmd=${COMP_WORDS[1]} sub=${COMP_WORDS[2]} opts= words=\n"
	      "\tif [[ $COMP_CWORD -eq 1 ]]; then\n\t\twords='", out);
	for (int i = 0; cmds[i].name; i++)
		fprintf(out, "%s%s", i ? " " : "", cmds[i].name);
	fputs("'\n\telse\n\t\tcase $cmd in\n", out);
	for (int i = 0; cmds[i].name; i++) {
		if (cmds[i].def) {
			fprintf(out, "\t\t%s) ", cmds[i].name);
			compl_opts(cmds[i].def, out);
			fputs(" ;;\n", out);
		} else if (cmds[i].subs) {
			fprintf(out, "\t\t%s)\n\t\t\tcase $sub in\n", cmds[i].name);
			for (int j = 0; cmds[i].subs[j].def; j++) {
				fprintf(out, "\t\t\t%s) ", subname(cmds[i].subs[j].def));
				compl_opts(cmds[i].subs[j].def, out);
				fputs(" ;;\n", out);
			}
			fputs("\t\t\tesac\n\t\t\t[[ $COMP_CWORD -eq 2 ]] && words='", out);
			for (int j = 0; cmds[i].subs[j].def; j++)
				fprintf(out, "%s%s", j ? " " : "",
					subname(cmds[i].subs[j].def));
			fputs("' ;;\n", out);
		}
	}
	fputs("\t\tesac\n\tfi\n"
	      "\tif [[ -n $words ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	      "\telif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telse\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\n"
	      "complete -o filenames -F _swapbench swapbench\n", out);
}
