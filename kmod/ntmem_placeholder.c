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
 *
 * Windows' own placeholders (MEM_RESERVE_PLACEHOLDER) are reserved
 * address space, not free: VMAs of the "[ntmem placeholder]" file
 * (ntmem_hold_vm_ops), inaccessible and without pages or state, that
 * RESERVE and MAP_VIEW replace only when asked to (NTMEM_RESERVE_REPLACE)
 * and that RELEASE splits, joins and frees (ntmem_placeholder_change()).
 * Every change is again a vm_mmap() of a placeholder or of free space
 * over the range, checked under mmap_lock by ntmem_place_area() before
 * anything is unmapped; VM_DONTEXPAND keeps adjacent ones from merging.
 */
#include <linux/mm.h>
#include <linux/mman.h>

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

/*
 * Where @span bytes fit, at a multiple of @align, in [@lowest, @end), over
 * holes and placeholders of released space: the lowest such place (the
 * highest for @top_down), or -ENOMEM.  Under mmap_lock.
 */
unsigned long ntmem_bounded_area(struct mm_struct *mm, unsigned long span,
				 unsigned long align, unsigned long lowest,
				 unsigned long end, bool top_down)
{
	unsigned long run = lowest, best = -ENOMEM;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	vma_iter_init(&vmi, mm, lowest);
	for (;;) {
		unsigned long gap_end, at;

		vma = vma_next(&vmi);
		if (vma && ntmem_vma_is_placeholder(vma) && vma->vm_start < end)
			continue;
		gap_end = min(ntmem_gap_end(vma && vma->vm_start < end ? vma :
					    NULL), end);
		if (gap_end > run && gap_end - run >= span) {
			at = top_down ? ALIGN_DOWN(gap_end - span, align) :
				       ALIGN(run, align);
			if (at >= run && at + span <= gap_end) {
				if (!top_down)
					return at;
				best = at;
			}
		}
		if (!vma || vma->vm_end >= end)
			return best;
		run = max(vma->vm_end, lowest);
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

/*
 * A new VMA of the placeholders' file (nm->hold_file, which only requests
 * that make a placeholder map) becomes a Windows placeholder.
 */
void ntmem_hold_mmap(struct vm_area_struct *vma)
{
	vma->vm_ops = &ntmem_hold_vm_ops;
	vma->vm_private_data = NULL;
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND);
	vm_flags_clear(vma, VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
}

/*
 * Whether [start, end) holds nothing but (pieces of) Windows placeholders
 * and holes: what a failed change of a placeholder may leave (see
 * ntmem_hold_retry()).  Under mmap_lock.
 */
bool ntmem_range_hold_or_hole(struct mm_struct *mm, unsigned long start,
			      unsigned long end)
{
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	vma_iter_init(&vmi, mm, start);
	for_each_vma_range(vmi, vma, end)
		if (!ntmem_vma_is_hold(vma))
			return false;
	return true;
}

/*
 * A vm_mmap() over a Windows placeholder (a split, a join, a replacement)
 * failed after ->get_unmapped_area had accepted the range.  The kernel may
 * have unmapped part of the range first -- 6.1's mmap_region() unmaps
 * before it allocates the new VMA, and a split can fail halfway -- which
 * would lose the placeholder, or leave it half split, under a call that
 * reports failure.  So map again over what is left of it (pieces of it and
 * holes only: ntmem_range_hold_or_hole()): if that works the call is done
 * after all; if not, nothing else is tried.  Under map_lock, with the
 * request still set up; returns the second vm_mmap()'s result.
 */
unsigned long ntmem_hold_retry(struct ntmem_mm *nm, struct file *file,
			       unsigned long addr, unsigned long len,
			       unsigned long prot, unsigned long pgoff)
{
	unsigned long ret;

	nm->checked = false;
	WRITE_ONCE(nm->retry, true);
	ret = vm_mmap(file, addr, len, prot, MAP_SHARED | MAP_FIXED, pgoff);
	WRITE_ONCE(nm->retry, false);
	return ret;
}

/* Whether [start, end) is exactly one Windows placeholder.  mmap_lock. */
bool ntmem_range_is_hold(struct mm_struct *mm, unsigned long start,
			 unsigned long end)
{
	struct vm_area_struct *vma = vma_lookup(mm, start);

	return vma && ntmem_vma_is_hold(vma) && vma->vm_start == start &&
	       vma->vm_end == end;
}

/* Whether [start, end) is exactly two or more adjacent placeholders. */
static bool ntmem_range_is_hold_run(struct mm_struct *mm, unsigned long start,
				    unsigned long end)
{
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	unsigned long at = start;
	int n = 0;

	vma_iter_init(&vmi, mm, start);
	for_each_vma_range(vmi, vma, end) {
		if (!ntmem_vma_is_hold(vma) || vma->vm_start != at)
			return false;
		at = vma->vm_end;
		n++;
	}
	return n >= 2 && at == end;
}

/*
 * ->get_unmapped_area of a placeholder change (nm->place): the range must
 * still be what the change needs, now that mmap_lock is held.
 */
unsigned long ntmem_place_area(struct ntmem_mm *nm, unsigned long addr,
			       unsigned long len, unsigned long flags)
{
	const struct ntmem_place *p = nm->place;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool ok = false;

	if (!(flags & MAP_FIXED) || addr != p->start || addr + len != p->end)
		return -ENXIO;
	/* a second try takes what a failed first one may have left */
	switch (nm->retry ? NTMEM_PLACE_RETRY : p->check) {
	case NTMEM_PLACE_EXACT:
		ok = ntmem_range_is_hold(mm, p->start, p->end);
		break;
	case NTMEM_PLACE_INSIDE:
		vma = vma_lookup(mm, p->start);
		ok = vma && ntmem_vma_is_hold(vma) && p->end <= vma->vm_end &&
		     (vma->vm_start != p->start || vma->vm_end != p->end);
		break;
	case NTMEM_PLACE_RUN:
		ok = ntmem_range_is_hold_run(mm, p->start, p->end);
		break;
	case NTMEM_PLACE_RETRY:
		ok = ntmem_range_hold_or_hole(mm, p->start, p->end);
		break;
	}
	if (!ok)
		return -ENXIO;
	nm->checked = true;
	return addr;
}

/*
 * RELEASE of Windows placeholders: @flags 0 frees the placeholder based
 * at @addr (@len 0 or its length); NTMEM_RELEASE_PRESERVE makes
 * [addr, addr + len), strictly inside one, a placeholder of its own;
 * NTMEM_RELEASE_COALESCE makes two or more adjacent ones one.  ENXIO for
 * any other range, and nothing changes.
 */
int ntmem_placeholder_change(struct ntmem_mm *nm, unsigned long addr,
			     unsigned long len, u32 flags)
{
	struct ntmem_place p = { .start = addr };
	/* a placeholder takes the range (its file), else released space */
	bool hold = flags & (NTMEM_RELEASE_COALESCE | NTMEM_RELEASE_PRESERVE);
	struct vm_area_struct *vma;
	struct file **filep;
	unsigned long ret;
	int err = 0;

	if (flags & NTMEM_RELEASE_COALESCE)
		p.check = NTMEM_PLACE_RUN;
	else if (flags & NTMEM_RELEASE_PRESERVE)
		p.check = NTMEM_PLACE_INSIDE;
	else
		p.check = NTMEM_PLACE_EXACT;
	if (mutex_lock_killable(&nm->map_lock))
		return -EINTR;
	if (!len) {	/* the whole placeholder based at @addr */
		if (mmap_read_lock_killable(nm->mm)) {
			mutex_unlock(&nm->map_lock);
			return -EINTR;
		}
		vma = vma_lookup(nm->mm, addr);
		if (flags || !vma || !ntmem_vma_is_hold(vma) ||
		    vma->vm_start != addr)
			err = -ENXIO;
		else
			len = vma->vm_end - addr;
		mmap_read_unlock(nm->mm);
	}
	p.end = addr + len;
	filep = hold ? &nm->hold_file : &nm->free_file;
	if (!err)
		err = ntmem_request_file(nm, filep, hold ?
					 NTMEM_HOLD_MAPS_NAME :
					 NTMEM_PLACEHOLDER_NAME);
	if (!err) {
		nm->checked = false;
		WRITE_ONCE(nm->place, &p);
		WRITE_ONCE(nm->pending_task, current);
		ret = vm_mmap(*filep, addr, len, PROT_NONE,
			      MAP_SHARED | MAP_FIXED, 0);
		if (IS_ERR_VALUE(ret) && nm->checked && hold)
			ret = ntmem_hold_retry(nm, *filep, addr, len, PROT_NONE,
					       0);
		WRITE_ONCE(nm->pending_task, NULL);
		WRITE_ONCE(nm->place, NULL);
		/* freed all the same if the kernel failed after the unmap */
		if (IS_ERR_VALUE(ret) && !(nm->checked && !hold))
			err = ret;
	}
	mutex_unlock(&nm->map_lock);
	return err;
}

/* Splitting one is the point; moving or opening it is not allowed. */
const struct vm_operations_struct ntmem_hold_vm_ops = {
	.mprotect	= ntmem_vma_refuse_mprotect,
	.mremap		= ntmem_vma_refuse_mremap,
};
