/* Per-size mTHP "enabled" knobs for workloads that take an `mthp` param,
 * e.g. {"64kB": "always", "256kB": "inherit"}.
 *
 * Host and guest: mthp_knobs_parse() checks the param. Guest only:
 * mthp_knobs_apply() (in a workload's setup, root cgroup) reads every old
 * value before writing any, so a size the kernel lacks fails without
 * having changed anything; mthp_knobs_restore() (in cleanup) puts them
 * back in reverse order.
 */
#ifndef SB_MTHP_KNOBS_H
#define SB_MTHP_KNOBS_H

#include <jansson.h>
#include <stddef.h>

#define MTHP_MAX	32	/* distinct powers of two in [8K, 1G] are fewer */
#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"

struct mthp_setting {
	unsigned long long kb;
	const char *mode; /* one of "always", "madvise", "inherit", "never" */
};

struct mthp_knobs {
	unsigned int nr;
	struct mthp_setting set[MTHP_MAX];
};

struct mthp_saved;

/* Parse the value of params' "mthp" key (v may be NULL: nothing to set).
 * Messages name "<where>.mthp" or "<where>.mthp.<size>". */
int mthp_knobs_parse(const json_t *v, const char *where, struct mthp_knobs *out);
/* {"64kB": "always", ...} for a workload's info. */
json_t *mthp_knobs_json(const struct mthp_knobs *k);

/* Save and set; *saved is NULL when there is nothing to set. `who`
 * prefixes messages ("anon"). */
int mthp_knobs_apply(const struct mthp_knobs *k, const char *who, struct mthp_saved **saved);
/* Restore and free (NULL is fine); failures go to stderr, where the
 * console keeps them, since cleanup cannot fail. */
void mthp_knobs_restore(struct mthp_saved *saved, const char *who);

/* The selected mode of a THP "enabled" file: the word in brackets. */
int mthp_read_mode(const char *path, char *out, size_t outlen);

#endif
