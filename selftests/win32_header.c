// SPDX-License-Identifier: GPL-2.0
/*
 * Compiled at build time, not run: <ntmem/windows.h> must build as C99
 * with -pedantic and as C++11 (see the Makefile), and its layouts must be
 * Windows' in both languages.
 */
#include <ntmem/windows.h>

#ifdef __cplusplus
#define STATIC_ASSERT(e) static_assert(e, #e)
#else
/* C99 has no _Static_assert: a negative array size fails the build. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STATIC_ASSERT(e) typedef char CAT(static_assert_, __LINE__)[(e) ? 1 : -1]
#endif

STATIC_ASSERT(sizeof(MEMORY_BASIC_INFORMATION) == 48);
STATIC_ASSERT(sizeof(SYSTEM_INFO) == 48);
STATIC_ASSERT(offsetof(SYSTEM_INFO, dwAllocationGranularity) == 40);
STATIC_ASSERT(offsetof(MEMORY_BASIC_INFORMATION, Type) == 40);
STATIC_ASSERT(sizeof(DWORD) == 4 && sizeof(WORD) == 2 && sizeof(BYTE) == 1);
STATIC_ASSERT(sizeof(BOOL) == 4 && sizeof(SIZE_T) == 8);

/* Every declaration is usable with Windows' signature. */
LPVOID (*const p_alloc)(LPVOID, SIZE_T, DWORD, DWORD) = VirtualAlloc;
LPVOID (*const p_alloc_ex)(HANDLE, LPVOID, SIZE_T, DWORD, DWORD) =
	VirtualAllocEx;
BOOL (*const p_free)(LPVOID, SIZE_T, DWORD) = VirtualFree;
BOOL (*const p_free_ex)(HANDLE, LPVOID, SIZE_T, DWORD) = VirtualFreeEx;
SIZE_T (*const p_query)(LPCVOID, PMEMORY_BASIC_INFORMATION, SIZE_T) =
	VirtualQuery;
SIZE_T (*const p_query_ex)(HANDLE, LPCVOID, PMEMORY_BASIC_INFORMATION,
			   SIZE_T) = VirtualQueryEx;
BOOL (*const p_protect)(LPVOID, SIZE_T, DWORD, PDWORD) = VirtualProtect;
BOOL (*const p_protect_ex)(HANDLE, LPVOID, SIZE_T, DWORD, PDWORD) =
	VirtualProtectEx;
void (*const p_sysinfo)(LPSYSTEM_INFO) = GetSystemInfo;
SIZE_T (*const p_large)(void) = GetLargePageMinimum;
DWORD (*const p_get_error)(void) = GetLastError;
void (*const p_set_error)(DWORD) = SetLastError;
HANDLE (*const p_process)(void) = GetCurrentProcess;
UINT (*const p_get_ww)(DWORD, PVOID, SIZE_T, PVOID *, ULONG_PTR *, LPDWORD) =
	GetWriteWatch;
UINT (*const p_reset_ww)(LPVOID, SIZE_T) = ResetWriteWatch;

STATIC_ASSERT(STATUS_ACCESS_VIOLATION == 0xC0000005u);
STATIC_ASSERT(EXCEPTION_GUARD_PAGE == 0x80000001u);
STATIC_ASSERT(EXCEPTION_READ_FAULT == 0 && EXCEPTION_WRITE_FAULT == 1 &&
	      EXCEPTION_EXECUTE_FAULT == 8 && WRITE_WATCH_FLAG_RESET == 1);

DWORD win32_header_check(SYSTEM_INFO *si);
DWORD win32_header_check(SYSTEM_INFO *si)
{
	si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
	return si->dwOemId | MEM_COMMIT | MEM_RESERVE | PAGE_READWRITE |
	       ERROR_INVALID_ADDRESS;
}
