// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 5.2: a program that defines its own MIDL_user_allocate and
 * MIDL_user_free links against libntmem.a without a linker error (this
 * binary is that program), and its pair is the one every call reaches.
 */
#include <ntmem/rpc.h>

#include "kselftest_harness.h"
#include "midl_counting_pair.h"
#include "win32_util.h"

TEST(program_pair_replaces_default)
{
	void *p = midl_user_allocate(10);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(1, allocs);
	midl_user_free(p);
	ASSERT_EQ(1, frees);
	/* The program's block, not one of the process heap. */
	p = midl_user_allocate(0);
	ASSERT_NE(NULL, p);
	ASSERT_FALSE(HeapValidate(GetProcessHeap(), 0, p));
	midl_user_free(p);
	ASSERT_EQ(2, allocs);
	ASSERT_EQ(2, frees);
}

TEST_HARNESS_MAIN
