// SPDX-License-Identifier: GPL-2.0
/*
 * W^X policy (issue 12, item 6): under MDWE (prctl(PR_SET_MDWE)), COMMIT,
 * PROTECT and RESERVE|COMMIT refuse what mmap()/mprotect() would refuse
 * the same process -- writable executable pages, and pages that gain
 * execute permission -- with EPERM and nothing changed; VirtualAlloc and
 * VirtualProtect then fail with ERROR_DYNAMIC_CODE_BLOCKED.  MDWE exists
 * since 6.3: on 6.1 these tests skip.  Without a policy, executable
 * protections work as before (every exec test of the suite).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include <ntmem/windows.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE			65
#define PR_MDWE_REFUSE_EXEC_GAIN	1
#endif

/* Each test runs in its own child: MDWE cannot be turned off again. */
static int mdwe_on(void)
{
	return prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) ? -errno : 0;
}

static uint32_t prot_of(int fd, const void *p)
{
	struct ntmem_query q;

	return ntmem_query(fd, p, &q) ? 0 : q.state == NTMEM_STATE_COMMIT ?
						q.protect : 0;
}

NTMEM_FD_FIXTURE(wx);

TEST_F(wx, mdwe_commit_and_protect)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_counters c0, c1;
	void *m;

	ASSERT_NE(NULL, p);
	if (mdwe_on() == -EINVAL)
		SKIP(return, "no MDWE in this kernel (PR_SET_MDWE is 6.3+)");
	/* the kernel's own answer, for comparison */
	m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_EQ(MAP_FAILED, m);
	ASSERT_EQ(EACCES, errno);

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	/* writable and executable: never */
	ASSERT_EQ(-EPERM, ntmem_commit(self->fd, p, PAGE_SZ,
				       NTMEM_PAGE_EXECUTE_READWRITE, 0));
	ASSERT_EQ(0, prot_of(self->fd, p));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);

	/* fresh pages may be executable, as mmap(PROT_READ|PROT_EXEC) may */
	ASSERT_EQ(0, ntmem_commit(self->fd, p + PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_EXECUTE_READ, 0));
	ASSERT_EQ(0, ntmem_protect(self->fd, p + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_EXECUTE, NULL));
	ASSERT_EQ(-EPERM, ntmem_protect(self->fd, p + PAGE_SZ, PAGE_SZ,
					NTMEM_PAGE_EXECUTE_READWRITE, NULL));
	ASSERT_EQ(NTMEM_PAGE_EXECUTE, prot_of(self->fd, p + PAGE_SZ));

	/* written, then made executable: an exec gain, refused */
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 2 * PAGE_SZ, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	memset(p + 2 * PAGE_SZ, 0xc3, PAGE_SZ);
	ASSERT_EQ(-EPERM, ntmem_protect(self->fd, p + 2 * PAGE_SZ, PAGE_SZ,
					NTMEM_PAGE_EXECUTE_READ, NULL));
	ASSERT_EQ(-EPERM, ntmem_commit(self->fd, p + 2 * PAGE_SZ, PAGE_SZ,
				       NTMEM_PAGE_EXECUTE_READ, 0));
	/* a range with one executable and one writable page: refused whole */
	ASSERT_EQ(-EPERM, ntmem_protect(self->fd, p + PAGE_SZ, 2 * PAGE_SZ,
					NTMEM_PAGE_EXECUTE_READ, NULL));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, prot_of(self->fd, p + 2 * PAGE_SZ));
	ASSERT_EQ(NTMEM_PAGE_EXECUTE, prot_of(self->fd, p + PAGE_SZ));
	ASSERT_NO_FAULT(try_write(p + 2 * PAGE_SZ, 1));
	/* losing execute is always allowed */
	ASSERT_EQ(0, ntmem_protect(self->fd, p + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
}

TEST_F(wx, mdwe_reserve_commit)
{
	struct ntmem_reserve r = {
		.size = sizeof(r), .length = 64 * KiB,
		.protect = NTMEM_PAGE_EXECUTE_READWRITE,
		.flags = NTMEM_RESERVE_COMMIT,
	};
	int maps0;

	if (mdwe_on() == -EINVAL)
		SKIP(return, "no MDWE in this kernel (PR_SET_MDWE is 6.3+)");
	maps0 = maps_count();
	ASSERT_EQ(-EPERM, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &r));
	ASSERT_EQ(maps0, maps_count());
	r.protect = NTMEM_PAGE_EXECUTE_READ;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &r));
	ASSERT_EQ(maps0 + 1, maps_count());
}

/* The Win32 face: ERROR_DYNAMIC_CODE_BLOCKED, nothing allocated. */
TEST(mdwe_win32)
{
	DWORD old = 0;
	char *p;

	if (mdwe_on() == -EINVAL)
		SKIP(return, "no MDWE in this kernel (PR_SET_MDWE is 6.3+)");
	SetLastError(0);
	ASSERT_EQ(NULL, VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
				     PAGE_EXECUTE_READWRITE));
	ASSERT_EQ(ERROR_DYNAMIC_CODE_BLOCKED, GetLastError());
	p = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
			 PAGE_READWRITE);
	ASSERT_NE(NULL, p);
	SetLastError(0);
	ASSERT_FALSE(VirtualProtect(p, 0x1000, PAGE_EXECUTE_READ, &old));
	ASSERT_EQ(ERROR_DYNAMIC_CODE_BLOCKED, GetLastError());
	ASSERT_TRUE(VirtualProtect(p, 0x1000, PAGE_READONLY, &old));
	ASSERT_EQ(PAGE_READWRITE, old);
	ASSERT_TRUE(VirtualFree(p, 0, MEM_RELEASE));
}

TEST_HARNESS_MAIN
