// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * GlobalMemoryStatusEx, GlobalMemoryStatus and
 * GetPhysicallyInstalledSystemMemory.  The page file of Windows is what
 * backs the commit charge, so its total is ntmem's commit limit and its
 * free part what the limit leaves (/sys/class/misc/ntmem/); without the
 * module, the kernel's own CommitLimit and Committed_AS stand in.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SYSFS	"/sys/class/misc/ntmem/"

/* The commit limit and what is committed, in bytes. */
static void commit_totals(const char *meminfo, uint64_t *limit,
			  uint64_t *used)
{
	uint64_t l, u;

	if (ntmem__file_u64(SYSFS "commit_limit_pages", &l) &&
	    ntmem__file_u64(SYSFS "committed_pages", &u) && l) {
		*limit = l * NTMEM__PAGE;
		*used = u * NTMEM__PAGE;
		return;
	}
	l = u = 0;
	ntmem__text_field(meminfo, "CommitLimit", &l);
	ntmem__text_field(meminfo, "Committed_AS", &u);
	*limit = l * 1024;
	*used = u * 1024;
}

/* Add the part of a /proc/self/maps line's range inside the user range. */
static bool add_mapping(const char *line, void *arg)
{
	char *e;
	uint64_t lo = strtoull(line, &e, 16), hi = strtoull(e + 1, NULL, 16);

	if (strstr(line, NTMEM_PLACEHOLDER_NAME))
		return true;	/* released: free for VirtualAlloc */
	if (lo < NTMEM_MIN_ADDRESS)
		lo = NTMEM_MIN_ADDRESS;
	if (hi > NTMEM_MAX_ADDRESS)
		hi = NTMEM_MAX_ADDRESS;
	if (hi > lo)
		*(uint64_t *)arg += hi - lo;
	return true;
}

/* Bytes of the user range that some mapping occupies. */
static uint64_t mapped_bytes(void)
{
	uint64_t total = 0;

	ntmem__each_line("/proc/self/maps", add_mapping, &total);
	return total;
}

BOOL GlobalMemoryStatusEx(LPMEMORYSTATUSEX lpBuffer)
{
	char meminfo[8192];
	uint64_t total = 0, avail = 0, limit, used;
	MEMORYSTATUSEX s;

	if (!ntmem__writable(lpBuffer, sizeof(*lpBuffer))) {
		ntmem__fail(ERROR_NOACCESS);
		return FALSE;
	}
	if (lpBuffer->dwLength != sizeof(*lpBuffer)) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	if (ntmem__read_text("/proc/meminfo", meminfo, sizeof(meminfo)) < 0)
		meminfo[0] = '\0';
	ntmem__text_field(meminfo, "MemTotal", &total);
	ntmem__text_field(meminfo, "MemAvailable", &avail);
	commit_totals(meminfo, &limit, &used);
	memset(&s, 0, sizeof(s));
	s.dwLength = sizeof(s);
	s.ullTotalPhys = total * 1024;
	s.ullAvailPhys = avail * 1024;
	/* Windows' formula: percent of physical memory in use, rounded down */
	s.dwMemoryLoad = s.ullTotalPhys >= 100 ?
		(DWORD)((s.ullTotalPhys - s.ullAvailPhys) /
			(s.ullTotalPhys / 100)) : 0;
	s.ullTotalPageFile = limit;
	s.ullAvailPageFile = limit > used ? limit - used : 0;
	s.ullTotalVirtual = NTMEM_MAX_ADDRESS - NTMEM_MIN_ADDRESS;
	s.ullAvailVirtual = s.ullTotalVirtual - mapped_bytes();
	*lpBuffer = s;
	return TRUE;
}

void GlobalMemoryStatus(LPMEMORYSTATUS lpBuffer)
{
	MEMORYSTATUSEX s = { .dwLength = sizeof(s) };
	MEMORYSTATUS r;

	if (!ntmem__writable(lpBuffer, sizeof(*lpBuffer)) ||
	    !GlobalMemoryStatusEx(&s))
		return;
	r.dwLength = sizeof(r);
	r.dwMemoryLoad = s.dwMemoryLoad;
	r.dwTotalPhys = s.ullTotalPhys;
	r.dwAvailPhys = s.ullAvailPhys;
	r.dwTotalPageFile = s.ullTotalPageFile;
	r.dwAvailPageFile = s.ullAvailPageFile;
	r.dwTotalVirtual = s.ullTotalVirtual;
	r.dwAvailVirtual = s.ullAvailVirtual;
	*lpBuffer = r;
}

/* The RAM the firmware describes: the memory blocks the kernel knows
 * (online or not), else MemTotal, which misses what the kernel reserved. */
static uint64_t installed_bytes(void)
{
	char buf[64], meminfo[8192];
	uint64_t block = 0, n = 0, kb = 0;
	DIR *d;
	struct dirent *e;

	if (ntmem__read_text("/sys/devices/system/memory/block_size_bytes",
			     buf, sizeof(buf)) > 0)
		block = strtoull(buf, NULL, 16);
	d = block ? opendir("/sys/devices/system/memory") : NULL;
	if (d) {
		while ((e = readdir(d)))
			n += !strncmp(e->d_name, "memory", 6) &&
			     e->d_name[6] >= '0' && e->d_name[6] <= '9';
		closedir(d);
	}
	if (n)
		return n * block;
	if (ntmem__read_text("/proc/meminfo", meminfo, sizeof(meminfo)) > 0)
		ntmem__text_field(meminfo, "MemTotal", &kb);
	return kb * 1024;
}

BOOL GetPhysicallyInstalledSystemMemory(PULONGLONG TotalMemoryInKilobytes)
{
	if (!ntmem__writable(TotalMemoryInKilobytes, sizeof(ULONGLONG))) {
		ntmem__fail(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	*TotalMemoryInKilobytes = installed_bytes() / 1024;
	return TRUE;
}
