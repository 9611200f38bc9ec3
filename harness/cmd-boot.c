#define _GNU_SOURCE
#include "harness/cmd.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/initramfs.h"
#include "harness/kernel.h"
#include "common/log.h"
#include "common/protocol.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/vm.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void boot_usage(FILE *out)
{
	fprintf(out,
		"usage: swapbench boot KERNEL [--topology T] [--memory SIZE] [--cpus N]\n"
		"                      [--accel auto|kvm|tcg] [--timeout S] [--keep]\n"
		"                      [-- COMMAND [ARGS...]]\n\n"
		"Boots KERNEL (debian:6.12, linux-image-*, image:PATH) with the host root\n"
		"read-only, sets up topology T (a name from configs/topologies/ or a path),\n"
		"then runs COMMAND (default /bin/sh) on the serial console in this terminal\n"
		"and powers off when it exits. For debugging set-ups by hand.\n");
}

int cmd_boot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topology", required_argument, NULL, 't' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "accel", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *topo_ref = NULL, *want = "auto", *accel;
	unsigned long long mem = 1ULL << 30;
	int cpus = 2, timeout = 3600, keep = 0, c, rc, code = EXIT_USAGE;
	struct spec_topology topo = { 0 };
	json_t *topo_obj, *cj = NULL;
	char *agent = NULL, *initrd = NULL, *note = NULL, *dir = NULL, *text;
	struct kernel k;
	struct strv qargs;
	struct vm_result vr;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': topo_ref = optarg; break;
		case 'm':
			if (parse_size(optarg, &mem) || mem < (128ULL << 20)) {
				fprintf(stderr, "swapbench boot: --memory: expected a size of at "
					"least 128M, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c': cpus = atoi(optarg); break;
		case 'a': want = optarg; break;
		case 'T': timeout = atoi(optarg); break;
		case 'k': keep = 1; break;
		case 'h': boot_usage(stdout); return EXIT_OK;
		default: boot_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc || cpus < 1 || timeout < 1) {
		boot_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(want, "auto") && strcmp(want, "kvm") && strcmp(want, "tcg")) {
		fprintf(stderr, "swapbench boot: --accel: expected auto, kvm or tcg\n");
		return EXIT_USAGE;
	}
	if (kernel_get(argv[optind], NULL, NULL, NULL, &k)) {
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
	if (initramfs_get(&k, agent, &initrd) ||
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
		       (const char *const *)(optind + 1 < argc ? argv + optind + 1 : NULL), 1000);
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
			"command exits\n", k.release, argv[optind], accel);
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
