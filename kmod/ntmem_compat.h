/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntmem: the kernel API differences between 6.1 and 6.12 that the module
 * meets, each hidden behind one helper.  The NTMEM_HAVE_* macros come from
 * the API probes in Kbuild.
 */
#ifndef NTMEM_COMPAT_H
#define NTMEM_COMPAT_H

#include <linux/mm.h>
#include <linux/sched/mm.h>

#ifndef NTMEM_HAVE_VM_FLAGS_SET
/* 6.3 made vm_flags const and added these; before, drivers wrote it. */
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
#ifdef NTMEM_HAVE_ZAP_PAGE_RANGE
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
#ifdef NTMEM_HAVE_MM_GET_UNMAPPED_AREA
	return mm_get_unmapped_area(current->mm, NULL, addr, len, 0, flags);
#else
	return current->mm->get_unmapped_area(NULL, addr, len, 0, flags);
#endif
}

#endif /* NTMEM_COMPAT_H */
