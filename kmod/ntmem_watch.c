// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: write watch (MEM_WRITE_WATCH), kept by the page tables.
 *
 * Pages are mapped read-only until written (the VMA's protection is
 * read-only because of ->page_mkwrite; executable pages are installed
 * read-only unless the fault is a write).  The first write to a page of a
 * write-watch region therefore passes ntmem_page_written(), which records
 * it in region->written.  Reporting walks only the recorded pages.
 * Resetting a page write-protects its PTEs (a page-table walk over a span
 * of the pages reset, ntmem_store_wrprotect()), so that the next write
 * takes a write-protect fault and is recorded again while reads go on
 * without a fault; a page of the pinned store (locked or executable,
 * mapped without a reverse map) has its PTE removed instead.
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/slab.h>

#include "ntmem.h"
#include "ntmem_section.h"
#include "ntmem_compat.h"

/* Pages handled per round trip between the page store and userspace. */
#define NTMEM_WATCH_CHUNK	256

/*
 * The record: a bitmap per group of NTMEM_WATCH_GROUP pages, a bit per page
 * written since its write watch was last reset, there while a bit is set:
 * a first write sets a bit (atomically: faults race under mmap_lock held
 * for read or under the VMA's lock), allocating the bitmap if its group had
 * none, and collecting reads 64 pages per word of the groups written,
 * whatever the range.  Bits are cleared and bitmaps freed only with
 * mmap_lock and the VMA's lock held for write, where no fault can be
 * setting one.
 */
#define NTMEM_WATCH_SHIFT	9
#define NTMEM_WATCH_GROUP	BIT(NTMEM_WATCH_SHIFT)
#define NTMEM_WATCH_BYTES	BITS_TO_BYTES(NTMEM_WATCH_GROUP)

static unsigned long ntmem_watch_group(pgoff_t idx)
{
	return idx >> NTMEM_WATCH_SHIFT;
}

static unsigned int ntmem_watch_bit(pgoff_t idx)
{
	return idx & (NTMEM_WATCH_GROUP - 1);
}

/* The bitmap of @group, made if need be; an ERR_PTR without memory. */
static unsigned long *ntmem_watch_bitmap(struct ntmem_region *r,
					 unsigned long group)
{
	unsigned long *bits = xa_load(&r->written, group), *cur;

	if (bits)
		return bits;
	bits = kzalloc(NTMEM_WATCH_BYTES, GFP_KERNEL_ACCOUNT);
	if (!bits)
		return ERR_PTR(-ENOMEM);
	cur = xa_cmpxchg(&r->written, group, NULL, bits, GFP_KERNEL_ACCOUNT);
	if (!cur)
		return bits;
	kfree(bits);	/* another fault made it first, or no memory */
	return xa_is_err(cur) ? ERR_PTR(xa_err(cur)) : cur;
}

/*
 * A write is reaching page @idx: it is no longer reset, and write watch
 * records it.  Fails only for want of memory for the record, before the
 * write is let through.
 */
int ntmem_page_written(struct ntmem_region *r, pgoff_t idx)
{
	unsigned long *bits;

	ntmem_reset_written(r, idx);
	if (r->cow)
		ntmem_view_written(r, idx);
	if (!r->write_watch)
		return 0;
	bits = ntmem_watch_bitmap(r, ntmem_watch_group(idx));
	if (IS_ERR(bits))
		return PTR_ERR(bits);
	set_bit(ntmem_watch_bit(idx), bits);
	return 0;
}

/* A group left with no page written goes, so that collecting stays cheap. */
static void ntmem_watch_drop_if_clean(struct ntmem_region *r,
				      unsigned long group, unsigned long *bits)
{
	if (bitmap_empty(bits, NTMEM_WATCH_GROUP)) {
		xa_erase(&r->written, group);
		kfree(bits);
	}
}

/* DECOMMIT or release of [first, last]: nothing there was written. */
void ntmem_watch_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	unsigned long group, *bits;
	pgoff_t base, from, to;

	if (!r->write_watch)
		return;
	xa_for_each_range(&r->written, group, bits, ntmem_watch_group(first),
			  ntmem_watch_group(last)) {
		base = group << NTMEM_WATCH_SHIFT;
		from = max(first, base) - base;
		to = min(last, base + NTMEM_WATCH_GROUP - 1) - base;
		bitmap_clear(bits, from, to - from + 1);
		ntmem_watch_drop_if_clean(r, group, bits);
	}
}

/* The region is going: free the record. */
void ntmem_watch_free(struct ntmem_region *r)
{
	unsigned long group, *bits;

	xa_for_each(&r->written, group, bits)
		kfree(bits);
	xa_destroy(&r->written);
}

/*
 * Write-protect every PTE of store page @idx (folio_mkclean(), which walks
 * the folio's reverse map).  A page the store has in swap, or not at all
 * -- a pinned page has left the store -- has no PTE to protect here.
 * Caller holds mmap_lock and the VMA's lock for write.
 */
static void ntmem_watch_wrprotect_page(struct ntmem_region *r, pgoff_t idx)
{
	struct page *page = ntmem_store_find(r, idx);
	struct folio *folio;

	if (!page)
		return;
	folio = page_folio(page);
	folio_lock(folio);
	/* the PTEs' dirty bits are the only record of a write: keep it */
	if (ntmem_store_owns(r, page) && folio_mkclean(folio))
		folio_mark_dirty(folio);
	folio_unlock(folio);
	put_page(page);
}

/*
 * Runs of written pages no more than NTMEM_WATCH_SPAN_GAP apart, at least
 * NTMEM_WATCH_SPAN_MIN of them, are write-protected by one page-table walk
 * over their span (ntmem_store_wrprotect()): a walk costs about what one
 * folio_mkclean() does, plus a little per PTE it passes (6.12 guest, every
 * page of 64 MiB written: 600 ns a page against 3100; every 8th: 1070
 * against 1610; every 16th: even).
 */
#define NTMEM_WATCH_SPAN_GAP	8
#define NTMEM_WATCH_SPAN_MIN	4

/*
 * Write-protect the store pages among the ascending indices @idx[0..n):
 * dense runs by span -- every writable PTE of a span is a written page of
 * @idx, since a page is mapped writable only by the write that recorded it
 * and every written page between idx[0] and idx[n - 1] is in @idx -- and
 * the others page by page.
 */
static void ntmem_watch_wrprotect(struct ntmem_region *r, const pgoff_t *idx,
				  unsigned int n)
{
	unsigned int i = 0, j;

	while (i < n) {
		j = i + 1;
#ifdef CONFIG_MAPPING_DIRTY_HELPERS
		while (j < n && idx[j] - idx[j - 1] <= NTMEM_WATCH_SPAN_GAP &&
		       idx[j] - idx[i] < NTMEM_STORE_WRPROTECT_MAX)
			j++;
		if (j - i >= NTMEM_WATCH_SPAN_MIN) {
			ntmem_store_wrprotect(r, idx[i], idx[j - 1]);
			i = j;
			continue;
		}
#endif
		for (; i < j; i++)
			ntmem_watch_wrprotect_page(r, idx[i]);
	}
}

/*
 * Make the next write to each of the ascending page indices @idx[0..n)
 * fault: write-protect store pages; remove the PTEs of pinned ones (run by
 * run), which are mapped without a reverse map to walk.
 */
static void ntmem_watch_protect(struct ntmem_region *r,
				struct vm_area_struct *vma, const pgoff_t *idx,
				unsigned int n)
{
	DECLARE_BITMAP(zap, NTMEM_WATCH_CHUNK);
	unsigned int i, j;

	ntmem_watch_wrprotect(r, idx, n);
	if (xa_empty(&r->pages))
		return;
	bitmap_zero(zap, NTMEM_WATCH_CHUNK);
	for (i = 0; i < n; i++)
		if (xa_load(&r->pages, idx[i]))
			__set_bit(i, zap);
	for_each_set_bit(i, zap, n) {
		for (j = i + 1; j < n && test_bit(j, zap) &&
		     idx[j] == idx[j - 1] + 1; j++)
			;
		ntmem_zap(vma, ntmem_idx_addr(r, idx[i]),
			  (unsigned long)(j - i) << PAGE_SHIFT);
		bitmap_clear(zap, i, j - i);
	}
}

/*
 * Collect up to @max written pages of [*first, last] into @out, in
 * ascending order, and advance *first past them.  Caller holds mmap_lock.
 */
unsigned int ntmem_watch_collect(struct ntmem_region *r, pgoff_t *first,
				 pgoff_t last, pgoff_t *out, unsigned int max)
{
	unsigned long group = ntmem_watch_group(*first), *bits;
	unsigned int n = 0, b, end;
	pgoff_t base;

	bits = xa_find(&r->written, &group, ntmem_watch_group(last),
		       XA_PRESENT);
	while (bits && n < max) {
		base = group << NTMEM_WATCH_SHIFT;
		b = *first > base ? *first - base : 0;
		end = min(last, base + NTMEM_WATCH_GROUP - 1) - base + 1;
		for (b = find_next_bit(bits, end, b); b < end && n < max;
		     b = find_next_bit(bits, end, b + 1))
			out[n++] = base + b;
		bits = xa_find_after(&r->written, &group,
				     ntmem_watch_group(last), XA_PRESENT);
	}
	*first = n < max ? last + 1 : out[n - 1] + 1;
	return n;
}

/*
 * Make the pages @idx[0..n) (ascending, at most NTMEM_WATCH_CHUNK) clean:
 * PTEs first, then the record, under mmap_lock and the VMA's lock held for
 * write (ntmem_region_find_write()) so that no write slips in between.
 */
void ntmem_watch_clean(struct ntmem_region *r, struct vm_area_struct *vma,
		       const pgoff_t *idx, unsigned int n)
{
	unsigned long group, *bits;
	unsigned int i = 0;

	ntmem_watch_protect(r, vma, idx, n);
	/* group by group: the indices ascend */
	while (i < n) {
		group = ntmem_watch_group(idx[i]);
		bits = xa_load(&r->written, group);
		for (; i < n && ntmem_watch_group(idx[i]) == group; i++)
			if (bits)
				clear_bit(ntmem_watch_bit(idx[i]), bits);
		if (bits)
			ntmem_watch_drop_if_clean(r, group, bits);
	}
}

/* The scratch buffer for ntmem_watch_collect() callers. */
pgoff_t *ntmem_watch_buffer(unsigned int *len)
{
	*len = NTMEM_WATCH_CHUNK;
	return kmalloc_array(NTMEM_WATCH_CHUNK, sizeof(pgoff_t), GFP_KERNEL);
}
