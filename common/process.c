#define _GNU_SOURCE
#include "common/process.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int do_spawn(const struct spawn_opts *o, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	int rc;

	if (!o->argv || !o->argv[0])
		return sb_err(EINVAL, "spawn: empty argument vector");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigdefault(&attr, &def);
	sigemptyset(&def);
	posix_spawnattr_setsigmask(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
		if (o->merge_stderr)
			posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	} else if (o->out_fd > 0) {
		posix_spawn_file_actions_adddup2(&fa, o->out_fd, 1);
		posix_spawn_file_actions_adddup2(&fa, o->out_fd, 2);
	} else if (o->stdout_path) {
		posix_spawn_file_actions_addopen(&fa, 1, o->stdout_path,
						 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
	}
	if (o->stderr_path)
		posix_spawn_file_actions_addopen(&fa, 2, o->stderr_path,
						 O_WRONLY | O_CREAT | O_APPEND, 0644);
	else if (o->quiet_stderr && !(out_fd >= 0 && o->merge_stderr))
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	rc = posix_spawnp(pid, o->argv[0], &fa, &attr, (char *const *)o->argv,
			  o->envp ? o->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc)
		return sb_err(rc, "cannot run '%s': %s", o->argv[0], strerror(rc));
	return 0;
}

int spawn_start(const struct spawn_opts *opts, pid_t *pid)
{
	return do_spawn(opts, -1, pid);
}

void spawn_kill(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
}

static void set_status(struct spawn_result *r, int status)
{
	if (WIFEXITED(status)) {
		r->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->exit_code = -1;
		r->signal = WTERMSIG(status);
	}
}

int spawn_run(const struct spawn_opts *o, struct spawn_result *r)
{
	size_t cap = o->capture_max ? o->capture_max : (1u << 20);
	int pipefd[2] = { -1, -1 };
	double start = monotonic_s(), deadline, last_tick = start;
	int status, rc, reaped = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (o->capture) {
		if (pipe2(pipefd, O_CLOEXEC))
			return sb_err(errno, "pipe: %s", strerror(errno));
		r->out = calloc(1, cap + 1);
		if (!r->out) {
			close(pipefd[0]);
			close(pipefd[1]);
			return sb_err(ENOMEM, "out of memory");
		}
	}
	rc = do_spawn(o, pipefd[1], &pid);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (rc) {
		if (pipefd[0] >= 0)
			close(pipefd[0]);
		spawn_result_release(r);
		return rc;
	}
	deadline = o->timeout_ms > 0 ? start + o->timeout_ms / 1000.0 : 0;
	for (;;) {
		if (pipefd[0] >= 0) {
			struct pollfd p = { .fd = pipefd[0], .events = POLLIN };

			if (poll(&p, 1, 50) > 0) {
				char buf[4096];
				ssize_t n = read(pipefd[0], buf, sizeof(buf));

				if (n > 0) {
					size_t room = cap - r->out_len;
					size_t take = (size_t)n < room ? (size_t)n : room;

					memcpy(r->out + r->out_len, buf, take);
					r->out_len += take;
				} else if (n == 0) {
					close(pipefd[0]);
					pipefd[0] = -1;
				}
			}
		} else if (!reaped) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		if (o->tick && !reaped && monotonic_s() - last_tick >= 1) {
			o->tick(o->tick_arg);
			last_tick = monotonic_s();
		}
		if (!reaped) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w == pid) {
				reaped = 1;
				set_status(r, status);
			}
		}
		if (reaped && pipefd[0] < 0)
			break;
		if (deadline && monotonic_s() > deadline && !r->timed_out) {
			r->timed_out = 1;
			spawn_kill(pid);
			if (!reaped && waitpid(pid, &status, 0) == pid) {
				reaped = 1;
				set_status(r, status);
			}
			if (pipefd[0] >= 0) {
				close(pipefd[0]);
				pipefd[0] = -1;
			}
		}
	}
	r->elapsed_s = monotonic_s() - start;
	if (r->out)
		r->out[r->out_len] = '\0';
	return 0;
}

void spawn_result_release(struct spawn_result *r)
{
	if (!r)
		return;
	free(r->out);
	r->out = NULL;
	r->out_len = 0;
}

int spawn_ok(const char *const *argv, int timeout_ms)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .quiet_stderr = 1,
				.stdout_path = "/dev/null" };
	struct spawn_result r;

	if (spawn_run(&o, &r))
		return 0;
	spawn_result_release(&r);
	return !r.timed_out && r.exit_code == 0;
}

char *spawn_argv_str(const char *const *argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; argv[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}
