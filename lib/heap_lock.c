// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * HeapLock and HeapUnlock.  A locked heap carries HEAP_MAGIC_LOCKED, so
 * HeapAlloc and HeapFree, whose fast paths compare the magic anyway, fall
 * to their slow paths and take the heap's recursive user_lock there; the
 * lock-free thread-cache path gains no test.  The other calls on the heap
 * take it too (heap_enter in heap.h), so another thread's calls wait until
 * the owner's last HeapUnlock.  A call that had already passed its magic
 * test when HeapLock returned finishes unhindered.
 */
#include "heap.h"

BOOL HeapLock(HANDLE hHeap)
{
	struct heap *h = heap_of(hHeap);

	if (!h) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	if (!heap_serialized(h))	/* as Windows: nothing to lock */
		return TRUE;
	pthread_mutex_lock(&h->user_lock);
	if (h->user_depth++ == 0) {
		h->user_owner = pthread_self();
		__atomic_store_n(&h->magic, HEAP_MAGIC_LOCKED, __ATOMIC_SEQ_CST);
	}
	return TRUE;
}

BOOL HeapUnlock(HANDLE hHeap)
{
	struct heap *h = heap_of(hHeap);
	bool owner;

	if (!h) {
		ntmem__fail(ERROR_INVALID_HANDLE);
		return FALSE;
	}
	if (!heap_serialized(h))
		return TRUE;
	/* busy: another thread holds it, so this one is not the owner */
	if (pthread_mutex_trylock(&h->user_lock)) {
		ntmem__fail(ERROR_NOT_OWNER);
		return FALSE;
	}
	owner = h->user_depth && pthread_equal(h->user_owner, pthread_self());
	if (owner && --h->user_depth == 0)
		__atomic_store_n(&h->magic, HEAP_MAGIC, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&h->user_lock);
	if (!owner) {
		ntmem__fail(ERROR_NOT_OWNER);
		return FALSE;
	}
	pthread_mutex_unlock(&h->user_lock);	/* HeapLock's */
	return TRUE;
}
