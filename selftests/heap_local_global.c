// SPDX-License-Identifier: GPL-2.0
/*
 * LocalAlloc/GlobalAlloc and their families: fixed and moveable blocks,
 * handles, lock counts, discardable and discarded blocks, reallocation
 * rules, flags, and threads sharing the handle table.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

/* Busy blocks of the process heap, counted by HeapWalk. */
static int busy_blocks(void)
{
	PROCESS_HEAP_ENTRY e;
	int n = 0;

	HeapCompact(GetProcessHeap(), 0);
	memset(&e, 0, sizeof(e));
	while (HeapWalk(GetProcessHeap(), &e))
		n += !!(e.wFlags & PROCESS_HEAP_ENTRY_BUSY);
	return n;
}

static bool all_zero(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i])
			return false;
	return true;
}

TEST(fixed_blocks)
{
	char *p, *z;

	SetLastError(LE_SENTINEL);
	p = LocalAlloc(LMEM_FIXED, 100);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, (uintptr_t)p % 16);
	ASSERT_EQ(TRUE, HeapValidate(GetProcessHeap(), 0, p));
	memset(p, 0xAB, 100);
	ASSERT_EQ(100, LocalSize(p));
	ASSERT_EQ(0, LocalFlags(p));
	ASSERT_EQ(p, LocalLock(p));
	ASSERT_EQ(p, LocalHandle(p));
	ASSERT_EQ(p, GlobalHandle(p));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_FAILS(ERROR_NOT_LOCKED, LocalUnlock(p));
	ASSERT_EQ(TRUE, GlobalUnlock(p));	/* Global: a fixed block "unlocks" */
	ASSERT_EQ(NULL, LocalFree(p));
	ASSERT_EQ(FALSE, HeapValidate(GetProcessHeap(), 0, p));
	z = LocalAlloc(LPTR, 5000);
	ASSERT_NE(NULL, z);
	ASSERT_TRUE(all_zero(z, 5000));
	ASSERT_EQ(NULL, LocalFree(z));
	/* an empty fixed block: Local keeps it empty, Global gives a byte */
	p = LocalAlloc(LMEM_FIXED, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, LocalSize(p));
	ASSERT_EQ(NULL, LocalFree(p));
	p = GlobalAlloc(GMEM_FIXED, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, GlobalSize(p));
	ASSERT_EQ(NULL, GlobalFree(p));
	ASSERT_EQ(NULL, LocalFree(NULL));
	ASSERT_EQ(ERROR_SUCCESS, 0);
}

TEST(moveable_handles_and_lock_counts)
{
	HLOCAL h;
	char *p;

	SetLastError(LE_SENTINEL);
	h = LocalAlloc(LHND, 64);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(8, (uintptr_t)h % 16);	/* not a block address */
	ASSERT_EQ(0, LocalFlags(h));
	p = LocalLock(h);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(p, *(void **)h);		/* the handle holds the data */
	ASSERT_TRUE(all_zero(p, 64));
	ASSERT_EQ(1, LocalFlags(h));
	ASSERT_EQ(p, LocalLock(h));
	ASSERT_EQ(2, LocalFlags(h));
	ASSERT_EQ(h, LocalHandle(p));
	ASSERT_EQ(h, LocalHandle(h));
	ASSERT_EQ(64, LocalSize(h));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(TRUE, LocalUnlock(h));	/* still locked */
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(FALSE, LocalUnlock(h));	/* now unlocked: NO_ERROR */
	ASSERT_EQ(ERROR_SUCCESS, GetLastError());
	ASSERT_FAILS(ERROR_NOT_LOCKED, LocalUnlock(h));
	for (int i = 0; i < 300; i++)		/* the count saturates */
		ASSERT_EQ(p, LocalLock(h));
	ASSERT_EQ(LMEM_LOCKCOUNT, LocalFlags(h));
	ASSERT_EQ(TRUE, LocalUnlock(h));
	ASSERT_EQ(LMEM_LOCKCOUNT - 1, LocalFlags(h));
	/* freed even while locked; then the handle is gone */
	ASSERT_EQ(NULL, LocalFree(h));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(LMEM_INVALID_HANDLE, LocalFlags(h));
	ASSERT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalLock(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalUnlock(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalSize(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalHandle(p));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(h, LocalFree(h));
	ASSERT_EQ(ERROR_INVALID_HANDLE, GetLastError());
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, LocalHandle(NULL));
}

TEST(discardable)
{
	int busy0 = busy_blocks();
	HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE | GMEM_DISCARDABLE, 100);
	char *p;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(busy0 + 1, busy_blocks());
	ASSERT_EQ(GMEM_DISCARDABLE, GlobalFlags(h));
	ASSERT_EQ(LMEM_DISCARDABLE, LocalFlags(h));
	p = GlobalLock(h);
	ASSERT_NE(NULL, p);
	strcpy(p, "kept");
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, GlobalDiscard(h));	/* locked */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     GlobalReAlloc(h, 10, GMEM_MOVEABLE | GMEM_DISCARDABLE));
	ASSERT_STREQ("kept", (char *)*(void **)h);
	ASSERT_EQ(FALSE, GlobalUnlock(h));
	ASSERT_EQ(h, GlobalDiscard(h));
	ASSERT_EQ(busy0, busy_blocks());	/* its memory is freed */
	ASSERT_EQ(GMEM_DISCARDABLE | GMEM_DISCARDED, GlobalFlags(h));
	ASSERT_EQ(0, GlobalSize(h));
	ASSERT_EQ(NULL, *(void **)h);
	ASSERT_FAILS(ERROR_DISCARDED, GlobalLock(h));
	/* reallocating brings it back, empty of the old contents */
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(h, GlobalReAlloc(h, 50, GMEM_MOVEABLE | GMEM_ZEROINIT));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(GMEM_DISCARDABLE, GlobalFlags(h));
	ASSERT_EQ(50, GlobalSize(h));
	p = GlobalLock(h);
	ASSERT_TRUE(all_zero(p, 50));
	GlobalUnlock(h);
	ASSERT_EQ(h, LocalDiscard(h));
	ASSERT_EQ(NULL, GlobalFree(h));
	ASSERT_EQ(busy0, busy_blocks());
	/* a moveable block of 0 bytes is born discarded */
	h = LocalAlloc(LMEM_MOVEABLE, 0);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(LMEM_DISCARDED, LocalFlags(h));
	ASSERT_FAILS(ERROR_DISCARDED, LocalLock(h));
	ASSERT_EQ(NULL, LocalFree(h));
	/* made discardable later, with LMEM_MODIFY */
	h = LocalAlloc(LMEM_MOVEABLE, 10);
	ASSERT_EQ(h, LocalReAlloc(h, 0, LMEM_MODIFY | LMEM_DISCARDABLE));
	ASSERT_EQ(LMEM_DISCARDABLE, LocalFlags(h));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, LocalReAlloc(h, 20, LMEM_DISCARDABLE));
	ASSERT_EQ(NULL, LocalFree(h));
}

TEST(reallocation)
{
	char *p = LocalAlloc(LMEM_FIXED, 100), *q;
	HLOCAL h;

	ASSERT_NE(NULL, p);
	memset(p, 7, 100);
	/* a fixed block grows in place only, unless LMEM_MOVEABLE */
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY, LocalReAlloc(p, 100000, 0));
	ASSERT_EQ(100, LocalSize(p));
	q = LocalReAlloc(p, 100000, LMEM_MOVEABLE);
	ASSERT_NE(NULL, q);
	ASSERT_NE(p, q);
	ASSERT_EQ(100000, LocalSize(q));
	ASSERT_EQ(7, q[99]);
	ASSERT_EQ(q, LocalReAlloc(q, 50, 0));		/* shrinks in place */
	ASSERT_EQ(q, LocalReAlloc(q, 0, LMEM_MODIFY));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, LocalReAlloc(q, 10, LMEM_DISCARDABLE));
	ASSERT_EQ(NULL, LocalFree(q));
	/* a locked moveable block: in place only without LMEM_MOVEABLE */
	h = LocalAlloc(LMEM_MOVEABLE, 100);
	p = LocalLock(h);
	memset(p, 9, 100);
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY, LocalReAlloc(h, 100000, 0));
	ASSERT_EQ(p, *(void **)h);
	ASSERT_EQ(h, LocalReAlloc(h, 100000, LMEM_MOVEABLE));
	q = *(void **)h;
	ASSERT_NE(p, q);
	ASSERT_EQ(9, q[99]);
	ASSERT_EQ(100000, LocalSize(h));
	ASSERT_EQ(1, LocalFlags(h));		/* the lock count stays */
	ASSERT_EQ(h, LocalHandle(q));
	ASSERT_EQ(NULL, LocalFree(h));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalReAlloc(h, 10, LMEM_MOVEABLE));
}

TEST(global_fixed_to_moveable_and_ddeshare)
{
	char *p = GlobalAlloc(GPTR, 32), *q;
	HGLOBAL h;

	ASSERT_NE(NULL, p);
	strcpy(p, "contents");
	h = GlobalReAlloc(p, 0, GMEM_MODIFY | GMEM_MOVEABLE);
	ASSERT_NE(NULL, h);
	ASSERT_EQ(8, (uintptr_t)h % 16);
	q = GlobalLock(h);
	ASSERT_STREQ("contents", q);
	ASSERT_EQ(32, GlobalSize(h));
	ASSERT_EQ(h, GlobalHandle(q));
	ASSERT_EQ(FALSE, GlobalUnlock(h));
	ASSERT_EQ(NULL, GlobalFree(h));
	h = GlobalAlloc(GMEM_MOVEABLE | GMEM_DDESHARE, 10);
	ASSERT_EQ(GMEM_DDESHARE, GlobalFlags(h));
	ASSERT_EQ(0, LocalFlags(h));
	ASSERT_EQ(NULL, GlobalFree(h));
}

TEST(bad_flags_and_handles)
{
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, LocalAlloc(0x1000, 10));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, LocalAlloc(LMEM_MOVEABLE | 0x8000, 10));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, GlobalAlloc(0x8000, 10));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, GlobalAlloc(0x10000, 10));
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY, LocalAlloc(LMEM_FIXED, (SIZE_T)1 << 62));
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY, LocalAlloc(LMEM_MOVEABLE, (SIZE_T)1 << 62));
	ASSERT_FAILS(ERROR_NOT_ENOUGH_MEMORY, GlobalAlloc(GHND, (SIZE_T)-1));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalUnlock(NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalSize(NULL));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalReAlloc(NULL, 10, 0));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, LocalSize((HLOCAL)(uintptr_t)0x1008));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(GMEM_INVALID_HANDLE, GlobalFlags((HGLOBAL)(uintptr_t)0x1008));
	ASSERT_EQ(ERROR_INVALID_HANDLE, GetLastError());
}

#define THREADS 4
#define ROUNDS 3000

static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	HLOCAL h[16] = { 0 };

	for (int i = 0; i < ROUNDS; i++) {
		int k = rand_r(&seed) % 16;
		unsigned char *p;

		if (h[k]) {
			p = LocalLock(h[k]);
			if (!p || p[0] != (unsigned char)k ||
			    LocalHandle(p) != h[k])
				return (void *)1;
			LocalUnlock(h[k]);
			if (LocalFree(h[k]))
				return (void *)2;
			h[k] = NULL;
			continue;
		}
		h[k] = LocalAlloc(LMEM_MOVEABLE, 1 + rand_r(&seed) % 500);
		p = LocalLock(h[k]);
		if (!p)
			return (void *)3;
		p[0] = (unsigned char)k;
		LocalUnlock(h[k]);
	}
	for (int k = 0; k < 16; k++)
		if (h[k] && LocalFree(h[k]))
			return (void *)4;
	return NULL;
}

TEST(threads_share_the_table)
{
	pthread_t t[THREADS];
	void *ret;

	for (long i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, (void *)(i + 1)));
	for (int i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		ASSERT_EQ(NULL, ret);
	}
}

TEST_HARNESS_MAIN
