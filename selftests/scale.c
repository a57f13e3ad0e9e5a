// SPDX-License-Identifier: GPL-2.0
/*
 * Many reservations: 10000 of 64 KiB coexist, each its own VMA, and every
 * query over them is right.  The time per query with 10 and with 10000
 * reservations is logged for comparison; the benchmarks judge it.  And
 * one huge reservation: 1 TiB with a page committed costs kilobytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define NRES	10000
#define NQUERY	20000

NTMEM_FD_FIXTURE(scale);

static char *bases[NRES];

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* NQUERY queries spread over the first @n reservations; ns per query. */
static uint64_t query_round(struct __test_metadata *_metadata, int fd, int n)
{
	unsigned int seed = 1;
	uint64_t t0 = now_ns(), t;

	for (int i = 0; i < NQUERY; i++) {
		int r = rand_r(&seed) % n;
		size_t page = rand_r(&seed) % 16;
		struct ntmem_query q;

		ASSERT_EQ(0, ntmem_query(fd, bases[r] + page * PAGE_SZ + 5, &q));
		if (q.alloc_base != (uintptr_t)bases[r] ||
		    q.base != (uintptr_t)bases[r] + page * PAGE_SZ ||
		    q.region_size != (page ? 16 - page : 1) * PAGE_SZ ||
		    q.state != (page ? NTMEM_STATE_RESERVE : NTMEM_STATE_COMMIT)) {
			ASSERT_TRUE(0) TH_LOG("reservation %d page %zu: base %llx alloc_base %llx size %llx state %x",
					      r, page,
					      (unsigned long long)q.base,
					      (unsigned long long)q.alloc_base,
					      (unsigned long long)q.region_size,
					      q.state);
		}
	}
	t = now_ns() - t0;
	return t / NQUERY;
}

TEST_F_TIMEOUT(scale, ten_thousand_reservations, 600)
{
	struct ntmem_counters c0, c1, c2;
	uint64_t ns_few = 0, ns_many;
	uintptr_t sorted[NRES];
	int maps0;

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	maps0 = maps_count();
	for (int i = 0; i < NRES; i++) {
		bases[i] = ntmem_reserve_any(self->fd, 64 * KiB);
		ASSERT_NE(NULL, bases[i]) TH_LOG("reservation %d", i);
		/* Page 0 committed, so each has two regions. */
		ASSERT_EQ(0, ntmem_commit(self->fd, bases[i], PAGE_SZ,
					  NTMEM_PAGE_READWRITE, 0));
		if (i == 9)
			ns_few = query_round(_metadata, self->fd, 10);
	}
	ns_many = query_round(_metadata, self->fd, NRES);
	TH_LOG("QUERY: %llu ns with 10 reservations, %llu ns with %d",
	       (unsigned long long)ns_few, (unsigned long long)ns_many, NRES);

	/* Each one a VMA of its own, none overlapping. */
	ASSERT_EQ(maps0 + NRES, maps_count());
	for (int i = 0; i < NRES; i++)
		sorted[i] = (uintptr_t)bases[i];
	qsort(sorted, NRES, sizeof(sorted[0]), cmp_ptr);
	for (int i = 1; i < NRES; i++) {
		ASSERT_LE(sorted[i - 1] + 64 * KiB, sorted[i]);
	}
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reservations + NRES, c1.reservations);
	ASSERT_EQ(c0.committed_pages + NRES, c1.committed_pages);

	/* Every one is usable. */
	for (int i = 0; i < NRES; i++) {
		bases[i][i % PAGE_SZ] = (char)i;
	}
	for (int i = 0; i < NRES; i++) {
		ASSERT_EQ((char)i, bases[i][i % PAGE_SZ]);
		ASSERT_EQ(0, ntmem_release(self->fd, bases[i], 0));
	}
	ASSERT_EQ(maps0, maps_count());
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c0.reservations, c2.reservations);
	ASSERT_EQ(c0.committed_pages, c2.committed_pages);
	ASSERT_EQ(c0.resident_pages, c2.resident_pages);
}

/*
 * Kernel memory in kB: slab, page tables, vmalloc, per-CPU.  Writing
 * stat_refresh folds the per-CPU counter deltas first, which otherwise
 * hide changes of a few pages.
 */
static long kernel_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = write(fd, "1\n", 2);	/* best effort */

		close(fd);
		(void)n;
	}
	return meminfo_kb("Slab") + meminfo_kb("PageTables") +
	       meminfo_kb("VmallocUsed") + meminfo_kb("Percpu");
}

/*
 * Per-page state is sparse: 1 TiB reserved, committed as one range and
 * one page touched, costs what plain mmap would (a few page tables), far
 * from the 2 GiB a byte per page would take.  Best of three, since slab
 * counters move with every allocation in the system.
 */
TEST_F(scale, one_tib_costs_kilobytes)
{
	const size_t tib = 1UL << 40;
	long best = -1;

	for (int i = 0; i < 3; i++) {
		long before = kernel_kb(), cost;
		char *p = ntmem_reserve_any(self->fd, tib);

		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, ntmem_commit(self->fd, p + tib / 2, PAGE_SZ,
					  NTMEM_PAGE_READWRITE, 0));
		p[tib / 2] = 1;
		cost = kernel_kb() - before;
		ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
		if (best < 0 || cost < best)
			best = cost;
	}
	TH_LOG("1 TiB reserved + 1 page committed and touched: %ld KiB of kernel memory",
	       best);
	ASSERT_GT(256, best);
}

TEST_HARNESS_MAIN
