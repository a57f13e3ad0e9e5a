// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: MEM_RESET and MEM_RESET_UNDO.
 *
 * RESET removes the PTEs of the range and makes its store pages clean.  A
 * clean shmem folio that nothing maps is one reclaim may drop without
 * writing it to swap -- the page reads as zeros afterwards -- which is
 * MADV_FREE's contract, kept by the kernel's own reclaim: global, kswapd
 * and each memory cgroup's.  region->reset remembers the pages made clean,
 * so that RESET_UNDO can tell whether they are all still there (and makes
 * them dirty again); a fault that finds one gone marks it LOST, and a write
 * takes a page out of reset.  Pinned pages (locked, executable) are not
 * reset: they keep their contents, which Windows allows.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "ntmem.h"

/* A reset entry that RESET is still installing (see ntmem_reset()). */
#define NTMEM_RESET_PENDING	xa_mk_value(3)

static void ntmem_reset_count(struct ntmem_region *r, long delta)
{
	if (!delta)
		return;
	atomic_long_add(delta, &r->nr_reset);
	atomic_long_add(delta, &ntmem_stats.reset_pages);
}

static int ntmem_reset_mark(struct ntmem_region *r, pgoff_t idx,
			    struct folio *folio, void *arg)
{
	long *added = arg;
	void *old;

	old = xa_cmpxchg(&r->reset, idx, NULL, NTMEM_RESET_PENDING, GFP_KERNEL);
	if (xa_is_err(old))
		return xa_err(old);
	if (!old)
		(*added)++;
	return 0;
}

static int ntmem_reset_clean(struct ntmem_region *r, pgoff_t idx,
			     struct folio *folio, void *arg)
{
	if (xa_load(&r->reset, idx) != NTMEM_RESET_PENDING)
		return 0;
	xa_store(&r->reset, idx, NTMEM_RESET_CLEAN, GFP_NOWAIT);
	/* mapped only by a GUP pin in flight, whose end dirties it again */
	if (!folio_mapped(folio))
		folio_clear_dirty_for_io(folio);
	return 0;
}

/* Take the PENDING entries of [first, last] back out; returns how many. */
static long ntmem_reset_unmark_pending(struct ntmem_region *r, pgoff_t first,
				       pgoff_t last)
{
	unsigned long idx;
	long n = 0;
	void *entry;

	xa_for_each_range(&r->reset, idx, entry, first, last) {
		if (entry == NTMEM_RESET_PENDING) {
			xa_erase(&r->reset, idx);
			n++;
		}
	}
	return n;
}

/*
 * RESET of [addr, addr + len).  The entries go in first, so that an
 * allocation failure leaves everything as it was; replacing them cannot
 * fail.  Caller holds mmap_lock for write: no fault maps a page meanwhile.
 */
int ntmem_reset(struct ntmem_region *r, struct vm_area_struct *vma,
		unsigned long addr, unsigned long len)
{
	pgoff_t first, last;
	long added = 0;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	/* PTEs first: their dirty bits reach the folios before they go clean */
	ntmem_zap_unlocked(r, vma, first, last);
	err = ntmem_store_for_each(r, first, last, ntmem_reset_mark, &added);
	if (err) {
		ntmem_reset_unmark_pending(r, first, last);
		return err;
	}
	ntmem_reset_count(r, added);
	ntmem_store_for_each(r, first, last, ntmem_reset_clean, NULL);
	/* a page reclaim dropped between the two walks needs no cleaning */
	ntmem_reset_count(r, -ntmem_reset_unmark_pending(r, first, last));
	return 0;
}

/* A reset page found dropped: count it once. */
static void ntmem_reset_dropped(struct ntmem_region *r, pgoff_t idx)
{
	if (xa_cmpxchg(&r->reset, idx, NTMEM_RESET_CLEAN, NTMEM_RESET_LOST,
		       GFP_NOWAIT) == NTMEM_RESET_CLEAN)
		atomic_long_inc(&ntmem_stats.dropped_pages);
}

/*
 * A fault is about to get page @idx from the store: if RESET left it clean
 * and reclaim has dropped it since, the store would hand out a zeroed page
 * in its place; remember the loss for RESET_UNDO.  mmap_lock held (read).
 */
void ntmem_reset_fault(struct ntmem_region *r, pgoff_t idx)
{
	struct page *page;

	if (!atomic_long_read(&r->nr_reset) ||
	    xa_load(&r->reset, idx) != NTMEM_RESET_CLEAN)
		return;
	page = ntmem_store_find(r, idx);
	if (page)
		put_page(page);
	else
		ntmem_reset_dropped(r, idx);
}

/* A write reaches page @idx (or its contents moved): it is reset no more. */
void ntmem_reset_written(struct ntmem_region *r, pgoff_t idx)
{
	void *old;

	if (!atomic_long_read(&r->nr_reset))
		return;
	old = xa_load(&r->reset, idx);
	if (old && xa_cmpxchg(&r->reset, idx, old, NULL, GFP_NOWAIT) == old)
		ntmem_reset_count(r, -1);
}

/*
 * RESET_UNDO: the reset pages of the range become dirty again; -EBUSY if
 * any of them was dropped (its contents are zeros now).  Never allocates.
 */
int ntmem_reset_undo(struct ntmem_region *r, unsigned long addr,
		     unsigned long len)
{
	pgoff_t first, last;
	unsigned long idx;
	bool lost = false;
	long undone = 0;
	void *entry;

	ntmem_page_span(r, addr, len, &first, &last);
	xa_for_each_range(&r->reset, idx, entry, first, last) {
		struct page *page = NULL;

		if (entry == NTMEM_RESET_CLEAN)
			page = ntmem_store_find(r, idx);
		if (page) {
			set_page_dirty_lock(page);
			put_page(page);
		} else {
			if (entry == NTMEM_RESET_CLEAN)
				ntmem_reset_dropped(r, idx);
			lost = true;
		}
		xa_erase(&r->reset, idx);
		undone++;
	}
	ntmem_reset_count(r, -undone);
	return lost ? -EBUSY : 0;
}

/* DECOMMIT or release of [first, last]: its reset entries go. */
void ntmem_reset_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	unsigned long idx;
	long n = 0;
	void *entry;

	if (!atomic_long_read(&r->nr_reset))
		return;
	xa_for_each_range(&r->reset, idx, entry, first, last) {
		xa_erase(&r->reset, idx);
		n++;
	}
	ntmem_reset_count(r, -n);
}
