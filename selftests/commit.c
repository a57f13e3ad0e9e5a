// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_COMMIT: committed pages cost nothing until touched (or
 * prefaulted), read as zero, keep their contents when committed again and
 * take the new protection; the range must lie inside one reservation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

NTMEM_FD_FIXTURE(commit);

TEST_F_TIMEOUT(commit, lazy_until_touched_256m, 90)
{
	const size_t len = 256 * MiB, half = len / 2;
	const long half_kb = half / KiB, half_pages = half / PAGE_SZ;
	struct ntmem_counters c0, c1, c2;
	long free0, free1, free2, rss1, rss2;
	struct ntmem_query q;
	char *p = ntmem_reserve_any(self->fd, len);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	free0 = free_memory_kb();
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	free1 = free_memory_kb();
	rss1 = rss_kb();
	ASSERT_EQ(0, ntmem_counters_read(&c1));

	/* Committed, charged, but nothing allocated or mapped. */
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(len, q.region_size);
	ASSERT_EQ(c0.committed_pages + (long)(len / PAGE_SZ), c1.committed_pages);
	ASSERT_EQ(c0.resident_pages, c1.resident_pages);
	ASSERT_EQ(0, pagemap_count_present(p, len));
	ASSERT_EQ(0, smaps_rss_kb(p));
	ASSERT_LE(free0 - free1, 16 * 1024) TH_LOG("commit took %ld kB",
						    free0 - free1);

	/* Touch the first half. */
	fill_pattern(p, half, 1);
	free2 = free_memory_kb();
	rss2 = rss_kb();
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(half_pages, pagemap_count_present(p, half));
	ASSERT_EQ(0, pagemap_count_present(p + half, half));
	ASSERT_EQ(c1.resident_pages + half_pages, c2.resident_pages);
	ASSERT_LE(half_kb * 8 / 10, free1 - free2)
		TH_LOG("free memory fell by %ld kB for %ld kB touched",
		       free1 - free2, half_kb);
	ASSERT_LE(free1 - free2, half_kb + 32 * 1024)
		TH_LOG("free memory fell by %ld kB for %ld kB touched",
		       free1 - free2, half_kb);
	ASSERT_LE(half_kb * 9 / 10, smaps_rss_kb(p));
	ASSERT_LE(half_kb * 9 / 10, rss2 - rss1);

	ASSERT_EQ(-1, check_pattern(p, half, 1));
	ASSERT_EQ(-1, check_bytes(p + half, half, 0));
}

TEST_F(commit, prefault_maps_at_once)
{
	const size_t len = 16 * MiB;
	struct ntmem_counters c0, c1;
	char *p = ntmem_reserve_any(self->fd, len);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE,
				  NTMEM_COMMIT_PREFAULT));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ((long)(len / PAGE_SZ), pagemap_count_present(p, len));
	ASSERT_EQ(c0.resident_pages + (long)(len / PAGE_SZ), c1.resident_pages);
	ASSERT_LE((long)(len / KiB) * 9 / 10, smaps_rss_kb(p));
	ASSERT_EQ(-1, check_bytes(p, len, 0));
	fill_pattern(p, len, 3);
	ASSERT_EQ(-1, check_pattern(p, len, 3));
}

/* Prefault maps read-only pages read-only: reads work, writes fault. */
TEST_F(commit, prefault_readonly)
{
	const size_t len = 64 * KiB;
	char *p = ntmem_reserve_any(self->fd, len);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READONLY,
				  NTMEM_COMMIT_PREFAULT));
	ASSERT_EQ((long)(len / PAGE_SZ), pagemap_count_present(p, len));
	ASSERT_EQ(-1, check_bytes(p, len, 0));
	ASSERT_SEGV_AT(p + 0x5008, try_write(p + 0x5008, 1));
	ASSERT_EQ(-1, check_bytes(p, len, 0));
}

TEST_F(commit, outside_one_reservation_enxio)
{
	char *f = ntmem_find_free(self->fd, 2 * MiB);
	void *x = f, *y = f + 128 * KiB;
	size_t xl = 128 * KiB, yl = 128 * KiB;
	struct ntmem_query q;
	char *a, *m;

	ASSERT_NE(NULL, f);
	/* Two adjacent reservations. */
	ASSERT_EQ(0, ntmem_reserve(self->fd, &x, &xl, NTMEM_RESERVE_FIXED, 0));
	ASSERT_EQ(0, ntmem_reserve(self->fd, &y, &yl, NTMEM_RESERVE_FIXED, 0));
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, f + 64 * KiB, 128 * KiB,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, f + 124 * KiB, 2 * PAGE_SZ,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, f + 124 * KiB, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(0, ntmem_query(self->fd, f + 128 * KiB, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);

	/* Running past the end, and the slack after a short reservation. */
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, f + 192 * KiB, 128 * KiB,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, f + 192 * KiB, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	a = ntmem_reserve_any(self->fd, 3 * PAGE_SZ);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, a + 3 * PAGE_SZ, PAGE_SZ,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, a, 4 * PAGE_SZ,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, a, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);

	/* Free memory, and memory ntmem did not create. */
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, f + MiB, 64 * KiB,
				       NTMEM_PAGE_READWRITE, 0));
	m = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill_pattern(m, 64 * KiB, 5);
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, m, 64 * KiB,
				       NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_pattern(m, 64 * KiB, 5));
	ASSERT_NO_FAULT(try_write(m, 1));
}

TEST_F(commit, recommit_keeps_contents_changes_protection)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 4 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, 4 * PAGE_SZ, 11);

	ASSERT_EQ(0, ntmem_commit(self->fd, p, 4 * PAGE_SZ,
				  NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(-1, check_pattern(p, 4 * PAGE_SZ, 11));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(4 * PAGE_SZ, q.region_size);
	ASSERT_SEGV_AT(p + 2 * PAGE_SZ + 17, try_write(p + 2 * PAGE_SZ + 17, 0));
	ASSERT_EQ(-1, check_pattern(p, 4 * PAGE_SZ, 11));

	ASSERT_EQ(0, ntmem_commit(self->fd, p, 4 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_pattern(p, 4 * PAGE_SZ, 11));
	ASSERT_NO_FAULT(try_write(p + 2 * PAGE_SZ + 17, 0x5a));
	ASSERT_EQ(0x5a, p[2 * PAGE_SZ + 17]);
}

/* Committing a mix: old pages keep their data, new pages read as zero. */
TEST_F(commit, recommit_mixed_range)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p + PAGE_SZ, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p + PAGE_SZ, 2 * PAGE_SZ, 12);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 8 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_bytes(p, PAGE_SZ, 0));
	ASSERT_EQ(-1, check_pattern(p + PAGE_SZ, 2 * PAGE_SZ, 12));
	ASSERT_EQ(-1, check_bytes(p + 3 * PAGE_SZ, 5 * PAGE_SZ, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(8 * PAGE_SZ, q.region_size);
}

TEST_F(commit, noaccess_commit)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;
	uint32_t old = 0;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_NOACCESS, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, q.protect);
	ASSERT_SEGV_AT(p + 99, try_read(p + 99));
	ASSERT_SEGV_AT(p + 100, try_write(p + 100, 1));
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				   &old));
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, old);
	ASSERT_EQ(-1, check_bytes(p, PAGE_SZ, 0));
}

TEST_F(commit, readonly_commit_reads_zero)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 2 * PAGE_SZ,
				  NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(-1, check_bytes(p, 2 * PAGE_SZ, 0));
	ASSERT_SEGV_AT(p + PAGE_SZ + 1, try_write(p + PAGE_SZ + 1, 1));
	ASSERT_SEGV_AT(p + 2 * PAGE_SZ, try_read(p + 2 * PAGE_SZ));
}

TEST_F(commit, bad_protection_einval)
{
	const uint32_t bad[] = { 0, 0x03, 0x06, 0x08, 0x80, 0x804, 0x100,
				 0x101, 0x201, 0x304, 0x604 };
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_counters c0, c1;
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-EINVAL, ntmem_commit(self->fd, p, PAGE_SZ, bad[i], 0))
			TH_LOG("protect 0x%x", bad[i]);
	}
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(64 * KiB, q.region_size);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);
}

TEST_HARNESS_MAIN
