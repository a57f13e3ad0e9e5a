// SPDX-License-Identifier: GPL-2.0
/* Spec 7.3: rounding, granules and adjacent allocations (cases 41-57). */
#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* Reserve at F+@off and check the base and the region size. */
static void reserve_at(struct __test_metadata *_metadata, uintptr_t off,
		       SIZE_T size, uintptr_t want_off, SIZE_T want_size)
{
	char *f = find_free(_metadata, 0x40000);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(f + want_off, va_ok(_metadata, f + off, size, MEM_RESERVE,
				      PAGE_NOACCESS));
	vq_ok(_metadata, f + want_off, &m);
	ASSERT_MBI(m, f + want_off, f + want_off, PAGE_NOACCESS, want_size,
		   MEM_RESERVE, 0, MEM_PRIVATE);
}

TEST(case_041) { reserve_at(_metadata, 0x8000, 1, 0, 0x9000); }
TEST(case_042) { reserve_at(_metadata, 0x10, 0x1000, 0, 0x2000); }
TEST(case_043) { reserve_at(_metadata, 0x1010, 0x7000, 0, 0x9000); }
TEST(case_044) { reserve_at(_metadata, 0, 1, 0, 0x1000); }
TEST(case_045) { reserve_at(_metadata, 0x10000, 0x2000, 0x10000, 0x2000); }

/* 46, 47 and 48 continue each other. */
static void alignment_walk(struct __test_metadata *_metadata, int upto)
{
	char *f = find_free(_metadata, 0x20000);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(f, va_ok(_metadata, f, 0x3000, MEM_RESERVE, PAGE_NOACCESS));
	ASSERT_EQ(f + 0x2000, va_ok(_metadata, f + 0x2000, 0x1000, MEM_COMMIT,
				    PAGE_NOACCESS));
	ASSERT_EQ(f + 0x2000, va_ok(_metadata, f + 0x2000, 0x1000, MEM_COMMIT,
				    PAGE_READWRITE));
	vq_ok(_metadata, f + 0x2000, &m);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);
	if (upto == 46)
		return;
	vf_ok(_metadata, f, 0x3000, MEM_DECOMMIT);
	vq_ok(_metadata, f, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	ASSERT_EQ(0x3000, m.RegionSize);
	if (upto == 47)
		return;
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(f + 0x10000, 0, MEM_RELEASE));
}

TEST(case_046) { alignment_walk(_metadata, 46); }
TEST(case_047) { alignment_walk(_metadata, 47); }
TEST(case_048) { alignment_walk(_metadata, 48); }

TEST(case_049)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(b + 0x1000, 0x1000, MEM_RESERVE,
				  PAGE_NOACCESS));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_EQ(b, va_ok(_metadata, b + 0x1000, 0x1000, MEM_RESERVE,
			   PAGE_NOACCESS));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x2000, m.RegionSize);
}

/* Case 50: three adjacent 64 KiB reservations at F, the middle one last. */
static char *adjacent(struct __test_metadata *_metadata)
{
	char *f = find_free(_metadata, 0x30000);

	ASSERT_EQ(f, va_ok(_metadata, f, 0x10000, MEM_RESERVE, PAGE_NOACCESS));
	ASSERT_EQ(f + 0x20000, va_ok(_metadata, f + 0x20000, 0x10000,
				     MEM_RESERVE, PAGE_NOACCESS));
	ASSERT_EQ(f + 0x10000, va_ok(_metadata, f + 0x10000, 0x10000,
				     MEM_RESERVE, PAGE_NOACCESS));
	return f;
}

TEST(case_050)
{
	adjacent(_metadata);
}

TEST(case_051)
{
	char *f = adjacent(_metadata);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(f + 0x4000, 0x10000, MEM_COMMIT,
				  PAGE_NOACCESS));
	vq_ok(_metadata, f + 0x4000, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	vq_ok(_metadata, f + 0x10000, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
}

TEST(case_052)
{
	char *f = adjacent(_metadata);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(f, 0x30000, MEM_DECOMMIT));
}

TEST(case_053)
{
	char *f = adjacent(_metadata);
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, f, &m);
	ASSERT_EQ(0x10000, m.RegionSize);
	vq_ok(_metadata, f + 0x10000, &m);
	ASSERT_EQ(f + 0x10000, m.AllocationBase);
}

/* 54, and 55 after it. */
static char *case_054_steps(struct __test_metadata *_metadata)
{
	char *f = adjacent(_metadata);

	ASSERT_EQ(f, va_ok(_metadata, f, 0x1000, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_EQ(f + 0x2000, va_ok(_metadata, f + 0x2000, 0x1000, MEM_COMMIT,
				    PAGE_NOACCESS));
	ASSERT_NO_FAULT(try_write(f, 1));
	ASSERT_SEGV_AT(f + 0x2000, try_read(f + 0x2000));
	return f;
}

TEST(case_054)
{
	case_054_steps(_metadata);
}

TEST(case_055)
{
	char *f = case_054_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(f, va_ok(_metadata, f, 0x3000, MEM_COMMIT, PAGE_READONLY));
	vq_ok(_metadata, f, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(PAGE_READONLY, m.Protect);
	ASSERT_EQ(0x3000, m.RegionSize);
	ASSERT_SEGV_AT(f, try_write(f, 2));
}

TEST(case_056)
{
	char *f = adjacent(_metadata);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(f + 0xF000, va_ok(_metadata, f + 0xF000, 0x1000, MEM_COMMIT,
				    PAGE_READWRITE));
	vq_ok(_metadata, f + 0xF700, &m);
	ASSERT_MBI(m, f + 0xF000, f, PAGE_NOACCESS, 0x1000, MEM_COMMIT,
		   PAGE_READWRITE, MEM_PRIVATE);
}

TEST(case_057)
{
	char *f = adjacent(_metadata);
	MEMORY_BASIC_INFORMATION m;

	vf_ok(_metadata, f, 0, MEM_RELEASE);
	vf_ok(_metadata, f + 0x10000, 0, MEM_RELEASE);
	vf_ok(_metadata, f + 0x20000, 0, MEM_RELEASE);
	vq_ok(_metadata, f + 0x10000, &m);
	ASSERT_EQ(MEM_FREE, m.State);
}

TEST_HARNESS_MAIN
