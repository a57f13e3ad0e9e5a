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
 * folios only).  region->reset remembers the pages made clean,
 * so that RESET_UNDO can tell whether they are all still there (and makes
 * them dirty again); a fault that finds one gone marks it LOST, and a write
 * takes a page out of reset.  Pinned pages (locked, executable) are not
 * reset: they keep their contents, which Windows allows.  A reset page that
 * moves to the pinned store stays reset but cannot be lost (KEPT), and
 * becomes CLEAN again if it moves back: so a LOCK that fails half way and
 * gives its pages back leaves RESET_UNDO's answer as it was.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shrinker.h>
#include <linux/spinlock.h>

#include "ntmem.h"

/*
 * Regions with pages RESET left clean (nr_clean > 0), for the shrinker.
 * Protects ntmem_region.reset_node and .reset_gone; innermost.
 */
static LIST_HEAD(ntmem_reset_list);
static DEFINE_SPINLOCK(ntmem_reset_lock);
/* CLEAN entries in every region: what the shrinker may find to drop */
static atomic_long_t ntmem_clean_pages;

static void ntmem_reset_clean_count(struct ntmem_region *r, long delta)
{
	if (!delta)
		return;
	atomic_long_add(delta, &ntmem_clean_pages);
	if (atomic_long_add_return(delta, &r->nr_clean) <= 0 || delta < 0)
		return;
	spin_lock(&ntmem_reset_lock);
	if (!r->reset_gone && list_empty(&r->reset_node))
		list_add_tail(&r->reset_node, &ntmem_reset_list);
	spin_unlock(&ntmem_reset_lock);
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
	(*(long *)arg)++;
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
	long added = 0, cleaned = 0;
	pgoff_t first, last;
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
	ntmem_store_for_each(r, first, last, ntmem_reset_clean, &cleaned);
	ntmem_reset_clean_count(r, cleaned);
	/* a page reclaim dropped between the two walks needs no cleaning */
	ntmem_reset_count(r, -ntmem_reset_unmark_pending(r, first, last));
	return 0;
}

/* A reset page found dropped: count it once.  True if this call did. */
static bool ntmem_reset_dropped(struct ntmem_region *r, pgoff_t idx)
{
	if (xa_cmpxchg(&r->reset, idx, NTMEM_RESET_CLEAN, NTMEM_RESET_LOST,
		       GFP_NOWAIT) != NTMEM_RESET_CLEAN)
		return false;
	ntmem_reset_clean_count(r, -1);
	atomic_long_inc(&ntmem_stats.dropped_pages);
	return true;
}

/* Entry @old of page @idx left region->reset. */
static void ntmem_reset_erased(struct ntmem_region *r, void *old)
{
	ntmem_reset_count(r, -1);
	if (old == NTMEM_RESET_CLEAN)
		ntmem_reset_clean_count(r, -1);
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
		ntmem_reset_erased(r, old);
}

/* Reset page @idx moves to the pinned store: reclaim cannot drop it there. */
void ntmem_reset_pinned(struct ntmem_region *r, pgoff_t idx)
{
	if (!atomic_long_read(&r->nr_reset))
		return;
	if (xa_cmpxchg(&r->reset, idx, NTMEM_RESET_CLEAN, NTMEM_RESET_KEPT,
		       GFP_NOWAIT) == NTMEM_RESET_CLEAN)
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
 * RESET_UNDO: the reset pages of the range become dirty again; -EBUSY if
 * any of them was dropped (its contents are zeros now).  Never allocates.
 */
int ntmem_reset_undo(struct ntmem_region *r, unsigned long addr,
		     unsigned long len)
{
	pgoff_t first, last;
	unsigned long idx;
	bool lost = false;
	void *entry;

	ntmem_page_span(r, addr, len, &first, &last);
	xa_for_each_range(&r->reset, idx, entry, first, last) {
		struct page *page = NULL;

		if (entry == NTMEM_RESET_CLEAN)
			page = ntmem_store_find(r, idx);
		if (page) {
			set_page_dirty_lock(page);
			put_page(page);
		} else if (entry != NTMEM_RESET_KEPT) {
			if (entry == NTMEM_RESET_CLEAN &&
			    ntmem_reset_dropped(r, idx))
				entry = NTMEM_RESET_LOST;
			lost = true;
		}
		entry = xa_erase(&r->reset, idx);
		if (entry)
			ntmem_reset_erased(r, entry);
	}
	return lost ? -EBUSY : 0;
}

/* DECOMMIT or release of [first, last]: its reset entries go. */
void ntmem_reset_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	unsigned long idx;
	void *entry;

	if (!atomic_long_read(&r->nr_reset))
		return;
	xa_for_each_range(&r->reset, idx, entry, first, last) {
		entry = xa_erase(&r->reset, idx);
		if (entry)
			ntmem_reset_erased(r, entry);
	}
}

/* The region is going away: the shrinker must not find it again. */
void ntmem_reset_gone(struct ntmem_region *r)
{
	spin_lock(&ntmem_reset_lock);
	r->reset_gone = true;
	list_del_init(&r->reset_node);
	spin_unlock(&ntmem_reset_lock);
}

/*
 * Drop up to @budget clean reset pages of @r, run by run; they become
 * LOST.  Runs without mmap_lock: a region torn down meanwhile has no
 * entries left, and what invalidate_mapping_pages() drops is only ever
 * clean, unmapped store pages, which read the same (zeros, or reset
 * contents) when the store hands them out again.
 */
static unsigned long ntmem_reset_drop(struct ntmem_region *r,
				      unsigned long budget)
{
	struct address_space *mapping = r->nm->store->f_mapping;
	pgoff_t base = r->start >> PAGE_SHIFT;
	unsigned long idx, first = 0, dropped = 0, seen = 0;
	long run = 0;
	void *entry;

	xa_for_each(&r->reset, idx, entry) {
		if (entry != NTMEM_RESET_CLEAN)
			continue;
		if (run && idx == first + run) {
			run++;
		} else {
			if (run)
				invalidate_mapping_pages(mapping, base + first,
							 base + first + run - 1);
			first = idx;
			run = 1;
		}
		if (++seen >= budget)
			break;
	}
	if (run)
		invalidate_mapping_pages(mapping, base + first,
					 base + first + run - 1);
	xa_for_each(&r->reset, idx, entry) {
		if (entry == NTMEM_RESET_CLEAN && !ntmem_store_holds(r, idx) &&
		    ntmem_reset_dropped(r, idx))
			dropped++;
		cond_resched();
	}
	return dropped;
}

static unsigned long ntmem_reset_shrink_count(struct shrinker *s,
					      struct shrink_control *sc)
{
	long n = atomic_long_read(&ntmem_clean_pages);

	return n > 0 ? n : SHRINK_EMPTY;
}

static unsigned long ntmem_reset_shrink_scan(struct shrinker *s,
					     struct shrink_control *sc)
{
	unsigned long freed = 0, tries = 0;
	struct ntmem_region *r;

	/* round robin: each region visited goes to the tail */
	while (freed < sc->nr_to_scan && tries++ < 64) {
		spin_lock(&ntmem_reset_lock);
		r = list_first_entry_or_null(&ntmem_reset_list,
					     struct ntmem_region, reset_node);
		if (r && atomic_long_read(&r->nr_clean) <= 0) {
			list_del_init(&r->reset_node);
			r = NULL;
			tries--;
		} else if (r) {
			list_move_tail(&r->reset_node, &ntmem_reset_list);
			kref_get(&r->kref);
		}
		spin_unlock(&ntmem_reset_lock);
		if (!r) {
			if (list_empty(&ntmem_reset_list))
				break;
			continue;
		}
		freed += ntmem_reset_drop(r, sc->nr_to_scan - freed);
		ntmem_region_put(r);
	}
	return freed ? freed : SHRINK_STOP;
}

/*
 * seeks = 0: a reset page costs nothing to recreate (its contents may be
 * discarded), so reclaim asks for half of them each time, at any priority,
 * as Linux reclaims MADV_FREE pages before anything else.
 */
#define NTMEM_RESET_SEEKS	0

#ifndef NTMEM_HAVE_SHRINKER_ALLOC
static struct shrinker ntmem_reset_shrinker_s = {
	.count_objects	= ntmem_reset_shrink_count,
	.scan_objects	= ntmem_reset_shrink_scan,
	.seeks		= NTMEM_RESET_SEEKS,
};

int ntmem_reset_init(void)
{
	return register_shrinker(&ntmem_reset_shrinker_s, "ntmem-reset");
}

void ntmem_reset_exit(void)
{
	unregister_shrinker(&ntmem_reset_shrinker_s);
}
#else
static struct shrinker *ntmem_reset_shrinker;

int ntmem_reset_init(void)
{
	ntmem_reset_shrinker = shrinker_alloc(0, "ntmem-reset");
	if (!ntmem_reset_shrinker)
		return -ENOMEM;
	ntmem_reset_shrinker->count_objects = ntmem_reset_shrink_count;
	ntmem_reset_shrinker->scan_objects = ntmem_reset_shrink_scan;
	ntmem_reset_shrinker->seeks = NTMEM_RESET_SEEKS;
	shrinker_register(ntmem_reset_shrinker);
	return 0;
}

void ntmem_reset_exit(void)
{
	shrinker_free(ntmem_reset_shrinker);
}
#endif
