// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the kernel's W^X policy for executable protections.
 *
 * A process may get from ntmem only the executable memory that the kernel
 * would give it through mmap()/mprotect():
 *  - MDWE (prctl(PR_SET_MDWE), systemd's MemoryDenyWriteExecute=): no page
 *    both writable and executable, and no page gains execute permission
 *    (COMMIT or PROTECT of a committed page that was not executable); the
 *    same rules as map_deny_write_exec() for VMAs;
 *  - the LSM's mmap hook (e.g. SELinux execmem): a module cannot call it,
 *    so ntmem asks vm_mmap() for an executable (and, for a writable
 *    protection, writable) shared mapping of the placeholder file.
 *    vm_mmap() runs security_mmap_file() first and only then asks the
 *    file's ->get_unmapped_area for an address, which refuses the probe:
 *    nothing is ever mapped.  An LSM's mprotect hook sees nothing of a
 *    PROTECT: the probe stands for it too.
 * Refused calls fail with EPERM and change nothing.
 */
#include <linux/mm.h>
#include <linux/mman.h>

#include "ntmem.h"
#include "ntmem_compat.h"

/*
 * Whether executable memory of @nm's address space must not be or become
 * writable (MDWE): its process's policy, whoever makes the call.
 */
bool ntmem_mdwe(struct ntmem_mm *nm)
{
	return ntmem_mm_has_mdwe(nm->mm);
}

int ntmem_exec_permitted(struct ntmem_mm *nm, u32 protect)
{
	bool writable = ntmem_prot_writable(protect);
	unsigned long ret;
	int err;

	if (!ntmem_prot_executable(protect))
		return 0;
	if (writable && ntmem_mdwe(nm))
		return -EPERM;

	if (mutex_lock_killable(&nm->map_lock))
		return -EINTR;
	err = ntmem_request_file(nm, &nm->free_file, NTMEM_PLACEHOLDER_NAME);
	if (!err) {
		nm->checked = false;
		WRITE_ONCE(nm->probing, true);
		WRITE_ONCE(nm->pending_task, current);
		ret = vm_mmap(nm->free_file, 0, PAGE_SIZE,
			      PROT_READ | PROT_EXEC | (writable ? PROT_WRITE : 0),
			      MAP_SHARED, 0);
		WRITE_ONCE(nm->pending_task, NULL);
		WRITE_ONCE(nm->probing, false);
		if (WARN_ON_ONCE(!IS_ERR_VALUE(ret)))
			vm_munmap(ret, PAGE_SIZE);	/* (cannot happen) */
		if (!nm->checked)
			err = ret == -EACCES ? -EPERM : (int)ret;
	}
	mutex_unlock(&nm->map_lock);
	return err;
}
