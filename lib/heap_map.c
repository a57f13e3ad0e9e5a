// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The heap map: for every 64 KiB granule of the user address space, the
 * heap slab that lives there, or NULL.  HeapFree and HeapSize find a
 * pointer's slab in two loads and without a lock, and a pointer that no
 * heap gave out is recognised without reading the memory it points to.
 *
 * Two levels: 2^15 roots, each a lazily allocated leaf of 2^16 entries
 * (4 GiB of address space; 512 KiB of it, of which only the pages a heap
 * touched become memory).  Leaves are never freed, so a reader racing
 * with a writer sees either the old or the new entry, never freed memory;
 * slabs are kept until HeapDestroy for the same reason (heap_slab.c).
 * Writers of a segment's entries hold its heap's lock; a new leaf is
 * published with a compare-and-swap (no lock a fork could leave held).
 */
#include <sys/mman.h>

#include "heap.h"

#define LEAF_BITS	HEAP_MAP_LEAF_BITS
#define ROOT_BITS	HEAP_MAP_ROOT_BITS
#define LEAF_ENTRIES	(1UL << LEAF_BITS)

struct slab **ntmem__heap_map_roots[1UL << ROOT_BITS];
#define roots ntmem__heap_map_roots

/* The leaf for granule @g, made if need be; NULL without memory. */
static struct slab **leaf_of(uintptr_t g)
{
	struct slab ***root = &roots[g >> LEAF_BITS];
	struct slab **leaf = __atomic_load_n(root, __ATOMIC_ACQUIRE);
	struct slab **seen = NULL;
	const size_t len = LEAF_ENTRIES * sizeof(*leaf);

	if (leaf)
		return leaf;
	/* plain anonymous memory: the map is the library's own */
	leaf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (leaf == MAP_FAILED)
		return NULL;
	if (__atomic_compare_exchange_n(root, &seen, leaf, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return leaf;
	munmap(leaf, len);		/* another thread was first */
	return seen;
}

int ntmem__heap_map_segment(const struct segment *seg, bool map)
{
	uintptr_t g = (uintptr_t)seg->base >> SLAB_SHIFT;
	size_t i;

	if ((g + SLABS_PER_SEGMENT - 1) >> (LEAF_BITS + ROOT_BITS))
		return -1;
	/* all leaves first, so that a failure leaves nothing mapped */
	if (map && (!leaf_of(g) || !leaf_of(g + SLABS_PER_SEGMENT - 1)))
		return -1;
	for (i = 0; i < SLABS_PER_SEGMENT; i++, g++) {
		struct slab **leaf = leaf_of(g);
		const struct slab *s = map ? &seg->slabs[i] : NULL;

		__atomic_store_n(&leaf[g & (LEAF_ENTRIES - 1)],
				 (struct slab *)s, __ATOMIC_RELEASE);
	}
	return 0;
}
