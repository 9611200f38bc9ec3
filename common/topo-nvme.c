/* nvme: an emulated NVMe drive backed by a sparse host file or a host block device. */
#define _GNU_SOURCE
#include "common/topology.h"
#include "common/params.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const host_caches[] = { "none", "writeback", "unsafe", NULL };

static const struct param_def nvme_params[] = {
	PARAM_STRING("kind", 16, NULL, "\"nvme\""),
	PARAM_SIZE("size", 1 << 20, 64LL << 40, NULL, "a sparse file per cell (or \"path\")"),
	PARAM_PATH("path", "a host block device or file (or \"size\")"),
	PARAM_INT("priority", -1, 32767, "10", "swap priority"),
	PARAM_BOOL("discard", "false", "swapon --discard"),
	PARAM_ENUM("host_cache", host_caches, "none", "qemu's cache mode of the backing file"),
	PARAM_END(),
};

static int nvme_validate(const json_t *layer, const char *where)
{
	int rc = params_check(layer, where, nvme_params);

	if (!rc && !json_object_get(layer, "size") == !json_object_get(layer, "path"))
		rc = sb_err(EINVAL, "%s: give exactly one of \"size\" (a sparse file per "
			    "cell) or \"path\" (a host block device or file)", where);
	return rc;
}

static const struct kconfig_req nvme_kconfig[] = {
	{ "CONFIG_BLK_DEV_NVME", 1 },
	{ NULL, 0 },
};

static void nvme_modules(const json_t *layer, struct strv *out)
{
	strv_add(out, "nvme");
}

static char *backing_path(const json_t *layer, int index, const char *cell_dir)
{
	json_t *path = json_object_get(layer, "path");

	if (path)
		return xstrdup(json_string_value(path));
	return xasprintf("%s/nvme%d.img", cell_dir, index);
}

static int nvme_prepare(const json_t *layer, int index, const char *cell_dir)
{
	json_t *size = json_object_get(layer, "size");
	char *p = backing_path(layer, index, cell_dir), where[32];
	unsigned long long sz = 0;
	int fd, rc = 0;

	if (!size) {
		if (access(p, R_OK | W_OK))
			rc = sb_err(errno, "layers[%d].path: cannot use '%s': %s", index, p,
				    strerror(errno));
		free(p);
		return rc;
	}
	/* Through the table: "64G" and a number of bytes alike. */
	snprintf(where, sizeof(where), "layers[%d]", index);
	if ((rc = params_get_size(layer, where, nvme_params, "size", &sz))) {
		free(p);
		return rc;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)sz))
		rc = sb_err(errno, "cannot create the %llu-byte sparse backing file '%s': %s",
			    sz, p, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

static void nvme_discard(const json_t *layer, int index, const char *cell_dir)
{
	char *p;

	if (json_object_get(layer, "path"))
		return;
	p = backing_path(layer, index, cell_dir);
	unlink(p);
	free(p);
}

static int nvme_qemu_args(const json_t *layer, int index, const char *cell_dir,
			  struct strv *av)
{
	unsigned int cache = 0;
	char *p, where[32];
	int rc;

	snprintf(where, sizeof(where), "layers[%d]", index);
	if ((rc = params_get_enum(layer, where, nvme_params, "host_cache", &cache)))
		return rc;
	p = backing_path(layer, index, cell_dir);
	/* O_DIRECT on the host by default, so the "drive" is not secretly host RAM. */
	strv_add(av, "-drive");
	strv_addf(av, "file=%s,if=none,id=sbnvme%d,format=raw,cache=%s,discard=unmap", p,
		  index, host_caches[cache]);
	strv_add(av, "-device");
	strv_addf(av, "nvme,serial=sbnvme%d,drive=sbnvme%d", index, index);
	free(p);
	return 0;
}

/* The guest finds its disk by the serial number the host gave it. */
static int find_by_serial(const char *serial, char *dev, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		DIR *d = opendir("/sys/block");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char path[300 + 256], val[64];

			if (strncmp(e->d_name, "nvme", 4))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%s/device/serial", e->d_name);
			if (sysfs_read(path, val, sizeof(val)) == 0 && !strcmp(val, serial)) {
				snprintf(dev, len, "/dev/%.50s", e->d_name);
				closedir(d);
				return 0;
			}
		}
		if (d)
			closedir(d);
		usleep(50000); /* the controller probes asynchronously */
	}
	return sb_err(ENODEV, "no NVMe namespace with serial '%s' appeared", serial);
}

static int nvme_setup(const json_t *layer, int index, struct topo_state *st)
{
	long long prio = 0;
	bool discard = false;
	char serial[32], dev[64], where[32];
	int rc;

	snprintf(where, sizeof(where), "layers[%d]", index);
	if ((rc = params_get_int(layer, where, nvme_params, "priority", &prio)) ||
	    (rc = params_get_bool(layer, where, nvme_params, "discard", &discard)))
		return rc;
	snprintf(serial, sizeof(serial), "sbnvme%d", index);
	rc = find_by_serial(serial, dev, sizeof(dev));
	if (!rc)
		rc = topo_mkswap(dev);
	if (!rc)
		rc = topo_swapon(dev, (int)prio, discard, st, "nvme");
	if (!rc)
		json_object_set_new(st->info, dev, json_pack("{s:s,s:I,s:b}", "kind", "nvme",
							     "priority", (json_int_t)prio,
							     "discard", discard));
	return rc;
}

const struct topo_kind topo_nvme = {
	.kind = "nvme",
	.summary = "emulated NVMe drive (sparse host file of a size, or a host device)",
	.validate = nvme_validate,
	.params = nvme_params,
	.kconfig = nvme_kconfig,
	.modules = nvme_modules,
	.qemu_args = nvme_qemu_args,
	.prepare = nvme_prepare,
	.discard = nvme_discard,
	.setup = nvme_setup,
};
