/* Profiles of a run's cells (perf.data recorded in the guest, see
 * bench/profile.h): checking them when a cell ends, and the per-kernel
 * symbol tables, differences, folded stacks and chart of
 * `swapbench profile`. */
#ifndef SB_HPROFILE_H
#define SB_HPROFILE_H

#include <jansson.h>
#include <stdio.h>

/* After a cell: perf.data and kallsyms are guest-written files in the cell
 * directory. Anything that is not a regular file, or larger than the cap
 * (perf.data: max_bytes plus perf's last write; kallsyms: 64 MiB), is
 * removed; the verdict goes to final.profile.host_check. */
void profile_check(const char *cell_dir, long long max_bytes, json_t *final);

/* Symbol counts of one perf script output (the text of
 * `perf script -F comm,ip,sym,dso`): adds leaf-frame ("self") samples per
 * symbol to `self` ({sym: {"samples": n, "kernel": bool}}), folded stacks
 * ("comm;outer;...;leaf") to `folded` ({stack: n}), and returns the number
 * of samples read. With `focus` (NULL-terminated symbol names), only
 * samples with one of them on the stack go to self and folded; the count
 * returned is still of all samples, so shares stay shares of CPU time.
 * Exposed for unit tests. */
long long profile_parse_script(FILE *in, const char *const *focus, json_t *self,
			       json_t *folded);

/* The entry points of the swap path (reclaim's swap-out, swap-in, the
 * devices, swap freeing, swapoff) for --swap-path. */
extern const char *const profile_swap_path[];

struct profile_opts {
	const char *run_dir;
	const char *kernels[2]; /* NULL: the run's first two kernels */
	const char *out_dir;    /* NULL: RUN/profile */
	int top;                /* rows per table */
	const char *const *focus; /* only stacks through one of these */
	int swap_path;          /* focus = profile_swap_path */
	int json;               /* print JSON instead of text */
};

/* `swapbench profile`: returns an EXIT_* code; messages printed. */
int profile_report(const struct profile_opts *o);

#endif
