// SPDX-License-Identifier: GPL-2.0
/*
 * The Heap API as Windows programs see it beyond allocating: NULL
 * pointers in HeapFree and HeapReAlloc, a HANDLE that is the heap's own
 * memory, HeapLock/HeapUnlock, HeapWalk, GetProcessHeaps and
 * HeapSetInformation/HeapQueryInformation.
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

static HANDLE heap_ok(struct __test_metadata *_metadata, DWORD flags)
{
	HANDLE h;

	SetLastError(LE_SENTINEL);
	h = HeapCreate(flags, 0, 0);
	ASSERT_NE(NULL, h) TH_LOG("HeapCreate: %u", GetLastError());
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	return h;
}

TEST(null_pointers)
{
	HANDLE h = heap_ok(_metadata, 0);

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, HeapFree(h, 0, NULL));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	SetLastError(0);
	ASSERT_EQ(NULL, HeapReAlloc(h, 0, NULL, 100));
	ASSERT_EQ(0, GetLastError());
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(NULL, HeapReAlloc(h, HEAP_ZERO_MEMORY, NULL, 100));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

/* VirtualQuery on the handle: the heap's own committed memory. */
static void handle_is_memory(struct __test_metadata *_metadata, HANDLE h)
{
	MEMORY_BASIC_INFORMATION m;

	ASSERT_EQ(0, (uintptr_t)h % G);
	vq_ok(_metadata, h, &m);
	ASSERT_EQ(h, m.BaseAddress);
	ASSERT_EQ(h, m.AllocationBase);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(MEM_PRIVATE, m.Type);
	ASSERT_EQ(PAGE_READWRITE, m.Protect);
	ASSERT_LE(P, m.RegionSize);
	ASSERT_GE(G, m.RegionSize);
}

TEST(handle_is_the_heaps_reservation)
{
	HANDLE h = heap_ok(_metadata, 0);
	MEMORY_BASIC_INFORMATION m;
	char *p = HeapAlloc(h, 0, 200000);

	handle_is_memory(_metadata, h);
	handle_is_memory(_metadata, GetProcessHeap());
	ASSERT_NE(NULL, p);
	ASSERT_TRUE((uintptr_t)p < (uintptr_t)h ||
		    (uintptr_t)p >= (uintptr_t)h + G);	/* blocks elsewhere */
	ASSERT_EQ(TRUE, HeapDestroy(h));
	vq_ok(_metadata, h, &m);
	ASSERT_EQ(MEM_FREE, m.State);
}

/* HeapLock: another thread's calls wait; the owner's go through. */
struct locker {
	HANDLE heap;
	int done;
	void *block;
};

static void *alloc_one(void *arg)
{
	struct locker *l = arg;

	l->block = HeapAlloc(l->heap, 0, 48);
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *unlock_other(void *arg)
{
	struct locker *l = arg;

	SetLastError(LE_SENTINEL);
	l->done = HeapUnlock(l->heap) ? -1 : (int)GetLastError();
	return NULL;
}

TEST(lock_excludes_other_threads)
{
	struct locker l = { .heap = heap_ok(_metadata, 0) };
	pthread_t t;
	void *mine;

	/* warm the thread caches: the lock must stop even a cached path */
	HeapFree(l.heap, 0, HeapAlloc(l.heap, 0, 48));
	ASSERT_EQ(TRUE, HeapLock(l.heap));
	ASSERT_EQ(TRUE, HeapLock(l.heap));		/* recursive */
	mine = HeapAlloc(l.heap, 0, 48);		/* the owner goes on */
	ASSERT_NE(NULL, mine);
	ASSERT_EQ(0, pthread_create(&t, NULL, unlock_other, &l));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(ERROR_NOT_OWNER, l.done);
	l.done = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, alloc_one, &l));
	usleep(200000);
	ASSERT_EQ(0, __atomic_load_n(&l.done, __ATOMIC_ACQUIRE));
	ASSERT_EQ(TRUE, HeapUnlock(l.heap));
	usleep(100000);
	ASSERT_EQ(0, __atomic_load_n(&l.done, __ATOMIC_ACQUIRE));
	ASSERT_EQ(TRUE, HeapUnlock(l.heap));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(1, l.done);
	ASSERT_NE(NULL, l.block);
	ASSERT_FAILS(ERROR_NOT_OWNER, HeapUnlock(l.heap));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, HeapLock(NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, HeapUnlock(NULL));
	ASSERT_EQ(TRUE, HeapFree(l.heap, 0, mine));
	ASSERT_EQ(TRUE, HeapFree(l.heap, 0, l.block));
	ASSERT_EQ(TRUE, HeapDestroy(l.heap));
}

TEST(lock_no_serialize_heap)
{
	HANDLE h = heap_ok(_metadata, HEAP_NO_SERIALIZE);

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, HeapLock(h));
	ASSERT_EQ(TRUE, HeapUnlock(h));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

#define NBLOCKS 300

TEST(walk)
{
	HANDLE h = heap_ok(_metadata, 0);
	static void *p[NBLOCKS];
	static SIZE_T n[NBLOCKS];
	static int seen[NBLOCKS];
	PROCESS_HEAP_ENTRY e;
	uintptr_t last = 0;
	int regions = 0, uncommitted = 0, free_entries = 0, busy = 0;

	for (int i = 0; i < NBLOCKS; i++) {
		n[i] = i % 50 == 7 ? 100000 + i : 1 + (i * 37) % 3000;
		p[i] = HeapAlloc(h, 0, n[i]);
		ASSERT_NE(NULL, p[i]);
	}
	for (int i = 0; i < NBLOCKS; i += 3) {		/* a third freed */
		ASSERT_EQ(TRUE, HeapFree(h, 0, p[i]));
		p[i] = NULL;
	}
	HeapCompact(h, 0);	/* this thread's cached blocks back to slabs */
	memset(&e, 0, sizeof(e));
	SetLastError(LE_SENTINEL);
	while (HeapWalk(h, &e)) {
		MEMORY_BASIC_INFORMATION m;
		uintptr_t a = (uintptr_t)e.lpData;

		/* the heap's own region first, then the rest in order */
		if (a - (uintptr_t)h >= G) {
			ASSERT_LE(last, a);
			last = a;
		}
		if (e.wFlags & PROCESS_HEAP_REGION) {
			regions++;
			vq_ok(_metadata, e.lpData, &m);
			ASSERT_EQ(e.lpData, m.AllocationBase);
			ASSERT_EQ(e.cbData, e.Region.dwCommittedSize +
					    e.Region.dwUnCommittedSize);
			continue;
		}
		if (e.wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE) {
			uncommitted++;
			vq_ok(_metadata, e.lpData, &m);
			ASSERT_EQ(MEM_RESERVE, m.State);
			ASSERT_EQ(e.cbData, m.RegionSize);
			continue;
		}
		vq_ok(_metadata, e.lpData, &m);
		ASSERT_EQ(MEM_COMMIT, m.State);
		if (!(e.wFlags & PROCESS_HEAP_ENTRY_BUSY)) {
			free_entries++;
			for (int i = 0; i < NBLOCKS; i++)
				ASSERT_NE(p[i], e.lpData);
			continue;
		}
		busy++;
		ASSERT_EQ(e.cbData, HeapSize(h, 0, e.lpData));
		for (int i = 0; i < NBLOCKS; i++)
			if (p[i] == e.lpData) {
				ASSERT_EQ(n[i], e.cbData);
				seen[i]++;
			}
	}
	ASSERT_EQ(ERROR_NO_MORE_ITEMS, GetLastError());
	for (int i = 0; i < NBLOCKS; i++) {
		ASSERT_EQ(p[i] ? 1 : 0, seen[i]) TH_LOG("block %d", i);
	}
	ASSERT_EQ(NBLOCKS - (NBLOCKS + 2) / 3, busy);
	ASSERT_LT(0, free_entries);
	ASSERT_LT(0, uncommitted);
	ASSERT_LT(2, regions);
	/* a walk restarts from NULL, at the heap's own region: the handle */
	memset(&e, 0, sizeof(e));
	ASSERT_EQ(TRUE, HeapWalk(h, &e));
	ASSERT_EQ(PROCESS_HEAP_REGION, e.wFlags);
	ASSERT_EQ(h, e.lpData);
	ASSERT_EQ(G, e.cbData);
	ASSERT_FAILS(ERROR_INVALID_HANDLE, HeapWalk(NULL, &e));
	ASSERT_FAILS(ERROR_NOACCESS, HeapWalk(h, NULL));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

TEST(process_heaps)
{
	HANDLE a = heap_ok(_metadata, 0), b = heap_ok(_metadata, 0);
	HANDLE list[64], small[2] = { (HANDLE)1, (HANDLE)1 };
	DWORD n, i;
	int found = 0;

	SetLastError(LE_SENTINEL);
	n = GetProcessHeaps(0, NULL);
	ASSERT_LE(3, n);
	ASSERT_GE(64, n);
	ASSERT_EQ(n, GetProcessHeaps(64, list));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(GetProcessHeap(), list[0]);
	for (i = 0; i < n; i++)
		found += (list[i] == a) + 2 * (list[i] == b);
	ASSERT_EQ(3, found);
	ASSERT_FAILS(ERROR_NOACCESS, GetProcessHeaps(4, NULL));
	/* too small: the count, nothing stored */
	ASSERT_EQ(n, GetProcessHeaps(n - 1 < 2 ? n - 1 : 2, small));
	ASSERT_EQ((HANDLE)1, small[0]);
	ASSERT_EQ(TRUE, HeapDestroy(b));
	ASSERT_EQ(n - 1, GetProcessHeaps(64, list));
	for (i = 0; i < n - 1; i++)
		ASSERT_NE(b, list[i]);
	ASSERT_EQ(TRUE, HeapDestroy(a));
}

TEST(query_information)
{
	HANDLE h = heap_ok(_metadata, 0), ns = heap_ok(_metadata, HEAP_NO_SERIALIZE);
	ULONG v = 77;
	SIZE_T len = 0;

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, HeapQueryInformation(h, HeapCompatibilityInformation,
					     &v, sizeof(v), &len));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(2, v);		/* a low-fragmentation heap */
	ASSERT_EQ(sizeof(ULONG), len);
	ASSERT_EQ(TRUE, HeapQueryInformation(ns, HeapCompatibilityInformation,
					     &v, sizeof(v), NULL));
	ASSERT_EQ(0, v);
	len = 0;
	ASSERT_FAILS(ERROR_INSUFFICIENT_BUFFER,
		     HeapQueryInformation(h, HeapCompatibilityInformation,
					  &v, 2, &len));
	ASSERT_EQ(sizeof(ULONG), len);
	ASSERT_FAILS(ERROR_NOACCESS,
		     HeapQueryInformation(NULL, HeapCompatibilityInformation,
					  &v, sizeof(v), &len));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     HeapQueryInformation(h, HeapEnableTerminationOnCorruption,
					  &v, sizeof(v), &len));
	ASSERT_EQ(TRUE, HeapDestroy(ns));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

TEST(set_information)
{
	HANDLE h = heap_ok(_metadata, 0), ns = heap_ok(_metadata, HEAP_NO_SERIALIZE);
	HEAP_OPTIMIZE_RESOURCES_INFORMATION opt = {
		HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION, 0 };
	ULONG v = 2;

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, HeapSetInformation(h, HeapCompatibilityInformation,
					   &v, sizeof(v)));
	ASSERT_EQ(TRUE, HeapSetInformation(NULL, HeapOptimizeResources,
					   &opt, sizeof(opt)));
	ASSERT_EQ(TRUE, HeapSetInformation(h, HeapOptimizeResources,
					   &opt, sizeof(opt)));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_FAILS(ERROR_INSUFFICIENT_BUFFER,
		     HeapSetInformation(h, HeapCompatibilityInformation, &v, 2));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     HeapSetInformation(NULL, HeapCompatibilityInformation,
					&v, sizeof(v)));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     HeapSetInformation(ns, HeapCompatibilityInformation,
					&v, sizeof(v)));
	v = 0;
	ASSERT_FAILS(ERROR_GEN_FAILURE,
		     HeapSetInformation(h, HeapCompatibilityInformation,
					&v, sizeof(v)));
	ASSERT_FAILS(ERROR_INSUFFICIENT_BUFFER,
		     HeapSetInformation(h, HeapOptimizeResources, &opt, 4));
	opt.Version = 2;
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     HeapSetInformation(h, HeapOptimizeResources,
					&opt, sizeof(opt)));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     HeapSetInformation(h, HeapTag, &v, sizeof(v)));
	ASSERT_EQ(TRUE, HeapDestroy(ns));
	ASSERT_EQ(TRUE, HeapDestroy(h));
}

/* Without the setting a bad pointer is an error; with it, the end. */
static int child_double_free(void *arg)
{
	HANDLE h = HeapCreate(0, 0, 0);
	void *p = h ? HeapAlloc(h, 0, 32) : NULL;

	if (!p || !HeapFree(h, 0, p))
		return 2;
	SetLastError(0);
	if (HeapFree(h, 0, p) || GetLastError() != ERROR_INVALID_PARAMETER)
		return 3;
	if (!arg)
		return 0;
	if (!HeapSetInformation(NULL, HeapEnableTerminationOnCorruption,
				NULL, 0))
		return 4;
	HeapFree(h, 0, p);
	return 5;
}

TEST(termination_on_corruption)
{
	ASSERT_EQ(0, run_in_child(child_double_free, NULL));
	ASSERT_EQ(128 + SIGABRT, run_in_child(child_double_free, (void *)1));
}

TEST_HARNESS_MAIN
