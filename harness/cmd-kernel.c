#define _GNU_SOURCE
#include "cmd.h"
#include "fsutil.h"
#include "err.h"
#include "kernel.h"
#include "log.h"
#include "runner.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kernel_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench kernel get SOURCE [--name NAME] [--config FILE] [--modules DIR]\n"
		"       swapbench kernel list\n\n"
		"get   fetch a kernel into the cache ($XDG_CACHE_HOME/swapbench, default\n"
		"      ~/.cache/swapbench) and print its identity. SOURCE is debian:6.1,\n"
		"      debian:6.12 (newest such Debian linux-image package), an exact\n"
		"      linux-image-* package name, or image:PATH for a prebuilt bzImage\n"
		"      (--config its .config, --modules a directory holding\n"
		"      lib/modules/<release>). Debian packages are downloaded with\n"
		"      apt-get download and extracted, never installed on the host.\n"
		"list  show the cached kernels, one a line.\n");
}

static int kernel_get_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "modules", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *config = NULL, *modules = NULL;
	struct kernel k;
	int c, json = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'c': config = optarg; break;
		case 'm': modules = optarg; break;
		case 'j': json = 1; break;
		case 'h': kernel_usage(stdout); return EXIT_OK;
		default: kernel_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		kernel_usage(stderr);
		return EXIT_USAGE;
	}
	rc = kernel_get(argv[optind], name, config, modules, &k);
	if (rc) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (json) {
		json_t *id = kernel_identity(&k);

		json_dumpf(id, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(id);
	} else {
		printf("name:     %s\nsource:   %s\nrelease:  %s\n", k.name, k.source, k.release);
		if (k.package)
			printf("package:  %s %s\n", k.package, k.version ? k.version : "");
		printf("vmlinuz:  %s\nconfig:   %s (sha256 %s)\ncache id: %s\n", k.vmlinuz,
		       k.config_path ? k.config_path : "-",
		       k.config_sha256 ? k.config_sha256 : "-", k.id);
		if (kernel_check_config(&k, topo_base_kconfig, "any cell"))
			printf("warning:  %s\n", sb_lasterr());
	}
	kernel_release(&k);
	return EXIT_OK;
}

static int kernel_list_cmd(void)
{
	char *cache = sb_cache_dir(), *dir = xasprintf("%s/kernels", cache);
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char *root, *vf, *v = NULL;

		if (e->d_name[0] == '.')
			continue;
		root = xasprintf("%s/%s/root", dir, e->d_name);
		vf = xasprintf("%s/%s/version", dir, e->d_name);
		if (is_dir(root)) {
			read_file(vf, 4096, &v, NULL);
			if (v)
				rstrip(v);
			printf("%-40s %-24s %s\n", e->d_name, v ? v : "?", root);
			n++;
		}
		free(v);
		free(root);
		free(vf);
	}
	if (d)
		closedir(d);
	if (!n)
		printf("no cached kernels in %s\n", dir);
	free(cache);
	free(dir);
	return EXIT_OK;
}

int cmd_kernel(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		kernel_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "get"))
		return kernel_get_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return kernel_list_cmd();
	fprintf(stderr, "swapbench kernel: unknown subcommand '%s'\n", argv[1]);
	kernel_usage(stderr);
	return EXIT_USAGE;
}
