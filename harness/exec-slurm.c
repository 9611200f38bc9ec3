/* The Slurm executor: a run's cells as one job array on a cluster.
 *
 * The submitting host resolves (fetches or builds) every kernel first, then
 * writes what a cell needs into the run directory, which the nodes must
 * share: inputs/spec.json (the spec frozen: topologies inline, kernels as
 * image: paths into inputs/kernels/NAME/vmlinuz; beside it the boot files:
 * initrd-TOPOLOGY per topology, vmlinux-pvh when the kernel boots the fast
 * way, skip-TOPOLOGY holding why it cannot run that topology), the effective
 * iterations) and inputs/cell-task.sh, a fixed script whose only inputs are
 * environment variables (no shell string is built from input). Array task N
 * runs `swapbench cell RUN N`, which does what the local runner does for cell
 * N and writes its result.json atomically. Array indexes follow the run
 * order (iterations outermost, kernels innermost), so tasks stay interleaved
 * across kernels.
 *
 * Waiting polls squeue and the cells' result.json. A task that ended without
 * a result is mapped from Slurm's state: TIMEOUT -> timeout, NODE_FAIL and
 * PREEMPTED -> requeued once, then failed, CANCELLED -> not run (a resume runs
 * it again), anything else -> failed with the task's output tail.
 */
#define _GNU_SOURCE
#include "harness/runner-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strv.h"
#include "harness/result.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define SLURM_CMD_TIMEOUT_MS 30000
#define POLL_S 2

static const char cell_task_sh[] =
	"#!/bin/sh\n"
	"# swapbench: one Slurm array task = one cell of the run directory.\n"
	"# Inputs come from the environment only (set by sbatch --export).\n"
	"exec \"$SWAPBENCH_BIN\" cell \"$SWAPBENCH_RUN\" \"$SLURM_ARRAY_TASK_ID\"\n";

/* Run a Slurm client command; its stdout in *out (caller frees). */
static int slurm_cmd(const char *const *argv, char **out)
{
	struct spawn_opts o = { .argv = argv, .timeout_ms = SLURM_CMD_TIMEOUT_MS, .capture = 1,
				.merge_stderr = 1 };
	struct spawn_result res;
	int rc = spawn_run(&o, &res);

	if (rc)
		return rc;
	if (res.timed_out || res.exit_code) {
		char *cmd = spawn_argv_str(argv);

		rstrip(res.out ? res.out : (char *)"");
		rc = sb_err(EIO, "'%s' %s: %s", cmd, res.timed_out ? "timed out" : "failed",
			    res.out && *res.out ? res.out : "(no output)");
		free(cmd);
		spawn_result_release(&res);
		return rc;
	}
	if (out)
		*out = xstrdup(res.out ? res.out : "");
	spawn_result_release(&res);
	return 0;
}

static int on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	int found = 0;

	if (!path)
		return 0;
	copy = xstrdup(path);
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", *d ? d : ".", prog);

		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

/* Before anything is fetched or booted: the Slurm tools, the controller,
 * the partition. Returns an exit code. */
int slurm_check(const struct run_opts *o)
{
	static const char *const tools[] = { "sbatch", "squeue", "scontrol", "scancel", "sinfo" };
	const char *ping[] = { "scontrol", "ping", NULL };
	char *out = NULL;

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!on_path(tools[i])) {
			log_err("--executor slurm: '%s' is not on PATH (install slurm-client, or "
				"run where the Slurm tools are)", tools[i]);
			return EXIT_USAGE;
		}
	if (slurm_cmd(ping, &out) || !strstr(out, "UP")) {
		log_err("--executor slurm: no Slurm controller answers: %s",
			out ? out : sb_lasterr());
		free(out);
		return EXIT_CELLS_FAILED;
	}
	free(out);
	out = NULL;
	if (o->partition) {
		const char *argv[] = { "sinfo", "-h", "-o", "%P", "-p", o->partition, NULL };

		if (slurm_cmd(argv, &out) || !*out) {
			log_err("--partition: Slurm has no partition '%s'", o->partition);
			free(out);
			return EXIT_USAGE;
		}
		free(out);
	}
	return EXIT_OK;
}

/* Nodes of the cluster that are not this host: a run directory on a local
 * file system cannot be seen by them. */
static int check_shared_dir(const char *dir)
{
	const char *argv[] = { "sinfo", "-h", "-N", "-o", "%N", NULL };
	char host[256] = "", *out = NULL, *save = NULL;
	struct statfs fs;
	int others = 0;

	gethostname(host, sizeof(host) - 1);
	if (slurm_cmd(argv, &out))
		return sb_err(EIO, "%s", sb_lasterr());
	for (char *n = strtok_r(out, "\n", &save); n; n = strtok_r(NULL, "\n", &save))
		if (strcmp(n, host) && strcmp(n, "localhost"))
			others++;
	free(out);
	if (!others)
		return 0;
	if (statfs(dir, &fs))
		return sb_err(errno, "cannot stat file system of '%s': %s", dir, strerror(errno));
	switch ((unsigned long)fs.f_type) {
	case 0xEF53:     /* ext2/3/4 */
	case 0x58465342: /* xfs */
	case 0x9123683E: /* btrfs */
	case 0x01021994: /* tmpfs */
		return sb_err(EXDEV, "the run directory '%s' is on a local file system, but the "
			      "cluster has %d other node(s) that cannot see it: put --out on a "
			      "shared file system (NFS, Lustre, CephFS, ...)", dir, others);
	default:
		return 0;
	}
}

static int copy_file(const char *from, const char *to)
{
	char *data;
	size_t len;
	int rc;

	if (!link(from, to))
		return 0;
	if ((rc = read_file(from, (size_t)1 << 31, &data, &len)))
		return rc;
	rc = write_file_atomic(to, data, len);
	free(data);
	return rc;
}

/* inputs/: the frozen spec, the kernels' artifacts, the task script. */
static int write_inputs(struct run *r, const char *abs_out)
{
	const struct spec *s = &r->s;
	json_t *spec = json_deep_copy(s->root), *kernels = json_array(), *topos = json_array();
	char *dir = xasprintf("%s/" RUN_INPUTS, abs_out), *p;
	int rc = mkdir_p(dir, 0755);

	for (size_t i = 0; !rc && i < s->nkernels; i++) {
		char *kd = xasprintf("%s/kernels/%s", dir, s->kernels[i].name);
		char *vm = xasprintf("%s/vmlinuz", kd), *pvh = xasprintf("%s/vmlinux-pvh", kd);

		rc = mkdir_p(kd, 0755);
		unlink(vm);
		unlink(pvh);
		/* A kernel that failed to build has no artifacts; its cells are
		 * recorded as failed by the task from run.json. */
		if (!rc && !r->kerrs[i])
			rc = copy_file(r->kernels[i].vmlinuz, vm);
		if (!rc && !r->kerrs[i] && r->kb[i].pvh)
			rc = copy_file(r->kb[i].pvh, pvh);
		for (size_t t = 0; !rc && !r->kerrs[i] && t < s->ntopos; t++) {
			char *ird = xasprintf("%s/initrd-%s", kd, s->topos[t].name);
			char *skip = xasprintf("%s/skip-%s", kd, s->topos[t].name);
			const char *why = r->tskip ? r->tskip[i * s->ntopos + t] : NULL;

			unlink(ird);
			unlink(skip);
			if (why)
				rc = write_file_atomic(skip, why, strlen(why));
			else if (r->kb[i].initrds && r->kb[i].initrds[t])
				rc = copy_file(r->kb[i].initrds[t], ird);
			free(ird);
			free(skip);
		}
		if (!rc && r->kerrs[i])
			rc = write_file_atomic(vm, "", 0);
		json_array_append_new(kernels, json_pack("{s:s,s:s+}", "name", s->kernels[i].name,
							 "source", "image:", vm));
		free(kd);
		free(vm);
		free(pvh);
	}
	for (size_t i = 0; i < s->ntopos; i++) {
		json_t *t = json_deep_copy(s->topos[i].obj);

		json_object_set_new(t, "name", json_string(s->topos[i].name));
		json_array_append_new(topos, t);
	}
	json_object_set_new(spec, "kernels", kernels);
	json_object_set_new(spec, "topologies", topos);
	json_object_set_new(spec, "iterations", json_integer(s->iterations));
	if (s->accel) {
		if (!json_is_object(json_object_get(spec, "vm")))
			json_object_set_new(spec, "vm", json_object());
		json_object_set_new(json_object_get(spec, "vm"), "accel", json_string(s->accel));
	}
	p = xasprintf("%s/spec.json", dir);
	if (!rc)
		rc = store_write_json(p, spec);
	free(p);
	p = xasprintf("%s/cell-task.sh", dir);
	if (!rc)
		rc = write_file_atomic(p, cell_task_sh, strlen(cell_task_sh));
	if (!rc && chmod(p, 0755))
		rc = sb_err(errno, "cannot chmod '%s': %s", p, strerror(errno));
	free(p);
	json_decref(spec);
	free(dir);
	return rc;
}

/* A result.json that exists and parses: the cell is done. */
static json_t *cell_result(const struct store_cell *c)
{
	char *rp = store_path(c->dir, STORE_RESULT);
	json_t *res = NULL;

	if (path_exists(rp) && store_load_json(rp, RESULT_MAX_BYTES, &res))
		res = NULL;
	free(rp);
	return res;
}

/* The Slurm state of each task of an array job ("PENDING", "TIMEOUT", ...),
 * indexed by array task id; NULL where Slurm has no record. */
static char **task_states(const char *job, size_t n)
{
	const char *argv[] = { "scontrol", "-o", "show", "job", job, NULL };
	char **st = calloc(n, sizeof(*st)), *out = NULL, *save = NULL;

	if (!st)
		abort();
	if (slurm_cmd(argv, &out))
		return st;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = strstr(line, " ArrayTaskId="), *js = strstr(line, " JobState=");
		char *end;
		long id;

		if (!t || !js)
			continue;
		id = strtol(t + 13, &end, 10);
		if (end == t + 13 || id < 0 || (size_t)id >= n)
			continue;
		js += 10;
		free(st[id]);
		st[id] = strndup(js, strcspn(js, " "));
	}
	free(out);
	return st;
}

static void free_states(char **st, size_t n)
{
	for (size_t i = 0; st && i < n; i++)
		free(st[i]);
	free(st);
}

/* Pending and running tasks of the run's jobs, from squeue. */
static int count_active(const json_t *jobs, size_t *running, size_t *pending)
{
	json_t *j;
	size_t i;

	*running = *pending = 0;
	json_array_foreach(jobs, i, j) {
		const char *argv[] = { "squeue", "-h", "-r", "-j", json_string_value(j), "-o",
				       "%t", NULL };
		char *out = NULL, *save = NULL;

		if (!json_string_value(j) || slurm_cmd(argv, &out))
			continue;
		for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(l, "R") || !strcmp(l, "CG"))
				++*running;
			else
				++*pending;
		}
		free(out);
	}
	return *running + *pending > 0;
}

int slurm_jobs_active(const json_t *manifest, size_t *running, size_t *pending)
{
	json_t *ex = json_object_get(manifest, "executor");

	*running = *pending = 0;
	if (strcmp(json_string_value(json_object_get(ex, "kind")) ?: "", "slurm"))
		return 0;
	return count_active(json_object_get(ex, "jobs"), running, pending);
}

/* A cell result the task could not write, made from Slurm's verdict. */
static json_t *lost_cell(struct run *r, size_t i, const char *status, const char *why)
{
	const struct store_cell *c = &r->cells[i];
	char *rp = store_path(c->dir, STORE_RESULT);
	json_t *final = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "schema_version",
				  RESULT_SCHEMA_VERSION, "status", status, "error", why, "kernel",
				  r->s.kernels[c->k].name, "topology", r->s.topos[c->t].name,
				  "workload", r->s.workloads[c->w].name, "iteration", c->iter,
				  "cell_id", c->id);

	mkdir_p(c->dir, 0755);
	if (store_write_json(rp, final))
		log_err("%s", sb_lasterr());
	free(rp);
	return final;
}

static char *task_log_tail(const char *out_dir, size_t i)
{
	char *p = xasprintf("%s/slurm/%zu.out", out_dir, i), *text = NULL, *tail;
	size_t len = 0;

	if (read_file(p, 1 << 20, &text, &len)) {
		free(p);
		return xstrdup("(no task output)");
	}
	free(p);
	rstrip(text);
	tail = xstrdup(len > 400 ? text + len - 400 : text);
	free(text);
	for (char *s = tail; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n')
			*s = ' ';
	return tail;
}

/* SIGINT while waiting: cancel the jobs or leave them running. */
static int ask_cancel(void)
{
	char buf[16];

	if (!isatty(0) || !isatty(2))
		return 0;
	fprintf(stderr, "\ninterrupted: cancel the Slurm jobs [c] or leave them running [l]? ");
	if (!fgets(buf, sizeof(buf), stdin))
		return 0;
	return buf[0] == 'c' || buf[0] == 'C';
}

static int submit(struct run *r, const char *abs_out, const char *indexes, char **job)
{
	struct strv av;
	char *out = NULL, *self = self_dir(), *bin = xasprintf("%s/swapbench", self);
	int rc;

	/* --export takes a comma-separated list: refuse what would split it. */
	if (strchr(abs_out, ',') || strchr(bin, ',')) {
		rc = sb_err(EINVAL, "--executor slurm: paths with ',' cannot be passed to "
			    "sbatch --export: '%s'", strchr(abs_out, ',') ? abs_out : bin);
		free(self);
		free(bin);
		return rc;
	}
	strv_init(&av);
	strv_add(&av, "sbatch");
	strv_add(&av, "--parsable");
	strv_addf(&av, "--job-name=swapbench-%s", r->s.name);
	if (r->o->max_parallel > 0)
		strv_addf(&av, "--array=%s%%%d", indexes, r->o->max_parallel);
	else
		strv_addf(&av, "--array=%s", indexes);
	strv_addf(&av, "--output=%s/slurm/%%a.out", abs_out);
	strv_addf(&av, "--chdir=%s", abs_out);
	strv_addf(&av, "--export=ALL,SWAPBENCH_BIN=%s,SWAPBENCH_RUN=%s", bin, abs_out);
	strv_add(&av, "--cpus-per-task");
	strv_addf(&av, "%u", r->s.vm_cpus ? r->s.vm_cpus : 2);
	if (r->o->partition)
		strv_addf(&av, "--partition=%s", r->o->partition);
	for (size_t i = 0; r->o->sbatch_args && r->o->sbatch_args[i]; i++)
		strv_add(&av, r->o->sbatch_args[i]);
	strv_addf(&av, "%s/" RUN_INPUTS "/cell-task.sh", abs_out);
	rc = slurm_cmd(strv_argv(&av), &out);
	if (!rc) {
		rstrip(out);
		/* --parsable: "JOBID" or "JOBID;CLUSTER" */
		out[strcspn(out, ";")] = '\0';
		if (!*out || strspn(out, "0123456789") != strlen(out))
			rc = sb_err(EIO, "sbatch answered '%s', not a job id", out);
		else
			*job = xstrdup(out);
	}
	free(out);
	free(self);
	free(bin);
	strv_release(&av);
	return rc;
}

/* The array indexes of the cells that have no result yet ("0-11" style
 * ranges), or NULL when every cell is done. */
static char *todo_indexes(struct run *r, size_t *n)
{
	char *list = xstrdup(""), *tmp;
	size_t i = 0;

	*n = 0;
	while (i < r->ncells) {
		json_t *res = cell_result(&r->cells[i]);
		size_t j;
		int done = res && r->o->resume;

		json_decref(res);
		if (done) {
			i++;
			continue;
		}
		for (j = i + 1; j < r->ncells; j++) {
			res = cell_result(&r->cells[j]);
			done = res && r->o->resume;
			json_decref(res);
			if (done)
				break;
		}
		tmp = j - 1 > i ? xasprintf("%s%s%zu-%zu", list, *list ? "," : "", i, j - 1)
				: xasprintf("%s%s%zu", list, *list ? "," : "", i);
		free(list);
		list = tmp;
		*n += j - i;
		i = j;
	}
	if (!*n) {
		free(list);
		return NULL;
	}
	return list;
}

static void record_job(struct run *r, const char *job, const char *indexes)
{
	json_t *ex = json_object_get(r->manifest, "executor");
	char *rp = store_path(r->out, STORE_RUN);

	if (!ex) {
		ex = json_pack("{s:s,s:s?,s:[],s:[]}", "kind", "slurm", "partition",
			       r->o->partition, "jobs", "submissions");
		json_object_set_new(r->manifest, "executor", ex);
	}
	json_array_append_new(json_object_get(ex, "jobs"), json_string(job));
	json_array_append_new(json_object_get(ex, "submissions"),
			      json_pack("{s:s,s:s}", "job", job, "array", indexes));
	if (store_write_json(rp, r->manifest))
		log_err("%s", sb_lasterr());
	free(rp);
}

/* Requeue once what a node failure or preemption took. */
static void requeue_lost(struct run *r, const char *job, int *requeued)
{
	char **st = task_states(job, r->ncells);

	for (size_t i = 0; i < r->ncells; i++) {
		json_t *res;

		if (!st[i] || requeued[i] || (strcmp(st[i], "NODE_FAIL") &&
					      strcmp(st[i], "PREEMPTED")))
			continue;
		res = cell_result(&r->cells[i]);
		if (!res) {
			char *task = xasprintf("%s_%zu", job, i);
			const char *argv[] = { "scontrol", "requeue", task, NULL };

			requeued[i] = 1;
			if (!slurm_cmd(argv, NULL))
				fprintf(stderr, "\nslurm: task %s %s: requeued once\n",
					task, st[i]);
			free(task);
		}
		json_decref(res);
	}
	free_states(st, r->ncells);
}

/* Progress until the job's tasks are neither running nor pending, or
 * SIGINT/SIGTERM; what is still running or pending then is counted. */
static void wait_for_job(struct run *r, const char *job, int *requeued, double t0,
			 size_t *running, size_t *pending)
{
	for (;;) {
		size_t done = 0;
		char el[32];

		for (size_t i = 0; i < r->ncells; i++) {
			json_t *res = cell_result(&r->cells[i]);

			done += res != NULL;
			json_decref(res);
		}
		count_active(json_object_get(json_object_get(r->manifest, "executor"), "jobs"),
			     running, pending);
		fmt_duration(monotonic_s() - t0, 0, el, sizeof(el));
		if (r->tty)
			fprintf(stderr, "\r\033[K[%zu/%zu] slurm job %s: %zu running, %zu pending  "
				"elapsed %s", done, r->ncells, job ? job : "-", *running, *pending, el);
		if (!*running && !*pending)
			break;
		if (runner_interrupted)
			break;
		sleep(POLL_S);
		if (!r->tty && (int)(monotonic_s() - t0) % 30 < POLL_S)
			fprintf(stderr, "[%zu/%zu] slurm job %s: %zu running, %zu pending "
				"(elapsed %s)\n", done, r->ncells, job ? job : "-", *running,
				*pending, el);
		if (job)
			requeue_lost(r, job, requeued);
	}
}

/* Interrupted with tasks left: cancel them, or say how to finish later. */
static void cancel_or_leave(struct run *r, const char *job)
{
	if (ask_cancel()) {
		json_t *j;
		size_t k;

		json_array_foreach(json_object_get(json_object_get(r->manifest, "executor"),
						   "jobs"), k, j) {
			const char *argv[] = { "scancel", json_string_value(j), NULL };

			slurm_cmd(argv, NULL);
		}
		fprintf(stderr, "slurm: jobs cancelled\n");
	} else {
		fprintf(stderr, "slurm: jobs left running; cancel with: scancel %s; "
			"finish later with: swapbench status %s\n", job ? job : "JOB", r->out);
	}
}

/* Every cell's result; a task that ended without one is recorded as lost,
 * one that never ran is left for a resume. */
static void tally_cells(struct run *r, const char *job, const char *abs_out)
{
	char **states = job ? task_states(job, r->ncells) : NULL;

	for (size_t i = 0; i < r->ncells; i++) {
		json_t *res = cell_result(&r->cells[i]);
		const char *st = states ? states[i] : NULL;

		if (res) {
			run_tally(r, res);
			continue;
		}
		if (runner_interrupted || !st || !strcmp(st, "CANCELLED") ||
		    !strcmp(st, "PENDING"))
			continue; /* not run: a resume submits it again */
		if (!strcmp(st, "TIMEOUT")) {
			run_tally(r, lost_cell(r, i, "timeout", "the Slurm task hit its time "
					       "limit (TIMEOUT)"));
		} else {
			char *tail = task_log_tail(abs_out, i);
			char *why = xasprintf("the Slurm task ended %s without a result: %s", st,
					      tail);

			run_tally(r, lost_cell(r, i, "failed", why));
			free(tail);
			free(why);
		}
	}
	free_states(states, r->ncells);
}

int slurm_run_cells(struct run *r)
{
	char *abs_out = realpath(r->out, NULL), *job = NULL, *indexes;
	int *requeued = calloc(r->ncells ? r->ncells : 1, sizeof(int));
	size_t ntodo, running, pending;
	double t0 = monotonic_s();
	int rc;

	if (!abs_out || !requeued)
		abort();
	if ((rc = check_shared_dir(abs_out)) || (rc = write_inputs(r, abs_out))) {
		log_err("%s", sb_lasterr());
		free(abs_out);
		free(requeued);
		return EXIT_USAGE;
	}
	indexes = todo_indexes(r, &ntodo);
	if (indexes) {
		char *sd = xasprintf("%s/slurm", abs_out);

		mkdir_p(sd, 0755);
		free(sd);
		if ((rc = submit(r, abs_out, indexes, &job))) {
			log_err("%s", sb_lasterr());
			free(indexes);
			free(abs_out);
			free(requeued);
			return EXIT_CELLS_FAILED;
		}
		record_job(r, job, indexes);
		fprintf(stderr, "slurm: submitted job %s: %zu cells (array %s%s)\n", job, ntodo,
			indexes, r->o->max_parallel ? ", throttled" : "");
	}
	free(indexes);
	if (r->o->detach && job) {
		char *rp = store_path(r->out, STORE_RUN);

		json_object_set_new(r->manifest, "status", json_string("submitted"));
		store_write_json(rp, r->manifest);
		free(rp);
		printf("submitted Slurm job %s; progress and summary: swapbench status %s\n"
		       "cancel: scancel %s\n", job, r->out, job);
		free(job);
		free(abs_out);
		free(requeued);
		return EXIT_OK;
	}
	wait_for_job(r, job, requeued, t0, &running, &pending);
	if (r->tty)
		fputc('\n', stderr);
	if (runner_interrupted && (running || pending))
		cancel_or_leave(r, job);
	tally_cells(r, job, abs_out);
	free(job);
	free(abs_out);
	free(requeued);
	return -1; /* the caller finishes: summary.json, run.json, the table */
}
