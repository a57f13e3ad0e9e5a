// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel-object HANDLEs.  A section, or another process (process.c), is held by
 * a file descriptor, and its HANDLE is that descriptor encoded as (fd + 1) <<
 * 2: a multiple of 4 like Windows' handles, never NULL and never
 * INVALID_HANDLE_VALUE (which is also GetCurrentProcess()'s pseudo-handle).  So
 * no table is kept, a forked child shares the handles as it shares the
 * descriptors, and a descriptor received over SCM_RIGHTS or inherited across
 * exec is a HANDLE in the process that holds it.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "internal.h"

HANDLE ntmem__handle_from_fd(int fd)
{
	return (HANDLE)(((uintptr_t)fd + 1) << 2);
}

int ntmem__fd_from_handle(HANDLE h)
{
	uintptr_t v = (uintptr_t)h;

	/* v >= 4 here, so the fd is at least 0 */
	if (!v || (v & 3) || (v >> 2) - 1 > INT_MAX)
		return -1;
	return (int)((v >> 2) - 1);
}

HANDLE ntmem_handle_from_fd(int fd)
{
	if (fd < 0) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return NULL;
	}
	return ntmem__handle_from_fd(fd);
}

int ntmem_fd_from_handle(HANDLE hObject)
{
	int fd = ntmem__fd_from_handle(hObject);

	if (fd < 0) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		errno = EBADF;
	}
	return fd;
}

BOOL CloseHandle(HANDLE hObject)
{
	int fd;

	if (ntmem__is_current_process(hObject))
		return TRUE;	/* a pseudo-handle: nothing to close */
	fd = ntmem__fd_from_handle(hObject);
	/* Linux frees the descriptor whatever else close() reports. */
	if (fd < 0 || (close(fd) && errno == EBADF)) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	return TRUE;
}
