// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Heap API: HeapCreate, HeapDestroy, HeapAlloc, HeapReAlloc, HeapFree,
 * HeapSize, HeapValidate, HeapCompact and GetProcessHeap, over the thread
 * caches, slabs and large blocks of heap_cache.c, heap_slab.c and
 * heap_large.c (heap.h has the layout).
 *
 * As on Windows, HeapAlloc and HeapReAlloc do not set the last error when
 * they run out of memory (they raise STATUS_NO_MEMORY instead with
 * HEAP_GENERATE_EXCEPTIONS, through RpcRaiseException); HeapFree sets
 * ERROR_INVALID_PARAMETER for a pointer that is not a live block.
 *
 * A heap's HANDLE is the base of its own ntmem reservation, which holds
 * struct heap.  A forked child does not inherit ntmem memory, so every
 * heap of the parent is dead there: a page of zeros takes the place of
 * each heap's structure, calls on it fail, and GetProcessHeap makes a new
 * process heap.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <ntmem/rpc.h>

#include "heap.h"

#define CREATE_FLAGS	(HEAP_NO_SERIALIZE | HEAP_GROWABLE | \
			 HEAP_GENERATE_EXCEPTIONS | HEAP_CREATE_ENABLE_EXECUTE)
/* The largest request: its size plus the header must not wrap. */
#define MAX_REQUEST	((SIZE_T)NTMEM_MAX_ADDRESS)

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct heap **heaps;		/* every live heap, for fork */
static size_t nheaps, capheaps;
struct heap *ntmem__heap_process_heap;	/* written under heaps_lock */
static uint64_t last_heap_id;

static void heaps_atfork_child(void)
{
	size_t i;

	pthread_mutex_init(&heaps_lock, NULL);
	/* its memory is not in this process: zeros read as a dead heap */
	for (i = 0; i < nheaps; i++)
		mmap(heaps[i], NTMEM__PAGE, PROT_READ, MAP_PRIVATE |
		     MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	nheaps = 0;
	ntmem__heap_process_heap = NULL;
}

static void heaps_init(void)
{
	pthread_atfork(NULL, NULL, heaps_atfork_child);
}

static int heaps_add(struct heap *h)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int err = 0;

	pthread_once(&once, heaps_init);
	pthread_mutex_lock(&heaps_lock);
	if (nheaps == capheaps) {
		size_t cap = capheaps ? 2 * capheaps : 8;
		struct heap **n = realloc(heaps, cap * sizeof(*n));

		if (n) {
			heaps = n;
			capheaps = cap;
		}
	}
	if (nheaps < capheaps)
		heaps[nheaps++] = h;
	else
		err = -1;
	pthread_mutex_unlock(&heaps_lock);
	return err;
}

struct heap *ntmem__heap_lock_id(uint64_t id)
{
	struct heap *h = NULL;
	size_t i;

	pthread_mutex_lock(&heaps_lock);
	for (i = 0; i < nheaps && !h; i++)
		if (heaps[i]->id == id)
			h = heaps[i];
	if (h)
		pthread_mutex_lock(&h->lock);
	pthread_mutex_unlock(&heaps_lock);
	return h;
}

size_t ntmem__heap_list(HANDLE *out, size_t max)
{
	struct heap *ph = ntmem__heap_process_heap;
	size_t i, n = 0, total;

	pthread_mutex_lock(&heaps_lock);
	total = nheaps;
	if (total <= max) {
		if (ph)
			out[n++] = ph;
		for (i = 0; i < nheaps; i++)
			if (heaps[i] != ph)
				out[n++] = heaps[i];
	}
	pthread_mutex_unlock(&heaps_lock);
	return total;
}

static void heaps_del(struct heap *h)
{
	size_t i;

	pthread_mutex_lock(&heaps_lock);
	for (i = 0; i < nheaps; i++)
		if (heaps[i] == h) {
			heaps[i] = heaps[--nheaps];
			break;
		}
	pthread_mutex_unlock(&heaps_lock);
}

static bool serialized(const struct heap *h, DWORD flags)
{
	return heap_serialized(h) && !(flags & HEAP_NO_SERIALIZE);
}

/* Take @lock of @h (its own or a shard's) unless the call is unserialized. */
static void heap_lock(struct heap *h, DWORD flags, pthread_mutex_t *lock)
{
	if (serialized(h, flags))
		pthread_mutex_lock(lock);
}

static void heap_unlock(struct heap *h, DWORD flags, pthread_mutex_t *lock)
{
	if (serialized(h, flags))
		pthread_mutex_unlock(lock);
}

/* Adaptive: the lock is held for short batches, and a thread that spins a
 * little instead of sleeping in the kernel at once gets it back sooner. */
static void heap_lock_init(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

static void out_of_memory(const struct heap *h, DWORD flags)
{
	if ((h->flags | flags) & HEAP_GENERATE_EXCEPTIONS)
		RpcRaiseException((RPC_STATUS)STATUS_NO_MEMORY);
}

HANDLE HeapCreate(DWORD flOptions, SIZE_T dwInitialSize,
		  SIZE_T dwMaximumSize)
{
	pthread_mutexattr_t attr;
	struct heap *h;
	int fd = ntmem__fd();
	size_t i;

	if (fd < 0) {
		ntmem__fail(ntmem__error_from_errno(fd, ERROR_NOT_SUPPORTED));
		return NULL;
	}
	if ((flOptions & ~(DWORD)CREATE_FLAGS) ||
	    (dwMaximumSize && dwInitialSize > dwMaximumSize)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	/* zeroed, and 64 KiB-aligned (the shards' alignment holds) */
	h = ntmem__heap_os_reserve(HEAP_RESERVATION, false, PAGE_READWRITE);
	if (h && ntmem__heap_os_commit(h, HEAP_STRUCT_BYTES, PAGE_READWRITE)) {
		ntmem__heap_os_release(h);
		h = NULL;
	}
	if (!h) {
		ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	h->flags = flOptions;
	h->max = dwMaximumSize;
	h->protect = (flOptions & HEAP_CREATE_ENABLE_EXECUTE) ?
		     PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
	if (getrandom(&h->secret, sizeof(h->secret), GRND_NONBLOCK) !=
	    sizeof(h->secret))
		h->secret = (uint32_t)(uintptr_t)h ^ 0x9e3779b9u;
	heap_lock_init(&h->lock);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&h->user_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	for (i = 0; i < HEAP_SHARDS; i++) {
		h->shards[i].heap = h;
		heap_lock_init(&h->shards[i].lock);
	}
	h->id = __atomic_add_fetch(&last_heap_id, 1, __ATOMIC_RELAXED);
	h->magic = HEAP_MAGIC;
	if (heaps_add(h)) {
		ntmem__heap_os_release(h);
		ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	return h;
}

HANDLE GetProcessHeap(void)
{
	struct heap *h = __atomic_load_n(&ntmem__heap_process_heap,
					 __ATOMIC_ACQUIRE);

	if (h)			/* every call but the first */
		return h;
	h = HeapCreate(0, 0, 0);
	if (!h)
		return NULL;
	pthread_mutex_lock(&heaps_lock);
	if (!ntmem__heap_process_heap) {
		__atomic_store_n(&ntmem__heap_process_heap, h, __ATOMIC_RELEASE);
		h = NULL;
	}
	pthread_mutex_unlock(&heaps_lock);
	if (h)				/* another thread was first */
		HeapDestroy(h);
	return ntmem__heap_process_heap;
}

struct heap *ntmem__heap_process_slow(void)
{
	DWORD le = GetLastError();
	struct heap *h = GetProcessHeap();

	if (!h)
		SetLastError(le);
	return h;
}

BOOL HeapDestroy(HANDLE hHeap)
{
	struct heap *h = heap_of(hHeap);
	size_t i;

	if (!h || h == ntmem__heap_process_heap) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	heaps_del(h);
	h->magic = 0;
	ntmem__heap_cache_flush(h);	/* drops this thread's blocks of it */
	/* wait for a thread handing its cache back (it found h before
	 * heaps_del and holds the lock) */
	pthread_mutex_lock(&h->lock);
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < HEAP_SHARDS; i++) {
		ntmem__heap_slabs_destroy(&h->shards[i]);
		pthread_mutex_destroy(&h->shards[i].lock);
	}
	ntmem__heap_larges_destroy(h);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->user_lock);
	ntmem__heap_os_release(h);
	return TRUE;
}

/* The fast paths of HeapAlloc and HeapFree: inlined whole, with no call
 * before a thread-cache hit. */
#define HOT	static inline __attribute__((always_inline))

/* Fill in the header of block @b for @n bytes; the pointer to hand out. */
HOT void *block_use(struct heap *h, struct heap_block *b, SIZE_T n)
{
	b->size = n;
	b->tag = heap_tag(h, b, BLOCK_USED);
	return (char *)b + HEAP_HDR;
}

/* A block for @n bytes, its header filled in; NULL if out of memory. */
HOT void *block_alloc(struct heap *h, DWORD flags, SIZE_T n)
{
	size_t total = n + HEAP_HDR;
	uint32_t class;
	void *b;

	if (n > MAX_REQUEST)
		return NULL;
	if (total > HEAP_MAX_SMALL) {
		heap_lock(h, flags, &h->lock);
		b = ntmem__heap_large_alloc(h, total);
		heap_unlock(h, flags, &h->lock);
	} else {
		class = heap_size_class(total < 32 ? 32 : total); /* smallest */
		if (heap_serialized(h))
			b = heap_cache_alloc(h, class);
		else		/* an unserialized heap: its first shard */
			b = ntmem__heap_slab_alloc(&h->shards[0], class);
	}
	return b ? block_use(h, b, n) : NULL;
}

HOT void *heap_alloc(struct heap *h, DWORD dwFlags, SIZE_T dwBytes)
{
	void *p = block_alloc(h, dwFlags, dwBytes);

	if (!p) {
		out_of_memory(h, dwFlags);
		return NULL;
	}
	if (dwFlags & HEAP_ZERO_MEMORY)
		memset(p, 0, dwBytes);
	return p;
}

/* A heap that is not simply live: locked by HeapLock, or none. */
static __attribute__((noinline)) void *heap_alloc_other(HANDLE hHeap,
							DWORD dwFlags,
							SIZE_T dwBytes)
{
	struct heap *h = heap_of(hHeap);
	void *p;

	if (!h)
		return NULL;
	bool held = heap_enter(h);
	p = heap_alloc(h, dwFlags, dwBytes);
	heap_leave(h, held);
	return p;
}

/* The one test on the fast path: a heap under HeapLock has another magic. */
LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
	struct heap *h = hHeap;

	if (__builtin_expect(h && h->magic == HEAP_MAGIC, 1))
		return heap_alloc(h, dwFlags, dwBytes);
	return heap_alloc_other(hHeap, dwFlags, dwBytes);
}

void *ntmem__heap_alloc(struct heap *h, DWORD dwFlags, SIZE_T dwBytes)
{
	return heap_alloc(h, dwFlags, dwBytes);
}

HOT bool block_live(const struct heap *h, const struct heap_block *b)
{
	return b && b->tag == heap_tag(h, b, BLOCK_USED);
}

/* @p's header if it is a live block in one of @h's slabs; takes no lock. */
HOT struct heap_block *slab_block(struct heap *h, const void *p,
				  struct slab **s)
{
	struct heap_block *b;

	if ((uintptr_t)p % HEAP_ALIGN)
		return NULL;
	b = heap_slab_find(h, p, s);
	return block_live(h, b) ? b : NULL;
}

/* @p's header if it is a live large block of @h (whose lock the caller
 * holds), and its capacity in *cap.  A misaligned @p matches no block:
 * large blocks start on 64 KiB. */
static struct heap_block *large_block(struct heap *h, const void *p,
				      size_t *cap)
{
	struct heap_block *b = (struct heap_block *)((char *)p - HEAP_HDR);
	size_t len = ntmem__heap_large_len(h, b);

	if (!len || !block_live(h, b))
		return NULL;
	*cap = len - HEAP_HDR;
	return b;
}

HOT void slab_block_free(struct heap *h, struct slab *s,
			 struct heap_block *b)
{
	if (heap_serialized(h))
		heap_cache_free(h, s->class, b);
	else
		ntmem__heap_slab_free(s, b);
}

/* HeapFree of a pointer that is not a live slab block: a large block, or
 * nothing of this heap. */
static bool heap_free_large(struct heap *h, DWORD dwFlags, void *lpMem)
{
	struct heap_block *b;
	size_t cap;

	heap_lock(h, dwFlags, &h->lock);
	b = large_block(h, lpMem, &cap);
	if (b)
		ntmem__heap_large_free(h, b);
	heap_unlock(h, dwFlags, &h->lock);
	if (!b) {
		ntmem__heap_corruption(lpMem);
		ntmem__fail(ERROR_INVALID_PARAMETER);
	}
	return b != NULL;
}

HOT bool heap_free(struct heap *h, DWORD dwFlags, void *lpMem)
{
	struct heap_block *b;
	struct slab *s;

	if (!lpMem)
		return TRUE;
	b = slab_block(h, lpMem, &s);
	if (!b)
		return heap_free_large(h, dwFlags, lpMem);
	slab_block_free(h, s, b);
	return TRUE;
}

static __attribute__((noinline)) BOOL heap_free_other(HANDLE hHeap,
						      DWORD dwFlags,
						      LPVOID lpMem)
{
	struct heap *h = heap_of(hHeap);
	bool ok;

	if (!h) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	bool held = heap_enter(h);
	ok = heap_free(h, dwFlags, lpMem);
	heap_leave(h, held);
	return ok;
}

BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
	struct heap *h = hHeap;

	if (__builtin_expect(h && h->magic == HEAP_MAGIC, 1))
		return heap_free(h, dwFlags, lpMem);
	return heap_free_other(hHeap, dwFlags, lpMem);
}

bool ntmem__heap_free(struct heap *h, DWORD dwFlags, void *lpMem)
{
	return heap_free(h, dwFlags, lpMem);
}

/* @p's live block in @h, and what it can hold; NULL if it is none. */
static struct heap_block *block_find(struct heap *h, DWORD flags,
				     const void *p, size_t *cap)
{
	struct heap_block *b;
	struct slab *s;

	if (!p)
		return NULL;
	b = slab_block(h, p, &s);
	if (b) {
		*cap = s->size - HEAP_HDR;
		return b;
	}
	heap_lock(h, flags, &h->lock);
	b = large_block(h, p, cap);
	heap_unlock(h, flags, &h->lock);
	return b;
}

SIZE_T HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem)
{
	struct heap *h = heap_of(hHeap);
	struct heap_block *b;
	SIZE_T size;
	size_t cap;

	if (!h)
		return (SIZE_T)-1;
	bool held = heap_enter(h);
	b = block_find(h, dwFlags, lpMem, &cap);
	size = b ? b->size : (SIZE_T)-1;
	heap_leave(h, held);
	return size;
}

static void *heap_realloc(struct heap *h, DWORD dwFlags, LPVOID lpMem,
			  SIZE_T dwBytes)
{
	struct heap_block *b;
	SIZE_T old;
	size_t cap;
	void *p = NULL;

	b = block_find(h, dwFlags, lpMem, &cap);
	if (!b) {
		ntmem__heap_corruption(lpMem);
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	old = b->size;
	if (dwBytes <= cap) {
		b->size = dwBytes;
		p = lpMem;
	} else if (!(dwFlags & HEAP_REALLOC_IN_PLACE_ONLY)) {
		p = block_alloc(h, dwFlags, dwBytes);
		if (p) {
			memcpy(p, lpMem, old);
			heap_free(h, dwFlags, lpMem);
		}
	}
	if (!p) {
		out_of_memory(h, dwFlags);
		return NULL;
	}
	if ((dwFlags & HEAP_ZERO_MEMORY) && dwBytes > old)
		memset((char *)p + old, 0, dwBytes - old);
	return p;
}

LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)
{
	struct heap *h = heap_of(hHeap);
	void *p;

	/* Windows: no block, no change, and no error either */
	if (!h || !lpMem)
		return NULL;
	bool held = heap_enter(h);
	p = heap_realloc(h, dwFlags, lpMem, dwBytes);
	heap_leave(h, held);
	return p;
}

BOOL HeapValidate(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem)
{
	struct heap *h = heap_of(hHeap);
	size_t cap, i;
	bool ok;

	if (!h)
		return FALSE;
	bool held = heap_enter(h);
	ok = !lpMem || block_find(h, dwFlags, lpMem, &cap) != NULL;
	for (i = 0; !lpMem && i < HEAP_SHARDS && ok; i++) {
		heap_lock(h, dwFlags, &h->shards[i].lock);
		ok = ntmem__heap_slabs_validate(&h->shards[i]);
		heap_unlock(h, dwFlags, &h->shards[i].lock);
	}
	heap_leave(h, held);
	return ok;
}

SIZE_T HeapCompact(HANDLE hHeap, DWORD dwFlags)
{
	struct heap *h = heap_of(hHeap);
	SIZE_T largest = 0;
	size_t i;

	if (!h) {		/* as Windows: 0 and the last error */
		ntmem__fail(ERROR_INVALID_HANDLE);
		return 0;
	}
	bool held = heap_enter(h);
	if (heap_serialized(h))
		ntmem__heap_cache_flush(h);
	for (i = 0; i < HEAP_SHARDS; i++) {
		struct heap_shard *sh = &h->shards[i];
		size_t room;

		heap_lock(h, dwFlags, &sh->lock);
		ntmem__heap_slabs_trim(sh);
		room = ntmem__heap_slabs_largest_free(sh);
		heap_unlock(h, dwFlags, &sh->lock);
		if (room > largest)
			largest = room;
	}
	heap_leave(h, held);
	if (!largest)
		SetLastError(ERROR_SUCCESS);	/* no room at all, not a failure */
	return largest;
}
