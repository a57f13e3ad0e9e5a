// SPDX-License-Identifier: LGPL-2.1-or-later
/* GetSystemInfo and GetLargePageMinimum (spec 2.3, 4.10). */
#include <cpuid.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/*
 * Online CPUs from /sys/devices/system/cpu/online ("0-3,6"): their count,
 * and a mask of those below 64.  Falls back to sysconf() without sysfs.
 */
static void online_cpus(DWORD *count, DWORD_PTR *mask)
{
	char buf[4096], *p, *q;
	ssize_t n = -1;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	*count = 0;
	*mask = 0;
	if (n <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		*count = c > 0 ? (DWORD)c : 1;
		*mask = *count >= 64 ? ~(DWORD_PTR)0 :
				       ((DWORD_PTR)1 << *count) - 1;
		return;
	}
	buf[n] = '\0';
	for (p = buf; *p >= '0' && *p <= '9'; p = q + (*q == ',')) {
		unsigned long lo = strtoul(p, &q, 10), hi = lo;

		if (*q == '-')
			hi = strtoul(q + 1, &q, 10);
		for (; lo <= hi; lo++) {
			(*count)++;
			if (lo < 64)
				*mask |= (DWORD_PTR)1 << lo;
		}
	}
	if (!*count) {
		*count = 1;
		*mask = 1;
	}
}

void GetSystemInfo(LPSYSTEM_INFO si)
{
	unsigned int eax = 0, ebx, ecx, edx, family = 0, model = 0;

	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
		family = (eax >> 8) & 0xF;
		model = (eax >> 4) & 0xF;
		if (family == 0xF)
			family += (eax >> 20) & 0xFF;
		if (family == 6 || family >= 0xF)
			model |= ((eax >> 16) & 0xF) << 4;
	}
	si->dwOemId = 0;
	si->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
	si->dwPageSize = NTMEM__PAGE;
	si->lpMinimumApplicationAddress = (LPVOID)(uintptr_t)NTMEM_MIN_ADDRESS;
	si->lpMaximumApplicationAddress = (LPVOID)NTMEM__MAX_USER;
	online_cpus(&si->dwNumberOfProcessors, &si->dwActiveProcessorMask);
	si->dwProcessorType = PROCESSOR_AMD_X86_64;
	si->dwAllocationGranularity = NTMEM__GRANULE;
	si->wProcessorLevel = family;
	si->wProcessorRevision = (WORD)((model << 8) | (eax & 0xF));
}

SIZE_T GetLargePageMinimum(void)
{
	return 0x200000;
}

/* The spec's layout (2.3), bit for bit. */
_Static_assert(sizeof(SYSTEM_INFO) == 48, "SYSTEM_INFO size");
_Static_assert(offsetof(SYSTEM_INFO, dwPageSize) == 4, "");
_Static_assert(offsetof(SYSTEM_INFO, wReserved) == 2, "");
_Static_assert(offsetof(SYSTEM_INFO, lpMinimumApplicationAddress) == 8, "");
_Static_assert(offsetof(SYSTEM_INFO, lpMaximumApplicationAddress) == 16, "");
_Static_assert(offsetof(SYSTEM_INFO, dwActiveProcessorMask) == 24, "");
_Static_assert(offsetof(SYSTEM_INFO, dwNumberOfProcessors) == 32, "");
_Static_assert(offsetof(SYSTEM_INFO, dwProcessorType) == 36, "");
_Static_assert(offsetof(SYSTEM_INFO, dwAllocationGranularity) == 40, "");
_Static_assert(offsetof(SYSTEM_INFO, wProcessorLevel) == 44, "");
_Static_assert(offsetof(SYSTEM_INFO, wProcessorRevision) == 46, "");
