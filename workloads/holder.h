/* A process that holds memory in swap: it maps and fills `bytes` of private
 * anonymous memory with a per-page pattern (compressible, never same-filled),
 * pushes it out with MADV_PAGEOUT, reports how much went to swap, then waits
 * until told to verify every page and exit. Used by workloads that need
 * "N MB swapped out and owned by a process" (swapoff, slot-overhead). */
#ifndef SB_HOLDER_H
#define SB_HOLDER_H

#include <stddef.h>
#include <sys/types.h>

struct holder {
	pid_t pid;
	int to_child, from_child;
	size_t bytes;
	unsigned long long swapped; /* bytes in swap after the push (VmSwap) */
	double fill_s, pageout_s;
};

/* Start and wait until the memory is filled and pushed out. */
int holder_start(struct holder *h, size_t bytes);
/* The same in two steps: create the process (and its empty mapping), then
 * fill and push out. A measurement between the two sees the process's own
 * kernel objects in both snapshots. */
int holder_spawn(struct holder *h, size_t bytes);
int holder_fill(struct holder *h);
/* Have the holder read back every page; -EIO (with a message) on corruption. */
int holder_verify_and_stop(struct holder *h);
/* Kill without verifying. */
void holder_kill(struct holder *h);
/* Bytes of the holder in swap right now (VmSwap), or -1. */
long long holder_vmswap(const struct holder *h);

#endif
