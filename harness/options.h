/* Command-line options from one declarative table per command, in the
 * manner of git's parse-options: the table parses (with range and choice
 * checks), prints --help, and feeds the man page and bash completion, so
 * none of them can drift from the others.
 *
 *   static int json;
 *   static const struct opt_def opts[] = {
 *           OPT_BOOL("json", &json, "print JSON"),
 *           OPT_INTEGER("jobs", &jobs, "N", 0, 4096, "make -jN (0: one per CPU)"),
 *           OPT_END(),
 *   };
 *   static const struct cmd_def def = { "kernel build", "SPEC", "build ...", NULL,
 *                                       opts, 1, 1 };
 *   if ((rc = opt_parse(&def, argc, argv, &first)) != OPT_OK)
 *           return opt_exit(rc);
 *
 * Adding an option is one line in its command's table.
 */
#ifndef SB_OPTIONS_H
#define SB_OPTIONS_H

#include <stdio.h>

enum opt_type {
	OPT_T_END,
	OPT_T_BOOL,     /* int *: set to 1 */
	OPT_T_STRING,   /* const char **: the argument */
	OPT_T_INT,      /* int *: in [min, max] */
	OPT_T_SIZE,     /* unsigned long long *: "512M", "2G"; at least min bytes */
	OPT_T_ENUM,     /* const char **: one of choices */
	OPT_T_CALLBACK, /* parse(arg, value): 0, or negative with sb_err() */
};

struct opt_def {
	enum opt_type type;
	const char *name;   /* long name, without "--" */
	char short_name;    /* 0: none */
	void *value;
	const char *argh;   /* the argument's name in help ("DIR") */
	const char *help;   /* '\n' starts a continuation line */
	long long min, max;
	const char *const *choices; /* NULL-terminated */
	int (*parse)(const char *arg, void *value);
};

#define OPT_BOOL(l, v, h) { OPT_T_BOOL, (l), 0, (v), NULL, (h), 0, 0, NULL, NULL }
#define OPT_BOOL_S(s, l, v, h) { OPT_T_BOOL, (l), (s), (v), NULL, (h), 0, 0, NULL, NULL }
#define OPT_STRING(l, v, a, h) { OPT_T_STRING, (l), 0, (v), (a), (h), 0, 0, NULL, NULL }
#define OPT_STRING_S(s, l, v, a, h) { OPT_T_STRING, (l), (s), (v), (a), (h), 0, 0, NULL, NULL }
#define OPT_INTEGER(l, v, a, lo, hi, h) { OPT_T_INT, (l), 0, (v), (a), (h), (lo), (hi), NULL, NULL }
#define OPT_SIZE(l, v, a, lo, h) { OPT_T_SIZE, (l), 0, (v), (a), (h), (lo), 0, NULL, NULL }
#define OPT_ENUM(l, v, a, c, h) { OPT_T_ENUM, (l), 0, (v), (a), (h), 0, 0, (c), NULL }
#define OPT_CALLBACK(l, v, a, fn, h) { OPT_T_CALLBACK, (l), 0, (v), (a), (h), 0, 0, NULL, (fn) }
#define OPT_END() { OPT_T_END, NULL, 0, NULL, NULL, NULL, 0, 0, NULL, NULL }

/* A command (or a subcommand, "kernel get") and its options. */
struct cmd_def {
	const char *name;        /* "run", "kernel get" */
	const char *args;        /* positional arguments for the usage line ("SPEC") */
	const char *summary;     /* one line, for command lists */
	const char *description; /* paragraphs after the usage line; may be NULL */
	const struct opt_def *opts;
	int min_args, max_args;  /* positional argument counts; max -1: any */
	const char *footer;      /* after the options (exit codes); may be NULL */
};

/* Subcommands in a table ("kernel get|build|list|gc"). */
struct subcmd {
	const struct cmd_def *def;
	int (*fn)(int argc, char **argv);
};

enum { OPT_OK = 0, OPT_HELP = 1, OPT_ERROR = 2 };

/* Parse argv (argv[0] is the command's word) by def: fills the values,
 * *first is the index of the first positional argument. Prints def's help
 * to stdout for --help (OPT_HELP), or a message and the usage to stderr
 * (OPT_ERROR). A value is checked against its range or choices as it is
 * parsed, with a message naming the option. */
int opt_parse(const struct cmd_def *def, int argc, char **argv, int *first);
/* The exit code for a non-OK opt_parse() result: 0 for help, 2 for errors. */
int opt_exit(int parse_result);

/* --help text of a command. */
void opt_usage(const struct cmd_def *def, FILE *out);
/* Run the subcommand argv[1] of a table (NULL-terminated by def); help for
 * the group when asked or when argv[1] is missing or unknown. */
int subcmd_run(const char *group, const char *summary, const struct subcmd *subs, int argc,
	       char **argv);

/* "auto", "kvm", "tcg": the accelerators --accel takes. */
extern const char *const opt_accels[];
/* An OPT_CALLBACK for a positive percentage into a double. */
int opt_parse_pct(const char *arg, void *value);

/* What the top level says in `swapbench --help` and in swapbench(1): the
 * global options and the exit codes, written once. */
extern const char opt_global_synopsis[];
extern const char opt_exit_codes[];

/* The man page (troff) and bash completion, from the command tables. */
struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const struct cmd_def *def;    /* NULL for a group of subcommands */
	const struct subcmd *subs;    /* the group's, NULL-terminated; or NULL */
	const char *summary;
};
void opt_man_page(const struct cmd_entry *cmds, FILE *out);
void opt_bash_completion(const struct cmd_entry *cmds, FILE *out);

#endif
