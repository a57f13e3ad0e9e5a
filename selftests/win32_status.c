// SPDX-License-Identifier: GPL-2.0
/*
 * What libntmem reports about memory: GlobalMemoryStatusEx and
 * GlobalMemoryStatus (the page file is ntmem's commit limit),
 * GetPhysicallyInstalledSystemMemory, GetProcessMemoryInfo (working set =
 * resident pages, page-file usage = the commit charge), QueryWorkingSetEx
 * (pagemap and VirtualQuery), and the working-set sizes, whose minimum is
 * VirtualLock's quota.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "win32_util.h"

#define MB8	(8 * MiB)

static MEMORYSTATUSEX status_ok(struct __test_metadata *_metadata)
{
	MEMORYSTATUSEX s;

	memset(&s, 0xA5, sizeof(s));
	s.dwLength = sizeof(s);
	SetLastError(LE_SENTINEL);
	EXPECT_EQ(TRUE, GlobalMemoryStatusEx(&s));
	EXPECT_EQ(LE_SENTINEL, GetLastError());
	return s;
}

TEST(global_memory_status_ex)
{
	MEMORYSTATUSEX s = status_ok(_metadata), t;
	long limit = ntmem_counter("commit_limit_pages");
	char *p, *r;

	ASSERT_EQ(64, sizeof(s));
	ASSERT_EQ(sizeof(s), s.dwLength);
	ASSERT_EQ((DWORDLONG)meminfo_kb("MemTotal") * 1024, s.ullTotalPhys);
	ASSERT_LT(0, s.ullAvailPhys);
	ASSERT_GE(s.ullTotalPhys, s.ullAvailPhys);
	ASSERT_GE(100, s.dwMemoryLoad);
	ASSERT_EQ((s.ullTotalPhys - s.ullAvailPhys) / (s.ullTotalPhys / 100),
		  s.dwMemoryLoad);
	/* the page file is ntmem's commit limit, and what it leaves */
	ASSERT_LT(0, limit);
	ASSERT_EQ((DWORDLONG)limit * P, s.ullTotalPageFile);
	ASSERT_EQ(s.ullTotalPageFile -
		  (DWORDLONG)ntmem_counter("committed_pages") * P,
		  s.ullAvailPageFile);
	ASSERT_EQ(0x7FFFFFFE0000ull, s.ullTotalVirtual);
	ASSERT_EQ(0, s.ullAvailExtendedVirtual);
	/* a commit takes from the page file, a reservation from the space */
	p = va_ok(_metadata, NULL, MB8, MEM_COMMIT, PAGE_READWRITE);
	r = va_ok(_metadata, NULL, GiB, MEM_RESERVE, PAGE_NOACCESS);
	t = status_ok(_metadata);
	ASSERT_EQ(s.ullAvailPageFile - MB8, t.ullAvailPageFile);
	ASSERT_LE(s.ullAvailVirtual - t.ullAvailVirtual, GiB + MB8 + MiB);
	ASSERT_GE(s.ullAvailVirtual - t.ullAvailVirtual, GiB + MB8);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	vf_ok(_metadata, r, 0, MEM_RELEASE);
	t = status_ok(_metadata);
	ASSERT_EQ(s.ullAvailPageFile, t.ullAvailPageFile);
	/* errors */
	t.dwLength = sizeof(t) - 1;
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, GlobalMemoryStatusEx(&t));
	t.dwLength = 0;
	ASSERT_FAILS(ERROR_INVALID_PARAMETER, GlobalMemoryStatusEx(&t));
	ASSERT_FAILS(ERROR_NOACCESS, GlobalMemoryStatusEx(NULL));
}

TEST(global_memory_status)
{
	MEMORYSTATUSEX s = status_ok(_metadata);
	MEMORYSTATUS m;

	ASSERT_EQ(56, sizeof(m));
	memset(&m, 0, sizeof(m));
	GlobalMemoryStatus(&m);
	ASSERT_EQ(sizeof(m), m.dwLength);
	ASSERT_EQ(s.ullTotalPhys, m.dwTotalPhys);
	ASSERT_EQ(s.ullTotalPageFile, m.dwTotalPageFile);
	ASSERT_EQ(s.ullTotalVirtual, m.dwTotalVirtual);
	ASSERT_GE(100, m.dwMemoryLoad);
	GlobalMemoryStatus(NULL);		/* no crash */
}

TEST(physically_installed)
{
	ULONGLONG kb = 0;

	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, GetPhysicallyInstalledSystemMemory(&kb));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	/* at least what the kernel manages, at most twice the VM's RAM */
	ASSERT_LE((ULONGLONG)meminfo_kb("MemTotal"), kb);
	ASSERT_GE((ULONGLONG)meminfo_kb("MemTotal") * 2, kb);
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     GetPhysicallyInstalledSystemMemory(NULL));
}

static PROCESS_MEMORY_COUNTERS_EX counters_ok(struct __test_metadata *_metadata)
{
	PROCESS_MEMORY_COUNTERS_EX c;

	memset(&c, 0xA5, sizeof(c));
	SetLastError(LE_SENTINEL);
	EXPECT_EQ(TRUE, GetProcessMemoryInfo(GetCurrentProcess(),
					     (PPROCESS_MEMORY_COUNTERS)&c,
					     sizeof(c)));
	EXPECT_EQ(LE_SENTINEL, GetLastError());
	EXPECT_EQ(sizeof(c), c.cb);
	return c;
}

TEST(process_memory_info)
{
	PROCESS_MEMORY_COUNTERS_EX a, b, c;
	PROCESS_MEMORY_COUNTERS small;
	char *p;

	ASSERT_EQ(72, sizeof(small));
	ASSERT_EQ(80, sizeof(a));
	p = va_ok(_metadata, NULL, P, MEM_COMMIT, PAGE_READWRITE);  /* a context */
	a = counters_ok(_metadata);
	ASSERT_EQ(a.PagefileUsage, a.PrivateUsage);
	ASSERT_LE(a.PagefileUsage, a.PeakPagefileUsage);
	ASSERT_LT(0, a.WorkingSetSize);
	ASSERT_LE(a.WorkingSetSize, a.PeakWorkingSetSize);
	ASSERT_EQ(0, a.QuotaPagedPoolUsage);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	a = counters_ok(_metadata);
	/* committing charges the page file, touching fills the working set */
	p = va_ok(_metadata, NULL, MB8, MEM_COMMIT, PAGE_READWRITE);
	b = counters_ok(_metadata);
	ASSERT_EQ(a.PagefileUsage + MB8, b.PagefileUsage);
	ASSERT_EQ(b.PagefileUsage, b.PrivateUsage);
	ASSERT_GT(a.WorkingSetSize + MB8 / 2, b.WorkingSetSize);
	for (size_t i = 0; i < MB8; i += P)
		p[i] = 1;
	c = counters_ok(_metadata);
	ASSERT_LE(b.WorkingSetSize + MB8 * 9 / 10, c.WorkingSetSize);
	/* one fault per page, or per 2 MiB where the pages are huge */
	ASSERT_LE(b.PageFaultCount + MB8 / (2 * MiB), c.PageFaultCount);
	vf_ok(_metadata, p, 0, MEM_RELEASE);
	c = counters_ok(_metadata);
	ASSERT_EQ(a.PagefileUsage, c.PagefileUsage);
	ASSERT_LE(b.PagefileUsage, c.PeakPagefileUsage);
	ASSERT_GE(b.WorkingSetSize + MB8 / 2, c.WorkingSetSize);
	/* the short structure: cb and no PrivateUsage written */
	memset(&a, 0x5A, sizeof(a));
	ASSERT_EQ(TRUE, K32GetProcessMemoryInfo(GetCurrentProcess(),
						(PPROCESS_MEMORY_COUNTERS)&a,
						sizeof(small)));
	ASSERT_EQ(sizeof(small), a.cb);
	ASSERT_EQ((SIZE_T)0x5A5A5A5A5A5A5A5Aull, a.PrivateUsage);
	/* errors: the size first, then the handle */
	ASSERT_FAILS(ERROR_INSUFFICIENT_BUFFER,
		     GetProcessMemoryInfo((HANDLE)1234, &small, sizeof(small) - 1));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     GetProcessMemoryInfo((HANDLE)1234, &small, sizeof(small)));
	ASSERT_FAILS(ERROR_NOACCESS,
		     GetProcessMemoryInfo(GetCurrentProcess(), NULL, sizeof(small)));
}

TEST(query_working_set_ex)
{
	char *b = va_ok(_metadata, NULL, 4 * P, MEM_RESERVE, PAGE_NOACCESS);
	PSAPI_WORKING_SET_EX_INFORMATION w[5];
	int on_stack = 1;

	ASSERT_EQ(8, sizeof(PSAPI_WORKING_SET_EX_BLOCK));
	ASSERT_EQ(16, sizeof(w[0]));
	va_ok(_metadata, b, 3 * P, MEM_COMMIT, PAGE_READWRITE);
	b[0] = 1;
	b[P] = 1;
	vp_ok(_metadata, b + P, P, PAGE_READONLY);
	/* a protection change unmaps the page: read, it is back */
	ASSERT_EQ(1, *(volatile char *)(b + P));
	for (int i = 0; i < 4; i++)
		w[i].VirtualAddress = b + i * P + 5;
	w[4].VirtualAddress = &on_stack;
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, QueryWorkingSetEx(GetCurrentProcess(), w, sizeof(w)));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(1, (DWORD)w[0].VirtualAttributes.Valid);
	ASSERT_EQ(1, (DWORD)w[0].VirtualAttributes.ShareCount);
	ASSERT_EQ(0, (DWORD)w[0].VirtualAttributes.Shared);
	ASSERT_EQ(PAGE_READWRITE, (DWORD)w[0].VirtualAttributes.Win32Protection);
	ASSERT_EQ(1, (DWORD)w[1].VirtualAttributes.Valid);
	ASSERT_EQ(PAGE_READONLY, (DWORD)w[1].VirtualAttributes.Win32Protection);
	ASSERT_EQ(0, w[2].VirtualAttributes.Flags);	/* committed, untouched */
	ASSERT_EQ(0, w[3].VirtualAttributes.Flags);	/* reserved */
	ASSERT_EQ(1, (DWORD)w[4].VirtualAttributes.Valid);
	ASSERT_EQ(b + 5, w[0].VirtualAddress);		/* left as it was */
	/* decommitted: out of the working set */
	vf_ok(_metadata, b, P, MEM_DECOMMIT);
	ASSERT_EQ(TRUE, K32QueryWorkingSetEx(GetCurrentProcess(), w,
					     sizeof(w[0])));
	ASSERT_EQ(0, w[0].VirtualAttributes.Flags);
	ASSERT_FAILS(ERROR_BAD_LENGTH, QueryWorkingSetEx(GetCurrentProcess(),
							 w, sizeof(w[0]) - 1));
	ASSERT_FAILS(ERROR_INVALID_HANDLE, QueryWorkingSetEx((HANDLE)1234, w,
							     sizeof(w)));
	ASSERT_FAILS(ERROR_NOACCESS, QueryWorkingSetEx(GetCurrentProcess(),
						       NULL, sizeof(w)));
	vf_ok(_metadata, b, 0, MEM_RELEASE);
}

TEST(working_set_size)
{
	SIZE_T min = 0, max = 0;
	DWORD flags = 0;
	struct rlimit rl;

	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &rl));
	SetLastError(LE_SENTINEL);
	ASSERT_EQ(TRUE, GetProcessWorkingSetSizeEx(GetCurrentProcess(), &min,
						   &max, &flags));
	ASSERT_EQ(LE_SENTINEL, GetLastError());
	ASSERT_EQ(rl.rlim_cur == RLIM_INFINITY ? (SIZE_T)-1 : rl.rlim_cur, min);
	ASSERT_LE(min, max);
	ASSERT_EQ(QUOTA_LIMITS_HARDWS_MIN_DISABLE |
		  QUOTA_LIMITS_HARDWS_MAX_DISABLE, flags);
	/* the minimum is RLIMIT_MEMLOCK */
	ASSERT_EQ(TRUE, SetProcessWorkingSetSize(GetCurrentProcess(),
						 0x30000, 0x100000));
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0x30000, rl.rlim_cur);
	ASSERT_EQ(TRUE, GetProcessWorkingSetSize(GetCurrentProcess(), &min, &max));
	ASSERT_EQ(0x30000, min);
	ASSERT_EQ(0x100000, max);
	ASSERT_EQ(TRUE, SetProcessWorkingSetSizeEx(GetCurrentProcess(),
						   0x40000, 0x200000,
						   QUOTA_LIMITS_HARDWS_MAX_ENABLE));
	ASSERT_EQ(TRUE, GetProcessWorkingSetSizeEx(GetCurrentProcess(), &min,
						   &max, &flags));
	ASSERT_EQ(QUOTA_LIMITS_HARDWS_MIN_DISABLE |
		  QUOTA_LIMITS_HARDWS_MAX_ENABLE, flags);
	ASSERT_EQ(0x200000, max);
	/* trimming the working set: accepted, nothing changes */
	ASSERT_EQ(TRUE, SetProcessWorkingSetSize(GetCurrentProcess(),
						 (SIZE_T)-1, (SIZE_T)-1));
	ASSERT_EQ(TRUE, GetProcessWorkingSetSize(GetCurrentProcess(), &min, &max));
	ASSERT_EQ(0x40000, min);
	/* errors */
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     SetProcessWorkingSetSize(GetCurrentProcess(), 0x200000, 0x100000));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     SetProcessWorkingSetSize(GetCurrentProcess(), 0, 0x100000));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     SetProcessWorkingSetSizeEx(GetCurrentProcess(), 0x10000, 0x100000,
						QUOTA_LIMITS_HARDWS_MIN_ENABLE |
						QUOTA_LIMITS_HARDWS_MIN_DISABLE));
	ASSERT_FAILS(ERROR_INVALID_PARAMETER,
		     SetProcessWorkingSetSizeEx(GetCurrentProcess(), 0x10000,
						0x100000, 0x10));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     SetProcessWorkingSetSize((HANDLE)1234, 0x10000, 0x100000));
	ASSERT_FAILS(ERROR_INVALID_HANDLE,
		     GetProcessWorkingSetSize((HANDLE)1234, &min, &max));
	ASSERT_FAILS(ERROR_NOACCESS,
		     GetProcessWorkingSetSize(GetCurrentProcess(), NULL, &max));
}

/* Without CAP_IPC_LOCK and CAP_SYS_RESOURCE, as an ordinary process. */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~(1u << CAP_IPC_LOCK | 1u << CAP_SYS_RESOURCE);
	d[0].permitted &= ~(1u << CAP_IPC_LOCK | 1u << CAP_SYS_RESOURCE);
	return syscall(SYS_capset, &h, d);
}

static int child_lock_quota(void *arg)
{
	struct rlimit rl = { 0x100000, 0x100000 };
	char *b;

	(void)arg;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_caps())
		return 10;
	b = VirtualAlloc(NULL, 0x80000, MEM_COMMIT, PAGE_READWRITE);
	if (!b || !SetProcessWorkingSetSize(GetCurrentProcess(), 0x10000,
					    0x100000))
		return 11;
	if (VirtualLock(b, 0x20000) || GetLastError() != ERROR_WORKING_SET_QUOTA)
		return 12;
	if (!SetProcessWorkingSetSize(GetCurrentProcess(), 0x80000, 0x100000) ||
	    !VirtualLock(b, 0x20000))
		return 13;
	/* past the hard limit takes a privilege */
	SetLastError(0);
	if (SetProcessWorkingSetSize(GetCurrentProcess(), 0x200000, 0x400000) ||
	    GetLastError() != ERROR_PRIVILEGE_NOT_HELD)
		return 14;
	return 0;
}

TEST(minimum_is_the_lock_quota)
{
	ASSERT_EQ(0, run_in_child(child_lock_quota, NULL));
}

TEST_HARNESS_MAIN
