/* Kernel log: counts of the messages swap work is judged by. */
#ifndef SB_KMSG_H
#define SB_KMSG_H

#include <jansson.h>

#include "common/kpatterns.h"

/* Open /dev/kmsg positioned at the end, so only new messages count. */
int kmsg_open(void);
/* Read everything logged since kmsg_open; counts plus first lines of each. */
json_t *kmsg_collect(int fd);

#endif
