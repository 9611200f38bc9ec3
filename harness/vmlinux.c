#define _GNU_SOURCE
#include "harness/vmlinux.h"
#include "harness/paths.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/process.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Xen's ELF note that gives the 32-bit PVH entry point; qemu looks for it. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

static uint32_t le32(const void *p)
{
	const unsigned char *b = p;

	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

int bzimage_payload(const char *data, size_t len, const char *what, struct bzimage_payload *p)
{
	static const struct {
		const char *format;
		const char *magic;
		size_t n;
	} formats[] = {
		{ "xz", "\xfd" "7zXZ\0", 6 },
		{ "zstd", "\x28\xb5\x2f\xfd", 4 },
		{ "gzip", "\x1f\x8b", 2 },
		{ "lz4", "\x02\x21\x4c\x18", 4 }, /* the legacy frame the kernel uses */
	};
	const unsigned char *u = (const unsigned char *)data;
	size_t setup, off, plen;

	memset(p, 0, sizeof(*p));
	if (len < 0x250 || memcmp(data + 0x202, "HdrS", 4))
		return sb_err(EINVAL, "'%s' is not a bzImage (no HdrS setup header)", what);
	if ((u[0x206] | u[0x207] << 8) < 0x208)
		return sb_err(EINVAL, "'%s': boot protocol older than 2.08 records no payload",
			      what);
	setup = ((size_t)(u[0x1f1] ? u[0x1f1] : 4) + 1) * 512;
	off = setup + le32(data + 0x248);
	plen = le32(data + 0x24c);
	if (plen < 8 || off > len || plen > len - off)
		return sb_err(EINVAL, "'%s': payload (offset %zu, %zu bytes) lies outside the "
			      "%zu-byte file", what, off, plen, len);
	p->offset = off;
	p->length = plen;
	/* Every format's last four bytes hold the decompressed size: gzip's
	 * own ISIZE, and the size the kernel's build appends to the others. */
	p->expect_size = le32(data + off + plen - 4);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!memcmp(data + off, formats[i].magic, formats[i].n))
			p->format = formats[i].format;
	return 0;
}

int elf_has_pvh_note(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	struct stat st;
	int found = 0, rc = 0;

	if (fd < 0)
		return sb_err(errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum == 0 || eh.e_phnum > 64 ||
	    eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)st.st_size) {
		close(fd);
		return sb_err(EINVAL, "'%s' is not an x86-64 ELF kernel", path);
	}
	for (unsigned i = 0; i < eh.e_phnum && !rc; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != (ssize_t)sizeof(ph)) {
			rc = sb_err(EIO, "'%s': cannot read program header %u", path, i);
			break;
		}
		if (ph.p_offset + ph.p_filesz > (uint64_t)st.st_size) {
			rc = sb_err(EINVAL, "'%s' is truncated: segment %u ends at %llu, the file "
				    "at %lld", path, i,
				    (unsigned long long)(ph.p_offset + ph.p_filesz),
				    (long long)st.st_size);
			break;
		}
		if (ph.p_type != PT_NOTE || ph.p_filesz > (1 << 20))
			continue;
		{
			char *notes = malloc(ph.p_filesz);
			size_t at = 0;

			if (!notes || pread(fd, notes, ph.p_filesz, ph.p_offset) !=
					      (ssize_t)ph.p_filesz) {
				free(notes);
				rc = sb_err(EIO, "'%s': cannot read its notes", path);
				break;
			}
			while (at + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
				Elf64_Nhdr nh;
				size_t name_at = at + sizeof(nh), nsz, dsz;

				memcpy(&nh, notes + at, sizeof(nh));
				nsz = (nh.n_namesz + 3) & ~3u;
				dsz = (nh.n_descsz + 3) & ~3u;
				if (nsz > ph.p_filesz || dsz > ph.p_filesz ||
				    name_at + nsz + dsz > ph.p_filesz)
					break;
				if (nh.n_namesz == 4 && !memcmp(notes + name_at, "Xen", 4) &&
				    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY)
					found = 1;
				at = name_at + nsz + dsz;
			}
			free(notes);
		}
	}
	close(fd);
	return rc ? rc : found;
}

int vmlinux_extract(const char *bzimage, const char *out)
{
	struct bzimage_payload p;
	char *data = NULL, *packed, *tmp;
	size_t len;
	struct stat st;
	int rc = read_file(bzimage, 256 << 20, &data, &len);

	if (rc)
		return rc;
	rc = bzimage_payload(data, len, bzimage, &p);
	if (!rc && !p.format)
		rc = sb_err(ENOTSUP, "'%s': the payload is in a format swapbench does not unpack "
			    "(not xz, zstd, gzip or lz4)", bzimage);
	if (rc) {
		free(data);
		return rc;
	}
	packed = xasprintf("%s.%s.tmp.%d", out, p.format, (int)getpid());
	tmp = xasprintf("%s.tmp.%d", out, (int)getpid());
	/* gzip's trailer is its own; the others end in the appended size,
	 * which their tools would take for a second, broken stream. */
	rc = write_file_atomic(packed, data + p.offset,
			       p.length - (strcmp(p.format, "gzip") ? 4 : 0));
	free(data);
	if (!rc) {
		const char *argv[6] = { p.format, "-dc", NULL };
		struct spawn_opts o = { .timeout_ms = 300000, .stdout_path = tmp,
					.quiet_stderr = 1 };
		struct spawn_result r;
		int n = 2;

		if (!strcmp(p.format, "xz"))
			argv[n++] = "--single-stream";
		if (!strcmp(p.format, "zstd"))
			argv[n++] = "-q";
		argv[n++] = packed;
		argv[n] = NULL;
		o.argv = argv;
		rc = spawn_run(&o, &r);
		if (!rc && (r.exit_code || r.timed_out))
			rc = sb_err(EIO, "'%s': %s could not unpack the kernel (%s)", bzimage,
				    p.format, r.timed_out ? "timed out" : "exit status");
		if (!rc)
			spawn_result_release(&r);
		else if (rc == -ENOENT)
			rc = sb_err(ENOENT, "'%s': unpacking needs the '%s' tool", bzimage,
				    p.format);
	}
	unlink(packed);
	if (!rc && (stat(tmp, &st) || (unsigned long long)st.st_size % (1ULL << 32) !=
						 p.expect_size))
		rc = sb_err(EIO, "'%s': the unpacked kernel has %lld bytes, the image records "
			    "%llu", bzimage, (long long)st.st_size, p.expect_size);
	if (!rc) {
		rc = elf_has_pvh_note(tmp);
		if (rc == 0)
			rc = sb_err(ENOTSUP, "'%s' has no PVH entry note (built without "
				    "CONFIG_PVH)", bzimage);
		else if (rc > 0)
			rc = 0;
	}
	if (!rc && rename(tmp, out))
		rc = sb_err(errno, "rename '%s': %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
	free(packed);
	free(tmp);
	return rc;
}

/* Inside the kernel's own cache entry when the image lives in the cache (a
 * Debian package tree, a source build), so it goes when the entry goes;
 * otherwise (image: sources) under the cache's vmlinux/ folder. */
static char *vmlinux_path(const struct kernel *k)
{
	char *cache = sb_cache_dir(), *real_cache = realpath(cache, NULL);
	char *real_img = realpath(k->vmlinuz, NULL), *p;
	size_t n = real_cache ? strlen(real_cache) : 0;

	if (real_img && real_cache && !strncmp(real_img, real_cache, n) && real_img[n] == '/') {
		char *slash = strrchr(real_img, '/');

		*slash = '\0';
		p = xasprintf("%s/vmlinux-pvh", real_img);
	} else {
		char *dir = xasprintf("%s/vmlinux", cache);
		struct stat st;

		mkdir_p(dir, 0755);
		/* The image path is the user's: size and mtime say it changed. */
		if (stat(k->vmlinuz, &st))
			memset(&st, 0, sizeof(st));
		p = xasprintf("%s/%s-%lld-%lld.elf", dir, k->id ? k->id : "kernel",
			      (long long)st.st_size, (long long)st.st_mtime);
		free(dir);
	}
	free(cache);
	free(real_cache);
	free(real_img);
	return p;
}

int vmlinux_get(const struct kernel *k, char **path)
{
	char *p, *none;
	int rc;

	if (!k->vmlinuz)
		return sb_err(ENOENT, "kernel %s has no image", k->name ? k->name : "?");
	p = vmlinux_path(k);
	none = xasprintf("%s.none", p);
	if (path_exists(p)) {
		*path = p;
		free(none);
		return 0;
	}
	/* A kernel built without PVH stays so: remember, and do not unpack it
	 * again on every run. */
	if (path_exists(none)) {
		char *why = NULL;

		read_file(none, 4096, &why, NULL);
		rc = sb_err(ENOTSUP, "%s", why ? why : "no PVH entry");
		free(why);
		free(p);
		free(none);
		return rc;
	}
	log_info("unpacking %s for a direct (PVH) boot", k->vmlinuz);
	rc = vmlinux_extract(k->vmlinuz, p);
	if (rc == -ENOTSUP) {
		const char *why = sb_lasterr();

		write_file_atomic(none, why, strlen(why));
	}
	free(none);
	if (rc) {
		free(p);
		return rc;
	}
	*path = p;
	return 0;
}
