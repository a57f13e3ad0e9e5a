/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libntmem heaps (names ntmem__heap_*, kept out of the exports as in
 * internal.h): internals shared by heap.c (the Heap API), heap_cache.c
 * (per-thread caches), heap_slab.c (segments, slabs and size classes),
 * heap_map.c (address to slab), heap_large.c and heap_os.c (ntmem calls).
 *
 * A heap is a set of 4 MiB *segments*, each reserved through ntmem and cut
 * into 64 KiB *slabs*; a slab holds blocks of one size class and is
 * committed when first used.  Blocks larger than a slab get their own
 * reservation.  Every block starts with a 16-byte header that records its
 * requested size, its state and a cookie tied to its address, so a double
 * free, an interior pointer or a foreign pointer is recognised; a pointer
 * is only read after the process-wide map (heap_map.c) placed it in one of
 * the heap's own slabs, or it was found among the heap's large blocks, so
 * a wild pointer cannot crash the check either.
 *
 * Each thread keeps a few free blocks of each class of a serialized heap
 * (heap_cache.c): most HeapAlloc and HeapFree calls take no lock.  Blocks
 * in a cache are BLOCK_FREE but still counted in their slab's ->used.
 *
 * A heap's slabs are split among HEAP_SHARDS shards, each with its own
 * lock and segments; a thread's cache takes blocks from one shard (threads
 * are spread over them) and gives each block back to its own slab's.
 *
 * Locking: heap->lock protects the large blocks and a shard's lock its
 * slabs and segments.  A heap created with HEAP_NO_SERIALIZE takes no
 * lock, has no thread caches and uses only its first shard; the flag on
 * a single call skips heap->lock (the thread cache needs no lock, and
 * takes a shard's for a batch all the same).
 * heap->committed is atomic.  A block's header belongs to whoever holds
 * the block: the caller while it is in use, the thread cache that holds
 * it, or its shard's lock once it is back in its slab.  Lock order:
 * heaps_lock (heap.c), then heap->lock, then a shard's lock.
 */
#ifndef NTMEM_LIB_HEAP_H
#define NTMEM_LIB_HEAP_H

#include <endian.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define HEAP_ALIGN		16
#define HEAP_HDR		16		/* header before each block */
#define SEGMENT_SIZE		(4UL << 20)
#define SLAB_SHIFT		16
#define SLAB_SIZE		(1UL << SLAB_SHIFT)
#define SLABS_PER_SEGMENT	(SEGMENT_SIZE / SLAB_SIZE)
#define HEAP_NCLASSES		48
#define HEAP_MAX_SMALL		SLAB_SIZE	/* header included */
#define HEAP_MAX_IDLE		64	/* emptied slabs kept as they are, */
#define HEAP_RESET_DELAY_MS	100	/* ... for this long at most */

struct heap_block {			/* HEAP_HDR bytes */
	uint64_t size;			/* requested size */
	union {
		struct {
			uint32_t cookie;	/* heap_cookie(heap, block) */
			uint32_t state;		/* BLOCK_USED or BLOCK_FREE */
		};
		uint64_t tag;		/* both: one load checks a block */
	};
};

#if __BYTE_ORDER != __LITTLE_ENDIAN
#error "heap_block.tag assumes a little-endian layout"
#endif
#define BLOCK_USED	0x55534544u	/* "USED" */
#define BLOCK_FREE	0x46524545u	/* "FREE" */

/* A free block links to the next through its first data bytes. */
static inline void *block_next(const void *block)
{
	void *next;

	__builtin_memcpy(&next, (const char *)block + HEAP_HDR, sizeof(next));
	return next;
}

static inline void block_set_next(void *block, void *next)
{
	__builtin_memcpy((char *)block + HEAP_HDR, &next, sizeof(next));
}

struct slab {
	struct slab *next, *prev;	/* partial list, or an unused list */
	struct segment *seg;
	struct heap *heap;		/* NULL once its segment is released */
	void *free;			/* first free block */
	uint64_t recip;			/* off / size = (off * recip) >> 48 */
	uint32_t class;			/* size class, or SLAB_UNUSED */
	uint32_t size;			/* its block size, 0 if unused */
	uint32_t used;			/* blocks out of the slab */
	uint32_t carved;		/* blocks carved out so far */
	uint32_t capacity;		/* blocks the slab can hold */
	bool committed;
	bool reset;			/* unused and MEM_RESET */
	uint64_t idle_since;		/* ms, while on shard->idle */
};

#define SLAB_UNUSED	UINT32_MAX

struct segment {
	char *base;			/* SEGMENT_SIZE bytes, 64 KiB aligned */
	struct heap_shard *shard;
	struct segment *next;		/* in shard->segs, or a spare */
	uint32_t nused;			/* slabs holding blocks */
	uint32_t ncommitted;		/* slabs committed */
	struct slab slabs[SLABS_PER_SEGMENT];
};

struct large {
	char *base;			/* its own reservation */
	size_t len;			/* reserved and committed */
};

/* A doubly linked list of unused slabs, newest at the head. */
struct slab_list {
	struct slab *head, *tail;
	size_t n;
};

/* A share of a heap's slabs, with its own lock (heap.h's top comment). */
struct heap_shard {
	pthread_mutex_t lock;
	struct heap *heap;
	struct slab *partial[HEAP_NCLASSES];	/* slabs with free blocks */
	struct slab_list idle;		/* unused, committed, not reset */
	struct slab_list resets;	/* unused, committed, MEM_RESET */
	struct segment *segs;		/* every segment */
	size_t nsegs;
	struct segment *spare_segs;	/* released; kept for lock-free readers */
} __attribute__((aligned(64)));

#define HEAP_SHARDS	4

/*
 * A heap's structure is the start of its own 64 KiB ntmem reservation,
 * whose base is the heap's HANDLE (as on Windows, VirtualQuery on a heap
 * handle reports the heap's memory).
 */
struct heap {
	uint64_t magic;			/* HEAP_MAGIC, _LOCKED while HeapLock'd */
	uint64_t id;			/* never reused: thread caches key */
	uint32_t flags;			/* HeapCreate's flOptions */
	uint32_t secret;		/* mixed into block cookies */
	uint32_t protect;		/* PAGE_READWRITE or _EXECUTE_READWRITE */
	size_t max;			/* 0, or the fixed size of the heap */
	size_t committed;		/* bytes committed for blocks (atomic) */
	uint64_t purge_at;		/* ms: next look at every shard's idle */
	pthread_mutex_t lock;		/* the large blocks */
	struct large *larges;		/* sorted by base */
	size_t nlarges, caplarges;
	/* HeapLock: a recursive lock that every call takes while magic is
	 * HEAP_MAGIC_LOCKED, so that the fast paths test nothing more */
	pthread_mutex_t user_lock;
	pthread_t user_owner;		/* while user_depth > 0 */
	uint32_t user_depth;		/* HeapLock calls not yet unlocked */
	struct heap_shard shards[HEAP_SHARDS];
};

#define HEAP_MAGIC	0x4e544d454d484550ull	/* "NTMEMHEP" */
#define HEAP_MAGIC_LOCKED 0x4e544d454d484c4bull	/* "NTMEMHLK" */
#define HEAP_RESERVATION	((size_t)NTMEM__GRANULE)	/* the struct's */
#define HEAP_STRUCT_BYTES	((sizeof(struct heap) + NTMEM__PAGE - 1) & \
				 ~(NTMEM__PAGE - 1))

/* Any live heap, locked by HeapLock or not; NULL for another pointer
 * (a wild handle that is not memory may still crash, as on Windows). */
static inline struct heap *heap_of(HANDLE handle)
{
	struct heap *h = (struct heap *)handle;
	uint64_t m;

	if (!h)
		return NULL;
	m = __atomic_load_n(&h->magic, __ATOMIC_RELAXED);
	return m == HEAP_MAGIC || m == HEAP_MAGIC_LOCKED ? h : NULL;
}

static inline uint32_t heap_cookie(const struct heap *h, const void *block)
{
	uintptr_t a = (uintptr_t)block;

	return (uint32_t)(a ^ (a >> 32)) ^ h->secret;
}

/* What a block's tag reads in @state (x86-64 is little-endian). */
static inline uint64_t heap_tag(const struct heap *h, const void *block,
				uint32_t state)
{
	return (uint64_t)state << 32 | heap_cookie(h, block);
}

static inline bool heap_serialized(const struct heap *h)
{
	return !(h->flags & HEAP_NO_SERIALIZE);
}

/* Count @len more bytes committed; false if that would pass h->max. */
static inline bool heap_charge(struct heap *h, size_t len)
{
	size_t old = __atomic_load_n(&h->committed, __ATOMIC_RELAXED);

	do {
		if (h->max && (old + len < old || old + len > h->max))
			return false;
	} while (!__atomic_compare_exchange_n(&h->committed, &old, old + len,
					      true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static inline void heap_uncharge(struct heap *h, size_t len)
{
	__atomic_sub_fetch(&h->committed, len, __ATOMIC_RELAXED);
}

/* heap_slab.c: size classes */
size_t ntmem__heap_class_size(uint32_t class);
/* The smallest class holding @total bytes (17 .. HEAP_MAX_SMALL). */
static inline uint32_t heap_size_class(size_t total)
{
	size_t t = total - 1;
	uint32_t msb;

	if (total <= 256)
		return (total + 15) / 16 - 2;
	msb = 63 - __builtin_clzl(t);
	return 15 + (msb - 8) * 4 + ((t >> (msb - 2)) & 3);
}

/* heap_slab.c: slabs; the caller holds the shard's lock. */
void *ntmem__heap_slab_alloc(struct heap_shard *sh, uint32_t class);
/* Up to @n blocks of @class, chained through block_next; how many. */
unsigned int ntmem__heap_slab_alloc_batch(struct heap_shard *sh,
					  uint32_t class, unsigned int n,
					  void **first);
/* Caller holds the lock of @s's shard (s->seg->shard). */
void ntmem__heap_slab_free(struct slab *s, struct heap_block *b);
void ntmem__heap_slabs_destroy(struct heap_shard *sh);
bool ntmem__heap_slabs_validate(struct heap_shard *sh);
/* Give back what idle slabs hold: reset them all. */
void ntmem__heap_slabs_trim(struct heap_shard *sh);
/* The largest block a committed slab could give without a commit. */
size_t ntmem__heap_slabs_largest_free(struct heap_shard *sh);
/* No lock held: reset slabs idle for long in every shard, not only in
 * those still in use (at most every HEAP_RESET_DELAY_MS, busy shards
 * skipped). */
void ntmem__heap_slabs_purge(struct heap *h);

/* heap_map.c: 64 KiB granule of address space to slab, lock-free reads. */
#define HEAP_MAP_ADDR_BITS	47
#define HEAP_MAP_LEAF_BITS	16
#define HEAP_MAP_ROOT_BITS	(HEAP_MAP_ADDR_BITS - SLAB_SHIFT - \
				 HEAP_MAP_LEAF_BITS)
extern struct slab **ntmem__heap_map_roots[1UL << HEAP_MAP_ROOT_BITS];

static inline struct slab *heap_map_get(const void *p)
{
	uintptr_t g = (uintptr_t)p >> SLAB_SHIFT;
	struct slab **leaf;

	if (g >> (HEAP_MAP_LEAF_BITS + HEAP_MAP_ROOT_BITS))
		return NULL;
	leaf = __atomic_load_n(&ntmem__heap_map_roots[g >> HEAP_MAP_LEAF_BITS],
			       __ATOMIC_ACQUIRE);
	if (!leaf)
		return NULL;
	return __atomic_load_n(&leaf[g & ((1UL << HEAP_MAP_LEAF_BITS) - 1)],
			       __ATOMIC_ACQUIRE);
}

/* Map a new segment's slabs, or unmap them (slabs NULL); under heap->lock.
 * Mapping fails only without memory for the map itself. */
int ntmem__heap_map_segment(const struct segment *seg, bool map);

#define RECIP_SHIFT	48	/* off / size as (off * recip) >> 48 */

/* No lock needed: the header @p belongs to, if @p is a block start in one
 * of @h's slabs; else NULL.  *slab gets its slab.  The slab's fields are
 * read once each: for a wild pointer they may be changing under us. */
static inline struct heap_block *heap_slab_find(const struct heap *h,
						const void *p,
						struct slab **slab)
{
	const char *b = (const char *)p - HEAP_HDR;
	struct slab *s = heap_map_get(b);
	uint64_t off, q, size;

	if (!s || __atomic_load_n(&s->heap, __ATOMIC_RELAXED) != h)
		return NULL;
	size = __atomic_load_n(&s->size, __ATOMIC_RELAXED);
	if (!size)
		return NULL;		/* an unused slab */
	off = (uintptr_t)b & (SLAB_SIZE - 1);
	q = (off * __atomic_load_n(&s->recip, __ATOMIC_RELAXED)) >> RECIP_SHIFT;
	if (q * size != off ||
	    q >= __atomic_load_n(&s->carved, __ATOMIC_RELAXED))
		return NULL;
	*slab = s;
	return (struct heap_block *)b;
}

/* heap_cache.c: per-thread caches of free blocks; the fast paths are
 * here so that HeapAlloc and HeapFree inline them. */
#define HEAP_CACHE_HEAPS	4	/* heaps cached per thread */

struct heap_cache_bin {
	void *head;			/* blocks chained by block_next */
	uint32_t n;
};

struct heap_cache {
	uint64_t id;			/* the heap's, or 0 if the slot is free */
	struct heap_shard *shard;	/* where the bins are refilled from */
	struct heap_cache_bin bins[HEAP_NCLASSES];
};

struct heap_thread_cache {
	struct heap_cache heaps[HEAP_CACHE_HEAPS];
	unsigned int evict;		/* next slot to give up */
	unsigned int index;		/* the thread's shard in every heap */
};

/* One pointer of static TLS: no __tls_get_addr on the fast path. */
extern __thread struct heap_thread_cache *ntmem__heap_tcache
	__attribute__((tls_model("initial-exec")));
extern uint8_t ntmem__heap_bin_max[HEAP_NCLASSES];

/* The calling thread's cache of @h, made or taken over if need be; NULL
 * if there is no memory for one. */
struct heap_cache *ntmem__heap_cache_slow(struct heap *h);
/* A block of @class, refilling @c's empty bin from the slabs (or straight
 * from them if @c is NULL); NULL if out of memory. */
void *ntmem__heap_cache_refill(struct heap *h, struct heap_cache *c,
			       uint32_t class);
/* Hand half of an overfull @bin back to the slabs. */
void ntmem__heap_cache_spill(struct heap *h, struct heap_cache_bin *bin,
			     uint32_t class);
/* Return the calling thread's cached blocks of @h to their slabs. */
void ntmem__heap_cache_flush(struct heap *h);

static inline struct heap_cache *heap_cache_of(struct heap *h)
{
	struct heap_thread_cache *t = ntmem__heap_tcache;
	size_t i;

	if (__builtin_expect(t != NULL, 1))
		for (i = 0; i < HEAP_CACHE_HEAPS; i++)
			if (t->heaps[i].id == h->id)
				return &t->heaps[i];
	return ntmem__heap_cache_slow(h);
}

/* A free block of @class for the calling thread; NULL if out of memory. */
static inline void *heap_cache_alloc(struct heap *h, uint32_t class)
{
	struct heap_cache *c = heap_cache_of(h);
	struct heap_cache_bin *bin;
	void *b;

	if (__builtin_expect(!c, 0))
		return ntmem__heap_cache_refill(h, NULL, class);
	bin = &c->bins[class];
	b = bin->head;
	if (__builtin_expect(!b, 0))
		return ntmem__heap_cache_refill(h, c, class);
	bin->head = block_next(b);
	bin->n--;
	return b;
}

static inline void heap_cache_free(struct heap *h, uint32_t class,
				   struct heap_block *b)
{
	struct heap_cache *c = heap_cache_of(h);
	struct heap_cache_bin *bin;

	b->state = BLOCK_FREE;
	if (__builtin_expect(!c, 0)) {
		struct slab *s = heap_map_get(b);

		pthread_mutex_lock(&s->seg->shard->lock);
		ntmem__heap_slab_free(s, b);
		pthread_mutex_unlock(&s->seg->shard->lock);
		return;
	}
	bin = &c->bins[class];
	block_set_next(b, bin->head);
	bin->head = b;
	if (__builtin_expect(++bin->n > ntmem__heap_bin_max[class], 0))
		ntmem__heap_cache_spill(h, bin, class);
}

/* heap.c: the process heap, made if need be, leaving the last error
 * alone; NULL if it cannot be had. */
extern struct heap *ntmem__heap_process_heap;
struct heap *ntmem__heap_process_slow(void);

static inline struct heap *heap_process(void)
{
	struct heap *h = __atomic_load_n(&ntmem__heap_process_heap,
					 __ATOMIC_ACQUIRE);

	return h ? h : ntmem__heap_process_slow();
}
/* heap.c: every live heap, the process heap first. */
size_t ntmem__heap_list(HANDLE *out, size_t max);

/* A call on a live heap waits here while another thread holds HeapLock
 * (heap_lock.c); true if it took the lock, for heap_leave.  Unlocked
 * heaps cost one load and a predictable branch. */
static inline bool heap_enter(struct heap *h)
{
	if (__builtin_expect(__atomic_load_n(&h->magic, __ATOMIC_RELAXED) !=
			     HEAP_MAGIC_LOCKED, 1))
		return false;
	pthread_mutex_lock(&h->user_lock);
	return true;
}

static inline void heap_leave(struct heap *h, bool held)
{
	if (held)
		pthread_mutex_unlock(&h->user_lock);
}
/* heap_info.c: HeapEnableTerminationOnCorruption was set: a pointer
 * that is not a live block ends the process. */
extern bool ntmem__heap_terminate_on_corruption;
void ntmem__heap_corruption(const void *p);

/* heap.c: HeapAlloc and HeapFree on a heap known to be live, for the
 * library's own callers (no call through the PLT). */
void *ntmem__heap_alloc(struct heap *h, DWORD flags, SIZE_T n);
bool ntmem__heap_free(struct heap *h, DWORD flags, void *p);
/* heap.c: the live heap with this id, locked (heaps_lock held while
 * looking); NULL if it is gone.  For a cache whose heap may be dead. */
struct heap *ntmem__heap_lock_id(uint64_t id);

/* heap_large.c: the caller holds heap->lock. */
void *ntmem__heap_large_alloc(struct heap *h, size_t total);
/* The length of @h's large block at @base, or 0 if there is none. */
size_t ntmem__heap_large_len(struct heap *h, const void *base);
void ntmem__heap_large_free(struct heap *h, void *base);
void ntmem__heap_larges_destroy(struct heap *h);

/* heap_os.c: ntmem calls that leave the last error alone */
void *ntmem__heap_os_reserve(size_t len, bool commit, uint32_t protect);
int ntmem__heap_os_commit(void *addr, size_t len, uint32_t protect);
void ntmem__heap_os_reset(void *addr, size_t len);
void ntmem__heap_os_release(void *addr);

#endif /* NTMEM_LIB_HEAP_H */
