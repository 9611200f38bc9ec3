#define _GNU_SOURCE
#include "harness/vm.h"
#include "common/err.h"
#include "harness/paths.h"
#include "common/fsutil.h"
#include "common/kpatterns.h"
#include "common/log.h"
#include "common/process.h"
#include "common/protocol.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define QEMU "qemu-system-x86_64"

/* mapped-xattr keeps the guest's metadata in user.virtfs.* xattrs; file
 * systems without user xattrs get mapped-file (a .virtfs_metadata folder). */
static const char *cell_share_model(const char *dir)
{
	static const char name[] = "user.swapbench.probe";

	if (setxattr(dir, name, "1", 1, 0) == 0) {
		removexattr(dir, name);
		return "mapped-xattr";
	}
	return "mapped-file";
}

/* qemu drops root before the guest runs: as this user (SWAPBENCH_QEMU_USER,
 * default "nobody"; empty: stay root) it reads only what any user may read
 * of the host root share, and writes only the cell's guest/ directory
 * (handed to it). The seccomp sandbox denies spawning and obsolete calls
 * (set*id stays allowed: -runas needs it, and a non-root qemu gains nothing
 * from it). NULL when qemu stays root (swapbench not root, or disabled). */
static const struct passwd *qemu_user(void)
{
	const char *name = getenv("SWAPBENCH_QEMU_USER");

	if (geteuid() != 0 || (name && !*name))
		return NULL;
	return getpwnam(name ? name : "nobody");
}

static void build_argv(const struct vm_spec *s, struct strv *av)
{
	const struct passwd *pw = qemu_user();
	int icount = s->clock && !strcmp(s->clock, "icount");

	strv_add(av, QEMU);
	strv_add(av, "-sandbox");
	strv_add(av, "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny");
	if (pw) {
		strv_add(av, "-runas");
		strv_add(av, pw->pw_name);
	}
	strv_add(av, "-nodefaults");
	strv_add(av, "-no-user-config");
	strv_add(av, "-no-reboot");
	strv_add(av, "-display");
	strv_add(av, "none");
	strv_add(av, "-machine");
	/* Lean: the devices no cell uses are not there for firmware and kernel
	 * to probe; without SMM, SeaBIOS skips its SMM set-up. PCI (NVMe,
	 * virtio), ACPI (power-off), the PIT and HPET (TSC calibration under
	 * TCG) stay. */
	strv_add(av, s->lean_machine ? "q35,sata=off,smbus=off,i8042=off,vmport=off,smm=off,"
				       "usb=off,graphics=off"
				     : "q35");
	strv_add(av, "-accel");
	/* icount runs all vCPUs on one thread: that is what makes it
	 * deterministic. */
	strv_add(av, strcmp(s->accel, "kvm") ? (icount ? "tcg,thread=single" : "tcg,thread=multi")
					     : "kvm");
	if (icount) {
		strv_add(av, "-icount");
		strv_add(av, VM_ICOUNT_ARG);
	}
	strv_add(av, "-cpu");
	strv_add(av, strcmp(s->accel, "kvm") ? "max" : "host");
	strv_add(av, "-smp");
	strv_addf(av, "%u", s->cpus ? s->cpus : 2);
	strv_add(av, "-m");
	strv_addf(av, "%u", s->mem_mb ? s->mem_mb : 1024);
	strv_add(av, "-kernel");
	strv_add(av, s->vmlinuz);
	strv_add(av, "-initrd");
	strv_add(av, s->initrd);
	strv_add(av, "-append");
	strv_addf(av, "console=ttyS0 panic=-1 loglevel=4 rdinit=/init%s%s",
		  s->cmdline_extra ? " " : "", s->cmdline_extra ? s->cmdline_extra : "");
	if (s->console_path) {
		strv_add(av, "-chardev");
		strv_addf(av, "file,id=con,path=%s", s->console_path);
		strv_add(av, "-serial");
		strv_add(av, "chardev:con");
		strv_add(av, "-monitor");
		strv_add(av, "none");
	} else {
		strv_add(av, "-serial");
		strv_add(av, "mon:stdio");
	}
	/* The host root, read-only: guest tools and workloads come from it. */
	strv_add(av, "-fsdev");
	strv_add(av, "local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap");
	strv_add(av, "-device");
	strv_add(av, "virtio-9p-pci,fsdev=hostroot,mount_tag=" P9_TAG_HOSTROOT);
	if (s->cell_dir) {
		/* The guest is untrusted: with a mapped security model the modes,
		 * owners and file types it sets live in metadata, never on the
		 * host file (no setuid file, device node, FIFO or symlink can
		 * appear on the host; qemu creates plain 0600 files). */
		strv_add(av, "-fsdev");
		strv_addf(av, "local,id=cell,path=%s,security_model=%s", s->cell_dir,
			  cell_share_model(s->cell_dir));
		strv_add(av, "-device");
		strv_add(av, "virtio-9p-pci,fsdev=cell,mount_tag=" P9_TAG_CELL);
	}
	for (size_t i = 0; s->extra && i < s->extra->n; i++)
		strv_add(av, s->extra->v[i]);
}

/* Look for the agent's first line in the console; *seen is how far it was
 * scanned. Re-read a marker's length before it, in case the line was split
 * between two scans. */
static int console_has_marker(const char *path, off_t *seen)
{
	const off_t overlap = sizeof(AGENT_MARKER);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	char buf[8192];
	int found = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		off_t from = *seen > overlap ? *seen - overlap : 0;
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);

		if (n <= 0 || from + n <= *seen)
			break;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		*seen = from + n;
		if (strstr(buf, AGENT_MARKER)) {
			found = 1;
			break;
		}
	}
	close(fd);
	return found;
}

/* Field 22 of /proc/PID/stat: the start time, so a reused pid is told apart. */
static unsigned long long proc_starttime(pid_t pid)
{
	char path[64], *text = NULL, *p;
	unsigned long long t = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, 4096, &text, NULL))
		return 0;
	p = strrchr(text, ')'); /* the command name may hold spaces */
	for (int field = 2; p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p)
		t = strtoull(p, NULL, 10);
	free(text);
	return t;
}

int vm_qemu_alive(const char *pid_path, pid_t *pid)
{
	char *text = NULL;
	long long p = 0;
	unsigned long long start = 0;
	int alive = 0;

	if (read_file(pid_path, 256, &text, NULL))
		return 0;
	if (sscanf(text, "%lld %llu", &p, &start) == 2 && p > 1 && p < INT32_MAX &&
	    start && proc_starttime((pid_t)p) == start) {
		*pid = (pid_t)p;
		alive = 1;
	}
	free(text);
	return alive;
}

/* The watchdog: a child of swapbench that outlives it only to kill qemu.
 * Returns its pid and the write end of its pipe (*keep), or -1. */
static pid_t start_watchdog(pid_t qemu, int *keep)
{
	int pfd = (int)syscall(SYS_pidfd_open, qemu, 0), pipefd[2];
	pid_t w;

	*keep = -1;
	if (pfd < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC)) {
		close(pfd);
		return -1;
	}
	w = fork();
	if (w == 0) {
		char c;

		/* Only async-signal-safe calls here. Its own group: a Ctrl-C
		 * meant for swapbench does not end the watchdog first. */
		setpgid(0, 0);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		/* EOF: swapbench is done with this VM, or dead. */
		if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0)
			kill(-qemu, SIGKILL);
		_exit(0);
	}
	close(pipefd[0]);
	close(pfd);
	if (w < 0) {
		close(pipefd[1]);
		return -1;
	}
	*keep = pipefd[1];
	return w;
}

static void stop_watchdog(pid_t w, int keep)
{
	if (w <= 0)
		return;
	close(keep);
	waitpid(w, NULL, 0);
}

static double tv_s(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

int vm_check_clock(const char *clock, const char *accel)
{
	const char *argv[] = { QEMU, "-help", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 10000, .capture = 1,
				.quiet_stderr = 1 };
	struct spawn_result r;
	char *qv;
	int ok, rc = 0;

	if (!clock || !strcmp(clock, "host"))
		return 0;
	qv = vm_qemu_version();
	if (accel && !strcmp(accel, "kvm")) {
		rc = sb_err(ENOTSUP, "vm.clock \"%s\" needs TCG: -icount does not work "
			    "with KVM (%s); use --accel tcg", clock, qv);
	} else if (spawn_run(&o, &r) == 0) {
		ok = !r.exit_code && r.out && strstr(r.out, "-icount [shift=N");
		spawn_result_release(&r);
		if (!ok)
			rc = sb_err(ENOTSUP, "vm.clock \"%s\": this qemu (%s) has no -icount "
				    "%s", clock, qv, VM_ICOUNT_ARG);
	} else {
		rc = sb_err(ENOTSUP, "vm.clock \"%s\": cannot ask %s for its options: %s",
			    clock, QEMU, sb_lasterr());
	}
	free(qv);
	return rc;
}

int vm_run(const struct vm_spec *s, struct vm_result *res)
{
	struct spawn_opts o = { .stderr_path = s->qemu_log };
	struct strv av;
	double start, deadline;
	off_t seen = 0;
	pid_t pid, wd;
	int rc, status = 0, wd_fd;

	memset(res, 0, sizeof(*res));
	res->agent_s = -1;
	if (s->cell_dir && qemu_user()) {
		const struct passwd *pw = qemu_user();

		if (chown(s->cell_dir, pw->pw_uid, pw->pw_gid))
			return sb_err(errno, "cannot hand '%s' to user %s for qemu: %s",
				      s->cell_dir, pw->pw_name, strerror(errno));
	}
	strv_init(&av);
	build_argv(s, &av);
	o.argv = strv_argv(&av);
	if (log_get_level() >= LOG_DEBUG) {
		char *cmd = spawn_argv_str(o.argv);

		log_debug("qemu: %s", cmd);
		free(cmd);
	}
	if (s->qemu_log)
		unlink(s->qemu_log);
	start = monotonic_s();
	if (!s->console_path) {
		/* Interactive: the terminal is the serial console. */
		struct spawn_opts io = { .argv = o.argv, .timeout_ms = s->timeout_s * 1000 };
		pid_t p;

		rc = spawn_start(&io, &p);
		if (!rc) {
			wd = start_watchdog(p, &wd_fd);
			signal(SIGINT, SIG_IGN);
			waitpid(p, &status, 0);
			stop_watchdog(wd, wd_fd);
			res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		res->wall_s = monotonic_s() - start;
		strv_release(&av);
		return rc;
	}
	rc = spawn_start(&o, &pid);
	strv_release(&av);
	if (rc)
		return rc;
	wd = start_watchdog(pid, &wd_fd);
	if (wd < 0)
		log_warn("no watchdog for qemu (pid %d): %s; it may outlive a killed swapbench",
			 (int)pid, strerror(errno));
	if (s->pid_path) {
		char *line = xasprintf("%d %llu\n", (int)pid, proc_starttime(pid));

		if (write_file_atomic(s->pid_path, line, strlen(line)))
			log_warn("%s", sb_lasterr());
		free(line);
	}
	deadline = start + (s->timeout_s > 0 ? s->timeout_s : 600);
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		struct rusage ru;
		pid_t w = wait4(pid, &status, WNOHANG, &ru);

		if (res->agent_s < 0 && console_has_marker(s->console_path, &seen))
			res->agent_s = monotonic_s() - start;
		if (w == pid) {
			res->cpu_s = tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime);
			break;
		}
		if (s->stop && *s->stop) {
			res->interrupted = 1;
			spawn_kill(pid);
			if (wait4(pid, &status, 0, &ru) == pid)
				res->cpu_s = tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime);
			break;
		}
		if (monotonic_s() > deadline) {
			res->timed_out = 1;
			spawn_kill(pid);
			if (wait4(pid, &status, 0, &ru) == pid)
				res->cpu_s = tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime);
			break;
		}
		nanosleep(&ts, NULL);
	}
	stop_watchdog(wd, wd_fd);
	if (s->pid_path)
		unlink(s->pid_path);
	res->wall_s = monotonic_s() - start;
	res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 0;
}

char *vm_qemu_version(void)
{
	const char *argv[] = { QEMU, "--version", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 10000, .capture = 1,
				.quiet_stderr = 1 };
	struct spawn_result r;
	char *v = NULL;

	if (spawn_run(&o, &r) == 0) {
		if (!r.exit_code && r.out)
			v = strndup(r.out, strcspn(r.out, "\n"));
		spawn_result_release(&r);
	}
	return v ? v : xstrdup("unknown");
}

/* What identifies "this machine" for the remembered KVM verdict. */
static char *host_key(void)
{
	struct utsname u;
	char *cpu = NULL, *model = NULL, *qv = vm_qemu_version(), *key;

	uname(&u);
	if (read_file("/proc/cpuinfo", 4 << 20, &cpu, NULL) == 0) {
		char *p = strstr(cpu, "model name");

		if (p && (p = strchr(p, ':')))
			model = strndup(p + 2, strcspn(p + 2, "\n"));
	}
	key = xasprintf("%s|%s|%s", u.release, model ? model : "?", qv);
	free(cpu);
	free(model);
	free(qv);
	return key;
}

static int probe_kvm(const char *vmlinuz, const char *initrd, char **why)
{
	char *dir = xstrdup("/tmp/swapbench-kvmprobe-XXXXXX");
	char *con, *qlog, *log = NULL;
	struct vm_spec s = { .vmlinuz = vmlinuz, .initrd = initrd, .accel = "kvm",
			     .mem_mb = 256, .cpus = 1, .timeout_s = 30,
			     .cmdline_extra = "swapbench.probe" };
	struct vm_result r;
	int ok = 0;

	if (!mkdtemp(dir)) {
		*why = xasprintf("cannot make a temp dir: %s", strerror(errno));
		free(dir);
		return 0;
	}
	con = xasprintf("%s/console.log", dir);
	qlog = xasprintf("%s/qemu.log", dir);
	s.console_path = con;
	s.qemu_log = qlog;
	if (vm_run(&s, &r) == 0) {
		ok = r.agent_s >= 0 && !r.timed_out && r.exit_code == 0;
		if (!ok) {
			read_file(qlog, 1 << 20, &log, NULL);
			if (log) {
				char *nl = strchr(log, '\n');

				if (nl)
					*nl = '\0';
			}
			*why = xasprintf("a probe boot under KVM %s%s%s",
					 r.timed_out ? "hung" : "failed",
					 log && *log ? ": " : "", log && *log ? log : "");
		}
	} else {
		*why = xasprintf("qemu did not start: %s", sb_lasterr());
	}
	free(log);
	rm_rf(dir);
	free(dir);
	free(con);
	free(qlog);
	return ok;
}

int vm_choose_accel(const char *want, const char *vmlinuz, const char *initrd,
		    const char **chosen, char **note)
{
	char *cache, *path, *key, *why = NULL;
	json_t *verdict;
	int fd, ok;

	*note = NULL;
	if (!strcmp(want, "tcg")) {
		*chosen = "tcg";
		return 0;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (!strcmp(want, "kvm"))
			return sb_err(ENODEV, "--accel kvm: cannot open /dev/kvm: %s",
				      strerror(errno));
		*chosen = "tcg";
		*note = xasprintf("no usable /dev/kvm (%s): using TCG", strerror(errno));
		return 0;
	}
	close(fd);
	if (!strcmp(want, "kvm")) {
		*chosen = "kvm";
		return 0;
	}
	cache = sb_cache_dir();
	path = xasprintf("%s/accel.json", cache);
	free(cache);
	key = host_key();
	verdict = json_load_file(path, 0, NULL);
	if (verdict && !strcmp(json_string_value(json_object_get(verdict, "host")) ?: "", key)) {
		ok = json_is_true(json_object_get(verdict, "kvm_works"));
		why = xstrdup(json_string_value(json_object_get(verdict, "why")) ?: "");
	} else {
		json_t *v;
		char *text;

		log_info("probing whether KVM really boots a kernel here");
		ok = probe_kvm(vmlinuz, initrd, &why);
		v = json_pack("{s:s,s:b,s:s}", "host", key, "kvm_works", ok, "why",
			      why ? why : "a probe boot reached the agent");
		text = json_dumps(v, JSON_INDENT(1));
		write_file_atomic(path, text, strlen(text));
		free(text);
		json_decref(v);
	}
	json_decref(verdict);
	*chosen = ok ? "kvm" : "tcg";
	if (!ok)
		*note = xasprintf("/dev/kvm opens but KVM cannot boot a kernel here (%s); using "
				  "TCG (verdict remembered in %s)", why ? why : "?", path);
	free(why);
	free(path);
	free(key);
	return 0;
}

/* A console of any size: its head and its tail (a panic ends the output,
 * so the tail is never skipped); what lies between is counted in *cut. */
#define CONSOLE_HEAD (16 << 20)
#define CONSOLE_TAIL (48 << 20)
static int console_read(const char *path, char **out, size_t *len, long long *cut)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	size_t n = 0;

	*cut = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size <= CONSOLE_HEAD + CONSOLE_TAIL) {
		close(fd);
		return read_file(path, CONSOLE_HEAD + CONSOLE_TAIL, out, len);
	}
	buf = malloc(CONSOLE_HEAD + CONSOLE_TAIL + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (int part = 0; part < 2; part++) {
		off_t from = part ? st.st_size - CONSOLE_TAIL : 0;
		size_t want = part ? CONSOLE_TAIL : CONSOLE_HEAD, got = 0;

		while (got < want) {
			ssize_t r = pread(fd, buf + n + got, want - got, from + (off_t)got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		n += got;
	}
	close(fd);
	buf[n] = '\0';
	*cut = (long long)st.st_size - CONSOLE_HEAD - CONSOLE_TAIL;
	*out = buf;
	*len = n;
	return 0;
}

int console_contains(const char *path, const char *needle)
{
	char *text = NULL;
	size_t len = 0;
	long long cut;
	int found = 0;

	if (console_read(path, &text, &len, &cut) == 0) {
		for (size_t i = 0; i < len; i++)
			if (text[i] == '\0')
				text[i] = ' ';
		found = strstr(text, needle) != NULL;
	}
	free(text);
	return found;
}

json_t *console_scan(const char *path, int tail_lines)
{
	json_t *counts = json_object(), *tail = json_array();
	char *text = NULL, *p;
	size_t len = 0;
	long long cut = 0;

	for (int i = 0; kmsg_patterns[i].key; i++)
		json_object_set_new(counts, kmsg_patterns[i].key, json_integer(0));
	if (console_read(path, &text, &len, &cut) == 0) {
		if (cut)
			json_object_set_new(counts, "unscanned_bytes", json_integer(cut));
		for (size_t i = 0; i < len; i++)
			if (text[i] == '\0' || text[i] == '\r')
				text[i] = ' ';
			else if ((unsigned char)text[i] >= 0x80)
				text[i] = '?'; /* keep the JSON valid UTF-8 */
		for (int i = 0; kmsg_patterns[i].key; i++) {
			long n = 0;

			for (p = text; (p = strstr(p, kmsg_patterns[i].needle)); p++)
				n++;
			json_object_set_new(counts, kmsg_patterns[i].key, json_integer(n));
		}
		/* The first problem and what follows it: a crash report must not
		 * lose the panic line to a long trace. */
		{
			static const char *const crash[] = { "Kernel panic", "Oops", "BUG:",
							     "WARNING:", NULL };
			char *first = NULL;

			for (int i = 0; crash[i]; i++) {
				char *hit = strstr(text, crash[i]);

				if (hit && (!first || hit < first))
					first = hit;
			}
			if (first) {
				json_t *ex = json_array();
				char *line = first;

				while (line > text && line[-1] != '\n')
					line--;
				for (int n = 0; n < 60 && line && *line; n++) {
					char *nl = strchr(line, '\n');

					json_array_append_new(ex, json_stringn(line, nl ? (size_t)(nl - line)
											: strlen(line)));
					line = nl ? nl + 1 : NULL;
				}
				json_object_set_new(counts, "first_problem", ex);
			}
		}
		/* Last lines, for a crash report. */
		p = text + len;
		for (int n = 0; p > text && n <= tail_lines;) {
			p--;
			if (*p == '\n')
				n++;
		}
		if (*p == '\n')
			p++;
		for (char *save, *line = strtok_r(p, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_array_append_new(tail, json_string(line));
	}
	free(text);
	json_object_set_new(counts, "tail", tail);
	return counts;
}
