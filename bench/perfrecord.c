/* Guest side of profiling (see profile.h). */
#define _GNU_SOURCE
#include "bench/perfrecord.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"
#include "common/sysfs.h"
#include "workloads/wl-util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CTL_FIFO "/tmp/sb-perf-ctl"
#define ACK_FIFO "/tmp/sb-perf-ack"

/* Wait for "ack" on the ack FIFO: perf then records. */
static int wait_ack(int fd, int timeout_ms)
{
	char buf[16];
	double end = monotonic_s() + timeout_ms / 1000.0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - monotonic_s()) * 1000);
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "ack"))
				return 0;
		}
	}
}

void profile_start(struct profile_rec *p, const json_t *cfg, const char *cell_dir)
{
	long long freq = json_integer_value(json_object_get(cfg, "frequency"));
	long long max = json_integer_value(json_object_get(cfg, "max_size"));
	char perf[256], freq_s[32], max_s[48];
	char *out = xasprintf("%s/perf.data", cell_dir);
	char *log = xasprintf("%s/perf-record.log", cell_dir);
	int ctl = -1, ack = -1;

	p->pid = 0;
	p->info = json_pack("{s:I,s:I,s:s}", "frequency", (json_int_t)freq, "max_size",
			    (json_int_t)max, "event", "cpu-clock");
	if (wl_find_tool("profile", "perf", "linux-perf", perf, sizeof(perf))) {
		json_object_set_new(p->info, "error", json_string(sb_lasterr()));
		goto out;
	}
	/* Kernel samples and the real addresses in /proc/kallsyms for root. */
	sysfs_write("/proc/sys/kernel/perf_event_paranoid", "-1");
	sysfs_write("/proc/sys/kernel/kptr_restrict", "0");
	unlink(CTL_FIFO);
	unlink(ACK_FIFO);
	if (mkfifo(CTL_FIFO, 0600) || mkfifo(ACK_FIFO, 0600)) {
		json_object_set_new(p->info, "error", json_sprintf("mkfifo: %s", strerror(errno)));
		goto out;
	}
	/* O_RDWR: neither open waits for perf to open the other end. */
	ctl = open(CTL_FIFO, O_RDWR | O_CLOEXEC);
	ack = open(ACK_FIFO, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (ctl < 0 || ack < 0) {
		json_object_set_new(p->info, "error", json_sprintf("open fifo: %s", strerror(errno)));
		goto out;
	}
	snprintf(freq_s, sizeof(freq_s), "%lld", freq);
	/* perf stops writing at the cap (and says so): never a full disk. */
	snprintf(max_s, sizeof(max_s), "--max-size=%lldK", max / 1024 > 0 ? max / 1024 : 1);
	{
		/* Started disabled (-D -1) and enabled through the control FIFO
		 * once perf has synthesized the existing tasks: the profile is
		 * the measured phase, not perf's own start-up. -B: build-ids
		 * are collected at the end by reading every sample again, slow
		 * under TCG and useless here (kallsyms goes beside). */
		const char *argv[] = { perf, "record", "-a", "-g", "-e", "cpu-clock", "-F", freq_s,
				       max_s, "-B", "-N", "-q", "-D", "-1",
				       "--control=fifo:" CTL_FIFO "," ACK_FIFO, "-o", out, NULL };
		struct spawn_opts o = { .argv = argv, .stdout_path = log, .stderr_path = log };

		if (spawn_start(&o, &p->pid)) {
			json_object_set_new(p->info, "error", json_string(sb_lasterr()));
			p->pid = 0;
			goto out;
		}
	}
	if (write(ctl, "enable\n", 7) != 7 || wait_ack(ack, 60000)) {
		json_object_set_new(p->info, "error",
				    json_string("perf record did not acknowledge 'enable' within "
						"60 s (see perf-record.log)"));
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
out:
	if (ctl >= 0)
		close(ctl);
	if (ack >= 0)
		close(ack);
	free(out);
	free(log);
}

/* The kernel's text symbols (all perf needs), from a kernel that may
 * randomise its base: what the host symbolizes with. */
static int copy_kallsyms(const char *cell_dir, json_t *info)
{
	FILE *in = fopen("/proc/kallsyms", "re");
	char *path = xasprintf("%s/kallsyms", cell_dir), line[512];
	FILE *outf;
	long long n = 0, zero = 0;

	if (!in) {
		json_object_set_new(info, "kallsyms", json_sprintf("absent: /proc/kallsyms: %s "
								     "(CONFIG_KALLSYMS not set?)",
								     strerror(errno)));
		free(path);
		return -1;
	}
	outf = fopen(path, "we");
	if (!outf) {
		fclose(in);
		free(path);
		return -1;
	}
	while (fgets(line, sizeof(line), in)) {
		char type = 0;
		unsigned long long addr = 0;

		if (sscanf(line, "%llx %c", &addr, &type) != 2 || (type != 't' && type != 'T'))
			continue;
		zero += addr == 0;
		n++;
		fputs(line, outf);
	}
	fclose(in);
	fclose(outf);
	free(path);
	json_object_set_new(info, "kallsyms_symbols", json_integer(n));
	if (n && zero == n)
		json_object_set_new(info, "kallsyms", json_string("addresses hidden "
								  "(kptr_restrict)"));
	return 0;
}

json_t *profile_stop(struct profile_rec *p, const char *cell_dir)
{
	json_t *info = p->info;

	if (p->pid > 0) {
		double t0 = monotonic_s();
		int status = 0, done = 0;

		kill(p->pid, SIGINT);
		/* perf writes its header at exit; PID 1's reaping loop may
		 * have taken it already if it died early (ECHILD). */
		while (!done && monotonic_s() - t0 < 120) {
			pid_t w = waitpid(p->pid, &status, WNOHANG);

			if (w == p->pid || (w < 0 && errno == ECHILD))
				done = 1 + (w < 0);
			else
				usleep(20000);
		}
		if (!done) {
			spawn_kill(p->pid);
			waitpid(p->pid, &status, 0);
			json_object_set_new(info, "error", json_string("perf record did not stop "
								       "within 120 s"));
		} else if (done == 2) {
			char *log = xasprintf("%s/perf-record.log", cell_dir);
			char *tail = wl_file_tail(log, 5, 1024);

			/* --max-size ends the session when perf.data reaches it. */
			if (strstr(tail, "size limit reached"))
				json_object_set_new(info, "capped", json_string(
					"perf.data reached profile.max_size: the profile covers "
					"the start of the phase only"));
			else
				json_object_set_new(info, "error", json_sprintf(
					"perf record ended before the workload did: %s", tail));
			free(tail);
			free(log);
		} else if ((WIFSIGNALED(status) && WTERMSIG(status) != SIGINT) ||
			   (WIFEXITED(status) && WEXITSTATUS(status))) {
			/* perf re-raises the SIGINT that stopped it: normal. */
			json_object_set_new(info, "perf_exit", json_integer(
				WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status)));
		}
		json_object_set_new(info, "stop_s", json_real(monotonic_s() - t0));
		{
			char *out = xasprintf("%s/perf.data", cell_dir);
			struct stat st;

			if (!stat(out, &st))
				json_object_set_new(info, "bytes", json_integer((json_int_t)st.st_size));
			free(out);
		}
		copy_kallsyms(cell_dir, info);
	}
	unlink(CTL_FIFO);
	unlink(ACK_FIFO);
	p->info = NULL;
	p->pid = 0;
	return info;
}
