/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the Win32 API tests (win32_*.c, spec section 7): each call
 * helper asserts that the call succeeded and left the last error alone.
 * Include after kselftest_harness.h.
 */
#ifndef WIN32_UTIL_H
#define WIN32_UTIL_H

#include <stdint.h>
#include <ntmem/windows.h>

#define P	0x1000UL
#define G	0x10000UL
#define LE_SENTINEL	0xDEADBEEFu

/* The call fails: returns 0 / NULL / FALSE and sets the last error @code. */
#define ASSERT_FAILS(code, call) do {					\
	SetLastError(LE_SENTINEL);					\
	ASSERT_EQ((uintptr_t)0, (uintptr_t)(call));			\
	ASSERT_EQ((DWORD)(code), GetLastError());			\
} while (0)

/* The fields of a MEMORY_BASIC_INFORMATION, all of them. */
#define ASSERT_MBI(m, base, abase, aprot, size, state, prot, type) do {	\
	ASSERT_EQ((uintptr_t)(base), (uintptr_t)(m).BaseAddress);	\
	ASSERT_EQ((uintptr_t)(abase), (uintptr_t)(m).AllocationBase);	\
	ASSERT_EQ((DWORD)(aprot), (m).AllocationProtect);		\
	ASSERT_EQ((SIZE_T)(size), (m).RegionSize);			\
	ASSERT_EQ((DWORD)(state), (m).State);				\
	ASSERT_EQ((DWORD)(prot), (m).Protect);				\
	ASSERT_EQ((DWORD)(type), (m).Type);				\
} while (0)

/* VirtualAlloc that must succeed (and return @want unless it is NULL). */
static inline char *va_ok(struct __test_metadata *_metadata, void *addr,
			  SIZE_T size, DWORD type, DWORD prot)
{
	char *b;

	SetLastError(LE_SENTINEL);
	b = VirtualAlloc(addr, size, type, prot);
	ASSERT_NE(NULL, b) TH_LOG("VirtualAlloc(%p, %#zx, %#x, %#x): %u",
				  addr, size, type, prot, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return b;
}

/* VirtualQuery that must succeed; fills *m. */
static inline void vq_ok(struct __test_metadata *_metadata, const void *addr,
			 MEMORY_BASIC_INFORMATION *m)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(sizeof(*m), VirtualQuery(addr, m, sizeof(*m)))
		TH_LOG("VirtualQuery(%p): %u", addr, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* VirtualProtect that must succeed; returns the old protection. */
static inline DWORD vp_ok(struct __test_metadata *_metadata, void *addr,
			  SIZE_T size, DWORD prot)
{
	DWORD old = 0xDEADBEEF;

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, VirtualProtect(addr, size, prot, &old))
		TH_LOG("VirtualProtect(%p, %#zx, %#x): %u", addr, size, prot,
		       GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return old;
}

/* VirtualFree that must succeed. */
static inline void vf_ok(struct __test_metadata *_metadata, void *addr,
			 SIZE_T size, DWORD type)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, VirtualFree(addr, size, type))
		TH_LOG("VirtualFree(%p, %#zx, %#x): %u", addr, size, type,
		       GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* VirtualLock and VirtualUnlock that must succeed. */
static inline void lock_ok(struct __test_metadata *_metadata, void *addr,
			   SIZE_T size)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, VirtualLock(addr, size))
		TH_LOG("VirtualLock(%p, %#zx): %u", addr, size, GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

static inline void unlock_ok(struct __test_metadata *_metadata, void *addr,
			     SIZE_T size)
{
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, VirtualUnlock(addr, size))
		TH_LOG("VirtualUnlock(%p, %#zx): %u", addr, size,
		       GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

/* F of spec 0.3: a free, 64 KiB-aligned address with @size free above it
 * (reserve a block with a NULL address, note its base, release it). */
static inline char *find_free(struct __test_metadata *_metadata, SIZE_T size)
{
	char *f = va_ok(_metadata, NULL, size, MEM_RESERVE, PAGE_NOACCESS);

	vf_ok(_metadata, f, 0, MEM_RELEASE);
	return f;
}

#endif /* WIN32_UTIL_H */
