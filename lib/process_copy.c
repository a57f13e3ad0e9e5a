// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ReadProcessMemory and WriteProcessMemory: one READ_MEMORY or
 * WRITE_MEMORY ioctl on the process's descriptor (this process's own: the
 * /dev/ntmem descriptor).  The kernel copies as a debugger does, whatever
 * the pages' protection short of PAGE_NOACCESS, and says how far it got.
 */
#include <errno.h>

#include "internal.h"

/*
 * Windows' order: the handle, then both ranges (one that wraps: ERROR_NOACCESS;
 * past the user range the copy stops), then the copy.  The count is stored on
 * failure too: how far the process's memory could be copied
 * (ERROR_PARTIAL_COPY), or 0 when the caller's buffer was at fault
 * (ERROR_NOACCESS), as Windows, which probes that buffer first, says --
 * unless a write's buffer failed after the kernel's probe (unmapped
 * meanwhile): the bytes before it are written, ERROR_PARTIAL_COPY.
 */
static BOOL copy(HANDLE process, unsigned long cmd, uintptr_t addr,
		 uintptr_t buf, SIZE_T size, SIZE_T *count)
{
	struct ntmem_memory_copy c = {
		.size = sizeof(c),
		.addr = addr,
		.buf = buf,
		.length = size,
	};
	DWORD code;
	int proc, err;

	code = ntmem__process(process, &proc);
	if (!code && (addr + size < addr || buf + size < buf))
		code = ERROR_NOACCESS;
	if (!code && size) {
		err = ntmem__process_ioctl(proc, cmd, &c);
		if (err == -EIO)	/* the process's memory ended early */
			code = ERROR_PARTIAL_COPY;
		else if (err == -EFAULT)	/* the caller's buffer */
			code = c.done ? ERROR_PARTIAL_COPY : ERROR_NOACCESS;
		else if (err)	/* no access, the process gone: nothing */
			code = ntmem__error_from_errno(err, ERROR_PARTIAL_COPY);
	}
	if (count)
		*count = !code || code == ERROR_PARTIAL_COPY ? c.done : 0;
	if (code) {
		ntmem__fail(code);
		return FALSE;
	}
	return TRUE;
}

BOOL ReadProcessMemory(HANDLE hProcess, LPCVOID lpBaseAddress,
		       LPVOID lpBuffer, SIZE_T nSize,
		       SIZE_T *lpNumberOfBytesRead)
{
	return copy(hProcess, NTMEM_IOC_READ_MEMORY,
		    (uintptr_t)lpBaseAddress, (uintptr_t)lpBuffer, nSize,
		    lpNumberOfBytesRead);
}

BOOL WriteProcessMemory(HANDLE hProcess, LPVOID lpBaseAddress,
			LPCVOID lpBuffer, SIZE_T nSize,
			SIZE_T *lpNumberOfBytesWritten)
{
	return copy(hProcess, NTMEM_IOC_WRITE_MEMORY,
		    (uintptr_t)lpBaseAddress, (uintptr_t)lpBuffer, nSize,
		    lpNumberOfBytesWritten);
}
