// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The heap's own ntmem calls: raw ioctls rather than VirtualAlloc, because
 * a failing HeapAlloc leaves the thread's last error alone (Windows' rule).
 */
#include "heap.h"

void *ntmem__heap_os_reserve(size_t len, bool commit, uint32_t protect)
{
	struct ntmem_reserve r = {
		.size = sizeof(r),
		.flags = commit ? NTMEM_RESERVE_COMMIT : 0,
		.length = len,
		.protect = protect,
	};

	return ntmem__ioctl(NTMEM_IOC_RESERVE, &r) ? NULL :
						      (void *)(uintptr_t)r.addr;
}

static int heap_os_range(unsigned long cmd, void *addr, size_t len,
			 uint32_t protect)
{
	struct ntmem_range r = {
		.size = sizeof(r),
		.addr = (uintptr_t)addr,
		.length = len,
		.protect = protect,
	};

	return ntmem__ioctl(cmd, &r);
}

int ntmem__heap_os_commit(void *addr, size_t len, uint32_t protect)
{
	return heap_os_range(NTMEM_IOC_COMMIT, addr, len, protect);
}

/* Contents no longer needed: the kernel may drop them under pressure. */
void ntmem__heap_os_reset(void *addr, size_t len)
{
	heap_os_range(NTMEM_IOC_RESET, addr, len, 0);
}

void ntmem__heap_os_release(void *addr)
{
	heap_os_range(NTMEM_IOC_RELEASE, addr, 0, 0);
}
