// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.1: VirtualAlloc, VirtualFree, VirtualQuery and VirtualProtect,
 * the basic walk (cases 1-27).
 */
#include "kselftest_harness.h"
#include "win32_util.h"

TEST(case_001)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_NOACCESS));
}

TEST(case_002)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAllocEx(GetCurrentProcess(), NULL, 0, MEM_RESERVE,
				    PAGE_NOACCESS));
}

/*
 * Cases 3 to 15 continue each other; case N runs the walk up to step N.
 * Steps that fail change nothing, so running them in number order gives
 * each step the state its "after" names.
 */
static void walk(struct __test_metadata *_metadata, int upto)
{
	MEMORY_BASIC_INFORMATION m;
	DWORD old;
	char *b;

	/* 3 */
	b = va_ok(_metadata, NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_EQ(0, (uintptr_t)b % G);
	if (upto == 3)
		return;
	/* 4 */
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x10000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	if (upto == 4)
		return;
	/* 5 */
	old = 0x1234;
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtect(b, 0xFFFC, PAGE_READONLY, &old));
	ASSERT_EQ(0x1234, old);
	if (upto == 5)
		return;
	/* 6 */
	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_COMMIT, PAGE_NOACCESS));
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT, PAGE_NOACCESS,
		   MEM_PRIVATE);
	if (upto == 6)
		return;
	/* 7 */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtect(b, 0xFFFC, PAGE_READONLY, &old));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(PAGE_NOACCESS, m.Protect);
	ASSERT_EQ(0x1000, m.RegionSize);
	if (upto == 7)
		return;
	/* 8 */
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, b, 0x1000, PAGE_READONLY));
	if (upto == 8)
		return;
	/* 9 */
	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, b, 0x1000, PAGE_READWRITE));
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	if (upto == 9)
		return;
	/* 10 */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(b, 0x10000, 0));
	if (upto == 10)
		return;
	/* 11 */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(b, 0, MEM_FREE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	if (upto == 11)
		return;
	/* 12 */
	vf_ok(_metadata, b, 0x10000, MEM_DECOMMIT);
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x10000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	if (upto == 12)
		return;
	/* 13 */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFree(b, 1, MEM_RELEASE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	if (upto == 13)
		return;
	/* 14 */
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_FREE, m.State);
	ASSERT_EQ(b, m.BaseAddress);
	ASSERT_EQ(NULL, m.AllocationBase);
	ASSERT_EQ(0, m.AllocationProtect);
	ASSERT_EQ(PAGE_NOACCESS, m.Protect);
	ASSERT_EQ(0, m.Type);
	if (upto == 14)
		return;
	/* 15 */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS, VirtualFree(b, 0, MEM_RELEASE));
}

TEST(case_003) { walk(_metadata, 3); }
TEST(case_004) { walk(_metadata, 4); }
TEST(case_005) { walk(_metadata, 5); }
TEST(case_006) { walk(_metadata, 6); }
TEST(case_007) { walk(_metadata, 7); }
TEST(case_008) { walk(_metadata, 8); }
TEST(case_009) { walk(_metadata, 9); }
TEST(case_010) { walk(_metadata, 10); }
TEST(case_011) { walk(_metadata, 11); }
TEST(case_012) { walk(_metadata, 12); }
TEST(case_013) { walk(_metadata, 13); }
TEST(case_014) { walk(_metadata, 14); }
TEST(case_015) { walk(_metadata, 15); }

TEST(case_016)
{
	MEMORY_BASIC_INFORMATION m;
	char *b = va_ok(_metadata, NULL, 1, MEM_RESERVE, PAGE_NOACCESS);

	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x1000, m.RegionSize);
}

TEST(case_017)
{
	char *b1 = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);
	char *b2 = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);
	uintptr_t d = b1 > b2 ? b1 - b2 : b2 - b1;

	ASSERT_EQ(0, (uintptr_t)b1 % G);
	ASSERT_EQ(0, (uintptr_t)b2 % G);
	ASSERT_LE(G, d);
}

TEST(case_018)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);

	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(b, 0x1000, MEM_RESERVE, PAGE_NOACCESS));
}

TEST(case_019)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE | MEM_COMMIT,
			PAGE_EXECUTE_READWRITE);

	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(b + 0x1000, 0x1000, MEM_RESERVE | MEM_COMMIT,
				  PAGE_EXECUTE_READWRITE));
}

TEST(case_020)
{
	MEMORY_BASIC_INFORMATION m;
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_NOACCESS);

	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(b, m.AllocationBase);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(b, 0x1000, MEM_RESERVE, PAGE_NOACCESS));
}

/* 21, and 22 after it. */
static char *case_021_steps(struct __test_metadata *_metadata)
{
	const DWORD rc = MEM_RESERVE | MEM_COMMIT;
	char *b = va_ok(_metadata, NULL, 0x2000, rc, PAGE_EXECUTE_READWRITE);

	ASSERT_EQ(0, (uintptr_t)b % G);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, rc, PAGE_EXECUTE_READWRITE));
	return b;
}

TEST(case_021)
{
	case_021_steps(_metadata);
}

TEST(case_022)
{
	char *b = case_021_steps(_metadata);

	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(b, 0x1000, MEM_RESERVE | MEM_COMMIT |
				  AT_ROUND_TO_PAGE, PAGE_EXECUTE_READWRITE));
}

TEST(case_023)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0x1000, 0, PAGE_NOACCESS));
}

TEST(case_024)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc((void *)0xF000, 0x1000, MEM_RESERVE,
				  PAGE_READWRITE));
}

TEST(case_025)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0x1000, MEM_RESERVE, 0));
}

TEST(case_026)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0x1000, MEM_COMMIT, 0));
}

TEST(case_027)
{
	MEMORY_BASIC_INFORMATION m;
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE, PAGE_NOACCESS);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(b, 0x1000, MEM_COMMIT,
				  PAGE_READONLY | PAGE_EXECUTE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
}

TEST_HARNESS_MAIN
