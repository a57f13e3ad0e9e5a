/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmem: the kernel API differences between 6.1 and 6.12 that the module
 * meets, each hidden behind one helper.
 */
#ifndef NTMEM_COMPAT_H
#define NTMEM_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* 6.3 made vm_flags const and added these; 6.1 writes the field. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* Remove the page-table entries of [addr, addr + size) in @vma, flushing the TLB. */
static inline void ntmem_zap(struct vm_area_struct *vma, unsigned long addr,
			     unsigned long size)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	zap_page_range(vma, addr, size);
#else
	zap_page_range_single(vma, addr, size, NULL);
#endif
}

/* The mm's own placement policy, as mmap() without a file would use it. */
static inline unsigned long ntmem_mm_unmapped_area(unsigned long addr,
						   unsigned long len,
						   unsigned long flags)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
	return current->mm->get_unmapped_area(NULL, addr, len, 0, flags);
#else
	return mm_get_unmapped_area(current->mm, NULL, addr, len, 0, flags);
#endif
}

#endif /* NTMEM_COMPAT_H */
