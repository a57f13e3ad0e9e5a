// SPDX-License-Identifier: GPL-2.0
/*
 * Sections and views: CreateFileMapping, OpenFileMapping, MapViewOfFile,
 * UnmapViewOfFile, FlushViewOfFile and CloseHandle, with Windows' checks
 * and error codes, and their real effects: views of one section alias,
 * in one process and across fork and exec; protections act page by page
 * in a view without a new VMA; copy-on-write views keep their writes;
 * SEC_RESERVE pages are committed for every view at once; a section lives
 * while a view holds it, and its memory (Shmem) goes with the last one;
 * names are per user.  Everything skips on a module without sections.
 *
 * The binary also serves as the exec'd child of the fork-and-exec tests
 * (--child-* arguments, handled before the harness in main()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define NOBODY		65534

/* An older module has no sections: skip. */
#define NEED_SECTIONS() do {						\
	if (!ntmem_module_has(NTMEM_FEATURE_SECTIONS))			\
		SKIP(return, "the module has no sections "		\
		     "(NTMEM_FEATURE_SECTIONS)");			\
} while (0)

/* A pattern that depends on the offset, not the address: views differ. */
static void fill(void *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8)
		*(uint64_t *)((char *)p + i) = (i / 8) * 0x9E3779B97F4A7C15ull +
					       seed;
}

/* Offset of the first word that differs from fill()'s, or -1. */
static long check(const void *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8)
		if (*(const uint64_t *)((const char *)p + i) !=
		    (i / 8) * 0x9E3779B97F4A7C15ull + seed)
			return i;
	return -1;
}

/* @ascii as a W string. */
static void widen(WCHAR *out, const char *ascii)
{
	while ((*out++ = (unsigned char)*ascii++))
		;
}

/* A name no other test (or earlier run) uses. */
static const char *name_of(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "ntmem-test-%d-%s", getpid(), tag);
	return buf;
}

/* CreateFileMappingA of the paging file that must succeed and set the
 * last error to @le (0, or ERROR_ALREADY_EXISTS). */
static HANDLE cfm_ok(struct __test_metadata *_metadata, DWORD protect,
		     uint64_t size, const char *name, DWORD le)
{
	HANDLE h;

	SetLastError(LE_SENTINEL);
	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, protect,
			       (DWORD)(size >> 32), (DWORD)size, name);
	ASSERT_NE(NULL, h) TH_LOG("CreateFileMappingA(%#x, %#lx, %s): %u",
				  protect, (unsigned long)size,
				  name ? name : "NULL", GetLastError());
	ASSERT_EQ(le, GetLastError());
	ASSERT_EQ(0, (uintptr_t)h % 4);
	ASSERT_NE(INVALID_HANDLE_VALUE, h);
	return h;
}

/* MapViewOfFile that must succeed, at a 64 KiB boundary. */
static char *map_ok(struct __test_metadata *_metadata, HANDLE h,
		    DWORD access, uint64_t offset, SIZE_T bytes)
{
	char *v;

	SetLastError(LE_SENTINEL);
	v = MapViewOfFile(h, access, (DWORD)(offset >> 32), (DWORD)offset,
			  bytes);
	ASSERT_NE(NULL, v) TH_LOG("MapViewOfFile(%p, %#x, %#lx, %#zx): %u",
				  h, access, (unsigned long)offset, bytes,
				  GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(0, (uintptr_t)v % G);
	return v;
}

static void unmap_ok(struct __test_metadata *_metadata, void *v)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, UnmapViewOfFile(v))
		TH_LOG("UnmapViewOfFile(%p): %u", v, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

static void close_ok(struct __test_metadata *_metadata, HANDLE h)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, CloseHandle(h))
		TH_LOG("CloseHandle(%p): %u", h, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* Create with every argument given; NULL expected, with @code. */
#define ASSERT_CREATE_FAILS(code, file, protect, high, low, name)	\
	ASSERT_FAILS(code, CreateFileMappingA(file, NULL, protect,	\
					      high, low, name))

/* ---- handles ------------------------------------------------------------- */

TEST(handle_encoding)
{
	HANDLE h, d;
	int fd, fd2;
	char *a, *b;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	ASSERT_NE(NULL, h);
	fd = ntmem_fd_from_handle(h);
	ASSERT_LE(0, fd);
	ASSERT_EQ(h, (HANDLE)(((uintptr_t)fd + 1) << 2));
	ASSERT_EQ(h, ntmem_handle_from_fd(fd));
	/* not inheritable unless asked: close-on-exec */
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* any descriptor of the section is a handle to it */
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	d = ntmem_handle_from_fd(fd2);
	ASSERT_NE(h, d);
	a = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	b = map_ok(_metadata, d, FILE_MAP_READ, 0, 0);
	fill(a, G, 1);
	ASSERT_EQ(-1, check(b, G, 1));
	close_ok(_metadata, d);
	close_ok(_metadata, h);
	unmap_ok(_metadata, a);
	unmap_ok(_metadata, b);

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(-1, ntmem_fd_from_handle(NULL));
	ASSERT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, ntmem_fd_from_handle((HANDLE)6));
	ASSERT_EQ(-1, ntmem_fd_from_handle(INVALID_HANDLE_VALUE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, ntmem_handle_from_fd(-1));
	ASSERT_EQ((HANDLE)4, ntmem_handle_from_fd(0));
	ASSERT_EQ(0, ntmem_fd_from_handle((HANDLE)4));
}

TEST(close_handle)
{
	HANDLE h;
	int fd;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	fd = ntmem_fd_from_handle(h);
	close_ok(_metadata, h);
	ASSERT_EQ(-1, fcntl(fd, F_GETFD));	/* the descriptor is gone */
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle(NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle((HANDLE)5));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, CloseHandle((HANDLE)0x10002));
	/* the process pseudo-handle needs no closing */
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, CloseHandle(GetCurrentProcess()));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* ---- CreateFileMapping --------------------------------------------------- */

TEST(create_protections)
{
	static const DWORD valid[] = {
		PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
		PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
		PAGE_EXECUTE_WRITECOPY,
	};
	static const DWORD invalid[] = {
		0, PAGE_NOACCESS, PAGE_EXECUTE, 0x03, 0x06, 0x0C, 0x30, 0x60,
		0xC0, PAGE_READWRITE | PAGE_GUARD,
		PAGE_READWRITE | PAGE_NOCACHE,
		PAGE_READWRITE | PAGE_WRITECOMBINE,
		PAGE_READWRITE | PAGE_TARGETS_INVALID,
		PAGE_READWRITE | SEC_COMMIT | SEC_RESERVE,
		PAGE_READWRITE | SEC_IMAGE, PAGE_READWRITE | SEC_NOCACHE,
		PAGE_READWRITE | SEC_WRITECOMBINE,
		PAGE_READWRITE | SEC_LARGE_PAGES,
		PAGE_READWRITE | SEC_COMMIT | SEC_LARGE_PAGES,
		SEC_COMMIT, SEC_RESERVE,
	};

	NEED_SECTIONS();
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		HANDLE h = cfm_ok(_metadata, valid[i], G, NULL, 0);

		close_ok(_metadata, h);
		h = cfm_ok(_metadata, valid[i] | SEC_COMMIT, G, NULL, 0);
		close_ok(_metadata, h);
		h = cfm_ok(_metadata, valid[i] | SEC_RESERVE, G, NULL, 0);
		close_ok(_metadata, h);
	}
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		SetLastError(LE_SENTINEL);
		ASSERT_EQ(NULL, CreateFileMappingA(INVALID_HANDLE_VALUE, NULL,
						   invalid[i], 0, G, NULL))
			TH_LOG("protection %#x", invalid[i]);
		ASSERT_EQ(ERROR_INVALID_PARAMETER, GetLastError())
			TH_LOG("protection %#x", invalid[i]);
	}
}

/* The protection first, then the file, then the size. */
TEST(create_file_and_size)
{
	NEED_SECTIONS();
	ASSERT_CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, 0, NULL);
	ASSERT_CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE | SEC_RESERVE, 0, 0, "sized-0");
	ASSERT_CREATE_FAILS(ERROR_INVALID_HANDLE, NULL, PAGE_READWRITE, 0, G,
			    NULL);
	ASSERT_CREATE_FAILS(ERROR_INVALID_HANDLE, (HANDLE)4, PAGE_READWRITE,
			    0, G, NULL);
	/* a file's section may have size 0 (the file's): the handle decides */
	ASSERT_CREATE_FAILS(ERROR_INVALID_HANDLE, (HANDLE)8, PAGE_READWRITE,
			    0, 0, NULL);
	ASSERT_CREATE_FAILS(ERROR_INVALID_PARAMETER, NULL, PAGE_NOACCESS, 0,
			    G, NULL);
	ASSERT_CREATE_FAILS(ERROR_INVALID_PARAMETER, NULL,
			    PAGE_READWRITE | SEC_IMAGE, 0, G, NULL);
}

/* Sizes: the high word counts; bytes round up to pages in a view. */
TEST(create_sizes)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *v;

	NEED_SECTIONS();
	/* SEC_RESERVE charges nothing: 64 GiB of address space only */
	h = cfm_ok(_metadata, PAGE_READWRITE | SEC_RESERVE, 16ull << 32, NULL,
		   0);
	close_ok(_metadata, h);
	/* the whole size is charged at once: far over the commit limit */
	ASSERT_CREATE_FAILS(ERROR_COMMITMENT_LIMIT, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0x100, 0, NULL);

	h = cfm_ok(_metadata, PAGE_READWRITE, 0x1234, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	vq_ok(_metadata, v, &m);
	ASSERT_MBI(m, v, v, PAGE_READWRITE, 0x2000, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);
	ASSERT_SEGV_AT(v + 0x2000, try_read(v + 0x2000));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0x2001));
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

/* A success says whether the name was there (0 or 183), as Windows does. */
TEST(create_last_error)
{
	char name[64];
	HANDLE a, b, c;
	char *va, *vb;

	NEED_SECTIONS();
	name_of(name, sizeof(name), "le");
	a = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	/* the existing section wins: its size and protection */
	b = cfm_ok(_metadata, PAGE_READONLY, 4 * G, name, ERROR_ALREADY_EXISTS);
	ASSERT_NE(a, b);
	va = map_ok(_metadata, a, FILE_MAP_WRITE, 0, 0);
	vb = map_ok(_metadata, b, FILE_MAP_READ, 0, 0);
	fill(va, G, 7);
	ASSERT_EQ(-1, check(vb, G, 7));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(b, FILE_MAP_READ, 0, 0, 2 * G));
	/* unnamed sections are each their own */
	c = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	close_ok(_metadata, c);
	c = cfm_ok(_metadata, PAGE_READWRITE, G, "", 0);
	close_ok(_metadata, c);
	close_ok(_metadata, a);
	close_ok(_metadata, b);
	unmap_ok(_metadata, va);
	unmap_ok(_metadata, vb);
}

/* ---- names --------------------------------------------------------------- */

TEST(name_prefixes)
{
	char name[64], local[80], global[80], bad[80];
	HANDLE h, l, g;
	char *vh, *vl, *vg;

	NEED_SECTIONS();
	name_of(name, sizeof(name), "prefix");
	snprintf(local, sizeof(local), "Local\\%s", name);
	snprintf(global, sizeof(global), "Global\\%s", name);

	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	l = cfm_ok(_metadata, PAGE_READWRITE, G, local, ERROR_ALREADY_EXISTS);
	g = cfm_ok(_metadata, PAGE_READWRITE, G, global, ERROR_ALREADY_EXISTS);
	vh = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	vl = map_ok(_metadata, l, FILE_MAP_READ, 0, 0);
	vg = map_ok(_metadata, g, FILE_MAP_READ, 0, 0);
	fill(vh, G, 11);
	ASSERT_EQ(-1, check(vl, G, 11));
	ASSERT_EQ(-1, check(vg, G, 11));

	/* the prefixes are exact, and only one */
	snprintf(bad, sizeof(bad), "local\\%s", name);
	ASSERT_CREATE_FAILS(ERROR_PATH_NOT_FOUND, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, bad);
	ASSERT_FAILS(ERROR_PATH_NOT_FOUND,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, bad));
	snprintf(bad, sizeof(bad), "Local\\Global\\%s", name);
	ASSERT_CREATE_FAILS(ERROR_PATH_NOT_FOUND, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, bad);
	ASSERT_CREATE_FAILS(ERROR_PATH_NOT_FOUND, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, "a\\b");
	ASSERT_CREATE_FAILS(ERROR_PATH_NOT_FOUND, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, "Global\\a\\b");
	ASSERT_CREATE_FAILS(ERROR_PATH_NOT_FOUND, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, "\\x");
	/* a prefix alone names the namespace, not a section */
	ASSERT_CREATE_FAILS(ERROR_INVALID_NAME, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, "Local\\");
	ASSERT_CREATE_FAILS(ERROR_INVALID_NAME, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, "Global\\");
	ASSERT_FAILS(ERROR_INVALID_NAME,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, "Global\\"));
	/* the argument checks come before the name */
	ASSERT_CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, 0, "a\\b");

	close_ok(_metadata, h);
	close_ok(_metadata, l);
	close_ok(_metadata, g);
	unmap_ok(_metadata, vh);
	unmap_ok(_metadata, vl);
	unmap_ok(_metadata, vg);
}

TEST(open_names)
{
	char name[64], local[80], missing[64];
	HANDLE h, o;
	char *vh, *vo;

	NEED_SECTIONS();
	name_of(name, sizeof(name), "open");
	name_of(missing, sizeof(missing), "missing");
	snprintf(local, sizeof(local), "Local\\%s", name);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, NULL));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     OpenFileMappingW(FILE_MAP_READ, FALSE, NULL));
	ASSERT_FAILS(ERROR_INVALID_NAME,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, ""));
	ASSERT_FAILS(ERROR_FILE_NOT_FOUND,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, missing));
	ASSERT_FAILS(ERROR_FILE_NOT_FOUND,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, local));

	h = cfm_ok(_metadata, PAGE_READWRITE, G, local, 0);
	SetLastError(LE_SENTINEL);
	o = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
	ASSERT_NE(NULL, o) TH_LOG("OpenFileMappingA: %u", GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(0, (uintptr_t)o % 4);
	ASSERT_EQ(FD_CLOEXEC,
		  fcntl(ntmem_fd_from_handle(o), F_GETFD) & FD_CLOEXEC);
	vh = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	vo = map_ok(_metadata, o, FILE_MAP_WRITE, 0, 0);
	fill(vo, G, 12);
	ASSERT_EQ(-1, check(vh, G, 12));
	unmap_ok(_metadata, vo);
	close_ok(_metadata, o);

	/* a read handle maps for reading and copy-on-write only */
	o = OpenFileMappingA(FILE_MAP_READ, FALSE, local);
	ASSERT_NE(NULL, o);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(o, FILE_MAP_WRITE, 0, 0, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(o, FILE_MAP_ALL_ACCESS, 0, 0, 0));
	unmap_ok(_metadata, map_ok(_metadata, o, FILE_MAP_READ, 0, 0));
	unmap_ok(_metadata, map_ok(_metadata, o, FILE_MAP_COPY, 0, 0));
	close_ok(_metadata, o);
	/* FILE_MAP_COPY asks for what a copy-on-write view needs: reading */
	o = OpenFileMappingA(FILE_MAP_COPY, TRUE, name);
	ASSERT_NE(NULL, o) TH_LOG("OpenFileMappingA(COPY): %u",
				  GetLastError());
	ASSERT_EQ(0, fcntl(ntmem_fd_from_handle(o), F_GETFD) & FD_CLOEXEC);
	vo = map_ok(_metadata, o, FILE_MAP_COPY, 0, 0);
	ASSERT_EQ(-1, check(vo, G, 12));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(o, FILE_MAP_WRITE, 0, 0, 0));
	unmap_ok(_metadata, vo);
	close_ok(_metadata, o);

	/* the name goes with the section */
	close_ok(_metadata, h);
	unmap_ok(_metadata, vh);
	ASSERT_FAILS(ERROR_FILE_NOT_FOUND,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, name));
}

/* As on Windows, a handle opened for writing maps for writing only. */
TEST(open_write_only)
{
	char name[64];
	HANDLE h, o;

	NEED_SECTIONS();
	name_of(name, sizeof(name), "wronly");
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	o = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
	ASSERT_NE(NULL, o);
	unmap_ok(_metadata, map_ok(_metadata, o, FILE_MAP_WRITE, 0, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(o, FILE_MAP_READ, 0, 0, 0));
	close_ok(_metadata, o);
	close_ok(_metadata, h);
}

/* W names reach the kernel as UTF-8: the same section as the A name. */
TEST(wide_names)
{
	char name[80];
	WCHAR wname[80], wlocal[90];
	HANDLE a, w, l;
	char *va, *vw;
	size_t n;

	NEED_SECTIONS();
	/* "ntmem-test-PID-wide-é€😀" in UTF-8 and in UTF-16 */
	name_of(name, sizeof(name),
		"wide-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	n = strlen(name) - 9;
	for (size_t i = 0; i < n; i++)
		wname[i] = (unsigned char)name[i];
	wname[n] = 0xE9;
	wname[n + 1] = 0x20AC;
	wname[n + 2] = 0xD83D;
	wname[n + 3] = 0xDE00;
	wname[n + 4] = 0;
	widen(wlocal, "Local\\");
	memcpy(wlocal + 6, wname, (n + 5) * sizeof(WCHAR));

	a = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	SetLastError(LE_SENTINEL);
	w = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       G, wname);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(ERROR_ALREADY_EXISTS, GetLastError());
	l = OpenFileMappingW(FILE_MAP_WRITE, FALSE, wlocal);
	ASSERT_NE(NULL, l) TH_LOG("OpenFileMappingW: %u", GetLastError());
	va = map_ok(_metadata, a, FILE_MAP_WRITE, 0, 0);
	vw = map_ok(_metadata, l, FILE_MAP_WRITE, 0, 0);
	fill(vw, G, 13);
	ASSERT_EQ(-1, check(va, G, 13));
	close_ok(_metadata, l);

	/* a lone surrogate is a name of its own */
	wname[n + 3] = 0;
	SetLastError(LE_SENTINEL);
	l = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       G, wname);
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, GetLastError());
	close_ok(_metadata, l);

	/* the same rules as the A names */
	wname[n] = '\\';
	ASSERT_FAILS(ERROR_PATH_NOT_FOUND,
		     CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
					PAGE_READWRITE, 0, G, wname));
	ASSERT_FAILS(ERROR_PATH_NOT_FOUND,
		     OpenFileMappingW(FILE_MAP_READ, FALSE, wname));
	wlocal[6] = 0;
	ASSERT_FAILS(ERROR_INVALID_NAME,
		     CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
					PAGE_READWRITE, 0, G, wlocal));
	close_ok(_metadata, a);
	close_ok(_metadata, w);
	unmap_ok(_metadata, va);
	unmap_ok(_metadata, vw);
}

/* NTMEM_SECTION_NAME_MAX bytes of UTF-8, after the prefix. */
TEST(name_length)
{
	static char name[NTMEM_SECTION_NAME_MAX + 16];
	static WCHAR wname[NTMEM_SECTION_NAME_MAX + 16];
	HANDLE h;
	int tag;

	NEED_SECTIONS();
	tag = snprintf(name, sizeof(name), "Local\\%d-", getpid());
	memset(name + tag, 'n', NTMEM_SECTION_NAME_MAX - (tag - 6));
	name[6 + NTMEM_SECTION_NAME_MAX] = 0;
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	close_ok(_metadata, h);
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name + 6, 0);
	close_ok(_metadata, h);
	name[6 + NTMEM_SECTION_NAME_MAX] = 'n';
	name[7 + NTMEM_SECTION_NAME_MAX] = 0;
	ASSERT_CREATE_FAILS(ERROR_FILENAME_EXCED_RANGE, INVALID_HANDLE_VALUE,
			    PAGE_READWRITE, 0, G, name);
	ASSERT_FAILS(ERROR_FILENAME_EXCED_RANGE,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, name));

	/* 512 "é" are 1024 bytes; 513 are too many, though 513 units */
	for (int i = 0; i < 512; i++)
		wname[i] = 0xE9;
	wname[512] = 0;
	SetLastError(LE_SENTINEL);
	h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       G, wname);
	ASSERT_NE(NULL, h) TH_LOG("CreateFileMappingW: %u", GetLastError());
	close_ok(_metadata, h);
	wname[512] = 0xE9;
	wname[513] = 0;
	ASSERT_FAILS(ERROR_FILENAME_EXCED_RANGE,
		     CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
					PAGE_READWRITE, 0, G, wname));
	ASSERT_FAILS(ERROR_FILENAME_EXCED_RANGE,
		     OpenFileMappingW(FILE_MAP_READ, FALSE, wname));
	for (int i = 0; i < NTMEM_SECTION_NAME_MAX + 8; i++)
		wname[i] = 0x20AC;
	wname[NTMEM_SECTION_NAME_MAX + 8] = 0;
	ASSERT_FAILS(ERROR_FILENAME_EXCED_RANGE,
		     CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
					PAGE_READWRITE, 0, G, wname));
}

/* ---- MapViewOfFile ------------------------------------------------------- */

TEST(map_arguments)
{
	HANDLE h, ro, x, closed;
	char *b, *f;
	int null_fd;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, 2 * G, NULL, 0);
	closed = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	close_ok(_metadata, closed);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, null_fd);

	/* handles */
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile(NULL, FILE_MAP_READ, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile((HANDLE)3, FILE_MAP_READ, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile(INVALID_HANDLE_VALUE, FILE_MAP_READ, 0, 0,
				   0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile(closed, FILE_MAP_READ, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile(ntmem_handle_from_fd(null_fd),
				   FILE_MAP_READ, 0, 0, 0));
	close(null_fd);

	/* access */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, MapViewOfFile(h, 0, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile(h, FILE_MAP_EXECUTE, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile(h, FILE_MAP_READ | 0x40, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile(h, FILE_MAP_READ | 0x80000000, 0, 0, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile(NULL, 0, 0, 0, 0));

	/* offsets: 64 KiB multiples, inside the section */
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile(h, FILE_MAP_READ, 0, 0x1000, 0));
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile(h, FILE_MAP_READ, 0, G + 1, P));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_READ, 1, 0, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_READ, 0, 2 * G, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_READ, 0, 0, 2 * G + 1));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_READ, 0, G, G + P));
	unmap_ok(_metadata, map_ok(_metadata, h, FILE_MAP_READ, 0, 2 * G));
	unmap_ok(_metadata, map_ok(_metadata, h, FILE_MAP_READ, G, G));
	unmap_ok(_metadata, map_ok(_metadata, h, FILE_MAP_ALL_ACCESS, G, 1));

	/* fixed bases */
	f = find_free(_metadata, 2 * G);
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, 0, f + P));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(f, MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, f));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, 0, f));
	unmap_ok(_metadata, f);
	b = va_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, G, b));
	vf_ok(_metadata, b, 0, MEM_RELEASE);

	/* the section's protection bounds the views' */
	ro = cfm_ok(_metadata, PAGE_READONLY, G, NULL, 0);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(ro, FILE_MAP_WRITE, 0, 0, 0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(ro, FILE_MAP_ALL_ACCESS, 0, 0, 0));
	unmap_ok(_metadata, map_ok(_metadata, ro, FILE_MAP_READ, 0, 0));
	unmap_ok(_metadata, map_ok(_metadata, ro, FILE_MAP_COPY, 0, 0));
	close_ok(_metadata, ro);
	/* execute needs an executable section, as documented */
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0,
				   0));
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_COPY | FILE_MAP_EXECUTE, 0, 0,
				   0));
	/* executable shared views: not yet (copy-on-write ones are) */
	x = cfm_ok(_metadata, PAGE_EXECUTE_READWRITE, G, NULL, 0);
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     MapViewOfFile(x, FILE_MAP_WRITE | FILE_MAP_EXECUTE, 0, 0,
				   0));
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     MapViewOfFile(x, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0,
				   0));
	close_ok(_metadata, x);
	close_ok(_metadata, h);
}

/* Two views of one section are the same memory. */
TEST(views_alias)
{
	HANDLE h;
	char *a, *b, *r;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, 4 * G, NULL, 0);
	a = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	b = map_ok(_metadata, h, FILE_MAP_ALL_ACCESS, 0, 0);
	r = map_ok(_metadata, h, FILE_MAP_READ, G, 0);
	ASSERT_NE(a, b);
	ASSERT_EQ(-1, check_bytes(a, 4 * G, 0));	/* zero at first */
	fill(a, 4 * G, 21);
	ASSERT_EQ(-1, check(b, 4 * G, 21));
	ASSERT_EQ(-1, check(r, 3 * G, 21 + G / 8 * 0x9E3779B97F4A7C15ull));
	fill(b + G, G, 22);
	ASSERT_EQ(-1, check(a + G, G, 22));
	ASSERT_EQ(-1, check(r, G, 22));
	/* a read view faults on a write, at the byte */
	ASSERT_SEGV_AT(r + 0x123, try_write(r + 0x123, 1));
	ASSERT_EQ(-1, check(a + G, G, 22));
	unmap_ok(_metadata, a);
	ASSERT_EQ(-1, check(b + G, G, 22));
	close_ok(_metadata, h);
	ASSERT_EQ(-1, check(r, G, 22));
	unmap_ok(_metadata, b);
	unmap_ok(_metadata, r);
}

/* A view is an allocation of type MEM_MAPPED, with the view's protection. */
TEST(view_query)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *v;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, 4 * G, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	vq_ok(_metadata, v + 0x1234, &m);
	ASSERT_MBI(m, v + P, v, PAGE_READWRITE, 4 * G - P, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);
	unmap_ok(_metadata, v + 3 * G);
	vq_ok(_metadata, v, &m);
	ASSERT_EQ(MEM_FREE, m.State);

	v = map_ok(_metadata, h, FILE_MAP_READ, G, 0x3000);
	vq_ok(_metadata, v, &m);
	ASSERT_MBI(m, v, v, PAGE_READONLY, 0x3000, MEM_COMMIT, PAGE_READONLY,
		   MEM_MAPPED);
	ASSERT_SEGV_AT(v + 0x3000, try_read(v + 0x3000));
	unmap_ok(_metadata, v);

	v = map_ok(_metadata, h, FILE_MAP_COPY, 2 * G, 0);
	vq_ok(_metadata, v, &m);
	ASSERT_MBI(m, v, v, PAGE_WRITECOPY, 2 * G, MEM_COMMIT, PAGE_WRITECOPY,
		   MEM_MAPPED);
	unmap_ok(_metadata, v);

	/* the allocation ends where the view does: the rest is free */
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, G + P);
	vq_ok(_metadata, v + G, &m);
	ASSERT_MBI(m, v + G, v, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE,
		   MEM_MAPPED);
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

/* VirtualProtect acts on one page of a view, in that view, without a VMA. */
TEST(view_protect_page)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *v, *w;
	int vmas;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	w = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	memset(v, 1, G);
	vmas = maps_count();
	ASSERT_EQ(PAGE_READWRITE, vp_ok(_metadata, v + P, P, PAGE_READONLY));
	ASSERT_EQ(vmas, maps_count());
	ASSERT_SEGV_AT(v + P + 5, try_write(v + P + 5, 2));
	ASSERT_EQ(1, v[P + 5]);
	ASSERT_NO_FAULT(try_read(v + P + 5));
	ASSERT_NO_FAULT(try_write(v + P - 1, 2));
	ASSERT_NO_FAULT(try_write(v + 2 * P, 2));
	/* the other view keeps its own protection */
	ASSERT_NO_FAULT(try_write(w + P + 5, 3));
	ASSERT_EQ(3, v[P + 5]);

	vq_ok(_metadata, v, &m);
	ASSERT_MBI(m, v, v, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READWRITE,
		   MEM_MAPPED);
	vq_ok(_metadata, v + P, &m);
	ASSERT_MBI(m, v + P, v, PAGE_READWRITE, P, MEM_COMMIT, PAGE_READONLY,
		   MEM_MAPPED);
	vq_ok(_metadata, v + 2 * P, &m);
	ASSERT_MBI(m, v + 2 * P, v, PAGE_READWRITE, G - 2 * P, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);

	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, v + P, P, PAGE_NOACCESS));
	ASSERT_SEGV_AT(v + P + 9, try_read(v + P + 9));
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, v + P, P, PAGE_READWRITE));
	ASSERT_NO_FAULT(try_write(v + P + 5, 4));
	ASSERT_EQ(4, w[P + 5]);
	ASSERT_EQ(vmas, maps_count());
	unmap_ok(_metadata, v);
	unmap_ok(_metadata, w);
	close_ok(_metadata, h);
}

/*
 * A view's access bounds its protections (87), as on Windows; the
 * WRITECOPY values only in copy-on-write views (Windows also takes them
 * in shared views, where they read as READONLY would).
 */
TEST(view_protect_limits)
{
	HANDLE h;
	char *r, *w, *c, *b;
	DWORD old = 0x1234;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	r = map_ok(_metadata, h, FILE_MAP_READ, 0, 0);
	w = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	c = map_ok(_metadata, h, FILE_MAP_COPY, 0, 0);
	b = va_ok(_metadata, NULL, P, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(r, P, PAGE_READWRITE, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(r, P, PAGE_WRITECOPY, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(r, P, PAGE_EXECUTE_READ, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(w, P, PAGE_WRITECOPY, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(w, P, PAGE_EXECUTE_READWRITE, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(b, P, PAGE_WRITECOPY, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(b, P, PAGE_EXECUTE_WRITECOPY, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(c, P, PAGE_WRITECOPY | PAGE_READWRITE,
				    &old));
	ASSERT_EQ(0x1234, old);
	/* within the access: fine */
	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, r, P, PAGE_NOACCESS));
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, r, P, PAGE_READONLY));
	ASSERT_EQ(PAGE_READWRITE, vp_ok(_metadata, w, P, PAGE_READONLY));
	ASSERT_EQ(PAGE_WRITECOPY, vp_ok(_metadata, c, P, PAGE_READONLY));
	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, c, P, PAGE_WRITECOPY));
	unmap_ok(_metadata, r);
	unmap_ok(_metadata, w);
	unmap_ok(_metadata, c);
	close_ok(_metadata, h);
}

/*
 * As on Windows, a copy-on-write view's pages never become PAGE_READWRITE
 * by VirtualProtect: only a write makes a page the view's own.
 */
TEST(copy_on_write_protect)
{
	HANDLE h;
	char *c;
	DWORD old = 0x1234;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	c = map_ok(_metadata, h, FILE_MAP_COPY, 0, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(c, P, PAGE_READWRITE, &old));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(c, P, PAGE_EXECUTE_READWRITE, &old));
	ASSERT_EQ(0x1234, old);
	unmap_ok(_metadata, c);
	close_ok(_metadata, h);
}

/* A copy-on-write view reads the section; its writes stay its own. */
TEST(copy_on_write)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *w, *c;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	w = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(w, G, 31);
	c = map_ok(_metadata, h, FILE_MAP_COPY, 0, 0);
	ASSERT_EQ(-1, check(c, P, 31));
	ASSERT_NO_FAULT(try_write(c + 8, 0x55));
	ASSERT_EQ(0x55, c[8]);
	ASSERT_EQ(-1, check(w, G, 31));	/* the section: unchanged */
	ASSERT_EQ(-1, check(c + 16, P - 16, 31 + 2 * 0x9E3779B97F4A7C15ull));

	vq_ok(_metadata, c, &m);
	ASSERT_MBI(m, c, c, PAGE_WRITECOPY, P, MEM_COMMIT, PAGE_READWRITE,
		   MEM_MAPPED);
	vq_ok(_metadata, c + P, &m);
	ASSERT_MBI(m, c + P, c, PAGE_WRITECOPY, G - P, MEM_COMMIT,
		   PAGE_WRITECOPY, MEM_MAPPED);

	/* a page the view has not touched is the section's current one */
	memset(w + 2 * P, 0x77, P);
	ASSERT_EQ(-1, check_bytes(c + 2 * P, P, 0x77));
	/* reading copies nothing that shows: still WRITECOPY */
	vq_ok(_metadata, c + 2 * P, &m);
	ASSERT_EQ(PAGE_WRITECOPY, m.Protect);
	/* the section's later writes do not reach a written page */
	memset(w, 0x66, P);
	ASSERT_EQ(0x55, c[8]);
	ASSERT_EQ(-1, check(c + 16, P - 16, 31 + 2 * 0x9E3779B97F4A7C15ull));

	unmap_ok(_metadata, c);
	ASSERT_EQ(-1, check_bytes(w, P, 0x66));
	ASSERT_EQ(-1, check(w + P, P, 31 + P / 8 * 0x9E3779B97F4A7C15ull));
	unmap_ok(_metadata, w);
	close_ok(_metadata, h);
}

/* A copy-on-write view may execute: its pages are its own. */
TEST(copy_on_write_execute)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *w, *c;
	int ret = 0;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_EXECUTE_READWRITE, G, NULL, 0);
	w = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	memcpy(w + P, code_ret42, sizeof(code_ret42));
	c = map_ok(_metadata, h, FILE_MAP_COPY | FILE_MAP_EXECUTE, 0, 0);
	vq_ok(_metadata, c, &m);
	ASSERT_MBI(m, c, c, PAGE_EXECUTE_WRITECOPY, G, MEM_COMMIT,
		   PAGE_EXECUTE_WRITECOPY, MEM_MAPPED);
	ASSERT_NO_FAULT(try_exec(c + P, &ret));
	ASSERT_EQ(42, ret);
	ASSERT_EQ(PAGE_EXECUTE_WRITECOPY,
		  vp_ok(_metadata, c + P, P, PAGE_WRITECOPY));
	ASSERT_SEGV_AT(c + P, try_exec(c + P, &ret));
	ASSERT_EQ(PAGE_WRITECOPY,
		  vp_ok(_metadata, c + P, P, PAGE_EXECUTE_WRITECOPY));
	ret = 0;
	ASSERT_NO_FAULT(try_exec(c + P, &ret));
	ASSERT_EQ(42, ret);
	unmap_ok(_metadata, c);
	/* without FILE_MAP_EXECUTE, a copy-on-write view does not execute */
	c = map_ok(_metadata, h, FILE_MAP_COPY, 0, 0);
	ASSERT_SEGV_AT(c + P, try_exec(c + P, &ret));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(c + P, P, PAGE_EXECUTE_WRITECOPY,
				    (DWORD *)&ret));
	unmap_ok(_metadata, c);
	unmap_ok(_metadata, w);
	close_ok(_metadata, h);
}

/* SEC_RESERVE: views show reserved pages, and VirtualAlloc commits the
 * section's pages for every view. */
TEST(sec_reserve)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *v1, *v2, *r;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE | SEC_RESERVE, 2 * G, NULL, 0);
	v1 = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	vq_ok(_metadata, v1, &m);
	ASSERT_MBI(m, v1, v1, PAGE_READWRITE, 2 * G, MEM_RESERVE, 0,
		   MEM_MAPPED);
	ASSERT_SEGV_AT(v1 + 3, try_read(v1 + 3));
	ASSERT_SEGV_AT(v1 + P + 8, try_write(v1 + P + 8, 1));

	ASSERT_EQ(v1 + P, va_ok(_metadata, v1 + P, P, MEM_COMMIT,
				PAGE_READWRITE));
	ASSERT_EQ(-1, check_bytes(v1 + P, P, 0));
	fill(v1 + P, P, 41);
	vq_ok(_metadata, v1, &m);
	ASSERT_MBI(m, v1, v1, PAGE_READWRITE, P, MEM_RESERVE, 0, MEM_MAPPED);
	vq_ok(_metadata, v1 + P, &m);
	ASSERT_MBI(m, v1 + P, v1, PAGE_READWRITE, P, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);

	/* a second view sees the page committed, and its data */
	v2 = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	vq_ok(_metadata, v2 + P, &m);
	ASSERT_MBI(m, v2 + P, v2, PAGE_READWRITE, P, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);
	ASSERT_EQ(-1, check(v2 + P, P, 41));
	ASSERT_SEGV_AT(v2, try_read(v2));

	/* a read view commits for reading only */
	r = map_ok(_metadata, h, FILE_MAP_READ, 0, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(r + 2 * P, P, MEM_COMMIT, PAGE_READWRITE));
	vq_ok(_metadata, v1 + 2 * P, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	ASSERT_EQ(r + 2 * P, va_ok(_metadata, r + 2 * P, P, MEM_COMMIT,
				   PAGE_READONLY));
	vq_ok(_metadata, v1 + 2 * P, &m);
	ASSERT_MBI(m, v1 + 2 * P, v1, PAGE_READWRITE, P, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);
	memset(v1 + 2 * P, 0x42, P);
	ASSERT_EQ(-1, check_bytes(r + 2 * P, P, 0x42));
	ASSERT_SEGV_AT(r + 2 * P + 1, try_write(r + 2 * P + 1, 1));

	/* committing again keeps the data */
	ASSERT_EQ(v2 + P, va_ok(_metadata, v2 + P, P, MEM_COMMIT,
				PAGE_READWRITE));
	ASSERT_EQ(-1, check(v1 + P, P, 41));

	/* views are not decommitted nor released by VirtualFree */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(v1 + P, P, MEM_DECOMMIT));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v1, 0, MEM_DECOMMIT));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v1, 0, MEM_RELEASE));
	ASSERT_EQ(-1, check(v2 + P, P, 41));
	unmap_ok(_metadata, v1);
	unmap_ok(_metadata, v2);
	unmap_ok(_metadata, r);
	close_ok(_metadata, h);
}

/*
 * VirtualFree and VirtualLock leave views alone (87); MEM_RESET and
 * MEM_RESET_UNDO succeed and keep the data (a view's pages are the
 * section's).
 */
TEST(view_not_private)
{
	HANDLE h;
	char *v;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, G, 51);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, 0, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, 0, MEM_DECOMMIT));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, P, MEM_DECOMMIT));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualLock(v, P));
	ASSERT_EQ((uintptr_t)v,
		  (uintptr_t)VirtualAlloc(v, P, MEM_RESET, PAGE_READWRITE));
	ASSERT_EQ((uintptr_t)v,
		  (uintptr_t)VirtualAlloc(v, P, MEM_RESET_UNDO, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(v, P, MEM_RESERVE, PAGE_READWRITE));
	ASSERT_EQ(-1, check(v, G, 51));
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

TEST(unmap)
{
	MEMORY_BASIC_INFORMATION m;
	HANDLE h;
	char *v, *b;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, 2 * G, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	b = va_ok(_metadata, NULL, G, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(NULL));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile((void *)0x1000));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(b));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(&m));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFile((void *)0x7FFFFFFF0000));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile((void *)-1));

	/* any address in the view unmaps the whole view */
	unmap_ok(_metadata, v + G + 0x1234);
	vq_ok(_metadata, v, &m);
	ASSERT_EQ(MEM_FREE, m.State);
	ASSERT_SEGV_AT(v + 7, try_read(v + 7));
	ASSERT_SEGV_AT(v + G + 7, try_read(v + G + 7));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(v));
	/* the space is free again */
	ASSERT_EQ(v, va_ok(_metadata, v, G, MEM_RESERVE, PAGE_NOACCESS));
	vf_ok(_metadata, v, 0, MEM_RELEASE);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	close_ok(_metadata, h);
}

TEST(flush)
{
	HANDLE h;
	char *v, *b;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE | SEC_RESERVE, G, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	b = va_ok(_metadata, NULL, P, MEM_COMMIT, PAGE_READWRITE);

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, FlushViewOfFile(v, 0));
	ASSERT_EQ(TRUE, FlushViewOfFile(v + 0x1001, 10));
	ASSERT_EQ(TRUE, FlushViewOfFile(v + G - 1, 1));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, FlushViewOfFile(NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, FlushViewOfFile(b, P));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, FlushViewOfFile(&h, 1));
	unmap_ok(_metadata, v);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, FlushViewOfFile(v, 0));
	close_ok(_metadata, h);
}

/* ---- lifetime ------------------------------------------------------------ */

/* Shmem in kB once at most @limit, or after 2 s. */
static long shmem_settled_kb(long limit)
{
	long kb = meminfo_kb("Shmem");

	for (int i = 0; i < 200 && kb > limit; i++) {
		usleep(10000);
		kb = meminfo_kb("Shmem");
	}
	return kb;
}

/* A section lives while a view holds it; its memory goes with the last. */
TEST(lifetime)
{
	const long size = 16 * MiB, slack = 2 * 1024;
	long before, touched;
	HANDLE h;
	char *v;

	NEED_SECTIONS();
	before = meminfo_kb("Shmem");
	h = cfm_ok(_metadata, PAGE_READWRITE, size, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, size, 61);
	touched = meminfo_kb("Shmem");
	ASSERT_LE(before + size / 1024 - slack, touched);

	close_ok(_metadata, h);
	ASSERT_EQ(-1, check(v, size, 61));
	ASSERT_LE(before + size / 1024 - slack, meminfo_kb("Shmem"));
	fill(v, size, 62);
	ASSERT_EQ(-1, check(v, size, 62));

	unmap_ok(_metadata, v);
	ASSERT_GE(before + slack, shmem_settled_kb(before + slack))
		TH_LOG("Shmem %ld kB before, %ld touched", before, touched);
}

/*
 * As on Windows, a name lasts while a handle does: a view keeps the
 * section, not its name, which a new section may then take.
 */
TEST(name_lifetime)
{
	char name[64];
	HANDLE h, o;
	char *v, *w;

	NEED_SECTIONS();
	name_of(name, sizeof(name), "life");
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, G, 63);
	o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
	ASSERT_NE(NULL, o);
	close_ok(_metadata, o);
	close_ok(_metadata, h);
	ASSERT_EQ(-1, check(v, G, 63));
	ASSERT_FAILS(ERROR_FILE_NOT_FOUND,
		     OpenFileMappingA(FILE_MAP_READ, FALSE, name));
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	w = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	ASSERT_EQ(-1, check_bytes(w, G, 0));
	ASSERT_EQ(-1, check(v, G, 63));
	unmap_ok(_metadata, w);
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

/* ---- other processes ----------------------------------------------------- */

/* The exec'd children's exit codes: 0, or which step failed. */
enum {
	CHILD_OK,
	CHILD_OPEN = 10,
	CHILD_MAP,
	CHILD_DATA,
	CHILD_ERROR,
	CHILD_USAGE,
};

/* fork, then exec this binary with @args; its exit code, or -1. */
static int exec_child(const char *mode, const char *arg)
{
	char *argv[] = { "win32_section", (char *)mode, (char *)arg, NULL };
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The child's side: check seed @seen in the view, write @seed + 1. */
static int child_view(HANDLE h, uint64_t seen)
{
	char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);

	if (!v)
		return CHILD_MAP;
	if (check(v, G, seen) != -1)
		return CHILD_DATA;
	fill(v, G, seen + 1);
	return CHILD_OK;
}

/* The modes of main() below. */
static int child_main(const char *mode, const char *arg)
{
	HANDLE h;

	if (!strcmp(mode, "--child-open")) {
		h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, arg);
		return h ? child_view(h, 71) : CHILD_OPEN;
	}
	h = (HANDLE)(uintptr_t)strtoull(arg, NULL, 0);
	if (!strcmp(mode, "--child-handle"))
		return child_view(h, 81);
	if (!strcmp(mode, "--child-no-handle")) {
		/* not inherited: closed at exec */
		if (MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0))
			return CHILD_MAP;
		return GetLastError() == ERROR_INVALID_HANDLE ? CHILD_OK :
							       CHILD_ERROR;
	}
	return CHILD_USAGE;
}

/* A named section shared with a program run by fork and exec. */
TEST(fork_exec_named)
{
	char name[64];
	HANDLE h;
	char *v;

	NEED_SECTIONS();
	name_of(name, sizeof(name), "exec");
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, G, 71);
	ASSERT_EQ(CHILD_OK, exec_child("--child-open", name));
	ASSERT_EQ(-1, check(v, G, 72));
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

/* bInheritHandle: the handle's number means the same section after exec. */
TEST(inherit_handle)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
	HANDLE h, p;
	char arg[32];
	char *v;

	NEED_SECTIONS();
	SetLastError(LE_SENTINEL);
	h = CreateFileMappingA(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, G,
			       NULL);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, GetLastError());
	ASSERT_EQ(0, fcntl(ntmem_fd_from_handle(h), F_GETFD) & FD_CLOEXEC);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, G, 81);
	snprintf(arg, sizeof(arg), "%#lx", (unsigned long)(uintptr_t)h);
	ASSERT_EQ(CHILD_OK, exec_child("--child-handle", arg));
	ASSERT_EQ(-1, check(v, G, 82));

	/* without it, the exec'd child has no such handle */
	sa.bInheritHandle = FALSE;
	p = CreateFileMappingA(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, G,
			       NULL);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(FD_CLOEXEC,
		  fcntl(ntmem_fd_from_handle(p), F_GETFD) & FD_CLOEXEC);
	snprintf(arg, sizeof(arg), "%#lx", (unsigned long)(uintptr_t)p);
	ASSERT_EQ(CHILD_OK, exec_child("--child-no-handle", arg));
	close_ok(_metadata, p);
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

static int forked_child(void *arg)
{
	return child_view(arg, 91);
}

/* A forked child has the parent's handles, as it has its descriptors. */
TEST(fork_shares_handles)
{
	HANDLE h;
	char *v;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, G, 91);
	ASSERT_EQ(CHILD_OK, run_in_child(forked_child, h));
	ASSERT_EQ(-1, check(v, G, 92));
	unmap_ok(_metadata, v);
	close_ok(_metadata, h);
}

/* A handle is a descriptor: SCM_RIGHTS passes it on. */
TEST(scm_rights)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte = 'h';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int sv[2], fd;
	HANDLE h, r;
	char *v, *w;

	NEED_SECTIONS();
	h = cfm_ok(_metadata, PAGE_READWRITE, G, NULL, 0);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	fd = ntmem_fd_from_handle(h);
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	ASSERT_EQ(1, sendmsg(sv[0], &msg, 0));
	close_ok(_metadata, h);

	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = sizeof(cbuf);
	ASSERT_EQ(1, recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC));
	cm = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, cm);
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	r = ntmem_handle_from_fd(fd);
	v = map_ok(_metadata, r, FILE_MAP_WRITE, 0, 0);
	w = map_ok(_metadata, r, FILE_MAP_READ, 0, 0);
	fill(v, G, 95);
	ASSERT_EQ(-1, check(w, G, 95));
	close_ok(_metadata, r);
	close(sv[0]);
	close(sv[1]);
	unmap_ok(_metadata, v);
	unmap_ok(_metadata, w);
}

/* As nobody: the root's name is not there, and creating it makes another. */
static int other_user_child(void *arg)
{
	const char *name = arg;
	HANDLE h;
	char *v;

	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY,
							    NOBODY))
		return CHILD_USAGE;
	SetLastError(LE_SENTINEL);
	if (OpenFileMappingA(FILE_MAP_READ, FALSE, name))
		return CHILD_OPEN;
	if (GetLastError() != ERROR_FILE_NOT_FOUND)
		return CHILD_ERROR;
	SetLastError(LE_SENTINEL);
	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       G, name);
	if (!h)
		return CHILD_OPEN;
	if (GetLastError() != 0)	/* not ERROR_ALREADY_EXISTS */
		return CHILD_ERROR;
	v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
	if (!v)
		return CHILD_MAP;
	if (check_bytes(v, G, 0) != -1)
		return CHILD_DATA;
	fill(v, G, 102);
	return CHILD_OK;
}

TEST(other_user)
{
	char name[64];
	HANDLE h, o;
	char *v;

	NEED_SECTIONS();
	if (geteuid())
		SKIP(return, "needs root, to become another user");
	name_of(name, sizeof(name), "user");
	h = cfm_ok(_metadata, PAGE_READWRITE, G, name, 0);
	v = map_ok(_metadata, h, FILE_MAP_WRITE, 0, 0);
	fill(v, G, 101);
	ASSERT_EQ(CHILD_OK, run_in_child(other_user_child, name));
	ASSERT_EQ(-1, check(v, G, 101));
	o = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
	ASSERT_NE(NULL, o);
	unmap_ok(_metadata, v);
	v = map_ok(_metadata, o, FILE_MAP_READ, 0, 0);
	ASSERT_EQ(-1, check(v, G, 101));
	unmap_ok(_metadata, v);
	close_ok(_metadata, o);
	close_ok(_metadata, h);
}

/* A file of @len bytes of fill(@seed), opened again with @flags. */
static int file_of(const char *path, size_t len, uint64_t seed, int flags)
{
	char *buf = malloc(len ? len : 1);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);

	if (fd < 0 || !buf)
		return -1;
	fill(buf, len, seed);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len)
		return -1;
	free(buf);
	close(fd);
	return open(path, flags);
}

/*
 * A file section: CreateFileMapping of ntmem_handle_from_fd(); the view's
 * writes are the file's, FlushViewOfFile and UnmapViewOfFile keep them,
 * a copy-on-write view leaves the file alone, and size 0 is the file's.
 */
TEST(file_section)
{
	const char *path = "/tmp/ntmem-win32-file";
	MEMORY_BASIC_INFORMATION m;
	char *v, *c, buf[8];
	HANDLE h;
	int fd;

	NEED_SECTIONS();
	fd = file_of(path, 3 * G, 61, O_RDWR);
	ASSERT_LE(0, fd);
	SetLastError(LE_SENTINEL);
	h = CreateFileMappingA(ntmem_handle_from_fd(fd), NULL, PAGE_READWRITE,
			       0, 0, NULL);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, GetLastError());
	v = map_ok(_metadata, h, FILE_MAP_WRITE, G, 0);
	c = map_ok(_metadata, h, FILE_MAP_COPY, 0, 0);
	ASSERT_EQ(2 * G, VirtualQuery(v, &m, sizeof(m)) ? m.RegionSize : 0);
	ASSERT_EQ(MEM_MAPPED, m.Type);
	ASSERT_EQ(-1, check(c, 3 * G, 61));
	memcpy(v + 5, "ntmem", 5);
	ASSERT_EQ(TRUE, FlushViewOfFile(v, 0));
	ASSERT_EQ(TRUE, FlushViewOfFile(v + P, 10));
	ASSERT_EQ(5, pread(fd, buf, 5, G + 5));
	ASSERT_EQ(0, memcmp(buf, "ntmem", 5));
	c[7] = 'c';
	ASSERT_EQ(1, pread(fd, buf, 1, 7));
	ASSERT_NE('c', buf[0]);
	v[2 * P] = 'u';
	unmap_ok(_metadata, v);
	unmap_ok(_metadata, c);
	close_ok(_metadata, h);
	ASSERT_EQ(1, pread(fd, buf, 1, G + 2 * P));
	ASSERT_EQ('u', buf[0]);
	close(fd);
	unlink(path);
}

/* What a file section refuses, and the codes Windows gives. */
TEST(file_section_errors)
{
	const char *path = "/tmp/ntmem-win32-file-errors";
	HANDLE h;
	int fd;

	NEED_SECTIONS();
	fd = file_of(path, P, 62, O_RDONLY);
	ASSERT_LE(0, fd);
	/* a read-only descriptor: no writable section, none bigger */
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     CreateFileMappingA(ntmem_handle_from_fd(fd), NULL,
					PAGE_READWRITE, 0, 0, NULL));
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     CreateFileMappingA(ntmem_handle_from_fd(fd), NULL,
					PAGE_READONLY, 0, 2 * P, NULL));
	h = CreateFileMappingA(ntmem_handle_from_fd(fd), NULL, PAGE_READONLY,
			       0, 0, NULL);
	ASSERT_NE(NULL, h);
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0));
	close_ok(_metadata, h);
	close(fd);
	/* an empty file needs a size */
	fd = open(path, O_RDWR | O_TRUNC);
	ASSERT_LE(0, fd);
	ASSERT_FAILS(ERROR_FILE_INVALID,
		     CreateFileMappingA(ntmem_handle_from_fd(fd), NULL,
					PAGE_READWRITE, 0, 0, NULL));
	close(fd);
	/* a closed descriptor, and one that is no file */
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     CreateFileMappingA(ntmem_handle_from_fd(fd), NULL,
					PAGE_READONLY, 0, P, NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     CreateFileMappingA((HANDLE)(uintptr_t)3, NULL,
					PAGE_READONLY, 0, P, NULL));
	unlink(path);
}

/* TEST_HARNESS_MAIN, with the exec'd children's modes first. */
static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strncmp(argv[1], "--child-", 8))
		return child_main(argv[1], argv[2]);
	return test_harness_run(argc, argv);
}
