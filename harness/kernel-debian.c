#define _GNU_SOURCE
#include "harness/kernel-debian.h"
#include "harness/kernel-debian-int.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/paths.h"
#include "common/log.h"
#include "common/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* linux-image-6.1.0-57-amd64, linux-image-6.12.117+deb12-amd64,
 * linux-image-7.3.4+deb13-amd64; not -cloud-, -rt-, -dbg, -unsigned, and
 * not the linux-image-6.12-amd64 meta packages. */
const char deb_kernel_name_re[] =
	"^linux-image-[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9]+)?(\\+[a-z0-9]+)?-amd64$";
static const char any_flavour_re[] =
	"^linux-image-[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9]+)?(\\+[a-z0-9]+)?-(cloud-|rt-)?amd64$";
static const char source_re[] = "^linux-source-[0-9]+\\.[0-9]+$";
/* The images a selector may mean, with the linux-binary/modules/base
 * packages of every version (to tell complete uploads from partial ones). */
static const char parts_re[] =
	"^linux-(image|binary|modules|base)-[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9]+)?(\\+[a-z0-9]+)?-(cloud-|rt-)?amd64$";


void deb_ksel_release(struct deb_ksel *s)
{
	if (!s)
		return;
	free(s->series);
	free(s->package);
	free(s->version);
	free(s->suite);
	memset(s, 0, sizeof(*s));
}

static int series_valid(const char *s)
{
	int dots = 0, digits = 0;

	for (const char *c = s; *c; c++) {
		if (*c >= '0' && *c <= '9') {
			digits++;
		} else if (*c == '.' && digits && c[1]) {
			dots++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return digits && dots >= 1 && dots <= 3;
}

int deb_ksel_parse(const char *source, struct deb_ksel *s)
{
	char *copy, *at;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (!strncmp(source, "debian:", 7))
		copy = xstrdup(source + 7);
	else if (!strncmp(source, "linux-image-", 12))
		copy = xstrdup(source);
	else
		return sb_err(EINVAL, "'%s' is not a Debian kernel source", source);
	if ((at = strchr(copy, '@'))) {
		*at = '\0';
		s->suite = xstrdup(at + 1);
		if (apt_suite_index(s->suite) < 0)
			rc = sb_err(EINVAL, "'%s': unknown suite '%s' (known: bookworm, "
				    "bookworm-security, trixie, trixie-backports, sid)", source,
				    s->suite);
	}
	if (!rc && !strncmp(source, "debian:", 7)) {
		size_t n = strlen(copy);

		if (n > 2 && !strcmp(copy + n - 2, ".*")) {
			s->all = 1;
			copy[n - 2] = '\0';
			/* "7.*" is a whole major: allow one component. */
			if (strchr(copy, '.') ? !series_valid(copy) : !*copy || strspn(copy, "0123456789") != strlen(copy))
				rc = -1;
		} else if (!series_valid(copy)) {
			rc = -1;
		}
		if (rc == -1)
			rc = sb_err(EINVAL, "'%s': expected debian:X.Y, debian:X.Y.Z or debian:X.Y.* "
				    "(optionally @SUITE)", source);
		else
			s->series = xstrdup(copy);
	} else if (!rc) {
		char *eq = strchr(copy, '=');

		if (eq) {
			*eq = '\0';
			s->version = xstrdup(eq + 1);
			if (!deb_version_valid(s->version))
				rc = sb_err(EINVAL, "'%s': '%s' is not a Debian version", source,
					    s->version);
		}
		s->package = xstrdup(copy);
		if (!rc && !deb_name_valid(s->package))
			rc = sb_err(EINVAL, "'%s': '%s' is not a Debian package name", source,
				    s->package);
	}
	free(copy);
	if (rc)
		deb_ksel_release(s);
	return rc;
}

/* upstream == series, or series followed by '.' */
static int in_series(const char *upstream, const char *series)
{
	size_t n = strlen(series);

	return !strncmp(upstream, series, n) && (!upstream[n] || upstream[n] == '.');
}

static int has_suite(const struct apt_pkg *p, const char *suite)
{
	for (size_t i = 0; i < p->suites.n; i++)
		if (!strcmp(p->suites.v[i], suite))
			return 1;
	return 0;
}

static int name_is_flavour(const char *name, const char *re_text)
{
	regex_t re;
	int ok;

	if (regcomp(&re, re_text, REG_EXTENDED | REG_NOSUB))
		return 0;
	ok = !regexec(&re, name, 0, NULL, 0);
	regfree(&re);
	return ok;
}

/* The "(= version)" linux-binary/linux-modules packages img depends on that
 * no configured suite has, comma-separated, or NULL when it is complete.
 * Debian uploads some series with only linux-image and linux-binary (no
 * modules): such a kernel cannot boot here. A missing linux-base is not
 * fatal: up to 6.18 the image has its config, later linux-headers does. */
int deb_needed_part(const char *dep)
{
	return !strncmp(dep, "linux-binary-", 13) || !strncmp(dep, "linux-modules-", 14);
}

char *deb_kernel_missing(const struct apt_pkg *v, size_t n, const struct apt_pkg *img)
{
	struct strv deps;
	char *miss = NULL;

	strv_init(&deps);
	deb_exact_deps(img, &deps);
	for (size_t i = 0; i < deps.n; i++) {
		int found = 0;

		for (size_t j = 0; j < n && !found; j++)
			found = !strcmp(v[j].package, deps.v[i]) && !strcmp(v[j].version, img->version);
		if (!found && deb_needed_part(deps.v[i])) {
			char *t = xasprintf("%s%s%s", miss ? miss : "", miss ? ", " : "", deps.v[i]);

			free(miss);
			miss = t;
		}
	}
	strv_release(&deps);
	return miss;
}

static int complete(const struct apt_pkg *v, size_t n, const struct apt_pkg *p)
{
	char *m = deb_kernel_missing(v, n, p);

	free(m);
	return !m;
}

static int matches(const struct apt_pkg *p, const struct deb_ksel *s)
{
	char *up;
	int ok;

	if (s->suite && !has_suite(p, s->suite))
		return 0;
	if (s->package)
		return !strcmp(p->package, s->package) && (!s->version ||
							   !strcmp(p->version, s->version));
	if (!name_is_flavour(p->package, deb_kernel_name_re))
		return 0;
	up = deb_upstream(p->version);
	ok = in_series(up, s->series);
	free(up);
	return ok;
}

/* Higher upstream first; then the preferred suite; then the higher revision. */
static int better(const struct apt_pkg *a, const struct apt_pkg *b)
{
	char *ua = deb_upstream(a->version), *ub = deb_upstream(b->version);
	int c = deb_vercmp(ua, ub);

	free(ua);
	free(ub);
	if (c)
		return c > 0;
	c = apt_suite_index(a->suite) - apt_suite_index(b->suite);
	if (c)
		return c < 0;
	return deb_vercmp(a->version, b->version) > 0;
}

char *deb_kernel_closest(const struct apt_pkg *v, size_t n, const char *want,
			 const char *suite)
{
	int comps = 1;
	struct strv have;
	char *out;
	size_t pos = 0, lo, hi;

	for (const char *c = want; *c; c++)
		comps += *c == '.';
	strv_init(&have);
	for (size_t i = 0; i < n; i++) {
		char *up, *cut;
		int d = 0, seen = 0;

		if ((suite && !has_suite(&v[i], suite)) ||
		    !name_is_flavour(v[i].package, deb_kernel_name_re) || !complete(v, n, &v[i]))
			continue;
		up = deb_upstream(v[i].version);
		for (cut = up; *cut; cut++)
			if (*cut == '.' && ++d == comps)
				break;
		*cut = '\0';
		for (size_t j = 0; j < have.n; j++)
			seen |= !strcmp(have.v[j], up);
		if (!seen)
			strv_add(&have, up);
		free(up);
	}
	/* insertion sort by version (short lists) */
	for (size_t i = 1; i < have.n; i++)
		for (size_t j = i; j > 0 && deb_vercmp(have.v[j - 1], have.v[j]) > 0; j--) {
			char *t = have.v[j];

			have.v[j] = have.v[j - 1];
			have.v[j - 1] = t;
		}
	while (pos < have.n && deb_vercmp(have.v[pos], want) < 0)
		pos++;
	lo = pos >= 2 ? pos - 2 : 0;
	hi = pos + 2 < have.n ? pos + 2 : have.n;
	out = xstrdup("");
	for (size_t i = lo; i < hi; i++) {
		char *t = xasprintf("%s%s%s", out, *out ? ", " : "", have.v[i]);

		free(out);
		out = t;
	}
	if (!*out) {
		free(out);
		out = xstrdup("none");
	}
	strv_release(&have);
	return out;
}

static int not_found(const struct apt_pkg *v, size_t n, const struct deb_ksel *s)
{
	long inc = -1;
	char *why = NULL;
	int rc;

	/* The newest package that matched but cannot boot: say what it lacks. */
	for (size_t i = 0; i < n; i++)
		if (matches(&v[i], s) && !complete(v, n, &v[i]) &&
		    (inc < 0 || better(&v[i], &v[inc])))
			inc = (long)i;
	if (inc >= 0) {
		char *m = deb_kernel_missing(v, n, &v[inc]);

		why = xasprintf("; %s %s (%s) depends on %s, which no configured suite has "
				"(an incomplete upload: it cannot boot)",
				v[inc].package, v[inc].version, v[inc].suite, m);
		free(m);
	}
	if (s->package) {
		char have[600] = "";

		for (size_t i = 0; i < n && strlen(have) < 500; i++)
			if (!strcmp(v[i].package, s->package))
				snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s (%s)",
					 *have ? ", " : "", v[i].version, v[i].suite);
		rc = sb_err(ENOENT, "no usable Debian package %s%s%s%s%s in bookworm, "
			    "bookworm-security, trixie, trixie-backports or sid%s%s%s",
			    s->package, s->version ? "=" : "", s->version ? s->version : "",
			    s->suite ? "@" : "", s->suite ? s->suite : "",
			    *have ? "; versions that exist: " : "", have, why ? why : "");
	} else {
		char *c = deb_kernel_closest(v, n, s->series, s->suite);

		rc = sb_err(ENOENT, "no Debian kernel %s%s in %s (linux-image-%s*-amd64)%s; "
			    "closest existing: %s (see 'swapbench kernel search')", s->series,
			    s->all ? ".*" : "", s->suite ? s->suite : "any configured suite",
			    s->series, why ? why : "", c);
		free(c);
	}
	free(why);
	return rc;
}

int deb_kernel_pick(const struct apt_pkg *v, size_t n, const struct deb_ksel *s, size_t *idx)
{
	long best = -1;

	for (size_t i = 0; i < n; i++)
		if (matches(&v[i], s) && complete(v, n, &v[i]) &&
		    (best < 0 || better(&v[i], &v[best])))
			best = (long)i;
	if (best < 0)
		return not_found(v, n, s);
	*idx = (size_t)best;
	return 0;
}

int deb_kernel_all(const struct apt_pkg *v, size_t n, const struct deb_ksel *s, size_t **idx,
		   size_t *nidx)
{
	size_t *out = calloc(n ? n : 1, sizeof(*out)), k = 0;

	if (!out)
		abort();
	for (size_t i = 0; i < n; i++) {
		char *up;
		int replaced = 0;

		if (!matches(&v[i], s) || !complete(v, n, &v[i]))
			continue;
		up = deb_upstream(v[i].version);
		for (size_t j = 0; j < k; j++) {
			char *uj = deb_upstream(v[out[j]].version);

			if (!strcmp(uj, up)) {
				if (better(&v[i], &v[out[j]]))
					out[j] = i;
				replaced = 1;
			}
			free(uj);
		}
		free(up);
		if (!replaced)
			out[k++] = i;
	}
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && better(&v[out[j - 1]], &v[out[j]]); j--) {
			size_t t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	if (!k) {
		free(out);
		return not_found(v, n, s);
	}
	*idx = out;
	*nidx = k;
	return 0;
}

/* The "(= version)" linux-* dependencies: binary, modules, base. */
void deb_exact_deps(const struct apt_pkg *img, struct strv *out)
{
	char *d = xstrdup(img->depends ? img->depends : ""), *save, *tok;

	for (tok = strtok_r(d, ",|", &save); tok; tok = strtok_r(NULL, ",|", &save)) {
		char name[256], op[8], ver[256];

		if (sscanf(tok, " %255[^ (] (%7[^ ] %255[^)])", name, op, ver) != 3)
			continue;
		if (strcmp(op, "=") || strcmp(ver, img->version) || strncmp(name, "linux-", 6) ||
		    !deb_name_valid(name))
			continue;
		strv_add(out, name);
	}
	free(d);
}


static int list_kernels(const struct deb_ksel *s, struct apt_pkg **v, size_t *n)
{
	(void)s;
	return apt_list("linux-", parts_re, v, n);
}

int debian_kernel_get(const char *source, struct kernel *k)
{
	struct deb_ksel s;
	struct apt_pkg *v = NULL;
	size_t n = 0, idx;
	int rc = deb_ksel_parse(source, &s);

	if (rc)
		return rc;
	if (s.all) {
		deb_ksel_release(&s);
		return sb_err(EINVAL, "'%s' means several kernels: list it in a spec's \"kernels\" "
			      "(it expands there), or name one version", source);
	}
	rc = list_kernels(&s, &v, &n);
	if (!rc)
		rc = deb_kernel_pick(v, n, &s, &idx);
	if (!rc)
		rc = deb_fetch(&v[idx], k);
	apt_pkgs_free(v, n);
	deb_ksel_release(&s);
	return rc;
}

int debian_kernel_expand(const char *source, struct strv *sources, struct strv *names)
{
	struct deb_ksel s;
	struct apt_pkg *v = NULL;
	size_t n = 0, *idx = NULL, nidx = 0;
	int rc = deb_ksel_parse(source, &s);

	if (rc)
		return rc;
	rc = list_kernels(&s, &v, &n);
	if (!rc)
		rc = deb_kernel_all(v, n, &s, &idx, &nidx);
	for (size_t i = 0; !rc && i < nidx; i++) {
		char *up = deb_upstream(v[idx[i]].version);

		strv_addf(sources, "%s=%s", v[idx[i]].package, v[idx[i]].version);
		strv_add(names, up);
		free(up);
	}
	free(idx);
	apt_pkgs_free(v, n);
	deb_ksel_release(&s);
	return rc;
}

int debian_kernel_search(const char *prefix, const char *suite, int all_flavours,
			 struct apt_pkg **out, size_t *n, size_t *nincomplete)
{
	struct apt_pkg *img = NULL, *src = NULL, *res;
	size_t ni = 0, ns = 0, k = 0;
	size_t plen = strlen(prefix);
	int rc;

	if (suite && apt_suite_index(suite) < 0)
		return sb_err(EINVAL, "unknown suite '%s' (known: bookworm, bookworm-security, "
			      "trixie, trixie-backports, sid)", suite);
	*nincomplete = 0;
	rc = apt_list("linux-", parts_re, &img, &ni);
	if (!rc)
		rc = apt_list("linux-source-", source_re, &src, &ns);
	if (rc) {
		apt_pkgs_free(img, ni);
		return rc;
	}
	res = calloc(ni + ns + 1, sizeof(*res));
	if (!res)
		abort();
	for (size_t i = 0; i < ni + ns; i++) {
		struct apt_pkg *p = i < ni ? &img[i] : &src[i - ni];
		char *up = deb_upstream(p->version);
		int ok = !plen || (prefix[plen - 1] == '.' ? !strncmp(up, prefix, plen)
							    : in_series(up, prefix));

		free(up);
		if (i < ni && !name_is_flavour(p->package, all_flavours ? any_flavour_re
								       : deb_kernel_name_re))
			continue;
		if (ok && i < ni && !complete(img, ni, p)) {
			++*nincomplete;
			if (!all_flavours)
				continue;
		}
		if (ok && (!suite || has_suite(p, suite)))
			apt_pkg_copy(&res[k++], p);
	}
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && better(&res[j - 1], &res[j]); j--) {
			struct apt_pkg t = res[j];

			res[j] = res[j - 1];
			res[j - 1] = t;
		}
	apt_pkgs_free(img, ni);
	apt_pkgs_free(src, ns);
	*out = res;
	*n = k;
	return 0;
}
