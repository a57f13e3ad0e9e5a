// SPDX-License-Identifier: GPL-2.0
/*
 * The life of one ntmem reservation, shown with what Linux itself reports:
 * /proc/self/maps, VmRSS, MemFree, pagemap and the faults the MMU raises.
 * Uses the raw ioctls of include/uapi/ntmem.h; run it where ntmem.ko is
 * loaded (make demo boots a VM that does that).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uapi/ntmem.h"

#define MIB (1024UL * 1024)

static int dev;
static sigjmp_buf fault_jmp;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_addr = si->si_addr;
	siglongjmp(fault_jmp, 1);
}

/* Touch one byte; return the address the MMU faulted at, or NULL. */
static void *touch(volatile char *p, int write)
{
	fault_addr = NULL;
	if (sigsetjmp(fault_jmp, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	return fault_addr;
}

static long meminfo_kb(const char *file, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static void show_maps_line(unsigned long base)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strtoul(line, NULL, 16) == base) {
			printf("    maps:     %s", line);
			found = 1;
		}
	if (!found)
		printf("    maps:     (no mapping at %#lx)\n", base);
	if (f)
		fclose(f);
}

static void show_usage(const char *when)
{
	printf("    %-10s VmRSS %6ld KiB   MemFree %7ld KiB\n", when,
	       meminfo_kb("/proc/self/status", "VmRSS:"),
	       meminfo_kb("/proc/meminfo", "MemFree:"));
}

static int present(void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (uintptr_t)addr / 4096 * sizeof(e);

	if (fd < 0 || pread(fd, &e, sizeof(e), off) != sizeof(e))
		e = 0;
	if (fd >= 0)
		close(fd);
	return !!(e >> 63);
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "demo: %s failed: %s\n", what, strerror(errno));
		exit(1);
	}
}

static int range(unsigned long req, unsigned long addr, unsigned long len,
		 unsigned int protect)
{
	struct ntmem_range r = { .size = sizeof(r), .addr = addr,
				 .length = len, .protect = protect };

	return ioctl(dev, req, &r);
}

static unsigned int protect(unsigned long addr, unsigned long len,
			    unsigned int prot)
{
	struct ntmem_protect p = { .size = sizeof(p), .addr = addr,
				   .length = len, .protect = prot };

	check(ioctl(dev, NTMEM_IOC_PROTECT, &p) == 0, "PROTECT");
	return p.old_protect;
}

int main(void)
{
	static const unsigned char ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	struct ntmem_version v = { .size = sizeof(v) };
	struct ntmem_reserve res = { .size = sizeof(res), .length = 1024 * MIB };
	struct ntmem_query q = { .size = sizeof(q) };
	unsigned long commit = 64 * MIB, i;
	char *base;
	void *at;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGSEGV, &sa, NULL);
	dev = open(NTMEM_DEVICE, O_RDWR);
	check(dev >= 0, "open " NTMEM_DEVICE);
	check(ioctl(dev, NTMEM_IOC_VERSION, &v) == 0, "VERSION");
	printf("ntmem ABI %u.%u, page %llu, granularity %llu\n\n", v.major,
	       v.minor, (unsigned long long)v.page_size,
	       (unsigned long long)v.granularity);

	show_usage("start");
	printf("\n1. RESERVE 1 GiB: address space only\n");
	check(ioctl(dev, NTMEM_IOC_RESERVE, &res) == 0, "RESERVE");
	base = (char *)(uintptr_t)res.addr;
	printf("    base %p (64 KiB aligned: %s)\n", base,
	       (res.addr & 0xffff) ? "no" : "yes");
	show_maps_line(res.addr);
	show_usage("reserved");
	at = touch(base + 12345, 0);
	printf("    read base+12345 -> SIGSEGV at %p (%s)\n", at,
	       at == base + 12345 ? "the exact byte" : "WRONG");

	printf("\n2. COMMIT 64 MiB read-write: charged, still no memory\n");
	check(range(NTMEM_IOC_COMMIT, res.addr, commit, NTMEM_PAGE_READWRITE) == 0,
	      "COMMIT");
	printf("    page 0 present in pagemap: %s\n", present(base) ? "yes" : "no");
	show_usage("committed");

	printf("\n3. Touch every page: the MMU faults them in\n");
	for (i = 0; i < commit; i += 4096)
		base[i] = (char)i;
	printf("    page 0 present in pagemap: %s\n", present(base) ? "yes" : "no");
	show_usage("touched");

	printf("\n4. PROTECT page 1 READONLY, then write it\n");
	printf("    old protection %#x\n", protect(res.addr + 4096, 4096,
						NTMEM_PAGE_READONLY));
	at = touch(base + 4096 + 7, 1);
	printf("    write base+4103 -> SIGSEGV at %p (%s); page still reads %d\n",
	       at, at == base + 4103 ? "the exact byte" : "WRONG",
	       base[4096]);

	printf("\n5. PROTECT page 2 EXECUTE_READ and call code in it\n");
	memcpy(base + 8192, ret42, sizeof(ret42));
	protect(res.addr + 8192, 4096, NTMEM_PAGE_EXECUTE_READ);
	printf("    returned %d\n", ((int (*)(void))(base + 8192))());

	q.addr = res.addr + 4096;
	check(ioctl(dev, NTMEM_IOC_QUERY, &q) == 0, "QUERY");
	printf("    QUERY page 1: state %#x protect %#x region %llu bytes\n",
	       q.state, q.protect, (unsigned long long)q.region_size);

	printf("\n6. DECOMMIT the 64 MiB: memory freed in the call\n");
	check(range(NTMEM_IOC_DECOMMIT, res.addr, commit, 0) == 0, "DECOMMIT");
	show_usage("decommit");
	at = touch(base, 0);
	printf("    read base -> SIGSEGV at %p (%s)\n", at,
	       at == base ? "the exact byte" : "WRONG");

	printf("\n7. RELEASE: pages and charge gone, the range a free placeholder\n");
	check(range(NTMEM_IOC_RELEASE, res.addr, 0, 0) == 0, "RELEASE");
	show_maps_line(res.addr);
	show_usage("released");
	close(dev);
	return 0;
}
