// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel errno to Win32 error: the one translation (include/uapi/ntmem.h
 * lists what each errno means).
 */
#include <errno.h>

#include "internal.h"

DWORD ntmem__error_from_errno(int err, DWORD not_inside)
{
	switch (err < 0 ? -err : err) {
	case EINVAL:
		return ERROR_INVALID_PARAMETER;
	case ENXIO:	/* not inside one reservation / not a base */
	case EEXIST:	/* a fixed reservation overlaps memory */
	case ENODATA:	/* PROTECT of pages that are not committed */
		return not_inside;
	case ENOMEM:
		return ERROR_NOT_ENOUGH_MEMORY;
	case ENOSPC:	/* the commit charge is over its limit */
		return ERROR_COMMITMENT_LIMIT;
	case EBUSY:	/* RESET_UNDO: data was discarded */
		return ERROR_BUSY;
	case EACCES:	/* LOCK: not committed, or NOACCESS */
	case EFAULT:	/* the kernel could not read or write a buffer */
		return ERROR_NOACCESS;
	case EAGAIN:	/* LOCK: hit a guard page (Windows' raw NTSTATUS) */
		return STATUS_GUARD_PAGE_VIOLATION;
	case EPERM:	/* W^X policy: MDWE or an LSM (Arbitrary Code Guard) */
		return ERROR_DYNAMIC_CODE_BLOCKED;
	case EDQUOT:	/* LOCK: over RLIMIT_MEMLOCK */
		return ERROR_WORKING_SET_QUOTA;
	case ENOLCK:	/* UNLOCK: a page is not locked */
		return ERROR_NOT_LOCKED;
	case EINTR:	/* a fatal signal is being delivered; nothing changed */
		return ERROR_NOT_ENOUGH_MEMORY;
	default:	/* ENODEV: no device; EPROTO: another ABI; EBADFD */
		return ERROR_NOT_SUPPORTED;
	}
}
