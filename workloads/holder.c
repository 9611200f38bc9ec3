#define _GNU_SOURCE
#include "workloads/holder.h"
#include "common/err.h"
#include "common/fsutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

struct holder_report {
	int rc;
	unsigned long long bad_pages;
	double fill_s, pageout_s;
};

/* Mildly compressible, distinct per page, never all one byte. */
static void fill_page(unsigned char *p, size_t psize, size_t idx)
{
	uint64_t x = idx * 0x9E3779B97F4A7C15ULL + 1;

	for (size_t i = 0; i < psize; i += 8) {
		uint64_t v = (i & 64) ? x : (x ^ i);

		memcpy(p + i, &v, 8);
	}
}

static int check_page(const unsigned char *p, size_t psize, size_t idx)
{
	uint64_t x = idx * 0x9E3779B97F4A7C15ULL + 1;

	for (size_t i = 0; i < psize; i += 8) {
		uint64_t v = (i & 64) ? x : (x ^ i), got;

		memcpy(&got, p + i, 8);
		if (got != v)
			return 0;
	}
	return 1;
}

static void child(size_t bytes, int in, int out)
{
	size_t psize = (size_t)sysconf(_SC_PAGESIZE), pages = bytes / psize;
	struct holder_report rep = { 0 };
	unsigned char *mem;
	double t;
	char cmd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		rep.rc = -errno;
		if (write(out, &rep, sizeof(rep)) < 0)
			_exit(1);
		_exit(1);
	}
	/* No THP: whole huge pages would blur per-slot accounting. */
	madvise(mem, bytes, MADV_NOHUGEPAGE);
	rep.rc = 1; /* "spawned" */
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || read(in, &cmd, 1) != 1 || cmd != 'f')
		_exit(1);
	rep.rc = 0;
	t = monotonic_s();
	for (size_t i = 0; i < pages; i++)
		fill_page(mem + i * psize, psize, i);
	rep.fill_s = monotonic_s() - t;
	t = monotonic_s();
	if (madvise(mem, bytes, MADV_PAGEOUT))
		rep.rc = -errno;
	rep.pageout_s = monotonic_s() - t;
	if (write(out, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);
	if (read(in, &cmd, 1) != 1 || cmd != 'v')
		_exit(0);
	for (size_t i = 0; i < pages; i++)
		rep.bad_pages += !check_page(mem + i * psize, psize, i);
	if (write(out, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);
	_exit(0);
}

long long holder_vmswap(const struct holder *h)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

int holder_spawn(struct holder *h, size_t bytes)
{
	int down[2], up[2];
	struct holder_report rep;

	memset(h, 0, sizeof(*h));
	h->bytes = bytes;
	if (pipe2(down, O_CLOEXEC))
		return sb_err(errno, "pipe: %s", strerror(errno));
	if (pipe2(up, O_CLOEXEC)) {
		close(down[0]);
		close(down[1]);
		return sb_err(errno, "pipe: %s", strerror(errno));
	}
	h->pid = fork();
	if (h->pid < 0)
		return sb_err(errno, "fork: %s", strerror(errno));
	if (h->pid == 0) {
		close(down[1]);
		close(up[0]);
		child(bytes, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	h->to_child = down[1];
	h->from_child = up[0];
	if (read(h->from_child, &rep, sizeof(rep)) != sizeof(rep) || rep.rc != 1) {
		int e = rep.rc < 0 ? -rep.rc : EIO;

		holder_kill(h);
		return sb_err(e, "the holder process could not map %zu bytes", bytes);
	}
	return 0;
}

int holder_fill(struct holder *h)
{
	struct holder_report rep;

	if (write(h->to_child, "f", 1) != 1 ||
	    read(h->from_child, &rep, sizeof(rep)) != sizeof(rep)) {
		holder_kill(h);
		return sb_err(EIO, "the holder process died while filling %zu bytes (OOM?)",
			      h->bytes);
	}
	if (rep.rc) {
		holder_kill(h);
		return sb_err(-rep.rc, "holder: MADV_PAGEOUT of %zu bytes failed: %s", h->bytes,
			      strerror(-rep.rc));
	}
	h->fill_s = rep.fill_s;
	h->pageout_s = rep.pageout_s;
	h->swapped = (unsigned long long)(holder_vmswap(h) > 0 ? holder_vmswap(h) : 0);
	return 0;
}

int holder_start(struct holder *h, size_t bytes)
{
	int rc = holder_spawn(h, bytes);

	return rc ? rc : holder_fill(h);
}

int holder_verify_and_stop(struct holder *h)
{
	struct holder_report rep;
	int status, rc = 0;

	if (write(h->to_child, "v", 1) != 1 ||
	    read(h->from_child, &rep, sizeof(rep)) != sizeof(rep))
		rc = sb_err(EIO, "the holder process died before verifying its memory");
	else if (rep.bad_pages)
		rc = sb_err(EIO, "%llu of %zu pages came back from swap with wrong contents",
			    rep.bad_pages, h->bytes / (size_t)sysconf(_SC_PAGESIZE));
	close(h->to_child);
	close(h->from_child);
	waitpid(h->pid, &status, 0);
	h->pid = 0;
	return rc;
}

void holder_kill(struct holder *h)
{
	int status;

	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	waitpid(h->pid, &status, 0);
	close(h->to_child);
	close(h->from_child);
	h->pid = 0;
}
