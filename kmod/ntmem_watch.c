// SPDX-License-Identifier: GPL-2.0
/*
 * ntmem: write watch (MEM_WRITE_WATCH), kept by the page tables.
 *
 * Pages are mapped read-only until written (the VMA's protection is
 * read-only because of ->page_mkwrite; executable pages are installed
 * read-only unless the fault is a write).  The first write to a page of a
 * write-watch region therefore passes ntmem_watch_mark(), which marks it
 * in the page store.  Reporting walks only the marked pages; resetting a
 * page removes its PTE so that the next write faults and marks it again.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "ntmem.h"
#include "ntmem_compat.h"

/* Pages handled per round trip between the page store and userspace. */
#define NTMEM_WATCH_CHUNK	256

/* A write is reaching page @idx, which is in the store. */
void ntmem_watch_mark(struct ntmem_region *r, pgoff_t idx)
{
	if (r->write_watch && !xa_get_mark(&r->pages, idx, NTMEM_MARK_DIRTY))
		xa_set_mark(&r->pages, idx, NTMEM_MARK_DIRTY);
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

	entry = xa_find(&r->pages, &idx, last, NTMEM_MARK_DIRTY);
	while (entry && n < max) {
		out[n++] = idx;
		entry = xa_find_after(&r->pages, &idx, last, NTMEM_MARK_DIRTY);
	}
	*first = n < max ? last + 1 : out[n - 1] + 1;
	return n;
}

/*
 * Make the pages @idx[0..n) (ascending) clean: PTEs first, then the mark,
 * under mmap_lock held for write so that no write slips in between.
 */
void ntmem_watch_clean(struct ntmem_region *r, struct vm_area_struct *vma,
		       const pgoff_t *idx, unsigned int n)
{
	unsigned int i;

	ntmem_watch_zap(r, vma, idx, n);
	for (i = 0; i < n; i++)
		xa_clear_mark(&r->pages, idx[i], NTMEM_MARK_DIRTY);
}

/* The scratch buffer for ntmem_watch_collect() callers. */
pgoff_t *ntmem_watch_buffer(unsigned int *len)
{
	*len = NTMEM_WATCH_CHUNK;
	return kmalloc_array(NTMEM_WATCH_CHUNK, sizeof(pgoff_t), GFP_KERNEL);
}
