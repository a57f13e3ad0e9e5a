// SPDX-License-Identifier: GPL-2.0
/* Spec 7.5: MEM_RESET and MEM_RESET_UNDO (cases 68-73). */
#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* Case 68; 69 and 70 after it. */
static char *case_068_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;
	DWORD v;

	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_COMMIT, PAGE_READWRITE));
	memset(b, 0x55, 20);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_RESET, PAGE_NOACCESS));
	memcpy(&v, b, sizeof(v));
	ASSERT_TRUE(v == 0x55555555 || v == 0) TH_LOG("read %#x", v);
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	return b;
}

TEST(case_068)
{
	case_068_steps(_metadata);
}

TEST(case_069)
{
	char *b = case_068_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(b + 0x1000, va_ok(_metadata, b + 0x1000, 0x1000, MEM_RESET,
				    PAGE_NOACCESS));
	vq_ok(_metadata, b + 0x1000, &m);
	ASSERT_EQ(0xF000, m.RegionSize);
	ASSERT_EQ(MEM_RESERVE, m.State);
	ASSERT_EQ(0, m.Protect);
}

TEST(case_070)
{
	char *b = case_068_steps(_metadata);

	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualAlloc(b + 0xF000, 0x2000, MEM_RESET,
				  PAGE_NOACCESS));
}

TEST(case_071)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(b, 0x1000, MEM_RESET | MEM_COMMIT,
				  PAGE_READWRITE));
}

TEST(case_072)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);

	fill_pattern(b, 0x10000, 72);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_RESET, PAGE_NOACCESS));
	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_RESET_UNDO,
			   PAGE_NOACCESS));
	ASSERT_EQ(-1, check_pattern(b, 0x10000, 72));
}

TEST(case_073)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualAlloc(b, 0x1000, MEM_RESET_UNDO | MEM_COMMIT,
				  PAGE_READWRITE));
}

TEST_HARNESS_MAIN
