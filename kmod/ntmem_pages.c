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
 *  - the memory: the mm's shmem store (ntmem_store.c) for most pages, and
 *    region->pages, the pinned store, for locked and executable ones.  A
 *    page is looked up in region->pages first, so a page pinned once may
 *    stay there; it goes back to the store when it is unlocked or loses
 *    execute permission.
 *
 * Callers hold mmap_lock and the region's VMA lock for write (see ntmem.h),
 * so no fault on the region runs while its state changes.  Lowering a
 * page's permissions, or giving it execute permission, removes its PTEs
 * (zap, with a TLB flush) so that the next access faults and maps it again
 * under the new protection; raising write permission needs no zap, since
 * writes to a read-only PTE go through ->page_mkwrite, which consults the
 * new state.
 */
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "ntmem.h"
#include "ntmem_compat.h"
#include "ntmem_section.h"

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

/*
 * @protect with a copy-on-write base made its writable twin, for
 * ntmem_protect_valid(): where copy-on-write is allowed is the view's
 * business (ntmem_view_protect_allowed()).
 */
u32 ntmem_protect_without_copy(u32 protect)
{
	u32 base = protect & NTMEM_PAGE_BASE_MASK;

	if (base == NTMEM_PAGE_WRITECOPY)
		base = NTMEM_PAGE_READWRITE;
	else if (base == NTMEM_PAGE_EXECUTE_WRITECOPY)
		base = NTMEM_PAGE_EXECUTE_READWRITE;
	return (protect & ~NTMEM_PAGE_BASE_MASK) | base;
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
	bool loses_exec;		/* an executable page becomes not */
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
		if (!ntmem_prot_executable(new) &&
		    ntmem_prot_executable(xa_to_value(entry)))
			span.loses_exec = true;
	}
	rcu_read_unlock();
	return span;
}

/* A page for the pinned store, charged (as kernel memory) to the owner. */
static struct page *ntmem_alloc_page(struct ntmem_region *r, bool zero)
{
	gfp_t gfp = GFP_HIGHUSER | __GFP_ACCOUNT;
	struct mem_cgroup *memcg, *old = NULL;
	struct page *page;

	memcg = ntmem_owner_charge_begin(r, &old);
	page = alloc_page(zero ? gfp | __GFP_ZERO : gfp);
	ntmem_owner_charge_end(memcg, old);
	return page;
}

/*
 * The pinned page of @idx, with a reference for the caller: the one in
 * region->pages, or a new one -- which takes over the store's contents
 * (swapped in if need be) when the store has the page, and then the store
 * lets it go.  Caller holds mmap_lock or the VMA's lock: pages leave
 * region->pages only with both held for write, so concurrent faults race
 * only to insert.
 */
struct page *ntmem_pinned_get(struct ntmem_region *r, pgoff_t idx)
{
	struct page *page, *cur, *src = NULL;

	/* a reset page reclaim dropped comes back as zeros: lost */
	ntmem_reset_fault(r, idx);
again:
	page = xa_load(&r->pages, idx);
	if (page) {
		get_page(page);
		return page;
	}
	/* a copy-on-write view's page not yet copied holds the section's */
	if (ntmem_store_holds(r, idx) || r->cow) {
		src = ntmem_store_get(r, idx);
		if (IS_ERR(src))
			return src;
	}
	page = ntmem_alloc_page(r, !src);
	if (!page) {
		if (src)
			put_page(src);
		return ERR_PTR(-ENOMEM);
	}
	if (src) {
		copy_highpage(page, src);
		put_page(src);
	}
	/* one reference for the store, one for the caller */
	get_page(page);
	cur = xa_cmpxchg(&r->pages, idx, NULL, page, GFP_KERNEL);
	if (cur) {
		put_page(page);
		put_page(page);
		src = NULL;
		if (xa_is_err(cur))
			return ERR_PTR(xa_err(cur));
		goto again;
	}
	ntmem_resident_add(r, 1);
	if (src) {
		ntmem_reset_pinned(r, idx);
		ntmem_store_free(r, idx, idx);
	}
	return page;
}

/*
 * The page of committed page @idx, to be mapped with protection @prot, with
 * a reference for the caller; *@pinned says which store it is in.  An
 * executable page must be pinned (special PTEs, see ntmem_map_exec_page());
 * a page already pinned (locked, or once executable) is used where it is.
 */
struct page *ntmem_page_get(struct ntmem_region *r, pgoff_t idx, u32 prot,
			    bool *pinned)
{
	struct page *page;

	*pinned = true;
	if (ntmem_prot_executable(prot))
		return ntmem_pinned_get(r, idx);
	page = xa_load(&r->pages, idx);
	if (page) {
		get_page(page);
		return page;
	}
	*pinned = false;
	return ntmem_store_get(r, idx);
}

/*
 * Give the pinned pages of [first, last] that need pinning no more (not
 * locked, not executable) back to the store, where they can be swapped.
 * Best effort: a page that cannot get a store page stays pinned, which is
 * correct too.  Caller holds mmap_lock for write.
 */
void ntmem_pages_unpin(struct ntmem_region *r, struct vm_area_struct *vma,
		       pgoff_t first, pgoff_t last)
{
	unsigned long idx;
	struct page *page;
	long moved = 0;

	xa_for_each_range(&r->pages, idx, page, first, last) {
		unsigned long addr = ntmem_idx_addr(r, idx);
		u32 prot = ntmem_page_prot(r, idx);
		struct page *dst;

		if (ntmem_prot_executable(prot) || ntmem_page_locked(r, idx))
			continue;
		dst = ntmem_store_get(r, idx);
		if (IS_ERR(dst))
			break;
		ntmem_zap(vma, addr, PAGE_SIZE);
		copy_highpage(dst, page);
		/* a reset page goes back as RESET leaves one: clean, unmapped */
		if (!ntmem_reset_unpinned(r, idx)) {
			set_page_dirty_lock(dst);
			/* it stays in the working set, as an unlocked page does */
			if ((prot & NTMEM_PAGE_BASE_MASK) != NTMEM_PAGE_NOACCESS &&
			    !(prot & NTMEM_PAGE_GUARD))
				ntmem_insert_page(vma, addr, dst);
		}
		put_page(dst);
		xa_erase(&r->pages, idx);
		put_page(page);
		moved++;
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	if (moved)
		ntmem_resident_add(r, -moved);
}

static int ntmem_zap_huge(struct ntmem_region *r, pgoff_t idx,
			  struct folio *folio, void *arg)
{
	if (folio_test_large(folio))
		ntmem_zap(arg, ntmem_idx_addr(r, idx), folio_size(folio));
	return 0;
}

/*
 * Before the module maps a page itself (vm_insert_page(), or a special PTE
 * for an executable page), the VMA must be VM_MIXEDMAP.  In such a VMA the
 * core takes a PMD for a special mapping, and would drop one that maps a
 * store folio on unmap without its rmap and RSS; so the core's PMDs go
 * first (the blocks of the store's huge folios are unmapped), and from
 * then on a huge block is mapped by PTEs (ntmem_map_block()).  Caller
 * holds mmap_lock for write.
 */
void ntmem_need_mixedmap(struct ntmem_region *r, struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_MIXEDMAP)
		return;
	ntmem_store_for_each(r, 0, ntmem_region_pages(r) - 1, ntmem_zap_huge,
			     vma);
	vm_flags_set(vma, VM_MIXEDMAP);
}

/*
 * Map one store page with a PTE.  A page of a huge folio (shmem_enabled=
 * force) is mapped under the folio's lock: 6.1 marks a huge folio mapped
 * by PTEs (DoubleMap) only under it, and warns without it.
 */
int ntmem_insert_page(struct vm_area_struct *vma, unsigned long addr,
		      struct page *page)
{
	int err;

	if (!folio_test_large(page_folio(page)))
		return vm_insert_page(vma, addr, page);
	lock_page(page);
	err = vm_insert_page(vma, addr, page);
	unlock_page(page);
	return err;
}

struct ntmem_pte_args {
	struct mm_struct *mm;
	struct page *page;
	pgprot_t prot;
};

#define NTMEM_MAP_BATCH		64

/*
 * Runs under the PTE lock: a PTE that ntmem_map_block() just mapped
 * read-only (it has no other bits to keep) becomes writable and dirty.
 * @data is a struct ntmem_pte_args without a page.
 */
static int ntmem_pte_mkwrite(pte_t *pte, unsigned long addr, void *data)
{
	struct ntmem_pte_args *args = data;
	pte_t old = ptep_get(pte);

	if (pte_present(old) && !pte_write(old))
		set_pte_at(args->mm, addr, pte,
			   pte_mkdirty(pte_mkyoung(pfn_pte(pte_pfn(old),
							   args->prot))));
	return 0;
}

/*
 * Map every page of large store folio @folio (locked) that lies in the
 * 2 MiB block of @addr, a block committed with one protection, read-write
 * or read-only (ntmem_thp_block()), in a VM_MIXEDMAP VMA, where a PMD
 * cannot map it (ntmem_need_mixedmap()): one batch of PTEs does,
 * read-only, or writable and dirty at once for a write, as the core maps a
 * written page.  A PTE already present is left as it is.
 */
int ntmem_map_block(struct vm_area_struct *vma, unsigned long addr,
		    struct folio *folio, bool write)
{
	/* a store page's index is its address in pages */
	unsigned long fstart = folio_pos(folio);
	unsigned long fend = fstart + folio_size(folio);
	unsigned long haddr = addr & PMD_MASK;
	unsigned long start = max(haddr, fstart);
	unsigned long end = min(haddr + PMD_SIZE, fend);
	struct page *pages[NTMEM_MAP_BATCH];
	unsigned long a = start;
	int err = 0;

	while (!err && a < end) {
		unsigned long n = min_t(unsigned long, NTMEM_MAP_BATCH,
					(end - a) >> PAGE_SHIFT), left, i;

		for (i = 0; i < n; i++)
			pages[i] = folio_page(folio,
					      ((a - fstart) >> PAGE_SHIFT) + i);
		left = n;
		err = vm_insert_pages(vma, a, pages, &left);
		a += (n - left) << PAGE_SHIFT;
		if (err == -EBUSY) {	/* already mapped: the next one */
			a += PAGE_SIZE;
			err = 0;
		}
	}
	if (!err && write) {
		struct ntmem_pte_args args = {
			.mm = vma->vm_mm,
			.prot = vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED),
		};

		err = apply_to_page_range(vma->vm_mm, start, end - start,
					  ntmem_pte_mkwrite, &args);
		folio_mark_dirty(folio);
	}
	ntmem_sync_rss(vma->vm_mm);
	return err;
}

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
	       prot == NTMEM_PAGE_EXECUTE_READWRITE ||
	       prot == NTMEM_PAGE_WRITECOPY ||
	       prot == NTMEM_PAGE_EXECUTE_WRITECOPY;
}

bool ntmem_prot_executable(u32 prot)
{
	return prot & (NTMEM_PAGE_EXECUTE | NTMEM_PAGE_EXECUTE_READ |
		       NTMEM_PAGE_EXECUTE_READWRITE |
		       NTMEM_PAGE_EXECUTE_WRITECOPY);
}

/*
 * Give the pages of [first, last] memory and map them; @pin puts them in the
 * pinned store (LOCK).  Stops early on a fatal signal.
 */
int ntmem_prefault(struct ntmem_region *r, struct vm_area_struct *vma,
		   pgoff_t first, pgoff_t last, u32 prot, bool pin)
{
	pgoff_t idx;
	bool pinned;
	int err = 0;

	if ((prot & NTMEM_PAGE_BASE_MASK) == NTMEM_PAGE_NOACCESS ||
	    (prot & NTMEM_PAGE_GUARD))
		return 0;
	ntmem_need_mixedmap(r, vma);
	for (idx = first; idx <= last; idx++) {
		unsigned long addr = ntmem_idx_addr(r, idx);
		struct page *page = pin ? ntmem_pinned_get(r, idx) :
				   ntmem_page_get(r, idx, prot, &pinned);

		if (IS_ERR(page))
			return PTR_ERR(page);
		if (ntmem_prot_executable(prot))
			err = ntmem_map_exec_page(vma, addr, page, prot, false);
		else
			err = ntmem_insert_page(vma, addr, page);
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
	if (span.gains_exec && ntmem_mdwe(r->nm))
		return -EPERM;
	/* a shared view's pages are charged to its section, once */
	fresh = ntmem_region_shares(r) ? 0 :
		(len >> PAGE_SHIFT) - span.committed;
	err = ntmem_charge(r->nm, fresh);
	if (!err && ntmem_region_shares(r))
		err = ntmem_view_commit(r, first, last);
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
	if (ntmem_prot_executable(protect))
		ntmem_need_mixedmap(r, vma);
	/*
	 * Mapping the pages now is a hint, as MAP_POPULATE is to mmap(): the
	 * commit stands whether or not the prefault got through (no memory,
	 * a fatal signal), so a failure here must not fail the call.
	 */
	if ((flags & NTMEM_COMMIT_PREFAULT) && !r->file_ops)
		ntmem_prefault(r, vma, first, last, protect, false);
	if (span.loses_exec)
		ntmem_pages_unpin(r, vma, first, last);
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
 * Erase the entries of @xa in [first, last], calling @fn(entry, @arg) on
 * each under the xarray's lock (so @fn must not sleep), if there is an
 * @fn; returns how many.
 * Works in batches, restarting each batch with a fresh walk: xas_pause()
 * after an erase that freed a node would skip entries.  May sleep.
 */
unsigned long ntmem_xa_drain(struct xarray *xa, unsigned long first,
			     unsigned long last,
			     void (*fn)(void *entry, void *arg), void *arg)
{
	XA_STATE(xas, xa, first);
	unsigned long next, erased = 0;
	unsigned int batch;
	void *entry;

	do {
		batch = 0;
		xas_lock(&xas);
		xas_for_each(&xas, entry, last) {
			xas_store(&xas, NULL);
			if (fn)
				fn(entry, arg);
			erased++;
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
	return erased;
}

static void ntmem_pinned_put(void *page, void *arg)
{
	put_page(page);
}

/* Remove the pinned pages of [first, last]; PTEs are already gone. */
static void ntmem_pinned_free(struct ntmem_region *r, pgoff_t first,
			      pgoff_t last)
{
	long freed = ntmem_xa_drain(&r->pages, first, last, ntmem_pinned_put,
				    NULL);

	if (freed)
		ntmem_resident_add(r, -freed);
}

/* Free the memory of [first, last], in both stores, and forget its marks. */
static void ntmem_free_range(struct ntmem_region *r, pgoff_t first,
			     pgoff_t last)
{
	ntmem_pinned_free(r, first, last);
	ntmem_store_free(r, first, last);
	ntmem_reset_forget(r, first, last);
	ntmem_watch_forget(r, first, last);
	/* a hole cut into a reset block dirtied the rest of its folio */
	ntmem_reset_reclean(r, first);
	ntmem_reset_reclean(r, last);
}

int ntmem_decommit(struct ntmem_region *r, struct vm_area_struct *vma,
		   unsigned long addr, unsigned long len)
{
	struct ntmem_span span;
	pgoff_t first, last;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	span = ntmem_scan_span(r, first, last, 0);
	/* the only steps that can fail come first: then nothing changed */
	err = ntmem_reset_split_blocks(r, first, last);
	if (!err)
		err = mtree_store_range(&r->state, first, last, NULL,
					GFP_KERNEL);
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
	if (span.gains_exec && ntmem_mdwe(r->nm))
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
	/* a reset block cut here is split below: its pages part ways */
	err = ntmem_reset_split_blocks(r, first, last);
	if (!err)
		err = mtree_store_range(&r->state, first, last,
					xa_mk_value(protect), GFP_KERNEL);
	if (err)
		return err;
	if (span.needs_zap)
		ntmem_zap(vma, addr, len);
	if (ntmem_prot_executable(protect))
		ntmem_need_mixedmap(r, vma);
	/*
	 * A block of one huge page that no longer has one protection; a
	 * section's pages are not split (its other views map them).
	 */
	if (!IS_ALIGNED(addr, PMD_SIZE) && !ntmem_region_shares(r))
		ntmem_store_split(r, first);
	if (!IS_ALIGNED(addr + len, PMD_SIZE) && !ntmem_region_shares(r))
		ntmem_store_split(r, last);
	if (span.loses_exec)
		ntmem_pages_unpin(r, vma, first, last);
	return 0;
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
	q->type = ntmem_region_is_view(r) ? NTMEM_TYPE_MAPPED :
					     NTMEM_TYPE_PRIVATE;
}

/* The region's VMA is gone (->close): free everything it still holds. */
void ntmem_pages_teardown(struct ntmem_region *r)
{
	pgoff_t last = ntmem_region_pages(r) - 1;
	struct ntmem_span span = ntmem_scan_span(r, 0, last, 0);

	ntmem_reset_gone(r);
	if (ntmem_region_shares(r)) {
		/* the pages and their charge are the section's */
		ntmem_view_teardown(r);
	} else {
		ntmem_free_range(r, 0, last);
		ntmem_uncharge(r->nm, span.committed);
	}
	ntmem_lock_teardown(r);
	/*
	 * No reader is left (the VMA is gone and mmap_lock is held), so free
	 * the tree directly: RCU-deferred destruction of a tree this size
	 * crashed in mt_free_walk() on 6.1 and 6.12.
	 */
	mt_clear_in_rcu(&r->state);
	mtree_destroy(&r->state);
	xa_destroy(&r->pages);
	xa_destroy(&r->reset);
	xa_destroy(&r->reset_blocks);
	xa_destroy(&r->copied);
	ntmem_watch_free(r);
}
