#define _GNU_SOURCE
#include "harness/cmd.h"
#include "common/fsutil.h"
#include "common/err.h"
#include "harness/kernel.h"
#include "harness/kernel-build.h"
#include "harness/kernel-debian.h"
#include "harness/kernel-source.h"
#include "harness/apt.h"
#include "common/log.h"
#include "harness/runner.h"
#include "harness/spec.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void kernel_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench kernel get SOURCE [--name NAME] [--config FILE] [--modules DIR]\n"
		"       swapbench kernel build SPEC [--force] [--jobs N] [--json]\n"
		"       swapbench kernel list [--json]\n"
		"       swapbench kernel search [PREFIX] [--suite SUITE] [--all] [--refresh] [--json]\n"
		"       swapbench kernel source SERIES [--suite SUITE] [--print] [--json]\n"
		"       swapbench kernel gc [--dry-run] [SPEC...]\n\n"
		"get   fetch a kernel into the cache ($XDG_CACHE_HOME/swapbench, default\n"
		"      ~/.cache/swapbench) and print its identity. SOURCE is debian:X.Y\n"
		"      (newest linux-image-X.Y.*-amd64 of bookworm, bookworm-security,\n"
		"      trixie, trixie-backports or sid), debian:X.Y.Z (that upstream\n"
		"      version), either with @SUITE, an exact package\n"
		"      linux-image-PKG[=VERSION][@SUITE], or image:PATH for a prebuilt\n"
		"      bzImage (--config its .config, --modules a directory holding\n"
		"      lib/modules/<release>). Debian packages come through swapbench's\n"
		"      own apt configuration (its cache's apt/; the host's /etc/apt is\n"
		"      not used) and are extracted, never installed on the host.\n"
		"      --refresh updates swapbench's apt lists first (else they are\n"
		"      updated when older than a day).\n"
		"build build every kernel of SPEC that comes from a git tree (see\n"
		"      docs/kernels.md), or find it in the build cache, and print its name,\n"
		"      cache id and state: built, cached or failed. A failure does not stop\n"
		"      the other kernels; exit 3 when any failed.\n"
		"list  show the cached kernels, one a line (package, version, suite).\n"
		"search list the Debian kernels (linux-image-*-amd64) and kernel sources\n"
		"      (linux-source-*) the configured suites have, oldest first:\n"
		"      PREFIX '7.' matches 7.x, '7.2' the 7.2 series; --all adds the\n"
		"      cloud and rt flavours.\n"
		"source make cache:linux-SERIES (e.g. 7.3, 6.12), the git tree specs\n"
		"      name as \"tree\": \"cache:linux-7.3\", from Debian's linux-source-SERIES\n"
		"      (newest of any suite, or of --suite), through swapbench's own apt:\n"
		"      one commit with a fixed identity, tag vSERIES-debian. Does nothing\n"
		"      when the tree is there. --print only prints the tree's path.\n"
		"gc    remove built kernels and work trees that no spec uses: the SPECs\n"
		"      given, or else every spec that 'kernel build' or 'run' was given\n"
		"      and that still exists.\n");
}

static int kernel_get_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "modules", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "refresh", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *config = NULL, *modules = NULL;
	int refresh = 0;
	struct kernel k;
	int c, json = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'c': config = optarg; break;
		case 'm': modules = optarg; break;
		case 'j': json = 1; break;
		case 'r': refresh = 1; break;
		case 'h': kernel_usage(stdout); return EXIT_OK;
		default: kernel_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		kernel_usage(stderr);
		return EXIT_USAGE;
	}
	if (refresh && apt_update(1)) {
		log_err("%s", sb_lasterr());
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
			printf("package:  %s %s (%s)\n", k.package, k.version ? k.version : "",
			       k.suite ? k.suite : "suite unknown");
		if (k.deb_sha256)
			printf("deb sha256: %s\n", k.deb_sha256);
		printf("vmlinuz:  %s\nconfig:   %s (sha256 %s)\ncache id: %s\n", k.vmlinuz,
		       k.config_path ? k.config_path : "-",
		       k.config_sha256 ? k.config_sha256 : "-", k.id);
		if (kernel_check_config(&k, topo_base_kconfig, "any cell"))
			printf("warning:  %s\n", sb_lasterr());
	}
	kernel_release(&k);
	return EXIT_OK;
}

static void fmt_secs(double s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else
		snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
}

static int kernel_build_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kbuild_opts ko = { .tty = isatty(2) };
	struct spec s;
	json_t *out = json_array();
	int c, json = 0, nfail = 0, nsrc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': ko.force = 1; break;
		case 'j': ko.jobs = atoi(optarg); break;
		case 'J': json = 1; break;
		case 'h': kernel_usage(stdout); json_decref(out); return EXIT_OK;
		default: kernel_usage(stderr); json_decref(out); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		kernel_usage(stderr);
		json_decref(out);
		return EXIT_USAGE;
	}
	if (spec_load(argv[optind], &s)) {
		log_err("%s", sb_lasterr());
		json_decref(out);
		return EXIT_USAGE;
	}
	kbuild_add_root(s.path);
	for (size_t i = 0; i < s.nkernels; i++)
		nsrc += !!s.kernels[i].build;
	for (size_t i = 0, n = 0; i < s.nkernels; i++) {
		struct spec_kernel *sk = &s.kernels[i];
		enum kbuild_state st;
		struct kernel k;
		char label[32], el[32];
		double t0 = monotonic_s();
		int rc;

		if (!sk->build)
			continue;
		snprintf(label, sizeof(label), "[%zu/%d]", ++n, nsrc);
		ko.label = label;
		rc = kbuild_get(sk, &ko, &k, &st);
		fmt_secs(monotonic_s() - t0, el, sizeof(el));
		if (rc) {
			nfail++;
			json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:f}", "name", sk->name,
							     "state", "failed", "error",
							     sb_lasterr(), "seconds",
							     monotonic_s() - t0));
			if (!json) {
				printf("%-16s %-21s %-7s %s\n", sk->name, "-", "failed", el);
				fflush(stdout);
				log_err("%s", sb_lasterr());
			}
			continue;
		}
		if (json) {
			json_t *id = kernel_identity(&k);

			json_object_set_new(id, "state", json_string(st == KBUILD_BUILT ? "built"
									: "cached"));
			json_object_set_new(id, "seconds", json_real(monotonic_s() - t0));
			json_array_append_new(out, id);
		} else {
			printf("%-16s %-21s %-7s %-8s %s\n", k.name, k.id,
			       st == KBUILD_BUILT ? "built" : "cached", el, k.release);
			if (kernel_check_config(&k, topo_base_kconfig, "any cell"))
				printf("  warning: %s\n", sb_lasterr());
		}
		fflush(stdout);
		kernel_release(&k);
	}
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (!nsrc) {
		printf("%s: no kernel is built from a git tree\n", s.path);
	}
	json_decref(out);
	spec_release(&s);
	return nfail ? EXIT_CELLS_FAILED : EXIT_OK;
}

static int kernel_list_cmd(int argc, char **argv)
{
	char *cache = sb_cache_dir(), *dir = xasprintf("%s/kernels", cache);
	DIR *d = opendir(dir);
	struct dirent *e;
	json_t *built = kbuild_list(), *b, *all = json_array();
	size_t i;
	int n = 0, json = argc > 1 && !strcmp(argv[1], "--json");

	while (d && (e = readdir(d))) {
		char *root, *vf, *v = NULL;

		if (e->d_name[0] == '.')
			continue;
		root = xasprintf("%s/%s/root", dir, e->d_name);
		vf = xasprintf("%s/%s/version", dir, e->d_name);
		if (is_dir(root)) {
			char *mp = xasprintf("%s/meta.json", root);
			json_t *meta = json_load_file(mp, 0, NULL);
			json_t *deb0 = json_array_get(json_object_get(meta, "debs"), 0);
			const char *pkg = json_string_value(json_object_get(meta, "package"));
			const char *suite = json_string_value(json_object_get(deb0, "suite"));

			free(mp);
			read_file(vf, 4096, &v, NULL);
			if (v)
				rstrip(v);
			if (!pkg)
				pkg = e->d_name;
			if (json)
				json_array_append_new(all, json_pack("{s:s,s:s,s:s?,s:s}", "package",
								     pkg, "version", v ? v : "?",
								     "suite", suite, "dir", root));
			else
				printf("%-40s %-24s %-17s %s\n", pkg, v ? v : "?",
				       suite ? suite : "-", root);
			json_decref(meta);
			n++;
		}
		free(v);
		free(root);
		free(vf);
	}
	if (d)
		closedir(d);
	json_array_foreach(built, i, b) {
		json_t *in = json_object_get(b, "inputs"), *res = json_object_get(b, "result");
		const char *br = json_string_value(json_object_get(in, "branch"));
		char what[512];

		if (json) {
			json_array_append(all, b);
			continue;
		}
		snprintf(what, sizeof(what), "%s@%s%s%s", json_string_value(json_object_get(in,
			 "tree_spec")) ?: "?", json_string_value(json_object_get(in, "ref")) ?: "?",
			 br ? ".." : "", br ? br : "");
		if (json_array_size(json_object_get(in, "patches")))
			snprintf(what + strlen(what), sizeof(what) - strlen(what), " +%zu patch%s",
				 json_array_size(json_object_get(in, "patches")),
				 json_array_size(json_object_get(in, "patches")) > 1 ? "es" : "");
		printf("%-40s %-24s %s (%s, built %s)\n",
		       json_string_value(json_object_get(b, "cache_id")) ?: "?",
		       json_string_value(json_object_get(res, "release")) ?: "?",
		       json_string_value(json_object_get(b, "dir")), what,
		       json_string_value(json_object_get(res, "built")) ?: "?");
		n++;
	}
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (!n) {
		printf("no cached kernels in %s\n", cache);
	}
	json_decref(built);
	json_decref(all);
	free(cache);
	free(dir);
	return EXIT_OK;
}

static int kernel_search_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "refresh", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *suite = NULL, *prefix = "";
	struct apt_pkg *v = NULL;
	size_t n = 0;
	int c, all = 0, refresh = 0, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': suite = optarg; break;
		case 'a': all = 1; break;
		case 'r': refresh = 1; break;
		case 'j': json = 1; break;
		case 'h': kernel_usage(stdout); return EXIT_OK;
		default: kernel_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		kernel_usage(stderr);
		return EXIT_USAGE;
	}
	if (optind == argc - 1)
		prefix = argv[optind];
	if ((refresh && apt_update(1)) || debian_kernel_search(prefix, suite, all, &v, &n)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++) {
			json_t *su = json_array();
			char *up = deb_upstream(v[i].version);

			for (size_t j = 0; j < v[i].suites.n; j++)
				json_array_append_new(su, json_string(v[i].suites.v[j]));
			json_array_append_new(arr, json_pack(
				"{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:I}", "kind",
				strncmp(v[i].package, "linux-source-", 13) ? "image" : "source",
				"package", v[i].package, "version", v[i].version, "upstream", up,
				"suites", su, "suite", v[i].suite, "sha256", v[i].sha256, "size",
				(json_int_t)v[i].size));
			free(up);
		}
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (!n) {
		printf("no Debian kernel or kernel source %s%s%sin the configured suites\n",
		       *prefix ? "matching '" : "", prefix, *prefix ? "' " : "");
	} else {
		printf("%-40s %-22s %s\n", "package", "version", "suite");
		for (size_t i = 0; i < n; i++) {
			char su[128] = "";

			for (size_t j = 0; j < v[i].suites.n; j++)
				snprintf(su + strlen(su), sizeof(su) - strlen(su), "%s%s", j ? "," : "",
					 v[i].suites.v[j]);
			printf("%-40s %-22s %s\n", v[i].package, v[i].version, su);
		}
	}
	apt_pkgs_free(v, n);
	return EXIT_OK;
}

static void fmt_bytes(long long b, char *buf, size_t len)
{
	if (b >= 1LL << 30)
		snprintf(buf, len, "%.1f GiB", b / (double)(1LL << 30));
	else
		snprintf(buf, len, "%.1f MiB", b / (double)(1LL << 20));
}

static int kernel_gc_cmd(int argc, char **argv)
{
	json_t *removed = NULL, *r;
	long long total = 0;
	int dry = 0, first = 1;
	size_t i;
	char sz[32];

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (!strcmp(argv[first], "--dry-run") || !strcmp(argv[first], "-n")) {
			dry = 1;
		} else if (!strcmp(argv[first], "--help")) {
			kernel_usage(stdout);
			return EXIT_OK;
		} else {
			kernel_usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (int a = first; a < argc; a++) {
		if (access(argv[a], R_OK)) {
			log_err("gc: cannot read spec '%s'", argv[a]);
			return EXIT_USAGE;
		}
	}
	kbuild_gc((const char *const *)argv + first, (size_t)(argc - first), dry, &removed);
	json_array_foreach(removed, i, r) {
		long long b = json_integer_value(json_object_get(r, "bytes"));

		fmt_bytes(b, sz, sizeof(sz));
		printf("%s %s %s (%s)\n", dry ? "would remove" : "removed",
		       json_string_value(json_object_get(r, "what")),
		       json_string_value(json_object_get(r, "path")), sz);
		total += b;
	}
	fmt_bytes(total, sz, sizeof(sz));
	printf("%zu item%s, %s%s\n", json_array_size(removed),
	       json_array_size(removed) == 1 ? "" : "s", sz, dry ? " (dry run)" : " freed");
	json_decref(removed);
	return EXIT_OK;
}

static int kernel_source_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "print", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *suite = NULL;
	int c, json = 0, print = 0;
	json_t *info = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': suite = optarg; break;
		case 'p': print = 1; break;
		case 'j': json = 1; break;
		case 'h': kernel_usage(stdout); return EXIT_OK;
		default: kernel_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		kernel_usage(stderr);
		return EXIT_USAGE;
	}
	if (!ksource_series_valid(argv[optind])) {
		log_err("kernel source: '%s' is not a kernel series (expected X.Y, e.g. 7.3)",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (print) {
		char *d = ksource_dir(argv[optind]);

		printf("%s\n", d);
		free(d);
		return EXIT_OK;
	}
	if (ksource_make(argv[optind], suite, json, &info)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (json) {
		json_dumpf(info, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		printf("tree:    %s\ntag:     %s (%.12s)\npackage: %s %s (%s)\n",
		       json_string_value(json_object_get(info, "dir")),
		       json_string_value(json_object_get(info, "tag")),
		       json_string_value(json_object_get(info, "commit")),
		       json_string_value(json_object_get(info, "package")) ?: "?",
		       json_string_value(json_object_get(info, "version")) ?: "?",
		       json_string_value(json_object_get(info, "suite")) ?: "suite unknown");
	}
	json_decref(info);
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
	if (!strcmp(argv[1], "build"))
		return kernel_build_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return kernel_list_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "search"))
		return kernel_search_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "source"))
		return kernel_source_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gc"))
		return kernel_gc_cmd(argc - 1, argv + 1);
	fprintf(stderr, "swapbench kernel: unknown subcommand '%s'\n", argv[1]);
	kernel_usage(stderr);
	return EXIT_USAGE;
}
