// SPDX-License-Identifier: GPL-2.0
/*
 * A sparse table the way Windows programs build one: reserve a huge range
 * up front, and commit each page the first time it is touched, from the
 * access-violation handler (on Linux: SIGSEGV), so that only the pages in
 * use cost memory.  Written against <ntmem/windows.h> as it would be
 * against <windows.h>; run it where ntmem.ko is loaded (make demo).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ntmem/windows.h>

#define TABLE_BYTES	(1ULL << 40)	/* 1 TiB of address space */
#define ENTRIES		(TABLE_BYTES / sizeof(uint64_t))

static uint64_t *table;
static volatile sig_atomic_t commits;

/*
 * The "exception filter": commit the page that faulted (one byte covers
 * exactly its page), then retry the access.  libntmem calls only ioctl
 * here once the device is open, so this is safe in a signal handler.
 */
static void on_access_violation(int sig, siginfo_t *si, void *uc)
{
	char *addr = si->si_addr;

	(void)uc;
	if (addr < (char *)table || addr >= (char *)table + TABLE_BYTES ||
	    !VirtualAlloc(addr, 1, MEM_COMMIT, PAGE_READWRITE)) {
		/* not ours, or no memory: die as the fault would have */
		signal(sig, SIG_DFL);
		return;
	}
	commits++;
}

static long vmrss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* Committed bytes, by walking the allocation with VirtualQuery. */
static SIZE_T committed_bytes(void)
{
	MEMORY_BASIC_INFORMATION m;
	char *p = (char *)table;
	SIZE_T total = 0;

	while (p < (char *)table + TABLE_BYTES &&
	       VirtualQuery(p, &m, sizeof(m)) == sizeof(m) &&
	       m.AllocationBase == table) {
		if (m.State == MEM_COMMIT)
			total += m.RegionSize;
		p = (char *)m.BaseAddress + m.RegionSize;
	}
	return total;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_access_violation,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	uint64_t key, sum = 0, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGSEGV, &sa, NULL);

	table = VirtualAlloc(NULL, TABLE_BYTES, MEM_RESERVE, PAGE_NOACCESS);
	if (!table) {
		fprintf(stderr, "VirtualAlloc(1 TiB, MEM_RESERVE) failed: error %u\n",
			GetLastError());
		return 1;
	}
	printf("reserved 1 TiB at %p; VmRSS %ld KiB\n", (void *)table,
	       vmrss_kb());

	/* 1000 entries scattered over the whole terabyte */
	for (i = 0, key = 12345; i < 1000; i++) {
		key = key * 6364136223846793005ULL + 1442695040888963407ULL;
		table[key % ENTRIES] = i + 1;
		sum += i + 1;
	}
	printf("stored 1000 entries: %d pages committed on demand, %zu KiB committed, VmRSS %ld KiB\n",
	       (int)commits, (size_t)(committed_bytes() / 1024), vmrss_kb());

	/* read them back: no more faults */
	for (i = 0, key = 12345; i < 1000; i++) {
		key = key * 6364136223846793005ULL + 1442695040888963407ULL;
		sum -= table[key % ENTRIES];
	}
	printf("read back: %s, commits still %d\n", sum ? "MISMATCH" : "all match",
	       (int)commits);

	if (!VirtualFree(table, 0, MEM_RELEASE)) {
		fprintf(stderr, "VirtualFree failed: error %u\n", GetLastError());
		return 1;
	}
	printf("released; VmRSS %ld KiB\n", vmrss_kb());
	return sum ? 1 : 0;
}
