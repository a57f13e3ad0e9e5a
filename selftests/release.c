// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_RELEASE: unmaps a whole reservation, given its base; the range
 * is then free for any later mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

NTMEM_FD_FIXTURE(release);

TEST_F(release, unmaps_and_frees)
{
	const size_t len = 32 * MiB;
	const long pages = len / PAGE_SZ;
	struct ntmem_counters c1, c2;
	struct maps_entry e;
	struct ntmem_query q;
	long free1, free2;
	int maps1;
	char *p = ntmem_reserve_any(self->fd, len);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	touch_pages(p, len, 1);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	maps1 = maps_count();
	free1 = free_memory_kb();

	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	free2 = free_memory_kb();
	ASSERT_EQ(0, ntmem_counters_read(&c2));

	ASSERT_EQ(maps1 - 1, maps_count());
	ASSERT_FALSE(maps_find(0, p, &e));
	ASSERT_FALSE(maps_find(0, p + len - 1, &e));
	ASSERT_SEGV_AT(p, try_read(p));
	ASSERT_SEGV_AT(p + len - 1, try_write(p + len - 1, 1));
	ASSERT_EQ(c1.reservations - 1, c2.reservations);
	ASSERT_EQ(c1.committed_pages - pages, c2.committed_pages);
	ASSERT_EQ(c1.resident_pages - pages, c2.resident_pages);
	ASSERT_LE((long)(len / KiB) * 3 / 4, free2 - free1);
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_LE(len, q.region_size);
}

TEST_F(release, whole_length_also_accepted)
{
	size_t len = 5 * PAGE_SZ;
	void *p = NULL;

	ASSERT_EQ(0, ntmem_reserve(self->fd, &p, &len, 0, 0));
	ASSERT_EQ(0, ntmem_release(self->fd, p, len));
	ASSERT_SEGV_AT(p, try_read(p));
}

/* Assumption: any other length is malformed (header: "0 or the whole"). */
TEST_F(release, partial_length_einval)
{
	char *p = ntmem_reserve_any(self->fd, 256 * KiB);
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(-EINVAL, ntmem_release(self->fd, p, 128 * KiB));
	ASSERT_EQ(-EINVAL, ntmem_release(self->fd, p, PAGE_SZ));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(256 * KiB, q.region_size);
}

TEST_F(release, address_reusable_by_fixed_reserve)
{
	size_t len = 256 * KiB;
	void *p = NULL, *again;

	ASSERT_EQ(0, ntmem_reserve(self->fd, &p, &len, 0, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	memset(p, 0xaa, len);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	again = p;
	ASSERT_EQ(0, ntmem_reserve(self->fd, &again, &len, NTMEM_RESERVE_FIXED,
				   0));
	ASSERT_EQ(p, again);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_bytes(p, len, 0));
}

TEST_F(release, address_reusable_by_mmap)
{
	char *p = ntmem_reserve_any(self->fd, 256 * KiB);
	void *m;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	m = mmap(p, 256 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ((void *)p, m);
	ASSERT_NO_FAULT(try_write(p + 100 * KiB, 1));
	ASSERT_EQ(-1, check_bytes(p, PAGE_SZ, 0));
}

TEST_F(release, not_at_base_enxio)
{
	char *p = ntmem_reserve_any(self->fd, 256 * KiB);
	struct maps_entry e;
	int maps0 = maps_count();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, p + PAGE_SZ, 0));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, p + 64 * KiB, 0));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, p + 252 * KiB, 0));
	ASSERT_EQ(maps0, maps_count());
	ASSERT_TRUE(maps_find(0, p, &e));
	ASSERT_EQ((uintptr_t)p + 256 * KiB, e.end);
}

TEST_F(release, not_a_reservation_enxio)
{
	char *f = ntmem_find_free(self->fd, 1 * MiB);
	char *m;
	int local = 0;
	uintptr_t stack_page = (uintptr_t)&local & ~(PAGE_SZ - 1);

	ASSERT_NE(NULL, f);
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, f, 0));
	m = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill_pattern(m, 64 * KiB, 41);
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, m, 0));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, (void *)stack_page, 0));
	ASSERT_EQ(-1, check_pattern(m, 64 * KiB, 41));
	local = 5;
	ASSERT_EQ(5, *(volatile int *)&local);
}

TEST_F(release, twice_enxio)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, p, 0));
}

/* Releasing one of two adjacent reservations leaves the other alone. */
TEST_F(release, neighbour_untouched)
{
	char *f = ntmem_reserve_adjacent_pair(self->fd);
	char *y = f + 64 * KiB;
	struct ntmem_query q;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_commit(self->fd, f, 64 * KiB,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, y, 64 * KiB, NTMEM_PAGE_READWRITE,
				  0));
	fill_pattern(f, 128 * KiB, 42);
	ASSERT_EQ(0, ntmem_release(self->fd, y, 0));
	ASSERT_EQ(-1, check_pattern(f, 64 * KiB, 42));
	ASSERT_SEGV_AT(f + 64 * KiB, try_read(f + 64 * KiB));
	ASSERT_EQ(0, ntmem_query(self->fd, f, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(64 * KiB, q.region_size);
}

TEST_HARNESS_MAIN
