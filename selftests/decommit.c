// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_DECOMMIT: the pages become reserved again, and their memory
 * and page-table entries are gone before the call returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

NTMEM_FD_FIXTURE(decommit);

TEST_F_TIMEOUT(decommit, frees_memory_inside_the_call, 60)
{
	const size_t len = 64 * MiB;
	const long pages = len / PAGE_SZ, kb = len / KiB;
	struct ntmem_counters c1, c2;
	struct ntmem_query q;
	long free0, free1, free2;
	char *p = ntmem_reserve_any(self->fd, len);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	free0 = free_memory_kb();
	touch_pages(p, len, 0x77);
	ASSERT_EQ(pages, pagemap_count_present(p, len));
	ASSERT_LE(kb * 9 / 10, smaps_rss_kb(p));

	ASSERT_EQ(0, ntmem_counters_read(&c1));
	free1 = free_memory_kb();
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, len));
	free2 = free_memory_kb();
	ASSERT_EQ(0, ntmem_counters_read(&c2));

	ASSERT_LE(kb * 3 / 4, free2 - free1)
		TH_LOG("free memory %ld kB, touched %ld, decommitted %ld",
		       free0, free1, free2);
	ASSERT_EQ(c1.resident_pages - pages, c2.resident_pages);
	ASSERT_EQ(c1.committed_pages - pages, c2.committed_pages);
	ASSERT_EQ(c1.reservations, c2.reservations);
	ASSERT_EQ(0, pagemap_count_present(p, len));
	ASSERT_EQ(0, smaps_rss_kb(p));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(0, q.protect);
	ASSERT_EQ(len, q.region_size);
}

TEST_F(decommit, later_access_faults)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 4 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, 4 * PAGE_SZ, 21);
	ASSERT_EQ(0, ntmem_decommit(self->fd, p + PAGE_SZ, PAGE_SZ));
	ASSERT_SEGV_AT(p + PAGE_SZ + 123, try_read(p + PAGE_SZ + 123));
	ASSERT_SEGV_AT(p + 2 * PAGE_SZ - 1, try_write(p + 2 * PAGE_SZ - 1, 1));
	ASSERT_SEGV_AT(p + PAGE_SZ, try_read(p + PAGE_SZ));
	ASSERT_EQ(-1, check_pattern(p, PAGE_SZ, 21));
	ASSERT_EQ(-1, check_pattern(p + 2 * PAGE_SZ, 2 * PAGE_SZ, 21));
	ASSERT_EQ(0, pagemap_present(p + PAGE_SZ));
}

TEST_F(decommit, recommitted_page_reads_zero)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 16 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	memset(p, 0xaa, 16 * PAGE_SZ);
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, 16 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 16 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_bytes(p, 16 * PAGE_SZ, 0));
}

/* Decommitting pages that were never committed is not an error. */
TEST_F(decommit, reserved_pages_allowed)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, 64 * KiB));
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 2 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 5 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, 64 * KiB));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(64 * KiB, q.region_size);
}

TEST_F(decommit, middle_of_a_committed_run)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 8 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, 8 * PAGE_SZ, 22);
	ASSERT_EQ(0, ntmem_decommit(self->fd, p + 3 * PAGE_SZ, 2 * PAGE_SZ));

	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(3 * PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_query(self->fd, p + 3 * PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_query(self->fd, p + 5 * PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(3 * PAGE_SZ, q.region_size);
	ASSERT_EQ(-1, check_pattern(p, 3 * PAGE_SZ, 22));
	ASSERT_EQ(-1, check_pattern(p + 5 * PAGE_SZ, 3 * PAGE_SZ, 22));
}

/* Decommit of executable pages too frees them and unmaps them. */
TEST_F(decommit, executable_pages)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_counters c1, c2;
	int r = 0;

	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_EXEC))
		SKIP(return, "module has no NTMEM_FEATURE_EXEC");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	memcpy(p, code_ret42, sizeof(code_ret42));
	ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ,
				   NTMEM_PAGE_EXECUTE_READ, NULL));
	ASSERT_NO_FAULT(try_exec(p, &r));
	ASSERT_EQ(42, r);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(0, ntmem_decommit(self->fd, p, PAGE_SZ));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c1.resident_pages - 1, c2.resident_pages);
	ASSERT_SEGV_AT(p, try_exec(p, &r));
	ASSERT_SEGV_AT(p + 1, try_read(p + 1));
}

/* Two adjacent 64 KiB reservations, committed and filled; NULL if not. */
static char *committed_pair(int fd, uint64_t seed)
{
	char *f = ntmem_reserve_adjacent_pair(fd);

	if (!f || ntmem_commit(fd, f, 64 * KiB, NTMEM_PAGE_READWRITE, 0) ||
	    ntmem_commit(fd, f + 64 * KiB, 64 * KiB, NTMEM_PAGE_READWRITE, 0))
		return NULL;
	fill_pattern(f, 128 * KiB, seed);
	return f;
}

TEST_F(decommit, outside_one_reservation_enxio)
{
	char *f = committed_pair(self->fd, 23);
	struct ntmem_query q;

	ASSERT_NE(NULL, f);

	ASSERT_EQ(-ENXIO, ntmem_decommit(self->fd, f, 128 * KiB));
	ASSERT_EQ(-ENXIO, ntmem_decommit(self->fd, f + 60 * KiB, 8 * KiB));
	ASSERT_EQ(-ENXIO, ntmem_decommit(self->fd, f + 64 * KiB, 128 * KiB));
	ASSERT_EQ(-ENXIO, ntmem_decommit(self->fd, f + 512 * KiB, 64 * KiB));
	ASSERT_EQ(-1, check_pattern(f, 128 * KiB, 23));
	ASSERT_EQ(0, ntmem_query(self->fd, f, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(64 * KiB, q.region_size);
}

/*
 * Length 0 is the whole reservation based at the address (VirtualFree with
 * dwSize 0 in one call); one next to it keeps its pages, and an address
 * that is not a base is ENXIO with nothing changed.
 */
TEST_F(decommit, length_0_is_the_whole_reservation)
{
	char *f = committed_pair(self->fd, 29);
	struct ntmem_counters c1, c2;
	struct ntmem_query q;

	ASSERT_NE(NULL, f);

	ASSERT_EQ(-ENXIO, ntmem_decommit(self->fd, f + PAGE_SZ, 0));
	ASSERT_EQ(-1, check_pattern(f, 128 * KiB, 29));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(0, ntmem_decommit(self->fd, f, 0));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c1.committed_pages - 64 * KiB / PAGE_SZ,
		  c2.committed_pages);
	ASSERT_EQ(c1.resident_pages - 64 * KiB / PAGE_SZ,
		  c2.resident_pages);
	ASSERT_EQ(0, pagemap_count_present(f, 64 * KiB));
	ASSERT_EQ(0, ntmem_query(self->fd, f, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(64 * KiB, q.region_size);
	ASSERT_EQ(-1, check_pattern(f + 64 * KiB, 64 * KiB, 29));
	ASSERT_SEGV_AT(f + 5, try_read(f + 5));
}

TEST_HARNESS_MAIN
