// SPDX-License-Identifier: GPL-2.0
/*
 * Plain mm system calls on a reservation: munmap of the whole of it is a
 * release, anything that would split or rewrite it fails and changes
 * nothing, and MADV_DONTNEED keeps the contents (shared-mapping
 * semantics).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

FIXTURE(vma_ops) {
	int fd;
	char *f;	/* 1 MiB of free space, the reservation in the middle */
	char *p;	/* 256 KiB reservation at f + 256 KiB */
	size_t len;
};

FIXTURE_SETUP(vma_ops)
{
	void *addr;

	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->f = ntmem_find_free(self->fd, 1 * MiB);
	ASSERT_NE(NULL, self->f);
	addr = self->f + 256 * KiB;
	self->len = 256 * KiB;
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &self->len,
				   NTMEM_RESERVE_FIXED, 0));
	self->p = addr;
	ASSERT_EQ(0, ntmem_commit(self->fd, self->p, self->len / 2,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_protect(self->fd, self->p + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(0, ntmem_protect(self->fd, self->p, PAGE_SZ,
				   NTMEM_PAGE_READWRITE, NULL));
}

FIXTURE_TEARDOWN(vma_ops)
{
	if (self->fd > 0)
		close(self->fd);
}

/* Fill the writable pages (all committed but page 1). */
static void fill(FIXTURE_DATA(vma_ops) *self)
{
	fill_pattern(self->p, PAGE_SZ, 51);
	fill_pattern(self->p + 2 * PAGE_SZ, self->len / 2 - 2 * PAGE_SZ, 51);
}

/* The reservation is exactly as the setup and fill() left it. */
static void check_intact(struct __test_metadata *_metadata,
			 FIXTURE_DATA(vma_ops) *self)
{
	char *p = self->p;
	struct maps_entry e;
	struct ntmem_query q;

	ASSERT_TRUE(maps_find(0, p, &e));
	ASSERT_EQ((uintptr_t)p, e.start);
	ASSERT_EQ((uintptr_t)p + self->len, e.end);
	ASSERT_EQ(-1, check_pattern(p, PAGE_SZ, 51));
	ASSERT_EQ(-1, check_pattern(p + 2 * PAGE_SZ,
				    self->len / 2 - 2 * PAGE_SZ, 51));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_query(self->fd, p + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.protect);
	ASSERT_EQ(0, ntmem_query(self->fd, p + self->len / 2, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(self->len / 2, q.region_size);
	ASSERT_SEGV_AT(p + PAGE_SZ + 8, try_write(p + PAGE_SZ + 8, 0));
	ASSERT_SEGV_AT(p + self->len / 2, try_read(p + self->len / 2));
	ASSERT_NO_FAULT(try_write(p + 2 * PAGE_SZ, p[2 * PAGE_SZ]));
}

TEST_F(vma_ops, munmap_whole_is_release)
{
	struct ntmem_counters c1, c2;
	struct ntmem_query q;
	void *again = self->p;
	size_t len = self->len;

	fill(self);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(0, munmap(self->p, self->len));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c1.reservations - 1, c2.reservations);
	ASSERT_EQ(c1.committed_pages - (long)(self->len / 2 / PAGE_SZ),
		  c2.committed_pages);
	ASSERT_EQ(c1.resident_pages - (long)(self->len / 2 / PAGE_SZ) + 1,
		  c2.resident_pages);
	ASSERT_EQ(0, ntmem_query(self->fd, self->p, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_SEGV_AT(self->p, try_read(self->p));
	ASSERT_EQ(-ENXIO, ntmem_release(self->fd, self->p, 0));
	ASSERT_EQ(0, ntmem_reserve(self->fd, &again, &len, NTMEM_RESERVE_FIXED,
				   0));
}

/* munmap of a range that covers the reservation and free space around. */
TEST_F(vma_ops, munmap_superset_is_release)
{
	struct ntmem_counters c1, c2;

	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(0, munmap(self->f, 1 * MiB));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c1.reservations - 1, c2.reservations);
	ASSERT_SEGV_AT(self->p, try_read(self->p));
}

TEST_F(vma_ops, munmap_partial_einval)
{
	char *p = self->p;
	struct {
		char *addr;
		size_t len;
		const char *what;
	} cases[] = {
		{ p, 64 * KiB, "head" },
		{ p + 64 * KiB, 64 * KiB, "middle" },
		{ p + PAGE_SZ, PAGE_SZ, "one page" },
		{ p + self->len - PAGE_SZ, PAGE_SZ, "tail" },
		{ p - PAGE_SZ, 2 * PAGE_SZ, "free space and the head" },
		{ p + self->len - PAGE_SZ, 2 * PAGE_SZ,
		  "the tail and free space" },
	};
	struct ntmem_counters c1, c2;
	int maps0;

	fill(self);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	maps0 = maps_count();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		errno = 0;
		ASSERT_EQ(-1, munmap(cases[i].addr, cases[i].len))
			TH_LOG("case '%s'", cases[i].what);
		ASSERT_EQ(EINVAL, errno) TH_LOG("case '%s'", cases[i].what);
	}
	ASSERT_EQ(maps0, maps_count());
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c1.reservations, c2.reservations);
	ASSERT_EQ(c1.committed_pages, c2.committed_pages);
	check_intact(_metadata, self);
}

TEST_F(vma_ops, mprotect_fails_cleanly)
{
	const int prots[] = { PROT_READ, PROT_NONE, PROT_READ | PROT_EXEC,
			      PROT_READ | PROT_WRITE,
			      PROT_READ | PROT_WRITE | PROT_EXEC };
	struct maps_entry e;
	int maps0, cur;

	/* What the VMA has now: asking for exactly that may be a no-op. */
	ASSERT_TRUE(maps_find(0, self->p, &e));
	cur = (e.perms[0] == 'r' ? PROT_READ : 0) |
	      (e.perms[1] == 'w' ? PROT_WRITE : 0) |
	      (e.perms[2] == 'x' ? PROT_EXEC : 0);
	fill(self);
	maps0 = maps_count();
	for (size_t i = 0; i < ARRAY_SIZE(prots); i++) {
		if (prots[i] == cur)
			continue;
		errno = 0;
		ASSERT_EQ(-1, mprotect(self->p, self->len, prots[i]))
			TH_LOG("whole, prot %d", prots[i]);
		ASSERT_TRUE(errno == EACCES || errno == EINVAL)
			TH_LOG("errno %d", errno);
		errno = 0;
		ASSERT_EQ(-1, mprotect(self->p + PAGE_SZ, PAGE_SZ, prots[i]))
			TH_LOG("one page, prot %d", prots[i]);
		ASSERT_TRUE(errno == EACCES || errno == EINVAL)
			TH_LOG("errno %d", errno);
	}
	ASSERT_EQ(maps0, maps_count());
	check_intact(_metadata, self);
}

TEST_F(vma_ops, mremap_fails_cleanly)
{
	/* Free space above the reservation: [p + len, f + 1 MiB). */
	char *dst = self->p + self->len;
	void *r;
	int maps0;

	fill(self);
	maps0 = maps_count();
	r = mremap(self->p, self->len, 2 * self->len, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, r);
	r = mremap(self->p, self->len, self->len / 2, 0);
	ASSERT_EQ(MAP_FAILED, r);
	r = mremap(self->p, self->len, self->len + PAGE_SZ, 0);
	ASSERT_EQ(MAP_FAILED, r);
	r = mremap(self->p, self->len, self->len / 2,
		   MREMAP_MAYMOVE | MREMAP_FIXED, self->f);
	ASSERT_EQ(MAP_FAILED, r);
	/* A move of the whole reservation would leave ntmem's record stale. */
	r = mremap(self->p, self->len, self->len,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dst + 128 * KiB);
	ASSERT_EQ(MAP_FAILED, r);
	ASSERT_EQ(maps0, maps_count());
	ASSERT_SEGV_AT(dst + 128 * KiB, try_read(dst + 128 * KiB));
	ASSERT_SEGV_AT(self->f, try_read(self->f));
	check_intact(_metadata, self);
}

TEST_F(vma_ops, madvise_dontneed_keeps_contents)
{
	struct ntmem_counters c1, c2;

	fill(self);
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(0, madvise(self->p, self->len / 2, MADV_DONTNEED));
	check_intact(_metadata, self);
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c1.committed_pages, c2.committed_pages);
	/* Still writable afterwards, and the write sticks. */
	ASSERT_NO_FAULT(try_write(self->p + 3 * PAGE_SZ, 0x3c));
	ASSERT_EQ(0, madvise(self->p, self->len / 2, MADV_DONTNEED));
	ASSERT_EQ(0x3c, self->p[3 * PAGE_SZ]);
}

TEST_HARNESS_MAIN
