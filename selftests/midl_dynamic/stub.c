// SPDX-License-Identifier: GPL-2.0
/*
 * A shared library of "RPC stubs": it allocates and frees with
 * midl_user_allocate/midl_user_free, as MIDL-generated stubs do, and is
 * linked against libntmem.so.  Whose pair its calls reach is the test.
 */
#include <ntmem/rpc.h>

void *stub_alloc(size_t n)
{
	return midl_user_allocate(n);
}

void stub_free(void *p)
{
	midl_user_free(p);
}
