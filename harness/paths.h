/* Where swapbench keeps things on the host: the cache and the bundled
 * configs. Leaf module: it includes nothing of the harness. */
#ifndef SB_PATHS_H
#define SB_PATHS_H

/* $XDG_CACHE_HOME/swapbench, default ~/.cache/swapbench (created). Caller
 * frees. */
char *sb_cache_dir(void);
/* Where bundled configs live: $SWAPBENCH_CONFIGS, else the source tree. */
const char *configs_dir(void);

#endif
