// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_RESERVE: a reservation is one VMA at a 64 KiB-aligned base that
 * costs no memory and faults on every access; placement (anywhere, hint,
 * fixed, top-down) and argument checking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

NTMEM_FD_FIXTURE(reserve);

TEST_F(reserve, one_gib_creates_vma_without_memory)
{
	struct ntmem_counters c0, c1;
	struct maps_entry e;
	struct ntmem_query q;
	size_t len = GiB;
	void *base = NULL;
	long rss0, rss1;
	int maps0;
	char *p;

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	maps0 = maps_count();
	rss0 = rss_kb();
	ASSERT_EQ(0, ntmem_reserve(self->fd, &base, &len, 0, 0));
	rss1 = rss_kb();
	ASSERT_EQ(0, ntmem_counters_read(&c1));

	ASSERT_EQ(GiB, len);
	ASSERT_EQ(0, (uintptr_t)base % GRAN);
	ASSERT_LE(NTMEM_MIN_ADDRESS, (uintptr_t)base);
	ASSERT_LE((uintptr_t)base + len, NTMEM_MAX_ADDRESS);

	/* Exactly one new VMA, exactly the reservation. */
	ASSERT_EQ(maps0 + 1, maps_count());
	ASSERT_TRUE(maps_find(0, base, &e));
	ASSERT_EQ((uintptr_t)base, e.start);
	ASSERT_EQ((uintptr_t)base + len, e.end);
	ASSERT_NE(NULL, strstr(e.name, "ntmem")) TH_LOG("maps name '%s'",
							 e.name);

	/* No memory. */
	ASSERT_LE(rss1 - rss0, 512) TH_LOG("VmRSS grew by %ld kB", rss1 - rss0);
	ASSERT_EQ(0, smaps_rss_kb(base));
	ASSERT_EQ(0, pagemap_count_present(base, len));
	ASSERT_EQ(c0.reservations + 1, c1.reservations);
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);
	ASSERT_EQ(c0.resident_pages, c1.resident_pages);

	/* Every access faults, at exactly the byte touched. */
	p = base;
	ASSERT_SEGV_AT(p, try_read(p));
	ASSERT_SEGV_AT(p + len / 2, try_read(p + len / 2));
	ASSERT_SEGV_AT(p + len - 1, try_read(p + len - 1));
	ASSERT_SEGV_AT(p + 0x12345, try_read(p + 0x12345));
	ASSERT_SEGV_AT(p + len / 3 + 7, try_write(p + len / 3 + 7, 1));
	ASSERT_EQ(0, pagemap_count_present(base, len));
	ASSERT_EQ(0, smaps_rss_kb(base));

	ASSERT_EQ(0, ntmem_query(self->fd, p + 0x12345, &q));
	ASSERT_EQ((uintptr_t)p + 0x12000, q.base);
	ASSERT_EQ((uintptr_t)base, q.alloc_base);
	ASSERT_EQ(len, q.alloc_size);
	ASSERT_EQ(len - 0x12000, q.region_size);
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(0, q.protect);
	ASSERT_EQ(NTMEM_TYPE_PRIVATE, q.type);
	ASSERT_EQ(0, q.alloc_protect);
}

TEST_F(reserve, fixed_address)
{
	char *f = ntmem_find_free(self->fd, 4 * MiB);
	void *addr = f + MiB;
	size_t len = 256 * KiB;
	struct maps_entry e;
	struct ntmem_query q;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, NTMEM_RESERVE_FIXED,
				   NTMEM_PAGE_READWRITE));
	ASSERT_EQ(f + MiB, addr);
	ASSERT_EQ(256 * KiB, len);
	ASSERT_TRUE(maps_find(0, addr, &e));
	ASSERT_EQ((uintptr_t)addr, e.start);
	ASSERT_EQ((uintptr_t)addr + len, e.end);
	ASSERT_EQ(0, ntmem_query(self->fd, addr, &q));
	ASSERT_EQ((uintptr_t)addr, q.alloc_base);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.alloc_protect);
	ASSERT_EQ(len, q.region_size);
	/* The granule below it is still free. */
	ASSERT_EQ(0, ntmem_query(self->fd, f, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ(MiB, q.region_size);
}

/* A fixed reservation that overlaps anything fails and changes nothing. */
TEST_F(reserve, fixed_overlap_eexist)
{
	char *f = ntmem_find_free(self->fd, 4 * MiB);
	struct ntmem_counters c0, c1;
	struct ntmem_query q;
	void *a = f + MiB, *addr, *m;
	size_t len = 256 * KiB, l;
	char *mm;
	int maps0;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &a, &len, NTMEM_RESERVE_FIXED, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, a, PAGE_SZ, NTMEM_PAGE_READWRITE, 0));
	fill_pattern(a, PAGE_SZ, 7);

	/* A plain mapping at a 64 KiB boundary inside a 512 KiB one. */
	m = mmap(NULL, 512 * KiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	mm = (char *)(((uintptr_t)m + GRAN - 1) & ~(GRAN - 1));
	fill_pattern(m, 512 * KiB, 8);

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	maps0 = maps_count();

	struct { void *addr; size_t len; const char *what; } cases[] = {
		{ a, len, "same range" },
		{ a, PAGE_SZ, "first page" },
		{ (char *)a + 128 * KiB, 64 * KiB, "inside" },
		{ (char *)a + 192 * KiB, 128 * KiB, "tail and beyond" },
		{ f + 512 * KiB, 1 * MiB, "free, then the reservation" },
		{ f, 4 * MiB, "around it" },
		{ mm, 64 * KiB, "plain mmap" },
		{ mm - GRAN, 2 * GRAN, "into a plain mmap" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		addr = cases[i].addr;
		l = cases[i].len;
		ASSERT_EQ(-EEXIST, ntmem_reserve(self->fd, &addr, &l,
						 NTMEM_RESERVE_FIXED, 0))
			TH_LOG("case '%s'", cases[i].what);
	}

	ASSERT_EQ(maps0, maps_count());
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reservations, c1.reservations);
	ASSERT_EQ(-1, check_pattern(a, PAGE_SZ, 7));
	ASSERT_EQ(-1, check_pattern(m, 512 * KiB, 8));
	ASSERT_EQ(0, ntmem_query(self->fd, a, &q));
	ASSERT_EQ((uintptr_t)a, q.alloc_base);
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(0, ntmem_query(self->fd, f, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ(MiB, q.region_size);
}

/* Assumption (header says "a hint"): a free, aligned hint is used as is. */
TEST_F(reserve, hint)
{
	char *f = ntmem_find_free(self->fd, 2 * MiB);
	void *addr = f + 512 * KiB, *a;
	size_t len = 64 * KiB, alen = 256 * KiB;

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, 0, 0));
	ASSERT_EQ(f + 512 * KiB, addr);

	/* An occupied hint is not an error: the reservation goes elsewhere. */
	a = ntmem_reserve_any(self->fd, alen);
	ASSERT_NE(NULL, a);
	addr = (char *)a + 64 * KiB;
	len = 128 * KiB;
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, 0, 0));
	ASSERT_EQ(0, (uintptr_t)addr % GRAN);
	ASSERT_TRUE((char *)addr + len <= (char *)a ||
		    (char *)addr >= (char *)a + alen)
		TH_LOG("%p+%zx overlaps %p+%zx", addr, len, a, alen);
}

TEST_F(reserve, top_down_is_higher)
{
	void *a = ntmem_reserve_any(self->fd, 64 * KiB), *b = NULL;
	size_t len = 64 * KiB;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &b, &len, NTMEM_RESERVE_TOP_DOWN,
				   0));
	ASSERT_EQ(0, (uintptr_t)b % GRAN);
	ASSERT_LT((uintptr_t)a, (uintptr_t)b);
	ASSERT_LE((uintptr_t)b + len, NTMEM_MAX_ADDRESS);
}

/*
 * "As high as possible": above a top-down reservation no free, aligned
 * 64 KiB window is left.  Exception: the free run right below [stack],
 * which Linux keeps as the stack guard gap (1 MiB by default).
 */
TEST_F(reserve, top_down_is_highest)
{
	size_t len = 64 * KiB;
	struct maps_entry stack;
	uintptr_t a, stack_start = 0;
	struct ntmem_query q;
	void *b = NULL;
	int local;

	if (maps_find(0, &local, &stack))
		stack_start = stack.start;
	ASSERT_EQ(0, ntmem_reserve(self->fd, &b, &len, NTMEM_RESERVE_TOP_DOWN,
				   0));
	TH_LOG("top-down reservation at %p, stack at %lx", b,
	       (unsigned long)stack_start);
	for (a = (uintptr_t)b + len; a < NTMEM_MAX_ADDRESS;
	     a = q.base + q.region_size) {
		uintptr_t win, end;

		ASSERT_EQ(0, ntmem_query(self->fd, (void *)a, &q));
		ASSERT_LT(0, q.region_size);
		if (q.state != NTMEM_STATE_FREE)
			continue;
		end = q.base + q.region_size;
		win = (q.base + GRAN - 1) & ~(GRAN - 1);
		if (end == stack_start && q.region_size <= MiB + GRAN)
			continue;
		ASSERT_LT(end, win + GRAN)
			TH_LOG("free window %lx-%lx above %p",
			       (unsigned long)q.base, (unsigned long)end, b);
	}
}

TEST_F(reserve, length_rounds_up_to_pages)
{
	struct { size_t in, out; } cases[] = {
		{ 1, PAGE_SZ },
		{ PAGE_SZ - 1, PAGE_SZ },
		{ PAGE_SZ + 1, 2 * PAGE_SZ },
		{ 0x10001, 0x11000 },
		{ 3 * PAGE_SZ, 3 * PAGE_SZ },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = cases[i].in;
		struct maps_entry e;
		struct ntmem_query q;
		void *addr = NULL;

		ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, 0, 0));
		ASSERT_EQ(cases[i].out, len) TH_LOG("in %zx", cases[i].in);
		ASSERT_TRUE(maps_find(0, addr, &e));
		ASSERT_EQ((uintptr_t)addr + cases[i].out, e.end);
		ASSERT_EQ(0, ntmem_query(self->fd, addr, &q));
		ASSERT_EQ(cases[i].out, q.region_size);
		ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	}
}

/* Two reservations never share a granule; the slack is nobody's. */
TEST_F(reserve, one_granule_each)
{
	char *a = ntmem_reserve_any(self->fd, PAGE_SZ);
	char *b = ntmem_reserve_any(self->fd, PAGE_SZ);
	struct ntmem_query q;
	void *addr;
	size_t len;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_LE(GRAN, (uintptr_t)(a > b ? a - b : b - a));
	ASSERT_EQ(0, ntmem_query(self->fd, a + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
	ASSERT_EQ(0, q.alloc_base);
	/* The slack cannot be reserved: fixed needs a 64 KiB boundary. */
	addr = a + PAGE_SZ;
	len = PAGE_SZ;
	ASSERT_EQ(-EINVAL, ntmem_reserve(self->fd, &addr, &len,
					 NTMEM_RESERVE_FIXED, 0));
}

TEST_F(reserve, alloc_protect_recorded)
{
	const uint32_t prots[] = {
		0, NTMEM_PAGE_NOACCESS, NTMEM_PAGE_READONLY,
		NTMEM_PAGE_READWRITE, NTMEM_PAGE_EXECUTE,
		NTMEM_PAGE_EXECUTE_READ, NTMEM_PAGE_EXECUTE_READWRITE,
		NTMEM_PAGE_READWRITE | NTMEM_PAGE_GUARD,
		NTMEM_PAGE_READWRITE | NTMEM_PAGE_NOCACHE,
		NTMEM_PAGE_READWRITE | NTMEM_PAGE_WRITECOMBINE,
		NTMEM_PAGE_EXECUTE_READ | NTMEM_PAGE_NOCACHE,
	};

	for (size_t i = 0; i < ARRAY_SIZE(prots); i++) {
		size_t len = 64 * KiB;
		struct ntmem_query q;
		void *addr = NULL;

		ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, 0, prots[i]))
			TH_LOG("protect 0x%x", prots[i]);
		ASSERT_EQ(0, ntmem_query(self->fd, addr, &q));
		ASSERT_EQ(prots[i], q.alloc_protect);
		ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
		ASSERT_EQ(0, q.protect);
		ASSERT_EQ(0, ntmem_release(self->fd, addr, 0));
	}
}

/* No room: the whole user range cannot be free in a running process. */
TEST_F(reserve, no_room_enomem)
{
	size_t len = NTMEM_MAX_ADDRESS - NTMEM_MIN_ADDRESS;
	struct ntmem_counters c0, c1;
	void *addr = NULL;
	int maps0 = maps_count();

	ASSERT_EQ(0, ntmem_counters_read(&c0));
	ASSERT_EQ(-ENOMEM, ntmem_reserve(self->fd, &addr, &len, 0, 0));
	ASSERT_EQ(maps0, maps_count());
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reservations, c1.reservations);
}

TEST_F(reserve, bad_input_einval)
{
	uint64_t f = (uintptr_t)ntmem_find_free(self->fd, 4 * MiB);
	const uint64_t max = NTMEM_MAX_ADDRESS, g = GRAN;
	const uint32_t fx = NTMEM_RESERVE_FIXED;
	struct ntmem_counters c0, c1;
	struct ntmem_query q;
	int maps0;
	struct {
		const char *what;
		uint32_t flags;
		uint64_t addr, length;
		uint32_t protect, reserved0;
		uint64_t res0, res1;
	} cases[] = {
		{ "fixed, page but not 64K aligned", .flags = fx,
		  .addr = f + 0x1000, .length = g },
		{ "fixed, 32K aligned", .flags = fx, .addr = f + 0x8000,
		  .length = g },
		{ "fixed, byte aligned", .flags = fx, .addr = f + 1,
		  .length = g },
		{ "zero length", .length = 0 },
		{ "zero length, fixed", .flags = fx, .addr = f },
		{ "reserved0", .length = g, .reserved0 = 1 },
		{ "reserved[0]", .length = g, .res0 = 1 },
		{ "reserved[1]", .length = g, .res1 = 1ULL << 63 },
		{ "unknown flag bit 2", .flags = 1U << 2, .length = g },
		{ "unknown flag bit 31", .flags = 1U << 31, .length = g },
		{ "length wraps", .length = ~0ULL },
		{ "length wraps when rounded", .length = 0xFFFFFFFFFFFFF001ULL },
		{ "length beyond user range", .length = max + g },
		{ "length 2^63", .length = 1ULL << 63 },
		{ "fixed, runs past the user range", .flags = fx,
		  .addr = max - g, .length = 2 * g },
		{ "fixed, addr + length wraps", .flags = fx, .addr = f,
		  .length = 0 - f + g },
		{ "fixed at the user range end", .flags = fx, .addr = max,
		  .length = g },
		{ "fixed above the user range", .flags = fx,
		  .addr = 0x800000000000ULL, .length = g },
		{ "fixed at a kernel address", .flags = fx,
		  .addr = 0xffff888000000000ULL, .length = g },
		{ "fixed at 0", .flags = fx, .addr = 0, .length = g },
		{ "protect: two base bits", .length = g, .protect = 0x06 },
		{ "protect: WRITECOPY", .length = g, .protect = 0x08 },
		{ "protect: EXECUTE_WRITECOPY", .length = g, .protect = 0x80 },
		{ "protect: undefined bit", .length = g, .protect = 0x804 },
		{ "protect: modifier alone", .length = g,
		  .protect = NTMEM_PAGE_GUARD },
		{ "protect: GUARD|NOACCESS", .length = g, .protect = 0x101 },
		{ "protect: GUARD|NOCACHE", .length = g, .protect = 0x304 },
		{ "protect: NOCACHE|WRITECOMBINE", .length = g,
		  .protect = 0x604 },
		{ "protect: NOCACHE|NOACCESS", .length = g, .protect = 0x201 },
	};

	ASSERT_NE(0, f);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	maps0 = maps_count();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ntmem_reserve r = {
			.size = sizeof(r),
			.flags = cases[i].flags,
			.addr = cases[i].addr,
			.length = cases[i].length,
			.protect = cases[i].protect,
			.reserved0 = cases[i].reserved0,
			.reserved = { cases[i].res0, cases[i].res1 },
		};

		ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &r))
			TH_LOG("case '%s'", cases[i].what);
	}
	ASSERT_EQ(maps0, maps_count());
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reservations, c1.reservations);
	ASSERT_EQ(0, ntmem_query(self->fd, (void *)(uintptr_t)f, &q));
	ASSERT_EQ(NTMEM_STATE_FREE, q.state);
}

TEST_F(reserve, struct_size_rules)
{
	struct {
		struct ntmem_reserve r;
		uint64_t tail[2];
	} big;
	struct ntmem_reserve r;
	struct ntmem_query q;
	int maps0 = maps_count();
	size_t older = offsetof(struct ntmem_reserve, reserved0);
	unsigned char *b = (unsigned char *)&r;

	memset(&r, 0, sizeof(r));
	r.length = GRAN;
	ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &r));

	memset(&big, 0, sizeof(big));
	big.r.size = sizeof(big);
	big.r.length = GRAN;
	big.tail[1] = 1;
	ASSERT_EQ(-E2BIG, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &big));
	ASSERT_EQ(maps0, maps_count());

	big.tail[1] = 0;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &big));
	ASSERT_NE(0, big.r.addr);
	ASSERT_EQ(GRAN, big.r.length);
	ASSERT_EQ(0, big.tail[0] | big.tail[1]);
	ASSERT_EQ(maps0 + 1, maps_count());

	/* Older struct: fields past @size are neither read nor written. */
	memset(&r, 0xcc, sizeof(r));
	r.size = older;
	r.flags = 0;
	r.addr = 0;
	r.length = 3 * PAGE_SZ;
	r.protect = NTMEM_PAGE_READONLY;
	ASSERT_EQ(0, ntmem_ioctl(self->fd, NTMEM_IOC_RESERVE, &r));
	ASSERT_EQ(3 * PAGE_SZ, r.length);
	for (size_t i = older; i < sizeof(r); i++) {
		ASSERT_EQ(0xcc, b[i]) TH_LOG("byte %zu past size written", i);
	}
	ASSERT_EQ(0, ntmem_query(self->fd, (void *)(uintptr_t)r.addr, &q));
	ASSERT_EQ(NTMEM_PAGE_READONLY, q.alloc_protect);
	ASSERT_EQ(3 * PAGE_SZ, q.region_size);
}

TEST_HARNESS_MAIN
