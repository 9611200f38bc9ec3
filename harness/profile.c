/* Profiles of a run's cells: checks after a cell, `swapbench profile`. */
#define _GNU_SOURCE
#include "harness/profile.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "harness/result.h"
#include "harness/runner.h"
#include "harness/store.h"
#include "common/protocol.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KALLSYMS_MAX (64LL << 20)
/* perf checks --max-size between writes of its buffers: allow one more. */
#define PERF_DATA_SLACK (8LL << 20)
#define PERF_SCRIPT_TIMEOUT_MS (600 * 1000)

/* One guest-written file: kept only as a regular file within its cap. */
static void check_file(const char *dir, const char *name, long long cap, json_t *hc)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;

	if (lstat(p, &st)) {
		json_object_set_new(hc, name, json_string("missing"));
	} else if (!S_ISREG(st.st_mode)) {
		unlink(p);
		json_object_set_new(hc, name, json_string("removed: not a regular file"));
		log_warn("%s: not a regular file; removed", p);
	} else if (st.st_size > cap) {
		unlink(p);
		json_object_set_new(hc, name, json_sprintf("removed: %lld bytes, over the cap of "
							   "%lld", (long long)st.st_size, cap));
		log_warn("%s: %lld bytes, over the cap of %lld; removed", p,
			 (long long)st.st_size, cap);
	} else {
		json_object_set_new(hc, name, json_integer((json_int_t)st.st_size));
	}
	free(p);
}

void profile_check(const char *cell_dir, long long max_bytes, json_t *final)
{
	json_t *prof = json_object_get(final, "profile"), *hc;
	char *p = xasprintf("%s/perf.data", cell_dir);
	int have = path_exists(p);

	free(p);
	if (!json_is_object(prof) && !have)
		return;
	if (!json_is_object(prof)) {
		/* A guest that did not say it profiled but left a file. */
		prof = json_object();
		json_object_set_new(final, "profile", prof);
	}
	hc = json_object();
	check_file(cell_dir, "perf.data", max_bytes + PERF_DATA_SLACK, hc);
	check_file(cell_dir, "kallsyms", KALLSYMS_MAX, hc);
	json_object_set_new(prof, "host_check", hc);
}

/* perf script parsing. */

static void add_count(json_t *obj, const char *key, long long n)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer(json_integer_value(v) + n));
}

static int is_kernel_dso(const char *dso)
{
	/* [kernel.kallsyms], and modules as [zram], [zsmalloc]. */
	return dso[0] == '[' && strcmp(dso, "[unknown]") && strncmp(dso, "[vdso", 5) &&
	       strcmp(dso, "[vsyscall]");
}

struct frame {
	char *sym;
	int kernel;
};

static int frame_matches(const char *sym, const char *const *focus)
{
	for (int i = 0; focus[i]; i++) {
		size_t l = strlen(focus[i]);

		/* "shrink_folio_list" also matches "shrink_folio_list.isra.0". */
		if (!strncmp(sym, focus[i], l) && (sym[l] == '\0' || sym[l] == '.'))
			return 1;
	}
	return 0;
}

static void flush_sample(const char *comm, struct frame *f, size_t n,
			 const char *const *focus, json_t *self, json_t *folded)
{
	size_t len = strlen(comm) + 1;
	char *stack, *o;

	if (!n)
		return;
	if (focus) {
		size_t i;

		for (i = 0; i < n && !frame_matches(f[i].sym, focus); i++)
			;
		if (i == n)
			return;
	}
	/* The leaf (frame 0) is where the CPU was: the self sample. */
	{
		json_t *e = json_object_get(self, f[0].sym);

		if (!e) {
			e = json_pack("{s:I,s:b}", "samples", (json_int_t)0, "kernel", f[0].kernel);
			json_object_set_new(self, f[0].sym, e);
		}
		add_count(e, "samples", 1);
	}
	for (size_t i = 0; i < n; i++)
		len += strlen(f[i].sym) + 1;
	stack = o = malloc(len + 1);
	if (!stack)
		return;
	/* Folded: comm;outermost;...;leaf, ';' and spaces kept out of names. */
	o += sprintf(o, "%s", comm);
	for (size_t i = n; i-- > 0;)
		o += sprintf(o, ";%s", f[i].sym);
	for (char *c = stack; *c; c++)
		if (*c == ' ')
			*c = '_';
	add_count(folded, stack, 1);
	free(stack);
}

long long profile_parse_script(FILE *in, const char *const *focus, json_t *self,
			       json_t *folded)
{
	char *line = NULL, comm[64] = "";
	size_t cap = 0, n = 0, fcap = 0;
	struct frame *f = NULL;
	long long samples = 0;
	ssize_t len;
	int in_sample = 0;

	while ((len = getline(&line, &cap, in)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len) {
			if (in_sample) {
				flush_sample(comm, f, n, focus, self, folded);
				samples += n > 0;
			}
			for (size_t i = 0; i < n; i++)
				free(f[i].sym);
			n = 0;
			in_sample = 0;
			continue;
		}
		if (line[0] != '\t' && line[0] != ' ') {
			/* "comm " heading a sample (a comm may hold spaces). */
			char *end = line + len;

			while (end > line && end[-1] == ' ')
				*--end = '\0';
			snprintf(comm, sizeof(comm), "%s", *line ? line : "[unknown]");
			for (char *c = comm; *c; c++)
				if (*c == ';')
					*c = '_';
			in_sample = 1;
			continue;
		}
		if (!in_sample)
			continue;
		{
			/* "\t    ffffffff81234 sym+off (dso)" */
			char *p = line, *sym, *dso = NULL, *open;

			while (*p == '\t' || *p == ' ')
				p++;
			while (*p && *p != ' ')
				p++;
			while (*p == ' ')
				p++;
			sym = p;
			open = strrchr(sym, '(');
			if (open && open > sym && open[-1] == ' ' && sym[strlen(sym) - 1] == ')') {
				open[-1] = '\0';
				dso = open + 1;
				dso[strlen(dso) - 1] = '\0';
			}
			if (!*sym)
				sym = "[unknown]";
			if (n == fcap) {
				struct frame *nf;

				fcap = fcap ? 2 * fcap : 64;
				nf = realloc(f, fcap * sizeof(*f));
				if (!nf)
					break;
				f = nf;
			}
			{
				int k = dso && is_kernel_dso(dso);
				char *name;

				/* Unknown symbols name their object, so that a
				 * missing symbol table shows as such. */
				if (!strcmp(sym, "[unknown]") && dso && strcmp(dso, "[unknown]"))
					name = xasprintf("[unknown in %s]", dso);
				else
					name = xstrdup(sym);
				for (char *c = name; *c; c++)
					if (*c == ';')
						*c = ':';
				f[n].sym = name;
				f[n].kernel = k;
				n++;
			}
		}
	}
	if (in_sample) {
		flush_sample(comm, f, n, focus, self, folded);
		samples += n > 0;
	}
	for (size_t i = 0; i < n; i++)
		free(f[i].sym);
	free(f);
	free(line);
	return samples;
}

/* `swapbench profile`. */

const char *const profile_swap_path[] = {
	/* reclaim, which swaps anonymous folios out */
	"shrink_folio_list", "shrink_page_list", "swap_writepage", "__swap_writepage",
	"zswap_store", "zswap_frontswap_store",
	/* swap-in */
	"do_swap_page", "swap_read_folio", "swap_readpage", "swapin_readahead", "zswap_load",
	"zswap_frontswap_load",
	/* the block devices swap sits on */
	"zram_submit_bio", "zram_bio_read", "zram_bio_write", "nvme_queue_rq",
	/* swap entries freed on unmap/exit, and swapoff */
	"free_swap_and_cache", "free_swap_and_cache_nr", "swap_free", "swap_free_nr",
	"try_to_unuse",
	NULL,
};

struct kprof {
	const char *name;
	char *release;
	json_t *self;     /* sym -> {samples, kernel} */
	json_t *folded;   /* stack -> n */
	long long samples;
	int cells, cells_without;
	json_t *warnings; /* unique strings */
};

static void warn_once(struct kprof *k, char *msg)
{
	size_t i;
	json_t *w;

	json_array_foreach(k->warnings, i, w)
		if (!strcmp(json_string_value(w), msg)) {
			free(msg);
			return;
		}
	json_array_append_new(k->warnings, json_string(msg));
	free(msg);
}

/* The kernel's vmlinux on this host, if any: the -dbg package's file (in
 * the kernel cache's extracted root, or installed), or a build tree's. */
static char *find_vmlinux(const char *release)
{
	const char *home = getenv("XDG_CACHE_HOME");
	char *cands[4];
	char *found = NULL;

	if (!release)
		return NULL;
	cands[0] = xasprintf("/usr/lib/debug/boot/vmlinux-%s", release);
	cands[1] = xasprintf("/lib/modules/%s/build/vmlinux", release);
	cands[2] = home && *home ? xasprintf("%s/swapbench/kernels/linux-image-%s/root/usr/lib/"
					     "debug/boot/vmlinux-%s", home, release, release)
				 : xasprintf("%s/.cache/swapbench/kernels/linux-image-%s/root/usr/"
					     "lib/debug/boot/vmlinux-%s", getenv("HOME") ?: "/root",
					     release, release);
	cands[3] = NULL;
	for (int i = 0; cands[i]; i++) {
		if (!found && access(cands[i], R_OK) == 0)
			found = xstrdup(cands[i]);
		free(cands[i]);
	}
	return found;
}

static int script_cell(const char *cell_dir, struct kprof *k, const char *const *focus,
		       const char *tmp_out)
{
	char *data = xasprintf("%s/" GUEST_SUBDIR "/perf.data", cell_dir);
	char *ks = xasprintf("%s/" GUEST_SUBDIR "/kallsyms", cell_dir);
	char *vmlinux = find_vmlinux(k->release);
	const char *argv[16];
	int a = 0, rc;
	struct stat st;
	struct spawn_result r;
	FILE *in;

	argv[a++] = "perf";
	argv[a++] = "script";
	argv[a++] = "-f";
	argv[a++] = "-i";
	argv[a++] = data;
	argv[a++] = "-F";
	argv[a++] = "comm,ip,sym,dso";
	if (vmlinux) {
		argv[a++] = "--vmlinux";
		argv[a++] = vmlinux;
	} else {
		warn_once(k, xasprintf("kernel %s: no vmlinux-%s on this host (for a Debian kernel "
				       "install linux-image-%s-dbg; built kernels keep none): "
				       "kernel symbols come from the guest's /proc/kallsyms",
				       k->name, k->release ? k->release : "?",
				       k->release ? k->release : "RELEASE"));
	}
	if (lstat(ks, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		argv[a++] = "--kallsyms";
		argv[a++] = ks;
	} else if (!vmlinux) {
		warn_once(k, xasprintf("kernel %s: %s is missing (the guest could not read "
				       "/proc/kallsyms) and there is no vmlinux: kernel frames "
				       "stay raw addresses", k->name, ks));
	}
	argv[a] = NULL;
	{
		struct spawn_opts o = { .argv = argv, .timeout_ms = PERF_SCRIPT_TIMEOUT_MS,
					.stdout_path = tmp_out, .quiet_stderr = 1 };

		rc = spawn_run(&o, &r);
	}
	if (rc == -ENOENT)
		rc = sb_err(ENOPKG, "perf is not installed (Debian: apt-get install linux-perf)");
	if (!rc && (r.timed_out || r.exit_code))
		rc = sb_err(EIO, "perf script -i %s failed (%s)", data,
			    r.timed_out ? "timed out" : "non-zero exit; run it by hand to see why");
	if (!rc)
		spawn_result_release(&r);
	if (!rc && (in = fopen(tmp_out, "re"))) {
		k->samples += profile_parse_script(in, focus, k->self, k->folded);
		fclose(in);
	}
	unlink(tmp_out);
	free(vmlinux);
	free(data);
	free(ks);
	return rc;
}

struct row {
	const char *sym;
	double pct[2];
	int kernel;
};

static double pct_of(const struct kprof *k, const char *sym)
{
	json_t *e = json_object_get(k->self, sym);

	return k->samples ? 100.0 * (double)json_integer_value(json_object_get(e, "samples")) /
				    (double)k->samples
			  : 0;
}

static int cmp_diff(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	double dx = fabs(x->pct[1] - x->pct[0]), dy = fabs(y->pct[1] - y->pct[0]);

	return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->sym, y->sym);
}

static int cmp_first(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->pct[0] < y->pct[0] ? 1 : x->pct[0] > y->pct[0] ? -1 : strcmp(x->sym, y->sym);
}

static int write_folded(const char *path, const json_t *folded)
{
	FILE *f = fopen(path, "we");
	const char *key;
	json_t *v;

	if (!f)
		return sb_err(errno, "cannot write '%s': %s", path, strerror(errno));
	json_object_foreach((json_t *)folded, key, v)
		fprintf(f, "%s %lld\n", key, (long long)json_integer_value(v));
	if (fclose(f))
		return sb_err(EIO, "cannot write '%s'", path);
	return 0;
}

/* A bar per symbol: the change in share of samples, B minus A. */
static int write_chart(const char *out_dir, const struct kprof *k, const struct row *rows,
		       size_t n, int focused)
{
	char *dat = xasprintf("%s/profile-diff.dat", out_dir);
	char *gp = xasprintf("%s/profile-diff.gp", out_dir);
	const char *argv[] = { "gnuplot", "profile-diff.gp", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 60000, .capture = 1,
				.merge_stderr = 1, .cwd = out_dir };
	struct spawn_result r;
	FILE *f = fopen(dat, "we");
	int rc = 0;

	if (!f) {
		rc = sb_err(errno, "cannot write '%s': %s", dat, strerror(errno));
		goto out;
	}
	fprintf(f, "# symbol  %%samples(%s)  %%samples(%s)  delta(points)\n", k[0].name,
		k[1].name);
	for (size_t i = 0; i < n; i++) {
		/* One token per name for gnuplot; quotes would end it. */
		char *s = xstrdup(rows[i].sym);

		for (char *c = s; *c; c++)
			if (*c == '"' || *c == ' ' || *c == '\\')
				*c = '_';
		fprintf(f, "\"%s\" %.4f %.4f %.4f\n", s, rows[i].pct[0], rows[i].pct[1],
			rows[i].pct[1] - rows[i].pct[0]);
		free(s);
	}
	fclose(f);
	f = fopen(gp, "we");
	if (!f) {
		rc = sb_err(errno, "cannot write '%s': %s", gp, strerror(errno));
		goto out;
	}
	fprintf(f, "# Written by swapbench profile; run 'gnuplot profile-diff.gp' here.\n"
		   "set terminal pngcairo size 1000,%zu noenhanced font \"sans,9\"\n"
		   "set output 'profile-diff.png'\n"
		   "set title \"Share of CPU samples%s: %s minus %s (percentage points), top %zu "
		   "changes\"\n"
		   "set style fill solid 0.8 border -1\n"
		   "set boxwidth 0.7 relative\n"
		   "set grid xtics\nset xzeroaxis\nunset key\n"
		   "set ytics nomirror\nset yrange [%zu-0.2:-0.8]\n"
		   "set xlabel 'percentage points (positive: more samples in %s)'\n"
		   "plot 'profile-diff.dat' using ($4/2):0:(abs($4)/2):(0.35):"
		   "($4 > 0 ? 0xd62728 : 0x1f77b4):ytic(1) with boxxyerror lc rgb variable\n",
		   200 + 22 * n, focused ? " in the swap path" : "", k[1].name, k[0].name, n, n,
		   k[1].name);
	fclose(f);
	rc = spawn_run(&o, &r);
	if (rc == -ENOENT)
		rc = sb_err(ENOPKG, "gnuplot is not installed (Debian: apt-get install "
			    "gnuplot-nox)");
	if (!rc) {
		if (r.timed_out || r.exit_code)
			rc = sb_err(EIO, "gnuplot %s failed: %.500s", gp, r.out ? r.out : "");
		spawn_result_release(&r);
	}
out:
	free(dat);
	free(gp);
	return rc;
}

/* Kernel names of the run in spec order (run.json), else as cells show. */
static json_t *run_kernels(const char *run_dir)
{
	json_t *run = NULL, *out = json_array(), *k;
	size_t i;

	if (store_load_run(run_dir, &run))
		log_warn("%s", sb_lasterr());
	json_array_foreach(json_object_get(run, "kernels"), i, k)
		if (json_is_string(json_object_get(k, "name")))
			json_array_append(out, json_object_get(k, "name"));
	json_decref(run);
	return out;
}

static void print_top(const struct kprof *k, int top, FILE *out)
{
	size_t n = json_object_size(k->self), i = 0;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	const char *key;
	json_t *v;

	json_object_foreach(k->self, key, v) {
		rows[i].sym = key;
		rows[i].pct[0] = pct_of(k, key);
		rows[i].kernel = json_is_true(json_object_get(v, "kernel"));
		i++;
	}
	qsort(rows, n, sizeof(*rows), cmp_first);
	fprintf(out, "\n%s: top symbols by self samples (%lld samples, %d cells%s)\n", k->name,
		k->samples, k->cells, k->cells_without ? ", some without a profile" : "");
	for (i = 0; i < n && (int)i < top; i++)
		fprintf(out, "  %6.2f%%  %s%s\n", rows[i].pct[0], rows[i].sym,
			rows[i].kernel ? "  [k]" : "");
	free(rows);
}

/* Every cell's result.json under cells_dir, with its directory in "_dir". */
static json_t *load_cells(const char *cells_dir, DIR *d)
{
	json_t *cells = json_array();
	struct dirent *e;

	while ((e = readdir(d))) {
		char *rp;
		json_t *r;

		if (e->d_name[0] == '.')
			continue;
		rp = xasprintf("%s/%s/" STORE_RESULT, cells_dir, e->d_name);
		if (result_load(rp, 1, &r) == 0) {
			json_object_set_new(r, "_dir", json_sprintf("%s/%s", cells_dir, e->d_name));
			json_array_append_new(cells, r);
		}
		free(rp);
	}
	return cells;
}

/* The kernel release the cell in dir booted (its cell.json), or NULL. */
static char *cell_release(const char *dir)
{
	char *cj = store_path(dir, CELL_FILE), *out;
	json_t *cell = NULL;
	const char *rel;

	store_load_json(cj, 1 << 20, &cell);
	rel = json_string_value(json_object_get(json_object_get(cell, "kernel"), "release"));
	out = rel ? xstrdup(rel) : NULL;
	json_decref(cell);
	free(cj);
	return out;
}

/* perf script of every ok cell of the nk kernels, folded into k[]. */
static int script_cells(const json_t *cells, struct kprof *k, int nk,
			const char *const *focus, const char *tmp)
{
	int code = EXIT_OK;
	json_t *c;
	size_t i;

	json_array_foreach(cells, i, c) {
		const char *kn = json_string_value(json_object_get(c, "kernel"));
		const char *dir = json_string_value(json_object_get(c, "_dir"));
		char *data = xasprintf("%s/" GUEST_SUBDIR "/perf.data", dir);
		struct stat st;
		int j;

		for (j = 0; j < nk && strcmp(k[j].name, kn); j++)
			;
		if (j < nk && strcmp(json_string_value(json_object_get(c, "status")), "ok") == 0) {
			k[j].cells++;
			if (!k[j].release)
				k[j].release = cell_release(dir);
			if (lstat(data, &st) || !S_ISREG(st.st_mode)) {
				k[j].cells_without++;
			} else if (script_cell(dir, &k[j], focus, tmp)) {
				log_err("%s", sb_lasterr());
				code = EXIT_CELLS_FAILED;
			}
		}
		free(data);
	}
	return code;
}

/* Each kernel named or found has samples: say its warnings and write its
 * folded stacks; else the exit code that says why not (EXIT_OK: go on). */
static int check_kernels(const struct profile_opts *o, struct kprof *k, int nk,
			 const char *out_dir, int code)
{
	for (int j = 0; j < nk; j++) {
		char *fp;
		json_t *w;
		size_t wi;

		if (!o->kernels[j] && !k[j].cells)
			continue;
		if (!k[j].cells) {
			log_err("%s: no ok cell of kernel '%s'", o->run_dir, k[j].name);
			return EXIT_USAGE;
		}
		json_array_foreach(k[j].warnings, wi, w)
			log_warn("%s", json_string_value(w));
		if (!k[j].samples) {
			log_err("%s: kernel '%s' has no profile samples (run with --profile or "
				"workloads[].profile: true)", o->run_dir, k[j].name);
			return code == EXIT_OK ? EXIT_SKIPPED : code;
		}
		fp = xasprintf("%s/folded-%s.txt", out_dir, k[j].name);
		if (write_folded(fp, k[j].folded))
			log_err("%s", sb_lasterr());
		free(fp);
	}
	return EXIT_OK;
}

/* Two kernels: every symbol of either, by the change in its share; a
 * table (or doc.diff) and a chart. */
static void profile_diff(const struct profile_opts *o, struct kprof *k, const char *out_dir,
			 const char *const *focus, int top, json_t *doc)
{
	json_t *all = json_object(), *v;
	const char *key;
	size_t n = 0, i;
	struct row *rows;

	for (int j = 0; j < 2; j++)
		json_object_foreach(k[j].self, key, v)
			json_object_set(all, key, v);
	rows = calloc(json_object_size(all) + 1, sizeof(*rows));
	json_object_foreach(all, key, v) {
		rows[n].sym = key;
		rows[n].pct[0] = pct_of(&k[0], key);
		rows[n].pct[1] = pct_of(&k[1], key);
		rows[n].kernel = json_is_true(json_object_get(v, "kernel"));
		n++;
	}
	qsort(rows, n, sizeof(*rows), cmp_diff);
	if (o->json) {
		json_t *diff = json_array();

		for (i = 0; i < n && (int)i < top; i++)
			json_array_append_new(diff, json_pack(
				"{s:s,s:f,s:f,s:f,s:b}", "symbol", rows[i].sym, "pct_a",
				rows[i].pct[0], "pct_b", rows[i].pct[1], "delta",
				rows[i].pct[1] - rows[i].pct[0], "kernel", rows[i].kernel));
		json_object_set_new(doc, "diff", diff);
	} else {
		printf("\nDifference in share of self samples, %s vs %s (percentage points; "
		       "summed over iterations)\n  %8s %8s %8s  symbol\n", k[1].name,
		       k[0].name, k[0].name, k[1].name, "delta");
		for (i = 0; i < n && (int)i < top; i++)
			printf("  %7.2f%% %7.2f%% %+8.2f  %s%s\n", rows[i].pct[0],
			       rows[i].pct[1], rows[i].pct[1] - rows[i].pct[0], rows[i].sym,
			       rows[i].kernel ? "  [k]" : "");
	}
	if (write_chart(out_dir, k, rows, n < (size_t)top ? n : (size_t)top, focus != NULL))
		log_warn("%s", sb_lasterr());
	else if (!o->json)
		printf("\nChart: %s/profile-diff.png\n", out_dir);
	free(rows);
	json_decref(all);
}

int profile_report(const struct profile_opts *o)
{
	json_t *names = run_kernels(o->run_dir), *cells = NULL;
	json_t *doc = json_object();
	struct kprof k[2] = { { 0 } };
	char *cells_dir = store_path(o->run_dir, STORE_CELLS);
	char *out_dir = o->out_dir ? xstrdup(o->out_dir) : xasprintf("%s/profile", o->run_dir);
	char *tmp = NULL;
	DIR *d = opendir(cells_dir);
	int nk = 0, code = EXIT_OK, stop, top = o->top > 0 ? o->top : 20;
	const char *const *focus = o->swap_path ? profile_swap_path : o->focus;

	if (!d) {
		log_err("'%s' is not a swapbench run (no cells/ directory)", o->run_dir);
		code = EXIT_USAGE;
		goto out;
	}
	for (int j = 0; j < 2; j++) {
		const char *name = o->kernels[j] ? o->kernels[j]
						 : json_string_value(json_array_get(names, j));

		if (!name)
			break;
		k[j].name = name;
		k[j].self = json_object();
		k[j].folded = json_object();
		k[j].warnings = json_array();
		nk++;
	}
	if (!nk) {
		log_err("%s: no kernels in run.json", o->run_dir);
		closedir(d);
		code = EXIT_USAGE;
		goto out;
	}
	cells = load_cells(cells_dir, d);
	closedir(d);
	if (mkdir_p(out_dir, 0755)) {
		log_err("%s", sb_lasterr());
		code = EXIT_USAGE;
		goto out;
	}
	tmp = xasprintf("%s/.perf-script.tmp", out_dir);
	code = script_cells(cells, k, nk, focus, tmp);
	if ((stop = check_kernels(o, k, nk, out_dir, code)) != EXIT_OK) {
		code = stop;
		goto out;
	}
	if (o->json) {
		json_t *ks = json_array();

		for (int j = 0; j < nk; j++)
			json_array_append_new(ks, json_pack("{s:s,s:I,s:i,s:O,s:O}", "name", k[j].name,
							    "samples", (json_int_t)k[j].samples,
							    "cells", k[j].cells, "self", k[j].self,
							    "warnings", k[j].warnings));
		json_object_set_new(doc, "kernels", ks);
	} else {
		for (int j = 0; j < nk; j++)
			print_top(&k[j], top, stdout);
	}
	if (nk == 2)
		profile_diff(o, k, out_dir, focus, top, doc);
	if (o->json) {
		json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		printf("Folded stacks (flamegraph.pl input): %s/folded-<kernel>.txt\n[k] = kernel "
		       "symbol\n", out_dir);
	}
out:
	json_decref(doc);
	for (int j = 0; j < 2; j++) {
		json_decref(k[j].self);
		json_decref(k[j].folded);
		json_decref(k[j].warnings);
		free(k[j].release);
	}
	free(tmp);
	json_decref(names);
	json_decref(cells);
	free(cells_dir);
	free(out_dir);
	return code;
}
