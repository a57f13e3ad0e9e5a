// SPDX-License-Identifier: GPL-2.0
/*
 * Windows placeholders (NTMEM_RESERVE_PLACEHOLDER, _REPLACE, RELEASE's
 * NTMEM_RELEASE_PRESERVE and _COALESCE) and MEM_ADDRESS_REQUIREMENTS: a
 * placeholder is reserved, inaccessible address space of one VMA that
 * splits (one VMA more), joins (fewer), and is replaced exactly by a
 * reservation or a view, which give it back; the documented ring buffer
 * is two views of one section in the two halves of a placeholder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define NEED_PLACEHOLDERS() do {					\
		if (!(ntmem_features(self->fd) & NTMEM_FEATURE_PLACEHOLDERS)) \
			SKIP(return, "module without placeholders");	\
	} while (0)

/* RESERVE with every field: 0 or -errno, the base in *@addr. */
static int reserve(int fd, uint64_t *addr, uint64_t len, uint32_t flags,
		   uint32_t protect, uint64_t lowest, uint64_t highest,
		   uint64_t align)
{
	struct ntmem_reserve r = {
		.size = sizeof(r), .flags = flags, .addr = *addr,
		.length = len, .protect = protect, .lowest = lowest,
		.highest = highest, .alignment = align,
	};
	int err = ntmem_ioctl(fd, NTMEM_IOC_RESERVE, &r);

	if (!err)
		*addr = r.addr;
	return err;
}

static char *placeholder(int fd, uint64_t len)
{
	uint64_t addr = 0;

	return reserve(fd, &addr, len, NTMEM_RESERVE_PLACEHOLDER, 0, 0, 0, 0) ?
	       NULL : (char *)(uintptr_t)addr;
}

static int release(int fd, const void *addr, uint64_t len, uint32_t flags)
{
	return ntmem_range_ioctl(fd, NTMEM_IOC_RELEASE, (uintptr_t)addr, len,
				 0, flags);
}

static int query_type(int fd, const void *addr, struct ntmem_query *q)
{
	int err = ntmem_query(fd, addr, q);

	return err ? err : (int)q->type;
}

NTMEM_FD_FIXTURE(placeholder);

TEST_F(placeholder, ring_buffer_of_two_views)
{
	struct ntmem_view v = { .size = sizeof(v) };
	struct ntmem_query q;
	int s, maps;
	char *p;

	NEED_PLACEHOLDERS();
	p = placeholder(self->fd, 2 * GRAN);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p + GRAN, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ((uintptr_t)p, q.alloc_base);
	ASSERT_EQ(2 * GRAN, q.alloc_size);
	ASSERT_EQ(GRAN, q.region_size);
	ASSERT_SEGV_AT(p + 5, try_read(p + 5));
	ASSERT_EQ(-ENXIO, ntmem_commit(self->fd, p, PAGE_SZ,
				       NTMEM_PAGE_READWRITE, 0));

	maps = maps_count();
	ASSERT_EQ(0, release(self->fd, p, GRAN, NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(maps + 1, maps_count());
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p, &q));
	ASSERT_EQ(GRAN, q.alloc_size);
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p + GRAN, &q));
	ASSERT_EQ((uintptr_t)p + GRAN, q.alloc_base);

	s = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_READWRITE, NULL,
				 NULL);
	ASSERT_LE(0, s);
	v.section = s;
	v.access = NTMEM_FILE_MAP_WRITE;
	v.flags = NTMEM_RESERVE_FIXED | NTMEM_RESERVE_REPLACE;
	v.addr = (uintptr_t)p;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_MAP_VIEW, &v));
	v.addr = (uintptr_t)p + GRAN;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_MAP_VIEW, &v));
	ASSERT_EQ(0, close(s));
	ASSERT_EQ(maps + 1, maps_count());

	/* a record that wraps reads straight on */
	memcpy(p + GRAN - 4, "wrapping", 8);
	ASSERT_EQ(0, memcmp(p + 2 * GRAN - 4, "wrap", 4));
	ASSERT_EQ(0, memcmp(p, "ping", 4));
	ASSERT_EQ(0, memcmp(p + GRAN - 4, "wrap", 4));
	ASSERT_EQ(NTMEM_TYPE_MAPPED, query_type(self->fd, p + GRAN, &q));

	/* back to placeholders, one, and free */
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_UNMAP_VIEW,
				       (uintptr_t)p + 7, 0, 0,
				       NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(0, ntmem_range_ioctl(self->fd, NTMEM_IOC_UNMAP_VIEW,
				       (uintptr_t)p + GRAN, 0, 0,
				       NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p, &q));
	ASSERT_EQ(GRAN, q.alloc_size);
	ASSERT_EQ(0, release(self->fd, p, 2 * GRAN, NTMEM_RELEASE_COALESCE));
	ASSERT_EQ(maps, maps_count());
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p + GRAN, &q));
	ASSERT_EQ(2 * GRAN, q.alloc_size);
	ASSERT_EQ(0, release(self->fd, p, 0, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
}

TEST_F(placeholder, split_in_three_and_replace_by_a_reservation)
{
	uint64_t addr;
	struct ntmem_query q;
	int maps;
	char *p;

	NEED_PLACEHOLDERS();
	p = placeholder(self->fd, 3 * GRAN);
	ASSERT_NE(NULL, p);
	maps = maps_count();
	ASSERT_EQ(0, release(self->fd, p + GRAN, GRAN,
			     NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(maps + 2, maps_count());
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p + GRAN, &q));
	ASSERT_EQ((uintptr_t)p + GRAN, q.alloc_base);
	ASSERT_EQ(GRAN, q.alloc_size);

	/* the middle becomes committed memory, then a placeholder again */
	addr = (uintptr_t)p + GRAN;
	ASSERT_EQ(0, reserve(self->fd, &addr, GRAN, NTMEM_RESERVE_FIXED |
			     NTMEM_RESERVE_REPLACE | NTMEM_RESERVE_COMMIT,
			     NTMEM_PAGE_READWRITE, 0, 0, 0));
	ASSERT_EQ((uintptr_t)p + GRAN, addr);
	p[GRAN + 3] = 7;
	ASSERT_EQ(NTMEM_TYPE_PRIVATE, query_type(self->fd, p + GRAN, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_SEGV_AT(p, try_read(p));
	ASSERT_EQ(-EINVAL, release(self->fd, p + GRAN, PAGE_SZ, 0));
	ASSERT_EQ(0, release(self->fd, p + GRAN, 0, NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p + GRAN, &q));
	ASSERT_SEGV_AT(p + GRAN + 3, try_read(p + GRAN + 3));
	ASSERT_EQ(maps + 2, maps_count());

	ASSERT_EQ(0, release(self->fd, p, 3 * GRAN, NTMEM_RELEASE_COALESCE));
	ASSERT_EQ(maps, maps_count());
	ASSERT_EQ(0, release(self->fd, p, 3 * GRAN, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, p + GRAN, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
}

TEST_F(placeholder, wrong_ranges_change_nothing)
{
	struct ntmem_view v = { .size = sizeof(v) };
	struct ntmem_query q;
	uint64_t addr;
	uint32_t old;
	int maps, s;
	char *p, *r;

	NEED_PLACEHOLDERS();
	p = placeholder(self->fd, 4 * GRAN);
	ASSERT_NE(NULL, p);
	r = ntmem_reserve_any(self->fd, GRAN);
	ASSERT_NE(NULL, r);
	maps = maps_count();

	/* a plain reservation cannot take a placeholder's place */
	addr = (uintptr_t)p;
	ASSERT_EQ(-EEXIST, reserve(self->fd, &addr, GRAN, NTMEM_RESERVE_FIXED,
				   0, 0, 0, 0));
	/* replacing needs exactly one placeholder */
	ASSERT_EQ(-ENXIO, reserve(self->fd, &addr, GRAN, NTMEM_RESERVE_FIXED |
				  NTMEM_RESERVE_REPLACE, 0, 0, 0, 0));
	addr = (uintptr_t)r;
	ASSERT_EQ(-ENXIO, reserve(self->fd, &addr, GRAN, NTMEM_RESERVE_FIXED |
				  NTMEM_RESERVE_REPLACE, 0, 0, 0, 0));
	s = ntmem_section_create(self->fd, GRAN, 0, NTMEM_PAGE_READWRITE, NULL,
				 NULL);
	ASSERT_LE(0, s);
	v.section = s;
	v.access = NTMEM_FILE_MAP_WRITE;
	v.flags = NTMEM_RESERVE_FIXED | NTMEM_RESERVE_REPLACE;
	v.addr = (uintptr_t)p;
	ASSERT_EQ(-ENXIO, ntmem_ioctl(self->fd, NTMEM_IOC_MAP_VIEW, &v));
	/* no placeholder to give back to */
	ASSERT_EQ(-ENXIO, release(self->fd, r, 0, NTMEM_RELEASE_PRESERVE));
	v.flags = 0;
	v.addr = 0;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_MAP_VIEW, &v));
	ASSERT_EQ(-ENXIO, ntmem_range_ioctl(self->fd, NTMEM_IOC_UNMAP_VIEW,
					    v.addr, 0, 0,
					    NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(0, ntmem_unmap_view(self->fd, (void *)(uintptr_t)v.addr));
	close(s);
	/* splitting needs a strict part of one; joining two or more */
	ASSERT_EQ(-ENXIO, release(self->fd, p, 4 * GRAN,
				  NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(-ENXIO, release(self->fd, p + 3 * GRAN, 2 * GRAN,
				  NTMEM_RELEASE_PRESERVE));
	ASSERT_EQ(-ENXIO, release(self->fd, p, 4 * GRAN,
				  NTMEM_RELEASE_COALESCE));
	ASSERT_EQ(-ENXIO, release(self->fd, p + GRAN, 0, 0));
	ASSERT_EQ(-ENXIO, release(self->fd, p, GRAN, 0));
	ASSERT_EQ(-EINVAL, release(self->fd, p, GRAN, NTMEM_RELEASE_PRESERVE |
				   NTMEM_RELEASE_COALESCE));
	ASSERT_EQ(0, release(self->fd, p + GRAN, GRAN, NTMEM_RELEASE_PRESERVE));
	/* [p, p+G) and [p+G, p+2G) are adjacent, but not all of [p, p+3G) */
	ASSERT_EQ(-ENXIO, release(self->fd, p, 3 * GRAN,
				  NTMEM_RELEASE_COALESCE));
	ASSERT_EQ(-ENXIO, release(self->fd, p, 2 * GRAN + PAGE_SZ,
				  NTMEM_RELEASE_COALESCE));
	ASSERT_EQ(maps + 2, maps_count());
	ASSERT_EQ(NTMEM_TYPE_PLACEHOLDER, query_type(self->fd, p, &q));
	ASSERT_EQ(GRAN, q.alloc_size);
	/* no pages, no protection, no reset in a placeholder */
	ASSERT_EQ(-ENXIO, ntmem_protect(self->fd, p, PAGE_SZ,
					NTMEM_PAGE_READWRITE, &old));
	ASSERT_EQ(-ENXIO, ntmem_decommit(self->fd, p, PAGE_SZ));
	ASSERT_NE(0, mprotect(p, PAGE_SZ, PROT_READ));

	/* bad flags */
	addr = 0;
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN,
				   NTMEM_RESERVE_PLACEHOLDER |
				   NTMEM_RESERVE_COMMIT,
				   NTMEM_PAGE_READWRITE, 0, 0, 0));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN,
				   NTMEM_RESERVE_PLACEHOLDER,
				   NTMEM_PAGE_READWRITE, 0, 0, 0));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN,
				   NTMEM_RESERVE_REPLACE, 0, 0, 0, 0));
	ASSERT_EQ(maps + 2, maps_count());
	ASSERT_EQ(0, ntmem_release(self->fd, r, 0));
}

TEST_F(placeholder, address_requirements)
{
	const uint64_t lo = 1 * GiB, hi = 2 * GiB - 1, align = 1 * MiB;
	uint64_t addr = 0;
	char *p;

	NEED_PLACEHOLDERS();
	ASSERT_EQ(0, reserve(self->fd, &addr, 3 * GRAN, 0, 0, lo, hi, align));
	ASSERT_LE(lo, addr);
	ASSERT_GE(hi + 1, addr + 3 * GRAN);
	ASSERT_EQ(0, addr % align);
	p = (char *)(uintptr_t)addr;
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));

	addr = 0;
	ASSERT_EQ(0, reserve(self->fd, &addr, 3 * GRAN,
			     NTMEM_RESERVE_TOP_DOWN | NTMEM_RESERVE_PLACEHOLDER,
			     0, lo, hi, align));
	ASSERT_GE(hi + 1, addr + 3 * GRAN);
	ASSERT_LT(hi + 1 - 2 * align, addr);
	ASSERT_EQ(0, addr % align);
	ASSERT_EQ(0, release(self->fd, (void *)(uintptr_t)addr, 0, 0));

	/* what cannot be */
	addr = 0;
	ASSERT_EQ(-ENOMEM, reserve(self->fd, &addr, 2 * GRAN, 0, 0, lo,
				   lo + GRAN - 1, 0));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, 0, 0, 0, 0,
				   3 * GRAN));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, 0, 0, 0, 0,
				   PAGE_SZ));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, 0, 0, lo + 1, 0, 0));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, 0, 0, 0, hi - 1, 0));
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, 0, 0, hi + 1, lo - 1,
				   0));
	addr = lo;
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, NTMEM_RESERVE_FIXED,
				   0, lo, hi, 0));
	addr = 3 * GiB;
	ASSERT_EQ(-EINVAL, reserve(self->fd, &addr, GRAN, 0, 0, lo, hi, 0));
}

TEST_HARNESS_MAIN
