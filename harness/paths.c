#include "harness/paths.h"
#include "common/fsutil.h"

#include <stdlib.h>

char *sb_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *d;

	if (xdg && *xdg)
		d = xasprintf("%s/swapbench", xdg);
	else
		d = xasprintf("%s/.cache/swapbench", home && *home ? home : "/root");
	mkdir_p(d, 0755);
	return d;
}

const char *configs_dir(void)
{
	const char *env = getenv("SWAPBENCH_CONFIGS");

	return env && *env ? env : SWAPBENCH_SOURCE_DIR "/configs";
}
