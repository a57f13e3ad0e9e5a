// SPDX-License-Identifier: GPL-2.0
/* Spec 7.6: the Ex variants and VirtualQuery's arguments (cases 74-83). */
#include <string.h>

#include "kselftest_harness.h"
#include "win32_util.h"

TEST(case_074)
{
	HANDLE me = GetCurrentProcess();
	char *a;

	SetLastError(LE_SENTINEL);
	a = VirtualAllocEx(me, NULL, 0x8000, MEM_COMMIT,
			   PAGE_EXECUTE_READWRITE);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualFreeEx(NULL, a, 0, MEM_RELEASE));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualAllocEx(NULL, NULL, 0x8000, MEM_COMMIT,
				    PAGE_EXECUTE_READWRITE));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, VirtualFreeEx(me, a, 0, MEM_RELEASE));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* Case 75: cases 3 to 14 through the Ex forms. */
#define QEX(addr, m) do {						\
	SetLastError(LE_SENTINEL);					\
	ASSERT_EQ(sizeof(m), VirtualQueryEx(me, (addr), &(m), sizeof(m))); \
	ASSERT_EQ(LE_SENTINEL, GetLastError());				\
} while (0)
#define PEX_OK(addr, size, prot, want_old) do {				\
	DWORD old_ = 0;							\
	SetLastError(LE_SENTINEL);					\
	ASSERT_EQ(TRUE, VirtualProtectEx(me, (addr), (size), (prot), &old_)); \
	ASSERT_EQ((DWORD)(want_old), old_);				\
	ASSERT_EQ(LE_SENTINEL, GetLastError());				\
} while (0)
#define FEX_OK(addr, size, type) do {					\
	SetLastError(LE_SENTINEL);					\
	ASSERT_EQ(TRUE, VirtualFreeEx(me, (addr), (size), (type)));	\
	ASSERT_EQ(LE_SENTINEL, GetLastError());				\
} while (0)

TEST(case_075)
{
	HANDLE me = GetCurrentProcess();
	MEMORY_BASIC_INFORMATION m;
	DWORD old;
	char *b;

	b = VirtualAllocEx(me, NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, (uintptr_t)b % G);
	QEX(b, m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x10000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtectEx(me, b, 0xFFFC, PAGE_READONLY, &old));
	ASSERT_EQ(b, VirtualAllocEx(me, b, 0x1000, MEM_COMMIT, PAGE_NOACCESS));
	QEX(b, m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT, PAGE_NOACCESS,
		   MEM_PRIVATE);
	ASSERT_FAILS(ERROR_INVALID_ADDRESS,
		     VirtualProtectEx(me, b, 0xFFFC, PAGE_READONLY, &old));
	PEX_OK(b, 0x1000, PAGE_READONLY, PAGE_NOACCESS);
	PEX_OK(b, 0x1000, PAGE_READWRITE, PAGE_READONLY);
	QEX(b, m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT, PAGE_READWRITE,
		   MEM_PRIVATE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, VirtualFreeEx(me, b, 0x10000, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFreeEx(me, b, 0, MEM_FREE));
	FEX_OK(b, 0x10000, MEM_DECOMMIT);
	QEX(b, m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x10000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualFreeEx(me, b, 1, MEM_RELEASE));
	FEX_OK(b, 0, MEM_RELEASE);
	QEX(b, m);
	ASSERT_MBI(m, b, NULL, 0, m.RegionSize, MEM_FREE, PAGE_NOACCESS, 0);
}

TEST(case_076)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;
	DWORD old = 0x1234;

	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualQueryEx((HANDLE)0x1234, b, &m, 48));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     VirtualProtectEx((HANDLE)0x1234, b, 0x1000, PAGE_READONLY,
				      &old));
	ASSERT_EQ(0x1234, old);
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);
}

TEST(case_077)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_FAILS(ERROR_BAD_LENGTH, VirtualQuery(b, &m, 47));
}

TEST(case_078)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);
	union {
		MEMORY_BASIC_INFORMATION m;
		unsigned char bytes[64];
	} buf;

	memset(&buf, 0xCC, sizeof(buf));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(48, VirtualQuery(b, &buf.m, 64));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	for (int i = 48; i < 64; i++)
		ASSERT_EQ(0xCC, buf.bytes[i]);
	ASSERT_MBI(buf.m, b, b, PAGE_NOACCESS, 0x1000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
}

TEST(case_079)
{
	char *b = va_ok(_metadata, NULL, 0x1000, MEM_RESERVE, PAGE_NOACCESS);

	ASSERT_FAILS(ERROR_NOACCESS, VirtualQuery(b, NULL, 48));
}

TEST(case_080)
{
	MEMORY_BASIC_INFORMATION m;

	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     VirtualQuery((void *)0x800000000000, &m, 48));
}

TEST(case_081)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(b + 0x2000, va_ok(_metadata, b + 0x2000, 0x2000, MEM_COMMIT,
				    PAGE_READWRITE));
	vq_ok(_metadata, b, &m);
	ASSERT_MBI(m, b, b, PAGE_NOACCESS, 0x2000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
	vq_ok(_metadata, b + 0x2000, &m);
	ASSERT_MBI(m, b + 0x2000, b, PAGE_NOACCESS, 0x2000, MEM_COMMIT,
		   PAGE_READWRITE, MEM_PRIVATE);
	vq_ok(_metadata, b + 0x3000, &m);
	ASSERT_MBI(m, b + 0x3000, b, PAGE_NOACCESS, 0x1000, MEM_COMMIT,
		   PAGE_READWRITE, MEM_PRIVATE);
	vq_ok(_metadata, b + 0x4321, &m);
	ASSERT_MBI(m, b + 0x4000, b, PAGE_NOACCESS, 0xC000, MEM_RESERVE, 0,
		   MEM_PRIVATE);
}

TEST(case_082)
{
	char *b = va_ok(_metadata, NULL, 0x3000, MEM_RESERVE, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m;

	vq_ok(_metadata, b + 0x3000, &m);
	ASSERT_EQ(MEM_FREE, m.State);
	ASSERT_EQ(b + 0x3000, m.BaseAddress);
	ASSERT_EQ(NULL, m.AllocationBase);
	ASSERT_EQ(0, m.AllocationProtect);
	ASSERT_EQ(PAGE_NOACCESS, m.Protect);
	ASSERT_EQ(0, m.Type);
	ASSERT_LE(0xD000, m.RegionSize);
	ASSERT_LE((uintptr_t)m.BaseAddress + m.RegionSize, 0x7FFFFFFF0000UL);
}

TEST(case_083)
{
	char *b = va_ok(_metadata, NULL, 0x4000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(PAGE_READWRITE,
		  vp_ok(_metadata, b + 0x1000, 0x2000, PAGE_READONLY));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(0x1000, m.RegionSize);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);
	vq_ok(_metadata, b + 0x1000, &m);
	ASSERT_EQ(0x2000, m.RegionSize);
	ASSERT_EQ(PAGE_READONLY, m.Protect);
	vq_ok(_metadata, b + 0x3000, &m);
	ASSERT_EQ(0x1000, m.RegionSize);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);
}

TEST_HARNESS_MAIN
