/* Helpers shared by workload plugins: running the external tools some of
 * them wrap (fio, stress-ng, sysbench, make) and parsing their output.
 * Parameters are checked with common/params.h.
 */
#ifndef SB_WL_UTIL_H
#define SB_WL_UTIL_H

#include <jansson.h>
#include <stdbool.h>

#include "common/params.h"

/* Tools. */

/* Find an executable `name` in $PATH (or the agent's default PATH); copies
 * its path to out. 0, or -ENOENT with a message saying how to get it. */
int wl_find_tool(const char *who, const char *name, const char *package, char *out,
		 size_t outlen);
/* The last `lines` lines of text (at most `bytes` bytes of it), as a new
 * string, never NULL, with invalid UTF-8 replaced by '?' so that it can go
 * into JSON. For error messages and info. */
char *wl_tail(const char *text, unsigned int lines, size_t bytes);

/* A host path as the guest sees it: the host root is the guest's root, but
 * the guest's /tmp is its own tmpfs and the host's /tmp is mounted at
 * /run/swapbench-host-tmp (bench/stage1.h). On the host: the path itself.
 * Returns buf. */
const char *wl_guest_path(const char *host_path, char *buf, size_t len);
/* The same for the end of a file; "" if it cannot be read. */
char *wl_file_tail(const char *path, unsigned int lines, size_t bytes);
/* Describe how a spawned tool ended: "exit 2", "killed by signal 9
 * (Killed)", "timed out after 30 s". */
void wl_describe_end(int exit_code, int signal, int timed_out, double elapsed_s, char *buf,
		     size_t len);

struct spawn_opts;
struct spawn_result;
struct strv;
struct wl_ctx;
/* Run the tool argv (o's other fields set), recording the command line in
 * ctx->info.command; argv is released. spawn_run's return. */
int wl_run_tool(struct wl_ctx *ctx, struct spawn_opts *o, struct strv *argv,
		struct spawn_result *res);
/* The last lines of a tool's stderr file, or of its captured output when
 * the file is empty or missing. Caller frees. */
char *wl_output_tail(const char *err_path, const char *out, unsigned int lines, size_t bytes);
/* 0 when the tool exited 0 in time; else sb_err "WHAT failed (how it
 * ended): TAIL" (ETIMEDOUT when it timed out, EIO otherwise). */
int wl_tool_failed(const struct spawn_result *res, const char *what, const char *tail);

/* Output parsers of the tool wrappers, exposed for unit tests. Each
 * returns 0 or -EPROTO with a message saying what is missing. */

struct wl_fio_dir {			/* jobs[0].read or .write */
	long long io_bytes, total_ios;
	double bw_bytes;		/* bytes/s */
	double iops;
	double clat_p50, clat_p99, clat_p999;	/* us */
	bool present;			/* any I/O in this direction */
};

struct wl_fio_result {
	int error;			/* jobs[0].error (an errno) */
	char version[32];
	struct wl_fio_dir read, write;
};

/* fio --output-format=json (one job); text before the JSON is skipped. */
int wl_fio_parse(const char *text, struct wl_fio_result *out);

struct wl_stress_ng_result {
	double bogo_ops, bogo_ops_per_s, bogo_ops_per_cpu_s;
	double wall_s, user_s, sys_s;
};

/* The --yaml file: the `stressor` block of its metrics section. */
int wl_stress_ng_parse_yaml(const char *text, const char *stressor,
			    struct wl_stress_ng_result *out);

struct wl_sysbench_result {
	double throughput_mib;		/* MiB/s */
	double transferred_mib;
	double total_time_s;
	double events;
	double lat_min, lat_avg, lat_max, lat_p95;	/* ms */
};

/* `sysbench memory ... run` text report. */
int wl_sysbench_parse(const char *text, struct wl_sysbench_result *out);

#endif
