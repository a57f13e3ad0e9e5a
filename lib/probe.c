// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Is an output buffer writable?  Windows probes output buffers and fails
 * with ERROR_NOACCESS instead of faulting.  The kernel answers for us:
 * copy the bytes out and back with process_vm_readv/writev on ourselves,
 * which fail with EFAULT rather than raising SIGSEGV.  Those go through
 * GUP, which does not see ntmem's executable pages, so for them QUERY
 * decides.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

/* Every page of [p, p+len) is committed ntmem memory that can be written. */
static bool ntmem_exec_writable(uintptr_t p, size_t len)
{
	uintptr_t a = p & ~(NTMEM__PAGE - 1);

	for (; a < p + len; a += NTMEM__PAGE) {
		struct ntmem_query q = { .size = sizeof(q), .addr = a };

		if (ntmem__ioctl(NTMEM_IOC_QUERY, &q) ||
		    q.state != NTMEM_STATE_COMMIT ||
		    (q.protect & 0xFF) != NTMEM_PAGE_EXECUTE_READWRITE ||
		    (q.protect & NTMEM_PAGE_GUARD))
			return false;
	}
	return true;
}

bool ntmem__writable(void *p, size_t len)
{
	unsigned char copy[64];
	struct iovec local = { copy, len }, remote = { p, len };
	pid_t self = getpid();

	if (!p)
		return false;
	if (len > sizeof(copy))
		return true;	/* callers probe small structures only */
	if (process_vm_readv(self, &local, 1, &remote, 1, 0) == (ssize_t)len &&
	    process_vm_writev(self, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return true;
	if (errno == ENOSYS || errno == EPERM)
		return true;	/* cannot tell: let the access decide */
	return ntmem_exec_writable((uintptr_t)p, len);
}
