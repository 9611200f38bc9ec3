#define _GNU_SOURCE
#include "harness/cmd.h"
#include "common/fsutil.h"
#include "common/err.h"
#include "harness/paths.h"
#include "harness/kernel.h"
#include "harness/kernel-build.h"
#include "common/log.h"
#include "harness/options.h"
#include "harness/runner.h"
#include "harness/spec.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *name, *config, *modules;
static int json, dry;
static struct kbuild_opts ko;

static const struct opt_def get_opts[] = {
	OPT_STRING("name", &name, "NAME", "the kernel's short name (default: from SOURCE)"),
	OPT_STRING("config", &config, "FILE", "image: kernels: its .config"),
	OPT_STRING("modules", &modules, "DIR", "image: kernels: a directory holding\n"
		   "lib/modules/<release>"),
	OPT_BOOL("json", &json, "print the identity as JSON"),
	OPT_END(),
};

static const struct cmd_def get_def = {
	"kernel get", "SOURCE", "fetch a kernel into the cache and print its identity",
	"Fetches a kernel into the cache ($XDG_CACHE_HOME/swapbench, default\n"
	"~/.cache/swapbench) and prints its identity. SOURCE is debian:6.1,\n"
	"debian:6.12 (newest such Debian linux-image package), an exact\n"
	"linux-image-* package name, or image:PATH for a prebuilt bzImage\n"
	"(--config its .config, --modules a directory holding\n"
	"lib/modules/<release>). Debian packages are downloaded with\n"
	"apt-get download and extracted, never installed on the host.\n",
	get_opts, 1, 1, NULL,
};

static const struct opt_def build_opts[] = {
	OPT_BOOL("force", &ko.force, "build even when cached"),
	OPT_INTEGER("jobs", &ko.jobs, "N", 0, 4096, "make -jN (default 0: one per CPU)"),
	OPT_BOOL("json", &json, "print the kernels as JSON"),
	OPT_END(),
};

static const struct cmd_def build_def = {
	"kernel build", "SPEC", "build the kernels of a spec that come from git trees",
	"Builds every kernel of SPEC that comes from a git tree (see\n"
	"docs/kernels.md), or finds it in the build cache, and prints its name,\n"
	"cache id and state: built, cached or failed. A failure does not stop\n"
	"the other kernels; exit 3 when any failed.\n",
	build_opts, 1, 1, NULL,
};

static const struct opt_def list_opts[] = {
	OPT_BOOL("json", &json, "print the kernels as JSON"),
	OPT_END(),
};

static const struct cmd_def list_def = {
	"kernel list", NULL, "show the cached kernels, one a line", NULL, list_opts, 0, 0, NULL,
};

static const struct opt_def gc_opts[] = {
	OPT_BOOL_S('n', "dry-run", &dry, "say what would be removed; remove nothing"),
	OPT_END(),
};

static const struct cmd_def gc_def = {
	"kernel gc", "[SPEC...]", "remove built kernels and work trees no spec uses",
	"Removes built kernels and work trees that no spec uses: the SPECs\n"
	"given, or else every spec that 'kernel build' or 'run' was given\n"
	"and that still exists.\n",
	gc_opts, 0, -1, NULL,
};

static int kernel_get_cmd(int argc, char **argv)
{
	struct kernel k;
	int rc, first;

	if ((rc = opt_parse(&get_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	rc = kernel_get(argv[first], name, config, modules, &k);
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

static int kernel_build_cmd(int argc, char **argv)
{
	struct spec s;
	json_t *out;
	int prc, first, nfail = 0, nsrc = 0;

	ko.tty = isatty(2);
	if ((prc = opt_parse(&build_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(prc);
	out = json_array();
	if (spec_load(argv[first], &s)) {
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
		fmt_duration(monotonic_s() - t0, 1, el, sizeof(el));
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
	char *cache, *dir;
	DIR *d;
	struct dirent *e;
	json_t *built, *b, *all;
	size_t i;
	int n = 0, rc, first;

	if ((rc = opt_parse(&list_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	cache = sb_cache_dir();
	dir = xasprintf("%s/kernels", cache);
	d = opendir(dir);
	built = kbuild_list();
	all = json_array();
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
			if (json)
				json_array_append_new(all, json_pack("{s:s,s:s,s:s}", "package",
								     e->d_name, "version",
								     v ? v : "?", "dir", root));
			else
				printf("%-40s %-24s %s\n", e->d_name, v ? v : "?", root);
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
	int rc, first;
	size_t i;
	char sz[32];

	if ((rc = opt_parse(&gc_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
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

const struct subcmd cmd_kernel_subs[] = {
	{ &get_def, kernel_get_cmd },
	{ &build_def, kernel_build_cmd },
	{ &list_def, kernel_list_cmd },
	{ &gc_def, kernel_gc_cmd },
	{ NULL, NULL },
};

int cmd_kernel(int argc, char **argv)
{
	return subcmd_run("kernel", "Fetch or build kernels into the cache, list them, remove "
			  "unused builds.", cmd_kernel_subs, argc, argv);
}
