#define _GNU_SOURCE
#include "harness/cmd.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/initramfs.h"
#include "harness/kernel.h"
#include "common/log.h"
#include "common/protocol.h"
#include "harness/options.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *topo_ref, *want = "auto";
static unsigned long long mem = 1ULL << 30;
static int cpus = 2, timeout = 3600, keep;

static const struct opt_def boot_opts[] = {
	OPT_STRING("topology", &topo_ref, "T",
		   "a topology: a name from configs/topologies/ or a path"),
	OPT_SIZE("memory", &mem, "SIZE", 128LL << 20, "guest memory (default 1G)"),
	OPT_INTEGER("cpus", &cpus, "N", 1, 1024, "guest CPUs (default 2)"),
	OPT_ENUM("accel", &want, "A", opt_accels, "auto (default), kvm or tcg"),
	OPT_INTEGER("timeout", &timeout, "S", 1, 1 << 30,
		    "power the guest off after S seconds (default 3600)"),
	OPT_BOOL("keep", &keep, "keep the cell directory (printed at the end)"),
	OPT_END(),
};

const struct cmd_def cmd_boot_def = {
	"boot", "KERNEL [-- COMMAND [ARGS...]]",
	"boot a kernel with a topology interactively, for debugging",
	"Boots KERNEL (debian:6.12, linux-image-*, image:PATH) with the host root\n"
	"read-only, sets up topology T (a name from configs/topologies/ or a path),\n"
	"then runs COMMAND (default /bin/sh) on the serial console in this terminal\n"
	"and powers off when it exits. For debugging set-ups by hand.\n",
	boot_opts, 1, -1, NULL,
};

int cmd_boot(int argc, char **argv)
{
	const char *accel;
	int rc, code = EXIT_USAGE, first;
	struct spec_topology topo = { 0 };
	json_t *topo_obj, *cj = NULL;
	char *agent = NULL, *initrd = NULL, *note = NULL, *dir = NULL, *text;
	struct kernel k;
	struct strv qargs;
	struct vm_result vr;

	if ((rc = opt_parse(&cmd_boot_def, argc, argv, &first)) != OPT_OK)
		return opt_exit(rc);
	if (kernel_get(argv[first], NULL, NULL, NULL, &k)) {
		log_err("%s", sb_lasterr());
		return EXIT_USAGE;
	}
	if (topo_ref) {
		if (topology_load(topo_ref, ".", "--topology", &topo) ||
		    kernel_check_topology(&k, topo.obj)) {
			log_err("%s", sb_lasterr());
			goto out;
		}
		topo_obj = json_incref(topo.obj);
	} else {
		topo_obj = json_pack("{s:s,s:[]}", "name", "none", "layers");
	}
	agent = agent_path();
	if (initramfs_get(&k, agent, NULL, &initrd) ||
	    vm_choose_accel(want, k.vmlinuz, initrd, &accel, &note)) {
		log_err("%s", sb_lasterr());
		json_decref(topo_obj);
		goto out;
	}
	if (note)
		fprintf(stderr, "accel: %s\n", note);
	dir = xstrdup("/tmp/swapbench-boot-XXXXXX");
	if (!mkdtemp(dir)) {
		log_err("cannot create a cell directory: %s", strerror(errno));
		json_decref(topo_obj);
		goto out;
	}
	cj = cell_json("boot", "command", topo_obj, NULL,
		       (const char *const *)(first + 1 < argc ? argv + first + 1 : NULL), 1000);
	text = json_dumps(cj, JSON_INDENT(2));
	{
		char *p = xasprintf("%s/" CELL_FILE, dir);

		rc = write_file_atomic(p, text, strlen(text));
		free(p);
	}
	free(text);
	strv_init(&qargs);
	if (!rc)
		rc = topology_prepare(topo_obj, dir, &qargs);
	if (!rc) {
		struct vm_spec vs = { .vmlinuz = k.vmlinuz, .initrd = initrd,
				      .mem_mb = (unsigned)(mem >> 20), .cpus = (unsigned)cpus,
				      .accel = accel, .cell_dir = dir, .timeout_s = timeout,
				      .extra = &qargs };

		fprintf(stderr, "booting %s (%s) under %s; the guest powers off when the "
			"command exits\n", k.release, argv[first], accel);
		rc = vm_run(&vs, &vr);
	}
	topology_discard(topo_obj, dir);
	strv_release(&qargs);
	json_decref(topo_obj);
	if (rc)
		log_err("%s", sb_lasterr());
	else
		code = EXIT_OK;
	if (keep)
		fprintf(stderr, "cell directory kept: %s\n", dir);
	else
		rm_rf(dir);
out:
	json_decref(cj);
	spec_topology_release(&topo);
	kernel_release(&k);
	free(agent);
	free(initrd);
	free(note);
	free(dir);
	return code;
}
