// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * GetProcessHeaps, HeapSetInformation and HeapQueryInformation, with the
 * NTSTATUS results of Windows' RtlSetHeapInformation/RtlQueryHeapInformation
 * translated as kernel32 does (STATUS_BUFFER_TOO_SMALL: 122,
 * STATUS_INVALID_INFO_CLASS: 87, STATUS_UNSUCCESSFUL: 31,
 * STATUS_ACCESS_VIOLATION: 998).
 */
#include <stdio.h>
#include <stdlib.h>

#include "heap.h"

#define HEAP_STD	0	/* HeapCompatibilityInformation values */
#define HEAP_LFH	2

bool ntmem__heap_terminate_on_corruption;

/* Windows ends the process with STATUS_HEAP_CORRUPTION (a fail-fast). */
void ntmem__heap_corruption(const void *p)
{
	if (!__atomic_load_n(&ntmem__heap_terminate_on_corruption,
			     __ATOMIC_RELAXED))
		return;
	fprintf(stderr, "libntmem: heap corruption: %p is not a live block "
		"(STATUS_HEAP_CORRUPTION), terminating\n", p);
	abort();
}

DWORD GetProcessHeaps(DWORD NumberOfHeaps, PHANDLE ProcessHeaps)
{
	DWORD le = GetLastError();
	size_t total;

	if (!heap_process()) {		/* no device: there is no heap */
		ntmem__fail(ERROR_NOT_SUPPORTED);
		return 0;
	}
	SetLastError(le);
	if (NumberOfHeaps && !ProcessHeaps) {
		ntmem__fail(ERROR_NOACCESS);
		return 0;
	}
	total = ntmem__heap_list(ProcessHeaps, ProcessHeaps ? NumberOfHeaps : 0);
	return (DWORD)total;
}

/* HeapOptimizeResources: what HeapCompact does, for one heap or all. */
static void optimize(struct heap *h)
{
	HANDLE all[256];
	size_t n, i;

	if (h) {
		HeapCompact(h, 0);
		return;
	}
	n = ntmem__heap_list(all, sizeof(all) / sizeof(all[0]));
	for (i = 0; i < n && i < sizeof(all) / sizeof(all[0]); i++)
		HeapCompact(all[i], 0);
}

BOOL HeapSetInformation(HANDLE HeapHandle,
			HEAP_INFORMATION_CLASS HeapInformationClass,
			PVOID HeapInformation, SIZE_T HeapInformationLength)
{
	struct heap *h = heap_of(HeapHandle);
	DWORD le = GetLastError();
	const HEAP_OPTIMIZE_RESOURCES_INFORMATION *opt;
	ULONG compat;

	switch (HeapInformationClass) {
	case HeapCompatibilityInformation:
		if (HeapInformationLength < sizeof(ULONG)) {
			ntmem__fail(ERROR_INSUFFICIENT_BUFFER);
			return FALSE;
		}
		if (!h) {
			ntmem__fail(ERROR_INVALID_HANDLE);
			return FALSE;
		}
		if (!heap_serialized(h)) {	/* no LFH without the lock */
			ntmem__fail(ERROR_INVALID_PARAMETER);
			return FALSE;
		}
		compat = *(const ULONG *)HeapInformation;
		if (compat != HEAP_LFH) {	/* an LFH stays one */
			ntmem__fail(ERROR_GEN_FAILURE);
			return FALSE;
		}
		return TRUE;
	case HeapEnableTerminationOnCorruption:	/* process-wide, for good */
		__atomic_store_n(&ntmem__heap_terminate_on_corruption, true,
				 __ATOMIC_RELAXED);
		return TRUE;
	case HeapOptimizeResources:
		opt = HeapInformation;
		if (HeapInformationLength < sizeof(*opt)) {
			ntmem__fail(ERROR_INSUFFICIENT_BUFFER);
			return FALSE;
		}
		if (opt->Version != HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION) {
			ntmem__fail(ERROR_INVALID_PARAMETER);
			return FALSE;
		}
		if (HeapHandle && !h) {
			ntmem__fail(ERROR_INVALID_HANDLE);
			return FALSE;
		}
		optimize(h);
		SetLastError(le);	/* HeapCompact may have set it */
		return TRUE;
	default:
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
}

BOOL HeapQueryInformation(HANDLE HeapHandle,
			  HEAP_INFORMATION_CLASS HeapInformationClass,
			  PVOID HeapInformation, SIZE_T HeapInformationLength,
			  PSIZE_T ReturnLength)
{
	struct heap *h;

	if (HeapInformationClass != HeapCompatibilityInformation) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	h = heap_of(HeapHandle);
	if (!h) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	if (ReturnLength)
		*ReturnLength = sizeof(ULONG);
	if (HeapInformationLength < sizeof(ULONG)) {
		ntmem__fail(ERROR_INSUFFICIENT_BUFFER);
		return FALSE;
	}
	*(ULONG *)HeapInformation = heap_serialized(h) ? HEAP_LFH : HEAP_STD;
	return TRUE;
}
