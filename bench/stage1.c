#define _GNU_SOURCE
#include "bench/stage1.h"
#include <jansson.h>
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEWROOT "/newroot"

double uptime_s(void)
{
	char buf[64];
	FILE *f = fopen("/proc/uptime", "re");
	double up = -1;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			up = strtod(buf, NULL);
		fclose(f);
	}
	return up;
}

int cmdline_has(const char *word)
{
	char *buf, *tok, *save;
	int found = 0;

	if (read_file("/proc/cmdline", 65536, &buf, NULL))
		return 0;
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		found |= !strcmp(tok, word);
	free(buf);
	return found;
}

void agent_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* A kernel without ACPI cannot power off; qemu runs with -no-reboot,
	 * so a reboot ends the VM just as well. */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		    const char *opts)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, opts))
		return sb_err(errno, "mount %s (%s) on '%s' failed: %s", src, type, dst,
			      strerror(errno));
	return 0;
}

static int insmod(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return sb_err(errno, "cannot open module '%s': %s", path, strerror(errno));
	if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
		rc = sb_err(errno, "loading module '%s' failed: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int stage1_load_module(const char *name)
{
	FILE *f = fopen("/modules/deps", "re");
	char line[4096];
	int rc = 0, found = 0;

	if (!f)
		return 0; /* a kernel with everything built in */
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *tok, *save;

		if (!colon)
			continue;
		*colon = '\0';
		if (strcmp(line, name))
			continue;
		found = 1;
		for (tok = strtok_r(colon + 1, " \n", &save); tok && !rc;
		     tok = strtok_r(NULL, " \n", &save)) {
			char *p = xasprintf("/modules/%s", tok);

			rc = insmod(p);
			free(p);
		}
	}
	fclose(f);
	/* Not listed: the host found no such module (absent, or built in under
	 * another name); whatever needs it reports the real failure later. */
	return rc;
}

/* Load modules, each with what it depends on. Independent chains load at
 * once in child processes: under TCG a module's signature check and
 * relocation are CPU work a second vCPU can share. A module that another
 * chain is loading right now is waited for by the kernel (finit_module
 * returns EEXIST once it is live), so shared dependencies are safe. On any
 * failure, load again one by one for a precise message. */
static int load_modules(const char *const *names, size_t n)
{
	pid_t pids[64];
	size_t started = 0;
	int failed = 0;

	if (n > 1 && n <= 64 && !cmdline_has("swapbench.modules=serial")) {
		for (size_t i = 0; i < n; i++) {
			pid_t p = fork();

			if (p == 0)
				_exit(stage1_load_module(names[i]) ? 1 : 0);
			if (p < 0)
				break;
			pids[started++] = p;
		}
		for (size_t i = 0; i < started; i++) {
			int st;

			while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
				;
			failed |= !WIFEXITED(st) || WEXITSTATUS(st);
		}
		if (started == n && !failed)
			return 0;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = stage1_load_module(names[i]);

		if (rc)
			return rc;
	}
	return 0;
}

/* /modules/base names what must load before anything mounts (written by
 * the host: the bus driver and 9p); an older image lacks it. */
static int load_base_modules(void)
{
	static const char *const fallback[] = { "virtio_pci", "9pnet_virtio", "9p", NULL };
	const char *names[64];
	char *text = NULL, *save, *tok;
	size_t n = 0;
	int rc;

	if (read_file("/modules/base", 65536, &text, NULL)) {
		for (; fallback[n]; n++)
			names[n] = fallback[n];
		return load_modules(names, n);
	}
	for (tok = strtok_r(text, "\n", &save); tok && n < 64; tok = strtok_r(NULL, "\n", &save))
		names[n++] = tok;
	rc = load_modules(names, n);
	free(text);
	return rc;
}

static int mount_9p(const char *tag, const char *dst, int ro)
{
	int rc = 0;

	/* The virtio device can show up a moment after the driver loads. */
	for (int i = 0; i < 100; i++) {
		rc = do_mount(tag, dst, "9p", ro ? MS_RDONLY : 0,
			      ro ? "trans=virtio,version=9p2000.L,msize=262144,cache=loose"
				 : "trans=virtio,version=9p2000.L,msize=262144");
		if (!rc)
			return 0;
		usleep(50000);
	}
	return rc;
}

int stage1_run(void)
{
	const char *names[64];
	json_t *cell;
	json_error_t jerr;
	size_t i, n = 0;
	json_t *m;
	int rc;

	rc = load_base_modules();
	if (rc)
		return rc;
	rc = mount_9p(P9_TAG_HOSTROOT, NEWROOT, 1);
	if (rc)
		return sb_err_prefix(-rc, "host root");
	/* The guest's /tmp is its own tmpfs; keep the host's /tmp reachable
	 * (read-only) for inputs that live there, e.g. a checkout in /tmp. */
	if ((rc = do_mount("tmpfs", NEWROOT "/run", "tmpfs", 0, "mode=755")) ||
	    (rc = do_mount(NEWROOT "/tmp", NEWROOT GUEST_HOST_TMP, NULL, MS_BIND, NULL)) ||
	    (rc = do_mount("tmpfs", NEWROOT "/tmp", "tmpfs", 0, "mode=1777")) ||
	    (rc = do_mount("proc", NEWROOT "/proc", "proc", 0, NULL)) ||
	    (rc = do_mount("sysfs", NEWROOT "/sys", "sysfs", 0, NULL)) ||
	    (rc = do_mount("devtmpfs", NEWROOT "/dev", "devtmpfs", 0, NULL)))
		return rc;
	rc = mount_9p(P9_TAG_CELL, NEWROOT GUEST_CELL_DIR, 0);
	if (rc)
		return sb_err_prefix(-rc, "cell directory");
	/* The cell names the modules its topology needs; load them while the
	 * initramfs is still reachable. */
	cell = json_load_file(NEWROOT GUEST_CELL_DIR "/" CELL_FILE, 0, &jerr);
	json_array_foreach(json_object_get(cell, "modules"), i, m) {
		if (json_is_string(m) && n < 64)
			names[n++] = json_string_value(m);
	}
	rc = load_modules(names, n);
	json_decref(cell);
	if (rc)
		return rc;
	if (chdir(NEWROOT) || chroot(".") || chdir("/"))
		return sb_err(errno, "chroot into the host root failed: %s", strerror(errno));
	return 0;
}
