/* anon: a usemem-like anonymous memory workload.
 *
 * run() forks `processes` children. Each maps its own private anonymous
 * region, faults every page in (pass 1), then re-reads and re-writes every
 * page in later passes. The caller has put us in a memcg smaller than the
 * total, so later passes swap pages back in; every page access is timed
 * individually into a log-linear latency histogram.
 *
 * Cross-process results live in one small MAP_SHARED region: per pass the
 * earliest start / latest end / longest duration over processes, and per
 * process its histograms and counters. Nothing here is simulated: the
 * numbers come from real faults on real mappings.
 */
#define _GNU_SOURCE
#include "workloads/workload.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/params.h"
#include "workloads/anon.h"
#include "workloads/lat-hist.h"
#include "workloads/mthp-knobs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* PMD size on x86-64; the guest we run in is x86-64. */
#define HPAGE_SIZE		(2UL << 20)

/* Pattern-fill words carry a marker byte so they are never zero. */
#define PATTERN_MAGIC		(0x5aULL << 56)

#define NS_PER_S		1000000000ULL

const char *const anon_fill_names[] = {
	[FILL_ZERO] = "zero", [FILL_RANDOM] = "random", [FILL_PATTERN] = "pattern",
	[FILL_PATTERN + 1] = NULL,
};

struct anon_cfg {
	unsigned int processes;
	unsigned long long size;
	bool random;
	unsigned int passes;
	bool hugepage;
	enum anon_fill fill;
	uint64_t seed;
	struct mthp_knobs mthp;
};

/* Per pass, over all processes; updated with atomics by the children. */
struct pass_times {
	uint64_t min_start_ns;
	uint64_t max_end_ns;
	uint64_t max_dur_ns;
};

/* One slot per child in the shared region; only its owner writes it. */
struct proc_stats {
	struct lat_hist hist[2];	/* [0]: pass 1 (fault-in), [1]: passes >= 2 */
	uint64_t accesses;
	uint64_t verify_errors;
	uint64_t passes_end_ns;
	uint64_t free_ns;
	int err;			/* positive errno of a failure in the child */
	int done;			/* stored last, with release semantics */
	char errmsg[128];
} __attribute__((aligned(64)));

/* ---- small helpers ---------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static inline uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static void atomic_min_u64(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v < cur && !__atomic_compare_exchange_n(p, &cur, v, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static void atomic_max_u64(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(p, &cur, v, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

/* ---- parameters ------------------------------------------------------- */

const char *const anon_patterns[] = { "seq", "random", NULL };

/* The parameters; anon_parse resolves them in this order. */
static const struct param_def anon_params[] = {
	ANON_PARAMS_SHAPE,
	PARAM_BOOL("hugepage", "false", "madvise(MADV_HUGEPAGE) the mapping"),
	PARAM_CUSTOM("mthp", NULL, "mTHP policy per size, e.g. {\"64K\": \"always\"}"),
	ANON_PARAMS_DATA,
	PARAM_END(),
};

/* Check params and resolve them with the table's defaults into cfg. */
static int anon_parse(const json_t *params, const char *where, struct anon_cfg *cfg)
{
	long long seed = 0;
	unsigned int pattern = 0, fill = 0;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if ((ret = params_check(params, where, anon_params)) ||
	    (ret = params_get_uint(params, where, anon_params, "processes", &cfg->processes)) ||
	    (ret = params_get_size(params, where, anon_params, "size", &cfg->size)) ||
	    (ret = params_get_enum(params, where, anon_params, "pattern", &pattern)) ||
	    (ret = params_get_uint(params, where, anon_params, "passes", &cfg->passes)) ||
	    (ret = params_get_bool(params, where, anon_params, "hugepage", &cfg->hugepage)) ||
	    (ret = params_get_int(params, where, anon_params, "seed", &seed)) ||
	    (ret = params_get_enum(params, where, anon_params, "fill", &fill)))
		return ret;
	cfg->random = pattern == 1;
	cfg->seed = (uint64_t)seed;
	cfg->fill = (enum anon_fill)fill;
	return mthp_knobs_parse(json_object_get(params, "mthp"), where, &cfg->mthp);
}

static json_t *cfg_json(const struct anon_cfg *cfg)
{
	json_t *mthp = mthp_knobs_json(&cfg->mthp);

	return json_pack("{s:i,s:I,s:s,s:i,s:b,s:o,s:I,s:s}",
			 "processes", (int)cfg->processes,
			 "size", (json_int_t)cfg->size,
			 "pattern", cfg->random ? "random" : "seq",
			 "passes", (int)cfg->passes,
			 "hugepage", (int)cfg->hugepage,
			 "mthp", mthp,
			 "seed", (json_int_t)cfg->seed,
			 "fill", anon_fill_names[cfg->fill]);
}

static int anon_validate(const json_t *params, const char *where)
{
	struct anon_cfg cfg;

	return anon_parse(params, where, &cfg);
}

/* ---- setup/cleanup: the mTHP knobs, see mthp-knobs.h -------------------- */

static int anon_supported(struct wl_ctx *ctx)
{
	return 0;
}

static int anon_setup(struct wl_ctx *ctx)
{
	struct mthp_saved *saved;
	struct anon_cfg cfg;
	int ret;

	ctx->priv = NULL;
	ret = anon_parse(ctx->params, "anon params", &cfg);
	if (ret)
		return ret;
	ret = mthp_knobs_apply(&cfg.mthp, "anon", &saved);
	if (!ret)
		ctx->priv = saved;
	return ret;
}

static void anon_cleanup(struct wl_ctx *ctx)
{
	mthp_knobs_restore(ctx->priv, "anon");
	ctx->priv = NULL;
}

/* ---- the children ----------------------------------------------------- */

struct child {
	const struct anon_cfg *cfg;
	size_t page;
	uint64_t pages;
	uint64_t seed;		/* this process's seed, derived from cfg->seed */
	uint64_t rng;		/* xorshift state for the order and random fill */
	char *base;
	size_t map_len;
	uint32_t *perm;
};

/* The word at the start of page pidx after pass `pass`; recomputable, so
 * each later pass can check that what swapped back in is what went out. */
static inline uint64_t page_word(const struct child *c, uint64_t pidx, unsigned int pass)
{
	switch (c->cfg->fill) {
	case FILL_ZERO:
		return 0;
	case FILL_RANDOM:
		return splitmix64(c->seed ^ (pidx << 10 | pass));
	default:
		return PATTERN_MAGIC | (uint64_t)pass << 40 | pidx;
	}
}

/* The rest of the page on first touch. "pattern" is 16-byte records of
 * 4 random bytes, 4 zero bytes and a per-page tag: lz4 gets about 2.3:1
 * and zstd about 3.8:1 out of a page, like real data, not a free page. */
static void fill_page(struct child *c, uint64_t *w, uint64_t pidx)
{
	size_t words = c->page / sizeof(uint64_t);
	uint64_t tag = PATTERN_MAGIC | pidx;

	switch (c->cfg->fill) {
	case FILL_ZERO:
		break;
	case FILL_RANDOM:
		for (size_t i = 1; i < words; i++)
			w[i] = xorshift64(&c->rng);
		break;
	case FILL_PATTERN:
		for (size_t i = 1; i < words; i++)
			w[i] = (i & 1) ? tag : (xorshift64(&c->rng) >> 32);
		break;
	}
}

static void shuffle(struct child *c)
{
	for (uint64_t i = c->pages - 1; i > 0; i--) {
		/* Multiply-shift range reduction; i < 2^32, bias is negligible. */
		uint64_t j = ((xorshift64(&c->rng) >> 32) * (i + 1)) >> 32;
		uint32_t t = c->perm[i];

		c->perm[i] = c->perm[j];
		c->perm[j] = t;
	}
}

static int child_map(struct child *c, struct proc_stats *st)
{
	size_t len = c->map_len, over = c->cfg->hugepage ? HPAGE_SIZE : 0;
	uintptr_t start, aligned;
	char *p;

	p = mmap(NULL, len + over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		snprintf(st->errmsg, sizeof(st->errmsg), "mmap of %zu bytes: %s", len,
			 strerror(e));
		return -e;
	}
	if (!over) {
		c->base = p;
		return 0;
	}
	/* Over-allocate by one huge page and trim both ends so the region
	 * starts on a PMD boundary and every full 2M of it can be a THP. */
	start = (uintptr_t)p;
	aligned = (start + HPAGE_SIZE - 1) & ~(uintptr_t)(HPAGE_SIZE - 1);
	if (aligned > start)
		munmap(p, aligned - start);
	if (start + over > aligned)
		munmap((char *)aligned + len, start + over - aligned);
	c->base = (char *)aligned;
	if (madvise(c->base, len, MADV_HUGEPAGE)) {
		int e = errno;

		snprintf(st->errmsg, sizeof(st->errmsg), "madvise(MADV_HUGEPAGE): %s",
			 strerror(e));
		return -e;
	}
	return 0;
}

static void child_pass(struct child *c, unsigned int pass, struct proc_stats *st,
		       struct pass_times *pt)
{
	struct lat_hist *h = &st->hist[pass > 1];
	size_t q1 = c->page / 4, q2 = c->page / 2, q3 = c->page / 4 * 3;
	uint64_t start = now_ns(), end;

	for (uint64_t i = 0; i < c->pages; i++) {
		/* Everything but the access itself stays out of the timed window,
		 * including the permutation lookup (which may fault too). */
		uint64_t pidx = c->perm ? c->perm[i] : i;
		char *pg = c->base + pidx * c->page;
		volatile uint64_t *w = (volatile uint64_t *)pg;
		uint64_t val = page_word(c, pidx, pass), old = 0, t0, t1;

		t0 = now_ns();
		__asm__ __volatile__("" ::: "memory");
		if (pass > 1)
			old = *w;
		*w = val;
		__asm__ __volatile__("" ::: "memory");
		t1 = now_ns();
		hist_add(h, t1 - t0);

		if (pass == 1) {
			fill_page(c, (uint64_t *)pg, pidx);
			continue;
		}
		if (old != page_word(c, pidx, pass - 1))
			st->verify_errors++;
		/* A few bytes across the page, so each pass dirties more than
		 * one cache line of it. */
		pg[q1] = (char)(val >> 8);
		pg[q2] = (char)(val >> 16);
		pg[q3] = (char)(val >> 24);
	}
	end = now_ns();
	st->accesses += c->pages;
	atomic_min_u64(&pt->min_start_ns, start);
	atomic_max_u64(&pt->max_end_ns, end);
	atomic_max_u64(&pt->max_dur_ns, end - start);
}

static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r;
}

static void __attribute__((noreturn))
child_main(const struct anon_cfg *cfg, unsigned int idx, struct proc_stats *st,
	   struct pass_times *pt, int ready_w, int go_r, pid_t parent)
{
	struct child c = { .cfg = cfg, .page = page_size() };
	uint64_t t0;
	char token;
	int ret;

	/* If run() is killed (timeout), don't leave workers behind eating
	 * the memcg: they would be released by the go pipe closing. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);

	c.pages = (cfg->size + c.page - 1) / c.page;
	c.map_len = c.pages * c.page;
	c.seed = splitmix64(cfg->seed ^ splitmix64(idx + 1));
	c.rng = c.seed ? c.seed : 0x2545f4914f6cdd1dULL;
	for (int h = 0; h < 2; h++)
		hist_init(&st->hist[h]);

	ret = child_map(&c, st);
	if (!ret && cfg->random) {
		c.perm = malloc(c.pages * sizeof(*c.perm));
		if (!c.perm) {
			ret = -ENOMEM;
			snprintf(st->errmsg, sizeof(st->errmsg),
				 "no memory for a %" PRIu64 "-page permutation", c.pages);
		} else {
			for (uint64_t i = 0; i < c.pages; i++)
				c.perm[i] = (uint32_t)i;
			shuffle(&c);
		}
	}

	/* Report ready (even on failure, then leave) and wait for the
	 * parent to close the go pipe, which releases everyone at once. */
	token = ret ? '!' : '+';
	if (write(ready_w, &token, 1) < 0)
		ret = ret ? ret : -errno;
	close(ready_w);
	if (ret) {
		st->err = -ret;
		_exit(1);
	}
	while (read_retry(go_r, &token, 1) > 0)
		;

	for (unsigned int pass = 1; pass <= cfg->passes; pass++) {
		if (pass > 1 && c.perm)
			shuffle(&c);
		child_pass(&c, pass, st, &pt[pass - 1]);
	}
	st->passes_end_ns = now_ns();

	free(c.perm);
	t0 = now_ns();
	munmap(c.base, c.map_len);
	st->free_ns = now_ns() - t0;
	__atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* ---- the parent ------------------------------------------------------- */

/* Floor of what a timed access can show: two back-to-back clock reads. */
static uint64_t clock_overhead_ns(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = now_ns(), d = now_ns() - t0;

		if (d < best)
			best = d;
	}
	return best;
}

static void kill_and_reap(const pid_t *pids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (unsigned int i = 0; i < n; i++)
		while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
			;
}

struct run_result {
	unsigned int ok, died, failed;
	unsigned int died_by[NSIG];
	int first_err;			/* errno of the first failed child */
	unsigned int first_err_idx;
	uint64_t t_release, t_last_end;
	uint64_t verify_errors, accesses;
	uint64_t free_sum_ns, free_max_ns;
	struct lat_hist hist[2];
};

static void record_info(struct wl_ctx *ctx, const struct anon_cfg *cfg,
			const struct run_result *r, const struct pass_times *pt, size_t page,
			uint64_t pages, uint64_t clk_ns)
{
	uint64_t bytes = (uint64_t)r->ok * pages * page * cfg->passes;
	json_t *info = ctx->info, *wall, *pmax;
	char mode[16];

	if (!info)
		return;
	wall = json_array();
	pmax = json_array();
	for (unsigned int i = 0; i < cfg->passes; i++) {
		bool seen = pt[i].max_end_ns != 0;

		json_array_append_new(wall, json_real(seen ? (pt[i].max_end_ns -
							      pt[i].min_start_ns) / 1e9 : 0.0));
		json_array_append_new(pmax, json_real(pt[i].max_dur_ns / 1e9));
	}
	json_object_set_new(info, "params", cfg_json(cfg));
	json_object_set_new(info, "page_size", json_integer((json_int_t)page));
	json_object_set_new(info, "pages_per_process", json_integer((json_int_t)pages));
	json_object_set_new(info, "bytes_touched", json_integer((json_int_t)bytes));
	json_object_set_new(info, "accesses", json_integer((json_int_t)r->accesses));
	json_object_set_new(info, "wall_s", json_real(r->t_last_end > r->t_release ?
			    (r->t_last_end - r->t_release) / 1e9 : 0.0));
	json_object_set_new(info, "pass_wall_s", wall);
	json_object_set_new(info, "pass_max_s", pmax);
	json_object_set_new(info, "free_time_max_ms", json_real(r->free_max_ns / 1e6));
	json_object_set_new(info, "measured_passes",
			    json_pack("[i,i]", cfg->passes > 1 ? 2 : 1, (int)cfg->passes));
	json_object_set_new(info, "lat_measured", hist_summary(&r->hist[cfg->passes > 1]));
	if (cfg->passes > 1)
		json_object_set_new(info, "lat_fault_in", hist_summary(&r->hist[0]));
	json_object_set_new(info, "verify_errors", json_integer((json_int_t)r->verify_errors));
	json_object_set_new(info, "processes_ok", json_integer(r->ok));
	json_object_set_new(info, "processes_died", json_integer(r->died));
	json_object_set_new(info, "processes_failed", json_integer(r->failed));
	json_object_set_new(info, "clock_overhead_ns", json_integer((json_int_t)clk_ns));
	/* Best effort: whether MADV_HUGEPAGE/THP can do anything here. */
	if (!mthp_read_mode(THP_SYSFS "/enabled", mode, sizeof(mode)))
		json_object_set_new(info, "thp_enabled", json_string(mode));
}

static int report_deaths(const struct anon_cfg *cfg, const struct run_result *r)
{
	char sigs[256] = "";
	size_t off = 0;

	for (int s = 1; s < NSIG && off < sizeof(sigs); s++) {
		if (r->died_by[s])
			off += snprintf(sigs + off, sizeof(sigs) - off, "%s%u by signal %d (%s)",
					off ? ", " : "", r->died_by[s], s, strsignal(s));
	}
	return sb_err(ECHILD, "anon: %u of %u processes died: %s%s", r->died, cfg->processes,
		      sigs, r->died_by[SIGKILL] ? " (OOM kill? check the memcg limit and swap)"
						: "");
}

/* Wait for the n children and count how they ended into r. */
static void reap_children(const pid_t *pids, unsigned int n, struct proc_stats *stats,
			  struct run_result *r)
{
	for (unsigned int i = 0; i < n; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				status = -1;
				break;
			}
		}
		if (status != -1 && WIFSIGNALED(status)) {
			r->died++;
			if (WTERMSIG(status) < NSIG)
				r->died_by[WTERMSIG(status)]++;
			continue;
		}
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) ||
		    !__atomic_load_n(&stats[i].done, __ATOMIC_ACQUIRE)) {
			if (!r->failed++) {
				r->first_err = stats[i].err ? stats[i].err : ECHILD;
				r->first_err_idx = i;
			}
			continue;
		}
		r->ok++;
	}
}

/* Merge the histograms and counters of the children that finished. */
static void merge_children(struct proc_stats *stats, unsigned int n, struct run_result *r)
{
	hist_init(&r->hist[0]);
	hist_init(&r->hist[1]);
	for (unsigned int i = 0; i < n; i++) {
		struct proc_stats *st = &stats[i];

		if (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE))
			continue;
		hist_merge(&r->hist[0], &st->hist[0]);
		hist_merge(&r->hist[1], &st->hist[1]);
		r->accesses += st->accesses;
		r->verify_errors += st->verify_errors;
		r->free_sum_ns += st->free_ns;
		if (st->free_ns > r->free_max_ns)
			r->free_max_ns = st->free_ns;
		if (st->passes_end_ns > r->t_last_end)
			r->t_last_end = st->passes_end_ns;
	}
}

/* The outcome: partial results stay in info; metrics only come from a
 * clean run (no deaths, no failures, every page read back as written). */
static int anon_outcome(struct wl_ctx *ctx, const struct anon_cfg *cfg, const struct run_result *r,
			const struct proc_stats *stats, const struct pass_times *pt,
			size_t page, uint64_t pages, uint64_t t_entry)
{
	const struct lat_hist *h = &r->hist[cfg->passes > 1];
	double wall = (r->t_last_end - r->t_release) / 1e9;
	double bytes = (double)pages * page * cfg->passes * cfg->processes;
	const struct proc_stats *st = &stats[r->first_err_idx];

	if (r->died)
		return report_deaths(cfg, r);
	if (r->failed)
		return sb_err(r->first_err, "anon: %u of %u processes failed; process %u: %s",
			      r->failed, cfg->processes, r->first_err_idx + 1,
			      st->errmsg[0] ? st->errmsg : "exited without reporting results");
	/* Swap handing back other data than it was given is a finding in
	 * itself; numbers measured over it are not worth keeping. */
	if (r->verify_errors)
		return sb_err(EIO, "anon: %" PRIu64 " page access(es) read back other data than "
			      "was written in the pass before", r->verify_errors);
	wl_metric(ctx, "throughput", wall > 0 ? bytes / wall / 1e6 : 0.0, "MB/s", "higher");
	wl_metric(ctx, "lat_p50", hist_quantile(h, 0.5) / 1e3, "us", "lower");
	wl_metric(ctx, "lat_p90", hist_quantile(h, 0.9) / 1e3, "us", "lower");
	wl_metric(ctx, "lat_p99", hist_quantile(h, 0.99) / 1e3, "us", "lower");
	wl_metric(ctx, "lat_p99.9", hist_quantile(h, 0.999) / 1e3, "us", "lower");
	wl_metric(ctx, "lat_max", h->max_ns / 1e3, "us", "lower");
	wl_metric(ctx, "fault_in_time", pt[0].max_dur_ns / 1e9, "s", "lower");
	wl_metric(ctx, "free_time", r->free_sum_ns / 1e6 / cfg->processes, "ms", "lower");
	wl_metric(ctx, "elapsed", (now_ns() - t_entry) / 1e9, "s", "lower");
	return 0;
}

static int anon_run(struct wl_ctx *ctx)
{
	uint64_t t_entry = now_ns(), clk_ns, pages;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 };
	size_t page = page_size(), shm_len, pt_len;
	struct run_result *r = NULL;
	struct proc_stats *stats;
	struct pass_times *pt;
	struct anon_cfg cfg;
	pid_t *pids = NULL, self = getpid();
	unsigned int n = 0;
	void *shm;
	char token;
	int ret;

	ret = anon_parse(ctx->params, "anon params", &cfg);
	if (ret)
		return ret;
	pages = (cfg.size + page - 1) / page;
	clk_ns = clock_overhead_ns();

	pt_len = (cfg.passes * sizeof(*pt) + 63) & ~(size_t)63;
	shm_len = pt_len + cfg.processes * sizeof(*stats);
	shm = mmap(NULL, shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return sb_err(errno, "anon: mmap of %zu shared bytes: %s", shm_len,
			      strerror(errno));
	pt = shm;
	stats = (struct proc_stats *)((char *)shm + pt_len);
	for (unsigned int i = 0; i < cfg.passes; i++)
		pt[i].min_start_ns = UINT64_MAX;

	pids = calloc(cfg.processes, sizeof(*pids));
	r = calloc(1, sizeof(*r));
	if (!pids || !r) {
		ret = sb_err(ENOMEM, "anon: out of memory");
		goto out_unmap;
	}
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		ret = sb_err(errno, "anon: pipe: %s", strerror(errno));
		goto out_pipes;
	}

	/* An agent running as PID 1 may ignore SIGCHLD, which would make the
	 * kernel reap our children before waitpid() could see how they died. */
	sigaction(SIGCHLD, &dfl, &old_chld);

	for (n = 0; n < cfg.processes; n++) {
		pid_t pid = fork();

		if (pid < 0) {
			ret = sb_err(errno, "anon: fork of process %u of %u: %s", n + 1,
				     cfg.processes, strerror(errno));
			kill_and_reap(pids, n);
			goto out_sig;
		}
		if (!pid) {
			close(ready[0]);
			close(go[1]);
			child_main(&cfg, n, &stats[n], pt, ready[1], go[0], self);
		}
		pids[n] = pid;
	}

	/* Each child closes its end of `ready` once prepared (or dead), so
	 * EOF means nobody is still mapping; then closing `go` is the barrier. */
	close(ready[1]);
	ready[1] = -1;
	while (read_retry(ready[0], &token, 1) > 0)
		;
	r->t_release = now_ns();
	close(go[1]);
	go[1] = -1;

	reap_children(pids, n, stats, r);
	merge_children(stats, n, r);
	record_info(ctx, &cfg, r, pt, page, pages, clk_ns);

	ret = anon_outcome(ctx, &cfg, r, stats, pt, page, pages, t_entry);

out_sig:
	sigaction(SIGCHLD, &old_chld, NULL);
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
out_unmap:
	free(pids);
	free(r);
	munmap(shm, shm_len);
	return ret;
}

static const struct metric_desc anon_metrics[] = {
	{ "throughput", "MB/s", "higher" },
	{ "lat_p50", "us", "lower" },
	{ "lat_p90", "us", "lower" },
	{ "lat_p99", "us", "lower" },
	{ "lat_p99.9", "us", "lower" },
	{ "lat_max", "us", "lower" },
	{ "fault_in_time", "s", "lower" },
	{ "free_time", "ms", "lower" },
	{ "elapsed", "s", "lower" },
	{ .name = NULL },
};

const struct workload_ops workload_anon = {
	.name = "anon",
	.summary = "usemem-like: processes fault in and re-touch private anonymous memory, "
		   "timing every page access",
	.validate = anon_validate,
	.params = anon_params,
	.supported = anon_supported,
	.setup = anon_setup,
	.run = anon_run,
	.cleanup = anon_cleanup,
	.metrics = anon_metrics,
};
