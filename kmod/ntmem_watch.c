// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: write watch (MEM_WRITE_WATCH), kept by the page tables.
 *
 * Pages are mapped read-only until written (the VMA's protection is
 * read-only because of ->page_mkwrite; executable pages are installed
 * read-only unless the fault is a write).  The first write to a page of a
 * write-watch region therefore passes ntmem_page_written(), which records
 * it in region->written.  Reporting walks only the recorded pages;
 * resetting a page removes its PTE so that the next write faults and
 * records it again.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "ntmem.h"
#include "ntmem_compat.h"

/* Pages handled per round trip between the page store and userspace. */
#define NTMEM_WATCH_CHUNK	256

/*
 * A write is reaching page @idx: it is no longer reset, and write watch
 * records it.  Fails only for want of memory for the record, before the
 * write is let through.
 */
int ntmem_page_written(struct ntmem_region *r, pgoff_t idx)
{
	ntmem_reset_written(r, idx);
	if (!r->write_watch || xa_load(&r->written, idx))
		return 0;
	return xa_err(xa_store(&r->written, idx, xa_mk_value(1), GFP_KERNEL));
}

/* DECOMMIT or release of [first, last]: nothing there was written. */
void ntmem_watch_forget(struct ntmem_region *r, pgoff_t first, pgoff_t last)
{
	unsigned long idx;
	void *entry;

	if (!r->write_watch)
		return;
	xa_for_each_range(&r->written, idx, entry, first, last)
		xa_erase(&r->written, idx);
}

/* Remove the PTEs of the ascending page indices @idx[0..n), run by run. */
static void ntmem_watch_zap(struct ntmem_region *r, struct vm_area_struct *vma,
			    const pgoff_t *idx, unsigned int n)
{
	unsigned int i = 0, j;

	while (i < n) {
		for (j = i + 1; j < n && idx[j] == idx[j - 1] + 1; j++)
			;
		ntmem_zap(vma, ntmem_idx_addr(r, idx[i]),
			  (unsigned long)(j - i) << PAGE_SHIFT);
		i = j;
	}
}

/*
 * Collect up to @max written pages of [*first, last] into @out, in
 * ascending order, and advance *first past them.  Caller holds mmap_lock.
 */
unsigned int ntmem_watch_collect(struct ntmem_region *r, pgoff_t *first,
				 pgoff_t last, pgoff_t *out, unsigned int max)
{
	unsigned long idx = *first;
	unsigned int n = 0;
	void *entry;

	entry = xa_find(&r->written, &idx, last, XA_PRESENT);
	while (entry && n < max) {
		out[n++] = idx;
		entry = xa_find_after(&r->written, &idx, last, XA_PRESENT);
	}
	*first = n < max ? last + 1 : out[n - 1] + 1;
	return n;
}

/*
 * Make the pages @idx[0..n) (ascending) clean: PTEs first, then the record,
 * under mmap_lock held for write so that no write slips in between.
 */
void ntmem_watch_clean(struct ntmem_region *r, struct vm_area_struct *vma,
		       const pgoff_t *idx, unsigned int n)
{
	unsigned int i;

	ntmem_watch_zap(r, vma, idx, n);
	for (i = 0; i < n; i++)
		xa_erase(&r->written, idx[i]);
}

/* The scratch buffer for ntmem_watch_collect() callers. */
pgoff_t *ntmem_watch_buffer(unsigned int *len)
{
	*len = NTMEM_WATCH_CHUNK;
	return kmalloc_array(NTMEM_WATCH_CHUNK, sizeof(pgoff_t), GFP_KERNEL);
}
