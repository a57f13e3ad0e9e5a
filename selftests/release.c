// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_RELEASE: unmaps a whole reservation, given its base; the range
 * is then free for any later RESERVE and for mmap(MAP_FIXED).  It stays
 * mapped as an inaccessible placeholder ("[ntmem free]") until then, so
 * that RELEASE never unmaps what another thread mapped there meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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
	ASSERT_EQ(1, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
	/* the placeholder is a mapping: NOREPLACE sees it, FIXED maps over */
	m = mmap(p, 256 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ(MAP_FAILED, m);
	ASSERT_EQ(EEXIST, errno);
	m = mmap(p, 256 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ((void *)p, m);
	ASSERT_EQ(0, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
	ASSERT_NO_FAULT(try_write(p + 100 * KiB, 1));
	ASSERT_EQ(-1, check_bytes(p, PAGE_SZ, 0));
}

/* Released space: no access, no pages, free to QUERY, reused by RESERVE. */
TEST_F(release, leaves_a_placeholder_reserve_reuses)
{
	const size_t len = 256 * KiB;
	char *p = ntmem_reserve_any(self->fd, len), *again;
	struct ntmem_query q;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	touch_pages(p, len, 7);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(1, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
	ASSERT_EQ(0, ntmem_query(self->fd, p + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_LE(len - PAGE_SZ, q.region_size);
	ASSERT_EQ(0, pagemap_count_present(p, len));
	ASSERT_SEGV_AT(p, try_read(p));
	ASSERT_SEGV_AT(p + len - 1, try_write(p + len - 1, 1));
	ASSERT_EQ(-1, mprotect(p, PAGE_SZ, PROT_READ));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(MAP_FAILED, mremap(p, len, 2 * len, MREMAP_MAYMOVE));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, p, PAGE_SZ,
				       NTMEM_PAGE_READWRITE, 0));

	again = ntmem_reserve_any(self->fd, len);
	ASSERT_EQ(p, again);
	ASSERT_EQ(0, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_bytes(p, len, 0));
}

/* A FIXED RESERVE inside released space splits the placeholder. */
TEST_F(release, fixed_reserve_inside_a_placeholder)
{
	char *p = ntmem_reserve_any(self->fd, MiB), *x;
	struct ntmem_query q;
	size_t xl = 64 * KiB;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	x = p + 256 * KiB;
	ASSERT_EQ(0, ntmem_reserve(self->fd, (void **)&x, &xl,
				   NTMEM_RESERVE_FIXED, 0));
	ASSERT_EQ(p + 256 * KiB, x);
	ASSERT_EQ(2, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ(256 * KiB, q.region_size);
	ASSERT_EQ(0, ntmem_query(self->fd, x, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(0, ntmem_query(self->fd, x + 64 * KiB, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ(0, ntmem_release(self->fd, x, 0));
	ASSERT_EQ(0, munmap(p, MiB));	/* the program may drop placeholders */
	ASSERT_EQ(0, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
}

/* Reserving and releasing in a loop reuses the same address space. */
TEST_F_TIMEOUT(release, loop_stays_in_place, 300)
{
	static const size_t sizes[] = { 64 * KiB, MiB, 256 * KiB, 4 * KiB };
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int maps0 = maps_count();

	for (int i = 0; i < 4000; i++) {
		size_t len = sizes[i % 4];
		char *p = ntmem_reserve_any(self->fd, len);

		ASSERT_NE(NULL, p);
		if ((uintptr_t)p < lo)
			lo = (uintptr_t)p;
		if ((uintptr_t)p + len > hi)
			hi = (uintptr_t)p + len;
		ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	}
	ASSERT_EQ(maps0, maps_count());
	ASSERT_GE(4, maps_count_matching(NTMEM_PLACEHOLDER_NAME));
	ASSERT_GE(4 * MiB, hi - lo) TH_LOG("spread %lu KiB",
					   (unsigned long)(hi - lo) / KiB);
}

/*
 * Another thread munmaps the reservation and maps its own memory there
 * while RELEASE runs: RELEASE must fail (ENXIO) or release the
 * reservation, and never unmap the other thread's mapping.  The other
 * thread stays running and waits a varying time each round, so that its
 * munmap + mmap sweep across the whole RELEASE.
 */
struct stranger {
	char *p;
	size_t len;
	atomic_int round;	/* main: the round to run */
	atomic_int done;	/* stranger: the last round run */
	int delay;		/* spins before munmap */
	int mapped;
};

static void *stranger_thread(void *arg)
{
	struct stranger *s = arg;
	void *m;

	for (int r = 1;; r++) {
		int v;

		while ((v = atomic_load(&s->round)) >= 0 && v < r)
			;
		if (v < 0)
			return NULL;
		for (volatile int i = 0; i < s->delay; i++)
			;
		munmap(s->p, s->len);
		m = mmap(s->p, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
			 MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		s->mapped = m == s->p;	/* (touching it could race RELEASE) */
		atomic_store(&s->done, r);
	}
}

TEST_F_TIMEOUT(release, never_unmaps_a_racing_mapping, 600)
{
	static struct stranger s = { .len = 64 * KiB };
	int lost = 0, enxio = 0, released = 0, rounds = 4000;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, stranger_thread, &s));
	for (int i = 1; i <= rounds; i++) {
		struct maps_entry e;
		int err;

		s.p = ntmem_reserve_any(self->fd, s.len);
		ASSERT_NE(NULL, s.p);
		s.delay = (i * 13) % 1500;
		atomic_store(&s.round, i);
		err = ntmem_release(self->fd, s.p, 0);
		while (atomic_load(&s.done) < i)
			sched_yield();
		ASSERT_TRUE(err == 0 || err == -ENXIO) TH_LOG("err %d", err);
		enxio += err == -ENXIO;
		released += err == 0;
		if (s.mapped && (!maps_find(0, s.p, &e) || e.perms[3] != 'p'))
			lost++;
		munmap(s.p, s.len);
	}
	atomic_store(&s.round, -1);
	pthread_join(t, NULL);
	TH_LOG("%d rounds: %d released, %d ENXIO, %d mappings lost",
	       rounds, released, enxio, lost);
	ASSERT_EQ(0, lost);
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
