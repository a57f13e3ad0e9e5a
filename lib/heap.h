/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libntmem heaps (names ntmem__heap_*, kept out of the exports as in
 * internal.h): internals shared by heap.c (the Heap API), heap_slab.c
 * (segments, slabs and size classes) and heap_os.c (the ntmem calls).
 *
 * A heap is a set of 4 MiB *segments*, each reserved through ntmem and cut
 * into 64 KiB *slabs*; a slab holds blocks of one size class and is
 * committed when first used.  Blocks larger than a slab get their own
 * reservation.  Every block starts with a 16-byte header that records its
 * requested size, its state and a cookie tied to its address, so a double
 * free, an interior pointer or a foreign pointer is recognised; a pointer
 * is only read after it was found inside one of the heap's own segments
 * or large blocks, so a wild pointer cannot crash the check either.
 *
 * Locking: heap->lock (a mutex) protects everything in the heap, unless
 * the heap was created with HEAP_NO_SERIALIZE or the call passes it.
 */
#ifndef NTMEM_LIB_HEAP_H
#define NTMEM_LIB_HEAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define HEAP_ALIGN		16
#define HEAP_HDR		16		/* header before each block */
#define SEGMENT_SIZE		(4UL << 20)
#define SLAB_SIZE		0x10000UL
#define SLABS_PER_SEGMENT	(SEGMENT_SIZE / SLAB_SIZE)
#define HEAP_NCLASSES		48
#define HEAP_MAX_SMALL		SLAB_SIZE	/* header included */
#define HEAP_MAX_IDLE		16	/* emptied slabs kept as they are */

struct heap_block {			/* HEAP_HDR bytes */
	uint64_t size;			/* requested size */
	uint32_t cookie;		/* heap_cookie(heap, block) */
	uint32_t state;			/* BLOCK_USED or BLOCK_FREE */
};

#define BLOCK_USED	0x55534544u	/* "USED" */
#define BLOCK_FREE	0x46524545u	/* "FREE" */

struct slab {
	struct slab *next, *prev;	/* in the class's partial list */
	struct segment *seg;
	void *free;			/* first free block (its next in it) */
	uint32_t class;			/* size class, or SLAB_UNUSED */
	uint32_t used;			/* blocks handed out */
	uint32_t carved;		/* blocks carved out so far */
	uint32_t capacity;		/* blocks the slab can hold */
	bool committed;
	bool idle;			/* unused, committed, not reset */
};

#define SLAB_UNUSED	UINT32_MAX

struct segment {
	char *base;			/* SEGMENT_SIZE bytes, 64 KiB aligned */
	uint32_t nused;			/* slabs holding blocks */
	struct slab slabs[SLABS_PER_SEGMENT];
};

struct large {
	char *base;			/* its own reservation */
	size_t len;			/* reserved and committed */
};

struct heap {
	uint64_t magic;			/* HEAP_MAGIC while alive */
	uint32_t flags;			/* HeapCreate's flOptions */
	uint32_t secret;		/* mixed into block cookies */
	uint32_t protect;		/* PAGE_READWRITE or _EXECUTE_READWRITE */
	size_t max;			/* 0, or the fixed size of the heap */
	size_t committed;		/* bytes committed for blocks */
	size_t idle;			/* slabs unused but not reset */
	pthread_mutex_t lock;
	struct slab *partial[HEAP_NCLASSES];	/* slabs with free blocks */
	struct segment **segs;		/* sorted by base */
	size_t nsegs, capsegs;
	struct large *larges;		/* sorted by base */
	size_t nlarges, caplarges;
};

#define HEAP_MAGIC	0x4e544d454d484550ull	/* "NTMEMHEP" */

static inline uint32_t heap_cookie(const struct heap *h, const void *block)
{
	uintptr_t a = (uintptr_t)block;

	return (uint32_t)(a ^ (a >> 32)) ^ h->secret;
}

/* heap_slab.c */
size_t ntmem__heap_class_size(uint32_t class);
uint32_t ntmem__heap_size_class(size_t total);
void *ntmem__heap_slab_alloc(struct heap *h, uint32_t class);
/* The block header @p points into, if @p is a block start of @h's slabs;
 * else NULL.  *slab gets its slab. */
struct heap_block *ntmem__heap_slab_find(struct heap *h, const void *p,
					 struct slab **slab);
void ntmem__heap_slab_free(struct heap *h, struct slab *s,
			   struct heap_block *b);
void ntmem__heap_slabs_destroy(struct heap *h);
bool ntmem__heap_slabs_validate(struct heap *h);

/* heap_large.c */
void *ntmem__heap_large_alloc(struct heap *h, size_t total);
struct heap_block *ntmem__heap_large_find(struct heap *h, const void *p,
					  size_t *index);
void ntmem__heap_large_free(struct heap *h, size_t index);
size_t ntmem__heap_large_capacity(struct heap *h, size_t index);
void ntmem__heap_larges_destroy(struct heap *h);

/* heap_os.c: ntmem calls that leave the last error alone */
void *ntmem__heap_os_reserve(size_t len, bool commit, uint32_t protect);
int ntmem__heap_os_commit(void *addr, size_t len, uint32_t protect);
void ntmem__heap_os_reset(void *addr, size_t len);
void ntmem__heap_os_release(void *addr);

#endif /* NTMEM_LIB_HEAP_H */
