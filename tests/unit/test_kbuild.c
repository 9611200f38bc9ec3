/* Kernel builds without building: config fragments and their verification
 * against a final .config, dependency look-up in Kconfig files, and the
 * SHA-256 the cache keys are made of. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "harness/kconfig.h"
#include "harness/kernel-build.h"
#include "harness/kernel.h"
#include "harness/paths.h"
#include "harness/sha256.h"

static char tree[] = "/tmp/sb-kbuild-XXXXXX";

static void test_sha256(void **state)
{
	char hex[65];
	char *million = malloc(1000000);

	sha256_hex("", 0, hex);
	assert_string_equal(hex,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* Two blocks, and a length that ends exactly at the padding boundary. */
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	sha256_hex(million, 1000000, hex);
	assert_string_equal(hex,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

static void test_fragment_parse(void **state)
{
	json_t *req = json_object();

	kconfig_fragment_parse("# a comment\n"
			       "CONFIG_SWAP=y\n"
			       "  CONFIG_ZRAM=m  \n"
			       "CONFIG_ZSWAP_COMPRESSOR_DEFAULT=\"lz4\"\n"
			       "# CONFIG_VT is not set\n"
			       "#CONFIG_NOT_A_SETTING is what\n"
			       "CONFIG_NR_CPUS=8\n"
			       "CONFIG_ZRAM=y", req);
	/* A second fragment overrides the first, as merge_config.sh does. */
	kconfig_fragment_parse("# CONFIG_SWAP is not set\n", req);
	assert_int_equal(json_object_size(req), 5);
	assert_string_equal(json_string_value(json_object_get(req, "CONFIG_SWAP")), "n");
	assert_string_equal(json_string_value(json_object_get(req, "CONFIG_ZRAM")), "y");
	assert_string_equal(json_string_value(json_object_get(req,
				"CONFIG_ZSWAP_COMPRESSOR_DEFAULT")), "\"lz4\"");
	assert_string_equal(json_string_value(json_object_get(req, "CONFIG_VT")), "n");
	assert_string_equal(json_string_value(json_object_get(req, "CONFIG_NR_CPUS")), "8");
	json_decref(req);
}

static void write_at(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", tree, rel), *dir = xstrdup(p);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(p, text, strlen(text)), 0);
	free(p);
	free(dir);
}

static int make_tree(void **state)
{
	if (!mkdtemp(tree))
		return -1;
	write_at("mm/Kconfig",
		 "menu \"Memory Management options\"\n\n"
		 "config SWAP\n"
		 "\tbool \"Support for paging of anonymous memory (swap)\"\n"
		 "\tdepends on MMU && BLOCK && !ARCH_NO_SWAP\n"
		 "\tdefault y\n"
		 "\thelp\n"
		 "\t  This option allows you to choose whether you want to have support\n"
		 "\t  for so called swap devices. if you say Y here\n"
		 "\t  config SWAP lookalike in help text\n\n"
		 "config ZSWAP\n"
		 "\tbool \"Compressed cache for swap pages\"\n"
		 "\tdepends on SWAP\n"
		 "\tselect CRYPTO\n\n"
		 "if ZSWAP\n"
		 "config ZSWAP_SHRINKER_DEFAULT_ON\n"
		 "\tbool \"Shrink the zswap pool on memory pressure\"\n"
		 "\tdepends on MEMCG || \\\n"
		 "\t\t   CGROUPS\n"
		 "endif\n\n"
		 "choice\n"
		 "\tprompt \"Default allocator\"\n"
		 "\tdepends on ZSWAP\n"
		 "\tdefault ZSWAP_ZPOOL_DEFAULT_ZSMALLOC\n"
		 "config ZSWAP_ZPOOL_DEFAULT_ZSMALLOC\n"
		 "\tbool \"zsmalloc\"\n"
		 "\tselect ZSMALLOC\n"
		 "endchoice\n\n"
		 "config ZSMALLOC\n"
		 "\ttristate \"N:1 compression allocator (zsmalloc)\"\n"
		 "\tdepends on MMU\n"
		 "endmenu\n");
	/* Another architecture's definition must not be taken for x86's. */
	write_at("arch/arm/Kconfig", "config MMU\n\tbool\n\tdepends on ARM_ONLY\n");
	write_at("arch/x86/Kconfig", "config MMU\n\tdef_bool y\n");
	write_at("Documentation/Kconfig", "config SWAP\n\tdepends on DOCS_ONLY\n");
	return 0;
}

static int remove_tree(void **state)
{
	rm_rf(tree);
	return 0;
}

static void test_depends(void **state)
{
	char *d;

	d = kconfig_depends(tree, "SWAP");
	assert_non_null(d);
	assert_string_equal(d, "MMU && BLOCK && !ARCH_NO_SWAP");
	free(d);
	d = kconfig_depends(tree, "ZSWAP");
	assert_string_equal(d, "SWAP");
	free(d);
	/* Enclosing "if" blocks count; continued lines are joined. */
	d = kconfig_depends(tree, "ZSWAP_SHRINKER_DEFAULT_ON");
	assert_non_null(strstr(d, "ZSWAP"));
	assert_non_null(strstr(d, "MEMCG ||"));
	assert_non_null(strstr(d, "CGROUPS"));
	free(d);
	/* A choice's dependencies hold for its options. */
	d = kconfig_depends(tree, "ZSWAP_ZPOOL_DEFAULT_ZSMALLOC");
	assert_string_equal(d, "ZSWAP");
	free(d);
	d = kconfig_depends(tree, "ZSMALLOC");
	assert_string_equal(d, "MMU");
	free(d);
	d = kconfig_depends(tree, "MMU");
	assert_string_equal(d, "");
	free(d);
	assert_null(kconfig_depends(tree, "NO_SUCH_OPTION"));
	/* A prefix of another symbol is not that symbol. */
	assert_null(kconfig_depends(tree, "ZSWA"));
}

static void test_verify(void **state)
{
	json_t *req = json_object(), *final;
	char *report = NULL;

	kconfig_fragment_parse("CONFIG_ZSWAP=y\n"
			       "# CONFIG_SWAP is not set\n"
			       "CONFIG_ZSMALLOC=m\n"
			       "CONFIG_MMU=y\n"
			       "CONFIG_NR_CPUS=8\n"
			       "# CONFIG_VT is not set\n"
			       "CONFIG_GHOST=y\n"
			       "CONFIG_ZSWAP_COMPRESSOR_DEFAULT=\"lz4\"\n", req);
	final = kconfig_parse("CONFIG_MMU=y\n"
			      "CONFIG_BLOCK=y\n"
			      "CONFIG_ZSMALLOC=y\n"
			      "CONFIG_NR_CPUS=64\n"
			      "CONFIG_ZSWAP_COMPRESSOR_DEFAULT=\"lz4\"\n"
			      "# CONFIG_VT is not set\n");
	/* Without a tree: only the count. */
	assert_int_equal(kconfig_verify(req, final, NULL, NULL), 3);
	assert_int_equal(kconfig_verify(req, final, tree, &report), 3);
	print_message("%s\n", report);
	assert_non_null(strstr(report, "requested CONFIG_ZSWAP=y, got not set (depends on: SWAP; "
				       "unmet: SWAP)"));
	assert_non_null(strstr(report, "requested CONFIG_NR_CPUS=8, got 64"));
	assert_non_null(strstr(report, "requested CONFIG_GHOST=y, got not set (no such option "
				       "in this tree)"));
	/* Met: m by y, "not set" by absence, equal strings. */
	assert_null(strstr(report, "ZSMALLOC"));
	assert_null(strstr(report, "CONFIG_SWAP "));
	assert_null(strstr(report, "COMPRESSOR"));
	assert_null(strstr(report, "CONFIG_VT"));
	free(report);
	json_decref(final);

	/* Asked off, but on. */
	report = NULL;
	final = kconfig_parse("CONFIG_SWAP=y\nCONFIG_MMU=y\nCONFIG_ZSWAP=y\nCONFIG_NR_CPUS=8\n"
			      "CONFIG_ZSMALLOC=m\nCONFIG_GHOST=y\n"
			      "CONFIG_ZSWAP_COMPRESSOR_DEFAULT=\"lz4\"\n");
	assert_int_equal(kconfig_verify(req, final, tree, &report), 1);
	assert_string_equal(report, "requested CONFIG_SWAP not set, got CONFIG_SWAP=y");
	free(report);
	json_decref(final);
	json_decref(req);
}

/* The bundled fragments parse, ask for what the harness checks before any
 * cell, and the debug one adds to (never contradicts) swapbench.config. */
static void test_bundled_fragments(void **state)
{
	char *text, *p = xasprintf("%s/kernel/swapbench.config", configs_dir());
	json_t *req = json_object(), *dbg = json_object();
	const char *key;
	json_t *v;

	assert_int_equal(read_file(p, 1 << 20, &text, NULL), 0);
	kconfig_fragment_parse(text, req);
	free(text);
	free(p);
	for (int i = 0; topo_base_kconfig[i].option; i++)
		assert_string_equal(json_string_value(json_object_get(req,
					topo_base_kconfig[i].option)), "y");
	for (int k = 0; topo_kinds[k]; k++)
		for (int i = 0; topo_kinds[k]->kconfig && topo_kinds[k]->kconfig[i].option; i++)
			assert_string_equal(json_string_value(json_object_get(req,
						topo_kinds[k]->kconfig[i].option)), "y");
	p = xasprintf("%s/kernel/debug.config", configs_dir());
	assert_int_equal(read_file(p, 1 << 20, &text, NULL), 0);
	kconfig_fragment_parse(text, dbg);
	free(text);
	free(p);
	assert_true(json_object_size(dbg) > 3);
	json_object_foreach(dbg, key, v) {
		const char *base = json_string_value(json_object_get(req, key));

		if (base && strcmp(base, json_string_value(v)))
			fail_msg("debug.config changes %s", key);
	}
	json_decref(req);
	json_decref(dbg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_fragment_parse),
		cmocka_unit_test(test_depends),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_bundled_fragments),
	};

	return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
