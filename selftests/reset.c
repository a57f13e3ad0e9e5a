// SPDX-License-Identifier: GPL-2.0
/*
 * NTMEM_IOC_RESET and RESET_UNDO: reset contents are kept while memory is
 * plentiful and dropped (read as zero) under memory pressure; RESET_UNDO
 * tells which happened; a page written after the reset is never lost.
 *
 * Pressure comes from a child that takes anonymous memory until the
 * module's reset_pages counter falls (the child is the OOM victim of
 * choice if nothing can be reclaimed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"
#include "counters_assert.h"

FIXTURE(reset) {
	int fd;
	bool have_reset;
};

FIXTURE_SETUP(reset)
{
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", NTMEM_DEVICE,
				      strerror(-self->fd));
	self->have_reset = ntmem_features(self->fd) & NTMEM_FEATURE_RESET;
}

/* (A SKIP in the 6.1 harness's FIXTURE_SETUP does not stop the test.) */
#define REQUIRE_RESET() do {						\
		if (!self->have_reset)					\
			SKIP(return, "module has no NTMEM_FEATURE_RESET"); \
	} while (0)

FIXTURE_TEARDOWN(reset)
{
	if (self->fd > 0)
		close(self->fd);
}

TEST_F(reset, undo_without_pressure_keeps_contents)
{
	const size_t len = 16 * MiB;
	const long pages = len / PAGE_SZ;
	struct ntmem_counters c0, c1, c2;
	struct ntmem_query q;
	char *p = ntmem_reserve_any(self->fd, len);

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, len, 81);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	ASSERT_EQ(0, ntmem_reset(self->fd, p, len));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reset_pages + pages, c1.reset_pages);
	ASSERT_EQ(c0.committed_pages, c1.committed_pages);

	/* State and protection do not change. */
	ASSERT_EQ(0, ntmem_query(self->fd, p, &q));
	ASSERT_EQ(NTMEM_STATE_COMMIT, q.state);
	ASSERT_EQ(NTMEM_PAGE_READWRITE, q.protect);
	ASSERT_EQ(len, q.region_size);

	ASSERT_EQ(0, ntmem_reset_undo(self->fd, p, len));
	ASSERT_EQ(-1, check_pattern(p, len, 81));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c0.reset_pages, c2.reset_pages);
	ASSERT_EQ(c0.resident_pages, c2.resident_pages);
}

/* Reading reset pages is allowed and shows the old data (no pressure). */
TEST_F(reset, reads_after_reset)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 64 * KiB, NTMEM_PAGE_READWRITE,
				  0));
	fill_pattern(p, 64 * KiB, 82);
	ASSERT_EQ(0, ntmem_reset(self->fd, p, 64 * KiB));
	ASSERT_EQ(-1, check_pattern(p, 64 * KiB, 82));
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, p, 64 * KiB));
	ASSERT_EQ(-1, check_pattern(p, 64 * KiB, 82));
}

TEST_F(reset, undo_of_never_reset_range)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 64 * KiB, NTMEM_PAGE_READWRITE,
				  0));
	fill_pattern(p, 64 * KiB, 83);
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, p, 64 * KiB));
	ASSERT_EQ(-1, check_pattern(p, 64 * KiB, 83));
}

/* Reserved pages inside the range are skipped, not an error. */
TEST_F(reset, reserved_pages_skipped)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	struct ntmem_query q;

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ, NTMEM_PAGE_READWRITE,
				  0));
	fill_pattern(p, PAGE_SZ, 84);
	ASSERT_EQ(0, ntmem_reset(self->fd, p, 64 * KiB));
	ASSERT_EQ(0, ntmem_query(self->fd, p + PAGE_SZ, &q));
	ASSERT_EQ(NTMEM_STATE_RESERVE, q.state);
	ASSERT_EQ(15 * PAGE_SZ, q.region_size);
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, p, 64 * KiB));
	ASSERT_EQ(-1, check_pattern(p, PAGE_SZ, 84));
}

TEST_F(reset, outside_one_reservation_enxio)
{
	char *p = ntmem_reserve_any(self->fd, 64 * KiB);
	char *f = ntmem_find_free(self->fd, 1 * MiB);

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, 64 * KiB, NTMEM_PAGE_READWRITE,
				  0));
	ASSERT_EQ(-ENXIO, ntmem_reset(self->fd, p + 60 * KiB, 8 * KiB));
	ASSERT_EQ(-ENXIO, ntmem_reset_undo(self->fd, p + 60 * KiB, 8 * KiB));
	ASSERT_EQ(-ENXIO, ntmem_reset(self->fd, f, 64 * KiB));
	ASSERT_EQ(-ENXIO, ntmem_reset_undo(self->fd, f, 64 * KiB));
}

static bool resident_pages_below(void *arg)
{
	long limit = *(long *)arg, now = ntmem_counter("resident_pages");

	return now >= 0 && now < limit;
}

/*
 * Apply pressure until reclaim has dropped some reset pages: until fewer
 * than @limit pages are resident.
 */
static void squeeze(struct __test_metadata *_metadata, long limit)
{
	uint64_t t0 = now_ns();
	long held;

	held = memory_pressure(0, resident_pages_below, &limit);
	TH_LOG("pressure: child held %ld MiB, %llu ms; resident_pages %ld -> %ld",
	       held, (unsigned long long)((now_ns() - t0) / 1000000), limit,
	       ntmem_counter("resident_pages"));
	ASSERT_LE(0, held) TH_LOG("the pressure child died (OOM?)");
	ASSERT_LT(ntmem_counter("resident_pages"), limit)
		TH_LOG("no reset page was dropped under memory pressure");
}

TEST_F_TIMEOUT(reset, dropped_under_pressure, 120)
{
	const size_t len = 64 * MiB;
	const long pages = len / PAGE_SZ;
	struct ntmem_counters c0, c1, c2;
	long zero = 0, kept = 0;
	char *p = ntmem_reserve_any(self->fd, len);

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, len, 85);
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	ASSERT_EQ(0, ntmem_reset(self->fd, p, len));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	ASSERT_EQ(c0.reset_pages + pages, c1.reset_pages);

	squeeze(_metadata, c1.resident_pages);

	ASSERT_EQ(-EBUSY, ntmem_reset_undo(self->fd, p, len));
	ASSERT_EQ(0, ntmem_counters_read(&c2));
	ASSERT_EQ(c0.reset_pages, c2.reset_pages);
	ASSERT_GT(c1.resident_pages, c2.resident_pages);
	/* Each page is either intact or all zero, nothing else. */
	for (long i = 0; i < pages; i++) {
		char *pg = p + i * PAGE_SZ;

		if (check_pattern(pg, PAGE_SZ, 85) == -1) {
			kept++;
		} else {
			ASSERT_EQ(-1, check_bytes(pg, PAGE_SZ, 0))
				TH_LOG("page %ld neither old data nor zero", i);
			zero++;
		}
	}
	TH_LOG("%ld pages dropped, %ld kept", zero, kept);
	ASSERT_LT(0, zero);
	/* Still committed and writable. */
	ASSERT_NO_FAULT(try_write(p, 1));
}

TEST_F_TIMEOUT(reset, written_page_is_never_lost, 120)
{
	const size_t len = 32 * MiB;
	const long pages = len / PAGE_SZ;
	long zero = 0;
	char *p = ntmem_reserve_any(self->fd, len);

	REQUIRE_RESET();

	ASSERT_NE(NULL, p);
	/*
	 * 4 KiB pages: a huge page written anywhere after RESET is kept whole
	 * (huge_pages.c), as Linux keeps a THP written after MADV_FREE.
	 */
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, ntmem_commit(self->fd, p, len, NTMEM_PAGE_READWRITE, 0));
	fill_pattern(p, len, 86);
	ASSERT_EQ(0, ntmem_reset(self->fd, p, len));
	/* Rewrite every 8th page completely. */
	for (long i = 0; i < pages; i += 8)
		fill_pattern(p + i * PAGE_SZ, PAGE_SZ, 87);

	squeeze(_metadata, ntmem_counter("resident_pages"));

	for (long i = 0; i < pages; i++) {
		char *pg = p + i * PAGE_SZ;

		if (i % 8 == 0) {
			ASSERT_EQ(-1, check_pattern(pg, PAGE_SZ, 87))
				TH_LOG("written page %ld lost", i);
		} else if (check_pattern(pg, PAGE_SZ, 86) != -1) {
			ASSERT_EQ(-1, check_bytes(pg, PAGE_SZ, 0))
				TH_LOG("page %ld neither old data nor zero", i);
			zero++;
		}
	}
	ASSERT_LT(0, zero);
	/* A written page is no longer reset, so nothing of it was dropped. */
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, p, PAGE_SZ));
	ASSERT_EQ(-EBUSY, ntmem_reset_undo(self->fd, p, len));
}

/* 64 KiB reserved, its first 8 pages committed read-write and filled. */
static char *eight_filled_pages(int fd, int seed)
{
	char *p = ntmem_reserve_any(fd, 64 * KiB);

	if (!p || ntmem_commit(fd, p, 8 * PAGE_SZ, NTMEM_PAGE_READWRITE, 0))
		return NULL;
	fill_pattern(p, 8 * PAGE_SZ, seed);
	return p;
}

/* RESET passes over locked pages: they keep their contents and their PTEs. */
TEST_F(reset, locked_pages_stay_mapped)
{
	char *p;

	REQUIRE_RESET();
	p = eight_filled_pages(self->fd, 41);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_lock(self->fd, p + 2 * PAGE_SZ, 3 * PAGE_SZ));
	ASSERT_EQ(8, pagemap_count_present(p, 8 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_reset(self->fd, p, 8 * PAGE_SZ));
	/* pages 2-4 locked: mapped still; the other five lost their PTEs */
	ASSERT_EQ(3, pagemap_count_present(p, 8 * PAGE_SZ));
	ASSERT_EQ(3, pagemap_count_present(p + 2 * PAGE_SZ, 3 * PAGE_SZ));
	ASSERT_EQ(5, ntmem_counter("reset_pages"));
	ASSERT_EQ(-1, check_pattern(p + 2 * PAGE_SZ, 3 * PAGE_SZ, 41));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(0, ntmem_counter("reset_pages"));
}

/*
 * A reset page that is locked keeps its contents (reclaim cannot drop it)
 * but stays reset: RESET_UNDO succeeds on it, and after VirtualUnlock it is
 * again a clean, unmapped page reclaim may drop.  So a LOCK that fails half
 * way and gives its pages back changes nothing (the fuzzer's --fail-nth).
 */
TEST_F(reset, lock_keeps_reset_pages_reset)
{
	long r0 = ntmem_counter("reset_pages");
	char *p;

	REQUIRE_RESET();
	p = eight_filled_pages(self->fd, 43);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ntmem_reset(self->fd, p, 8 * PAGE_SZ));
	ASSERT_EQ(r0 + 8, ntmem_counter("reset_pages"));
	ASSERT_EQ(0, ntmem_lock(self->fd, p + 2 * PAGE_SZ, 3 * PAGE_SZ));
	ASSERT_EQ(3, pagemap_count_present(p, 8 * PAGE_SZ));
	ASSERT_EQ(r0 + 8, ntmem_counter("reset_pages"));
	ASSERT_EQ(0, ntmem_unlock(self->fd, p + 2 * PAGE_SZ, 3 * PAGE_SZ));
	/* back in the store as RESET left them: unmapped, still reset */
	ASSERT_EQ(0, pagemap_count_present(p, 8 * PAGE_SZ));
	ASSERT_EQ(r0 + 8, ntmem_counter("reset_pages"));
	ASSERT_EQ(0, ntmem_lock(self->fd, p, 2 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, p, 2 * PAGE_SZ));
	ASSERT_EQ(r0 + 6, ntmem_counter("reset_pages"));
	ASSERT_EQ(-1, check_pattern(p, 2 * PAGE_SZ, 43));
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
	ASSERT_EQ(r0, ntmem_counter("reset_pages"));
}

static atomic_bool stop_shrinking;

/* Runs every shrinker (the reset one included) again and again. */
static void *shrink_loop(void *arg)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	(void)arg;
	while (fd >= 0 && !atomic_load(&stop_shrinking))
		if (pwrite(fd, "2", 1, 0) != 1)
			break;
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * The shrinker drops reset pages while their reservations are released:
 * no warning, and every counter back to zero.
 */
TEST_F_TIMEOUT(reset, shrinker_races_release, 300)
{
	struct ntmem_counters c0, c1;
	pthread_t t;
	int i;

	REQUIRE_RESET();
	if (getuid() != 0)
		SKIP(return, "drop_caches needs root");
	ASSERT_EQ(0, ntmem_counters_read(&c0));
	atomic_store(&stop_shrinking, false);
	ASSERT_EQ(0, pthread_create(&t, NULL, shrink_loop, NULL));
	for (i = 0; i < 1500; i++) {
		char *p = ntmem_reserve_any(self->fd, 64 * KiB);

		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, ntmem_commit(self->fd, p, 16 * PAGE_SZ,
					  NTMEM_PAGE_READWRITE,
					  NTMEM_COMMIT_PREFAULT));
		ASSERT_EQ(0, ntmem_reset(self->fd, p, 16 * PAGE_SZ));
		if (i % 2) {
			ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
		} else {
			ASSERT_EQ(0, munmap(p, 64 * KiB));
		}
	}
	atomic_store(&stop_shrinking, true);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, ntmem_counters_read(&c1));
	assert_counters_equal(_metadata, &c0, &c1);
	TH_LOG("dropped_pages: %ld", ntmem_counter("dropped_pages"));
}

TEST_HARNESS_MAIN
