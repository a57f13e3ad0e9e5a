// SPDX-License-Identifier: GPL-2.0
/*
 * libntmem's device handling (not a numbered spec case): the fd of
 * /dev/ntmem belongs to the address space that opened it, so a forked
 * child must get its own, and the parent's keeps working.
 */
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

static int child_allocates(void *arg)
{
	MEMORY_BASIC_INFORMATION m;
	char *parent_b = arg, *b;

	/* The parent's reservation is a hole here (not inherited). */
	if (VirtualQuery(parent_b, &m, sizeof(m)) != sizeof(m) ||
	    m.State != MEM_FREE)
		return 1;
	b = VirtualAlloc(NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);
	if (!b)
		return 2;
	b[0x1234] = 7;
	if (VirtualQuery(b, &m, sizeof(m)) != sizeof(m) ||
	    m.State != MEM_COMMIT || m.AllocationBase != b)
		return 3;
	if (!VirtualFree(b, 0, MEM_RELEASE))
		return 4;
	return 0;
}

TEST(fork_reopens_device)
{
	char *b = va_ok(_metadata, NULL, 0x10000, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;

	b[0] = 1;
	ASSERT_EQ(0, run_in_child(child_allocates, b));
	ASSERT_EQ(0, run_in_child(child_allocates, b));
	vq_ok(_metadata, b, &m);
	ASSERT_EQ(MEM_COMMIT, m.State);
	ASSERT_EQ(1, b[0]);
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST_HARNESS_MAIN
