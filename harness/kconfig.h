/* Kernel configs: .config and fragment parsing, verification of what was
 * asked for against what a build produced, Kconfig dependencies. */
#ifndef SB_KCONFIG_H
#define SB_KCONFIG_H

#include <jansson.h>

/* Parse a kernel .config into {"CONFIG_X": value}. */
json_t *kconfig_parse(const char *text);

/* Options a config fragment asks for: {"CONFIG_X": value}, value as in a
 * .config ("y", "m", "\"lz4\"", "64") or "n" for "# CONFIG_X is not set";
 * a later line for the same option replaces an earlier one. Merge several
 * fragments by calling it with the same object. */
void kconfig_fragment_parse(const char *text, json_t *requested);

/* Compare requested options with a final config (kconfig_parse()). Returns
 * the number of unmet ones; when report is non-NULL appends a line per unmet
 * option ("requested CONFIG_ZSWAP=y, got not set (depends on: SWAP && ...;
 * unmet: SWAP)"), dependencies looked up under srctree when it is given.
 * 'm' is met by 'y'; 'n' is met by an absent option. */
int kconfig_verify(const json_t *requested, const json_t *final, const char *srctree,
		   char **report);

/* The "depends on" (and enclosing "if") conditions of a symbol ("ZSWAP", no
 * prefix) in srctree's Kconfig files (arch/ only for x86), joined with
 * " && "; "" when it has none, NULL when it is defined nowhere. */
char *kconfig_depends(const char *srctree, const char *symbol);

#endif
