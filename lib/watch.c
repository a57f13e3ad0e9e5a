// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * GetWriteWatch and ResetWriteWatch (spec 4.6): checks in Windows' order,
 * then one ioctl.  The kernel stores page addresses straight into the
 * caller's array (PVOID and __u64 are both 8 bytes on x86-64).
 */
#include <errno.h>

#include "internal.h"

#define WW_FAILED	((UINT)-1)

_Static_assert(sizeof(PVOID) == sizeof(__u64), "pages are __u64");

/*
 * ENXIO (not inside one write-watch allocation) is 87 for both; EFAULT (an
 * out-parameter the kernel cannot write) is 998.
 */
static UINT ww_fail(int err)
{
	ntmem__fail(ntmem__error_from_errno(err, ERROR_INVALID_PARAMETER));
	return WW_FAILED;
}

static int get_ww(uint32_t flags, uintptr_t start, uintptr_t end,
		  void *pages, __u64 *count)
{
	struct ntmem_write_watch w = {
		.size = sizeof(w),
		.flags = flags,
		.addr = start,
		.length = end - start,
		.pages = (uintptr_t)pages,
		.count = *count,
	};
	int err = ntmem__ioctl(NTMEM_IOC_GET_WRITE_WATCH, &w);

	if (!err)
		*count = w.count;
	return err;
}

/*
 * GetWriteWatch in one ioctl: the kernel reads the capacity from
 * @count, checks both out-parameters before anything changes and stores
 * into them, and applies rule 5 (no room, no array) itself.
 */
static UINT get_ww_into(DWORD flags, uintptr_t addr, SIZE_T size,
			PVOID *pages, ULONG_PTR *count, LPDWORD granularity)
{
	struct ntmem_write_watch w = {
		.size = sizeof(w),
		.flags = flags & WRITE_WATCH_FLAG_RESET ?
			 NTMEM_WRITE_WATCH_RESET : 0,
		.pages = (uintptr_t)pages,
		.count_out = (uintptr_t)count,
		.granularity_out = (uintptr_t)granularity,
	};
	uintptr_t start, end;
	int err;

	_Static_assert(sizeof(*count) == sizeof(__u64), "count is __u64");
	ntmem__round(addr, size, NTMEM__ROUND_PAGES, &start, &end);
	w.addr = start;
	w.length = end - start;
	err = ntmem__ioctl(NTMEM_IOC_GET_WRITE_WATCH, &w);
	return err ? ww_fail(err) : 0;
}

UINT GetWriteWatch(DWORD dwFlags, PVOID lpBaseAddress, SIZE_T dwRegionSize,
		   PVOID *lpAddresses, ULONG_PTR *lpdwCount,
		   LPDWORD lpdwGranularity)
{
	uintptr_t addr = (uintptr_t)lpBaseAddress, start, end;
	__u64 count;
	int err;

	if (dwFlags & ~(DWORD)WRITE_WATCH_FLAG_RESET) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return WW_FAILED;
	}
	if (lpdwCount && lpdwGranularity && dwRegionSize &&
	    !ntmem__range_bad(addr, dwRegionSize) &&
	    ntmem__has(NTMEM_FEATURE_USER_OUT))
		return get_ww_into(dwFlags, addr, dwRegionSize, lpAddresses,
				   lpdwCount, lpdwGranularity);
	if (!ntmem__writable(lpdwCount, sizeof(*lpdwCount)) ||
	    !ntmem__writable(lpdwGranularity, sizeof(*lpdwGranularity))) {
		ntmem__fail(ERROR_NOACCESS);
		return WW_FAILED;
	}
	if (!dwRegionSize || ntmem__range_bad(addr, dwRegionSize)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return WW_FAILED;
	}
	ntmem__round(addr, dwRegionSize, NTMEM__ROUND_PAGES, &start, &end);
	if (!*lpdwCount || !lpAddresses) {
		/* Rule 5 comes first: ask about the range, changing nothing. */
		__u64 probe_page;

		count = 1;
		err = get_ww(0, start, end, &probe_page, &count);
		if (err)
			return ww_fail(err);
		if (!*lpdwCount) {
			ntmem__fail(ERROR_INVALID_PARAMETER);
			return WW_FAILED;
		}
		ntmem__fail(ERROR_NOACCESS);
		return WW_FAILED;
	}
	count = *lpdwCount;
	err = get_ww(dwFlags & WRITE_WATCH_FLAG_RESET ?
		     NTMEM_WRITE_WATCH_RESET : 0, start, end, lpAddresses,
		     &count);
	if (err)
		return ww_fail(err);
	*lpdwCount = count;
	*lpdwGranularity = NTMEM__PAGE;
	return 0;
}

UINT ResetWriteWatch(LPVOID lpBaseAddress, SIZE_T dwRegionSize)
{
	struct ntmem_range r = { .size = sizeof(r) };
	uintptr_t addr = (uintptr_t)lpBaseAddress, start, end;
	int err;

	if (!dwRegionSize || ntmem__range_bad(addr, dwRegionSize)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return WW_FAILED;
	}
	ntmem__round(addr, dwRegionSize, NTMEM__ROUND_PAGES, &start, &end);
	r.addr = start;
	r.length = end - start;
	err = ntmem__ioctl(NTMEM_IOC_RESET_WRITE_WATCH, &r);
	return err ? ww_fail(err) : 0;
}
