// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * GetProcessWorkingSetSize(Ex) and SetProcessWorkingSetSize(Ex).  On
 * Windows the minimum working set is what bounds VirtualLock; here that
 * bound is RLIMIT_MEMLOCK, so the minimum is RLIMIT_MEMLOCK's soft limit
 * and setting it sets that limit.  Linux has no working-set maximum: the
 * maximum and the QUOTA_LIMITS_HARDWS_* flags are kept and reported.
 */
#include <errno.h>
#include <sys/resource.h>

#include "internal.h"

#define DEFAULT_MAX	((SIZE_T)345 * NTMEM__PAGE)	/* Windows' 1380 KiB */
#define FLAG_PAIRS	(QUOTA_LIMITS_HARDWS_MIN_ENABLE | \
			 QUOTA_LIMITS_HARDWS_MIN_DISABLE | \
			 QUOTA_LIMITS_HARDWS_MAX_ENABLE | \
			 QUOTA_LIMITS_HARDWS_MAX_DISABLE)

static SIZE_T ws_max;		/* 0: not set */
static DWORD ws_flags = QUOTA_LIMITS_HARDWS_MIN_DISABLE |
			QUOTA_LIMITS_HARDWS_MAX_DISABLE;

static SIZE_T ws_min(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return (SIZE_T)-1;
	return rl.rlim_cur;
}

BOOL GetProcessWorkingSetSizeEx(HANDLE hProcess,
				PSIZE_T lpMinimumWorkingSetSize,
				PSIZE_T lpMaximumWorkingSetSize, PDWORD Flags)
{
	SIZE_T min = ws_min(), max;

	if (!ntmem__current_process_only(hProcess))
		return FALSE;
	if (!ntmem__writable(lpMinimumWorkingSetSize, sizeof(SIZE_T)) ||
	    !ntmem__writable(lpMaximumWorkingSetSize, sizeof(SIZE_T)) ||
	    (Flags && !ntmem__writable(Flags, sizeof(DWORD)))) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	max = __atomic_load_n(&ws_max, __ATOMIC_RELAXED);
	if (!max)
		max = DEFAULT_MAX;
	*lpMinimumWorkingSetSize = min;
	*lpMaximumWorkingSetSize = max > min ? max : min;
	if (Flags)
		*Flags = __atomic_load_n(&ws_flags, __ATOMIC_RELAXED);
	return TRUE;
}

BOOL GetProcessWorkingSetSize(HANDLE hProcess,
			      PSIZE_T lpMinimumWorkingSetSize,
			      PSIZE_T lpMaximumWorkingSetSize)
{
	return GetProcessWorkingSetSizeEx(hProcess, lpMinimumWorkingSetSize,
					  lpMaximumWorkingSetSize, NULL);
}

BOOL SetProcessWorkingSetSizeEx(HANDLE hProcess,
				SIZE_T dwMinimumWorkingSetSize,
				SIZE_T dwMaximumWorkingSetSize, DWORD Flags)
{
	const SIZE_T trim = (SIZE_T)-1;
	struct rlimit rl;

	if (!ntmem__current_process_only(hProcess))
		return FALSE;
	if ((Flags & ~(DWORD)FLAG_PAIRS) ||
	    (Flags & QUOTA_LIMITS_HARDWS_MIN_ENABLE &&
	     Flags & QUOTA_LIMITS_HARDWS_MIN_DISABLE) ||
	    (Flags & QUOTA_LIMITS_HARDWS_MAX_ENABLE &&
	     Flags & QUOTA_LIMITS_HARDWS_MAX_DISABLE)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	/* both (SIZE_T)-1: trim the working set; Linux decides that itself */
	if (dwMinimumWorkingSetSize == trim && dwMaximumWorkingSetSize == trim)
		return TRUE;
	if (!dwMinimumWorkingSetSize || !dwMaximumWorkingSetSize ||
	    dwMinimumWorkingSetSize > dwMaximumWorkingSetSize) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl)) {
		ntmem__fail(ERROR_ACCESS_DENIED);
		return FALSE;
	}
	rl.rlim_cur = (dwMinimumWorkingSetSize + NTMEM__PAGE - 1) &
		      ~(NTMEM__PAGE - 1);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_max = rl.rlim_cur;	/* needs CAP_SYS_RESOURCE */
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		ntmem__fail(errno == EPERM ? ERROR_PRIVILEGE_NOT_HELD :
					     ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	__atomic_store_n(&ws_max, dwMaximumWorkingSetSize, __ATOMIC_RELAXED);
	if (Flags) {
		DWORD f = __atomic_load_n(&ws_flags, __ATOMIC_RELAXED);

		if (Flags & (QUOTA_LIMITS_HARDWS_MIN_ENABLE |
			     QUOTA_LIMITS_HARDWS_MIN_DISABLE))
			f = (f & ~(DWORD)(QUOTA_LIMITS_HARDWS_MIN_ENABLE |
					  QUOTA_LIMITS_HARDWS_MIN_DISABLE)) |
			    (Flags & (QUOTA_LIMITS_HARDWS_MIN_ENABLE |
				      QUOTA_LIMITS_HARDWS_MIN_DISABLE));
		if (Flags & (QUOTA_LIMITS_HARDWS_MAX_ENABLE |
			     QUOTA_LIMITS_HARDWS_MAX_DISABLE))
			f = (f & ~(DWORD)(QUOTA_LIMITS_HARDWS_MAX_ENABLE |
					  QUOTA_LIMITS_HARDWS_MAX_DISABLE)) |
			    (Flags & (QUOTA_LIMITS_HARDWS_MAX_ENABLE |
				      QUOTA_LIMITS_HARDWS_MAX_DISABLE));
		__atomic_store_n(&ws_flags, f, __ATOMIC_RELAXED);
	}
	return TRUE;
}

BOOL SetProcessWorkingSetSize(HANDLE hProcess, SIZE_T dwMinimumWorkingSetSize,
			      SIZE_T dwMaximumWorkingSetSize)
{
	return SetProcessWorkingSetSizeEx(hProcess, dwMinimumWorkingSetSize,
					  dwMaximumWorkingSetSize, 0);
}
