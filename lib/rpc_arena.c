// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The RpcSs package's allocation arena (rpc_arena.h): blocks are cut in
 * address order from chunks obtained with VirtualAlloc (64 KiB first,
 * doubling up to 4 MiB; a block above 256 KiB gets a chunk of its own),
 * so destroying an arena (disabling an environment) is one VirtualFree
 * per chunk, however many blocks it holds, and gives all of the memory
 * back to the system.  Each block has a 16-byte header (its size and
 * chunk), and each chunk a bitmap with one bit per 16 bytes (a big
 * block's chunk: just its bit), set where a live block starts.
 * ntmem__rpc_arena_free() finds the chunk by binary search in the sorted
 * chunk array before it reads anything, so a foreign, interior or already
 * freed pointer is refused, never trusted.  Freed blocks go to free lists
 * (exact sizes up to 1 KiB, one list above) and are reused; a block with
 * its own chunk is released at once.
 *
 * Locking: none here; the caller serialises the calls on one arena.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ntmem/windows.h>

#include "rpc_arena.h"

#define ALIGN		16UL		/* blocks; also the bitmap's unit */
#define HDR		16UL		/* header before each block */
#define GRANULE		0x10000UL	/* what VirtualAlloc reserves anyway */
#define CHUNK_MIN	GRANULE
#define CHUNK_MAX	(4UL << 20)
#define BIG		(256UL << 10)	/* larger blocks: a chunk each */
#define NSMALL		RPC_ARENA_NSMALL
#define MEDIUM_SCAN	32		/* how far to look in the medium list */

struct chunk {
	char *end;			/* past the chunk */
	char *bump;			/* where the next new block goes */
	size_t nbits;			/* of live[] */
	bool own;			/* holds one big block only */
	uint64_t live[];		/* bit per ALIGN bytes: a live block */
};

struct block {				/* HDR bytes */
	size_t size;			/* usable bytes, a multiple of ALIGN */
	struct chunk *chunk;
};

struct free_block {			/* in a freed block's first bytes */
	struct free_block *next;
};

/* VirtualAlloc and VirtualFree, reporting through RPC_STATUS only: the
 * thread's last error is none of this package's business. */
static void *os_alloc(size_t len)
{
	DWORD le = GetLastError();
	void *p = VirtualAlloc(NULL, len, MEM_RESERVE | MEM_COMMIT,
			       PAGE_READWRITE);

	SetLastError(le);
	return p;
}

static void os_free(void *p)
{
	DWORD le = GetLastError();

	VirtualFree(p, 0, MEM_RELEASE);
	SetLastError(le);
}

/* Bitmap words for a chunk of @len bytes: one bit per ALIGN bytes, except
 * that a chunk of one block only needs the bit of that block. */
static size_t chunk_words(size_t len, bool own)
{
	return own ? 1 : (len / ALIGN + 63) / 64;
}

static size_t chunk_hdr(size_t len, bool own)
{
	size_t bytes = sizeof(struct chunk) + chunk_words(len, own) * 8;

	return (bytes + ALIGN - 1) & ~(ALIGN - 1);
}

static size_t bit_of(const struct chunk *c, const void *p)
{
	return ((const char *)p - (const char *)c) / ALIGN;
}

static void bit_set(struct chunk *c, const void *p)
{
	size_t i = bit_of(c, p);

	c->live[i / 64] |= 1ULL << (i % 64);
}

static void bit_clear(struct chunk *c, const void *p)
{
	size_t i = bit_of(c, p);

	c->live[i / 64] &= ~(1ULL << (i % 64));
}

static bool bit_test(const struct chunk *c, const void *p)
{
	size_t i = bit_of(c, p);

	return i < c->nbits && (c->live[i / 64] & (1ULL << (i % 64)));
}

static struct block *block_of(void *p)
{
	return (struct block *)((char *)p - HDR);
}

/* Index of the first chunk above @p in a->chunks. */
static size_t chunk_index(const struct rpc_arena *a, const void *p)
{
	size_t lo = 0, hi = a->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((const char *)a->chunks[mid] <= (const char *)p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool chunk_insert(struct rpc_arena *a, struct chunk *c)
{
	size_t i;

	if (a->nchunks == a->capchunks) {
		size_t cap = a->capchunks ? 2 * a->capchunks : 16;
		struct chunk **n = realloc(a->chunks, cap * sizeof(*n));

		if (!n)
			return false;
		a->chunks = n;
		a->capchunks = cap;
	}
	i = chunk_index(a, c);
	memmove(&a->chunks[i + 1], &a->chunks[i],
		(a->nchunks - i) * sizeof(*a->chunks));
	a->chunks[i] = c;
	a->nchunks++;
	return true;
}

/* A chunk with room for @need bytes (headers included) after its own
 * header; @own: for one big block.  VirtualAlloc'd memory is zeroed, so
 * the bitmap starts empty. */
static struct chunk *chunk_new(struct rpc_arena *a, size_t need, bool own)
{
	size_t len = own || need > a->next_size ? need : a->next_size;
	struct chunk *c;

	len = (len + GRANULE - 1) & ~(GRANULE - 1);
	/* The header grows with the chunk; this settles in a step or two. */
	while (chunk_hdr(len, own) + need > len)
		len = (chunk_hdr(len, own) + need + GRANULE - 1) &
		      ~(GRANULE - 1);
	c = os_alloc(len);
	if (!c)
		return NULL;
	if (!chunk_insert(a, c)) {
		os_free(c);
		return NULL;
	}
	c->end = (char *)c + len;
	c->bump = (char *)c + chunk_hdr(len, own);
	c->nbits = chunk_words(len, own) * 64;
	c->own = own;
	if (!own && a->next_size < CHUNK_MAX)
		a->next_size *= 2;
	return c;
}

static void chunk_release(struct rpc_arena *a, struct chunk *c)
{
	size_t i = chunk_index(a, c) - 1;

	memmove(&a->chunks[i], &a->chunks[i + 1],
		(a->nchunks - i - 1) * sizeof(*a->chunks));
	a->nchunks--;
	os_free(c);
}

/* Cuts a new block of @size usable bytes from the end of @c. */
static void *block_cut(struct chunk *c, size_t size)
{
	struct block *b = (struct block *)c->bump;

	c->bump += HDR + size;
	b->size = size;
	b->chunk = c;
	bit_set(c, b + 1);
	return b + 1;
}

static struct free_block **medium_fit(struct rpc_arena *a, size_t size)
{
	struct free_block **pp = &a->medium;
	int n;

	/* Bounded first fit; a block twice too big would waste its half. */
	for (n = 0; *pp && n < MEDIUM_SCAN; pp = &(*pp)->next, n++) {
		size_t have = block_of(*pp)->size;

		if (have >= size && have / 2 <= size)
			return pp;
	}
	return NULL;
}

/* A freed block of @size bytes (or a little more), or NULL. */
static void *block_reuse(struct rpc_arena *a, size_t size)
{
	struct free_block **pp, *f;

	if (size <= NSMALL * ALIGN)
		pp = &a->small[size / ALIGN - 1];
	else
		pp = medium_fit(a, size);
	if (!pp || !*pp)
		return NULL;
	f = *pp;
	*pp = f->next;
	bit_set(block_of(f)->chunk, f);
	return f;
}

void ntmem__rpc_arena_init(struct rpc_arena *a)
{
	memset(a, 0, sizeof(*a));
	a->next_size = CHUNK_MIN;
}

void *ntmem__rpc_arena_alloc(struct rpc_arena *a, size_t n)
{
	size_t size = n ? (n + ALIGN - 1) & ~(ALIGN - 1) : ALIGN;
	struct chunk *c;
	void *p;

	if (size > BIG) {
		c = chunk_new(a, HDR + size, true);
		return c ? block_cut(c, size) : NULL;
	}
	p = block_reuse(a, size);
	if (p)
		return p;
	c = a->cur;
	if (!c || (size_t)(c->end - c->bump) < HDR + size) {
		/* The old chunk's tail, too small for this block, is lost:
		 * at most BIG + HDR of a 4 MiB chunk. */
		c = chunk_new(a, HDR + size, false);
		if (!c)
			return NULL;
		a->cur = c;
	}
	return block_cut(c, size);
}

/* Puts a freed block on its free list. */
static void block_push(struct rpc_arena *a, struct free_block *f)
{
	size_t size = block_of(f)->size;
	struct free_block **head = size <= NSMALL * ALIGN ?
				   &a->small[size / ALIGN - 1] : &a->medium;

	f->next = *head;
	*head = f;
}

bool ntmem__rpc_arena_free(struct rpc_arena *a, void *p)
{
	struct chunk *c;
	size_t i;

	if ((uintptr_t)p % ALIGN)
		return false;
	i = chunk_index(a, p);
	if (!i)
		return false;
	c = a->chunks[i - 1];
	if ((char *)p >= c->end || !bit_test(c, p))
		return false;
	bit_clear(c, p);
	if (c->own)
		chunk_release(a, c);
	else
		block_push(a, p);
	return true;
}

void ntmem__rpc_arena_destroy(struct rpc_arena *a)
{
	size_t i;

	for (i = 0; i < a->nchunks; i++)
		os_free(a->chunks[i]);
	free(a->chunks);
	a->chunks = NULL;
	a->nchunks = a->capchunks = 0;
	a->cur = NULL;
	memset(a->small, 0, sizeof(a->small));
	a->medium = NULL;
}

void ntmem__rpc_arena_forget(struct rpc_arena *a)
{
	free(a->chunks);
}
