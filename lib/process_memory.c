// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What psapi reports about the process's memory: GetProcessMemoryInfo
 * (K32GetProcessMemoryInfo) and QueryWorkingSetEx (K32QueryWorkingSetEx).
 * The working set is the resident set (/proc/self/status, pagemap); the
 * page-file usage and private usage are ntmem's commit charge for the
 * process, which the module reports over netlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_FILE_SHARED	(1ULL << 61)	/* a file page or shared anon */
#define PM_EXCLUSIVE	(1ULL << 56)	/* mapped once */

/* minflt + majflt from /proc/self/stat (fields 10 and 12). */
static DWORD page_faults(void)
{
	char buf[1024], *p;
	unsigned long long v[4] = { 0 };
	int field;

	if (ntmem__read_text("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');		/* the command name may hold spaces */
	for (field = 2; p && field < 12; field++) {
		p = strchr(p + 1, ' ');
		if (p && field >= 9 && field <= 11)
			v[field - 9] = strtoull(p + 1, NULL, 10);
	}
	return (DWORD)(v[0] + v[2]);
}

BOOL K32GetProcessMemoryInfo(HANDLE Process,
			     PPROCESS_MEMORY_COUNTERS ppsmemCounters, DWORD cb)
{
	static uint64_t peak_commit;	/* the highest charge seen here */
	PROCESS_MEMORY_COUNTERS_EX c;
	char status[4096];
	uint64_t rss = 0, hwm = 0, committed, resident, peak;

	if (cb < sizeof(PROCESS_MEMORY_COUNTERS)) {
		ntmem__fail(ERROR_INSUFFICIENT_BUFFER);
		return FALSE;
	}
	if (!ntmem__current_process_only(Process))
		return FALSE;
	if (!ntmem__writable(ppsmemCounters, sizeof(PROCESS_MEMORY_COUNTERS))) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	if (!ntmem__process_usage(&committed, &resident))
		committed = 0;
	peak = __atomic_load_n(&peak_commit, __ATOMIC_RELAXED);
	while (committed > peak &&
	       !__atomic_compare_exchange_n(&peak_commit, &peak, committed, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (committed > peak)
		peak = committed;
	if (ntmem__read_text("/proc/self/status", status, sizeof(status)) > 0) {
		ntmem__text_field(status, "VmRSS", &rss);
		ntmem__text_field(status, "VmHWM", &hwm);
	}
	memset(&c, 0, sizeof(c));
	c.cb = cb;
	c.PageFaultCount = page_faults();
	c.WorkingSetSize = rss * 1024;
	c.PeakWorkingSetSize = hwm * 1024 > c.WorkingSetSize ? hwm * 1024 :
							       c.WorkingSetSize;
	c.PagefileUsage = committed;
	c.PeakPagefileUsage = peak;
	c.PrivateUsage = committed;
	memcpy(ppsmemCounters, &c, cb < sizeof(c) ? cb : sizeof(c));
	return TRUE;
}

BOOL GetProcessMemoryInfo(HANDLE Process,
			  PPROCESS_MEMORY_COUNTERS ppsmemCounters, DWORD cb)
{
	return K32GetProcessMemoryInfo(Process, ppsmemCounters, cb);
}

/* The attributes of the page holding @va: pagemap and VirtualQuery. */
static ULONG_PTR page_attributes(int pagemap, const void *va)
{
	uintptr_t page = (uintptr_t)va / NTMEM__PAGE;
	MEMORY_BASIC_INFORMATION m;
	uint64_t pm = 0;
	ULONG_PTR f = 0;
	DWORD le = GetLastError();

	if (pagemap < 0 || pread(pagemap, &pm, sizeof(pm),
				 (off_t)(page * sizeof(pm))) != sizeof(pm) ||
	    !(pm & PM_PRESENT))
		return 0;		/* not in the working set */
	if (VirtualQuery(va, &m, sizeof(m)) != sizeof(m) ||
	    m.State != MEM_COMMIT) {
		SetLastError(le);
		return 0;
	}
	f |= 1;						/* Valid */
	f |= (ULONG_PTR)1 << 1;				/* ShareCount */
	f |= (ULONG_PTR)(m.Protect & 0x7FF) << 4;	/* Win32Protection */
	if ((pm & PM_FILE_SHARED) && !(pm & PM_EXCLUSIVE))
		f |= (ULONG_PTR)1 << 15;		/* Shared */
	return f;
}

BOOL K32QueryWorkingSetEx(HANDLE hProcess, PVOID pv, DWORD cb)
{
	PSAPI_WORKING_SET_EX_INFORMATION *w = pv;
	size_t i, n = cb / sizeof(*w);
	int pagemap;

	if (!ntmem__current_process_only(hProcess))
		return FALSE;
	if (cb < sizeof(*w)) {
		ntmem__fail(ERROR_BAD_LENGTH);
		return FALSE;
	}
	if (!ntmem__writable(pv, sizeof(*w))) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < n; i++)
		w[i].VirtualAttributes.Flags =
			page_attributes(pagemap, w[i].VirtualAddress);
	if (pagemap >= 0)
		close(pagemap);
	return TRUE;
}

BOOL QueryWorkingSetEx(HANDLE hProcess, PVOID pv, DWORD cb)
{
	return K32QueryWorkingSetEx(hProcess, pv, cb);
}
