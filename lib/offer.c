// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * OfferVirtualMemory, ReclaimVirtualMemory and DiscardVirtualMemory on the
 * kernel's reset machinery: an offer is a RESET (the pages' contents may
 * be dropped under memory pressure, the commit charge stays), a reclaim a
 * RESET_UNDO (ERROR_BUSY when some contents were dropped; those pages
 * read as zero), a discard a RESET that is never undone.  They return the
 * error code rather than setting the last error, as Windows does.
 */
#include "internal.h"

/* Page-aligned, non-empty, inside the user range. */
static bool range_ok(const void *addr, SIZE_T size)
{
	uintptr_t a = (uintptr_t)addr;

	return size && !(a & (NTMEM__PAGE - 1)) && !(size & (NTMEM__PAGE - 1)) &&
	       a >= NTMEM_MIN_ADDRESS && !ntmem__range_bad(a, size);
}

static DWORD range_op(unsigned long cmd, const void *addr, SIZE_T size)
{
	struct ntmem_range r = {
		.size = sizeof(r),
		.addr = (uintptr_t)addr,
		.length = size,
	};
	int err = ntmem__ioctl(cmd, &r);

	return err ? ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS) :
		     ERROR_SUCCESS;
}

DWORD OfferVirtualMemory(PVOID VirtualAddress, SIZE_T Size,
			 OFFER_PRIORITY Priority)
{
	if (!range_ok(VirtualAddress, Size) ||
	    Priority < VmOfferPriorityVeryLow || Priority > VmOfferPriorityNormal)
		return ERROR_INVALID_PARAMETER;
	return range_op(NTMEM_IOC_RESET, VirtualAddress, Size);
}

DWORD ReclaimVirtualMemory(void const *VirtualAddress, SIZE_T Size)
{
	if (!range_ok(VirtualAddress, Size))
		return ERROR_INVALID_PARAMETER;
	return range_op(NTMEM_IOC_RESET_UNDO, VirtualAddress, Size);
}

DWORD DiscardVirtualMemory(PVOID VirtualAddress, SIZE_T Size)
{
	if (!range_ok(VirtualAddress, Size))
		return ERROR_INVALID_PARAMETER;
	return range_op(NTMEM_IOC_RESET, VirtualAddress, Size);
}
