// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * NtmemIsGuardPageViolation: a guard-page hit and an access violation are
 * both a SIGSEGV at the exact address; the kernel remembers, per thread,
 * the last guard hit, and NTMEM_IOC_GUARD_HIT asks about it.  Only
 * async-signal-safe calls here: no lock, no pthread_once, no open().
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "internal.h"

BOOL NtmemIsGuardPageViolation(const siginfo_t *si)
{
	struct ntmem_guard_hit g = { .size = sizeof(g) };
	int fd = ntmem__fd_if_open(), saved_errno = errno, err;

	/* No device open: this process has no ntmem memory, so no guard. */
	if (!si || si->si_signo != SIGSEGV || fd < 0)
		return FALSE;
	g.addr = (uintptr_t)si->si_addr;
	err = ioctl(fd, NTMEM_IOC_GUARD_HIT, &g);
	errno = saved_errno;	/* the interrupted code may be reading it */
	return !err && g.hit ? TRUE : FALSE;
}
