// SPDX-License-Identifier: GPL-2.0
/*
 * Huge pages.  A committed read-write 2 MiB block gets one 2 MiB page,
 * mapped by one PMD, when the system's THP policy would give anonymous
 * memory one; a change inside the block splits that block only, and every
 * page keeps its own protection.
 *
 * And per-page protection when huge pages are forced: the page store is a
 * tmpfs file, and an administrator can force huge pages on every tmpfs
 * (transparent_hugepage/shmem_enabled = force).  The kernel maps such a
 * folio with one PMD -- all 2 MiB of it, with the VMA's protection --
 * when the page table is missing; ntmem must never let that happen, or a
 * NOACCESS or reserved page inside the block would become readable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define SHMEM_ENABLED	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

FIXTURE(huge) {
	int fd;
	char saved[16];		/* shmem_enabled's setting before the test */
};

FIXTURE_SETUP(huge)
{
	self->saved[0] = 0;
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	if (bracketed_word(SHMEM_ENABLED, self->saved, sizeof(self->saved)))
		SKIP(return, "no %s (kernel without THP)", SHMEM_ENABLED);
	if (write_text_file(SHMEM_ENABLED, "force"))
		SKIP(return, "cannot force huge pages on tmpfs (not root?)");
	usleep(1100 * 1000);	/* the module reads the policy once a second */
}

FIXTURE_TEARDOWN(huge)
{
	if (self->saved[0])
		write_text_file(SHMEM_ENABLED, self->saved);
	close(self->fd);
}

/*
 * A 2 MiB-aligned block of committed memory, forced huge, with one NOACCESS
 * page, one read-only page and one reserved page: touching the others
 * gives them memory from a huge folio, yet every page keeps its own
 * protection and nothing is mapped by a PMD.
 */
TEST_F(huge, forced_huge_folio_keeps_each_page_protection)
{
	long huge0 = meminfo_kb("ShmemHugePages");
	char *p = ntmem_reserve_any(self->fd, 3 * HPAGE);
	char *b;

	ASSERT_NE(NULL, p);
	b = (char *)(((uintptr_t)p + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
	ASSERT_EQ(0, ntmem_commit(self->fd, b, HPAGE - PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, ntmem_protect(self->fd, b + 7 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_NOACCESS, NULL));
	ASSERT_EQ(0, ntmem_protect(self->fd, b + 9 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));

	/* the first touch allocates the block's folio */
	ASSERT_NO_FAULT(try_write(b, 1));
	TH_LOG("ShmemHugePages %ld -> %ld kB", huge0,
	       meminfo_kb("ShmemHugePages"));
	ASSERT_LE(huge0 + 2048, meminfo_kb("ShmemHugePages"))
		TH_LOG("the store got no huge folio: the test proves nothing");
	for (long i = 0; i < (long)(HPAGE / PAGE_SZ) - 1; i++) {
		if (i == 7 || i == 9)
			continue;
		ASSERT_NO_FAULT(try_write(b + i * PAGE_SZ, (unsigned char)i));
	}
	ASSERT_SEGV_AT(b + 7 * PAGE_SZ, try_read(b + 7 * PAGE_SZ));
	ASSERT_NO_FAULT(try_read(b + 9 * PAGE_SZ));
	ASSERT_SEGV_AT(b + 9 * PAGE_SZ, try_write(b + 9 * PAGE_SZ, 1));
	ASSERT_SEGV_AT(b + HPAGE - PAGE_SZ, try_read(b + HPAGE - PAGE_SZ));
	ASSERT_EQ(0, smaps_field_kb(b, "ShmemPmdMapped"));
	ASSERT_EQ(0, smaps_field_kb(b, "FilePmdMapped"));
	for (long i = 0; i < (long)(HPAGE / PAGE_SZ) - 1; i++) {
		if (i == 7 || i == 9)
			continue;
		ASSERT_EQ((char)i, b[i * PAGE_SZ]);
	}
	/* decommitting a page of the folio frees or zeroes only that page */
	ASSERT_EQ(0, ntmem_decommit(self->fd, b + 3 * PAGE_SZ, PAGE_SZ));
	ASSERT_SEGV_AT(b + 3 * PAGE_SZ, try_read(b + 3 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_commit(self->fd, b + 3 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, b[3 * PAGE_SZ]);
	ASSERT_EQ(4, b[4 * PAGE_SZ]);
	ASSERT_EQ(0, ntmem_release(self->fd, p, 0));
}

/*
 * The system's THP policy: each test sets transparent_hugepage/enabled and
 * puts it back.  A reservation of three blocks holds two aligned ones, B.
 * A block that gets a huge page is one 2 MiB folio of the store, and its
 * first fault maps all of it with one PMD (ShmemPmdMapped).
 */
FIXTURE(thp) {
	int fd;
	char saved[16];
	char *p;
	char *b;
	const char *why;	/* why the tests skip, from the setup */
};

/* The 6.1 harness runs a test whose setup skipped: each test asks. */
#define THP_NEEDED(self)						\
	do {								\
		if ((self)->why)					\
			SKIP(return, "%s", (self)->why);		\
	} while (0)

/* ... and the tests of huge blocks need anonymous memory to get them too. */
#define THP_BLOCKS_NEEDED(self)						\
	do {								\
		THP_NEEDED(self);					\
		if (!anon_gets_thp())					\
			SKIP(return, "anonymous memory gets no huge page here either"); \
	} while (0)

FIXTURE_SETUP(thp)
{
	self->saved[0] = 0;
	self->p = NULL;
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	self->why = NULL;
	if (bracketed_word(THP_ENABLED, self->saved, sizeof(self->saved))) {
		self->saved[0] = 0;
		self->why = "no " THP_ENABLED " (kernel without THP)";
		return;
	}
	if (write_text_file(THP_ENABLED, "always")) {
		self->saved[0] = 0;
		self->why = "cannot set the THP policy (not root?)";
		return;
	}
	if (swap_splits_huge_pages()) {
		self->why = "swap is on, and this kernel splits shmem huge pages to swap them (see swap.c)";
		return;
	}
	/*
	 * The module reads the policy once a second, and a test before may
	 * have changed it (or shmem_enabled).
	 */
	usleep(1100 * 1000);
}

FIXTURE_TEARDOWN(thp)
{
	if (self->p)
		ntmem_release(self->fd, self->p, 0);
	if (self->saved[0])
		write_text_file(THP_ENABLED, self->saved);
	close(self->fd);
}

/* Reserve three blocks; self->b is the first aligned one. */
static int thp_reserve(FIXTURE_DATA(thp) *self)
{
	self->p = ntmem_reserve_any(self->fd, 3 * HPAGE);
	if (!self->p)
		return -1;
	self->b = (char *)(((uintptr_t)self->p + HPAGE - 1) &
			   ~(uintptr_t)(HPAGE - 1));
	return 0;
}

/* Commit the two blocks read-write and write a pattern into them. */
static int thp_commit_fill(FIXTURE_DATA(thp) *self)
{
	if (ntmem_commit(self->fd, self->b, 2 * HPAGE, NTMEM_PAGE_READWRITE,
			 0))
		return -1;
	fill_pattern(self->b, 2 * HPAGE, 7);
	return 0;
}

/* Release the reservation and its huge pages, for the next step. */
static void thp_release(FIXTURE_DATA(thp) *self)
{
	ntmem_release(self->fd, self->p, 0);
	self->p = NULL;
}

/* Pages of block @blk of B that are mapped. */
static long block_mapped(FIXTURE_DATA(thp) *self, int blk)
{
	return pagemap_count_present(self->b + blk * HPAGE, HPAGE);
}

TEST_F(thp, rw_blocks_get_a_huge_page_each)
{
	long huge0 = meminfo_kb("ShmemHugePages");

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, 2 * HPAGE,
				  NTMEM_PAGE_READWRITE, 0));
	/* one write per block: the block's 2 MiB page, mapped whole */
	self->b[100] = 1;
	self->b[HPAGE + 200] = 2;
	EXPECT_EQ(huge0 + 2 * HPAGE_KB, meminfo_kb("ShmemHugePages"));
	EXPECT_EQ(HPAGE / PAGE_SZ, block_mapped(self, 0));
	EXPECT_EQ(HPAGE / PAGE_SZ, block_mapped(self, 1));
	EXPECT_EQ(2 * HPAGE_KB, smaps_field_kb(self->b, "ShmemPmdMapped"));
	EXPECT_EQ(2 * HPAGE_KB, smaps_field_kb(self->b, "Rss"));
	fill_pattern(self->b, 2 * HPAGE, 7);
	EXPECT_EQ(-1, check_pattern(self->b, 2 * HPAGE, 7));
	/* the parts outside the blocks are not committed */
	if (self->b > self->p)
		ASSERT_SEGV_AT(self->b - PAGE_SZ, try_read(self->b - PAGE_SZ));
	ASSERT_SEGV_AT(self->b + 2 * HPAGE, try_read(self->b + 2 * HPAGE));
	thp_release(self);
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));
}

/* A first read maps the block read-only; writes then reach every page. */
TEST_F(thp, read_first_then_write)
{
	long huge0 = meminfo_kb("ShmemHugePages");

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, HPAGE,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(0, self->b[5000]);
	EXPECT_EQ(huge0 + HPAGE_KB, meminfo_kb("ShmemHugePages"));
	EXPECT_EQ(HPAGE / PAGE_SZ, block_mapped(self, 0));
	ASSERT_EQ(-1, check_bytes(self->b, HPAGE, 0));
	EXPECT_EQ(HPAGE_KB, smaps_field_kb(self->b, "ShmemPmdMapped"));
	fill_pattern(self->b, HPAGE, 3);
	EXPECT_EQ(-1, check_pattern(self->b, HPAGE, 3));
	EXPECT_EQ(HPAGE_KB, smaps_field_kb(self->b, "ShmemPmdMapped"));
	EXPECT_EQ(huge0 + HPAGE_KB, meminfo_kb("ShmemHugePages"));
}

/*
 * A protection change inside one block splits that block only, mapping
 * and page: its pages keep their contents and each gets its own
 * protection, with SIGSEGV at the exact address, while the other block
 * stays one huge page with one PMD; a decommit of one page frees (or
 * zeroes) that page only.
 */
TEST_F(thp, change_inside_a_block_splits_that_block_only)
{
	long huge0 = meminfo_kb("ShmemHugePages");
	char *b;

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	b = self->b;
	ASSERT_EQ(2 * HPAGE_KB, smaps_field_kb(b, "ShmemPmdMapped"));

	ASSERT_EQ(0, ntmem_protect(self->fd, b + 5 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(0, ntmem_protect(self->fd, b + 6 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_NOACCESS, NULL));
	EXPECT_EQ(HPAGE_KB, smaps_field_kb(b, "ShmemPmdMapped"));
	EXPECT_EQ(huge0 + HPAGE_KB, meminfo_kb("ShmemHugePages"));
	EXPECT_EQ(HPAGE / PAGE_SZ, block_mapped(self, 1));
	ASSERT_SEGV_AT(b + 5 * PAGE_SZ + 8, try_write(b + 5 * PAGE_SZ + 8, 1));
	ASSERT_SEGV_AT(b + 6 * PAGE_SZ + 16, try_read(b + 6 * PAGE_SZ + 16));
	ASSERT_EQ(-1, check_pattern(b, 6 * PAGE_SZ, 7));
	ASSERT_EQ(-1, check_pattern(b + 7 * PAGE_SZ, 2 * HPAGE - 7 * PAGE_SZ,
				    7));
	ASSERT_EQ(0, ntmem_protect(self->fd, b + 5 * PAGE_SZ, 2 * PAGE_SZ,
				   NTMEM_PAGE_READWRITE, NULL));
	ASSERT_EQ(-1, check_pattern(b, 2 * HPAGE, 7));
	EXPECT_EQ(HPAGE_KB, smaps_field_kb(b, "ShmemPmdMapped"));

	ASSERT_EQ(0, ntmem_decommit(self->fd, b + HPAGE + 9 * PAGE_SZ,
				    PAGE_SZ));
	EXPECT_EQ(0, smaps_field_kb(b, "ShmemPmdMapped"));
	ASSERT_SEGV_AT(b + HPAGE + 9 * PAGE_SZ,
		       try_read(b + HPAGE + 9 * PAGE_SZ));
	ASSERT_EQ(0, ntmem_commit(self->fd, b + HPAGE + 9 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(-1, check_bytes(b + HPAGE + 9 * PAGE_SZ, PAGE_SZ, 0));
	ASSERT_EQ(-1, check_pattern(b + HPAGE, 9 * PAGE_SZ, 7));
	ASSERT_EQ(-1, check_pattern(b + HPAGE + 10 * PAGE_SZ,
				    HPAGE - 10 * PAGE_SZ, 7));
}

/* The policy decides, as for anonymous memory. */
TEST_F(thp, system_policy_decides)
{
	long huge0 = meminfo_kb("ShmemHugePages");

	THP_NEEDED(self);

	ASSERT_EQ(0, write_text_file(THP_ENABLED, "never"));
	usleep(1100 * 1000);	/* the module reads the policy once a second */
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, 2 * HPAGE,
				  NTMEM_PAGE_READWRITE, 0));
	self->b[0] = 1;
	EXPECT_EQ(1, block_mapped(self, 0));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));
	/* an advice does not override "never" */
	ASSERT_EQ(0, madvise(self->p, 3 * HPAGE, MADV_HUGEPAGE));
	self->b[HPAGE] = 1;
	EXPECT_EQ(1, block_mapped(self, 1));
	thp_release(self);

	/* madvise: only an advised reservation */
	ASSERT_EQ(0, write_text_file(THP_ENABLED, "madvise"));
	usleep(1100 * 1000);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, 2 * HPAGE,
				  NTMEM_PAGE_READWRITE, 0));
	self->b[0] = 1;
	EXPECT_EQ(1, block_mapped(self, 0));
	ASSERT_EQ(0, madvise(self->p, 3 * HPAGE, MADV_HUGEPAGE));
	self->b[HPAGE] = 1;
	EXPECT_EQ(HPAGE / PAGE_SZ, block_mapped(self, 1));
	EXPECT_EQ(huge0 + HPAGE_KB, meminfo_kb("ShmemHugePages"));
	thp_release(self);

	/* always, but the program said no */
	ASSERT_EQ(0, write_text_file(THP_ENABLED, "always"));
	usleep(1100 * 1000);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, madvise(self->p, 3 * HPAGE, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, 2 * HPAGE,
				  NTMEM_PAGE_READWRITE, 0));
	self->b[0] = 1;
	EXPECT_EQ(1, block_mapped(self, 0));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));
}

/*
 * Only a whole committed block gets a huge page: a page committed alone
 * costs a page; so does a page of a write-watched block, whose writes must
 * each be seen.
 */
TEST_F(thp, partial_and_watched_blocks_stay_small)
{
	long huge0 = meminfo_kb("ShmemHugePages");
	void *w = NULL;
	size_t wlen = 3 * HPAGE;
	char *wb;

	THP_NEEDED(self);

	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b, HPAGE - PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	self->b[0] = 1;
	EXPECT_EQ(1, block_mapped(self, 0));
	ASSERT_EQ(0, ntmem_commit(self->fd, self->b + HPAGE, PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	self->b[HPAGE] = 1;
	EXPECT_EQ(1, block_mapped(self, 1));
	EXPECT_EQ(2 * PAGE_SZ / 1024, smaps_field_kb(self->b, "Rss"));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));

	ASSERT_EQ(0, ntmem_reserve(self->fd, &w, &wlen,
				   NTMEM_RESERVE_WRITE_WATCH,
				   NTMEM_PAGE_READWRITE));
	wb = (char *)(((uintptr_t)w + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
	ASSERT_EQ(0, ntmem_commit(self->fd, wb, HPAGE, NTMEM_PAGE_READWRITE,
				  0));
	wb[0] = 1;
	EXPECT_EQ(1, pagemap_count_present(wb, HPAGE));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));
	ASSERT_EQ(0, ntmem_release(self->fd, w, 0));
}

/* RESET and RESET_UNDO of whole huge blocks; the contents come back. */
TEST_F(thp, reset_and_undo_of_huge_blocks)
{
	long reset0, huge0 = meminfo_kb("ShmemHugePages");

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	ASSERT_EQ(huge0 + 2 * HPAGE_KB, meminfo_kb("ShmemHugePages"));
	reset0 = ntmem_counter("reset_pages");
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, 2 * HPAGE));
	EXPECT_EQ(reset0 + 2 * HPAGE / PAGE_SZ, ntmem_counter("reset_pages"));
	EXPECT_EQ(0, block_mapped(self, 0));
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, self->b, 2 * HPAGE));
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
	EXPECT_EQ(-1, check_pattern(self->b, 2 * HPAGE, 7));

	/*
	 * A write to one page after RESET keeps the whole huge page (as Linux
	 * keeps a THP written after MADV_FREE): none of it is reset any more,
	 * and nothing of it is lost.
	 */
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, 2 * HPAGE));
	self->b[PAGE_SZ] = 42;
	EXPECT_EQ(reset0 + HPAGE / PAGE_SZ, ntmem_counter("reset_pages"));
	EXPECT_EQ(0, ntmem_reset_undo(self->fd, self->b, HPAGE));
	EXPECT_EQ(42, self->b[PAGE_SZ]);
	EXPECT_EQ(-1, check_pattern(self->b + 2 * PAGE_SZ,
				    2 * HPAGE - 2 * PAGE_SZ, 7));
	ASSERT_EQ(0, ntmem_decommit(self->fd, self->b, 2 * HPAGE));
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
}

/*
 * A protection change inside a reset huge block splits its folio: the
 * changed page comes back written, the other 511 stay reset (clean, each
 * on its own to drop); RESET_UNDO answers "intact" only over the contents.
 */
static void undo_is_truthful(struct __test_metadata *_metadata, int fd,
			     char *p, size_t len)
{
	int undo = ntmem_reset_undo(fd, p, len);

	if (undo == 0) {
		EXPECT_EQ(-1, check_pattern(p, len, 7));
	} else {
		EXPECT_EQ(-EBUSY, undo);
	}
}

TEST_F(thp, protect_inside_a_reset_block_splits_it)
{
	long reset0;
	char *page5;

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	page5 = self->b + 5 * PAGE_SZ;
	ASSERT_EQ(2 * HPAGE_KB, smaps_field_kb(self->b, "ShmemPmdMapped"));
	reset0 = ntmem_counter("reset_pages");
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, HPAGE));
	ASSERT_EQ(0, ntmem_protect(self->fd, page5, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	EXPECT_EQ(reset0 + HPAGE / PAGE_SZ - 1, ntmem_counter("reset_pages"));
	/* drop what the kernel will (root only; best effort either way) */
	write_text_file("/proc/sys/vm/drop_caches", "3");
	EXPECT_EQ(-1, check_pattern(page5, PAGE_SZ, 7));
	undo_is_truthful(_metadata, self->fd, self->b, 5 * PAGE_SZ);
	undo_is_truthful(_metadata, self->fd, page5 + PAGE_SZ,
			 HPAGE - 6 * PAGE_SZ);
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
	/* the other block was never reset: all there */
	EXPECT_EQ(-1, check_pattern(self->b + HPAGE, HPAGE, 7));
}

/*
 * RESET both blocks and let reclaim drop them: each goes whole, reads as
 * zeros, and every page of it is counted, as reset and as dropped.
 */
static void thp_reset_and_drop(struct __test_metadata *_metadata,
			       FIXTURE_DATA(thp) *self, long reset0, long huge0)
{
	long dropped0 = ntmem_counter("dropped_pages");

	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, 2 * HPAGE));
	EXPECT_EQ(reset0 + 2 * HPAGE / PAGE_SZ, ntmem_counter("reset_pages"));
	ASSERT_EQ(0, write_text_file("/proc/sys/vm/drop_caches", "3"));
	EXPECT_EQ(dropped0 + 2 * HPAGE / PAGE_SZ,
		  ntmem_counter("dropped_pages"));
	EXPECT_EQ(huge0 - 2 * HPAGE_KB, meminfo_kb("ShmemHugePages"));
	EXPECT_EQ(-1, check_bytes(self->b, 2 * HPAGE, 0));
}

/* Reclaim drops a reset huge block whole, and RESET_UNDO says so. */
TEST_F(thp, reset_blocks_are_dropped_whole)
{
	long reset0;

	THP_BLOCKS_NEEDED(self);
	if (getuid())
		SKIP(return, "drop_caches needs root");
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	reset0 = ntmem_counter("reset_pages");
	thp_reset_and_drop(_metadata, self, reset0,
			   meminfo_kb("ShmemHugePages"));
	EXPECT_EQ(-EBUSY, ntmem_reset_undo(self->fd, self->b, 2 * HPAGE));
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
}

/*
 * A block reclaim dropped and the program used again (written, or only
 * read) is dropped again after the next RESET, with no RESET_UNDO between:
 * what a heap does that resets idle memory.  RESET_UNDO still reports the
 * loss.
 */
TEST_F(thp, reset_blocks_are_dropped_again_after_reuse)
{
	long reset0, huge0;

	THP_BLOCKS_NEEDED(self);
	if (getuid())
		SKIP(return, "drop_caches needs root");
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	huge0 = meminfo_kb("ShmemHugePages");
	reset0 = ntmem_counter("reset_pages");
	thp_reset_and_drop(_metadata, self, reset0, huge0);
	/* block 0 written again, block 1 only read */
	fill_pattern(self->b, HPAGE, 9);
	EXPECT_EQ(-1, check_bytes(self->b + HPAGE, HPAGE, 0));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));
	thp_reset_and_drop(_metadata, self, reset0, huge0);
	EXPECT_EQ(-EBUSY, ntmem_reset_undo(self->fd, self->b, 2 * HPAGE));
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
}

/*
 * A dropped block that comes back in 4 KiB pages (here because THP was
 * turned off meanwhile) and is reset again, then cut: its pages are
 * counted once, and RESET_UNDO reports the loss.
 */
TEST_F(thp, lost_block_back_in_small_pages_reset_again)
{
	long reset0;

	THP_BLOCKS_NEEDED(self);
	if (getuid())
		SKIP(return, "drop_caches needs root");
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	reset0 = ntmem_counter("reset_pages");
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, HPAGE));
	ASSERT_EQ(0, write_text_file("/proc/sys/vm/drop_caches", "3"));
	ASSERT_EQ(0, write_text_file(THP_ENABLED, "never"));
	usleep(1100 * 1000);	/* the module reads the policy once a second */
	EXPECT_EQ(-1, check_bytes(self->b, 64 * PAGE_SZ, 0));
	/* block 1, untouched, is the only huge one */
	EXPECT_EQ(HPAGE_KB, smaps_field_kb(self->b, "ShmemPmdMapped"));
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, HPAGE));
	EXPECT_EQ(reset0 + HPAGE / PAGE_SZ, ntmem_counter("reset_pages"));
	ASSERT_EQ(0, ntmem_protect(self->fd, self->b + 5 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	EXPECT_EQ(-EBUSY, ntmem_reset_undo(self->fd, self->b, 5 * PAGE_SZ));
	EXPECT_EQ(-EBUSY, ntmem_reset_undo(self->fd, self->b, HPAGE));
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
}

/*
 * DECOMMIT of one page of a reset huge block: the other 511 stay reset,
 * each on its own to drop.
 */
TEST_F(thp, decommit_inside_a_reset_block_keeps_the_rest_reset)
{
	long reset0, dropped0;

	THP_BLOCKS_NEEDED(self);
	if (getuid())
		SKIP(return, "drop_caches needs root");
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	reset0 = ntmem_counter("reset_pages");
	dropped0 = ntmem_counter("dropped_pages");
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, HPAGE));
	ASSERT_EQ(0, ntmem_decommit(self->fd, self->b + 5 * PAGE_SZ, PAGE_SZ));
	EXPECT_EQ(reset0 + HPAGE / PAGE_SZ - 1, ntmem_counter("reset_pages"));
	ASSERT_EQ(0, write_text_file("/proc/sys/vm/drop_caches", "3"));
	EXPECT_EQ(dropped0 + HPAGE / PAGE_SZ - 1,
		  ntmem_counter("dropped_pages"));
	EXPECT_EQ(-1, check_bytes(self->b, 5 * PAGE_SZ, 0));
	EXPECT_EQ(-EBUSY, ntmem_reset_undo(self->fd, self->b, 5 * PAGE_SZ));
	EXPECT_EQ(-EBUSY, ntmem_reset_undo(self->fd, self->b + 6 * PAGE_SZ,
					   HPAGE - 6 * PAGE_SZ));
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
	/* the block that was not reset kept everything */
	EXPECT_EQ(-1, check_pattern(self->b + HPAGE, HPAGE, 7));
}

/*
 * RESET_UNDO of part of a reset huge block: those pages are back, and so
 * is the folio they share, which the rest of the block cannot leave.
 */
TEST_F(thp, undo_of_part_of_a_reset_block)
{
	long reset0;

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	reset0 = ntmem_counter("reset_pages");
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, 2 * HPAGE));
	ASSERT_EQ(0, ntmem_reset_undo(self->fd, self->b + 16 * PAGE_SZ,
				      16 * PAGE_SZ));
	EXPECT_EQ(reset0 + 2 * HPAGE / PAGE_SZ - 16,
		  ntmem_counter("reset_pages"));
	/* drop what the kernel will (root only; best effort either way) */
	write_text_file("/proc/sys/vm/drop_caches", "3");
	EXPECT_EQ(-1, check_pattern(self->b + 16 * PAGE_SZ, 16 * PAGE_SZ, 7));
	undo_is_truthful(_metadata, self->fd, self->b, 16 * PAGE_SZ);
	undo_is_truthful(_metadata, self->fd, self->b + 32 * PAGE_SZ,
			 2 * HPAGE - 32 * PAGE_SZ);
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
}

/*
 * VirtualLock of a page of a reset huge block: the locked page keeps its
 * contents, and the block leaves reset with it.
 */
TEST_F(thp, lock_inside_a_reset_block_keeps_it)
{
	long reset0;

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	reset0 = ntmem_counter("reset_pages");
	ASSERT_EQ(0, ntmem_reset(self->fd, self->b, HPAGE));
	ASSERT_EQ(0, ntmem_lock(self->fd, self->b + 5 * PAGE_SZ, PAGE_SZ));
	write_text_file("/proc/sys/vm/drop_caches", "3");
	EXPECT_EQ(-1, check_pattern(self->b + 5 * PAGE_SZ, PAGE_SZ, 7));
	undo_is_truthful(_metadata, self->fd, self->b, HPAGE);
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
	EXPECT_EQ(0, ntmem_unlock(self->fd, self->b + 5 * PAGE_SZ, PAGE_SZ));
}

/*
 * The model of one page: the seed of its pattern (0: zeros), and whether
 * it may read as zeros instead (reset since).
 */
struct thp_page {
	unsigned int seed;
	bool maybe_zero;
};

/* Whether page @p reads as the model @m allows. */
static bool thp_page_ok(const char *p, const struct thp_page *m)
{
	if (m->seed && check_pattern(p, PAGE_SZ, m->seed) == -1)
		return true;
	return (!m->seed || m->maybe_zero) && check_bytes(p, PAGE_SZ, 0) == -1;
}

/*
 * Random RESET, RESET_UNDO, writes, DECOMMIT, PROTECT, LOCK and reclaim
 * over two huge blocks, whole blocks and parts of them: every page reads
 * as its last write, or as zeros where it was reset since; RESET_UNDO
 * answers "intact" only when it is; nothing stays counted as reset.
 * NTMEM_TEST_SEED=N runs another sequence.
 */
TEST_F_TIMEOUT(thp, random_reset_ops_stay_truthful, 600)
{
	enum { PAGES = 2 * HPAGE / PAGE_SZ };
	static struct thp_page pg[PAGES];
	const char *env = getenv("NTMEM_TEST_SEED");
	unsigned int rng = env ? atoi(env) : 20261206, seed = 100, op, i;
	long reset0;
	int ret;

	THP_BLOCKS_NEEDED(self);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	for (i = 0; i < PAGES; i++)
		pg[i] = (struct thp_page){ 7, false };
	reset0 = ntmem_counter("reset_pages");
	for (op = 0; op < 400; op++) {
		unsigned int first, n, kind = rand_r(&rng) % 8;
		char *p;

		if (rand_r(&rng) % 2) {
			first = rand_r(&rng) % 2 * (PAGES / 2);
			n = PAGES / 2 * (1 + (first == 0 && rand_r(&rng) % 2));
		} else {
			first = rand_r(&rng) % PAGES;
			n = 1 + rand_r(&rng) % 64;
			if (first + n > PAGES)
				n = PAGES - first;
		}
		p = self->b + (size_t)first * PAGE_SZ;
		switch (kind) {
		case 0:
		case 1:
			ASSERT_EQ(0, ntmem_reset(self->fd, p, n * PAGE_SZ));
			for (i = first; i < first + n; i++)
				pg[i].maybe_zero = true;
			break;
		case 2:
			ret = ntmem_reset_undo(self->fd, p, n * PAGE_SZ);
			for (i = first; i < first + n; i++) {
				char *q = self->b + (size_t)i * PAGE_SZ;
				bool zero = check_bytes(q, PAGE_SZ, 0) == -1;

				if (ret == 0)
					pg[i].maybe_zero = false;
				ASSERT_TRUE(thp_page_ok(q, &pg[i]))
					TH_LOG("op %u: page %u (undo %d)", op,
					       i, ret);
				if (zero)
					pg[i].seed = 0;
				pg[i].maybe_zero = false;
			}
			ASSERT_TRUE(ret == 0 || ret == -EBUSY) TH_LOG("undo: %d", ret);
			break;
		case 3:
			fill_pattern(p, PAGE_SZ, ++seed);
			pg[first] = (struct thp_page){ seed, false };
			break;
		case 4:
			ASSERT_EQ(0, ntmem_decommit(self->fd, p, PAGE_SZ));
			ASSERT_EQ(0, ntmem_commit(self->fd, p, PAGE_SZ,
						  NTMEM_PAGE_READWRITE, 0));
			pg[first] = (struct thp_page){ 0, false };
			break;
		case 5:
			ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ,
						   NTMEM_PAGE_READONLY, NULL));
			ASSERT_EQ(0, ntmem_protect(self->fd, p, PAGE_SZ,
						   NTMEM_PAGE_READWRITE, NULL));
			break;
		case 6:
			if (rand_r(&rng) % 3 == 0) {
				write_text_file("/proc/sys/vm/drop_caches", "3");
				break;
			}
			ASSERT_EQ(0, ntmem_lock(self->fd, p, PAGE_SZ));
			ASSERT_EQ(0, ntmem_unlock(self->fd, p, PAGE_SZ));
			break;
		default:
			for (i = first; i < first + n; i++)
				ASSERT_TRUE(thp_page_ok(self->b + (size_t)i * PAGE_SZ,
							&pg[i]))
					TH_LOG("op %u: page %u", op, i);
		}
	}
	/* what is reset at the end goes, and every page reads as it may */
	ret = ntmem_reset_undo(self->fd, self->b, 2 * HPAGE);
	EXPECT_TRUE(ret == 0 || ret == -EBUSY);
	for (i = 0; i < PAGES; i++) {
		char *q = self->b + (size_t)i * PAGE_SZ;

		if (ret == 0)
			pg[i].maybe_zero = false;
		ASSERT_TRUE(thp_page_ok(q, &pg[i])) TH_LOG("end: page %u", i);
	}
	EXPECT_EQ(reset0, ntmem_counter("reset_pages"));
}

/* GUP (process_vm_readv) reads the pages of a huge block. */
TEST_F(thp, gup_reads_a_huge_block)
{
	long huge0 = meminfo_kb("ShmemHugePages");
	struct iovec local, remote;
	char *buf;

	THP_BLOCKS_NEEDED(self);
	buf = malloc(2 * HPAGE);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, thp_reserve(self));
	ASSERT_EQ(0, thp_commit_fill(self));
	ASSERT_EQ(huge0 + 2 * HPAGE_KB, meminfo_kb("ShmemHugePages"));
	local.iov_base = buf;
	local.iov_len = 2 * HPAGE;
	remote.iov_base = self->b;
	remote.iov_len = 2 * HPAGE;
	ASSERT_EQ((ssize_t)(2 * HPAGE),
		  process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(0, memcmp(buf, self->b, 2 * HPAGE));
	free(buf);
}

/*
 * An unprivileged user (uid 65534) in a memory cgroup gets huge pages as
 * root does, charged to that cgroup: what it measured comes back in
 * v[]: ShmemPmdMapped, and the group's memory.current and shmem_thp
 * before and after the write (kB).
 */
#define THP_CG	"ntmem_thp_nobody"

static int child_thp_nobody(void *arg)
{
	long *v = arg;
	char *p, *b;
	int fd;

	if (memcg_join(THP_CG) || setgid(65534) || setuid(65534))
		return 10;
	fd = ntmem_open();
	p = fd < 0 ? NULL : ntmem_reserve_any(fd, 3 * HPAGE);
	if (!p)
		return 11;
	b = (char *)(((uintptr_t)p + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
	if (ntmem_commit(fd, b, 2 * HPAGE, NTMEM_PAGE_READWRITE, 0))
		return 12;
	v[1] = memcg_read(THP_CG, "memory.current") / 1024;
	v[2] = memcg_key(THP_CG, "memory.stat", "shmem_thp") / 1024;
	fill_pattern(b, 2 * HPAGE, 9);
	v[0] = smaps_field_kb(b, "ShmemPmdMapped");
	v[3] = memcg_read(THP_CG, "memory.current") / 1024;
	v[4] = memcg_key(THP_CG, "memory.stat", "shmem_thp") / 1024;
	return check_pattern(b, 2 * HPAGE, 9) == -1 ? 0 : 13;
}

TEST_F(thp, unprivileged_user_gets_them_in_its_cgroup)
{
	const char *why = memcg_unavailable();
	long *v;
	int ret;

	THP_BLOCKS_NEEDED(self);
	if (why)
		SKIP(return, "%s", why);
	v = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, v);
	ASSERT_EQ(0, memcg_create(THP_CG, 64 * MiB));
	ret = run_in_child(child_thp_nobody, v);
	memcg_remove(THP_CG);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(2 * HPAGE_KB, v[0]);
	/* both blocks in the group, as huge pages */
	EXPECT_LE(v[1] + 2 * HPAGE_KB, v[3]);
	EXPECT_EQ(v[2] + 2 * HPAGE_KB, v[4]);
	munmap(v, PAGE_SZ);
}

/*
 * NTMEM_RESERVE_LARGE_PAGES (MEM_LARGE_PAGES): committed, whole 2 MiB
 * pages, CAP_IPC_LOCK.  Each 2 MiB gets its huge page at RESERVE, locked
 * (on the unevictable list: never swapped), mapped whole at first touch.
 */
static int large_reserve(int fd, void **addr, size_t len, uint32_t flags)
{
	size_t l = len;

	*addr = NULL;
	return ntmem_reserve(fd, addr, &l, flags | NTMEM_RESERVE_LARGE_PAGES,
			     NTMEM_PAGE_READWRITE);
}

static int child_large_without_cap(void *arg)
{
	int fd = ntmem_open();
	void *p;

	(void)arg;
	if (fd < 0 || drop_cap_ipc_lock())
		return 10;
	return large_reserve(fd, &p, HPAGE, NTMEM_RESERVE_COMMIT) == -EPERM ?
	       0 : 11;
}

TEST(large_pages)
{
	long huge0 = meminfo_kb("ShmemHugePages");
	long unevictable0 = meminfo_kb("Unevictable");
	int fd = ntmem_open();
	void *p;
	int err;

	ASSERT_LE(0, fd);
	if (!(ntmem_features(fd) & NTMEM_FEATURE_LARGE_PAGES))
		SKIP(return, "kernel without huge pages");
	ASSERT_EQ(-EINVAL, large_reserve(fd, &p, HPAGE, 0));
	ASSERT_EQ(-EINVAL, large_reserve(fd, &p, HPAGE + PAGE_SZ,
					 NTMEM_RESERVE_COMMIT));
	ASSERT_EQ(-EINVAL, large_reserve(fd, &p, HPAGE, NTMEM_RESERVE_COMMIT |
					 NTMEM_RESERVE_WRITE_WATCH));
	ASSERT_EQ(0, run_in_child(child_large_without_cap, NULL));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));

	err = large_reserve(fd, &p, 2 * HPAGE, NTMEM_RESERVE_COMMIT);
	if (err == -ENOMEM)
		SKIP(return, "no free 2 MiB pages in this guest");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, (uintptr_t)p % HPAGE);
	EXPECT_EQ(huge0 + 2 * HPAGE_KB, meminfo_kb("ShmemHugePages"));
	EXPECT_LE(unevictable0 + 2 * HPAGE_KB, meminfo_kb("Unevictable"));
	((char *)p)[0] = 1;
	EXPECT_EQ(HPAGE / PAGE_SZ, pagemap_count_present(p, HPAGE));
	fill_pattern(p, 2 * HPAGE, 9);
	EXPECT_EQ(-1, check_pattern(p, 2 * HPAGE, 9));
	/* per-page protection still holds inside a large page */
	ASSERT_EQ(0, ntmem_protect(fd, (char *)p + PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	ASSERT_SEGV_AT((char *)p + PAGE_SZ, try_write((char *)p + PAGE_SZ, 1));
	EXPECT_EQ(-1, check_pattern(p, 2 * HPAGE, 9));
	ASSERT_EQ(0, ntmem_release(fd, p, 0));
	EXPECT_EQ(huge0, meminfo_kb("ShmemHugePages"));
	close(fd);
}

TEST_HARNESS_MAIN
