// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.9: access violations at the exact byte, and what memory contains
 * (cases 96-104).  The access kind of 99 and 100 is the access the test
 * makes (a write, a call); the SIGSEGV address is what is checked.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

TEST(case_096)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE, PAGE_NOACCESS);

	ASSERT_SEGV_AT(b + 0x123, try_read(b + 0x123));
}

TEST(case_097)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);

	memset(b, 0x5A, 0x1000);
	vf_ok(_metadata, b, 0x1000, MEM_DECOMMIT);
	ASSERT_SEGV_AT(b + 8, try_read(b + 8));
}

TEST(case_098)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);

	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_SEGV_AT(b + 0x10, try_write(b + 0x10, 1));
}

TEST(case_099)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READONLY);

	ASSERT_SEGV_AT(b + 0x20, try_write(b + 0x20, 1));
	ASSERT_NO_FAULT(try_read(b + 0x20));
}

TEST(case_100)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	char *code = b + 0x100;
	int ret = 0;

	memcpy(code, code_ret42, sizeof(code_ret42));
	ASSERT_SEGV_AT(code, try_exec(code, &ret));
	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b, 0x1000, PAGE_EXECUTE_READ));
	ASSERT_NO_FAULT(try_exec(code, &ret));
	ASSERT_EQ(42, ret);
}

TEST(case_101)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);

	ASSERT_EQ(-1, check_bytes(b, 0x10000, 0));
}

TEST(case_102)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);

	memset(b, 0xAA, 0x1000);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_EQ(-1, check_bytes(b, 0x1000, 0xAA));
}

TEST(case_103)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);

	memset(b, 0xAA, 0x1000);
	vf_ok(_metadata, b, 0x1000, MEM_DECOMMIT);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x1000, MEM_COMMIT, PAGE_READWRITE));
	ASSERT_EQ(-1, check_bytes(b, 0x1000, 0));
}

TEST(case_104)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);

	memset(b, 0xAA, 0x10000);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
	ASSERT_EQ(b, va_ok(_metadata, b, 0x10000, MEM_RESERVE | MEM_COMMIT,
			   PAGE_READWRITE));
	ASSERT_EQ(-1, check_bytes(b, 0x10000, 0));
}

TEST_HARNESS_MAIN
