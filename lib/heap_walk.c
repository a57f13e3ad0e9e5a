// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * HeapWalk.  Every entry of a walk lies at its own address; the heap's
 * own reservation comes first, then the rest in address order, a region
 * entry before what starts at the same address.  So the walk needs no
 * state of its own: each call returns the first entry after the one in
 * *lpEntry, found under the heap's locks.  Entries:
 *  - a region for the reservation that holds the heap's structure (at
 *    the handle: the first entry, as on Windows), its uncommitted rest;
 *  - a region per segment (4 MiB) and per large block;
 *  - a run of uncommitted slabs: an uncommitted range;
 *  - a block of a slab, busy or free (free ones include blocks in thread
 *    caches), the uncarved end of a slab and a committed unused slab as
 *    one free block each; a large block, busy.
 */
#include <string.h>

#include "heap.h"

struct walk_key {
	int rank;		/* 0: in the heap's own reservation; 1: not */
	uintptr_t addr;
	int kind;		/* 0: a region; 1: anything else */
};

static bool key_after(struct walk_key k, struct walk_key than)
{
	if (k.rank != than.rank)
		return k.rank > than.rank;
	return k.addr > than.addr || (k.addr == than.addr && k.kind > than.kind);
}

/* The best entry so far, and the key it must follow. */
struct walk {
	uintptr_t own;		/* the heap's own reservation */
	struct walk_key after;
	bool found;
	struct walk_key key;
	PROCESS_HEAP_ENTRY e;
};

static void offer(struct walk *w, uintptr_t addr, int kind,
		  const PROCESS_HEAP_ENTRY *e)
{
	struct walk_key k = { addr - w->own >= HEAP_RESERVATION, addr, kind };

	if (!key_after(k, w->after) || (w->found && !key_after(w->key, k)))
		return;
	w->found = true;
	w->key = k;
	w->e = *e;
}

static void offer_region(struct walk *w, uintptr_t base, size_t len,
			 size_t committed)
{
	PROCESS_HEAP_ENTRY e = { 0 };

	e.lpData = (void *)base;
	e.cbData = (DWORD)len;
	e.wFlags = PROCESS_HEAP_REGION;
	e.Region.dwCommittedSize = (DWORD)committed;
	e.Region.dwUnCommittedSize = (DWORD)(len - committed);
	e.Region.lpFirstBlock = (void *)base;
	e.Region.lpLastBlock = (void *)(base + len);
	offer(w, base, 0, &e);
}

static void offer_block(struct walk *w, uintptr_t block, size_t data,
			WORD flags)
{
	PROCESS_HEAP_ENTRY e = { 0 };

	e.lpData = (void *)(block + HEAP_HDR);
	e.cbData = (DWORD)data;
	e.cbOverhead = HEAP_HDR;
	e.wFlags = flags;
	offer(w, block + HEAP_HDR, 1, &e);
}

/* The entries of one slab that can follow w->after. */
static void walk_slab(struct walk *w, const struct segment *seg, size_t j)
{
	const struct slab *s = &seg->slabs[j];
	uintptr_t a = (uintptr_t)seg->base + j * SLAB_SIZE;
	size_t k, end;

	if (!s->committed) {
		PROCESS_HEAP_ENTRY e = { 0 };
		size_t n = 1;

		if (j == 0 || seg->slabs[j - 1].committed) {
			while (j + n < SLABS_PER_SEGMENT &&
			       !seg->slabs[j + n].committed)
				n++;
			e.lpData = (void *)a;
			e.cbData = (DWORD)(n * SLAB_SIZE);
			e.wFlags = PROCESS_HEAP_UNCOMMITTED_RANGE;
			offer(w, a, 1, &e);
		}
		return;
	}
	if (s->class == SLAB_UNUSED) {
		offer_block(w, a, SLAB_SIZE - HEAP_HDR, 0);
		return;
	}
	/* the first block that can follow: skip those before w->after */
	k = w->after.rank && w->after.addr > a + HEAP_HDR ?
	    (w->after.addr - a - HEAP_HDR) / s->size : 0;
	for (; k < s->carved && !w->found; k++) {
		const struct heap_block *b = (const void *)(a + k * s->size);
		bool busy = b->state == BLOCK_USED;

		offer_block(w, (uintptr_t)b, busy ? b->size : s->size - HEAP_HDR,
			    busy ? PROCESS_HEAP_ENTRY_BUSY : 0);
	}
	end = (size_t)s->carved * s->size;
	if (!w->found && end + 2 * HEAP_HDR <= SLAB_SIZE)
		offer_block(w, a + end, SLAB_SIZE - end - HEAP_HDR, 0);
}

static void walk_segment(struct walk *w, const struct segment *seg)
{
	uintptr_t base = (uintptr_t)seg->base;
	size_t j = 0;

	if (w->after.rank && base + SEGMENT_SIZE <= w->after.addr)
		return;
	offer_region(w, base, SEGMENT_SIZE,
		     (size_t)seg->ncommitted * SLAB_SIZE);
	if (w->after.rank && w->after.addr > base)
		j = (w->after.addr - base) / SLAB_SIZE;
	for (; j < SLABS_PER_SEGMENT; j++) {
		struct walk before = *w;

		w->found = false;
		walk_slab(w, seg, j);
		if (!w->found) {
			*w = before;
			continue;
		}
		if (before.found && !key_after(before.key, w->key))
			*w = before;
		break;		/* slabs are in order: nothing later is nearer */
	}
}

static void walk_large(struct walk *w, const struct large *l)
{
	const struct heap_block *b = (const void *)l->base;

	if (w->after.rank && (uintptr_t)l->base + l->len <= w->after.addr)
		return;
	offer_region(w, (uintptr_t)l->base, l->len, l->len);
	offer_block(w, (uintptr_t)b, b->size, PROCESS_HEAP_ENTRY_BUSY);
}

/* The heap's own reservation: its structure is its only block. */
static void walk_own(struct walk *w, struct heap *h)
{
	PROCESS_HEAP_ENTRY e = { 0 };
	uintptr_t base = (uintptr_t)h;

	offer_region(w, base, HEAP_RESERVATION, HEAP_STRUCT_BYTES);
	e.lpData = (void *)(base + HEAP_STRUCT_BYTES);
	e.cbData = (DWORD)(HEAP_RESERVATION - HEAP_STRUCT_BYTES);
	e.wFlags = PROCESS_HEAP_UNCOMMITTED_RANGE;
	offer(w, base + HEAP_STRUCT_BYTES, 1, &e);
}

BOOL HeapWalk(HANDLE hHeap, LPPROCESS_HEAP_ENTRY lpEntry)
{
	struct heap *h = heap_of(hHeap);
	struct walk w = { 0 };
	bool locks;
	size_t i;

	if (!h) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	if (!ntmem__writable(lpEntry, sizeof(*lpEntry))) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	w.own = (uintptr_t)h;
	if (lpEntry->lpData) {
		w.after.addr = (uintptr_t)lpEntry->lpData;
		w.after.rank = w.after.addr - w.own >= HEAP_RESERVATION;
		w.after.kind = lpEntry->wFlags & PROCESS_HEAP_REGION ? 0 : 1;
	} else {
		w.after.rank = 0;
		w.after.addr = w.own;
		w.after.kind = -1;
	}
	locks = heap_serialized(h);
	bool held = heap_enter(h);
	if (locks)
		pthread_mutex_lock(&h->lock);
	for (i = 0; i < HEAP_SHARDS; i++) {
		const struct segment *seg;

		if (locks)
			pthread_mutex_lock(&h->shards[i].lock);
		for (seg = h->shards[i].segs; seg; seg = seg->next)
			walk_segment(&w, seg);
		if (locks)
			pthread_mutex_unlock(&h->shards[i].lock);
	}
	for (i = 0; i < h->nlarges; i++)
		walk_large(&w, &h->larges[i]);
	walk_own(&w, h);
	if (locks)
		pthread_mutex_unlock(&h->lock);
	heap_leave(h, held);
	if (!w.found) {
		ntmem__fail(ERROR_NO_MORE_ITEMS);
		return FALSE;
	}
	*lpEntry = w.e;
	return TRUE;
}
