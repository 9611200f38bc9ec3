/* qemu VMs: one boot per cell. */
#ifndef SB_VM_H
#define SB_VM_H

#include <jansson.h>
#include <signal.h>
#include <sys/types.h>

#include "harness/kernel.h"
#include "common/strv.h"

struct vm_spec {
	const char *vmlinuz;        /* a bzImage, or an ELF with a PVH entry note */
	int lean_machine;           /* q35 without SATA, SMBus, i8042, USB, VGA, SMM */
	const char *initrd;
	const char *cmdline_extra;  /* appended to the kernel command line */
	unsigned mem_mb, cpus;
	const char *accel;          /* "kvm" or "tcg" (resolved) */
	const char *clock;          /* NULL/"host", or "icount": guest time counts
				     * instructions (TCG only, single-threaded) */
	const char *cell_dir;       /* shared read-write as 9p tag "cell" */
	const char *console_path;   /* NULL: serial on stdio (interactive) */
	const char *qemu_log;       /* qemu's own stderr */
	int timeout_s;
	const struct strv *extra;   /* device arguments from the topology */
	/* Set (by a signal handler) to stop the VM at once: qemu is killed
	 * and vm_result.interrupted set. NULL: not watched. */
	volatile sig_atomic_t *stop;
	/* Written with "PID STARTTIME" while qemu runs (vm_qemu_alive reads
	 * it), or NULL. */
	const char *pid_path;
};

struct vm_result {
	int exit_code;      /* qemu's exit code (-1 if killed) */
	int timed_out;
	double wall_s;      /* qemu start to exit */
	double agent_s;     /* qemu start to the agent's first line; <0 if never */
	int interrupted;    /* killed because *spec->stop was set */
	double cpu_s;       /* qemu's own CPU time (user + system), all threads */
};

/* The -icount arguments of vm.clock "icount": 2^3 ns per instruction, and
 * no sleeping, so idle guest time costs no host time. */
#define VM_ICOUNT_ARG "shift=3,sleep=off"

/* 0 when this host's qemu can run vm.clock `clock` under `accel`, else
 * -ENOTSUP with a message naming the qemu version and the option. */
int vm_check_clock(const char *clock, const char *accel);

/* qemu never outlives swapbench: a watchdog process kills it when swapbench
 * dies, even by SIGKILL (it waits on a pipe only swapbench holds and kills
 * qemu through a pidfd, so a reused pid is never hit). */

int vm_run(const struct vm_spec *spec, struct vm_result *res);

/* A qemu recorded in pid_path that is still running (same pid and start
 * time): 1 and *pid, else 0. */
int vm_qemu_alive(const char *pid_path, pid_t *pid);

/* The qemu binary's version line, or "unknown". Caller frees. */
char *vm_qemu_version(void);

/* Decide the accelerator: want is "auto", "kvm" or "tcg". For auto, KVM is
 * used only if a probe boot of kernel k really reaches the agent; the
 * verdict is remembered in the cache for this host. *note says why. */
int vm_choose_accel(const char *want, const char *vmlinuz, const char *initrd,
		    const char **chosen, char **note);

/* Scan a console log: counts of kmsg_patterns plus the last lines. */
json_t *console_scan(const char *path, int tail_lines);

/* True when the console log contains needle. */
int console_contains(const char *path, const char *needle);

#endif
