/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A program's own MIDL_user_allocate/MIDL_user_free (spec 5.2) that count
 * their calls, so a test can tell whose pair a call reached.  Defined by
 * the programs that link libntmem statically (rpc_midl_override) and
 * dynamically (midl_dynamic/app).  Its blocks are malloc's, one byte
 * longer than asked, so that 0 bytes is a distinct block.
 */
#ifndef NTMEM_SELFTESTS_MIDL_COUNTING_PAIR_H
#define NTMEM_SELFTESTS_MIDL_COUNTING_PAIR_H

#include <stdlib.h>
#include <ntmem/rpc.h>

static int allocs, frees;

void *MIDL_user_allocate(size_t cBytes)
{
	allocs++;
	return malloc(cBytes + 1);
}

void MIDL_user_free(void *p)
{
	frees++;
	free(p);
}

#endif /* NTMEM_SELFTESTS_MIDL_COUNTING_PAIR_H */
