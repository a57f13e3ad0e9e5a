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
	case NTMEM__EHANDLE:	/* not a process handle (process.c) */
		return ERROR_INVALID_HANDLE;
	case NTMEM__EDENIED:	/* no such access, or the process is gone */
		return ERROR_ACCESS_DENIED;
	default:	/* ENODEV: no device; EPROTO: another ABI; EBADFD */
		return ERROR_NOT_SUPPORTED;
	}
}

/*
 * The section calls' own meanings (include/uapi/ntmem.h, at struct
 * ntmem_section); what they share with the others goes through the
 * table above.
 */
DWORD ntmem__section_error_from_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case EBADF:	/* not a section descriptor */
		return ERROR_INVALID_HANDLE;
	case EACCES:	/* the handle's access, the section's protection */
	case EOVERFLOW:	/* a view past the end of the section */
		return ERROR_ACCESS_DENIED;
	case ENOENT:	/* no section of that name */
		return ERROR_FILE_NOT_FOUND;
	case EFBIG:	/* a read-only file section larger than the file */
		return ERROR_NOT_ENOUGH_MEMORY;
	case ENODATA:	/* a file section of an empty file */
		return ERROR_FILE_INVALID;
	case ENAMETOOLONG:
		return ERROR_FILENAME_EXCED_RANGE;
	case EXDEV:	/* an offset or base not a multiple of 64 KiB */
		return ERROR_MAPPED_ALIGNMENT;
	case EMFILE:	/* no descriptor left for the new handle */
	case ENFILE:
		return ERROR_TOO_MANY_OPEN_FILES;
	default:	/* EEXIST, ENXIO: ERROR_INVALID_ADDRESS */
		return ntmem__error_from_errno(err, ERROR_INVALID_ADDRESS);
	}
}
