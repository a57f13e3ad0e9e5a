// SPDX-License-Identifier: GPL-2.0
/*
 * Huge pages and per-page protection.  The page store is a tmpfs file, and
 * an administrator can force huge pages on every tmpfs
 * (transparent_hugepage/shmem_enabled = force).  The kernel maps such a
 * folio with one PMD -- all 2 MiB of it, with the VMA's protection --
 * when the page table is missing; ntmem must never let that happen, or a
 * NOACCESS or reserved page inside the block would become readable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define SHMEM_ENABLED	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define HPAGE		(2 * MiB)

FIXTURE(huge) {
	int fd;
	char saved[16];		/* shmem_enabled's setting before the test */
};

/* The bracketed word of shmem_enabled ("always within_size [never] ..."). */
static int shmem_enabled_now(char *buf, size_t len)
{
	char text[256], *l, *r;
	int fd = open(SHMEM_ENABLED, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	text[n] = 0;
	l = strchr(text, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || (size_t)(r - l) >= len)
		return -EINVAL;
	memcpy(buf, l + 1, r - l - 1);
	buf[r - l - 1] = 0;
	return 0;
}

FIXTURE_SETUP(huge)
{
	self->saved[0] = 0;
	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	if (shmem_enabled_now(self->saved, sizeof(self->saved)))
		SKIP(return, "no %s (kernel without THP)", SHMEM_ENABLED);
	if (write_text_file(SHMEM_ENABLED, "force"))
		SKIP(return, "cannot force huge pages on tmpfs (not root?)");
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

TEST_HARNESS_MAIN
