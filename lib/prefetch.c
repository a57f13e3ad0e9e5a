// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PrefetchVirtualMemory: a hint, as on Windows -- madvise(MADV_WILLNEED)
 * over each range, whose failure (a range that is not mapped) is not the
 * call's.  FlushInstructionCache: x86-64 keeps its instruction cache
 * coherent with stores, so only the compiler's barrier is needed.
 */
#include <sys/mman.h>

#include "internal.h"

BOOL PrefetchVirtualMemory(HANDLE hProcess, ULONG_PTR NumberOfEntries,
			   PWIN32_MEMORY_RANGE_ENTRY VirtualAddresses,
			   ULONG Flags)
{
	ULONG_PTR i;

	if (!ntmem__current_process_only(hProcess))
		return FALSE;
	if (Flags || !NumberOfEntries || !VirtualAddresses) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	for (i = 0; i < NumberOfEntries; i++) {
		uintptr_t start, end;

		if (!VirtualAddresses[i].NumberOfBytes)
			continue;
		ntmem__round((uintptr_t)VirtualAddresses[i].VirtualAddress,
			     VirtualAddresses[i].NumberOfBytes,
			     NTMEM__ROUND_PAGES, &start, &end);
		madvise((void *)start, end - start, MADV_WILLNEED);
	}
	return TRUE;
}

BOOL FlushInstructionCache(HANDLE hProcess, LPCVOID lpBaseAddress,
			   SIZE_T dwSize)
{
	char *p = (char *)(uintptr_t)lpBaseAddress;
	DWORD code;
	int proc;

	code = ntmem__process(hProcess, &proc);
	if (code) {
		ntmem__fail(code);
		return FALSE;
	}
	/* another process's instruction cache is as coherent as ours */
	if (proc == NTMEM__SELF && p && dwSize)
		__builtin___clear_cache(p, p + dwSize);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return TRUE;
}
