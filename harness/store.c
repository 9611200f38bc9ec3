#include "harness/store.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *store_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

char *store_cell_dir(const char *run_dir, const char *cell_id)
{
	return xasprintf("%s/" STORE_CELLS "/%s", run_dir, cell_id);
}

void store_cell_set(struct store_cell *c, const struct spec *s, const char *run_dir, size_t k,
		    size_t t, size_t w, int iter)
{
	c->k = k;
	c->t = t;
	c->w = w;
	c->iter = iter;
	c->id = xasprintf("%s--%s--%s--%d", s->kernels[k].name, s->topos[t].name,
			  s->workloads[w].name, iter);
	c->dir = run_dir ? store_cell_dir(run_dir, c->id) : NULL;
}

size_t store_cells(const struct spec *s, const char *run_dir, struct store_cell **out)
{
	size_t n = 0, total = (size_t)s->iterations * s->nkernels * s->ntopos * s->nworkloads;
	struct store_cell *cells = calloc(total ? total : 1, sizeof(*cells));

	for (int it = 1; it <= s->iterations; it++)
		for (size_t t = 0; t < s->ntopos; t++)
			for (size_t w = 0; w < s->nworkloads; w++)
				for (size_t k = 0; k < s->nkernels; k++)
					store_cell_set(&cells[n++], s, run_dir, k, t, w, it);
	*out = cells;
	return n;
}

void store_cells_free(struct store_cell *cells, size_t n)
{
	for (size_t i = 0; cells && i < n; i++) {
		free(cells[i].id);
		free(cells[i].dir);
	}
	free(cells);
}

int store_write_json(const char *path, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return sb_err(ENOMEM, "cannot serialise '%s'", path);
	rc = write_file_atomic(path, text, strlen(text));
	free(text);
	return rc;
}

static int parse_json(const char *path, char *text, json_t **out)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	free(text);
	if (!j)
		return sb_err(EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	*out = j;
	return 0;
}

int store_load_json_beneath(const char *dir, const char *name, size_t max, json_t **out)
{
	char *text, *path;
	int rc = read_file_beneath(dir, name, max, &text, NULL);

	if (rc)
		return rc;
	path = xasprintf("%s/%s", dir, name);
	rc = parse_json(path, text, out);
	free(path);
	return rc;
}

int store_load_json(const char *path, size_t max, json_t **out)
{
	json_error_t jerr;
	char *text;
	json_t *j;
	int rc = read_file(path, max, &text, NULL);

	if (rc)
		return rc;
	j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!j)
		return sb_err(EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	*out = j;
	return 0;
}

int store_load_run(const char *run_dir, json_t **run)
{
	char *p = store_path(run_dir, STORE_RUN);
	int rc = path_exists(p) ? store_load_json(p, STORE_RUN_MAX, run)
				: sb_err(ENOENT, "'%s' is not a swapbench run (no run.json)", run_dir);

	/* What compare and plot rely on (they crashed on a kernel without a
	 * name): checked once, here. */
	if (!rc && run_validate(*run)) {
		json_decref(*run);
		*run = NULL; /* output parameters are set only on success */
		rc = sb_err_prefix(EINVAL, "%s", p);
	}
	free(p);
	return rc;
}
