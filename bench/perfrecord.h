/* Guest side of `profile: true`: a system-wide call-graph profile of the
 * measured phase with the host's perf (reached through the shared root),
 * written to the cell directory as perf.data, with the guest's
 * /proc/kallsyms beside it so that the host can name kernel symbols of
 * any kernel, KASLR included. */
#ifndef SB_PERFRECORD_H
#define SB_PERFRECORD_H

#include <jansson.h>
#include <sys/types.h>

struct profile_rec {
	pid_t pid;      /* perf record, or 0 */
	json_t *info;   /* what happened, for result.json "profile" */
};

/* Start `perf record -a -g` as the cell's "profile" object asks
 * ({frequency, max_size}) and wait until it records. On failure the cell
 * goes on without a profile: the reason is in info. */
void profile_start(struct profile_rec *p, const json_t *cfg, const char *cell_dir);
/* Stop perf and keep kallsyms; returns info (owned by the caller). */
json_t *profile_stop(struct profile_rec *p, const char *cell_dir);

#endif
