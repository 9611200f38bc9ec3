#define _GNU_SOURCE
#include "bench/kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

json_t *kmsg_collect(int fd)
{
	json_t *counts = json_object(), *lines = json_array();
	char rec[8192];

	for (int i = 0; kmsg_patterns[i].key; i++)
		json_object_set_new(counts, kmsg_patterns[i].key, json_integer(0));
	while (fd >= 0) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: keep reading */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (int i = 0; kmsg_patterns[i].key; i++) {
			json_t *c;

			if (!strstr(msg, kmsg_patterns[i].needle))
				continue;
			c = json_object_get(counts, kmsg_patterns[i].key);
			json_integer_set(c, json_integer_value(c) + 1);
			if (json_array_size(lines) < 50) {
				char *nl = strchr(msg, '\n');

				if (nl)
					*nl = '\0';
				json_array_append_new(lines, json_string(msg));
			}
		}
	}
	if (fd >= 0)
		close(fd);
	json_object_set_new(counts, "lines", lines);
	return counts;
}
