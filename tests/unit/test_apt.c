/* apt.c and kernel-debian.c without apt: Debian version order, parsing of
 * apt-cache show/madison output (tests/data/apt, captured from the real
 * archive and trimmed), kernel selection, expansion and closest matches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/apt.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "harness/kernel-debian.h"

static struct apt_pkg *pk;
static size_t npk;

static char *data(const char *name)
{
	char *p = xasprintf("%s/data/apt/%s", getenv("SB_TEST_DATA"), name), *text;

	assert_int_equal(read_file(p, 1 << 20, &text, NULL), 0);
	free(p);
	return text;
}

static int setup(void **state)
{
	char *show = data("show.txt"), *mad = data("madison.txt");

	assert_int_equal(apt_parse(show, mad, &pk, &npk), 0);
	free(show);
	free(mad);
	return 0;
}

static int teardown(void **state)
{
	apt_pkgs_free(pk, npk);
	return 0;
}

static void test_vercmp(void **state)
{
	assert_int_equal(deb_vercmp("1.0", "1.0"), 0);
	assert_true(deb_vercmp("6.12.117-1", "6.12.117-1~deb12u1") > 0);
	assert_true(deb_vercmp("7.2.11-1~bpo13+1", "7.2.9-1~bpo13+1") > 0);
	assert_true(deb_vercmp("7.2.13-1", "7.2.12-1~bpo13+1") > 0);
	assert_true(deb_vercmp("6.1.192-3", "6.1.192-2") > 0);
	assert_true(deb_vercmp("1:0.1", "9.9") > 0);
	assert_true(deb_vercmp("1.0~rc1", "1.0") < 0);
	assert_true(deb_vercmp("1.0a", "1.0") > 0);
	assert_true(deb_vercmp("1.0+b1", "1.0") > 0);
	assert_true(deb_vercmp("7.10", "7.9") > 0);
	assert_true(deb_vercmp("7.3", "7.3.4") < 0);
}

static void test_upstream_and_names(void **state)
{
	char *u = deb_upstream("1:7.3.4-1~bpo13+1");

	assert_string_equal(u, "7.3.4");
	free(u);
	u = deb_upstream("6.12.117");
	assert_string_equal(u, "6.12.117");
	free(u);
	assert_true(deb_name_valid("linux-image-7.3.4+deb13-amd64"));
	assert_false(deb_name_valid("../evil"));
	assert_false(deb_name_valid("linux-image-7..3"));
	assert_false(deb_name_valid("linux/image"));
	assert_false(deb_name_valid("Linux-image"));
	assert_false(deb_name_valid("a"));
	assert_false(deb_name_valid(""));
	assert_true(deb_version_valid("7.3.4-1~bpo13+1"));
	assert_true(deb_version_valid("1:2.0"));
	assert_false(deb_version_valid("7.3/../x"));
	assert_false(deb_version_valid("-1"));
	assert_false(deb_version_valid("7.3 4"));
}

static const struct apt_pkg *find(const char *name, const char *version)
{
	for (size_t i = 0; i < npk; i++)
		if (!strcmp(pk[i].package, name) && (!version || !strcmp(pk[i].version, version)))
			return &pk[i];
	return NULL;
}

static void test_parse(void **state)
{
	const struct apt_pkg *p = find("linux-image-6.1.0-50-amd64", NULL);

	/* in bookworm and bookworm-security: both, in preference order */
	assert_non_null(p);
	assert_string_equal(p->suite, "bookworm");
	assert_int_equal(p->suites.n, 2);
	assert_string_equal(p->suites.v[1], "bookworm-security");
	p = find("linux-image-7.3.4+deb13-amd64", NULL);
	assert_non_null(p);
	assert_string_equal(p->version, "7.3.4-1~bpo13+1");
	assert_string_equal(p->suite, "trixie-backports");
	assert_string_equal(p->sha256,
			    "7a6ff1ee63d0aafedbab6a507939ab6bce618f8fda1b3f0c42b78678ec661844");
	assert_int_equal(p->size, 1900);
	assert_non_null(strstr(p->depends, "linux-modules-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1)"));
	/* a hostile name never becomes an entry; a suite we do not configure
	 * (experimental) does not either */
	assert_null(find("../../evil", NULL));
	assert_null(find("linux-image-7.9.1+deb14-amd64", NULL));
	/* sorted: name, then newest first */
	for (size_t i = 1; i < npk; i++) {
		int c = strcmp(pk[i - 1].package, pk[i].package);

		assert_true(c < 0 || (c == 0 && deb_vercmp(pk[i - 1].version, pk[i].version) > 0));
	}
}

static const char *pick(const char *source)
{
	struct deb_ksel s;
	size_t idx;
	int rc;

	assert_int_equal(deb_ksel_parse(source, &s), 0);
	rc = deb_kernel_pick(pk, npk, &s, &idx);
	deb_ksel_release(&s);
	return rc ? NULL : pk[idx].package;
}

static void test_pick(void **state)
{
	/* newest 7.3, plain flavour (not rt) */
	assert_string_equal(pick("debian:7.3"), "linux-image-7.3.4+deb13-amd64");
	/* the sid build is the newest 7.2 */
	assert_string_equal(pick("debian:7.2"), "linux-image-7.2.13+deb14-amd64");
	assert_string_equal(pick("debian:7.2@trixie-backports"), "linux-image-7.2.12+deb13-amd64");
	assert_string_equal(pick("debian:7.2.9"), "linux-image-7.2.9+deb13-amd64");
	/* as before: 6.12 is the bookworm build of the newest 6.12 (same
	 * upstream as trixie's: the earlier suite wins), 6.1 the highest ABI */
	assert_string_equal(pick("debian:6.12"), "linux-image-6.12.117+deb12-amd64");
	assert_string_equal(pick("debian:6.12@trixie"), "linux-image-6.12.117+deb13-amd64");
	assert_string_equal(pick("debian:6.1"), "linux-image-6.1.0-57-amd64");
	/* 6.1 must not match 6.12 or 6.18 */
	assert_string_equal(pick("debian:6.18"), "linux-image-6.18.15+deb13-amd64");
	/* exact packages and versions */
	assert_string_equal(pick("linux-image-6.1.0-56-amd64"), "linux-image-6.1.0-56-amd64");
	assert_string_equal(pick("linux-image-7.3.4+deb13-amd64=7.3.4-1~bpo13+1"),
			    "linux-image-7.3.4+deb13-amd64");
	assert_null(pick("linux-image-7.3.4+deb13-amd64=7.3.4-2"));
	assert_non_null(strstr(sb_lasterr(), "versions that exist: 7.3.4-1~bpo13+1"));
	assert_null(pick("debian:7.3@bookworm"));
}

/* Debian's 7.1 uploads have linux-image and linux-binary but no
 * linux-modules: never picked, and the error says what is missing. A
 * missing linux-base alone (6.18.15: the image holds its config) is fine. */
static void test_incomplete(void **state)
{
	const struct apt_pkg *p = find("linux-image-7.1.13+deb13-amd64", NULL);
	char *m;

	assert_non_null(p);
	m = deb_kernel_missing(pk, npk, p);
	assert_non_null(m);
	assert_non_null(strstr(m, "linux-modules-7.1.13+deb13-amd64"));
	assert_null(strstr(m, "linux-binary"));
	free(m);
	assert_null(deb_kernel_missing(pk, npk, find("linux-image-7.3.4+deb13-amd64", NULL)));
	assert_null(deb_kernel_missing(pk, npk, find("linux-image-6.18.15+deb13-amd64", NULL)));
	assert_null(pick("debian:7.1"));
	assert_non_null(strstr(sb_lasterr(), "linux-image-7.1.13+deb13-amd64 7.1.13-1~bpo13+1"));
	assert_non_null(strstr(sb_lasterr(), "linux-modules-7.1.13+deb13-amd64"));
	/* and the closest complete ones are offered */
	assert_non_null(strstr(sb_lasterr(), "closest existing: 6.12, 6.18, 7.2, 7.3"));
	assert_null(pick("linux-image-7.1.8+deb13-amd64"));
	assert_non_null(strstr(sb_lasterr(), "incomplete upload"));
	assert_string_equal(pick("debian:6.18"), "linux-image-6.18.15+deb13-amd64");
}

static void test_closest(void **state)
{
	assert_null(pick("debian:7.4"));
	assert_non_null(strstr(sb_lasterr(), "closest existing: 7.2, 7.3"));
	assert_null(pick("debian:7.2.10"));
	assert_non_null(strstr(sb_lasterr(), "closest existing: 7.2.6, 7.2.9, 7.2.11, 7.2.12"));
	assert_null(pick("debian:5.10"));
	assert_non_null(strstr(sb_lasterr(), "closest existing: 6.1, 6.12"));
	assert_null(pick("debian:7.2.14"));
	assert_non_null(strstr(sb_lasterr(), "closest existing: 7.2.12, 7.2.13"));
}

static void test_all(void **state)
{
	struct deb_ksel s;
	size_t *idx, n;
	static const char *const want[] = { "7.2.6-1~bpo13+1", "7.2.9-1~bpo13+1",
					    "7.2.11-1~bpo13+1", "7.2.12-1~bpo13+1", "7.2.13-1" };

	assert_int_equal(deb_ksel_parse("debian:7.2.*", &s), 0);
	assert_true(s.all);
	assert_int_equal(deb_kernel_all(pk, npk, &s, &idx, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(pk[idx[i]].version, want[i]);
	free(idx);
	deb_ksel_release(&s);
	/* one package per upstream version: 6.12.117 is the bookworm build */
	assert_int_equal(deb_ksel_parse("debian:6.12.*", &s), 0);
	assert_int_equal(deb_kernel_all(pk, npk, &s, &idx, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(pk[idx[0]].package, "linux-image-6.12.107+deb13-amd64");
	assert_string_equal(pk[idx[1]].package, "linux-image-6.12.115+deb12-amd64");
	assert_string_equal(pk[idx[2]].package, "linux-image-6.12.117+deb12-amd64");
	free(idx);
	deb_ksel_release(&s);
	assert_int_equal(deb_ksel_parse("debian:7.5.*", &s), 0);
	assert_int_equal(deb_kernel_all(pk, npk, &s, &idx, &n), -ENOENT);
	assert_non_null(strstr(sb_lasterr(), "7.5.*"));
	deb_ksel_release(&s);
}

static void test_parse_source(void **state)
{
	struct deb_ksel s;

	assert_int_equal(deb_ksel_parse("debian:7.3@trixie-backports", &s), 0);
	assert_string_equal(s.series, "7.3");
	assert_string_equal(s.suite, "trixie-backports");
	deb_ksel_release(&s);
	assert_int_equal(deb_ksel_parse("linux-image-7.3.4+deb13-amd64=7.3.4-1~bpo13+1@sid", &s),
			 0);
	assert_string_equal(s.package, "linux-image-7.3.4+deb13-amd64");
	assert_string_equal(s.version, "7.3.4-1~bpo13+1");
	assert_string_equal(s.suite, "sid");
	deb_ksel_release(&s);
	assert_int_equal(deb_ksel_parse("debian:7.*", &s), 0);
	assert_true(s.all);
	deb_ksel_release(&s);
	assert_int_equal(deb_ksel_parse("debian:7.3@experimental", &s), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "unknown suite 'experimental'"));
	assert_int_equal(deb_ksel_parse("debian:7", &s), -EINVAL);
	assert_int_equal(deb_ksel_parse("debian:7.3; rm", &s), -EINVAL);
	assert_int_equal(deb_ksel_parse("debian:../7.3", &s), -EINVAL);
	assert_int_equal(deb_ksel_parse("debian:7.x", &s), -EINVAL);
	assert_int_equal(deb_ksel_parse("linux-image-../../x", &s), -EINVAL);
	assert_int_equal(deb_ksel_parse("linux-image-7.3=../1", &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vercmp),
		cmocka_unit_test(test_upstream_and_names),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_all),
		cmocka_unit_test(test_parse_source),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
