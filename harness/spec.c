#define _GNU_SOURCE
#include "harness/spec-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
#include "common/params.h"
#include "harness/paths.h"
#include "common/topology.h"
#include "workloads/workload.h"
#include "harness/kernel.h"
#include "common/log.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPEC_MAX_BYTES (4 << 20)

void spec_init(struct spec *s)
{
	memset(s, 0, sizeof(*s));
}

void spec_topology_release(struct spec_topology *t)
{
	free(t->name);
	free(t->origin);
	json_decref(t->obj);
	memset(t, 0, sizeof(*t));
}

void spec_kbuild_free(struct spec_kbuild *b)
{
	if (!b)
		return;
	free(b->tree);
	free(b->tree_spec);
	free(b->ref);
	free(b->branch);
	strv_release(&b->patches);
	free(b->config_base);
	strv_release(&b->fragments);
	strv_release(&b->make);
	free(b->localversion);
	free(b);
}

/* s->kernels emptied. */
static void kernels_release(struct spec *s)
{
	for (size_t i = 0; i < s->nkernels; i++) {
		spec_kbuild_free(s->kernels[i].build);
		free(s->kernels[i].name);
		free(s->kernels[i].source);
		free(s->kernels[i].config);
		free(s->kernels[i].modules);
	}
	free(s->kernels);
	s->kernels = NULL;
	s->nkernels = 0;
}

void spec_release(struct spec *s)
{
	if (!s)
		return;
	kernels_release(s);
	for (size_t i = 0; i < s->ntopos; i++)
		spec_topology_release(&s->topos[i]);
	for (size_t i = 0; i < s->nworkloads; i++) {
		free(s->workloads[i].name);
		free(s->workloads[i].kind);
		json_decref(s->workloads[i].params);
	}
	free(s->topos);
	free(s->workloads);
	free(s->path);
	free(s->name);
	free(s->text);
	free(s->accel);
	free(s->cmdline);
	free(s->clock);
	json_decref(s->root);
	spec_init(s);
}

/* The spec's sections, each checked by the one parameter validator
 * (common/params.h) against its table; the code below reads the values
 * it accepted. P_CUSTOM keys are checked by their own code. */
static const char *const purpose_names[] = { "measurement", "functional", NULL };
static const char *const accel_names[] = { "auto", "kvm", "tcg", NULL };
static const char *const clock_names[] = { "host", "icount", NULL };

static const struct param_def spec_params[] = {
	PARAM_STRING("name", 0, "the file's name", "the run's name: results/<name>-<time>"),
	PARAM_CUSTOM("description", NULL, "free text"),
	PARAM_CUSTOM("kernels", NULL, "the kernels under test"),
	PARAM_CUSTOM("topologies", NULL, "the swap topologies"),
	PARAM_CUSTOM("workloads", NULL, "the workloads"),
	PARAM_CUSTOM("memcg", NULL, "the workloads' cgroup limits (memcg_params)"),
	PARAM_INT("iterations", 1, 1000, "1", "repetitions of every cell"),
	PARAM_CUSTOM("vm", NULL, "the guest (vm_params)"),
	PARAM_INT("sample_interval_ms", 50, 60000, "1000", "period of the periodic samples"),
	PARAM_CUSTOM("profile", NULL, "caps of workload profiles (profile_params)"),
	PARAM_ENUM("purpose", purpose_names, "measurement",
		   "functional: cells may run side by side (run --jobs)"),
	PARAM_END(),
};

static const struct param_def memcg_params[] = {
	PARAM_LIMIT("max", 1, 0, "max", "memory.max"),
	PARAM_LIMIT("high", 1, 0, "max", "memory.high"),
	PARAM_LIMIT("swap_max", 1, 0, "max", "memory.swap.max"),
	PARAM_LIMIT("zswap_max", 1, 0, "max", "memory.zswap.max"),
	PARAM_END(),
};

static const struct param_def workload_entry_params[] = {
	PARAM_STRING_REQ("kind", 0, "a registered workload"),
	PARAM_STRING("name", 0, "the kind", "the workload's name"),
	PARAM_CUSTOM("params", "{}", "checked by the workload"),
	PARAM_CUSTOM("memcg", NULL, "overrides of the spec's memcg"),
	PARAM_INT("timeout", 1, 86400, "vm.timeout", "seconds"),
	PARAM_BOOL("profile", "false", "record a perf profile of the measured phase"),
	PARAM_END(),
};

static const struct param_def vm_params[] = {
	PARAM_SIZE("memory", 128LL << 20, 1LL << 40, "1G", "guest memory"),
	PARAM_INT("cpus", 1, 256, "2 (1 when quiet)", "vCPUs"),
	PARAM_ENUM("accel", accel_names, "auto", "qemu accelerator"),
	PARAM_INT("timeout", 10, 86400, "900", "seconds per VM"),
	PARAM_STRING("cmdline", 0, NULL, "extra kernel arguments"),
	PARAM_CUSTOM("fast_boot", "true", "true, false or an object of boot_params"),
	PARAM_ENUM("clock", clock_names, "host (icount when quiet)", "guest time source"),
	PARAM_BOOL("quiet", "false", "the quiet mode: clock icount and 1 vCPU"),
	PARAM_END(),
};

static const struct param_def boot_params[] = {
	PARAM_BOOL("pvh", "true", "boot vmlinux by PVH"),
	PARAM_BOOL("lean_machine", "true", "a machine without legacy devices"),
	PARAM_BOOL("lean_initramfs", "true", "only the modules the cell needs"),
	PARAM_BOOL("parallel_modules", "true", "load modules in parallel"),
	PARAM_BOOL("quick_cmdline", "true", "skip slow probes on the command line"),
	PARAM_END(),
};

static const struct param_def profile_params[] = {
	PARAM_INT("frequency", 1, 20000, "499", "perf record frequency, Hz"),
	PARAM_SIZE("max_size", 64LL << 10, 4LL << 30, "64M", "cap of perf.data"),
	PARAM_END(),
};

static int parse_memcg(const struct spec *s, const char *path, json_t *obj,
		       struct spec_memcg *m)
{
	int rc = check_section(s, obj, path, memcg_params);

	if (!rc) {
		params_get_ll(obj, memcg_params, "max", &m->max);
		params_get_ll(obj, memcg_params, "high", &m->high);
		params_get_ll(obj, memcg_params, "swap_max", &m->swap_max);
		params_get_ll(obj, memcg_params, "zswap_max", &m->zswap_max);
	}
	return rc;
}

int topology_load(const char *ref, const char *base_dir, const char *where,
		  struct spec_topology *t)
{
	char *path, *text = NULL;
	json_error_t jerr;
	json_t *obj;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strchr(ref, '/') || strstr(ref, ".json"))
		path = ref[0] == '/' ? xstrdup(ref) : xasprintf("%s/%s", base_dir, ref);
	else if (!name_problem(ref))
		path = xasprintf("%s/topologies/%s.json", configs_dir(), ref);
	else
		return sb_err(EINVAL, "%s: bad topology name: %s", where, name_problem(ref));
	rc = read_file(path, SPEC_MAX_BYTES, &text, NULL);
	if (rc) {
		rc = sb_err(ENOENT, "%s: topology '%s': no such file '%s'", where, ref, path);
		free(path);
		return rc;
	}
	obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		rc = sb_err(EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	} else {
		rc = topology_validate(obj, "");
		if (rc)
			rc = spec_relocate(path, text, rc);
	}
	free(text);
	if (rc) {
		json_decref(obj);
		free(path);
		return rc;
	}
	t->obj = obj;
	t->name = xstrdup(json_string_value(json_object_get(obj, "name")));
	t->origin = path;
	return 0;
}

static int parse_topologies(struct spec *s, json_t *arr)
{
	char *dir_copy = xstrdup(s->path), *base = dirname(dir_copy);
	json_t *t;
	size_t i;
	int rc = 0;

	if (!json_is_array(arr) || !json_array_size(arr)) {
		free(dir_copy);
		return jsonloc_err(s->path, s->text, "topologies", "expected a non-empty array");
	}
	s->topos = calloc(json_array_size(arr), sizeof(*s->topos));
	json_array_foreach(arr, i, t) {
		struct spec_topology *st = &s->topos[s->ntopos];
		char *p = jsonloc_path_append_index("topologies", i);
		int line = jsonloc_line(s->text, p);
		char *where = line > 0 ? xasprintf("%s:%d: %s", s->path, line, p)
				       : xasprintf("%s: %s", s->path, p);

		if (json_is_string(t)) {
			rc = topology_load(json_string_value(t), base, where, st);
		} else if (json_is_object(t)) {
			rc = topology_validate(t, p);
			if (rc)
				rc = spec_relocate(s->path, s->text, rc);
			if (!rc) {
				st->obj = json_deep_copy(t);
				st->name = xstrdup(json_string_value(json_object_get(t, "name")));
				st->origin = xstrdup(s->path);
			}
		} else {
			rc = jsonloc_err(s->path, s->text, p, "expected a topology name, a path or an "
				  "object");
		}
		if (!rc) {
			s->ntopos++;
			rc = check_name(s, p, "topology name", st->name);
			for (size_t j = 0; !rc && j + 1 < s->ntopos; j++)
				if (!strcmp(s->topos[j].name, st->name))
					rc = jsonloc_err(s->path, s->text, p,
						  "duplicate topology name '%s'", st->name);
		}
		free(where);
		free(p);
		if (rc)
			break;
	}
	free(dir_copy);
	return rc;
}

static int parse_workloads(struct spec *s, json_t *arr, const struct spec_memcg *memcg,
			   int default_timeout)
{
	json_t *w;
	size_t i;

	if (!json_is_array(arr) || !json_array_size(arr))
		return jsonloc_err(s->path, s->text, "workloads", "expected a non-empty array");
	s->workloads = calloc(json_array_size(arr), sizeof(*s->workloads));
	json_array_foreach(arr, i, w) {
		struct spec_workload *sw = &s->workloads[s->nworkloads++];
		char *p = jsonloc_path_append_index("workloads", i);
		const struct workload_ops *ops;
		long long timeout = default_timeout;
		int rc = check_section(s, w, p, workload_entry_params);

		sw->memcg = *memcg;
		if (!rc) {
			get_str(w, "kind", &sw->kind);
			get_str(w, "name", &sw->name);
			if (!sw->name)
				sw->name = xstrdup(sw->kind);
			params_get_ll(w, workload_entry_params, "timeout", &timeout);
			sw->profile = json_is_true(json_object_get(w, "profile"));
		}
		if (!rc && !(ops = workload_find(sw->kind))) {
			char *kp = jsonloc_path_append_key(p, "kind");
			char known[256] = "";

			for (int j = 0; workloads[j]; j++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", j ? ", " : "", workloads[j]->name);
			rc = jsonloc_err(s->path, s->text, kp, "unknown workload kind '%s' (known: %s)",
				  sw->kind, known);
			free(kp);
		}
		if (!rc)
			rc = check_name(s, p, "workload name", sw->name);
		for (size_t j = 0; !rc && j + 1 < s->nworkloads; j++)
			if (!strcmp(s->workloads[j].name, sw->name))
				rc = jsonloc_err(s->path, s->text, p, "duplicate workload name '%s'",
					  sw->name);
		if (!rc) {
			json_t *params = json_object_get(w, "params");
			char *pp = jsonloc_path_append_key(p, "params");

			sw->params = params ? json_incref(params) : json_object();
			rc = param_check_object(sw->params, pp) ?: ops->validate(sw->params, pp);
			if (rc)
				rc = spec_relocate(s->path, s->text, rc);
			free(pp);
		}
		if (!rc && json_object_get(w, "memcg")) {
			char *mp = jsonloc_path_append_key(p, "memcg");

			rc = parse_memcg(s, mp, json_object_get(w, "memcg"), &sw->memcg);
			free(mp);
		}
		sw->timeout_s = (int)timeout;
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

/* Limits that make sense in the VM: a limit at or above the VM's memory
 * limits nothing, one below a megabyte cannot run a workload at all. */
static int check_memcg_sense(const struct spec *s, long long vm_mem)
{
	for (size_t i = 0; i < s->nworkloads; i++) {
		const struct spec_memcg *m = &s->workloads[i].memcg;
		json_t *w = json_array_get(json_object_get(s->root, "workloads"), i);
		int own = json_is_object(json_object_get(w, "memcg"));
		char *wp = jsonloc_path_append_index("workloads", i);
		char *mp = own ? jsonloc_path_append_key(wp, "memcg") : xstrdup("memcg");
		const char *keys[] = { "max", "high" };
		long long v[] = { m->max, m->high };
		int rc = 0;

		for (int k = 0; k < 2 && !rc; k++) {
			char *kp = jsonloc_path_append_key(mp, keys[k]);

			if (v[k] > 0 && v[k] < (1LL << 20))
				rc = jsonloc_err(s->path, s->text, kp, "%lld bytes is below 1M: no workload "
					  "runs in that", v[k]);
			else if (v[k] >= vm_mem)
				rc = jsonloc_err(s->path, s->text, kp, "%lldM is not below the VM's memory "
					  "(vm.memory %lldM): it would limit nothing", v[k] >> 20,
					  vm_mem >> 20);
			free(kp);
		}
		if (!rc && m->high > 0 && m->max > 0 && m->high > m->max) {
			char *kp = jsonloc_path_append_key(mp, "high");

			rc = jsonloc_err(s->path, s->text, kp, "high (%lldM) is above max (%lldM)",
				  m->high >> 20, m->max >> 20);
			free(kp);
		}
		free(wp);
		free(mp);
		if (rc)
			return rc;
	}
	return 0;
}

int spec_check_host(const struct spec *s, unsigned host_cpus, unsigned long long host_mem)
{
	if (host_cpus && s->vm_cpus > host_cpus)
		return jsonloc_err(s->path, s->text, "vm.cpus", "%u CPUs, but this host has %u",
			    s->vm_cpus, host_cpus);
	if (host_mem && ((unsigned long long)s->vm_mem_mb << 20) > host_mem)
		return jsonloc_err(s->path, s->text, "vm.memory", "%uM, but this host has %lluM",
			    s->vm_mem_mb, host_mem >> 20);
	return 0;
}

/* vm.fast_boot: true/false for every step, or an object naming steps. */
static int parse_boot(const struct spec *s, json_t *v, struct spec_boot *b)
{
	int *fields[] = { &b->pvh, &b->lean_machine, &b->lean_initramfs,
			  &b->parallel_modules, &b->quick_cmdline };
	int rc;

	for (int i = 0; boot_params[i].key; i++)
		*fields[i] = !v || json_is_true(v) || json_is_object(v);
	if (!v || json_is_boolean(v))
		return 0;
	if (!json_is_object(v))
		return jsonloc_err(s->path, s->text, "vm.fast_boot",
				   "expected true, false or an object");
	rc = check_section(s, v, "vm.fast_boot", boot_params);
	for (int i = 0; boot_params[i].key && !rc; i++)
		if (json_object_get(v, boot_params[i].key))
			*fields[i] = json_is_true(json_object_get(v, boot_params[i].key));
	return rc;
}

int spec_make_aa(struct spec *s, const char *kernel)
{
	json_t *arr = json_object_get(s->root, "kernels"), *aa, *k = NULL;
	size_t i;
	int rc;

	for (i = 0; i < s->nkernels; i++)
		if (!kernel || !strcmp(s->kernels[i].name, kernel))
			break;
	if (i == s->nkernels)
		return sb_err(ENOENT, "%s: no kernel named '%s'", s->path, kernel);
	k = json_array_get(arr, i);
	aa = json_array();
	for (int c = 0; c < 2; c++) {
		json_t *copy = json_is_string(k) ? json_pack("{s:O}", "source", k)
						 : json_deep_copy(k);

		json_object_set_new(copy, "name", json_string(c ? "B" : "A"));
		json_array_append_new(aa, copy);
	}
	kernels_release(s);
	json_object_set_new(s->root, "kernels", aa);
	rc = parse_kernels(s, aa);
	if (!rc) {
		char *name = xasprintf("%s-aa", s->name);

		free(s->name);
		s->name = name;
	}
	return rc;
}

/* "vm": memory, cpus, timeout (out), accel, cmdline, clock, quiet (into s). */
static int parse_vm(struct spec *s, json_t *vm, long long *mem, long long *cpus,
		    long long *timeout)
{
	int rc = check_section(s, vm, "vm", vm_params);

	if (rc)
		return rc;
	params_get_ll(vm, vm_params, "memory", mem);
	params_get_ll(vm, vm_params, "cpus", cpus);
	params_get_ll(vm, vm_params, "timeout", timeout);
	get_str(vm, "accel", &s->accel);
	get_str(vm, "cmdline", &s->cmdline);
	get_str(vm, "clock", &s->clock);
	s->quiet = json_is_true(json_object_get(vm, "quiet"));
	return 0;
}

int spec_load(const char *path, struct spec *s)
{
	struct spec_memcg memcg = { -1, -1, -1, -1 };
	long long iterations = 1, cpus = 2, timeout = 900, interval = 1000, mem = 1LL << 30;
	long long prof_hz = 499, prof_max = 64LL << 20;
	json_error_t jerr;
	json_t *vm, *pr;
	int rc;

	spec_init(s);
	s->path = xstrdup(path);
	rc = read_file(path, SPEC_MAX_BYTES, &s->text, NULL);
	if (rc)
		goto fail;
	s->root = json_loads(s->text, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->root) {
		rc = sb_err(EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	rc = check_section(s, s->root, "", spec_params);
	if (rc)
		goto fail;
	get_str(s->root, "name", &s->name);
	params_get_ll(s->root, spec_params, "iterations", &iterations);
	params_get_ll(s->root, spec_params, "sample_interval_ms", &interval);
	s->functional = !strcmp(json_string_value(json_object_get(s->root, "purpose")) ?: "",
				"functional");
	if (!s->name) {
		char *copy = xstrdup(path), *b = basename(copy), *dot = strrchr(b, '.');

		if (dot)
			*dot = '\0';
		s->name = xstrdup(b);
		free(copy);
	}
	/* The run's directory is results/<name>-<time>. */
	rc = check_name(s, json_object_get(s->root, "name") ? "name" : "", "run name", s->name);
	if (!rc && json_object_get(s->root, "memcg"))
		rc = parse_memcg(s, "memcg", json_object_get(s->root, "memcg"), &memcg);
	vm = json_object_get(s->root, "vm");
	if (!rc && vm)
		rc = parse_vm(s, vm, &mem, &cpus, &timeout);
	if (!rc)
		rc = parse_boot(s, json_object_get(vm, "fast_boot"), &s->boot);
	pr = json_object_get(s->root, "profile");
	if (!rc && pr)
		rc = check_section(s, pr, "profile", profile_params);
	if (!rc && pr) {
		params_get_ll(pr, profile_params, "frequency", &prof_hz);
		params_get_ll(pr, profile_params, "max_size", &prof_max);
	}
	if (!rc)
		rc = parse_kernels(s, json_object_get(s->root, "kernels"));
	if (!rc)
		rc = parse_topologies(s, json_object_get(s->root, "topologies"));
	if (!rc)
		rc = parse_workloads(s, json_object_get(s->root, "workloads"), &memcg,
				     (int)timeout);
	if (!rc)
		rc = check_memcg_sense(s, mem);
	if (rc)
		goto fail;
	s->iterations = (int)iterations;
	s->vm_mem_mb = (unsigned)(mem >> 20);
	/* The quiet mode is icount with one vCPU (docs/noise.md: with two,
	 * single-threaded TCG's round robin makes the work itself vary). */
	if (s->quiet && !(vm && json_object_get(vm, "cpus")))
		cpus = 1;
	s->vm_cpus = (unsigned)cpus;
	s->vm_timeout_s = (int)timeout;
	s->sample_interval_ms = (int)interval;
	s->profile_hz = (int)prof_hz;
	s->profile_max_bytes = prof_max;
	if (!s->accel)
		s->accel = xstrdup("auto");
	if (!s->clock)
		s->clock = xstrdup(s->quiet ? VM_QUIET_CLOCK : "host");
	return 0;
fail:
	spec_release(s);
	return rc;
}
