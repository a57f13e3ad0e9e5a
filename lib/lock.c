// SPDX-License-Identifier: LGPL-2.1-or-later
/* VirtualLock and VirtualUnlock (spec 4.5): checks, rounding, one ioctl. */
#include "internal.h"

/*
 * @outside is the error for a range that is not inside one allocation:
 * its pages cannot be locked (998), or are not locked (158).
 */
static BOOL lock_op(HANDLE process, LPVOID address, SIZE_T size,
		    unsigned long cmd, DWORD outside)
{
	uintptr_t addr = (uintptr_t)address, start, end;
	struct ntmem_range r = { .size = sizeof(r) };
	int err;

	if (!ntmem__current_process_only(process))
		return FALSE;
	if (!size || ntmem__range_bad(addr, size)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	ntmem__round(addr, size, NTMEM__ROUND_PAGES, &start, &end);
	if (start < NTMEM_MIN_ADDRESS) {
		ntmem__fail(outside);	/* never allocated */
		return FALSE;
	}
	r.addr = start;
	r.length = end - start;
	err = ntmem__ioctl(cmd, &r);
	if (err) {
		ntmem__fail(ntmem__error_from_errno(err, outside));
		return FALSE;
	}
	return TRUE;
}

BOOL VirtualLockEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize)
{
	return lock_op(hProcess, lpAddress, dwSize, NTMEM_IOC_LOCK,
		       ERROR_NOACCESS);
}

BOOL VirtualLock(LPVOID lpAddress, SIZE_T dwSize)
{
	return VirtualLockEx(GetCurrentProcess(), lpAddress, dwSize);
}

BOOL VirtualUnlockEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize)
{
	return lock_op(hProcess, lpAddress, dwSize, NTMEM_IOC_UNLOCK,
		       ERROR_NOT_LOCKED);
}

BOOL VirtualUnlock(LPVOID lpAddress, SIZE_T dwSize)
{
	return VirtualUnlockEx(GetCurrentProcess(), lpAddress, dwSize);
}
