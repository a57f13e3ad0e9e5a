// SPDX-License-Identifier: GPL-2.0
/*
 * Placeholders and address requirements: VirtualAlloc2, MapViewOfFile3
 * and MapViewOfFile2, UnmapViewOfFile2 and UnmapViewOfFileEx, VirtualFree
 * with MEM_PRESERVE_PLACEHOLDER and MEM_COALESCE_PLACEHOLDERS, and what
 * VirtualQuery reports, with Windows' checks and error codes (those of
 * Wine's tests, which run on Windows: dlls/kernelbase/tests/process.c,
 * dlls/ntdll/tests/virtual.c), and their real effects: the documented
 * ring buffer, whose two views of one section wrap; placeholders split
 * page by page and joined again, one VMA each; an allocation or a view
 * over a placeholder and back; a placeholder is never accessible; a
 * reservation lands inside its bounds at its alignment.  Everything skips
 * on a module without NTMEM_FEATURE_PLACEHOLDERS.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define MiB_	0x100000UL
#define PRESERVE	(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)
#define COALESCE	(MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)
#define PLACEHOLDER	(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER)
#define REPLACE		(MEM_RESERVE | MEM_REPLACE_PLACEHOLDER)
/* a handle that is no process (nor a section) */
#define OTHER_PROCESS	((HANDLE)(uintptr_t)0x1234)

/* memory ntmem did not make: the program's own */
static char program_data[2 * 4096];

/* An older module has no placeholders: skip. */
#define NEED_PLACEHOLDERS() do {					\
	if (!ntmem_module_has(NTMEM_FEATURE_PLACEHOLDERS))		\
		SKIP(return, "the module has no placeholders "		\
		     "(NTMEM_FEATURE_PLACEHOLDERS)");			\
} while (0)

/* Windows placeholders in /proc/self/maps: one VMA each. */
static int holds(void)
{
	return maps_count_matching(NTMEM_HOLD_MAPS_NAME);
}

/* VirtualAlloc2 that must succeed (and return @addr if it is not NULL). */
static char *va2_ok(struct __test_metadata *_metadata, void *addr,
		    SIZE_T size, DWORD type, DWORD prot,
		    MEM_EXTENDED_PARAMETER *params, ULONG count)
{
	char *p;

	SetLastError(LE_SENTINEL);
	p = VirtualAlloc2(NULL, addr, size, type, prot, params, count);
	ASSERT_NE(NULL, p) TH_LOG("VirtualAlloc2(%p, %#zx, %#x, %#x): %u",
				  addr, size, type, prot, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	if (addr)
		ASSERT_EQ((uintptr_t)addr & ~(P - 1), (uintptr_t)p);
	return p;
}

/* A new placeholder of @size bytes, anywhere. */
static char *hold_new(struct __test_metadata *_metadata, SIZE_T size)
{
	char *p = va2_ok(_metadata, NULL, size, PLACEHOLDER, PAGE_NOACCESS,
			 NULL, 0);

	ASSERT_EQ(0, (uintptr_t)p % G);
	return p;
}

/* The page holding @p is in a placeholder of @size bytes at @base. */
static void assert_hold(struct __test_metadata *_metadata, const char *base,
			const char *p, SIZE_T size)
{
	const char *page = (const char *)((uintptr_t)p & ~(P - 1));
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, p, &m);
	ASSERT_MBI(m, page, base, PAGE_NOACCESS, size - (page - base),
		   MEM_RESERVE, 0, MEM_PRIVATE);
}

static void assert_free(struct __test_metadata *_metadata, const void *p)
{
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, p, &m);
	ASSERT_EQ(MEM_FREE, m.State);
}

static HANDLE section_ok(struct __test_metadata *_metadata, SIZE_T size)
{
	HANDLE h;

	SetLastError(LE_SENTINEL);
	h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
			       (DWORD)size, NULL);
	ASSERT_NE(NULL, h) TH_LOG("CreateFileMappingA: %u", GetLastError());
	ASSERT_EQ(0, GetLastError());
	return h;
}

/* MapViewOfFile3 that must succeed at @base (if not NULL). */
static char *map3_ok(struct __test_metadata *_metadata, HANDLE h, void *base,
		     ULONG64 offset, SIZE_T size, ULONG type, ULONG prot)
{
	char *v;

	SetLastError(LE_SENTINEL);
	v = MapViewOfFile3(h, GetCurrentProcess(), base, offset, size, type,
			   prot, NULL, 0);
	ASSERT_NE(NULL, v) TH_LOG("MapViewOfFile3(%p, %#lx, %#zx, %#x, %#x): "
				  "%u", base, (unsigned long)offset, size,
				  type, prot, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	if (base)
		ASSERT_EQ(base, v);
	return v;
}

static void unmap_ex_ok(struct __test_metadata *_metadata, void *v,
			ULONG flags)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, UnmapViewOfFileEx(v, flags))
		TH_LOG("UnmapViewOfFileEx(%p, %#x): %u", v, flags,
		       GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

static void close_ok(struct __test_metadata *_metadata, HANDLE h)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, CloseHandle(h));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* An extended parameter of address requirements. */
static MEM_EXTENDED_PARAMETER requirements(MEM_ADDRESS_REQUIREMENTS *r,
					   uintptr_t lowest,
					   uintptr_t highest, SIZE_T align)
{
	MEM_EXTENDED_PARAMETER p;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	r->LowestStartingAddress = (void *)lowest;
	r->HighestEndingAddress = (void *)highest;
	r->Alignment = align;
	p.Type = MemExtendedParameterAddressRequirements;
	p.Pointer = r;
	return p;
}

/* ---- placeholders -------------------------------------------------------- */

/* Reserved, private, inaccessible, one VMA; released like an allocation. */
TEST(placeholder_query)
{
	int vmas = maps_count(), n = holds();
	MEMORY_BASIC_INFORMATION m;
	char *p, *q;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 4 * G);
	ASSERT_EQ(vmas + 1, maps_count());
	ASSERT_EQ(n + 1, holds());
	assert_hold(_metadata, p, p, 4 * G);
	assert_hold(_metadata, p, p + G + 5, 4 * G);
	vq_ok(_metadata, p - 1, &m);
	ASSERT_NE(p, m.AllocationBase);
	/* the process by its pseudo-handle, and at the top */
	SetLastError(LE_SENTINEL);
	q = VirtualAlloc2(GetCurrentProcess(), NULL, G,
			  PLACEHOLDER | MEM_TOP_DOWN, PAGE_NOACCESS, NULL, 0);
	ASSERT_NE(NULL, q);
	ASSERT_LT((uintptr_t)p, (uintptr_t)q);
	assert_hold(_metadata, q, q, G);
	vf_ok(_metadata, q, 0, MEM_RELEASE);

	vf_ok(_metadata, p, 0, MEM_RELEASE);
	assert_free(_metadata, p);
	assert_free(_metadata, p + 3 * G);
	ASSERT_EQ(vmas, maps_count());
	ASSERT_EQ(n, holds());
}

/* Any access is an access violation at the exact byte. */
TEST(placeholder_access)
{
	char *p;
	int ret;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 2 * G);
	ASSERT_SEGV_AT(p, try_read(p));
	ASSERT_SEGV_AT(p + 0x1234, try_write(p + 0x1234, 1));
	ASSERT_SEGV_AT(p + 2 * G - 1, try_read(p + 2 * G - 1));
	ASSERT_SEGV_AT(p + G, try_exec(p + G, &ret));
	vf_ok(_metadata, p + G / 2, G / 4, PRESERVE);
	ASSERT_SEGV_AT(p + G / 2 + 7, try_write(p + G / 2 + 7, 1));
	ASSERT_SEGV_AT(p + G - 3, try_read(p + G - 3));
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	vf_ok(_metadata, p + G / 2, 0, MEM_RELEASE);
	vf_ok(_metadata, p + G / 2 + G / 4, 0, MEM_RELEASE);
}

/* No memory: neither committed, reserved again, protected nor unmapped. */
TEST(placeholder_is_not_memory)
{
	DWORD old;
	HANDLE h;
	char *p;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 2 * G);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(p, G, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(p, G, MEM_RESERVE, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, p, 2 * G, PLACEHOLDER, PAGE_NOACCESS,
				   NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, p, 2 * G, MEM_RESERVE, PAGE_NOACCESS,
				   NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtect(p, P, PAGE_READONLY, &old));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(p));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFileEx(p, MEM_PRESERVE_PLACEHOLDER));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFile2(GetCurrentProcess(), p,
				      MEM_PRESERVE_PLACEHOLDER));
	h = section_ok(_metadata, G);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, G, p));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFile3(h, NULL, p, 0, G, 0, PAGE_READWRITE,
				    NULL, 0));
	close_ok(_metadata, h);
	assert_hold(_metadata, p, p, 2 * G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/* VirtualAlloc2's own checks of a placeholder's type and protection. */
TEST(placeholder_reserve_errors)
{
	char *f, *b;

	NEED_PLACEHOLDERS();
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, PLACEHOLDER, PAGE_READWRITE,
				   NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, PLACEHOLDER, 0, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE_PLACEHOLDER,
				   PAGE_NOACCESS, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, PLACEHOLDER | MEM_COMMIT,
				   PAGE_NOACCESS, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, PLACEHOLDER | MEM_WRITE_WATCH,
				   PAGE_NOACCESS, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G,
				   PLACEHOLDER | MEM_REPLACE_PLACEHOLDER,
				   PAGE_NOACCESS, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, 0, PLACEHOLDER, PAGE_NOACCESS,
				   NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE | 0x2,
				   PAGE_NOACCESS, NULL, 0));
	/* VirtualAlloc has no placeholder types */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, G, PLACEHOLDER, PAGE_NOACCESS));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAllocEx(GetCurrentProcess(), NULL, G, PLACEHOLDER,
				    PAGE_NOACCESS));
	/* another process: its handle is checked after the arguments */
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualAlloc2(OTHER_PROCESS, NULL, G, PLACEHOLDER,
				   PAGE_NOACCESS, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(OTHER_PROCESS, NULL, 0, PLACEHOLDER,
				   PAGE_NOACCESS, NULL, 0));
	/* over an allocation; below 64 KiB */
	b = va_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, b, G, PLACEHOLDER, PAGE_NOACCESS,
				   NULL, 0));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, (void *)0x1000, G, PLACEHOLDER,
				   PAGE_NOACCESS, NULL, 0));
	/* at a free address, rounded down to 64 KiB as a reservation is */
	f = find_free(_metadata, 2 * G);
	SetLastError(LE_SENTINEL);
	b = VirtualAlloc2(NULL, f + 0x1234, G, PLACEHOLDER, PAGE_NOACCESS,
			  NULL, 0);
	ASSERT_EQ(f, b);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	assert_hold(_metadata, f, f, G + 2 * P);
	vf_ok(_metadata, f, 0, MEM_RELEASE);
}

/* ---- splitting and joining ----------------------------------------------- */

/* Wine's "split in three", "lower part" and "second half", page by page. */
TEST(split)
{
	int vmas = maps_count(), n = holds();
	char *p, *p1, *p2;

	NEED_PLACEHOLDERS();
	/* in three: a piece from the middle */
	p = hold_new(_metadata, 2 * 8 * G);
	p1 = p + 8 * G / 2;
	p2 = p1 + 8 * G / 4;
	vf_ok(_metadata, p1, 8 * G / 4, PRESERVE);
	ASSERT_EQ(vmas + 3, maps_count());
	ASSERT_EQ(n + 3, holds());
	assert_hold(_metadata, p, p, 8 * G / 2);
	assert_hold(_metadata, p1, p1, 8 * G / 4);
	assert_hold(_metadata, p2, p2, 2 * 8 * G - 8 * G / 2 - 8 * G / 4);
	assert_hold(_metadata, p1, p1 + 5 * P + 3, 8 * G / 4);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	vf_ok(_metadata, p1, 0, MEM_RELEASE);
	vf_ok(_metadata, p2, 0, MEM_RELEASE);
	ASSERT_EQ(vmas, maps_count());

	/* the lower part, 16 KiB of 64 KiB: pages, not granules */
	p = hold_new(_metadata, G);
	vf_ok(_metadata, p, G / 4, PRESERVE);
	vf_ok(_metadata, p + G / 4, G / 4, PRESERVE);
	assert_hold(_metadata, p, p, G / 4);
	assert_hold(_metadata, p + G / 4, p + G / 4, G / 4);
	assert_hold(_metadata, p + G / 2, p + G / 2, G / 2);
	ASSERT_EQ(n + 3, holds());
	/* a byte range covers its pages, as a decommit's does */
	vf_ok(_metadata, p + G / 2 + 1, P - 2, PRESERVE);
	assert_hold(_metadata, p + G / 2, p + G / 2, P);
	assert_hold(_metadata, p + G / 2 + P, p + G / 2 + P, G / 2 - P);
	ASSERT_EQ(n + 4, holds());
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	vf_ok(_metadata, p + G / 4, 0, MEM_RELEASE);
	vf_ok(_metadata, p + G / 2, 0, MEM_RELEASE);
	vf_ok(_metadata, p + G / 2 + P, 0, MEM_RELEASE);

	/* the second half */
	p = hold_new(_metadata, 2 * G);
	vf_ok(_metadata, p + G, G, PRESERVE);
	assert_hold(_metadata, p, p, G);
	assert_hold(_metadata, p + G, p + G, G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	assert_free(_metadata, p);
	assert_hold(_metadata, p + G, p + G, G);
	vf_ok(_metadata, p + G, 0, MEM_RELEASE);
	ASSERT_EQ(vmas, maps_count());
	ASSERT_EQ(n, holds());
}

/* What VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) refuses. */
TEST(split_errors)
{
	char *p, *b, *f, *v;
	HANDLE h;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 2 * G);
	/* the types that go with placeholders, and those that do not */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p, G,
				 MEM_DECOMMIT | MEM_PRESERVE_PLACEHOLDER));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p, G, MEM_PRESERVE_PLACEHOLDER));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p, 2 * G, MEM_COALESCE_PLACEHOLDERS));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p, G, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER |
				 MEM_COALESCE_PLACEHOLDERS));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p, G,
				 MEM_DECOMMIT | MEM_COALESCE_PLACEHOLDERS));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(p, G, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualFreeEx(OTHER_PROCESS, p, G, PRESERVE));
	/* size 0: at the base 87, elsewhere 487 (not at the base) */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(p, 0, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p + G, 0, PRESERVE));
	/* the whole placeholder: nothing to split */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p, 2 * G, PRESERVE));
	/* past its end */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p + G, G + P, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(p, 3 * G, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(p, (SIZE_T)-1 - (uintptr_t)p, PRESERVE));
	assert_hold(_metadata, p, p, 2 * G);

	/* nothing there: free memory, NULL, memory ntmem did not make */
	f = find_free(_metadata, G);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(f, P, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(NULL, P, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(program_data, P, PRESERVE));
	/* an allocation not made over a placeholder, whole: 487 */
	b = va2_ok(_metadata, NULL, 2 * G, MEM_RESERVE, PAGE_NOACCESS, NULL,
		   0);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b, 2 * G, PRESERVE));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	/* a view: 87, UnmapViewOfFile2's to unmap */
	h = section_ok(_metadata, 2 * G);
	v = map3_ok(_metadata, h, NULL, 0, 2 * G, 0, PAGE_READWRITE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, G, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, 2 * G, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v, 2 * G, COALESCE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFile2(GetCurrentProcess(), v,
				      MEM_PRESERVE_PLACEHOLDER));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, UnmapViewOfFile2(GetCurrentProcess(), v, 0));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	close_ok(_metadata, h);

	assert_hold(_metadata, p, p, 2 * G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/*
 * Part of an allocation not made over a placeholder: 487, as Wine's test
 * finds on Windows (kernelbase/tests/process.c, test_VirtualAlloc2).
 */
TEST(split_not_placeholder)
{
	char *b;

	NEED_PLACEHOLDERS();
	b = va2_ok(_metadata, NULL, 2 * G, MEM_RESERVE, PAGE_NOACCESS, NULL,
		   0);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b, G, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b + G, G, PRESERVE));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(coalesce)
{
	int vmas = maps_count(), n = holds();
	char *p;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 4 * G);
	vf_ok(_metadata, p, G, PRESERVE);
	vf_ok(_metadata, p + G, G / 2, PRESERVE);
	ASSERT_EQ(n + 3, holds());
	ASSERT_EQ(vmas + 3, maps_count());
	/* the first two only */
	vf_ok(_metadata, p, G + G / 2, COALESCE);
	ASSERT_EQ(n + 2, holds());
	assert_hold(_metadata, p, p + G + 5, G + G / 2);
	assert_hold(_metadata, p + G + G / 2, p + G + G / 2,
		    4 * G - G - G / 2);
	/* all of it: one placeholder, as made */
	vf_ok(_metadata, p, 4 * G, COALESCE);
	ASSERT_EQ(n + 1, holds());
	ASSERT_EQ(vmas + 1, maps_count());
	assert_hold(_metadata, p, p, 4 * G);
	/* and it splits again */
	vf_ok(_metadata, p + 2 * G, G, PRESERVE);
	vf_ok(_metadata, p + 2 * G, 2 * G, COALESCE);
	vf_ok(_metadata, p, 4 * G, COALESCE);
	assert_hold(_metadata, p, p, 4 * G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	ASSERT_EQ(vmas, maps_count());
	ASSERT_EQ(n, holds());
}

/* What VirtualFree(MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS) refuses. */
TEST(coalesce_errors)
{
	char *p, *b;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 4 * G);
	/* one placeholder alone is not joined */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p, 4 * G, COALESCE));
	vf_ok(_metadata, p, G, PRESERVE);
	vf_ok(_metadata, p + G, G, PRESERVE);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p, G, COALESCE));
	/* sizes that end inside a placeholder, or past the last */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(p, 4 * G + P, COALESCE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(p, 4 * G - P, COALESCE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(p, 2 * G + P, COALESCE));
	/* not at a placeholder's base */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(p + P, 2 * G - P, COALESCE));
	/* size 0: 87 at a base, 487 elsewhere */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(p, 0, COALESCE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p + P, 0, COALESCE));
	/* a plain release takes one placeholder, never a run */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(p, 4 * G,
							   MEM_RELEASE));
	/* an allocation in the run: replaced placeholders are not joined */
	b = va2_ok(_metadata, p + G, G, REPLACE, PAGE_READWRITE, NULL, 0);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p, 2 * G, COALESCE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(p, 4 * G, COALESCE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b, 3 * G, COALESCE));
	vf_ok(_metadata, b, G, PRESERVE);
	/* nor are other allocations */
	b = va_ok(_metadata, NULL, 2 * G, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b, 2 * G, COALESCE));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b, 2 * G, COALESCE));

	vf_ok(_metadata, p, 4 * G, COALESCE);
	assert_hold(_metadata, p, p, 4 * G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/* ---- an allocation over a placeholder ------------------------------------ */

TEST(replace_private)
{
	int vmas = maps_count();
	MEMORY_BASIC_INFORMATION m;
	char *p, *a;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 3 * G);
	vf_ok(_metadata, p, G, PRESERVE);
	vf_ok(_metadata, p + G, G, PRESERVE);
	ASSERT_EQ(vmas + 3, maps_count());

	/* the middle one, reserved and committed in one call */
	a = va2_ok(_metadata, p + G, G, REPLACE | MEM_COMMIT, PAGE_READWRITE,
		   NULL, 0);
	ASSERT_EQ(vmas + 3, maps_count());
	vq_ok(_metadata, a + 5, &m);
	ASSERT_MBI(m, a, a, PAGE_READWRITE, G, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	assert_hold(_metadata, p, p + P, G);
	assert_hold(_metadata, p + 2 * G, p + 2 * G, G);
	memset(a, 0xcc, G);
	ASSERT_SEGV_AT(a - 1, try_write(a - 1, 1));
	ASSERT_SEGV_AT(a + G, try_read(a + G));

	/* back to a placeholder: its pages gone, inaccessible */
	vf_ok(_metadata, a, G, PRESERVE);
	assert_hold(_metadata, a, a, G);
	ASSERT_SEGV_AT(a + 3, try_read(a + 3));
	ASSERT_EQ(vmas + 3, maps_count());

	/* again, read-only this time: new pages, zero */
	a = va2_ok(_metadata, p + G, G, REPLACE | MEM_COMMIT, PAGE_READONLY,
		   NULL, 0);
	vq_ok(_metadata, a, &m);
	ASSERT_MBI(m, a, a, PAGE_READONLY, G, MEM_COMMIT, PAGE_READONLY,
		   MEM_PRIVATE);
	ASSERT_EQ(-1, check_bytes(a, G, 0));
	ASSERT_SEGV_AT(a + 9, try_write(a + 9, 1));
	vf_ok(_metadata, a, G, PRESERVE);

	/* reserved only, then committed page by page as any allocation */
	a = va2_ok(_metadata, p + G, G, REPLACE, PAGE_READWRITE, NULL, 0);
	vq_ok(_metadata, a, &m);
	ASSERT_MBI(m, a, a, PAGE_READWRITE, G, MEM_RESERVE, 0, MEM_PRIVATE);
	ASSERT_SEGV_AT(a, try_read(a));
	va_ok(_metadata, a + P, P, MEM_COMMIT, PAGE_READWRITE);
	a[P] = 1;
	vq_ok(_metadata, a + P, &m);
	ASSERT_MBI(m, a + P, a, PAGE_READWRITE, P, MEM_COMMIT,
		   PAGE_READWRITE, MEM_PRIVATE);
	/* a byte range rounds to its pages */
	vf_ok(_metadata, a + 1, G - 1, PRESERVE);
	assert_hold(_metadata, a, a, G);

	/* a plain release frees it: no placeholder left there */
	a = va2_ok(_metadata, p + G, G, REPLACE | MEM_COMMIT, PAGE_READWRITE,
		   NULL, 0);
	vf_ok(_metadata, a, 0, MEM_RELEASE);
	assert_free(_metadata, a);
	ASSERT_EQ(vmas + 2, maps_count());

	vf_ok(_metadata, p, 0, MEM_RELEASE);
	vf_ok(_metadata, p + 2 * G, 0, MEM_RELEASE);
	ASSERT_EQ(vmas, maps_count());
}

/* MEM_WRITE_WATCH over a placeholder (Windows 10 1903 and later). */
TEST(replace_write_watch)
{
	ULONG_PTR count = 16;
	void *pages[16];
	DWORD gran;
	char *p;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, G);
	va2_ok(_metadata, p, G, REPLACE | MEM_WRITE_WATCH, PAGE_READONLY,
	       NULL, 0);
	va_ok(_metadata, p, G, MEM_COMMIT, PAGE_READWRITE);
	ASSERT_EQ(0, GetWriteWatch(WRITE_WATCH_FLAG_RESET, p, G, pages,
				   &count, &gran));
	ASSERT_EQ(0, count);
	p[P] = 1;
	count = 16;
	ASSERT_EQ(0, GetWriteWatch(WRITE_WATCH_FLAG_RESET, p, G, pages,
				   &count, &gran));
	ASSERT_EQ(1, count);
	ASSERT_EQ(p + P, pages[0]);
	vf_ok(_metadata, p, G, PRESERVE);
	assert_hold(_metadata, p, p, G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/* What MEM_REPLACE_PLACEHOLDER refuses (Wine's map_view() and tests). */
TEST(replace_errors)
{
	char *p, *b, *f;

	NEED_PLACEHOLDERS();
	p = hold_new(_metadata, 2 * G);
	/* it reserves, at an address */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, p, 2 * G, MEM_REPLACE_PLACEHOLDER,
				   PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, p, 2 * G,
				   MEM_COMMIT | MEM_REPLACE_PLACEHOLDER,
				   PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, 2 * G, REPLACE, PAGE_READWRITE,
				   NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, p, 2 * G, REPLACE, PAGE_READWRITE |
				   PAGE_EXECUTE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(p, 2 * G, REPLACE, PAGE_READWRITE));
	/* exactly the placeholder: not part of it, not more */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, p, P, REPLACE, PAGE_NOACCESS, NULL,
				   0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, p, G, REPLACE | MEM_COMMIT,
				   PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, p + G, G, REPLACE, PAGE_READWRITE,
				   NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, p, 3 * G, REPLACE, PAGE_READWRITE,
				   NULL, 0));
	assert_hold(_metadata, p, p, 2 * G);
	/* nothing there: 87 */
	f = find_free(_metadata, G);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, f, G, REPLACE, PAGE_READWRITE, NULL,
				   0));
	assert_free(_metadata, f);
	/* an allocation that is not a placeholder: 87 when it matches */
	b = va_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, b, G, REPLACE, PAGE_READWRITE, NULL,
				   0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc2(NULL, b, G / 2, REPLACE, PAGE_READWRITE,
				   NULL, 0));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	/* one replaced already is an allocation */
	b = va2_ok(_metadata, p, 2 * G, REPLACE | MEM_COMMIT, PAGE_READWRITE,
		   NULL, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, p, 2 * G, REPLACE, PAGE_READWRITE,
				   NULL, 0));
	/* and goes back whole, by a size (0 is refused) */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(b, 0, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b + G, 0, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(b, 2 * G + P, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(b, G, PRESERVE));
	ASSERT_EQ(0, b[0]);
	vf_ok(_metadata, b, 2 * G, PRESERVE);
	assert_hold(_metadata, p, p, 2 * G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/* ---- views over placeholders: the documented ring buffer ----------------- */

static void ring_buffer(struct __test_metadata *_metadata, SIZE_T size)
{
	int vmas = maps_count(), n = holds(),
	    views = maps_count_matching(NTMEM_VIEW_MAPS_NAME);
	MEMORY_BASIC_INFORMATION m;
	char *p, *v1, *v2;
	HANDLE h;

	/* a placeholder of twice the size, split in two halves */
	p = hold_new(_metadata, 2 * size);
	vf_ok(_metadata, p, size, PRESERVE);
	assert_hold(_metadata, p, p, size);
	assert_hold(_metadata, p + size, p + size, size);
	ASSERT_EQ(n + 2, holds());

	/* the section mapped into both, exactly */
	h = section_ok(_metadata, size);
	v1 = map3_ok(_metadata, h, p, 0, size, MEM_REPLACE_PLACEHOLDER,
		     PAGE_READWRITE);
	v2 = map3_ok(_metadata, h, p + size, 0, size, MEM_REPLACE_PLACEHOLDER,
		     PAGE_READWRITE);
	ASSERT_EQ(p, v1);
	ASSERT_EQ(p + size, v2);
	close_ok(_metadata, h);		/* the views keep the section */
	ASSERT_EQ(n, holds());
	ASSERT_EQ(views + 2, maps_count_matching(NTMEM_VIEW_MAPS_NAME));
	ASSERT_EQ(vmas + 2, maps_count());
	vq_ok(_metadata, v1 + 3, &m);
	ASSERT_MBI(m, v1, v1, PAGE_READWRITE, size, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);
	vq_ok(_metadata, v2, &m);
	ASSERT_MBI(m, v2, v2, PAGE_READWRITE, size, MEM_COMMIT,
		   PAGE_READWRITE, MEM_MAPPED);

	/* a record written across the end of the first view wraps */
	memcpy(v1 + size - 4, "ABCDEFGH", 8);
	ASSERT_EQ(0, memcmp(v1, "EFGH", 4));
	ASSERT_EQ(0, memcmp(v2 + size - 4, "ABCD", 4));
	/* the other way round: the second view's writes are the first's */
	v2[0] = 'a';
	ASSERT_EQ('a', v1[0]);
	v2[size - 1] = 'z';
	ASSERT_EQ('z', v1[size - 1]);
	v1[size / 2] = 'm';
	ASSERT_EQ('m', v2[size / 2]);

	/* both back to placeholders, joined, released */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(v1, size, PRESERVE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     UnmapViewOfFile2(NULL, v1, MEM_PRESERVE_PLACEHOLDER));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     UnmapViewOfFile2(GetCurrentProcess(), v1,
				      MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER));
	unmap_ex_ok(_metadata, v1, MEM_PRESERVE_PLACEHOLDER);
	assert_hold(_metadata, p, p, size);
	ASSERT_SEGV_AT(v1 + 1, try_read(v1 + 1));
	ASSERT_EQ('a', v2[0]);
	/* once a placeholder, it is no view */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFileEx(v1, MEM_PRESERVE_PLACEHOLDER));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFile(v1));
	/* any address of a view names it */
	unmap_ex_ok(_metadata, v2 + size / 2 + 3,
		    MEM_PRESERVE_PLACEHOLDER | MEM_UNMAP_WITH_TRANSIENT_BOOST);
	assert_hold(_metadata, p + size, p + size, size);
	ASSERT_EQ(n + 2, holds());
	ASSERT_EQ(views, maps_count_matching(NTMEM_VIEW_MAPS_NAME));
	vf_ok(_metadata, p, 2 * size, COALESCE);
	assert_hold(_metadata, p, p, 2 * size);
	ASSERT_EQ(n + 1, holds());
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	assert_free(_metadata, p);
	assert_free(_metadata, p + size);
	ASSERT_EQ(vmas, maps_count());
	ASSERT_EQ(n, holds());
}

/* Microsoft's example (VirtualAlloc2, scenario 1): 64 KiB. */
TEST(ring_buffer_64k)
{
	NEED_PLACEHOLDERS();
	ring_buffer(_metadata, G);
}

TEST(ring_buffer_1m)
{
	NEED_PLACEHOLDERS();
	ring_buffer(_metadata, MiB_);
}

/* The view's access comes from the page protection, as on Windows. */
TEST(replace_view_protections)
{
	MEMORY_BASIC_INFORMATION m;
	char *p, *v, *w;
	HANDLE h;

	NEED_PLACEHOLDERS();
	h = section_ok(_metadata, G);
	w = map3_ok(_metadata, h, NULL, 0, G, 0, PAGE_READWRITE);
	w[5] = 5;
	p = hold_new(_metadata, G);

	v = map3_ok(_metadata, h, p, 0, G, MEM_REPLACE_PLACEHOLDER,
		    PAGE_READONLY);
	vq_ok(_metadata, v, &m);
	ASSERT_MBI(m, v, v, PAGE_READONLY, G, MEM_COMMIT, PAGE_READONLY,
		   MEM_MAPPED);
	ASSERT_EQ(5, v[5]);
	ASSERT_SEGV_AT(v + 5, try_write(v + 5, 1));
	unmap_ex_ok(_metadata, v, MEM_PRESERVE_PLACEHOLDER);

	/* copy-on-write: its writes stay its own */
	v = map3_ok(_metadata, h, p, 0, G, MEM_REPLACE_PLACEHOLDER,
		    PAGE_WRITECOPY);
	vq_ok(_metadata, v, &m);
	ASSERT_MBI(m, v, v, PAGE_WRITECOPY, G, MEM_COMMIT, PAGE_WRITECOPY,
		   MEM_MAPPED);
	v[5] = 6;
	ASSERT_EQ(5, w[5]);
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, UnmapViewOfFile2(GetCurrentProcess(), v,
					 MEM_PRESERVE_PLACEHOLDER));
	assert_hold(_metadata, p, p, G);

	/* MapViewOfFile2: MapViewOfFile3 without extended parameters */
	SetLastError(LE_SENTINEL);
	v = MapViewOfFile2(h, GetCurrentProcess(), 0, p, G,
			   MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE);
	ASSERT_EQ(p, v);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(5, v[5]);
	v[6] = 7;
	ASSERT_EQ(7, w[6]);
	/* a plain unmap frees it: no placeholder left */
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, UnmapViewOfFile(v));
	assert_free(_metadata, p);

	SetLastError(LE_SENTINEL);
	v = MapViewOfFile2(h, NULL, 0, NULL, 0, 0, PAGE_READONLY);
	ASSERT_NE(NULL, v);
	ASSERT_EQ(5, v[5]);
	unmap_ex_ok(_metadata, v, 0);
	unmap_ex_ok(_metadata, w, MEM_UNMAP_WITH_TRANSIENT_BOOST);
	close_ok(_metadata, h);
}

/* MapViewOfFile3's checks, in Windows' order, and UnmapViewOfFile2/Ex's. */
TEST(view_errors)
{
	MEM_EXTENDED_PARAMETER e[2];
	MEM_ADDRESS_REQUIREMENTS r;
	char *p, *b, *f, *v;
	HANDLE h;

	NEED_PLACEHOLDERS();
	h = section_ok(_metadata, 4 * G);
	p = hold_new(_metadata, 2 * G);
	/* extended parameters: no alignment; no bounds with an address */
	e[0] = requirements(&r, 0, 0, G);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0, PAGE_READWRITE,
				    e, 1));
	e[0] = requirements(&r, 0, 0x7FFFFFFEFFFF, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, p, 0, G, MEM_REPLACE_PLACEHOLDER,
				    PAGE_READWRITE, e, 1));
	memset(e, 0, sizeof(e));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0, PAGE_READWRITE,
				    e, 1));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0, PAGE_READWRITE,
				    NULL, 1));
	/* the type */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G, MEM_COMMIT,
				    PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G,
				    MEM_RESERVE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	/* alignment: a page's over a placeholder, else 64 KiB */
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile3(h, NULL, p + 1, 0, G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile3(h, NULL, p, P - 1, G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	f = find_free(_metadata, 2 * G);
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile3(h, NULL, f + P, 0, G, 0, PAGE_READWRITE,
				    NULL, 0));
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile3(h, NULL, f, P, G, 0, PAGE_READWRITE,
				    NULL, 0));
	/* before the process, the handle and the protection */
	ASSERT_FAILS(ERROR_MAPPED_ALIGNMENT,
		     MapViewOfFile3(NULL, OTHER_PROCESS, f, P, G, 0, 0,
				    NULL, 0));
	/* the process: NULL is this one, another is refused */
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile3(h, OTHER_PROCESS, NULL, 0, G, 0,
				    PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile2(h, OTHER_PROCESS, 0, NULL, G, 0,
				    PAGE_READWRITE));
	/* the protection, then the handle */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(NULL, NULL, NULL, 0, G, 0, 0, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0,
				    PAGE_READWRITE | PAGE_GUARD, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0, PAGE_NOACCESS,
				    NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     MapViewOfFile3(NULL, NULL, NULL, 0, G, 0, PAGE_READWRITE,
				    NULL, 0));
	/* the section's protection and the handle allow no execution */
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0, PAGE_EXECUTE_READ,
				    NULL, 0));
	/* over a placeholder: there must be one, exactly */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, NULL, 0, G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFile3(h, NULL, p, 0, G, MEM_REPLACE_PLACEHOLDER,
				    PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFile3(h, NULL, p, 0, 4 * G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     MapViewOfFile3(h, NULL, p + G, 0, G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, f, 0, G, MEM_REPLACE_PLACEHOLDER,
				    PAGE_READWRITE, NULL, 0));
	b = va_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     MapViewOfFile3(h, NULL, b, 0, G, MEM_REPLACE_PLACEHOLDER,
				    PAGE_READWRITE, NULL, 0));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	/* past the section: its checks come first */
	ASSERT_FAILS(ERROR_ACCESS_DENIED,
		     MapViewOfFile3(h, NULL, p, 0, 8 * G,
				    MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE,
				    NULL, 0));
	assert_hold(_metadata, p, p, 2 * G);
	/* not here: reserved or large-page views, bounds for a view */
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     MapViewOfFile3(h, NULL, NULL, 0, G, MEM_RESERVE,
				    PAGE_READWRITE, NULL, 0));
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     MapViewOfFile3(h, NULL, NULL, 0, G, MEM_LARGE_PAGES,
				    PAGE_READWRITE, NULL, 0));
	e[0] = requirements(&r, 0, 0x7FFFFFFEFFFF, 0);
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     MapViewOfFile3(h, NULL, NULL, 0, G, 0, PAGE_READWRITE,
				    e, 1));
	/* requirements of zero are none */
	e[0] = requirements(&r, 0, 0, 0);
	v = MapViewOfFile3(h, NULL, NULL, 0, G, MEM_TOP_DOWN, PAGE_READWRITE,
			   e, 1);
	ASSERT_NE(NULL, v);

	/* UnmapViewOfFile2 and Ex: the flags, then the process */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, UnmapViewOfFileEx(v, 4));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     UnmapViewOfFileEx(v, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, UnmapViewOfFile2(NULL, v, 4));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, UnmapViewOfFile2(NULL, v, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     UnmapViewOfFile2(OTHER_PROCESS, v, 0));
	/* a view not made over a placeholder has none to go back to */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFileEx(v, MEM_PRESERVE_PLACEHOLDER));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFileEx(NULL, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFileEx(f, 0));
	b = va_ok(_metadata, NULL, G, MEM_COMMIT, PAGE_READWRITE);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFileEx(b, 0));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     UnmapViewOfFile2(GetCurrentProcess(), b,
				      MEM_PRESERVE_PLACEHOLDER));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	unmap_ex_ok(_metadata, v, 0);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, UnmapViewOfFileEx(v, 0));

	close_ok(_metadata, h);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/* ---- extended parameters and MEM_ADDRESS_REQUIREMENTS -------------------- */

TEST(extended_param_errors)
{
	MEM_EXTENDED_PARAMETER e[2];
	MEM_ADDRESS_REQUIREMENTS r;
	char *p;

	NEED_PLACEHOLDERS();
	/* a count without parameters; types unknown or twice */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   NULL, 1));
	memset(e, 0, sizeof(e));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0].Type = MemExtendedParameterMax;
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0].Type = 0xFF;
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0, 0, 0);
	e[1] = e[0];
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 2));
	/* attribute flags 0 are none, but once only (Wine's test) */
	memset(e, 0, sizeof(e));
	e[0].Type = MemExtendedParameterAttributeFlags;
	e[1] = e[0];
	p = va2_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_READWRITE, e, 1);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 2));
	/* a NUMA node is taken (ntmem places no page by node) */
	e[0].Type = MemExtendedParameterNumaNode;
	e[0].ULong = 0;
	p = va2_ok(_metadata, NULL, G, MEM_RESERVE | MEM_COMMIT,
		   PAGE_READWRITE, e, 1);
	p[0] = 1;
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	/* not here: partitions, AWE, attributes, machines */
	memset(e, 0, sizeof(e));
	e[0].Type = MemExtendedParameterUserPhysicalHandle;
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0].Type = MemExtendedParameterPartitionHandle;
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0].Type = MemExtendedParameterAttributeFlags;
	e[0].ULong = 1;		/* MEM_EXTENDED_PARAMETER_GRAPHICS */
	ASSERT_FAILS(ERROR_NOT_SUPPORTED,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));

	/* the requirements: a structure, ... */
	memset(e, 0, sizeof(e));
	e[0].Type = MemExtendedParameterAddressRequirements;
	ASSERT_FAILS(ERROR_NOACCESS,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	/* ... a power-of-two alignment of at least 64 KiB, ... */
	e[0] = requirements(&r, 0, 0, 0x8000);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0, 0, 0x30000);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0, 0, 1);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	/* ... a lowest base at 64 KiB in the user range, ... */
	e[0] = requirements(&r, 0x100001000, 0, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0x7FFFFFFF0000, 0, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	/* ... a highest byte that ends a page, above it, in range */
	e[0] = requirements(&r, 0, 0x20001000 + 1, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0, 0x20001000 - 2, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0, 0x20000800 - 1, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0, 0x7FFFFFFEFFFF + 0x1000, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	e[0] = requirements(&r, 0x200000000, 0x1FFFFFFFF, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   e, 1));
	/* no bounds with an address: a commit included (Wine's test) */
	p = va_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_READWRITE);
	e[0] = requirements(&r, 0, 0x7FFFFFFEFFFF, 0);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, p, G, MEM_COMMIT, PAGE_READWRITE, e,
				   1));
	e[0] = requirements(&r, 0, 0, 0x40000);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(NULL, p, G, MEM_RESERVE, PAGE_READWRITE, e,
				   1));
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	/* the parameters are checked before the process */
	e[0] = requirements(&r, 0, 0, 0x8000);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc2(OTHER_PROCESS, NULL, G, MEM_RESERVE,
				   PAGE_READWRITE, e, 1));
	/* and those of zero are none */
	e[0] = requirements(&r, 0, 0, 0);
	p = va2_ok(_metadata, NULL, G, MEM_RESERVE | MEM_COMMIT,
		   PAGE_READWRITE, e, 1);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
}

/* Where [lowest, highest] is free: a reservation lands inside it. */
static bool window_free(uintptr_t lowest, uintptr_t highest)
{
	MEMORY_BASIC_INFORMATION m;

	return VirtualQuery((void *)lowest, &m, sizeof(m)) == sizeof(m) &&
	       m.State == MEM_FREE &&
	       (uintptr_t)m.BaseAddress + m.RegionSize > highest;
}

TEST(address_requirements)
{
	const uintptr_t low = 0x300000000, high = 0x3FFFFFFFF;
	MEM_EXTENDED_PARAMETER e;
	MEM_ADDRESS_REQUIREMENTS r;
	char *p, *q;

	NEED_PLACEHOLDERS();
	/* anywhere up to the top of the user range */
	e = requirements(&r, 0, 0x7FFFFFFEFFFF, 0);
	p = va2_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_READWRITE, &e, 1);
	vf_ok(_metadata, p, 0, MEM_RELEASE);

	/* inside a window, at a 1 MiB alignment, lowest first */
	ASSERT_TRUE(window_free(low, high));
	e = requirements(&r, low, high, MiB_);
	p = va2_ok(_metadata, NULL, 3 * G, MEM_RESERVE | MEM_COMMIT,
		   PAGE_READWRITE, &e, 1);
	ASSERT_EQ(low, (uintptr_t)p);
	p[3 * G - 1] = 1;
	/* the next one above it, at the next 1 MiB */
	q = va2_ok(_metadata, NULL, G, MEM_RESERVE, PAGE_READWRITE, &e, 1);
	ASSERT_EQ(low + MiB_, (uintptr_t)q);
	vf_ok(_metadata, q, 0, MEM_RELEASE);
	/* from the top with MEM_TOP_DOWN */
	q = va2_ok(_metadata, NULL, 5 * G, MEM_RESERVE | MEM_TOP_DOWN,
		   PAGE_READWRITE, &e, 1);
	ASSERT_EQ(0, (uintptr_t)q % MiB_);
	ASSERT_EQ((high + 1 - MiB_), (uintptr_t)q);
	vf_ok(_metadata, q, 0, MEM_RELEASE);
	vf_ok(_metadata, p, 0, MEM_RELEASE);

	/* a 1 GiB alignment, anywhere */
	e = requirements(&r, 0, 0, 1UL << 30);
	p = va2_ok(_metadata, NULL, 2 * G, MEM_RESERVE, PAGE_READWRITE, &e, 1);
	ASSERT_EQ(0, (uintptr_t)p % (1UL << 30));
	vf_ok(_metadata, p, 0, MEM_RELEASE);

	/* a placeholder obeys them too */
	e = requirements(&r, low, high, MiB_);
	p = va2_ok(_metadata, NULL, 4 * G, PLACEHOLDER, PAGE_NOACCESS, &e, 1);
	ASSERT_EQ(low, (uintptr_t)p);
	assert_hold(_metadata, p, p, 4 * G);
	vf_ok(_metadata, p, 0, MEM_RELEASE);

	/* a window too small, or taken, or an alignment it cannot meet */
	e = requirements(&r, low, low + 2 * G - 1, 0);
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc2(NULL, NULL, 2 * G + P, MEM_RESERVE,
				   PAGE_READWRITE, &e, 1));
	p = va2_ok(_metadata, NULL, 2 * G, MEM_RESERVE, PAGE_READWRITE, &e, 1);
	ASSERT_EQ(low, (uintptr_t)p);
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc2(NULL, NULL, P, MEM_RESERVE, PAGE_READWRITE,
				   &e, 1));
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	e = requirements(&r, low + G, high, 1UL << 36);
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   &e, 1));
	/* Wine's test: a 512 MiB alignment below 0x20001000 */
	e = requirements(&r, 0, 0x20001000 - 1, 0x20000000);
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc2(NULL, NULL, 0x2000, MEM_RESERVE,
				   PAGE_READWRITE, &e, 1));
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc2(NULL, NULL, G, MEM_RESERVE, PAGE_READWRITE,
				   &e, 1));
}

/* A highest byte in mid-granule: the reservation's granules stay below. */
TEST(address_requirements_mid_granule)
{
	const uintptr_t low = 0x300000000;
	MEM_EXTENDED_PARAMETER e;
	MEM_ADDRESS_REQUIREMENTS r;
	char *p;

	NEED_PLACEHOLDERS();
	ASSERT_TRUE(window_free(low, low + 4 * G));
	e = requirements(&r, low, low + 2 * G + P - 1, 0);
	p = va2_ok(_metadata, NULL, 2 * G, MEM_RESERVE | MEM_TOP_DOWN,
		   PAGE_READWRITE, &e, 1);
	ASSERT_EQ(low, (uintptr_t)p);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	/* a window less than a granule holds none */
	e = requirements(&r, low, low + P - 1, 0);
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY,
		     VirtualAlloc2(NULL, NULL, P, MEM_RESERVE, PAGE_READWRITE,
				   &e, 1));
	/* Wine's test: 0x20000FFF is a valid bound */
	e = requirements(&r, 0, 0x20001000 - 1, 0);
	p = VirtualAlloc2(NULL, NULL, 0x40000, MEM_RESERVE, PAGE_READWRITE,
			  &e, 1);
	if (p) {
		ASSERT_EQ(0, (uintptr_t)p % G);
		ASSERT_GE(0x20001000, (uintptr_t)p + 0x40000);
		vf_ok(_metadata, p, 0, MEM_RELEASE);
	} else {
		/* the low 512 MiB are the program's in this process */
		ASSERT_EQ(ERROR_NOT_ENOUGH_MEMORY, GetLastError());
	}
}

TEST_HARNESS_MAIN
