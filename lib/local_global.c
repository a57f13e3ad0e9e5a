// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Local* and Global* families, on the process heap, as kernelbase has
 * them (the two are one implementation; GMEM_ flags are LMEM_ flags but
 * for GMEM_DISCARDABLE, GMEM_DDESHARE and the obsolete ones).
 *
 * A fixed block is a plain process-heap block: its handle is its address
 * (16-byte aligned).  A moveable block has a handle: the address of the
 * data pointer in an entry of the handle table (so *(void **)handle is the
 * data, as Windows programs assume), 8 modulo 16, which tells the two
 * kinds apart.  A moveable block starts with a 16-byte prefix that holds
 * its handle, for LocalHandle.  The table is one ntmem reservation of
 * HANDLE_MAX entries, committed as it fills; entries are reused, never
 * returned, so a stale handle is recognised instead of crashing.
 */
#include <pthread.h>
#include <string.h>

#include "internal.h"

#define MEM_FLAG_USED		0x0001
#define MEM_FLAG_DISCARDABLE	0x0004
#define MEM_FLAG_DISCARDED	0x0008
#define MEM_FLAG_DDESHARE	0x8000

#define PREFIX		16		/* before a moveable block's data */
#define HANDLE_MAX	65536		/* entries: 1 MiB of address space */
#define TABLE_BYTES	((size_t)HANDLE_MAX * sizeof(struct mem_entry))
#define TABLE_CHUNK	((size_t)NTMEM__GRANULE)	/* committed at once */

struct mem_entry {			/* 16 bytes, 16-aligned */
	union {
		struct {
			uint16_t flags;
			uint8_t lock;	/* LocalLock count, up to 0xFF */
		};
		struct mem_entry *next_free;
	};
	void *ptr;			/* the data; the handle is &ptr */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_entry *table;		/* its reservation */
static size_t table_used;		/* entries ever handed out */
static size_t table_committed;		/* bytes */
static struct mem_entry *free_entries;

/* A fixed block's handle (its address), not NULL. */
static bool is_pointer(HLOCAL h)
{
	return h && ((uintptr_t)h & 15) == 0;
}

/* The entry behind a moveable handle; NULL if it is none.  Under
 * table_lock. */
static struct mem_entry *entry_of(HLOCAL h)
{
	uintptr_t a = (uintptr_t)h - offsetof(struct mem_entry, ptr);
	struct mem_entry *e = (struct mem_entry *)a;

	if (!table || ((uintptr_t)h & 15) != offsetof(struct mem_entry, ptr) ||
	    e < table || e >= table + table_used || !(e->flags & MEM_FLAG_USED))
		return NULL;
	return e;
}

static HLOCAL handle_of(struct mem_entry *e)
{
	return &e->ptr;
}

/* A forked child has no ntmem memory: no table, no moveable block. */
static void table_atfork_child(void)
{
	pthread_mutex_init(&table_lock, NULL);
	table = NULL;
	table_used = table_committed = 0;
	free_entries = NULL;
}

static void table_atfork(void)
{
	pthread_atfork(NULL, NULL, table_atfork_child);
}

/* A free entry, the table made or grown if need be; NULL if full. */
static struct mem_entry *entry_new(void)
{
	struct mem_entry *e = free_entries;

	if (e) {
		free_entries = e->next_free;
		memset(e, 0, sizeof(*e));
		return e;
	}
	if (!table) {
		static pthread_once_t once = PTHREAD_ONCE_INIT;

		pthread_once(&once, table_atfork);
		table = VirtualAlloc(NULL, TABLE_BYTES, MEM_RESERVE,
				     PAGE_READWRITE);
		if (!table)
			return NULL;
	}
	if (table_used == HANDLE_MAX)
		return NULL;
	if ((table_used + 1) * sizeof(*e) > table_committed) {
		if (!VirtualAlloc((char *)table + table_committed, TABLE_CHUNK,
				  MEM_COMMIT, PAGE_READWRITE))
			return NULL;
		table_committed += TABLE_CHUNK;
	}
	return &table[table_used++];
}

static void entry_free(struct mem_entry *e)
{
	e->ptr = NULL;
	e->next_free = free_entries;	/* flags become 0 with it: unused */
	free_entries = e;
}

/* The data of a new moveable block, its prefix naming @h. */
static void *moveable_alloc(HANDLE heap, DWORD hflags, SIZE_T n, HLOCAL h)
{
	char *b;

	if (n > (SIZE_T)-1 - PREFIX)
		return NULL;
	b = HeapAlloc(heap, hflags, n + PREFIX);
	if (!b)
		return NULL;
	memcpy(b, &h, sizeof(h));
	return b + PREFIX;
}

static void *block_of(void *data)
{
	return (char *)data - PREFIX;
}

HLOCAL LocalAlloc(UINT uFlags, SIZE_T uBytes)
{
	DWORD hflags = uFlags & LMEM_ZEROINIT ? HEAP_ZERO_MEMORY : 0;
	HANDLE heap = GetProcessHeap();
	DWORD le = GetLastError();
	struct mem_entry *e;
	void *p;

	if (uFlags & ~(UINT)LMEM_VALID_FLAGS) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (!heap)
		return NULL;		/* GetProcessHeap said why */
	if (!(uFlags & LMEM_MOVEABLE)) {
		p = HeapAlloc(heap, hflags, uBytes);
		if (!p)
			ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
		return p;
	}
	pthread_mutex_lock(&table_lock);
	e = entry_new();
	if (e) {
		e->flags = MEM_FLAG_USED;
		if (uFlags & LMEM_DISCARDABLE)
			e->flags |= MEM_FLAG_DISCARDABLE;
		if (!uBytes) {		/* a block born discarded */
			e->flags |= MEM_FLAG_DISCARDED;
		} else {
			e->ptr = moveable_alloc(heap, hflags, uBytes,
						handle_of(e));
			if (!e->ptr) {
				entry_free(e);
				e = NULL;
			}
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (!e) {
		ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	SetLastError(le);
	return handle_of(e);
}

HLOCAL LocalFree(HLOCAL hMem)
{
	HANDLE heap = GetProcessHeap();
	struct mem_entry *e;
	HLOCAL ret = hMem;

	if (!hMem)
		return NULL;
	if (is_pointer(hMem)) {
		DWORD le = GetLastError();

		if (heap && HeapFree(heap, 0, hMem))
			return NULL;
		SetLastError(le);
		ntmem__fail(ERROR_INVALID_HANDLE);
		return hMem;
	}
	pthread_mutex_lock(&table_lock);
	e = entry_of(hMem);
	if (e) {			/* locked or not, as Windows */
		if (e->ptr)
			HeapFree(heap, 0, block_of(e->ptr));
		entry_free(e);
		ret = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	if (ret)
		ntmem__fail(ERROR_INVALID_HANDLE);
	return ret;
}

LPVOID LocalLock(HLOCAL hMem)
{
	struct mem_entry *e;
	void *p = NULL;
	DWORD err = 0;

	if (!hMem || is_pointer(hMem))
		return hMem;
	pthread_mutex_lock(&table_lock);
	e = entry_of(hMem);
	if (!e)
		err = ERROR_INVALID_HANDLE;
	else if (!e->ptr)
		err = ERROR_DISCARDED;
	else {
		if (e->lock < LMEM_LOCKCOUNT)	/* it saturates */
			e->lock++;
		p = e->ptr;
	}
	pthread_mutex_unlock(&table_lock);
	if (err)
		ntmem__fail(err);
	return p;
}

/* TRUE while still locked; FALSE with NO_ERROR once unlocked. */
BOOL LocalUnlock(HLOCAL hMem)
{
	struct mem_entry *e;
	DWORD err;
	BOOL still = FALSE;

	if (is_pointer(hMem)) {
		ntmem__fail(ERROR_NOT_LOCKED);
		return FALSE;
	}
	pthread_mutex_lock(&table_lock);
	e = entry_of(hMem);
	if (!e) {
		err = ERROR_INVALID_HANDLE;
	} else if (!e->lock) {
		err = ERROR_NOT_LOCKED;
	} else {
		still = --e->lock != 0;
		err = ERROR_SUCCESS;
	}
	pthread_mutex_unlock(&table_lock);
	if (!still)
		SetLastError(err);
	return still;
}

SIZE_T LocalSize(HLOCAL hMem)
{
	HANDLE heap = GetProcessHeap();
	struct mem_entry *e;
	SIZE_T n = (SIZE_T)-1;

	if (heap && is_pointer(hMem)) {
		n = HeapSize(heap, 0, hMem);
	} else if (heap) {
		pthread_mutex_lock(&table_lock);
		e = entry_of(hMem);
		if (e)
			n = e->ptr ? HeapSize(heap, 0, block_of(e->ptr)) - PREFIX
				   : 0;
		pthread_mutex_unlock(&table_lock);
	}
	if (n == (SIZE_T)-1) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return 0;
	}
	return n;
}

/* The flags of a moveable block in @discardable's family's values. */
static UINT entry_flags(HLOCAL hMem, UINT discardable, UINT invalid)
{
	HANDLE heap = GetProcessHeap();
	struct mem_entry *e;
	UINT f = invalid;

	if (is_pointer(hMem)) {
		if (heap && HeapValidate(heap, 0, hMem))
			return 0;
		ntmem__fail(ERROR_INVALID_HANDLE);
		return invalid;
	}
	pthread_mutex_lock(&table_lock);
	e = entry_of(hMem);
	if (e) {
		f = e->lock;
		if (e->flags & MEM_FLAG_DISCARDABLE)
			f |= discardable;
		if (!e->ptr)
			f |= LMEM_DISCARDED;	/* = GMEM_DISCARDED */
		if ((e->flags & MEM_FLAG_DDESHARE) && discardable == GMEM_DISCARDABLE)
			f |= GMEM_DDESHARE;
	}
	pthread_mutex_unlock(&table_lock);
	if (f == invalid)
		ntmem__fail(ERROR_INVALID_HANDLE);
	return f;
}

UINT LocalFlags(HLOCAL hMem)
{
	return entry_flags(hMem, LMEM_DISCARDABLE, LMEM_INVALID_HANDLE);
}

HLOCAL LocalHandle(LPCVOID pMem)
{
	HANDLE heap = GetProcessHeap();
	struct mem_entry *e;
	HLOCAL h = NULL;

	if (!pMem) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (!heap)
		return NULL;
	pthread_mutex_lock(&table_lock);
	if (entry_of((HLOCAL)pMem)) {		/* a handle already */
		h = (HLOCAL)pMem;
	} else if (is_pointer((HLOCAL)pMem) &&
		   HeapValidate(heap, 0, block_of((void *)pMem))) {
		/* the data of a moveable block: the prefix names it */
		memcpy(&h, block_of((void *)pMem), sizeof(h));
		e = entry_of(h);
		if (!e || e->ptr != pMem)
			h = NULL;
	}
	if (!h && is_pointer((HLOCAL)pMem) && HeapValidate(heap, 0, pMem))
		h = (HLOCAL)pMem;		/* a fixed block */
	pthread_mutex_unlock(&table_lock);
	if (!h)
		ntmem__fail(ERROR_INVALID_HANDLE);
	return h;
}

/* LocalReAlloc of a fixed block. */
static HLOCAL fixed_realloc(HANDLE heap, void *p, SIZE_T n, UINT flags,
			    DWORD hflags)
{
	if (flags & LMEM_MODIFY)
		return p;
	if (flags & LMEM_DISCARDABLE) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (!(flags & LMEM_MOVEABLE))
		hflags |= HEAP_REALLOC_IN_PLACE_ONLY;
	p = HeapReAlloc(heap, hflags, p, n);
	if (!p)
		ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
	return p;
}

/* LocalReAlloc of a moveable block; under table_lock. */
static DWORD moveable_realloc(HANDLE heap, struct mem_entry *e, SIZE_T n,
			      UINT flags, DWORD hflags)
{
	void *p;

	if (flags & LMEM_MODIFY) {
		if (flags & LMEM_DISCARDABLE)
			e->flags |= MEM_FLAG_DISCARDABLE;
		return ERROR_SUCCESS;
	}
	if (flags & LMEM_DISCARDABLE)
		return ERROR_INVALID_PARAMETER;
	if (!n && (flags & LMEM_MOVEABLE) && !e->lock) {	/* discard */
		if (e->ptr)
			HeapFree(heap, 0, block_of(e->ptr));
		e->ptr = NULL;
		e->flags |= MEM_FLAG_DISCARDED;
		return ERROR_SUCCESS;
	}
	if (e->lock && !(flags & LMEM_MOVEABLE))
		hflags |= HEAP_REALLOC_IN_PLACE_ONLY;
	if (!e->ptr)
		p = moveable_alloc(heap, hflags, n, handle_of(e));
	else if (n > (SIZE_T)-1 - PREFIX)
		p = NULL;
	else
		p = HeapReAlloc(heap, hflags, block_of(e->ptr), n + PREFIX);
	if (!p)
		return ERROR_NOT_ENOUGH_MEMORY;
	e->ptr = e->ptr ? (char *)p + PREFIX : p;
	e->flags &= ~MEM_FLAG_DISCARDED;
	return ERROR_SUCCESS;
}

HLOCAL LocalReAlloc(HLOCAL hMem, SIZE_T uBytes, UINT uFlags)
{
	DWORD hflags = uFlags & LMEM_ZEROINIT ? HEAP_ZERO_MEMORY : 0;
	HANDLE heap = GetProcessHeap();
	DWORD le = GetLastError(), err;
	struct mem_entry *e;

	if (!heap)
		return NULL;
	if (is_pointer(hMem))
		return fixed_realloc(heap, hMem, uBytes, uFlags, hflags);
	pthread_mutex_lock(&table_lock);
	e = entry_of(hMem);
	err = e ? moveable_realloc(heap, e, uBytes, uFlags, hflags)
		: ERROR_INVALID_HANDLE;
	pthread_mutex_unlock(&table_lock);
	if (err) {
		ntmem__fail(err);
		return NULL;
	}
	SetLastError(le);
	return hMem;
}

/* ---- Global*: the same blocks, GMEM_ flags -------------------------- */

#define GMEM_OBSOLETE	(GMEM_NOCOMPACT | GMEM_NOT_BANKED | GMEM_NOTIFY)

/* GMEM_ to LMEM_: only the discardable bit differs; DDESHARE is dropped. */
static UINT local_flags(UINT g)
{
	UINT l = g & ~(UINT)(GMEM_DISCARDABLE | GMEM_DDESHARE | GMEM_OBSOLETE);

	return g & GMEM_DISCARDABLE ? l | LMEM_DISCARDABLE : l;
}

HGLOBAL GlobalAlloc(UINT uFlags, SIZE_T dwBytes)
{
	HGLOBAL h;

	if (uFlags & ~(UINT)GMEM_VALID_FLAGS) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return NULL;
	}
	if (!(uFlags & GMEM_MOVEABLE) && !dwBytes)
		dwBytes = 1;		/* unlike LocalAlloc: never empty */
	h = LocalAlloc(local_flags(uFlags), dwBytes);
	if (h && !is_pointer(h) && (uFlags & GMEM_DDESHARE)) {
		pthread_mutex_lock(&table_lock);
		entry_of(h)->flags |= MEM_FLAG_DDESHARE;
		pthread_mutex_unlock(&table_lock);
	}
	return h;
}

HGLOBAL GlobalFree(HGLOBAL hMem)
{
	return LocalFree(hMem);
}

LPVOID GlobalLock(HGLOBAL hMem)
{
	return LocalLock(hMem);
}

/* A fixed block is never locked, and unlocking it succeeds. */
BOOL GlobalUnlock(HGLOBAL hMem)
{
	if (is_pointer(hMem))
		return TRUE;
	return LocalUnlock(hMem);
}

SIZE_T GlobalSize(HGLOBAL hMem)
{
	return LocalSize(hMem);
}

UINT GlobalFlags(HGLOBAL hMem)
{
	return entry_flags(hMem, GMEM_DISCARDABLE, GMEM_INVALID_HANDLE);
}

HGLOBAL GlobalHandle(LPCVOID pMem)
{
	return LocalHandle(pMem);
}

/* As LocalReAlloc, but a locked block is neither discarded nor made
 * discardable, and GMEM_MODIFY | GMEM_MOVEABLE makes a fixed block
 * moveable: the block keeps its address, and gets a handle. */
HGLOBAL GlobalReAlloc(HGLOBAL hMem, SIZE_T dwBytes, UINT uFlags)
{
	const UINT to_moveable = GMEM_MODIFY | GMEM_MOVEABLE;
	struct mem_entry *e;
	bool locked;
	HGLOBAL h;
	char *b;

	if (!(uFlags & GMEM_MODIFY) && !is_pointer(hMem)) {
		pthread_mutex_lock(&table_lock);
		e = entry_of(hMem);
		locked = e && e->lock;
		pthread_mutex_unlock(&table_lock);
		if (locked && (!dwBytes || (uFlags & GMEM_DISCARDABLE))) {
			ntmem__fail(ERROR_INVALID_PARAMETER);
			return NULL;
		}
	}
	if ((uFlags & to_moveable) != to_moveable || !is_pointer(hMem))
		return LocalReAlloc(hMem, dwBytes, local_flags(uFlags));
	/* fixed to moveable: the data moves behind a prefix */
	if (LocalSize(hMem) == 0 && GetLastError() == ERROR_INVALID_HANDLE)
		return NULL;
	h = LocalAlloc(LMEM_MOVEABLE | (uFlags & GMEM_DISCARDABLE ?
					LMEM_DISCARDABLE : 0), 0);
	if (!h)
		return NULL;
	b = HeapReAlloc(GetProcessHeap(), 0, hMem, HeapSize(GetProcessHeap(),
							      0, hMem) + PREFIX);
	if (!b) {
		LocalFree(h);
		ntmem__fail(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	memmove(b + PREFIX, b, HeapSize(GetProcessHeap(), 0, b) - PREFIX);
	memcpy(b, &h, sizeof(h));
	pthread_mutex_lock(&table_lock);
	e = entry_of(h);
	e->ptr = b + PREFIX;
	e->flags &= ~MEM_FLAG_DISCARDED;
	pthread_mutex_unlock(&table_lock);
	return h;
}
