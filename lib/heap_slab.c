// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Heap segments and slabs.  A segment is 4 MiB of address space reserved
 * through ntmem; each of its 64 KiB slabs is committed the first time it
 * is used and then holds blocks of one size class, carved in order and
 * recycled through a free list threaded through the free blocks.  A slab
 * that empties while its class has other room can serve any class.  It is
 * kept as it is for a while, for churn, and MEM_RESET (its memory may go
 * back to the system) once it has been idle for HEAP_RESET_DELAY_MS or
 * when more than HEAP_MAX_IDLE slabs are idle.  A segment whose slabs are
 * all unused is released, unless it is the heap's last.
 *
 * A heap has a few shards, each with its own lock, segments and slabs, so
 * that threads on different shards do not wait for each other; the
 * functions here work on one shard, whose lock the caller holds.
 *
 * A released segment's bookkeeping is kept for reuse until HeapDestroy:
 * the heap map may still lead a lock-free reader to it.
 *
 * Size classes, header included: 32 to 256 bytes in steps of 16, then
 * four per power of two up to 64 KiB (at most 25% slack).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap.h"

#define SMALL_STEPS	15	/* classes 32..256 */

size_t ntmem__heap_class_size(uint32_t class)
{
	uint32_t k, msb;

	if (class < SMALL_STEPS)
		return (class + 2) * 16;
	k = class - SMALL_STEPS;
	msb = 8 + k / 4;
	return (1UL << msb) + (k % 4 + 1) * (1UL << (msb - 2));
}

static char *slab_base(const struct slab *s)
{
	return s->seg->base + (s - s->seg->slabs) * SLAB_SIZE;
}

static void list_add(struct slab **head, struct slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (s->next)
		s->next->prev = s;
	*head = s;
}

static void list_del(struct slab **head, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct slab_list *unused_list(struct heap_shard *sh, struct slab *s)
{
	return s->reset ? &sh->resets : &sh->idle;
}

/* At the head: the newest idle slab is the first taken, the oldest reset. */
static void unused_add(struct heap_shard *sh, struct slab *s)
{
	struct slab_list *l = unused_list(sh, s);

	list_add(&l->head, s);
	if (!l->tail)
		l->tail = s;
	l->n++;
}

static void unused_del(struct heap_shard *sh, struct slab *s)
{
	struct slab_list *l = unused_list(sh, s);

	if (l->tail == s)
		l->tail = s->prev;
	list_del(&l->head, s);
	l->n--;
}

static void slab_reset(struct heap_shard *sh, struct slab *s)
{
	unused_del(sh, s);
	ntmem__heap_os_reset(slab_base(s), SLAB_SIZE);
	s->reset = true;
	unused_add(sh, s);
}

/* Reset the slabs that have been idle long, or too many of them. */
static void idle_purge(struct heap_shard *sh)
{
	uint64_t now = now_ms();
	struct slab *s;

	while ((s = sh->idle.tail) &&
	       (sh->idle.n > HEAP_MAX_IDLE ||
		now - s->idle_since >= HEAP_RESET_DELAY_MS))
		slab_reset(sh, s);
}

void ntmem__heap_slabs_purge(struct heap *h)
{
	uint64_t now = now_ms();
	uint64_t at = __atomic_load_n(&h->purge_at, __ATOMIC_RELAXED);
	size_t i;

	if (now < at ||
	    !__atomic_compare_exchange_n(&h->purge_at, &at,
					 now + HEAP_RESET_DELAY_MS, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;			/* not yet, or another thread does it */
	for (i = 0; i < HEAP_SHARDS; i++) {
		struct heap_shard *sh = &h->shards[i];

		if (!pthread_mutex_trylock(&sh->lock)) {
			idle_purge(sh);
			pthread_mutex_unlock(&sh->lock);
		}
	}
}

static struct segment *segment_new(struct heap_shard *sh)
{
	struct segment *seg = sh->spare_segs;
	size_t i;

	if (seg)
		sh->spare_segs = seg->next;
	else
		seg = malloc(sizeof(*seg));
	if (!seg)
		return NULL;
	memset(seg, 0, sizeof(*seg));
	seg->shard = sh;
	for (i = 0; i < SLABS_PER_SEGMENT; i++) {
		seg->slabs[i].seg = seg;
		seg->slabs[i].heap = sh->heap;
		seg->slabs[i].class = SLAB_UNUSED;
	}
	seg->base = ntmem__heap_os_reserve(SEGMENT_SIZE, false,
					   sh->heap->protect);
	if (!seg->base || ntmem__heap_map_segment(seg, true)) {
		if (seg->base)
			ntmem__heap_os_release(seg->base);
		seg->next = sh->spare_segs;
		sh->spare_segs = seg;
		return NULL;
	}
	seg->next = sh->segs;
	sh->segs = seg;
	sh->nsegs++;
	return seg;
}

static void segment_release(struct heap_shard *sh, struct segment *seg)
{
	struct segment **pp;
	size_t i;

	for (i = 0; i < SLABS_PER_SEGMENT; i++) {
		struct slab *s = &seg->slabs[i];

		if (s->committed)
			heap_uncharge(sh->heap, SLAB_SIZE);
		if (s->committed && s->class == SLAB_UNUSED)
			unused_del(sh, s);
		__atomic_store_n(&s->heap, NULL, __ATOMIC_RELAXED);
	}
	for (pp = &sh->segs; *pp != seg; pp = &(*pp)->next)
		;
	*pp = seg->next;
	sh->nsegs--;
	ntmem__heap_map_segment(seg, false);
	ntmem__heap_os_release(seg->base);
	seg->next = sh->spare_segs;
	sh->spare_segs = seg;
}

/* An unused slab that was never committed, in a new segment if need be. */
static struct slab *slab_fresh(struct heap_shard *sh)
{
	struct segment *seg;
	size_t i;

	for (seg = sh->segs; seg; seg = seg->next)
		for (i = 0; seg->ncommitted < SLABS_PER_SEGMENT &&
			    i < SLABS_PER_SEGMENT; i++)
			if (!seg->slabs[i].committed)
				return &seg->slabs[i];
	seg = segment_new(sh);
	return seg ? &seg->slabs[0] : NULL;
}

/* An unused slab, committed, taken by @class; NULL if none can be had.
 * Committed ones first: reusing them needs no system call. */
static struct slab *slab_take(struct heap_shard *sh, uint32_t class)
{
	struct slab *s = sh->idle.head ? sh->idle.head : sh->resets.head;
	uint32_t size = ntmem__heap_class_size(class);

	if (s) {
		unused_del(sh, s);
	} else {
		s = slab_fresh(sh);
		if (!s || !heap_charge(sh->heap, SLAB_SIZE))
			return NULL;
		if (ntmem__heap_os_commit(slab_base(s), SLAB_SIZE,
					  sh->heap->protect)) {
			heap_uncharge(sh->heap, SLAB_SIZE);
			return NULL;
		}
		s->committed = true;
		s->seg->ncommitted++;
	}
	s->reset = false;
	s->free = NULL;
	s->used = 0;
	s->capacity = SLAB_SIZE / size;
	/* ceil(2^48 / size): exact quotients for offsets below 2^16 */
	s->recip = ((1ULL << RECIP_SHIFT) + size - 1) / size;
	__atomic_store_n(&s->carved, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->class, class, __ATOMIC_RELAXED);
	__atomic_store_n(&s->size, size, __ATOMIC_RELAXED);
	s->seg->nused++;
	list_add(&sh->partial[class], s);
	return s;
}

/* A block of @s, which has room; header not filled in. */
static void *slab_pop(struct heap_shard *sh, struct slab *s)
{
	char *b = s->free;

	if (b) {
		s->free = block_next(b);
	} else {
		struct heap_block *fresh;

		b = slab_base(s) + (size_t)s->carved * s->size;
		fresh = (struct heap_block *)b;
		/* for HeapValidate */
		fresh->tag = heap_tag(sh->heap, b, BLOCK_FREE);
		__atomic_store_n(&s->carved, s->carved + 1, __ATOMIC_RELAXED);
	}
	if (++s->used == s->capacity)
		list_del(&sh->partial[s->class], s);
	return b;
}

/* A block of @class, its header not yet filled in; NULL if out of memory. */
void *ntmem__heap_slab_alloc(struct heap_shard *sh, uint32_t class)
{
	struct slab *s = sh->partial[class];

	if (!s) {
		s = slab_take(sh, class);
		if (!s)
			return NULL;
	}
	return slab_pop(sh, s);
}

unsigned int ntmem__heap_slab_alloc_batch(struct heap_shard *sh,
					  uint32_t class, unsigned int n,
					  void **first)
{
	unsigned int got = 0;
	void *list = NULL;

	while (got < n) {
		struct slab *s = sh->partial[class];
		void *b;

		if (!s && (got || !(s = slab_take(sh, class))))
			break;		/* a batch never takes a 2nd slab */
		b = slab_pop(sh, s);
		block_set_next(b, list);
		list = b;
		got++;
	}
	*first = list;
	return got;
}

/* Retire an empty slab: any class may take it; past a few, reset it. */
static void slab_retire(struct heap_shard *sh, struct slab *s)
{
	struct segment *seg = s->seg;

	list_del(&sh->partial[s->class], s);
	__atomic_store_n(&s->class, SLAB_UNUSED, __ATOMIC_RELAXED);
	__atomic_store_n(&s->size, 0, __ATOMIC_RELAXED);
	s->free = NULL;
	s->idle_since = now_ms();
	unused_add(sh, s);
	idle_purge(sh);
	if (--seg->nused == 0 && sh->nsegs > 1)
		segment_release(sh, seg);
}

void ntmem__heap_slab_free(struct slab *s, struct heap_block *b)
{
	struct heap_shard *sh = s->seg->shard;

	b->state = BLOCK_FREE;
	block_set_next(b, s->free);
	s->free = b;
	if (s->used-- == s->capacity)
		list_add(&sh->partial[s->class], s);
	/* keep one slab of the class ready: alloc/free pairs cost nothing */
	if (!s->used && (s->next || s->prev))
		slab_retire(sh, s);
}

void ntmem__heap_slabs_trim(struct heap_shard *sh)
{
	struct slab *s;

	while ((s = sh->idle.tail))
		slab_reset(sh, s);
}

size_t ntmem__heap_slabs_largest_free(struct heap_shard *sh)
{
	uint32_t c;

	if (sh->idle.head || sh->resets.head)
		return SLAB_SIZE - HEAP_HDR;
	for (c = HEAP_NCLASSES; c-- > 0;)
		if (sh->partial[c])
			return ntmem__heap_class_size(c) - HEAP_HDR;
	return 0;
}

void ntmem__heap_slabs_destroy(struct heap_shard *sh)
{
	struct segment *seg;

	while (sh->segs)
		segment_release(sh, sh->segs);
	while ((seg = sh->spare_segs)) {
		sh->spare_segs = seg->next;
		free(seg);
	}
}

/* Every block of every slab has a sound header, and no more are in use
 * than the slab handed out (the rest are in thread caches). */
bool ntmem__heap_slabs_validate(struct heap_shard *sh)
{
	struct segment *seg;
	size_t j, k;

	for (seg = sh->segs; seg; seg = seg->next) {
		for (j = 0; j < SLABS_PER_SEGMENT; j++) {
			struct slab *s = &seg->slabs[j];
			char *base = slab_base(s), *end;
			uint32_t used = 0, nfree = 0;
			char *f;

			if (s->class == SLAB_UNUSED)
				continue;
			for (k = 0; k < s->carved; k++) {
				struct heap_block *b = (void *)(base +
								k * s->size);

				if (b->cookie != heap_cookie(sh->heap, b) ||
				    (b->state != BLOCK_USED &&
				     b->state != BLOCK_FREE))
					return false;
				used += b->state == BLOCK_USED;
			}
			end = base + (size_t)s->carved * s->size;
			for (f = s->free; f && nfree <= s->carved;
			     f = block_next(f), nfree++)
				if (f < base || f >= end ||
				    (size_t)(f - base) % s->size ||
				    ((struct heap_block *)f)->state != BLOCK_FREE)
					return false;
			if (used > s->used || nfree != s->carved - s->used)
				return false;
		}
	}
	return true;
}
