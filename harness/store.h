/* The results store: the one owner of a results directory's layout.
 *
 *   DIR/run.json                 the manifest (spec, kernels, host, accel, status)
 *   DIR/summary.json             the index: metric rows, counters, cells
 *   DIR/cells/<cell id>/         one per cell: cell.json, result.json,
 *                                console.log, qemu.log, qemu.pid (while
 *                                the VM runs)
 *   DIR/cells/<cell id>/guest/   the only directory the guest may write (its
 *                                9p share): cell.json, guest-result.json
 *   DIR/.lock                    flock of the swapbench writing the run
 *
 * Cell ids are KERNEL--TOPOLOGY--WORKLOAD--ITERATION. Files are written
 * atomically (temp + rename) and read with one set of limits: a size cap
 * per file, duplicate keys rejected, errors naming file and line.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "harness/spec.h"

#define RUN_SCHEMA_VERSION 1

#define STORE_RUN "run.json"
#define STORE_SUMMARY "summary.json"
#define STORE_CELLS "cells"
/* Files of a cell directory (cell.json and guest-result.json are in
 * common/protocol.h: the guest names them too). */
#define STORE_RESULT "result.json"
#define STORE_CONSOLE "console.log"
#define STORE_QEMU_LOG "qemu.log"
/* The only part of a cell directory the guest can write (its 9p share). */
#define GUEST_SUBDIR "guest"
#define STORE_QEMU_PID "qemu.pid"
#define STORE_GUEST_DIR "guest"

/* Size caps of the files a run is read back from. */
#define STORE_RUN_MAX (64 << 20)
#define STORE_SUMMARY_MAX (256 << 20)

/* DIR/NAME of a run directory (or a cell directory). Caller frees. */
char *store_path(const char *dir, const char *name);
/* DIR/cells/ID. Caller frees. */
char *store_cell_dir(const char *run_dir, const char *cell_id);

/* One cell of a spec's matrix: indexes into the spec's arrays. */
struct store_cell {
	char *id;
	char *dir; /* NULL when listed without a run directory */
	size_t k, t, w;
	int iter;
};

/* Every cell of a spec in run order: iterations outermost (an interrupted
 * run has every kernel covered), then topology, workload, kernel. run_dir
 * may be NULL (a dry run). Returns the count; free with store_cells_free. */
size_t store_cells(const struct spec *s, const char *run_dir, struct store_cell **out);
void store_cells_free(struct store_cell *cells, size_t n);
/* Fill *c as cell (kernel k, topology t, workload w, iteration iter) of s:
 * its id and, with run_dir, its directory (--target-ci adds cells so). */
void store_cell_set(struct store_cell *c, const struct spec *s, const char *run_dir, size_t k,
		    size_t t, size_t w, int iter);

/* Write a JSON document atomically (indented, keys sorted). */
int store_write_json(const char *path, json_t *j);
/* Read a JSON document of at most max bytes, duplicate keys rejected. 0 or
 * a negative errno with sb_err() naming the file (and line). */
int store_load_json(const char *path, size_t max, json_t **out);
/* The same for DIR/NAME where a guest writes DIR: opened beneath it, never
 * through a link (read_file_beneath). */
int store_load_json_beneath(const char *dir, const char *name, size_t max, json_t **out);
/* run.json of a run directory (validated: run_validate): "'DIR' is not a swapbench run"
 * when absent. */
int store_load_run(const char *run_dir, json_t **run);

#endif
