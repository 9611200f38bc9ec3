/* Kernel configs: .config and fragment parsing, requested-vs-final checks,
 * and a Kconfig scanner that explains why an option did not stick. */
#define _GNU_SOURCE
#include "harness/kconfig.h"
#include "common/fsutil.h"
#include "common/strbuf.h"
#include "common/strv.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

json_t *kconfig_parse(const char *text)
{
	json_t *o = json_object();
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > 7 && !strncmp(p, "CONFIG_", 7)) {
			const char *eq = memchr(p, '=', len);

			if (eq) {
				char *key = strndup(p, eq - p);
				char *val = strndup(eq + 1, len - (eq - p) - 1);

				json_object_set_new(o, key, json_string(val));
				free(key);
				free(val);
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return o;
}

#define KCONFIG_OPTIONAL "#optional"

void kconfig_fragment_parse(const char *text, json_t *req)
{
	const char *p = text;
	int optional = 0;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len), *l = line, *name = NULL;
		json_t *value = NULL;

		rstrip(l);
		while (*l == ' ' || *l == '\t')
			l++;
		if (!strncmp(l, "CONFIG_", 7) && strchr(l, '=')) {
			char *eq = strchr(l, '=');

			*eq = '\0';
			name = l;
			value = json_string(eq + 1);
		} else if (!strncmp(l, "# CONFIG_", 9)) {
			size_t n = strlen(l);

			if (n > 20 && !strcmp(l + n - 11, " is not set")) {
				l[n - 11] = '\0';
				name = l + 2;
				value = json_string("n");
			}
		} else if (!strcmp(l, "# swapbench: optional")) {
			optional = 1;
		}
		if (name) {
			json_t *opt = json_object_get(req, KCONFIG_OPTIONAL);

			json_object_set_new(req, name, value);
			/* The directive covers the next option line only; a later
			 * plain line for the same option makes it required again. */
			if (optional) {
				if (!opt) {
					opt = json_object();
					json_object_set_new(req, KCONFIG_OPTIONAL, opt);
				}
				json_object_set_new(opt, name, json_true());
			} else if (opt) {
				json_object_del(opt, name);
			}
			optional = 0;
		}
		free(line);
		p = nl ? nl + 1 : NULL;
	}
}

struct kscan {
	const char *sym;
	struct strv defs; /* one condition string per definition */
};

static int kw(const char *l, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(l, word, n) && (l[n] == '\0' || l[n] == ' ' || l[n] == '\t');
}

static int indent_of(const char *s)
{
	int n = 0;

	for (; *s == ' ' || *s == '\t'; s++)
		n = *s == '\t' ? (n / 8 + 1) * 8 : n + 1;
	return n;
}

/* A definition of the symbol: its conditions joined with " && " ("" when
 * it has none). */
static void add_definition(struct kscan *ks, const struct strv *deps)
{
	struct strbuf cond;

	strbuf_init(&cond);
	for (size_t i = 0; i < deps->n; i++) {
		if (i)
			strbuf_addstr(&cond, " && ");
		strbuf_addstr(&cond, deps->v[i]);
	}
	strv_add(&ks->defs, cond.buf);
	strbuf_release(&cond);
}

static void kscan_file(const char *path, struct kscan *ks)
{
	char *text, *save, *line;
	struct strv ifs, deps, choice;
	int in_block = 0, help_indent = -1, choice_header = 0;

	if (read_file(path, 4 << 20, &text, NULL))
		return;
	/* Join continued lines ("depends on A || \\\n B"). */
	for (char *c = text; (c = strstr(c, "\\\n"));)
		c[0] = c[1] = ' ';
	strv_init(&ifs);
	strv_init(&deps);
	strv_init(&choice);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = line, *hash;
		int ind = indent_of(line);

		while (*l == ' ' || *l == '\t')
			l++;
		if (help_indent >= 0) {
			if (!*l || ind > help_indent)
				continue;
			help_indent = -1;
		}
		if (!strcmp(l, "help") || !strcmp(l, "---help---")) {
			help_indent = ind;
			continue;
		}
		if ((hash = strchr(l, '#')))
			*hash = '\0';
		rstrip(l);
		if (in_block && (kw(l, "config") || kw(l, "menuconfig") || kw(l, "choice") ||
				 kw(l, "endchoice") || kw(l, "comment") || kw(l, "menu") ||
				 kw(l, "endmenu") || kw(l, "if") || kw(l, "endif") ||
				 kw(l, "source"))) {
			add_definition(ks, &deps);
			strv_release(&deps);
			in_block = 0;
		}
		/* A choice's own "depends on" holds for every option in it. */
		if (kw(l, "choice")) {
			strv_release(&choice);
			choice_header = 1;
			continue;
		}
		if (kw(l, "endchoice")) {
			strv_release(&choice);
			choice_header = 0;
			continue;
		}
		if (choice_header && !strncmp(l, "depends on", 10)) {
			char *e = l + 10;

			while (*e == ' ' || *e == '\t')
				e++;
			strv_add(&choice, e);
			continue;
		}
		if (kw(l, "config") || kw(l, "menuconfig"))
			choice_header = 0;
		if (kw(l, "if")) {
			strv_add(&ifs, l + 3);
		} else if (kw(l, "endif")) {
			if (ifs.n) {
				free(ifs.v[--ifs.n]);
				ifs.v[ifs.n] = NULL;
			}
		} else if ((kw(l, "config") || kw(l, "menuconfig"))) {
			char *sym = l + (l[0] == 'c' ? 6 : 10);

			while (*sym == ' ' || *sym == '\t')
				sym++;
			if (!strcmp(sym, ks->sym)) {
				in_block = 1;
				for (size_t i = 0; i < ifs.n; i++)
					strv_add(&deps, ifs.v[i]);
				for (size_t i = 0; i < choice.n; i++)
					strv_add(&deps, choice.v[i]);
			}
		} else if (in_block && !strncmp(l, "depends on", 10)) {
			char *e = l + 10;

			while (*e == ' ' || *e == '\t')
				e++;
			strv_add(&deps, e);
		}
	}
	if (in_block)
		add_definition(ks, &deps);
	strv_release(&ifs);
	strv_release(&deps);
	strv_release(&choice);
	free(text);
}

static void kscan_dir(const char *dir, int depth, int in_arch, struct kscan *ks)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d || depth > 12) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.' || (depth == 0 && (!strcmp(e->d_name, "Documentation") ||
							   !strcmp(e->d_name, "tools") ||
							   !strcmp(e->d_name, "samples"))))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;

			if (!lstat(p, &st) && S_ISDIR(st.st_mode))
				e->d_type = DT_DIR;
		}
		if (e->d_type == DT_DIR) {
			/* Only x86's arch tree: other arches' symbols would mislead. */
			if (!(in_arch && strcmp(e->d_name, "x86")))
				kscan_dir(p, depth + 1, depth == 0 && !strcmp(e->d_name, "arch"),
					  ks);
		} else if (!strncmp(e->d_name, "Kconfig", 7)) {
			kscan_file(p, ks);
		}
		free(p);
	}
	closedir(d);
}

char *kconfig_depends(const char *srctree, const char *symbol)
{
	struct kscan ks = { .sym = symbol };
	char *out = NULL;
	size_t len = 1;

	strv_init(&ks.defs);
	kscan_dir(srctree, 0, 0, &ks);
	if (!ks.defs.n) {
		strv_release(&ks.defs);
		return NULL;
	}
	for (size_t i = 0; i < ks.defs.n; i++)
		len += strlen(ks.defs.v[i]) + 2;
	out = calloc(1, len);
	for (size_t i = 0; i < ks.defs.n; i++) {
		if (!ks.defs.v[i][0])
			continue;
		if (out[0])
			strcat(out, "; ");
		strcat(out, ks.defs.v[i]);
	}
	strv_release(&ks.defs);
	return out;
}

/* Symbols of a dependency expression that the final config lacks (negated
 * ones excluded: "!PREEMPT_RT" is met by their absence). */
static char *unmet_symbols(const char *deps, const json_t *final)
{
	struct strv seen;
	struct strbuf out;

	strv_init(&seen);
	strbuf_init(&out);
	for (const char *p = deps; *p;) {
		if (isalnum((unsigned char)*p) || *p == '_') {
			const char *st = p;
			int neg = 0, dup = 0;
			char *sym, *key;
			const char *v;

			for (const char *b = st - 1; b >= deps && (*b == ' ' || *b == '!'); b--)
				neg |= *b == '!';
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			sym = strndup(st, p - st);
			if (neg || !strcmp(sym, "y") || !strcmp(sym, "n") || !strcmp(sym, "m") ||
			    isdigit((unsigned char)sym[0])) {
				free(sym);
				continue;
			}
			for (size_t i = 0; i < seen.n; i++)
				dup |= !strcmp(seen.v[i], sym);
			key = xasprintf("CONFIG_%s", sym);
			v = json_string_value(json_object_get(final, key));
			if (!dup && (!v || !strcmp(v, "n")))
				strbuf_addsep(&out, ", ", sym);
			strv_add(&seen, sym);
			free(key);
			free(sym);
		} else {
			p++;
		}
	}
	strv_release(&seen);
	return strbuf_detach(&out);
}

int kconfig_verify(const json_t *req, const json_t *final, const char *srctree, char **report,
		   json_t *absent)
{
	const json_t *optional = json_object_get(req, KCONFIG_OPTIONAL);
	const char *key;
	json_t *v;
	int n = 0;
	struct strbuf rep;

	strbuf_init(&rep);
	if (report && *report)
		strbuf_addstr(&rep, *report);
	json_object_foreach((json_t *)req, key, v) {
		const char *want = json_string_value(v);
		const char *got = json_string_value(json_object_get(final, key));
		int ok;
		char *line, *deps = NULL;

		if (key[0] == '#')
			continue; /* KCONFIG_OPTIONAL */
		if (!strcmp(want, "n"))
			ok = !got || !strcmp(got, "n");
		else if (!strcmp(want, "m"))
			ok = got && (!strcmp(got, "m") || !strcmp(got, "y"));
		else
			ok = got && !strcmp(got, want);
		if (ok)
			continue;
		/* An optional option the tree does not define at all is skipped
		 * (and said to be); one it defines must hold. */
		if (json_object_get(optional, key) && srctree) {
			deps = kconfig_depends(srctree, key + 7);
			if (!deps) {
				if (absent)
					json_array_append_new(absent, json_string(key));
				continue;
			}
			free(deps);
			deps = NULL;
		}
		n++;
		if (!report)
			continue;
		if (!strcmp(want, "n"))
			line = xasprintf("requested %s not set, got %s=%s", key, key, got);
		else
			line = xasprintf("requested %s=%s, got %s", key, want,
					 got ? got : "not set");
		if (srctree && strcmp(want, "n"))
			deps = kconfig_depends(srctree, key + 7);
		if (srctree && strcmp(want, "n") && !deps) {
			char *l2 = xasprintf("%s (no such option in this tree)", line);

			free(line);
			line = l2;
		} else if (deps && deps[0]) {
			char *unmet = unmet_symbols(deps, final);
			char *l2 = xasprintf("%s (depends on: %s%s%s)", line, deps,
					     unmet[0] ? "; unmet: " : "", unmet);

			free(line);
			free(unmet);
			line = l2;
		}
		free(deps);
		strbuf_addsep(&rep, "\n", line);
		free(line);
	}
	if (report && rep.len) {
		free(*report);
		*report = strbuf_detach(&rep);
	}
	strbuf_release(&rep);
	return n;
}
