// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: MEM_RESET.  Reset pages keep their contents until the system needs
 * memory; then this shrinker drops them, with no swap I/O, as binder's
 * shrinker drops its free pages.  A dropped page leaves NTMEM_DISCARDED
 * (marked NTMEM_MARK_LOST) in the store, so RESET_UNDO can tell.
 */
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/spinlock.h>

#include "ntmem.h"

/* Regions with reset pages; protects ntmem_region.nr_reset and .reset_node. */
static LIST_HEAD(ntmem_reset_list);
static DEFINE_SPINLOCK(ntmem_reset_lock);

/*
 * @delta more (or fewer) pages of @r are marked reset.  Callers that mark
 * or unmark under the xarray lock call this before dropping it, so the
 * count never lags the marks that the shrinker (or a teardown) can see.
 */
void ntmem_reset_track(struct ntmem_region *r, long delta)
{
	if (!delta)
		return;
	spin_lock(&ntmem_reset_lock);
	r->nr_reset += delta;
	if (r->nr_reset && list_empty(&r->reset_node))
		list_add_tail(&r->reset_node, &ntmem_reset_list);
	else if (!r->nr_reset && !list_empty(&r->reset_node))
		list_del_init(&r->reset_node);
	spin_unlock(&ntmem_reset_lock);
	atomic_long_add(delta, &ntmem_stats.reset_pages);
}

/* The region is going away: it must not stay on the list. */
void ntmem_reset_forget(struct ntmem_region *r)
{
	spin_lock(&ntmem_reset_lock);
	WARN_ON_ONCE(r->nr_reset);
	list_del_init(&r->reset_node);
	spin_unlock(&ntmem_reset_lock);
}

/*
 * Drop up to @budget reset pages of @r.  A reset page is never mapped (see
 * ntmem_get_page()), so the xarray lock is all it takes: there is no PTE to
 * zap, and a fault that wants the page either got it first (and took it out
 * of reset) or finds NTMEM_DISCARDED and allocates a zeroed page.
 */
static unsigned long ntmem_reset_drop(struct ntmem_region *r,
				      unsigned long budget)
{
	XA_STATE(xas, &r->pages, 0);
	unsigned long dropped = 0;
	struct page *page;

	xas_lock(&xas);
	xas_for_each_marked(&xas, page, ULONG_MAX, NTMEM_MARK_RESET) {
		if (dropped >= budget)
			break;
		xas_store(&xas, NTMEM_DISCARDED);
		xas_clear_mark(&xas, NTMEM_MARK_RESET);
		xas_set_mark(&xas, NTMEM_MARK_LOST);
		put_page(page);
		dropped++;
	}
	/* before unlocking: a teardown must find the count in step */
	ntmem_reset_track(r, -dropped);
	xas_unlock(&xas);
	if (dropped) {
		ntmem_resident_add(r, -dropped);
		atomic_long_add(dropped, &ntmem_stats.dropped_pages);
	}
	return dropped;
}

static unsigned long ntmem_reset_count(struct shrinker *s,
				       struct shrink_control *sc)
{
	long n = atomic_long_read(&ntmem_stats.reset_pages);

	return n > 0 ? n : SHRINK_EMPTY;
}

static unsigned long ntmem_reset_scan(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long freed = 0, tries = 0;
	struct ntmem_region *r;

	/* round robin: each region visited goes to the tail */
	while (freed < sc->nr_to_scan && tries++ < 64) {
		spin_lock(&ntmem_reset_lock);
		r = list_first_entry_or_null(&ntmem_reset_list,
					     struct ntmem_region, reset_node);
		if (r) {
			list_move_tail(&r->reset_node, &ntmem_reset_list);
			kref_get(&r->kref);
		}
		spin_unlock(&ntmem_reset_lock);
		if (!r)
			break;
		freed += ntmem_reset_drop(r, sc->nr_to_scan - freed);
		ntmem_region_put(r);
	}
	return freed ? freed : SHRINK_STOP;
}

/*
 * seeks = 0: a reset page costs nothing to recreate (its contents may be
 * discarded), so reclaim asks for half of them each time, at any priority,
 * as Linux reclaims MADV_FREE pages before anything else; with the
 * default, reclaim at high priority asked for so few that a process could
 * be OOM-killed while reset pages were still held.
 */
#define NTMEM_RESET_SEEKS	0

#ifndef NTMEM_HAVE_SHRINKER_ALLOC
static struct shrinker ntmem_reset_shrinker_s = {
	.count_objects	= ntmem_reset_count,
	.scan_objects	= ntmem_reset_scan,
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
	ntmem_reset_shrinker->count_objects = ntmem_reset_count;
	ntmem_reset_shrinker->scan_objects = ntmem_reset_scan;
	ntmem_reset_shrinker->seeks = NTMEM_RESET_SEEKS;
	shrinker_register(ntmem_reset_shrinker);
	return 0;
}

void ntmem_reset_exit(void)
{
	shrinker_free(ntmem_reset_shrinker);
}
#endif
