#include "common/kpatterns.h"

#include <stddef.h>

const struct kmsg_pattern kmsg_patterns[] = {
	{ "warnings", "WARNING:" },
	{ "bugs", "BUG:" },
	{ "oopses", "Oops" },
	{ "panics", "Kernel panic" },
	{ "oom_kills", "oom-kill" },
	{ "out_of_memory", "Out of memory" },
	{ "page_allocation_failures", "page allocation failure" },
	{ "vm_fault_oom_leaked", "VM_FAULT_OOM leaked out" },
	{ "hung_tasks", "blocked for more than" },
	{ NULL, NULL },
};
