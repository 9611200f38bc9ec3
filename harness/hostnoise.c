#define _GNU_SOURCE
#include "harness/hostnoise.h"
#include "common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void host_sample_take(struct host_sample *s)
{
	unsigned long long v[10] = { 0 };
	char *text = NULL;
	int n;

	memset(s, 0, sizeof(*s));
	s->t = monotonic_s();
	if (read_file("/proc/stat", 1 << 20, &text, NULL))
		return;
	/* cpu user nice system idle iowait irq softirq steal guest guest_nice;
	 * guest time is already inside user. */
	n = sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	free(text);
	if (n < 8)
		return;
	for (int i = 0; i < 8; i++)
		s->total += v[i];
	s->busy = s->total - v[3] - v[4];
	s->steal = v[7];
	text = NULL;
	if (read_file("/proc/loadavg", 4096, &text, NULL) == 0) {
		s->load1 = strtod(text, NULL);
		free(text);
	}
	s->ok = 1;
}

json_t *host_noise_json(const struct host_sample *a, const struct host_sample *b,
			double qemu_cpu_s)
{
	double hz = (double)sysconf(_SC_CLK_TCK), total, busy, others, wall = b->t - a->t;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!a->ok || !b->ok || b->total <= a->total || hz <= 0)
		return NULL;
	total = (double)(b->total - a->total);
	busy = (double)(b->busy - a->busy) / total;
	others = busy - qemu_cpu_s * hz / total;
	if (others < 0)
		others = 0;
	return json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "cpus", (int)cpus, "load1_start",
			 a->load1, "load1_end", b->load1, "host_busy", busy, "others_busy",
			 others, "steal", (double)(b->steal - a->steal) / total, "qemu_cpu_s",
			 qemu_cpu_s, "qemu_cpu_per_wall", wall > 0 ? qemu_cpu_s / wall : 0.0);
}
