// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: released address space.
 *
 * RELEASE does not unmap a reservation: a module can only unmap through
 * vm_munmap(), which takes mmap_lock itself and so cannot check that what
 * it unmaps is still the reservation (another thread may have munmap()ed
 * it and mapped something else there meanwhile).  Instead RELEASE maps a
 * placeholder over the reservation with vm_mmap(MAP_FIXED), whose
 * ->get_unmapped_area checks the range under mmap_lock before anything is
 * unmapped (ntmem_region.c).  A placeholder is an inaccessible VMA of the
 * "[ntmem free]" file with no pages; QUERY reports it as free, and RESERVE
 * maps over placeholders the same way, preferring them to fresh address
 * space so that released space is reused.  A program may munmap() a
 * placeholder or map over it; mprotect() and mremap() are refused.
 */
#include <linux/mm.h>

#include "ntmem.h"
#include "ntmem_compat.h"

/* Whether every VMA in [start, end) is a placeholder.  Under mmap_lock. */
bool ntmem_range_reusable(struct mm_struct *mm, unsigned long start,
			  unsigned long end)
{
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	vma_iter_init(&vmi, mm, start);
	for_each_vma_range(vmi, vma, end)
		if (!ntmem_vma_is_placeholder(vma))
			return false;
	return true;
}

/*
 * Where free space below @vma ends: below a stack, the kernel's default
 * guard gap is kept free too (stack_guard_gap itself is not exported).
 */
static unsigned long ntmem_gap_end(struct vm_area_struct *vma)
{
	unsigned long gap = 256UL << PAGE_SHIFT;

	if (!vma)
		return NTMEM_MAX_ADDRESS;
	if ((vma->vm_flags & VM_GROWSDOWN) && vma->vm_start > gap)
		return vma->vm_start - gap;
	return vma->vm_start;
}

/*
 * Where @span bytes fit, at a multiple of @align, in a run of placeholders
 * and holes, over or next to a placeholder, or -ENOMEM: in the lowest such
 * run (the highest for @top_down), starting at its first placeholder
 * (ending at its last).  Under mmap_lock.
 */
unsigned long ntmem_placeholder_area(struct mm_struct *mm, unsigned long span,
				     unsigned long align, bool top_down)
{
	unsigned long run = 0, first = 0, last = 0, best = -ENOMEM;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	vma_iter_init(&vmi, mm, 0);
	for (;;) {
		unsigned long end, lo, at;

		vma = vma_next(&vmi);
		if (vma && ntmem_vma_is_placeholder(vma)) {
			if (!first)
				first = vma->vm_start;
			last = vma->vm_end;
			continue;
		}
		end = min(ntmem_gap_end(vma), NTMEM_MAX_ADDRESS);
		lo = ALIGN(run ? run : first, align);
		if (first && end > lo && end - lo >= span) {
			/* from the first placeholder up, or down from the last */
			unsigned long up = ALIGN(first, align);
			unsigned long down = min(ALIGN(last, align),
						 end);
			bool fits_up = end > up && end - up >= span;
			bool fits_down = down >= lo + span;

			if (fits_up && !(top_down && fits_down))
				at = up;
			else if (fits_down)
				at = ALIGN_DOWN(down - span, align);
			else
				at = 0;
			if (at && !top_down)
				return at;
			if (at)
				best = at;
		}
		if (!vma || vma->vm_start >= NTMEM_MAX_ADDRESS)
			return best;
		run = vma->vm_end;
		first = 0;
	}
}

void ntmem_placeholder_mmap(struct ntmem_mm *nm, struct vm_area_struct *vma)
{
	vma->vm_ops = &ntmem_placeholder_vm_ops;
	vma->vm_private_data = NULL;
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND);
	vm_flags_clear(vma, VM_MAYEXEC);
	atomic_long_inc(&nm->placeholders);
}

/* Counted in the owner's mm only (a forked copy after MADV_DOFORK is not). */
static void ntmem_placeholder_open(struct vm_area_struct *vma)
{
	struct ntmem_mm *nm = vma->vm_file->private_data;

	if (vma->vm_mm == nm->mm)
		atomic_long_inc(&nm->placeholders);
}

static void ntmem_placeholder_close(struct vm_area_struct *vma)
{
	struct ntmem_mm *nm = vma->vm_file->private_data;

	if (vma->vm_mm == nm->mm)
		atomic_long_dec(&nm->placeholders);
}

/* No ->fault: an access the protection lets through gets SIGBUS. */
const struct vm_operations_struct ntmem_placeholder_vm_ops = {
	.open		= ntmem_placeholder_open,
	.close		= ntmem_placeholder_close,
	.mprotect	= ntmem_vma_refuse_mprotect,
	.mremap		= ntmem_vma_refuse_mremap,
};
