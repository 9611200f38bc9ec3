/* Kernel log messages swap work is judged by; counted in the guest's
 * /dev/kmsg and in the host's copy of the console. */
#ifndef SB_KPATTERNS_H
#define SB_KPATTERNS_H

struct kmsg_pattern {
	const char *key;
	const char *needle;
};

extern const struct kmsg_pattern kmsg_patterns[]; /* {NULL}-terminated */

#endif
