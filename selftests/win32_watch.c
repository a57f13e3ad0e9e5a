// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.10: MEM_WRITE_WATCH, GetWriteWatch and ResetWriteWatch (cases
 * 105-135).  A case "after N" repeats N's steps on a fresh allocation.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define WW_FAILED	0xFFFFFFFFu

/* GetWriteWatch that must succeed with @want pages, which must be @pages. */
static void gww_ok(struct __test_metadata *_metadata, DWORD flags, void *b,
		   SIZE_T size, ULONG_PTR room, ULONG_PTR want,
		   const uintptr_t *pages)
{
	static PVOID r[2048];
	ULONG_PTR c = room, i;
	DWORD g = 0;

	memset(r, 0xEE, sizeof(r));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(0u, GetWriteWatch(flags, b, size, r, &c, &g))
		TH_LOG("GetWriteWatch(%#x, %p, %#zx): %u", flags, b, size,
		       GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(4096u, g);
	ASSERT_EQ(want, c);
	for (i = 0; i < want; i++)
		ASSERT_EQ(pages[i], (uintptr_t)r[i]) TH_LOG("entry %lu", i);
	/* nothing stored past the count */
	if (want < room)
		ASSERT_EQ(0xEEEEEEEEEEEEEEEEUL, (uintptr_t)r[want]);
}

#define GWW(flags, b, size, ...) do {					\
	const uintptr_t pages_[] = { 0, ##__VA_ARGS__ };		\
	gww_ok(_metadata, flags, b, size, 64,				\
	       sizeof(pages_) / sizeof(pages_[0]) - 1, pages_ + 1);	\
} while (0)

/* The call fails with (UINT)-1 and last error @code. */
#define ASSERT_WW_FAILS(code, call) do {				\
	SetLastError(LE_SENTINEL);					\
	ASSERT_EQ(WW_FAILED, (call));					\
	ASSERT_EQ((DWORD)(code), GetLastError());			\
} while (0)

#define U(x)	((uintptr_t)(x))

static char *case_105_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x10000,
			MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
			PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_READWRITE, 0x10000, MEM_COMMIT,
		   PAGE_READWRITE, MEM_PRIVATE);
	return b;
}

TEST(case_105)
{
	case_105_steps(_metadata);
}

TEST(case_106)
{
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	ASSERT_WW_FAILS(87, GetWriteWatch(0, NULL, 0x10000, r, &c, &g));
	ASSERT_EQ(64u, c);
	ASSERT_EQ(0u, g);
}

static char *case_107_steps(struct __test_metadata *_metadata)
{
	char *b = case_105_steps(_metadata);

	GWW(0, b, 0x10000);
	return b;
}

TEST(case_107)
{
	case_107_steps(_metadata);
}

static char *case_108_steps(struct __test_metadata *_metadata)
{
	char *b = case_107_steps(_metadata);

	b[0x1001] = 1;
	GWW(0, b, 0x10000, U(b + 0x1000));
	return b;
}

TEST(case_108)
{
	case_108_steps(_metadata);
}

static char *case_109_steps(struct __test_metadata *_metadata)
{
	char *b = case_108_steps(_metadata);

	GWW(WRITE_WATCH_FLAG_RESET, b, 0x10000, U(b + 0x1000));
	GWW(0, b, 0x10000);
	return b;
}

TEST(case_109)
{
	case_109_steps(_metadata);
}

static char *case_110_steps(struct __test_metadata *_metadata)
{
	char *b = case_109_steps(_metadata);

	b[0x2003] = 1;
	b[0x4008] = 1;
	GWW(0, b, 0x10000, U(b + 0x2000), U(b + 0x4000));
	return b;
}

TEST(case_110)
{
	case_110_steps(_metadata);
}

TEST(case_111)
{
	char *b = case_110_steps(_metadata);

	GWW(0, b + 0x3000, 0x2000, U(b + 0x4000));
}

static char *case_112_steps(struct __test_metadata *_metadata)
{
	char *b = case_110_steps(_metadata);

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(0u, ResetWriteWatch(b, 0x3000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	GWW(0, b, 0x10000, U(b + 0x4000));
	return b;
}

TEST(case_112)
{
	case_112_steps(_metadata);
}

static char *case_113_steps(struct __test_metadata *_metadata)
{
	char *b = case_112_steps(_metadata);
	uint32_t v = 0x01020304;

	/* one 4-byte store straddling pages 1 and 2 */
	__atomic_store_n((uint32_t *)(void *)(b + 0x2000 - 2), v,
			 __ATOMIC_RELAXED);
	GWW(0, b, 0x10000, U(b + 0x1000), U(b + 0x2000), U(b + 0x4000));
	return b;
}

TEST(case_113)
{
	case_113_steps(_metadata);
}

static char *case_114_steps(struct __test_metadata *_metadata)
{
	char *b = case_113_steps(_metadata);
	const uintptr_t one[] = { U(b + 0x1000) };
	const uintptr_t two[] = { U(b + 0x2000), U(b + 0x4000) };

	gww_ok(_metadata, WRITE_WATCH_FLAG_RESET, b, 0x10000, 1, 1, one);
	gww_ok(_metadata, 0, b, 0x10000, 64, 2, two);
	return b;
}

TEST(case_114)
{
	case_114_steps(_metadata);
}

TEST(case_115)
{
	char *b = case_114_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(PAGE_READWRITE, vp_ok(_metadata, b, 0x3000, PAGE_READONLY));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x3000u, m.RegionSize);
	ASSERT_EQ((DWORD)PAGE_READONLY, m.Protect);
	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, b, 0x3000, PAGE_READWRITE));
	GWW(0, b, 0x10000, U(b + 0x2000), U(b + 0x4000));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x10000u, m.RegionSize);
	ASSERT_EQ((DWORD)PAGE_READWRITE, m.Protect);
}

TEST(case_116)
{
	char *b = case_105_steps(_metadata);
	const uintptr_t all[16] = {
		U(b), U(b + 0x1000), U(b + 0x2000), U(b + 0x3000),
		U(b + 0x4000), U(b + 0x5000), U(b + 0x6000), U(b + 0x7000),
		U(b + 0x8000), U(b + 0x9000), U(b + 0xA000), U(b + 0xB000),
		U(b + 0xC000), U(b + 0xD000), U(b + 0xE000), U(b + 0xF000),
	};
	int fds[2];

	memset(b, 0, 0x10000);
	gww_ok(_metadata, WRITE_WATCH_FLAG_RESET, b, 0x10000, 64, 16, all);
	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(12, write(fds[1], "hello, pipe!", 12));
	ASSERT_EQ(12, read(fds[0], b, 0x10000));
	ASSERT_EQ(0, memcmp(b, "hello, pipe!", 12));
	GWW(WRITE_WATCH_FLAG_RESET, b, 0x10000, U(b));
	close(fds[0]);
	close(fds[1]);
}

TEST(case_117)
{
	char *b = case_105_steps(_metadata);

	errno = 0;
	ASSERT_EQ(-1, read(-1, b, 0x10000));
	ASSERT_EQ(EBADF, errno);
	GWW(WRITE_WATCH_FLAG_RESET, b, 0x10000);
}

TEST(case_118)
{
	char *b = case_105_steps(_metadata);
	PVOID r[64];
	ULONG_PTR c = 0;
	DWORD g = 0;

	ASSERT_WW_FAILS(87, GetWriteWatch(0, b, 0x10000, r, &c, &g));
	ASSERT_EQ(0u, c);
	ASSERT_EQ(0u, g);
}

TEST(case_119)
{
	char *b = case_105_steps(_metadata);
	PVOID r[64];
	DWORD g = 0;

	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, r, NULL, &g));
	ASSERT_EQ(0u, g);
}

TEST(case_120)
{
	char *b = case_105_steps(_metadata);
	PVOID r[64];
	ULONG_PTR c = 64;

	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, r, &c, NULL));
	ASSERT_EQ(64u, c);
}

/* Windows probes the out-parameters: unwritable ones are 998 too, no crash. */
TEST(unwritable_out_parameters)
{
	char *b = case_105_steps(_metadata);
	char *ro = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READONLY);
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, r,
					   (ULONG_PTR *)ro, &g));
	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, r, &c,
					   (LPDWORD)ro));
	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, r, &c,
					   (LPDWORD)0x1000));
	b[0] = 1;	/* a page to report, into an unwritable array */
	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, (PVOID *)ro, &c,
					   &g));
	ASSERT_EQ(64u, c);
	ASSERT_EQ(0u, g);
}

TEST(case_121)
{
	char *b = case_105_steps(_metadata);
	ULONG_PTR c = 64;
	DWORD g = 0;

	b[0] = 1;	/* a dirty page must not change the answer */
	ASSERT_WW_FAILS(998, GetWriteWatch(0, b, 0x10000, NULL, &c, &g));
	ASSERT_EQ(64u, c);
	ASSERT_EQ(0u, g);
	GWW(0, b, 0x10000, U(b));
}

TEST(case_122)
{
	char *b = case_105_steps(_metadata);
	ULONG_PTR c = 0;
	DWORD g = 0;

	ASSERT_WW_FAILS(87, GetWriteWatch(0, b, 0x10000, NULL, &c, &g));
	ASSERT_EQ(0u, c);
	ASSERT_EQ(0u, g);
}

TEST(case_123)
{
	char *b = case_105_steps(_metadata);
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	b[0] = 1;
	ASSERT_WW_FAILS(87, GetWriteWatch(0xDEADBEEF, b, 0x10000, r, &c, &g));
	ASSERT_EQ(64u, c);
	GWW(0, b, 0x10000, U(b));
}

TEST(case_124)
{
	char *b = case_105_steps(_metadata);
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	ASSERT_WW_FAILS(87, GetWriteWatch(0, b, 0, r, &c, &g));
	ASSERT_EQ(64u, c);
}

TEST(case_125)
{
	char *b = case_105_steps(_metadata);
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	ASSERT_WW_FAILS(87, GetWriteWatch(0, b, 0x20000, r, &c, &g));
	ASSERT_EQ(64u, c);
	/* one byte past the end is outside too */
	ASSERT_WW_FAILS(87, GetWriteWatch(0, b, 0x10001, r, &c, &g));
	/* and an overflowing size */
	ASSERT_WW_FAILS(87, GetWriteWatch(0, b, (SIZE_T)-1, r, &c, &g));
	ASSERT_EQ(0u, g);
}

TEST(case_126)
{
	char *b = case_105_steps(_metadata);

	b[0] = 1;
	ASSERT_WW_FAILS(87, ResetWriteWatch(b, 0));
	GWW(0, b, 0x10000, U(b));
}

TEST(case_127)
{
	char *n = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
			PAGE_READWRITE);
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	ASSERT_WW_FAILS(87, ResetWriteWatch(n, 0x10000));
	ASSERT_WW_FAILS(87, GetWriteWatch(0, n, 0x10000, r, &c, &g));
	ASSERT_EQ(64u, c);
	ASSERT_EQ(0u, g);
}

TEST(case_128)
{
	char *b = va_ok(_metadata, NULL, 0x10000,
			MEM_RESERVE | MEM_WRITE_WATCH, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_READWRITE, 0x10000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	GWW(0, b, 0x10000);
}

TEST(case_129)
{
	ASSERT_FAILS(87, VirtualAlloc(NULL, 0x10000, MEM_WRITE_WATCH,
				      PAGE_READWRITE));
	/* the implied reservation of MEM_COMMIT does not count */
	ASSERT_FAILS(87, VirtualAlloc(NULL, 0x10000,
				      MEM_COMMIT | MEM_WRITE_WATCH,
				      PAGE_READWRITE));
}

static char *case_130_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x10000,
			MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);

	GWW(0, b, 0x10000);
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(0u, ResetWriteWatch(b, 0x10000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return b;
}

TEST(case_130)
{
	case_130_steps(_metadata);
}

static char *case_131_steps(struct __test_metadata *_metadata)
{
	char *b = case_130_steps(_metadata);

	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_COMMIT, PAGE_NOACCESS));
	GWW(0, b, 0x10000);
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, b, 0x6000, PAGE_READWRITE));
	b[0x5000 + 200] = 1;
	ASSERT_EQ(PAGE_READWRITE, vp_ok(_metadata, b, 0x6000, PAGE_NOACCESS));
	GWW(0, b, 0x10000, U(b + 0x5000));
	return b;
}

TEST(case_131)
{
	case_131_steps(_metadata);
}

static char *case_132_steps(struct __test_metadata *_metadata)
{
	char *b = case_131_steps(_metadata);
	PVOID r[64];
	ULONG_PTR c = 64;
	DWORD g = 0;

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(0u, ResetWriteWatch(b, 0x10000));
	ASSERT_EQ(0u, ResetWriteWatch(b + 0x6000, 0xA000));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	r[0] = (PVOID)0xDEADBEEFUL;
	ASSERT_EQ(0u, GetWriteWatch(WRITE_WATCH_FLAG_RESET, b, 0x10000, r,
				    &c, &g));
	ASSERT_EQ(0u, c);
	ASSERT_EQ(4096u, g);
	ASSERT_EQ(0xDEADBEEFUL, (uintptr_t)r[0]);
	return b;
}

TEST(case_132)
{
	case_132_steps(_metadata);
}

static char *case_133_steps(struct __test_metadata *_metadata)
{
	char *b = case_132_steps(_metadata);

	vf_ok(_metadata, b + 0x1000, 0x1000, MEM_DECOMMIT);
	ASSERT_EQ(PAGE_NOACCESS,
		  vp_ok(_metadata, b + 0x2000, 0x1000, PAGE_READWRITE));
	GWW(WRITE_WATCH_FLAG_RESET, b, 0x10000);
	b[0x2000 + 200] = 1;
	GWW(WRITE_WATCH_FLAG_RESET, b, 0x10000, U(b + 0x2000));
	return b;
}

TEST(case_133)
{
	case_133_steps(_metadata);
}

TEST(case_134)
{
	char *b = case_133_steps(_metadata);

	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_COMMIT, PAGE_NOACCESS));
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, b, 0x6000, PAGE_READWRITE));
	b[0x3000 + 200] = 1;
	b[0x5000 + 200] = 1;
	vf_ok(_metadata, b, 0x10000, MEM_DECOMMIT);
	GWW(0, b, 0x10000);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_COMMIT, PAGE_READWRITE));
	GWW(0, b, 0x10000);
	/* recommitted pages read zero */
	ASSERT_EQ(0, b[0x3000 + 200]);
}

TEST(case_135)
{
	char *b = va_ok(_metadata, NULL, 2048 * 0x1000,
			MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
			PAGE_READWRITE);
	static uintptr_t even[1024];
	int i;

	gww_ok(_metadata, 0, b, 2048 * 0x1000, 2048, 0, even);
	for (i = 0; i < 2048; i += 2)
		b[i * 0x1000]++;
	for (i = 0; i < 1024; i++)
		even[i] = U(b + i * 0x2000);
	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 1024 * 0x1000, PAGE_READONLY));
	gww_ok(_metadata, 0, b, 2048 * 0x1000, 2048, 1024, even);
	gww_ok(_metadata, WRITE_WATCH_FLAG_RESET, b, 2048 * 0x1000, 2048,
	       1024, even);
	gww_ok(_metadata, 0, b, 2048 * 0x1000, 2048, 0, even);
}

TEST_HARNESS_MAIN
