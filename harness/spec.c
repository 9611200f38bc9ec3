#define _GNU_SOURCE
#include "harness/spec-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/jsonloc.h"
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

void spec_release(struct spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nkernels; i++) {
		spec_kbuild_free(s->kernels[i].build);
		free(s->kernels[i].name);
		free(s->kernels[i].source);
		free(s->kernels[i].config);
		free(s->kernels[i].modules);
	}
	for (size_t i = 0; i < s->ntopos; i++)
		spec_topology_release(&s->topos[i]);
	for (size_t i = 0; i < s->nworkloads; i++) {
		free(s->workloads[i].name);
		free(s->workloads[i].kind);
		json_decref(s->workloads[i].params);
	}
	free(s->kernels);
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

/* Validators report "<json path>: message"; prefix file and line. */
static int relocate(const char *file, const char *text, int rc)
{
	char *msg = xstrdup(sb_lasterr()), *m = msg, *path;
	int line;

	if (*m == '.')
		m++;
	path = strndup(m, strcspn(m, ": "));
	line = jsonloc_line(text, path);
	if (line > 0)
		rc = sb_err(-rc, "%s:%d: %s", file, line, m);
	else
		rc = sb_err(-rc, "%s: %s", file, m);
	free(path);
	free(msg);
	return rc;
}

/* Parse-or-fail for a member; value must be a (positive) size string or integer. */
static int get_size(const char *file, const char *text, const char *path, json_t *obj,
		    const char *key, long long *out)
{
	json_t *v = json_object_get(obj, key);
	unsigned long long sz;
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	p = jsonloc_path_append_key(path, key);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		*out = json_integer_value(v);
	else if (json_is_string(v) && !parse_size(json_string_value(v), &sz) && sz > 0)
		*out = (long long)sz;
	else if (json_is_string(v) && !strcmp(json_string_value(v), "max"))
		*out = -1;
	else
		rc = jsonloc_err(file, text, p, "expected a size like \"64M\" or a byte count%s%s%s",
			  json_is_string(v) ? " (got '" : "",
			  json_is_string(v) ? json_string_value(v) : "",
			  json_is_string(v) ? "')" : "");
	free(p);
	return rc;
}

static int get_int(const char *file, const char *text, const char *path, json_t *obj,
		   const char *key, long long lo, long long hi, long long *out)
{
	json_t *v = json_object_get(obj, key);
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	p = jsonloc_path_append_key(path, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		rc = jsonloc_err(file, text, p, "expected an integer in [%lld, %lld]", lo, hi);
	else
		*out = json_integer_value(v);
	free(p);
	return rc;
}

static int parse_memcg(const char *file, const char *text, const char *path, json_t *obj,
		       struct spec_memcg *m)
{
	static const char *const keys[] = { "max", "high", "swap_max", "zswap_max", NULL };
	int rc = jsonloc_check_keys(file, text, path, obj, keys);

	if (!rc)
		rc = get_size(file, text, path, obj, "max", &m->max);
	if (!rc)
		rc = get_size(file, text, path, obj, "high", &m->high);
	if (!rc)
		rc = get_size(file, text, path, obj, "swap_max", &m->swap_max);
	if (!rc)
		rc = get_size(file, text, path, obj, "zswap_max", &m->zswap_max);
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
			rc = relocate(path, text, rc);
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
				rc = relocate(s->path, s->text, rc);
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
	static const char *const keys[] = { "name", "kind", "params", "memcg", "timeout",
					    "profile", NULL };
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
		int rc = jsonloc_check_keys(s->path, s->text, p, w, keys);

		sw->memcg = *memcg;
		if (!rc)
			rc = get_str(s->path, s->text, p, w, "kind", 1, &sw->kind);
		if (!rc)
			rc = get_str(s->path, s->text, p, w, "name", 0, &sw->name);
		if (!rc && !sw->name)
			sw->name = xstrdup(sw->kind);
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
			if (!json_is_object(sw->params)) {
				rc = jsonloc_err(s->path, s->text, pp, "expected an object");
			} else {
				rc = ops->validate(sw->params, pp);
				if (rc)
					rc = relocate(s->path, s->text, rc);
			}
			free(pp);
		}
		if (!rc && json_object_get(w, "memcg")) {
			char *mp = jsonloc_path_append_key(p, "memcg");

			rc = parse_memcg(s->path, s->text, mp, json_object_get(w, "memcg"),
					 &sw->memcg);
			free(mp);
		}
		if (!rc)
			rc = get_int(s->path, s->text, p, w, "timeout", 1, 86400, &timeout);
		if (!rc && json_object_get(w, "profile")) {
			char *pp = jsonloc_path_append_key(p, "profile");

			if (!json_is_boolean(json_object_get(w, "profile")))
				rc = jsonloc_err(s->path, s->text, pp, "expected true or false");
			sw->profile = json_is_true(json_object_get(w, "profile"));
			free(pp);
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
static int parse_boot(const char *file, const char *text, json_t *v, struct spec_boot *b)
{
	static const char *const keys[] = { "pvh", "lean_machine", "lean_initramfs",
					    "parallel_modules", "quick_cmdline", NULL };
	int *fields[] = { &b->pvh, &b->lean_machine, &b->lean_initramfs,
			  &b->parallel_modules, &b->quick_cmdline };
	int rc;

	for (int i = 0; keys[i]; i++)
		*fields[i] = !v || json_is_true(v) || json_is_object(v);
	if (!v || json_is_boolean(v))
		return 0;
	if (!json_is_object(v))
		return jsonloc_err(file, text, "vm.fast_boot", "expected true, false or an object");
	rc = jsonloc_check_keys(file, text, "vm.fast_boot", v, keys);
	for (int i = 0; keys[i] && !rc; i++) {
		json_t *f = json_object_get(v, keys[i]);
		char *p;

		if (!f)
			continue;
		if (json_is_boolean(f)) {
			*fields[i] = json_is_true(f);
			continue;
		}
		p = jsonloc_path_append_key("vm.fast_boot", keys[i]);
		rc = jsonloc_err(file, text, p, "expected true or false");
		free(p);
	}
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
	for (i = 0; i < s->nkernels; i++) {
		spec_kbuild_free(s->kernels[i].build);
		free(s->kernels[i].name);
		free(s->kernels[i].source);
		free(s->kernels[i].config);
		free(s->kernels[i].modules);
	}
	free(s->kernels);
	s->kernels = NULL;
	s->nkernels = 0;
	json_object_set_new(s->root, "kernels", aa);
	rc = parse_kernels(s, aa);
	if (!rc) {
		char *name = xasprintf("%s-aa", s->name);

		free(s->name);
		s->name = name;
	}
	return rc;
}

int spec_load(const char *path, struct spec *s)
{
	static const char *const keys[] = { "name", "description", "kernels", "topologies",
					    "workloads", "memcg", "iterations", "vm",
					    "sample_interval_ms", "profile", "purpose", NULL };
	static const char *const profile_keys[] = { "frequency", "max_size", NULL };
	static const char *const vm_keys[] = { "memory", "cpus", "accel", "timeout", "cmdline",
					       "fast_boot", "clock", "quiet", NULL };
	struct spec_memcg memcg = { -1, -1, -1, -1 };
	long long iterations = 1, cpus = 2, timeout = 900, interval = 1000, mem = 1LL << 30;
	long long prof_hz = 499, prof_max = 64LL << 20;
	json_error_t jerr;
	json_t *vm;
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
	rc = jsonloc_check_keys(path, s->text, "", s->root, keys);
	if (!rc)
		rc = get_str(path, s->text, "", s->root, "name", 0, &s->name);
	if (!rc && !s->name) {
		char *copy = xstrdup(path), *b = basename(copy), *dot = strrchr(b, '.');

		if (dot)
			*dot = '\0';
		s->name = xstrdup(b);
		free(copy);
	}
	/* The run's directory is results/<name>-<time>. */
	if (!rc)
		rc = check_name(s, json_object_get(s->root, "name") ? "name" : "", "run name",
				s->name);
	if (!rc && json_object_get(s->root, "memcg"))
		rc = parse_memcg(path, s->text, "memcg", json_object_get(s->root, "memcg"),
				 &memcg);
	if (!rc)
		rc = get_int(path, s->text, "", s->root, "iterations", 1, 1000, &iterations);
	if (!rc)
		rc = get_int(path, s->text, "", s->root, "sample_interval_ms", 50, 60000,
			     &interval);
	vm = json_object_get(s->root, "vm");
	if (!rc && vm) {
		rc = jsonloc_check_keys(path, s->text, "vm", vm, vm_keys);
		if (!rc)
			rc = get_size(path, s->text, "vm", vm, "memory", &mem);
		if (!rc && (mem < (128LL << 20) || mem > (1LL << 40)))
			rc = jsonloc_err(path, s->text, "vm.memory", "expected between 128M and 1T");
		if (!rc)
			rc = get_int(path, s->text, "vm", vm, "cpus", 1, 256, &cpus);
		if (!rc)
			rc = get_int(path, s->text, "vm", vm, "timeout", 10, 86400, &timeout);
		if (!rc)
			rc = get_str(path, s->text, "vm", vm, "accel", 0, &s->accel);
		if (!rc && s->accel && strcmp(s->accel, "auto") && strcmp(s->accel, "kvm") &&
		    strcmp(s->accel, "tcg"))
			rc = jsonloc_err(path, s->text, "vm.accel", "expected \"auto\", \"kvm\" or "
				  "\"tcg\" (got '%s')", s->accel);
		if (!rc)
			rc = get_str(path, s->text, "vm", vm, "cmdline", 0, &s->cmdline);
		if (!rc)
			rc = get_str(path, s->text, "vm", vm, "clock", 0, &s->clock);
		if (!rc && s->clock && strcmp(s->clock, "host") && strcmp(s->clock, "icount"))
			rc = jsonloc_err(path, s->text, "vm.clock", "expected \"host\" or \"icount\" "
				  "(got '%s')", s->clock);
		if (!rc && json_object_get(vm, "quiet")) {
			if (!json_is_boolean(json_object_get(vm, "quiet")))
				rc = jsonloc_err(path, s->text, "vm.quiet", "expected true or false");
			else
				s->quiet = json_is_true(json_object_get(vm, "quiet"));
		}
	}
	if (!rc)
		rc = parse_boot(path, s->text, json_object_get(vm, "fast_boot"), &s->boot);
	if (!rc) {
		char *purpose = NULL;

		rc = get_str(path, s->text, "", s->root, "purpose", 0, &purpose);
		if (!rc && purpose && strcmp(purpose, "measurement") &&
		    strcmp(purpose, "functional"))
			rc = jsonloc_err(path, s->text, "purpose", "expected \"measurement\" or "
				  "\"functional\" (got '%s')", purpose);
		s->functional = purpose && !strcmp(purpose, "functional");
		free(purpose);
	}
	if (!rc && json_object_get(s->root, "profile")) {
		json_t *pr = json_object_get(s->root, "profile");

		rc = jsonloc_check_keys(path, s->text, "profile", pr, profile_keys);
		if (!rc)
			rc = get_int(path, s->text, "profile", pr, "frequency", 1, 20000, &prof_hz);
		if (!rc)
			rc = get_size(path, s->text, "profile", pr, "max_size", &prof_max);
		if (!rc && (prof_max < (64LL << 10) || prof_max > (4LL << 30)))
			rc = jsonloc_err(path, s->text, "profile.max_size", "expected between 64K and 4G");
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
