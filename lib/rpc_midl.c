// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The default midl_user_allocate / midl_user_free (spec 5.2): the process
 * heap.
 *
 * MIDL makes every RPC program supply this pair, so a program's own must
 * replace these without a linker error (rpc.h tells how it works).  That
 * is why they are alone in this file -- libntmem.a pulls this member in
 * only for a program that calls them without defining them -- and weak,
 * and why nothing else in libntmem calls them.
 */
#include <ntmem/rpc.h>

#include "heap.h"

__attribute__((weak)) void *MIDL_user_allocate(size_t cBytes)
{
	struct heap *heap = heap_process();

	if (!heap)
		return NULL;
	/* The heap's blocks are 16-byte aligned, 0 bytes is a distinct
	 * block, and without HEAP_GENERATE_EXCEPTIONS a request it cannot
	 * meet returns NULL, raising nothing and leaving the last error. */
	return ntmem__heap_alloc(heap, 0, cBytes);
}

__attribute__((weak)) void MIDL_user_free(void *p)
{
	struct heap *heap;

	if (!p)
		return;
	heap = heap_process();
	if (heap)
		ntmem__heap_free(heap, 0, p);
}
