// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: the page state of a region and every operation that changes it.
 *
 * Two sparse structures keep per-page state small for huge, mostly empty
 * reservations (1 TiB reserved with one page committed costs a few KiB):
 *
 *  - region->state, a maple tree of ranges: each run of committed pages with
 *    one protection is one entry, reserved pages are gaps.  COMMIT, PROTECT
 *    and DECOMMIT of any size are one range store.
 *  - region->pages, an xarray holding only pages that have memory.
 *
 * Callers hold mmap_lock for write (see ntmem.h), so no fault runs while
 * state changes.  Lowering a page's permissions, or giving it execute
 * permission, removes its PTEs (zap, with a TLB flush) so that the next
 * access faults and maps it again under the new protection; raising write
 * permission needs no zap, since writes to a read-only PTE go through
 * ->page_mkwrite, which consults the new state.
 */
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "ntmem.h"
#include "ntmem_compat.h"

#define NTMEM_PREFAULT_BATCH	64
#define NTMEM_FREE_BATCH	256

bool ntmem_protect_valid(u32 protect)
{
	u32 mods = protect & NTMEM_PAGE_MODIFIERS;

	if (protect & ~(NTMEM_PAGE_BASE_MASK | NTMEM_PAGE_MODIFIERS))
		return false;
	switch (protect & NTMEM_PAGE_BASE_MASK) {
	case NTMEM_PAGE_NOACCESS:
		return !mods;
	case NTMEM_PAGE_READONLY:
	case NTMEM_PAGE_READWRITE:
	case NTMEM_PAGE_EXECUTE:
	case NTMEM_PAGE_EXECUTE_READ:
	case NTMEM_PAGE_EXECUTE_READWRITE:
		return hweight32(mods) <= 1;
	default:
		return false;
	}
}

/* Protection of committed page @idx, 0 if it is reserved. */
u32 ntmem_page_prot(struct ntmem_region *r, pgoff_t idx)
{
	void *entry = mtree_load(&r->state, idx);

	return entry ? xa_to_value(entry) : 0;
}

/*
 * NOCACHE and WRITECOMBINE belong to the whole allocation, as on current
 * Windows: pages carry the allocation's modifier, whatever was asked.
 */
static u32 ntmem_with_alloc_modifiers(struct ntmem_region *r, u32 protect)
{
	const u32 cache = NTMEM_PAGE_NOCACHE | NTMEM_PAGE_WRITECOMBINE;

	return (protect & ~cache) | (r->alloc_protect & cache);
}

/* Going from @old to @new only adds write permission (no zap needed). */
static bool ntmem_only_adds_write(u32 old, u32 new)
{
	if (old == new || (old & NTMEM_PAGE_BASE_MASK) == NTMEM_PAGE_NOACCESS)
		return true;
	if ((old | new) & NTMEM_PAGE_GUARD)
		return false;
	if ((old & ~NTMEM_PAGE_BASE_MASK) != (new & ~NTMEM_PAGE_BASE_MASK))
		return false;
	old &= NTMEM_PAGE_BASE_MASK;
	new &= NTMEM_PAGE_BASE_MASK;
	return (old == NTMEM_PAGE_READONLY && new == NTMEM_PAGE_READWRITE) ||
	       (old == NTMEM_PAGE_EXECUTE_READ &&
		new == NTMEM_PAGE_EXECUTE_READWRITE) ||
	       (old == NTMEM_PAGE_EXECUTE && new == NTMEM_PAGE_EXECUTE_READ);
}

struct ntmem_span {
	unsigned long committed;	/* committed pages in the span */
	bool needs_zap;			/* a committed page loses a right */
	bool gains_exec;		/* a committed page becomes executable */
};

/* Walk the committed runs of [first, last] against a new protection. */
static struct ntmem_span ntmem_scan_span(struct ntmem_region *r, pgoff_t first,
					 pgoff_t last, u32 new)
{
	MA_STATE(mas, &r->state, first, first);
	struct ntmem_span span = { 0 };
	void *entry;

	rcu_read_lock();
	mas_for_each(&mas, entry, last) {
		span.committed += min_t(unsigned long, mas.last, last) -
				  max_t(unsigned long, mas.index, first) + 1;
		if (!ntmem_only_adds_write(xa_to_value(entry), new))
			span.needs_zap = true;
		if (ntmem_prot_executable(new) &&
		    !ntmem_prot_executable(xa_to_value(entry)))
			span.gains_exec = true;
	}
	rcu_read_unlock();
	return span;
}

/*
 * A zeroed page for @r, charged to the memory cgroup of @r's process even
 * when another process faults it in (ptrace, /proc/PID/mem,
 * process_vm_writev): Linux charges a page that GUP faults into a process
 * to that process's cgroup too, and a debugger's cgroup must not pay for
 * (or be OOM-killed over) its target's memory.
 */
static struct page *ntmem_alloc_page(struct ntmem_region *r)
{
	struct mem_cgroup *memcg = NULL, *old = NULL;
	struct page *page;

	if (current->mm != r->nm->mm) {
		memcg = get_mem_cgroup_from_mm(r->nm->mm);
		old = set_active_memcg(memcg);
	}
	page = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT);
	if (memcg) {
		set_active_memcg(old);
		mem_cgroup_put(memcg);
	}
	return page;
}

/*
 * The page of committed page @idx, allocated (zeroed) on first use, with a
 * reference for the caller.  Caller holds mmap_lock (read or write), which
 * keeps ioctls from removing pages; concurrent faults race only to insert.
 *
 * Every path that maps a page gets it here, and a page handed out is no
 * longer reset: so a reset page is never mapped, and the shrinker can drop
 * it under the xarray lock alone.
 */
struct page *ntmem_get_page(struct ntmem_region *r, pgoff_t idx, bool *fresh)
{
	struct page *page, *cur;
	bool was_reset = false;
	void *old;

again:
	old = xa_load(&r->pages, idx);
	if (old && !xa_is_value(old)) {
		xa_lock(&r->pages);
		if (xa_load(&r->pages, idx) != old) {
			xa_unlock(&r->pages);
			goto again;
		}
		if (xa_get_mark(&r->pages, idx, NTMEM_MARK_RESET)) {
			__xa_clear_mark(&r->pages, idx, NTMEM_MARK_RESET);
			was_reset = true;
		}
		get_page(old);
		xa_unlock(&r->pages);
		if (was_reset)
			ntmem_reset_track(r, -1);
		*fresh = false;
		return old;
	}

	page = ntmem_alloc_page(r);
	if (!page)
		return ERR_PTR(-ENOMEM);
	/* one reference for the store, one for the caller */
	get_page(page);
	/* replacing NTMEM_DISCARDED keeps its NTMEM_MARK_LOST */
	cur = xa_cmpxchg(&r->pages, idx, old, page, GFP_KERNEL);
	if (cur != old) {
		put_page(page);
		put_page(page);
		if (xa_is_err(cur))
			return ERR_PTR(xa_err(cur));
		goto again;
	}
	ntmem_resident_add(r, 1);
	*fresh = true;
	return page;
}

struct ntmem_pte_args {
	struct mm_struct *mm;
	struct page *page;
	pgprot_t prot;
};

/* Runs under the PTE lock; fills only an empty slot (no TLB flush needed). */
static int ntmem_set_special_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct ntmem_pte_args *args = data;

	if (!pte_none(ptep_get(pte)))
		return 0;
	set_pte_at(args->mm, addr, pte,
		   pte_mkspecial(mk_pte(args->page, args->prot)));
	return 0;
}

/*
 * Map an executable page.  The core maps pages with the VMA's single
 * protection, which has no execute permission; so executable pages are
 * installed here as special PTEs with their own.  Such a PTE holds no page
 * reference (the store does) and is invisible to GUP and RSS.  It is mapped
 * writable only for a write fault, so that other writes reach
 * ->pfn_mkwrite.
 */
int ntmem_map_exec_page(struct vm_area_struct *vma, unsigned long addr,
			struct page *page, u32 prot, bool write)
{
	struct ntmem_pte_args args = { .mm = vma->vm_mm, .page = page };
	vm_flags_t flags = VM_READ | VM_EXEC | VM_SHARED;

	if (write)
		flags |= VM_WRITE;
	args.prot = vm_get_page_prot(flags);
	return apply_to_page_range(vma->vm_mm, addr, PAGE_SIZE,
				   ntmem_set_special_pte, &args);
}

bool ntmem_prot_writable(u32 prot)
{
	prot &= NTMEM_PAGE_BASE_MASK;
	return prot == NTMEM_PAGE_READWRITE ||
	       prot == NTMEM_PAGE_EXECUTE_READWRITE;
}

bool ntmem_prot_executable(u32 prot)
{
	return prot & (NTMEM_PAGE_EXECUTE | NTMEM_PAGE_EXECUTE_READ |
		       NTMEM_PAGE_EXECUTE_READWRITE);
}

/* Allocate and map the pages of [first, last]; stops early on a fatal signal. */
int ntmem_prefault(struct ntmem_region *r, struct vm_area_struct *vma,
		   pgoff_t first, pgoff_t last, u32 prot)
{
	pgoff_t idx;
	bool fresh;
	int err = 0;

	if ((prot & NTMEM_PAGE_BASE_MASK) == NTMEM_PAGE_NOACCESS ||
	    (prot & NTMEM_PAGE_GUARD))
		return 0;
	for (idx = first; idx <= last; idx++) {
		unsigned long addr = ntmem_idx_addr(r, idx);
		struct page *page = ntmem_get_page(r, idx, &fresh);

		if (IS_ERR(page))
			return PTR_ERR(page);
		if (ntmem_prot_executable(prot))
			err = ntmem_map_exec_page(vma, addr, page, prot, false);
		else
			err = vm_insert_page(vma, addr, page);
		put_page(page);
		if (err == -EBUSY)	/* already mapped */
			err = 0;
		if (err)
			return err;
		if ((idx - first) % NTMEM_PREFAULT_BATCH == 0) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

int ntmem_commit(struct ntmem_region *r, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len, u32 protect, u32 flags)
{
	pgoff_t first, last;
	unsigned long fresh;
	struct ntmem_span span;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	protect = ntmem_with_alloc_modifiers(r, protect);
	span = ntmem_scan_span(r, first, last, protect);
	if (span.gains_exec && ntmem_mdwe())
		return -EPERM;
	fresh = (len >> PAGE_SHIFT) - span.committed;
	err = ntmem_charge(r->nm, fresh);
	if (err)
		return err;
	err = mtree_store_range(&r->state, first, last, xa_mk_value(protect),
				GFP_KERNEL);
	if (err) {
		ntmem_uncharge(r->nm, fresh);
		return err;
	}
	if (span.needs_zap)
		ntmem_zap(vma, addr, len);
	/*
	 * Mapping the pages now is a hint, as MAP_POPULATE is to mmap(): the
	 * commit stands whether or not the prefault got through (no memory,
	 * a fatal signal), so a failure here must not fail the call.
	 */
	if (flags & NTMEM_COMMIT_PREFAULT)
		ntmem_prefault(r, vma, first, last, protect);
	return 0;
}

/* RESERVE with NTMEM_RESERVE_COMMIT: a new region, committed whole. */
int ntmem_commit_all(struct ntmem_region *r)
{
	unsigned long pages = ntmem_region_pages(r);
	int err = ntmem_charge(r->nm, pages);

	if (err)
		return err;
	err = mtree_store_range(&r->state, 0, pages - 1,
				xa_mk_value(r->alloc_protect), GFP_KERNEL);
	if (err)
		ntmem_uncharge(r->nm, pages);
	return err;
}

/*
 * Remove the memory of [first, last] from the store; PTEs are already gone.
 * Works in batches under the xarray lock, restarting each batch with a
 * fresh walk: xas_pause() after an erase that freed a node would skip
 * entries.
 */
static void ntmem_free_range(struct ntmem_region *r, pgoff_t first,
			     pgoff_t last)
{
	XA_STATE(xas, &r->pages, first);
	long freed = 0, unreset = 0;
	unsigned long next;
	unsigned int batch;
	void *entry;

	do {
		batch = 0;
		xas_lock(&xas);
		xas_for_each(&xas, entry, last) {
			if (xas_get_mark(&xas, NTMEM_MARK_RESET))
				unreset++;
			xas_store(&xas, NULL);
			if (!xa_is_value(entry)) {
				put_page(entry);
				freed++;
			}
			if (++batch == NTMEM_FREE_BATCH)
				break;
		}
		next = xas.xa_index + 1;
		xas_unlock(&xas);
		if (batch < NTMEM_FREE_BATCH || !next || next > last)
			break;
		cond_resched();
		xas_set(&xas, next);
	} while (true);
	if (freed)
		ntmem_resident_add(r, -freed);
	if (unreset)
		ntmem_reset_track(r, -unreset);
}

int ntmem_decommit(struct ntmem_region *r, struct vm_area_struct *vma,
		   unsigned long addr, unsigned long len)
{
	struct ntmem_span span;
	pgoff_t first, last;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	span = ntmem_scan_span(r, first, last, 0);
	/* the only step that can fail comes first: then nothing changed */
	err = mtree_store_range(&r->state, first, last, NULL, GFP_KERNEL);
	if (err)
		return err;
	ntmem_unlock_all(r, first, last);
	ntmem_zap(vma, addr, len);
	ntmem_free_range(r, first, last);
	ntmem_uncharge(r->nm, span.committed);
	return 0;
}

/* PROTECT's check: every page committed; the first one's protection. */
int ntmem_protect_check(struct ntmem_region *r, unsigned long addr,
			unsigned long len, u32 protect, u32 *old_protect)
{
	struct ntmem_span span;
	pgoff_t first, last;

	ntmem_page_span(r, addr, len, &first, &last);
	span = ntmem_scan_span(r, first, last, protect);
	if (span.committed != len >> PAGE_SHIFT)
		return -ENODATA;
	if (span.gains_exec && ntmem_mdwe())
		return -EPERM;
	*old_protect = ntmem_page_prot(r, first);
	return 0;
}

/* PROTECT itself, after ntmem_protect_check(); nothing changed on error. */
int ntmem_protect(struct ntmem_region *r, struct vm_area_struct *vma,
		  unsigned long addr, unsigned long len, u32 protect)
{
	pgoff_t first, last;
	struct ntmem_span span;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	protect = ntmem_with_alloc_modifiers(r, protect);
	span = ntmem_scan_span(r, first, last, protect);
	err = mtree_store_range(&r->state, first, last, xa_mk_value(protect),
				GFP_KERNEL);
	if (err)
		return err;
	if (span.needs_zap)
		ntmem_zap(vma, addr, len);
	return 0;
}

/*
 * Mark the pages of the range reset, but locked ones.  Their PTEs go first
 * (no fault runs meanwhile: mmap_lock is held for write), so a reset page
 * is never mapped and the next access takes it out of reset again; locked
 * pages keep theirs.  The xarray lock is dropped every batch.
 */
void ntmem_reset(struct ntmem_region *r, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len)
{
	XA_STATE(xas, &r->pages, 0);
	unsigned int batch = 0;
	pgoff_t first, last;
	long marked = 0;
	void *entry;

	ntmem_page_span(r, addr, len, &first, &last);
	ntmem_zap_unlocked(r, vma, first, last);
	xas_set(&xas, first);
	xas_lock(&xas);
	xas_for_each(&xas, entry, last) {
		if (!xa_is_value(entry) &&
		    !xas_get_mark(&xas, NTMEM_MARK_RESET) &&
		    !ntmem_page_locked(r, xas.xa_index)) {
			xas_set_mark(&xas, NTMEM_MARK_RESET);
			marked++;
		}
		if (++batch % NTMEM_FREE_BATCH)
			continue;
		/* the shrinker may drop these once unlocked: count them now */
		ntmem_reset_track(r, marked);
		marked = 0;
		xas_pause(&xas);
		xas_unlock(&xas);
		cond_resched();
		xas_lock(&xas);
	}
	ntmem_reset_track(r, marked);
	xas_unlock(&xas);
}

int ntmem_reset_undo(struct ntmem_region *r, unsigned long addr,
		     unsigned long len)
{
	pgoff_t first, last;
	long unmarked = 0;
	unsigned long idx;
	bool lost = false;
	void *entry;

	ntmem_page_span(r, addr, len, &first, &last);
	xa_for_each_range(&r->pages, idx, entry, first, last) {
		xa_lock(&r->pages);
		if (xa_get_mark(&r->pages, idx, NTMEM_MARK_LOST)) {
			lost = true;
			__xa_clear_mark(&r->pages, idx, NTMEM_MARK_LOST);
		}
		entry = xa_load(&r->pages, idx);
		if (!xa_is_value(entry) &&
		    xa_get_mark(&r->pages, idx, NTMEM_MARK_RESET)) {
			__xa_clear_mark(&r->pages, idx, NTMEM_MARK_RESET);
			unmarked++;
		}
		xa_unlock(&r->pages);
	}
	if (unmarked)
		ntmem_reset_track(r, -unmarked);
	return lost ? -EBUSY : 0;
}

void ntmem_query_region(struct ntmem_region *r, unsigned long addr,
			struct ntmem_query *q)
{
	MA_STATE(mas, &r->state, 0, 0);
	pgoff_t idx = (addr - r->start) >> PAGE_SHIFT;
	pgoff_t end, max = ntmem_region_pages(r) - 1;
	void *entry, *next;

	/* the run of like pages from @idx up; adjacent equal runs join */
	rcu_read_lock();
	mas_set(&mas, idx);
	entry = mas_walk(&mas);
	end = mas.last;
	while (end < max) {
		mas_set(&mas, end + 1);
		next = mas_walk(&mas);
		if (next != entry)
			break;
		end = mas.last;
	}
	rcu_read_unlock();
	end = min(end, max);

	q->base = addr & PAGE_MASK;
	q->alloc_base = r->start;
	q->alloc_size = r->end - r->start;
	q->alloc_protect = r->alloc_protect;
	q->region_size = (end - idx + 1) << PAGE_SHIFT;
	q->state = entry ? NTMEM_STATE_COMMIT : NTMEM_STATE_RESERVE;
	q->protect = entry ? xa_to_value(entry) : 0;
	q->type = NTMEM_TYPE_PRIVATE;
}

/* The region's VMA is gone (->close): free everything it still holds. */
void ntmem_pages_teardown(struct ntmem_region *r)
{
	pgoff_t last = ntmem_region_pages(r) - 1;
	struct ntmem_span span = ntmem_scan_span(r, 0, last, 0);

	ntmem_free_range(r, 0, last);
	ntmem_reset_forget(r);
	ntmem_uncharge(r->nm, span.committed);
	ntmem_lock_teardown(r);
	/*
	 * No reader is left (the VMA is gone and mmap_lock is held), so free
	 * the tree directly: RCU-deferred destruction of a tree this size
	 * crashed in mt_free_walk() on 6.1 and 6.12.
	 */
	mt_clear_in_rcu(&r->state);
	mtree_destroy(&r->state);
	xa_destroy(&r->pages);
}
