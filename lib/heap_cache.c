// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread heap caches.  A thread keeps, for each of the last few
 * serialized heaps it used, a short list of free blocks per size class:
 * HeapAlloc pops one and HeapFree pushes one without a lock (the inline
 * fast paths in heap.h).  An empty list is refilled from the thread's
 * shard, and a full one halved, in one batch under a shard lock (here),
 * so a lock is taken once per many calls.
 *
 * Caches are keyed by heap id, which is never reused: a cache of a heap
 * that was destroyed, or that a fork left in the parent, is dropped
 * without touching its blocks (their memory is gone).  A thread's caches
 * go back to their heaps when it exits, when a heap is evicted for
 * another, and on HeapCompact.  Blocks in a cache are BLOCK_FREE, so a
 * double free is still caught, and count as used in their slab.
 */
#include <stdlib.h>
#include <string.h>

#include "heap.h"

#define CACHE_BIN_BYTES	(128 * 1024)	/* per class, at most */
#define CACHE_BIN_MAX	32		/* blocks per class, at most */

__thread struct heap_thread_cache *ntmem__heap_tcache
	__attribute__((tls_model("initial-exec")));
uint8_t ntmem__heap_bin_max[HEAP_NCLASSES];
static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;
static unsigned int shard_users[HEAP_SHARDS];	/* live threads on each */

/* The shard index with the fewest live threads: a thread that comes after
 * another has gone takes over its warm slabs.  Claimed with a compare-and-
 * swap, so that two threads starting together do not both take the same
 * one (their blocks would then share slabs, and cache lines). */
static unsigned int shard_pick(void)
{
	unsigned int i, best, seen;

	do {
		best = 0;
		for (i = 1; i < HEAP_SHARDS; i++)
			if (__atomic_load_n(&shard_users[i], __ATOMIC_RELAXED) <
			    __atomic_load_n(&shard_users[best],
					    __ATOMIC_RELAXED))
				best = i;
		seen = __atomic_load_n(&shard_users[best], __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&shard_users[best], &seen,
					      seen + 1, false,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return best;
}

/* Return all but @keep of @bin's blocks to their slabs, each under its
 * shard's lock (taken anew only when the shard changes). */
static void bin_return(struct heap_cache_bin *bin, uint32_t keep)
{
	struct heap_shard *locked = NULL;
	void **link = &bin->head;
	void *b;
	uint32_t i;

	for (i = 0; i < keep && *link; i++)
		link = (void **)((char *)*link + HEAP_HDR);
	b = *link;
	*link = NULL;
	bin->n = i;
	while (b) {
		void *next = block_next(b);
		struct slab *s = heap_map_get(b);

		if (s->seg->shard != locked) {
			if (locked)
				pthread_mutex_unlock(&locked->lock);
			locked = s->seg->shard;
			pthread_mutex_lock(&locked->lock);
		}
		ntmem__heap_slab_free(s, b);
		b = next;
	}
	if (locked)
		pthread_mutex_unlock(&locked->lock);
}

/* Give @c's blocks back to its heap if that is alive; empty @c. */
static void cache_return(struct heap_cache *c)
{
	struct heap *h = c->id ? ntmem__heap_lock_id(c->id) : NULL;
	uint32_t i;

	for (i = 0; i < HEAP_NCLASSES; i++) {
		if (h && c->bins[i].head)
			bin_return(&c->bins[i], 0);
		c->bins[i].head = NULL;
		c->bins[i].n = 0;
	}
	if (h)
		pthread_mutex_unlock(&h->lock);
	c->id = 0;
}

static void thread_exit(void *arg)
{
	struct heap_thread_cache *t = arg;
	size_t i;

	for (i = 0; i < HEAP_CACHE_HEAPS; i++)
		cache_return(&t->heaps[i]);
	__atomic_sub_fetch(&shard_users[t->index], 1, __ATOMIC_RELAXED);
	ntmem__heap_tcache = NULL;
	free(t);
}

static void tcache_init(void)
{
	uint32_t c;

	for (c = 0; c < HEAP_NCLASSES; c++) {
		size_t n = CACHE_BIN_BYTES / ntmem__heap_class_size(c);

		ntmem__heap_bin_max[c] = n < 2 ? 2 :
					 n > CACHE_BIN_MAX ? CACHE_BIN_MAX : n;
	}
	pthread_key_create(&tcache_key, thread_exit);
}

struct heap_cache *ntmem__heap_cache_slow(struct heap *h)
{
	struct heap_thread_cache *t = ntmem__heap_tcache;
	struct heap_cache *c;
	size_t i;

	pthread_once(&tcache_once, tcache_init);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || pthread_setspecific(tcache_key, t)) {
			free(t);
			return NULL;
		}
		t->index = shard_pick();
		ntmem__heap_tcache = t;
	}
	for (i = 0; i < HEAP_CACHE_HEAPS; i++)
		if (t->heaps[i].id == h->id || !t->heaps[i].id)
			break;
	if (i == HEAP_CACHE_HEAPS) {
		i = t->evict++ % HEAP_CACHE_HEAPS;
		cache_return(&t->heaps[i]);
	}
	c = &t->heaps[i];
	c->id = h->id;
	c->shard = &h->shards[t->index];
	return c;
}

void *ntmem__heap_cache_refill(struct heap *h, struct heap_cache *c,
			       uint32_t class)
{
	struct heap_shard *sh = c ? c->shard : &h->shards[0];
	struct heap_cache_bin *bin;
	void *b;

	pthread_mutex_lock(&sh->lock);
	if (!c) {
		b = ntmem__heap_slab_alloc(sh, class);
		pthread_mutex_unlock(&sh->lock);
		return b;
	}
	bin = &c->bins[class];
	bin->n = ntmem__heap_slab_alloc_batch(sh, class,
					      ntmem__heap_bin_max[class] / 2,
					      &bin->head);
	pthread_mutex_unlock(&sh->lock);
	ntmem__heap_slabs_purge(h);
	b = bin->head;
	if (b) {
		bin->head = block_next(b);
		bin->n--;
	}
	return b;
}

void ntmem__heap_cache_spill(struct heap *h, struct heap_cache_bin *bin,
			     uint32_t class)
{
	bin_return(bin, ntmem__heap_bin_max[class] / 2);
	ntmem__heap_slabs_purge(h);
}

void ntmem__heap_cache_flush(struct heap *h)
{
	struct heap_thread_cache *t = ntmem__heap_tcache;
	size_t i;

	for (i = 0; t && i < HEAP_CACHE_HEAPS; i++)
		if (t->heaps[i].id == h->id)
			cache_return(&t->heaps[i]);
}
