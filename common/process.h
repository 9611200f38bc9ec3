/* Child processes from argument vectors (never a shell), with timeouts.
 *
 * Every child gets its own process group so a timeout can kill everything
 * it started. stdin is /dev/null.
 */
#ifndef SB_PROCESS_H
#define SB_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_opts {
	const char *const *argv;   /* argv[0] is looked up in PATH */
	int timeout_ms;            /* 0: no timeout */
	const char *stdout_path;   /* redirect stdout to this file (truncated) */
	const char *stderr_path;   /* redirect stderr to this file (appended) */
	int capture;               /* capture stdout into spawn_result.out */
	int merge_stderr;          /* with capture: stderr goes to the same pipe */
	int quiet_stderr;          /* without a path: stderr to /dev/null */
	size_t capture_max;        /* 0: 1 MiB */
	int out_fd;                /* > 0: stdout and stderr to this descriptor */
	const char *cwd;
	char *const *envp;         /* the child's environment; NULL: this process's */
	void (*tick)(void *arg);   /* called about once a second while it runs */
	void *tick_arg;
};

struct spawn_result {
	int exit_code;   /* exit status, or -1 when killed by a signal */
	int signal;      /* terminating signal, 0 if none */
	int timed_out;
	double elapsed_s;
	char *out;       /* NUL-terminated captured output (may be truncated) */
	size_t out_len;
};

/* Run to completion. Returns 0 when the child was started and reaped
 * (inspect res for its outcome), negative errno when it could not start. */
int spawn_run(const struct spawn_opts *opts, struct spawn_result *res);
void spawn_result_release(struct spawn_result *res);

/* Start without waiting (stdout/stderr redirection as in spawn_run;
 * capture is not supported). */
int spawn_start(const struct spawn_opts *opts, pid_t *pid);
/* Kill a child started by spawn_* together with its process group. */
void spawn_kill(pid_t pid);

/* Convenience: true when the command exits 0 within timeout_ms. */
int spawn_ok(const char *const *argv, int timeout_ms);

/* Render argv for messages ("qemu-system-x86_64 -m 1024 ..."); caller frees. */
char *spawn_argv_str(const char *const *argv);

#endif
