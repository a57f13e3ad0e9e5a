// SPDX-License-Identifier: GPL-2.0
/*
 * Spec 7.13: libntmem's default midl_user_allocate / midl_user_free
 * (cases 151-152, spec 5.2): 16-byte aligned blocks of the process heap,
 * NULL without a raise when a request cannot be met.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <string.h>
#include <ntmem/rpc.h>

#include "kselftest_harness.h"
#include "win32_util.h"

static sigjmp_buf raise_jmp;
static volatile RPC_STATUS raised;

static void on_raise(RPC_STATUS code)
{
	raised = code;
	siglongjmp(raise_jmp, 1);
}

TEST(case_151)
{
	char *p = midl_user_allocate(1);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, (uintptr_t)p % 8);
	ASSERT_EQ(0, (uintptr_t)p % 16);	/* ntmem's rule */
	*p = 'x';
	midl_user_free(p);
}

TEST(case_152)
{
	NtmemSetRpcRaiseHandler(on_raise);
	if (sigsetjmp(raise_jmp, 0) == 0)
		ASSERT_EQ(NULL, midl_user_allocate((size_t)-1));
	ASSERT_EQ(0, raised) TH_LOG("midl_user_allocate raised %d", raised);
}

/* The blocks are the process heap's, of the size asked for, aligned, and
 * free; the pair leaves the last error alone. */
TEST(default_pair_is_process_heap)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 4096, 70000,
					1 << 20 };
	void *p[sizeof(sizes) / sizeof(sizes[0])], *q;
	size_t i;

	SetLastError(LE_SENTINEL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = midl_user_allocate(sizes[i]);
		ASSERT_NE(NULL, p[i]) TH_LOG("%zu bytes", sizes[i]);
		ASSERT_EQ(0, (uintptr_t)p[i] % 16);
		ASSERT_TRUE(HeapValidate(GetProcessHeap(), 0, p[i]));
		ASSERT_LE(sizes[i], HeapSize(GetProcessHeap(), 0, p[i]));
		memset(p[i], 0xA5, sizes[i]);
	}
	q = midl_user_allocate(0);	/* 0 bytes: a distinct block */
	ASSERT_NE(NULL, q);
	ASSERT_NE(p[0], q);
	midl_user_free(q);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		midl_user_free(p[i]);
		ASSERT_FALSE(HeapValidate(GetProcessHeap(), 0, p[i]));
	}
	midl_user_free(NULL);
	ASSERT_EQ(LE_SENTINEL, GetLastError());
}

TEST_HARNESS_MAIN
