// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: MEM_RESET and MEM_RESET_UNDO.
 *
 * RESET removes the PTEs of the range and makes its store pages clean.  A
 * clean shmem folio that nothing maps is one reclaim may drop without
 * writing it to swap -- the page reads as zeros afterwards -- which is
 * MADV_FREE's contract.  With swap, the kernel's own reclaim (global,
 * kswapd and each memory cgroup's) does it as it scans shmem folios;
 * without swap it never scans them, so a shrinker drops them too, as
 * drop_caches would (invalidate_mapping_pages(): clean, unmapped, unlocked
 * folios only).  The shrinker is memory-cgroup aware: regions with clean
 * pages are on a list_lru, on the list of the cgroup their struct is
 * charged to (the owner's at RESERVE), so a cgroup at memory.max drops its
 * own reset pages before it would OOM-kill.  region->reset remembers the
 * pages made clean, so that RESET_UNDO can tell whether they are all still
 * there (and makes them dirty again); a fault that finds one gone marks it
 * LOST, and a write takes a page out of reset.  Pinned pages (locked, executable) are not
 * reset: they keep their contents, which Windows allows.  A reset page that
 * moves to the pinned store stays reset but cannot be lost (KEPT), and
 * becomes CLEAN again if it moves back: so a LOCK that fails half way and
 * gives its pages back leaves RESET_UNDO's answer as it was.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shrinker.h>
#include <linux/list_lru.h>
#include <linux/slab.h>

#include "ntmem.h"
#include "ntmem_compat.h"

/*
 * Regions with pages RESET left clean (nr_clean > 0), by memory cgroup and
 * node of their struct: the list_lru's own locks protect
 * ntmem_region.reset_node.  A region goes on when its nr_clean rises from
 * zero (under mmap_lock, like reset_gone), and off in a walk that finds it
 * at zero or at teardown.
 */
static struct list_lru ntmem_reset_lru;
/* 6.1 gives a shrinker its id only at registration: the lru comes after */
static bool ntmem_reset_lru_ready;
/* CLEAN entries in every region: the shrinker's fast "nothing to do" */
static atomic_long_t ntmem_clean_pages;

static void ntmem_reset_clean_count(struct ntmem_region *r, long delta)
{
	if (!delta)
		return;
	atomic_long_add(delta, &ntmem_clean_pages);
	/* the add before the lru's lock: a walk that removes it sees it */
	if (atomic_long_add_return(delta, &r->nr_clean) != delta || delta < 0)
		return;
	if (!r->reset_gone)
		ntmem_lru_add(&ntmem_reset_lru, &r->reset_node);
}

/* A reset entry that RESET is still installing (see ntmem_reset()). */
#define NTMEM_RESET_PENDING	xa_mk_value(3)

static void ntmem_reset_count(struct ntmem_region *r, long delta)
{
	if (!delta)
		return;
	atomic_long_add(delta, &r->nr_reset);
	atomic_long_add(delta, &ntmem_stats.reset_pages);
}

/* Whether reclaim may drop the page (or block) of @entry. */
static bool ntmem_reset_droppable(const void *entry)
{
	return entry == NTMEM_RESET_CLEAN || entry == NTMEM_RESET_LOST_CLEAN;
}

/*
 * Whole blocks.  A huge folio that fills a 2 MiB block is reset as one
 * entry in region->reset_blocks, keyed by the block's number in the region,
 * instead of 512 in region->reset: one store where MADV_FREE clears one
 * PMD.  Its state is every page's.  A block has an entry there or entries
 * in @reset, never both.  An ioctl that cuts a block (PROTECT, DECOMMIT,
 * RESET_UNDO of part of it) first spreads the block's entry over its pages
 * (ntmem_reset_split_blocks(), which may fail before anything changed);
 * a fault that must change one page of a block whose folio the kernel has
 * split meanwhile (a failed migration) cannot allocate its way out, so the
 * block leaves reset as a whole instead (ntmem_reset_block_leave()).
 */
static unsigned long ntmem_block_of(struct ntmem_region *r, pgoff_t idx)
{
	pgoff_t base = r->start >> PAGE_SHIFT;

	/* counted from the region's first block: small keys, a shallow tree */
	return (base + idx) / PTRS_PER_PMD - base / PTRS_PER_PMD;
}

/* The index of the first page of block @blk (which lies in @r). */
static pgoff_t ntmem_block_first(struct ntmem_region *r, unsigned long blk)
{
	pgoff_t base = r->start >> PAGE_SHIFT;

	return (blk + base / PTRS_PER_PMD) * PTRS_PER_PMD - base;
}

/* Whether [first, last] holds the whole of block @blk. */
static bool ntmem_block_inside(struct ntmem_region *r, unsigned long blk,
			       pgoff_t first, pgoff_t last)
{
	pgoff_t bf = ntmem_block_first(r, blk);

	return bf >= first && bf + PTRS_PER_PMD - 1 <= last;
}

/*
 * Make every page of the block at @first dirty (kept); returns how many
 * are gone.  One lookup for a huge folio.
 */
static unsigned long ntmem_reset_block_keep(struct ntmem_region *r,
					    pgoff_t first)
{
	pgoff_t idx = first, end = first + PTRS_PER_PMD;
	pgoff_t base = r->start >> PAGE_SHIFT;
	unsigned long gone = 0;

	while (idx < end) {
		struct page *page = ntmem_store_find(r, idx);
		struct folio *folio;

		if (!page) {
			gone++;
			idx++;
			continue;
		}
		folio = page_folio(page);
		/* shmem's dirty_folio needs no folio lock, which a caller holds */
		folio_mark_dirty(folio);
		idx = min(folio->index + folio_nr_pages(folio) - base, end);
		put_page(page);
	}
	return gone;
}

/*
 * Clean block @blk found with @gone of its pages dropped: it is LOST.
 * True if this call made it so.
 */
static bool ntmem_reset_block_lost(struct ntmem_region *r, unsigned long blk,
				   unsigned long gone)
{
	void *old = xa_load(&r->reset_blocks, blk);

	if (!ntmem_reset_droppable(old) ||
	    xa_cmpxchg(&r->reset_blocks, blk, old, NTMEM_RESET_LOST,
		       GFP_NOWAIT) != old)
		return false;
	ntmem_reset_clean_count(r, -(long)PTRS_PER_PMD);
	atomic_long_add(gone, &ntmem_stats.dropped_pages);
	return true;
}

/* Pages of the block at @first that the store does not hold. */
static unsigned long ntmem_reset_block_gone(struct ntmem_region *r,
					    pgoff_t first)
{
	struct page *page = ntmem_store_find(r, first);
	unsigned long gone = 0;
	pgoff_t i;

	if (page) {
		bool whole = folio_nr_pages(page_folio(page)) >= PTRS_PER_PMD;

		put_page(page);
		if (whole)
			return 0;
	}
	for (i = 0; i < PTRS_PER_PMD; i++)
		gone += !ntmem_store_holds(r, first + i);
	return gone;
}

/* Block @blk leaves reset_blocks, and its pages the counts; its entry. */
static void *ntmem_reset_block_erase(struct ntmem_region *r, unsigned long blk)
{
	void *entry = xa_erase(&r->reset_blocks, blk);

	if (entry) {
		ntmem_reset_count(r, -(long)PTRS_PER_PMD);
		if (ntmem_reset_droppable(entry))
			ntmem_reset_clean_count(r, -(long)PTRS_PER_PMD);
	}
	return entry;
}

/*
 * One page of clean block @blk must leave reset, from a fault (mmap_lock
 * read or the VMA's lock), where there is no memory to spread the block
 * over its pages: the whole block leaves, kept -- RESET only allows the
 * pages to go -- or, if one is gone already, all of it counts as lost,
 * which RESET_UNDO may say of the others too.  A lost block stays lost.
 */
static void ntmem_reset_block_leave(struct ntmem_region *r, unsigned long blk)
{
	void *entry = xa_load(&r->reset_blocks, blk), *kept;
	unsigned long gone;

	if (!ntmem_reset_droppable(entry))
		return;
	gone = ntmem_reset_block_keep(r, ntmem_block_first(r, blk));
	if (gone) {
		ntmem_reset_block_lost(r, blk, gone);
		return;
	}
	/* kept; a block lost before stays lost */
	kept = entry == NTMEM_RESET_CLEAN ? NULL : NTMEM_RESET_LOST;
	if (xa_cmpxchg(&r->reset_blocks, blk, entry, kept, GFP_NOWAIT) != entry)
		return;
	if (!kept)
		ntmem_reset_count(r, -(long)PTRS_PER_PMD);
	ntmem_reset_clean_count(r, -(long)PTRS_PER_PMD);
}

/*
 * Spread the entry of block @blk over its pages; -ENOMEM leaves it as it
 * was.  mmap_lock held for write: only the shrinker runs meanwhile, and it
 * changes a CLEAN block to LOST and leaves PENDING pages alone.
 */
static int ntmem_reset_unblock(struct ntmem_region *r, unsigned long blk)
{
	pgoff_t first = ntmem_block_first(r, blk), end = first + PTRS_PER_PMD;
	XA_STATE(xas, &r->reset, first);
	void *entry;

	if (!xa_load(&r->reset_blocks, blk))
		return 0;
	do {
		xas_lock(&xas);
		for (xas_load(&xas); xas.xa_index < end; xas_next(&xas)) {
			xas_store(&xas, NTMEM_RESET_PENDING);
			if (xas_error(&xas))
				break;
		}
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL));
	if (xas_error(&xas)) {
		/* the block had no page entries: take them all back */
		ntmem_xa_drain(&r->reset, first, end - 1, NULL, NULL);
		return xas_error(&xas);
	}
	do {
		entry = xa_load(&r->reset_blocks, blk);
	} while (xa_cmpxchg(&r->reset_blocks, blk, entry, NULL,
			    GFP_NOWAIT) != entry);
	/* replacing an entry never allocates */
	xas_set(&xas, first);
	xas_lock(&xas);
	for (xas_load(&xas); xas.xa_index < end; xas_next(&xas))
		xas_store(&xas, entry);
	xas_unlock(&xas);
	return 0;
}

/*
 * The blocks that [first, last] cuts (at most the two at its ends) get an
 * entry per page, so that the caller can change some of their pages; the
 * counts do not change.  -ENOMEM if there is no memory for it, and then
 * nothing changed.  mmap_lock held for write.
 */
int ntmem_reset_split_blocks(struct ntmem_region *r, pgoff_t first,
			     pgoff_t last)
{
	unsigned long head = ntmem_block_of(r, first);
	unsigned long tail = ntmem_block_of(r, last);
	int err = 0;

	if (!atomic_long_read(&r->nr_reset))
		return 0;
	if (!ntmem_block_inside(r, head, first, last))
		err = ntmem_reset_unblock(r, head);
	if (!err && tail != head && !ntmem_block_inside(r, tail, first, last))
		err = ntmem_reset_unblock(r, tail);
	return err;
}

/* Whether RESET takes @folio (first page @idx) as one block. */
static bool ntmem_reset_as_block(struct ntmem_region *r, pgoff_t idx,
				 struct folio *folio)
{
	unsigned long i = idx;

	return folio_nr_pages(folio) == PTRS_PER_PMD &&
	       !xa_find(&r->reset, &i, idx + PTRS_PER_PMD - 1, XA_PRESENT);
}

/*
 * Each page of @folio (first page @idx) without an entry gets a PENDING
 * one -- a block that fills it, one entry.  One walk under the xarray's
 * lock for the folio's pages, not a walk from the root per page.
 */
static int ntmem_reset_mark(struct ntmem_region *r, pgoff_t idx,
			    struct folio *folio, void *arg)
{
	XA_STATE(xas, &r->reset, idx);
	pgoff_t end = idx + folio_nr_pages(folio);
	long *added = arg;
	void *entry;
	int err;

	/* a block's entry stands for all its pages, in any folio */
	if (xa_load(&r->reset_blocks, ntmem_block_of(r, idx)))
		return 0;
	if (ntmem_reset_as_block(r, idx, folio)) {
		err = xa_insert(&r->reset_blocks, ntmem_block_of(r, idx),
				NTMEM_RESET_PENDING, GFP_KERNEL);
		if (!err)
			*added += PTRS_PER_PMD;
		return err;
	}
	do {
		xas_lock(&xas);
		for (entry = xas_load(&xas); xas.xa_index < end;
		     entry = xas_next(&xas)) {
			if (entry)
				continue;
			xas_store(&xas, NTMEM_RESET_PENDING);
			if (xas_error(&xas))
				break;
			(*added)++;
		}
		xas_unlock(&xas);
		/* out of nodes: allocate, and go on from the failed page */
	} while (xas_nomem(&xas, GFP_KERNEL));
	return xas_error(&xas);
}

/* What RESET's second walk did: pages it made CLEAN, and LOST_CLEAN. */
struct ntmem_reset_cleaned {
	long pending;
	long lost;
};

/* The state RESET gives an entry: PENDING and LOST ones become clean. */
static void *ntmem_reset_cleaned(void *entry)
{
	if (entry == NTMEM_RESET_PENDING)
		return NTMEM_RESET_CLEAN;
	if (entry == NTMEM_RESET_LOST)
		return NTMEM_RESET_LOST_CLEAN;
	return NULL;
}

/*
 * The PENDING pages of @folio become CLEAN, those found lost before
 * LOST_CLEAN (reclaim may drop them again: the program reset them again),
 * and the folio clean.  Every page of the folio is in the range RESET
 * covers (ntmem_store_for_each()).
 */
static int ntmem_reset_clean(struct ntmem_region *r, pgoff_t idx,
			     struct folio *folio, void *arg)
{
	XA_STATE(xas, &r->reset, idx);
	pgoff_t end = idx + folio_nr_pages(folio);
	struct ntmem_reset_cleaned *c = arg;
	long pending = 0, lost = 0;
	void *entry, *to;

	if (folio_nr_pages(folio) == PTRS_PER_PMD) {
		unsigned long blk = ntmem_block_of(r, idx);

		entry = xa_load(&r->reset_blocks, blk);
		to = ntmem_reset_cleaned(entry);
		if (to && xa_cmpxchg(&r->reset_blocks, blk, entry, to,
				     GFP_NOWAIT) == entry) {
			if (entry == NTMEM_RESET_PENDING)
				pending = PTRS_PER_PMD;
			else
				lost = PTRS_PER_PMD;
		}
		if (entry)
			goto done;
	}
	/* replacing an entry never allocates */
	xas_lock(&xas);
	for (entry = xas_load(&xas); xas.xa_index < end;
	     entry = xas_next(&xas)) {
		to = ntmem_reset_cleaned(entry);
		if (!to)
			continue;
		xas_store(&xas, to);
		if (entry == NTMEM_RESET_PENDING)
			pending++;
		else
			lost++;
	}
	xas_unlock(&xas);
done:
	c->pending += pending;
	c->lost += lost;
	/* mapped only by a GUP pin in flight, whose end dirties it again */
	if ((pending || lost) && !folio_mapped(folio))
		folio_clear_dirty_for_io(folio);
	return 0;
}

/* Take the PENDING entries of [first, last] back out; returns pages. */
static long ntmem_reset_unmark_pending(struct ntmem_region *r, pgoff_t first,
				       pgoff_t last)
{
	unsigned long idx, blk;
	long n = 0;
	void *entry;

	xa_for_each_range(&r->reset_blocks, blk, entry,
			  ntmem_block_of(r, first), ntmem_block_of(r, last)) {
		if (entry == NTMEM_RESET_PENDING &&
		    xa_cmpxchg(&r->reset_blocks, blk, entry, NULL,
			       GFP_NOWAIT) == entry)
			n += PTRS_PER_PMD;
	}
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
	struct ntmem_reset_cleaned cleaned = { 0, 0 };
	long added = 0, left = 0;
	pgoff_t first, last;
	int err;

	/*
	 * Large pages are locked, and a view's pages are its section's
	 * (other views may need them): nothing to give back.
	 */
	if (r->large || r->section)
		return 0;
	ntmem_page_span(r, addr, len, &first, &last);
	/* PTEs first: their dirty bits reach the folios before they go clean */
	ntmem_zap_unlocked(r, vma, first, last);
	err = ntmem_store_for_each(r, first, last, ntmem_reset_mark, &added);
	if (err) {
		ntmem_reset_unmark_pending(r, first, last);
		return err;
	}
	ntmem_reset_count(r, added);
	ntmem_store_for_each(r, first, last, ntmem_reset_clean, &cleaned);
	ntmem_reset_clean_count(r, cleaned.pending + cleaned.lost);
	/*
	 * A page reclaim dropped between the two walks needs no cleaning; only
	 * this call makes PENDING entries, so if each became CLEAN none is left.
	 */
	if (cleaned.pending != added)
		left = ntmem_reset_unmark_pending(r, first, last);
	ntmem_reset_count(r, -left);
	return 0;
}

/* A reset page found dropped: count it once.  True if this call did. */
static bool ntmem_reset_dropped(struct ntmem_region *r, pgoff_t idx)
{
	void *old = xa_load(&r->reset, idx);

	if (!ntmem_reset_droppable(old) ||
	    xa_cmpxchg(&r->reset, idx, old, NTMEM_RESET_LOST,
		       GFP_NOWAIT) != old)
		return false;
	ntmem_reset_clean_count(r, -1);
	atomic_long_inc(&ntmem_stats.dropped_pages);
	return true;
}

/* Entry @old of page @idx left region->reset. */
static void ntmem_reset_erased(struct ntmem_region *r, void *old)
{
	ntmem_reset_count(r, -1);
	if (ntmem_reset_droppable(old))
		ntmem_reset_clean_count(r, -1);
}

/*
 * A fault is about to get page @idx from the store: if RESET left it clean
 * and reclaim has dropped it since, the store would hand out a zeroed page
 * in its place; remember the loss for RESET_UNDO.  Under a fault's lock
 * (mmap_lock read or the VMA's).
 */
void ntmem_reset_fault(struct ntmem_region *r, pgoff_t idx)
{
	unsigned long blk = ntmem_block_of(r, idx);
	struct page *page;
	void *entry;

	if (!atomic_long_read(&r->nr_reset))
		return;
	entry = xa_load(&r->reset, idx);
	if (!ntmem_reset_droppable(entry) &&
	    (entry || !ntmem_reset_droppable(xa_load(&r->reset_blocks, blk))))
		return;
	page = ntmem_store_find(r, idx);
	if (page)
		put_page(page);
	else if (entry)
		ntmem_reset_dropped(r, idx);
	else
		ntmem_reset_block_lost(r, blk,
				       ntmem_reset_block_gone(r, ntmem_block_first(r, blk)));
}

/*
 * ntmem_reset_fault() for each reset page of [first, last], the pages of a
 * block about to be faulted in: a huge folio may fill it, so a page
 * dropped anywhere in it is lost.
 */
void ntmem_reset_fault_range(struct ntmem_region *r, pgoff_t first,
			     pgoff_t last)
{
	unsigned long idx, blk;
	void *entry;

	if (!atomic_long_read(&r->nr_reset))
		return;
	xa_for_each_range(&r->reset_blocks, blk, entry,
			  ntmem_block_of(r, first), ntmem_block_of(r, last)) {
		unsigned long gone;

		if (!ntmem_reset_droppable(entry))
			continue;
		gone = ntmem_reset_block_gone(r, ntmem_block_first(r, blk));
		if (gone)
			ntmem_reset_block_lost(r, blk, gone);
	}
	xa_for_each_range(&r->reset, idx, entry, first, last)
		if (ntmem_reset_droppable(entry))
			ntmem_reset_fault(r, idx);
}

static void ntmem_reset_count_clean(void *entry, void *clean)
{
	if (ntmem_reset_droppable(entry))
		(*(long *)clean)++;
}

/*
 * The pages of [first, last] are reset no more.  A block it cuts must have
 * been split (ntmem_reset_split_blocks()); if not, it leaves as a whole.
 */
static void ntmem_reset_unmark_range(struct ntmem_region *r, pgoff_t first,
				     pgoff_t last)
{
	long erased, clean = 0;
	unsigned long blk;
	void *entry;

	xa_for_each_range(&r->reset_blocks, blk, entry,
			  ntmem_block_of(r, first), ntmem_block_of(r, last)) {
		if (WARN_ON_ONCE(!ntmem_block_inside(r, blk, first, last))) {
			ntmem_reset_block_leave(r, blk);
			continue;
		}
		ntmem_reset_block_erase(r, blk);
	}
	erased = ntmem_xa_drain(&r->reset, first, last,
				ntmem_reset_count_clean, &clean);
	ntmem_reset_count(r, -erased);
	ntmem_reset_clean_count(r, -clean);
}

/*
 * Erase the entries of [first, last] but the lost ones, which stay LOST:
 * their folio, written, is dirty now.
 */
static void ntmem_reset_unmark_found(struct ntmem_region *r, pgoff_t first,
				     pgoff_t last)
{
	XA_STATE(xas, &r->reset, first);
	long erased = 0, clean = 0;
	void *entry;

	xas_lock(&xas);
	xas_for_each(&xas, entry, last) {
		if (entry == NTMEM_RESET_LOST)
			continue;
		clean += ntmem_reset_droppable(entry);
		if (entry == NTMEM_RESET_LOST_CLEAN) {
			xas_store(&xas, NTMEM_RESET_LOST);
			continue;
		}
		xas_store(&xas, NULL);
		erased++;
	}
	xas_unlock(&xas);
	ntmem_reset_count(r, -erased);
	ntmem_reset_clean_count(r, -clean);
}

/*
 * A write reaches page @idx (or its contents moved): it is reset no more.
 * Nor are the other pages of its folio if that is huge: the folio is
 * dirty, and kept, as a whole (as Linux keeps a whole THP that was written
 * after MADV_FREE), and a reset page that cannot be dropped must not be
 * counted as one that can.  Those of them found lost stay lost: the folio
 * that holds them now is a new one.  The caller may hold the folio's lock.
 */
void ntmem_reset_written(struct ntmem_region *r, pgoff_t idx)
{
	pgoff_t first = idx, last = idx, base = r->start >> PAGE_SHIFT;
	unsigned long blk = ntmem_block_of(r, idx);
	struct page *page;
	void *entry;

	if (!atomic_long_read(&r->nr_reset))
		return;
	if (xa_load(&r->reset_blocks, blk))
		ntmem_reset_block_leave(r, blk);
	else if (!xa_load(&r->reset, idx))
		return;
	page = ntmem_store_find(r, idx);
	if (page) {
		struct folio *folio = page_folio(page);

		if (folio_test_large(folio)) {
			first = max(folio->index, base) - base;
			last = min(folio->index + folio_nr_pages(folio),
				   base + ntmem_region_pages(r)) - 1 - base;
		}
		put_page(page);
	}
	if (last > first)
		ntmem_reset_unmark_found(r, first, last);
	entry = xa_erase(&r->reset, idx);
	if (entry)
		ntmem_reset_erased(r, entry);
}

/*
 * Page @idx alone is reset no more: its contents were copied out and go
 * back written, into a folio being split (ntmem_store_split(), after
 * ntmem_reset_split_blocks()), whose other pages keep their entries.
 */
void ntmem_reset_page_written(struct ntmem_region *r, pgoff_t idx)
{
	if (atomic_long_read(&r->nr_reset))
		ntmem_reset_unmark_range(r, idx, idx);
}

/* Reset page @idx moves to the pinned store: reclaim cannot drop it there. */
void ntmem_reset_pinned(struct ntmem_region *r, pgoff_t idx)
{
	if (!atomic_long_read(&r->nr_reset))
		return;
	/* a block leaves as a whole: pinning can happen in a fault */
	ntmem_reset_block_leave(r, ntmem_block_of(r, idx));
	if (xa_cmpxchg(&r->reset, idx, NTMEM_RESET_CLEAN, NTMEM_RESET_KEPT,
		       GFP_NOWAIT) == NTMEM_RESET_CLEAN ||
	    xa_cmpxchg(&r->reset, idx, NTMEM_RESET_LOST_CLEAN, NTMEM_RESET_LOST,
		       GFP_NOWAIT) == NTMEM_RESET_LOST_CLEAN)
		ntmem_reset_clean_count(r, -1);
}

/*
 * Pinned page @idx goes back to the store: true if it is reset, and so
 * goes back clean and unmapped.  mmap_lock held for write.
 */
bool ntmem_reset_unpinned(struct ntmem_region *r, pgoff_t idx)
{
	if (!atomic_long_read(&r->nr_reset) ||
	    xa_load(&r->reset, idx) != NTMEM_RESET_KEPT)
		return false;
	xa_store(&r->reset, idx, NTMEM_RESET_CLEAN, GFP_NOWAIT);
	ntmem_reset_clean_count(r, 1);
	return true;
}

/*
 * RESET_UNDO of the whole blocks of [first, last]: their pages become
 * dirty again; true if one of them was dropped.
 */
static bool ntmem_reset_undo_blocks(struct ntmem_region *r, pgoff_t first,
				    pgoff_t last)
{
	unsigned long blk, gone;
	bool lost = false;
	void *entry;

	xa_for_each_range(&r->reset_blocks, blk, entry,
			  ntmem_block_of(r, first), ntmem_block_of(r, last)) {
		if (!ntmem_block_inside(r, blk, first, last))
			continue;
		if (ntmem_reset_droppable(entry)) {
			gone = ntmem_reset_block_keep(r,
						      ntmem_block_first(r, blk));
			if (gone)
				ntmem_reset_block_lost(r, blk, gone);
		}
		entry = ntmem_reset_block_erase(r, blk);
		lost |= entry && entry != NTMEM_RESET_CLEAN;
	}
	return lost;
}

/*
 * RESET_UNDO: the reset pages of the range become dirty again; -EBUSY if
 * any of them was dropped (its contents are zeros now).  Allocates only to
 * split a block the range cuts, and then fails with nothing changed.
 */
int ntmem_reset_undo(struct ntmem_region *r, unsigned long addr,
		     unsigned long len)
{
	pgoff_t first, last;
	unsigned long idx;
	bool lost;
	void *entry;
	int err;

	ntmem_page_span(r, addr, len, &first, &last);
	err = ntmem_reset_split_blocks(r, first, last);
	if (err)
		return err;
	lost = ntmem_reset_undo_blocks(r, first, last);
	xa_for_each_range(&r->reset, idx, entry, first, last) {
		struct page *page = NULL;

		if (ntmem_reset_droppable(entry))
			page = ntmem_store_find(r, idx);
		if (page) {
			set_page_dirty_lock(page);
			put_page(page);
			lost |= entry == NTMEM_RESET_LOST_CLEAN;
		} else if (entry != NTMEM_RESET_KEPT) {
			if (ntmem_reset_dropped(r, idx))
				entry = NTMEM_RESET_LOST;
			lost = true;
		}
		entry = xa_erase(&r->reset, idx);
		if (entry)
			ntmem_reset_erased(r, entry);
	}
	return lost ? -EBUSY : 0;
}

/* @folio (first page @idx) holds only clean reset pages: clean it again. */
static int ntmem_reset_reclean_one(struct ntmem_region *r, pgoff_t idx,
				   struct folio *folio, void *arg)
{
	XA_STATE(xas, &r->reset, idx);
	pgoff_t end = idx + folio_nr_pages(folio);
	bool clean = true;
	void *entry;

	if (!folio_test_dirty(folio) || folio_mapped(folio))
		return 0;
	rcu_read_lock();
	for (entry = xas_load(&xas); xas.xa_index < end && clean;
	     entry = xas_next(&xas))
		clean = ntmem_reset_droppable(entry);
	rcu_read_unlock();
	if (clean)
		folio_clear_dirty_for_io(folio);
	return 0;
}

/*
 * The store truncated a page inside the block of page @idx, which marks
 * the whole folio dirty before it splits it (shmem_undo_range()): the
 * reset pages around the hole are clean again, each to drop on its own.
 * mmap_lock held for write.
 */
void ntmem_reset_reclean(struct ntmem_region *r, pgoff_t idx)
{
	pgoff_t base = r->start >> PAGE_SHIFT;
	pgoff_t first = round_down(base + idx, PTRS_PER_PMD);
	pgoff_t last = first + PTRS_PER_PMD - 1;

	if (atomic_long_read(&r->nr_clean) <= 0)
		return;
	first = max(first, base) - base;
	last = min(last - base, ntmem_region_pages(r) - 1);
	ntmem_store_for_each(r, first, last, ntmem_reset_reclean_one, NULL);
}

/*
 * DECOMMIT or release of [first, last]: its reset entries go (the blocks
 * it cuts were split before).
 */
void ntmem_reset_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	if (atomic_long_read(&r->nr_reset))
		ntmem_reset_unmark_range(r, first, last);
}

/*
 * The region is going away: the shrinker must not find it again.  Under
 * mmap_lock (write, or the mm's exit), as every ntmem_reset_clean_count()
 * that adds it.
 */
void ntmem_reset_gone(struct ntmem_region *r)
{
	r->reset_gone = true;
	ntmem_lru_del(&ntmem_reset_lru, &r->reset_node);
}

/*
 * Regions come from a cache that knows the shrinker's lru, so that the
 * lru has a list for the owner's cgroup before the region goes on it;
 * charged to that cgroup (SLAB_ACCOUNT), which is how the lru finds it.
 */
static struct kmem_cache *ntmem_region_cache;

struct ntmem_region *ntmem_region_alloc(void)
{
	return kmem_cache_alloc_lru(ntmem_region_cache, &ntmem_reset_lru,
				    GFP_KERNEL | __GFP_ZERO);
}

void ntmem_region_kfree(struct ntmem_region *r)
{
	kmem_cache_free(ntmem_region_cache, r);
}

/*
 * Drop about @budget clean reset pages of @r (a run goes on to the end of
 * its 2 MiB block, whose huge folio drops whole), block by block, then run
 * by run; they become LOST.  Runs without mmap_lock: a region torn down meanwhile has no
 * entries left, and what invalidate_mapping_pages() drops is only ever
 * clean, unmapped store pages, which read the same (zeros, or reset
 * contents) when the store hands them out again.
 */
static unsigned long ntmem_reset_drop(struct ntmem_region *r,
				      unsigned long budget)
{
	struct address_space *mapping = ntmem_store_mapping(r);
	pgoff_t base = r->start >> PAGE_SHIFT;
	unsigned long idx, first = 0, dropped = 0, seen = 0;
	long run = 0;
	void *entry;

	/* whole blocks first: one huge folio each */
	xa_for_each(&r->reset_blocks, idx, entry) {
		unsigned long gone;

		if (!ntmem_reset_droppable(entry))
			continue;
		if (seen >= budget)
			return dropped;
		first = ntmem_block_first(r, idx);
		invalidate_mapping_pages(mapping, base + first,
					 base + first + PTRS_PER_PMD - 1);
		seen += PTRS_PER_PMD;
		gone = ntmem_reset_block_gone(r, first);
		if (gone && ntmem_reset_block_lost(r, idx, gone))
			dropped += gone;
		cond_resched();
	}
	xa_for_each(&r->reset, idx, entry) {
		if (!ntmem_reset_droppable(entry))
			continue;
		if (run && idx == first + run) {
			run++;
		} else {
			if (seen >= budget)
				break;
			if (run)
				invalidate_mapping_pages(mapping, base + first,
							 base + first + run - 1);
			first = idx;
			run = 1;
		}
		/* a huge folio goes whole or not at all: end at a block's end */
		if (++seen >= budget && !((base + idx + 1) % PTRS_PER_PMD))
			break;
	}
	if (run)
		invalidate_mapping_pages(mapping, base + first,
					 base + first + run - 1);
	xa_for_each(&r->reset, idx, entry) {
		if (ntmem_reset_droppable(entry) && !ntmem_store_holds(r, idx) &&
		    ntmem_reset_dropped(r, idx))
			dropped++;
		cond_resched();
	}
	return dropped;
}

/* Counts the clean pages of the regions a walk passes (LRU_SKIP: stay). */
static enum lru_status ntmem_reset_count_one(NTMEM_LRU_WALK_PARAMS)
{
	struct ntmem_region *r = container_of(item, struct ntmem_region,
					      reset_node);

	*(unsigned long *)arg += max(atomic_long_read(&r->nr_clean), 0L);
	return LRU_SKIP;
}

/* Regions a count looks at: bounds the time under the lru's lock. */
#define NTMEM_RESET_COUNT_WALK	64

static unsigned long ntmem_reset_shrink_count(struct shrinker *s,
					      struct shrink_control *sc)
{
	unsigned long n = 0, walk = NTMEM_RESET_COUNT_WALK;

	if (atomic_long_read(&ntmem_clean_pages) <= 0)
		return SHRINK_EMPTY;
	/* acquire: pairs with ntmem_reset_init()'s release of the lru */
	if (!smp_load_acquire(&ntmem_reset_lru_ready))
		return SHRINK_EMPTY;
	list_lru_walk_one(&ntmem_reset_lru, sc->nid, sc->memcg,
			  ntmem_reset_count_one, &n, &walk);
	return n ? n : SHRINK_EMPTY;
}

/* Regions one scan round takes out of the lru's lock to drop pages of. */
#define NTMEM_RESET_BATCH	16

struct ntmem_reset_batch {
	struct ntmem_region *r[NTMEM_RESET_BATCH];
	unsigned int n;
};

/*
 * Takes a reference on each region with clean pages and moves it to the
 * tail (round robin); a region with none leaves the list.  The region is
 * on the list, so not torn down yet: its kref is not zero.
 */
static enum lru_status ntmem_reset_isolate(NTMEM_LRU_WALK_PARAMS)
{
	struct ntmem_region *r = container_of(item, struct ntmem_region,
					      reset_node);
	struct ntmem_reset_batch *b = arg;

	if (atomic_long_read(&r->nr_clean) <= 0) {
		list_lru_isolate(list, item);
		return LRU_REMOVED;
	}
	kref_get(&r->kref);
	b->r[b->n++] = r;
	return LRU_ROTATE;
}

static unsigned long ntmem_reset_shrink_scan(struct shrinker *s,
					     struct shrink_control *sc)
{
	struct ntmem_reset_batch b;
	unsigned long freed = 0, walk;
	unsigned int i, rounds = 0;

	/* acquire: pairs with ntmem_reset_init()'s release of the lru */
	if (!smp_load_acquire(&ntmem_reset_lru_ready))
		return SHRINK_STOP;
	do {
		b.n = 0;
		walk = NTMEM_RESET_BATCH;
		list_lru_walk_one(&ntmem_reset_lru, sc->nid, sc->memcg,
				  ntmem_reset_isolate, &b, &walk);
		for (i = 0; i < b.n; i++) {
			if (freed < sc->nr_to_scan)
				freed += ntmem_reset_drop(b.r[i],
							  sc->nr_to_scan - freed);
			ntmem_region_put(b.r[i]);
		}
	} while (b.n && freed < sc->nr_to_scan && ++rounds < 4);
	return freed ? freed : SHRINK_STOP;
}

/*
 * seeks = 0: a reset page costs nothing to recreate (its contents may be
 * discarded), so reclaim asks for half of them each time, at any priority,
 * as Linux reclaims MADV_FREE pages before anything else.  NUMA-aware as
 * its lru: a node's reclaim drops the pages of the regions whose struct
 * is on that node -- the owner's, as its pages usually are.
 */
#define NTMEM_RESET_SEEKS	0
#define NTMEM_RESET_FLAGS	(SHRINKER_MEMCG_AWARE | SHRINKER_NUMA_AWARE)

static int ntmem_region_cache_init(void)
{
	ntmem_region_cache = KMEM_CACHE(ntmem_region, SLAB_ACCOUNT);
	return ntmem_region_cache ? 0 : -ENOMEM;
}

#ifndef NTMEM_HAVE_SHRINKER_ALLOC
static struct shrinker ntmem_reset_shrinker_s = {
	.count_objects	= ntmem_reset_shrink_count,
	.scan_objects	= ntmem_reset_shrink_scan,
	.seeks		= NTMEM_RESET_SEEKS,
	.flags		= NTMEM_RESET_FLAGS,
};

int ntmem_reset_init(void)
{
	int err = ntmem_region_cache_init();

	if (err)
		return err;
	/* registration gives the shrinker the id the lru records */
	err = register_shrinker(&ntmem_reset_shrinker_s, "ntmem-reset");
	if (!err)
		err = list_lru_init_memcg(&ntmem_reset_lru,
					  &ntmem_reset_shrinker_s);
	if (err) {
		unregister_shrinker(&ntmem_reset_shrinker_s);
		kmem_cache_destroy(ntmem_region_cache);
		return err;
	}
	/* release: the lru is set up before the shrinker looks at it */
	smp_store_release(&ntmem_reset_lru_ready, true);
	return 0;
}

void ntmem_reset_exit(void)
{
	unregister_shrinker(&ntmem_reset_shrinker_s);
	list_lru_destroy(&ntmem_reset_lru);
	kmem_cache_destroy(ntmem_region_cache);
}
#else
static struct shrinker *ntmem_reset_shrinker;

int ntmem_reset_init(void)
{
	int err = ntmem_region_cache_init();

	if (err)
		return err;
	ntmem_reset_shrinker = shrinker_alloc(NTMEM_RESET_FLAGS, "ntmem-reset");
	err = ntmem_reset_shrinker ?
	      list_lru_init_memcg(&ntmem_reset_lru, ntmem_reset_shrinker) :
	      -ENOMEM;
	if (err) {
		shrinker_free(ntmem_reset_shrinker);
		kmem_cache_destroy(ntmem_region_cache);
		return err;
	}
	ntmem_reset_shrinker->count_objects = ntmem_reset_shrink_count;
	ntmem_reset_shrinker->scan_objects = ntmem_reset_shrink_scan;
	ntmem_reset_shrinker->seeks = NTMEM_RESET_SEEKS;
	/* release: the lru is set up before the shrinker looks at it */
	smp_store_release(&ntmem_reset_lru_ready, true);
	shrinker_register(ntmem_reset_shrinker);
	return 0;
}

void ntmem_reset_exit(void)
{
	shrinker_free(ntmem_reset_shrinker);
	list_lru_destroy(&ntmem_reset_lru);
	kmem_cache_destroy(ntmem_region_cache);
}
#endif
