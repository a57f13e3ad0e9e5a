// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: VirtualLock and VirtualUnlock.
 *
 * Windows' contract: the pages get memory now, are mapped, stay resident --
 * never swapped, never dropped by RESET -- and count against
 * RLIMIT_MEMLOCK.  A locked page leaves the shmem store for the pinned one
 * (region->pages: pages on no LRU list, which reclaim never sees) and goes
 * back when it is unlocked.  They are charged to mm->pinned_vm (VmPin in
 * /proc/PID/status), the counter drivers use for memory they hold for a
 * process; it is atomic, so ->close can uncharge without the mmap_lock
 * rules that mm->locked_vm has.
 *
 * Locks are per page and not counted (one bit), kept as runs in
 * region->locked, apart from the protections in region->state.
 */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>

#include "ntmem.h"
#include "ntmem_compat.h"

/* Pages of [first, last] that have an entry in @mt. */
unsigned long ntmem_tree_count(struct maple_tree *mt, pgoff_t first,
			       pgoff_t last)
{
	MA_STATE(mas, mt, first, first);
	unsigned long n = 0;
	void *entry;

	rcu_read_lock();
	mas_for_each(&mas, entry, last)
		n += min_t(unsigned long, mas.last, last) -
		     max_t(unsigned long, mas.index, first) + 1;
	rcu_read_unlock();
	return n;
}

static int ntmem_pin(struct ntmem_region *r, unsigned long pages)
{
	struct mm_struct *mm = r->nm->mm;
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;

	if (!pages)
		return 0;
	if (atomic64_add_return(pages, &mm->pinned_vm) > limit &&
	    !capable(CAP_IPC_LOCK)) {
		atomic64_sub(pages, &mm->pinned_vm);
		return -EDQUOT;
	}
	r->nr_locked += pages;
	atomic_long_add(pages, &ntmem_stats.locked_pages);
	return 0;
}

static void ntmem_unpin(struct ntmem_region *r, unsigned long pages)
{
	atomic64_sub(pages, &r->nm->mm->pinned_vm);
	r->nr_locked -= pages;
	atomic_long_sub(pages, &ntmem_stats.locked_pages);
}

/*
 * Windows probes the pages in order: the first one that is not committed
 * or is NOACCESS fails the call; the first armed guard fails it too and is
 * consumed, as a touch would.  Nothing else changes.
 */
static int ntmem_lock_probe(struct ntmem_region *r, pgoff_t first,
			    pgoff_t last)
{
	MA_STATE(mas, &r->state, first, first);
	pgoff_t next = first;
	void *entry;
	u32 prot = 0;
	int err = 0;

	rcu_read_lock();
	mas_for_each(&mas, entry, last) {
		prot = xa_to_value(entry);
		if (mas.index > next ||
		    (prot & NTMEM_PAGE_BASE_MASK) == NTMEM_PAGE_NOACCESS) {
			err = -EACCES;
			break;
		}
		if (prot & NTMEM_PAGE_GUARD) {
			next = max_t(pgoff_t, mas.index, first);
			err = -EAGAIN;
			break;
		}
		next = mas.last + 1;
		if (mas.last >= last)
			break;
	}
	rcu_read_unlock();
	if (!err && next <= last)	/* reserved pages at the end */
		err = -EACCES;
	if (err == -EAGAIN)
		mtree_store_range(&r->state, next, next,
				  xa_mk_value(prot & ~NTMEM_PAGE_GUARD),
				  GFP_KERNEL);
	return err;
}

/* Give every page of [first, last] memory and map it, run by run. */
static int ntmem_lock_populate(struct ntmem_region *r,
			       struct vm_area_struct *vma, pgoff_t first,
			       pgoff_t last)
{
	pgoff_t idx = first;
	int err = 0;

	while (!err && idx <= last) {
		MA_STATE(mas, &r->state, idx, idx);
		pgoff_t end;
		void *entry;

		rcu_read_lock();
		entry = mas_walk(&mas);
		end = min_t(pgoff_t, mas.last, last);
		rcu_read_unlock();
		err = ntmem_prefault(r, vma, idx, end, xa_to_value(entry), true);
		idx = end + 1;
	}
	return err;
}

int ntmem_lock(struct ntmem_region *r, struct vm_area_struct *vma,
	       unsigned long addr, unsigned long len)
{
	unsigned long fresh;
	pgoff_t first, last;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	err = ntmem_lock_probe(r, first, last);
	if (err)
		return err;
	fresh = (len >> PAGE_SHIFT) - ntmem_tree_count(&r->locked, first, last);
	err = ntmem_pin(r, fresh);
	if (err)
		return err;
	err = ntmem_lock_populate(r, vma, first, last);
	if (!err)
		err = mtree_store_range(&r->locked, first, last,
					xa_mk_value(1), GFP_KERNEL);
	if (err) {
		ntmem_unpin(r, fresh);
		/* the pages this call pinned go back where they were */
		ntmem_pages_unpin(r, vma, first, last);
	}
	return err;
}

int ntmem_unlock(struct ntmem_region *r, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len)
{
	unsigned long pages = len >> PAGE_SHIFT;
	pgoff_t first, last;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	if (ntmem_tree_count(&r->locked, first, last) != pages)
		return -ENOLCK;
	err = mtree_store_range(&r->locked, first, last, NULL, GFP_KERNEL);
	if (err)
		return err;
	ntmem_unpin(r, pages);
	ntmem_pages_unpin(r, vma, first, last);
	return 0;
}

/*
 * DECOMMIT, after the pages left the state: they lose their locks too.
 * The range store can fail only for want of a maple node, which small
 * GFP_KERNEL allocations are denied only to a dying task (or by fault
 * injection): retry, and a dying task's locks go with its teardown.
 */
void ntmem_unlock_all(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	unsigned long pages;

	if (!r->nr_locked)
		return;
	pages = ntmem_tree_count(&r->locked, first, last);
	if (!pages)
		return;
	while (mtree_store_range(&r->locked, first, last, NULL, GFP_KERNEL)) {
		if (fatal_signal_pending(current))
			return;
		cond_resched();
	}
	ntmem_unpin(r, pages);
}

/*
 * Remove the PTEs of the pages of [first, last] that are not locked: a
 * locked page stays mapped (RESET passes over it).  mmap_lock held for
 * write, so @r->locked does not change meanwhile.
 */
void ntmem_zap_unlocked(struct ntmem_region *r, struct vm_area_struct *vma,
			pgoff_t first, pgoff_t last)
{
	MA_STATE(mas, &r->locked, first, first);
	pgoff_t next = first, start, end;
	void *entry;

	while (next <= last) {
		start = last + 1;
		end = last;
		if (r->nr_locked) {
			rcu_read_lock();
			mas_set(&mas, next);
			entry = mas_find(&mas, last);
			if (entry) {
				start = max_t(pgoff_t, mas.index, next);
				end = min_t(pgoff_t, mas.last, last);
			}
			rcu_read_unlock();
		}
		if (start > next)
			ntmem_zap(vma, ntmem_idx_addr(r, next),
				  (start - next) << PAGE_SHIFT);
		next = end + 1;
		if (!next)
			break;
	}
}

/* A locked page is never RESET (its contents stay). */
bool ntmem_page_locked(struct ntmem_region *r, pgoff_t idx)
{
	return r->nr_locked && mtree_load(&r->locked, idx);
}

/* The region is gone (->close): its locks go, without allocating. */
void ntmem_lock_teardown(struct ntmem_region *r)
{
	if (r->nr_locked)
		ntmem_unpin(r, r->nr_locked);
	mtree_destroy(&r->locked);
}
