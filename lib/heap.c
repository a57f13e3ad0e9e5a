// SPDX-License-Identifier: GPL-2.0
/*
 * The Heap API: HeapCreate, HeapDestroy, HeapAlloc, HeapReAlloc, HeapFree,
 * HeapSize, HeapValidate and GetProcessHeap, over the segments and large
 * blocks of heap_slab.c and heap_large.c (heap.h has the layout).
 *
 * As on Windows, HeapAlloc and HeapReAlloc do not set the last error when
 * they run out of memory (they raise STATUS_NO_MEMORY instead with
 * HEAP_GENERATE_EXCEPTIONS, through RpcRaiseException); HeapFree sets
 * ERROR_INVALID_PARAMETER for a pointer that is not a live block.
 *
 * A forked child does not inherit ntmem memory, so every heap of the
 * parent is dead there: calls on it fail, and GetProcessHeap makes a new
 * process heap.
 */
#include <stdlib.h>
#include <string.h>
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
static struct heap *process_heap;	/* written under heaps_lock */

static void heaps_atfork_child(void)
{
	size_t i;

	pthread_mutex_init(&heaps_lock, NULL);
	for (i = 0; i < nheaps; i++)
		heaps[i]->magic = 0;	/* its memory is not in this process */
	nheaps = 0;
	process_heap = NULL;
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

/* The heap behind a handle, or NULL (a wild handle may still crash). */
static struct heap *heap_of(HANDLE handle)
{
	struct heap *h = handle;

	return h && h->magic == HEAP_MAGIC ? h : NULL;
}

static bool serialized(const struct heap *h, DWORD flags)
{
	return !((h->flags | flags) & HEAP_NO_SERIALIZE);
}

static void heap_lock(struct heap *h, DWORD flags)
{
	if (serialized(h, flags))
		pthread_mutex_lock(&h->lock);
}

static void heap_unlock(struct heap *h, DWORD flags)
{
	if (serialized(h, flags))
		pthread_mutex_unlock(&h->lock);
}

static void out_of_memory(const struct heap *h, DWORD flags)
{
	if ((h->flags | flags) & HEAP_GENERATE_EXCEPTIONS)
		RpcRaiseException((RPC_STATUS)STATUS_NO_MEMORY);
}

HANDLE HeapCreate(DWORD flOptions, SIZE_T dwInitialSize,
		  SIZE_T dwMaximumSize)
{
	struct heap *h;
	int fd = ntmem__fd();

	if (fd < 0) {
		ntmem__fail(ntmem__error_from_errno(fd, ERROR_NOT_SUPPORTED));
		return NULL;
	}
	if ((flOptions & ~(DWORD)CREATE_FLAGS) ||
	    (dwMaximumSize && dwInitialSize > dwMaximumSize)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
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
	pthread_mutex_init(&h->lock, NULL);
	h->magic = HEAP_MAGIC;
	if (heaps_add(h)) {
		free(h);
		ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	return h;
}

HANDLE GetProcessHeap(void)
{
	struct heap *h = __atomic_load_n(&process_heap, __ATOMIC_ACQUIRE);

	if (h)			/* every call but the first */
		return h;
	h = HeapCreate(0, 0, 0);
	if (!h)
		return NULL;
	pthread_mutex_lock(&heaps_lock);
	if (!process_heap) {
		__atomic_store_n(&process_heap, h, __ATOMIC_RELEASE);
		h = NULL;
	}
	pthread_mutex_unlock(&heaps_lock);
	if (h)				/* another thread was first */
		HeapDestroy(h);
	return process_heap;
}

BOOL HeapDestroy(HANDLE hHeap)
{
	struct heap *h = heap_of(hHeap);

	if (!h || h == process_heap) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	heaps_del(h);
	h->magic = 0;
	ntmem__heap_slabs_destroy(h);
	ntmem__heap_larges_destroy(h);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return TRUE;
}

/* A block for @n bytes with its header filled in; NULL if out of memory. */
static void *block_alloc(struct heap *h, SIZE_T n)
{
	size_t total = n + HEAP_HDR;
	struct heap_block *b;

	if (n > MAX_REQUEST)
		return NULL;
	if (total < 32)
		total = 32;		/* the smallest class */
	if (total <= HEAP_MAX_SMALL)
		b = ntmem__heap_slab_alloc(h, ntmem__heap_size_class(total));
	else
		b = ntmem__heap_large_alloc(h, total);
	if (!b)
		return NULL;
	b->size = n;
	b->cookie = heap_cookie(h, b);
	b->state = BLOCK_USED;
	return (char *)b + HEAP_HDR;
}

LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
	struct heap *h = heap_of(hHeap);
	void *p;

	if (!h)
		return NULL;
	heap_lock(h, dwFlags);
	p = block_alloc(h, dwBytes);
	heap_unlock(h, dwFlags);
	if (!p) {
		out_of_memory(h, dwFlags);
		return NULL;
	}
	if (dwFlags & HEAP_ZERO_MEMORY)
		memset(p, 0, dwBytes);
	return p;
}

/* Where @p's block lives: a slab (*slab set) or a large block (*large). */
struct found {
	struct heap_block *b;
	struct slab *slab;
	size_t large;
};

/* @p is a live block of @h; caller holds the lock. */
static bool block_find(struct heap *h, const void *p, struct found *f)
{
	f->slab = NULL;
	if (!p || (uintptr_t)p % HEAP_ALIGN)
		return false;
	f->b = ntmem__heap_slab_find(h, p, &f->slab);
	if (!f->b)
		f->b = ntmem__heap_large_find(h, p, &f->large);
	return f->b && f->b->cookie == heap_cookie(h, f->b) &&
	       f->b->state == BLOCK_USED;
}

static size_t block_capacity(struct heap *h, const struct found *f)
{
	return f->slab ? ntmem__heap_class_size(f->slab->class) - HEAP_HDR :
			 ntmem__heap_large_capacity(h, f->large);
}

static void block_free(struct heap *h, struct found *f)
{
	if (f->slab)
		ntmem__heap_slab_free(h, f->slab, f->b);
	else
		ntmem__heap_large_free(h, f->large);
}

BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
	struct heap *h = heap_of(hHeap);
	struct found f;
	bool ok;

	if (!h) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	if (!lpMem)
		return TRUE;
	heap_lock(h, dwFlags);
	ok = block_find(h, lpMem, &f);
	if (ok)
		block_free(h, &f);
	heap_unlock(h, dwFlags);
	if (!ok)
		ntmem__fail(ERROR_INVALID_PARAMETER);
	return ok;
}

SIZE_T HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem)
{
	struct heap *h = heap_of(hHeap);
	SIZE_T size = (SIZE_T)-1;
	struct found f;

	if (!h)
		return size;
	heap_lock(h, dwFlags);
	if (block_find(h, lpMem, &f))
		size = f.b->size;
	heap_unlock(h, dwFlags);
	return size;
}

/* Resize in place if the block has room; caller holds the lock. */
static bool resize_in_place(struct heap *h, struct found *f, SIZE_T n)
{
	if (n > block_capacity(h, f))
		return false;
	f->b->size = n;
	return true;
}

LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)
{
	struct heap *h = heap_of(hHeap);
	SIZE_T old = 0;
	struct found f;
	void *p = NULL;
	bool valid;

	if (!h)
		return NULL;
	heap_lock(h, dwFlags);
	valid = block_find(h, lpMem, &f);
	if (valid) {
		old = f.b->size;
		if (resize_in_place(h, &f, dwBytes)) {
			p = lpMem;
		} else if (!(dwFlags & HEAP_REALLOC_IN_PLACE_ONLY)) {
			p = block_alloc(h, dwBytes);
			if (p) {
				memcpy(p, lpMem, old);
				block_free(h, &f);
			}
		}
	}
	heap_unlock(h, dwFlags);
	if (!valid) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (!p) {
		out_of_memory(h, dwFlags);
		return NULL;
	}
	if ((dwFlags & HEAP_ZERO_MEMORY) && dwBytes > old)
		memset((char *)p + old, 0, dwBytes - old);
	return p;
}

BOOL HeapValidate(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem)
{
	struct heap *h = heap_of(hHeap);
	struct found f;
	bool ok;

	if (!h)
		return FALSE;
	heap_lock(h, dwFlags);
	ok = lpMem ? block_find(h, lpMem, &f) : ntmem__heap_slabs_validate(h);
	heap_unlock(h, dwFlags);
	return ok;
}
