// SPDX-License-Identifier: GPL-2.0
/*
 * The RpcSs package's allocation environments (spec 5.3, 5.4): arenas that
 * threads attach to, with RpcSm{Enable,Disable}Allocate, RpcSm{Allocate,
 * Free}, RpcSm{Get,Set}ThreadHandle and their raising RpcSs twins.
 *
 * The arena: blocks are cut in address order from chunks obtained with
 * VirtualAlloc (64 KiB first, doubling up to 4 MiB; a block above 256 KiB
 * gets a chunk of its own), so disabling an environment is one
 * VirtualFree per chunk, however many blocks it holds, and gives all of
 * the memory back to the system.  Each block has a 16-byte header (its
 * size and chunk), and each chunk a bitmap with one bit per 16 bytes (a
 * big block's chunk: just its bit), set where a live block starts.
 * RpcSmFree finds the chunk by binary search in the sorted chunk array
 * before it reads anything, so a foreign, interior or already freed
 * pointer is refused, never trusted.  Freed blocks go to free lists
 * (exact sizes up to 1 KiB, one list above) and are reused; a block with
 * its own chunk is released at once.
 *
 * Handles and lifetime: an environment's handle is a serial number, never
 * reused, looked up in the registry of live environments, so a dead
 * handle stays dead.  The environment itself is reference counted (the
 * registry, and each attached thread), because threads may still be
 * attached after the owner disabled it: they must find it dead, not
 * freed.  A thread's exit drops its reference (a pthread key destructor).
 *
 * Locking: envs_lock guards the registry; env->lock guards the arena of
 * threads sharing it.  Never both at once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <ntmem/rpc.h>
#include <ntmem/windows.h>

#define ALIGN		16UL		/* blocks; also the bitmap's unit */
#define HDR		16UL		/* header before each block */
#define GRANULE		0x10000UL	/* what VirtualAlloc reserves anyway */
#define CHUNK_MIN	GRANULE
#define CHUNK_MAX	(4UL << 20)
#define BIG		(256UL << 10)	/* larger blocks: a chunk each */
#define NSMALL		64		/* exact free lists: 16..1024 bytes */
#define MEDIUM_SCAN	32		/* how far to look in the medium list */
/* Beyond any address space: refused before sizes can wrap. */
#define MAX_REQUEST	((size_t)1 << 47)

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

struct env {
	pthread_mutex_t lock;		/* the arena */
	uintptr_t id;			/* the handle */
	uint64_t owner;			/* thread_serial() of the owner */
	unsigned long generation;	/* the fork generation it lives in */
	int refs;			/* registry + attached threads */
	bool dead;			/* disabled by the owner */
	struct env *next;		/* in the registry */
	struct chunk **chunks;		/* sorted by address */
	size_t nchunks, capchunks;
	struct chunk *cur;		/* new blocks are cut from it */
	size_t next_size;		/* of the next shared chunk */
	struct free_block *small[NSMALL];
	struct free_block *medium;
};

static pthread_mutex_t envs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct env *envs;		/* the live environments */
static uintptr_t last_id;
static unsigned long generation;	/* bumped in a forked child */
static pthread_key_t exit_key;
static uint64_t last_serial;

static __thread struct env *attached;	/* holds a reference */
static __thread uint64_t serial;

/* ---- the arena (callers hold env->lock) ------------------------------- */

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

/* Index of the first chunk above @p in env->chunks. */
static size_t chunk_index(const struct env *e, const void *p)
{
	size_t lo = 0, hi = e->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((const char *)e->chunks[mid] <= (const char *)p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool chunk_insert(struct env *e, struct chunk *c)
{
	size_t i;

	if (e->nchunks == e->capchunks) {
		size_t cap = e->capchunks ? 2 * e->capchunks : 16;
		struct chunk **n = realloc(e->chunks, cap * sizeof(*n));

		if (!n)
			return false;
		e->chunks = n;
		e->capchunks = cap;
	}
	i = chunk_index(e, c);
	memmove(&e->chunks[i + 1], &e->chunks[i],
		(e->nchunks - i) * sizeof(*e->chunks));
	e->chunks[i] = c;
	e->nchunks++;
	return true;
}

/* A chunk with room for @need bytes (headers included) after its own
 * header; @own: for one big block.  VirtualAlloc'd memory is zeroed, so
 * the bitmap starts empty. */
static struct chunk *chunk_new(struct env *e, size_t need, bool own)
{
	size_t len = own || need > e->next_size ? need : e->next_size;
	struct chunk *c;

	len = (len + GRANULE - 1) & ~(GRANULE - 1);
	/* The header grows with the chunk; this settles in a step or two. */
	while (chunk_hdr(len, own) + need > len)
		len = (chunk_hdr(len, own) + need + GRANULE - 1) &
		      ~(GRANULE - 1);
	c = os_alloc(len);
	if (!c)
		return NULL;
	if (!chunk_insert(e, c)) {
		os_free(c);
		return NULL;
	}
	c->end = (char *)c + len;
	c->bump = (char *)c + chunk_hdr(len, own);
	c->nbits = chunk_words(len, own) * 64;
	c->own = own;
	if (!own && e->next_size < CHUNK_MAX)
		e->next_size *= 2;
	return c;
}

static void chunk_release(struct env *e, struct chunk *c)
{
	size_t i = chunk_index(e, c) - 1;

	memmove(&e->chunks[i], &e->chunks[i + 1],
		(e->nchunks - i - 1) * sizeof(*e->chunks));
	e->nchunks--;
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

static struct free_block **medium_fit(struct env *e, size_t size)
{
	struct free_block **pp = &e->medium;
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
static void *block_reuse(struct env *e, size_t size)
{
	struct free_block **pp, *f;

	if (size <= NSMALL * ALIGN)
		pp = &e->small[size / ALIGN - 1];
	else
		pp = medium_fit(e, size);
	if (!pp || !*pp)
		return NULL;
	f = *pp;
	*pp = f->next;
	bit_set(block_of(f)->chunk, f);
	return f;
}

static void *arena_alloc(struct env *e, size_t n)
{
	size_t size = n ? (n + ALIGN - 1) & ~(ALIGN - 1) : ALIGN;
	struct chunk *c;
	void *p;

	if (size > BIG) {
		c = chunk_new(e, HDR + size, true);
		return c ? block_cut(c, size) : NULL;
	}
	p = block_reuse(e, size);
	if (p)
		return p;
	c = e->cur;
	if (!c || (size_t)(c->end - c->bump) < HDR + size) {
		/* The old chunk's tail, too small for this block, is lost:
		 * at most BIG + HDR of a 4 MiB chunk. */
		c = chunk_new(e, HDR + size, false);
		if (!c)
			return NULL;
		e->cur = c;
	}
	return block_cut(c, size);
}

/* Puts a freed block on its free list. */
static void block_push(struct env *e, struct free_block *f)
{
	size_t size = block_of(f)->size;
	struct free_block **head = size <= NSMALL * ALIGN ?
				   &e->small[size / ALIGN - 1] : &e->medium;

	f->next = *head;
	*head = f;
}

/* Gives @p back if it is a live block of @e; false if it is not. */
static bool arena_free(struct env *e, void *p)
{
	struct chunk *c;
	size_t i;

	if ((uintptr_t)p % ALIGN)
		return false;
	i = chunk_index(e, p);
	if (!i)
		return false;
	c = e->chunks[i - 1];
	if ((char *)p >= c->end || !bit_test(c, p))
		return false;
	bit_clear(c, p);
	if (c->own)
		chunk_release(e, c);
	else
		block_push(e, p);
	return true;
}

/* Every block at once: one VirtualFree per chunk. */
static void arena_destroy(struct env *e)
{
	size_t i;

	for (i = 0; i < e->nchunks; i++)
		os_free(e->chunks[i]);
	free(e->chunks);
	e->chunks = NULL;
	e->nchunks = e->capchunks = 0;
	e->cur = NULL;
	memset(e->small, 0, sizeof(e->small));
	e->medium = NULL;
}

/* ---- environments, threads, the registry ------------------------------ */

/* A forked child has none of the parent's ntmem memory (so no arena) and
 * only the forking thread: every environment is dead there; the
 * registry's lock may have been held by a thread that is not. */
static void atfork_child(void)
{
	generation++;
	envs = NULL;
	pthread_mutex_init(&envs_lock, NULL);
}

static void env_put(struct env *e);

/* A thread that exits attached is detached (spec 5.4). */
static void thread_exit(void *unused)
{
	(void)unused;
	if (attached)
		env_put(attached);
	attached = NULL;
}

static void package_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	pthread_key_create(&exit_key, thread_exit);
}

static void package_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, package_init);
}

/* Identifies the owner; unlike pthread_t, never reused by a later thread. */
static uint64_t thread_serial(void)
{
	if (!serial)
		serial = __atomic_add_fetch(&last_serial, 1, __ATOMIC_RELAXED);
	return serial;
}

static bool env_live(const struct env *e)
{
	return e && e->generation == generation &&
	       !__atomic_load_n(&e->dead, __ATOMIC_ACQUIRE);
}

/* The calling thread's environment, if it is attached to a live one. */
static struct env *current(void)
{
	return env_live(attached) ? attached : NULL;
}

static void env_get(struct env *e)
{
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
}

static void env_put(struct env *e)
{
	if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Only a dead environment loses its last reference: the registry
	 * holds one while it lives.  One of a parent process may have its
	 * lock held by a thread that is not in this child: leave it be. */
	if (e->generation == generation)
		pthread_mutex_destroy(&e->lock);
	free(e->chunks);
	free(e);
}

/* Attaches the calling thread to @e (NULL: detaches), taking over a
 * reference the caller holds. */
static void attach(struct env *e)
{
	struct env *old = attached;

	attached = e;
	if (e)
		pthread_setspecific(exit_key, e);
	if (old)
		env_put(old);
}

static RPC_SS_THREAD_HANDLE handle_of(const struct env *e)
{
	return (RPC_SS_THREAD_HANDLE)e->id;
}

/* The live environment whose handle is @h, with a reference; or NULL. */
static struct env *env_find(RPC_SS_THREAD_HANDLE h)
{
	struct env *e;

	pthread_mutex_lock(&envs_lock);
	for (e = envs; e && handle_of(e) != h; e = e->next)
		;
	if (e)
		env_get(e);
	pthread_mutex_unlock(&envs_lock);
	return e;
}

static void env_register(struct env *e)
{
	pthread_mutex_lock(&envs_lock);
	e->id = ++last_id;
	e->next = envs;
	envs = e;
	pthread_mutex_unlock(&envs_lock);
}

static void env_unregister(struct env *e)
{
	struct env **pp;

	pthread_mutex_lock(&envs_lock);
	for (pp = &envs; *pp && *pp != e; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = e->next;
	pthread_mutex_unlock(&envs_lock);
}

RPC_STATUS RpcSmEnableAllocate(void)
{
	struct env *e;

	package_once();
	if (current())
		return RPC_S_INVALID_ARG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return RPC_S_OUT_OF_MEMORY;
	pthread_mutex_init(&e->lock, NULL);
	e->owner = thread_serial();
	e->generation = generation;
	e->refs = 2;			/* the registry and the owner */
	e->next_size = CHUNK_MIN;
	env_register(e);
	attach(e);
	return RPC_S_OK;
}

RPC_STATUS RpcSmDisableAllocate(void)
{
	struct env *e = current();

	if (!e || e->owner != thread_serial()) {
		attach(NULL);		/* not the owner: only detach */
		return RPC_S_OK;
	}
	/* Out of the registry first: no thread can attach any more. */
	env_unregister(e);
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&e->dead, true, __ATOMIC_RELEASE);
	arena_destroy(e);
	pthread_mutex_unlock(&e->lock);
	attach(NULL);
	env_put(e);			/* the registry's reference */
	return RPC_S_OK;
}

void *RpcSmAllocate(size_t Size, RPC_STATUS *pStatus)
{
	struct env *e = current();
	RPC_STATUS st = RPC_S_OK;
	void *p = NULL;

	if (!e) {
		st = RPC_S_INVALID_ARG;
	} else if (Size > MAX_REQUEST) {
		st = RPC_S_OUT_OF_MEMORY;
	} else {
		pthread_mutex_lock(&e->lock);
		if (e->dead)		/* disabled since current() */
			st = RPC_S_INVALID_ARG;
		else if (!(p = arena_alloc(e, Size)))
			st = RPC_S_OUT_OF_MEMORY;
		pthread_mutex_unlock(&e->lock);
	}
	if (pStatus)
		*pStatus = st;
	return p;
}

RPC_STATUS RpcSmFree(void *NodeToFree)
{
	struct env *e;
	bool ok;

	if (!NodeToFree)
		return RPC_S_OK;
	e = current();
	if (!e)
		return RPC_S_INVALID_ARG;
	pthread_mutex_lock(&e->lock);
	ok = !e->dead && arena_free(e, NodeToFree);
	pthread_mutex_unlock(&e->lock);
	return ok ? RPC_S_OK : RPC_S_INVALID_ARG;
}

RPC_SS_THREAD_HANDLE RpcSmGetThreadHandle(RPC_STATUS *pStatus)
{
	struct env *e = current();

	if (pStatus)
		*pStatus = RPC_S_OK;
	return e ? handle_of(e) : NULL;
}

RPC_STATUS RpcSmSetThreadHandle(RPC_SS_THREAD_HANDLE Id)
{
	struct env *e = NULL;

	package_once();
	if (Id) {
		e = env_find(Id);
		if (!e)
			return RPC_S_INVALID_ARG;
	}
	attach(e);
	return RPC_S_OK;
}

/* ---- the raising twins -------------------------------------------------- */

static void raise_on_error(RPC_STATUS st)
{
	if (st != RPC_S_OK)
		RpcRaiseException(st);
}

void RpcSsEnableAllocate(void)
{
	raise_on_error(RpcSmEnableAllocate());
}

void RpcSsDisableAllocate(void)
{
	raise_on_error(RpcSmDisableAllocate());
}

void *RpcSsAllocate(size_t Size)
{
	RPC_STATUS st;
	void *p = RpcSmAllocate(Size, &st);

	raise_on_error(st);
	return p;
}

void RpcSsFree(void *NodeToFree)
{
	raise_on_error(RpcSmFree(NodeToFree));
}

RPC_SS_THREAD_HANDLE RpcSsGetThreadHandle(void)
{
	return RpcSmGetThreadHandle(NULL);
}

void RpcSsSetThreadHandle(RPC_SS_THREAD_HANDLE Id)
{
	raise_on_error(RpcSmSetThreadHandle(Id));
}
