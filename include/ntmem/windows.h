/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ntmem/windows.h: the Win32 virtual-memory API of libntmem -- Windows'
 * names, types, values and structure layouts on x86-64 Linux.
 *
 * Windows is LLP64 and Linux LP64, so every 32-bit Windows type is spelled
 * with a fixed-width type here, never with long.  Usable from C99 and C++.
 *
 * Each function sets the thread's last error (GetLastError) only when it
 * fails (as on Windows, LocalUnlock/GlobalUnlock also set NO_ERROR when a
 * block becomes unlocked, and CreateFileMapping sets 0 or
 * ERROR_ALREADY_EXISTS when it succeeds; Offer/Reclaim/DiscardVirtualMemory
 * return their error code instead; the IsBad*Ptr functions never set it).
 * The ...Ex forms take GetCurrentProcess() or a handle of OpenProcess().
 * Without /dev/ntmem (module not loaded) the memory functions fail with
 * ERROR_NOT_SUPPORTED, and the first failure prints a hint on stderr.
 *
 * Link with -lntmem (pkg-config ntmem).
 */
#ifndef NTMEM_WINDOWS_H
#define NTMEM_WINDOWS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- base types --------------------------------------------------------- */

typedef int		BOOL;
typedef uint8_t		BYTE;
typedef uint16_t	WORD;
typedef uint32_t	DWORD;
typedef uint32_t	ULONG;
typedef uint32_t	UINT;
typedef int32_t		LONG;
typedef size_t		SIZE_T;
typedef uintptr_t	ULONG_PTR;
typedef intptr_t	LONG_PTR;
typedef uintptr_t	DWORD_PTR;
typedef void		*PVOID;
typedef void		*LPVOID;
typedef const void	*LPCVOID;
typedef void		*HANDLE;
typedef DWORD		*PDWORD;
typedef DWORD		*LPDWORD;
typedef uint64_t	ULONGLONG;
typedef uint64_t	DWORDLONG;
typedef uint64_t	ULONG64;
typedef uint64_t	DWORD64;
typedef ULONGLONG	*PULONGLONG;
typedef SIZE_T		*PSIZE_T;
typedef HANDLE		*PHANDLE;
typedef char		CHAR;
typedef const CHAR	*LPCSTR;
typedef uint16_t	WCHAR;		/* UTF-16, as on Windows */
typedef const WCHAR	*LPCWSTR;
typedef void		*HLOCAL;
typedef void		*HGLOBAL;
typedef uintptr_t	UINT_PTR;
typedef intptr_t	(*FARPROC)(void);

#ifndef TRUE
#define TRUE	1
#endif
#ifndef FALSE
#define FALSE	0
#endif

/* ---- allocation and free types, memory states and types ----------------- */

#define MEM_COMMIT			0x00001000
#define MEM_RESERVE			0x00002000
#define MEM_DECOMMIT			0x00004000
#define MEM_REPLACE_PLACEHOLDER		0x00004000
#define MEM_RELEASE			0x00008000
#define MEM_FREE			0x00010000
#define MEM_PRIVATE			0x00020000
#define MEM_MAPPED			0x00040000
#define MEM_RESERVE_PLACEHOLDER		0x00040000
#define MEM_RESET			0x00080000
#define MEM_TOP_DOWN			0x00100000
#define MEM_WRITE_WATCH			0x00200000
#define MEM_PHYSICAL			0x00400000
#define MEM_ROTATE			0x00800000
#define MEM_RESET_UNDO			0x01000000
#define MEM_IMAGE			0x01000000
#define MEM_LARGE_PAGES			0x20000000
#define MEM_4MB_PAGES			0x80000000
#define MEM_64K_PAGES			(MEM_LARGE_PAGES | MEM_PHYSICAL)
#define MEM_COALESCE_PLACEHOLDERS	0x00000001
#define MEM_PRESERVE_PLACEHOLDER	0x00000002
#define MEM_UNMAP_WITH_TRANSIENT_BOOST	0x00000001
#define AT_ROUND_TO_PAGE		0x40000000
#define WRITE_WATCH_FLAG_RESET		0x00000001

/* ---- page protections --------------------------------------------------- */

#define PAGE_NOACCESS			0x001
#define PAGE_READONLY			0x002
#define PAGE_READWRITE			0x004
#define PAGE_WRITECOPY			0x008
#define PAGE_EXECUTE			0x010
#define PAGE_EXECUTE_READ		0x020
#define PAGE_EXECUTE_READWRITE		0x040
#define PAGE_EXECUTE_WRITECOPY		0x080
#define PAGE_GUARD			0x100
#define PAGE_NOCACHE			0x200
#define PAGE_WRITECOMBINE		0x400
#define PAGE_TARGETS_INVALID		0x40000000
#define PAGE_TARGETS_NO_UPDATE		0x40000000

/* ---- sections (file mappings) ------------------------------------------- */

/* Section attributes, or-ed into CreateFileMapping's flProtect. */
#define SEC_RESERVE			0x04000000
#define SEC_COMMIT			0x08000000
#define SEC_IMAGE			0x01000000
#define SEC_NOCACHE			0x10000000
#define SEC_WRITECOMBINE		0x40000000
#define SEC_LARGE_PAGES			0x80000000

/* Access of a section handle and of a view. */
#define FILE_MAP_COPY			0x00000001
#define FILE_MAP_WRITE			0x00000002
#define FILE_MAP_READ			0x00000004
#define FILE_MAP_EXECUTE		0x00000020
#define FILE_MAP_ALL_ACCESS		0x000F001F

#define INVALID_HANDLE_VALUE		((HANDLE)(LONG_PTR)-1)

/* ---- processes ---------------------------------------------------------- */

/* Standard and generic access rights. */
#define DELETE				0x00010000
#define READ_CONTROL			0x00020000
#define WRITE_DAC			0x00040000
#define WRITE_OWNER			0x00080000
#define SYNCHRONIZE			0x00100000
#define STANDARD_RIGHTS_REQUIRED	0x000F0000
#define MAXIMUM_ALLOWED			0x02000000
#define GENERIC_ALL			0x10000000
#define GENERIC_EXECUTE			0x20000000
#define GENERIC_WRITE			0x40000000
#define GENERIC_READ			0x80000000

/*
 * Access of a process handle (OpenProcess).  ntmem gives a handle the
 * rights of these it knows: PROCESS_VM_OPERATION, PROCESS_VM_READ,
 * PROCESS_VM_WRITE, PROCESS_QUERY_INFORMATION and
 * PROCESS_QUERY_LIMITED_INFORMATION; the others are accepted and have no
 * use here.
 */
#define PROCESS_TERMINATE		0x0001
#define PROCESS_CREATE_THREAD		0x0002
#define PROCESS_SET_SESSIONID		0x0004
#define PROCESS_VM_OPERATION		0x0008
#define PROCESS_VM_READ			0x0010
#define PROCESS_VM_WRITE		0x0020
#define PROCESS_DUP_HANDLE		0x0040
#define PROCESS_CREATE_PROCESS		0x0080
#define PROCESS_SET_QUOTA		0x0100
#define PROCESS_SET_INFORMATION		0x0200
#define PROCESS_QUERY_INFORMATION	0x0400
#define PROCESS_SUSPEND_RESUME		0x0800
#define PROCESS_QUERY_LIMITED_INFORMATION 0x1000
#define PROCESS_SET_LIMITED_INFORMATION	0x2000
#define PROCESS_ALL_ACCESS		(STANDARD_RIGHTS_REQUIRED | \
					 SYNCHRONIZE | 0xFFFF)

/* 24 bytes.  Only bInheritHandle means something to libntmem. */
typedef struct _SECURITY_ATTRIBUTES {
	DWORD nLength;
	LPVOID lpSecurityDescriptor;
	BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/* ---- extended parameters (VirtualAlloc2, MapViewOfFile3) ---------------- */

#define MEM_EXTENDED_PARAMETER_TYPE_BITS	8
#define NUMA_NO_PREFERRED_NODE		((DWORD)-1)

typedef enum MEM_EXTENDED_PARAMETER_TYPE {
	MemExtendedParameterInvalidType = 0,
	MemExtendedParameterAddressRequirements,
	MemExtendedParameterNumaNode,
	MemExtendedParameterPartitionHandle,
	MemExtendedParameterUserPhysicalHandle,
	MemExtendedParameterAttributeFlags,
	MemExtendedParameterImageMachine,
	MemExtendedParameterMax
} MEM_EXTENDED_PARAMETER_TYPE, *PMEM_EXTENDED_PARAMETER_TYPE;

/*
 * 16 bytes; Type and Pointer are reached without a member name, as there
 * (its only members are unnamed, which ISO C99 does not know).
 */
__extension__ typedef struct MEM_EXTENDED_PARAMETER {
	__extension__ struct {
		DWORD64 Type : MEM_EXTENDED_PARAMETER_TYPE_BITS;
		DWORD64 Reserved : 64 - MEM_EXTENDED_PARAMETER_TYPE_BITS;
	};
	__extension__ union {
		DWORD64 ULong64;
		PVOID Pointer;
		SIZE_T Size;
		HANDLE Handle;
		DWORD ULong;
	};
} MEM_EXTENDED_PARAMETER, *PMEM_EXTENDED_PARAMETER;

/* 24 bytes: where a new allocation or view may lie (0: anywhere). */
typedef struct _MEM_ADDRESS_REQUIREMENTS {
	PVOID LowestStartingAddress;
	PVOID HighestEndingAddress;
	SIZE_T Alignment;
} MEM_ADDRESS_REQUIREMENTS, *PMEM_ADDRESS_REQUIREMENTS;

/* ---- last-error codes --------------------------------------------------- */

#define ERROR_SUCCESS			0
#define ERROR_FILE_NOT_FOUND		2
#define ERROR_PATH_NOT_FOUND		3
#define ERROR_TOO_MANY_OPEN_FILES	4
#define ERROR_ACCESS_DENIED		5
#define ERROR_INVALID_HANDLE		6
#define ERROR_NOT_ENOUGH_MEMORY		8
#define ERROR_OUTOFMEMORY		14
#define ERROR_BAD_LENGTH		24
#define ERROR_GEN_FAILURE		31
#define ERROR_NOT_SUPPORTED		50
#define ERROR_INVALID_PARAMETER		87
#define ERROR_INSUFFICIENT_BUFFER	122
#define ERROR_INVALID_NAME		123
#define ERROR_DISCARDED			157
#define ERROR_NOT_LOCKED		158
#define ERROR_BUSY			170
#define ERROR_ALREADY_EXISTS		183
#define ERROR_FILENAME_EXCED_RANGE	206
#define ERROR_NO_MORE_ITEMS		259
#define ERROR_NOT_OWNER			288
#define ERROR_PARTIAL_COPY		299
#define ERROR_INVALID_ADDRESS		487
#define ERROR_NOACCESS			998
#define ERROR_INVALID_FLAGS		1004
#define ERROR_FILE_INVALID		1006
#define ERROR_MAPPED_ALIGNMENT		1132
#define ERROR_PRIVILEGE_NOT_HELD	1314
#define ERROR_NO_SYSTEM_RESOURCES	1450
#define ERROR_WORKING_SET_QUOTA		1453
#define ERROR_PAGEFILE_QUOTA		1454
#define ERROR_COMMITMENT_LIMIT		1455
#define ERROR_DYNAMIC_CODE_BLOCKED	1655

/* ---- heap flags --------------------------------------------------------- */

#define HEAP_NO_SERIALIZE		0x00000001
#define HEAP_GROWABLE			0x00000002
#define HEAP_GENERATE_EXCEPTIONS	0x00000004
#define HEAP_ZERO_MEMORY		0x00000008
#define HEAP_REALLOC_IN_PLACE_ONLY	0x00000010
#define HEAP_CREATE_ENABLE_EXECUTE	0x00040000
#define STATUS_NO_MEMORY		((DWORD)0xC0000017)
#define STATUS_HEAP_CORRUPTION		((DWORD)0xC0000374)

/* HeapWalk */
#define PROCESS_HEAP_REGION		0x0001
#define PROCESS_HEAP_UNCOMMITTED_RANGE	0x0002
#define PROCESS_HEAP_ENTRY_BUSY		0x0004
#define PROCESS_HEAP_SEG_ITERATOR	0x0008
#define PROCESS_HEAP_ENTRY_MOVEABLE	0x0010
#define PROCESS_HEAP_ENTRY_DDESHARE	0x0020

/* 40 bytes, as on x64 Windows. */
typedef struct _PROCESS_HEAP_ENTRY {
	PVOID lpData;
	DWORD cbData;
	BYTE cbOverhead;
	BYTE iRegionIndex;
	WORD wFlags;
	__extension__ union {
		struct {
			HANDLE hMem;
			DWORD dwReserved[3];
		} Block;
		struct {
			DWORD dwCommittedSize;
			DWORD dwUnCommittedSize;
			LPVOID lpFirstBlock;
			LPVOID lpLastBlock;
		} Region;
	};
} PROCESS_HEAP_ENTRY, *LPPROCESS_HEAP_ENTRY, *PPROCESS_HEAP_ENTRY;

typedef enum _HEAP_INFORMATION_CLASS {
	HeapCompatibilityInformation = 0,
	HeapEnableTerminationOnCorruption = 1,
	HeapOptimizeResources = 3,
	HeapTag = 7
} HEAP_INFORMATION_CLASS;

#define HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION	1
typedef struct _HEAP_OPTIMIZE_RESOURCES_INFORMATION {
	DWORD Version;
	DWORD Flags;
} HEAP_OPTIMIZE_RESOURCES_INFORMATION, *PHEAP_OPTIMIZE_RESOURCES_INFORMATION;

/* ---- exceptions raised by memory accesses (a SIGSEGV on Linux) ---------- */

#define STATUS_ACCESS_VIOLATION		((DWORD)0xC0000005)
#define STATUS_GUARD_PAGE_VIOLATION	((DWORD)0x80000001)
#define EXCEPTION_ACCESS_VIOLATION	STATUS_ACCESS_VIOLATION
#define EXCEPTION_GUARD_PAGE		STATUS_GUARD_PAGE_VIOLATION
/* ExceptionInformation[0]: the access kind. */
#define EXCEPTION_READ_FAULT		0
#define EXCEPTION_WRITE_FAULT		1
#define EXCEPTION_EXECUTE_FAULT		8

/* ---- system information ------------------------------------------------- */

#define PROCESSOR_ARCHITECTURE_AMD64	9
#define PROCESSOR_AMD_X86_64		8664

/* 48 bytes; the layout is checked at build time in the library. */
typedef struct _MEMORY_BASIC_INFORMATION {
	PVOID BaseAddress;
	PVOID AllocationBase;
	DWORD AllocationProtect;
	WORD PartitionId;
	WORD __alignment1;
	SIZE_T RegionSize;
	DWORD State;
	DWORD Protect;
	DWORD Type;
	DWORD __alignment2;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

/*
 * 48 bytes.  dwOemId overlays wProcessorArchitecture and wReserved, as in
 * Windows' headers; __extension__ keeps the unnamed members accepted by
 * C99 and C++ compilers in pedantic mode.
 */
typedef struct _SYSTEM_INFO {
	__extension__ union {
		DWORD dwOemId;
		__extension__ struct {
			WORD wProcessorArchitecture;
			WORD wReserved;
		};
	};
	DWORD dwPageSize;
	LPVOID lpMinimumApplicationAddress;
	LPVOID lpMaximumApplicationAddress;
	DWORD_PTR dwActiveProcessorMask;
	DWORD dwNumberOfProcessors;
	DWORD dwProcessorType;
	DWORD dwAllocationGranularity;
	WORD wProcessorLevel;
	WORD wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;

/* ---- functions ---------------------------------------------------------- */

LPVOID VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
		    DWORD flProtect);
LPVOID VirtualAllocEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
		      DWORD flAllocationType, DWORD flProtect);
BOOL VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType);
BOOL VirtualFreeEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
		   DWORD dwFreeType);
/*
 * Memory ntmem did not create (the program, libraries, stacks, the heap,
 * other mmaps) is never reported MEM_FREE: VirtualQuery shows it as
 * MEM_COMMIT of Type MEM_MAPPED, its mapping as the allocation, with the
 * mapping's protection.
 */
SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
		    SIZE_T dwLength);
SIZE_T VirtualQueryEx(HANDLE hProcess, LPCVOID lpAddress,
		      PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength);
BOOL VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
		    PDWORD lpflOldProtect);
BOOL VirtualProtectEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize,
		      DWORD flNewProtect, PDWORD lpflOldProtect);

/*
 * VirtualLock: every page of the range must be committed and accessible
 * (else ERROR_NOACCESS); an armed guard page fails the call with
 * GetLastError() == STATUS_GUARD_PAGE_VIOLATION and loses its guard.  The
 * pages then stay in memory until unlocked, decommitted or released; they
 * count against RLIMIT_MEMLOCK (ERROR_WORKING_SET_QUOTA), shown as VmPin
 * in /proc/PID/status.  Locks are not counted.  VirtualUnlock: every page
 * must be locked (else ERROR_NOT_LOCKED, nothing unlocked).  Unlike
 * Windows, a range must lie within one allocation.  VirtualLockEx and
 * VirtualUnlockEx are ntmem extensions (current process only).
 */
BOOL VirtualLock(LPVOID lpAddress, SIZE_T dwSize);
BOOL VirtualUnlock(LPVOID lpAddress, SIZE_T dwSize);
BOOL VirtualLockEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize);
BOOL VirtualUnlockEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize);

/*
 * Other processes.  OpenProcess opens /proc/PID/mem -- Linux's
 * ptrace-attach check, with its LSM and Yama's ptrace_scope -- and turns
 * it into a process handle (ERROR_ACCESS_DENIED if refused,
 * ERROR_INVALID_PARAMETER for no such process); CloseHandle closes it.
 * VirtualAllocEx, VirtualFreeEx, VirtualQueryEx, VirtualProtectEx,
 * VirtualAlloc2, MapViewOfFile2/3 and UnmapViewOfFile2 act on its
 * address space (PROCESS_VM_OPERATION; queries PROCESS_QUERY_INFORMATION
 * or PROCESS_QUERY_LIMITED_INFORMATION), Read/WriteProcessMemory copy
 * (PROCESS_VM_READ; PROCESS_VM_WRITE and PROCESS_VM_OPERATION) whatever
 * the pages' protection short of PAGE_NOACCESS.  A handle follows the
 * address space, not the process id: once the process exits or execs,
 * its calls fail with ERROR_ACCESS_DENIED.  VirtualLockEx and
 * VirtualUnlockEx serve only the calling process (ERROR_NOT_SUPPORTED).
 */
HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle,
		   DWORD dwProcessId);
BOOL ReadProcessMemory(HANDLE hProcess, LPCVOID lpBaseAddress,
		       LPVOID lpBuffer, SIZE_T nSize,
		       SIZE_T *lpNumberOfBytesRead);
BOOL WriteProcessMemory(HANDLE hProcess, LPVOID lpBaseAddress,
			LPCVOID lpBuffer, SIZE_T nSize,
			SIZE_T *lpNumberOfBytesWritten);

/*
 * Write watch: only for allocations made with MEM_RESERVE | MEM_WRITE_WATCH.
 * Both return 0, or (UINT)-1 with the last error set.  GetWriteWatch
 * stores in lpAddresses the page addresses written since commit or the
 * last reset, in address order, at most *lpdwCount of them; with
 * WRITE_WATCH_FLAG_RESET exactly those pages become clean again.
 */
UINT GetWriteWatch(DWORD dwFlags, PVOID lpBaseAddress, SIZE_T dwRegionSize,
		   PVOID *lpAddresses, ULONG_PTR *lpdwCount,
		   LPDWORD lpdwGranularity);
UINT ResetWriteWatch(LPVOID lpBaseAddress, SIZE_T dwRegionSize);

#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 199309L
/*
 * A PAGE_GUARD page's first access raises SIGSEGV at the exact address
 * (Windows: STATUS_GUARD_PAGE_VIOLATION), just like an access violation
 * (STATUS_ACCESS_VIOLATION); the guard is gone when the handler runs, so
 * returning from the handler retries the access against the page's other
 * protection.  Call this from a SA_SIGINFO SIGSEGV handler, once per
 * signal (each guard hit is answered once, for the thread that took it),
 * with the handler's siginfo: TRUE for a guard-page violation, FALSE for
 * an access violation.  Async-signal-safe (one ioctl; errno is kept).
 * Before the first ntmem call of the process it returns FALSE: there can
 * be no guard page yet.  Declared when POSIX signals are (glibc's default).
 */
BOOL NtmemIsGuardPageViolation(const siginfo_t *si);
#endif

/*
 * Heaps: segments reserved through ntmem and committed on demand; blocks
 * 16-byte aligned.  A heap's HANDLE is the base of its own reservation.
 * HeapFree and HeapValidate detect a pointer that is not a live block of the
 * heap (a double free, a foreign or interior pointer) and fail with
 * ERROR_INVALID_PARAMETER instead of corrupting the heap. Each thread caches a
 * few free blocks of a serialized heap; HeapCompact hands the calling thread's
 * back and lets the system take idle slabs.
 */
HANDLE GetProcessHeap(void);
HANDLE HeapCreate(DWORD flOptions, SIZE_T dwInitialSize,
		  SIZE_T dwMaximumSize);
BOOL HeapDestroy(HANDLE hHeap);
LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem,
		   SIZE_T dwBytes);
BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);
SIZE_T HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem);
BOOL HeapValidate(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem);
SIZE_T HeapCompact(HANDLE hHeap, DWORD dwFlags);
BOOL HeapLock(HANDLE hHeap);
BOOL HeapUnlock(HANDLE hHeap);
BOOL HeapWalk(HANDLE hHeap, LPPROCESS_HEAP_ENTRY lpEntry);
DWORD GetProcessHeaps(DWORD NumberOfHeaps, PHANDLE ProcessHeaps);
BOOL HeapSetInformation(HANDLE HeapHandle,
			HEAP_INFORMATION_CLASS HeapInformationClass,
			PVOID HeapInformation, SIZE_T HeapInformationLength);
BOOL HeapQueryInformation(HANDLE HeapHandle,
			  HEAP_INFORMATION_CLASS HeapInformationClass,
			  PVOID HeapInformation, SIZE_T HeapInformationLength,
			  PSIZE_T ReturnLength);

/*
 * Local and global memory: one implementation on the process heap, as in
 * Windows.  A fixed block's handle is its address; a moveable block's is
 * the address of its data pointer (*(void **)hMem is the data while it is
 * not discarded).  LocalDiscard and GlobalDiscard are macros, as there.
 */
#define LMEM_FIXED		0x0000
#define LMEM_MOVEABLE		0x0002
#define LMEM_NOCOMPACT		0x0010
#define LMEM_NODISCARD		0x0020
#define LMEM_ZEROINIT		0x0040
#define LMEM_MODIFY		0x0080
#define LMEM_DISCARDABLE	0x0F00
#define LMEM_VALID_FLAGS	0x0F72
#define LMEM_INVALID_HANDLE	0x8000
#define LHND			(LMEM_MOVEABLE | LMEM_ZEROINIT)
#define LPTR			(LMEM_FIXED | LMEM_ZEROINIT)
#define NONZEROLHND		LMEM_MOVEABLE
#define NONZEROLPTR		LMEM_FIXED
#define LMEM_DISCARDED		0x4000
#define LMEM_LOCKCOUNT		0x00FF

#define GMEM_FIXED		0x0000
#define GMEM_MOVEABLE		0x0002
#define GMEM_NOCOMPACT		0x0010
#define GMEM_NODISCARD		0x0020
#define GMEM_ZEROINIT		0x0040
#define GMEM_MODIFY		0x0080
#define GMEM_DISCARDABLE	0x0100
#define GMEM_NOT_BANKED		0x1000
#define GMEM_SHARE		0x2000
#define GMEM_DDESHARE		0x2000
#define GMEM_NOTIFY		0x4000
#define GMEM_LOWER		GMEM_NOT_BANKED
#define GMEM_VALID_FLAGS	0x7F72
#define GMEM_INVALID_HANDLE	0x8000
#define GHND			(GMEM_MOVEABLE | GMEM_ZEROINIT)
#define GPTR			(GMEM_FIXED | GMEM_ZEROINIT)
#define GMEM_DISCARDED		0x4000
#define GMEM_LOCKCOUNT		0x00FF

HLOCAL LocalAlloc(UINT uFlags, SIZE_T uBytes);
HLOCAL LocalReAlloc(HLOCAL hMem, SIZE_T uBytes, UINT uFlags);
HLOCAL LocalFree(HLOCAL hMem);
LPVOID LocalLock(HLOCAL hMem);
BOOL LocalUnlock(HLOCAL hMem);
SIZE_T LocalSize(HLOCAL hMem);
UINT LocalFlags(HLOCAL hMem);
HLOCAL LocalHandle(LPCVOID pMem);
#define LocalDiscard(h)		LocalReAlloc((h), 0, LMEM_MOVEABLE)

HGLOBAL GlobalAlloc(UINT uFlags, SIZE_T dwBytes);
HGLOBAL GlobalReAlloc(HGLOBAL hMem, SIZE_T dwBytes, UINT uFlags);
HGLOBAL GlobalFree(HGLOBAL hMem);
LPVOID GlobalLock(HGLOBAL hMem);
BOOL GlobalUnlock(HGLOBAL hMem);
SIZE_T GlobalSize(HGLOBAL hMem);
UINT GlobalFlags(HGLOBAL hMem);
HGLOBAL GlobalHandle(LPCVOID pMem);
#define GlobalDiscard(h)	GlobalReAlloc((h), 0, GMEM_MOVEABLE)

/* ---- memory status ----------------------------------------------------- */

/*
 * 64 bytes.  The page file is ntmem's commit limit (see
 * GlobalMemoryStatusEx(3)).
 */
typedef struct _MEMORYSTATUSEX {
	DWORD dwLength;
	DWORD dwMemoryLoad;
	DWORDLONG ullTotalPhys;
	DWORDLONG ullAvailPhys;
	DWORDLONG ullTotalPageFile;
	DWORDLONG ullAvailPageFile;
	DWORDLONG ullTotalVirtual;
	DWORDLONG ullAvailVirtual;
	DWORDLONG ullAvailExtendedVirtual;
} MEMORYSTATUSEX, *LPMEMORYSTATUSEX;

/* 56 bytes on x64. */
typedef struct _MEMORYSTATUS {
	DWORD dwLength;
	DWORD dwMemoryLoad;
	SIZE_T dwTotalPhys;
	SIZE_T dwAvailPhys;
	SIZE_T dwTotalPageFile;
	SIZE_T dwAvailPageFile;
	SIZE_T dwTotalVirtual;
	SIZE_T dwAvailVirtual;
} MEMORYSTATUS, *LPMEMORYSTATUS;

BOOL GlobalMemoryStatusEx(LPMEMORYSTATUSEX lpBuffer);
void GlobalMemoryStatus(LPMEMORYSTATUS lpBuffer);
BOOL GetPhysicallyInstalledSystemMemory(PULONGLONG TotalMemoryInKilobytes);

/* ---- the process's memory (psapi) --------------------------------------- */

/* 72 bytes. */
typedef struct _PROCESS_MEMORY_COUNTERS {
	DWORD cb;
	DWORD PageFaultCount;
	SIZE_T PeakWorkingSetSize;
	SIZE_T WorkingSetSize;
	SIZE_T QuotaPeakPagedPoolUsage;
	SIZE_T QuotaPagedPoolUsage;
	SIZE_T QuotaPeakNonPagedPoolUsage;
	SIZE_T QuotaNonPagedPoolUsage;
	SIZE_T PagefileUsage;
	SIZE_T PeakPagefileUsage;
} PROCESS_MEMORY_COUNTERS, *PPROCESS_MEMORY_COUNTERS;

/* 80 bytes. */
typedef struct _PROCESS_MEMORY_COUNTERS_EX {
	DWORD cb;
	DWORD PageFaultCount;
	SIZE_T PeakWorkingSetSize;
	SIZE_T WorkingSetSize;
	SIZE_T QuotaPeakPagedPoolUsage;
	SIZE_T QuotaPagedPoolUsage;
	SIZE_T QuotaPeakNonPagedPoolUsage;
	SIZE_T QuotaNonPagedPoolUsage;
	SIZE_T PagefileUsage;
	SIZE_T PeakPagefileUsage;
	SIZE_T PrivateUsage;
} PROCESS_MEMORY_COUNTERS_EX, *PPROCESS_MEMORY_COUNTERS_EX;

/* 8 bytes; bit-fields of a 64-bit type are an extension to ISO C. */
typedef union _PSAPI_WORKING_SET_EX_BLOCK {
	ULONG_PTR Flags;
	__extension__ union {
		__extension__ struct {
			ULONG_PTR Valid : 1;
			ULONG_PTR ShareCount : 3;
			ULONG_PTR Win32Protection : 11;
			ULONG_PTR Shared : 1;
			ULONG_PTR Node : 6;
			ULONG_PTR Locked : 1;
			ULONG_PTR LargePage : 1;
			ULONG_PTR Reserved : 7;
			ULONG_PTR Bad : 1;
			ULONG_PTR ReservedUlong : 32;
		};
		__extension__ struct {
			ULONG_PTR Valid : 1;
			ULONG_PTR Reserved0 : 14;
			ULONG_PTR Shared : 1;
			ULONG_PTR Reserved1 : 15;
			ULONG_PTR Bad : 1;
			ULONG_PTR ReservedUlong : 32;
		} Invalid;
	};
} PSAPI_WORKING_SET_EX_BLOCK, *PPSAPI_WORKING_SET_EX_BLOCK;

typedef struct _PSAPI_WORKING_SET_EX_INFORMATION {
	PVOID VirtualAddress;
	PSAPI_WORKING_SET_EX_BLOCK VirtualAttributes;
} PSAPI_WORKING_SET_EX_INFORMATION, *PPSAPI_WORKING_SET_EX_INFORMATION;

BOOL GetProcessMemoryInfo(HANDLE Process,
			  PPROCESS_MEMORY_COUNTERS ppsmemCounters, DWORD cb);
BOOL K32GetProcessMemoryInfo(HANDLE Process,
			     PPROCESS_MEMORY_COUNTERS ppsmemCounters, DWORD cb);
BOOL QueryWorkingSetEx(HANDLE hProcess, PVOID pv, DWORD cb);
BOOL K32QueryWorkingSetEx(HANDLE hProcess, PVOID pv, DWORD cb);

/* The minimum working set is RLIMIT_MEMLOCK: VirtualLock's quota. */
#define QUOTA_LIMITS_HARDWS_MIN_ENABLE	0x00000001
#define QUOTA_LIMITS_HARDWS_MIN_DISABLE	0x00000002
#define QUOTA_LIMITS_HARDWS_MAX_ENABLE	0x00000004
#define QUOTA_LIMITS_HARDWS_MAX_DISABLE	0x00000008

BOOL GetProcessWorkingSetSize(HANDLE hProcess,
			      PSIZE_T lpMinimumWorkingSetSize,
			      PSIZE_T lpMaximumWorkingSetSize);
BOOL GetProcessWorkingSetSizeEx(HANDLE hProcess,
				PSIZE_T lpMinimumWorkingSetSize,
				PSIZE_T lpMaximumWorkingSetSize, PDWORD Flags);
BOOL SetProcessWorkingSetSize(HANDLE hProcess, SIZE_T dwMinimumWorkingSetSize,
			      SIZE_T dwMaximumWorkingSetSize);
BOOL SetProcessWorkingSetSizeEx(HANDLE hProcess,
				SIZE_T dwMinimumWorkingSetSize,
				SIZE_T dwMaximumWorkingSetSize, DWORD Flags);

/*
 * IsBad*Ptr: TRUE if some byte of the range (of the string, up to its NUL
 * or ucchMax characters) cannot be read or written.  They never fault and
 * never write; a guard page is reported bad and loses its guard, as on
 * Windows.  Thread-safe and async-signal-safe.
 */
BOOL IsBadReadPtr(const void *lp, UINT_PTR ucb);
BOOL IsBadWritePtr(LPVOID lp, UINT_PTR ucb);
BOOL IsBadCodePtr(FARPROC lpfn);
BOOL IsBadStringPtrA(LPCSTR lpsz, UINT_PTR ucchMax);
BOOL IsBadStringPtrW(LPCWSTR lpsz, UINT_PTR ucchMax);

/*
 * Offered memory may lose its contents under memory pressure (MEM_RESET);
 * ReclaimVirtualMemory returns ERROR_SUCCESS if none was lost, else
 * ERROR_BUSY (lost pages read as zero).  DiscardVirtualMemory: a reset
 * that is never undone.  All three return an error code.
 */
typedef enum OFFER_PRIORITY {
	VmOfferPriorityVeryLow = 1,
	VmOfferPriorityLow,
	VmOfferPriorityBelowNormal,
	VmOfferPriorityNormal
} OFFER_PRIORITY;

DWORD OfferVirtualMemory(PVOID VirtualAddress, SIZE_T Size,
			 OFFER_PRIORITY Priority);
DWORD ReclaimVirtualMemory(void const *VirtualAddress, SIZE_T Size);
DWORD DiscardVirtualMemory(PVOID VirtualAddress, SIZE_T Size);

typedef struct _WIN32_MEMORY_RANGE_ENTRY {
	PVOID VirtualAddress;
	SIZE_T NumberOfBytes;
} WIN32_MEMORY_RANGE_ENTRY, *PWIN32_MEMORY_RANGE_ENTRY;

BOOL PrefetchVirtualMemory(HANDLE hProcess, ULONG_PTR NumberOfEntries,
			   PWIN32_MEMORY_RANGE_ENTRY VirtualAddresses,
			   ULONG Flags);
BOOL FlushInstructionCache(HANDLE hProcess, LPCVOID lpBaseAddress,
			   SIZE_T dwSize);

/*
 * Sections (file mappings) backed by the paging file, that is by ntmem's
 * memory: hFile must be INVALID_HANDLE_VALUE.  A section HANDLE is a file
 * descriptor (see ntmem_fd_from_handle), so a child made by fork() shares
 * the handles, and one made by exec() keeps those created inheritable
 * (bInheritHandle).  Names, with or without a "Global\" or "Local\"
 * prefix (both the same namespace), are seen by the processes of the same
 * user only; the W functions' names reach the kernel as UTF-8, the A
 * functions' bytes as they are.  Views are allocations of type MEM_MAPPED:
 * VirtualQuery and VirtualProtect work on them, VirtualFree, VirtualLock
 * and MEM_RESET do not (ERROR_INVALID_PARAMETER); a copy-on-write view
 * (FILE_MAP_COPY) copies a page the first time it touches it.
 */
HANDLE CreateFileMappingA(HANDLE hFile,
			  LPSECURITY_ATTRIBUTES lpFileMappingAttributes,
			  DWORD flProtect, DWORD dwMaximumSizeHigh,
			  DWORD dwMaximumSizeLow, LPCSTR lpName);
HANDLE CreateFileMappingW(HANDLE hFile,
			  LPSECURITY_ATTRIBUTES lpFileMappingAttributes,
			  DWORD flProtect, DWORD dwMaximumSizeHigh,
			  DWORD dwMaximumSizeLow, LPCWSTR lpName);
HANDLE OpenFileMappingA(DWORD dwDesiredAccess, BOOL bInheritHandle,
			LPCSTR lpName);
HANDLE OpenFileMappingW(DWORD dwDesiredAccess, BOOL bInheritHandle,
			LPCWSTR lpName);
LPVOID MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
		     DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
		     SIZE_T dwNumberOfBytesToMap);
LPVOID MapViewOfFileEx(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
		       DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow,
		       SIZE_T dwNumberOfBytesToMap, LPVOID lpBaseAddress);
BOOL UnmapViewOfFile(LPCVOID lpBaseAddress);
BOOL FlushViewOfFile(LPCVOID lpBaseAddress, SIZE_T dwNumberOfBytesToFlush);

/*
 * Placeholders: VirtualAlloc2 with MEM_RESERVE | MEM_RESERVE_PLACEHOLDER
 * reserves address space that VirtualFree with MEM_RELEASE |
 * MEM_PRESERVE_PLACEHOLDER splits and MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS
 * joins again, and that VirtualAlloc2 or MapViewOfFile3 with
 * MEM_REPLACE_PLACEHOLDER replace, exactly, by an allocation or a view;
 * VirtualFree and UnmapViewOfFile2/Ex with MEM_PRESERVE_PLACEHOLDER give the
 * placeholder back.  VirtualQuery shows one as MEM_RESERVE of Type MEM_PRIVATE.
 * A MEM_ADDRESS_REQUIREMENTS extended parameter bounds where a new allocation
 * lies and its alignment.  Process may be NULL (the calling process),
 * GetCurrentProcess() or an OpenProcess() handle (UnmapViewOfFile2: not NULL).
 * MapViewOfFile2 is a function here (an inline over MapViewOfFileNuma2 in
 * Windows' header).
 */
PVOID VirtualAlloc2(HANDLE Process, PVOID BaseAddress, SIZE_T Size,
		    ULONG AllocationType, ULONG PageProtection,
		    MEM_EXTENDED_PARAMETER *ExtendedParameters,
		    ULONG ParameterCount);
PVOID MapViewOfFile3(HANDLE FileMapping, HANDLE Process, PVOID BaseAddress,
		     ULONG64 Offset, SIZE_T ViewSize, ULONG AllocationType,
		     ULONG PageProtection,
		     MEM_EXTENDED_PARAMETER *ExtendedParameters,
		     ULONG ParameterCount);
PVOID MapViewOfFile2(HANDLE FileMappingHandle, HANDLE ProcessHandle,
		     ULONG64 Offset, PVOID BaseAddress, SIZE_T ViewSize,
		     ULONG AllocationType, ULONG PageProtection);
BOOL UnmapViewOfFile2(HANDLE Process, PVOID BaseAddress, ULONG UnmapFlags);
BOOL UnmapViewOfFileEx(PVOID BaseAddress, ULONG UnmapFlags);
#ifdef UNICODE
#define CreateFileMapping	CreateFileMappingW
#define OpenFileMapping		OpenFileMappingW
#else
#define CreateFileMapping	CreateFileMappingA
#define OpenFileMapping		OpenFileMappingA
#endif

/*
 * CloseHandle closes a section or process handle (its descriptor); the
 * pseudo-handle of GetCurrentProcess() needs no closing (TRUE).  ntmem
 * extensions: a section or process HANDLE is a file descriptor, so that
 * it can travel as one (SCM_RIGHTS, exec): ntmem_fd_from_handle gives
 * the descriptor of a HANDLE (-1 if it encodes none), ntmem_handle_from_fd
 * the HANDLE of a descriptor (NULL if it is negative).  Neither checks
 * that the descriptor is open or what it is.
 */
BOOL CloseHandle(HANDLE hObject);
HANDLE ntmem_handle_from_fd(int fd);
int ntmem_fd_from_handle(HANDLE hObject);

void GetSystemInfo(LPSYSTEM_INFO lpSystemInfo);
SIZE_T GetLargePageMinimum(void);
DWORD GetLastError(void);
void SetLastError(DWORD dwErrCode);
HANDLE GetCurrentProcess(void);
DWORD GetCurrentProcessId(void);
DWORD GetProcessId(HANDLE Process);

#ifdef __cplusplus
}
#endif

#endif /* NTMEM_WINDOWS_H */
