// SPDX-License-Identifier: GPL-2.0
/*
 * Heap segments and slabs.  A segment is 4 MiB of address space reserved
 * through ntmem; each of its 64 KiB slabs is committed the first time it
 * is used and then holds blocks of one size class, carved in order and
 * recycled through a free list threaded through the free blocks.  A slab
 * that empties while its class has other room can serve any class; the
 * first HEAP_MAX_IDLE such slabs are kept as they are, for churn, and the
 * rest are MEM_RESET (their memory may go back to the system).  A segment
 * whose slabs are all unused is released, unless it is the heap's last.
 *
 * Size classes, header included: 32 to 256 bytes in steps of 16, then
 * four per power of two up to 64 KiB (at most 25% slack).
 */
#include <stdlib.h>
#include <string.h>

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

/* The smallest class holding @total bytes (17 .. HEAP_MAX_SMALL). */
uint32_t ntmem__heap_size_class(size_t total)
{
	size_t t = total - 1;
	uint32_t msb;

	if (total <= 256)
		return (total + 15) / 16 - 2;
	msb = 63 - __builtin_clzl(t);
	return SMALL_STEPS + (msb - 8) * 4 + ((t >> (msb - 2)) & 3);
}

static char *slab_base(const struct slab *s)
{
	return s->seg->base + (s - s->seg->slabs) * SLAB_SIZE;
}

static void partial_add(struct heap *h, struct slab *s)
{
	s->prev = NULL;
	s->next = h->partial[s->class];
	if (s->next)
		s->next->prev = s;
	h->partial[s->class] = s;
}

static void partial_del(struct heap *h, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->partial[s->class] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* Keep h->segs sorted by base, so that a pointer finds its segment fast. */
static int segment_insert(struct heap *h, struct segment *seg)
{
	size_t i;

	if (h->nsegs == h->capsegs) {
		size_t cap = h->capsegs ? 2 * h->capsegs : 8;
		struct segment **n = realloc(h->segs, cap * sizeof(*n));

		if (!n)
			return -1;
		h->segs = n;
		h->capsegs = cap;
	}
	for (i = h->nsegs; i > 0 && h->segs[i - 1]->base > seg->base; i--)
		h->segs[i] = h->segs[i - 1];
	h->segs[i] = seg;
	h->nsegs++;
	return 0;
}

static struct segment *segment_new(struct heap *h)
{
	struct segment *seg = calloc(1, sizeof(*seg));
	size_t i;

	if (!seg)
		return NULL;
	seg->base = ntmem__heap_os_reserve(SEGMENT_SIZE, false, h->protect);
	if (!seg->base || segment_insert(h, seg)) {
		if (seg->base)
			ntmem__heap_os_release(seg->base);
		free(seg);
		return NULL;
	}
	for (i = 0; i < SLABS_PER_SEGMENT; i++) {
		seg->slabs[i].seg = seg;
		seg->slabs[i].class = SLAB_UNUSED;
	}
	return seg;
}

static void segment_release(struct heap *h, struct segment *seg)
{
	size_t i;

	for (i = 0; i < SLABS_PER_SEGMENT; i++) {
		if (seg->slabs[i].committed)
			h->committed -= SLAB_SIZE;
		if (seg->slabs[i].idle)
			h->idle--;
	}
	for (i = 0; i < h->nsegs && h->segs[i] != seg; i++)
		;
	memmove(&h->segs[i], &h->segs[i + 1],
		(h->nsegs - i - 1) * sizeof(h->segs[0]));
	h->nsegs--;
	ntmem__heap_os_release(seg->base);
	free(seg);
}

/* An unused slab, committed, taken by @class; NULL if none can be had. */
static struct slab *slab_take(struct heap *h, uint32_t class)
{
	struct segment *seg;
	struct slab *s = NULL;
	size_t i, j;

	for (i = h->nsegs; i-- > 0 && !s;) {
		seg = h->segs[i];
		if (seg->nused == SLABS_PER_SEGMENT)
			continue;
		/* committed slabs first: no system call to reuse them */
		for (j = 0; j < SLABS_PER_SEGMENT; j++)
			if (seg->slabs[j].class == SLAB_UNUSED &&
			    (!s || seg->slabs[j].committed)) {
				s = &seg->slabs[j];
				if (s->committed)
					break;
			}
	}
	if (!s) {
		seg = segment_new(h);
		if (!seg)
			return NULL;
		s = &seg->slabs[0];
	}
	if (!s->committed) {
		if (h->max && h->committed + SLAB_SIZE > h->max)
			return NULL;
		if (ntmem__heap_os_commit(slab_base(s), SLAB_SIZE, h->protect))
			return NULL;
		s->committed = true;
		h->committed += SLAB_SIZE;
	}
	if (s->idle) {
		s->idle = false;
		h->idle--;
	}
	s->class = class;
	s->free = NULL;
	s->used = 0;
	s->carved = 0;
	s->capacity = SLAB_SIZE / ntmem__heap_class_size(class);
	s->seg->nused++;
	partial_add(h, s);
	return s;
}

/* A block of @class, its header not yet filled in; NULL if out of memory. */
void *ntmem__heap_slab_alloc(struct heap *h, uint32_t class)
{
	struct slab *s = h->partial[class];
	char *b;

	if (!s) {
		s = slab_take(h, class);
		if (!s)
			return NULL;
	}
	if (s->free) {
		b = s->free;
		memcpy(&s->free, b + HEAP_HDR, sizeof(s->free));
	} else {
		b = slab_base(s) + (size_t)s->carved++ * ntmem__heap_class_size(class);
	}
	if (++s->used == s->capacity)
		partial_del(h, s);
	return b;
}

struct heap_block *ntmem__heap_slab_find(struct heap *h, const void *p,
					 struct slab **slab)
{
	const char *b = (const char *)p - HEAP_HDR;
	size_t lo = 0, hi = h->nsegs, size, off;
	struct segment *seg;
	struct slab *s;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b < h->segs[mid]->base)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!lo)
		return NULL;
	seg = h->segs[lo - 1];
	if (b >= seg->base + SEGMENT_SIZE)
		return NULL;
	s = &seg->slabs[(b - seg->base) / SLAB_SIZE];
	if (s->class == SLAB_UNUSED)
		return NULL;
	size = ntmem__heap_class_size(s->class);
	off = b - slab_base(s);
	if (off % size || off / size >= s->carved)
		return NULL;
	*slab = s;
	return (struct heap_block *)b;
}

/* Retire an empty slab: any class may take it; past a few, reset it. */
static void slab_retire(struct heap *h, struct slab *s)
{
	struct segment *seg = s->seg;

	partial_del(h, s);
	s->class = SLAB_UNUSED;
	s->free = NULL;
	if (h->idle < HEAP_MAX_IDLE) {
		s->idle = true;
		h->idle++;
	} else {
		ntmem__heap_os_reset(slab_base(s), SLAB_SIZE);
	}
	if (--seg->nused == 0 && h->nsegs > 1)
		segment_release(h, seg);
}

void ntmem__heap_slab_free(struct heap *h, struct slab *s, struct heap_block *b)
{
	char *p = (char *)b;

	b->state = BLOCK_FREE;
	memcpy(p + HEAP_HDR, &s->free, sizeof(s->free));
	s->free = p;
	if (s->used-- == s->capacity)
		partial_add(h, s);
	/* keep one slab of the class ready: alloc/free pairs cost nothing */
	if (!s->used && (s->next || s->prev))
		slab_retire(h, s);
}

void ntmem__heap_slabs_destroy(struct heap *h)
{
	while (h->nsegs)
		segment_release(h, h->segs[h->nsegs - 1]);
	free(h->segs);
	h->segs = NULL;
	h->capsegs = 0;
}

/* Every block of every slab has a sound header; free lists add up. */
bool ntmem__heap_slabs_validate(struct heap *h)
{
	size_t i, j, k;

	for (i = 0; i < h->nsegs; i++) {
		for (j = 0; j < SLABS_PER_SEGMENT; j++) {
			struct slab *s = &h->segs[i]->slabs[j];
			uint32_t used = 0;
			size_t size;

			if (s->class == SLAB_UNUSED)
				continue;
			size = ntmem__heap_class_size(s->class);
			for (k = 0; k < s->carved; k++) {
				struct heap_block *b = (void *)(slab_base(s) +
								k * size);

				if (b->cookie != heap_cookie(h, b) ||
				    (b->state != BLOCK_USED &&
				     b->state != BLOCK_FREE))
					return false;
				used += b->state == BLOCK_USED;
			}
			if (used != s->used)
				return false;
		}
	}
	return true;
}
