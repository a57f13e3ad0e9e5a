// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Heap blocks larger than a slab: each is its own ntmem reservation,
 * committed whole, kept in a sorted array so that a pointer can be checked
 * without reading memory that might not be there.
 */
#include <stdlib.h>
#include <string.h>

#include "heap.h"

#define PAGE	((size_t)NTMEM__PAGE)

/* Index of the large block starting at @base, or where it would go. */
static size_t large_search(const struct heap *h, const void *base)
{
	size_t lo = 0, hi = h->nlarges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if ((const void *)h->larges[mid].base < base)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *ntmem__heap_large_alloc(struct heap *h, size_t total)
{
	size_t len = (total + PAGE - 1) & ~(PAGE - 1), i;
	char *base;

	if (len < total)
		return NULL;
	if (h->nlarges == h->caplarges) {
		size_t cap = h->caplarges ? 2 * h->caplarges : 8;
		struct large *n = realloc(h->larges, cap * sizeof(*n));

		if (!n)
			return NULL;
		h->larges = n;
		h->caplarges = cap;
	}
	if (!heap_charge(h, len))
		return NULL;
	base = ntmem__heap_os_reserve(len, true, h->protect);
	if (!base) {
		heap_uncharge(h, len);
		return NULL;
	}
	i = large_search(h, base);
	memmove(&h->larges[i + 1], &h->larges[i],
		(h->nlarges - i) * sizeof(h->larges[0]));
	h->larges[i].base = base;
	h->larges[i].len = len;
	h->nlarges++;
	return base;
}

size_t ntmem__heap_large_len(struct heap *h, const void *base)
{
	size_t i = large_search(h, base);

	return i < h->nlarges && h->larges[i].base == base ?
	       h->larges[i].len : 0;
}

static void large_free_at(struct heap *h, size_t i)
{
	ntmem__heap_os_release(h->larges[i].base);
	heap_uncharge(h, h->larges[i].len);
	memmove(&h->larges[i], &h->larges[i + 1],
		(h->nlarges - i - 1) * sizeof(h->larges[0]));
	h->nlarges--;
}

void ntmem__heap_large_free(struct heap *h, void *base)
{
	large_free_at(h, large_search(h, base));
}

void ntmem__heap_larges_destroy(struct heap *h)
{
	while (h->nlarges)
		large_free_at(h, h->nlarges - 1);
	free(h->larges);
	h->larges = NULL;
	h->caplarges = 0;
}
