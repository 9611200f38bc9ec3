/* vmlinux: the ELF inside a bzImage, unpacked for qemu's PVH entry.
 * Synthetic images: a small ELF (with or without the PVH note) packed by the
 * real xz/zstd/gzip/lz4 tools behind a bzImage setup header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/process.h"
#include "harness/vmlinux.h"

static char dir[] = "/tmp/sb-vmlinux-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	rm_rf(dir);
	return 0;
}

/* An x86-64 ELF: one PT_NOTE (Xen notes; type 18 when pvh) and one
 * PT_LOAD of filler. */
static char *make_elf(int pvh, size_t *len)
{
	size_t fill = 200000, notes_at = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	size_t note_len = 2 * (sizeof(Elf64_Nhdr) + 4 + 8);
	size_t total = notes_at + note_len + fill;
	char *e = calloc(1, total), *n;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)e;
	Elf64_Phdr *ph = (Elf64_Phdr *)(e + sizeof(*eh));
	uint32_t types[2] = { 6, pvh ? 18 : 5 };

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = notes_at;
	ph[0].p_filesz = note_len;
	ph[1].p_type = PT_LOAD;
	ph[1].p_offset = notes_at + note_len;
	ph[1].p_filesz = fill;
	n = e + notes_at;
	for (int i = 0; i < 2; i++) {
		Elf64_Nhdr nh = { 4, 8, types[i] };

		memcpy(n, &nh, sizeof(nh));
		memcpy(n + sizeof(nh), "Xen", 4);
		memcpy(n + sizeof(nh) + 4, "abcdefg", 8);
		n += sizeof(nh) + 12;
	}
	for (size_t i = 0; i < fill; i++)
		e[notes_at + note_len + i] = (char)(i * 7 / 13);
	*len = total;
	return e;
}

/* Pack `elf` with `tool` into a bzImage the way the kernel's build does
 * (the decompressed size appended, except for gzip). */
static char *make_bzimage(const char *name, const char *tool, const char *elf, size_t elf_len,
			  int truncate_by)
{
	char *raw = xasprintf("%s/%s.raw", dir, name), *packed = xasprintf("%s/%s.pk", dir, name);
	char *img = xasprintf("%s/%s", dir, name), *data, *out;
	const char *argv[] = { tool, "-c", raw, NULL };
	const char *lz4argv[] = { "lz4", "-l", "-c", raw, NULL };
	struct spawn_opts o = { .argv = strcmp(tool, "lz4") ? argv : lz4argv,
				.timeout_ms = 60000, .stdout_path = packed, .quiet_stderr = 1 };
	struct spawn_result r;
	size_t plen, setup_len = 5 * 512, total;
	uint32_t v;

	assert_int_equal(write_file_atomic(raw, elf, elf_len), 0);
	assert_int_equal(spawn_run(&o, &r), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(read_file(packed, 64 << 20, &data, &plen), 0);
	total = setup_len + plen + 4;
	out = calloc(1, total);
	out[0x1f1] = 4; /* setup_sects: (4 + 1) * 512 bytes before the kernel */
	memcpy(out + 0x202, "HdrS", 4);
	out[0x206] = 0x0f;
	out[0x207] = 0x02;
	v = 0;
	memcpy(out + 0x248, &v, 4); /* payload_offset */
	memcpy(out + setup_len, data, plen);
	if (strcmp(tool, "gzip")) {
		v = (uint32_t)elf_len;
		memcpy(out + setup_len + plen, &v, 4);
		plen += 4;
	}
	v = (uint32_t)plen - truncate_by;
	memcpy(out + 0x24c, &v, 4);  /* payload_length */
	assert_int_equal(write_file_atomic(img, out, setup_len + plen), 0);
	free(out);
	free(data);
	free(raw);
	free(packed);
	return img;
}

static void check_format(const char *tool)
{
	size_t len, got_len;
	char *elf = make_elf(1, &len), *got;
	char *img = make_bzimage(tool, tool, elf, len, 0);
	char *out = xasprintf("%s/%s.elf", dir, tool);

	assert_int_equal(vmlinux_extract(img, out), 0);
	assert_int_equal(read_file(out, 64 << 20, &got, &got_len), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, elf, len);
	assert_int_equal(elf_has_pvh_note(out), 1);
	free(got);
	free(elf);
	free(img);
	free(out);
}

static void test_xz(void **state) { check_format("xz"); }
static void test_zstd(void **state) { check_format("zstd"); }
static void test_gzip(void **state) { check_format("gzip"); }
static void test_lz4(void **state) { check_format("lz4"); }

static void test_no_pvh_note(void **state)
{
	size_t len;
	char *elf = make_elf(0, &len), *img = make_bzimage("nopvh", "gzip", elf, len, 0);
	char *out = xasprintf("%s/nopvh.elf", dir);

	assert_int_equal(vmlinux_extract(img, out), -ENOTSUP);
	assert_non_null(strstr(sb_lasterr(), "CONFIG_PVH"));
	/* Nothing half-written is left where a boot would find it. */
	assert_false(path_exists(out));
	free(elf);
	free(img);
	free(out);
}

static void test_truncated_payload(void **state)
{
	size_t len;
	char *elf = make_elf(1, &len), *img = make_bzimage("trunc", "zstd", elf, len, 100);
	char *out = xasprintf("%s/trunc.elf", dir);

	assert_true(vmlinux_extract(img, out) < 0);
	assert_false(path_exists(out));
	free(elf);
	free(img);
	free(out);
}

static void test_not_a_bzimage(void **state)
{
	char *img = xasprintf("%s/plain", dir), *out = xasprintf("%s/plain.elf", dir);

	assert_int_equal(write_file_atomic(img, "not a kernel", 12), 0);
	assert_int_equal(vmlinux_extract(img, out), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "not a bzImage"));
	assert_false(path_exists(out));
	free(img);
	free(out);
}

static void test_unknown_format(void **state)
{
	size_t len;
	char *elf = make_elf(1, &len), *img = make_bzimage("bz2", "gzip", elf, len, 0);
	char *out = xasprintf("%s/bz2.elf", dir), *data;
	size_t ilen;

	/* bzip2's magic where gzip's was: a format swapbench does not unpack. */
	assert_int_equal(read_file(img, 64 << 20, &data, &ilen), 0);
	memcpy(data + 5 * 512, "BZh9", 4);
	assert_int_equal(write_file_atomic(img, data, ilen), 0);
	free(data);
	assert_int_equal(vmlinux_extract(img, out), -ENOTSUP);
	assert_non_null(strstr(sb_lasterr(), "format"));
	free(elf);
	free(img);
	free(out);
}

static void test_elf_checks(void **state)
{
	size_t len;
	char *elf = make_elf(1, &len), *p = xasprintf("%s/short.elf", dir);

	/* Cut inside the PT_LOAD segment: a truncated kernel is no kernel. */
	assert_int_equal(write_file_atomic(p, elf, len - 10), 0);
	assert_int_equal(elf_has_pvh_note(p), -EINVAL);
	assert_non_null(strstr(sb_lasterr(), "truncated"));
	assert_int_equal(write_file_atomic(p, elf, len), 0);
	assert_int_equal(elf_has_pvh_note(p), 1);
	free(elf);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xz),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_lz4),
		cmocka_unit_test(test_no_pvh_note),
		cmocka_unit_test(test_truncated_payload),
		cmocka_unit_test(test_not_a_bzimage),
		cmocka_unit_test(test_unknown_format),
		cmocka_unit_test(test_elf_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
