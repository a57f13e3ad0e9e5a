// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.8, the cases that need no VirtualLock, write watch or guard-hit
 * classification: PAGE_GUARD through VirtualAlloc, VirtualQuery and
 * VirtualProtect (cases 88, 89, 95).
 */
#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* 88, and 89 after it. */
static char *case_088_steps(struct __test_metadata *_metadata)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE | MEM_COMMIT,
			PAGE_READWRITE | PAGE_GUARD);
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, 0x104, 0x1000, MEM_COMMIT, 0x104, MEM_PRIVATE);
	return b;
}

TEST(case_088)
{
	case_088_steps(_metadata);
}

TEST(case_089)
{
	char *b = case_088_steps(_metadata);
	MEMORY_BASIC_INFORMATION m;
	int32_t *l = (int32_t *)b;

	ASSERT_EQ(0x104, vp_ok(_metadata, b, 0x1000, PAGE_READWRITE));
	l[0] = 1;
	l[1] = 2;
	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_READWRITE | PAGE_GUARD));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x104, m.Protect);
}

TEST(case_095)
{
	char *b = va_ok(_metadata, NULL, 0x400000, MEM_RESERVE, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(b + 0x3FF000, va_ok(_metadata, b + 0x3FF000, 0x1000,
				      MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD));
	vq_ok(_metadata, b + 0x3FF000, &m);
	ASSERT_MBI(m, b + 0x3FF000, b, PAGE_READWRITE, 0x1000, MEM_COMMIT,
		   0x104, MEM_PRIVATE);
}

TEST_HARNESS_MAIN
