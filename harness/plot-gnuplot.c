/* gnuplot for the charts of plot.c: scripts and data in memory, written
 * as <name>.gp and <name>.dat, rendered to the chosen formats, and the
 * probe of which terminals this gnuplot has. */
#define _GNU_SOURCE
#include "harness/plot-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct plot_format plot_formats[N_FORMATS] = {
	{ PLOT_PNG, "png" }, { PLOT_SVG, "svg" }, { PLOT_TXT, "txt" },
};

int plot_parse_formats(const char *list, unsigned *out)
{
	char *s = xstrdup(list), *save = NULL, *w;
	unsigned f = 0;

	for (w = strtok_r(s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < N_FORMATS; i++)
			if (!strcmp(w, plot_formats[i].ext))
				break;
		if (i == N_FORMATS) {
			int rc = sb_err(EINVAL, "unknown format '%.40s' (expected png, svg or txt)",
					w);

			free(s);
			return rc;
		}
		f |= plot_formats[i].bit;
	}
	free(s);
	if (!f)
		return sb_err(EINVAL, "no format given (expected png, svg or txt)");
	*out = f;
	return 0;
}

/* A gnuplot double-quoted string. Backquotes are replaced because gnuplot
 * runs `...` as a shell command even inside double quotes; control
 * characters because they would end the line. */
void gp_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '\\' || ch == '"') {
			fputc('\\', f);
			fputc(ch, f);
		} else if (ch == '`' || ch < 0x20 || ch == 0x7f) {
			fputc('?', f);
		} else {
			fputc(ch, f);
		}
	}
	fputc('"', f);
}

/* Text for a '#' comment line: no line breaks, and no backquotes (a script's
 * comment is still a line gnuplot reads). */
char *comment_safe(const char *s)
{
	char *d = xstrdup(s);

	for (char *c = d; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '`')
			*c = '?';
	return d;
}

/* A name as one whitespace-free token in a .dat file (gnuplot reads the
 * columns; the labels shown come from the script's quoted strings). */
void dat_token(FILE *f, const char *s)
{
	if (!*s)
		fputc('_', f);
	for (; *s; s++)
		fputc(strchr("._+-", *s) || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') ? *s : '_', f);
}

void dat_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, " %.6g", v);
	else
		fputs(" NaN", f);
}

/* File name of a chart: [A-Za-z0-9._-] only, distinct from the others. */
char *chart_name(struct plot *p, const char *prefix, const char *a, const char *b)
{
	char *raw = b ? xasprintf("%s-%s-%s", prefix, a, b) : xasprintf("%s-%s", prefix, a);
	char *name;

	for (char *c = raw; *c; c++)
		if (!strchr("._-", *c) && !(*c >= '0' && *c <= '9') && !(*c >= 'a' && *c <= 'z') &&
		    !(*c >= 'A' && *c <= 'Z'))
			*c = '_';
	name = xstrdup(raw);
	for (int i = 2; json_object_get(p->used, name); i++) {
		free(name);
		name = xasprintf("%s-%d", raw, i);
	}
	json_object_set_new(p->used, name, json_true());
	free(raw);
	return name;
}

void chart_open(struct chart *c, char *name, char *desc)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->desc = desc;
	c->gp = open_memstream(&c->gp_buf, &c->gp_len);
	c->dat = open_memstream(&c->dat_buf, &c->dat_len);
	if (!c->gp || !c->dat)
		abort();
}

void chart_free(struct chart *c)
{
	if (c->gp)
		fclose(c->gp);
	if (c->dat)
		fclose(c->dat);
	free(c->gp_buf);
	free(c->dat_buf);
	free(c->name);
	free(c->desc);
	memset(c, 0, sizeof(*c));
}

/* Settings every chart starts with. */
void gp_header(const struct chart *c)
{
	char *desc = comment_safe(c->desc);

	fprintf(c->gp, "# %s\n# Written by swapbench plot; run 'gnuplot %s.gp' in this directory to "
		"render it again.\n", desc, c->name);
	fprintf(c->gp, "reset\nset encoding utf8\nset datafile missing \"NaN\"\n");
	free(desc);
}

/* Switch to a format's terminal and output file. Every terminal is
 * noenhanced: names like lat_p99 must not turn into subscripts. */
void gp_terminal(const struct plot *p, const struct chart *c, unsigned fmt, int w, int h)
{
	switch (fmt) {
	case PLOT_PNG:
		if (p->pngcairo)
			fprintf(c->gp, "set terminal pngcairo size %d,%d noenhanced font \"sans,10\"\n",
				w, h);
		else
			fprintf(c->gp, "set terminal png size %d,%d noenhanced\n", w, h);
		fprintf(c->gp, "set output \"%s.png\"\n", c->name);
		break;
	case PLOT_SVG:
		fprintf(c->gp, "set terminal svg size %d,%d noenhanced font \"sans,10\" "
			"background rgb \"white\"\n", w, h);
		fprintf(c->gp, "set output \"%s.svg\"\n", c->name);
		break;
	default:
		/* Email-sized; mono so no ANSI colour codes. */
		fprintf(c->gp, "set terminal dumb size 79,24 mono noenhanced\n");
		fprintf(c->gp, "set output \"%s.txt\"\n", c->name);
		break;
	}
	/* In text the grid's dots and colons hide the data. */
	if (fmt == PLOT_TXT || !c->grid)
		fprintf(c->gp, "unset grid\n");
	else
		fprintf(c->gp, "set grid %s\n", c->grid);
}

static void append_written(struct plot *p, const char *name, const char *ext)
{
	json_array_append_new(p->written, json_sprintf("%s/%s.%s", p->out_dir, name, ext));
}

int write_out(struct plot *p, const char *name, const char *ext, const char *buf,
	      size_t len)
{
	char *path = xasprintf("%s/%s.%s", p->out_dir, name, ext);
	int rc = write_file_atomic(path, buf, len);

	free(path);
	if (!rc)
		append_written(p, name, ext);
	return rc;
}

/* The dumb terminal starts each page with a form feed and pads every line
 * to the full width: make it plain text for mail (pages separated by an
 * empty line, no trailing blanks). */
static int tidy_text(const char *path)
{
	char *text, *out, *o, *line, *next;
	size_t len;
	int rc = read_file(path, 16 << 20, &text, &len), pages = 0;

	if (rc)
		return rc;
	out = o = malloc(len + 2);
	if (!out) {
		free(text);
		return sb_err(ENOMEM, "out of memory");
	}
	for (char *page = strtok(text, "\f"); page; page = strtok(NULL, "\f")) {
		char *start, *end_text;

		if (pages)
			*o++ = '\n';
		start = end_text = o;
		for (line = page; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			rstrip(line);
			if (o == start && !*line)
				continue;   /* leading empty lines */
			o += sprintf(o, "%s\n", line);
			if (*line)
				end_text = o;
		}
		/* Trailing empty lines go; a page with nothing takes its separator back. */
		o = end_text;
		if (o == start) {
			o = pages ? start - 1 : start;
			continue;
		}
		pages++;
	}
	rc = write_file_atomic(path, out, o - out);
	free(out);
	free(text);
	return rc;
}

/* Write <name>.gp and <name>.dat and let gnuplot render them. */
int chart_render(struct plot *p, struct chart *c)
{
	const char *argv[] = { "gnuplot", NULL, NULL };
	char *gp_file = xasprintf("%s.gp", c->name);
	struct spawn_opts so = {
		.argv = argv, .timeout_ms = GNUPLOT_TIMEOUT_MS, .capture = 1,
		.merge_stderr = 1, .capture_max = 64 << 10, .cwd = p->out_dir,
	};
	struct spawn_result res = { 0 };
	int rc;

	fclose(c->gp);
	fclose(c->dat);
	c->gp = c->dat = NULL;
	rc = write_out(p, c->name, "gp", c->gp_buf, c->gp_len);
	if (!rc)
		rc = write_out(p, c->name, "dat", c->dat_buf, c->dat_len);
	if (rc)
		goto out;
	argv[1] = gp_file;
	rc = spawn_run(&so, &res);
	if (rc == -ENOENT)
		rc = sb_err(ENOPKG, "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	if (rc)
		goto out;
	if (res.out)
		rstrip(res.out);
	if (res.timed_out || res.exit_code) {
		char why[64];

		if (res.timed_out)
			snprintf(why, sizeof(why), "timed out after %d s", GNUPLOT_TIMEOUT_MS / 1000);
		else if (res.signal)
			snprintf(why, sizeof(why), "killed by signal %d", res.signal);
		else
			snprintf(why, sizeof(why), "exit %d", res.exit_code);
		rc = sb_err(EIO, "gnuplot %s/%s failed (%s): %.2000s", p->out_dir, gp_file, why,
			    res.out && *res.out ? res.out : "(no output)");
		goto out;
	}
	if (res.out && *res.out)
		log_info("gnuplot %s/%s: %s", p->out_dir, gp_file, res.out);
	for (size_t i = 0; i < N_FORMATS; i++) {
		struct stat st;
		char *path;

		if (!(p->formats & plot_formats[i].bit))
			continue;
		path = xasprintf("%s/%s.%s", p->out_dir, c->name, plot_formats[i].ext);
		if (plot_formats[i].bit == PLOT_TXT)
			rc = tidy_text(path);
		/* Exit 0 without the image happens (e.g. a terminal that failed to open). */
		if (!rc && (stat(path, &st) || !st.st_size))
			rc = sb_err(EIO, "gnuplot %s/%s did not write %s", p->out_dir, gp_file,
				    path);
		free(path);
		if (rc)
			goto out;
		append_written(p, c->name, plot_formats[i].ext);
	}
	{
		char *desc = comment_safe(c->desc);

		fprintf(p->index, "%-34s %s\n", c->name, desc);
		free(desc);
	}
out:
	spawn_result_release(&res);
	free(gp_file);
	return rc;
}

static int has_terminal(const char *list, const char *name)
{
	size_t n = strlen(name);

	/* "set terminal" lists one terminal a line: "  pngcairo  png terminal ..." */
	for (const char *l = list; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (!strncmp(l, name, n) && (l[n] == ' ' || l[n] == '\t'))
			return 1;
	}
	return 0;
}

/* Is gnuplot there, and which of its terminals can we use? */
int probe_gnuplot(struct plot *p)
{
	const char *argv[] = { "gnuplot", "-e", "set terminal", NULL };
	struct spawn_opts so = { .argv = argv, .timeout_ms = GNUPLOT_TIMEOUT_MS, .capture = 1,
				 .merge_stderr = 1 };
	struct spawn_result res;
	int rc = spawn_run(&so, &res);

	if (rc == -ENOENT)
		return sb_err(ENOPKG, "gnuplot is not installed (Debian: apt-get install "
			      "gnuplot-nox)");
	if (rc)
		return rc;
	if (res.timed_out || res.exit_code) {
		rstrip(res.out);
		rc = sb_err(ENOPKG, "gnuplot does not work ('gnuplot -e \"set terminal\"' %s): "
			    "%.500s", res.timed_out ? "timed out" : "failed", res.out);
	} else {
		p->pngcairo = has_terminal(res.out, "pngcairo");
		if ((p->formats & PLOT_PNG) && !p->pngcairo && !has_terminal(res.out, "png"))
			rc = sb_err(ENOPKG, "this gnuplot has neither the pngcairo nor the png "
				    "terminal");
		else if ((p->formats & PLOT_SVG) && !has_terminal(res.out, "svg"))
			rc = sb_err(ENOPKG, "this gnuplot has no svg terminal");
		else if (!has_terminal(res.out, "dumb"))
			rc = sb_err(ENOPKG, "this gnuplot has no dumb terminal");
	}
	spawn_result_release(&res);
	return rc;
}
