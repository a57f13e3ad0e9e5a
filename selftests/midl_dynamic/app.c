// SPDX-License-Identifier: GPL-2.0
/*
 * A program linked dynamically with libntmem.so and the stub library.
 * Built twice: with OWN_PAIR it defines MIDL_user_allocate/free, and every
 * call -- its own and the stub library's -- must reach its pair; without,
 * both must reach libntmem's default, a block of the process heap.
 * Exits 0 when they do, else the number of the failed check.
 */
#include <ntmem/rpc.h>
#include <ntmem/windows.h>

void *stub_alloc(size_t n);
void stub_free(void *p);

#ifdef OWN_PAIR
#include "../midl_counting_pair.h"
#endif

/* Whose block @p is: 1 for the process heap's, 0 for another's. */
static int on_process_heap(void *p)
{
	return HeapValidate(GetProcessHeap(), 0, p) == TRUE;
}

int main(void)
{
	void *mine = midl_user_allocate(24), *stubs = stub_alloc(24);
	int expect_heap = 1;

	if (!mine || !stubs)
		return 1;
#ifdef OWN_PAIR
	expect_heap = 0;
	if (allocs != 2)
		return 2;
#endif
	if (on_process_heap(mine) != expect_heap ||
	    on_process_heap(stubs) != expect_heap)
		return 3;
	stub_free(mine);		/* either side may free */
	midl_user_free(stubs);
#ifdef OWN_PAIR
	if (frees != 2)
		return 4;
#endif
	return 0;
}
