// SPDX-License-Identifier: GPL-2.0
/*
 * Write watch kept by the page tables: which pages were written, in
 * address order, reset by GET_WRITE_WATCH's flag or RESET_WRITE_WATCH,
 * cleaned by decommit, untouched by reads, PROTECT and RESET.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ntmem_util.h"

#define WW_PAGES	256

FIXTURE(ww) {
	int fd;
	char *p;	/* WW_PAGES pages, write-watched, committed READWRITE */
};

FIXTURE_SETUP(ww)
{
	void *addr = NULL;
	size_t len = WW_PAGES * PAGE_SZ;

	self->fd = ntmem_open();
	ASSERT_LE(0, self->fd);
	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_WRITE_WATCH))
		return;
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len,
				   NTMEM_RESERVE_WRITE_WATCH, 0));
	self->p = addr;
	ASSERT_EQ(0, ntmem_commit(self->fd, self->p, len,
				  NTMEM_PAGE_READWRITE, 0));
}

FIXTURE_TEARDOWN(ww)
{
	if (self->fd > 0)
		close(self->fd);
}

/* GET_WRITE_WATCH into @out; the count stored, or a negative errno. */
static long get_ww(int fd, void *addr, size_t len, uint64_t *out,
		   uint64_t count, uint32_t flags)
{
	struct ntmem_write_watch w = {
		.size = sizeof(w), .flags = flags, .addr = (uintptr_t)addr,
		.length = len, .pages = (uintptr_t)out, .count = count,
	};
	int err = ntmem_ioctl(fd, NTMEM_IOC_GET_WRITE_WATCH, &w);

	return err ? err : (long)w.count;
}

static int reset_ww(int fd, void *addr, size_t len)
{
	struct ntmem_range r = { .size = sizeof(r), .addr = (uintptr_t)addr,
				 .length = len };

	return ntmem_ioctl(fd, NTMEM_IOC_RESET_WRITE_WATCH, &r);
}

#define SKIP_WITHOUT_WW()						\
	do {								\
		if (!self->p)						\
			SKIP(return, "module without write watch");	\
	} while (0)

TEST_F(ww, writes_reported_in_order_reads_not)
{
	uint64_t out[16];
	const size_t len = WW_PAGES * PAGE_SZ;
	char *p = self->p;

	SKIP_WITHOUT_WW();
	ASSERT_EQ(0, get_ww(self->fd, p, len, out, 16, 0));
	p[200 * PAGE_SZ] = 1;
	p[3 * PAGE_SZ + 17] = 1;
	ASSERT_EQ(-1, check_bytes(p + 5 * PAGE_SZ, PAGE_SZ, 0));
	/* a store straddling pages 10 and 11 dirties both */
	memcpy(p + 11 * PAGE_SZ - 4, "12345678", 8);
	p[0] = 1;
	ASSERT_EQ(5, get_ww(self->fd, p, len, out, 16, 0));
	ASSERT_EQ((uintptr_t)p, out[0]);
	ASSERT_EQ((uintptr_t)p + 3 * PAGE_SZ, out[1]);
	ASSERT_EQ((uintptr_t)p + 10 * PAGE_SZ, out[2]);
	ASSERT_EQ((uintptr_t)p + 11 * PAGE_SZ, out[3]);
	ASSERT_EQ((uintptr_t)p + 200 * PAGE_SZ, out[4]);
	/* without the reset flag nothing changes */
	ASSERT_EQ(5, get_ww(self->fd, p, len, out, 16, 0));
	/* a sub-range reports only its own pages */
	ASSERT_EQ(2, get_ww(self->fd, p + 4 * PAGE_SZ, 8 * PAGE_SZ, out, 16, 0));
	ASSERT_EQ((uintptr_t)p + 10 * PAGE_SZ, out[0]);
}

TEST_F(ww, reset_flag_resets_exactly_what_was_stored)
{
	uint64_t out[8];
	const size_t len = WW_PAGES * PAGE_SZ;
	char *p = self->p;

	SKIP_WITHOUT_WW();
	p[1 * PAGE_SZ] = 1;
	p[2 * PAGE_SZ] = 1;
	p[9 * PAGE_SZ] = 1;
	ASSERT_EQ(1, get_ww(self->fd, p, len, out, 1, NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ((uintptr_t)p + PAGE_SZ, out[0]);
	ASSERT_EQ(2, get_ww(self->fd, p, len, out, 8, 0));
	ASSERT_EQ((uintptr_t)p + 2 * PAGE_SZ, out[0]);
	ASSERT_EQ((uintptr_t)p + 9 * PAGE_SZ, out[1]);
	ASSERT_EQ(2, get_ww(self->fd, p, len, out, 8, NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(0, get_ww(self->fd, p, len, out, 8, 0));
	/* a reset page's next write is seen again (its PTE is read-only) */
	p[9 * PAGE_SZ] = 2;
	ASSERT_EQ(1, get_ww(self->fd, p, len, out, 8, 0));
	ASSERT_EQ((uintptr_t)p + 9 * PAGE_SZ, out[0]);
	/* and the contents never changed */
	ASSERT_EQ(1, p[PAGE_SZ]);
	ASSERT_EQ(2, p[9 * PAGE_SZ]);
}

static long minor_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_minflt;
}

/*
 * A reset write-protects the pages rather than unmapping them: they stay
 * mapped, reads take no fault, and each next write -- by the process, by
 * the kernel on its behalf, or to a locked page (mapped outside the
 * store, whose PTE goes instead) -- takes one and is recorded.
 */
TEST_F(ww, reset_keeps_pages_mapped_and_read_without_faults)
{
	const size_t len = WW_PAGES * PAGE_SZ;
	uint64_t out[16];
	char *p = self->p;
	int pfd[2], i;
	long flt;

	SKIP_WITHOUT_WW();
	ASSERT_EQ(0, ntmem_lock(self->fd, p + 3 * PAGE_SZ, PAGE_SZ));
	for (i = 0; i < 8; i++)
		p[i * PAGE_SZ] = i + 1;
	ASSERT_EQ(8, get_ww(self->fd, p, len, out, 16,
			    NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(7, pagemap_count_present(p, 8 * PAGE_SZ));
	ASSERT_EQ(0, pagemap_present(p + 3 * PAGE_SZ));

	flt = minor_faults();
	for (i = 0; i < 8; i++)
		if (i != 3)
			ASSERT_EQ(i + 1, *(volatile char *)(p + i * PAGE_SZ));
	ASSERT_EQ(flt, minor_faults());
	ASSERT_EQ(0, get_ww(self->fd, p, len, out, 16, 0));

	p[1 * PAGE_SZ] = 10;
	p[3 * PAGE_SZ] = 11;
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(2, write(pfd[1], "ok", 2));
	ASSERT_EQ(2, read(pfd[0], p + 6 * PAGE_SZ + 9, 2));
	close(pfd[0]);
	close(pfd[1]);
	ASSERT_EQ(3, get_ww(self->fd, p, len, out, 16, 0));
	ASSERT_EQ((uintptr_t)p + 1 * PAGE_SZ, out[0]);
	ASSERT_EQ((uintptr_t)p + 3 * PAGE_SZ, out[1]);
	ASSERT_EQ((uintptr_t)p + 6 * PAGE_SZ, out[2]);
	ASSERT_EQ(10, p[PAGE_SZ]);
	ASSERT_EQ(11, p[3 * PAGE_SZ]);
	ASSERT_EQ(0, memcmp(p + 6 * PAGE_SZ + 9, "ok", 2));
	ASSERT_EQ(0, ntmem_unlock(self->fd, p + 3 * PAGE_SZ, PAGE_SZ));
}

TEST_F(ww, reset_write_watch_cleans_range)
{
	uint64_t out[8];
	const size_t len = WW_PAGES * PAGE_SZ;
	char *p = self->p;

	SKIP_WITHOUT_WW();
	p[4 * PAGE_SZ] = 1;
	p[100 * PAGE_SZ] = 1;
	ASSERT_EQ(0, reset_ww(self->fd, p, 64 * PAGE_SZ));
	ASSERT_EQ(1, get_ww(self->fd, p, len, out, 8, 0));
	ASSERT_EQ((uintptr_t)p + 100 * PAGE_SZ, out[0]);
	ASSERT_EQ(0, reset_ww(self->fd, p, len));
	ASSERT_EQ(0, get_ww(self->fd, p, len, out, 8, 0));
	p[4 * PAGE_SZ] = 3;
	ASSERT_EQ(1, get_ww(self->fd, p, len, out, 8, 0));
}

TEST_F(ww, kernel_writes_count)
{
	uint64_t out[8];
	int pfd[2];
	char *p = self->p;

	SKIP_WITHOUT_WW();
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(5, write(pfd[1], "hello", 5));
	ASSERT_EQ(5, read(pfd[0], p + 7 * PAGE_SZ + 100, 5));
	ASSERT_EQ(1, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8, 0));
	ASSERT_EQ((uintptr_t)p + 7 * PAGE_SZ, out[0]);
	/* write(2) only reads the buffer */
	ASSERT_EQ(0, reset_ww(self->fd, p, WW_PAGES * PAGE_SZ));
	ASSERT_EQ(5, write(pfd[1], p + 7 * PAGE_SZ + 100, 5));
	ASSERT_EQ(0, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8, 0));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(ww, decommit_cleans_protect_and_reset_keep)
{
	uint64_t out[8];
	const size_t len = WW_PAGES * PAGE_SZ;
	char *p = self->p;

	SKIP_WITHOUT_WW();
	p[2 * PAGE_SZ] = 1;
	p[6 * PAGE_SZ] = 1;
	ASSERT_EQ(0, ntmem_protect(self->fd, p + 6 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_READONLY, NULL));
	ASSERT_EQ(0, ntmem_reset(self->fd, p + 6 * PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(0, ntmem_decommit(self->fd, p + 2 * PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(1, get_ww(self->fd, p, len, out, 8, 0));
	ASSERT_EQ((uintptr_t)p + 6 * PAGE_SZ, out[0]);
	/* recommitted pages start clean */
	ASSERT_EQ(0, ntmem_commit(self->fd, p + 2 * PAGE_SZ, PAGE_SZ,
				  NTMEM_PAGE_READWRITE, 0));
	ASSERT_EQ(1, get_ww(self->fd, p, len, out, 8, 0));
}

TEST_F(ww, executable_pages_tracked)
{
	uint64_t out[8];
	char *p = self->p;

	SKIP_WITHOUT_WW();
	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_EXEC))
		SKIP(return, "module without per-page execute");
	ASSERT_EQ(0, ntmem_protect(self->fd, p + 20 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_EXECUTE_READWRITE, NULL));
	ASSERT_NO_FAULT(try_read(p + 20 * PAGE_SZ));
	ASSERT_EQ(0, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8, 0));
	p[20 * PAGE_SZ + 1] = 1;
	ASSERT_EQ(1, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8,
			    NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ((uintptr_t)p + 20 * PAGE_SZ, out[0]);
	p[20 * PAGE_SZ + 2] = 1;
	ASSERT_EQ(1, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8, 0));
}

/*
 * An output array that cannot take every address fails the call with
 * EFAULT and resets nothing: every written page is still reported.
 */
TEST_F(ww, efault_on_the_array_loses_nothing)
{
	const long written = 200;
	uint64_t *good, *bad;
	char *buf, *p = self->p;
	long i;

	SKIP_WITHOUT_WW();
	for (i = 0; i < written; i++)
		p[i * PAGE_SZ + 3] = 1;
	/* 100 entries fit before an inaccessible page */
	buf = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mprotect(buf + PAGE_SZ, PAGE_SZ, PROT_NONE));
	bad = (uint64_t *)(buf + PAGE_SZ) - 100;
	ASSERT_EQ(-EFAULT, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, bad,
				  WW_PAGES, NTMEM_WRITE_WATCH_RESET));
	good = calloc(WW_PAGES, sizeof(*good));
	ASSERT_NE(NULL, good);
	ASSERT_EQ(written, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, good,
				  WW_PAGES, NTMEM_WRITE_WATCH_RESET));
	for (i = 0; i < written; i++)
		ASSERT_EQ((uintptr_t)p + i * PAGE_SZ, good[i]);
	/* an array in read-only memory: the same */
	for (i = 0; i < written; i++)
		p[i * PAGE_SZ + 4] = 1;
	ASSERT_EQ(0, mprotect(buf, PAGE_SZ, PROT_READ));
	ASSERT_EQ(-EFAULT, get_ww(self->fd, p, WW_PAGES * PAGE_SZ,
				  (uint64_t *)buf, 64, NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(written, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, good,
				  WW_PAGES, 0));
	free(good);
	munmap(buf, 2 * PAGE_SZ);
}

/* GET_WRITE_WATCH with the Win32 out-pointers (NTMEM_FEATURE_USER_OUT). */
static int get_ww_out(int fd, void *addr, size_t len, uint64_t *out,
		      uint64_t *count, uint32_t *gran, uint32_t flags)
{
	struct ntmem_write_watch w = {
		.size = sizeof(w), .flags = flags, .addr = (uintptr_t)addr,
		.length = len, .pages = (uintptr_t)out,
		.count_out = (uintptr_t)count, .granularity_out = (uintptr_t)gran,
	};

	return ntmem_ioctl(fd, NTMEM_IOC_GET_WRITE_WATCH, &w);
}

/*
 * The capacity comes from *count_out, the count and the page size go back
 * through the pointers; pointers that cannot be written fail the call
 * with EFAULT before anything is reset; no room or no array: ENXIO outside
 * a write-watch reservation, else EINVAL or EFAULT, nothing reset.
 */
TEST_F(ww, user_out_pointers)
{
	const size_t len = WW_PAGES * PAGE_SZ;
	uint64_t out[8], count;
	char *p = self->p, *ro;
	uint32_t gran = 0;

	SKIP_WITHOUT_WW();
	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_USER_OUT))
		SKIP(return, "module without USER_OUT");
	ro = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	p[3 * PAGE_SZ] = 1;
	p[5 * PAGE_SZ] = 1;

	count = 8;
	ASSERT_EQ(-EFAULT, get_ww_out(self->fd, p, len, out, &count,
				      (uint32_t *)ro, NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(8, count);
	ASSERT_EQ(-EFAULT, get_ww_out(self->fd, p, len, out, (uint64_t *)ro,
				      &gran, NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(-EFAULT, get_ww_out(self->fd, p, len, out,
				      (uint64_t *)0xffff888000000000ULL, &gran,
				      NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(0, gran);
	/* a capacity in the struct too is refused */
	{
		struct ntmem_write_watch w = {
			.size = sizeof(w), .addr = (uintptr_t)p, .length = len,
			.pages = (uintptr_t)out, .count = 8,
			.count_out = (uintptr_t)&count,
		};

		ASSERT_EQ(-EINVAL, ntmem_ioctl(self->fd,
					       NTMEM_IOC_GET_WRITE_WATCH, &w));
	}
	/* no room, no array, not a write-watch reservation */
	count = 0;
	ASSERT_EQ(-EINVAL, get_ww_out(self->fd, p, len, out, &count, &gran,
				      NTMEM_WRITE_WATCH_RESET));
	count = 8;
	ASSERT_EQ(-EFAULT, get_ww_out(self->fd, p, len, NULL, &count, &gran,
				      NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(-ENXIO, get_ww_out(self->fd, p + len, PAGE_SZ, NULL, &count,
				     &gran, 0));
	ASSERT_EQ(0, gran);

	/* nothing was reset: both pages come back, with the page size */
	count = 8;
	ASSERT_EQ(0, get_ww_out(self->fd, p, len, out, &count, &gran,
				NTMEM_WRITE_WATCH_RESET));
	ASSERT_EQ(2, count);
	ASSERT_EQ(PAGE_SZ, gran);
	ASSERT_EQ((uintptr_t)p + 3 * PAGE_SZ, out[0]);
	ASSERT_EQ((uintptr_t)p + 5 * PAGE_SZ, out[1]);
	count = 8;
	ASSERT_EQ(0, get_ww_out(self->fd, p, len, out, &count, &gran, 0));
	ASSERT_EQ(0, count);
	munmap(ro, PAGE_SZ);
}

/* A write that fails (GUP cannot reach an executable page) marks nothing. */
TEST_F(ww, failed_write_marks_nothing)
{
	char *p = self->p, data[16] = "not written";
	struct iovec local = { data, sizeof(data) };
	struct iovec remote = { p + 30 * PAGE_SZ, sizeof(data) };
	uint64_t out[8];

	SKIP_WITHOUT_WW();
	if (!(ntmem_features(self->fd) & NTMEM_FEATURE_EXEC))
		SKIP(return, "module without per-page execute");
	ASSERT_EQ(0, ntmem_protect(self->fd, p + 30 * PAGE_SZ, PAGE_SZ,
				   NTMEM_PAGE_EXECUTE_READWRITE, NULL));
	ASSERT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8, 0));
	ASSERT_EQ(-1, check_bytes(p + 30 * PAGE_SZ, 64, 0));
	/* the program's own write does count */
	p[30 * PAGE_SZ] = 1;
	ASSERT_EQ(1, get_ww(self->fd, p, WW_PAGES * PAGE_SZ, out, 8, 0));
}

TEST_F(ww, one_percent_of_64_mib)
{
	const size_t pages = 16384, len = pages * PAGE_SZ;
	void *addr = NULL;
	size_t rlen = len;
	uint64_t *out = calloc(pages, sizeof(*out));
	char *q;

	SKIP_WITHOUT_WW();
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &rlen,
				   NTMEM_RESERVE_WRITE_WATCH |
				   NTMEM_RESERVE_COMMIT, NTMEM_PAGE_READWRITE));
	q = addr;
	for (size_t i = 0; i < pages; i += 100)
		q[i * PAGE_SZ] = 1;
	/* more than one internal chunk, all in order */
	ASSERT_EQ((long)(pages + 99) / 100,
		  get_ww(self->fd, q, len, out, pages, 0));
	for (size_t i = 0; i < (pages + 99) / 100; i++)
		ASSERT_EQ((uintptr_t)q + i * 100 * PAGE_SZ, out[i]);
	ASSERT_EQ(0, ntmem_release(self->fd, q, 0));
	free(out);
}

TEST_F(ww, bad_arguments)
{
	uint64_t out[4];
	void *addr = NULL;
	size_t len = 16 * PAGE_SZ;
	char *p = self->p;

	SKIP_WITHOUT_WW();
	ASSERT_EQ(-EINVAL, get_ww(self->fd, p, PAGE_SZ, out, 0, 0));
	ASSERT_EQ(-EINVAL, get_ww(self->fd, p, PAGE_SZ, out, 4, 2));
	ASSERT_EQ(-EINVAL, get_ww(self->fd, p + 1, PAGE_SZ, out, 4, 0));
	ASSERT_EQ(-ENXIO, get_ww(self->fd, p, (WW_PAGES + 1) * PAGE_SZ, out,
				 4, 0));
	ASSERT_EQ(-ENXIO, reset_ww(self->fd, p, (WW_PAGES + 1) * PAGE_SZ));
	/* a reservation made without write watch */
	ASSERT_EQ(0, ntmem_reserve(self->fd, &addr, &len, NTMEM_RESERVE_COMMIT,
				   NTMEM_PAGE_READWRITE));
	ASSERT_EQ(-ENXIO, get_ww(self->fd, addr, len, out, 4, 0));
	ASSERT_EQ(-ENXIO, reset_ww(self->fd, addr, len));
	ASSERT_EQ(0, ntmem_release(self->fd, addr, 0));
	p[0] = 1;
	ASSERT_EQ(-EFAULT, get_ww(self->fd, p, PAGE_SZ, (uint64_t *)8, 4, 0));
}

TEST_HARNESS_MAIN
