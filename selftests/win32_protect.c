// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.2 (protection values, cases 28-40) and 7.7 (VirtualProtect
 * semantics, cases 84-87).
 */
#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

static const DWORD valid_prot[] = {
	PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE,
	PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
};

static const DWORD invalid_prot[] = {
	0, 0x03, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
	0x0F, 0x30, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0,
	0xE0, 0xF0,
};

TEST(case_028)
{
	for (size_t i = 0; i < ARRAY_SIZE(valid_prot); i++) {
		DWORD p = valid_prot[i];
		MEMORY_BASIC_INFORMATION m;
		char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, p);

		vq_ok(_metadata, b, &m);
		ASSERT_MBI(m, b, b, p, 0x1000, MEM_COMMIT, p, MEM_PRIVATE);
		ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_COMMIT, p));
	}
}

TEST(case_029)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid_prot); i++) {
		SetLastError(LE_SENTINEL);
		ASSERT_EQ(NULL, VirtualAlloc(NULL, 0x1000, MEM_COMMIT,
					     invalid_prot[i]))
			TH_LOG("protection %#x", invalid_prot[i]);
		ASSERT_EQ(ERROR_INVALID_PARAMETER, GetLastError())
			TH_LOG("protection %#x", invalid_prot[i]);
	}
}

TEST(case_030)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	DWORD old = 0x1234;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(b, 0x1000, MEM_COMMIT,
				  PAGE_EXECUTE | PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(b, 0x1000, 0x14, &old));
	ASSERT_EQ(0x1234, old);
}

TEST(case_031)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE |
				  PAGE_NOCACHE | PAGE_WRITECOMBINE));
}

TEST(case_032)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(NULL, 0x1000, MEM_COMMIT,
				  PAGE_NOACCESS | PAGE_NOCACHE));
}

TEST(case_033)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE | MEM_COMMIT,
			PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;
	DWORD old;

	for (size_t i = 0; i < ARRAY_SIZE(valid_prot); i++) {
		DWORD p = valid_prot[i];

		ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, b, 0x1000, p));
		vq_ok(_metadata, b, &m);
		ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT, p,
			   MEM_PRIVATE);
		ASSERT_EQ(p, vp_ok(_metadata, b, 0x1000, PAGE_NOACCESS));
	}
	for (size_t i = 0; i < ARRAY_SIZE(invalid_prot); i++) {
		SetLastError(LE_SENTINEL);
		ASSERT_EQ(FALSE, VirtualProtect(b, 0x1000, invalid_prot[i],
						&old))
			TH_LOG("protection %#x", invalid_prot[i]);
		ASSERT_EQ(ERROR_INVALID_PARAMETER, GetLastError())
			TH_LOG("protection %#x", invalid_prot[i]);
		ASSERT_EQ(PAGE_NOACCESS,
			  vp_ok(_metadata, b, 0x1000, PAGE_NOACCESS));
	}
}

TEST(case_034)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE | MEM_COMMIT,
			PAGE_NOACCESS);

	ASSERT_FAILS(ERROR_NOACCESS,
		     VirtualProtect(b, 0x1000, PAGE_READONLY, NULL));
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, b, 0x1000, PAGE_NOACCESS));
}

TEST(case_035)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	DWORD old;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(b, 0x1000, PAGE_READWRITE |
				    PAGE_EXECUTE_WRITECOPY, &old));
}

TEST(case_036)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	DWORD old;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualProtect(b, 0x1000, 0, &old));
}

/* 37, 38 and 39 continue each other. */
static void nocache_walk(struct __test_metadata *_metadata, int upto)
{
	const DWORD nc = PAGE_READWRITE | PAGE_NOCACHE;
	MEMORY_BASIC_INFORMATION m;
	char *b = va_ok(_metadata, NULL, 0x2000, MEM_COMMIT, nc);

	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, 0x204, 0x2000, MEM_COMMIT, 0x204, MEM_PRIVATE);
	if (upto == 37)
		return;
	ASSERT_EQ(0x204, vp_ok(_metadata, b, 0x1000, PAGE_READWRITE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x204, m.Protect);
	ASSERT_EQ(0x2000, m.RegionSize);
	if (upto == 38)
		return;
	ASSERT_EQ(0x204, vp_ok(_metadata, b, 0x1000, PAGE_READONLY));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x202, m.Protect);
	ASSERT_EQ(0x1000, m.RegionSize);
	ASSERT_EQ(0x204, m.AllocationProtect);
}

TEST(case_037) { nocache_walk(_metadata, 37); }
TEST(case_038) { nocache_walk(_metadata, 38); }
TEST(case_039) { nocache_walk(_metadata, 39); }

TEST(case_040)
{
	char *b = va_ok(_metadata, NULL, 0x2000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_READONLY | PAGE_NOCACHE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(PAGE_READONLY, m.Protect);
	ASSERT_EQ(0x1000, m.RegionSize);
	ASSERT_EQ(PAGE_READWRITE, m.AllocationProtect);
}

/* 84, and 85 after it. */
static char *case_084_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE, PAGE_NOACCESS);
	DWORD old = 0x1234;

	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_COMMIT, PAGE_NOACCESS));
	ASSERT_EQ(PAGE_NOACCESS, vp_ok(_metadata, b, 0x1000, PAGE_READONLY));
	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, b, 0x1000, PAGE_READWRITE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtect(b + 0x1000, 0x1000, PAGE_READWRITE, &old));
	ASSERT_EQ(0x1234, old);
	return b;
}

TEST(case_084)
{
	case_084_steps(_metadata);
}

TEST(case_085)
{
	char *b = case_084_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;
	DWORD old;

	ASSERT_EQ(b, va_ok(_metadata, b, 0x2000, MEM_COMMIT, PAGE_EXECUTE));
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtect(b + 0x1000, 0x2000, PAGE_READWRITE, &old));
	ASSERT_EQ(PAGE_EXECUTE,
		  vp_ok(_metadata, b + 0x1000, 0x1000, PAGE_READWRITE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(PAGE_EXECUTE, m.Protect);
}

TEST(case_086)
{
	char *b = va_ok(_metadata, NULL, 0x2000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b + 0x1000, 0x1000, PAGE_READONLY));
	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x2000, PAGE_EXECUTE_READ));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(PAGE_EXECUTE_READ, m.Protect);
	ASSERT_EQ(0x2000, m.RegionSize);
}

TEST(case_087)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);

	fill_pattern(b, 0x1000, 87);
	ASSERT_EQ(PAGE_READWRITE, vp_ok(_metadata, b, 0x1000, PAGE_READONLY));
	ASSERT_EQ(-1, check_pattern(b, 0x1000, 87));
	ASSERT_SEGV_AT(b + 8, try_write(b + 8, 1));
	ASSERT_EQ(PAGE_READONLY, vp_ok(_metadata, b, 0x1000, PAGE_READWRITE));
	ASSERT_EQ(-1, check_pattern(b, 0x1000, 87));
}

TEST_HARNESS_MAIN
