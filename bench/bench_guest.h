/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest says about itself, for the benchmarks: the THP policy,
 * this process's smaps_rollup figures, and whether anything else is
 * runnable.
 */
#ifndef NTMEM_BENCH_GUEST_H
#define NTMEM_BENCH_GUEST_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

/* The system's THP policy, the word in brackets of .../enabled. */
static inline const char *thp_policy(void)
{
	static char word[16] = "unknown";
	char buf[128], *l, *r;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return word;
	if (fgets(buf, sizeof(buf), f) && (l = strchr(buf, '[')) &&
	    (r = strchr(l, ']')) && r - l - 1 < (long)sizeof(word)) {
		memcpy(word, l + 1, r - l - 1);
		word[r - l - 1] = '\0';
	}
	fclose(f);
	return word;
}

/* A "Field: N kB" line of /proc/self/smaps_rollup: N, or -1. */
static inline long rollup_kib(const char *field)
{
	char line[256], fmt[64];
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return -1;
	snprintf(fmt, sizeof(fmt), "%s: %%ld kB", field);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * With one vCPU, any other runnable task shares the timed loops.  Right
 * after boot the 6.12 guest runs the kernel's crypto self-tests
 * (cryptomgr_test) for about a second, which doubled every figure timed
 * meanwhile.  Wait until the run queue holds this program alone (the
 * running count in /proc/loadavg, which includes the reader) at
 * QUIET_CHECKS readings in a row, QUIET_GAP_US apart.  Returns the seconds
 * waited, negative if still busy after QUIET_MAX_S.
 */
#define QUIET_CHECKS	5
#define QUIET_GAP_US	100000
#define QUIET_MAX_S	120

static inline double wait_quiet(void)
{
	uint64_t t0 = bench_now_ns();
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	int quiet = 0, running;
	double waited = 0;
	char buf[128];
	ssize_t n;

	if (fd < 0)
		return 0;
	for (;;) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			break;
		buf[n] = '\0';
		if (sscanf(buf, "%*s %*s %*s %d/", &running) != 1)
			break;
		quiet = running <= 1 ? quiet + 1 : 0;
		waited = (double)(bench_now_ns() - t0) / 1e9;
		if (quiet >= QUIET_CHECKS)
			break;
		if (waited > QUIET_MAX_S) {
			waited = -waited;
			break;
		}
		usleep(QUIET_GAP_US);
	}
	close(fd);
	return waited;
}

#endif /* NTMEM_BENCH_GUEST_H */
