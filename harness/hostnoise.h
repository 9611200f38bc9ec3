/* Host noise around one cell: how busy the host was while the VM ran.
 *
 * A TCG guest runs as fast as its qemu threads get host CPU, so a cell
 * measured while other processes compete is slower for reasons that are
 * not the kernel's. Each cell records the host's load and CPU use over the
 * VM's lifetime (result.json host.noise, docs/noise.md), and compare warns
 * when one side of a comparison ran on a busier host than the other.
 */
#ifndef SB_HOSTNOISE_H
#define SB_HOSTNOISE_H

#include <jansson.h>

struct host_sample {
	double t;                       /* monotonic seconds */
	unsigned long long busy, total; /* /proc/stat "cpu" line, jiffies */
	unsigned long long steal;
	double load1;                   /* /proc/loadavg, 1 minute */
	int ok;                         /* 0 when /proc could not be read */
};

void host_sample_take(struct host_sample *s);

/* {"cpus", "load1_start", "load1_end", "host_busy", "others_busy", "steal",
 *  "qemu_cpu_s", "qemu_cpu_per_wall"} between two samples; busy shares are
 * fractions of all host CPUs; others_busy leaves qemu's own CPU time out.
 * NULL when a sample failed. */
json_t *host_noise_json(const struct host_sample *a, const struct host_sample *b,
			double qemu_cpu_s);

/* A side counts as busier when its mean others_busy exceeds the other's by
 * this share of the host's CPUs. */
#define HOST_NOISE_BUSIER 0.25

#endif
