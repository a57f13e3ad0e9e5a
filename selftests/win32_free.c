// SPDX-License-Identifier: GPL-2.0
/* Spec 7.4: VirtualFree details (cases 58-67). */
#include "kselftest_harness.h"
#include "win32_util.h"

/* 58 to 61 continue each other. */
static void decommit_walk(struct __test_metadata *_metadata, int upto)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
			PAGE_EXECUTE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	/* 58 */
	vf_ok(_metadata, b + 0x1FFF, 2, MEM_DECOMMIT);
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(0x1000, m.RegionSize);
	vq_ok(_metadata, b + 0x1000, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	ASSERT_EQ(0x2000, m.RegionSize);
	vq_ok(_metadata, b + 0x3000, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(0xD000, m.RegionSize);
	if (upto == 58)
		return;
	/* 59 */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(b + 0x1001, 0, MEM_DECOMMIT));
	if (upto == 59)
		return;
	/* 60 */
	vf_ok(_metadata, b + 0xFFE, 0, MEM_DECOMMIT);
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
	ASSERT_EQ(0x10000, m.RegionSize);
	if (upto == 60)
		return;
	/* 61 */
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualFree(b + 0x1001, 0, MEM_RELEASE));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_RESERVE, m.State);
}

TEST(case_058) { decommit_walk(_metadata, 58); }
TEST(case_059) { decommit_walk(_metadata, 59); }
TEST(case_060) { decommit_walk(_metadata, 60); }
TEST(case_061) { decommit_walk(_metadata, 61); }

/* 62; 63, 64 and 65 each after it. */
static char *case_062_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_READWRITE);

	vf_ok(_metadata, b, 0x1000, MEM_DECOMMIT);
	return b;
}

TEST(case_062)
{
	case_062_steps(_metadata);
}

TEST(case_063)
{
	char *b = case_062_steps(_metadata);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(b, 0x1001, MEM_DECOMMIT));
}

TEST(case_064)
{
	char *b = case_062_steps(_metadata);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree(b + 1, 0x1000, MEM_DECOMMIT));
}

TEST(case_065)
{
	char *b = case_062_steps(_metadata);

	vf_ok(_metadata, b + 1, 0xFFF, MEM_DECOMMIT);
}

TEST(case_066)
{
	char *b = va_ok(_metadata, NULL, 0x30000, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(b + 0x10000, va_ok(_metadata, b + 0x10000, 0x10000,
				     MEM_COMMIT, PAGE_READONLY));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	vq_ok(_metadata, b + 0x10000, &m);
	ASSERT_EQ(MEM_FREE, m.State);
}

TEST(case_067)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFree((void *)0x800000000000, 0, MEM_RELEASE));
}

TEST_HARNESS_MAIN
