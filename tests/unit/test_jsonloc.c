#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/jsonloc.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Line numbers are given in the comments on the right. */
static const char doc[] =
	"{\n"                                                        /*  1 */
	"  \"name\": \"baseline\",\n"                               /*  2 */
	"  \"vm\": {\n"                                              /*  3 */
	"    \"memory\": \"2G\",\n"                                  /*  4 */
	"    \"cpus\": 4\n"                                          /*  5 */
	"  },\n"                                                     /*  6 */
	"  \"kernels\": [\n"                                         /*  7 */
	"    {\n"                                                    /*  8 */
	"      \"tag\": \"v6.8\",\n"                                 /*  9 */
	"      \"patches\": [\n"                                     /* 10 */
	"        \"a.patch\",\n"                                     /* 11 */
	"        \"b.patch\"\n"                                      /* 12 */
	"      ]\n"                                                  /* 13 */
	"    },\n"                                                   /* 14 */
	"    { \"tag\": \"v6.9\", \"patches\": [ \"c.patch\" ] }\n"  /* 15 */
	"  ],\n"                                                     /* 16 */
	"  \"tricky \\\"key\\\"\": \"value with { and [ and \\\" inside }\",\n" /* 17 */
	"  \"env\": { \"LD PRELOAD\": \"x\", \"\": 1, \"\\u00e9t\\u00e9\": true,\n" /* 18 */
	"    \"empty\": [], \"nested\": [[1, [2, 3]], {\"k\": null}] },\n" /* 19 */
	"  \"note\": \"\\\"vm\\\": {\\\"cpus\\\": 1}\\\\\",\n"       /* 20 */
	"  \"num\": -1.5e+10,\n"                                     /* 21 */
	"  \"last\":\n"                                              /* 22 */
	"    false\n"                                                /* 23 */
	"}\n";                                                       /* 24 */

struct loc {
	const char *path;
	int line;
};

static const struct loc doc_locs[] = {
	{ "", 1 },
	{ "name", 2 },
	{ "vm", 3 },
	{ "vm.memory", 4 },
	{ "vm.cpus", 5 },               /* not the "cpus" inside "note" */
	{ "kernels", 7 },
	{ "kernels[0]", 8 },
	{ "kernels[0].tag", 9 },
	{ "kernels[0].patches", 10 },
	{ "kernels[0].patches[0]", 11 },
	{ "kernels[0].patches[1]", 12 },
	{ "kernels[1]", 15 },
	{ "kernels[1].tag", 15 },
	{ "kernels[1].patches[0]", 15 },
	{ "[\"tricky \\\"key\\\"\"]", 17 },
	{ "env", 18 },
	{ "env[\"LD PRELOAD\"]", 18 },
	{ "env[\"\"]", 18 },
	{ "env[\"\xc3\xa9t\xc3\xa9\"]", 18 },   /* \u escapes decode to UTF-8 */
	{ "[\"env\"].empty", 19 },
	{ "env.nested", 19 },
	{ "env.nested[0][1][1]", 19 },
	{ "env.nested[1].k", 19 },
	{ "note", 20 },
	{ "num", 21 },
	{ "last", 22 },                 /* a member is located by its key */
};

static const char *const doc_missing[] = {
	"vm.disk",
	"kernels[2]",
	"kernels[0].patches[2]",
	"kernels.tag",          /* array indexed by key */
	"vm[0]",                /* object indexed by position */
	"name.x",               /* scalar has no members */
	"env.nested[0][1][2]",
	"Name",                 /* keys are case-sensitive */
	"tricky",
	"env[\"LD\"]",
	"env[\"LD PRELOAD \"]",
	"env.empty[0]",
};

static const char *const bad_paths[] = {
	".vm", "vm.", "vm..memory", "vm memory", "kernels[", "kernels[]",
	"kernels[x]", "kernels[0", "kernels[-1]", "kernels[0]tag",
	"[\"unterminated", "[\"x\"", "[\"x\\", "env.\xc3\xa9t\xc3\xa9",
	"kernels[99999999999999999999999999]",
};

static void check_locs(const char *text)
{
	for (size_t i = 0; i < ARRAY_LEN(doc_locs); i++) {
		int got = jsonloc_line(text, doc_locs[i].path);

		if (got != doc_locs[i].line)
			fail_msg("path '%s': line %d, want %d", doc_locs[i].path, got,
				 doc_locs[i].line);
	}
}

static void test_document(void **state)
{
	check_locs(doc);
}

static void test_document_crlf(void **state)
{
	char *crlf = malloc(2 * sizeof(doc));
	char *w = crlf;

	assert_non_null(crlf);
	for (const char *p = doc; *p; p++) {
		if (*p == '\n')
			*w++ = '\r';
		*w++ = *p;
	}
	*w = '\0';
	check_locs(crlf);
	free(crlf);
}

static void test_missing(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(doc_missing); i++)
		if (jsonloc_line(doc, doc_missing[i]) != 0)
			fail_msg("path '%s' should not be found", doc_missing[i]);
}

static void test_bad_paths(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(bad_paths); i++)
		if (jsonloc_line(doc, bad_paths[i]) != 0)
			fail_msg("malformed path '%s' should give 0", bad_paths[i]);
	assert_int_equal(jsonloc_line(doc, NULL), 0);
	assert_int_equal(jsonloc_line(NULL, ""), 0);
}

static void test_root_forms(void **state)
{
	assert_int_equal(jsonloc_line("\n\n  42 \n", ""), 3);
	assert_int_equal(jsonloc_line("\"s\"", ""), 1);
	assert_int_equal(jsonloc_line("null", ""), 1);
	assert_int_equal(jsonloc_line("[\n1,\n\n{\"a\":\n[true]}]", "[1].a[0]"), 5);
	assert_int_equal(jsonloc_line("[\n1,\n\n{\"a\":\n[true]}]", "[1].a"), 4);
	assert_int_equal(jsonloc_line("[\n1,\n\n{\"a\":\n[true]}]", "[0]"), 2);
	assert_int_equal(jsonloc_line("[\n1,\n\n{\"a\":\n[true]}]", "[2]"), 0);
	/* Root is not an object or array: nothing below it. */
	assert_int_equal(jsonloc_line("42", "a"), 0);
	assert_int_equal(jsonloc_line("42", "[0]"), 0);
}

static void test_duplicate_keys(void **state)
{
	/* jansson keeps the last duplicate, so paths resolve into it. */
	static const char dup[] =
		"{\"a\": {\"b\": 1},\n"
		" \"a\": {\"c\": 2},\n"
		" \"x\": 1, \"x\": 2}\n";

	assert_int_equal(jsonloc_line(dup, "a"), 2);
	assert_int_equal(jsonloc_line(dup, "a.c"), 2);
	assert_int_equal(jsonloc_line(dup, "a.b"), 0);
	assert_int_equal(jsonloc_line(dup, "x"), 3);
}

static void test_escapes(void **state)
{
	/* U+1F600 as a surrogate pair, key compared as UTF-8. */
	static const char pair[] = "{\"x\": 0,\n\"\\ud83d\\ude00\": 1}";
	/* Every simple escape, and strings that look like structure. */
	static const char esc[] =
		"{\"s\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\",\n"
		" \"}\": \"]\", \"q\\\"\": \"{\\\"\",\n"
		" \"a/b\": 1, \"A\": 2}";

	assert_int_equal(jsonloc_line(pair, "[\"\xf0\x9f\x98\x80\"]"), 2);
	assert_int_equal(jsonloc_line(esc, "s"), 1);
	assert_int_equal(jsonloc_line(esc, "[\"}\"]"), 2);
	assert_int_equal(jsonloc_line(esc, "[\"q\\\"\"]"), 2);
	/* \/ decodes to / and \u0041 to A. */
	assert_int_equal(jsonloc_line("{\n\"a\\/b\": 1}", "[\"a/b\"]"), 2);
	assert_int_equal(jsonloc_line("{\n\"\\u0041\": 1}", "A"), 2);
	assert_int_equal(jsonloc_line("{\n\"\\u00E9\": 1}", "[\"\xc3\xa9\"]"), 2);
	/* A lone surrogate is valid grammar but matches no UTF-8 key. */
	assert_int_equal(jsonloc_line("{\"\\ud83d\": 1}", ""), 1);
	assert_int_equal(jsonloc_line("{\"\\ud83d\": 1}", "[\"\xf0\x9f\x98\x80\"]"), 0);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "   \n ", "{", "}", "[", "{\"a\":", "{\"a\" 1}", "{\"a\":1,}",
		"[1,]", "[,1]", "[1 2]", "{\"a\":1}}", "{} x", "{'a':1}", "{a:1}",
		"\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\u12G4\"",
		"\"\\", "\"raw\nnewline\"", "\"tab\there\"", "tru", "nul", "falsey",
		"01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "[1,\n2", "{\"a\":[}",
		"{\"a\":1 \"b\":2}", "[\"a\":1]", "NaN", "\xef\xbb\xbf{}",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (jsonloc_line(bad[i], "") != 0)
			fail_msg("malformed text #%zu '%s' should give 0", i, bad[i]);
	/* The whole text is checked, even past the value looked for. */
	assert_int_equal(jsonloc_line("{\"a\": 1,\n \"b\": }", "a"), 0);
	assert_int_equal(jsonloc_line("[1, 2] [3]", "[0]"), 0);
}

static void test_numbers(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "1", "-12", "3.25", "1e5", "1E+5", "-2.5e-3", "0.0",
	};

	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		if (jsonloc_line(ok[i], "") != 1)
			fail_msg("valid number '%s' rejected", ok[i]);
}

/* Every proper prefix of a document is malformed. Each is given its own
 * exactly-sized allocation so that AddressSanitizer catches any read past
 * the NUL. */
static void test_truncated(void **state)
{
	size_t end = strrchr(doc, '}') - doc;

	for (size_t n = 0; n <= end; n++) {
		char *t = malloc(n + 1);

		assert_non_null(t);
		memcpy(t, doc, n);
		t[n] = '\0';
		for (size_t i = 0; i < ARRAY_LEN(doc_locs); i++)
			if (jsonloc_line(t, doc_locs[i].path) != 0)
				fail_msg("prefix of %zu bytes, path '%s': not rejected", n,
					 doc_locs[i].path);
		free(t);
	}
	/* And the first complete prefix is fine. */
	{
		char *t = strndup(doc, end + 1);

		assert_non_null(t);
		check_locs(t);
		free(t);
	}
}

static void test_deep_nesting(void **state)
{
	size_t depth = 5000;
	char *t = malloc(2 * depth + 1);

	assert_non_null(t);
	/* Far beyond the limit: rejected, without exhausting the stack. */
	memset(t, '[', depth);
	memset(t + depth, ']', depth);
	t[2 * depth] = '\0';
	assert_int_equal(jsonloc_line(t, ""), 0);

	/* Within the limit: found. */
	depth = 100;
	memset(t, '[', depth);
	memset(t + depth, ']', depth);
	t[2 * depth] = '\0';
	assert_int_equal(jsonloc_line(t, ""), 1);
	assert_int_equal(jsonloc_line(t, "[0][0][0]"), 1);
	free(t);
}

static void test_path_append_key(void **state)
{
	static const struct {
		const char *base, *key, *want;
	} cases[] = {
		{ "", "vm", "vm" },
		{ NULL, "vm", "vm" },
		{ "vm", "memory", "vm.memory" },
		{ "kernels[1]", "patches", "kernels[1].patches" },
		{ "a", "x_y-Z9", "a.x_y-Z9" },
		{ "env", "LD PRELOAD", "env[\"LD PRELOAD\"]" },
		{ "", "we ird", "[\"we ird\"]" },
		{ "x", "", "x[\"\"]" },
		{ "x", "a.b", "x[\"a.b\"]" },
		{ "x", "q\"\\", "x[\"q\\\"\\\\\"]" },
		{ "x", "\xc3\xa9", "x[\"\xc3\xa9\"]" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *p = jsonloc_path_append_key(cases[i].base, cases[i].key);

		assert_non_null(p);
		assert_string_equal(p, cases[i].want);
		free(p);
	}
}

static void test_path_append_index(void **state)
{
	char *p;

	p = jsonloc_path_append_index("kernels", 1);
	assert_string_equal(p, "kernels[1]");
	free(p);
	p = jsonloc_path_append_index("", 0);
	assert_string_equal(p, "[0]");
	free(p);
	p = jsonloc_path_append_index(NULL, 12345);
	assert_string_equal(p, "[12345]");
	free(p);
	p = jsonloc_path_append_index("a[0]", 7);
	assert_string_equal(p, "a[0][7]");
	free(p);
}

/* Paths built by the helpers resolve, whatever the keys contain. */
static void test_path_round_trip(void **state)
{
	static const char text[] =
		"{\"outer key\": [\n"
		"  {\"q\\\"\\\\\": {\"\": \n"
		"     [0, {\"a.b\": 1}]}}]}";
	char *p1 = jsonloc_path_append_key("", "outer key");
	char *p2 = jsonloc_path_append_index(p1, 0);
	char *p3 = jsonloc_path_append_key(p2, "q\"\\");
	char *p4 = jsonloc_path_append_key(p3, "");
	char *p5 = jsonloc_path_append_index(p4, 1);
	char *p6 = jsonloc_path_append_key(p5, "a.b");

	assert_int_equal(jsonloc_line(text, p1), 1);
	assert_int_equal(jsonloc_line(text, p2), 2);
	assert_int_equal(jsonloc_line(text, p3), 2);
	assert_int_equal(jsonloc_line(text, p4), 2);
	assert_int_equal(jsonloc_line(text, p5), 3);
	assert_int_equal(jsonloc_line(text, p6), 3);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
	free(p5);
	free(p6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_document_crlf),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_root_forms),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_path_append_key),
		cmocka_unit_test(test_path_append_index),
		cmocka_unit_test(test_path_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
