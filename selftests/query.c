// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_QUERY: what VirtualQuery reports for ntmem memory (regions of
 * like pages, upwards from the address), free memory and memory ntmem did
 * not create.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

NTMEM_FD_FIXTURE(query);

TEST_F(query, regions_inside_a_reservation)
{
	const uint32_t x = (ntmem_features(self->fd) & NTMEM_FEATURE_EXEC) ?
			   NTMEM_PAGE_EXECUTE_READ : NTMEM_PAGE_NOACCESS;
	const uint32_t rw = NTMEM_PAGE_READWRITE, ro = NTMEM_PAGE_READONLY;
	const uint32_t C = NTMEM_STATE_COMMIT, R = NTMEM_STATE_RESERVE;
	size_t len = 64 * KiB;
	void *addr = NULL;
	char *b;
	struct {
		size_t off, base, size;
		uint32_t state, protect;
	} want[] = {
		{ 0, 0, 4, R, 0 },
		{ 0x2345, 2, 2, R, 0 },
		{ 4 * PAGE_SZ, 4, 2, C, rw },
		{ 5 * PAGE_SZ + 0x10, 5, 1, C, rw },
		{ 6 * PAGE_SZ + 0xfff, 6, 1, C, ro },
		{ 7 * PAGE_SZ, 7, 3, C, x },
		{ 9 * PAGE_SZ + 1, 9, 1, C, x },
		{ 10 * PAGE_SZ, 10, 6, R, 0 },
		{ 16 * PAGE_SZ - 1, 15, 1, R, 0 },
	};

	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, 0, rw));
	b = addr;
	ASSERT_EQ(0, ntmem_commit(self->fd, b + 4 * PAGE_SZ, 2 * PAGE_SZ, rw,
				  0));
	ASSERT_EQ(0, ntmem_commit(self->fd, b + 6 * PAGE_SZ, PAGE_SZ, ro, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, b + 7 * PAGE_SZ, 3 * PAGE_SZ, x,
				  0));

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct ntmem_query q;

		ASSERT_EQ(0, ntmem_query(self->fd, b + want[i].off, &q));
		ASSERT_EQ((uintptr_t)b + want[i].base * PAGE_SZ, q.base)
			TH_LOG("offset %zx", want[i].off);
		ASSERT_EQ(want[i].size * PAGE_SZ, q.region_size)
			TH_LOG("offset %zx", want[i].off);
		ASSERT_EQ(want[i].state, q.state) TH_LOG("offset %zx",
							 want[i].off);
		ASSERT_EQ(want[i].protect, q.protect) TH_LOG("offset %zx",
							     want[i].off);
		ASSERT_EQ((uintptr_t)b, q.alloc_base);
		ASSERT_EQ(rw, q.alloc_protect);
		ASSERT_EQ(NTMEM_TYPE_PRIVATE, q.type);
		ASSERT_EQ((uintptr_t)b + want[i].off, q.addr);
	}
}

/* Reserved pages form one region whatever they were before. */
TEST_F(query, decommitted_pages_merge)
{
	char *b = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;

	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, ntmem_commit(self->fd, b, 2 * PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, b + 2 * PAGE_SZ, 2 * PAGE_SZ,
				  NTMEM_PAGE_READONLY, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, b, &q));
	ASSERT_EQ(2 * PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_decommit(self->fd, b, 4 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_query(self->fd, b, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(64 * KiB, q.region_size);
}

/* The free run after a short reservation belongs to nobody. */
TEST_F(query, slack_is_free)
{
	char *b = ntmem_reserve_any(self->fd, 3 * PAGE_SZ);
	uintptr_t next;
	struct ntmem_query q;

	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, ntmem_query(self->fd, b + 3 * PAGE_SZ + 0x10, &q));
	next = maps_next_start(b + 3 * PAGE_SZ);
	if (next > NTMEM_MAX_ADDRESS)
		next = NTMEM_MAX_ADDRESS;
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ((uintptr_t)b + 3 * PAGE_SZ, q.base);
	ASSERT_EQ(0, q.alloc_base);
	ASSERT_EQ(0, q.alloc_protect);
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, q.protect);
	ASSERT_EQ(0, q.type);
	/* (Not >= 0xD000 as on Windows: other mappings are page aligned.) */
	ASSERT_EQ(next - q.base, q.region_size);
}

/* Adjacent reservations with equal attributes are separate regions. */
TEST_F(query, adjacent_reservations_separate)
{
	char *f = ntmem_reserve_adjacent_pair(self->fd);
	struct ntmem_query q;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_query(self->fd, f, &q));
	ASSERT_EQ(64 * KiB, q.region_size);
	ASSERT_EQ((uintptr_t)f, q.alloc_base);
	ASSERT_EQ(0, ntmem_query(self->fd, f + 64 * KiB, &q));
	ASSERT_EQ((uintptr_t)f + 64 * KiB, q.alloc_base);
	ASSERT_EQ(64 * KiB, q.region_size);

	ASSERT_EQ(0, ntmem_commit(self->fd, f + 60 * KiB, 4 * KiB,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, f + 64 * KiB, 4 * KiB,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_query(self->fd, f + 60 * KiB, &q));
	ASSERT_EQ(4 * KiB, q.region_size);
}

TEST_F(query, free_memory)
{
	char *f = ntmem_find_free(self->fd, 4 * MiB);
	uintptr_t next = maps_next_start(f);
	struct ntmem_query q;

	ASSERT_NE(NULL, f);
	if (next > NTMEM_MAX_ADDRESS)
		next = NTMEM_MAX_ADDRESS;
	ASSERT_EQ(0, ntmem_query(self->fd, f + 0x1234, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ((uintptr_t)f + 0x1000, q.base);
	ASSERT_EQ(next - q.base, q.region_size);
	ASSERT_LE(4 * MiB - 0x1000, q.region_size);
	ASSERT_EQ(0, q.alloc_base);
	ASSERT_EQ(0, q.alloc_protect);
	ASSERT_EQ(NTMEM_PAGE_NOACCESS, q.protect);
	ASSERT_EQ(0, q.type);

	/* The top of the user range: free memory ends at NTMEM_MAX_ADDRESS. */
	ASSERT_EQ(0, ntmem_query(self->fd,
				 (void *)(uintptr_t)(NTMEM_MAX_ADDRESS - 1),
				 &q));
	if (q.state == NTMEM_STATE_FREE) {
		ASSERT_EQ(NTMEM_MAX_ADDRESS - PAGE_SZ, q.base);
		ASSERT_EQ(PAGE_SZ, q.region_size);
	}
}

/* Walking the whole user range never meets a zero-sized region. */
TEST_F(query, walk_user_range)
{
	uintptr_t a = NTMEM_MIN_ADDRESS;
	char *b = ntmem_reserve_any(self->fd, 64 * KiB);
	int regions = 0, found = 0;

	ASSERT_NE(NULL, b);
	while (a < NTMEM_MAX_ADDRESS) {
		struct ntmem_query q;

		ASSERT_EQ(0, ntmem_query(self->fd, (void *)a, &q))
			TH_LOG("at %lx", (unsigned long)a);
		ASSERT_EQ(a, q.base);
		ASSERT_LT(0, q.region_size);
		ASSERT_LE(q.base + q.region_size, NTMEM_MAX_ADDRESS);
		found |= q.alloc_base == (uintptr_t)b;
		a += q.region_size;
		ASSERT_LT(++regions, 100000);
	}
	ASSERT_TRUE(found);
}

static void check_other(struct __test_metadata *_metadata, int fd,
			const void *addr, const char *what)
{
	struct maps_entry e;
	struct ntmem_query q;

	ASSERT_TRUE(maps_find(0, addr, &e)) TH_LOG("%s", what);
	ASSERT_EQ(0, ntmem_query(fd, addr, &q)) TH_LOG("%s", what);
	ASSERT_EQ(NTMEM_STATE_OTHER, q.state) TH_LOG("%s", what);
	ASSERT_EQ((uintptr_t)addr & ~(PAGE_SZ - 1), q.base) TH_LOG("%s", what);
	ASSERT_EQ(e.end, q.base + q.region_size) TH_LOG("%s", what);
	ASSERT_EQ(e.start, q.alloc_base) TH_LOG("%s", what);
	ASSERT_EQ(0, q.type) TH_LOG("%s", what);
}

TEST_F(query, memory_ntmem_did_not_create)
{
	char *heap = malloc(100);
	int local = 0;
	char *m;

	ASSERT_NE(NULL, heap);
	m = mmap(NULL, 256 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	check_other(_metadata, self->fd, &local, "stack");
	check_other(_metadata, self->fd, heap, "malloc");
	check_other(_metadata, self->fd, m + 0x1234, "mmap");
	check_other(_metadata, self->fd, (void *)(uintptr_t)check_other,
		    "program text");
	free(heap);
}

TEST_F(query, bad_address_einval)
{
	const uint64_t bad[] = { NTMEM_MAX_ADDRESS, NTMEM_MAX_ADDRESS + 0x1234,
				 0x800000000000ULL, 0xffff888000000000ULL,
				 ~0ULL };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ntmem_query q = { .size = sizeof(q), .addr = bad[i] };

		ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_QUERY, &q))
			TH_LOG("addr %llx", (unsigned long long)bad[i]);
	}
}

TEST_HARNESS_MAIN
