// SPDX-License-Identifier: GPL-2.0
/*
 * The Heap API: sizes and alignment, HeapSize, HEAP_ZERO_MEMORY,
 * HeapReAlloc, the error detection (double free, foreign and interior
 * pointers), memory that is committed on demand and given back, fixed-size
 * heaps, the process heap, and 8 threads on one heap.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"
#include <ntmem/rpc.h>

#define SLAB_BYTES	0x10000	/* the heap's slab: what HeapCompact can offer */

/* A heap that must be created. */
static HANDLE heap_ok(struct __test_metadata *_metadata, DWORD flags,
		      SIZE_T max)
{
	HANDLE h;

	SetLastError(LE_SENTINEL);
	h = HeapCreate(flags, 0, max);
	ASSERT_NE(NULL, h) TH_LOG("HeapCreate: %u", GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return h;
}

/* Fill with bytes that depend on the block and the offset. */
static void fill(void *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed * 31 + i);
}

static bool intact(const void *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed * 31 + i))
			return false;
	return true;
}

TEST(alloc_size_alignment_contents)
{
	static const SIZE_T sizes[] = { 0, 1, 15, 16, 17, 100, 240, 241, 1000,
					4096, 4097, 30000, 65519, 65520,
					65536, 100000, 1 << 20 };
	HANDLE h = heap_ok(_metadata, 0, 0);
	void *p[ARRAY_SIZE(sizes)];

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = HeapAlloc(h, 0, sizes[i]);
		ASSERT_NE(NULL, p[i]) TH_LOG("size %zu", sizes[i]);
		ASSERT_EQ(0, (uintptr_t)p[i] % 16);
		ASSERT_EQ(sizes[i], HeapSize(h, 0, p[i]));
		fill(p[i], sizes[i], i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_TRUE(intact(p[i], sizes[i], i)) TH_LOG("size %zu",
							      sizes[i]);
		ASSERT_EQ(TRUE, HeapValidate(h, 0, p[i]));
	}
	ASSERT_EQ(TRUE, HeapValidate(h, 0, NULL));
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		ASSERT_EQ(TRUE, HeapFree(h, 0, p[i]));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

TEST(zero_memory)
{
	HANDLE h = heap_ok(_metadata, 0, 0);
	unsigned char *p = HeapAlloc(h, 0, 200);

	ASSERT_NE(NULL, p);
	memset(p, 0xAA, 200);
	ASSERT_EQ(TRUE, HeapFree(h, 0, p));
	p = HeapAlloc(h, HEAP_ZERO_MEMORY, 200);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(-1, check_bytes(p, 200, 0));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

/* Double frees, foreign and interior pointers: refused, heap unharmed. */
TEST(bad_pointers_detected)
{
	HANDLE h = heap_ok(_metadata, 0, 0), other = heap_ok(_metadata, 0, 0);
	char *p = HeapAlloc(h, 0, 64), *q = HeapAlloc(h, 0, 64);
	char *big = HeapAlloc(h, 0, 200000);
	char *o = HeapAlloc(other, 0, 64);
	char *m = malloc(64);
	char stack[64];
	void *bad[] = { m, stack + 16, p + 16, p + 8, o, big + 16,
			(void *)0x123450, (void *)(uintptr_t)0x7fff00000010 };

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, big);
	fill(q, 64, 7);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapFree(h, 0, bad[i]));
		ASSERT_EQ((SIZE_T)-1, HeapSize(h, 0, bad[i]));
		ASSERT_EQ(FALSE, HeapValidate(h, 0, bad[i]));
	}
	ASSERT_EQ(TRUE, HeapFree(h, 0, p));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapFree(h, 0, p));	/* twice */
	ASSERT_EQ(FALSE, HeapValidate(h, 0, p));
	ASSERT_EQ(TRUE, HeapFree(h, 0, big));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapFree(h, 0, big));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     HeapReAlloc(h, 0, p, 10));
	ASSERT_EQ(TRUE, HeapValidate(h, 0, NULL));
	ASSERT_TRUE(intact(q, 64, 7));
	ASSERT_EQ(TRUE, HeapFree(h, 0, NULL));	/* as on Windows */
	ASSERT_FAILS(ERROR_INVALID_HANDLE, HeapFree(NULL, 0, q));
	free(m);
	ASSERT_EQ(TRUE, HeapDestroy(other));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

TEST(realloc_in_place_and_moving)
{
	HANDLE h = heap_ok(_metadata, 0, 0);
	char *p = HeapAlloc(h, 0, 100), *q;

	ASSERT_NE(NULL, p);
	fill(p, 100, 3);
	/* 100 bytes sit in a 128-byte block: 110 fits in place */
	ASSERT_EQ(p, HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 110));
	ASSERT_EQ(110u, HeapSize(h, 0, p));
	ASSERT_TRUE(intact(p, 100, 3));
	ASSERT_EQ(-1, check_bytes(p + 100, 10, 0));
	ASSERT_EQ(NULL, HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, p, 5000));
	ASSERT_EQ(110u, HeapSize(h, 0, p));
	q = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 5000);
	ASSERT_NE(NULL, q);
	ASSERT_NE(p, q);
	ASSERT_TRUE(intact(q, 100, 3));
	ASSERT_EQ(-1, check_bytes(q + 110, 5000 - 110, 0));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapFree(h, 0, p));
	p = HeapReAlloc(h, 0, q, 300000);	/* to a large block */
	ASSERT_NE(NULL, p);
	ASSERT_TRUE(intact(p, 100, 3));
	p = HeapReAlloc(h, 0, p, 50);		/* shrinking stays */
	ASSERT_EQ(50u, HeapSize(h, 0, p));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

#define SLAB_PAGES	16	/* 64 KiB */
#define MAX_IDLE_SLABS	64	/* emptied slabs the heap keeps unreset */
#define RESET_DELAY_MS	100	/* ... for this long at most */

/* Blocks of 1000 bytes, allocated and freed by a thread of their own: its
 * cache of free blocks goes back to the heap when it exits. */
struct fill {
	HANDLE heap;
	int n;
	long most;		/* committed pages at the peak */
};

static void *fill_and_free(void *arg)
{
	static void *p[12000];
	struct fill *f = arg;
	int i;

	for (i = 0; i < f->n; i++) {
		p[i] = HeapAlloc(f->heap, 0, 1000);
		if (!p[i])
			return NULL;
		memset(p[i], 1, 1000);
	}
	f->most = ntmem_counter("committed_pages");
	for (i = 0; i < f->n; i++)
		if (!HeapFree(f->heap, 0, p[i]))
			return NULL;
	return f;
}

static long unreset_pages(long c0, long reset0)
{
	return (ntmem_counter("committed_pages") - c0) -
	       (ntmem_counter("reset_pages") - reset0);
}

/* One small block commits one 64 KiB slab, not its 4 MiB segment. */
TEST(committed_on_demand_and_returned)
{
	long c_none = ntmem_counter("committed_pages");
	long r_none = ntmem_counter("reservations");
	long reset0 = ntmem_counter("reset_pages");
	HANDLE h = heap_ok(_metadata, 0, 0);
	/* the heap's own structure: one reservation, a page or two of it */
	long c0 = ntmem_counter("committed_pages");
	long r0 = ntmem_counter("reservations");
	struct fill three_segments = { h, 12000, 0 }, two_slabs = { h, 100, 0 };
	MEMORY_BASIC_INFORMATION m;
	void *p, *big, *ret;
	pthread_t t;

	ASSERT_EQ(r_none + 1, r0);
	ASSERT_LT(c_none, c0);
	ASSERT_GE(c_none + 2, c0);
	p = HeapAlloc(h, 0, 1);
	ASSERT_EQ(c0 + SLAB_PAGES, ntmem_counter("committed_pages"));
	vq_ok(_metadata, p, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(MEM_PRIVATE, m.Type);

	/* 12000 blocks of 1000 bytes span three segments */
	ASSERT_EQ(0, pthread_create(&t, NULL, fill_and_free, &three_segments));
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_NE(NULL, ret);
	ASSERT_LT(c0 + 2 * 1024, three_segments.most);
	/*
	 * Emptied segments are released; in the two still in use (p's and
	 * the one slab kept ready for 1000-byte blocks) every other slab was
	 * MEM_RESET (its memory may go back to the system), but for those
	 * kept idle for churn.
	 */
	ASSERT_EQ(r0 + 2, ntmem_counter("reservations"));
	ASSERT_GE(c0 + 2 * 1024, ntmem_counter("committed_pages"));
	ASSERT_GE((2 + MAX_IDLE_SLABS) * SLAB_PAGES,
		  unreset_pages(c0, reset0));
	ASSERT_EQ(TRUE, HeapValidate(h, 0, NULL));

	/* Slabs idle for long are reset when the next one empties (two
	 * slabs' worth: the idle ones are reused first, newest first). */
	usleep(2 * RESET_DELAY_MS * 1000);
	ASSERT_EQ(0, pthread_create(&t, NULL, fill_and_free, &two_slabs));
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_NE(NULL, ret);
	ASSERT_GE((2 + 2) * SLAB_PAGES, unreset_pages(c0, reset0));

	/* HeapCompact gives the idle slabs back too: left are p's and the
	 * one the last filling thread kept ready for 1000-byte blocks */
	ASSERT_EQ(SLAB_BYTES - 16, HeapCompact(h, 0));
	ASSERT_GE(2 * SLAB_PAGES, unreset_pages(c0, reset0));

	big = HeapAlloc(h, 0, 1 << 20);	/* a large block: its own */
	ASSERT_EQ(r0 + 3, ntmem_counter("reservations"));
	ASSERT_EQ(TRUE, HeapFree(h, 0, big));
	ASSERT_EQ(r0 + 2, ntmem_counter("reservations"));
	ASSERT_EQ(TRUE, HeapDestroy(h));
	ASSERT_EQ(c_none, ntmem_counter("committed_pages"));
	ASSERT_EQ(r_none, ntmem_counter("reservations"));
}

/* Blocks a thread freed wait in its cache: still caught when freed twice,
 * counted by HeapValidate, and handed back by HeapCompact. */
TEST(thread_cache)
{
	HANDLE h = heap_ok(_metadata, 0, 0);
	enum { N = 64 };
	void *p[N];
	int i;

	for (i = 0; i < N; i++) {
		p[i] = HeapAlloc(h, 0, 48);
		ASSERT_NE(NULL, p[i]);
	}
	for (i = 0; i < N; i++)
		ASSERT_EQ(TRUE, HeapFree(h, 0, p[i]));
	for (i = 0; i < N; i++) {
		ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapFree(h, 0, p[i]));
		ASSERT_EQ(FALSE, HeapValidate(h, 0, p[i]));
		ASSERT_EQ((SIZE_T)-1, HeapSize(h, 0, p[i]));
	}
	ASSERT_EQ(TRUE, HeapValidate(h, 0, NULL));
	/* the most recently freed block comes back first */
	ASSERT_EQ(p[N - 1], HeapAlloc(h, 0, 40));
	ASSERT_NE(0, HeapCompact(h, 0));
	ASSERT_EQ(TRUE, HeapValidate(h, 0, NULL));
	ASSERT_EQ(TRUE, HeapFree(h, 0, p[N - 1]));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, HeapCompact(NULL, 0));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

/* A heap with a maximum size: allocations stop there, with no last error. */
TEST(fixed_size_heap)
{
	HANDLE h = heap_ok(_metadata, 0, 256 * 1024);
	long c0 = ntmem_counter("committed_pages");
	int n = 0;

	SetLastError(LE_SENTINEL);
	while (HeapAlloc(h, 0, 4000))
		n++;
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_LT(0, n);
	ASSERT_GE(64, ntmem_counter("committed_pages") - c0);
	ASSERT_EQ(NULL, HeapAlloc(h, 0, 512 * 1024));
	ASSERT_EQ(TRUE, HeapDestroy(h));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapCreate(0, 8192, 4096));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapCreate(0x80000000, 0, 0));
}

/* No SEH on Linux: HEAP_GENERATE_EXCEPTIONS raises through RpcRaiseException. */
static void raised(RPC_STATUS code)
{
	_exit((DWORD)code == STATUS_NO_MEMORY ? 42 : 1);
}

static int child_runs_out(void *arg)
{
	HANDLE h = HeapCreate(HEAP_GENERATE_EXCEPTIONS, 0, 0x10000);

	(void)arg;
	if (!h || !HeapAlloc(h, 0, 100))
		return 2;
	HeapAlloc(h, 0, 0x20000);	/* no handler: one line, abort */
	return 3;
}

static int child_raises_per_call(void *arg)
{
	HANDLE h = HeapCreate(0, 0, 0x10000);

	(void)arg;
	if (!h || HeapAlloc(h, 0, 0x20000))	/* NULL: no exception */
		return 2;
	NtmemSetRpcRaiseHandler(raised);
	HeapAlloc(h, HEAP_GENERATE_EXCEPTIONS, 0x20000);
	return 4;
}

TEST(generate_exceptions)
{
	ASSERT_EQ(128 + SIGABRT, run_in_child(child_runs_out, NULL));	/* heap flag */
	ASSERT_EQ(42, run_in_child(child_raises_per_call, NULL));
}

static void *process_heap_of_thread(void *arg)
{
	(void)arg;
	return GetProcessHeap();
}

TEST(process_heap)
{
	HANDLE h = GetProcessHeap();
	pthread_t t;
	void *th, *p;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, pthread_create(&t, NULL, process_heap_of_thread, NULL));
	ASSERT_EQ(0, pthread_join(t, &th));
	ASSERT_EQ(h, th);
	p = HeapAlloc(h, 0, 10);
	ASSERT_NE(NULL, p);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, HeapDestroy(h));
	ASSERT_EQ(TRUE, HeapFree(h, 0, p));
}

static int child_uses_heaps(void *arg)
{
	HANDLE parent_heap = arg, h = GetProcessHeap();
	char *p;

	if (!h || h == parent_heap)
		return 1;
	if (HeapAlloc(parent_heap, 0, 8))	/* its memory is not here */
		return 2;
	p = HeapAlloc(h, 0, 100);
	if (!p)
		return 3;
	memset(p, 1, 100);
	return HeapFree(h, 0, p) ? 0 : 4;
}

TEST(fork_child_gets_a_new_process_heap)
{
	HANDLE h = GetProcessHeap();

	ASSERT_NE(NULL, HeapAlloc(h, 0, 8));
	ASSERT_EQ(0, run_in_child(child_uses_heaps, h));
}

/* 8 threads allocate and free on one heap at once, checking contents. */
#define THREADS		8
#define ROUNDS		20000
#define LIVE		128

static HANDLE shared_heap;
static int thread_errors;

static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg + 1;
	void *live[LIVE] = { 0 };
	size_t len[LIVE] = { 0 };
	unsigned int tag[LIVE] = { 0 };

	for (int i = 0; i < ROUNDS; i++) {
		int k = rand_r(&seed) % LIVE;

		if (live[k]) {
			if (!intact(live[k], len[k], tag[k]) ||
			    HeapSize(shared_heap, 0, live[k]) != len[k] ||
			    !HeapFree(shared_heap, 0, live[k]))
				goto fail;
			live[k] = NULL;
			continue;
		}
		len[k] = 1 + rand_r(&seed) % (rand_r(&seed) % 8 ? 256 : 8192);
		live[k] = HeapAlloc(shared_heap, 0, len[k]);
		if (!live[k] || (uintptr_t)live[k] % 16)
			goto fail;
		tag[k] = (unsigned int)i;
		fill(live[k], len[k], tag[k]);
	}
	for (int k = 0; k < LIVE; k++)
		if (live[k] && !HeapFree(shared_heap, 0, live[k]))
			goto fail;
	return NULL;
fail:
	__atomic_add_fetch(&thread_errors, 1, __ATOMIC_RELAXED);
	return NULL;
}

TEST(eight_threads_one_heap)
{
	long c0 = ntmem_counter("committed_pages");
	pthread_t t[THREADS];

	shared_heap = heap_ok(_metadata, 0, 0);
	for (long i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, (void *)i));
	for (int i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	ASSERT_EQ(0, thread_errors);
	ASSERT_EQ(TRUE, HeapValidate(shared_heap, 0, NULL));
	ASSERT_EQ(TRUE, HeapDestroy(shared_heap));
	ASSERT_EQ(c0, ntmem_counter("committed_pages"));
}

TEST_HARNESS_MAIN
