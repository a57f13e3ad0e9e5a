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

/* The structures and values of issue 15's functions. */
STATIC_ASSERT(sizeof(PROCESS_HEAP_ENTRY) == 40);
STATIC_ASSERT(offsetof(PROCESS_HEAP_ENTRY, wFlags) == 14);
STATIC_ASSERT(offsetof(PROCESS_HEAP_ENTRY, Region.lpFirstBlock) == 24);
STATIC_ASSERT(sizeof(HEAP_OPTIMIZE_RESOURCES_INFORMATION) == 8);
STATIC_ASSERT(sizeof(MEMORYSTATUSEX) == 64);
STATIC_ASSERT(offsetof(MEMORYSTATUSEX, ullAvailExtendedVirtual) == 56);
STATIC_ASSERT(sizeof(MEMORYSTATUS) == 56);
STATIC_ASSERT(sizeof(PROCESS_MEMORY_COUNTERS) == 72);
STATIC_ASSERT(sizeof(PROCESS_MEMORY_COUNTERS_EX) == 80);
STATIC_ASSERT(offsetof(PROCESS_MEMORY_COUNTERS, PagefileUsage) == 56);
STATIC_ASSERT(sizeof(PSAPI_WORKING_SET_EX_BLOCK) == 8);
STATIC_ASSERT(sizeof(PSAPI_WORKING_SET_EX_INFORMATION) == 16);
STATIC_ASSERT(sizeof(WIN32_MEMORY_RANGE_ENTRY) == 16);
STATIC_ASSERT(sizeof(OFFER_PRIORITY) == 4 && sizeof(HEAP_INFORMATION_CLASS) == 4);
STATIC_ASSERT(LMEM_DISCARDABLE == 0xF00 && GMEM_DISCARDABLE == 0x100 &&
	      LHND == 0x42 && GPTR == 0x40 && GMEM_VALID_FLAGS == 0x7F72 &&
	      LMEM_VALID_FLAGS == 0x0F72 && LMEM_INVALID_HANDLE == 0x8000);
STATIC_ASSERT(ERROR_NO_MORE_ITEMS == 259 && ERROR_DISCARDED == 157 &&
	      ERROR_NOT_OWNER == 288 && ERROR_INSUFFICIENT_BUFFER == 122);

BOOL (*const p_heap_lock)(HANDLE) = HeapLock;
BOOL (*const p_heap_walk)(HANDLE, LPPROCESS_HEAP_ENTRY) = HeapWalk;
DWORD (*const p_heaps)(DWORD, PHANDLE) = GetProcessHeaps;
BOOL (*const p_heap_set)(HANDLE, HEAP_INFORMATION_CLASS, PVOID, SIZE_T) =
	HeapSetInformation;
BOOL (*const p_heap_query)(HANDLE, HEAP_INFORMATION_CLASS, PVOID, SIZE_T,
			   PSIZE_T) = HeapQueryInformation;
HLOCAL (*const p_local_realloc)(HLOCAL, SIZE_T, UINT) = LocalReAlloc;
HGLOBAL (*const p_global_handle)(LPCVOID) = GlobalHandle;
BOOL (*const p_status)(LPMEMORYSTATUSEX) = GlobalMemoryStatusEx;
BOOL (*const p_installed)(PULONGLONG) = GetPhysicallyInstalledSystemMemory;
BOOL (*const p_pmi)(HANDLE, PPROCESS_MEMORY_COUNTERS, DWORD) =
	GetProcessMemoryInfo;
BOOL (*const p_qwsex)(HANDLE, PVOID, DWORD) = QueryWorkingSetEx;
BOOL (*const p_setws)(HANDLE, SIZE_T, SIZE_T, DWORD) =
	SetProcessWorkingSetSizeEx;
BOOL (*const p_bad_read)(const void *, UINT_PTR) = IsBadReadPtr;
BOOL (*const p_bad_code)(FARPROC) = IsBadCodePtr;
BOOL (*const p_bad_w)(LPCWSTR, UINT_PTR) = IsBadStringPtrW;
DWORD (*const p_offer)(PVOID, SIZE_T, OFFER_PRIORITY) = OfferVirtualMemory;
DWORD (*const p_reclaim)(void const *, SIZE_T) = ReclaimVirtualMemory;
BOOL (*const p_prefetch)(HANDLE, ULONG_PTR, PWIN32_MEMORY_RANGE_ENTRY,
			 ULONG) = PrefetchVirtualMemory;
BOOL (*const p_flush)(HANDLE, LPCVOID, SIZE_T) = FlushInstructionCache;

/* Sections. */
STATIC_ASSERT(sizeof(SECURITY_ATTRIBUTES) == 24);
STATIC_ASSERT(offsetof(SECURITY_ATTRIBUTES, bInheritHandle) == 16);
STATIC_ASSERT(SEC_COMMIT == 0x08000000 && SEC_RESERVE == 0x04000000 &&
	      FILE_MAP_COPY == 1 && FILE_MAP_WRITE == 2 && FILE_MAP_READ == 4 &&
	      FILE_MAP_EXECUTE == 0x20 && FILE_MAP_ALL_ACCESS == 0xF001F);
STATIC_ASSERT(ERROR_FILE_NOT_FOUND == 2 && ERROR_PATH_NOT_FOUND == 3 &&
	      ERROR_ALREADY_EXISTS == 183 && ERROR_FILENAME_EXCED_RANGE == 206 &&
	      ERROR_MAPPED_ALIGNMENT == 1132 && ERROR_INVALID_NAME == 123);

HANDLE (*const p_cfm_w)(HANDLE, LPSECURITY_ATTRIBUTES, DWORD, DWORD, DWORD,
			LPCWSTR) = CreateFileMappingW;
HANDLE (*const p_cfm)(HANDLE, LPSECURITY_ATTRIBUTES, DWORD, DWORD, DWORD,
		      LPCSTR) = CreateFileMapping;
HANDLE (*const p_ofm_w)(DWORD, BOOL, LPCWSTR) = OpenFileMappingW;
HANDLE (*const p_ofm)(DWORD, BOOL, LPCSTR) = OpenFileMapping;
LPVOID (*const p_map)(HANDLE, DWORD, DWORD, DWORD, SIZE_T) = MapViewOfFile;
LPVOID (*const p_map_ex)(HANDLE, DWORD, DWORD, DWORD, SIZE_T, LPVOID) =
	MapViewOfFileEx;
BOOL (*const p_unmap)(LPCVOID) = UnmapViewOfFile;
BOOL (*const p_flush_view)(LPCVOID, SIZE_T) = FlushViewOfFile;
BOOL (*const p_close)(HANDLE) = CloseHandle;
int (*const p_fd)(HANDLE) = ntmem_fd_from_handle;
HANDLE (*const p_handle)(int) = ntmem_handle_from_fd;

/* Placeholders and extended parameters. */
STATIC_ASSERT(sizeof(MEM_EXTENDED_PARAMETER) == 16);
STATIC_ASSERT(offsetof(MEM_EXTENDED_PARAMETER, Pointer) == 8);
STATIC_ASSERT(sizeof(MEM_ADDRESS_REQUIREMENTS) == 24);
STATIC_ASSERT(offsetof(MEM_ADDRESS_REQUIREMENTS, Alignment) == 16);
STATIC_ASSERT(MemExtendedParameterAddressRequirements == 1 &&
	      MemExtendedParameterNumaNode == 2 &&
	      MemExtendedParameterMax == 7);
STATIC_ASSERT(MEM_RESERVE_PLACEHOLDER == 0x40000 &&
	      MEM_REPLACE_PLACEHOLDER == 0x4000 &&
	      MEM_PRESERVE_PLACEHOLDER == 2 && MEM_COALESCE_PLACEHOLDERS == 1 &&
	      MEM_UNMAP_WITH_TRANSIENT_BOOST == 1);

PVOID (*const p_alloc2)(HANDLE, PVOID, SIZE_T, ULONG, ULONG,
			MEM_EXTENDED_PARAMETER *, ULONG) = VirtualAlloc2;
PVOID (*const p_map3)(HANDLE, HANDLE, PVOID, ULONG64, SIZE_T, ULONG, ULONG,
		      MEM_EXTENDED_PARAMETER *, ULONG) = MapViewOfFile3;
PVOID (*const p_map2)(HANDLE, HANDLE, ULONG64, PVOID, SIZE_T, ULONG, ULONG) =
	MapViewOfFile2;
BOOL (*const p_unmap2)(HANDLE, PVOID, ULONG) = UnmapViewOfFile2;
BOOL (*const p_unmap_ex)(PVOID, ULONG) = UnmapViewOfFileEx;

/* Windows' own way to fill one in, unnamed members and all. */
DWORD win32_header_param(MEM_EXTENDED_PARAMETER *p,
			 MEM_ADDRESS_REQUIREMENTS *r);
DWORD win32_header_param(MEM_EXTENDED_PARAMETER *p,
			 MEM_ADDRESS_REQUIREMENTS *r)
{
	p->Type = MemExtendedParameterAddressRequirements;
	p->Pointer = r;
	r->Alignment = 0x100000;
	return (DWORD)p->Type;
}

DWORD win32_header_check(SYSTEM_INFO *si);
DWORD win32_header_check(SYSTEM_INFO *si)
{
	si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
	return si->dwOemId | MEM_COMMIT | MEM_RESERVE | PAGE_READWRITE |
	       ERROR_INVALID_ADDRESS;
}
